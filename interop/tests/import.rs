//! Import of TRL-shaped parquet and verl-shaped JSONL fixtures written here, re-verification
//! with our verifiers, and export round trips.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use raif_interop::{
    export_jsonl, export_parquet, import_jsonl, import_trl, import_verl, parse_constraints,
    ImportOptions,
};
use raif_store::{RolloutFilter, RunStatus, Store};
use raif_verify::reward::{raif_reward, Prefill, RewardConfig, TagStyle};
use serde_json::json;

#[path = "support/verl.rs"]
mod verl;
use verl::{responses, write_verl, P1, P2};

/// A TRL completions table: step (int64, or string in old releases), prompt, completion, one
/// float column per reward function, advantage.
fn write_trl(path: &Path, step: i64, string_step: bool) {
    let mut prompts = Vec::new();
    let mut completions = Vec::new();
    for p in [P1, P2] {
        for r in responses() {
            prompts.push(p.to_string());
            completions.push(r.to_string());
        }
    }
    let n = prompts.len();
    let step_col: ArrayRef = if string_step {
        Arc::new(StringArray::from(vec![step.to_string(); n]))
    } else {
        Arc::new(Int64Array::from(vec![step; n]))
    };
    let fmt: Vec<f64> = (0..n).map(|i| if i % 4 == 2 { 0.0 } else { 1.0 }).collect();
    let acc: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
    let adv: Vec<f64> = (0..n).map(|i| i as f64 / 10.0).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("step", step_col.data_type().clone(), false),
        Field::new("prompt", DataType::Utf8, false),
        Field::new("completion", DataType::Utf8, false),
        Field::new("format_reward", DataType::Float64, false),
        Field::new("accuracy_reward", DataType::Float64, false),
        Field::new("advantage", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            step_col,
            Arc::new(StringArray::from(prompts)),
            Arc::new(StringArray::from(completions)),
            Arc::new(Float64Array::from(fmt)),
            Arc::new(Float64Array::from(acc)),
            Arc::new(Float64Array::from(adv)),
        ],
    )
    .unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn records_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("records.jsonl");
    let mut f = File::create(&p).unwrap();
    writeln!(f, "{}", json!({"key": 1, "prompt": "Write a greeting without commas.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]})).unwrap();
    writeln!(f, "{}", json!({"id": "r2", "messages": [{"role": "user", "content": "Answer in capital letters only."}],
        "constraints": {"type": "and", "children": [{"type": "rule", "id": "change_case:english_capital"}]}})).unwrap();
    p
}

fn expected_reward(prompt: &str, response: &str, label: serde_json::Value) -> f64 {
    let tree = parse_constraints(&label).unwrap();
    let cfg = RewardConfig {
        style: TagStyle::ThinkAnswer,
        prefill: Prefill::OpenThink,
    };
    raif_reward(response, prompt, &tree, &cfg, None)
        .unwrap()
        .reward
}

#[test]
fn trl_parquet_import_groups_and_reverifies() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("grpo-out");
    write_trl(&out.join("completions/completions_00001.parquet"), 1, false);
    write_trl(&out.join("completions/completions_00002.parquet"), 2, true);
    let store = Store::open(&tmp.path().join("home")).unwrap();
    let opts = ImportOptions {
        records: Some(records_file(tmp.path())),
        ..Default::default()
    };
    let rep = import_trl(&store, &out, &opts).unwrap();
    assert_eq!(rep.run_id, "trl-grpo-out");
    assert_eq!(
        (rep.steps, rep.rollouts, rep.reverified),
        (2, 16, 16),
        "{rep}"
    );
    assert!(rep.problems.is_empty(), "{rep}");

    let info = store.run(&rep.run_id).unwrap().unwrap();
    assert_eq!(info.source, "import:trl");
    assert_eq!(info.status, RunStatus::Finished);
    assert_eq!(store.rollout_steps(&rep.run_id).unwrap(), vec![1, 2]);
    let rs = store.step_rollouts(&rep.run_id, 2).unwrap();
    assert_eq!(rs.len(), 8);
    let label1 = json!({"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]});
    let label2 = json!({"type": "rule", "id": "change_case:english_capital"});
    for r in &rs {
        let (prompt, label) = if r.prompt_index == 0 {
            (P1, &label1)
        } else {
            (P2, &label2)
        };
        assert_eq!(r.prompt, prompt);
        assert_eq!(r.response, responses()[r.sample as usize]);
        assert_eq!(
            r.reward,
            expected_reward(prompt, &r.response, label.clone()),
            "{r:?}"
        );
        // the advantage is TRL's
        assert!((r.advantage - (r.prompt_index * 4 + r.sample) as f64 / 10.0).abs() < 1e-12);
    }
    let first = &rs[0];
    assert_eq!(first.reward, 3.0);
    assert_eq!(first.answer.as_deref(), Some("Hello there friend"));
    assert_eq!(first.verdicts.len(), 1);
    assert_eq!(first.verdicts[0].id, "punctuation:no_comma");
    assert!(!rs[1].verdicts[0].pass);
    let m = store.step_metrics(&rep.run_id, 1).unwrap().unwrap();
    assert!(m.contains_key("engine_reward"), "{m:?}");
    assert_eq!(m["rewards/format_reward/mean"], 0.75);
    assert_eq!(m["rollouts"], 8.0);
}

#[test]
fn trl_without_constraints_keeps_the_engine_reward() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    write_trl(&out.join("completions/completions_00003.parquet"), 3, false);
    let store = Store::open(&tmp.path().join("home")).unwrap();
    let rep = import_trl(&store, &out, &ImportOptions::default()).unwrap();
    assert_eq!(rep.reverified, 0);
    let rs = store.step_rollouts(&rep.run_id, 3).unwrap();
    // TRL has no total column: the reward functions' columns sum to it
    assert_eq!(rs[0].reward, 1.0 + 0.0);
    assert_eq!(rs[1].reward, 1.0 + 1.0);
    assert_eq!(rs[0].answer.as_deref(), Some("Hello there friend"));
    assert!(rs[0].verdicts.is_empty());
}

#[test]
fn trl_errors_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("home")).unwrap();
    let e = import_trl(&store, tmp.path(), &ImportOptions::default()).unwrap_err();
    assert!(format!("{e:#}").contains("completions_*.parquet"), "{e:#}");
    let bad = tmp.path().join("bad/completions/completions_00001.parquet");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, b"not parquet").unwrap();
    let e = import_trl(&store, &tmp.path().join("bad"), &ImportOptions::default()).unwrap_err();
    assert!(
        format!("{e:#}").contains("completions_00001.parquet"),
        "{e:#}"
    );
    assert!(store.list_runs().unwrap().is_empty());
}

#[test]
fn verl_jsonl_import_reverifies_and_reports_bad_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rollouts");
    write_verl(&dir);
    let store = Store::open(&tmp.path().join("home")).unwrap();
    let rep = import_verl(&store, &dir, &ImportOptions::default()).unwrap();
    assert_eq!(
        (rep.steps, rep.rollouts, rep.reverified),
        (2, 16, 16),
        "{rep}"
    );
    assert_eq!(rep.problems.len(), 1, "{rep}");
    assert!(
        rep.problems[0].contains("2.jsonl:9") && rep.problems[0].contains("malformed JSON"),
        "{rep}"
    );
    let info = store.run(&rep.run_id).unwrap().unwrap();
    assert_eq!(info.source, "import:verl");
    let rs = store.step_rollouts(&rep.run_id, 1).unwrap();
    assert_eq!(rs.len(), 8);
    // advantages computed per group from our rewards (3, −1, −3, 3 for P1)
    let g: Vec<f64> = rs
        .iter()
        .filter(|r| r.prompt_index == 0)
        .map(|r| r.reward)
        .collect();
    assert_eq!(g, vec![3.0, -1.0, -3.0, 3.0]);
    let m = 0.5;
    let sd = ((2.5f64.powi(2) + 1.5f64.powi(2) + 3.5f64.powi(2) + 2.5f64.powi(2)) / 3.0).sqrt();
    assert!((rs[0].advantage - (3.0 - m) / (sd + 1e-9)).abs() < 1e-9);
    let metrics = store.step_metrics(&rep.run_id, 1).unwrap().unwrap();
    assert_eq!(metrics["engine_reward"], 0.5);
    assert_eq!(metrics["rewards/acc/mean"], 1.0);
    assert_eq!(metrics["format_ok"], 0.75);
}

#[test]
fn export_jsonl_and_parquet_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rollouts");
    write_verl(&dir);
    let store = Store::open(&tmp.path().join("home")).unwrap();
    let rep = import_verl(&store, &dir, &ImportOptions::default()).unwrap();
    let original: Vec<_> = store
        .scan_rollouts(&rep.run_id, RolloutFilter::default())
        .collect::<anyhow::Result<_>>()
        .unwrap();

    // JSONL: every rollout and metric comes back
    let file = tmp.path().join("run.jsonl");
    let mut f = File::create(&file).unwrap();
    assert_eq!(export_jsonl(&store, &rep.run_id, &mut f).unwrap(), 16);
    drop(f);
    let back = import_jsonl(&store, &file, &ImportOptions::default()).unwrap();
    assert_eq!(back.run_id, format!("import-{}", rep.run_id));
    assert_eq!((back.steps, back.rollouts), (2, 16));
    let again: Vec<_> = store
        .scan_rollouts(&back.run_id, RolloutFilter::default())
        .collect::<anyhow::Result<_>>()
        .unwrap();
    // serde_json (without its float_roundtrip feature) may read a float back 1 ULP off
    assert_eq!(again.len(), original.len());
    for (a, b) in again.iter().zip(&original) {
        assert!((a.advantage - b.advantage).abs() <= 1e-12 * b.advantage.abs().max(1.0));
        let mut a = a.clone();
        a.advantage = b.advantage;
        assert_eq!(&a, b);
    }
    let (ma, mb) = (
        store.metrics(&back.run_id).unwrap(),
        store.metrics(&rep.run_id).unwrap(),
    );
    assert_eq!(ma.len(), mb.len());
    for ((sa, a), (sb, b)) in ma.iter().zip(&mb) {
        assert_eq!(sa, sb);
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (k, v) in a {
            assert!((v - b[k]).abs() <= 1e-12 * b[k].abs().max(1.0), "{k}");
        }
    }
    assert_eq!(
        store.run(&back.run_id).unwrap().unwrap().source,
        "import:jsonl"
    );

    // Parquet: TRL's column names, so the TRL reader takes it back
    let pq = tmp
        .path()
        .join("export/completions/completions_all.parquet");
    std::fs::create_dir_all(pq.parent().unwrap()).unwrap();
    assert_eq!(export_parquet(&store, &rep.run_id, &pq).unwrap(), 16);
    let opts = ImportOptions {
        run_id: Some("from-parquet".into()),
        ..Default::default()
    };
    let t = import_trl(&store, &tmp.path().join("export"), &opts).unwrap();
    assert_eq!((t.steps, t.rollouts), (2, 16));
    let via_pq: Vec<_> = store
        .scan_rollouts("from-parquet", RolloutFilter::default())
        .collect::<anyhow::Result<_>>()
        .unwrap();
    for (a, b) in via_pq.iter().zip(&original) {
        assert_eq!(
            (a.step, a.prompt_index, a.sample),
            (b.step, b.prompt_index, b.sample)
        );
        assert_eq!(
            (&a.prompt, &a.response, a.reward, a.advantage),
            (&b.prompt, &b.response, b.reward, b.advantage)
        );
    }

    // plain rows import too
    let plain = tmp.path().join("plain.jsonl");
    std::fs::write(
        &plain,
        format!(
            "{}\n{}\n",
            json!({"step": 0, "prompt": P1, "response": responses()[0], "constraints": {"instruction_id_list": ["punctuation:no_comma"]}}),
            json!({"step": 0, "prompt": P1, "response": responses()[1], "reward": 0.25})
        ),
    )
    .unwrap();
    let p = import_jsonl(&store, &plain, &ImportOptions::default()).unwrap();
    assert_eq!((p.steps, p.rollouts, p.reverified), (1, 2, 1));
    let rs = store.step_rollouts(&p.run_id, 0).unwrap();
    assert_eq!(rs[0].reward, 3.0);
    assert_eq!(rs[1].reward, 0.25);

    // a missing run is a clear error
    let e = export_parquet(&store, "nope", &tmp.path().join("x.parquet")).unwrap_err();
    assert!(e.to_string().contains("no run `nope`"));
}
