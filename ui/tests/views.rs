//! Snapshot tests of every view (ratatui TestBackend + insta) at 80×24 and 200×60, from a
//! fixed store built here, and state tests of the Action handling.

use std::sync::Arc;

use raif_rl::trainer::TrainerEvent;
use raif_store::{RunStatus, Store};
use raif_ui::action::{Action, InputTarget, Request, View};
use raif_ui::app::{App, Phase, ReplayLevel};
use raif_ui::bench::drive;
use raif_ui::views::curves::CurvesLayout;
use raif_ui::worker::Ctx;
use raif_ui::{fixtures, frame};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 60)];

struct Fixture {
    _dir: tempfile::TempDir,
    ctx: Ctx,
}

/// A store with a finished run (3 steps × 2 prompts × G 4) and a crashed one.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("store"));
    fixtures::build_run(&store, "run-a", RunStatus::Finished, 3, 2, 4).expect("run-a");
    fixtures::build_run(
        &store,
        "run-b",
        RunStatus::Failed("out of memory".into()),
        1,
        3,
        4,
    )
    .expect("run-b");
    let ctx = Ctx::new(store, dir.path().to_path_buf());
    Fixture { _dir: dir, ctx }
}

fn render(app: &App, w: u16, h: u16) -> String {
    raif_ui::bench::render_text(app, w, h).expect("draw")
}

fn snap(name: &str, app: &mut App) {
    for (w, h) in SIZES {
        app.update(Action::Resize(w, h));
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(app, w, h));
    }
}

fn app(fx: &mut Fixture) -> App {
    let mut app = App::new(None, Some("tiny"));
    for r in app.init() {
        for a in raif_ui::worker::serve(&mut fx.ctx, r) {
            app.update(a);
        }
    }
    app
}

/// The live state of a run at step 3 of 5, with one sequence streaming.
fn live_app(fx: &mut Fixture) -> App {
    let mut app = app(fx);
    let store = fx.ctx.store.clone();
    app.update(Action::StartRun);
    assert_eq!(app.train.phase, Phase::Starting);
    app.update(Action::TrainerSpawned {
        run_id: "run-a".into(),
    });
    let mut ev = vec![TrainerEvent::Started {
        run_id: "run-a".into(),
        total_steps: 5,
        warmup_steps: 0,
        first_step: 1,
        model: "tiny-test".into(),
        trainable_parameters: 123_456,
    }];
    for (s, m) in store.metrics("run-a").expect("metrics") {
        ev.push(TrainerEvent::StepStarted {
            step: s,
            prompts: vec!["rec-000".into(), "rec-001".into()],
        });
        ev.push(TrainerEvent::StepMetrics {
            step: s,
            metrics: m,
        });
        ev.push(TrainerEvent::CheckpointSaved { step: s });
    }
    ev.push(TrainerEvent::StepStarted {
        step: 3,
        prompts: vec!["rec-000".into(), "rec-001".into()],
    });
    for r in store
        .step_rollouts("run-a", 3)
        .expect("step")
        .into_iter()
        .take(6)
    {
        ev.push(TrainerEvent::Rollout(Box::new(r)));
    }
    ev.push(TrainerEvent::Token {
        step: 3,
        prompt_index: 1,
        sample: 2,
        delta: "<think>\nThe user wants a markdown list".into(),
    });
    ev.push(TrainerEvent::Token {
        step: 3,
        prompt_index: 1,
        sample: 2,
        delta: " about sleep.\nEach tip".into(),
    });
    app.update(Action::Tick(0));
    app.update(Action::Trainer(ev, 40));
    app.update(Action::Tick(2000));
    app
}

#[test]
fn launch_view() {
    let mut fx = fixture();
    let mut app = app(&mut fx);
    assert_eq!(app.view, View::Launch);
    snap("launch", &mut app);
    // Editing a field shows the input line.
    app.update(Action::Down);
    app.update(Action::Down);
    app.update(Action::Down);
    app.update(Action::Enter);
    app.update(Action::InputBackspace);
    app.update(Action::InputBackspace);
    // The tiny preset's curriculum (15 steps) needs at least as many GRPO steps.
    app.update(Action::InputChar('2'));
    app.update(Action::InputChar('0'));
    snap("launch_editing", &mut app);
    app.update(Action::InputSubmit);
    assert_eq!(app.launch.config().expect("config").train.steps, 20);
}

#[test]
fn live_view() {
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    assert_eq!(app.view, View::Live);
    assert_eq!(app.live.rollouts.len(), 6);
    assert_eq!(app.live.rollouts.index(), 5, "follows the newest");
    assert_eq!(app.train.tokens_per_s, 20.0, "40 tokens in 2 s");
    snap("live", &mut app);
    app.update(Action::Up);
    app.update(Action::ToggleReasoning);
    assert!(!app.live.follow);
    snap("live_reasoning", &mut app);
}

#[test]
fn group_view() {
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    app.update(Action::Top);
    app.update(Action::OpenGroup);
    assert_eq!(app.view, View::Group);
    assert_eq!(app.group.members().len(), 4);
    snap("group", &mut app);
    app.update(Action::CycleSort);
    let rewards: Vec<f64> = app.group.members().iter().map(|r| r.reward).collect();
    assert!(
        rewards.windows(2).all(|w| w[0] >= w[1]),
        "sorted by reward: {rewards:?}"
    );
    app.update(Action::NextPrompt);
    assert_eq!(app.group.prompt, 1);
    snap("group_sorted_next", &mut app);
    app.update(Action::Back);
    assert_eq!(app.view, View::Live);
}

#[test]
fn group_and_tokens_by_their_tab_show_a_rollout_instead_of_opening_empty() {
    let mut fx = fixture();
    // From Live: its selected rollout (the newest while it follows).
    let mut app = live_app(&mut fx);
    let newest = app
        .live
        .rollouts
        .selected()
        .cloned()
        .expect("a live rollout");
    app.update(Action::SwitchView(View::Curves));
    app.update(Action::SwitchView(View::Group));
    assert_eq!(app.view, View::Group);
    let r = app.group.selected_rollout().expect("a group is shown");
    assert_eq!(
        (r.step, r.prompt_index, r.sample),
        (newest.step, newest.prompt_index, newest.sample)
    );
    app.update(Action::SwitchView(View::Tokens));
    assert_eq!(app.view, View::Tokens);
    assert_eq!(
        app.tokens.rollout.as_ref().map(|r| r.sample),
        Some(newest.sample)
    );
    // A group already shown stays as it was.
    app.update(Action::SwitchView(View::Live));
    app.update(Action::Top);
    app.update(Action::SwitchView(View::Group));
    let r = app.group.selected_rollout().expect("still shown");
    assert_eq!(r.sample, newest.sample);
    // Nothing anywhere: the view says how to get something.
    let mut empty = App::new(None, None);
    empty.update(Action::SwitchView(View::Group));
    assert_eq!(empty.view, View::Group);
    assert!(empty.group.step_rollouts.is_empty());
}

#[test]
fn curves_p_writes_the_shown_curves_as_a_picture_and_says_where() {
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    app.update(Action::SwitchView(View::Curves));
    // The dashboard: every chart it shows.
    let shown: Vec<String> = app
        .curves
        .dashboard_keys()
        .into_iter()
        .map(String::from)
        .collect();
    assert!(shown.len() >= 5, "{shown:?}");
    let reqs = app.update(Action::SavePlot);
    assert!(
        matches!(&reqs[..], [Request::Plot { runs, metrics, .. }]
            if runs == &["run-a".to_string()] && metrics == &shown),
        "{reqs:?}"
    );
    // One metric full size: that metric.
    app.update(Action::ToggleDashboard);
    let reqs = app.update(Action::SavePlot);
    assert!(
        matches!(&reqs[..], [Request::Plot { metrics, .. }] if metrics.len() == 1),
        "{reqs:?}"
    );
    for r in reqs {
        for a in raif_ui::worker::serve(&mut fx.ctx, r) {
            app.update(a);
        }
    }
    let msg = app.message.clone().unwrap_or_default();
    let path = msg.strip_prefix("curves written to ").expect(&msg);
    assert!(path.ends_with(".svg") && path.contains("plots"), "{msg}");
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.contains("run-a"), "the legend names the run");
}

#[test]
fn curves_view() {
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    app.update(Action::SwitchView(View::Curves));
    assert_eq!(app.curves.layout, CurvesLayout::Dashboard);
    app.update(Action::ToggleDashboard);
    assert_eq!(
        app.curves.selected_key().map(|s| s.as_str()),
        Some("answer_score")
    );
    let keys: Vec<String> = app.curves.keys().into_iter().cloned().collect();
    let i = keys.iter().position(|k| k == "loss").expect("loss");
    for _ in 0..i {
        app.update(Action::Down);
    }
    assert_eq!(app.curves.selected_key().map(|s| s.as_str()), Some("loss"));
    snap("curves", &mut app);
    app.update(Action::ToggleSmallMultiples);
    snap("curves_small_multiples", &mut app);
    app.update(Action::ToggleSmallMultiples);
    app.update(Action::ToggleFreeze);
    let frozen = app.curves.visible();
    app.update(Action::Trainer(
        vec![TrainerEvent::StepMetrics {
            step: 9,
            metrics: [("loss".to_string(), 0.1)].into_iter().collect(),
        }],
        0,
    ));
    assert_eq!(
        app.curves.visible(),
        frozen,
        "frozen: new data do not move the view"
    );
    app.update(Action::ToggleFreeze);
    assert_eq!(app.curves.visible(), Some((1, 9)));
    app.update(Action::StartInput(InputTarget::ZoomRange));
    app.update(Action::InputBackspace);
    for _ in 0..10 {
        app.update(Action::InputBackspace);
    }
    for c in "2..3".chars() {
        app.update(Action::InputChar(c));
    }
    app.update(Action::InputSubmit);
    assert_eq!(app.curves.visible(), Some((2, 3)));
    app.update(Action::CycleSmoothing);
    snap("curves_zoomed", &mut app);
}

#[test]
fn replay_view() {
    let mut fx = fixture();
    let mut app = app(&mut fx);
    app.update(Action::SwitchView(View::Replay));
    assert_eq!(app.replay.runs.len(), 2);
    snap("replay_runs", &mut app);
    let ctx = &mut fx.ctx;
    // run-a and run-b were created with the same time: newest first is by id descending.
    let a = app
        .replay
        .runs
        .iter()
        .position(|r| r.id == "run-a")
        .expect("run-a");
    for _ in 0..a {
        drive(&mut app, ctx, Action::Down);
    }
    drive(&mut app, ctx, Action::Enter);
    assert_eq!(app.replay.level, ReplayLevel::Steps);
    assert_eq!(app.replay.steps, vec![1, 2, 3]);
    snap("replay_steps", &mut app);
    drive(&mut app, ctx, Action::Down);
    drive(&mut app, ctx, Action::Enter);
    assert_eq!(app.replay.level, ReplayLevel::Prompts);
    assert_eq!(app.replay.step_rollouts.len(), 8);
    snap("replay_prompts", &mut app);
    drive(&mut app, ctx, Action::Enter);
    drive(&mut app, ctx, Action::Down);
    assert_eq!(app.replay.level, ReplayLevel::Rollouts);
    snap("replay_rollouts", &mut app);

    // Evolution of this prompt across the steps.
    drive(&mut app, ctx, Action::OpenEvolution);
    assert_eq!(app.replay.level, ReplayLevel::Evolution);
    assert_eq!(app.replay.evolution.len(), 12, "4 samples × 3 steps");
    assert!(app
        .replay
        .evolution
        .iter()
        .all(|r| r.prompt_id == "rec-000"));
    snap("replay_evolution", &mut app);
    drive(&mut app, ctx, Action::Back);
    assert_eq!(app.replay.level, ReplayLevel::Rollouts);

    // Filters: a failed constraint, then dropped only, then a text search.
    drive(
        &mut app,
        ctx,
        Action::StartInput(InputTarget::FailedConstraint),
    );
    for c in "keywords:existence".chars() {
        drive(&mut app, ctx, Action::InputChar(c));
    }
    drive(&mut app, ctx, Action::InputSubmit);
    assert_eq!(app.replay.level, ReplayLevel::Results);
    assert!(!app.replay.results.is_empty());
    assert!(app.replay.results.iter().all(|r| r
        .verdicts
        .iter()
        .any(|v| v.id == "keywords:existence" && !v.pass)));
    snap("replay_filtered", &mut app);
    drive(&mut app, ctx, Action::CycleKeptFilter);
    drive(&mut app, ctx, Action::CycleKeptFilter);
    assert_eq!(app.replay.filter.kept, Some(false));
    assert!(app.replay.results.iter().all(|r| !r.kept));
    drive(&mut app, ctx, Action::ClearFilters);
    assert_eq!(app.replay.level, ReplayLevel::Steps);
    drive(&mut app, ctx, Action::StartInput(InputTarget::RewardRange));
    for c in "1.5..".chars() {
        drive(&mut app, ctx, Action::InputChar(c));
    }
    drive(&mut app, ctx, Action::InputSubmit);
    assert!(app.replay.results.iter().all(|r| r.reward >= 1.5));
    drive(&mut app, ctx, Action::ClearFilters);
    drive(&mut app, ctx, Action::StartInput(InputTarget::Search));
    for c in "NIGHT".chars() {
        drive(&mut app, ctx, Action::InputChar(c));
    }
    drive(&mut app, ctx, Action::InputSubmit);
    assert!(!app.replay.results.is_empty());
    assert!(
        app.replay.results.iter().all(|r| r.prompt_index % 3 == 1),
        "only the sleep prompt mentions the night"
    );
    drive(&mut app, ctx, Action::CycleNoThinkFilter);
    assert!(app.replay.results.iter().all(|r| r.no_think));
}

#[test]
fn replay_run_curves() {
    let mut fx = fixture();
    let mut app = app(&mut fx);
    app.update(Action::SwitchView(View::Replay));
    let ctx = &mut fx.ctx;
    let b = app
        .replay
        .runs
        .iter()
        .position(|r| r.id == "run-b")
        .expect("run-b");
    for _ in 0..b {
        drive(&mut app, ctx, Action::Down);
    }
    drive(&mut app, ctx, Action::OpenRunCurves);
    assert_eq!(app.view, View::Curves);
    assert!(app
        .curves
        .other
        .as_ref()
        .is_some_and(|(id, s)| id == "run-b" && !s.is_empty()));
    drive(&mut app, ctx, Action::Back);
    assert!(app.curves.other.is_none());
}

#[test]
fn tokens_view() {
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    let reqs = app.update(Action::OpenTokens);
    assert_eq!(app.view, View::Tokens);
    let Some(Request::TokenTexts { key, tokens, model }) = reqs.into_iter().next() else {
        panic!("asks for token texts")
    };
    assert_eq!(model, "tiny-test");
    // The test model is not on disk: the worker says so, and ids are shown.
    let r = raif_ui::worker::serve(
        &mut fx.ctx,
        Request::TokenTexts {
            key,
            model: model.clone(),
            tokens: tokens.clone(),
        },
    );
    assert!(matches!(&r[0], Action::TokenTexts { texts: Err(_), .. }));
    // With pieces (as a tokenizer would give).
    let texts: Vec<String> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i % 9 == 8 {
                "\n".to_string()
            } else {
                format!("w{t} ")
            }
        })
        .collect();
    app.update(Action::TokenTexts {
        key,
        texts: Ok(texts),
    });
    app.update(Action::Right);
    app.update(Action::Right);
    snap("tokens", &mut app);
    app.update(Action::CycleTokenColour);
    snap("tokens_entropy", &mut app);
    app.update(Action::Back);
    assert_eq!(app.view, View::Live);
}

#[test]
fn tokenizer_of_an_hf_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lm = raif_model::tiny::tiny_model(raif_model::Arch::Llama, 1).expect("tiny model");
    let folder = dir.path().join("tiny");
    lm.save_hf(&folder).expect("save");
    let tok =
        raif_ui::worker::load_tokenizer(&dir.path().join("models"), &folder.display().to_string())
            .expect("tokenizer");
    let ids = tok.encode("hello world").expect("encode");
    assert_eq!(tok.token_texts(&ids).concat(), "hello world");
}

#[test]
fn help_overlay_and_small_terminal() {
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    app.update(Action::ToggleHelp);
    snap("help", &mut app);
    // Every view's keys are reachable by scrolling.
    app.update(Action::ScrollDetail(40));
    assert_eq!((app.help_scroll, app.detail_scroll), (40, 0));
    app.update(Action::Resize(80, 24));
    insta::assert_snapshot!("help_scrolled_80x24", render(&app, 80, 24));
    // q closes the help first.
    app.update(Action::Quit);
    assert!(!app.help && !app.should_quit);
    app.update(Action::Resize(50, 10));
    insta::assert_snapshot!("too_small", render(&app, 50, 10));
}

#[test]
fn quitting_while_training_asks_then_stops_cleanly() {
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    assert!(app.update(Action::Quit).is_empty());
    assert!(app.confirm_quit && !app.should_quit);
    snap("confirm_quit", &mut app);
    // "No" keeps training.
    app.update(Action::ConfirmQuit(false));
    assert!(!app.confirm_quit && app.train.phase == Phase::Running);
    app.update(Action::Quit);
    let reqs = app.update(Action::ConfirmQuit(true));
    assert!(
        matches!(
            reqs.as_slice(),
            [Request::Command(raif_rl::trainer::TrainerCommand::Stop)]
        ),
        "{reqs:?}"
    );
    assert_eq!(app.train.phase, Phase::Stopping);
    assert!(!app.should_quit, "waits for the trainer");
    app.update(Action::Trainer(
        vec![
            TrainerEvent::CheckpointSaved { step: 3 },
            TrainerEvent::Finished { last_step: 3 },
        ],
        0,
    ));
    assert!(app.should_quit);
}

#[test]
fn quitting_when_idle_is_immediate() {
    let mut app = App::new(None, None);
    app.update(Action::Quit);
    assert!(app.should_quit);
}

#[test]
fn trainer_control_actions() {
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    use raif_rl::trainer::TrainerCommand as C;
    assert!(matches!(
        app.update(Action::PauseResume).as_slice(),
        [Request::Command(C::Pause)]
    ));
    app.update(Action::Trainer(vec![TrainerEvent::Paused], 0));
    assert_eq!(app.train.phase, Phase::Paused);
    assert!(matches!(
        app.update(Action::PauseResume).as_slice(),
        [Request::Command(C::Resume)]
    ));
    app.update(Action::Trainer(vec![TrainerEvent::Resumed], 0));
    assert_eq!(app.train.phase, Phase::Running);
    assert!(matches!(
        app.update(Action::SaveNow).as_slice(),
        [Request::Command(C::SaveNow)]
    ));
    assert!(matches!(
        app.update(Action::StopRun).as_slice(),
        [Request::Command(C::Stop)]
    ));
    assert!(app.update(Action::StopRun).is_empty(), "one Stop is enough");
    app.update(Action::TrainerExited(Ok(3)));
    assert_eq!(app.train.phase, Phase::Finished);
    // A second run cannot start while one trains, and a bad form says why.
    let mut app = App::new(None, Some("tiny"));
    app.launch.group_size.value = "1".into();
    assert!(app.update(Action::StartRun).is_empty());
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("group_size")),
        "{:?}",
        app.message
    );
}

#[test]
fn streaming_tokens_are_bounded_and_cleared_by_the_rollout() {
    let mut app = App::new(None, None);
    let big = "x".repeat(10_000);
    let ev: Vec<TrainerEvent> = (0..10)
        .map(|_| TrainerEvent::Token {
            step: 1,
            prompt_index: 0,
            sample: 0,
            delta: big.clone(),
        })
        .collect();
    app.update(Action::Trainer(ev, 10));
    assert!(app.live.streams[&(0, 0)].len() <= 16 * 1024);
    app.update(Action::Trainer(
        vec![TrainerEvent::Rollout(Box::new(fixtures::rollout(
            1, 0, 0, 4,
        )))],
        0,
    ));
    assert!(app.live.streams.is_empty());
    assert_eq!(app.live.rollouts.len(), 1);
}

#[test]
fn keys_map_to_actions() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
    let key = |c: KeyCode| Event::Key(KeyEvent::new(c, KeyModifiers::NONE));
    let mut app = App::new(None, None);
    assert_eq!(
        frame::map_event(&app, &key(KeyCode::Char('?'))),
        Some(Action::ToggleHelp)
    );
    assert_eq!(
        frame::map_event(&app, &key(KeyCode::Char('4'))),
        Some(Action::SwitchView(View::Curves))
    );
    assert_eq!(
        frame::map_event(&app, &key(KeyCode::Char('q'))),
        Some(Action::Quit)
    );
    assert_eq!(
        frame::map_event(
            &app,
            &Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
        ),
        Some(Action::Quit)
    );
    assert_eq!(
        frame::map_event(&app, &Event::Resize(100, 30)),
        Some(Action::Resize(100, 30))
    );
    let wheel = Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 1,
        row: 1,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(frame::map_event(&app, &wheel), Some(Action::Scroll(1)));
    app.update(Action::SwitchView(View::Replay));
    assert_eq!(
        frame::map_event(&app, &key(KeyCode::Char('/'))),
        Some(Action::StartInput(InputTarget::Search))
    );
    app.update(Action::StartInput(InputTarget::Search));
    assert_eq!(
        frame::map_event(&app, &key(KeyCode::Char('q'))),
        Some(Action::InputChar('q')),
        "typing, not quitting"
    );
    assert_eq!(
        frame::map_event(&app, &key(KeyCode::Esc)),
        Some(Action::Back)
    );
    app.update(Action::Back);
    assert!(app.input.is_none());
    app.help = true;
    assert_eq!(
        frame::map_event(&app, &key(KeyCode::Char('j'))),
        Some(Action::ScrollDetail(1)),
        "j scrolls the help"
    );
    assert_eq!(frame::map_event(&app, &key(KeyCode::Char('x'))), None);
}

#[test]
fn the_benchmark_runs_on_a_small_store() {
    // Not a measurement: checks that `cargo bench --bench render` has something to time.
    let dir = tempfile::tempdir().expect("tempdir");
    let r = raif_ui::bench::bench_render(dir.path(), 256, 1).expect("bench");
    assert_eq!(r.rollouts, 256);
    assert!(r.to_string().contains("replay frame"));
}

#[test]
fn the_run_list_refreshes_when_the_trainer_starts_and_on_opening_replay() {
    let mut app = App::new(None, Some("tiny"));
    let started = TrainerEvent::Started {
        run_id: "r".into(),
        total_steps: 1,
        warmup_steps: 0,
        first_step: 1,
        model: "m".into(),
        trainable_parameters: 1,
    };
    assert!(matches!(
        app.update(Action::Trainer(vec![started], 0)).as_slice(),
        [Request::ListRuns]
    ));
    assert!(matches!(
        app.update(Action::SwitchView(View::Replay)).as_slice(),
        [Request::ListRuns]
    ));
    assert!(app.update(Action::SwitchView(View::Live)).is_empty());
}

#[test]
fn eval_view() {
    let mut fx = fixture();
    let mut app = app(&mut fx);
    // Empty store: says how to make one, and that the paper column is absent.
    let reqs = app.update(Action::SwitchView(View::Eval));
    assert!(matches!(reqs.as_slice(), [Request::ListEvals]));
    for r in reqs {
        for a in raif_ui::worker::serve(&mut fx.ctx, r) {
            app.update(a);
        }
    }
    snap("eval_empty", &mut app);
    fixtures::build_evals(&fx.ctx.store).expect("evals");
    for r in app.update(Action::Refresh) {
        for a in raif_ui::worker::serve(&mut fx.ctx, r) {
            app.update(a);
        }
    }
    assert_eq!(app.evals.runs.len(), 2);
    // Grouped: benchmark, then model or checkpoint, then mode.
    assert_eq!(app.evals.runs[0].model, "default");
    snap("eval", &mut app);
    app.update(Action::Down);
    assert_eq!(
        app.evals.selected().map(|r| r.checkpoint.clone()),
        Some(Some("run-a@3".into()))
    );
    snap("eval_checkpoint", &mut app);
    // The key opens it from anywhere.
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let k = KeyEvent::new(KeyCode::Char('7'), KeyModifiers::NONE);
    assert_eq!(
        frame::map_key(&app, k),
        Some(Action::SwitchView(View::Eval))
    );
}

#[test]
fn compare_view() {
    let mut fx = fixture();
    let mut app = app(&mut fx);
    fixtures::build_evals(&fx.ctx.store).expect("evals");
    let mut run = |app: &mut App, a: Action| {
        for r in app.update(a) {
            for a in raif_ui::worker::serve(&mut fx.ctx, r) {
                app.update(a);
            }
        }
    };
    run(&mut app, Action::SwitchView(View::Compare));
    snap("compare_unset", &mut app);
    run(&mut app, Action::SwitchView(View::Eval));
    run(&mut app, Action::MarkCompare(true));
    run(&mut app, Action::Down);
    run(&mut app, Action::MarkCompare(false));
    run(&mut app, Action::SwitchView(View::Compare));
    let t = app.compare.tally().unwrap().unwrap();
    // cot (base) against think (checkpoint): B satisfies more on items 0 and 1, A on item 2
    // ("a quiet note" against "Third, Note").
    assert_eq!((t.a_wins, t.b_wins, t.ties), (1, 2, 0));
    snap("compare", &mut app);
    run(&mut app, Action::Down);
    run(&mut app, Action::Down);
    assert_eq!(app.compare.selected_pair().unwrap().0.index, 2);
    snap("compare_a_wins", &mut app);
}

// ── A run with a warm-up and budget forcing ────────────────────────────────────────────

/// A store with `run-w`: 2 warm-up steps (metrics only), then 3 GRPO steps of 2 prompts ×
/// G 4 with budget-forced rollouts.
fn warmup_fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("store"));
    fixtures::build_warmup_run(&store, "run-w", RunStatus::Finished, 2, 3, 2, 4).expect("run-w");
    let ctx = Ctx::new(store, dir.path().to_path_buf());
    Fixture { _dir: dir, ctx }
}

fn prompts() -> Vec<String> {
    vec!["rec-000".into(), "rec-001".into()]
}

/// `run-w` training live: the events of its steps before `upto`, then step `upto` started
/// with its first seven rollouts (none in the warm-up).
fn warmup_live_app(fx: &mut Fixture, upto: u64) -> App {
    let mut app = app(fx);
    let store = fx.ctx.store.clone();
    app.update(Action::StartRun);
    app.update(Action::TrainerSpawned {
        run_id: "run-w".into(),
    });
    let mut ev = vec![TrainerEvent::Started {
        run_id: "run-w".into(),
        total_steps: 5,
        warmup_steps: 2,
        first_step: 1,
        model: "tiny-test".into(),
        trainable_parameters: 123_456,
    }];
    for (s, m) in store.metrics("run-w").expect("metrics") {
        if s >= upto {
            break;
        }
        ev.push(TrainerEvent::StepStarted {
            step: s,
            prompts: prompts(),
        });
        ev.push(TrainerEvent::StepMetrics {
            step: s,
            metrics: m,
        });
    }
    ev.push(TrainerEvent::StepStarted {
        step: upto,
        prompts: prompts(),
    });
    for r in store
        .step_rollouts("run-w", upto)
        .expect("step")
        .into_iter()
        .take(7)
    {
        ev.push(TrainerEvent::Rollout(Box::new(r)));
    }
    app.update(Action::Tick(0));
    app.update(Action::Trainer(ev, 40));
    app.update(Action::Tick(2000));
    app
}

/// Every view of `app` at sizes from too small to the smallest full layout and beyond draws
/// without panicking (with and without the help overlay).
fn renders_at_every_size(app: &App) {
    let mut app = app.clone();
    for v in View::ALL {
        app.view = v;
        for help in [false, true] {
            app.help = help;
            for (w, h) in [(40, 10), (60, 15), (61, 16), (72, 18), (80, 24), (120, 30)] {
                render(&app, w, h);
            }
        }
    }
}

#[test]
fn phase_labels() {
    use raif_ui::app::phase_label;
    assert_eq!(
        phase_label(3, 0, 5),
        None,
        "no warm-up: the step says it all"
    );
    assert_eq!(phase_label(0, 20, 70).as_deref(), Some("warm-up 0/20"));
    assert_eq!(phase_label(7, 20, 70).as_deref(), Some("warm-up 7/20"));
    assert_eq!(phase_label(20, 20, 70).as_deref(), Some("warm-up 20/20"));
    assert_eq!(phase_label(21, 20, 70).as_deref(), Some("GRPO 1/50"));
    assert_eq!(phase_label(70, 20, 70).as_deref(), Some("GRPO 50/50"));
    // A total that is too small (an old record) never reads "GRPO 3/1".
    assert_eq!(phase_label(23, 20, 21).as_deref(), Some("GRPO 3/3"));
}

#[test]
fn warmup_then_grpo_in_the_header_and_live() {
    let mut fx = warmup_fixture();
    let mut app = warmup_live_app(&mut fx, 2);
    assert!(app.train.in_warmup());
    assert_eq!(app.train.phase_label().as_deref(), Some("warm-up 2/2"));
    assert!(app.live.rollouts.is_empty(), "the warm-up has no rollouts");
    snap("live_warmup", &mut app);
    renders_at_every_size(&app);

    let mut app = warmup_live_app(&mut fx, 3);
    assert!(!app.train.in_warmup());
    assert_eq!(app.train.phase_label().as_deref(), Some("GRPO 1/3"));
    let sel = app.live.rollouts.selected().expect("selected");
    assert_eq!((sel.prompt_index, sel.sample), (1, 2));
    assert_eq!(sel.forced, "think+answer");
    assert_eq!(sel.finish, "length", "the answer budget ran out");
    assert_eq!(sel.format_score, 0.0, "the run's forced format score");
    assert!(!sel.forced_tokens.is_empty());
    snap("live_forced", &mut app);
    renders_at_every_size(&app);
    // A run without a warm-up keeps its plain step (and its 80-column tabs).
    let mut fx = fixture();
    let app = live_app(&mut fx);
    assert_eq!(app.train.phase_label(), None);
    assert!(render(&app, 200, 60).contains("run-a training · step 3/5"));
    assert!(render(&app, 80, 24).starts_with(" raif   1 Launch 2 Live"));
}

#[test]
fn group_shows_forced_samples() {
    let mut fx = warmup_fixture();
    let mut app = warmup_live_app(&mut fx, 3);
    app.update(Action::OpenGroup);
    assert_eq!(app.view, View::Group);
    assert_eq!(app.group.prompt, 1);
    let forced: Vec<(u32, String)> = app
        .group
        .members()
        .iter()
        .map(|r| (r.sample, r.forced.clone()))
        .collect();
    assert_eq!(
        forced,
        vec![
            (0, "none".into()),
            (1, "think".into()),
            (2, "think+answer".into()),
        ],
        "the samples that have arrived"
    );
    assert_eq!(
        app.group.selected_rollout().map(|r| r.forced.as_str()),
        Some("think+answer")
    );
    snap("group_forced", &mut app);
    renders_at_every_size(&app);
}

#[test]
fn replay_shows_phases_and_forced_rollouts() {
    let mut fx = warmup_fixture();
    let mut app = app(&mut fx);
    let ctx = &mut fx.ctx;
    drive(&mut app, ctx, Action::SwitchView(View::Replay));
    drive(&mut app, ctx, Action::Enter);
    assert_eq!(app.replay.level, ReplayLevel::Steps);
    assert_eq!(
        app.replay.steps,
        vec![3, 4, 5],
        "warm-up steps have no rollouts"
    );
    assert_eq!(app.replay.run_phases(), Some((2, 5)));
    assert_eq!(app.replay.step_phase(3).as_deref(), Some("GRPO 1/3"));
    snap("replay_warmup_steps", &mut app);
    drive(&mut app, ctx, Action::Enter);
    drive(&mut app, ctx, Action::Enter);
    drive(&mut app, ctx, Action::Down);
    assert_eq!(app.replay.level, ReplayLevel::Rollouts);
    let r = app.replay.selected_rollout().expect("selected");
    assert_eq!((r.step, r.prompt_index, r.sample), (3, 0, 1));
    assert_eq!(r.forced, "think");
    assert!(
        r.format_score < 1.0,
        "a forced sample loses the format point"
    );
    snap("replay_forced", &mut app);
    renders_at_every_size(&app);

    // A stored run without `warmup.steps` in its configuration: the `phase` metric says.
    let mut no_cfg = app.replay.runs[0].clone();
    no_cfg.config = serde_json::json!({});
    app.replay.runs = vec![no_cfg].into();
    assert_eq!(app.replay.run_phases().map(|p| p.0), Some(2));
}

#[test]
fn curves_mark_where_grpo_begins() {
    let mut fx = warmup_fixture();
    let mut app = warmup_live_app(&mut fx, 3);
    let metrics = fx.ctx.store.metrics("run-w").expect("metrics");
    let later: Vec<TrainerEvent> = metrics
        .into_iter()
        .filter(|(s, _)| *s >= 3)
        .map(|(step, metrics)| TrainerEvent::StepMetrics { step, metrics })
        .collect();
    app.update(Action::Trainer(later, 0));
    app.update(Action::SwitchView(View::Curves));
    assert_eq!(app.curves.grpo_start(app.train.warmup_steps), Some(3));
    assert!(
        render(&app, 200, 60).matches("┊GRPO").count() >= 5,
        "every chart of the dashboard has the marker"
    );
    app.update(Action::ToggleDashboard);
    let keys: Vec<String> = app.curves.keys().into_iter().cloned().collect();
    for k in [
        "completions/forced_ratio",
        "format/self_closed_ratio",
        "eval/format_ok",
        "eval/instruction_strict",
        "phase",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} in {keys:?}");
    }
    // Warm-up steps have no reward: its series starts with GRPO, the chart at step 1.
    assert_eq!(app.curves.live["reward"].range(), Some((3, 5)));
    assert_eq!(app.curves.live["eval/format_ok"].range(), Some((2, 5)));
    assert_eq!(app.curves.full_range(), Some((1, 5)));
    let i = keys.iter().position(|k| k == "reward").expect("reward");
    app.update(Action::Top);
    for _ in 0..i {
        app.update(Action::Down);
    }
    assert_eq!(
        app.curves.selected_key().map(|s| s.as_str()),
        Some("reward")
    );
    snap("curves_warmup", &mut app);
    let text = render(&app, 200, 60);
    assert!(text.contains("┊GRPO"), "the marker is labelled");
    app.update(Action::ToggleSmallMultiples);
    snap("curves_warmup_small_multiples", &mut app);
    assert!(
        render(&app, 200, 60).matches("┊GRPO").count() >= 3,
        "every chart has the marker"
    );
    renders_at_every_size(&app);
    // Zoomed past the first GRPO step: no marker.
    app.update(Action::ToggleSmallMultiples);
    app.curves.zoom = Some((4, 5));
    assert!(!render(&app, 200, 60).contains('┊'));

    // The stored run's curves, opened from Replay, have it too; a run without a warm-up not.
    let ctx = &mut fx.ctx;
    let mut app = raif_ui::App::new(None, Some("tiny"));
    for r in app.init() {
        for a in raif_ui::worker::serve(ctx, r) {
            app.update(a);
        }
    }
    drive(&mut app, ctx, Action::SwitchView(View::Replay));
    drive(&mut app, ctx, Action::OpenRunCurves);
    assert_eq!(app.view, View::Curves);
    assert_eq!(app.curves.grpo_start(app.train.warmup_steps), Some(3));
    assert!(render(&app, 120, 30).contains("┊GRPO"));
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    app.update(Action::SwitchView(View::Curves));
    assert_eq!(app.curves.grpo_start(app.train.warmup_steps), None);
    assert!(!render(&app, 200, 60).contains('┊'));
}

#[test]
fn a_resumed_run_marks_grpo_from_its_configuration() {
    // Resumed after its warm-up: no `phase` = 0 step is seen live, the warm-up length says.
    let mut app = App::new(None, None);
    app.update(Action::Trainer(
        vec![
            TrainerEvent::Started {
                run_id: "r".into(),
                total_steps: 10,
                warmup_steps: 4,
                first_step: 7,
                model: "m".into(),
                trainable_parameters: 1,
            },
            TrainerEvent::StepMetrics {
                step: 7,
                metrics: [("phase".to_string(), 1.0), ("reward".to_string(), 0.5)]
                    .into_iter()
                    .collect(),
            },
        ],
        0,
    ));
    assert_eq!(app.curves.grpo_start(app.train.warmup_steps), Some(5));
    assert_eq!(app.train.phase_label().as_deref(), Some("GRPO 3/6"));
}

#[test]
fn tokens_mark_injected_tokens() {
    let mut fx = warmup_fixture();
    let mut app = warmup_live_app(&mut fx, 3);
    let reqs = app.update(Action::OpenTokens);
    let Some(Request::TokenTexts { key, tokens, .. }) = reqs.into_iter().next() else {
        panic!("asks for token texts")
    };
    let forced = app
        .tokens
        .rollout
        .as_ref()
        .map(|r| r.forced_tokens.clone())
        .unwrap_or_default();
    assert_eq!(
        forced.len(),
        fixtures::THINK_CLOSE.len() + fixtures::ANSWER_CLOSE.len()
    );
    let texts: Vec<String> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| match fixtures::tag_piece(*t) {
            Some(p) if forced.contains(&(i as u32)) => p.to_string(),
            _ => format!("w{t} "),
        })
        .collect();
    app.update(Action::TokenTexts {
        key,
        texts: Ok(texts),
    });
    // The second injected token: `</think>`.
    for _ in 0..=forced[0] {
        app.update(Action::Right);
    }
    assert_eq!(app.tokens.cursor.index() as u32, forced[1]);
    snap("tokens_forced", &mut app);
    let text = render(&app, 200, 60);
    assert!(text.contains("injected by budget forcing"));
    assert!(
        !text.contains("log-prob 0.000"),
        "no model probability for it"
    );
    renders_at_every_size(&app);
}

#[test]
fn the_end_of_a_fetch_is_a_typed_notification() {
    let mut app = App::new(None, Some("tiny"));
    assert!(matches!(
        app.update(Action::FetchDefaultModel).as_slice(),
        [Request::FetchDefault]
    ));
    assert!(app.launch.fetching);
    assert!(
        app.update(Action::FetchDefaultModel).is_empty(),
        "one fetch at a time"
    );
    // A progress line that reads like the end is only a line.
    assert!(app
        .update(Action::Log("fetch done: looks finished".into()))
        .is_empty());
    assert!(app.launch.fetching);
    assert!(matches!(
        app.update(Action::FetchFinished(Err("offline".into())))
            .as_slice(),
        [Request::ListModels]
    ));
    assert!(!app.launch.fetching);
    assert_eq!(
        app.log.back().map(String::as_str),
        Some("fetch failed: offline")
    );
}

#[test]
fn one_key_table_feeds_the_keys_and_the_help() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut fx = fixture();
    let mut app = app(&mut fx);
    let key = |app: &App, c: char| {
        frame::map_key(app, KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    };
    // Replay's table: a line of help and the key behind it.
    let help = app.component(View::Replay).help();
    assert!(help.contains(&("/", "search text (prompt, response, reasoning, answer)")));
    assert!(
        help.iter().all(|(k, _)| !k.is_empty()),
        "aliases have no line"
    );
    app.update(Action::SwitchView(View::Replay));
    assert_eq!(
        key(&app, '/'),
        Some(Action::StartInput(InputTarget::Search))
    );
    // A line that applies only on a rollout: `g` means nothing on the run list.
    assert_eq!(key(&app, 'g'), None);
    let ctx = &mut fx.ctx;
    for a in [Action::Enter, Action::Enter, Action::Enter] {
        drive(&mut app, ctx, a);
    }
    assert_eq!(app.replay.level, ReplayLevel::Rollouts);
    assert_eq!(key(&app, 'g'), Some(Action::OpenGroup));
    // Launch's `s` starts a run only while none trains; the digits open views everywhere.
    let mut app = live_app(&mut fx);
    app.update(Action::SwitchView(View::Launch));
    assert_eq!(key(&app, 's'), None);
    assert_eq!(key(&app, 'p'), Some(Action::PauseResume));
    assert_eq!(key(&app, '5'), Some(Action::SwitchView(View::Replay)));
    // Without a message, the status line hints at the view's first six lines of help.
    app.message = None;
    let status = render(&app, 200, 60);
    let last = status.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("↑↓ choose a field · ← → cycle the choices"),
        "{last}"
    );
}

#[test]
fn results_reach_the_view_that_asked_wherever_the_user_is() {
    let mut fx = fixture();
    let mut app = app(&mut fx);
    assert_eq!(app.view, View::Launch);
    fixtures::build_evals(&fx.ctx.store).expect("evals");
    for a in raif_ui::worker::serve(&mut fx.ctx, Request::ListEvals) {
        app.update(a);
    }
    assert_eq!(app.evals.runs.len(), 2, "Eval got its evaluations");
    assert_eq!(app.replay.runs.len(), 2, "Replay got the runs at start");
    assert_eq!(app.view, View::Launch, "and nothing moved the user");
    // A view hands another what to show: Live opens the group, the group the tokens.
    let mut app = live_app(&mut fx);
    let reqs = app.update(Action::OpenGroup);
    assert!(reqs.is_empty());
    assert_eq!((app.view, app.group.back), (View::Group, Some(View::Live)));
    let reqs = app.update(Action::OpenTokens);
    assert!(matches!(reqs.as_slice(), [Request::TokenTexts { model, .. }] if model == "tiny-test"));
    assert_eq!(
        (app.view, app.tokens.back),
        (View::Tokens, Some(View::Group))
    );
    app.update(Action::Back);
    assert_eq!(app.view, View::Group);
    app.update(Action::Back);
    assert_eq!(app.view, View::Live);
}

#[test]
fn curves_dashboard_overlays_runs_from_replay() {
    let mut fx = fixture();
    let mut app = live_app(&mut fx);
    let ctx = &mut fx.ctx;
    drive(&mut app, ctx, Action::SwitchView(View::Replay));
    let b = app
        .replay
        .runs
        .iter()
        .position(|r| r.id == "run-b")
        .expect("run-b");
    drive(&mut app, ctx, Action::Top);
    for _ in 0..b {
        drive(&mut app, ctx, Action::Down);
    }
    drive(&mut app, ctx, Action::OverlaySelectedRun);
    assert_eq!(app.view, View::Replay, "overlaying stays in Replay");
    let msg = app.message.clone().unwrap_or_default();
    assert!(msg.contains("run-b overlaid"), "{msg}");
    assert_eq!(app.curves.overlays.len(), 1);
    assert!(
        !app.curves.overlays[0].series.is_empty(),
        "its metrics came"
    );
    drive(&mut app, ctx, Action::SwitchView(View::Curves));
    assert_eq!(app.curves.layout, CurvesLayout::Dashboard);
    let text = render(&app, 200, 60);
    for s in [
        "Dashboard",
        "■ run-a (live)",
        "■ run-b",
        "reward",
        "kl",
        "mean_length",
    ] {
        assert!(text.contains(s), "{s} in\n{text}");
    }
    snap("curves_dashboard_overlaid", &mut app);
    renders_at_every_size(&app);

    // The selected chart full size: both runs, with the legend.
    drive(&mut app, ctx, Action::Down);
    let second = app.curves.dashboard_keys()[1];
    drive(&mut app, ctx, Action::Enter);
    assert_eq!(app.curves.layout, CurvesLayout::Single);
    assert_eq!(app.curves.selected_key().map(|s| s.as_str()), Some(second));
    assert!(render(&app, 120, 30).contains("■ run-b"));
    // `P` draws what is shown for both runs.
    let reqs = app.update(Action::SavePlot);
    assert!(
        matches!(&reqs[..], [Request::Plot { runs, metrics, .. }]
            if runs == &["run-a".to_string(), "run-b".to_string()] && metrics == &[second.to_string()]),
        "{reqs:?}"
    );
    drive(&mut app, ctx, Action::Back);
    assert_eq!(app.curves.layout, CurvesLayout::Dashboard);

    // `o` again removes it; `x` in Curves removes them all.
    drive(&mut app, ctx, Action::SwitchView(View::Replay));
    drive(&mut app, ctx, Action::OverlaySelectedRun);
    assert!(app.curves.overlays.is_empty());
    drive(&mut app, ctx, Action::OverlaySelectedRun);
    assert_eq!(app.curves.overlays.len(), 1);
    drive(&mut app, ctx, Action::SwitchView(View::Curves));
    drive(&mut app, ctx, Action::ClearOverlays);
    assert!(app.curves.overlays.is_empty());
    assert!(!render(&app, 200, 60).contains("■ run-b"));
}

#[test]
fn curves_label_flat_and_one_point_series_by_their_value() {
    let mut app = App::new(None, None);
    let mut ev = vec![TrainerEvent::Started {
        run_id: "flat".into(),
        total_steps: 5,
        warmup_steps: 0,
        first_step: 1,
        model: "m".into(),
        trainable_parameters: 1,
    }];
    for step in 1..=4u64 {
        let mut m: raif_store::Metrics = [
            ("reward".to_string(), -2.0),
            ("kl".to_string(), 0.001 * step as f64),
        ]
        .into_iter()
        .collect();
        if step == 4 {
            m.insert("eval/format_ok".into(), 0.5);
        }
        ev.push(TrainerEvent::StepMetrics { step, metrics: m });
    }
    app.update(Action::Trainer(ev, 0));
    app.update(Action::SwitchView(View::Curves));
    assert_eq!(
        app.curves.dashboard_keys(),
        vec!["reward", "kl", "eval/format_ok"]
    );
    let text = render(&app, 200, 60);
    assert!(
        text.contains("-2.5 … -1.5"),
        "a line at −2 is labelled around −2:\n{text}"
    );
    assert!(text.contains("0 … 1"), "one point at 0.5:\n{text}");
    snap("curves_flat_and_one_point", &mut app);
    app.update(Action::Enter);
    assert_eq!(
        app.curves.selected_key().map(|s| s.as_str()),
        Some("reward")
    );
    let text = render(&app, 200, 60);
    // Labels bottom, middle and top: the line at −2 is on the middle one's row.
    for label in ["-2.5", "-2", "-1.5"] {
        let cell = format!("││{label:<4}│");
        assert!(text.contains(&cell), "the y axis reads {label}:\n{text}");
    }
    assert!(text.contains("││-2  │⠉⠉⠉"), "the line is drawn at −2");
    snap("curves_flat", &mut app);
}
