//! Tokens: a rollout's tokens coloured by log-probability or entropy, with the values of the
//! selected one. Tokens that budget forcing injected (closing tags, not sampled: their stored
//! log-prob and entropy are 0) have a style of their own and no values. Pieces come from the
//! run's tokenizer (loaded off the UI thread); until then, or without one, token ids are shown.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::widgets::{self, dim};
use super::Component;
use crate::action::Action;
use crate::app::{App, TokenColour};

pub struct TokensView;

impl Component for TokensView {
    fn key(&self, _app: &App, k: KeyEvent) -> Option<Action> {
        Some(match k.code {
            KeyCode::Char('m') | KeyCode::Char('c') => Action::CycleTokenColour,
            _ => return None,
        })
    }

    fn help(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("← →", "previous / next token"),
            ("↑ ↓", "16 tokens back / on"),
            ("m", "colour by log-probability or entropy"),
            ("Esc", "back"),
            (
                "injected",
                "a closing tag budget forcing injected: not sampled, no log-prob or entropy",
            ),
        ]
    }

    fn render(&self, app: &App, f: &mut Frame, area: Rect) {
        let t = &app.tokens;
        let Some(r) = &t.rollout else {
            f.render_widget(
                Paragraph::new(vec![
                    Line::raw(""),
                    Line::styled(
                        "  No rollout selected: press t on a rollout in Live, Group or Replay.",
                        widgets::bold(),
                    ),
                ]),
                area,
            );
            return;
        };
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(3),
            Constraint::Length(2),
        ])
        .areas(area);
        let mode = match t.colour {
            TokenColour::LogProb => "log-probability",
            TokenColour::Entropy => "entropy",
        };
        let source = match &t.texts {
            None => "loading the tokenizer… (ids shown)".to_string(),
            Some(Err(e)) => format!("no tokenizer ({}): ids shown", widgets::truncate(e, 60)),
            Some(Ok(_)) => format!("tokenizer of {}", widgets::truncate(&t.model, 50)),
        };
        let injected = |i: usize| r.forced_tokens.contains(&(i as u32));
        let n_injected = (0..r.tokens.len()).filter(|&i| injected(i)).count();
        let mut legend = vec![Span::styled(
            format!(
                " step {} · p{} #{} · {} tokens{} · coloured by {mode}   ",
                r.step,
                r.prompt_index,
                r.sample,
                r.tokens.len(),
                if n_injected > 0 {
                    format!(" ({n_injected} injected)")
                } else {
                    String::new()
                }
            ),
            widgets::bold(),
        )];
        for (label, v) in legend_stops(t.colour) {
            legend.push(Span::styled(
                format!(" {label} "),
                Style::default().fg(Color::Black).bg(colour(t.colour, v)),
            ));
        }
        if n_injected > 0 {
            legend.push(Span::styled(" injected ", injected_style()));
        }
        f.render_widget(
            Paragraph::new(vec![
                Line::from(legend),
                Line::styled(format!(" {source}"), dim()),
            ]),
            head,
        );

        let block = Block::bordered().border_style(dim());
        let inner = block.inner(body);
        f.render_widget(block, body);
        let texts: Option<&Vec<String>> = t.texts.as_ref().and_then(|x| x.as_ref().ok());
        let piece = |i: usize| -> String {
            match texts.and_then(|v| v.get(i)) {
                Some(s) => s.clone(),
                None => format!("[{}]", r.tokens[i]),
            }
        };
        // Flow the tokens into rows of the pane's width.
        let w = inner.width.max(1) as usize;
        let mut rows: Vec<Vec<Span>> = vec![Vec::new()];
        let mut row_w = 0usize;
        let mut sel_row = 0usize;
        for i in 0..r.tokens.len() {
            let raw = piece(i);
            let newline = raw.contains('\n');
            let shown = raw.replace('\n', "⏎").replace('\t', "→");
            let shown = if shown.is_empty() {
                "∅".to_string()
            } else {
                shown
            };
            let mut st = if injected(i) {
                injected_style()
            } else {
                let v = value(r, t.colour, i);
                Style::default()
                    .fg(Color::Black)
                    .bg(v.map_or(Color::DarkGray, |v| colour(t.colour, v)))
            };
            if i == t.selected {
                st = Style::default()
                    .fg(Color::White)
                    .bg(Color::Blue)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
            }
            let sw = Span::raw(shown.as_str()).width();
            if row_w + sw > w && row_w > 0 {
                rows.push(Vec::new());
                row_w = 0;
            }
            if i == t.selected {
                sel_row = rows.len() - 1;
            }
            if let Some(x) = rows.last_mut() {
                x.push(Span::styled(shown, st));
            }
            row_w += sw;
            if newline {
                rows.push(Vec::new());
                row_w = 0;
            }
        }
        let h = inner.height as usize;
        let (a, z) = widgets::window(rows.len(), sel_row, h);
        let lines: Vec<Line> = rows.drain(a..z).map(Line::from).collect();
        f.render_widget(Paragraph::new(lines), inner);

        let sel = t.selected.min(r.tokens.len().saturating_sub(1));
        let info = if r.tokens.is_empty() {
            Line::styled(" no tokens", dim())
        } else {
            let lp = r.logprobs.get(sel).copied();
            let en = r.entropies.get(sel).copied();
            let mut spans = vec![
                Span::styled(
                    format!(" token {}/{} ", sel + 1, r.tokens.len()),
                    widgets::bold(),
                ),
                Span::raw(format!("id {} ", r.tokens[sel])),
                Span::styled(
                    format!("{:?} ", piece(sel)),
                    Style::default().fg(Color::Cyan),
                ),
            ];
            if injected(sel) {
                // Its stored log-prob 0 is not a probability of the model's.
                spans.push(Span::styled(
                    " injected by budget forcing (not sampled: no log-prob or entropy)",
                    widgets::forced_style(),
                ));
            } else {
                match lp {
                    Some(lp) => spans.push(Span::raw(format!(
                        " log-prob {lp:.3} (p = {:.3})",
                        (lp as f64).exp()
                    ))),
                    None => spans.push(Span::styled(" log-prob not recorded", dim())),
                }
                match en {
                    Some(e) => spans.push(Span::raw(format!(" · entropy {e:.3} nats"))),
                    None => spans.push(Span::styled(" · entropy not recorded", dim())),
                }
            }
            Line::from(spans)
        };
        f.render_widget(
            Paragraph::new(vec![
                info,
                Line::styled(" ← → token · ↑ ↓ 16 tokens · m colour · Esc back", dim()),
            ]),
            foot,
        );
    }
}

/// A token budget forcing injected: dark, in the forcing colour, italic.
fn injected_style() -> Style {
    Style::default()
        .fg(Color::Yellow)
        .bg(Color::Rgb(60, 60, 60))
        .add_modifier(Modifier::ITALIC)
}

fn value(r: &raif_rl::store::Rollout, c: TokenColour, i: usize) -> Option<f32> {
    match c {
        TokenColour::LogProb => r.logprobs.get(i).copied(),
        TokenColour::Entropy => r.entropies.get(i).copied(),
    }
}

fn legend_stops(c: TokenColour) -> [(&'static str, f32); 4] {
    match c {
        TokenColour::LogProb => [("p≈1", 0.0), ("-1", -1.0), ("-3", -3.0), ("≤-6", -6.0)],
        TokenColour::Entropy => [("0", 0.0), ("1", 1.0), ("2.5", 2.5), ("≥4", 4.0)],
    }
}

/// Green (sure) to red (surprised) for log-probs; blue (peaked) to magenta (flat) for entropy.
pub fn colour(c: TokenColour, v: f32) -> Color {
    let t = match c {
        TokenColour::LogProb => (-v / 6.0).clamp(0.0, 1.0),
        TokenColour::Entropy => (v / 4.0).clamp(0.0, 1.0),
    };
    let lerp =
        |a: u8, b: u8, t: f32| (f32::from(a) + (f32::from(b) - f32::from(a)) * t).round() as u8;
    match c {
        TokenColour::LogProb => {
            if t < 0.5 {
                let u = t * 2.0;
                Color::Rgb(lerp(110, 230, u), lerp(200, 200, u), lerp(110, 90, u))
            } else {
                let u = (t - 0.5) * 2.0;
                Color::Rgb(lerp(230, 230, u), lerp(200, 90, u), lerp(90, 90, u))
            }
        }
        TokenColour::Entropy => Color::Rgb(lerp(100, 220, t), lerp(160, 100, t), lerp(230, 220, t)),
    }
}
