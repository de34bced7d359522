//! Launch: model, data, preset and the key hyperparameters in a form; start, pause, resume,
//! stop and checkpoint now; fetch the default model when nothing is cached.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::widgets::{self, dim};
use super::Component;
use crate::action::Action;
use crate::app::{App, FieldId};

pub struct LaunchView;

impl Component for LaunchView {
    fn key(&self, app: &App, k: KeyEvent) -> Option<Action> {
        Some(match k.code {
            KeyCode::Char('s') if !app.train.phase.active() => Action::StartRun,
            KeyCode::Char('F') => Action::FetchDefaultModel,
            KeyCode::Char('p') => Action::PauseResume,
            KeyCode::Char('x') => Action::StopRun,
            KeyCode::Char('c') => Action::SaveNow,
            _ => return None,
        })
    }

    fn help(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑↓", "choose a field"),
            ("← →", "cycle the choices"),
            ("Enter", "edit the value (or next choice)"),
            ("s", "start training"),
            ("p", "pause / resume"),
            ("x", "stop (after this step, with a checkpoint)"),
            ("c", "checkpoint now (end of this step)"),
            ("F", "fetch the default model"),
        ]
    }

    fn render(&self, app: &App, f: &mut Frame, area: Rect) {
        let l = &app.launch;
        let [form, side] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Min(20)]).areas(area);
        let mut lines = Vec::new();
        let label_w = 18;
        let value_w = (form.width as usize).saturating_sub(label_w + 6);
        for (i, &id) in l.rows.iter().enumerate() {
            let fl = l.field(id);
            let sel = i == l.rows.index();
            let editing = sel && app.input.is_some();
            let mut value = if editing {
                app.input.as_ref().map(|x| x.1.clone()).unwrap_or_default()
            } else {
                fl.value.clone()
            };
            if id == FieldId::Model {
                if let Some(m) = l
                    .models
                    .iter()
                    .find(|m| m.path.display().to_string() == value)
                {
                    value = format!("{} ({})", m.name, m.kind);
                }
            }
            let arrows = if fl.choices.len() > 1 && !editing {
                "‹ › "
            } else {
                ""
            };
            let st = if sel {
                Style::default()
                    .fg(Color::Black)
                    .bg(Color::Cyan)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            lines.push(Line::from(vec![
                Span::styled(
                    if sel { "▶ " } else { "  " },
                    Style::default().fg(Color::Cyan),
                ),
                Span::styled(
                    format!("{:<label_w$}", fl.name),
                    if sel { widgets::bold() } else { dim() },
                ),
                Span::styled(widgets::truncate(&value, value_w), st),
                Span::styled(format!(" {arrows}"), dim()),
            ]));
        }
        lines.push(Line::raw(""));
        if let Some(fl) = l.selected() {
            lines.push(Line::styled(format!("  {}", fl.help), dim()));
        }
        lines.push(Line::raw(""));
        match l.config() {
            Ok(c) => lines.push(Line::styled(
                format!(
                    "  ready: {} steps × {} prompts × G {} ({} no-think)",
                    c.train.steps,
                    c.train.prompts_per_step,
                    c.train.group_size,
                    c.no_think_per_group()
                ),
                Style::default().fg(Color::Green),
            )),
            Err(e) => lines.push(Line::styled(
                format!("  not ready: {e}"),
                Style::default().fg(Color::Red),
            )),
        }
        let start = if app.train.phase.active() {
            "  a run is training: Space pauses, X stops"
        } else {
            "  s starts training"
        };
        lines.push(Line::styled(start, widgets::bold()));
        f.render_widget(
            Paragraph::new(lines)
                .block(
                    Block::bordered()
                        .title(Line::styled(" New run ", widgets::title_style()))
                        .border_style(Style::default().fg(Color::Cyan)),
                )
                .wrap(Wrap { trim: false }),
            form,
        );

        let [models, control] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Min(5)]).areas(side);
        let mut ml = Vec::new();
        let has_default = l.models.iter().any(|m| m.name.starts_with("default"));
        if l.models.is_empty() {
            ml.push(Line::styled("No model is cached.", widgets::bold()));
        }
        for m in &l.models {
            ml.push(Line::from(vec![
                Span::raw(format!("{} ", m.name)),
                Span::styled(
                    format!("{} · {:.0} MB", m.kind, m.bytes as f64 / 1e6),
                    dim(),
                ),
            ]));
        }
        if !has_default {
            ml.push(Line::raw(""));
            ml.push(Line::styled(
                if l.fetching {
                    "fetching the default model (SmolLM2-135M-Instruct)…"
                } else {
                    "F fetches the default model (SmolLM2-135M-Instruct, ~100 MB)"
                },
                Style::default().fg(Color::Yellow),
            ));
        }
        widgets::render_text(
            f,
            models,
            Line::styled(" Cached models ", widgets::title_style()),
            ml,
            0,
        );

        let t = &app.train;
        let mut cl = vec![Line::from(vec![
            Span::raw("status "),
            Span::styled(t.phase.name().to_string(), widgets::phase_style(&t.phase)),
            Span::raw(
                t.run_id
                    .as_ref()
                    .map(|r| format!(" · {r}"))
                    .unwrap_or_default(),
            ),
        ])];
        if t.phase.active() {
            cl.push(Line::raw(format!(
                "step {} of {} · {} done",
                t.step, t.total_steps, t.steps_done
            )));
            cl.push(Line::styled(
                "p pause/resume · x stop · c checkpoint now",
                dim(),
            ));
        }
        cl.push(Line::raw(""));
        let room = control.height.saturating_sub(2 + cl.len() as u16) as usize;
        let skip = app.log.len().saturating_sub(room);
        for s in app.log.iter().skip(skip) {
            cl.push(Line::styled(s.clone(), dim()));
        }
        widgets::render_text(
            f,
            control,
            Line::styled(" Training ", widgets::title_style()),
            cl,
            0,
        );
    }
}
