//! Drawing Curves: the dashboard's grid, one metric full size beside the metric list, and
//! the per-constraint small multiples. Every chart draws each shown run's series in its
//! colour; one run alone also gets its raw points under the EMA and a min/max band.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use super::{is_per_constraint, CurvesLayout, CurvesState, Drawn};
use crate::component::Shared;
use crate::series::{axis_range, ema, fmt_value, Series};
use crate::views::widgets::{self, dim};

/// The colour of the GRPO marker; nothing else on a chart has it, so that the column it was
/// drawn in can be found again.
const GRPO_MARK: Color = Color::Rgb(255, 170, 60);

/// Smallest dashboard chart (cells).
const TILE_MIN: (u16, u16) = (24, 5);

/// What a chart shows of its series.
#[derive(Clone, Copy, Debug)]
struct Window {
    lo: u64,
    hi: u64,
    /// The first GRPO step of a run with a warm-up.
    grpo: Option<u64>,
    alpha: f64,
    band: bool,
}

/// One chart: a metric of every drawn run that has it.
struct ChartSpec<'a> {
    title: String,
    /// Dim text after the title (the run and the steps), or nothing.
    status: &'a str,
    lines: Vec<(&'a Series, Color)>,
    /// Axes with labels (full size), else the value range in the bottom border (small).
    axes: bool,
    selected: bool,
}

/// The series of `key` in every drawn run, in its colour.
fn lines_of<'a>(drawn: &'a [Drawn<'a>], key: &str) -> Vec<(&'a Series, Color)> {
    drawn
        .iter()
        .filter_map(|d| d.series.get(key).map(|s| (s, d.colour)))
        .collect()
}

/// The runs as a legend: `run ID` for one, coloured `■ ID` for several.
fn legend(drawn: &[Drawn]) -> Vec<Span<'static>> {
    if let [one] = drawn {
        return vec![Span::styled(format!("run {}", one.label), dim())];
    }
    let mut out = Vec::new();
    for (i, d) in drawn.iter().enumerate() {
        if i > 0 {
            out.push(Span::raw("  "));
        }
        out.push(Span::styled(
            format!("■ {}", d.label),
            Style::default().fg(d.colour).add_modifier(Modifier::BOLD),
        ));
    }
    out
}

pub(super) fn render(c: &CurvesState, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
    let drawn = c.drawn(sh.train.run_id.as_deref());
    if c.metrics.is_empty() {
        let source = drawn
            .first()
            .map(|d| format!("run {}", d.label))
            .unwrap_or_else(|| "no run".into());
        let lines = vec![
            Line::raw(""),
            Line::styled(format!("  No metrics yet ({source})."), widgets::bold()),
            Line::raw("  Metrics appear after the first step of a run; in Replay, press v on a run to see its curves, o to overlay it."),
        ];
        f.render_widget(Paragraph::new(lines), area);
        return;
    }
    let Some((lo, hi)) = c.visible() else { return };
    let mut status = format!("steps {lo}..{hi}");
    if c.alpha() > 0.0 {
        status.push_str(&format!(" · EMA {}", c.alpha()));
    }
    if c.frozen.is_some() {
        status.push_str(" · FROZEN");
    }
    let w = Window {
        lo,
        hi,
        grpo: c.grpo_start(sh.train.warmup_steps),
        alpha: c.alpha(),
        band: c.band && drawn.len() == 1,
    };
    match c.layout {
        CurvesLayout::Dashboard => render_dashboard(c, &drawn, f, area, w, &status),
        CurvesLayout::PerConstraint => render_small_multiples(c, &drawn, f, area, w, &status),
        CurvesLayout::Single => render_single(c, &drawn, f, area, w, &status),
    }
}

/// The metric list and the selected metric full size.
fn render_single(
    c: &CurvesState,
    drawn: &[Drawn],
    f: &mut Frame,
    area: Rect,
    w: Window,
    status: &str,
) {
    let keys = &c.metrics;
    let list_w = (area.width / 4).clamp(24, 40);
    let [list, mut chart] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(20)]).areas(area);
    let first = drawn.first().map(|d| d.series);
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
            let v = first
                .and_then(|m| m.get(k))
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
    let Some(key) = c.selected_key() else { return };
    let status = if drawn.len() > 1 {
        let [head, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(chart);
        let mut l = vec![Span::raw(" ")];
        l.extend(legend(drawn));
        f.render_widget(Paragraph::new(Line::from(l)), head);
        chart = rest;
        format!(" {status}")
    } else {
        let run = drawn.first().map(|d| d.label.as_str()).unwrap_or("no run");
        format!(" run {run} · {status}")
    };
    let spec = ChartSpec {
        title: key.clone(),
        status: &status,
        lines: lines_of(drawn, key),
        axes: true,
        selected: false,
    };
    render_chart(f, chart, &spec, w);
}

/// A line above a grid of charts: what they are, the legend and the steps.
fn grid_header(f: &mut Frame, area: Rect, what: &str, drawn: &[Drawn], status: &str) {
    let mut l = vec![Span::styled(format!(" {what}  "), widgets::title_style())];
    l.extend(legend(drawn));
    l.push(Span::styled(format!(" · {status}"), dim()));
    f.render_widget(Paragraph::new(Line::from(l)), area);
}

/// Columns for `n` charts in `w`×`h` cells, each at least [`TILE_MIN`], nearest to a 3.5:1
/// shape (about 7:4 on screen); `(cols, rows that fit)`.
pub fn grid_shape(n: usize, w: u16, h: u16) -> (usize, usize) {
    let max_cols = (w / TILE_MIN.0).max(1) as usize;
    let max_rows = (h / TILE_MIN.1).max(1) as usize;
    let mut best: Option<(f64, usize)> = None;
    for cols in 1..=max_cols.min(n.max(1)) {
        let rows = n.div_ceil(cols);
        if rows > max_rows {
            continue;
        }
        let shape = (f64::from(w) / cols as f64) / (f64::from(h) / rows as f64);
        let score = (shape / 3.5).ln().abs();
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, cols));
        }
    }
    let cols = best.map_or(max_cols.min(n.max(1)), |b| b.1);
    (cols, max_rows)
}

/// Lay out `n` charts in a grid; the areas of those that fit, in reading order.
fn grid(area: Rect, n: usize) -> Vec<Rect> {
    let (cols, rows_fit) = grid_shape(n, area.width, area.height);
    let shown = n.min(cols * rows_fit);
    let rows = shown.div_ceil(cols).max(1);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    let mut out = Vec::with_capacity(shown);
    for r in row_areas.iter() {
        let cells = Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(*r);
        out.extend(cells.iter().copied());
    }
    out.truncate(shown);
    out
}

/// `… N more (enlarge the terminal)` on the last line of `area`.
fn more_line(f: &mut Frame, area: Rect, more: usize) {
    if more == 0 {
        return;
    }
    let line = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: 1,
        ..area
    };
    f.render_widget(
        Paragraph::new(Line::styled(
            format!(" … {more} more (enlarge the terminal)"),
            dim(),
        )),
        line,
    );
}

/// A grid of small charts under a header line: `charts` are (title, metric) in reading order,
/// `selected` the highlighted metric; `empty` is said when there are none.
#[allow(clippy::too_many_arguments)]
fn render_grid(
    f: &mut Frame,
    area: Rect,
    what: &str,
    drawn: &[Drawn],
    (w, status): (Window, &str),
    charts: &[(String, &str)],
    selected: Option<&str>,
    empty: &str,
) {
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
    grid_header(f, head, what, drawn, status);
    if charts.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled(format!("  {empty}"), dim())),
            body,
        );
        return;
    }
    let cells = grid(body, charts.len());
    for ((title, key), cell) in charts.iter().zip(&cells) {
        let spec = ChartSpec {
            title: title.clone(),
            status: "",
            lines: lines_of(drawn, key),
            axes: false,
            selected: selected == Some(*key),
        };
        render_chart(f, *cell, &spec, Window { band: false, ..w });
    }
    more_line(f, body, charts.len() - cells.len());
}

/// The dashboard: [`super::DASHBOARD`]'s metrics that a drawn run has, small, the selected
/// one highlighted.
fn render_dashboard(
    c: &CurvesState,
    drawn: &[Drawn],
    f: &mut Frame,
    area: Rect,
    w: Window,
    status: &str,
) {
    let charts: Vec<(String, &str)> = c
        .dashboard_keys()
        .into_iter()
        .map(|k| (k.to_string(), k))
        .collect();
    render_grid(
        f,
        area,
        "Dashboard",
        drawn,
        (w, status),
        &charts,
        c.selected_tile(),
        "none of the dashboard's metrics yet (reward, kl, entropy, …): d shows every metric",
    );
}

/// Every per-constraint pass rate, small.
fn render_small_multiples(
    c: &CurvesState,
    drawn: &[Drawn],
    f: &mut Frame,
    area: Rect,
    w: Window,
    status: &str,
) {
    let charts: Vec<(String, &str)> = c
        .metrics
        .iter()
        .filter(|k| is_per_constraint(k))
        .map(|k| {
            let name = k
                .trim_start_matches("eval/")
                .trim_start_matches("rewards/")
                .trim_end_matches("/mean");
            let title = if k.starts_with("eval/") {
                format!("eval {name}")
            } else {
                name.to_string()
            };
            (title, k.as_str())
        })
        .collect();
    render_grid(
        f,
        area,
        "Per-constraint pass rate",
        drawn,
        (w, status),
        &charts,
        None,
        "no per-constraint metrics (rewards/<id>/mean) in this run",
    );
}

/// A braille line through `data` (a dot where it is one point).
fn line(colour: Color, data: &[(f64, f64)]) -> Dataset<'_> {
    let kind = if data.len() == 1 {
        GraphType::Scatter
    } else {
        GraphType::Line
    };
    Dataset::default()
        .marker(Marker::Braille)
        .graph_type(kind)
        .style(Style::default().fg(colour))
        .data(data)
}

/// Points of one run's series in the window: (raw means, EMA, minima, maxima).
type Points = Vec<(f64, f64)>;
fn points(s: &Series, w: &Window) -> (Points, Points, Points, Points) {
    let b = s.window(w.lo, w.hi);
    let raw: Points = b.iter().map(|b| (b.x(), b.mean())).collect();
    let smooth: Points = b
        .iter()
        .map(|b| b.x())
        .zip(ema(&raw.iter().map(|p| p.1).collect::<Vec<_>>(), w.alpha))
        .collect();
    let mins = b.iter().map(|b| (b.x(), b.min)).collect();
    let maxs = b.iter().map(|b| (b.x(), b.max)).collect();
    (raw, smooth, mins, maxs)
}

fn render_chart(f: &mut Frame, area: Rect, spec: &ChartSpec, w: Window) {
    let Window {
        lo,
        hi,
        alpha,
        band,
        ..
    } = w;
    let pts: Vec<(Points, Points, Points, Points)> =
        spec.lines.iter().map(|(s, _)| points(s, &w)).collect();
    let (mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY);
    for (s, _) in &spec.lines {
        for b in s.window(lo, hi) {
            let (l, h) = if band {
                (b.min, b.max)
            } else {
                (b.mean(), b.mean())
            };
            ymin = ymin.min(l);
            ymax = ymax.max(h);
        }
    }
    if !ymin.is_finite() {
        ymin = 0.0;
        ymax = 1.0;
    }
    let (ymin, ymax) = axis_range(ymin, ymax);
    let mut sets = Vec::new();
    // The GRPO marker first, so that the data are drawn over it where they cross it.
    let grpo = w.grpo.filter(|g| (lo..=hi).contains(g));
    let mark: Points = grpo
        .map(|g| vec![(g as f64, ymin), (g as f64, ymax)])
        .unwrap_or_default();
    if grpo.is_some() {
        sets.push(line(GRPO_MARK, &mark));
    }
    let one = spec.lines.len() == 1;
    for ((raw, smooth, mins, maxs), (_, colour)) in pts.iter().zip(&spec.lines) {
        if one && band {
            sets.push(line(Color::Rgb(70, 70, 90), mins));
            sets.push(line(Color::Rgb(70, 70, 90), maxs));
        }
        if alpha > 0.0 {
            if one {
                sets.push(
                    Dataset::default()
                        .marker(Marker::Braille)
                        .graph_type(GraphType::Scatter)
                        .style(Style::default().fg(Color::DarkGray))
                        .data(raw),
                );
            }
            sets.push(line(*colour, smooth));
        } else {
            sets.push(line(*colour, raw));
        }
    }
    let last = spec
        .lines
        .first()
        .and_then(|(s, _)| s.window(lo, hi).last())
        .map(|b| fmt_value(b.last))
        .unwrap_or_else(|| "–".into());
    let mut title = vec![
        Span::styled(format!(" {} ", spec.title), widgets::title_style()),
        Span::raw(format!("{last} ")),
    ];
    if !spec.status.is_empty() {
        title.push(Span::styled(spec.status.to_string(), dim()));
        title.push(Span::raw(" "));
    }
    let border = if spec.selected {
        Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD)
    } else {
        dim()
    };
    let mut block = Block::bordered()
        .title(Line::from(title))
        .border_style(border);
    if !spec.axes {
        block = block.title_bottom(Line::styled(
            format!(" {} … {} ", fmt_value(ymin), fmt_value(ymax)),
            dim(),
        ));
    }
    let (xl, xh) = (lo as f64, (hi as f64).max(lo as f64 + 1.0));
    let mut chart = Chart::new(sets).block(block);
    if spec.axes {
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
