//! Why rollouts are postcard (head + body) and not JSON: size and decode time of realistic
//! rollouts, and the time of a full and a filtered scan through sled. A measurement, not a
//! timed assertion: run it with
//! `cargo test -p raif-rl --test store_format -- --ignored --nocapture`.

use std::time::Instant;

use raif_store::{codec, Rollout, RolloutFilter, RunInfo, StepCommit, Store, Verdict};

fn rollout(step: u64, p: u32, s: u32, len: usize) -> Rollout {
    let text: String = (0..len / 2)
        .map(|i| ["the ", "model ", "writes ", "words, ", "and "][(i + s as usize) % 5])
        .collect();
    Rollout {
        step,
        prompt_index: p,
        sample: s,
        prompt_id: format!("ifeval-{p:05}"),
        prompt: "Write a short story about a lighthouse keeper in all lowercase letters, in at most 120 words, and end with the phrase 'is there anything else?'".into(),
        response: format!("<think>{text}</think>{text}"),
        reasoning: Some(text.clone()),
        answer: Some(text),
        tokens: (0..len as u32).map(|i| (i * 7919 + s) % 151_000).collect(),
        logprobs: (0..len).map(|i| -((i % 13) as f32) * 0.173).collect(),
        entropies: (0..len).map(|i| ((i % 17) as f32) * 0.091).collect(),
        finish: "eos".into(),
        reward: 0.25 * (s % 5) as f64,
        answer_score: 0.5,
        format_score: 1.0,
        satisfied: s % 3,
        total: 3,
        verdicts: (0..3)
            .map(|i| Verdict {
                id: ["change_case:english_lowercase", "length_constraints:number_words", "startend:end_checker"][i].into(),
                path: format!("root/and[{i}]"),
                pass: (s as usize + i).is_multiple_of(2),
                reason: "counted 131 words, at most 120 allowed".into(),
                role: "constraint".into(),
            })
            .collect(),
        advantage: 0.7,
        kept: s.is_multiple_of(2),
        keep_reason: "ok".into(),
        no_think: s == 7,
        eval: false,
        forced: "none".into(),
        forced_tokens: Vec::new(),
    }
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn measure_formats() {
    let len = 512;
    let n = 2_000;
    let rs: Vec<Rollout> = (0..n).map(|i| rollout(0, i / 8, i % 8, len)).collect();

    let t = Instant::now();
    let json: Vec<Vec<u8>> = rs
        .iter()
        .map(|r| codec::encode_json(r).expect("json"))
        .collect();
    let json_enc = t.elapsed();
    let t = Instant::now();
    for v in &json {
        let _: Rollout = codec::decode(v).expect("decode");
    }
    let json_dec = t.elapsed();

    let t = Instant::now();
    let pc: Vec<Vec<u8>> = rs
        .iter()
        .map(|r| codec::encode_rollout(r).expect("pc"))
        .collect();
    let pc_enc = t.elapsed();
    let t = Instant::now();
    for v in &pc {
        let _ = codec::decode_rollout(v).expect("decode");
    }
    let pc_dec = t.elapsed();
    let t = Instant::now();
    for v in &pc {
        let _ = codec::decode_rollout_head(v).expect("decode");
    }
    let pc_head = t.elapsed();

    let size = |vs: &[Vec<u8>]| vs.iter().map(|v| v.len()).sum::<usize>() as f64 / vs.len() as f64;
    println!("{n} rollouts of {len} tokens:");
    println!(
        "  json     {:>8.0} B/rollout  encode {:>6.1} µs  decode {:>6.1} µs",
        size(&json),
        json_enc.as_secs_f64() * 1e6 / n as f64,
        json_dec.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "  postcard {:>8.0} B/rollout  encode {:>6.1} µs  decode {:>6.1} µs  head only {:>5.1} µs",
        size(&pc),
        pc_enc.as_secs_f64() * 1e6 / n as f64,
        pc_dec.as_secs_f64() * 1e6 / n as f64,
        pc_head.as_secs_f64() * 1e6 / n as f64
    );

    // Through sled: 20 steps × 64 prompts × 8 samples.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store
        .create_run(&RunInfo {
            id: "m".into(),
            ..Default::default()
        })
        .expect("create");
    let steps = 20u64;
    let t = Instant::now();
    for step in 0..steps {
        let rollouts = (0..512u32)
            .map(|i| rollout(step, i / 8, i % 8, len))
            .collect();
        store
            .commit_step(
                "m",
                &StepCommit {
                    step,
                    rollouts,
                    ..Default::default()
                },
            )
            .expect("commit");
    }
    let commit = t.elapsed();
    let total = steps as usize * 512;
    let t = Instant::now();
    let all = store.scan_rollouts("m", RolloutFilter::default()).count();
    let full = t.elapsed();
    let t = Instant::now();
    let filtered = store
        .scan_rollouts(
            "m",
            RolloutFilter {
                failed_constraint: Some("startend:end_checker".into()),
                reward_min: Some(0.7),
                ..Default::default()
            },
        )
        .count();
    let filt = t.elapsed();
    assert_eq!(all, total);
    println!(
        "  sled: {total} rollouts, commit {:.1} ms/step of 512 (incl. flush), full scan {:.1} µs/rollout, filtered scan {:.1} µs/rollout ({filtered} matched), {:.1} MB on disk",
        commit.as_secs_f64() * 1e3 / steps as f64,
        full.as_secs_f64() * 1e6 / total as f64,
        filt.as_secs_f64() * 1e6 / total as f64,
        store.size_on_disk().expect("size") as f64 / 1e6
    );
}
