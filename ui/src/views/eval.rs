//! Eval: the stored benchmark evaluations (`raif eval`, `raif compare`) as result tables, one
//! row per model or checkpoint and mode, grouped by benchmark, with the selected evaluation's
//! metrics, levels and timings. A column for the seed paper's Table 1 appears only where the
//! reference docs state numbers for the same model; they state none, so it is absent (and the
//! view says so rather than showing numbers from memory).

use crossterm::event::KeyCode;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::Frame;

use raif_rl::eval::{score, Bench};
use raif_store::{EvalRun, EvalStatus};

use super::widgets::{self, dim};
use crate::action::{Action, Request, View};
use crate::component::{Component, Effects, KeyRow, Shared};
use crate::select::SelectList;

/// The Eval view: stored evaluations in table order, one selected.
#[derive(Clone, Debug, Default)]
pub struct EvalState {
    pub runs: SelectList<EvalRun>,
    pub loaded: bool,
}

impl EvalState {
    /// Benchmark, then model or checkpoint, then mode: evaluations to compare sit together.
    /// The selected evaluation stays selected.
    pub fn set(&mut self, mut runs: Vec<EvalRun>) {
        let sel = self.runs.selected().map(|r| r.id.clone());
        runs.sort_by(|a, b| {
            (
                &a.bench,
                a.checkpoint.as_ref().unwrap_or(&a.model),
                &a.mode,
                &a.id,
            )
                .cmp(&(
                    &b.bench,
                    b.checkpoint.as_ref().unwrap_or(&b.model),
                    &b.mode,
                    &b.id,
                ))
        });
        self.runs.reset(runs);
        if let Some(id) = sel {
            self.runs.select_where(|r| r.id == id);
        }
        self.loaded = true;
    }

    pub fn selected(&self) -> Option<&EvalRun> {
        self.runs.selected()
    }

    /// Make the selected evaluation side A (`a`) or B of Compare.
    fn mark_compare(&self, a: bool, fx: &mut Effects) {
        let Some(r) = self.selected().cloned() else {
            return;
        };
        fx.message(format!(
            "{} is side {} of Compare (8)",
            r.id,
            if a { "A" } else { "B" }
        ));
        fx.request(Request::EvalItems(r.id.clone()));
        let side = Action::CompareSide {
            a,
            run: Box::new(r),
        };
        fx.send(View::Compare, side);
    }
}

/// The seed paper's Table 1 numbers found in the reference docs (`../shared`): none are
/// stated there, so no model has a paper column.
pub const PAPER_TABLE1_NOTE: &str =
    "Seed paper Table 1: no numbers in the reference docs; column absent";

fn headline_values(r: &EvalRun) -> Vec<(String, Option<f64>)> {
    match Bench::parse(&r.bench) {
        Ok(b) => score::headline(b)
            .iter()
            .map(|(k, label)| {
                (
                    label.to_string(),
                    r.metrics.get(&format!("{}.{k}", b.key())).copied(),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn row(r: &EvalRun, wide: bool) -> Line<'static> {
    let who = r.checkpoint.clone().unwrap_or_else(|| r.model.clone());
    let mut spans = vec![
        Span::styled(
            format!("{:<12}", widgets::truncate(&r.bench, 12)),
            widgets::bold(),
        ),
        Span::raw(format!(
            "{:<w$} ",
            widgets::truncate(&who, if wide { 30 } else { 16 }),
            w = if wide { 30 } else { 16 }
        )),
        Span::styled(format!("{:<6}", r.mode), Style::default().fg(Color::Cyan)),
        Span::raw(format!("{:>5}/{:<5}", r.done, r.target)),
    ];
    let status = match r.status {
        EvalStatus::Finished => Span::styled(" ✓ ", Style::default().fg(Color::Green)),
        EvalStatus::Interrupted => Span::styled(" ‖ ", Style::default().fg(Color::Yellow)),
        EvalStatus::Running => Span::styled(" … ", dim()),
    };
    spans.push(status);
    for (label, v) in headline_values(r)
        .into_iter()
        .take(if wide { 5 } else { 2 })
    {
        spans.push(Span::styled(format!(" {label} "), dim()));
        spans.push(Span::raw(match v {
            Some(v) => format!("{v:.3}"),
            None => "—".into(),
        }));
    }
    Line::from(spans)
}

fn detail(r: &EvalRun) -> Vec<Line<'static>> {
    let mut l = vec![
        Line::styled(r.id.clone(), widgets::bold()),
        Line::raw(format!(
            "{} · {} · mode {}{}",
            r.checkpoint.as_deref().unwrap_or(&r.model),
            r.bench,
            r.mode,
            r.judge
                .as_ref()
                .map(|j| format!(" · judge {j}"))
                .unwrap_or_default()
        )),
        Line::raw(format!(
            "{} of {} items ({}); {} in the benchmark",
            r.done, r.target, r.status, r.bench_items
        )),
        Line::raw(""),
    ];
    for (label, v) in headline_values(r) {
        l.push(Line::from(vec![
            Span::styled(format!("{label:<16}"), dim()),
            Span::raw(v.map_or("—".to_string(), |v| format!("{v:.4}"))),
        ]));
    }
    if r.bench == "followbench" {
        for lv in 1..=5 {
            let g = |m: &str| r.metrics.get(&format!("followbench.L{lv}.{m}")).copied();
            if let (Some(h), Some(s)) = (g("hsr"), g("ssr")) {
                l.push(Line::raw(format!(
                    "level {lv}          HSR {h:.4}  SSR {s:.4}"
                )));
            }
        }
    }
    if let Ok(b) = Bench::parse(&r.bench) {
        for (name, label) in [
            ("format_ok", "format ok"),
            ("unscorable", "unscorable"),
            ("truncated", "hit max tokens"),
            ("judge_overlong", "judge too long"),
        ] {
            if let Some(v) = r.metrics.get(&format!("{}.{name}", b.key())) {
                l.push(Line::from(vec![
                    Span::styled(format!("{label:<16}"), dim()),
                    Span::raw(format!("{v:.4}")),
                ]));
            }
        }
    }
    let t = &r.timing;
    l.push(Line::raw(""));
    l.push(Line::raw(format!(
        "{} tokens generated in {:.1} s ({:.1} tokens/s) · scoring {:.1} s · {:.1} s in all",
        t.generated_tokens,
        t.generate_s,
        raif_rl::eval::tokens_per_s(r),
        t.score_s,
        t.wall_s
    )));
    l
}

const KEYS: &[KeyRow<EvalState>] = &[
    KeyRow::note("↑ ↓", "select an evaluation"),
    KeyRow::new(
        "a / b",
        "make it side A / B of Compare (8)",
        &[
            (KeyCode::Char('a'), Action::MarkCompare(true)),
            (KeyCode::Char('b'), Action::MarkCompare(false)),
        ],
    ),
    KeyRow::new(
        "r",
        "reload from the store",
        &[(KeyCode::Char('r'), Action::Refresh)],
    ),
    KeyRow::new(
        "PgUp PgDn",
        "scroll the details",
        &[
            (KeyCode::PageUp, Action::ScrollDetail(-10)),
            (KeyCode::PageDown, Action::ScrollDetail(10)),
        ],
    ),
];

impl Component for EvalState {
    const KEYS: &'static [KeyRow<Self>] = KEYS;

    fn update(&mut self, a: Action, _sh: &Shared<'_>, fx: &mut Effects) {
        if let Some(d) = a.nav_delta() {
            self.runs.move_by(d);
            return;
        }
        match a {
            Action::Refresh => fx.request(Request::ListEvals),
            Action::MarkCompare(side_a) => self.mark_compare(side_a, fx),
            Action::Evals(runs) => self.set(runs),
            _ => {}
        }
    }

    fn on_show(&mut self, fx: &mut Effects) {
        fx.request(Request::ListEvals);
    }

    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        let e = self;
        if e.runs.is_empty() {
            let msg = if e.loaded {
                "  No evaluations stored yet: run `raif eval --bench ifeval --mode think` (or `raif compare`)."
            } else {
                "  Loading evaluations…"
            };
            f.render_widget(
                ratatui::widgets::Paragraph::new(vec![
                    Line::raw(""),
                    Line::styled(msg, widgets::bold()),
                    Line::raw(""),
                    Line::styled(format!("  {PAPER_TABLE1_NOTE}"), dim()),
                ]),
                area,
            );
            return;
        }
        let wide = area.width >= 140;
        let [table, info] = if wide {
            Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(area)
        } else {
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area)
        };
        let [list, note] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(table);
        let runs = &e.runs;
        widgets::render_list(
            f,
            list,
            Line::styled(
                format!(
                    " Evaluations ({}) — by benchmark, model or checkpoint, mode ",
                    runs.len()
                ),
                widgets::title_style(),
            ),
            runs.len(),
            Some(e.runs.index()),
            true,
            &|i| row(&runs[i], wide),
        );
        f.render_widget(
            ratatui::widgets::Paragraph::new(Line::styled(PAPER_TABLE1_NOTE, dim())),
            note,
        );
        if let Some(r) = e.selected() {
            widgets::render_text(
                f,
                info,
                Line::styled(" Metrics ", widgets::title_style()),
                detail(r),
                sh.detail_scroll,
            );
        }
    }
}
