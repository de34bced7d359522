//! Synthetic, deterministic runs for the snapshot tests and the benchmark: rollouts with JSON,
//! markdown and plain answers, verdicts, tokens with log-probs and entropies, and metrics
//! with per-constraint pass rates; and a run with a warm-up (behaviour cloning steps without
//! rollouts) whose GRPO rollouts include budget-forced ones. Nothing here reads a clock.
//!
//! Only the texts (reasoning, answer, which sample forgets a tag or is cut) and the token ids
//! are made up. Everything the trainer computes from them comes from the trainer's own code,
//! with the settings of the `tiny` preset the fixture runs name: the verdicts, S/Q and the
//! reward from [`raif_rl::rollout::score`] (the real verifiers, and
//! [`raif_rl::rollout::apply_forced_format`] for forced samples), the advantages from
//! [`raif_rl::grpo::group_advantages`], the keep flags and reasons from
//! [`raif_rl::grpo::keep_flags`], and the metrics from [`raif_rl::trainer::metrics`].

use anyhow::Result;
use raif_datasets::{Message, Record, Split};
use raif_model::{BudgetForcing, FinishReason, Forced};
use raif_rl::config::RunConfig;
use raif_rl::grpo::{group_advantages, keep_flags, GroupSample};
use raif_rl::rollout::{self as scoring, Scored};
use raif_rl::trainer::metrics::{self, EvalSample, OptStats, SampleStats};
use raif_rl::trainer::EVAL_PROMPT_BASE;
use raif_rl::verify::reward::TagStyle;
use raif_rl::verify::Constraint;
use raif_store::{EvalStatus, Metrics, Rollout, RunInfo, RunStatus, StepCommit, Store};

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

const PROMPTS: [&str; 3] = [
    "Describe a cat as a JSON object with the keys name, age and colour. Use fewer than 40 words.",
    "Write a short markdown list of three tips for sleeping well.\nEach tip must mention the word 'night'.",
    "Explain in two sentences why the sky is blue, then include the keyword 'scatter'.",
];

/// The constraint tree of prompt `prompt_index` (three kinds, by `prompt_index % 3`): an And
/// with a Chain inside (JSON), an And (markdown), a Chain (plain text).
pub fn constraints(prompt_index: u32) -> Constraint {
    let tree = match prompt_index % 3 {
        0 => serde_json::json!({"type": "and", "children": [
            {"type": "rule", "id": "detectable_format:json_format", "kwargs": {}},
            {"type": "chain", "steps": [
                {"type": "rule", "id": "length_constraints:number_words",
                 "kwargs": {"relation": "less than", "num_words": 40}},
                {"type": "rule", "id": "keywords:existence", "kwargs": {"keywords": ["colour"]}},
            ]},
        ]}),
        1 => serde_json::json!({"type": "and", "children": [
            {"type": "rule", "id": "detectable_format:number_bullet_lists",
             "kwargs": {"num_bullets": 3}},
            {"type": "rule", "id": "keywords:frequency",
             "kwargs": {"keyword": "night", "frequency": 3, "relation": "at least"}},
        ]}),
        _ => serde_json::json!({"type": "chain", "steps": [
            {"type": "rule", "id": "length_constraints:number_sentences",
             "kwargs": {"relation": "less than", "num_sentences": 3}},
            {"type": "rule", "id": "keywords:existence", "kwargs": {"keywords": ["scatter"]}},
        ]}),
    };
    serde_json::from_value(tree).unwrap_or_else(|e| unreachable!("a fixture tree: {e}"))
}

/// The training record of prompt `prompt_index`.
pub fn record(prompt_index: u32) -> Record {
    Record::new(
        format!("rec-{prompt_index:03}"),
        "fixture",
        Split::Train,
        vec![Message::user(PROMPTS[(prompt_index % 3) as usize])],
        constraints(prompt_index),
    )
}

/// The configuration the fixture runs train with: the `tiny` preset (their stored `preset`)
/// with superior-CoT enforcement on, so that the views show no-think samples and the keep
/// rule, and `prompts` × `group` rollouts per step at `learning_rate`.
pub fn run_config(prompts: u32, group: u32, learning_rate: f64) -> RunConfig {
    let mut c = RunConfig::preset("tiny").unwrap_or_else(|e| unreachable!("{e}"));
    c.raif.enforce_superior_cot = true;
    c.train.prompts_per_step = prompts as usize;
    c.train.group_size = group as usize;
    c.train.learning_rate = learning_rate;
    c
}

/// An answer of kind `kind` (see [`PROMPTS`]). Variant 0 satisfies every constraint of its
/// prompt; the others miss one or all of them, which the verifiers find out for themselves.
fn answer_text(kind: u32, variant: u64, k: u64) -> String {
    let age = 1 + k % 9;
    let hour = 9 + k % 3;
    let cat =
        |colour: &str| format!("{{\"name\": \"Tom\", \"age\": {age}, \"{colour}\": \"grey\"}}");
    let about = "sleeps in the sun most of the day, chases the odd moth at dusk, purrs loudly \
                 whenever anyone comes near him with food, a brush or a warm lap, and ignores \
                 every toy that was bought for him.";
    let tips = "# Sleep tips\n\n- Keep the night quiet\n- No screens at night\n";
    let sky = "So the sky looks blue.";
    match (kind, variant % 5) {
        (0, 0) => cat("colour"),
        (0, 1) => cat("color"),
        (0, 2) => format!("Here is the cat:\n{}", cat("colour")),
        (0, 3) => format!(
            "{}, \"notes\": \"Tom {about}\"}}",
            cat("colour").trim_end_matches('}')
        ),
        (0, _) => format!("Tom is a grey cat of {age} years. He {about}"),
        (1, 0) => format!("{tips}- Go to bed at {hour} each night"),
        (1, 1) => format!("{tips}- Go to bed at {hour} each night\n- Skip coffee after lunch"),
        (1, 2) | (1, 3) => format!("{tips}- Go to bed at {hour} every evening"),
        (1, _) => format!("Sleep well: go to bed at {hour}, keep the room dark and skip coffee."),
        (_, 0) => {
            format!("Sunlight scatters off air molecules, and blue light scatters most.\n{sky}")
        }
        (_, 1) | (_, 2) => format!("Air molecules bend blue light more than red light.\n{sky}"),
        (_, 3) => format!("Sunlight scatters off air molecules. Blue light scatters most.\n{sky}"),
        (_, _) => format!("Air molecules bend blue light more than red. Red light passes.\n{sky}"),
    }
}

/// The first `frac` of `s`, cut at a space (lines kept): where a budget ran out.
fn cut(s: &str, frac: f64) -> String {
    let keep = (s.chars().count() as f64 * frac) as usize;
    let head: String = s.chars().take(keep).collect();
    match head.rfind(char::is_whitespace) {
        Some(i) => head[..i].trim_end().to_string(),
        None => head,
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

/// One fixture sample: the rollout as the trainer stores it, its score as the trainer's
/// metrics read it, and whether it counts in its group's baseline.
#[derive(Clone, Debug)]
pub struct Sample {
    pub rollout: Rollout,
    pub scored: Scored,
    pub in_baseline: bool,
}

/// A sample's tokens, log-probs and entropies, with the closing tags budget forcing
/// injected (the last: their positions).
fn sample_tokens(k: u64, forced: Forced) -> (Vec<u32>, Vec<f32>, Vec<f32>, Vec<u32>) {
    let n_tok = 12 + (k % 40) as usize;
    let mut tokens: Vec<u32> = (0..n_tok)
        .map(|i| (h(&[k, i as u64]) % 500) as u32)
        .collect();
    let mut logprobs: Vec<f32> = (0..n_tok)
        .map(|i| -((h(&[k, i as u64, 1]) % 60) as f32) / 10.0)
        .collect();
    let mut entropies: Vec<f32> = (0..n_tok)
        .map(|i| ((h(&[k, i as u64, 2]) % 45) as f32) / 10.0)
        .collect();
    // Injected tags: the reasoning budget ran out a third of the way in, the answer budget
    // at the end. They carry no log-prob and no entropy.
    let mut inject: Vec<(usize, u32)> = Vec::new();
    if matches!(forced, Forced::Think | Forced::Both) {
        inject.extend(
            THINK_CLOSE
                .iter()
                .enumerate()
                .map(|(j, &id)| (n_tok / 3 + j, id)),
        );
    }
    if matches!(forced, Forced::Answer | Forced::Both) {
        let start = n_tok - ANSWER_CLOSE.len();
        inject.extend(
            ANSWER_CLOSE
                .iter()
                .enumerate()
                .map(|(j, &id)| (start + j, id)),
        );
    }
    for &(i, id) in &inject {
        tokens[i] = id;
        logprobs[i] = 0.0;
        entropies[i] = 0.0;
    }
    let positions = inject.iter().map(|&(i, _)| i as u32).collect();
    (tokens, logprobs, entropies, positions)
}

/// One sample, scored, before its group assigns advantages and keep flags. `forced` is
/// ignored for no-think samples (their prompt closed the reasoning already).
fn sample(
    cfg: &RunConfig,
    step: u64,
    prompt_index: u32,
    sample: u32,
    forced: Forced,
) -> Result<Sample> {
    let g = cfg.train.group_size as u32;
    let nt = cfg.no_think_per_group() as u32;
    let k = h(&[step, u64::from(prompt_index), u64::from(sample)]);
    let kind = prompt_index % 3;
    let no_think = sample >= g - nt;
    let forced = if no_think { Forced::None } else { forced };
    // 4 answers in 10 satisfy every constraint at the first step, up to 6 later.
    let variant = if (k >> 7) % 10 < 3 + step.min(3) {
        0
    } else {
        1 + (k >> 40) % 4
    };
    let answer = answer_text(kind, variant, k);
    let reasoning = format!(
        "The user wants {}.\nI should check the constraints one by one.\nDraft {} looks fine.",
        ["JSON", "a markdown list", "two sentences"][kind as usize],
        k % 5
    );
    let bf = BudgetForcing::raif(cfg.rollout.think_budget, cfg.rollout.answer_budget);
    // The generated text (the prompt's `<think>\n`, or its empty closed think block, is not
    // part of it) and how generation ended.
    let (text, finish) = match forced {
        Forced::None if no_think && k.is_multiple_of(11) => (
            format!("<answer>\n{}", cut(&answer, 0.7)),
            FinishReason::Length,
        ),
        Forced::None if no_think => (
            format!("<answer>\n{answer}\n</answer>"),
            FinishReason::StopString,
        ),
        // Cut by the token limit before `</answer>`.
        Forced::None if k.is_multiple_of(11) => (
            format!("{reasoning}\n</think>\n<answer>\n{}", cut(&answer, 0.7)),
            FinishReason::Length,
        ),
        // The reasoning never closed.
        Forced::None if k.is_multiple_of(7) => (
            format!("{reasoning}\n<answer>\n{answer}\n</answer>"),
            FinishReason::StopString,
        ),
        Forced::None => (
            format!("{reasoning}\n</think>\n<answer>\n{answer}\n</answer>"),
            FinishReason::StopString,
        ),
        Forced::Think => (
            format!(
                "{}{}{answer}\n</answer>",
                cut(&reasoning, 0.6),
                bf.think_close
            ),
            FinishReason::StopString,
        ),
        Forced::Answer => (
            format!(
                "{reasoning}\n</think>\n<answer>\n{}{}",
                cut(&answer, 0.7),
                bf.answer_close
            ),
            FinishReason::Length,
        ),
        Forced::Both => (
            format!(
                "{}{}{}{}",
                cut(&reasoning, 0.6),
                bf.think_close,
                cut(&answer, 0.7),
                bf.answer_close
            ),
            FinishReason::Length,
        ),
    };
    let rec = record(prompt_index);
    let mut sc = scoring::score(&text, &rec, TagStyle::ThinkAnswer, no_think)?;
    if forced.any() {
        scoring::apply_forced_format(&mut sc, cfg.rollout.forced_format_score);
    }
    let (tokens, logprobs, entropies, forced_tokens) = sample_tokens(k, forced);
    let rollout = Rollout {
        step,
        prompt_index,
        sample,
        prompt_id: rec.id.clone(),
        prompt: rec.prompt().to_string(),
        response: text,
        reasoning: sc.reasoning.clone(),
        answer: sc.answer.clone(),
        tokens,
        logprobs,
        entropies,
        finish: format!("{finish:?}").to_lowercase(),
        reward: sc.reward,
        answer_score: sc.answer_score,
        format_score: sc.format_score,
        satisfied: sc.satisfied as u32,
        total: sc.total as u32,
        verdicts: sc.verdicts.clone(),
        advantage: 0.0,
        kept: true,
        keep_reason: String::new(),
        no_think,
        eval: false,
        forced: forced.name().into(),
        forced_tokens,
    };
    Ok(Sample {
        rollout,
        scored: sc,
        in_baseline: !no_think || cfg.raif.no_think_in_baseline,
    })
}

/// The samples of one prompt's group at `step`, with the advantages over the group's
/// baseline samples and the superior-CoT keep flags, as the trainer assigns them.
/// `forced(sample)` says which tags budget forcing injected.
pub fn group_samples(
    cfg: &RunConfig,
    step: u64,
    prompt_index: u32,
    forced: &dyn Fn(u32) -> Forced,
) -> Result<Vec<Sample>> {
    let mut g = (0..cfg.train.group_size as u32)
        .map(|s| sample(cfg, step, prompt_index, s, forced(s)))
        .collect::<Result<Vec<_>>>()?;
    let base: Vec<usize> = (0..g.len()).filter(|&i| g[i].in_baseline).collect();
    let rewards: Vec<f64> = base.iter().map(|&i| g[i].scored.reward).collect();
    for (&i, a) in base.iter().zip(group_advantages(&rewards)) {
        g[i].rollout.advantage = a;
    }
    let group: Vec<GroupSample> = g
        .iter()
        .map(|s| GroupSample {
            no_think: s.rollout.no_think,
            satisfied: s.scored.satisfied,
            reward: s.scored.reward,
        })
        .collect();
    for (s, k) in g
        .iter_mut()
        .zip(keep_flags(&group, None, cfg.raif.enforce_superior_cot))
    {
        s.rollout.kept = k.kept();
        s.rollout.keep_reason = serde_json::to_string(&k)?;
    }
    Ok(g)
}

/// The samples of one step, prompt by prompt; `forced(prompt, sample)` as in
/// [`group_samples`].
pub fn step_samples(
    cfg: &RunConfig,
    step: u64,
    forced: &dyn Fn(u32, u32) -> Forced,
) -> Result<Vec<Sample>> {
    let mut v = Vec::new();
    for p in 0..cfg.train.prompts_per_step as u32 {
        v.extend(group_samples(cfg, step, p, &|s| forced(p, s))?);
    }
    Ok(v)
}

/// One rollout of a run without forcing (`group` samples per prompt, computed with its
/// group).
pub fn rollout(step: u64, prompt_index: u32, sample: u32, group: u32) -> Rollout {
    let cfg = run_config(prompt_index + 1, group, 2e-5);
    group_samples(&cfg, step, prompt_index, &|_| Forced::None)
        .unwrap_or_else(|e| unreachable!("the fixture answers score: {e}"))
        .swap_remove(sample as usize)
        .rollout
}

/// The metrics of a GRPO step: [`metrics::grpo_metrics`] of its samples, with what the
/// optimisation would have measured made up (loss, KL, clipping, learning rate), the
/// entropy of the trained tokens, and the step time the trainer adds.
pub fn step_metrics(cfg: &RunConfig, step: u64, samples: &[Sample]) -> Metrics {
    let groups = cfg.train.prompts_per_step;
    // Groups whose baseline rewards are all equal skip their policy forward/backward.
    let flat: Vec<bool> = (0..groups)
        .map(|g| {
            let r: Vec<f64> = samples
                .iter()
                .filter(|s| s.rollout.prompt_index as usize == g && s.in_baseline)
                .map(|s| s.scored.reward)
                .collect();
            r.windows(2).all(|w| w[0] == w[1])
        })
        .collect();
    let reasoning = samples.iter().filter(|s| !s.rollout.no_think);
    let (trained, skipped): (Vec<&Sample>, Vec<&Sample>) = reasoning
        .partition(|s| !(cfg.grpo.skip_zero_std_groups && flat[s.rollout.prompt_index as usize]));
    let mut opt = OptStats {
        loss_sum: 1.0 / (1.0 + step as f64 * 0.1),
        opt_steps: 1,
        grad_norms: vec![0.8],
        lrs: vec![cfg.train.learning_rate],
        skipped_samples: skipped.len(),
        ..OptStats::default()
    };
    for s in &trained {
        let r = &s.rollout;
        let scored = (0..r.tokens.len()).filter(|i| !r.forced_tokens.contains(&(*i as u32)));
        for i in scored {
            opt.tokens += 1.0;
            opt.entropy_sum += f64::from(r.entropies[i]);
        }
        opt.kl_sum += 0.001 * (step as f64).sqrt();
        opt.kl_samples += 1;
    }
    opt.clipped_tokens = (opt.tokens * 0.02 * step as f64).floor();
    let stats: Vec<SampleStats> = samples
        .iter()
        .map(|s| SampleStats {
            group: s.rollout.prompt_index as usize,
            no_think: s.rollout.no_think,
            scored: &s.scored,
            tokens: s.rollout.tokens.len(),
            cut: s.rollout.finish == "length",
            forced: s.rollout.was_forced(),
            kept: s.rollout.kept,
            in_baseline: s.in_baseline,
        })
        .collect();
    let generated: usize = samples.iter().map(|s| s.rollout.tokens.len()).sum();
    let mut m = metrics::grpo_metrics(&stats, groups, &opt, generated as f64 / 2.0);
    m.insert("step_time".into(), 4.0);
    m
}

/// The metrics of a warm-up step (behaviour cloning): [`metrics::warmup_metrics`] of a
/// made-up optimisation (the expert NLL falls), and the step time.
pub fn warmup_metrics(step: u64) -> Metrics {
    let nll = 2.4 / (1.0 + step as f64 * 0.5);
    let mut m = metrics::warmup_metrics(&OptStats {
        loss_sum: nll,
        bc_sum: nll,
        bc_n: 1,
        opt_steps: 1,
        grad_norms: vec![3.0 / step as f64],
        lrs: vec![5e-4],
        ..OptStats::default()
    });
    m.insert("step_time".into(), 1.5);
    m
}

/// Held-out evaluation metrics (at the end of the warm-up and at the last step):
/// [`metrics::eval_metrics`] of one greedy answer to each of three held-out prompts, scored
/// like training rollouts (the answers improve with `step`).
pub fn eval_metrics(step: u64) -> Result<Metrics> {
    // Greedy answers, one per held-out prompt: no group, no no-think sample, no forcing.
    let cfg = run_config(3, 1, 5e-4);
    let mut scored = Vec::new();
    for i in 0..3u32 {
        let s = sample(&cfg, step, EVAL_PROMPT_BASE + i, 0, Forced::None)?;
        scored.push((s.scored, s.rollout.tokens.len()));
    }
    let view: Vec<EvalSample> = scored
        .iter()
        .map(|(s, n)| EvalSample {
            scored: s,
            tokens: *n,
        })
        .collect();
    Ok(metrics::eval_metrics(&view))
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
    let cfg = run_config(prompts, group, 2e-5);
    for step in 1..=steps {
        let samples = step_samples(&cfg, step, &|_, _| Forced::None)?;
        let metrics = step_metrics(&cfg, step, &samples);
        store.commit_step(
            id,
            &StepCommit {
                step,
                metrics,
                rollouts: samples.into_iter().map(|s| s.rollout).collect(),
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
    let cfg = run_config(prompts, group, 5e-4);
    info.config = serde_json::json!({
        "train": {"steps": steps, "prompts_per_step": prompts, "group_size": group, "learning_rate": 5e-4, "seed": 42},
        "warmup": {"steps": warmup, "learning_rate": 5e-4, "demos_per_step": 4},
        "rollout": {"think_budget": cfg.rollout.think_budget, "answer_budget": cfg.rollout.answer_budget, "forced_format_score": cfg.rollout.forced_format_score},
    });
    store.create_run(&info)?;
    for step in 1..=warmup + steps {
        let mut rollouts = Vec::new();
        let mut metrics = if step <= warmup {
            warmup_metrics(step)
        } else {
            let forced = |p, s| Forced::parse(forced_kind(step - warmup, p, s));
            let samples = step_samples(&cfg, step, &forced)?;
            let m = step_metrics(&cfg, step, &samples);
            rollouts = samples.into_iter().map(|s| s.rollout).collect();
            m
        };
        if step == warmup || step == warmup + steps {
            metrics.extend(eval_metrics(step)?);
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
    use raif_store::{EvalRun, EvalTiming};
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
            template: "chatml".into(),
            max_new_tokens: 64,
            data: "fixture".into(),
            bench_items: records.len(),
            target: records.len(),
            done: items.len(),
            status: EvalStatus::Finished,
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

#[cfg(test)]
mod tests {
    //! The fixtures must show only what the trainer can produce: each check below redoes,
    //! from the stored rollouts alone, what the trainer's own functions decide.
    use super::*;
    use std::collections::BTreeMap;

    use raif_rl::grpo::KeepReason;
    use raif_rl::trainer::metrics::std_unbiased;
    use raif_rl::verify::reward::{answer_score, evaluate_tree};

    struct Step {
        cfg: RunConfig,
        metrics: Metrics,
        rollouts: Vec<Rollout>,
    }

    /// The GRPO steps of the fixture runs the tests and the benchmark build: no forcing with
    /// every prompt kind, G 4 and G 8 (two no-think samples), and the warm-up run.
    fn stored() -> Vec<Step> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        build_run(&store, "a", RunStatus::Finished, 3, 3, 4).expect("a");
        build_run(&store, "g8", RunStatus::Finished, 1, 6, 8).expect("g8");
        build_warmup_run(&store, "w", RunStatus::Finished, 2, 3, 2, 4).expect("w");
        let mut out = Vec::new();
        for (run, cfg) in [
            ("a", run_config(3, 4, 2e-5)),
            ("g8", run_config(6, 8, 2e-5)),
            ("w", run_config(2, 4, 5e-4)),
        ] {
            for (step, metrics) in store.metrics(run).expect("metrics") {
                if metrics.get("phase") == Some(&0.0) {
                    continue;
                }
                let rollouts = store.step_rollouts(run, step).expect("rollouts");
                assert_eq!(
                    rollouts.len(),
                    cfg.train.prompts_per_step * cfg.train.group_size
                );
                out.push(Step {
                    cfg: cfg.clone(),
                    metrics,
                    rollouts,
                });
            }
        }
        out
    }

    fn groups(rollouts: &[Rollout]) -> BTreeMap<u32, Vec<&Rollout>> {
        let mut g: BTreeMap<u32, Vec<&Rollout>> = BTreeMap::new();
        for r in rollouts {
            g.entry(r.prompt_index).or_default().push(r);
        }
        g
    }

    #[test]
    fn rewards_are_the_trainers_scores_of_the_responses() {
        for st in stored() {
            for r in &st.rollouts {
                let rec = record(r.prompt_index);
                let mut sc = scoring::score(&r.response, &rec, TagStyle::ThinkAnswer, r.no_think)
                    .expect("score");
                if r.was_forced() {
                    scoring::apply_forced_format(&mut sc, st.cfg.rollout.forced_format_score);
                }
                let at = format!("step {} p{} #{}", r.step, r.prompt_index, r.sample);
                assert_eq!(r.reward, sc.reward, "{at}");
                assert_eq!(r.answer_score, sc.answer_score, "{at}");
                assert_eq!(r.format_score, sc.format_score, "{at}");
                assert_eq!(
                    (r.satisfied, r.total),
                    (sc.satisfied as u32, sc.total as u32),
                    "{at}"
                );
                assert_eq!(r.verdicts, sc.verdicts, "{at}");
                assert_eq!(
                    (&r.reasoning, &r.answer),
                    (&sc.reasoning, &sc.answer),
                    "{at}"
                );
                // ±2 and S/Q: a scored answer gets the answer score of its verdicts, an
                // unscorable one −2.
                let want = if r.verdicts.is_empty() {
                    -2.0
                } else {
                    answer_score(r.satisfied as usize, r.total as usize)
                };
                assert_eq!(r.answer_score, want, "{at}");
                assert_eq!(r.reward, r.answer_score + r.format_score, "{at}");
            }
        }
    }

    #[test]
    fn advantages_are_the_group_advantages_of_the_rewards() {
        for st in stored() {
            for (p, g) in groups(&st.rollouts) {
                let base: Vec<&&Rollout> = g
                    .iter()
                    .filter(|r| !r.no_think || st.cfg.raif.no_think_in_baseline)
                    .collect();
                let rewards: Vec<f64> = base.iter().map(|r| r.reward).collect();
                let want = group_advantages(&rewards);
                let got: Vec<f64> = base.iter().map(|r| r.advantage).collect();
                assert_eq!(got, want, "step {} prompt {p}", g[0].step);
                for r in g
                    .iter()
                    .filter(|r| !base.iter().any(|b| b.sample == r.sample))
                {
                    assert_eq!(r.advantage, 0.0, "outside the baseline");
                }
            }
        }
    }

    #[test]
    fn keep_flags_are_the_superior_cot_decision() {
        for st in stored() {
            for (p, g) in groups(&st.rollouts) {
                let samples: Vec<GroupSample> = g
                    .iter()
                    .map(|r| GroupSample {
                        no_think: r.no_think,
                        satisfied: r.satisfied as usize,
                        reward: r.reward,
                    })
                    .collect();
                let keep = keep_flags(&samples, None, st.cfg.raif.enforce_superior_cot);
                for (r, k) in g.iter().zip(keep) {
                    let at = format!("step {} p{p} #{}", r.step, r.sample);
                    assert_eq!(r.kept, k.kept(), "{at}");
                    assert_eq!(
                        r.keep_reason,
                        serde_json::to_string(&k).expect("json"),
                        "{at}"
                    );
                    if r.no_think {
                        assert_eq!(k, KeepReason::NoThink);
                        assert!(!r.kept, "{at}: a no-think sample is never trained");
                    }
                }
            }
        }
    }

    #[test]
    fn verdict_paths_are_the_verifiers_paths() {
        for st in stored() {
            for r in st.rollouts.iter().filter(|r| !r.verdicts.is_empty()) {
                let b = evaluate_tree(
                    &constraints(r.prompt_index),
                    r.answer.as_deref().expect("a scored answer"),
                    &r.prompt,
                    None,
                )
                .expect("evaluate");
                let want: Vec<&str> = b.leaves.iter().map(|l| l.path.as_str()).collect();
                let got: Vec<&str> = r.verdicts.iter().map(|v| v.path.as_str()).collect();
                assert_eq!(got, want);
                assert!(got
                    .iter()
                    .all(|p| p.starts_with("root.") && !p.contains('/')));
            }
        }
    }

    #[test]
    fn metrics_follow_from_the_stored_rollouts() {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let close =
            |a: f64, b: f64, what: &str| assert!((a - b).abs() < 1e-12, "{what}: {a} vs {b}");
        for st in stored() {
            let m = &st.metrics;
            let think: Vec<&Rollout> = st.rollouts.iter().filter(|r| !r.no_think).collect();
            let n = think.len() as f64;
            close(m["phase"], 1.0, "phase");
            close(
                m["reward"],
                mean(&think.iter().map(|r| r.reward).collect::<Vec<_>>()),
                "reward",
            );
            close(
                m["keep_ratio"],
                think.iter().filter(|r| r.kept).count() as f64 / n,
                "keep_ratio",
            );
            close(
                m["completions/forced_ratio"],
                think.iter().filter(|r| r.was_forced()).count() as f64 / n,
                "forced_ratio",
            );
            let stds: Vec<f64> = groups(&st.rollouts)
                .values()
                .map(|g| {
                    let r: Vec<f64> = g
                        .iter()
                        .filter(|r| !r.no_think || st.cfg.raif.no_think_in_baseline)
                        .map(|r| r.reward)
                        .collect();
                    std_unbiased(&r)
                })
                .collect();
            close(m["reward_std"], mean(&stds), "reward_std");
            let mut ids: Vec<&str> = think
                .iter()
                .flat_map(|r| r.verdicts.iter().map(|v| v.id.as_str()))
                .collect();
            ids.sort();
            ids.dedup();
            for id in ids {
                let v: Vec<bool> = think
                    .iter()
                    .flat_map(|r| r.verdicts.iter().filter(|v| v.id == id).map(|v| v.pass))
                    .collect();
                let rate = v.iter().filter(|p| **p).count() as f64 / v.len() as f64;
                close(m[&format!("rewards/{id}/mean")], rate, id);
            }
        }
    }

    #[test]
    fn the_fixtures_show_the_states_the_views_render() {
        let all: Vec<Rollout> = stored().into_iter().flat_map(|s| s.rollouts).collect();
        let any = |f: &dyn Fn(&Rollout) -> bool| all.iter().any(f);
        assert!(any(&|r| r.answer_score == 2.0));
        assert!(any(&|r| r.answer_score == -2.0 && !r.verdicts.is_empty()));
        assert!(any(&|r| r.answer_score > 0.0 && r.answer_score < 1.0));
        assert!(
            any(&|r| r.verdicts.is_empty() && r.format_score == -1.0),
            "unscorable"
        );
        for reason in ["beats_fast", "below_fast", "group_rule", "no_think"] {
            assert!(any(&|r| r.keep_reason.contains(reason)), "{reason}");
        }
        for forced in ["think", "think+answer"] {
            assert!(
                any(&|r| r.forced == forced && r.format_score == 0.0),
                "{forced}"
            );
        }
        assert!(any(&|r| r.finish == "length") && any(&|r| r.finish == "stopstring"));
        for lang in [
            crate::highlight::Lang::Json,
            crate::highlight::Lang::Markdown,
            crate::highlight::Lang::Plain,
        ] {
            assert!(
                any(&|r| r.answer.as_deref().map(crate::highlight::detect) == Some(lang)),
                "{lang:?}"
            );
        }
        // Deterministic.
        let cfg = run_config(2, 4, 5e-4);
        let f = |p, s| Forced::parse(forced_kind(1, p, s));
        let a = step_samples(&cfg, 3, &f).expect("a");
        let b = step_samples(&cfg, 3, &f).expect("b");
        assert!(a.iter().zip(&b).all(|(x, y)| x.rollout == y.rollout));
    }
}
