//! What a view is: a [`Component`] owns its state, one key table that feeds both the key
//! handling and the help ([`KeyRow`]), its `update` and its `render`. The
//! `App` reaches every view alike through [`AnyComponent`], lends it
//! [`Shared`] to read and takes back its [`Effects`].

use std::collections::VecDeque;

use crossterm::event::KeyCode;
use ratatui::layout::Rect;
use ratatui::Frame;

use crate::action::{Action, InputTarget, Request, View};
use crate::state::TrainState;

/// What a view may read besides its own state, lent by the App for one call.
#[derive(Clone, Copy, Debug)]
pub struct Shared<'a> {
    /// The run training in this workbench.
    pub train: &'a TrainState,
    /// The prompt at the bottom, while one is open: what it edits and the text so far.
    pub input: Option<&'a (InputTarget, String)>,
    /// Lines the detail pane is scrolled down.
    pub detail_scroll: u16,
    /// The latest lines of progress and errors.
    pub log: &'a VecDeque<String>,
}

/// What a view's `update` asks of the App.
#[derive(Debug, Default)]
pub struct Effects {
    /// Work for the background thread.
    pub requests: Vec<Request>,
    /// For the status line.
    pub message: Option<String>,
    /// Lines for the log (the last one also goes to the status line).
    pub log: Vec<String>,
    /// Open the prompt at the bottom with this text.
    pub input: Option<(InputTarget, String)>,
    /// Show this view (without the requests of opening its tab).
    pub goto: Option<View>,
    /// Actions for other views, applied in order after this one.
    pub send: Vec<(View, Action)>,
}

impl Effects {
    pub fn request(&mut self, r: Request) {
        self.requests.push(r);
    }
    pub fn message(&mut self, m: impl Into<String>) {
        self.message = Some(m.into());
    }
    pub fn log(&mut self, line: String) {
        self.log.push(line);
    }
    pub fn input(&mut self, t: InputTarget, text: String) {
        self.input = Some((t, text));
    }
    pub fn goto(&mut self, v: View) {
        self.goto = Some(v);
    }
    pub fn send(&mut self, v: View, a: Action) {
        self.send.push((v, a));
    }
}

/// One line of a key table: the keys as the help names them, what they do, and the keys
/// behind it with their actions.
pub struct KeyRow<S: 'static> {
    /// The keys as the help and the hint line name them; empty hides the line (aliases and
    /// keys that need no line of their own).
    pub label: &'static str,
    pub help: &'static str,
    /// Each key and its action; none where the line only says what keys handled elsewhere do
    /// here (the arrows, Enter and Esc reach every view as `Up`, `Enter`, `Back`…).
    pub keys: &'static [(KeyCode, Action)],
    /// Whether the keys apply now (the help shows the line anyway).
    pub when: fn(&S, &Shared<'_>) -> bool,
}

fn always<S>(_: &S, _: &Shared<'_>) -> bool {
    true
}

impl<S> KeyRow<S> {
    /// Keys, shown in the help.
    pub const fn new(
        label: &'static str,
        help: &'static str,
        keys: &'static [(KeyCode, Action)],
    ) -> Self {
        KeyRow {
            label,
            help,
            keys,
            when: always::<S>,
        }
    }

    /// A line of help about keys handled elsewhere.
    pub const fn note(label: &'static str, help: &'static str) -> Self {
        Self::new(label, help, &[])
    }

    /// Keys not shown in the help.
    pub const fn hidden(keys: &'static [(KeyCode, Action)]) -> Self {
        Self::new("", "", keys)
    }

    /// The keys apply only while `f` says so.
    pub const fn when(mut self, f: fn(&S, &Shared<'_>) -> bool) -> Self {
        self.when = f;
        self
    }
}

/// The action of the first line of `rows` that has the key and applies now.
pub fn lookup<S>(rows: &[KeyRow<S>], s: &S, sh: &Shared<'_>, code: KeyCode) -> Option<Action> {
    rows.iter()
        .filter(|r| r.keys.iter().any(|(k, _)| *k == code))
        .find(|r| (r.when)(s, sh))
        .and_then(|r| r.keys.iter().find(|(k, _)| *k == code))
        .map(|(_, a)| a.clone())
}

/// The lines the help shows of `rows`: (keys, what they do).
pub fn help_lines<S>(rows: &[KeyRow<S>]) -> Vec<(&'static str, &'static str)> {
    rows.iter()
        .filter(|r| !r.label.is_empty())
        .map(|r| (r.label, r.help))
        .collect()
}

/// A view: its state is `Self`.
pub trait Component: Sized + 'static {
    /// Its keys, checked before the global ones, and its part of the help.
    const KEYS: &'static [KeyRow<Self>];

    /// Apply an action: the keys' while the view is shown, the worker's results it asked
    /// for, and what other views send it (`ShowGroup`, …). Unknown actions are ignored.
    fn update(&mut self, a: Action, sh: &Shared<'_>, fx: &mut Effects);

    /// Draw it into `area`, a pure function of its state and `sh`.
    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect);

    /// Its tab (or digit) was chosen: requests to refresh what it shows.
    fn on_show(&mut self, _fx: &mut Effects) {}
}

/// Every [`Component`] behind `dyn`: how the App and the frame reach the views alike.
pub trait AnyComponent {
    /// The action a key asks for in this view, if its table has one.
    fn key(&self, sh: &Shared<'_>, code: KeyCode) -> Option<Action>;
    /// Its lines of help.
    fn help(&self) -> Vec<(&'static str, &'static str)>;
    fn update(&mut self, a: Action, sh: &Shared<'_>, fx: &mut Effects);
    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect);
    fn on_show(&mut self, fx: &mut Effects);
}

impl<C: Component> AnyComponent for C {
    fn key(&self, sh: &Shared<'_>, code: KeyCode) -> Option<Action> {
        lookup(C::KEYS, self, sh, code)
    }
    fn help(&self) -> Vec<(&'static str, &'static str)> {
        help_lines(C::KEYS)
    }
    fn update(&mut self, a: Action, sh: &Shared<'_>, fx: &mut Effects) {
        Component::update(self, a, sh, fx);
    }
    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        Component::render(self, sh, f, area);
    }
    fn on_show(&mut self, fx: &mut Effects) {
        Component::on_show(self, fx);
    }
}
