//! Evaluation end to end on tiny models built here: metrics equal to `raif check` on the same
//! responses, an interrupted evaluation that resumes to the uninterrupted result, and the
//! log-prob judge (checked against a teacher-forced forward of its own).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use raif_datasets::{Message, Record, Split};
use raif_model::tiny::tiny_model;
use raif_model::train::{token_logprobs, LogProbOptions, SeqBatch};
use raif_model::{Arch, PromptMode};
use raif_rl::eval::score::{self, Generated};
use raif_rl::eval::{score_batch, Bench, EvalSetup, Evaluation};
use raif_rl::judge::{JudgeQuery, ModelJudge};
use raif_rl::store::Store;
use raif_verify::Constraint;
use serde_json::{json, Value};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

fn ifeval_path() -> PathBuf {
    shared().join("ifeval/input_data.jsonl")
}

fn setup(bench: Bench, mode: PromptMode, limit: usize, batch: usize, data: &Path) -> EvalSetup {
    EvalSetup {
        model: "tiny".into(),
        checkpoint: None,
        bench,
        mode,
        limit: Some(limit),
        judge: None,
        max_new_tokens: 12,
        batch,
        data: data.to_path_buf(),
        // One model, template and file per test: names stand in for their digests.
        identity: raif_rl::eval::Identity {
            model: "tiny".into(),
            template: "chatml".into(),
            data: data.display().to_string(),
            judge: None,
        },
    }
}

/// The raw benchmark lines joined with responses, as `raif check` reads them.
fn check_input(path: &Path, responses: &HashMap<u32, String>) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(r) = responses.get(&(i as u32)) {
            let mut v: Value = serde_json::from_str(line).unwrap();
            v["response"] = json!(r);
            out += &format!("{v}\n");
        }
    }
    out
}

fn check(
    path: &Path,
    responses: &HashMap<u32, String>,
) -> (raif_verify::check::Summary, Vec<Value>) {
    let input = check_input(path, responses);
    let mut out = Vec::new();
    let rep =
        raif_verify::check::check_stream("in.jsonl", input.as_bytes(), &mut out, None).unwrap();
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (rep.summary, lines)
}

fn assert_metrics_match(m: &raif_rl::store::Metrics, s: &raif_verify::check::Summary) {
    let g = |k: &str| m[&format!("ifeval.{k}")];
    assert_eq!(g("items") as usize, s.prompts);
    assert_eq!(g("instructions") as usize, s.instructions);
    assert!((g("prompt_strict") - s.prompt_strict).abs() < 1e-12);
    assert!((g("prompt_loose") - s.prompt_loose).abs() < 1e-12);
    assert!((g("instruction_strict") - s.instruction_strict).abs() < 1e-12);
    assert!((g("instruction_loose") - s.instruction_loose).abs() < 1e-12);
}

#[test]
fn eval_of_a_tiny_model_matches_raif_check_on_its_responses() {
    let lm = tiny_model(Arch::Qwen2, 3).unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let path = ifeval_path();
    let records = Bench::Ifeval.load(&path).unwrap();
    let ev = Evaluation {
        store: &store,
        policy: &lm,
        judge: None,
        stop: None,
    };
    let st = setup(Bench::Ifeval, PromptMode::Io, 8, 4, &path);
    assert!(
        ev.rescore(&st, &records).is_err(),
        "nothing stored to rescore yet"
    );
    let run = ev.run(&st, &records, &mut |_| {}).unwrap();
    assert_eq!(
        (run.status.name(), run.done, run.target),
        ("finished", 8, 8)
    );
    assert!(run.timing.generated_tokens > 0 && run.timing.generate_s > 0.0);
    let items = store.eval_items(&run.id).unwrap();
    assert_eq!(items.len(), 8);
    let responses: HashMap<u32, String> = items
        .iter()
        .map(|i| (i.index, i.response.clone()))
        .collect();
    let (summary, lines) = check(&path, &responses);
    assert_metrics_match(&run.metrics, &summary);
    // Per instruction, too.
    for (it, line) in items.iter().zip(&lines) {
        let strict: Vec<bool> = it.verdicts.iter().map(|v| v.strict).collect();
        let loose: Vec<bool> = it.verdicts.iter().map(|v| v.loose.unwrap()).collect();
        assert_eq!(json!(strict), line["strict"], "item {}", it.index);
        assert_eq!(json!(loose), line["loose"], "item {}", it.index);
    }
    // `--rescore`: stale verdicts (as a verifier with a bug would have left them) are scored
    // again from the stored responses, nothing generated.
    let mut stale = items.clone();
    for it in &mut stale {
        for v in &mut it.verdicts {
            v.strict = !v.strict;
            v.reason = "stale".into();
        }
    }
    store.commit_eval_items(&run, &stale).unwrap();
    let again = ev.rescore(&st, &records).unwrap();
    assert_eq!(store.eval_items(&run.id).unwrap(), items);
    assert_eq!(again.metrics, run.metrics);
    assert_eq!(again.timing.generated_tokens, run.timing.generated_tokens);
}

#[test]
fn crafted_responses_score_like_raif_check_and_think_mode_scores_the_answer() {
    // Responses written to pass some instructions, so the comparison is not all zeros.
    let lm = tiny_model(Arch::Llama, 1).unwrap();
    let path = ifeval_path();
    let records = Bench::Ifeval.load(&path).unwrap();
    let texts = [
        "hello world. this is all lowercase and has no commas at all",
        "A SHORT ANSWER IN CAPITALS",
        "Title: <<My poem>>\n\nSection 1\nfirst\n\nSection 2\nsecond\n\nP.S. thanks",
        "*highlighted* text, with a comma\n\n***\n\nand a second paragraph",
        "",
        "{\"answer\": \"json\"}",
    ];
    let batch: Vec<(u32, &Record, Generated)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                i as u32,
                &records[i],
                Generated {
                    text: t.to_string(),
                    prompt_tokens: 1,
                    tokens: 1,
                    finish: "stop".into(),
                },
            )
        })
        .collect();
    let items = score_batch(Bench::Ifeval, &lm, PromptMode::Io, None, &batch).unwrap();
    let m = score::metrics(Bench::Ifeval, &items, &records).unwrap();
    let responses: HashMap<u32, String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (i as u32, t.to_string()))
        .collect();
    let (summary, _) = check(&path, &responses);
    assert!(
        summary.instruction_loose > 0.0,
        "crafted to pass something: {summary:?}"
    );
    assert_metrics_match(&m, &summary);

    // Think mode scores only the extracted answer; a response without tags scores nothing.
    let wrapped: Vec<String> = texts
        .iter()
        .map(|t| format!("plan it</think><answer>{t}</answer>"))
        .collect();
    let batch: Vec<(u32, &Record, Generated)> = wrapped
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                i as u32,
                &records[i],
                Generated {
                    text: t.clone(),
                    prompt_tokens: 1,
                    tokens: 1,
                    finish: "stop".into(),
                },
            )
        })
        .collect();
    let think = score_batch(Bench::Ifeval, &lm, PromptMode::Think, None, &batch).unwrap();
    assert_eq!(think[0].reasoning.as_deref(), Some("plan it"));
    // Trimmed answers: equal verdicts wherever trimming does not matter (items 0 and 1).
    for i in 0..2 {
        let a: Vec<bool> = think[i].verdicts.iter().map(|v| v.strict).collect();
        let b: Vec<bool> = items[i].verdicts.iter().map(|v| v.strict).collect();
        assert_eq!(a, b, "item {i}");
    }
    let bad = score_batch(
        Bench::Ifeval,
        &lm,
        PromptMode::Think,
        None,
        &[(
            0,
            &records[0],
            Generated {
                text: texts[0].into(),
                prompt_tokens: 1,
                tokens: 1,
                finish: "stop".into(),
            },
        )],
    )
    .unwrap();
    assert!(bad[0].unscorable.is_some() && !bad[0].format_ok);
    assert!(bad[0]
        .verdicts
        .iter()
        .all(|v| !v.strict && v.reason.starts_with("not scored")));
}

#[test]
fn an_interrupted_evaluation_resumes_where_it_stopped() {
    let lm = tiny_model(Arch::Qwen2, 5).unwrap();
    let path = ifeval_path();
    let records = Bench::Ifeval.load(&path).unwrap();
    let st = setup(Bench::Ifeval, PromptMode::Think, 6, 2, &path);

    // Uninterrupted, in its own home.
    let h1 = tempfile::tempdir().unwrap();
    let s1 = Store::open(h1.path()).unwrap();
    let full = Evaluation {
        store: &s1,
        policy: &lm,
        judge: None,
        stop: None,
    }
    .run(&st, &records, &mut |_| {})
    .unwrap();
    let full_items = s1.eval_items(&full.id).unwrap();

    // Stopped after the first batch (as Ctrl-C does), then the same command again.
    let h2 = tempfile::tempdir().unwrap();
    let s2 = Store::open(h2.path()).unwrap();
    let stop = AtomicBool::new(false);
    let first = Evaluation {
        store: &s2,
        policy: &lm,
        judge: None,
        stop: Some(&stop),
    }
    .run(&st, &records, &mut |_| stop.store(true, Ordering::SeqCst))
    .unwrap();
    assert_eq!((first.status.name(), first.done), ("interrupted", 2));
    assert_eq!(s2.eval_items(&first.id).unwrap().len(), 2);
    drop(s2);
    // A new process: the store is reopened.
    let s2 = Store::open(h2.path()).unwrap();
    let mut resumed_from = None;
    let second = Evaluation {
        store: &s2,
        policy: &lm,
        judge: None,
        stop: None,
    }
    .run(&st, &records, &mut |p| {
        resumed_from.get_or_insert(p.resumed);
    })
    .unwrap();
    assert_eq!(
        resumed_from,
        Some(2),
        "the two stored items are not generated again"
    );
    assert_eq!((second.status.name(), second.done), ("finished", 6));
    assert_eq!(second.id, first.id);
    assert_eq!(s2.eval_items(&second.id).unwrap(), full_items);
    assert_eq!(second.metrics, full.metrics);
    // A larger limit adds items to the same evaluation.
    let more = Evaluation {
        store: &s2,
        policy: &lm,
        judge: None,
        stop: None,
    }
    .run(
        &setup(Bench::Ifeval, PromptMode::Think, 8, 2, &path),
        &records,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((more.id.as_str(), more.done), (second.id.as_str(), 8));
    // Changed data is refused, not mixed in.
    let mut other = records.clone();
    other.swap(0, 1);
    let err = Evaluation {
        store: &s2,
        policy: &lm,
        judge: None,
        stop: None,
    }
    .run(&st, &other, &mut |_| {})
    .unwrap_err();
    assert!(format!("{err:#}").contains("the data changed"), "{err:#}");
}

/// A tiny judge whose limit fits the judge prompt (the rubric alone is ~600 byte-level tokens
/// of the tiny tokenizer; its RoPE has no table, so longer positions are fine).
fn big_judge(seed: u64) -> ModelJudge {
    let mut lm = tiny_model(Arch::Llama, seed).unwrap();
    lm.model.cfg.max_position_embeddings = 4096;
    ModelJudge::new(lm).unwrap()
}

#[test]
fn the_judge_compares_teacher_forced_yes_and_no() {
    // The judge is its own model with its own template (here a different tiny model).
    let judge = big_judge(11);
    let (yes, no) = judge.reply_tokens();
    assert!(
        yes.len() > 1 && no.len() > 1,
        "the tiny tokenizer spells the replies in bytes"
    );
    let qs: Vec<JudgeQuery> = ["Is it short?", "Does it mention cats?", "Is it polite?"]
        .iter()
        .map(|q| JudgeQuery {
            instruction: "Write about the cat.".into(),
            answer: "the cat sat and the cat slept".into(),
            question: q.to_string(),
        })
        .collect();
    let vs = judge.ask_batch(&qs).unwrap();
    // Each verdict equals a plain teacher-forced forward of prompt + reply.
    let lm = &judge.lm;
    for (q, v) in qs.iter().zip(&vs) {
        let p = lm.tokenizer.encode(&judge.prompt_text(q).unwrap()).unwrap();
        let lp = |reply: &[u32]| -> f32 {
            let mut s = p.clone();
            s.extend_from_slice(reply);
            let b = SeqBatch::new(&[s], &[p.len()], lm.model.device()).unwrap();
            let out = token_logprobs(&lm.model, &b, &LogProbOptions::policy()).unwrap();
            b.row_values(&out.logp, 0).unwrap().iter().sum()
        };
        let (y, n) = (lp(yes), lp(no));
        assert!((y - v.logp_yes).abs() < 1e-3, "{y} vs {}", v.logp_yes);
        assert!((n - v.logp_no).abs() < 1e-3, "{n} vs {}", v.logp_no);
        assert_eq!(v.pass, y > n);
        assert!(v.overlong.is_none());
    }
    // Batched and one by one agree.
    for (q, v) in qs.iter().zip(&vs) {
        let one = big_judge(11).ask_batch(std::slice::from_ref(q)).unwrap();
        assert!((one[0].logp_yes - v.logp_yes).abs() < 1e-3);
    }
    // Too long for the judge: reported, not truncated, counted as not satisfied.
    let mut small = big_judge(11);
    small.max_tokens = 200;
    let v = small.ask_batch(&qs[..1]).unwrap();
    assert!(!v[0].pass && v[0].overlong.is_some_and(|(n, l)| n > 200 && l == 200));
    assert!(v[0].reason().contains("not judged"));
    use raif_verify::reward::Judge;
    assert!(
        small.ask("i", "a", "q").is_err(),
        "the single-question API says so too"
    );
}

#[test]
fn judge_scored_evaluation_stores_every_verdict() {
    let policy = tiny_model(Arch::Qwen2, 2).unwrap();
    let judge = big_judge(4);
    let q = |s: &str| Constraint::Judge { question: s.into() };
    let records: Vec<Record> = (0..3)
        .map(|i| {
            Record::new(
                format!("infobench-{i}"),
                "infobench",
                Split::Test,
                vec![Message::user(format!(
                    "Describe thing {i} in two sentences."
                ))],
                Constraint::And {
                    children: vec![q("Is it two sentences?"), q("Does it describe the thing?")],
                },
            )
        })
        .collect();
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let mut st = setup(
        Bench::Infobench,
        PromptMode::Cot,
        3,
        2,
        Path::new("in-test"),
    );
    st.judge = Some("tiny-judge".into());
    st.identity.judge = Some("tiny-judge".into());
    let no_judge = Evaluation {
        store: &store,
        policy: &policy,
        judge: None,
        stop: None,
    }
    .run(&st, &records, &mut |_| {});
    assert!(format!("{:#}", no_judge.unwrap_err()).contains("--judge"));
    let run = Evaluation {
        store: &store,
        policy: &policy,
        judge: Some(&judge),
        stop: None,
    }
    .run(&st, &records, &mut |_| {})
    .unwrap();
    let items = store.eval_items(&run.id).unwrap();
    assert_eq!(items.len(), 3);
    let mut yes = 0;
    for it in &items {
        assert_eq!(it.verdicts.len(), 2);
        for v in &it.verdicts {
            assert_eq!(v.id, "judge");
            assert!(v.reason.starts_with("judge answered"), "{}", v.reason);
            // The stored verdict is the judge's own on the scored answer (a fresh judge: no
            // cache).
            let again = big_judge(4)
                .ask_batch(&[JudgeQuery {
                    instruction: it.prompt.clone(),
                    answer: it.answer.clone().unwrap(),
                    question: v.question.clone().unwrap(),
                }])
                .unwrap();
            assert_eq!(again[0].pass, v.strict);
            yes += usize::from(v.strict);
        }
    }
    assert_eq!(run.metrics["infobench.drfr"], yes as f64 / 6.0);
    assert!(run.timing.judge_questions > 0);
}

/// Held-out generated instructions (trees with Selections): an answer that cannot be scored
/// is held to the same constraints as one that can, so instruction-level figures of think
/// mode and io mode share their denominator.
#[test]
fn generated_trees_count_the_same_constraints_scored_or_not() {
    let lm = tiny_model(Arch::Llama, 1).unwrap();
    let gc = raif_datasets::gen::GenConfig {
        n: 40,
        seed: 5,
        depth: Some(2),
        ..Default::default()
    };
    let (records, _) = raif_datasets::gen::generate(&gc, None);
    let with_selection = |c: &Constraint| format!("{c:?}").contains("Selection");
    assert!(
        records.iter().any(|r| with_selection(&r.constraints)),
        "the generator writes Selections at depth 2"
    );
    let gen = |i: usize, text: &str| {
        (
            i as u32,
            &records[i],
            Generated {
                text: text.to_string(),
                prompt_tokens: 1,
                tokens: 1,
                finish: "stop".into(),
            },
        )
    };
    let answered: Vec<_> = (0..records.len())
        .map(|i| gen(i, "plan</think><answer>an answer</answer>"))
        .collect();
    let unscorable: Vec<_> = (0..records.len()).map(|i| gen(i, "no tags")).collect();
    let a = score_batch(Bench::Generated, &lm, PromptMode::Think, None, &answered).unwrap();
    let b = score_batch(Bench::Generated, &lm, PromptMode::Think, None, &unscorable).unwrap();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(y.unscorable.is_some());
        let px: Vec<&str> = x.verdicts.iter().map(|v| v.path.as_str()).collect();
        let py: Vec<&str> = y.verdicts.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(px, py, "record {i}");
        assert!(y.verdicts.iter().all(|v| !v.strict));
    }
}
