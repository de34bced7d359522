//! `checkpoints/<run>` and `blobs/<run>`: checkpoint manifests and their blobs.

use std::collections::HashSet;
use std::fs;

use anyhow::{anyhow, bail, Context, Result};
use sled::transaction::Transactional;

use crate::codec::{decode, decode_raw};
use crate::db::*;
use crate::keys::*;
use crate::types::*;

impl Store {
    pub(crate) fn decode_manifest(
        &self,
        run: &str,
        k: &[u8],
        v: &[u8],
    ) -> Result<CheckpointManifest> {
        decode(v).map_err(|e| corrupt(run, &checkpoints_tree(run), k, e))
    }

    /// The checkpoint with the highest step.
    pub fn last_checkpoint(&self, run: &str) -> Result<Option<CheckpointManifest>> {
        self.require_run(run)?;
        let tree = self.tree(&checkpoints_tree(run))?;
        match tree.last().context("reading the run store")? {
            None => Ok(None),
            Some((k, v)) => Ok(Some(self.decode_manifest(run, &k, &v)?)),
        }
    }

    /// The checkpoint of one step.
    pub fn checkpoint(&self, run: &str, step: u64) -> Result<Option<CheckpointManifest>> {
        self.require_run(run)?;
        let tree = self.tree(&checkpoints_tree(run))?;
        let k = step.to_be_bytes();
        match tree.get(k).context("reading the run store")? {
            None => Ok(None),
            Some(v) => Ok(Some(self.decode_manifest(run, &k, &v)?)),
        }
    }

    /// All checkpoints of a run, in step order.
    pub fn checkpoints(&self, run: &str) -> Result<Vec<CheckpointManifest>> {
        self.require_run(run)?;
        let tree = self.tree(&checkpoints_tree(run))?;
        let mut out = Vec::new();
        for kv in tree.iter() {
            let (k, v) = kv.context("reading the run store")?;
            out.push(self.decode_manifest(run, &k, &v)?);
        }
        Ok(out)
    }

    /// A checkpoint blob, verified against the SHA-256 and size its manifest recorded.
    pub fn checkpoint_blob(&self, run: &str, step: u64, name: &str) -> Result<Vec<u8>> {
        let m = self
            .checkpoint(run, step)?
            .ok_or_else(|| anyhow!("run `{run}` has no checkpoint at step {step}"))?;
        let info = m.blobs.iter().find(|b| b.name == name).ok_or_else(|| {
            anyhow!("the checkpoint of run `{run}` at step {step} has no blob `{name}`")
        })?;
        let tree_name = blobs_tree(run);
        let k = blob_key(step, name);
        let v = self
            .tree(&tree_name)?
            .get(&k)
            .context("reading the run store")?
            .ok_or_else(|| {
                anyhow!("checkpoint blob `{name}` of run `{run}` at step {step} is missing from the store")
            })?;
        let data = decode_raw(&v).map_err(|e| corrupt(run, &tree_name, &k, e))?;
        let sha = sha256_hex(data);
        if sha != info.sha256 || data.len() as u64 != info.bytes {
            bail!(
                "checkpoint blob `{name}` of run `{run}` at step {step} is corrupt: SHA-256 {sha} ({} bytes), the manifest recorded {} ({} bytes)",
                data.len(),
                info.sha256,
                info.bytes
            );
        }
        Ok(data.to_vec())
    }

    /// Deletes one checkpoint (manifest, blobs, and the weight files no other checkpoint of
    /// the run records), keeping the step's metrics and rollouts: for keeping only the last
    /// few checkpoints. Deleting a checkpoint that does not exist is not an error.
    pub fn delete_checkpoint(&self, run: &str, step: u64) -> Result<()> {
        let _w = self.lock();
        let all = self.checkpoints(run)?;
        let Some(gone) = all.iter().find(|m| m.step == step) else {
            return Ok(());
        };
        let checkpoints = self.tree(&checkpoints_tree(run))?;
        let blobs = self.tree(&blobs_tree(run))?;
        let step_key = step.to_be_bytes();
        let old_blobs = keys_with_prefix(&blobs, &step_key)?;
        (&checkpoints, &blobs)
            .transaction(|(t_ckpt, t_blobs)| {
                t_ckpt.remove(&step_key[..])?;
                for k in &old_blobs {
                    t_blobs.remove(k.clone())?;
                }
                Ok::<_, sled::transaction::ConflictableTransactionError<String>>(())
            })
            .map_err(txn_error)
            .with_context(|| format!("deleting the checkpoint of run `{run}` at step {step}"))?;
        self.flush()?;
        let kept: HashSet<&str> = all
            .iter()
            .filter(|m| m.step != step)
            .flat_map(|m| m.files.iter().map(|f| f.path.as_str()))
            .collect();
        for f in &gone.files {
            if !kept.contains(f.path.as_str()) {
                if let Ok(rel) = checked_relative(&f.path) {
                    let _ = fs::remove_file(self.home.join(rel));
                }
            }
        }
        Ok(())
    }
}
