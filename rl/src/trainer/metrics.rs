//! A step's metrics as pure functions of what the step measured (TRL's names where TRL has
//! one), so that every number the trainer reports can be checked by hand.

use std::collections::BTreeMap;

use crate::rollout::Scored;
use crate::store::Metrics;

/// One sample of a GRPO step, as the metrics see it.
#[derive(Clone, Debug)]
pub struct SampleStats<'a> {
    /// Index of its prompt (group) in the step.
    pub group: usize,
    pub no_think: bool,
    pub scored: &'a Scored,
    /// Generated tokens (injected ones included).
    pub tokens: usize,
    /// Cut by the token limit or by the answer budget.
    pub cut: bool,
    /// Budget forcing injected a tag.
    pub forced: bool,
    pub kept: bool,
    /// Counted in its group's mean and std (the baseline).
    pub in_baseline: bool,
}

/// What the optimisation phase of a step measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptStats {
    /// Σ of the micro-batch losses.
    pub loss_sum: f64,
    /// Σ over trained samples of their per-sample mean k3 KL, and how many samples.
    pub kl_sum: f64,
    pub kl_samples: usize,
    pub clipped_tokens: f64,
    pub tokens: f64,
    pub entropy_sum: f64,
    pub entropy_tokens: f64,
    /// Σ of the expert NLL (per-token mean over response tokens) and how many demonstrations.
    pub bc_sum: f64,
    pub bc_n: usize,
    pub grad_norms: Vec<f64>,
    pub lrs: Vec<f64>,
    pub nan_skips: usize,
    /// Reasoning samples whose policy forward/backward was skipped (zero-variance groups).
    pub skipped_samples: usize,
    /// Optimizer steps of the step.
    pub opt_steps: usize,
    /// Seconds spent in the optimizer updates (the rest of the optimize phase is the policy's
    /// forward and backward).
    pub optimizer_s: f64,
}

fn mean(v: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut n) = (0.0, 0usize);
    for x in v {
        s += x;
        n += 1;
    }
    if n == 0 {
        0.0
    } else {
        s / n as f64
    }
}

/// Unbiased (N−1) standard deviation; 0 for fewer than two values.
pub fn std_unbiased(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let mu = mean(v.iter().copied());
    (v.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// `<prefix>/<constraint id>/mean`: the pass rate of each constraint type.
pub fn per_constraint<'a>(m: &mut Metrics, prefix: &str, scored: impl Iterator<Item = &'a Scored>) {
    let mut counts: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for s in scored {
        for v in s.verdicts.iter().filter(|v| v.role == "constraint") {
            let e = counts.entry(v.id.clone()).or_default();
            e.0 += f64::from(u8::from(v.pass));
            e.1 += 1.0;
        }
    }
    for (id, (pass, n)) in counts {
        m.insert(format!("{prefix}/{id}/mean"), pass / n);
    }
}

/// The metrics of a GRPO step over its `groups` prompts. Reward, format and length metrics
/// are over the reasoning (trained) samples; `reward_std` and `frac_reward_zero_std` over each
/// group's baseline samples.
pub fn grpo_metrics(
    samples: &[SampleStats],
    groups: usize,
    opt: &OptStats,
    gen_tps: f64,
) -> Metrics {
    let think: Vec<&SampleStats> = samples.iter().filter(|s| !s.no_think).collect();
    let n_think = think.len().max(1) as f64;
    let mut m: Metrics = BTreeMap::new();
    m.insert("phase".into(), 1.0);
    m.insert("reward".into(), mean(think.iter().map(|s| s.scored.reward)));
    let mut stds = Vec::new();
    let mut zero_std = 0usize;
    for g in 0..groups {
        let r: Vec<f64> = samples
            .iter()
            .filter(|s| s.group == g && s.in_baseline)
            .map(|s| s.scored.reward)
            .collect();
        let sd = std_unbiased(&r);
        if sd == 0.0 {
            zero_std += 1;
        }
        stds.push(sd);
    }
    m.insert("reward_std".into(), mean(stds));
    m.insert(
        "frac_reward_zero_std".into(),
        zero_std as f64 / groups.max(1) as f64,
    );
    m.insert(
        "answer_score".into(),
        mean(think.iter().map(|s| s.scored.answer_score)),
    );
    m.insert(
        "format_score".into(),
        mean(think.iter().map(|s| s.scored.format_score)),
    );
    let fast: Vec<f64> = samples
        .iter()
        .filter(|s| s.no_think)
        .map(|s| s.scored.reward)
        .collect();
    if !fast.is_empty() {
        m.insert("reward_no_think".into(), mean(fast));
    }
    per_constraint(&mut m, "rewards", think.iter().map(|s| s.scored));
    m.insert(
        "completions/forced_ratio".into(),
        think.iter().filter(|s| s.forced).count() as f64 / n_think,
    );
    m.insert(
        "format/self_closed_ratio".into(),
        think
            .iter()
            .filter(|s| !s.forced && s.scored.format_ok)
            .count() as f64
            / n_think,
    );
    // KL, clipping and entropy are measured by the policy forward: absent (not 0) on a step
    // whose every group was skipped.
    if opt.kl_samples > 0 {
        m.insert("kl".into(), opt.kl_sum / opt.kl_samples as f64);
    }
    if opt.tokens > 0.0 {
        m.insert("clip_ratio".into(), opt.clipped_tokens / opt.tokens);
    }
    m.insert(
        "keep_ratio".into(),
        think.iter().filter(|s| s.kept).count() as f64 / n_think,
    );
    m.insert("skipped_samples".into(), opt.skipped_samples as f64);
    optimizer_metrics(&mut m, opt);
    if opt.entropy_tokens > 0.0 {
        m.insert("entropy".into(), opt.entropy_sum / opt.entropy_tokens);
    }
    m.insert(
        "completions/mean_length".into(),
        mean(think.iter().map(|s| s.tokens as f64)),
    );
    m.insert(
        "completions/clipped_ratio".into(),
        think.iter().filter(|s| s.cut).count() as f64 / n_think,
    );
    m.insert("tokens/s".into(), gen_tps);
    m
}

/// Loss, expert NLL, gradient norm, learning rate and skipped updates: the metrics a warm-up
/// step and a GRPO step share.
fn optimizer_metrics(m: &mut Metrics, opt: &OptStats) {
    if opt.bc_n > 0 {
        m.insert("expert_nll".into(), opt.bc_sum / opt.bc_n as f64);
    }
    m.insert("loss".into(), opt.loss_sum / opt.opt_steps.max(1) as f64);
    m.insert("grad_norm".into(), mean(opt.grad_norms.iter().copied()));
    m.insert(
        "learning_rate".into(),
        opt.lrs.last().copied().unwrap_or(0.0),
    );
    m.insert("nan_skips".into(), opt.nan_skips as f64);
}

/// `time/<phase>`: the seconds of a GRPO step's phases, from the phase boundaries' clock
/// (`optimize` split into the policy's forward/backward and the optimizer's updates). Wall
/// clock: on a GPU each phase ends by reading results back, so the device's queue is drained.
pub fn phase_times(
    m: &mut Metrics,
    gen: f64,
    score: f64,
    reference: f64,
    optimize: f64,
    opt: &OptStats,
) {
    m.insert("time/generation".into(), gen);
    m.insert("time/score".into(), score);
    m.insert("time/reference".into(), reference);
    m.insert("time/policy".into(), (optimize - opt.optimizer_s).max(0.0));
    m.insert("time/optimizer".into(), opt.optimizer_s);
}

/// The metrics of a warm-up (behaviour cloning) step.
pub fn warmup_metrics(opt: &OptStats) -> Metrics {
    let mut m: Metrics = BTreeMap::new();
    m.insert("phase".into(), 0.0);
    optimizer_metrics(&mut m, opt);
    m
}

/// One held-out answer (greedy, without forcing).
#[derive(Clone, Debug)]
pub struct EvalSample<'a> {
    pub scored: &'a Scored,
    pub tokens: usize,
}

/// `eval/…`: reward parts, `format_ok` (share of answers in a valid format),
/// `instruction_strict` (constraints satisfied over constraints asked, strict verifiers; an
/// unscorable answer satisfies none) and the mean length.
pub fn eval_metrics(samples: &[EvalSample]) -> Metrics {
    let mut m: Metrics = BTreeMap::new();
    let sc = || samples.iter().map(|s| s.scored);
    m.insert("eval/reward".into(), mean(sc().map(|s| s.reward)));
    m.insert(
        "eval/answer_score".into(),
        mean(sc().map(|s| s.answer_score)),
    );
    m.insert(
        "eval/format_score".into(),
        mean(sc().map(|s| s.format_score)),
    );
    m.insert(
        "eval/format_ok".into(),
        mean(sc().map(|s| f64::from(u8::from(s.format_ok)))),
    );
    let (sat, tot) = sc().fold((0usize, 0usize), |(a, b), s| (a + s.satisfied, b + s.total));
    m.insert(
        "eval/instruction_strict".into(),
        if tot > 0 {
            sat as f64 / tot as f64
        } else {
            0.0
        },
    );
    m.insert(
        "eval/completions/mean_length".into(),
        mean(samples.iter().map(|s| s.tokens as f64)),
    );
    per_constraint(&mut m, "eval/rewards", sc());
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Verdict;

    fn scored(
        reward: f64,
        format_ok: bool,
        sat: usize,
        tot: usize,
        pass: &[(&str, bool)],
    ) -> Scored {
        Scored {
            reasoning: None,
            answer: None,
            format_ok,
            unscorable: None,
            satisfied: sat,
            total: tot,
            answer_score: reward - if format_ok { 1.0 } else { -1.0 },
            format_score: if format_ok { 1.0 } else { -1.0 },
            reward,
            verdicts: pass
                .iter()
                .map(|(id, p)| Verdict {
                    id: id.to_string(),
                    path: "root".into(),
                    pass: *p,
                    reason: String::new(),
                    role: "constraint".into(),
                })
                .collect(),
        }
    }

    fn close(m: &Metrics, k: &str, v: f64) {
        let got = m.get(k).copied().unwrap_or(f64::NAN);
        assert!((got - v).abs() < 1e-12, "{k}: {got} vs {v}");
    }

    #[test]
    fn grpo_metrics_by_hand() {
        let a = scored(3.0, true, 1, 1, &[("x", true)]);
        let b = scored(-1.0, true, 0, 1, &[("x", false)]);
        let c = scored(-3.0, false, 0, 1, &[]);
        let d = scored(1.0, true, 1, 1, &[("x", true)]);
        let s = |group, no_think, scored, tokens, cut, forced, kept, in_baseline| SampleStats {
            group,
            no_think,
            scored,
            tokens,
            cut,
            forced,
            kept,
            in_baseline,
        };
        // Group 0: three reasoning samples (3, −1, −3) and a no-think one left out of the
        // baseline; group 1: two equal reasoning samples (zero std).
        let samples = vec![
            s(0, false, &a, 10, false, false, true, true),
            s(0, false, &b, 20, false, true, true, true),
            s(0, false, &c, 30, true, false, false, true),
            s(0, true, &d, 5, false, false, false, false),
            s(1, false, &b, 40, true, true, true, true),
            s(1, false, &b, 50, false, false, true, true),
        ];
        let opt = OptStats {
            loss_sum: 3.0,
            kl_sum: 0.5,
            kl_samples: 2,
            clipped_tokens: 1.0,
            tokens: 4.0,
            entropy_sum: 6.0,
            entropy_tokens: 3.0,
            bc_sum: 5.0,
            bc_n: 2,
            grad_norms: vec![1.0, 3.0],
            lrs: vec![0.1, 0.2],
            nan_skips: 0,
            skipped_samples: 2,
            opt_steps: 2,
            optimizer_s: 0.0,
        };
        let m = grpo_metrics(&samples, 2, &opt, 100.0);
        close(&m, "phase", 1.0);
        // Reasoning rewards 3, −1, −3, −1, −1: mean −0.6.
        close(&m, "reward", -0.6);
        // Group 0 baseline {3, −1, −3}: mean −1/3, std sqrt((100/9 + 4/9 + 64/9) / 2).
        let sd0 = ((100.0f64 / 9.0 + 4.0 / 9.0 + 64.0 / 9.0) / 2.0).sqrt();
        close(&m, "reward_std", sd0 / 2.0);
        close(&m, "frac_reward_zero_std", 0.5);
        close(&m, "reward_no_think", 1.0);
        close(&m, "completions/forced_ratio", 2.0 / 5.0);
        // Self-closed with a valid format: a and the unforced b of group 1.
        close(&m, "format/self_closed_ratio", 2.0 / 5.0);
        close(&m, "kl", 0.25);
        close(&m, "clip_ratio", 0.25);
        close(&m, "keep_ratio", 4.0 / 5.0);
        close(&m, "expert_nll", 2.5);
        close(&m, "loss", 1.5);
        close(&m, "grad_norm", 2.0);
        close(&m, "learning_rate", 0.2);
        close(&m, "entropy", 2.0);
        close(&m, "completions/mean_length", 30.0);
        close(&m, "completions/clipped_ratio", 2.0 / 5.0);
        close(&m, "skipped_samples", 2.0);
        // x passes in a only among reasoning samples' verdicts: a pass, b ×3 fail.
        close(&m, "rewards/x/mean", 0.25);
        close(&m, "tokens/s", 100.0);
    }

    #[test]
    fn eval_and_warmup_metrics_by_hand() {
        let a = scored(3.0, true, 2, 2, &[("x", true), ("y", true)]);
        let b = scored(-3.0, false, 0, 3, &[]);
        let e = eval_metrics(&[
            EvalSample {
                scored: &a,
                tokens: 10,
            },
            EvalSample {
                scored: &b,
                tokens: 30,
            },
        ]);
        close(&e, "eval/format_ok", 0.5);
        close(&e, "eval/instruction_strict", 2.0 / 5.0);
        close(&e, "eval/reward", 0.0);
        close(&e, "eval/completions/mean_length", 20.0);
        close(&e, "eval/rewards/y/mean", 1.0);
        let w = warmup_metrics(&OptStats {
            loss_sum: 2.0,
            bc_sum: 2.0,
            bc_n: 1,
            grad_norms: vec![0.5],
            lrs: vec![5e-4],
            opt_steps: 1,
            ..OptStats::default()
        });
        close(&w, "phase", 0.0);
        close(&w, "expert_nll", 2.0);
        close(&w, "learning_rate", 5e-4);
        assert!(!w.contains_key("reward"));
        // A GRPO step whose groups were all skipped measured no KL, clipping or entropy.
        let c = scored(-1.0, true, 0, 1, &[]);
        let skipped = [SampleStats {
            group: 0,
            no_think: false,
            scored: &c,
            tokens: 5,
            cut: false,
            forced: false,
            kept: true,
            in_baseline: true,
        }];
        let opt = OptStats {
            skipped_samples: 1,
            ..OptStats::default()
        };
        let m = grpo_metrics(&skipped, 1, &opt, 1.0);
        assert!(
            !m.contains_key("kl") && !m.contains_key("clip_ratio") && !m.contains_key("entropy")
        );
        close(&m, "skipped_samples", 1.0);
    }

    #[test]
    fn std_is_unbiased() {
        close(
            &BTreeMap::from([("s".to_string(), std_unbiased(&[1.0, 2.0, 3.0]))]),
            "s",
            1.0,
        );
        assert_eq!(std_unbiased(&[4.0]), 0.0);
    }
    #[test]
    fn phase_times_split_the_optimize_phase_into_policy_and_optimizer() {
        let mut m = Metrics::new();
        let opt = OptStats {
            optimizer_s: 0.25,
            ..OptStats::default()
        };
        phase_times(&mut m, 3.0, 0.5, 1.0, 2.0, &opt);
        let got: Vec<(&str, f64)> = m.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            got,
            vec![
                ("time/generation", 3.0),
                ("time/optimizer", 0.25),
                ("time/policy", 1.75),
                ("time/reference", 1.0),
                ("time/score", 0.5),
            ]
        );
    }
}
