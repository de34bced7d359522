//! Curves: a dashboard of the key metrics at a glance (W&B's and TensorBoard's default), any
//! metric full size with EMA smoothing and a min/max band, small multiples of the
//! per-constraint pass rates, zoom to a step range and a freeze toggle. Stored runs can be
//! overlaid on the shown one (Replay's `o`), each in its own colour with a legend. The data
//! are bounded series (a fixed number of buckets per metric); a metric is plotted only at the
//! steps that have it (warm-up steps have no reward). In a run with a warm-up, every chart
//! marks the step where GRPO begins with a column of `┊` labelled `GRPO`.

mod draw;

use std::collections::BTreeMap;

use crossterm::event::KeyCode;
use raif_store::Metrics;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::Frame;

use crate::action::{Action, InputTarget, Request, View};
use crate::component::{Component, Effects, KeyRow, Shared};
use crate::select::SelectList;
use crate::series::Series;
use crate::state::{parse_range_f64, PhaseBounds};

/// Smoothing weights offered by Curves.
pub const SMOOTHING: [f64; 5] = [0.0, 0.6, 0.8, 0.9, 0.97];

/// The dashboard's charts, in reading order (those no shown run has are left out).
pub const DASHBOARD: [&str; 10] = [
    "reward",
    "answer_score",
    "format_score",
    "kl",
    "entropy",
    "completions/mean_length",
    "completions/forced_ratio",
    "format/self_closed_ratio",
    "eval/instruction_strict",
    "eval/format_ok",
];

/// Runs overlaid at most (the colours stay distinct).
pub const MAX_OVERLAYS: usize = 5;

/// Line colours: the shown run first, then the overlaid runs in the order they were added.
pub const RUN_COLOURS: [Color; MAX_OVERLAYS + 1] = [
    Color::Cyan,
    Color::Rgb(255, 127, 14),
    Color::Rgb(80, 200, 80),
    Color::Rgb(230, 90, 200),
    Color::Rgb(240, 230, 90),
    Color::Rgb(150, 130, 255),
];

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

/// What Curves shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CurvesLayout {
    /// A grid of [`DASHBOARD`]'s metrics.
    #[default]
    Dashboard,
    /// The metric list and the selected metric full size.
    Single,
    /// Every per-constraint pass rate, small.
    PerConstraint,
}

/// A stored run drawn over the shown one.
#[derive(Clone, Debug)]
pub struct Overlay {
    pub id: String,
    /// Empty until its metrics arrive (`RunLoaded`).
    pub series: BTreeMap<String, Series>,
}

/// One run as drawn: its legend label, its metrics and its colour.
pub struct Drawn<'a> {
    pub label: String,
    pub series: &'a BTreeMap<String, Series>,
    pub colour: Color,
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
    /// Stored runs drawn over the shown one, in the order they were added.
    pub overlays: Vec<Overlay>,
    /// The shown runs' metric names (per-constraint pass rates last), one selected. Rebuilt
    /// as metrics arrive, keeping the cursor.
    pub metrics: SelectList<String>,
    pub smoothing: usize,
    pub band: bool,
    pub frozen: Option<(u64, u64)>,
    pub zoom: Option<(u64, u64)>,
    pub layout: CurvesLayout,
    /// The dashboard's selected chart (an index into [`CurvesState::dashboard_keys`]).
    pub tile: usize,
}

impl Default for CurvesState {
    fn default() -> Self {
        CurvesState {
            live: BTreeMap::new(),
            live_phases: PhaseBounds::default(),
            other: None,
            other_warmup: 0,
            other_phases: PhaseBounds::default(),
            overlays: Vec::new(),
            metrics: SelectList::default(),
            smoothing: 1,
            band: true,
            frozen: None,
            zoom: None,
            layout: CurvesLayout::default(),
            tile: 0,
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
    /// The shown run's id: the stored run opened from Replay, else the live run.
    fn shown_id(&self, live: Option<&str>) -> Option<String> {
        match &self.other {
            Some((id, _)) => Some(id.clone()),
            None => live.map(str::to_string),
        }
    }
    /// Every run drawn, the shown one first (left out when it has nothing and runs are
    /// overlaid), each with its colour and legend label.
    pub fn drawn(&self, live: Option<&str>) -> Vec<Drawn<'_>> {
        let mut out = Vec::new();
        if !self.shown().is_empty() || self.overlays.is_empty() {
            let label = match (&self.other, live) {
                (Some((id, _)), _) => id.clone(),
                (None, Some(id)) => format!("{id} (live)"),
                (None, None) => "no run".into(),
            };
            out.push(Drawn {
                label,
                series: self.shown(),
                colour: RUN_COLOURS[0],
            });
        }
        for (i, o) in self.overlays.iter().enumerate() {
            out.push(Drawn {
                label: o.id.clone(),
                series: &o.series,
                colour: RUN_COLOURS[(i + 1) % RUN_COLOURS.len()],
            });
        }
        out
    }
    /// Every metric, per-constraint pass rates last.
    pub fn keys(&self) -> Vec<&String> {
        self.metrics.iter().collect()
    }
    pub fn selected_key(&self) -> Option<&String> {
        self.metrics.selected()
    }
    /// The dashboard's metrics that the shown or an overlaid run has.
    pub fn dashboard_keys(&self) -> Vec<&'static str> {
        DASHBOARD
            .into_iter()
            .filter(|k| {
                self.shown().contains_key(*k)
                    || self.overlays.iter().any(|o| o.series.contains_key(*k))
            })
            .collect()
    }
    /// The dashboard's selected metric.
    pub fn selected_tile(&self) -> Option<&'static str> {
        let keys = self.dashboard_keys();
        keys.get(self.tile.min(keys.len().saturating_sub(1)))
            .copied()
    }
    /// The steps all shown data covers (overlaid runs included).
    pub fn full_range(&self) -> Option<(u64, u64)> {
        std::iter::once(self.shown())
            .chain(self.overlays.iter().map(|o| &o.series))
            .flat_map(|m| m.values())
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
    /// Whether `run`'s metrics are wanted here (shown or overlaid).
    pub fn wants(&self, run: &str) -> bool {
        self.other.as_ref().is_some_and(|(id, _)| id == run)
            || self.overlays.iter().any(|o| o.id == run)
    }

    /// The metric names of the shown runs, per-constraint pass rates last.
    fn names(&self) -> Vec<String> {
        let mut all: std::collections::BTreeSet<&String> = self.shown().keys().collect();
        for o in &self.overlays {
            all.extend(o.series.keys());
        }
        let (mut main, mut per): (Vec<&String>, Vec<&String>) =
            all.into_iter().partition(|k| !is_per_constraint(k));
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
        self.overlays.retain(|o| o.id != run);
        self.other = Some((run, BTreeMap::new()));
        self.other_warmup = warmup;
        self.other_phases = PhaseBounds::default();
        self.zoom = None;
        self.frozen = None;
        self.metrics.reset(self.names());
        fx.goto(View::Curves);
    }

    /// Replay's `o`: draw a stored run over the shown one, or stop drawing it.
    fn toggle_overlay(&mut self, run: String, fx: &mut Effects) {
        if let Some(i) = self.overlays.iter().position(|o| o.id == run) {
            self.overlays.remove(i);
            self.metrics.replace_items(self.names());
            fx.message(format!("{run} is no longer overlaid on Curves"));
            return;
        }
        if self.other.as_ref().is_some_and(|(id, _)| *id == run) {
            fx.message(format!("{run} is the run Curves shows"));
            return;
        }
        if self.overlays.len() >= MAX_OVERLAYS {
            fx.message(format!(
                "{MAX_OVERLAYS} runs are overlaid already: x in Curves removes them"
            ));
            return;
        }
        self.overlays.push(Overlay {
            id: run.clone(),
            series: BTreeMap::new(),
        });
        fx.request(Request::LoadRun(run.clone()));
        fx.message(format!(
            "{run} overlaid on Curves ({} run{} overlaid; o again removes it)",
            self.overlays.len(),
            if self.overlays.len() == 1 { "" } else { "s" }
        ));
    }

    /// A stored run's metrics, if it is shown or overlaid.
    fn run_loaded(&mut self, run: &str, metrics: &[(u64, Metrics)]) {
        if let Some((id, series)) = &mut self.other {
            if id == run {
                series.clear();
                self.other_phases = PhaseBounds::default();
                for (s, m) in metrics {
                    add_metrics(series, &mut self.other_phases, *s, m);
                }
            }
        }
        for o in self.overlays.iter_mut().filter(|o| o.id == run) {
            o.series.clear();
            let mut phases = PhaseBounds::default();
            for (s, m) in metrics {
                add_metrics(&mut o.series, &mut phases, *s, m);
            }
        }
        self.metrics.replace_items(self.names());
    }

    /// Esc: the whole range again, else the dashboard, else the training run's curves.
    fn back(&mut self) {
        if self.zoom.is_some() {
            self.zoom = None;
        } else if self.layout != CurvesLayout::Dashboard {
            self.layout = CurvesLayout::Dashboard;
        } else if self.other.is_some() {
            self.other = None;
            self.metrics.reset(self.names());
        }
    }

    /// Enter on the dashboard: its selected chart full size.
    fn open_tile(&mut self) {
        if let Some(k) = self.selected_tile() {
            self.metrics.select_where(|m| m == k);
            self.layout = CurvesLayout::Single;
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

    /// The metrics `P` draws: the dashboard's, the selected one, or every per-constraint
    /// pass rate, as shown.
    pub fn plot_metrics(&self) -> Vec<String> {
        match self.layout {
            CurvesLayout::Dashboard => self
                .dashboard_keys()
                .into_iter()
                .map(str::to_string)
                .collect(),
            CurvesLayout::Single => self.selected_key().cloned().into_iter().collect(),
            CurvesLayout::PerConstraint => self
                .metrics
                .iter()
                .filter(|k| is_per_constraint(k))
                .cloned()
                .collect(),
        }
    }

    /// `P`: what is shown, every run drawn, as a picture drawn by the worker from the store.
    fn save_plot(&self, sh: &Shared<'_>, fx: &mut Effects) {
        let mut runs: Vec<String> = Vec::new();
        if !self.shown().is_empty() {
            runs.extend(self.shown_id(sh.train.run_id.as_deref()));
        }
        runs.extend(self.overlays.iter().map(|o| o.id.clone()));
        if runs.is_empty() {
            fx.message("no run to draw: start one, or open one from Replay");
            return;
        }
        let metrics = self.plot_metrics();
        if metrics.is_empty() {
            fx.message("no metric to draw yet");
            return;
        }
        fx.request(Request::Plot {
            runs,
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
    KeyRow::note("↑↓", "choose the chart (dashboard) or the metric"),
    KeyRow::note("Enter", "the dashboard's chart full size"),
    KeyRow::new(
        "d",
        "dashboard / one metric full size",
        &[(KeyCode::Char('d'), Action::ToggleDashboard)],
    ),
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
        "min/max band on / off (one run)",
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
        "x",
        "remove the overlaid runs (Replay's o adds one)",
        &[(KeyCode::Char('x'), Action::ClearOverlays)],
    )
    .when(|c, _| !c.overlays.is_empty()),
    KeyRow::new(
        "P",
        "save the shown charts as an SVG under the home's plots/",
        &[(KeyCode::Char('P'), Action::SavePlot)],
    ),
    KeyRow::note("Esc", "back: all steps, the dashboard, the training run"),
    KeyRow::note(
        "┊GRPO",
        "where GRPO begins after the warm-up (runs with a warm-up)",
    ),
];

impl Component for CurvesState {
    const KEYS: &'static [KeyRow<Self>] = KEYS;

    fn update(&mut self, a: Action, sh: &Shared<'_>, fx: &mut Effects) {
        if let Some(d) = a.nav_delta() {
            if self.layout == CurvesLayout::Dashboard {
                let n = self.dashboard_keys().len() as i64;
                self.tile = (self.tile as i64 + d).clamp(0, (n - 1).max(0)) as usize;
            } else {
                self.metrics.move_by(d);
            }
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
            Action::ToggleSmallMultiples => {
                self.layout = match self.layout {
                    CurvesLayout::PerConstraint => CurvesLayout::Single,
                    _ => CurvesLayout::PerConstraint,
                }
            }
            Action::ToggleDashboard => {
                self.layout = match self.layout {
                    CurvesLayout::Dashboard => CurvesLayout::Single,
                    _ => CurvesLayout::Dashboard,
                }
            }
            Action::Enter if self.layout == CurvesLayout::Dashboard => self.open_tile(),
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
            Action::OverlayRun(run) => self.toggle_overlay(run, fx),
            Action::ClearOverlays => {
                self.overlays.clear();
                self.metrics.replace_items(self.names());
            }
            Action::RunLoaded { run, metrics, .. } => self.run_loaded(&run, &metrics),
            _ => {}
        }
    }

    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        draw::render(self, sh, f, area);
    }
}
