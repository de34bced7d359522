//! Replay: runs → steps → prompts → rollouts from the store (finished, crashed and running
//! runs alike), filters over a whole run, and one prompt's answers across steps.
//!
//! `state.rs` holds where Replay is and its moves, `draw.rs` draws it; this file is the
//! component: its key table and the routing of actions to the moves.

mod draw;
mod state;

use crossterm::event::KeyCode;
use ratatui::layout::Rect;
use ratatui::Frame;

use crate::action::{Action, InputTarget, Request, View};
use crate::component::{Component, Effects, KeyRow, Shared};
pub use state::{ReplayLevel, ReplayState, SCAN_LIMIT};

const KEYS: &[KeyRow<ReplayState>] = &[
    KeyRow::note(
        "Enter →, Esc ←",
        "into runs → steps → prompts → rollouts, and back",
    ),
    KeyRow::new(
        "/",
        "search text (prompt, response, reasoning, answer)",
        &[(KeyCode::Char('/'), Action::StartInput(InputTarget::Search))],
    ),
    KeyRow::new(
        "c",
        "filter: a failed constraint id",
        &[(
            KeyCode::Char('c'),
            Action::StartInput(InputTarget::FailedConstraint),
        )],
    ),
    KeyRow::new(
        "w",
        "filter: reward range MIN..MAX",
        &[(
            KeyCode::Char('w'),
            Action::StartInput(InputTarget::RewardRange),
        )],
    ),
    KeyRow::new(
        "K",
        "filter: kept / dropped / any",
        &[(KeyCode::Char('K'), Action::CycleKeptFilter)],
    ),
    KeyRow::new(
        "n",
        "filter: no-think / think / any",
        &[(KeyCode::Char('n'), Action::CycleNoThinkFilter)],
    ),
    KeyRow::new(
        "C",
        "clear the filters",
        &[(KeyCode::Char('C'), Action::ClearFilters)],
    ),
    KeyRow::new(
        "e",
        "evolution of this prompt across steps",
        &[(KeyCode::Char('e'), Action::OpenEvolution)],
    )
    .when(|r, _| r.on_rollout()),
    KeyRow::new(
        "g, t",
        "group view, token view",
        &[
            (KeyCode::Char('g'), Action::OpenGroup),
            (KeyCode::Char('t'), Action::OpenTokens),
        ],
    )
    .when(|r, _| r.on_rollout()),
    KeyRow::new(
        "r",
        "fold / unfold the reasoning",
        &[(KeyCode::Char('r'), Action::ToggleReasoning)],
    ),
    KeyRow::new(
        "v",
        "curves of this run",
        &[(KeyCode::Char('v'), Action::OpenRunCurves)],
    ),
    KeyRow::new(
        "o",
        "overlay this run on Curves (again: remove it)",
        &[(KeyCode::Char('o'), Action::OverlaySelectedRun)],
    ),
    KeyRow::new(
        "R",
        "reload from the store",
        &[(KeyCode::Char('R'), Action::Refresh)],
    ),
    KeyRow::hidden(&[
        (KeyCode::PageUp, Action::ScrollDetail(-10)),
        (KeyCode::PageDown, Action::ScrollDetail(10)),
    ])
    .when(|r, _| r.on_rollout()),
];

impl Component for ReplayState {
    const KEYS: &'static [KeyRow<Self>] = KEYS;

    fn update(&mut self, a: Action, _sh: &Shared<'_>, fx: &mut Effects) {
        if let Some(d) = a.nav_delta() {
            self.move_by(d);
            return;
        }
        match a {
            Action::Enter | Action::Right => self.enter(fx),
            Action::Back | Action::Left => self.back(),
            Action::OpenGroup => self.open_group(fx),
            Action::OpenTokens => self.open_tokens(fx),
            Action::OpenEvolution => self.open_evolution(fx),
            Action::OpenRunCurves => self.open_run_curves(fx),
            Action::OverlaySelectedRun => match self.run() {
                Some(r) => fx.send(View::Curves, Action::OverlayRun(r.id.clone())),
                None => fx.message("no run selected"),
            },
            Action::Refresh => self.refresh(fx),
            Action::ToggleReasoning => self.show_reasoning = !self.show_reasoning,
            Action::CycleKeptFilter => self.cycle_kept(fx),
            Action::CycleNoThinkFilter => self.cycle_no_think(fx),
            Action::ClearFilters => self.clear_filters(),
            Action::StartInput(t) => fx.input(t, self.input_text(t)),
            Action::Submit(t, s) => self.submit(t, s, fx),
            Action::Runs(runs) => self.runs_listed(runs),
            Action::RunLoaded {
                run,
                steps,
                metrics,
            } => self.run_loaded(&run, steps, &metrics),
            Action::StepLoaded {
                run,
                step,
                rollouts,
            } => self.step_loaded(&run, step, rollouts),
            Action::ScanDone {
                run,
                filter,
                rollouts,
                truncated,
            } => self.scan_done(&run, &filter, rollouts, truncated),
            Action::EvolutionLoaded {
                run,
                prompt_id,
                rollouts,
            } => self.evolution_loaded(&run, &prompt_id, rollouts),
            Action::Error(_) => self.loading = false,
            _ => {}
        }
    }

    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        draw::render(self, sh, f, area);
    }

    fn on_show(&mut self, fx: &mut Effects) {
        fx.request(Request::ListRuns);
    }
}
