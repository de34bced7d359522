//! An imported verl run replays in the workbench like a run of its own.

use std::sync::Arc;

use raif_interop::{import_verl, ImportOptions};
use raif_store::Store;
use raif_ui::action::{Action, View};
use raif_ui::app::{App, ReplayLevel};
use raif_ui::bench::{drive, render_text};
use raif_ui::worker::{serve, Ctx};

#[path = "../../interop/tests/support/verl.rs"]
mod verl;

#[test]
fn imported_run_replays_in_the_workbench() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rollouts");
    verl::write_verl(&dir);
    let home = tmp.path().join("home");
    let store = Arc::new(Store::open(&home).unwrap());
    let rep = import_verl(&store, &dir, &ImportOptions::default()).unwrap();
    let mut ctx = Ctx::new(store, home);
    let mut app = App::new(None, Some("tiny"));
    for r in app.init() {
        for a in serve(&mut ctx, r) {
            app.update(a);
        }
    }
    drive(&mut app, &mut ctx, Action::SwitchView(View::Replay));
    let ids: Vec<&str> = app.replay.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [rep.run_id.as_str()]);
    drive(&mut app, &mut ctx, Action::Enter);
    assert_eq!(app.replay.level, ReplayLevel::Steps);
    assert_eq!(app.replay.steps, vec![1, 2]);
    drive(&mut app, &mut ctx, Action::Enter);
    assert_eq!(app.replay.level, ReplayLevel::Prompts);
    drive(&mut app, &mut ctx, Action::Enter);
    assert_eq!(app.replay.level, ReplayLevel::Rollouts);
    for (w, h) in [(80, 24), (200, 60)] {
        app.update(Action::Resize(w, h));
        insta::assert_snapshot!(
            format!("imported_verl_rollouts_{w}x{h}"),
            render_text(&app, w, h).unwrap()
        );
    }
}
