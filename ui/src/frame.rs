//! The whole frame around the views: the tabs, the current view, the status line and the
//! overlays (help, quitting); and a terminal event as an action: the modal keys (a prompt,
//! the quit question, the help), then the current view's key table, then [`GLOBAL_KEYS`].

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::action::{Action, View};
use crate::app::App;
use crate::component::{help_lines, lookup, KeyRow};
use crate::views::widgets::{phase_style, run_phase_style};

/// Smaller terminals get a message instead of a squashed layout.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// Keys that work everywhere (after the view's own). A view's digit opens it too
/// ([`View::key`]; the first line of the help says so, from [`View::ALL`]).
pub const GLOBAL_KEYS: &[KeyRow<()>] = &[
    KeyRow::hidden(&[
        (KeyCode::Tab, Action::NextView),
        (KeyCode::BackTab, Action::PrevView),
    ]),
    KeyRow::new(
        "↑↓ j k, PgUp PgDn, Home End",
        "move; mouse wheel scrolls",
        &[
            (KeyCode::Up, Action::Up),
            (KeyCode::Char('k'), Action::Up),
            (KeyCode::Down, Action::Down),
            (KeyCode::Char('j'), Action::Down),
            (KeyCode::PageUp, Action::PageUp),
            (KeyCode::PageDown, Action::PageDown),
            (KeyCode::Home, Action::Top),
            (KeyCode::End, Action::Bottom),
        ],
    ),
    KeyRow::new(
        "← → h l, Enter, Esc",
        "back / open / close",
        &[
            (KeyCode::Left, Action::Left),
            (KeyCode::Char('h'), Action::Left),
            (KeyCode::Right, Action::Right),
            (KeyCode::Char('l'), Action::Right),
            (KeyCode::Enter, Action::Enter),
            (KeyCode::Esc, Action::Back),
            (KeyCode::Backspace, Action::Back),
        ],
    ),
    KeyRow::new(
        "Space",
        "pause or resume training",
        &[(KeyCode::Char(' '), Action::PauseResume)],
    ),
    KeyRow::new(
        "S",
        "save a checkpoint at the end of this step",
        &[(KeyCode::Char('S'), Action::SaveNow)],
    ),
    KeyRow::new(
        "X",
        "stop training after this step (with a checkpoint)",
        &[(KeyCode::Char('X'), Action::StopRun)],
    ),
    KeyRow::new(
        "?",
        "this help",
        &[(KeyCode::Char('?'), Action::ToggleHelp)],
    ),
    KeyRow::new(
        "q, Ctrl-C",
        "quit (asks first while training; stops cleanly)",
        &[(KeyCode::Char('q'), Action::Quit)],
    ),
];

/// Keys while the help is open.
const HELP_KEYS: &[KeyRow<()>] = &[KeyRow::hidden(&[
    (KeyCode::Char('?'), Action::ToggleHelp),
    (KeyCode::Esc, Action::ToggleHelp),
    (KeyCode::Char('q'), Action::ToggleHelp),
    (KeyCode::Enter, Action::ToggleHelp),
    (KeyCode::Up, Action::ScrollDetail(-1)),
    (KeyCode::Char('k'), Action::ScrollDetail(-1)),
    (KeyCode::Down, Action::ScrollDetail(1)),
    (KeyCode::Char('j'), Action::ScrollDetail(1)),
    (KeyCode::PageUp, Action::ScrollDetail(-10)),
    (KeyCode::PageDown, Action::ScrollDetail(10)),
    (KeyCode::Char(' '), Action::ScrollDetail(10)),
])];

/// Keys while "stop training and quit?" is asked.
const CONFIRM_KEYS: &[KeyRow<()>] = &[KeyRow::hidden(&[
    (KeyCode::Char('y'), Action::ConfirmQuit(true)),
    (KeyCode::Char('Y'), Action::ConfirmQuit(true)),
    (KeyCode::Enter, Action::ConfirmQuit(true)),
    (KeyCode::Char('n'), Action::ConfirmQuit(false)),
    (KeyCode::Char('N'), Action::ConfirmQuit(false)),
    (KeyCode::Esc, Action::ConfirmQuit(false)),
    (KeyCode::Char('q'), Action::ConfirmQuit(false)),
])];

/// The first line of the global help: the digits and tabs that switch views.
fn switch_help() -> (String, String) {
    let first = View::ALL.first().map_or('1', |v| v.key());
    let last = View::ALL.last().map_or('1', |v| v.key());
    let titles: Vec<&str> = View::ALL.iter().map(|v| v.title()).collect();
    (
        format!("{first}-{last}, Tab, S-Tab"),
        format!("switch view ({})", titles.join(", ")),
    )
}

/// A terminal event as an action, given what is on screen.
pub fn map_event(app: &App, ev: &Event) -> Option<Action> {
    match ev {
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Action::Scroll(-1)),
            MouseEventKind::ScrollDown => Some(Action::Scroll(1)),
            _ => None,
        },
        Event::Key(k) if k.kind != KeyEventKind::Release => map_key(app, *k),
        _ => None,
    }
}

pub fn map_key(app: &App, k: KeyEvent) -> Option<Action> {
    let sh = app.shared();
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && k.code == KeyCode::Char('c') {
        return Some(if app.confirm_quit {
            Action::ConfirmQuit(true)
        } else {
            Action::Quit
        });
    }
    if app.input.is_some() {
        return match k.code {
            KeyCode::Enter => Some(Action::InputSubmit),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Backspace => Some(Action::InputBackspace),
            KeyCode::Char(c) => Some(Action::InputChar(c)),
            _ => None,
        };
    }
    if app.confirm_quit {
        return lookup(CONFIRM_KEYS, &(), &sh, k.code);
    }
    if app.help {
        return lookup(HELP_KEYS, &(), &sh, k.code);
    }
    if let Some(a) = app.component(app.view).key(&sh, k.code) {
        return Some(a);
    }
    if let KeyCode::Char(c) = k.code {
        if let Some(v) = View::ALL.into_iter().find(|v| v.key() == c) {
            return Some(Action::SwitchView(v));
        }
    }
    lookup(GLOBAL_KEYS, &(), &sh, k.code)
}

/// Draw the whole frame from the state.
pub fn render(app: &App, f: &mut Frame) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = vec![
            Line::styled(
                "The terminal is too small",
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Line::raw(format!(
                "{}×{}: the workbench needs at least {MIN_WIDTH}×{MIN_HEIGHT}.",
                area.width, area.height
            )),
            Line::raw("Enlarge the window, or press q to quit."),
        ];
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(app, f, top);
    app.component(app.view).render(&app.shared(), f, body);
    render_status(app, f, bottom);
    if app.help {
        render_help(app, f, area);
    }
    if app.confirm_quit {
        render_confirm(f, area);
    }
}

fn render_tabs(app: &App, f: &mut Frame, area: Rect) {
    let badge = [
        Span::styled(
            " raif ",
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(" "),
    ];
    // Eight tabs fit 80 columns only without the space after each.
    let narrow = area.width < 100;
    let tabs = |compact: bool| -> Vec<Span<'static>> {
        let mut spans = badge.to_vec();
        for v in View::ALL {
            let label = if compact && v != app.view {
                format!(" {}", v.key())
            } else if narrow {
                format!(" {} {}", v.key(), v.title())
            } else {
                format!(" {} {} ", v.key(), v.title())
            };
            let style = if v == app.view {
                Style::default()
                    .fg(Color::Black)
                    .bg(Color::White)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default().fg(Color::Gray)
            };
            spans.push(Span::styled(label, style));
        }
        spans
    };
    let t = &app.train;
    let mut right = vec![];
    if let Some(id) = &t.run_id {
        right.push(Span::raw(format!("{id} ")));
    }
    right.push(Span::styled(
        t.phase.name().to_string(),
        phase_style(&t.phase),
    ));
    // A run with a warm-up says which phase it is in (the step within the phase).
    let label = (t.phase.active() || t.steps_done > 0)
        .then(|| t.phase_label())
        .flatten();
    if let Some(l) = &label {
        right.push(Span::raw(" · "));
        right.push(Span::styled(l.clone(), run_phase_style(l)));
    } else if t.phase.active() || t.steps_done > 0 {
        right.push(Span::raw(format!(
            " · step {}/{}",
            t.current_step(),
            t.total_steps
        )));
    }
    right.push(Span::raw(" "));
    let short: Option<Vec<Span>> = label.map(|l| {
        let st = run_phase_style(&l);
        vec![Span::styled(l, st), Span::raw(" ")]
    });
    let width = |v: &[Span]| -> usize { v.iter().map(|s| s.width()).sum() };
    let avail = area.width as usize;
    // The whole status, else the phase alone; a phase that does not fit beside the tabs
    // shrinks the other tabs to their keys (80 columns).
    let mut candidates: Vec<(bool, &Vec<Span>)> = vec![(false, &right)];
    if let Some(s) = &short {
        candidates.push((false, s));
        candidates.push((true, &right));
        candidates.push((true, s));
    }
    let mut spans = tabs(false);
    for (compact, r) in candidates {
        let left = tabs(compact);
        let (lw, rw) = (width(&left), width(r));
        if lw + rw < avail {
            spans = left;
            spans.push(Span::raw(" ".repeat(avail - lw - rw)));
            spans.extend(r.iter().cloned());
            break;
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_status(app: &App, f: &mut Frame, area: Rect) {
    let line = if let Some((t, s)) = &app.input {
        let label = t.label();
        Line::from(vec![
            Span::styled(format!("{label}: "), Style::default().fg(Color::Cyan)),
            Span::raw(s.clone()),
            Span::styled("▏", Style::default().fg(Color::Cyan)),
            Span::styled(
                "  Enter apply · Esc cancel",
                Style::default().fg(Color::DarkGray),
            ),
        ])
    } else if let Some(m) = &app.message {
        Line::from(vec![
            Span::styled(m.clone(), Style::default().fg(Color::Yellow)),
            Span::styled("   ? help", Style::default().fg(Color::DarkGray)),
        ])
    } else {
        let hints: Vec<String> = app
            .component(app.view)
            .help()
            .iter()
            .take(6)
            .map(|(k, d)| format!("{k} {d}"))
            .collect();
        Line::styled(
            format!("{} · ? help · q quit", hints.join(" · ")),
            Style::default().fg(Color::DarkGray),
        )
    };
    f.render_widget(Paragraph::new(line), area);
}

/// A rectangle of at most `w`×`h` in the middle of `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn render_help(app: &App, f: &mut Frame, area: Rect) {
    let key_style = Style::default()
        .fg(Color::Cyan)
        .add_modifier(Modifier::BOLD);
    let popup = centered(area, 92, area.height.saturating_sub(2));
    let kw = if popup.width >= 90 { 28 } else { 20 };
    let mut lines = vec![Line::styled(
        "Everywhere",
        Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    )];
    let row = |k: &str, d: &str| {
        Line::from(vec![
            Span::styled(format!("{k:>kw$}  "), key_style),
            Span::raw(d.to_string()),
        ])
    };
    let (k, d) = switch_help();
    lines.push(row(&k, &d));
    for (k, d) in help_lines(GLOBAL_KEYS) {
        lines.push(row(k, d));
    }
    // The current view first, then the others.
    let mut order = vec![app.view];
    order.extend(View::ALL.iter().copied().filter(|v| *v != app.view));
    for v in order {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("{} ({})", v.title(), v.key()),
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        ));
        for (k, d) in app.component(v).help() {
            lines.push(row(k, d));
        }
    }
    f.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" Keys — ↑↓ PgUp PgDn scroll · ? or Esc closes ")
        .border_style(Style::default().fg(Color::Cyan));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((app.help_scroll, 0)),
        popup,
    );
}

fn render_confirm(f: &mut Frame, area: Rect) {
    let popup = centered(area, 56, 6);
    f.render_widget(Clear, popup);
    let lines = vec![
        Line::raw("A run is training."),
        Line::raw("Stop it after this step (with a checkpoint) and quit?"),
        Line::styled(
            "y / Enter: stop and quit    n / Esc: keep training",
            Style::default().fg(Color::DarkGray),
        ),
    ];
    f.render_widget(
        Paragraph::new(lines)
            .block(
                Block::bordered()
                    .title(" Quit ")
                    .border_style(Style::default().fg(Color::Yellow)),
            )
            .wrap(Wrap { trim: true }),
        popup,
    );
}
