//! `raif train` end to end on a tiny model: a run killed with SIGKILL at a random point and
//! resumed produces exactly the rollouts and metrics of an uninterrupted run; `--steps` is a
//! run's total, and `--resume` takes everything else from the store.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use raif_datasets::{Message, Record, Split};
use raif_store::Store;

fn raif() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_raif"));
    c.env_remove("RAIF_HOME");
    c
}

fn fixture(dir: &Path) -> PathBuf {
    let model = dir.join("tiny");
    raif_model::tiny::tiny_model(raif_model::Arch::Llama, 5)
        .unwrap()
        .save_hf(&model)
        .unwrap();
    let tree: raif_verify::Constraint = serde_json::from_str(
        r#"{"type":"and","children":[{"type":"rule","id":"keywords:existence","kwargs":{"keywords":["the"]}},
            {"type":"rule","id":"punctuation:no_comma","kwargs":{}}]}"#,
    )
    .unwrap();
    let mut records: Vec<Record> = (0..5)
        .map(|i| {
            Record::new(
                format!("r{i}"),
                "test",
                Split::Train,
                vec![Message::user(format!("write {i} words"))],
                tree.clone(),
            )
        })
        .collect();
    records[1].expert = Some(raif_datasets::Expert {
        reasoning: "use the word".into(),
        answer: "the end".into(),
    });
    let data = dir.join("data.jsonl");
    raif_datasets::record::write_records(&data, &records).unwrap();
    let cfg = format!(
        r#"preset = "test"
[model]
path = "{}"
device = "cpu"
[data]
path = "{}"
[train]
seed = 11
steps = 6
prompts_per_step = 2
group_size = 4
samples_per_optimizer_step = 3
micro_batch = 2
learning_rate = 0.002
checkpoint_every = 1
[train.mode]
kind = "lora"
r = 4
alpha = 8.0
dropout = 0.1
targets = ["q_proj", "v_proj", "up_proj"]
[rollout]
format = "think"
max_new_tokens = 10
[eval]
every = 0
"#,
        model.display(),
        data.display()
    );
    let path = dir.join("run.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

/// The fixture's run with every switch of ALGORITHM §7 on: 3 warm-up steps, then 4 GRPO
/// steps with budget forcing, a stop string, the reasoning-only baseline, skipped
/// zero-variance groups, a curriculum, held-out evaluations, and GRPO-time demonstrations
/// drawn by the run's own failures (`raif.bc_sampling = "failing"`: weights read back from the
/// store, so a resumed run must draw the ones an uninterrupted run draws), held by its KL term to
/// the warm-up's last policy (`grpo.reference = "warmup"`: rebuilt from its kept checkpoint on
/// resume).
fn phased_fixture(dir: &Path) -> PathBuf {
    let base = std::fs::read_to_string(fixture(dir)).unwrap();
    let data = dir.join("data.jsonl");
    let mut records =
        raif_datasets::record::read_records(&data, &raif_datasets::catalog::VerifierIds).unwrap();
    for (i, r) in records.iter_mut().enumerate() {
        r.expert = Some(raif_datasets::Expert {
            reasoning: format!("plan {i}"),
            answer: "the end".into(),
        });
    }
    let mut held = records[0].clone();
    held.id = "h0".into();
    held.split = Split::Heldout;
    records.push(held);
    raif_datasets::record::write_records(&data, &records).unwrap();
    let cfg = base
        .replace("steps = 6\n", "steps = 4\n")
        .replace(
            "max_new_tokens = 10\n",
            "max_new_tokens = 40\nthink_budget = 6\nanswer_budget = 6\nforced_format_score = 0.0\nstop_strings = [\"</answer>\"]\n",
        )
        .replace("[eval]\nevery = 0\n", "[eval]\nevery = 2\nprompts = 1\n")
        + "[warmup]\nsteps = 3\nlearning_rate = 0.003\ndemos_per_step = 3\n\
           [raif]\nbc_mask_prompt = true\nno_think_in_baseline = false\n\
           bc_sampling = \"failing\"\n\
           [grpo]\nskip_zero_std_groups = true\nreference = \"warmup\"\n";
    let cfg = cfg.replace("[data]\n", "[data]\ncurriculum_steps = 2\n");
    let path = dir.join("phased.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

fn train(home: &Path, args: &[&str]) -> std::process::Output {
    raif()
        .arg("--home")
        .arg(home)
        .arg("train")
        .args(args)
        .output()
        .unwrap()
}

/// Spawns a `raif train` child with `attempt` (which first resets what an earlier attempt
/// left), kills it with SIGKILL once `metrics` has `lines` lines and `extra` more has passed,
/// and asserts that the child died of that signal with steps still to run (`landed`) rather
/// than by finishing: an attempt whose child finished first is retried with a quarter of the
/// delay, up to six times.
fn kill_mid_run(
    mut attempt: impl FnMut() -> std::process::Child,
    landed: impl Fn() -> bool,
    metrics: &Path,
    lines: usize,
    mut extra: Duration,
) {
    use std::os::unix::process::ExitStatusExt;
    for _ in 0..6 {
        let mut child = attempt();
        let t0 = Instant::now();
        loop {
            let n = std::fs::read_to_string(metrics)
                .map(|s| s.lines().count())
                .unwrap_or(0);
            if n >= lines || t0.elapsed() > Duration::from_secs(120) {
                break;
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(extra);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().expect("wait for the killed child");
        if status.signal() == Some(9) && landed() {
            return;
        }
        extra /= 4;
    }
    panic!("six attempts: the child finished before SIGKILL reached it every time");
}

fn assert_same_runs(home_a: &Path, home_b: &Path, steps: usize) {
    let (a, b) = (Store::open(home_a).unwrap(), Store::open(home_b).unwrap());
    let (ma, mb) = (a.metrics("x").unwrap(), b.metrics("x").unwrap());
    assert_eq!(ma.len(), steps);
    assert_eq!(mb.len(), steps, "no step lost or duplicated");
    for ((sa, xa), (sb, xb)) in ma.into_iter().zip(mb) {
        assert_eq!(sa, sb);
        assert_eq!(strip_timing(xa), strip_timing(xb), "metrics of step {sa}");
        let (ra, rb) = (
            a.step_rollouts("x", sa).unwrap(),
            b.step_rollouts("x", sb).unwrap(),
        );
        assert_eq!(ra, rb, "rollouts of step {sa}");
    }
}

#[test]
fn resuming_in_the_warm_up_and_in_grpo_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = phased_fixture(dir.path());
    let cfg_s = cfg.display().to_string();
    let (home_a, home_b) = (dir.path().join("a"), dir.path().join("b"));
    let ok = train(&home_a, &["--config", &cfg_s, "--run-id", "x"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    {
        let a = Store::open(&home_a).unwrap();
        let m = a.metrics("x").unwrap();
        let phases: Vec<f64> = m.iter().map(|(_, x)| x["phase"]).collect();
        assert_eq!(phases, vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
        // Warm-up steps train on demonstrations and roll nothing out.
        assert!(m[0].1.contains_key("expert_nll") && !m[0].1.contains_key("reward"));
        assert!(a.step_rollouts("x", 2).unwrap().is_empty());
        // Held-out evaluations at the end of the warm-up and every 2 GRPO steps.
        let evals: Vec<u64> = m
            .iter()
            .filter(|(_, x)| x.contains_key("eval/format_ok"))
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(evals, vec![3, 5, 7]);
        // The tiny random model never closes its tags: every reasoning sample is forced,
        // and its rollouts say so.
        let r4 = a.step_rollouts("x", 4).unwrap();
        assert!(r4
            .iter()
            .filter(|r| !r.no_think && !r.eval)
            .all(|r| r.was_forced()));
        assert_eq!(m[3].1["completions/forced_ratio"], 1.0);
        // The KL reference is the warm-up's last policy: its checkpoint (step 3) is kept
        // beside the newest two, so that a resumed run can rebuild the reference.
        let kept: Vec<u64> = a.checkpoints("x").unwrap().iter().map(|c| c.step).collect();
        assert_eq!(kept, vec![3, 6, 7]);
    }
    // With every group trained (the random model's groups have no variance, so the run above
    // skips them and computes no KL): held to the warm-up's last policy, the first GRPO step's
    // KL is a fraction of what it is when held to the start, which counts the warm-up's drift.
    let no_skip = ["--set", "grpo.skip_zero_std_groups=false"];
    let (home_w, home_s, home_r) = (
        dir.path().join("w"),
        dir.path().join("s"),
        dir.path().join("r"),
    );
    for (home, reference) in [(&home_w, "warmup"), (&home_s, "start")] {
        let set = format!("grpo.reference={reference}");
        let mut args = vec!["--config", &cfg_s, "--run-id", "x", "--set", &set];
        args.extend(no_skip);
        let o = train(home, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let kl = |home: &Path| Store::open(home).unwrap().metrics("x").unwrap()[3].1["kl"];
    let (kl_warm, kl_start) = (kl(&home_w), kl(&home_s));
    assert!(
        kl_warm < kl_start / 2.0,
        "KL {kl_warm} (warm-up reference) against {kl_start} (start)"
    );
    // Stopped after GRPO step 2 and resumed, the warm-up reference is rebuilt from its kept
    // checkpoint: the run equals the uninterrupted one, KL included.
    let mut args = vec!["--config", &cfg_s, "--run-id", "x", "--stop-at", "5"];
    args.extend(no_skip);
    let o = train(&home_r, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = train(&home_r, &["--resume", "x"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_runs(&home_w, &home_r, 7);
    // `raif generate` on the run's checkpoint reasons by default and says why; on the base
    // model it answers plainly.
    let model = dir.path().join("tiny").display().to_string();
    for (target, mode) in [
        (
            ["--checkpoint", "x"],
            "mode think (a checkpoint of a run trained",
        ),
        (
            ["--model", model.as_str()],
            "mode io (a model not trained here",
        ),
    ] {
        let o = raif()
            .arg("--home")
            .arg(&home_a)
            .args(["generate", "--prompt", "hi", "--max-new-tokens", "2"])
            .args(["--device", "cpu"])
            .args(target)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(err.contains(mode), "{err}");
        let think = String::from_utf8_lossy(&o.stdout).starts_with("<think>\n");
        assert_eq!(think, target[0] == "--checkpoint");
    }
    // Interrupted in the warm-up (a clean stop after step 2), then killed during GRPO.
    let metrics = dir.path().join("b-metrics.jsonl");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    // The file starts with the 2 committed warm-up steps: wait for GRPO step 1 or 2.
    // Killed within a step after the commit: at least two GRPO steps are still to come.
    kill_mid_run(
        || {
            let _ = std::fs::remove_dir_all(&home_b);
            let _ = std::fs::remove_file(&metrics);
            let o = train(
                &home_b,
                &["--config", &cfg_s, "--run-id", "x", "--stop-at", "2"],
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert_eq!(Store::open(&home_b).unwrap().metrics("x").unwrap().len(), 2);
            raif()
                .arg("--home")
                .arg(&home_b)
                .args(["train", "--resume", "x", "--metrics-jsonl"])
                .arg(&metrics)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        },
        || Store::open(&home_b).unwrap().metrics("x").unwrap().len() < 7,
        &metrics,
        4 + (nanos % 2) as usize,
        Duration::from_millis((nanos / 7 % 40) as u64),
    );
    let cut = Store::open(&home_b).unwrap().metrics("x").unwrap().len();
    assert!(
        (4..7).contains(&cut),
        "killed during GRPO after {cut} committed steps"
    );
    let o = train(&home_b, &["--resume", "x"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_runs(&home_a, &home_b, 7);
}

fn strip_timing(mut m: raif_store::Metrics) -> raif_store::Metrics {
    m.remove("step_time");
    m.remove("tokens/s");
    m.retain(|k, _| !k.starts_with("time/"));
    m
}

#[test]
fn killed_and_resumed_run_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture(dir.path());
    let (home_a, home_b) = (dir.path().join("a"), dir.path().join("b"));
    let ok = raif()
        .arg("--home")
        .arg(&home_a)
        .args(["train", "--config"])
        .arg(&cfg)
        .args(["--run-id", "x"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // The same run, killed once at least one step has committed, at a random moment after.
    let metrics = dir.path().join("b-metrics.jsonl");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    kill_mid_run(
        || {
            let _ = std::fs::remove_dir_all(&home_b);
            let _ = std::fs::remove_file(&metrics);
            raif()
                .arg("--home")
                .arg(&home_b)
                .args(["train", "--config"])
                .arg(&cfg)
                .args(["--run-id", "x", "--metrics-jsonl"])
                .arg(&metrics)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        },
        || Store::open(&home_b).unwrap().metrics("x").unwrap().len() < 6,
        &metrics,
        1 + (nanos % 3) as usize,
        Duration::from_millis((nanos / 7 % 400) as u64),
    );
    let cut = Store::open(&home_b).unwrap().metrics("x").unwrap().len();
    assert!((1..6).contains(&cut), "killed after {cut} of 6 steps");
    let resumed = raif()
        .arg("--home")
        .arg(&home_b)
        .args(["train", "--resume", "x", "--metrics-jsonl"])
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );

    assert_same_runs(&home_a, &home_b, 6);
    let b = Store::open(&home_b).unwrap();
    for s in 1..=6 {
        assert_eq!(
            b.step_rollouts("x", s).unwrap().len(),
            8,
            "rollouts of step {s}"
        );
    }
    // The metrics file has one line per step, in order.
    let steps: Vec<u64> = std::fs::read_to_string(&metrics)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(steps, (1..=6).collect::<Vec<_>>());
    assert_eq!(
        b.run("x").unwrap().unwrap().status,
        raif_store::RunStatus::Finished
    );
}

#[test]
fn config_show_prints_a_complete_loadable_file() {
    let o = raif()
        .args(["config", "show", "--preset", "raif"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let c = raif_rl::config::RunConfig::from_toml(&text, "shown").unwrap();
    assert_eq!(c, raif_rl::config::RunConfig::preset("raif").unwrap());
    let o = raif()
        .args(["config", "show", "--preset", "nope"])
        .output()
        .unwrap();
    assert!(!o.status.success());
}

#[test]
fn a_checkpoint_is_evaluated_with_its_trained_weights() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture(dir.path());
    let home = dir.path().join("home");
    let o = raif()
        .arg("--home")
        .arg(&home)
        .args(["train", "--config"])
        .arg(&cfg)
        .args(["--run-id", "ck", "--steps", "2"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    {
        let store = Store::open(&home).unwrap();
        let (lm, cfg, step) =
            raif_rl::trainer::load_checkpoint_model(&store, &home, "ck", None, "cpu").unwrap();
        assert_eq!(step, 2);
        let base = raif_model::LoadedModel::load(
            Path::new(&cfg.model.path),
            raif_model::candle_core::DType::F32,
            &raif_model::candle_core::Device::Cpu,
        )
        .unwrap();
        // The LoRA adapters were trained (B left zero) and merged into q_proj.
        let w = |m: &raif_model::Transformer| -> Vec<f32> {
            m.named_tensors()
                .into_iter()
                .find(|(n, _)| n == "model.layers.0.self_attn.q_proj.weight")
                .unwrap()
                .1
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        assert_ne!(w(&lm.model), w(&base.model), "checkpoint weights loaded");
        let err = raif_rl::trainer::load_checkpoint_model(&store, &home, "ck", Some(7), "cpu")
            .err()
            .unwrap();
        assert!(
            format!("{err:#}").contains("no checkpoint at step 7"),
            "{err:#}"
        );
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ifeval/input_data.jsonl");
    let o = raif()
        .arg("--home")
        .arg(&home)
        .args([
            "eval",
            "--checkpoint",
            "ck@2",
            "--bench",
            "ifeval",
            "--limit",
            "2",
        ])
        .args([
            "--max-new-tokens",
            "4",
            "--device",
            "cpu",
            "--json",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The run records the checkpoint's evaluation by step.
    let store = Store::open(&home).unwrap();
    let evals = store.evals("ck").unwrap();
    assert_eq!(evals.len(), 1);
    assert_eq!((evals[0].step, evals[0].name.as_str()), (2, "ifeval/think"));
    assert!(evals[0].metrics.contains_key("ifeval.prompt_strict"));
}

#[test]
fn steps_is_the_runs_total_and_resume_may_only_extend_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = fixture(dir.path());
    let cfg_s = cfg.display().to_string();
    let home = dir.path().join("home");
    let stored_steps = || {
        let s = Store::open(&home).unwrap();
        let info = s.run("x").unwrap().unwrap();
        (
            s.metrics("x").unwrap().len(),
            info.config["train"]["steps"].as_u64().unwrap(),
        )
    };
    let fails_naming = |args: &[&str], what: &str| {
        let o = train(&home, args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains(what), "{args:?}: {err}");
    };
    // The fixture says 6 steps; --steps 3 makes a run of three, and the store says so.
    let o = train(
        &home,
        &["--config", &cfg_s, "--run-id", "x", "--steps", "3"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stored_steps(), (3, 3));
    // A finished run is not resumed silently, nor to a total it has already reached.
    fails_naming(&["--resume", "x"], "--steps");
    fails_naming(&["--resume", "x", "--steps", "3"], "--steps 3");
    fails_naming(&["--resume", "x", "--steps", "2"], "committed step 3");
    fails_naming(
        &["--resume", "x", "--steps", "5", "--stop-at", "3"],
        "--stop-at 3",
    );
    assert_eq!(stored_steps(), (3, 3), "a refused resume changed nothing");
    // A larger total extends it, and the new total is stored for later resumes.
    let o = train(&home, &["--resume", "x", "--steps", "4"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stored_steps(), (4, 4));
    assert_eq!(
        Store::open(&home)
            .unwrap()
            .run("x")
            .unwrap()
            .unwrap()
            .status,
        raif_store::RunStatus::Finished
    );
}
