//! Synthetic, deterministic runs for the snapshot tests and the benchmark: rollouts with JSON,
//! markdown and plain answers, verdicts, tokens with log-probs and entropies, and metrics
//! with per-constraint pass rates; and a run with a warm-up (behaviour cloning steps without
//! rollouts) whose GRPO rollouts include budget-forced ones. Nothing here reads a clock.

use std::collections::BTreeMap;

use anyhow::Result;
use raif_rl::store::{Metrics, Rollout, RunInfo, RunStatus, StepCommit, Store, Verdict};

/// A small deterministic hash.
fn h(parts: &[u64]) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for p in parts {
        x ^= p
            .wrapping_add(0x632B_E59B_D9B4_E019)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 29)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 32;
    }
    x
}

pub const CONSTRAINTS: [(&str, &str); 3] = [
    ("detectable_format:json_format", "root/and[0]"),
    ("length_constraints:number_words", "root/and[1]/chain[0]"),
    ("keywords:existence", "root/and[1]/chain[1]"),
];

const PROMPTS: [&str; 3] = [
    "Describe a cat as a JSON object with the keys name, age and colour. Use fewer than 40 words.",
    "Write a short markdown list of three tips for sleeping well.\nEach tip must mention the word 'night'.",
    "Explain in two sentences why the sky is blue, then include the keyword 'scatter'.",
];

/// One synthetic rollout.
pub fn rollout(step: u64, prompt_index: u32, sample: u32, group: u32) -> Rollout {
    let k = h(&[step, u64::from(prompt_index), u64::from(sample)]);
    let kind = prompt_index % 3;
    let no_think = group >= 4 && sample >= group - group / 4;
    let answer = match kind {
        0 => format!("{{\"name\": \"Tom\", \"age\": {}, \"colour\": \"grey\"}}", 1 + k % 9),
        1 => format!("# Sleep tips\n\n- Keep the night quiet\n- No screens at night\n- Go to bed at {} each night", 9 + k % 3),
        _ => format!("Sunlight scatters off air molecules, and blue light scatters most (step {step}).\nSo the sky looks blue."),
    };
    let reasoning = (!no_think).then(|| {
        format!(
            "The user wants {}.\nI should check the constraints one by one.\nDraft {} looks fine.",
            ["JSON", "a markdown list", "two sentences"][kind as usize],
            k % 5
        )
    });
    let verdicts: Vec<Verdict> = CONSTRAINTS
        .iter()
        .enumerate()
        .map(|(i, (id, path))| {
            let pass = !(k >> (i * 3)).is_multiple_of(4) || step as usize % 5 == i;
            Verdict {
                id: id.to_string(),
                path: path.to_string(),
                pass,
                reason: if pass {
                    String::new()
                } else {
                    format!(
                        "{} check failed on sample {sample}",
                        id.split(':').nth(1).unwrap_or(id)
                    )
                },
                role: "constraint".into(),
            }
        })
        .collect();
    let satisfied = verdicts.iter().filter(|v| v.pass).count() as u32;
    let total = verdicts.len() as u32;
    let answer_score = if satisfied == total {
        1.0
    } else {
        -1.0 + satisfied as f64 / total as f64
    };
    let format_score = if no_think || !k.is_multiple_of(7) {
        1.0
    } else {
        -1.0
    };
    let reward = answer_score + format_score;
    let response = match &reasoning {
        Some(r) => format!("<think>\n{r}\n</think>\n<answer>\n{answer}\n</answer>"),
        None => format!("<answer>\n{answer}\n</answer>"),
    };
    let n_tok = 12 + (k % 40) as usize;
    let tokens: Vec<u32> = (0..n_tok)
        .map(|i| (h(&[k, i as u64]) % 500) as u32)
        .collect();
    let logprobs: Vec<f32> = (0..n_tok)
        .map(|i| -((h(&[k, i as u64, 1]) % 60) as f32) / 10.0)
        .collect();
    let entropies: Vec<f32> = (0..n_tok)
        .map(|i| ((h(&[k, i as u64, 2]) % 45) as f32) / 10.0)
        .collect();
    let kept = no_think || satisfied * 2 >= total;
    Rollout {
        step,
        prompt_index,
        sample,
        prompt_id: format!("rec-{:03}", prompt_index),
        prompt: PROMPTS[kind as usize].to_string(),
        response,
        reasoning,
        answer: Some(answer),
        tokens,
        logprobs,
        entropies,
        finish: if k.is_multiple_of(11) {
            "length".into()
        } else {
            "eos".into()
        },
        reward,
        answer_score,
        format_score,
        satisfied,
        total,
        verdicts,
        advantage: ((k % 200) as f64 - 100.0) / 80.0,
        kept,
        keep_reason: if kept {
            "kept".into()
        } else {
            "worse than the no-think answers".into()
        },
        no_think,
        eval: false,
        forced: "none".into(),
        forced_tokens: Vec::new(),
    }
}

/// Token ids the fixtures use for the tags budget forcing injects: `\n</think>\n<answer>\n`
/// and `\n</answer>` (see [`tag_piece`]).
pub const THINK_CLOSE: [u32; 5] = [10, 497, 10, 498, 10];
pub const ANSWER_CLOSE: [u32; 2] = [10, 499];

/// The text of a fixture tag token, as a tokenizer would give it.
pub fn tag_piece(id: u32) -> Option<&'static str> {
    match id {
        10 => Some("\n"),
        497 => Some("</think>"),
        498 => Some("<answer>"),
        499 => Some("</answer>"),
        _ => None,
    }
}

/// `r` as if budget forcing had injected `forced` (`think`, `answer` or `think+answer`): the
/// reasoning (or the answer) cut at its budget, the tag's tokens in place with log-prob and
/// entropy 0, and the run's forced format score (0) for a valid format.
pub fn force(r: &mut Rollout, forced: &str) {
    let think = forced == "think" || forced == "think+answer";
    let answer = forced == "answer" || forced == "think+answer";
    if !(think || answer) || r.no_think {
        return;
    }
    let n = r.tokens.len();
    let mut at: Vec<u32> = Vec::new();
    // The first `frac` of `s`, cut at a space (lines kept).
    let cut = |s: &str, frac: f64| -> String {
        let keep = (s.chars().count() as f64 * frac) as usize;
        let head: String = s.chars().take(keep).collect();
        match head.rfind(char::is_whitespace) {
            Some(i) => head[..i].trim_end().to_string(),
            None => head,
        }
    };
    if think {
        // The reasoning budget ran out a third of the way in.
        let start = n / 3;
        for (j, id) in THINK_CLOSE.iter().enumerate() {
            if let Some(t) = r.tokens.get_mut(start + j) {
                *t = *id;
                at.push((start + j) as u32);
            }
        }
        r.reasoning = r.reasoning.as_deref().map(|t| cut(t, 0.6));
    }
    if answer {
        let start = n.saturating_sub(ANSWER_CLOSE.len());
        for (j, id) in ANSWER_CLOSE.iter().enumerate() {
            if let Some(t) = r.tokens.get_mut(start + j) {
                *t = *id;
                at.push((start + j) as u32);
            }
        }
        r.answer = r.answer.as_deref().map(|a| cut(a, 0.7));
        r.finish = "length".into();
    }
    for &i in &at {
        if let Some(v) = r.logprobs.get_mut(i as usize) {
            *v = 0.0;
        }
        if let Some(v) = r.entropies.get_mut(i as usize) {
            *v = 0.0;
        }
    }
    r.response = format!(
        "<think>\n{}\n</think>\n<answer>\n{}\n</answer>",
        r.reasoning.as_deref().unwrap_or(""),
        r.answer.as_deref().unwrap_or("")
    );
    if r.format_score > 0.0 {
        r.format_score = 0.0;
    }
    r.reward = r.answer_score + r.format_score;
    r.forced = forced.into();
    r.forced_tokens = at;
}

/// Which tags the warm-up fixture run's budget forcing injects into a rollout of GRPO step
/// `grpo_step` (1 = the first): at the first, the `#1` samples (`think`) and `p1 #2` (both
/// tags); later only `p1 #1`, as the policy learns to close its reasoning itself.
pub fn forced_kind(grpo_step: u64, prompt_index: u32, sample: u32) -> &'static str {
    match (grpo_step, prompt_index, sample) {
        (1, 1, 2) => "think+answer",
        (1, _, 1) | (_, 1, 1) => "think",
        _ => "none",
    }
}

/// The rollouts of one step.
pub fn step_rollouts(step: u64, prompts: u32, group: u32) -> Vec<Rollout> {
    let mut v = Vec::with_capacity((prompts * group) as usize);
    for p in 0..prompts {
        for s in 0..group {
            v.push(rollout(step, p, s, group));
        }
    }
    v
}

/// Metrics of one step computed from its rollouts (and a few smooth curves).
pub fn step_metrics(step: u64, rollouts: &[Rollout]) -> Metrics {
    let n = rollouts.len().max(1) as f64;
    let mut m: Metrics = BTreeMap::new();
    m.insert(
        "reward".into(),
        rollouts.iter().map(|r| r.reward).sum::<f64>() / n,
    );
    m.insert(
        "keep_ratio".into(),
        rollouts.iter().filter(|r| r.kept).count() as f64 / n,
    );
    m.insert(
        "completions/mean_length".into(),
        rollouts.iter().map(|r| r.tokens.len() as f64).sum::<f64>() / n,
    );
    m.insert("kl".into(), 0.001 * (step as f64).sqrt());
    m.insert("loss".into(), 1.0 / (1.0 + step as f64 * 0.1));
    m.insert("learning_rate".into(), 2e-5);
    for (id, _) in CONSTRAINTS {
        let vs: Vec<bool> = rollouts
            .iter()
            .flat_map(|r| r.verdicts.iter().filter(|v| v.id == id).map(|v| v.pass))
            .collect();
        m.insert(
            format!("rewards/{id}/mean"),
            vs.iter().filter(|p| **p).count() as f64 / vs.len().max(1) as f64,
        );
    }
    m
}

/// The metrics of a warm-up step (behaviour cloning): `phase` 0, no reward.
pub fn warmup_metrics(step: u64) -> Metrics {
    let mut m: Metrics = BTreeMap::new();
    m.insert("phase".into(), 0.0);
    m.insert("expert_nll".into(), 2.4 / (1.0 + step as f64 * 0.5));
    m.insert("loss".into(), 2.4 / (1.0 + step as f64 * 0.5));
    m.insert("grad_norm".into(), 3.0 / step as f64);
    m.insert("learning_rate".into(), 5e-4);
    m.insert("nan_skips".into(), 0.0);
    m.insert("step_time".into(), 1.5);
    m
}

/// The metrics of a GRPO step of the warm-up run: [`step_metrics`] with `phase` 1 and the
/// budget-forcing ratios over the reasoning samples.
pub fn grpo_metrics(step: u64, rollouts: &[Rollout]) -> Metrics {
    let mut m = step_metrics(step, rollouts);
    let think: Vec<&Rollout> = rollouts.iter().filter(|r| !r.no_think).collect();
    let n = think.len().max(1) as f64;
    m.insert("phase".into(), 1.0);
    m.insert(
        "completions/forced_ratio".into(),
        think.iter().filter(|r| r.was_forced()).count() as f64 / n,
    );
    m.insert(
        "format/self_closed_ratio".into(),
        think
            .iter()
            .filter(|r| !r.was_forced() && r.format_score > 0.0)
            .count() as f64
            / n,
    );
    m.insert("skipped_samples".into(), 0.0);
    m.insert("grad_norm".into(), 0.8);
    m.insert("step_time".into(), 4.0);
    m
}

/// Held-out evaluation metrics (at the end of the warm-up and at the last step).
pub fn eval_metrics(step: u64) -> Metrics {
    let x = step as f64;
    let mut m: Metrics = BTreeMap::new();
    m.insert("eval/format_ok".into(), (0.2 * x).min(1.0));
    m.insert("eval/instruction_strict".into(), (0.1 * x + 0.2).min(1.0));
    m.insert("eval/reward".into(), 0.3 * x - 0.5);
    m
}

/// The run's record.
pub fn run_info(id: &str, status: RunStatus) -> RunInfo {
    RunInfo {
        id: id.into(),
        created_unix: 1_700_000_000,
        status,
        model: "tiny-test".into(),
        dataset: "generated(n=400, seed=42)".into(),
        preset: "tiny".into(),
        config: serde_json::json!({"train": {"prompts_per_step": 2, "group_size": 4, "learning_rate": 2e-5, "seed": 42}}),
        last_step: None,
        source: "raif".into(),
    }
}

/// Create a run of `steps` steps of `prompts` × `group` rollouts.
pub fn build_run(
    store: &Store,
    id: &str,
    status: RunStatus,
    steps: u64,
    prompts: u32,
    group: u32,
) -> Result<()> {
    store.create_run(&run_info(id, status))?;
    for step in 1..=steps {
        let rollouts = step_rollouts(step, prompts, group);
        let metrics = step_metrics(step, &rollouts);
        store.commit_step(
            id,
            &StepCommit {
                step,
                metrics,
                rollouts,
                checkpoint: None,
            },
        )?;
    }
    Ok(())
}

/// Create a run with `warmup` warm-up steps (metrics only, `phase` 0; a held-out evaluation
/// at the last of them) and then `steps` GRPO steps of `prompts` × `group` rollouts (`phase`
/// 1, some budget-forced by [`forced_kind`], a held-out evaluation at the last step). Its
/// stored configuration has `warmup.steps` and `train.steps`.
pub fn build_warmup_run(
    store: &Store,
    id: &str,
    status: RunStatus,
    warmup: u64,
    steps: u64,
    prompts: u32,
    group: u32,
) -> Result<()> {
    let mut info = run_info(id, status);
    info.config = serde_json::json!({
        "train": {"steps": steps, "prompts_per_step": prompts, "group_size": group, "learning_rate": 5e-4, "seed": 42},
        "warmup": {"steps": warmup, "learning_rate": 5e-4, "demos_per_step": 4},
        "rollout": {"think_budget": 48, "answer_budget": 96, "forced_format_score": 0.0},
    });
    store.create_run(&info)?;
    for step in 1..=warmup + steps {
        let mut rollouts = Vec::new();
        let mut metrics = if step <= warmup {
            warmup_metrics(step)
        } else {
            for p in 0..prompts {
                for s in 0..group {
                    let mut r = rollout(step, p, s, group);
                    force(&mut r, forced_kind(step - warmup, p, s));
                    rollouts.push(r);
                }
            }
            grpo_metrics(step, &rollouts)
        };
        if step == warmup || step == warmup + steps {
            metrics.extend(eval_metrics(step));
        }
        store.commit_step(
            id,
            &StepCommit {
                step,
                metrics,
                rollouts,
                checkpoint: None,
            },
        )?;
    }
    Ok(())
}

/// Two stored evaluations of the same IFEval-style records, scored for real from fixed
/// responses: the base model in `cot` mode and `run-a`'s checkpoint in `think` mode.
pub fn build_evals(store: &Store) -> Result<()> {
    use raif_datasets::{Message, Record, Split};
    use raif_rl::eval::score::{metrics, Generated};
    use raif_rl::eval::{score_batch, Bench};
    use raif_rl::store::{EvalRun, EvalTiming};
    let rule = |id: &str, kw: serde_json::Value| {
        raif_rl::verify::Constraint::rule(id, kw.as_object().cloned().unwrap_or_default())
    };
    let records: Vec<Record> = (0..3)
        .map(|i| {
            Record::new(
                format!("ifeval-{i}"),
                "ifeval",
                Split::Test,
                vec![Message::user(format!(
                    "Write note {i} in lowercase without commas."
                ))],
                raif_rl::verify::Constraint::And {
                    children: vec![
                        rule("punctuation:no_comma", serde_json::json!({})),
                        rule("change_case:english_lowercase", serde_json::json!({})),
                    ],
                },
            )
        })
        .collect();
    let lm = raif_model::tiny::tiny_model(raif_model::Arch::Llama, 1)?;
    let sides = [
        (
            "default",
            None,
            raif_model::PromptMode::Cot,
            ["Sure, here it is.", "a note, lowercase", "a quiet note"],
        ),
        (
            "tiny",
            Some("run-a@3"),
            raif_model::PromptMode::Think,
            [
                "no commas and lowercase</think><answer>a short note</answer>",
                "lowercase only</think><answer>another note</answer>",
                "plan</think><answer>Third, Note</answer>",
            ],
        ),
    ];
    for (n, (model, ck, mode, texts)) in sides.into_iter().enumerate() {
        let batch: Vec<(u32, &Record, Generated)> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    i as u32,
                    &records[i],
                    Generated {
                        text: t.to_string(),
                        prompt_tokens: 20,
                        tokens: 8,
                        finish: "stop".into(),
                    },
                )
            })
            .collect();
        let items = score_batch(Bench::Ifeval, &lm, mode, None, &batch)?;
        let run = EvalRun {
            id: format!("ifeval-{}-fixture{n}", raif_rl::eval::mode_name(mode)),
            created_unix: 1_700_000_000 + n as u64,
            updated_unix: 1_700_000_100 + n as u64,
            model: model.into(),
            checkpoint: ck.map(str::to_string),
            bench: "ifeval".into(),
            mode: raif_rl::eval::mode_name(mode).into(),
            judge: None,
            max_new_tokens: 64,
            data: "fixture".into(),
            bench_items: records.len(),
            target: records.len(),
            done: items.len(),
            status: "finished".into(),
            metrics: metrics(Bench::Ifeval, &items, &records)?,
            timing: EvalTiming {
                prompt_tokens: 60,
                generated_tokens: 24,
                generate_s: 2.0,
                score_s: 0.5,
                judge_questions: 0,
                wall_s: 3.0,
            },
        };
        store.commit_eval_items(&run, &items)?;
    }
    Ok(())
}
