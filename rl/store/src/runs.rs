//! The `runs` tree: one [`RunInfo`] per run, and deleting a run with all its trees.

use std::fs;

use anyhow::{anyhow, bail, Context, Result};

use crate::codec::{decode, encode_json};
use crate::db::*;
use crate::keys::*;
use crate::types::*;

impl Store {
    pub(crate) fn decode_run(&self, key: &[u8], value: &[u8]) -> Result<RunInfo> {
        let id = String::from_utf8_lossy(key).into_owned();
        decode(value).map_err(|e| corrupt(&id, RUNS, key, e))
    }

    /// The run, or an error that says it does not exist.
    pub(crate) fn require_run(&self, id: &str) -> Result<RunInfo> {
        self.run(id)?.ok_or_else(|| {
            anyhow!(
                "no run `{id}` in {} (see `raif runs list`)",
                self.path.display()
            )
        })
    }

    /// Creates a run. Errors if a run with this id exists.
    pub fn create_run(&self, info: &RunInfo) -> Result<()> {
        validate_run_id(&info.id)?;
        let _w = self.lock();
        let runs = self.tree(RUNS)?;
        let value = encode_json(info)?;
        let swapped = runs
            .compare_and_swap(info.id.as_bytes(), None as Option<&[u8]>, Some(value))
            .context("writing the run store")?;
        if swapped.is_err() {
            bail!(
                "a run named `{}` already exists in {}: choose another --run-id, or --resume it",
                info.id,
                self.path.display()
            );
        }
        for name in [
            metrics_tree(&info.id),
            rollouts_tree(&info.id),
            checkpoints_tree(&info.id),
            blobs_tree(&info.id),
        ] {
            self.tree(&name)?;
        }
        self.flush()
    }

    pub fn run(&self, id: &str) -> Result<Option<RunInfo>> {
        let runs = self.tree(RUNS)?;
        match runs.get(id.as_bytes()).context("reading the run store")? {
            None => Ok(None),
            Some(v) => Ok(Some(self.decode_run(id.as_bytes(), &v)?)),
        }
    }

    /// All runs, newest first.
    pub fn list_runs(&self) -> Result<Vec<RunInfo>> {
        let runs = self.tree(RUNS)?;
        let mut out = Vec::new();
        for kv in runs.iter() {
            let (k, v) = kv.context("reading the run store")?;
            out.push(self.decode_run(&k, &v)?);
        }
        out.sort_by(|a, b| {
            b.created_unix
                .cmp(&a.created_unix)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(out)
    }

    pub fn set_status(&self, id: &str, status: RunStatus) -> Result<()> {
        let _w = self.lock();
        let mut info = self.require_run(id)?;
        info.status = status;
        self.tree(RUNS)?
            .insert(id.as_bytes(), encode_json(&info)?)
            .context("writing the run store")?;
        self.flush()
    }

    /// Replaces a run's stored configuration (`raif train --resume ID --steps N` gives it a new
    /// total).
    pub fn set_run_config(&self, id: &str, config: serde_json::Value) -> Result<()> {
        let _w = self.lock();
        let mut info = self.require_run(id)?;
        info.config = config;
        self.tree(RUNS)?
            .insert(id.as_bytes(), encode_json(&info)?)
            .context("writing the run store")?;
        self.flush()
    }

    /// Deletes a run with everything it stored, its weight files included.
    pub fn delete_run(&self, run: &str) -> Result<()> {
        let mut files = Vec::new();
        for m in self.checkpoints(run)? {
            files.extend(m.files.into_iter().map(|f| f.path));
        }
        let _w = self.lock();
        let evals = self.tree(EVALS)?;
        let mut batch = sled::Batch::default();
        for k in evals.scan_prefix(eval_prefix(run)).keys() {
            batch.remove(k.context("reading the run store")?);
        }
        // The run entry goes first: a crash half-way leaves orphan trees, never a run with holes.
        self.tree(RUNS)?
            .remove(run.as_bytes())
            .context("writing the run store")?;
        self.flush()?;
        evals.apply_batch(batch).context("writing the run store")?;
        for name in [
            metrics_tree(run),
            rollouts_tree(run),
            checkpoints_tree(run),
            blobs_tree(run),
        ] {
            self.db
                .drop_tree(name.as_bytes())
                .with_context(|| format!("dropping tree `{name}`"))?;
        }
        for f in files {
            if let Ok(rel) = checked_relative(&f) {
                let _ = fs::remove_file(self.home.join(rel));
            }
        }
        self.flush()
    }
}
