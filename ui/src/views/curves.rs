//! Curves: any metric of the run with EMA smoothing and a min/max band, zoom to a step range,
//! a freeze toggle, and small multiples of the per-constraint pass rates. The data are
//! bounded series (a fixed number of buckets per metric); a metric is plotted only at the
//! steps that have it (warm-up steps have no reward). In a run with a warm-up, every chart
//! marks the step where GRPO begins with a column of `┊` labelled `GRPO`.

use std::collections::BTreeMap;

use crossterm::event::KeyCode;
use raif_store::Metrics;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use super::widgets::{self, dim};
use crate::action::{Action, InputTarget, Request, View};
use crate::component::{Component, Effects, KeyRow, Shared};
use crate::select::SelectList;
use crate::series::{axis_range, ema, fmt_value, Series};
use crate::state::{parse_range_f64, PhaseBounds};

/// Smoothing weights offered by Curves.
pub const SMOOTHING: [f64; 5] = [0.0, 0.6, 0.8, 0.9, 0.97];

/// `rewards/<id>/mean` and `eval/rewards/<id>/mean`.
pub fn is_per_constraint(key: &str) -> bool {
    (key.starts_with("rewards/") || key.starts_with("eval/rewards/")) && key.ends_with("/mean")
}

fn add_metrics(
    series: &mut BTreeMap<String, Series>,
    phases: &mut PhaseBounds,
    step: u64,
    m: &Metrics,
) {
    phases.record(step, m);
    for (k, v) in m {
        series.entry(k.clone()).or_default().push(step, *v);
    }
}

#[derive(Clone, Debug)]
pub struct CurvesState {
    /// The metrics of the run being trained here.
    pub live: BTreeMap<String, Series>,
    /// Where the live run's warm-up ends (from its `phase` metric).
    pub live_phases: PhaseBounds,
    /// A run opened from Replay: (id, metrics); shown instead of `live` while set.
    pub other: Option<(String, BTreeMap<String, Series>)>,
    /// Its warm-up steps (from its configuration) and where its warm-up ends (its metrics).
    pub other_warmup: u64,
    pub other_phases: PhaseBounds,
    /// The shown run's metric names (per-constraint pass rates last), one selected. Rebuilt
    /// as metrics arrive, keeping the cursor.
    pub metrics: SelectList<String>,
    pub smoothing: usize,
    pub band: bool,
    pub frozen: Option<(u64, u64)>,
    pub zoom: Option<(u64, u64)>,
    pub small_multiples: bool,
}

impl Default for CurvesState {
    fn default() -> Self {
        CurvesState {
            live: BTreeMap::new(),
            live_phases: PhaseBounds::default(),
            other: None,
            other_warmup: 0,
            other_phases: PhaseBounds::default(),
            metrics: SelectList::default(),
            smoothing: 1,
            band: true,
            frozen: None,
            zoom: None,
            small_multiples: false,
        }
    }
}

impl CurvesState {
    pub fn shown(&self) -> &BTreeMap<String, Series> {
        match &self.other {
            Some((_, s)) => s,
            None => &self.live,
        }
    }
    /// Every metric, per-constraint pass rates last.
    pub fn keys(&self) -> Vec<&String> {
        self.metrics.iter().collect()
    }
    pub fn selected_key(&self) -> Option<&String> {
        self.metrics.selected()
    }
    /// The steps all shown data covers.
    pub fn full_range(&self) -> Option<(u64, u64)> {
        self.shown()
            .values()
            .filter_map(|s| s.range())
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    }
    /// The steps on screen: the zoom, else the frozen range, else everything.
    pub fn visible(&self) -> Option<(u64, u64)> {
        self.zoom.or(self.frozen).or_else(|| self.full_range())
    }
    /// The first GRPO step of the shown run when it had a warm-up: from the `phase` metric,
    /// else from the configuration (`live_warmup`: the live run's warm-up steps).
    pub fn grpo_start(&self, live_warmup: u64) -> Option<u64> {
        let (bounds, warmup) = match &self.other {
            Some(_) => (self.other_phases, self.other_warmup),
            None => (self.live_phases, live_warmup),
        };
        bounds
            .grpo_start()
            .or_else(|| (warmup > 0).then_some(warmup + 1))
    }
    pub fn alpha(&self) -> f64 {
        SMOOTHING[self.smoothing.min(SMOOTHING.len() - 1)]
    }

    /// The metric names of the shown run, per-constraint pass rates last.
    fn names(&self) -> Vec<String> {
        let (mut main, mut per): (Vec<&String>, Vec<&String>) =
            self.shown().keys().partition(|k| !is_per_constraint(k));
        main.append(&mut per);
        main.into_iter().cloned().collect()
    }

    /// A step's metrics of the run training here.
    pub fn add_live(&mut self, step: u64, m: &Metrics) {
        add_metrics(&mut self.live, &mut self.live_phases, step, m);
        if self.other.is_none() {
            self.metrics.replace_items(self.names());
        }
    }

    /// A new run trains here: no metrics yet, and its curves are shown.
    pub fn reset_live(&mut self) {
        self.live.clear();
        self.live_phases = PhaseBounds::default();
        self.other = None;
        self.metrics.replace_items(self.names());
    }

    /// Show a stored run's curves (its metrics follow as `RunLoaded`).
    fn show_run(&mut self, run: String, warmup: u64, fx: &mut Effects) {
        self.other = Some((run, BTreeMap::new()));
        self.other_warmup = warmup;
        self.other_phases = PhaseBounds::default();
        self.zoom = None;
        self.frozen = None;
        self.metrics.reset(self.names());
        fx.goto(View::Curves);
    }

    /// A stored run's metrics, if it is the one shown.
    fn run_loaded(&mut self, run: &str, metrics: &[(u64, Metrics)]) {
        let Some((id, series)) = &mut self.other else {
            return;
        };
        if id != run {
            return;
        }
        series.clear();
        self.other_phases = PhaseBounds::default();
        for (s, m) in metrics {
            add_metrics(series, &mut self.other_phases, *s, m);
        }
        self.metrics.replace_items(self.names());
    }

    /// Esc: the whole range again, else the training run's curves.
    fn back(&mut self) {
        if self.zoom.is_some() {
            self.zoom = None;
        } else if self.other.is_some() {
            self.other = None;
            self.metrics.reset(self.names());
        }
    }

    /// Half (`zoom_in`) or double the visible range around its middle.
    fn zoom(&mut self, zoom_in: bool) {
        let Some((lo, hi)) = self.visible() else {
            return;
        };
        let (flo, fhi) = self.full_range().unwrap_or((lo, hi));
        let span = hi.saturating_sub(lo).max(1);
        let mid = lo + span / 2;
        let half = if zoom_in { (span / 4).max(2) } else { span };
        let nlo = mid.saturating_sub(half).max(flo.min(lo));
        let nhi = (mid + half).min(fhi.max(hi));
        self.zoom = Some((nlo, nhi.max(nlo + 1)));
    }

    /// Move the visible range a quarter of its width right (`d` > 0) or left.
    fn pan(&mut self, d: i64) {
        let Some((lo, hi)) = self.visible() else {
            return;
        };
        let (flo, fhi) = self.full_range().unwrap_or((lo, hi));
        let span = hi.saturating_sub(lo).max(1);
        let shift = (span / 4).max(1);
        let (nlo, nhi) = if d > 0 {
            let nhi = (hi + shift).min(fhi.max(hi));
            (nhi.saturating_sub(span), nhi)
        } else {
            let nlo = lo.saturating_sub(shift).max(flo.min(lo));
            (nlo, nlo + span)
        };
        self.zoom = Some((nlo, nhi));
    }

    /// `P`: the shown run's curves as a picture, drawn by the worker from the store — the
    /// selected metric, or with small multiples every per-constraint pass rate.
    fn save_plot(&self, sh: &Shared<'_>, fx: &mut Effects) {
        let run = match &self.other {
            Some((id, _)) => Some(id.clone()),
            None => sh.train.run_id.clone(),
        };
        let Some(run) = run else {
            fx.message("no run to draw: start one, or open one from Replay");
            return;
        };
        let metrics: Vec<String> = if self.small_multiples {
            self.metrics
                .iter()
                .filter(|k| is_per_constraint(k))
                .cloned()
                .collect()
        } else {
            self.selected_key().cloned().into_iter().collect()
        };
        if metrics.is_empty() {
            fx.message("no metric to draw yet");
            return;
        }
        fx.request(Request::Plot {
            runs: vec![run],
            metrics,
            smoothing: self.alpha(),
        });
        fx.message("drawing the curves…");
    }

    /// Zoom to a typed step range (empty: every step).
    fn zoom_to(&mut self, s: &str, fx: &mut Effects) {
        if s.is_empty() {
            self.zoom = None;
            return;
        }
        match parse_range_f64(s) {
            Ok((Some(a), Some(b))) if a >= 0.0 && b > a => self.zoom = Some((a as u64, b as u64)),
            _ => fx.message(format!("`{s}` is not a step range like 10..200")),
        }
    }
}

const KEYS: &[KeyRow<CurvesState>] = &[
    KeyRow::note("↑↓", "choose the metric"),
    KeyRow::new(
        "e",
        "EMA smoothing: off, 0.6, 0.8, 0.9, 0.97",
        &[
            (KeyCode::Char('e'), Action::CycleSmoothing),
            (KeyCode::Char('s'), Action::CycleSmoothing),
        ],
    ),
    KeyRow::new(
        "b",
        "min/max band on / off",
        &[(KeyCode::Char('b'), Action::ToggleBand)],
    ),
    KeyRow::new(
        "+ - ← →",
        "zoom and pan the step range",
        &[
            (KeyCode::Char('+'), Action::ZoomIn),
            (KeyCode::Char('='), Action::ZoomIn),
            (KeyCode::Char('-'), Action::ZoomOut),
        ],
    ),
    KeyRow::new(
        "z",
        "zoom to steps A..B",
        &[(
            KeyCode::Char('z'),
            Action::StartInput(InputTarget::ZoomRange),
        )],
    ),
    KeyRow::new(
        "0",
        "show every step",
        &[(KeyCode::Char('0'), Action::ZoomReset)],
    ),
    KeyRow::new(
        "f",
        "freeze: new data do not move the view",
        &[(KeyCode::Char('f'), Action::ToggleFreeze)],
    ),
    KeyRow::new(
        "m",
        "per-constraint pass rates (small multiples)",
        &[(KeyCode::Char('m'), Action::ToggleSmallMultiples)],
    ),
    KeyRow::new(
        "P",
        "save the shown curves as an SVG under the home's plots/",
        &[(KeyCode::Char('P'), Action::SavePlot)],
    ),
    KeyRow::note("Esc", "back to the training run's curves"),
    KeyRow::note(
        "┊GRPO",
        "where GRPO begins after the warm-up (runs with a warm-up)",
    ),
];

impl Component for CurvesState {
    const KEYS: &'static [KeyRow<Self>] = KEYS;

    fn update(&mut self, a: Action, sh: &Shared<'_>, fx: &mut Effects) {
        if let Some(d) = a.nav_delta() {
            self.metrics.move_by(d);
            return;
        }
        match a {
            Action::CycleSmoothing => self.smoothing = (self.smoothing + 1) % SMOOTHING.len(),
            Action::ToggleBand => self.band = !self.band,
            Action::ToggleFreeze => {
                self.frozen = match self.frozen {
                    Some(_) => None,
                    None => self.visible(),
                };
            }
            Action::ToggleSmallMultiples => self.small_multiples = !self.small_multiples,
            Action::ZoomIn => self.zoom(true),
            Action::ZoomOut => self.zoom(false),
            Action::ZoomReset => self.zoom = None,
            Action::Left => self.pan(-1),
            Action::Right => self.pan(1),
            Action::Back => self.back(),
            Action::StartInput(InputTarget::ZoomRange) => {
                let text = self.visible().map(|(a, b)| format!("{a}..{b}"));
                fx.input(InputTarget::ZoomRange, text.unwrap_or_default());
            }
            Action::Submit(InputTarget::ZoomRange, s) => self.zoom_to(&s, fx),
            Action::SavePlot => self.save_plot(sh, fx),
            Action::PlotWritten(path) => {
                fx.message(format!("curves written to {}", path.display()))
            }
            Action::ShowRunCurves { run, warmup } => self.show_run(run, warmup, fx),
            Action::RunLoaded { run, metrics, .. } => self.run_loaded(&run, &metrics),
            _ => {}
        }
    }

    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        let c = self;
        let keys = &c.metrics;
        let source = match &c.other {
            Some((id, _)) => format!("run {id}"),
            None => sh
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
            Some(c.metrics.index()),
            true,
            &|i| {
                let k = &keys[i];
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
        let grpo = c.grpo_start(sh.train.warmup_steps);
        if c.small_multiples {
            render_small_multiples(c, f, chart, lo, hi, grpo, &status);
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
    let (ymin, ymax) = axis_range(ymin, ymax);
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
    c: &CurvesState,
    f: &mut Frame,
    area: Rect,
    lo: u64,
    hi: u64,
    grpo: Option<u64>,
    status: &str,
) {
    let shown = c.shown();
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
                alpha: c.alpha(),
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
