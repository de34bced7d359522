//! Tree names and key layouts (all big-endian, so range scans run in step order), and how a
//! key reads in an error message.

use anyhow::{anyhow, bail, Context, Result};
use sled::{IVec, Tree};

pub(crate) const RUNS: &str = "runs";

pub(crate) const EVALS: &str = "evals";

pub(crate) const EVALRUNS: &str = "evalruns";

pub(crate) const FILEHASHES: &str = "filehashes";

pub(crate) fn evalitems_tree(eval: &str) -> String {
    format!("evalitems/{eval}")
}

pub(crate) fn metrics_tree(run: &str) -> String {
    format!("metrics/{run}")
}

pub(crate) fn rollouts_tree(run: &str) -> String {
    format!("rollouts/{run}")
}

pub(crate) fn checkpoints_tree(run: &str) -> String {
    format!("checkpoints/{run}")
}

pub(crate) fn blobs_tree(run: &str) -> String {
    format!("blobs/{run}")
}

/// `step ‖ prompt_index ‖ sample`, big-endian.
pub fn rollout_key(step: u64, prompt_index: u32, sample: u32) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&step.to_be_bytes());
    k[8..12].copy_from_slice(&prompt_index.to_be_bytes());
    k[12..].copy_from_slice(&sample.to_be_bytes());
    k
}

pub(crate) fn blob_key(step: u64, name: &str) -> Vec<u8> {
    let mut k = step.to_be_bytes().to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

pub(crate) fn eval_prefix(run: &str) -> Vec<u8> {
    let mut k = run.as_bytes().to_vec();
    k.push(0);
    k
}

pub(crate) fn eval_key(run: &str, step: u64, name: &str) -> Vec<u8> {
    let mut k = eval_prefix(run);
    k.extend_from_slice(&step.to_be_bytes());
    k.extend_from_slice(name.as_bytes());
    k
}

pub(crate) fn step_of(key: &[u8]) -> Option<u64> {
    let b: [u8; 8] = key.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// A key as people read it, for error messages.
pub(crate) fn describe_key(tree: &str, key: &[u8]) -> String {
    let fallback = || format!("0x{}", hex::encode(key));
    if tree == RUNS {
        return match std::str::from_utf8(key) {
            Ok(s) => format!("`{s}`"),
            Err(_) => fallback(),
        };
    }
    if tree.starts_with("rollouts/") && key.len() == 16 {
        let step = step_of(key).unwrap_or(0);
        let p = u32::from_be_bytes([key[8], key[9], key[10], key[11]]);
        let s = u32::from_be_bytes([key[12], key[13], key[14], key[15]]);
        return format!("step {step}, prompt {p}, sample {s}");
    }
    if (tree.starts_with("metrics/") || tree.starts_with("checkpoints/")) && key.len() == 8 {
        return format!("step {}", step_of(key).unwrap_or(0));
    }
    if tree.starts_with("blobs/") && key.len() >= 8 {
        if let Ok(name) = std::str::from_utf8(&key[8..]) {
            return format!("step {}, blob `{name}`", step_of(key).unwrap_or(0));
        }
    }
    fallback()
}

pub(crate) fn corrupt(run: &str, tree: &str, key: &[u8], e: anyhow::Error) -> anyhow::Error {
    anyhow!(
        "corrupt value in the run store: run `{run}`, tree `{tree}`, key {}: {e:#}",
        describe_key(tree, key)
    )
}

/// Run ids become tree names and file names: letters, digits and `-_.:+@`, at most 128.
pub fn validate_run_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 128 {
        bail!("run id `{id}` must have 1 to 128 characters");
    }
    if id.starts_with('.') {
        bail!("run id `{id}` must not start with `.`");
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:+@".contains(*c)))
    {
        bail!("run id `{id}` has `{c}`: use letters, digits and - _ . : + @");
    }
    Ok(())
}

pub(crate) fn keys_with_prefix(tree: &Tree, prefix: &[u8]) -> Result<Vec<IVec>> {
    tree.scan_prefix(prefix)
        .keys()
        .collect::<sled::Result<Vec<_>>>()
        .context("reading the run store")
}
