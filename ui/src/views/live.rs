//! Live: the step's progress and throughput, the sequence being generated (streaming), the
//! finished rollouts and the selected one in detail.

use std::collections::BTreeMap;

use crossterm::event::KeyCode;
use raif_store::Rollout;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Wrap};
use ratatui::Frame;

use super::widgets::{self, dim, DetailOpts};
use crate::action::{Action, GroupSource, TokensSource, View};
use crate::component::{Component, Effects, KeyRow, Shared};
use crate::select::SelectList;
use crate::state::{Phase, TrainState};

/// Characters of a streaming sequence kept (its tail).
const STREAM_CHARS: usize = 16 * 1024;
/// Finished rollouts kept for the live view (one step's worth and more).
const LIVE_ROLLOUTS: usize = 4096;

/// The step being trained here: what is streaming and the rollouts scored so far.
#[derive(Clone, Debug)]
pub struct LiveState {
    pub step: u64,
    pub prompts: Vec<String>,
    /// Text generated so far by each sequence of the current step (its tail).
    pub streams: BTreeMap<(u32, u32), String>,
    pub last_stream: Option<(u32, u32)>,
    /// Finished rollouts of `rollouts_step`, one selected.
    pub rollouts: SelectList<Rollout>,
    pub rollouts_step: u64,
    /// The selection follows the newest rollout.
    pub follow: bool,
    pub show_reasoning: bool,
    pub show_breakdown: bool,
}

impl Default for LiveState {
    fn default() -> Self {
        LiveState {
            step: 0,
            prompts: Vec::new(),
            streams: BTreeMap::new(),
            last_stream: None,
            rollouts: SelectList::default(),
            rollouts_step: 0,
            follow: true,
            show_reasoning: false,
            show_breakdown: true,
        }
    }
}

impl LiveState {
    /// The trainer began a step: its prompts, nothing streaming yet.
    pub fn step_started(&mut self, step: u64, prompts: Vec<String>) {
        self.step = step;
        self.prompts = prompts;
        self.streams.clear();
        self.last_stream = None;
    }

    /// Text a sequence generated (its tail is kept).
    pub fn token(&mut self, step: u64, seq: (u32, u32), delta: &str) {
        if step != self.step {
            self.step = step;
            self.streams.clear();
        }
        let s = self.streams.entry(seq).or_default();
        s.push_str(delta);
        if s.len() > STREAM_CHARS {
            let mut cut = s.len() - STREAM_CHARS / 2;
            while !s.is_char_boundary(cut) {
                cut += 1;
            }
            s.drain(..cut);
        }
        self.last_stream = Some(seq);
    }

    /// A scored rollout: it ends its sequence's stream and joins the list.
    pub fn rollout(&mut self, r: Rollout) {
        if r.step != self.rollouts_step {
            self.rollouts_step = r.step;
            self.rollouts.reset(Vec::new());
        }
        self.streams.remove(&(r.prompt_index, r.sample));
        if self.rollouts.len() < LIVE_ROLLOUTS {
            self.rollouts.push(r);
        }
        if self.follow {
            self.rollouts.select_last();
        }
    }

    fn open_group(&self, sh: &Shared<'_>, fx: &mut Effects) {
        let Some(r) = self.rollouts.selected() else {
            return;
        };
        let src = GroupSource {
            run: sh.train.run_id.clone(),
            model: sh.train.model.clone(),
            rollouts: self.rollouts.to_vec(),
            key: (r.step, r.prompt_index, r.sample),
            from: View::Live,
        };
        fx.send(View::Group, Action::ShowGroup(Box::new(src)));
    }

    fn open_tokens(&self, sh: &Shared<'_>, fx: &mut Effects) {
        match self.rollouts.selected() {
            Some(r) => {
                let src = TokensSource {
                    rollout: r.clone(),
                    model: sh.train.model.clone(),
                    from: View::Live,
                };
                fx.send(View::Tokens, Action::ShowTokens(Box::new(src)));
            }
            None => fx.message("select a rollout first"),
        }
    }
}

const KEYS: &[KeyRow<LiveState>] = &[
    KeyRow::note("↑↓", "select a finished rollout"),
    KeyRow::new(
        "r",
        "fold / unfold the reasoning",
        &[(KeyCode::Char('r'), Action::ToggleReasoning)],
    ),
    KeyRow::new(
        "b",
        "constraint breakdown on / off",
        &[(KeyCode::Char('b'), Action::ToggleBreakdown)],
    ),
    KeyRow::new(
        "f",
        "follow the newest rollout",
        &[(KeyCode::Char('f'), Action::ToggleFollow)],
    ),
    KeyRow::new(
        "g, Enter",
        "group view of its prompt",
        &[
            (KeyCode::Char('g'), Action::OpenGroup),
            (KeyCode::Enter, Action::OpenGroup),
        ],
    ),
    KeyRow::new(
        "t",
        "token view",
        &[(KeyCode::Char('t'), Action::OpenTokens)],
    ),
    KeyRow::new(
        "PgUp PgDn",
        "scroll the detail",
        &[
            (KeyCode::PageUp, Action::ScrollDetail(-10)),
            (KeyCode::PageDown, Action::ScrollDetail(10)),
        ],
    ),
    KeyRow::note(
        "⇥think ⇥answer ⇥both",
        "budget forcing injected </think>, </answer> or both",
    ),
    KeyRow::hidden(&[(KeyCode::Char('L'), Action::SwitchView(View::Launch))]),
];

impl Component for LiveState {
    const KEYS: &'static [KeyRow<Self>] = KEYS;

    fn update(&mut self, a: Action, sh: &Shared<'_>, fx: &mut Effects) {
        if let Some(d) = a.nav_delta() {
            self.rollouts.move_by(d);
            let n = self.rollouts.len();
            self.follow = n > 0 && self.rollouts.index() + 1 == n;
            return;
        }
        match a {
            Action::ToggleReasoning => self.show_reasoning = !self.show_reasoning,
            Action::ToggleBreakdown => self.show_breakdown = !self.show_breakdown,
            Action::ToggleFollow => {
                self.follow = !self.follow;
                if self.follow {
                    self.rollouts.select_last();
                }
            }
            Action::OpenGroup | Action::Enter => self.open_group(sh, fx),
            Action::OpenTokens => self.open_tokens(sh, fx),
            _ => {}
        }
    }

    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        let [progress, body] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
        render_progress(self, sh.train, f, progress);
        if self.rollouts.is_empty() && self.streams.is_empty() && !sh.train.phase.active() {
            let mut lines = vec![
                Line::raw(""),
                Line::styled("  No run is training in this workbench.", widgets::bold()),
            ];
            lines.push(Line::raw(
                "  Press 1 (Launch) to start one, or 5 (Replay) to look at past runs.",
            ));
            if let Phase::Failed(e) = &sh.train.phase {
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    format!("  The last run failed: {e}"),
                    Style::default().fg(Color::Red),
                ));
            }
            f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
            return;
        }
        let wide = body.width >= 120;
        let [left, right] = Layout::horizontal([
            Constraint::Percentage(if wide { 38 } else { 45 }),
            Constraint::Min(10),
        ])
        .areas(body);
        let stream_h = if body.height >= 30 {
            12
        } else {
            (body.height / 3).max(4)
        };
        let [stream, list] =
            Layout::vertical([Constraint::Length(stream_h), Constraint::Min(3)]).areas(left);
        render_stream(self, sh.train, f, stream);
        let l = self;
        let title = Line::from(vec![
            Span::styled(
                format!(" Rollouts · step {} ", l.rollouts_step),
                widgets::title_style(),
            ),
            Span::styled(if l.follow { "following " } else { "" }, dim()),
        ]);
        widgets::render_list(
            f,
            list,
            title,
            l.rollouts.len(),
            Some(l.rollouts.index()),
            true,
            &|i| widgets::rollout_row(&l.rollouts[i], false),
        );
        match l.rollouts.selected() {
            Some(r) => {
                let opts = DetailOpts {
                    reasoning: l.show_reasoning,
                    breakdown: l.show_breakdown,
                    prompt_lines: if right.height > 30 { 8 } else { 2 },
                };
                widgets::render_text(
                    f,
                    right,
                    Line::styled(" Rollout ", widgets::title_style()),
                    widgets::rollout_detail(r, opts),
                    sh.detail_scroll,
                );
            }
            None => {
                let t = sh.train;
                let msg = if t.in_warmup() {
                    format!(
                        "warm-up (behaviour cloning on expert demonstrations): no rollouts before GRPO begins at step {}",
                        t.warmup_steps + 1
                    )
                } else {
                    "waiting for the first scored rollout of this step…".to_string()
                };
                widgets::render_text(
                    f,
                    right,
                    Line::styled(" Rollout ", widgets::title_style()),
                    vec![Line::styled(msg, dim())],
                    0,
                )
            }
        }
    }
}

fn render_progress(l: &LiveState, t: &TrainState, f: &mut Frame, area: Rect) {
    let [line, gauge] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let per_step = t.prompts_per_step * t.group_size;
    let done = l.rollouts.iter().filter(|r| r.step == t.step).count();
    let mut spans = vec![Span::styled(
        format!(" {} ", t.phase.name()),
        widgets::phase_style(&t.phase),
    )];
    if let Some(l) = t.phase_label() {
        spans.push(Span::styled(l.clone(), widgets::run_phase_style(&l)));
        spans.push(Span::raw(" · "));
    }
    spans.push(Span::raw(format!("step {} of {}", t.step, t.total_steps)));
    // A warm-up step clones expert demonstrations: nothing is generated or scored.
    let warmup = t.in_warmup();
    if per_step > 0 && !warmup {
        spans.push(Span::raw(format!(" · rollouts {done}/{per_step}")));
    }
    if !warmup {
        spans.push(Span::raw(format!(" · {:.1} tok/s", t.tokens_per_s)));
    }
    if let Some(m) = &t.last_metrics {
        if let Some(r) = m.get("reward") {
            spans.push(Span::raw(format!(" · last reward {}", widgets::signed(*r))));
        } else if let Some(nll) = m.get("expert_nll").filter(|_| warmup) {
            spans.push(Span::raw(format!(" · expert NLL {nll:.3}")));
        }
    }
    if let Some(c) = t.last_checkpoint {
        spans.push(Span::styled(format!(" · checkpoint @{c}"), dim()));
    }
    if t.trainable > 0 {
        spans.push(Span::styled(
            format!(" · {} trainable", human(t.trainable as f64)),
            dim(),
        ));
    }
    if let Phase::Failed(e) = &t.phase {
        spans.push(Span::styled(
            format!(" · failed: {e}"),
            Style::default().fg(Color::Red),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), line);
    let ratio = if t.total_steps > 0 {
        (t.steps_done as f64 / t.total_steps as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let g = Gauge::default()
        .ratio(ratio)
        .gauge_style(Style::default().fg(Color::Cyan).bg(Color::Rgb(30, 30, 30)))
        .label(format!("{}/{} steps", t.steps_done, t.total_steps));
    f.render_widget(g, gauge);
}

/// 1.2K, 3.4M.
pub fn human(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}K", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn render_stream(l: &LiveState, t: &TrainState, f: &mut Frame, area: Rect) {
    let key = l
        .last_stream
        .filter(|k| l.streams.contains_key(k))
        .or_else(|| l.streams.keys().next_back().copied());
    let title = match key {
        Some((p, s)) => Line::from(vec![
            Span::styled(
                format!(" Generating · step {} · p{p} #{s} ", l.step),
                widgets::title_style(),
            ),
            Span::styled(format!("{} sequences ", l.streams.len()), dim()),
        ]),
        None => Line::styled(" Generating ", widgets::title_style()),
    };
    let block = Block::bordered().title(title).border_style(dim());
    let inner = block.inner(area);
    let text = match key.and_then(|k| l.streams.get(&k)) {
        Some(s) => {
            // The tail that fits: about width × height characters.
            let budget = (inner.width as usize).max(1) * (inner.height as usize).max(1);
            let chars: Vec<char> = s.chars().collect();
            let tail: String = chars[chars.len().saturating_sub(budget)..].iter().collect();
            let mut lines: Vec<Line> = tail.lines().map(|x| Line::raw(x.to_string())).collect();
            // Keep only the last rows once wrapped (roughly).
            let w = inner.width.max(1) as usize;
            let mut rows = 0usize;
            let mut keep = lines.len();
            for (i, line) in lines.iter().enumerate().rev() {
                rows += line.width().max(1).div_ceil(w);
                if rows > inner.height as usize {
                    break;
                }
                keep = i;
            }
            lines.drain(..keep);
            if let Some(last) = lines.last_mut() {
                last.spans
                    .push(Span::styled("▌", Style::default().fg(Color::Cyan)));
            }
            lines
        }
        None => vec![Line::styled(
            match t.phase {
                Phase::Starting => "loading the model…",
                Phase::Paused => "paused",
                Phase::Running if t.in_warmup() => {
                    "warm-up: cloning expert demonstrations, nothing is generated"
                }
                Phase::Running => "scoring and optimising…",
                _ => "nothing is being generated",
            },
            dim(),
        )],
    };
    f.render_widget(block, area);
    f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
}
