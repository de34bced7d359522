//! Replay: runs → steps → prompts → rollouts from the store (finished, crashed and running
//! runs alike), filters over a whole run, and one prompt's answers across steps.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::widgets::{self, dim, signed, DetailOpts};
use super::Component;
use crate::action::{Action, InputTarget};
use crate::app::{App, ReplayLevel, SCAN_LIMIT};

pub struct ReplayView;

impl Component for ReplayView {
    fn key(&self, app: &App, k: KeyEvent) -> Option<Action> {
        let on_rollout = matches!(
            app.replay.level,
            ReplayLevel::Rollouts
                | ReplayLevel::Results
                | ReplayLevel::Evolution
                | ReplayLevel::Prompts
        );
        Some(match k.code {
            KeyCode::Char('/') => Action::StartInput(InputTarget::Search),
            KeyCode::Char('c') => Action::StartInput(InputTarget::FailedConstraint),
            KeyCode::Char('w') => Action::StartInput(InputTarget::RewardRange),
            KeyCode::Char('K') => Action::CycleKeptFilter,
            KeyCode::Char('n') => Action::CycleNoThinkFilter,
            KeyCode::Char('C') => Action::ClearFilters,
            KeyCode::Char('e') if on_rollout => Action::OpenEvolution,
            KeyCode::Char('g') if on_rollout => Action::OpenGroup,
            KeyCode::Char('t') if on_rollout => Action::OpenTokens,
            KeyCode::Char('r') => Action::ToggleReasoning,
            KeyCode::Char('R') => Action::Refresh,
            KeyCode::Char('v') => Action::OpenRunCurves,
            KeyCode::PageUp if on_rollout => Action::ScrollDetail(-10),
            KeyCode::PageDown if on_rollout => Action::ScrollDetail(10),
            _ => return None,
        })
    }

    fn help(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "Enter →, Esc ←",
                "into runs → steps → prompts → rollouts, and back",
            ),
            ("/", "search text (prompt, response, reasoning, answer)"),
            ("c", "filter: a failed constraint id"),
            ("w", "filter: reward range MIN..MAX"),
            ("K", "filter: kept / dropped / any"),
            ("n", "filter: no-think / think / any"),
            ("C", "clear the filters"),
            ("e", "evolution of this prompt across steps"),
            ("g, t", "group view, token view"),
            ("r", "fold / unfold the reasoning"),
            ("v", "curves of this run"),
            ("R", "reload from the store"),
        ]
    }

    fn render(&self, app: &App, f: &mut Frame, area: Rect) {
        let r = &app.replay;
        let [crumbs, body] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(3)]).areas(area);
        render_crumbs(app, f, crumbs);
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
        match r.level {
            ReplayLevel::Runs => {
                widgets::render_list(
                    f,
                    list,
                    Line::styled(format!(" Runs · {} ", r.runs.len()), widgets::title_style()),
                    r.runs.len(),
                    Some(r.run_sel),
                    true,
                    &|i| {
                        let x = &r.runs[i];
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
                    },
                );
                render_run_info(app, f, detail);
            }
            ReplayLevel::Steps => {
                let title = format!(" Steps · {}{loading} ", r.steps.len());
                widgets::render_list(
                    f,
                    list,
                    Line::styled(title, widgets::title_style()),
                    r.steps.len(),
                    Some(r.step_sel),
                    true,
                    &|i| {
                        let s = r.steps[i];
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
                    },
                );
                render_run_info(app, f, detail);
            }
            ReplayLevel::Prompts => {
                let prompts = r.prompts();
                let title = format!(
                    " Step {} · {} prompts{loading} ",
                    r.loaded_step.unwrap_or(0),
                    prompts.len()
                );
                widgets::render_list(
                    f,
                    list,
                    Line::styled(title, widgets::title_style()),
                    prompts.len(),
                    Some(r.prompt_sel),
                    true,
                    &|i| {
                        let p = prompts[i];
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
                            Span::styled(
                                format!("r{} ", signed(mean)),
                                widgets::reward_style(mean),
                            ),
                            Span::styled(format!("kept {kept}/{} ", g.len()), dim()),
                            Span::raw(text),
                        ])
                    },
                );
                render_detail(app, f, detail);
            }
            ReplayLevel::Rollouts => {
                let rs = r.prompt_rollouts();
                let p = rs.first().map(|x| x.prompt_index).unwrap_or(0);
                let title = format!(
                    " Step {} · prompt {p} · {} samples ",
                    r.loaded_step.unwrap_or(0),
                    rs.len()
                );
                widgets::render_list(
                    f,
                    list,
                    Line::styled(title, widgets::title_style()),
                    rs.len(),
                    Some(r.roll_sel),
                    true,
                    &|i| widgets::rollout_row(rs[i], false),
                );
                render_detail(app, f, detail);
            }
            ReplayLevel::Results => {
                let more = if r.truncated {
                    format!(" (first {SCAN_LIMIT})")
                } else {
                    String::new()
                };
                let title = format!(" Matches · {}{more}{loading} ", r.results.len());
                widgets::render_list(
                    f,
                    list,
                    Line::styled(title, widgets::title_style()),
                    r.results.len(),
                    Some(r.result_sel),
                    true,
                    &|i| widgets::rollout_row(&r.results[i], true),
                );
                render_detail(app, f, detail);
            }
            ReplayLevel::Evolution => {
                let title = format!(
                    " Evolution of {} · {} answers{loading} ",
                    widgets::truncate(&r.evo_prompt, 24),
                    r.evolution.len()
                );
                widgets::render_list(
                    f,
                    list,
                    Line::styled(title, widgets::title_style()),
                    r.evolution.len(),
                    Some(r.evo_sel),
                    true,
                    &|i| {
                        let x = &r.evolution[i];
                        let mut l = widgets::rollout_row(x, true);
                        let used: usize = l.width();
                        let ans = x.answer.as_deref().unwrap_or(&x.response);
                        l.spans.push(Span::styled(
                            format!(" {}", widgets::snippet(ans, lw.saturating_sub(used + 2))),
                            dim(),
                        ));
                        l
                    },
                );
                render_detail(app, f, detail);
            }
        }
    }
}

fn render_crumbs(app: &App, f: &mut Frame, area: Rect) {
    let r = &app.replay;
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
            if let Some(p) = r.prompts().get(r.prompt_sel) {
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

fn render_run_info(app: &App, f: &mut Frame, area: Rect) {
    let Some(run) = app.replay.run() else { return };
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
            Span::raw(format!("unix {}", run.created_unix)),
        ]),
    ];
    if let Some((warmup, total)) = app.replay.run_phases().filter(|p| p.0 > 0) {
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

fn render_detail(app: &App, f: &mut Frame, area: Rect) {
    let r = &app.replay;
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
                app.detail_scroll,
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
