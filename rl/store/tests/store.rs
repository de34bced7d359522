//! The run store: round trips, step replacement, truncation, filters, locking, corruption and
//! the atomicity of a step's commit.

use std::path::Path;

use raif_store::{
    report, rollout_key, CheckpointManifest, EvalRecord, Metrics, Rollout, RolloutFilter, RunInfo,
    RunStatus, StepCommit, Store, Verdict,
};
use serde_json::json;

fn info(id: &str, created: u64) -> RunInfo {
    RunInfo {
        id: id.into(),
        created_unix: created,
        status: RunStatus::Running,
        model: "tiny-test".into(),
        dataset: "gen:ifeval".into(),
        preset: "tiny".into(),
        config: json!({"group_size": 4, "lr": 1e-5, "nested": {"beta": 0.04}}),
        last_step: None,
        source: "raif".into(),
    }
}

fn verdict(id: &str, pass: bool) -> Verdict {
    Verdict {
        id: id.into(),
        path: format!("root/and[0]/{id}"),
        pass,
        reason: if pass {
            "ok".into()
        } else {
            format!("{id} not met")
        },
        role: "constraint".into(),
    }
}

fn rollout(step: u64, p: u32, s: u32) -> Rollout {
    let n = 5 + (p * 3 + s) as usize;
    Rollout {
        step,
        prompt_index: p,
        sample: s,
        prompt_id: format!("p{p}"),
        prompt: format!("Write about topic {p} in lowercase."),
        response: format!("<think>step {step} sample {s}</think>answer {p}/{s}"),
        reasoning: Some(format!("step {step} sample {s}")),
        answer: Some(format!("answer {p}/{s}")),
        tokens: (0..n as u32).collect(),
        logprobs: (0..n).map(|i| -(i as f32) / 10.0).collect(),
        entropies: (0..n).map(|i| i as f32 / 7.0).collect(),
        finish: "eos".into(),
        reward: (p as f64) + (s as f64) / 10.0,
        answer_score: 0.5,
        format_score: 1.0,
        satisfied: s % 2,
        total: 1,
        verdicts: vec![verdict("change_case:english_lowercase", s % 2 == 1)],
        advantage: s as f64 - 1.5,
        kept: s % 2 == 1,
        keep_reason: if s % 2 == 1 {
            "ok".into()
        } else {
            "group rule".into()
        },
        no_think: s == 3,
        eval: false,
        forced: if s == 2 {
            "think".into()
        } else {
            "none".into()
        },
        forced_tokens: if s == 2 { vec![2, 3] } else { Vec::new() },
    }
}

fn metrics(step: u64) -> Metrics {
    let mut m = Metrics::new();
    m.insert("reward".into(), step as f64 / 10.0);
    m.insert("kl".into(), 0.001 * step as f64);
    m.insert("rewards/change_case:english_lowercase/mean".into(), 0.5);
    m
}

fn step_commit(step: u64, prompts: u32, samples: u32) -> StepCommit {
    let mut rollouts = Vec::new();
    for p in 0..prompts {
        for s in 0..samples {
            rollouts.push(rollout(step, p, s));
        }
    }
    StepCommit {
        step,
        metrics: metrics(step),
        rollouts,
        checkpoint: None,
    }
}

fn checkpoint(step: u64, blobs: &[(&str, &[u8])]) -> (CheckpointManifest, Vec<(String, Vec<u8>)>) {
    (
        CheckpointManifest {
            step,
            created_unix: 1_700_000_000 + step,
            manifest: json!({"rng": [1, 2, 3], "cursor": step * 8}),
            blobs: vec![],
            files: vec![],
        },
        blobs
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect(),
    )
}

fn all_rollouts(store: &Store, run: &str) -> Vec<Rollout> {
    store
        .scan_rollouts(run, RolloutFilter::default())
        .collect::<anyhow::Result<Vec<_>>>()
        .expect("scan")
}

#[test]
fn commit_reopen_read_back_in_step_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let commits: Vec<StepCommit> = [2u64, 0, 1].iter().map(|&s| step_commit(s, 2, 3)).collect();
    {
        let store = Store::open(home).expect("open");
        store.create_run(&info("r1", 10)).expect("create");
        for c in &commits {
            store.commit_step("r1", c).expect("commit");
        }
    }
    let store = Store::open(home).expect("reopen");
    let run = store.run("r1").expect("run").expect("exists");
    let mut want = info("r1", 10);
    want.last_step = Some(2);
    assert_eq!(run, want);

    let m = store.metrics("r1").expect("metrics");
    assert_eq!(m.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![0, 1, 2]);
    for (s, mm) in &m {
        assert_eq!(mm, &metrics(*s));
    }
    for c in &commits {
        assert_eq!(
            store.step_rollouts("r1", c.step).expect("rollouts"),
            c.rollouts
        );
    }
    let all = all_rollouts(&store, "r1");
    assert_eq!(all.len(), 18);
    let keys: Vec<_> = all
        .iter()
        .map(|r| rollout_key(r.step, r.prompt_index, r.sample))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "scan is in (step, prompt, sample) order");
    assert_eq!(store.rollout_steps("r1").expect("steps"), vec![0, 1, 2]);
}

#[test]
fn non_finite_metrics_survive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store.create_run(&info("nan", 1)).expect("create");
    let mut c = step_commit(0, 1, 1);
    c.metrics.insert("loss".into(), f64::NAN);
    c.metrics.insert("grad_norm".into(), f64::INFINITY);
    c.rollouts[0].reward = f64::NAN;
    store.commit_step("nan", &c).expect("commit");
    let m = store.metrics("nan").expect("metrics");
    assert!(m[0].1["loss"].is_nan());
    assert_eq!(m[0].1["grad_norm"], f64::INFINITY);
    let r = store.step_rollouts("nan", 0).expect("rollouts");
    assert!(r[0].reward.is_nan());
    // JSON output carries NaN as null.
    let mut out = Vec::new();
    report::write_run_show(&store, "nan", true, &mut out).expect("show");
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["loss"], serde_json::Value::Null);
    assert_eq!(v["step"], 0);
}

#[test]
fn list_runs_newest_first_and_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store.create_run(&info("old", 100)).expect("create");
    store.create_run(&info("new", 200)).expect("create");
    store.create_run(&info("mid", 150)).expect("create");
    let err = store
        .create_run(&info("mid", 999))
        .expect_err("duplicate id");
    assert!(err.to_string().contains("already exists"), "{err}");
    let ids: Vec<_> = store
        .list_runs()
        .expect("list")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec!["new", "mid", "old"]);

    store
        .set_status("mid", RunStatus::Failed("NaN loss at step 3".into()))
        .expect("status");
    assert_eq!(
        store.run("mid").expect("run").expect("exists").status,
        RunStatus::Failed("NaN loss at step 3".into())
    );
    assert!(store.set_status("nope", RunStatus::Stopped).is_err());
    assert!(store.create_run(&info("bad/id", 1)).is_err());
    assert!(store.create_run(&info("", 1)).is_err());
}

#[test]
fn replacing_a_step_does_not_duplicate_rollouts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store.create_run(&info("r", 1)).expect("create");
    store
        .commit_step("r", &step_commit(0, 2, 2))
        .expect("commit 0");
    let mut first = step_commit(1, 3, 4);
    first.checkpoint = Some(checkpoint(1, &[("adapter", b"old adapter")]));
    store.commit_step("r", &first).expect("commit 1");
    assert_eq!(store.step_rollouts("r", 1).expect("rollouts").len(), 12);

    // The same step again (as after a crash), with fewer rollouts and no checkpoint.
    let mut again = step_commit(1, 2, 2);
    again.metrics.insert("reward".into(), 42.0);
    for r in &mut again.rollouts {
        r.response.push_str(" (again)");
    }
    store.commit_step("r", &again).expect("recommit 1");
    assert_eq!(
        store.step_rollouts("r", 1).expect("rollouts"),
        again.rollouts
    );
    assert_eq!(all_rollouts(&store, "r").len(), 4 + 4);
    let m = store.metrics("r").expect("metrics");
    assert_eq!(m.len(), 2);
    assert_eq!(m[1].1["reward"], 42.0);
    assert_eq!(store.last_checkpoint("r").expect("ckpt"), None);
    assert!(store.checkpoint_blob("r", 1, "adapter").is_err());
    assert_eq!(
        store.run("r").expect("run").expect("exists").last_step,
        Some(1)
    );
}

#[test]
fn rollouts_must_match_the_step_and_be_unique() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store.create_run(&info("r", 1)).expect("create");
    let mut c = step_commit(3, 1, 2);
    c.rollouts[1].step = 4;
    assert!(store.commit_step("r", &c).is_err());
    let mut c = step_commit(3, 1, 2);
    c.rollouts[1].sample = 0;
    assert!(store.commit_step("r", &c).is_err());
    assert!(store.metrics("r").expect("metrics").is_empty());
    let err = store
        .commit_step("ghost", &step_commit(0, 1, 1))
        .expect_err("unknown run");
    assert!(err.to_string().contains("no run `ghost`"), "{err}");
}

#[test]
fn checkpoints_blobs_and_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let adapter: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
    {
        let store = Store::open(home).expect("open");
        store.create_run(&info("r", 1)).expect("create");
        let rel = Store::weights_path("r", 2, "model.safetensors");
        let file = store.write_file(&rel, b"full weights").expect("file");
        let mut c = step_commit(2, 1, 2);
        let mut ck = checkpoint(2, &[("adapter", &adapter), ("optimizer", b"adam")]);
        ck.0.files.push(file.clone());
        c.checkpoint = Some(ck);
        store.commit_step("r", &c).expect("commit");
        assert_eq!(store.verify_file(&file).expect("verify"), home.join(&rel));
        std::fs::write(home.join(&rel), b"full weightz").expect("tamper");
        let err = store.verify_file(&file).expect_err("tampered file");
        assert!(err.to_string().contains("corrupt"), "{err}");
    }
    let store = Store::open(home).expect("reopen");
    let m = store.last_checkpoint("r").expect("ckpt").expect("some");
    assert_eq!(m.step, 2);
    assert_eq!(m.manifest["cursor"], 16);
    assert_eq!(m.blobs.len(), 2);
    assert_eq!(m.blobs[0].bytes, adapter.len() as u64);
    assert_eq!(
        store.checkpoint_blob("r", 2, "adapter").expect("blob"),
        adapter
    );
    assert_eq!(
        store.checkpoint_blob("r", 2, "optimizer").expect("blob"),
        b"adam"
    );
    assert!(store.checkpoint_blob("r", 2, "missing").is_err());
    assert!(store.checkpoint_blob("r", 1, "adapter").is_err());
    assert!(store.write_file("../escape", b"x").is_err());
    assert!(store.write_file("/abs", b"x").is_err());
}

#[test]
fn truncate_after_drops_later_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let store = Store::open(home).expect("open");
    store.create_run(&info("r", 1)).expect("create");
    store.create_run(&info("other", 2)).expect("create");
    store
        .commit_step("other", &step_commit(5, 1, 1))
        .expect("commit");
    let mut files = Vec::new();
    for s in 0..6u64 {
        let mut c = step_commit(s, 2, 2);
        if s % 2 == 0 {
            let f = store
                .write_file(
                    &Store::weights_path("r", s, "w.safetensors"),
                    &[s as u8; 10],
                )
                .expect("file");
            let mut ck = checkpoint(s, &[("adapter", &[s as u8; 3])]);
            ck.0.files.push(f.clone());
            files.push(f);
            c.checkpoint = Some(ck);
        }
        store.commit_step("r", &c).expect("commit");
        store
            .put_eval(
                "r",
                &EvalRecord {
                    step: s,
                    name: "heldout".into(),
                    created_unix: s,
                    metrics: metrics(s),
                },
            )
            .expect("eval");
    }
    store.truncate_after("r", 2).expect("truncate");
    assert_eq!(
        store
            .metrics("r")
            .expect("metrics")
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert!(all_rollouts(&store, "r").iter().all(|r| r.step <= 2));
    assert_eq!(all_rollouts(&store, "r").len(), 12);
    assert_eq!(
        store
            .last_checkpoint("r")
            .expect("ckpt")
            .expect("some")
            .step,
        2
    );
    assert!(store.checkpoint_blob("r", 4, "adapter").is_err());
    assert_eq!(
        store.checkpoint_blob("r", 2, "adapter").expect("blob"),
        vec![2u8; 3]
    );
    assert_eq!(
        store.run("r").expect("run").expect("exists").last_step,
        Some(2)
    );
    assert_eq!(
        store
            .evals("r")
            .expect("evals")
            .iter()
            .map(|e| e.step)
            .collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert!(home.join(&files[1].path).exists());
    assert!(
        !home.join(&files[2].path).exists(),
        "weights of step 4 removed"
    );
    // Other runs are untouched.
    assert_eq!(store.metrics("other").expect("metrics").len(), 1);
    assert_eq!(store.step_rollouts("other", 5).expect("rollouts").len(), 1);

    // Resume from step 2 and continue: no duplicates.
    store
        .commit_step("r", &step_commit(3, 2, 2))
        .expect("commit 3");
    assert_eq!(all_rollouts(&store, "r").len(), 16);
    assert_eq!(
        store.run("r").expect("run").expect("exists").last_step,
        Some(3)
    );

    store.truncate_after("r", 0).expect("truncate");
    store.delete_run("r").expect("delete");
    assert!(store.run("r").expect("run").is_none());
    assert!(store.evals("r").is_err());
    assert_eq!(store.list_runs().expect("list").len(), 1);
}

#[test]
fn filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store.create_run(&info("r", 1)).expect("create");
    for s in 0..3u64 {
        let mut c = step_commit(s, 3, 4);
        if s == 2 {
            for r in &mut c.rollouts {
                r.eval = r.prompt_index == 0;
            }
            c.rollouts[5].answer = Some("The QUICK brown fox".into());
            c.rollouts[5]
                .verdicts
                .push(verdict("length:max_words", false));
        }
        store.commit_step("r", &c).expect("commit");
    }
    let scan = |f: RolloutFilter| -> Vec<Rollout> {
        store
            .scan_rollouts("r", f)
            .collect::<anyhow::Result<Vec<_>>>()
            .expect("scan")
    };
    assert_eq!(scan(RolloutFilter::default()).len(), 36);
    let step1 = scan(RolloutFilter {
        step: Some(1),
        ..Default::default()
    });
    assert_eq!(step1.len(), 12);
    assert!(step1.iter().all(|r| r.step == 1));

    let failed = scan(RolloutFilter {
        failed_constraint: Some("change_case:english_lowercase".into()),
        ..Default::default()
    });
    assert_eq!(failed.len(), 18);
    assert!(failed.iter().all(|r| r.sample % 2 == 0));
    let failed_len = scan(RolloutFilter {
        failed_constraint: Some("length:max_words".into()),
        ..Default::default()
    });
    assert_eq!(failed_len.len(), 1);
    assert_eq!((failed_len[0].step, failed_len[0].prompt_index), (2, 1));

    let range = scan(RolloutFilter {
        reward_min: Some(1.0),
        reward_max: Some(1.2),
        ..Default::default()
    });
    assert!(range.iter().all(|r| r.reward >= 1.0 && r.reward <= 1.2));
    assert_eq!(range.len(), 9, "prompt 1, samples 0..=2, three steps");

    let kept = scan(RolloutFilter {
        kept: Some(true),
        ..Default::default()
    });
    assert_eq!(kept.len(), 18);
    assert!(kept.iter().all(|r| r.kept));
    let no_think = scan(RolloutFilter {
        no_think: Some(true),
        ..Default::default()
    });
    assert_eq!(no_think.len(), 9);
    assert!(no_think.iter().all(|r| r.sample == 3));
    let eval = scan(RolloutFilter {
        eval: Some(true),
        ..Default::default()
    });
    assert_eq!(eval.len(), 4);
    assert_eq!(
        scan(RolloutFilter {
            eval: Some(false),
            ..Default::default()
        })
        .len(),
        32
    );

    let text = scan(RolloutFilter {
        text: Some("quick BROWN".into()),
        ..Default::default()
    });
    assert_eq!(text.len(), 1);
    let text_prompt = scan(RolloutFilter {
        text: Some("TOPIC 2".into()),
        step: Some(0),
        ..Default::default()
    });
    assert_eq!(text_prompt.len(), 4);

    let combined = scan(RolloutFilter {
        step: Some(2),
        kept: Some(false),
        failed_constraint: Some("change_case:english_lowercase".into()),
        reward_min: Some(2.0),
        ..Default::default()
    });
    assert_eq!(combined.len(), 2);

    let mut unknown = store.scan_rollouts("ghost", RolloutFilter::default());
    let err = unknown.next().expect("one item").expect_err("unknown run");
    assert!(err.to_string().contains("no run `ghost`"), "{err}");
    assert!(unknown.next().is_none());
}

#[test]
fn second_open_says_another_raif() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = Store::open(dir.path()).expect("open");
    let err = Store::open(dir.path()).expect_err("second open must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("another raif is using"), "{msg}");
    assert!(msg.contains("--home"), "{msg}");
    assert!(
        msg.contains(&dir.path().join("store").display().to_string()),
        "{msg}"
    );
    drop(first);
    // A clone shares the database within a process.
    let a = Store::open(dir.path()).expect("open after close");
    let b = a.clone();
    b.create_run(&info("x", 1)).expect("create");
    assert!(a.run("x").expect("run").is_some());
}

/// Open the store's sled database directly, waiting out the lock that sled's flusher thread
/// holds for a moment after a `Store` is dropped.
fn raw_open(home: &Path) -> sled::Db {
    for _ in 0..40 {
        match sled::open(home.join("store")) {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    sled::open(home.join("store")).expect("raw open")
}

fn raw_insert(home: &Path, tree: &str, key: &[u8], value: &[u8]) {
    let db = raw_open(home);
    db.open_tree(tree)
        .expect("tree")
        .insert(key, value)
        .expect("insert");
    db.flush().expect("flush");
}

fn raw_get(home: &Path, tree: &str, key: &[u8]) -> Vec<u8> {
    let db = raw_open(home);
    db.open_tree(tree)
        .expect("tree")
        .get(key)
        .expect("get")
        .expect("present")
        .to_vec()
}

#[test]
fn corrupt_values_name_run_tree_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    {
        let store = Store::open(home).expect("open");
        store.create_run(&info("run-c", 1)).expect("create");
        store
            .commit_step("run-c", &step_commit(7, 2, 2))
            .expect("commit");
    }
    // A truncated rollout and garbage metrics.
    let key = rollout_key(7, 1, 0);
    let good = raw_get(home, "rollouts/run-c", &key);
    raw_insert(home, "rollouts/run-c", &key, &good[..good.len() / 2]);
    raw_insert(
        home,
        "metrics/run-c",
        &7u64.to_be_bytes(),
        &[2, 0xff, 0xff, 0xff],
    );

    let store = Store::open(home).expect("reopen");
    let err = store
        .step_rollouts("run-c", 7)
        .expect_err("corrupt rollout");
    let msg = format!("{err:#}");
    assert!(msg.contains("run `run-c`"), "{msg}");
    assert!(msg.contains("tree `rollouts/run-c`"), "{msg}");
    assert!(msg.contains("step 7, prompt 1, sample 0"), "{msg}");
    // The scan yields the good rollouts and an error for the bad one.
    let items: Vec<_> = store
        .scan_rollouts("run-c", RolloutFilter::default())
        .collect();
    assert_eq!(items.len(), 4);
    assert_eq!(items.iter().filter(|i| i.is_err()).count(), 1);

    let msg = format!("{:#}", store.metrics("run-c").expect_err("corrupt metrics"));
    assert!(
        msg.contains("tree `metrics/run-c`") && msg.contains("step 7"),
        "{msg}"
    );
    drop(store);

    raw_insert(home, "runs", b"run-c", b"\x01{not json");
    raw_insert(home, "runs", b"run-d", &[9, 1, 2]);
    let store = Store::open(home).expect("reopen");
    let msg = format!("{:#}", store.list_runs().expect_err("corrupt run"));
    assert!(
        msg.contains("run `run-c`") && msg.contains("tree `runs`"),
        "{msg}"
    );
    let msg = format!("{:#}", store.run("run-d").expect_err("unknown format"));
    assert!(msg.contains("unknown format byte 9"), "{msg}");
    let empty = store.run("run-e");
    assert!(empty.expect("absent is fine").is_none());
}

#[test]
fn blob_checksum_mismatch_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    {
        let store = Store::open(home).expect("open");
        store.create_run(&info("r", 1)).expect("create");
        let mut c = step_commit(4, 1, 1);
        c.checkpoint = Some(checkpoint(4, &[("adapter", b"0123456789")]));
        store.commit_step("r", &c).expect("commit");
        assert_eq!(
            store.checkpoint_blob("r", 4, "adapter").expect("blob"),
            b"0123456789"
        );
    }
    let mut key = 4u64.to_be_bytes().to_vec();
    key.extend_from_slice(b"adapter");
    let mut v = raw_get(home, "blobs/r", &key);
    let last = v.len() - 1;
    v[last] ^= 1;
    raw_insert(home, "blobs/r", &key, &v);
    let store = Store::open(home).expect("reopen");
    let msg = format!(
        "{:#}",
        store
            .checkpoint_blob("r", 4, "adapter")
            .expect_err("bit flip")
    );
    assert!(
        msg.contains("corrupt") && msg.contains("adapter") && msg.contains("step 4"),
        "{msg}"
    );
}

#[test]
fn a_failing_commit_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store.create_run(&info("r", 1)).expect("create");
    let first = step_commit(1, 2, 2);
    store.commit_step("r", &first).expect("commit 1");

    // Step 2 with a checkpoint whose manifest disagrees with its blob. The transaction writes
    // metrics, rollouts and blobs before it checks the checkpoint, then aborts.
    let mut bad = step_commit(2, 3, 3);
    let mut ck = checkpoint(2, &[("adapter", b"real bytes")]);
    ck.0.blobs.push(raif_store::BlobInfo {
        name: "adapter".into(),
        sha256: raif_store::sha256_hex(b"other bytes"),
        bytes: 10,
    });
    bad.checkpoint = Some(ck);
    let msg = format!("{:#}", store.commit_step("r", &bad).expect_err("mismatch"));
    assert!(msg.contains("step 2") && msg.contains("SHA-256"), "{msg}");
    assert!(store.step_rollouts("r", 2).expect("rollouts").is_empty());
    assert_eq!(store.metrics("r").expect("metrics").len(), 1);
    assert_eq!(store.last_checkpoint("r").expect("ckpt"), None);
    assert_eq!(
        store.run("r").expect("run").expect("exists").last_step,
        Some(1)
    );

    // Re-committing step 1 the same way must not lose the old step 1 either.
    let mut bad1 = step_commit(1, 1, 1);
    let mut ck = checkpoint(1, &[("adapter", b"real bytes")]);
    ck.0.blobs.push(raif_store::BlobInfo {
        name: "adapter".into(),
        sha256: "00".repeat(32),
        bytes: 0,
    });
    bad1.checkpoint = Some(ck);
    assert!(store.commit_step("r", &bad1).is_err());
    assert_eq!(
        store.step_rollouts("r", 1).expect("rollouts"),
        first.rollouts
    );
    assert_eq!(store.metrics("r").expect("metrics")[0].1, metrics(1));

    // A manifest that lists a blob without data is refused up front.
    let mut c = step_commit(3, 1, 1);
    let mut ck = checkpoint(3, &[]);
    ck.0.blobs.push(raif_store::BlobInfo {
        name: "optimizer".into(),
        sha256: String::new(),
        bytes: 0,
    });
    c.checkpoint = Some(ck);
    assert!(store.commit_step("r", &c).is_err());
    assert!(store.step_rollouts("r", 3).expect("rollouts").is_empty());
}

#[test]
fn runs_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store
        .create_run(&info("alpha", 1_764_132_286))
        .expect("create");
    store.create_run(&info("empty", 1)).expect("create");
    for s in 0..2 {
        store
            .commit_step("alpha", &step_commit(s, 2, 2))
            .expect("commit");
    }

    let mut out = Vec::new();
    report::write_runs_list(&store, true, &mut out).expect("list");
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "alpha");
    assert_eq!(lines[0]["status"], "running");
    assert_eq!(lines[0]["last_step"], 1);
    assert_eq!(lines[0]["model"], "tiny-test");
    assert_eq!(lines[0]["created"], "2025-11-26T04:44:46Z");
    assert_eq!(lines[1]["last_step"], serde_json::Value::Null);

    let mut out = Vec::new();
    report::write_run_show(&store, "alpha", true, &mut out).expect("show");
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["step"], 1);
    assert_eq!(lines[1]["reward"], 0.1);
    assert_eq!(lines[1]["rewards/change_case:english_lowercase/mean"], 0.5);

    let mut out = Vec::new();
    let f = RolloutFilter {
        step: Some(1),
        ..Default::default()
    };
    report::write_rollouts(&store, "alpha", f.clone(), true, &mut out).expect("rollouts");
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 4);
    for key in [
        "prompt_id",
        "sample",
        "reasoning",
        "answer",
        "reward",
        "advantage",
        "kept",
        "verdicts",
    ] {
        assert!(lines[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(lines[3]["prompt_id"], "p1");
    assert_eq!(lines[3]["sample"], 1);
    assert_eq!(
        lines[3]["verdicts"][0]["id"],
        "change_case:english_lowercase"
    );
    assert_eq!(lines[3]["verdicts"][0]["pass"], true);

    // Tables for people.
    {
        let json = false;
        let mut out = Vec::new();
        report::write_runs_list(&store, json, &mut out).expect("list");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.contains("alpha") && text.contains("LAST STEP"),
            "{text}"
        );
        let mut out = Vec::new();
        report::write_run_show(&store, "alpha", json, &mut out).expect("show");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.contains("reward") && text.contains("more metrics"),
            "{text}"
        );
        let mut out = Vec::new();
        report::write_rollouts(&store, "alpha", f.clone(), json, &mut out).expect("rollouts");
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.contains("4 rollouts"), "{text}");
    }

    let mut sink = Vec::new();
    let err = report::write_run_show(&store, "nope", true, &mut sink).expect_err("unknown");
    assert!(err.to_string().contains("no run `nope`"), "{err}");
    let err = report::write_rollouts(&store, "nope", f, true, &mut sink).expect_err("unknown");
    assert!(err.to_string().contains("no run `nope`"), "{err}");
    let err = report::write_rollouts(
        &store,
        "alpha",
        RolloutFilter {
            step: Some(9),
            ..Default::default()
        },
        true,
        &mut sink,
    )
    .expect_err("unknown step");
    assert!(err.to_string().contains("no step 9"), "{err}");
    assert!(sink.is_empty());
}

#[test]
fn texts_round_trip_whatever_their_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store.create_run(&info("t", 1)).expect("create");
    let mut c = step_commit(0, 1, 5);
    let shapes: [(&str, Option<&str>, Option<&str>); 5] = [
        (
            "<think>ça va</think>réponse ✓",
            Some("ça va"),
            Some("réponse ✓"),
        ),
        ("no tags at all", None, Some("not in the response")),
        ("", Some(""), Some("")),
        ("aaa", Some("a"), Some("aa")),
        ("plain", None, None),
    ];
    for (r, (resp, reasoning, answer)) in c.rollouts.iter_mut().zip(shapes) {
        r.response = resp.into();
        r.reasoning = reasoning.map(String::from);
        r.answer = answer.map(String::from);
    }
    store.commit_step("t", &c).expect("commit");
    assert_eq!(store.step_rollouts("t", 0).expect("rollouts"), c.rollouts);
}

#[test]
fn summaries_and_checkpoint_deletion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let store = Store::open(home).expect("open");
    store.create_run(&info("r", 1)).expect("create");
    let mut files = Vec::new();
    for s in 0..3u64 {
        let mut c = step_commit(s, 2, 2);
        let f = store
            .write_file(&Store::weights_path("r", s, "w.safetensors"), b"weights")
            .expect("file");
        let mut ck = checkpoint(s, &[("adapter", b"a")]);
        ck.0.files.push(f.clone());
        files.push(f);
        c.checkpoint = Some(ck);
        store.commit_step("r", &c).expect("commit");
    }
    store.delete_checkpoint("r", 0).expect("delete");
    store
        .delete_checkpoint("r", 0)
        .expect("delete again is fine");
    assert_eq!(
        store
            .checkpoints("r")
            .expect("ckpts")
            .iter()
            .map(|m| m.step)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(store.checkpoint_blob("r", 0, "adapter").is_err());
    assert!(!home.join(&files[0].path).exists());
    assert!(home.join(&files[1].path).exists());
    assert_eq!(store.step_rollouts("r", 0).expect("rollouts").len(), 4);

    let full = all_rollouts(&store, "r");
    let sums: Vec<_> = store
        .scan_rollout_summaries("r", RolloutFilter::default())
        .collect::<anyhow::Result<Vec<_>>>()
        .expect("summaries");
    assert_eq!(sums.len(), full.len());
    for (s, r) in sums.iter().zip(&full) {
        assert_eq!(s, &raif_store::codec::head_of(r));
    }
    let text: Vec<_> = store
        .scan_rollout_summaries(
            "r",
            RolloutFilter {
                text: Some("STEP 1 SAMPLE 0".into()),
                ..Default::default()
            },
        )
        .collect::<anyhow::Result<Vec<_>>>()
        .expect("summaries");
    assert_eq!(text.len(), 2);
    assert!(text.iter().all(|s| s.step == 1 && s.sample == 0));
}

#[test]
fn the_store_is_shared_across_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<Store>();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store.create_run(&info("t", 1)).expect("create");
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for s in 0..20 {
                store
                    .commit_step("t", &step_commit(s, 2, 2))
                    .expect("commit");
            }
        })
    };
    // A reader (the UI) while the trainer commits: every step it sees is whole.
    for _ in 0..20 {
        for (step, _) in store.metrics("t").expect("metrics") {
            assert_eq!(store.step_rollouts("t", step).expect("rollouts").len(), 4);
        }
    }
    writer.join().expect("writer");
    assert_eq!(all_rollouts(&store, "t").len(), 80);
}
