//! `rollouts/<run>`: every rollout of every step, and scans that filter on the stored head
//! without decoding texts.

use anyhow::{anyhow, Context, Result};

use crate::codec::RolloutHead as RolloutSummary;
use crate::codec::{self, decode_rollout_head};
use crate::db::*;
use crate::keys::*;
use crate::types::*;

impl Store {
    /// The rollouts of one step, in (prompt, sample) order.
    pub fn step_rollouts(&self, run: &str, step: u64) -> Result<Vec<Rollout>> {
        self.scan_rollouts(
            run,
            RolloutFilter {
                step: Some(step),
                ..Default::default()
            },
        )
        .collect()
    }

    /// Streams the rollouts that pass `f`, in (step, prompt, sample) order, without loading
    /// the run into memory. Filters other than `text` decode only each rollout's head.
    pub fn scan_rollouts<'a>(
        &'a self,
        run: &str,
        f: RolloutFilter,
    ) -> impl Iterator<Item = Result<Rollout>> + 'a {
        self.scan_with(run, f, |parsed, needle| {
            let r = parsed.finish()?;
            Ok(match needle {
                Some(n) if !text_matches(&r, n) => None,
                _ => Some(r),
            })
        })
    }

    /// Like [`Store::scan_rollouts`] but yields only each rollout's summary (ids, rewards,
    /// verdicts, flags: no texts, no per-token arrays), which skips decoding the bodies
    /// unless the filter searches text. For lists of many rollouts.
    pub fn scan_rollout_summaries<'a>(
        &'a self,
        run: &str,
        f: RolloutFilter,
    ) -> impl Iterator<Item = Result<RolloutSummary>> + 'a {
        self.scan_with(run, f, |parsed, needle| match needle {
            None => Ok(Some(parsed.into_head())),
            Some(n) => {
                let r = parsed.finish()?;
                Ok(text_matches(&r, n).then(|| codec::head_of(&r)))
            }
        })
    }

    pub(crate) fn scan_with<'a, T: 'a>(
        &'a self,
        run: &str,
        f: RolloutFilter,
        convert: impl Fn(codec::RolloutBytes<'_>, Option<&str>) -> Result<Option<T>> + 'a,
    ) -> Box<dyn Iterator<Item = Result<T>> + 'a> {
        match self.rollout_iter(run, &f) {
            Err(e) => Box::new(std::iter::once(Err(e))),
            Ok(iter) => {
                let run = run.to_string();
                let name = rollouts_tree(&run);
                let needle = f.text.as_ref().map(|t| t.to_lowercase());
                Box::new(iter.filter_map(move |kv| {
                    let (k, v) = match kv {
                        Ok(kv) => kv,
                        Err(e) => return Some(Err(anyhow!(e).context("reading the run store"))),
                    };
                    let parsed = match decode_rollout_head(&v) {
                        Ok(p) => p,
                        Err(e) => return Some(Err(corrupt(&run, &name, &k, e))),
                    };
                    if !head_matches(&parsed.head(), &f) {
                        return None;
                    }
                    convert(parsed, needle.as_deref())
                        .map_err(|e| corrupt(&run, &name, &k, e))
                        .transpose()
                }))
            }
        }
    }

    pub(crate) fn rollout_iter(&self, run: &str, f: &RolloutFilter) -> Result<sled::Iter> {
        self.require_run(run)?;
        let tree = self.tree(&rollouts_tree(run))?;
        Ok(match f.step {
            Some(s) => tree.scan_prefix(s.to_be_bytes()),
            None => tree.iter(),
        })
    }

    /// Steps that have rollouts, in order (reads keys only).
    pub fn rollout_steps(&self, run: &str) -> Result<Vec<u64>> {
        self.require_run(run)?;
        let tree = self.tree(&rollouts_tree(run))?;
        let mut out: Vec<u64> = Vec::new();
        let mut next = Some(0u64);
        // Jump from step to step instead of walking every key.
        while let Some(from) = next {
            let Some(kv) = tree.range(from.to_be_bytes()..).next() else {
                break;
            };
            let (k, _) = kv.context("reading the run store")?;
            let Some(step) = step_of(&k) else { break };
            out.push(step);
            next = step.checked_add(1);
        }
        Ok(out)
    }
}

pub(crate) fn head_matches(h: &codec::HeadView<'_>, f: &RolloutFilter) -> bool {
    if f.step.is_some_and(|s| s != h.step) {
        return false;
    }
    if let Some(c) = &f.failed_constraint {
        if !h.verdicts.iter().any(|v| &v.id == c && !v.pass) {
            return false;
        }
    }
    // NaN rewards match no range.
    let in_range = |lo: Option<f64>, hi: Option<f64>| {
        let r = h.reward;
        !r.is_nan() && lo.is_none_or(|m| r >= m) && hi.is_none_or(|m| r <= m)
    };
    if (f.reward_min.is_some() || f.reward_max.is_some()) && !in_range(f.reward_min, f.reward_max) {
        return false;
    }
    if f.kept.is_some_and(|k| k != h.kept) {
        return false;
    }
    if f.no_think.is_some_and(|k| k != h.no_think) {
        return false;
    }
    if f.eval.is_some_and(|k| k != h.eval) {
        return false;
    }
    true
}

pub(crate) fn text_matches(r: &Rollout, needle_lower: &str) -> bool {
    let has = |s: &str| s.to_lowercase().contains(needle_lower);
    has(&r.prompt_id)
        || has(&r.prompt)
        || has(&r.response)
        || r.reasoning.as_deref().is_some_and(has)
        || r.answer.as_deref().is_some_and(has)
}
