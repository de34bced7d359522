//! Curves: any metric of the run with EMA smoothing and a min/max band, zoom to a step range,
//! a freeze toggle, and small multiples of the per-constraint pass rates. The data are
//! bounded series (a fixed number of buckets per metric); a metric is plotted only at the
//! steps that have it (warm-up steps have no reward). In a run with a warm-up, every chart
//! marks the step where GRPO begins with a column of `┊` labelled `GRPO`.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use super::widgets::{self, dim};
use super::Component;
use crate::action::{Action, InputTarget};
use crate::app::{is_per_constraint, App};
use crate::series::{ema, Series};

pub struct CurvesView;

impl Component for CurvesView {
    fn key(&self, _app: &App, k: KeyEvent) -> Option<Action> {
        Some(match k.code {
            KeyCode::Char('e') | KeyCode::Char('s') => Action::CycleSmoothing,
            KeyCode::Char('b') => Action::ToggleBand,
            KeyCode::Char('f') => Action::ToggleFreeze,
            KeyCode::Char('m') => Action::ToggleSmallMultiples,
            KeyCode::Char('+') | KeyCode::Char('=') => Action::ZoomIn,
            KeyCode::Char('-') => Action::ZoomOut,
            KeyCode::Char('0') => Action::ZoomReset,
            KeyCode::Char('z') => Action::StartInput(InputTarget::ZoomRange),
            _ => return None,
        })
    }

    fn help(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑↓", "choose the metric"),
            ("e", "EMA smoothing: off, 0.6, 0.8, 0.9, 0.97"),
            ("b", "min/max band on / off"),
            ("+ - ← →", "zoom and pan the step range"),
            ("z", "zoom to steps A..B"),
            ("0", "show every step"),
            ("f", "freeze: new data do not move the view"),
            ("m", "per-constraint pass rates (small multiples)"),
            ("Esc", "back to the training run's curves"),
            (
                "┊GRPO",
                "where GRPO begins after the warm-up (runs with a warm-up)",
            ),
        ]
    }

    fn render(&self, app: &App, f: &mut Frame, area: Rect) {
        let c = &app.curves;
        let keys = c.keys();
        let source = match &c.other {
            Some((id, _)) => format!("run {id}"),
            None => app
                .train
                .run_id
                .clone()
                .map(|r| format!("run {r} (live)"))
                .unwrap_or_else(|| "no run".into()),
        };
        if keys.is_empty() {
            let lines = vec![
                Line::raw(""),
                Line::styled(format!("  No metrics yet ({source})."), widgets::bold()),
                Line::raw("  Metrics appear after the first step of a run; in Replay, press v on a run to see its curves."),
            ];
            f.render_widget(Paragraph::new(lines), area);
            return;
        }
        let list_w = (area.width / 4).clamp(24, 40);
        let [list, chart] =
            Layout::horizontal([Constraint::Length(list_w), Constraint::Min(20)]).areas(area);
        let shown = c.shown();
        widgets::render_list(
            f,
            list,
            Line::styled(
                format!(" Metrics · {} ", keys.len()),
                widgets::title_style(),
            ),
            keys.len(),
            Some(c.selected),
            true,
            &|i| {
                let k = keys[i];
                let v = shown
                    .get(k)
                    .and_then(|s| s.last())
                    .map(fmt_value)
                    .unwrap_or_default();
                let w = list_w as usize - 4;
                let name = widgets::truncate(k, w.saturating_sub(v.len() + 1));
                let pad = w.saturating_sub(name.chars().count() + v.len());
                Line::from(vec![
                    Span::raw(name),
                    Span::raw(" ".repeat(pad)),
                    Span::styled(v, dim()),
                ])
            },
        );
        let Some((lo, hi)) = c.visible() else { return };
        let mut status = format!(" {source} · steps {lo}..{hi}");
        if c.alpha() > 0.0 {
            status.push_str(&format!(" · EMA {}", c.alpha()));
        }
        if c.frozen.is_some() {
            status.push_str(" · FROZEN");
        }
        let grpo = c.grpo_start(app.train.warmup_steps);
        if c.small_multiples {
            render_small_multiples(app, f, chart, lo, hi, grpo, &status);
            return;
        }
        let Some(key) = c.selected_key() else { return };
        let Some(series) = shown.get(key) else { return };
        render_chart(
            f,
            chart,
            key,
            series,
            Window {
                lo,
                hi,
                grpo,
                alpha: c.alpha(),
                band: c.band,
                axes: true,
            },
            &status,
        );
    }
}

fn fmt_value(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-3 {
        format!("{v:.2e}")
    } else {
        format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// The colour of the GRPO marker; nothing else on a chart has it, so that the column it was
/// drawn in can be found again.
const GRPO_MARK: Color = Color::Rgb(255, 170, 60);

/// What a chart shows of its series.
#[derive(Clone, Copy, Debug)]
struct Window {
    lo: u64,
    hi: u64,
    /// The first GRPO step of a run with a warm-up.
    grpo: Option<u64>,
    alpha: f64,
    band: bool,
    axes: bool,
}

fn render_chart(f: &mut Frame, area: Rect, key: &str, s: &Series, w: Window, status: &str) {
    let Window {
        lo,
        hi,
        alpha,
        band,
        axes,
        ..
    } = w;
    let b = s.window(lo, hi);
    let raw: Vec<(f64, f64)> = b.iter().map(|b| (b.x(), b.mean())).collect();
    let smooth: Vec<(f64, f64)> = b
        .iter()
        .map(|b| b.x())
        .zip(ema(&raw.iter().map(|p| p.1).collect::<Vec<_>>(), alpha))
        .collect();
    let mins: Vec<(f64, f64)> = b.iter().map(|b| (b.x(), b.min)).collect();
    let maxs: Vec<(f64, f64)> = b.iter().map(|b| (b.x(), b.max)).collect();
    let (mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY);
    for b in b {
        let (l, h) = if band {
            (b.min, b.max)
        } else {
            (b.mean(), b.mean())
        };
        ymin = ymin.min(l);
        ymax = ymax.max(h);
    }
    if !ymin.is_finite() {
        ymin = 0.0;
        ymax = 1.0;
    }
    if (ymax - ymin).abs() < 1e-12 {
        ymin -= 0.5;
        ymax += 0.5;
    }
    let pad = (ymax - ymin) * 0.05;
    let (ymin, ymax) = (ymin - pad, ymax + pad);
    let mut sets = Vec::new();
    // The GRPO marker first, so that the data are drawn over it where they cross it.
    let grpo = w.grpo.filter(|g| (lo..=hi).contains(g));
    let mark: Vec<(f64, f64)> = grpo
        .map(|g| vec![(g as f64, ymin), (g as f64, ymax)])
        .unwrap_or_default();
    if grpo.is_some() {
        sets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(GRPO_MARK))
                .data(&mark),
        );
    }
    if band {
        sets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(Color::Rgb(70, 70, 90)))
                .data(&mins),
        );
        sets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(Color::Rgb(70, 70, 90)))
                .data(&maxs),
        );
    }
    if alpha > 0.0 {
        sets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Scatter)
                .style(Style::default().fg(Color::DarkGray))
                .data(&raw),
        );
        sets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(Color::Cyan))
                .data(&smooth),
        );
    } else {
        sets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(Color::Cyan))
                .data(&raw),
        );
    }
    let last = b.last().map(|b| fmt_value(b.last)).unwrap_or_default();
    let title = Line::from(vec![
        Span::styled(format!(" {key} "), widgets::title_style()),
        Span::raw(format!("{last} ")),
        Span::styled(status.to_string(), dim()),
        Span::raw(" "),
    ]);
    let (xl, xh) = (lo as f64, (hi as f64).max(lo as f64 + 1.0));
    let mut chart = Chart::new(sets).block(Block::bordered().title(title).border_style(dim()));
    if axes {
        chart = chart
            .x_axis(
                Axis::default()
                    .bounds([xl, xh])
                    .labels([
                        format!("{lo}"),
                        format!("{}", (lo + hi) / 2),
                        format!("{hi}"),
                    ])
                    .style(dim()),
            )
            .y_axis(
                Axis::default()
                    .bounds([ymin, ymax])
                    .labels([
                        fmt_value(ymin),
                        fmt_value((ymin + ymax) / 2.0),
                        fmt_value(ymax),
                    ])
                    .style(dim()),
            );
    } else {
        chart = chart
            .x_axis(Axis::default().bounds([xl, xh]))
            .y_axis(Axis::default().bounds([ymin, ymax]));
    }
    f.render_widget(chart, area);
    if grpo.is_some() {
        finish_grpo_mark(f.buffer_mut(), area);
    }
}

/// Turn the marker's braille dots (the cells of [`GRPO_MARK`] inside `area`) into a dashed
/// column and label it `GRPO` at its top, to its right where that fits, else to its left.
fn finish_grpo_mark(buf: &mut Buffer, area: Rect) {
    let inner = area.inner(ratatui::layout::Margin::new(1, 1));
    let area = inner.intersection(buf.area);
    let mut cells: Vec<(u16, u16)> = Vec::new();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if buf[(x, y)].fg == GRPO_MARK {
                cells.push((x, y));
            }
        }
    }
    // The column with the most marker cells (a vertical line is one column).
    let mut counts: std::collections::BTreeMap<u16, usize> = Default::default();
    for (x, _) in &cells {
        *counts.entry(*x).or_default() += 1;
    }
    let Some((&x, _)) = counts
        .iter()
        .max_by_key(|(x, n)| (**n, std::cmp::Reverse(**x)))
    else {
        return;
    };
    let mut top = None;
    for &(cx, y) in &cells {
        if cx == x {
            buf[(x, y)].set_symbol("┊");
            top = Some(top.map_or(y, |t: u16| t.min(y)));
        }
    }
    let Some(y) = top else { return };
    let st = Style::default().fg(GRPO_MARK).add_modifier(Modifier::BOLD);
    let right = "GRPO";
    let left = "GRPO→";
    if x + 1 + right.chars().count() as u16 <= area.right() {
        buf.set_string(x + 1, y, right, st);
    } else if x >= area.left() + left.chars().count() as u16 {
        buf.set_string(x - left.chars().count() as u16, y, left, st);
    }
}

fn render_small_multiples(
    app: &App,
    f: &mut Frame,
    area: Rect,
    lo: u64,
    hi: u64,
    grpo: Option<u64>,
    status: &str,
) {
    let shown = app.curves.shown();
    let per: BTreeMap<&String, &Series> =
        shown.iter().filter(|(k, _)| is_per_constraint(k)).collect();
    let [head, grid] = Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" Per-constraint pass rate", widgets::title_style()),
            Span::styled(status.to_string(), dim()),
        ])),
        head,
    );
    if per.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled(
                "  no per-constraint metrics (rewards/<id>/mean) in this run",
                dim(),
            )),
            grid,
        );
        return;
    }
    let cols = (grid.width / 36).max(1) as usize;
    let rows_fit = (grid.height / 6).max(1) as usize;
    let n = per.len().min(cols * rows_fit);
    let rows = n.div_ceil(cols);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(grid);
    for (i, (k, s)) in per.iter().take(n).enumerate() {
        let r = i / cols;
        let col_areas =
            Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(row_areas[r]);
        let name = k
            .trim_start_matches("eval/")
            .trim_start_matches("rewards/")
            .trim_end_matches("/mean");
        let label = if k.starts_with("eval/") {
            format!("eval {name}")
        } else {
            name.to_string()
        };
        render_chart(
            f,
            col_areas[i % cols],
            &label,
            s,
            Window {
                lo,
                hi,
                grpo,
                alpha: app.curves.alpha(),
                band: false,
                axes: false,
            },
            "",
        );
    }
    if per.len() > n {
        let more = Rect {
            y: grid.y + grid.height.saturating_sub(1),
            height: 1,
            ..grid
        };
        f.render_widget(
            Paragraph::new(Line::styled(
                format!(" … {} more (enlarge the terminal)", per.len() - n),
                dim(),
            )),
            more,
        );
    }
}
