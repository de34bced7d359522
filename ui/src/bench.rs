//! The rendering benchmark: a store with many rollouts, frames of the Live and Replay views
//! drawn on a 200×60 test backend, and the time to open the replay list. Run it with
//! `cargo bench -p raif-ui --bench render` (or call [`bench_render`]); it is not a test.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use raif_rl::trainer::TrainerEvent;
use raif_store::{RunStatus, Store};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::action::{Action, Request, View};
use crate::app::App;
use crate::worker::{serve, Ctx};
use crate::{fixtures, frame};

/// What [`bench_render`] measured (milliseconds).
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub rollouts: usize,
    pub build_store_s: f64,
    pub live_frame_ms: f64,
    pub replay_frame_ms: f64,
    /// Listing the runs and opening one (steps and metrics), i.e. what the Replay list needs.
    pub replay_open_ms: f64,
    /// Loading one step's rollouts.
    pub replay_step_ms: f64,
    /// A text search over the whole run (first `SCAN_LIMIT` matches).
    pub replay_search_ms: f64,
    /// The Curves dashboard with three runs overlaid.
    pub curves_frame_ms: f64,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "store with {} rollouts built in {:.1} s",
            self.rollouts, self.build_store_s
        )?;
        writeln!(f, "live frame (200x60)      {:8.3} ms", self.live_frame_ms)?;
        writeln!(
            f,
            "replay frame (200x60)    {:8.3} ms",
            self.replay_frame_ms
        )?;
        writeln!(
            f,
            "curves dashboard, 3 runs {:8.3} ms",
            self.curves_frame_ms
        )?;
        writeln!(f, "open the replay list     {:8.3} ms", self.replay_open_ms)?;
        writeln!(f, "load one step            {:8.3} ms", self.replay_step_ms)?;
        write!(
            f,
            "text search, whole run   {:8.3} ms",
            self.replay_search_ms
        )
    }
}

/// Apply an action and serve its requests synchronously (what the worker would do).
pub fn drive(app: &mut App, ctx: &mut Ctx, a: Action) {
    let mut queue = vec![a];
    while let Some(a) = queue.pop() {
        for r in app.update(a) {
            if matches!(
                r,
                Request::Start(_) | Request::Command(_) | Request::FetchDefault
            ) {
                continue;
            }
            queue.extend(serve(ctx, r));
        }
    }
}

/// The app drawn on a `w`×`h` test terminal, as text (trailing spaces trimmed): what snapshot
/// tests compare.
pub fn render_text(app: &App, w: u16, h: u16) -> Result<String> {
    let mut t = Terminal::new(TestBackend::new(w, h))?;
    t.draw(|f| frame::render(app, f))?;
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

fn frame_ms(term: &mut Terminal<TestBackend>, app: &App, frames: usize) -> Result<f64> {
    // One warm-up frame (syntect's assets, highlight cache).
    term.draw(|f| frame::render(app, f))?;
    let t = Instant::now();
    for _ in 0..frames {
        term.draw(|f| frame::render(app, f))?;
    }
    Ok(t.elapsed().as_secs_f64() * 1000.0 / frames as f64)
}

/// Build `<home>` with a run of about `rollouts` rollouts (16 prompts × G 8 per step) and
/// time the views. `home` should be an empty folder.
pub fn bench_render(home: &Path, rollouts: usize, frames: usize) -> Result<BenchReport> {
    let (prompts, group) = (16u32, 8u32);
    let steps = (rollouts as u64)
        .div_ceil(u64::from(prompts * group))
        .max(1);
    let store = Arc::new(Store::open(home)?);
    let t = Instant::now();
    fixtures::build_run(&store, "bench", RunStatus::Finished, steps, prompts, group)?;
    let build_store_s = t.elapsed().as_secs_f64();
    let mut ctx = Ctx::new(store.clone(), home.to_path_buf());
    let mut term = Terminal::new(TestBackend::new(200, 60))?;
    let mut app = App::new(None, None);
    app.update(Action::Resize(200, 60));

    // Live: the last step as events, with one sequence streaming.
    let last = store.step_rollouts("bench", steps)?;
    let mut events = vec![
        TrainerEvent::Started {
            run_id: "bench".into(),
            total_steps: steps + 1,
            warmup_steps: 0,
            first_step: 1,
            model: "tiny-test".into(),
            trainable_parameters: 1_000_000,
        },
        TrainerEvent::StepStarted {
            step: steps,
            prompts: (0..prompts).map(|p| format!("rec-{p:03}")).collect(),
        },
    ];
    for (s, m) in store.metrics("bench")? {
        events.push(TrainerEvent::StepMetrics {
            step: s,
            metrics: m,
        });
    }
    events.extend(
        last.iter()
            .cloned()
            .map(|r| TrainerEvent::Rollout(Box::new(r))),
    );
    events.push(TrainerEvent::Token {
        step: steps,
        prompt_index: 0,
        sample: 0,
        delta: "<think>\nThe user wants JSON".into(),
    });
    app.update(Action::Trainer(events, 1));
    app.update(Action::SwitchView(View::Live));
    let live_frame_ms = frame_ms(&mut term, &app, frames)?;

    // Curves: the dashboard with two more runs of as many steps overlaid (Replay's `o`).
    for id in ["bench-b", "bench-c"] {
        fixtures::build_run(&store, id, RunStatus::Finished, steps, 1, 2)?;
        drive(&mut app, &mut ctx, Action::OverlayRun(id.into()));
    }
    app.update(Action::SwitchView(View::Curves));
    let curves_frame_ms = frame_ms(&mut term, &app, frames)?;

    // Replay: open the list and a run, then a step.
    app.update(Action::SwitchView(View::Replay));
    let t = Instant::now();
    drive(&mut app, &mut ctx, Action::Refresh);
    drive(&mut app, &mut ctx, Action::Enter);
    let replay_open_ms = t.elapsed().as_secs_f64() * 1000.0;
    drive(&mut app, &mut ctx, Action::Bottom);
    let t = Instant::now();
    drive(&mut app, &mut ctx, Action::Enter);
    let replay_step_ms = t.elapsed().as_secs_f64() * 1000.0;
    drive(&mut app, &mut ctx, Action::Enter);
    let replay_frame_ms = frame_ms(&mut term, &app, frames)?;
    let t = Instant::now();
    drive(
        &mut app,
        &mut ctx,
        Action::StartInput(crate::action::InputTarget::Search),
    );
    for c in "scatter".chars() {
        drive(&mut app, &mut ctx, Action::InputChar(c));
    }
    drive(&mut app, &mut ctx, Action::InputSubmit);
    let replay_search_ms = t.elapsed().as_secs_f64() * 1000.0;
    Ok(BenchReport {
        rollouts: (steps * u64::from(prompts * group)) as usize,
        build_store_s,
        live_frame_ms,
        replay_frame_ms,
        replay_open_ms,
        replay_step_ms,
        replay_search_ms,
        curves_frame_ms,
    })
}
