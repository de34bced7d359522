//! Group: all G samples of one prompt with reward, advantage, keep and no-think flags, the
//! closing tags budget forcing injected, and length; sortable; jump between the prompts of
//! the step.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::widgets::{self, dim, signed, DetailOpts};
use super::Component;
use crate::action::Action;
use crate::app::App;

pub struct GroupView;

impl Component for GroupView {
    fn key(&self, _app: &App, k: KeyEvent) -> Option<Action> {
        Some(match k.code {
            KeyCode::Char('o') | KeyCode::Char('s') => Action::CycleSort,
            KeyCode::Char('n') => Action::NextPrompt,
            KeyCode::Char('N') | KeyCode::Char('p') => Action::PrevPrompt,
            KeyCode::Char('r') => Action::ToggleReasoning,
            KeyCode::Char('t') => Action::OpenTokens,
            KeyCode::PageUp => Action::ScrollDetail(-10),
            KeyCode::PageDown => Action::ScrollDetail(10),
            _ => return None,
        })
    }

    fn help(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑↓", "select a sample"),
            ("o", "sort: sample, reward, advantage, length"),
            ("n / p, → ←", "next / previous prompt of the step"),
            ("r", "fold / unfold the reasoning"),
            ("t", "token view"),
            ("PgUp PgDn", "scroll the detail"),
            ("Esc", "back"),
            (
                "⇥think ⇥answer ⇥both",
                "mode: budget forcing injected </think>, </answer> or both",
            ),
        ]
    }

    fn render(&self, app: &App, f: &mut Frame, area: Rect) {
        let g = &app.group;
        let members = g.members();
        if members.is_empty() {
            let lines = vec![
                Line::raw(""),
                Line::styled(
                    "  No group selected: press g on a rollout in Live or Replay.",
                    widgets::bold(),
                ),
            ];
            f.render_widget(Paragraph::new(lines), area);
            return;
        }
        let prompts = g.prompt_indices();
        let pos = prompts
            .iter()
            .position(|p| *p == g.prompt)
            .map_or(0, |i| i + 1);
        let first = members[0];
        let [head, table, detail] = Layout::vertical([
            Constraint::Length(4),
            Constraint::Length((members.len() as u16 + 3).min(area.height / 2)),
            Constraint::Min(3),
        ])
        .areas(area);
        let head_lines = vec![
            Line::from(vec![
                Span::styled(
                    format!(
                        "Step {} · prompt {} ({pos} of {}) · ",
                        g.step,
                        g.prompt,
                        prompts.len()
                    ),
                    widgets::bold(),
                ),
                Span::styled(first.prompt_id.clone(), dim()),
                Span::styled(format!(" · sorted by {}", g.sort.name()), dim()),
            ]),
            Line::raw(widgets::truncate(
                &first.prompt.trim().replace('\n', " ⏎ "),
                (area.width as usize).saturating_mul(2).saturating_sub(4),
            )),
        ];
        f.render_widget(
            Paragraph::new(head_lines)
                .wrap(Wrap { trim: true })
                .block(Block::default()),
            head,
        );

        let mean = members.iter().map(|r| r.reward).sum::<f64>() / members.len() as f64;
        let header = Row::new([
            "#", "reward", "answer", "format", "sat", "adv", "kept", "mode", "tokens", "finish",
        ])
        .style(widgets::title_style());
        let rows: Vec<Row> = members
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut row = Row::new(vec![
                    Line::raw(format!("{}", r.sample)),
                    Line::styled(signed(r.reward), widgets::reward_style(r.reward)),
                    Line::raw(signed(r.answer_score)),
                    Line::raw(signed(r.format_score)),
                    Line::styled(
                        format!("{}/{}", r.satisfied, r.total),
                        if r.total > 0 && r.satisfied == r.total {
                            Style::default().fg(Color::Green)
                        } else {
                            Style::default().fg(Color::Red)
                        },
                    ),
                    Line::raw(signed(r.advantage)),
                    Line::styled(
                        widgets::keep_short(r),
                        Style::default().fg(if r.kept {
                            Color::Green
                        } else if r.no_think {
                            Color::Magenta
                        } else {
                            Color::Red
                        }),
                    ),
                    match widgets::forced_mark(r) {
                        Some(m) => Line::styled(m, widgets::forced_style()),
                        None if r.no_think => {
                            Line::styled("no-think", Style::default().fg(Color::Magenta))
                        }
                        None => Line::raw("think"),
                    },
                    Line::raw(format!("{}", r.tokens.len())),
                    Line::styled(r.finish.clone(), dim()),
                ]);
                if i == g.selected {
                    row = row.style(
                        Style::default()
                            .bg(Color::Rgb(40, 60, 90))
                            .add_modifier(Modifier::BOLD),
                    );
                }
                row
            })
            .collect();
        let widths = [
            Constraint::Length(3),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Min(6),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(10),
        ];
        let t = Table::new(rows, widths).header(header).block(
            Block::bordered()
                .title(Line::styled(
                    format!(" {} samples · mean reward {} ", members.len(), signed(mean)),
                    widgets::title_style(),
                ))
                .border_style(Style::default().fg(Color::Cyan)),
        );
        f.render_widget(t, table);
        if let Some(r) = members.get(g.selected) {
            let opts = DetailOpts {
                reasoning: g.show_reasoning,
                breakdown: true,
                prompt_lines: 0,
            };
            widgets::render_text(
                f,
                detail,
                Line::styled(format!(" Sample {} ", r.sample), widgets::title_style()),
                widgets::rollout_detail(r, opts),
                app.detail_scroll,
            );
        }
    }
}
