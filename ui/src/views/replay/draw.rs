//! Replay's drawing: breadcrumbs and filters, the list of the current level, and the run's
//! details or the selected rollout beside it.

use raif_store::{Rollout, RunInfo};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::state::{ReplayLevel, ReplayState, SCAN_LIMIT};
use crate::component::Shared;
use crate::views::widgets::{self, dim, signed, DetailOpts};

/// Draw Replay: where it is, then the list of its level beside the run or the rollout.
pub fn render(r: &ReplayState, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
    let [crumbs, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(3)]).areas(area);
    render_crumbs(r, f, crumbs);
    if r.runs.is_empty() {
        let lines = vec![
            Line::raw(""),
            Line::styled("  No runs in the store yet.", widgets::bold()),
            Line::raw("  Start one from Launch (1), or with `raif train`."),
        ];
        f.render_widget(Paragraph::new(lines), body);
        return;
    }
    let list_w = if body.width >= 140 {
        body.width * 2 / 5
    } else {
        body.width / 2
    };
    let [list, detail] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(10)]).areas(body);
    let loading = if r.loading { " loading…" } else { "" };
    let lw = list_w.saturating_sub(4) as usize;
    let title = |s: String| Line::styled(s, widgets::title_style());
    match r.level {
        ReplayLevel::Runs => {
            let t = title(format!(" Runs · {} ", r.runs.len()));
            widgets::render_select(f, list, t, &r.runs, &run_row);
        }
        ReplayLevel::Steps => {
            let t = title(format!(" Steps · {}{loading} ", r.steps.len()));
            widgets::render_select(f, list, t, &r.steps, &|&s| step_row(r, s));
        }
        ReplayLevel::Prompts => {
            let step = r.loaded_step.unwrap_or(0);
            let t = title(format!(
                " Step {step} · {} prompts{loading} ",
                r.prompts.len()
            ));
            widgets::render_select(f, list, t, &r.prompts, &|&p| prompt_row(r, p, lw));
        }
        ReplayLevel::Rollouts => {
            let rs = r.prompt_rollouts();
            let p = rs.first().map(|x| x.prompt_index).unwrap_or(0);
            let t = title(format!(
                " Step {} · prompt {p} · {} samples ",
                r.loaded_step.unwrap_or(0),
                rs.len()
            ));
            let row = |i: usize| widgets::rollout_row(rs[i], false);
            let sel = Some(r.samples.index());
            widgets::render_list(f, list, t, rs.len(), sel, true, &row);
        }
        ReplayLevel::Results => {
            let more = if r.truncated {
                format!(" (first {SCAN_LIMIT})")
            } else {
                String::new()
            };
            let t = title(format!(" Matches · {}{more}{loading} ", r.results.len()));
            let row = |x: &Rollout| widgets::rollout_row(x, true);
            widgets::render_select(f, list, t, &r.results, &row);
        }
        ReplayLevel::Evolution => {
            let t = title(format!(
                " Evolution of {} · {} answers{loading} ",
                widgets::truncate(&r.evo_prompt, 24),
                r.evolution.len()
            ));
            widgets::render_select(f, list, t, &r.evolution, &|x| evolution_row(x, lw));
        }
    }
    match r.level {
        ReplayLevel::Runs | ReplayLevel::Steps => render_run_info(r, f, detail),
        _ => render_detail(r, sh, f, detail),
    }
}

fn run_row(x: &RunInfo) -> Line<'static> {
    let st = match x.status.name() {
        "running" => Style::default().fg(Color::Green),
        "failed" => Style::default().fg(Color::Red),
        "paused" | "stopped" => Style::default().fg(Color::Yellow),
        _ => dim(),
    };
    Line::from(vec![
        Span::raw(format!("{:<22} ", widgets::truncate(&x.id, 22))),
        Span::styled(format!("{:<9}", x.status.name()), st),
        Span::raw(format!("{:<6}", widgets::truncate(&x.preset, 5))),
        Span::styled(
            x.last_step
                .map(|s| format!("{s} steps"))
                .unwrap_or_else(|| "no steps".into()),
            dim(),
        ),
    ])
}

fn step_row(r: &ReplayState, s: u64) -> Line<'static> {
    let mut spans = vec![Span::raw(format!("step {s:<6}"))];
    if let Some(v) = r.step_rewards.get(&s) {
        spans.push(Span::styled(
            format!("reward {}", signed(*v)),
            widgets::reward_style(*v),
        ));
    } else if let Some(l) = r.step_phase(s).filter(|l| !l.starts_with("GRPO")) {
        // The last warm-up step holds the held-out evaluation's answers.
        spans.push(Span::styled(l, widgets::run_phase_style("warm-up")));
    }
    Line::from(spans)
}

/// A prompt of the loaded step: its group's mean reward, how many were kept, its text.
fn prompt_row(r: &ReplayState, p: u32, lw: usize) -> Line<'static> {
    let g: Vec<_> = r
        .step_rollouts
        .iter()
        .filter(|x| x.prompt_index == p)
        .collect();
    let mean = g.iter().map(|x| x.reward).sum::<f64>() / g.len().max(1) as f64;
    let kept = g.iter().filter(|x| x.kept).count();
    let text = g
        .first()
        .map(|x| widgets::snippet(&x.prompt, lw.saturating_sub(26)))
        .unwrap_or_default();
    Line::from(vec![
        Span::raw(format!("p{p:<3}")),
        Span::styled(format!("r{} ", signed(mean)), widgets::reward_style(mean)),
        Span::styled(format!("kept {kept}/{} ", g.len()), dim()),
        Span::raw(text),
    ])
}

/// An answer of the evolution: the rollout's row and the answer's start.
fn evolution_row(x: &Rollout, lw: usize) -> Line<'static> {
    let mut l = widgets::rollout_row(x, true);
    let used: usize = l.width();
    let ans = x.answer.as_deref().unwrap_or(&x.response);
    l.spans.push(Span::styled(
        format!(" {}", widgets::snippet(ans, lw.saturating_sub(used + 2))),
        dim(),
    ));
    l
}

fn render_crumbs(r: &ReplayState, f: &mut Frame, area: Rect) {
    let mut parts = vec!["runs".to_string()];
    if r.level != ReplayLevel::Runs {
        if let Some(run) = r.run() {
            parts.push(run.id.clone());
        }
    }
    // The step, and where it sits in a run with a warm-up (`step 3 · GRPO 1/3`).
    let step = |s: u64| match r.step_phase(s) {
        Some(l) => format!("step {s} · {l}"),
        None => format!("step {s}"),
    };
    match r.level {
        ReplayLevel::Prompts => parts.push(step(r.loaded_step.unwrap_or(0))),
        ReplayLevel::Rollouts => {
            parts.push(step(r.loaded_step.unwrap_or(0)));
            if let Some(p) = r.prompts.selected() {
                parts.push(format!("prompt {p}"));
            }
        }
        ReplayLevel::Results => parts.push("search".into()),
        ReplayLevel::Evolution => parts.push(format!("evolution of {}", r.evo_prompt)),
        _ => {}
    }
    let f_ = &r.filter;
    let mut filters = Vec::new();
    if let Some(c) = &f_.failed_constraint {
        filters.push(format!("failed={c}"));
    }
    if f_.reward_min.is_some() || f_.reward_max.is_some() {
        filters.push(format!(
            "reward={}..{}",
            f_.reward_min.map(|x| x.to_string()).unwrap_or_default(),
            f_.reward_max.map(|x| x.to_string()).unwrap_or_default()
        ));
    }
    if let Some(k) = f_.kept {
        filters.push(if k { "kept".into() } else { "dropped".into() });
    }
    if let Some(n) = f_.no_think {
        filters.push(if n { "no-think".into() } else { "think".into() });
    }
    if let Some(t) = &f_.text {
        filters.push(format!("text=\"{t}\""));
    }
    let lines = vec![
        Line::styled(format!(" {}", parts.join(" › ")), widgets::bold()),
        if filters.is_empty() {
            Line::styled(
                " filters: none (/ text · c constraint · w reward · K kept · n no-think)",
                dim(),
            )
        } else {
            Line::from(vec![
                Span::styled(" filters: ", dim()),
                Span::styled(filters.join(" · "), Style::default().fg(Color::Yellow)),
                Span::styled("  (C clears)", dim()),
            ])
        },
    ];
    f.render_widget(Paragraph::new(lines), area);
}

fn render_run_info(r: &ReplayState, f: &mut Frame, area: Rect) {
    let Some(run) = r.run() else { return };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("run      ", dim()),
            Span::styled(run.id.clone(), widgets::bold()),
        ]),
        Line::from(vec![
            Span::styled("status   ", dim()),
            Span::raw(run.status.to_string()),
        ]),
        Line::from(vec![
            Span::styled("model    ", dim()),
            Span::raw(run.model.clone()),
        ]),
        Line::from(vec![
            Span::styled("dataset  ", dim()),
            Span::raw(run.dataset.clone()),
        ]),
        Line::from(vec![
            Span::styled("preset   ", dim()),
            Span::raw(run.preset.clone()),
        ]),
        Line::from(vec![
            Span::styled("source   ", dim()),
            Span::raw(run.source.clone()),
        ]),
        Line::from(vec![
            Span::styled("steps    ", dim()),
            Span::raw(
                run.last_step
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "none committed".into()),
            ),
        ]),
        Line::from(vec![
            Span::styled("created  ", dim()),
            Span::raw(created_text(run.created_unix)),
        ]),
    ];
    if let Some((warmup, total)) = r.run_phases().filter(|p| p.0 > 0) {
        let mut spans = vec![
            Span::styled("phases   ", dim()),
            Span::styled(
                format!("warm-up 1–{warmup}"),
                widgets::run_phase_style("warm-up"),
            ),
            Span::styled(" (behaviour cloning, no rollouts)", dim()),
        ];
        if total > warmup {
            spans.push(Span::styled(" · ", dim()));
            spans.push(Span::styled(
                format!("GRPO {}–{total}", warmup + 1),
                widgets::run_phase_style("GRPO"),
            ));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    if let Some(t) = run.config.get("train") {
        let g = |k: &str| {
            t.get(k)
                .map(|v| v.to_string())
                .unwrap_or_else(|| "?".into())
        };
        lines.push(Line::styled(
            format!(
                "prompts/step {} · G {} · lr {} · seed {}",
                g("prompts_per_step"),
                g("group_size"),
                g("learning_rate"),
                g("seed")
            ),
            dim(),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Enter: steps · v: curves · / c w K n: search the whole run",
        dim(),
    ));
    widgets::render_text(
        f,
        area,
        Line::styled(" Run ", widgets::title_style()),
        lines,
        0,
    );
}

fn render_detail(r: &ReplayState, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
    match r.selected_rollout() {
        Some(x) => {
            let opts = DetailOpts {
                reasoning: r.show_reasoning,
                breakdown: true,
                prompt_lines: if area.height > 30 { 8 } else { 3 },
            };
            widgets::render_text(
                f,
                area,
                Line::styled(" Rollout ", widgets::title_style()),
                widgets::rollout_detail(x, opts),
                sh.detail_scroll,
            );
        }
        None => widgets::render_text(
            f,
            area,
            Line::styled(" Rollout ", widgets::title_style()),
            vec![Line::styled(
                if r.loading {
                    "loading…"
                } else {
                    "nothing selected"
                },
                dim(),
            )],
            0,
        ),
    }
}

/// A run's creation time as `raif runs list` prints it, UTC (`2026-12-07 19:43:41 UTC`).
fn created_text(unix: u64) -> String {
    raif_store::report::iso8601(unix)
        .replacen('T', " ", 1)
        .replace('Z', " UTC")
}
