//! Tokens: a rollout's tokens coloured by log-probability or entropy, with the values of the
//! selected one. Tokens that budget forcing injected (closing tags, not sampled: their stored
//! log-prob and entropy are 0) have a style of their own and no values. Pieces come from the
//! run's tokenizer (loaded off the UI thread); until then, or without one, token ids are shown.

use crossterm::event::KeyCode;
use raif_store::Rollout;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::widgets::{self, dim};
use crate::action::{Action, Request, RolloutKey, TokensSource, View};
use crate::component::{Component, Effects, KeyRow, Shared};
use crate::select::SelectList;

/// Tokens one row up or down moves (and a page ten of these).
const ROW_TOKENS: i64 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenColour {
    #[default]
    LogProb,
    Entropy,
}

#[derive(Clone, Debug, Default)]
pub struct TokensState {
    pub rollout: Option<Rollout>,
    pub model: String,
    /// Decoded pieces, once the worker has loaded the tokenizer.
    pub texts: Option<Result<Vec<String>, String>>,
    /// The rollout's token ids, one selected.
    pub cursor: SelectList<u32>,
    pub colour: TokenColour,
    pub back: Option<View>,
}

impl TokensState {
    /// Show a rollout's tokens and ask the worker to decode them.
    fn show(&mut self, src: TokensSource, fx: &mut Effects) {
        let TokensSource {
            rollout: r,
            model,
            from,
        } = src;
        let key: RolloutKey = (r.step, r.prompt_index, r.sample);
        fx.request(Request::TokenTexts {
            key,
            model: model.clone(),
            tokens: r.tokens.clone(),
        });
        if from != View::Tokens {
            self.back = Some(from);
        }
        self.texts = None;
        self.cursor.reset(r.tokens.clone());
        self.model = model;
        self.rollout = Some(r);
        fx.goto(View::Tokens);
    }

    /// Decoded pieces (or why there are none), if they are this rollout's.
    fn texts_loaded(&mut self, key: RolloutKey, texts: Result<Vec<String>, String>) {
        if self
            .rollout
            .as_ref()
            .is_some_and(|r| (r.step, r.prompt_index, r.sample) == key)
        {
            self.texts = Some(texts);
        }
    }
}

const KEYS: &[KeyRow<TokensState>] = &[
    KeyRow::note("← →", "previous / next token"),
    KeyRow::note("↑ ↓", "16 tokens back / on"),
    KeyRow::new(
        "m",
        "colour by log-probability or entropy",
        &[
            (KeyCode::Char('m'), Action::CycleTokenColour),
            (KeyCode::Char('c'), Action::CycleTokenColour),
        ],
    ),
    KeyRow::note("Esc", "back"),
    KeyRow::note(
        "injected",
        "a closing tag budget forcing injected: not sampled, no log-prob or entropy",
    ),
];

impl Component for TokensState {
    const KEYS: &'static [KeyRow<Self>] = KEYS;

    fn update(&mut self, a: Action, _sh: &Shared<'_>, fx: &mut Effects) {
        if let Some(d) = a.nav_delta() {
            self.cursor.move_by(d.saturating_mul(ROW_TOKENS));
            return;
        }
        match a {
            Action::Left => {
                self.cursor.move_by(-1);
            }
            Action::Right => {
                self.cursor.move_by(1);
            }
            Action::CycleTokenColour => {
                self.colour = match self.colour {
                    TokenColour::LogProb => TokenColour::Entropy,
                    TokenColour::Entropy => TokenColour::LogProb,
                }
            }
            Action::ShowTokens(src) => self.show(*src, fx),
            Action::TokenTexts { key, texts } => self.texts_loaded(key, texts),
            Action::Back => fx.goto(self.back.unwrap_or(View::Live)),
            _ => {}
        }
    }

    fn render(&self, _sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        let t = self;
        let Some(r) = &t.rollout else {
            f.render_widget(
                Paragraph::new(vec![
                    Line::raw(""),
                    Line::styled(
                        "  No rollouts yet: start a run in Launch, or open one in Replay (t on a rollout).",
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
        f.render_widget(Paragraph::new(legend(t, r)), head);

        let block = Block::bordered().border_style(dim());
        let inner = block.inner(body);
        f.render_widget(block, body);
        let (mut rows, sel_row) = flow(t, r, inner.width.max(1) as usize);
        let h = inner.height as usize;
        let (a, z) = widgets::window(rows.len(), sel_row, h);
        let lines: Vec<Line> = rows.drain(a..z).map(Line::from).collect();
        f.render_widget(Paragraph::new(lines), inner);

        f.render_widget(
            Paragraph::new(vec![
                selected_info(t, r),
                Line::styled(" ← → token · ↑ ↓ 16 tokens · m colour · Esc back", dim()),
            ]),
            foot,
        );
    }
}

/// Token `i` of `r` was injected by budget forcing (a closing tag, not sampled).
fn injected(r: &Rollout, i: usize) -> bool {
    r.forced_tokens.contains(&(i as u32))
}

/// Token `i`'s text: its piece, or its id until (or without) a tokenizer.
fn piece(t: &TokensState, r: &Rollout, i: usize) -> String {
    let texts = t.texts.as_ref().and_then(|x| x.as_ref().ok());
    match texts.and_then(|v| v.get(i)) {
        Some(s) => s.clone(),
        None => format!("[{}]", r.tokens[i]),
    }
}

/// The header: which rollout, how it is coloured (with a legend), where the pieces come from.
fn legend(t: &TokensState, r: &Rollout) -> Vec<Line<'static>> {
    let mode = match t.colour {
        TokenColour::LogProb => "log-probability",
        TokenColour::Entropy => "entropy",
    };
    let source = match &t.texts {
        None => "loading the tokenizer… (ids shown)".to_string(),
        Some(Err(e)) => format!("no tokenizer ({}): ids shown", widgets::truncate(e, 60)),
        Some(Ok(_)) => format!("tokenizer of {}", widgets::truncate(&t.model, 50)),
    };
    let n_injected = (0..r.tokens.len()).filter(|&i| injected(r, i)).count();
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
    vec![
        Line::from(legend),
        Line::styled(format!(" {source}"), dim()),
    ]
}

/// The tokens flowed into rows of `w` columns (a piece with a newline ends its row), and
/// the row of the selected one.
fn flow(t: &TokensState, r: &Rollout, w: usize) -> (Vec<Vec<Span<'static>>>, usize) {
    let mut rows: Vec<Vec<Span>> = vec![Vec::new()];
    let mut row_w = 0usize;
    let mut sel_row = 0usize;
    for i in 0..r.tokens.len() {
        let raw = piece(t, r, i);
        let newline = raw.contains('\n');
        let shown = raw.replace('\n', "⏎").replace('\t', "→");
        let shown = if shown.is_empty() {
            "∅".to_string()
        } else {
            shown
        };
        let mut st = if injected(r, i) {
            injected_style()
        } else {
            let v = value(r, t.colour, i);
            Style::default()
                .fg(Color::Black)
                .bg(v.map_or(Color::DarkGray, |v| colour(t.colour, v)))
        };
        if i == t.cursor.index() {
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
        if i == t.cursor.index() {
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
    (rows, sel_row)
}

/// The selected token: its place, id, piece and log-prob and entropy (none if injected).
fn selected_info(t: &TokensState, r: &Rollout) -> Line<'static> {
    if r.tokens.is_empty() {
        return Line::styled(" no tokens", dim());
    }
    let sel = t.cursor.index().min(r.tokens.len() - 1);
    let lp = r.logprobs.get(sel).copied();
    let en = r.entropies.get(sel).copied();
    let mut spans = vec![
        Span::styled(
            format!(" token {}/{} ", sel + 1, r.tokens.len()),
            widgets::bold(),
        ),
        Span::raw(format!("id {} ", r.tokens[sel])),
        Span::styled(
            format!("{:?} ", piece(t, r, sel)),
            Style::default().fg(Color::Cyan),
        ),
    ];
    if injected(r, sel) {
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
}

/// A token budget forcing injected: dark, in the forcing colour, italic.
fn injected_style() -> Style {
    Style::default()
        .fg(Color::Yellow)
        .bg(Color::Rgb(60, 60, 60))
        .add_modifier(Modifier::ITALIC)
}

fn value(r: &Rollout, c: TokenColour, i: usize) -> Option<f32> {
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
