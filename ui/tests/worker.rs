//! The background thread as the terminal loop uses it: requests in, actions out.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use raif_rl::config::RunConfig;
use raif_rl::trainer::TrainerEvent;
use raif_store::{RunStatus, Store};
use raif_ui::action::{Action, Request};
use raif_ui::worker::{self, Ctx, Sink};

#[test]
fn the_worker_answers_reads_and_reports_a_trainer_that_cannot_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path()).expect("store"));
    raif_ui::fixtures::build_run(&store, "run-a", RunStatus::Finished, 2, 1, 2).expect("run");
    let (tx, rx) = mpsc::channel::<Action>();
    let tx = Mutex::new(tx);
    let sink: Sink = Arc::new(move |a| {
        if let Ok(t) = tx.lock() {
            let _ = t.send(a);
        }
    });
    let (req_tx, req_rx) = mpsc::channel::<Request>();
    let ctx = Ctx::new(store, dir.path().to_path_buf());
    let t = std::thread::spawn(move || worker::run(ctx, req_rx, sink));
    let next = || rx.recv_timeout(Duration::from_secs(60)).expect("an answer");

    req_tx.send(Request::ListRuns).expect("send");
    assert!(matches!(next(), Action::Runs(r) if r.len() == 1 && r[0].id == "run-a"));
    req_tx
        .send(Request::LoadStep {
            run: "run-a".into(),
            step: 2,
        })
        .expect("send");
    assert!(matches!(next(), Action::StepLoaded { step: 2, rollouts, .. } if rollouts.len() == 2));
    req_tx.send(Request::LoadRun("nope".into())).expect("send");
    assert!(matches!(next(), Action::Error(e) if e.contains("nope")));

    // A model that is not there: the trainer fails, its failure and exit reach the UI.
    let mut cfg = RunConfig::preset("tiny").expect("preset");
    cfg.model.path = dir.path().join("no-such-model").display().to_string();
    req_tx.send(Request::Start(Box::new(cfg))).expect("send");
    assert!(matches!(next(), Action::TrainerSpawned { .. }));
    let mut failed = false;
    loop {
        match next() {
            Action::Trainer(events, _) => {
                failed |= events
                    .iter()
                    .any(|e| matches!(e, TrainerEvent::Failed(m) if m.contains("not found")))
            }
            Action::TrainerExited(r) => {
                assert!(r.is_err());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(failed, "the Failed event came before the exit");
    drop(req_tx);
    t.join()
        .expect("the worker ends when the UI drops its sender");
}
