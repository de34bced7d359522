//! Committing a training step atomically over the metrics, rollouts, checkpoints and blobs
//! trees, and cutting a run back to a step.

use std::collections::HashSet;
use std::fs;

use anyhow::{bail, Context, Result};
use sled::transaction::{abort, Transactional};
use sled::{IVec, Tree};

use crate::codec::{self, decode, encode_json, encode_postcard, encode_raw};
use crate::db::*;
use crate::keys::*;
use crate::types::*;

impl Store {
    /// One atomic sled transaction over all trees: the step's metrics, all its rollouts and
    /// (optionally) a checkpoint manifest + its blobs; updates `RunInfo.last_step` (to the
    /// larger of it and this step). A step that already exists is replaced, never duplicated:
    /// its old rollouts, checkpoint and blobs are removed in the same transaction. Flushed to
    /// disk before returning.
    ///
    /// Blobs the manifest does not list are added to `manifest.blobs` with their SHA-256 and
    /// size; listed ones with an empty `sha256` (or zero `bytes`) are filled in; listed ones
    /// whose checksum or size disagrees with the data abort the whole commit.
    pub fn commit_step(&self, run: &str, c: &StepCommit) -> Result<()> {
        let _w = self.lock();
        self.require_run(run)?;
        let step = c.step;
        let step_key = step.to_be_bytes();

        let metrics_value = encode_postcard(&c.metrics)?;
        let mut new_rollouts: Vec<([u8; 16], Vec<u8>)> = Vec::with_capacity(c.rollouts.len());
        for r in &c.rollouts {
            if r.step != step {
                bail!(
                    "commit of step {step} of run `{run}`: rollout (prompt {}, sample {}) says step {}",
                    r.prompt_index,
                    r.sample,
                    r.step
                );
            }
            let value = codec::encode_rollout(r)
                .with_context(|| format!("encoding rollout {}/{}", r.prompt_index, r.sample))?;
            new_rollouts.push((rollout_key(step, r.prompt_index, r.sample), value));
        }
        {
            let mut seen = HashSet::with_capacity(new_rollouts.len());
            for (k, _) in &new_rollouts {
                if !seen.insert(*k) {
                    bail!(
                        "commit of step {step} of run `{run}`: two rollouts are {}",
                        describe_key("rollouts/", k)
                    );
                }
            }
        }

        // The checkpoint, with its blob list completed and checked.
        let mut mismatches = Vec::new();
        let checkpoint = match &c.checkpoint {
            None => None,
            Some((m, data)) => {
                if m.step != step {
                    bail!(
                        "commit of step {step} of run `{run}`: the checkpoint manifest says step {}",
                        m.step
                    );
                }
                let mut m = m.clone();
                let mut names = HashSet::new();
                let mut blobs = Vec::with_capacity(data.len());
                for (name, bytes) in data {
                    if name.is_empty() || !names.insert(name.as_str()) {
                        bail!(
                            "checkpoint of step {step}: blob name `{name}` is empty or given twice"
                        );
                    }
                    let sha = sha256_hex(bytes);
                    let len = bytes.len() as u64;
                    match m.blobs.iter_mut().find(|b| &b.name == name) {
                        Some(b) => {
                            if b.sha256.is_empty() {
                                b.sha256 = sha.clone();
                            }
                            if b.bytes == 0 {
                                b.bytes = len;
                            }
                            if b.sha256 != sha || b.bytes != len {
                                mismatches.push(format!(
                                    "checkpoint blob `{name}` of step {step}: the data has SHA-256 {sha} ({len} bytes), the manifest says {} ({} bytes)",
                                    b.sha256, b.bytes
                                ));
                            }
                        }
                        None => m.blobs.push(BlobInfo {
                            name: name.clone(),
                            sha256: sha,
                            bytes: len,
                        }),
                    }
                    blobs.push((blob_key(step, name), encode_raw(bytes)));
                }
                if let Some(b) = m.blobs.iter().find(|b| !names.contains(b.name.as_str())) {
                    bail!(
                        "checkpoint of step {step}: the manifest lists blob `{}` but no data was given for it",
                        b.name
                    );
                }
                Some((encode_json(&m)?, blobs))
            }
        };

        let runs = self.tree(RUNS)?;
        let metrics = self.tree(&metrics_tree(run))?;
        let rollouts = self.tree(&rollouts_tree(run))?;
        let checkpoints = self.tree(&checkpoints_tree(run))?;
        let blobs = self.tree(&blobs_tree(run))?;

        let old_rollouts = keys_with_prefix(&rollouts, &step_key)?;
        let old_blobs = keys_with_prefix(&blobs, &step_key)?;

        (&runs, &metrics, &rollouts, &checkpoints, &blobs)
            .transaction(|(t_runs, t_metrics, t_rollouts, t_ckpt, t_blobs)| {
                let Some(v) = t_runs.get(run.as_bytes())? else {
                    return abort(format!("no run `{run}`"));
                };
                let mut info: RunInfo = match decode(&v) {
                    Ok(i) => i,
                    Err(e) => return abort(format!("{:#}", corrupt(run, RUNS, run.as_bytes(), e))),
                };
                info.last_step = Some(info.last_step.map_or(step, |l| l.max(step)));
                let info_value = match encode_json(&info) {
                    Ok(v) => v,
                    Err(e) => return abort(format!("{e:#}")),
                };
                t_runs.insert(run.as_bytes(), info_value)?;
                t_metrics.insert(&step_key[..], &metrics_value[..])?;
                for k in &old_rollouts {
                    t_rollouts.remove(k.clone())?;
                }
                for (k, v) in &new_rollouts {
                    t_rollouts.insert(&k[..], &v[..])?;
                }
                t_ckpt.remove(&step_key[..])?;
                for k in &old_blobs {
                    t_blobs.remove(k.clone())?;
                }
                if let Some((manifest, blob_values)) = &checkpoint {
                    for (k, v) in blob_values {
                        t_blobs.insert(&k[..], &v[..])?;
                    }
                    // Checked last, so that a bad checkpoint shows the whole step rolling back.
                    if !mismatches.is_empty() {
                        return abort(mismatches.join("; "));
                    }
                    t_ckpt.insert(&step_key[..], &manifest[..])?;
                }
                Ok(())
            })
            .map_err(txn_error)
            .with_context(|| format!("committing step {step} of run `{run}`"))?;
        self.flush()
    }

    /// Resume: deletes metrics, rollouts, checkpoints (and their blobs and weight files) and
    /// evaluations with step > `step`, in one transaction; `last_step` becomes the last step
    /// with metrics that is left.
    pub fn truncate_after(&self, run: &str, step: u64) -> Result<()> {
        let _w = self.lock();
        self.require_run(run)?;
        let Some(from) = step.checked_add(1) else {
            return Ok(());
        };
        let from_key = from.to_be_bytes();
        let runs = self.tree(RUNS)?;
        let metrics = self.tree(&metrics_tree(run))?;
        let rollouts = self.tree(&rollouts_tree(run))?;
        let checkpoints = self.tree(&checkpoints_tree(run))?;
        let blobs = self.tree(&blobs_tree(run))?;
        let evals = self.tree(EVALS)?;

        let keys_from = |t: &Tree| -> Result<Vec<IVec>> {
            t.range(from_key..)
                .keys()
                .collect::<sled::Result<Vec<_>>>()
                .context("reading the run store")
        };
        let old_metrics = keys_from(&metrics)?;
        let old_rollouts = keys_from(&rollouts)?;
        let old_ckpts = keys_from(&checkpoints)?;
        let old_blobs = keys_from(&blobs)?;
        let mut old_evals = Vec::new();
        for k in evals.scan_prefix(eval_prefix(run)).keys() {
            let k = k.context("reading the run store")?;
            let p = eval_prefix(run).len();
            if k.len() >= p + 8 && step_of(&k[p..]).is_some_and(|s| s > step) {
                old_evals.push(k);
            }
        }
        // Weight files of the removed checkpoints that no kept checkpoint shares.
        let mut kept_files = HashSet::new();
        let mut dropped_files = Vec::new();
        for m in self.checkpoints(run)? {
            for f in m.files {
                if m.step > step {
                    dropped_files.push(f.path);
                } else {
                    kept_files.insert(f.path);
                }
            }
        }
        let last = match metrics.range(..from_key).next_back() {
            None => None,
            Some(kv) => step_of(&kv.context("reading the run store")?.0),
        };

        (&runs, &metrics, &rollouts, &checkpoints, &blobs, &evals)
            .transaction(
                |(t_runs, t_metrics, t_rollouts, t_ckpt, t_blobs, t_evals)| {
                    let Some(v) = t_runs.get(run.as_bytes())? else {
                        return abort(format!("no run `{run}`"));
                    };
                    let mut info: RunInfo = match decode(&v) {
                        Ok(i) => i,
                        Err(e) => {
                            return abort(format!("{:#}", corrupt(run, RUNS, run.as_bytes(), e)))
                        }
                    };
                    info.last_step = last;
                    match encode_json(&info) {
                        Ok(v) => t_runs.insert(run.as_bytes(), v)?,
                        Err(e) => return abort(format!("{e:#}")),
                    };
                    for (t, keys) in [
                        (t_metrics, &old_metrics),
                        (t_rollouts, &old_rollouts),
                        (t_ckpt, &old_ckpts),
                        (t_blobs, &old_blobs),
                        (t_evals, &old_evals),
                    ] {
                        for k in keys {
                            t.remove(k.clone())?;
                        }
                    }
                    Ok(())
                },
            )
            .map_err(txn_error)
            .with_context(|| format!("truncating run `{run}` after step {step}"))?;
        self.flush()?;
        for f in dropped_files {
            if !kept_files.contains(&f) {
                if let Ok(rel) = checked_relative(&f) {
                    let _ = fs::remove_file(self.home.join(rel));
                }
            }
        }
        Ok(())
    }
}
