//! GRPO as RAIF runs it (ALGORITHM.md §3–4): group-normalised advantages, superior-CoT keep
//! flags, and the per-sample clipped policy loss with the k3 KL estimator.
//!
//! The pure functions here take plain numbers so that every formula can be checked by hand;
//! [`policy_kl_loss`] builds the same quantities on candle tensors for the backward.

use anyhow::{bail, Result};
use candle_core::{DType, Tensor, D};
use serde::{Deserialize, Serialize};

/// Advantages of one group: `(r − mean) / (std + 1e-9)` with the unbiased (N−1) standard
/// deviation. A group of one, or of equal rewards, gets zeros.
pub fn group_advantages(rewards: &[f64]) -> Vec<f64> {
    let n = rewards.len();
    if n < 2 {
        return vec![0.0; n];
    }
    let mean = rewards.iter().sum::<f64>() / n as f64;
    let var = rewards.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let std = var.sqrt();
    rewards.iter().map(|r| (r - mean) / (std + 1e-9)).collect()
}

/// One sample of a group, as the keep rule sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupSample {
    /// Sampled with the no-think (fast) prompt.
    pub no_think: bool,
    /// Constraints satisfied (0 when the answer was not scorable).
    pub satisfied: usize,
    pub reward: f64,
}

/// Why a sample is or is not trained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepReason {
    /// Enforcement off, or no fast answer to compare with.
    Kept,
    /// Satisfies at least as many constraints as the fast answer.
    BeatsFast { fast: usize },
    /// Satisfies fewer constraints than the fast answer (zero policy gradient).
    BelowFast { fast: usize },
    /// Every reasoning sample of the prompt scored below every no-think sample.
    GroupRule,
    /// A no-think sample: part of the group statistics, never trained.
    NoThink,
}

impl KeepReason {
    pub fn kept(&self) -> bool {
        matches!(self, KeepReason::Kept | KeepReason::BeatsFast { .. })
    }

    /// Read back from a rollout's stored `keep_reason` (the JSON the trainer writes); None for
    /// text written elsewhere (an imported run's).
    pub fn from_stored(s: &str) -> Option<KeepReason> {
        serde_json::from_str(s.trim()).ok()
    }

    /// A table cell: `kept`, `drop <N` (below the fast answer's N satisfied constraints),
    /// `drop grp` (the group rule), `baseline` (a no-think sample).
    pub fn short(&self) -> String {
        match self {
            KeepReason::Kept | KeepReason::BeatsFast { .. } => "kept".into(),
            KeepReason::BelowFast { fast } => format!("drop <{fast}"),
            KeepReason::GroupRule => "drop grp".into(),
            KeepReason::NoThink => "baseline".into(),
        }
    }

    /// A sentence for a detail pane.
    pub fn explain(&self) -> String {
        match self {
            KeepReason::Kept => "kept".into(),
            KeepReason::BeatsFast { fast } => {
                format!("kept: at least the fast answer's {fast} satisfied")
            }
            KeepReason::BelowFast { fast } => {
                format!("dropped: below the fast answer's {fast} satisfied")
            }
            KeepReason::GroupRule => {
                "dropped: all reasoning samples below all no-think ones".into()
            }
            KeepReason::NoThink => "not trained: a no-think sample (baseline only)".into(),
        }
    }
}

/// Superior-CoT enforcement (ALGORITHM §4) for one group. `stored_fast` is the record's
/// offline fast-answer score (satisfied constraints), used in preference to the group's own
/// no-think samples. With `enforce` false every reasoning sample is kept.
pub fn keep_flags(
    group: &[GroupSample],
    stored_fast: Option<usize>,
    enforce: bool,
) -> Vec<KeepReason> {
    let reasoning: Vec<&GroupSample> = group.iter().filter(|s| !s.no_think).collect();
    let fast: Vec<&GroupSample> = group.iter().filter(|s| s.no_think).collect();
    if !enforce {
        return group
            .iter()
            .map(|s| {
                if s.no_think {
                    KeepReason::NoThink
                } else {
                    KeepReason::Kept
                }
            })
            .collect();
    }
    // Group rule: every reasoning sample below every no-think sample, and the reasoning
    // samples not all equal.
    let group_drop = !reasoning.is_empty() && !fast.is_empty() && {
        let max_r = reasoning
            .iter()
            .map(|s| s.reward)
            .fold(f64::NEG_INFINITY, f64::max);
        let min_f = fast.iter().map(|s| s.reward).fold(f64::INFINITY, f64::min);
        let all_equal = reasoning.iter().all(|s| s.reward == reasoning[0].reward);
        max_r < min_f && !all_equal
    };
    let fast_ref = stored_fast.or_else(|| fast.iter().map(|s| s.satisfied).max());
    group
        .iter()
        .map(|s| {
            if s.no_think {
                KeepReason::NoThink
            } else if group_drop {
                KeepReason::GroupRule
            } else {
                match fast_ref {
                    None => KeepReason::Kept,
                    Some(f) if s.satisfied >= f => KeepReason::BeatsFast { fast: f },
                    Some(f) => KeepReason::BelowFast { fast: f },
                }
            }
        })
        .collect()
}

/// The k3 estimator of KL(πθ ‖ πref) per token: `exp(d) − d − 1`, `d = log πref − log πθ`.
pub fn k3(logp: f64, ref_logp: f64) -> f64 {
    let d = ref_logp - logp;
    d.exp() - d - 1.0
}

/// Per-token clipped surrogate `−min(ρA, clip(ρ, 1−ε, 1+ε)A)`.
pub fn clipped_token_loss(logp: f64, old_logp: f64, adv: f64, eps: f64) -> f64 {
    let rho = (logp - old_logp).exp();
    -(rho * adv).min(rho.clamp(1.0 - eps, 1.0 + eps) * adv)
}

/// Tensors of a micro-batch for the loss: all `(B, T)` except `adv`/`keep` `(B,)`.
pub struct LossInputs<'a> {
    pub logp: &'a Tensor,
    pub old_logp: &'a Tensor,
    pub ref_logp: Option<&'a Tensor>,
    pub mask: &'a Tensor,
    pub adv: &'a Tensor,
    /// 1 for samples whose policy gradient is kept, 0 for dropped ones.
    pub keep: &'a Tensor,
}

/// The loss parts of one micro-batch, each already divided by `denominator` (the number of
/// samples the mean runs over: dropped samples stay in it).
pub struct LossParts {
    pub policy: Tensor,
    pub kl: Option<Tensor>,
    /// Tokens whose ratio was clipped (ρ < 1−ε with A < 0, or ρ > 1+ε with A > 0).
    pub clipped_tokens: f64,
    pub tokens: f64,
    /// Σ over samples of the per-sample mean KL (no division), for the metric.
    pub kl_sum: f64,
}

/// Per-sample token means of the clipped surrogate and of k3, summed over the samples and
/// divided by `denominator`.
pub fn policy_kl_loss(x: &LossInputs, eps: f64, denominator: f64) -> Result<LossParts> {
    if denominator <= 0.0 {
        bail!("loss denominator must be positive");
    }
    let mask = x.mask;
    let counts = mask.sum(D::Minus1)?.clamp(1.0, f64::INFINITY)?; // (B,)
    let ratio = (x.logp - x.old_logp)?.exp()?;
    let adv = x.adv.unsqueeze(1)?;
    let s1 = ratio.broadcast_mul(&adv)?;
    let s2 = ratio.clamp(1.0 - eps, 1.0 + eps)?.broadcast_mul(&adv)?;
    let per_tok = s1.minimum(&s2)?.neg()?;
    let per_sample = ((per_tok * mask)?.sum(D::Minus1)? / &counts)?;
    let policy = ((per_sample * x.keep)?.sum_all()? / denominator)?;
    let kl = match x.ref_logp {
        Some(r) => {
            let d = (r - x.logp)?;
            let k = ((d.exp()? - &d)? - 1.0)?;
            Some(((k * mask)?.sum(D::Minus1)? / &counts)?)
        }
        None => None,
    };
    // Metrics, without gradients.
    let r = ratio.detach();
    let a = adv.detach().broadcast_as(r.shape())?;
    let low = r
        .lt(1.0 - eps)?
        .to_dtype(DType::F32)?
        .mul(&a.lt(0.0)?.to_dtype(DType::F32)?)?;
    let high = r
        .gt(1.0 + eps)?
        .to_dtype(DType::F32)?
        .mul(&a.gt(0.0)?.to_dtype(DType::F32)?)?;
    let m = mask.detach().to_dtype(DType::F32)?;
    let clipped_tokens = ((low + high)? * &m)?.sum_all()?.to_scalar::<f32>()? as f64;
    let tokens = m.sum_all()?.to_scalar::<f32>()? as f64;
    let kl_sum = match &kl {
        Some(k) => k
            .detach()
            .sum_all()?
            .to_dtype(DType::F64)?
            .to_scalar::<f64>()?,
        None => 0.0,
    };
    Ok(LossParts {
        policy,
        kl: kl
            .map(|k| k.sum_all().and_then(|s| s / denominator))
            .transpose()?,
        clipped_tokens,
        tokens,
        kl_sum,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_stored_keep_reason_reads_back_and_reads_well() {
        let all = [
            KeepReason::Kept,
            KeepReason::BeatsFast { fast: 2 },
            KeepReason::BelowFast { fast: 3 },
            KeepReason::GroupRule,
            KeepReason::NoThink,
        ];
        for k in all {
            // What the trainer stores in `Rollout.keep_reason`.
            let stored = serde_json::to_string(&k).unwrap();
            assert_eq!(KeepReason::from_stored(&stored), Some(k.clone()));
            assert!(
                !k.short().contains('{') && k.short().len() <= 8,
                "{}",
                k.short()
            );
            assert!(!k.explain().contains('{'), "{}", k.explain());
        }
        assert_eq!(KeepReason::BelowFast { fast: 3 }.short(), "drop <3");
        assert_eq!(KeepReason::from_stored("ratio below threshold"), None);
    }

    use super::*;
    use candle_core::Device;

    #[test]
    fn advantages_by_hand() {
        // mean 2, unbiased std = sqrt(((1)^2 + 0 + 1^2) / 2) = 1.
        let a = group_advantages(&[1.0, 2.0, 3.0]);
        assert!((a[0] + 1.0).abs() < 1e-8 && a[1].abs() < 1e-12 && (a[2] - 1.0).abs() < 1e-8);
        assert_eq!(group_advantages(&[0.5, 0.5, 0.5, 0.5]), vec![0.0; 4]);
        assert_eq!(group_advantages(&[3.0]), vec![0.0]);
        // [-3, 3]: mean 0, std = sqrt(18) → ±3/sqrt(18).
        let a = group_advantages(&[-3.0, 3.0]);
        assert!((a[1] - 3.0 / 18f64.sqrt()).abs() < 1e-8);
    }

    fn s(no_think: bool, satisfied: usize, reward: f64) -> GroupSample {
        GroupSample {
            no_think,
            satisfied,
            reward,
        }
    }

    #[test]
    fn keep_flags_contrast_with_the_fast_answer() {
        let g = [
            s(false, 3, 3.0),
            s(false, 1, 0.5),
            s(false, 2, 1.7),
            s(true, 2, 1.7),
        ];
        let k = keep_flags(&g, None, true);
        assert_eq!(k[0], KeepReason::BeatsFast { fast: 2 });
        assert_eq!(k[1], KeepReason::BelowFast { fast: 2 });
        assert_eq!(k[2], KeepReason::BeatsFast { fast: 2 });
        assert_eq!(k[3], KeepReason::NoThink);
        // A stored score wins over the group's own no-think samples.
        let k = keep_flags(&g, Some(3), true);
        assert_eq!(k[2], KeepReason::BelowFast { fast: 3 });
        assert!(k[0].kept());
        // The best no-think sample is the reference.
        let g2 = [s(false, 1, 0.0), s(true, 0, -3.0), s(true, 1, 0.0)];
        assert_eq!(
            keep_flags(&g2, None, true)[0],
            KeepReason::BeatsFast { fast: 1 }
        );
        // Enforcement off.
        assert!(keep_flags(&g, Some(9), false)[..3]
            .iter()
            .all(|k| *k == KeepReason::Kept));
    }

    #[test]
    fn group_rule_drops_the_whole_prompt() {
        let g = [
            s(false, 0, -3.0),
            s(false, 1, -1.0),
            s(true, 2, 1.0),
            s(true, 2, 1.0),
        ];
        let k = keep_flags(&g, None, true);
        assert!(k[..2].iter().all(|k| *k == KeepReason::GroupRule));
        // All-equal reasoning samples: the rule does not fire (per-sample contrast decides).
        let g = [s(false, 0, -3.0), s(false, 0, -3.0), s(true, 2, 1.0)];
        assert!(keep_flags(&g, None, true)[..2]
            .iter()
            .all(|k| *k == KeepReason::BelowFast { fast: 2 }));
        // Overlap: one reasoning sample ties a no-think one → no group drop.
        let g = [
            s(false, 2, 1.0),
            s(false, 0, -3.0),
            s(true, 2, 1.0),
            s(true, 1, 0.0),
        ];
        assert_eq!(
            keep_flags(&g, None, true)[0],
            KeepReason::BeatsFast { fast: 2 }
        );
    }

    #[test]
    fn k3_and_clipped_loss_by_hand() {
        assert_eq!(k3(-1.0, -1.0), 0.0);
        let d: f64 = 0.5;
        assert!((k3(-1.0, -0.5) - (d.exp() - d - 1.0)).abs() < 1e-12);
        // ρ = e^0.5 ≈ 1.6487 > 1.2: with A > 0 the clipped value 1.2·A is the min.
        assert!((clipped_token_loss(0.0, -0.5, 2.0, 0.2) + 2.4).abs() < 1e-12);
        // With A < 0, min(ρA, 1.2A) = ρA (more negative).
        assert!((clipped_token_loss(0.0, -0.5, -1.0, 0.2) - 0.5f64.exp()).abs() < 1e-12);
        // ρ = 1: the plain −A.
        assert_eq!(clipped_token_loss(-2.0, -2.0, 0.7, 0.2), -0.7);
    }

    #[test]
    fn tensor_loss_matches_the_scalar_formulas_with_dropped_samples() {
        let dev = Device::Cpu;
        let logp = Tensor::new(&[[-1.0f32, -2.0, -0.5], [-0.3, -0.1, -4.0]], &dev).unwrap();
        let old = Tensor::new(&[[-1.2f32, -1.5, -0.5], [-0.3, -0.9, -4.0]], &dev).unwrap();
        let refl = Tensor::new(&[[-1.0f32, -1.0, -1.0], [-0.2, -0.2, -0.2]], &dev).unwrap();
        let mask = Tensor::new(&[[1.0f32, 1.0, 0.0], [1.0, 1.0, 1.0]], &dev).unwrap();
        let adv = Tensor::new(&[1.5f32, -0.8], &dev).unwrap();
        let keep = Tensor::new(&[1.0f32, 0.0], &dev).unwrap();
        let parts = policy_kl_loss(
            &LossInputs {
                logp: &logp,
                old_logp: &old,
                ref_logp: Some(&refl),
                mask: &mask,
                adv: &adv,
                keep: &keep,
            },
            0.2,
            2.0,
        )
        .unwrap();
        let lp = [[-1.0, -2.0, -0.5], [-0.3, -0.1, -4.0]];
        let ol = [[-1.2, -1.5, -0.5], [-0.3, -0.9, -4.0]];
        let rf = [[-1.0, -1.0, -1.0], [-0.2, -0.2, -0.2]];
        let m = [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]];
        let a = [1.5, -0.8];
        let kp = [1.0, 0.0];
        let (mut pol, mut kl) = (0.0, 0.0);
        for b in 0..2 {
            let n: f64 = m[b].iter().sum();
            let mut p = 0.0;
            let mut k = 0.0;
            for t in 0..3 {
                if m[b][t] > 0.0 {
                    p += clipped_token_loss(lp[b][t], ol[b][t], a[b], 0.2);
                    k += k3(lp[b][t], rf[b][t]);
                }
            }
            pol += kp[b] * p / n;
            kl += k / n;
        }
        let got_p = parts.policy.to_scalar::<f32>().unwrap() as f64;
        let got_k = parts.kl.unwrap().to_scalar::<f32>().unwrap() as f64;
        assert!((got_p - pol / 2.0).abs() < 1e-5, "{got_p} vs {}", pol / 2.0);
        assert!(
            (got_k - kl / 2.0).abs() < 1e-5,
            "dropped samples keep their KL"
        );
        // Row 0 token 0: ρ = e^0.2 > 1.2 with A > 0: clipped. Row 0 token 1: ρ = e^-0.5 < 0.8
        // with A > 0, and row 1 token 1: ρ = e^0.8 > 1.2 with A < 0: not clipped (clipping
        // binds only in the direction the advantage pushes).
        assert_eq!(parts.clipped_tokens, 1.0);
        assert_eq!(parts.tokens, 5.0);
    }
}
