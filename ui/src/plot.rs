//! Curves as pictures (issue #24): `raif runs plot` and the Curves view's `P` key draw the same
//! charts with plotters — one panel per metric, the runs overlaid in their own colours with a
//! legend, Curves' EMA smoothing drawn over the faint raw line, and a dashed line where a
//! run's GRPO steps begin after its warm-up — to SVG or PNG.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::series::{axis_range, ema, fmt_value};

/// One run's curves.
#[derive(Clone, Debug)]
pub struct PlotRun {
    pub id: String,
    /// Committed steps and their metrics, in step order.
    pub steps: Vec<(u64, raif_store::Metrics)>,
    /// Warm-up steps before GRPO (0: none).
    pub warmup: u64,
}

impl PlotRun {
    /// A stored run's metrics and warm-up.
    pub fn load(store: &raif_store::Store, id: &str) -> Result<PlotRun> {
        let info = store
            .run(id)?
            .ok_or_else(|| anyhow!("no run `{id}` in the store (see `raif runs list`)"))?;
        Ok(PlotRun {
            id: id.to_string(),
            steps: store.metrics(id)?,
            warmup: crate::state::run_warmup_steps(&info),
        })
    }
}

/// What to draw.
#[derive(Clone, Debug)]
pub struct PlotOptions {
    /// One panel each, in this order.
    pub metrics: Vec<String>,
    /// EMA weight of the past (0: off), as Curves' smoothing.
    pub smoothing: f64,
    /// Pixels of one panel.
    pub panel: (u32, u32),
}

impl PlotOptions {
    pub fn new(metrics: Vec<String>, smoothing: f64) -> Self {
        PlotOptions {
            metrics,
            smoothing,
            panel: (640, 400),
        }
    }
}

/// Run colours (Tableau 10), in legend order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The text face: embedded, so that a picture looks the same on every machine.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn use_embedded_font() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    if !ok {
        bail!("the embedded font (ui/assets/DejaVuSans.ttf) could not be read");
    }
    Ok(())
}

/// Draws `runs` into `out`: SVG or PNG by its extension.
pub fn plot(runs: &[PlotRun], opts: &PlotOptions, out: &Path) -> Result<()> {
    if runs.is_empty() {
        bail!("nothing to plot: no runs");
    }
    if opts.metrics.is_empty() {
        bail!("nothing to plot: no metrics");
    }
    for m in &opts.metrics {
        if runs.iter().all(|r| points(r, m).is_empty()) {
            bail!(
                "no run has the metric `{m}` (they have: {})",
                metric_names(runs).join(", ")
            );
        }
    }
    use_embedded_font()?;
    let cols = grid_cols(opts.metrics.len());
    let rows = opts.metrics.len().div_ceil(cols);
    let size = (opts.panel.0 * cols as u32, opts.panel.1 * rows as u32);
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let failed = |e: &dyn std::fmt::Display| anyhow!("cannot draw {}: {e}", out.display());
    match ext.as_deref() {
        Some("svg") => {
            let root = SVGBackend::new(out, size).into_drawing_area();
            draw(&root, runs, opts, (rows, cols)).map_err(|e| failed(&e))?;
            root.present().map_err(|e| failed(&e))?;
        }
        Some("png") => {
            let root = BitMapBackend::new(out, size).into_drawing_area();
            draw(&root, runs, opts, (rows, cols)).map_err(|e| failed(&e))?;
            root.present().map_err(|e| failed(&e))?;
        }
        _ => bail!(
            "{}: the picture's file name must end in .svg or .png",
            out.display()
        ),
    }
    Ok(())
}

/// Every metric any of `runs` has, sorted.
pub fn metric_names(runs: &[PlotRun]) -> Vec<String> {
    let mut names: Vec<String> = runs
        .iter()
        .flat_map(|r| r.steps.iter().flat_map(|(_, m)| m.keys().cloned()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Columns of the panel grid: 1, 2 up to four panels, 3 beyond.
fn grid_cols(n: usize) -> usize {
    match n {
        0 | 1 => 1,
        2..=4 => 2,
        _ => 3,
    }
}

/// A run's finite values of `metric`, by step.
fn points(r: &PlotRun, metric: &str) -> Vec<(f64, f64)> {
    r.steps
        .iter()
        .filter_map(|(s, m)| {
            m.get(metric)
                .filter(|v| v.is_finite())
                .map(|&v| (*s as f64, v))
        })
        .collect()
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[PlotRun],
    opts: &PlotOptions,
    grid: (usize, usize),
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    for (metric, area) in opts.metrics.iter().zip(root.split_evenly(grid).iter()) {
        panel(area, metric, runs, opts.smoothing)?;
    }
    Ok(())
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    metric: &str,
    runs: &[PlotRun],
    smoothing: f64,
) -> DrawResult<DB> {
    // (colour index, run, its points)
    type Curve<'a> = (usize, &'a PlotRun, Vec<(f64, f64)>);
    let curves: Vec<Curve> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r, points(r, metric)))
        .filter(|(_, _, p)| !p.is_empty())
        .collect();
    let all = curves.iter().flat_map(|(_, _, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x1 - x0 < 1.0 {
        (x0, x1) = (x0 - 1.0, x1 + 1.0);
    }
    let (y0, y1) = axis_range(y0, y1);
    let mut chart = ChartBuilder::on(area)
        .caption(metric, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| fmt_value(*y))
        .light_line_style(BLACK.mix(0.05))
        .bold_line_style(BLACK.mix(0.12))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()?;
    for (i, r, pts) in &curves {
        let c = PALETTE[i % PALETTE.len()];
        if smoothing > 0.0 {
            chart.draw_series(LineSeries::new(pts.iter().copied(), c.mix(0.25)))?;
        }
        let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let line = pts.iter().map(|p| p.0).zip(ema(&ys, smoothing));
        chart
            .draw_series(LineSeries::new(line, c.stroke_width(2)))?
            .label(r.id.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        if pts.len() == 1 {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        }
        let w = r.warmup as f64 + 0.5;
        if r.warmup > 0 && (x0..=x1).contains(&w) {
            chart.draw_series(DashedLineSeries::new(
                [(w, y0), (w, y1)],
                6,
                4,
                c.mix(0.7).stroke_width(1),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                "GRPO →",
                (w, y1),
                ("sans-serif", 12).into_font().color(&c.mix(0.9)),
            )))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 13))
        .draw()?;
    Ok(())
}
