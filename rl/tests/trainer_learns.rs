//! End-to-end: the trainer on a tiny random model and a trivially learnable constraint. The
//! mean reward must rise with a learning rate, and not without one (a real learning signal).

use std::path::Path;
use std::sync::Arc;

use raif_datasets::{Message, Record, Split};
use raif_rl::config::{AnswerFormat, Mode, RunConfig};
use raif_rl::store::Store;
use raif_rl::trainer::{self, TrainerEvent, TrainerSetup};
use raif_verify::Constraint;

/// Records asking for the word "the" (the tiny tokenizer has a token for " the").
fn write_data(path: &Path) {
    let tree: Constraint = serde_json::from_str(
        r#"{"type":"and","children":[{"type":"rule","id":"keywords:existence","kwargs":{"keywords":["the"]}}]}"#,
    )
    .unwrap();
    let records: Vec<Record> = (0..6)
        .map(|i| {
            Record::new(
                format!("r{i}"),
                "test",
                Split::Train,
                vec![Message::user(format!("say the word {i}"))],
                tree.clone(),
            )
        })
        .collect();
    raif_datasets::record::write_records(path, &records).unwrap();
}

fn config(model: &Path, data: &Path, seed: u64, lr: f64, steps: usize) -> RunConfig {
    let mut c = RunConfig::preset("grpo").unwrap();
    c.model.path = model.display().to_string();
    c.model.device = "cpu".into();
    c.data.path = data.display().to_string();
    c.rollout.format = AnswerFormat::Plain;
    c.rollout.max_new_tokens = 12;
    c.rollout.generation_batch = 64;
    c.train.seed = seed;
    c.train.steps = steps;
    c.train.prompts_per_step = 4;
    c.train.group_size = 8;
    c.train.samples_per_optimizer_step = 32;
    c.train.micro_batch = 16;
    c.train.mode = Mode::Full;
    c.train.learning_rate = lr;
    c.train.warmup_ratio = 0.0;
    c.train.min_lr_ratio = 1.0;
    c.train.checkpoint_every = 0;
    c.grpo.kl_coef = 0.0;
    c.eval.every = 0;
    c
}

fn run(home: &Path, cfg: RunConfig, id: &str) -> Vec<f64> {
    let store = Arc::new(Store::open(home).unwrap());
    let h = trainer::spawn(
        store.clone(),
        TrainerSetup {
            config: cfg,
            run_id: id.into(),
            home: home.to_path_buf(),
            resume: false,
            stop_after: None,
        },
    )
    .unwrap();
    for ev in h.events.iter() {
        if let TrainerEvent::Failed(e) = ev {
            panic!("run failed: {e}");
        }
    }
    h.thread.join().unwrap().unwrap();
    store
        .metrics(id)
        .unwrap()
        .into_iter()
        .map(|(_, m)| m["reward"])
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn mean_reward_rises_with_training_and_not_without() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny");
    raif_model::tiny::tiny_model(raif_model::Arch::Qwen2, 3)
        .unwrap()
        .save_hf(&model)
        .unwrap();
    let data = dir.path().join("data.jsonl");
    write_data(&data);
    let steps = 30;
    for seed in [1, 2] {
        let home = dir.path().join(format!("home-{seed}"));
        std::fs::create_dir_all(&home).unwrap();
        let trained = run(&home, config(&model, &data, seed, 3e-3, steps), "trained");
        let frozen = run(&home, config(&model, &data, seed, 1e-12, steps), "frozen");
        let (t0, t1) = (mean(&trained[..8]), mean(&trained[steps - 8..]));
        let (f0, f1) = (mean(&frozen[..8]), mean(&frozen[steps - 8..]));
        eprintln!("seed {seed}: trained {t0:.3} → {t1:.3}; frozen {f0:.3} → {f1:.3}");
        assert!(
            t1 > t0 + 1.0,
            "seed {seed}: reward must rise with training: {trained:?}"
        );
        assert!(
            (f1 - f0).abs() < 0.75,
            "seed {seed}: without updates the reward stays put: {frozen:?}"
        );
    }
}
