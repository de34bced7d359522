//! The views (after ratatui's component template): each module owns a view's state, its key
//! table, its `update` and its `render` (a `Component`); the
//! `App` only routes actions to them. This file lists them: the [`View`]
//! enum (tab order, title, digit) and their modules.
//!
//! To add a view: write `views/<name>.rs` (a state that implements `Component`), add its
//! `pub mod` and its `View` variant here, and give `App` its field and its arm in
//! `App::component` and `App::parts` (app.rs). Nothing else names the views one by one.

pub mod compare;
pub mod curves;
pub mod eval;
pub mod group;
pub mod launch;
pub mod live;
pub mod playground;
pub mod replay;
pub mod tokens;
pub mod widgets;

/// The screens, in tab order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    Launch,
    Live,
    Group,
    Curves,
    Replay,
    Tokens,
    /// Stored benchmark evaluations per model, mode and checkpoint.
    Eval,
    /// Two evaluations of the same benchmark side by side, item by item.
    Compare,
}

impl View {
    pub const ALL: [View; 8] = [
        View::Launch,
        View::Live,
        View::Group,
        View::Curves,
        View::Replay,
        View::Tokens,
        View::Eval,
        View::Compare,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Launch => "Launch",
            View::Live => "Live",
            View::Group => "Group",
            View::Curves => "Curves",
            View::Replay => "Replay",
            View::Tokens => "Tokens",
            View::Eval => "Eval",
            View::Compare => "Compare",
        }
    }

    /// The digit that opens it: its place in the tabs.
    pub fn key(self) -> char {
        let i = View::ALL.iter().position(|v| *v == self).unwrap_or(0);
        char::from_digit(i as u32 + 1, 10).unwrap_or('?')
    }
}
