//! Compare's playground: its actions (prompt, constraints typed or picked from the catalogue,
//! sides, sampling, runs, stale events), the engine answering with a tiny model the test
//! saves as a cached OWNER/NAME, and snapshots mid-stream and finished at 80×24 and 200×60.

use std::sync::Arc;

use raif_store::Store;
use raif_ui::action::{Action, InputTarget, Request, View};
use raif_ui::app::App;
use raif_ui::bench::drive;
use raif_ui::playground::PlayEvent;
use raif_ui::worker::{serve, Ctx};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 60)];

struct Fixture {
    _dir: tempfile::TempDir,
    ctx: Ctx,
}

/// A home with an empty store and a tiny Llama cached as `test/tiny`.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir
        .path()
        .join("models/hub/models--test--tiny/snapshots/main");
    raif_model::tiny::tiny_model(raif_model::Arch::Llama, 3)
        .expect("tiny model")
        .save_hf(&snap)
        .expect("save it");
    let store = Arc::new(Store::open(dir.path()).expect("store"));
    let ctx = Ctx::new(store, dir.path().to_path_buf());
    Fixture { _dir: dir, ctx }
}

fn type_in(app: &mut App, ctx: &mut Ctx, target: InputTarget, text: &str) {
    drive(app, ctx, Action::StartInput(target));
    for _ in 0..200 {
        app.update(Action::InputBackspace);
    }
    for c in text.chars() {
        app.update(Action::InputChar(c));
    }
    drive(app, ctx, Action::InputSubmit);
}

fn snap(name: &str, app: &mut App) {
    for (w, h) in SIZES {
        app.update(Action::Resize(w, h));
        let text = raif_ui::bench::render_text(app, w, h).expect("draw");
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text);
    }
}

/// Timings vary from run to run: fixed ones for the snapshots.
fn steady(a: Action) -> Option<Action> {
    match a {
        Action::Play(PlayEvent::Status { .. }) => None,
        Action::Play(PlayEvent::Done {
            job, side, result, ..
        }) => Some(Action::Play(PlayEvent::Done {
            job,
            side,
            result,
            first_token_s: Some(0.4),
            elapsed_s: 1.5,
        })),
        a => Some(a),
    }
}

/// The playground set up: a prompt, two constraints (typed, and picked from the catalogue
/// with kwargs), the tiny model in io against think, three samples.
fn ready(fx: &mut Fixture) -> App {
    let ctx = &mut fx.ctx;
    let mut app = App::new(None, None);
    drive(&mut app, ctx, Action::SwitchView(View::Compare));
    drive(&mut app, ctx, Action::TogglePlayground);
    assert!(app.compare.playing);
    type_in(
        &mut app,
        ctx,
        InputTarget::PlayPrompt,
        "Describe rain in two sentences.",
    );
    assert_eq!(app.compare.play.prompt, "Describe rain in two sentences.");
    type_in(
        &mut app,
        ctx,
        InputTarget::PlayConstraint,
        "punctuation:no_comma",
    );
    assert_eq!(app.compare.play.constraints.len(), 1);
    // An id that is not in the catalogue: the message names what was meant; nothing added.
    type_in(
        &mut app,
        ctx,
        InputTarget::PlayConstraint,
        "number_words num_words=30",
    );
    let msg = app.message.clone().unwrap_or_default();
    assert!(msg.contains("length_constraints:number_words"), "{msg}");
    assert_eq!(app.compare.play.constraints.len(), 1);
    // The catalogue: pick an id, then its kwargs.
    drive(&mut app, ctx, Action::ToggleCatalogue);
    let want = "length_constraints:number_words";
    let cat = app.compare.play.catalogue.as_ref().expect("open");
    let at = cat
        .iter()
        .position(|id| *id == want)
        .expect("in the catalogue");
    for _ in 0..at {
        drive(&mut app, ctx, Action::Down);
    }
    drive(&mut app, ctx, Action::Enter);
    assert!(app.compare.play.catalogue.is_none());
    assert_eq!(
        app.input.as_ref().map(|i| i.0),
        Some(InputTarget::PlayKwargs)
    );
    for c in "relation=\"less than\" num_words=40".chars() {
        app.update(Action::InputChar(c));
    }
    drive(&mut app, ctx, Action::InputSubmit);
    assert_eq!(app.compare.play.constraints.len(), 2, "{:?}", app.message);
    // Sides: a bad one is refused and the old one kept.
    type_in(&mut app, ctx, InputTarget::PlaySide(true), "no-mode-here");
    assert_eq!(app.compare.play.sides[0], "default:cot");
    type_in(&mut app, ctx, InputTarget::PlaySide(true), "test/tiny:io");
    type_in(
        &mut app,
        ctx,
        InputTarget::PlaySide(false),
        "test/tiny:think",
    );
    assert_eq!(app.compare.play.sides, ["test/tiny:io", "test/tiny:think"]);
    type_in(&mut app, ctx, InputTarget::PlaySampling, "3 7 1.0 24");
    let o = &app.compare.play.options;
    assert_eq!(
        (o.samples, o.seed, o.temperature, o.max_new_tokens),
        (3, 7, 1.0, 24)
    );
    type_in(&mut app, ctx, InputTarget::PlaySampling, "0");
    assert_eq!(app.compare.play.options.samples, 3, "0 samples refused");
    app
}

#[test]
fn playground_answers_with_both_sides_streaming_then_scored() {
    let mut fx = fixture();
    let mut app = ready(&mut fx);
    snap("playground_ready", &mut app);
    // Enter: one job for the engine; its events, as the engine sends them.
    let reqs = app.update(Action::Enter);
    let [Request::Play(job)] = &reqs[..] else {
        panic!("{reqs:?}")
    };
    assert_eq!(job.sides, ["test/tiny:io", "test/tiny:think"]);
    assert!(job.constraints.is_some() && !job.low_priority);
    assert!(app.compare.play.running());
    let events: Vec<Action> = reqs
        .into_iter()
        .flat_map(|r| serve(&mut fx.ctx, r))
        .filter_map(steady)
        .collect();
    let deltas = events
        .iter()
        .filter(|a| matches!(a, Action::Play(PlayEvent::Deltas { .. })))
        .count();
    assert!(deltas >= 2, "both sides streamed");
    // Mid-stream: every delta in, no side finished.
    for a in events
        .iter()
        .filter(|a| matches!(a, Action::Play(PlayEvent::Deltas { .. })))
    {
        app.update(a.clone());
    }
    assert!(app.compare.play.running());
    let streamed: Vec<Vec<String>> = app
        .compare
        .play
        .out
        .iter()
        .map(|o| o.texts.clone())
        .collect();
    assert!(streamed
        .iter()
        .all(|t| t.len() == 3 && t.iter().any(|s| !s.is_empty())));
    snap("playground_streaming", &mut app);
    for a in events
        .iter()
        .filter(|a| matches!(a, Action::Play(PlayEvent::Done { .. })))
    {
        app.update(a.clone());
    }
    assert!(!app.compare.play.running());
    for (side, out) in app.compare.play.out.iter().enumerate() {
        let samples = match &out.result {
            Some(Ok(s)) => s,
            other => panic!("side {side}: {other:?}"),
        };
        assert_eq!(samples.len(), 3);
        for (s, text) in samples.iter().zip(&streamed[side]) {
            // The scored text is what streamed, and at the end any bytes that never formed a
            // whole character (a tiny model's tokens are bytes).
            assert!(s.text.starts_with(text.as_str()), "{:?} / {text:?}", s.text);
            assert_eq!(s.scored.total, 2, "both constraints counted");
            if side == 0 {
                // io: scored as plain GRPO scores a response, every constraint with a reason.
                assert_eq!(s.scored.format_score, 1.0);
                assert_eq!(s.scored.verdicts.len(), 2);
                assert!(s.scored.verdicts.iter().all(|v| !v.reason.is_empty()));
            } else {
                // think: a random model never closes the format, and the pane says why.
                assert_eq!(s.scored.format_score, -1.0);
                assert!(s.scored.unscorable.is_some());
            }
        }
    }
    let msg = app.message.clone().unwrap_or_default();
    assert!(msg.starts_with("answered: mean reward A"), "{msg}");
    snap("playground_finished", &mut app);
    // The samples: → shows the next, ← wraps around.
    app.update(Action::Right);
    assert_eq!(app.compare.play.sample, 1);
    app.update(Action::Left);
    app.update(Action::Left);
    assert_eq!(app.compare.play.sample, 2);

    // A second run: the same seed gives the same answers (the models were kept); events of
    // the older job are ignored.
    let reqs = app.update(Action::Enter);
    let again: Vec<Action> = reqs
        .into_iter()
        .flat_map(|r| serve(&mut fx.ctx, r))
        .collect();
    assert!(
        !again
            .iter()
            .any(|a| matches!(a, Action::Play(PlayEvent::Status { .. }))),
        "no model loaded again"
    );
    for a in events.iter().take(2) {
        app.update(a.clone());
    }
    assert!(app
        .compare
        .play
        .out
        .iter()
        .all(|o| o.texts.iter().all(String::is_empty)));
    for a in again {
        app.update(a);
    }
    for (side, out) in app.compare.play.out.iter().enumerate() {
        for (t, s) in out.texts.iter().zip(&streamed[side]) {
            assert!(t.starts_with(s.as_str()), "the same answers again");
        }
    }
}

#[test]
fn playground_reports_what_cannot_answer() {
    let mut fx = fixture();
    let ctx = &mut fx.ctx;
    let mut app = App::new(None, None);
    drive(&mut app, ctx, Action::SwitchView(View::Compare));
    drive(&mut app, ctx, Action::TogglePlayground);
    // No prompt: nothing is asked of the engine.
    assert!(app.update(Action::Enter).is_empty());
    assert!(app.message.clone().unwrap_or_default().contains("prompt"));
    type_in(&mut app, ctx, InputTarget::PlayPrompt, "Hi.");
    type_in(&mut app, ctx, InputTarget::PlaySide(true), "test/tiny:io");
    type_in(
        &mut app,
        ctx,
        InputTarget::PlaySide(false),
        "nobody/nothing:think",
    );
    drive(&mut app, ctx, Action::Enter);
    let out = &app.compare.play.out;
    assert!(matches!(&out[0].result, Some(Ok(s)) if s.len() == 1));
    let Some(Err(e)) = &out[1].result else {
        panic!("{:?}", out[1].result)
    };
    assert!(e.contains("nobody/nothing"), "names the model: {e}");
    assert!(!app.compare.play.running());
    let text = raif_ui::bench::render_text(&app, 120, 30).unwrap();
    assert!(
        text.contains("failed") && text.contains("nobody/nothing"),
        "{text}"
    );
    // Esc: the catalogue first, then back to the stored evaluations.
    drive(&mut app, ctx, Action::ToggleCatalogue);
    drive(&mut app, ctx, Action::Back);
    assert!(app.compare.playing && app.compare.play.catalogue.is_none());
    drive(&mut app, ctx, Action::Back);
    assert!(!app.compare.playing);
}

#[test]
fn a_job_beside_a_training_run_answers_the_same_at_a_lower_priority() {
    use raif_ui::playground::{Engine, PlayJob};
    let fx = fixture();
    let mut engine = Engine::new(fx.ctx.store.clone(), fx.ctx.home.clone());
    let mut job = PlayJob {
        id: 1,
        prompt: "Hi.".into(),
        constraints: None,
        sides: ["test/tiny:io".into(), "test/tiny:think".into()],
        options: raif_rl::eval::playground::PlayOptions {
            samples: 2,
            seed: 3,
            temperature: 1.0,
            max_new_tokens: 16,
        },
        low_priority: false,
    };
    let answers = |engine: &mut Engine, job: &PlayJob| {
        let out = std::sync::Mutex::new(Vec::new());
        engine.run(job, &|a| {
            if let Action::Play(PlayEvent::Done { side, result, .. }) = a {
                out.lock().unwrap().push((
                    side,
                    result.map(|s| s.into_iter().map(|x| x.text).collect::<Vec<_>>()),
                ));
            }
        });
        let mut v = out.into_inner().unwrap();
        v.sort_by_key(|x| x.0);
        v
    };
    let normal = answers(&mut engine, &job);
    job.low_priority = true;
    job.id = 2;
    let low = answers(&mut engine, &job);
    assert_eq!(normal.len(), 2);
    assert!(normal.iter().all(|(_, r)| r.is_ok()));
    assert_eq!(normal, low);
}
