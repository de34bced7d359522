//! Which expert demonstrations a GRPO step clones (`raif.bc_sampling`).
//!
//! `failing` weighs each demonstration by how often the policy's own rollouts failed its
//! constraint types in the run's earlier GRPO steps, read back from the committed
//! `rewards/<id>/mean` metrics. The weights depend only on what the store holds, so a resumed
//! run draws the demonstrations an uninterrupted one draws.

use std::collections::BTreeMap;

use crate::store::Metrics;

/// Every constraint type keeps this weight however well the policy does, so that what it
/// already does keeps some demonstrations.
pub const FLOOR: f64 = 0.25;

/// A constraint type never seen in a rollout counts as one step passed half the time.
pub const PRIOR_PASS: f64 = 0.5;

/// The weight of each demonstration, given the rule ids of each (in the order of the
/// demonstrations) and the metrics of the run's committed steps: the mean over its rules of
/// `FLOOR + 1 − pass rate`, the pass rate being `(PRIOR_PASS + Σ step means) / (1 + steps)`
/// over the GRPO steps (`phase` 1) whose rollouts had that rule. A demonstration with no
/// rule weighs `FLOOR + 1 − PRIOR_PASS`.
pub fn failing_weights(history: &[(u64, Metrics)], rules: &[Vec<String>]) -> Vec<f64> {
    let mut seen: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (_, m) in history {
        if m.get("phase").copied() != Some(1.0) {
            continue;
        }
        for (k, v) in m {
            let id = k
                .strip_prefix("rewards/")
                .and_then(|r| r.strip_suffix("/mean"));
            if let (Some(id), true) = (id, v.is_finite()) {
                let e = seen.entry(id).or_insert((PRIOR_PASS, 1.0));
                e.0 += v;
                e.1 += 1.0;
            }
        }
    }
    let weight = |id: &str| {
        let (pass, n) = seen.get(id).copied().unwrap_or((PRIOR_PASS, 1.0));
        FLOOR + 1.0 - pass / n
    };
    rules
        .iter()
        .map(|ids| {
            if ids.is_empty() {
                FLOOR + 1.0 - PRIOR_PASS
            } else {
                ids.iter().map(|id| weight(id)).sum::<f64>() / ids.len() as f64
            }
        })
        .collect()
}

/// The index drawn by `u` (uniform in [0, 1)) from `weights` (non-negative, not all zero).
pub fn draw(weights: &[f64], u: f64) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = u * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    // Rounding can leave x at the very end: the last demonstration with any weight.
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// A uniform value in [0, 1) from 64 random bits.
pub fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(phase: f64, rates: &[(&str, f64)]) -> Metrics {
        let mut m = Metrics::new();
        m.insert("phase".into(), phase);
        m.insert("eval/rewards/a/mean".into(), 0.0);
        for (id, r) in rates {
            m.insert(format!("rewards/{id}/mean"), *r);
        }
        m
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn failing_types_weigh_more_and_unseen_ones_sit_between() {
        let history = vec![
            (1, step(0.0, &[("a", 1.0)])), // warm-up: not a rollout of the policy
            (2, step(1.0, &[("a", 0.0), ("b", 1.0)])),
            (3, step(1.0, &[("a", 0.0), ("b", 1.0)])),
        ];
        let rules = vec![
            ids(&["a"]),
            ids(&["b"]),
            ids(&["c"]),
            ids(&["a", "b"]),
            vec![],
        ];
        let w = failing_weights(&history, &rules);
        // a: pass (0.5 + 0 + 0) / 3; b: (0.5 + 2) / 3; c: never seen, 0.5.
        let a = FLOOR + 1.0 - 0.5 / 3.0;
        let b = FLOOR + 1.0 - 2.5 / 3.0;
        let c = FLOOR + 0.5;
        for (got, want) in w.iter().zip([a, b, c, (a + b) / 2.0, c]) {
            assert!((got - want).abs() < 1e-12, "{w:?}");
        }
        assert!(w[0] > w[2] && w[2] > w[1]);
    }

    #[test]
    fn without_history_every_demonstration_weighs_the_same() {
        let w = failing_weights(&[], &[ids(&["a"]), ids(&["b", "c"])]);
        assert_eq!(w[0], w[1]);
    }

    #[test]
    fn draw_follows_the_weights() {
        let w = [1.0, 0.0, 3.0];
        assert_eq!(draw(&w, 0.0), 0);
        assert_eq!(draw(&w, 0.24), 0);
        assert_eq!(draw(&w, 0.26), 2);
        assert_eq!(draw(&w, 0.999_999), 2);
        let mut counts = [0usize; 3];
        for i in 0..4000u64 {
            counts[draw(&w, unit(crate::trainer::mix(&[i])))] += 1;
        }
        assert_eq!(counts[1], 0);
        let share = counts[2] as f64 / 4000.0;
        assert!((share - 0.75).abs() < 0.03, "{counts:?}");
    }
}
