//! Compare's playground: type a prompt, add constraints (typed as `ID key=value …` or a JSON
//! tree, or picked from the verifier catalogue), choose side A and side B (a model or a run's
//! checkpoint, each in a mode: `default:cot` against `my-run@50:think`), and both answer side
//! by side as they generate; then each answer's verdicts with their reasons and the reward it
//! would get. `N` samples a side with a seed and a temperature. The models are loaded by the
//! playground's engine (`crate::playground`) once and kept.

use ratatui::layout::{Constraint as Size, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use raif_rl::eval::compare::parse_side;
use raif_rl::eval::playground::{all_of, parse_constraint, PlayOptions, PlaySample, MAX_SAMPLES};
use raif_verify::Constraint;

use super::widgets::{self, dim};
use crate::action::{InputTarget, Request};
use crate::component::{Effects, Shared};
use crate::playground::{PlayEvent, PlayJob};
use crate::select::SelectList;

/// One side's answers to the current job.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SideOut {
    /// The side as asked (`TARGET:MODE`).
    pub spec: String,
    /// Each sample's text so far.
    pub texts: Vec<String>,
    /// The scored answers, or why the side could not answer (None: still generating).
    pub result: Option<Result<Vec<PlaySample>, String>>,
    pub first_token_s: Option<f64>,
    pub elapsed_s: Option<f64>,
}

impl SideOut {
    pub fn done(&self) -> bool {
        self.result.is_some()
    }
}

#[derive(Clone, Debug)]
pub struct PlayState {
    pub prompt: String,
    /// Every one must hold (a JSON tree is one of them).
    pub constraints: Vec<Constraint>,
    pub sides: [String; 2],
    pub options: PlayOptions,
    /// The verifier catalogue, while it is open.
    pub catalogue: Option<SelectList<&'static str>>,
    /// The id picked in the catalogue, until its kwargs are typed.
    pub picked: Option<String>,
    /// The newest job's id (0: none yet).
    pub job: u64,
    pub out: [SideOut; 2],
    /// The sample shown (←/→ with several).
    pub sample: usize,
    /// The engine's latest line (loading a model…).
    pub status: Option<String>,
}

impl Default for PlayState {
    fn default() -> Self {
        PlayState {
            prompt: String::new(),
            constraints: Vec::new(),
            sides: ["default:cot".into(), "default:think".into()],
            options: PlayOptions::default(),
            catalogue: None,
            picked: None,
            job: 0,
            out: Default::default(),
            sample: 0,
            status: None,
        }
    }
}

/// `ID key=value …` of a rule, a tree as JSON.
fn constraint_text(c: &Constraint) -> String {
    match c {
        Constraint::Rule { id, kwargs } => {
            let mut s = id.clone();
            for (k, v) in kwargs {
                s.push_str(&format!(" {k}={v}"));
            }
            s
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

impl PlayState {
    /// A job is generating.
    pub fn running(&self) -> bool {
        self.job > 0 && !self.out.iter().all(SideOut::done)
    }

    /// The text a prompt at the bottom starts with.
    pub fn input_text(&self, t: InputTarget) -> String {
        let o = &self.options;
        match t {
            InputTarget::PlayPrompt => self.prompt.clone(),
            InputTarget::PlaySide(a) => self.sides[usize::from(!a)].clone(),
            InputTarget::PlaySampling => format!(
                "{} {} {} {}",
                o.samples, o.seed, o.temperature, o.max_new_tokens
            ),
            _ => String::new(),
        }
    }

    /// Text typed at the prompt.
    pub fn submit(&mut self, t: InputTarget, s: String, fx: &mut Effects) {
        match t {
            InputTarget::PlayPrompt => self.prompt = s,
            InputTarget::PlayConstraint if s.is_empty() => {}
            InputTarget::PlayConstraint => self.add_constraint(&s, fx),
            InputTarget::PlayKwargs => {
                if let Some(id) = self.picked.take() {
                    self.add_constraint(&format!("{id} {s}"), fx);
                }
            }
            InputTarget::PlaySide(a) => match parse_side(&s, &|_| true) {
                Ok(_) => self.sides[usize::from(!a)] = s,
                Err(e) => fx.message(format!("{e:#}")),
            },
            InputTarget::PlaySampling => match parse_sampling(&s, &self.options) {
                Ok(o) => self.options = o,
                Err(e) => fx.message(e),
            },
            _ => {}
        }
    }

    fn add_constraint(&mut self, s: &str, fx: &mut Effects) {
        match parse_constraint(s) {
            Ok(c) => {
                fx.message(format!("constraint added: {}", constraint_text(&c)));
                self.constraints.push(c);
            }
            Err(e) => fx.message(format!("{e:#}")),
        }
    }

    /// `l`: the catalogue, or close it.
    pub fn toggle_catalogue(&mut self) {
        self.catalogue = match self.catalogue {
            Some(_) => None,
            None => Some(SelectList::from(raif_verify::registry::all_ids())),
        };
    }

    /// Enter in the catalogue: its id, then its kwargs at the prompt.
    pub fn pick(&mut self, fx: &mut Effects) {
        if let Some(id) = self.catalogue.take().and_then(|c| c.selected().copied()) {
            self.picked = Some(id.to_string());
            fx.input(InputTarget::PlayKwargs, String::new());
            fx.message(format!(
                "kwargs of {id}, e.g. key=value (its checker says which it needs)"
            ));
        }
    }

    /// Enter: both sides answer the prompt.
    pub fn run(&mut self, sh: &Shared<'_>, fx: &mut Effects) {
        if self.prompt.trim().is_empty() {
            fx.message("type a prompt first: e");
            return;
        }
        self.job += 1;
        self.sample = 0;
        self.status = None;
        let n = self.options.samples;
        self.out = self.sides.clone().map(|spec| SideOut {
            spec,
            texts: vec![String::new(); n],
            ..SideOut::default()
        });
        let low_priority = sh.train.phase.active();
        fx.request(Request::Play(Box::new(PlayJob {
            id: self.job,
            prompt: self.prompt.clone(),
            constraints: all_of(self.constraints.clone()),
            sides: self.sides.clone(),
            options: self.options.clone(),
            low_priority,
        })));
        fx.message(if low_priority {
            "answering (at a lower priority than the run training here)…"
        } else {
            "answering…"
        });
    }

    /// What the engine reports, for the newest job only.
    pub fn event(&mut self, e: PlayEvent, fx: &mut Effects) {
        match e {
            PlayEvent::Status { job, line } if job == self.job => self.status = Some(line),
            PlayEvent::Deltas { job, side, deltas } if job == self.job => {
                if let Some(out) = self.out.get_mut(side) {
                    for (i, d) in deltas {
                        if let Some(t) = out.texts.get_mut(i) {
                            t.push_str(&d);
                        }
                    }
                }
            }
            PlayEvent::Done {
                job,
                side,
                result,
                first_token_s,
                elapsed_s,
            } if job == self.job => {
                if let Some(out) = self.out.get_mut(side) {
                    if let Ok(samples) = &result {
                        out.texts = samples.iter().map(|s| s.text.clone()).collect();
                    }
                    out.result = Some(result);
                    out.first_token_s = first_token_s;
                    out.elapsed_s = Some(elapsed_s);
                }
                if !self.running() {
                    self.status = None;
                    fx.message(self.summary());
                }
            }
            _ => {}
        }
    }

    /// Both sides' mean reward, when both answered.
    fn summary(&self) -> String {
        let mean = |o: &SideOut| match &o.result {
            Some(Ok(s)) if !s.is_empty() => {
                Some(s.iter().map(|x| x.scored.reward).sum::<f64>() / s.len() as f64)
            }
            _ => None,
        };
        match (mean(&self.out[0]), mean(&self.out[1])) {
            (Some(a), Some(b)) => format!("answered: mean reward A {a:+.2}, B {b:+.2}"),
            _ => "answered (a side failed: see its pane)".into(),
        }
    }

    /// ←/→: the sample shown.
    pub fn move_sample(&mut self, d: i64) {
        let n = self.options.samples.max(1) as i64;
        self.sample = (self.sample as i64 + d).rem_euclid(n) as usize;
    }
}

/// `N [SEED [TEMPERATURE [MAX_TOKENS]]]`.
pub fn parse_sampling(s: &str, now: &PlayOptions) -> Result<PlayOptions, String> {
    let mut o = now.clone();
    let w: Vec<&str> = s.split_whitespace().collect();
    let bad = |what: &str, v: &str| format!("`{v}` is not a {what}");
    if let Some(v) = w.first() {
        o.samples = v.parse().map_err(|_| bad("number of samples", v))?;
        if o.samples == 0 || o.samples > MAX_SAMPLES {
            return Err(format!("samples must be 1–{MAX_SAMPLES}"));
        }
    }
    if let Some(v) = w.get(1) {
        o.seed = v.parse().map_err(|_| bad("seed", v))?;
    }
    if let Some(v) = w.get(2) {
        o.temperature = v.parse().map_err(|_| bad("temperature", v))?;
        if !(0.0..=5.0).contains(&o.temperature) {
            return Err("temperature must be 0 (greedy) to 5".into());
        }
    }
    if let Some(v) = w.get(3) {
        o.max_new_tokens = v.parse().map_err(|_| bad("token limit", v))?;
        if o.max_new_tokens == 0 {
            return Err("max tokens must be at least 1".into());
        }
    }
    if w.len() > 4 {
        return Err("at most four values: samples seed temperature max-tokens".into());
    }
    Ok(o)
}

// ------------------------------------------------------------------ drawing

pub fn render(p: &PlayState, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
    let [head, panes, foot] =
        Layout::vertical([Size::Length(5), Size::Min(4), Size::Length(1)]).areas(area);
    let o = &p.options;
    let sampling = format!(
        "{} sample{} · seed {} · {} · at most {} tokens",
        o.samples,
        if o.samples == 1 { "" } else { "s" },
        o.seed,
        if o.temperature == 0.0 {
            "greedy".to_string()
        } else {
            format!("temperature {}", o.temperature)
        },
        o.max_new_tokens
    );
    let field = |k: &str, v: String, keys: &str| {
        Line::from(vec![
            Span::styled(format!(" {k:<12}"), widgets::bold()),
            Span::raw(v),
            Span::styled(format!("  {keys}"), dim()),
        ])
    };
    let rules = if p.constraints.is_empty() {
        "none".to_string()
    } else {
        p.constraints
            .iter()
            .map(constraint_text)
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let prompt = if p.prompt.is_empty() {
        "—".to_string()
    } else {
        p.prompt.replace('\n', " ")
    };
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(" Playground", widgets::title_style()),
                Span::styled(
                    "  Enter answers with both sides · p: stored evaluations",
                    dim(),
                ),
            ]),
            field("prompt", prompt, "e"),
            field("constraints", rules, "c type · l catalogue · C clear"),
            field(
                "sides",
                format!("A {}   B {}", p.sides[0], p.sides[1]),
                "a / b",
            ),
            field("sampling", sampling, "n"),
        ]),
        head,
    );
    let [left, right] =
        Layout::horizontal([Size::Percentage(50), Size::Percentage(50)]).areas(panes);
    for (side, area) in [left, right].into_iter().enumerate() {
        let (title, lines) = side_pane(p, side);
        widgets::render_text(f, area, title, lines, sh.detail_scroll);
    }
    let foot_line = match &p.status {
        Some(s) => Line::styled(format!(" {s}"), Style::default().fg(Color::Yellow)),
        None if p.running() => Line::styled(" generating…", dim()),
        None => Line::raw(""),
    };
    f.render_widget(Paragraph::new(foot_line), foot);
    if let Some(c) = &p.catalogue {
        let w = (area.width * 3 / 5).max(30).min(area.width);
        let h = area.height.saturating_sub(4).max(5).min(area.height);
        let pop = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + (area.height - h) / 2,
            width: w,
            height: h,
        };
        f.render_widget(Clear, pop);
        widgets::render_select(
            f,
            pop,
            Line::styled(
                " Verifier catalogue · Enter picks · Esc closes ",
                widgets::title_style(),
            ),
            c,
            &|id: &&'static str| Line::raw(id.to_string()),
        );
    }
}

/// A side's pane: its title (side, state, timings) and the shown sample.
fn side_pane(p: &PlayState, side: usize) -> (Line<'static>, Vec<Line<'static>>) {
    let out = &p.out[side];
    let name = if side == 0 { "A" } else { "B" };
    let spec = if out.spec.is_empty() {
        &p.sides[side]
    } else {
        &out.spec
    };
    let mut title = vec![Span::styled(
        format!(" {name} · {spec} "),
        widgets::title_style(),
    )];
    let n = out.texts.len();
    if n > 1 {
        title.push(Span::raw(format!("sample {}/{n} ", p.sample + 1)));
    }
    let state = match (&out.result, out.first_token_s, out.elapsed_s) {
        (None, _, _) if p.job == 0 => String::new(),
        (None, _, _) => "generating… ".into(),
        (Some(Err(_)), _, _) => "failed ".into(),
        (Some(Ok(_)), Some(ft), Some(t)) => format!("{t:.1} s, first text {ft:.1} s "),
        (Some(Ok(_)), _, Some(t)) => format!("{t:.1} s "),
        (Some(Ok(_)), _, None) => "done ".into(),
    };
    title.push(Span::styled(state, dim()));
    let mut lines = Vec::new();
    match &out.result {
        None if p.job == 0 => {
            lines.push(Line::styled(
                "Type a prompt (e), add constraints (c, or l for the catalogue), then Enter.",
                dim(),
            ));
        }
        None => {
            let text = out.texts.get(p.sample).map(String::as_str).unwrap_or("");
            lines.extend(text.lines().map(|l| Line::raw(l.to_string())));
            lines.push(Line::styled("▌", Style::default().fg(Color::Cyan)));
        }
        Some(Err(e)) => lines.push(Line::styled(e.clone(), Style::default().fg(Color::Red))),
        Some(Ok(samples)) => {
            if let Some(s) = samples.get(p.sample) {
                lines.extend(sample_lines(s));
            }
            if samples.len() > 1 {
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    format!(
                        "rewards of the {} samples: {}",
                        samples.len(),
                        samples
                            .iter()
                            .map(|s| format!("{:+.2}", s.scored.reward))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    dim(),
                ));
            }
        }
    }
    (Line::from(title), lines)
}

/// A scored answer: reasoning, answer, verdicts with reasons, reward.
fn sample_lines(s: &PlaySample) -> Vec<Line<'static>> {
    let sc = &s.scored;
    let mut l = widgets::reasoning_and_answer(
        sc.reasoning.as_deref(),
        sc.answer.as_deref(),
        sc.unscorable.as_deref(),
        &s.text,
    );
    if !sc.verdicts.is_empty() {
        l.push(Line::styled("verdicts", widgets::bold()));
        for v in &sc.verdicts {
            let (mark, style) = if v.pass {
                ("✓", Style::default().fg(Color::Green))
            } else {
                ("✗", Style::default().fg(Color::Red))
            };
            l.push(Line::from(vec![
                Span::styled(format!("{mark} "), style),
                Span::raw(v.id.clone()),
                Span::styled(format!(" — {}", v.reason), dim()),
            ]));
        }
    }
    l.push(Line::from(vec![
        Span::styled(
            format!("reward {:+.2}", sc.reward),
            widgets::reward_style(sc.reward).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(
                "  format {:+.0} · answer {:+.2} · {}/{} satisfied · {} tokens, {}",
                sc.format_score, sc.answer_score, sc.satisfied, sc.total, s.tokens, s.finish
            ),
            dim(),
        ),
    ]));
    l
}
