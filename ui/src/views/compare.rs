//! Compare: two stored evaluations of the same benchmark (marked A and B with `a` / `b` in the
//! Eval view; e.g. the base model in `cot` mode and a RAIF checkpoint in `think` mode). A prompt
//! picker lists every item both answered with each side's share of constraints satisfied and
//! the winner; below it, two panes show the selected item's reasoning, answer and verdicts side
//! by side. `p` switches to the playground (`views/playground.rs`): a free prompt answered by
//! two models or checkpoints as they generate, then scored.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use raif_rl::eval::compare::{compare_items, Outcome, PairRow, Tally};
use raif_store::{EvalItem, EvalRun};

use super::playground::{self, PlayState};
use super::widgets::{self, dim};
use crate::action::{Action, InputTarget};
use crate::component::{Component, Effects, KeyRow, Shared};
use crate::select::SelectList;
use crossterm::event::KeyCode;

/// One side of Compare: a stored evaluation and its items (empty until they are loaded).
pub type Side = (EvalRun, Vec<EvalItem>);

/// The Compare view: two stored evaluations (A, B), their items compared, one selected.
#[derive(Clone, Debug, Default)]
pub struct CompareState {
    pub a: Option<Side>,
    pub b: Option<Side>,
    /// The items both answered, A against B (empty until both sides have their items).
    pub rows: SelectList<PairRow>,
    /// The playground is shown instead of the stored evaluations.
    pub playing: bool,
    pub play: PlayState,
}

impl CompareState {
    /// Per-item comparison of A and B (None until both are loaded).
    pub fn tally(&self) -> Option<Result<Tally, String>> {
        let (Some((_, a)), Some((_, b))) = (&self.a, &self.b) else {
            return None;
        };
        Some(compare_items(a, b).map_err(|e| format!("{e:#}")))
    }

    /// The items of A and B at the selected row.
    pub fn selected_pair(&self) -> Option<(&EvalItem, &EvalItem)> {
        let row = self.rows.selected()?;
        fn find(s: &Option<Side>, index: u32) -> Option<&EvalItem> {
            s.as_ref()
                .and_then(|(_, items)| items.iter().find(|i| i.index == index))
        }
        Some((find(&self.a, row.index)?, find(&self.b, row.index)?))
    }

    /// The rows again, after a side or its items changed (the cursor stays, clamped).
    fn compare(&mut self) {
        let rows = match self.tally() {
            Some(Ok(t)) => t.rows,
            _ => Vec::new(),
        };
        self.rows.set_items(rows);
    }

    fn set_side(&mut self, a: bool, run: EvalRun) {
        let slot = if a { &mut self.a } else { &mut self.b };
        *slot = Some((run, Vec::new()));
        self.rows.reset(Vec::new());
        self.compare();
    }

    fn items_loaded(&mut self, id: &str, items: Vec<EvalItem>) {
        for (r, its) in [&mut self.a, &mut self.b].into_iter().flatten() {
            if r.id == id {
                *its = items.clone();
            }
        }
        self.compare();
    }
}

fn side_label(r: &EvalRun) -> String {
    format!(
        "{} ({}) · {} items",
        r.checkpoint.as_deref().unwrap_or(&r.model),
        r.mode,
        r.done
    )
}

fn item_lines(it: &EvalItem) -> Vec<Line<'static>> {
    let mut l = widgets::reasoning_and_answer(
        it.reasoning.as_deref(),
        it.answer.as_deref(),
        it.unscorable.as_deref(),
        &it.response,
    );
    l.push(Line::styled("verdicts", widgets::bold()));
    for v in &it.verdicts {
        let (mark, style) = if v.strict {
            ("✓", Style::default().fg(Color::Green))
        } else {
            ("✗", Style::default().fg(Color::Red))
        };
        let mut spans = vec![
            Span::styled(format!("{mark} "), style),
            Span::raw(v.question.clone().unwrap_or_else(|| v.id.clone())),
        ];
        if let Some(s) = v.score {
            spans.push(Span::styled(format!(" {s:.2}"), dim()));
        }
        if v.loose == Some(true) && !v.strict {
            spans.push(Span::styled(" (loose ✓)", dim()));
        }
        l.push(Line::from(spans));
    }
    l
}

/// The playground is open.
fn playing(c: &CompareState, _: &Shared<'_>) -> bool {
    c.playing
}

const KEYS: &[KeyRow<CompareState>] = &[
    KeyRow::note("↑ ↓", "pick an item (stored evaluations)"),
    KeyRow::note("a / b in Eval (7)", "choose the two evaluations"),
    KeyRow::new(
        "p",
        "the playground: your prompt, two models, streaming / the stored evaluations",
        &[(KeyCode::Char('p'), Action::TogglePlayground)],
    ),
    KeyRow::new(
        "e",
        "playground: type the prompt",
        &[(
            KeyCode::Char('e'),
            Action::StartInput(InputTarget::PlayPrompt),
        )],
    )
    .when(playing),
    KeyRow::new(
        "c",
        "playground: add a constraint (ID key=value …, or a JSON tree)",
        &[(
            KeyCode::Char('c'),
            Action::StartInput(InputTarget::PlayConstraint),
        )],
    )
    .when(playing),
    KeyRow::new(
        "l",
        "playground: pick a constraint from the verifier catalogue",
        &[(KeyCode::Char('l'), Action::ToggleCatalogue)],
    )
    .when(playing),
    KeyRow::new(
        "C",
        "playground: remove the constraints",
        &[(KeyCode::Char('C'), Action::ClearConstraints)],
    )
    .when(playing),
    KeyRow::new(
        "a / b",
        "playground: side A / B as MODEL:MODE or RUN@STEP:MODE (io, cot, think)",
        &[
            (
                KeyCode::Char('a'),
                Action::StartInput(InputTarget::PlaySide(true)),
            ),
            (
                KeyCode::Char('b'),
                Action::StartInput(InputTarget::PlaySide(false)),
            ),
        ],
    )
    .when(playing),
    KeyRow::new(
        "n",
        "playground: samples, seed, temperature, max tokens",
        &[(
            KeyCode::Char('n'),
            Action::StartInput(InputTarget::PlaySampling),
        )],
    )
    .when(playing),
    KeyRow::note(
        "Enter",
        "playground: answer with both sides (in the catalogue: pick)",
    ),
    KeyRow::note("← →", "playground: the sample shown (with several)"),
    KeyRow::hidden(&[
        (KeyCode::PageUp, Action::ScrollDetail(-10)),
        (KeyCode::PageDown, Action::ScrollDetail(10)),
    ]),
];

impl CompareState {
    /// The playground's keys (the stored comparison's are above).
    fn update_play(&mut self, a: Action, sh: &Shared<'_>, fx: &mut Effects) {
        let p = &mut self.play;
        if let (Some(c), Some(d)) = (&mut p.catalogue, a.nav_delta()) {
            c.move_by(d);
            return;
        }
        match a {
            Action::Enter if p.catalogue.is_some() => p.pick(fx),
            Action::Enter | Action::RunPlayground => p.run(sh, fx),
            Action::Back if p.catalogue.is_some() => p.catalogue = None,
            Action::Back => self.playing = false,
            Action::ToggleCatalogue => p.toggle_catalogue(),
            Action::ClearConstraints => {
                p.constraints.clear();
                fx.message("constraints removed");
            }
            Action::Left => p.move_sample(-1),
            Action::Right => p.move_sample(1),
            Action::StartInput(t) => fx.input(t, p.input_text(t)),
            Action::Submit(t, s) => p.submit(t, s, fx),
            _ => {}
        }
    }
}

impl Component for CompareState {
    const KEYS: &'static [KeyRow<Self>] = KEYS;

    fn update(&mut self, a: Action, sh: &Shared<'_>, fx: &mut Effects) {
        match a {
            Action::TogglePlayground => {
                self.playing = !self.playing;
                return;
            }
            Action::Play(e) => {
                self.play.event(e, fx);
                return;
            }
            Action::CompareSide { a, run } => {
                self.set_side(a, *run);
                return;
            }
            Action::EvalItems { id, items } => {
                self.items_loaded(&id, items);
                return;
            }
            _ => {}
        }
        if self.playing {
            self.update_play(a, sh, fx);
        } else if let Some(d) = a.nav_delta() {
            self.rows.move_by(d);
        }
    }

    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        let c = self;
        if c.playing {
            playground::render(&c.play, sh, f, area);
            return;
        }
        let (Some((ra, _)), Some((rb, _))) = (&c.a, &c.b) else {
            let msg = vec![
                Line::raw(""),
                Line::styled(
                    "  Choose two evaluations of the same benchmark in Eval (7): a for side A, b for side B.",
                    widgets::bold(),
                ),
                Line::styled(
                    format!(
                        "  A: {}   B: {}",
                        c.a.as_ref().map_or("—".into(), |(r, _)| r.id.clone()),
                        c.b.as_ref().map_or("—".into(), |(r, _)| r.id.clone())
                    ),
                    dim(),
                ),
                Line::styled(
                    "  Your own prompt, answered by two models as they generate: p (the playground).",
                    dim(),
                ),
            ];
            f.render_widget(Paragraph::new(msg), area);
            return;
        };
        let [head, picker, panes] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Percentage(35),
            Constraint::Min(4),
        ])
        .areas(area);
        let tally = match c.tally() {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                f.render_widget(
                    Paragraph::new(Line::styled(e, Style::default().fg(Color::Red))),
                    area,
                );
                return;
            }
            None => return,
        };
        f.render_widget(
            Paragraph::new(vec![
                Line::from(vec![
                    Span::styled("A ", widgets::bold()),
                    Span::raw(side_label(ra)),
                    Span::styled("   B ", widgets::bold()),
                    Span::raw(side_label(rb)),
                ]),
                Line::styled(
                    format!(
                        "A wins {} · B wins {} · ties {} (of {} items both answered; per item: share of constraints satisfied)",
                        tally.a_wins,
                        tally.b_wins,
                        tally.ties,
                        tally.rows.len()
                    ),
                    dim(),
                ),
            ]),
            head,
        );
        let rows = &c.rows;
        widgets::render_list(
            f,
            picker,
            Line::styled(" Items ", widgets::title_style()),
            rows.len(),
            Some(c.rows.index()),
            true,
            &|i| {
                let r = &rows[i];
                let (w, style) = match r.outcome {
                    Outcome::AWins => ("A", Style::default().fg(Color::Green)),
                    Outcome::BWins => ("B", Style::default().fg(Color::Cyan)),
                    Outcome::Tie => ("=", dim()),
                };
                Line::from(vec![
                    Span::raw(format!(
                        "{:>5} {:<24} ",
                        r.index,
                        widgets::truncate(&r.record_id, 24)
                    )),
                    Span::raw(format!("A {:.2}  B {:.2}  ", r.a, r.b)),
                    Span::styled(w.to_string(), style),
                ])
            },
        );
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(panes);
        if let Some((ia, ib)) = c.selected_pair() {
            widgets::render_text(
                f,
                left,
                Line::styled(format!(" A · {} ", ra.mode), widgets::title_style()),
                item_lines(ia),
                sh.detail_scroll,
            );
            widgets::render_text(
                f,
                right,
                Line::styled(format!(" B · {} ", rb.mode), widgets::title_style()),
                item_lines(ib),
                sh.detail_scroll,
            );
        }
    }
}
