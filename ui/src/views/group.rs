//! Group: all G samples of one prompt with reward, advantage, keep and no-think flags, the
//! closing tags budget forcing injected, and length; sortable; jump between the prompts of
//! the step.

use crossterm::event::KeyCode;
use raif_store::Rollout;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::widgets::{self, dim, signed, DetailOpts};
use crate::action::{Action, GroupSource, TokensSource, View};
use crate::component::{Component, Effects, KeyRow, Shared};
use crate::select::SelectList;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GroupSort {
    #[default]
    Sample,
    Reward,
    Advantage,
    Length,
}

impl GroupSort {
    pub fn name(self) -> &'static str {
        match self {
            GroupSort::Sample => "sample",
            GroupSort::Reward => "reward",
            GroupSort::Advantage => "advantage",
            GroupSort::Length => "length",
        }
    }
    fn next(self) -> Self {
        match self {
            GroupSort::Sample => GroupSort::Reward,
            GroupSort::Reward => GroupSort::Advantage,
            GroupSort::Advantage => GroupSort::Length,
            GroupSort::Length => GroupSort::Sample,
        }
    }
}

/// All G samples of one prompt (from the live step or a replayed one).
#[derive(Clone, Debug, Default)]
pub struct GroupState {
    pub run: Option<String>,
    /// The model spec of the run (its tokenizer decodes the token view).
    pub model: String,
    pub step: u64,
    /// The whole step, so that prompts can be jumped between.
    pub step_rollouts: Vec<Rollout>,
    pub prompt: u32,
    pub sort: GroupSort,
    /// The samples of `prompt` (indices into `step_rollouts`) in `sort` order, one selected.
    pub samples: SelectList<usize>,
    pub show_reasoning: bool,
    pub back: Option<View>,
}

impl GroupState {
    /// The samples of the chosen prompt in the chosen order.
    pub fn members(&self) -> Vec<&Rollout> {
        self.samples
            .iter()
            .filter_map(|&i| self.step_rollouts.get(i))
            .collect()
    }
    pub fn prompt_indices(&self) -> Vec<u32> {
        let mut p: Vec<u32> = self.step_rollouts.iter().map(|r| r.prompt_index).collect();
        p.sort_unstable();
        p.dedup();
        p
    }
    pub fn selected_rollout(&self) -> Option<&Rollout> {
        self.samples
            .selected()
            .and_then(|&i| self.step_rollouts.get(i))
    }

    /// Indices of the chosen prompt's samples in the chosen order.
    fn sorted_samples(&self) -> Vec<usize> {
        let r = &self.step_rollouts;
        let mut m: Vec<usize> = (0..r.len())
            .filter(|&i| r[i].prompt_index == self.prompt)
            .collect();
        match self.sort {
            GroupSort::Sample => m.sort_by_key(|&i| r[i].sample),
            GroupSort::Reward => m.sort_by(|&a, &b| {
                r[b].reward
                    .total_cmp(&r[a].reward)
                    .then(r[a].sample.cmp(&r[b].sample))
            }),
            GroupSort::Advantage => m.sort_by(|&a, &b| {
                r[b].advantage
                    .total_cmp(&r[a].advantage)
                    .then(r[a].sample.cmp(&r[b].sample))
            }),
            GroupSort::Length => m.sort_by(|&a, &b| {
                r[b].tokens
                    .len()
                    .cmp(&r[a].tokens.len())
                    .then(r[a].sample.cmp(&r[b].sample))
            }),
        }
        m
    }

    /// Show a group: its step, its prompt, the sample it was opened on.
    fn show(&mut self, src: GroupSource, fx: &mut Effects) {
        let (step, prompt, sample) = src.key;
        self.back = Some(src.from);
        self.run = src.run;
        self.model = src.model;
        self.step = step;
        self.step_rollouts = src.rollouts;
        self.prompt = prompt;
        self.samples.reset(self.sorted_samples());
        let rollouts = &self.step_rollouts;
        self.samples
            .select_where(|&i| rollouts.get(i).is_some_and(|r| r.sample == sample));
        fx.goto(View::Group);
    }

    /// The next (`d` = 1) or previous (-1) prompt of the step.
    fn step_prompt(&mut self, d: i64) {
        let mut prompts = SelectList::from(self.prompt_indices());
        if prompts.select_where(|p| *p == self.prompt) {
            prompts.move_by(d);
            self.prompt = prompts.selected().copied().unwrap_or(self.prompt);
            self.samples.reset(self.sorted_samples());
        }
    }

    fn cycle_sort(&mut self) {
        self.sort = self.sort.next();
        self.samples.set_items(self.sorted_samples());
    }

    fn open_tokens(&self, fx: &mut Effects) {
        match self.selected_rollout() {
            Some(r) => {
                let src = TokensSource {
                    rollout: r.clone(),
                    model: self.model.clone(),
                    from: View::Group,
                };
                fx.send(View::Tokens, Action::ShowTokens(Box::new(src)));
            }
            None => fx.message("select a rollout first"),
        }
    }
}

const KEYS: &[KeyRow<GroupState>] = &[
    KeyRow::note("↑↓", "select a sample"),
    KeyRow::new(
        "o",
        "sort: sample, reward, advantage, length",
        &[
            (KeyCode::Char('o'), Action::CycleSort),
            (KeyCode::Char('s'), Action::CycleSort),
        ],
    ),
    KeyRow::new(
        "n / p, → ←",
        "next / previous prompt of the step",
        &[
            (KeyCode::Char('n'), Action::NextPrompt),
            (KeyCode::Char('N'), Action::PrevPrompt),
            (KeyCode::Char('p'), Action::PrevPrompt),
        ],
    ),
    KeyRow::new(
        "r",
        "fold / unfold the reasoning",
        &[(KeyCode::Char('r'), Action::ToggleReasoning)],
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
    KeyRow::note("Esc", "back"),
    KeyRow::note(
        "⇥think ⇥answer ⇥both",
        "mode: budget forcing injected </think>, </answer> or both",
    ),
];

impl Component for GroupState {
    const KEYS: &'static [KeyRow<Self>] = KEYS;

    fn update(&mut self, a: Action, _sh: &Shared<'_>, fx: &mut Effects) {
        if let Some(d) = a.nav_delta() {
            self.samples.move_by(d);
            return;
        }
        match a {
            Action::ShowGroup(src) => self.show(*src, fx),
            Action::CycleSort => self.cycle_sort(),
            Action::NextPrompt | Action::Right => self.step_prompt(1),
            Action::PrevPrompt | Action::Left => self.step_prompt(-1),
            Action::ToggleReasoning => self.show_reasoning = !self.show_reasoning,
            Action::OpenTokens => self.open_tokens(fx),
            Action::Back => fx.goto(self.back.unwrap_or(View::Live)),
            _ => {}
        }
    }

    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        let g = self;
        let members = g.members();
        if members.is_empty() {
            let lines = vec![
                Line::raw(""),
                Line::styled(
                    "  No rollouts yet: start a run in Launch, or open one in Replay (g on a rollout).",
                    widgets::bold(),
                ),
            ];
            f.render_widget(Paragraph::new(lines), area);
            return;
        }
        let prompts = g.prompt_indices();
        let pos = prompts
            .iter()
            .position(|p| *p == g.prompt)
            .map_or(0, |i| i + 1);
        let first = members[0];
        let [head, table, detail] = Layout::vertical([
            Constraint::Length(4),
            Constraint::Length((members.len() as u16 + 3).min(area.height / 2)),
            Constraint::Min(3),
        ])
        .areas(area);
        let head_lines = vec![
            Line::from(vec![
                Span::styled(
                    format!(
                        "Step {} · prompt {} ({pos} of {}) · ",
                        g.step,
                        g.prompt,
                        prompts.len()
                    ),
                    widgets::bold(),
                ),
                Span::styled(first.prompt_id.clone(), dim()),
                Span::styled(format!(" · sorted by {}", g.sort.name()), dim()),
            ]),
            Line::raw(widgets::truncate(
                &first.prompt.trim().replace('\n', " ⏎ "),
                (area.width as usize).saturating_mul(2).saturating_sub(4),
            )),
        ];
        f.render_widget(
            Paragraph::new(head_lines)
                .wrap(Wrap { trim: true })
                .block(Block::default()),
            head,
        );

        let mean = members.iter().map(|r| r.reward).sum::<f64>() / members.len() as f64;
        let header = Row::new([
            "#", "reward", "answer", "format", "sat", "adv", "kept", "mode", "tokens", "finish",
        ])
        .style(widgets::title_style());
        let rows: Vec<Row> = members
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let row = sample_row(r);
                if i == g.samples.index() {
                    row.style(
                        Style::default()
                            .bg(Color::Rgb(40, 60, 90))
                            .add_modifier(Modifier::BOLD),
                    )
                } else {
                    row
                }
            })
            .collect();
        let widths = [
            Constraint::Length(3),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Min(6),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(10),
        ];
        let t = Table::new(rows, widths).header(header).block(
            Block::bordered()
                .title(Line::styled(
                    format!(" {} samples · mean reward {} ", members.len(), signed(mean)),
                    widgets::title_style(),
                ))
                .border_style(Style::default().fg(Color::Cyan)),
        );
        f.render_widget(t, table);
        if let Some(r) = members.get(g.samples.index()) {
            let opts = DetailOpts {
                reasoning: g.show_reasoning,
                breakdown: true,
                prompt_lines: 0,
            };
            widgets::render_text(
                f,
                detail,
                Line::styled(format!(" Sample {} ", r.sample), widgets::title_style()),
                widgets::rollout_detail(r, opts),
                sh.detail_scroll,
            );
        }
    }
}

/// A sample's row of the table: reward and its parts, constraints satisfied, advantage,
/// keep decision, mode (think, no-think, forced), length and finish.
fn sample_row(r: &Rollout) -> Row<'static> {
    Row::new(vec![
        Line::raw(format!("{}", r.sample)),
        Line::styled(signed(r.reward), widgets::reward_style(r.reward)),
        Line::raw(signed(r.answer_score)),
        Line::raw(signed(r.format_score)),
        Line::styled(
            format!("{}/{}", r.satisfied, r.total),
            if r.total > 0 && r.satisfied == r.total {
                Style::default().fg(Color::Green)
            } else {
                Style::default().fg(Color::Red)
            },
        ),
        Line::raw(signed(r.advantage)),
        Line::styled(
            widgets::keep_short(r),
            Style::default().fg(if r.kept {
                Color::Green
            } else if r.no_think {
                Color::Magenta
            } else {
                Color::Red
            }),
        ),
        match widgets::forced_mark(r) {
            Some(m) => Line::styled(m, widgets::forced_style()),
            None if r.no_think => Line::styled("no-think", Style::default().fg(Color::Magenta)),
            None => Line::raw("think"),
        },
        Line::raw(format!("{}", r.tokens.len())),
        Line::styled(r.finish.clone(), dim()),
    ])
}
