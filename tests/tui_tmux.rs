//! End to end: the real `raif` binary opens the workbench in a tmux pane, starts a tiny run,
//! shows a rollout with its constraint breakdown, its group and its tokens, switches to Curves
//! and Replay, answers a prompt in Compare's playground with both sides, quits
//! (asked first while training; yes stops the trainer after its step) and leaves the terminal
//! restored.
//! Fails, naming tmux, where tmux is not installed (`.ci/run` installs it).

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

/// Wait until `what` is on the pane (`present`) or gone from it (a dialog closing); returns
/// the pane.
fn wait_until(session: &str, what: &str, present: bool, secs: u64) -> String {
    let t = Instant::now();
    loop {
        let p = pane(session);
        if p.contains(what) == present {
            return p;
        }
        if t.elapsed() > Duration::from_secs(secs) {
            let _ = tmux(&["kill-session", "-t", session]);
            let state = if present {
                "did not appear"
            } else {
                "was still there"
            };
            panic!("`{what}` {state} after {secs} s; the pane shows:\n{p}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn wait_for(session: &str, what: &str, secs: u64) -> String {
    wait_until(session, what, true, secs)
}

fn wait_gone(session: &str, what: &str, secs: u64) -> String {
    wait_until(session, what, false, secs)
}

fn keys(session: &str, k: &str) {
    tmux(&["send-keys", "-t", session, k]);
    std::thread::sleep(Duration::from_millis(300));
}

/// Type text literally (into the prompt at the bottom).
fn type_text(session: &str, text: &str) {
    tmux(&["send-keys", "-t", session, "-l", text]);
    std::thread::sleep(Duration::from_millis(300));
}

/// Empty the prompt at the bottom (it opens with the current value).
fn clear_input(session: &str) {
    tmux(&["send-keys", "-t", session, "-N", "200", "BSpace"]);
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
[train]
steps = 400
prompts_per_step = 2
group_size = 4
samples_per_optimizer_step = 8
micro_batch = 4
checkpoint_every = 1
[rollout]
format = "plain"
max_new_tokens = 12
generation_batch = 8
[raif]
expert_bc = false
enforce_superior_cot = false
no_think_fraction = 0.0
[eval]
every = 0
"#,
        model.display().to_string().replace('\\', "/")
    );
    // Short generated records, so that prompts fit the tiny model's 512-token context.
    let (records, _) = raif_datasets::gen::generate(
        &raif_datasets::gen::GenConfig {
            n: 300,
            seed: 3,
            depth: Some(1),
            ..Default::default()
        },
        None,
    );
    let mut lines = String::new();
    for mut r in records
        .into_iter()
        .filter(|r| r.messages.iter().map(|m| m.content.len()).sum::<usize>() < 220)
        .take(16)
    {
        r.split = raif_datasets::record::Split::Train;
        lines.push_str(&serde_json::to_string(&r).expect("record as JSON"));
        lines.push('\n');
    }
    assert!(
        lines.lines().count() >= 4,
        "too few short generated records"
    );
    let data = dir.join("data.jsonl");
    std::fs::write(&data, lines).expect("write the data");
    let cfg = cfg.replace(
        "generate_n = 24\n",
        &format!(
            "path = \"{}\"\n",
            data.display().to_string().replace('\\', "/")
        ),
    );
    let path = dir.join("run.toml");
    std::fs::write(&path, cfg).expect("write the config");
    path
}

#[test]
fn workbench_in_tmux() {
    assert!(
        Command::new("tmux")
            .arg("-V")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false),
        "tmux is not installed: the workbench end-to-end test drives the TUI through it \
         (.ci/run installs it)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(dir.path());
    let home = dir.path().join("home");
    let bin = env!("CARGO_BIN_EXE_raif");
    let session = format!("raif-e2e-{}", std::process::id());
    // Whatever fails below, the tmux session (and the raif in it) does not outlive the test.
    struct KillOnDrop(String);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = tmux(&["kill-session", "-t", &self.0]);
        }
    }
    let _guard = KillOnDrop(session.clone());
    let cmd = format!(
        "'{bin}' --home '{}' --config '{}'; echo RAIF_EXIT=$?; sleep 60",
        home.display(),
        cfg.display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "60",
        &cmd,
    ]);

    // The run starts at once and a scored rollout appears with its breakdown.
    wait_for(&session, "Rollouts · step", 120);
    let p = wait_for(&session, "── Constraints", 300);
    assert!(p.contains("reward"), "{p}");
    keys(&session, "b");
    let p = pane(&session);
    assert!(!p.contains("── Constraints"), "b hides the breakdown:\n{p}");
    keys(&session, "b");
    wait_for(&session, "── Constraints", 10);

    // The group of the selected rollout, and its tokens with the run's tokenizer.
    keys(&session, "f");
    keys(&session, "g");
    wait_for(&session, "samples · mean reward", 10);
    keys(&session, "t");
    wait_for(&session, "tokenizer of", 30);
    wait_for(&session, "log-prob", 10);
    keys(&session, "Escape");
    keys(&session, "Escape");

    // Curves and Replay.
    keys(&session, "4");
    wait_for(&session, "Dashboard", 300);
    keys(&session, "d");
    wait_for(&session, "Metrics ·", 30);
    keys(&session, "5");
    wait_for(&session, "Runs ·", 10);
    keys(&session, "?");
    wait_for(&session, "? or Esc closes", 10);
    keys(&session, "Escape");

    // Compare's playground, while the run trains: a prompt and a constraint, the tiny model in
    // io mode against think mode; both answer, with verdicts and rewards.
    let model = dir.path().join("tiny-model");
    let model = model.to_str().expect("a UTF-8 path");
    keys(&session, "8");
    keys(&session, "p");
    wait_for(&session, "Playground", 10);
    keys(&session, "e");
    type_text(&session, "Name a colour.");
    keys(&session, "Enter");
    keys(&session, "c");
    type_text(&session, "punctuation:no_comma");
    keys(&session, "Enter");
    wait_for(&session, "constraints punctuation:no_comma", 10);
    for (key, mode) in [("a", "io"), ("b", "think")] {
        keys(&session, key);
        clear_input(&session);
        type_text(&session, &format!("{model}:{mode}"));
        keys(&session, "Enter");
    }
    wait_for(&session, &format!("B {model}:think"), 10);
    keys(&session, "Enter");
    wait_for(&session, "not scored: bad format", 60);
    let p = wait_for(&session, "punctuation:no_comma —", 10);
    assert_eq!(
        p.matches("first text").count(),
        2,
        "both sides answered:\n{p}"
    );
    assert!(p.contains("reward +") || p.contains("reward -"), "{p}");
    assert!(
        p.contains("not scored: bad format"),
        "think mode's reason:\n{p}"
    );
    keys(&session, "2");

    // Quit: asks while training, then stops the trainer after its step and waits for it.
    // (Each check waits for the frame: on a loaded machine a key's redraw can take longer
    // than `keys`' pause.)
    wait_for(&session, "training step", 30);
    keys(&session, "q");
    wait_for(&session, "Stop it after this step", 10);
    keys(&session, "n");
    let p = wait_gone(&session, "Stop it after this step", 10);
    assert!(!p.contains("RAIF_EXIT="), "n keeps training:\n{p}");
    keys(&session, "q");
    wait_for(&session, "Stop it after this step", 10);
    keys(&session, "y");
    let p = wait_for(&session, "RAIF_EXIT=", 300);
    assert!(p.contains("RAIF_EXIT=0"), "{p}");
    let alt = tmux(&["display-message", "-p", "-t", &session, "#{alternate_on}"]);
    assert_eq!(alt.trim(), "0", "the alternate screen was left");
    let _ = tmux(&["kill-session", "-t", &session]);
}
