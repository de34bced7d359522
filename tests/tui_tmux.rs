//! End to end: the real `raif` binary opens the workbench in a tmux pane, starts a tiny run,
//! shows a rollout with its constraint breakdown, switches to Curves and Replay, quits
//! (confirming, which stops the trainer cleanly) and leaves the terminal restored.
//! Skipped, with a message, where tmux is not installed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("run tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pane(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session])
}

fn wait_for(session: &str, what: &str, secs: u64) -> String {
    let t = Instant::now();
    loop {
        let p = pane(session);
        if p.contains(what) {
            return p;
        }
        if t.elapsed() > Duration::from_secs(secs) {
            let _ = tmux(&["kill-session", "-t", session]);
            panic!("`{what}` did not appear within {secs} s; the pane shows:\n{p}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn keys(session: &str, k: &str) {
    tmux(&["send-keys", "-t", session, k]);
    std::thread::sleep(Duration::from_millis(300));
}

fn write_config(dir: &Path) -> std::path::PathBuf {
    let lm = raif_model::tiny::tiny_model(raif_model::Arch::Llama, 7).expect("tiny model");
    let model = dir.join("tiny-model");
    lm.save_hf(&model).expect("save the tiny model");
    let cfg = format!(
        r#"preset = "tiny"
[model]
path = "{}"
device = "cpu"
[data]
generate_n = 24
generate_depth = 1
[train]
steps = 2
prompts_per_step = 1
group_size = 2
samples_per_optimizer_step = 2
micro_batch = 2
checkpoint_every = 1
[rollout]
format = "plain"
max_new_tokens = 12
generation_batch = 2
[raif]
expert_bc = false
enforce_superior_cot = false
no_think_fraction = 0.0
[eval]
every = 0
"#,
        model.display().to_string().replace('\\', "/")
    );
    let path = dir.join("run.toml");
    std::fs::write(&path, cfg).expect("write the config");
    path
}

#[test]
fn workbench_in_tmux() {
    if Command::new("tmux").arg("-V").output().map(|o| !o.status.success()).unwrap_or(true) {
        eprintln!("SKIPPED: tmux is not installed (the workbench end-to-end test needs it)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(dir.path());
    let home = dir.path().join("home");
    let bin = env!("CARGO_BIN_EXE_raif");
    let session = format!("raif-e2e-{}", std::process::id());
    let cmd = format!("'{bin}' --home '{}' --config '{}'; echo RAIF_EXIT=$?; sleep 60", home.display(), cfg.display());
    tmux(&["new-session", "-d", "-s", &session, "-x", "200", "-y", "60", &cmd]);

    // The run starts at once and a scored rollout appears with its breakdown.
    wait_for(&session, "Rollouts · step", 120);
    let p = wait_for(&session, "── Constraints", 300);
    assert!(p.contains("reward"), "{p}");
    keys(&session, "b");
    let p = pane(&session);
    assert!(!p.contains("── Constraints"), "b hides the breakdown:\n{p}");
    keys(&session, "b");
    wait_for(&session, "── Constraints", 10);

    // Curves and Replay.
    keys(&session, "4");
    wait_for(&session, "Metrics ·", 300);
    keys(&session, "5");
    wait_for(&session, "Runs ·", 10);
    keys(&session, "?");
    wait_for(&session, "? or Esc closes", 10);
    keys(&session, "Escape");

    // Quit: asks while training (or quits at once if the two steps are done), stops cleanly.
    keys(&session, "q");
    let p = pane(&session);
    if p.contains("Stop it after this step") {
        keys(&session, "y");
    }
    let p = wait_for(&session, "RAIF_EXIT=", 300);
    assert!(p.contains("RAIF_EXIT=0"), "{p}");
    let alt = tmux(&["display-message", "-p", "-t", &session, "#{alternate_on}"]);
    assert_eq!(alt.trim(), "0", "the alternate screen was left");
    let _ = tmux(&["kill-session", "-t", &session]);
}
