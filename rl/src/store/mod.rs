//! The run store (DESIGN.md "The store"): one sled database at `<home>/store` that keeps every
//! run, step metrics, rollout (with its verdicts and per-token arrays), checkpoint manifest and
//! checkpoint blob. Full-size weights are files beside the database, recorded by checksum.
//!
//! Trees (all keys big-endian, so range scans run in step order):
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `runs` | run id | [`RunInfo`] (JSON) |
//! | `metrics/<run>` | step u64 | [`Metrics`] (postcard) |
//! | `rollouts/<run>` | step u64 ‖ prompt_index u32 ‖ sample u32 | [`Rollout`] (postcard head + body) |
//! | `checkpoints/<run>` | step u64 | [`CheckpointManifest`] (JSON) |
//! | `blobs/<run>` | step u64 ‖ blob name | the blob's bytes |
//! | `evals` | run id ‖ 0 ‖ step u64 ‖ name | [`EvalRecord`] (postcard) |
//! | `evalruns` | evaluation id | [`EvalRun`] (JSON): a model or checkpoint on a benchmark in a mode |
//! | `evalitems/<eval>` | item index u32 | [`EvalItem`] (postcard): response and verdicts |
//! | `filehashes` | canonical path | `bytes mtime-ns sha256` of a file read for an identity |
//!
//! Every value starts with a format byte (see [`codec`]). A training step commits with
//! [`Store::commit_step`] in one sled transaction over all the trees it touches, and is flushed
//! to disk before the call returns.
//!
//! sled lets one process open a database at a time; [`Store`] is cheap to clone and can be
//! shared between the trainer thread and the UI of the same process.

pub mod codec;
pub mod report;
mod types;

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};
use sled::transaction::{abort, TransactionError, Transactional};
use sled::{IVec, Tree};

pub use types::*;

/// A rollout without its texts and per-token arrays (see [`Store::scan_rollout_summaries`]).
pub use codec::RolloutHead as RolloutSummary;

use codec::{decode, decode_raw, decode_rollout_head, encode_json, encode_postcard, encode_raw};

/// The run store of one `--home`.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    home: PathBuf,
    path: PathBuf,
    /// Serialises writers of this process: a commit reads the keys it replaces before its
    /// transaction, and nobody may add any in between.
    write: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

const RUNS: &str = "runs";
const EVALS: &str = "evals";
const EVALRUNS: &str = "evalruns";
const FILEHASHES: &str = "filehashes";

fn evalitems_tree(eval: &str) -> String {
    format!("evalitems/{eval}")
}

fn metrics_tree(run: &str) -> String {
    format!("metrics/{run}")
}
fn rollouts_tree(run: &str) -> String {
    format!("rollouts/{run}")
}
fn checkpoints_tree(run: &str) -> String {
    format!("checkpoints/{run}")
}
fn blobs_tree(run: &str) -> String {
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

fn blob_key(step: u64, name: &str) -> Vec<u8> {
    let mut k = step.to_be_bytes().to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

fn eval_prefix(run: &str) -> Vec<u8> {
    let mut k = run.as_bytes().to_vec();
    k.push(0);
    k
}

fn eval_key(run: &str, step: u64, name: &str) -> Vec<u8> {
    let mut k = eval_prefix(run);
    k.extend_from_slice(&step.to_be_bytes());
    k.extend_from_slice(name.as_bytes());
    k
}

fn step_of(key: &[u8]) -> Option<u64> {
    let b: [u8; 8] = key.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// A key as people read it, for error messages.
fn describe_key(tree: &str, key: &[u8]) -> String {
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

fn corrupt(run: &str, tree: &str, key: &[u8], e: anyhow::Error) -> anyhow::Error {
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

/// A path relative to `<home>` that stays inside it.
fn checked_relative(rel: &str) -> Result<&Path> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("`{rel}` must be a relative path inside the home folder (no `..`, no root)");
    }
    Ok(p)
}

fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut f = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

fn sync_dir(dir: &Path) {
    // Best effort: makes the rename durable on filesystems that need it.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn txn_error(e: TransactionError<String>) -> anyhow::Error {
    match e {
        TransactionError::Abort(msg) => anyhow!(msg),
        TransactionError::Storage(e) => anyhow!(e).context("writing the run store"),
    }
}

/// Lock retries (50 ms apart) before a store held elsewhere is reported.
const LOCK_RETRIES: usize = 40;

impl Store {
    /// Opens or creates `<home>/store`. If another process holds the database, the error says
    /// so plainly ("another raif is using <path>: stop it or use --home").
    pub fn open(home: &Path) -> Result<Store> {
        fs::create_dir_all(home)
            .with_context(|| format!("creating the home folder {}", home.display()))?;
        let path = home.join("store");
        let config = sled::Config::new().path(&path).cache_capacity(256 << 20);
        // sled's background flusher keeps the file lock for a moment after the last handle is
        // dropped, so a store closed and reopened by this process can find it still held:
        // wait briefly before concluding that another process has it.
        let mut tries = 0;
        let opened = loop {
            match config.open() {
                Err(e)
                    if tries < LOCK_RETRIES && e.to_string().contains("could not acquire lock") =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other,
            }
        };
        let db = opened.map_err(|e| {
            let text = e.to_string();
            if text.contains("could not acquire lock") {
                anyhow!(
                    "another raif is using {}: stop it or use --home",
                    path.display()
                )
            } else {
                anyhow!(e).context(format!("opening the run store {}", path.display()))
            }
        })?;
        Ok(Store {
            db,
            home: home.to_path_buf(),
            path,
            write: Arc::new(Mutex::new(())),
        })
    }

    /// The home folder this store belongs to.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// `<home>/store`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // A writer that panicked held no sled state across the panic: carry on.
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn tree(&self, name: &str) -> Result<Tree> {
        self.db
            .open_tree(name)
            .with_context(|| format!("opening tree `{name}` of {}", self.path.display()))
    }

    fn decode_run(&self, key: &[u8], value: &[u8]) -> Result<RunInfo> {
        let id = String::from_utf8_lossy(key).into_owned();
        decode(value).map_err(|e| corrupt(&id, RUNS, key, e))
    }

    /// The run, or an error that says it does not exist.
    fn require_run(&self, id: &str) -> Result<RunInfo> {
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

    /// The metrics of every committed step, in step order.
    pub fn metrics(&self, run: &str) -> Result<Vec<(u64, Metrics)>> {
        self.require_run(run)?;
        let name = metrics_tree(run);
        let tree = self.tree(&name)?;
        let mut out = Vec::new();
        for kv in tree.iter() {
            let (k, v) = kv.context("reading the run store")?;
            let step = step_of(&k)
                .ok_or_else(|| corrupt(run, &name, &k, anyhow!("the key is not a step")))?;
            out.push((step, decode(&v).map_err(|e| corrupt(run, &name, &k, e))?));
        }
        Ok(out)
    }

    /// The metrics of one step.
    pub fn step_metrics(&self, run: &str, step: u64) -> Result<Option<Metrics>> {
        self.require_run(run)?;
        let name = metrics_tree(run);
        let k = step.to_be_bytes();
        match self.tree(&name)?.get(k).context("reading the run store")? {
            None => Ok(None),
            Some(v) => Ok(Some(decode(&v).map_err(|e| corrupt(run, &name, &k, e))?)),
        }
    }

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

    fn scan_with<'a, T: 'a>(
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

    fn rollout_iter(&self, run: &str, f: &RolloutFilter) -> Result<sled::Iter> {
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

    fn decode_manifest(&self, run: &str, k: &[u8], v: &[u8]) -> Result<CheckpointManifest> {
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

    /// Records an evaluation of a run at a step (replacing one of the same step and name).
    pub fn put_eval(&self, run: &str, e: &EvalRecord) -> Result<()> {
        let _w = self.lock();
        self.require_run(run)?;
        self.tree(EVALS)?
            .insert(eval_key(run, e.step, &e.name), encode_postcard(e)?)
            .context("writing the run store")?;
        self.flush()
    }

    /// The evaluations of a run, in (step, name) order.
    pub fn evals(&self, run: &str) -> Result<Vec<EvalRecord>> {
        self.require_run(run)?;
        let mut out = Vec::new();
        for kv in self.tree(EVALS)?.scan_prefix(eval_prefix(run)) {
            let (k, v) = kv.context("reading the run store")?;
            out.push(decode(&v).map_err(|e| corrupt(run, EVALS, &k, e))?);
        }
        Ok(out)
    }

    /// Records (or replaces) an evaluation's header without items.
    pub fn put_eval_run(&self, e: &EvalRun) -> Result<()> {
        validate_run_id(&e.id)?;
        let _w = self.lock();
        self.tree(EVALRUNS)?
            .insert(e.id.as_bytes(), encode_json(e)?)
            .context("writing the run store")?;
        self.tree(&evalitems_tree(&e.id))?;
        self.flush()
    }

    /// An evaluation by id.
    pub fn eval_run(&self, id: &str) -> Result<Option<EvalRun>> {
        match self
            .tree(EVALRUNS)?
            .get(id.as_bytes())
            .context("reading the run store")?
        {
            None => Ok(None),
            Some(v) => Ok(Some(
                decode(&v).map_err(|e| corrupt(id, EVALRUNS, id.as_bytes(), e))?,
            )),
        }
    }

    /// Every evaluation, newest first.
    pub fn list_eval_runs(&self) -> Result<Vec<EvalRun>> {
        let mut out: Vec<EvalRun> = Vec::new();
        for kv in self.tree(EVALRUNS)?.iter() {
            let (k, v) = kv.context("reading the run store")?;
            let id = String::from_utf8_lossy(&k).into_owned();
            out.push(decode(&v).map_err(|e| corrupt(&id, EVALRUNS, &k, e))?);
        }
        out.sort_by(|a, b| {
            b.created_unix
                .cmp(&a.created_unix)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// Stores scored items and the evaluation's updated header in one transaction, flushed
    /// before returning: after a crash the header's `done` and the items agree. An item with
    /// the index of a stored one replaces it.
    pub fn commit_eval_items(&self, e: &EvalRun, items: &[EvalItem]) -> Result<()> {
        validate_run_id(&e.id)?;
        let _w = self.lock();
        let header = encode_json(e)?;
        let values: Vec<([u8; 4], Vec<u8>)> = items
            .iter()
            .map(|it| Ok((it.index.to_be_bytes(), encode_postcard(it)?)))
            .collect::<Result<_>>()?;
        let runs = self.tree(EVALRUNS)?;
        let tree = self.tree(&evalitems_tree(&e.id))?;
        (&runs, &tree)
            .transaction(|(runs, tree)| {
                for (k, v) in &values {
                    tree.insert(&k[..], &v[..])?;
                }
                runs.insert(e.id.as_bytes(), &header[..])?;
                Ok::<(), sled::transaction::ConflictableTransactionError<String>>(())
            })
            .map_err(txn_error)
            .with_context(|| format!("committing items of evaluation `{}`", e.id))?;
        self.flush()
    }

    /// The stored items of an evaluation, in index order.
    pub fn eval_items(&self, id: &str) -> Result<Vec<EvalItem>> {
        let name = evalitems_tree(id);
        let mut out = Vec::new();
        for kv in self.tree(&name)?.iter() {
            let (k, v) = kv.context("reading the run store")?;
            out.push(decode(&v).map_err(|e| corrupt(id, &name, &k, e))?);
        }
        Ok(out)
    }

    /// The indices of the stored items of an evaluation (no values decoded).
    pub fn eval_item_indices(&self, id: &str) -> Result<Vec<u32>> {
        let name = evalitems_tree(id);
        let mut out = Vec::new();
        for k in self.tree(&name)?.iter().keys() {
            let k = k.context("reading the run store")?;
            let b: [u8; 4] = k[..]
                .try_into()
                .map_err(|_| corrupt(id, &name, &k, anyhow!("the key is not an item index")))?;
            out.push(u32::from_be_bytes(b));
        }
        Ok(out)
    }

    /// Deletes an evaluation and its items.
    pub fn delete_eval_run(&self, id: &str) -> Result<()> {
        let _w = self.lock();
        self.tree(EVALRUNS)?
            .remove(id.as_bytes())
            .context("writing the run store")?;
        self.flush()?;
        let name = evalitems_tree(id);
        self.db
            .drop_tree(name.as_bytes())
            .with_context(|| format!("dropping tree `{name}`"))?;
        self.flush()
    }

    /// Where full weights of a checkpoint go, relative to `<home>`: `weights/<run>/<step>/<name>`.
    pub fn weights_path(run: &str, step: u64, name: &str) -> String {
        format!("weights/{run}/{step:08}/{name}")
    }

    /// Writes a file beside the database atomically (temporary file, fsync, rename) and
    /// returns its [`FileInfo`] for a checkpoint manifest.
    pub fn write_file(&self, rel: &str, data: &[u8]) -> Result<FileInfo> {
        let path = self.home.join(checked_relative(rel)?);
        let dir = path
            .parent()
            .ok_or_else(|| anyhow!("`{rel}` has no folder"))?;
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        {
            let mut f =
                fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
            f.write_all(data)
                .and_then(|_| f.sync_all())
                .with_context(|| format!("writing {}", tmp.display()))?;
        }
        fs::rename(&tmp, &path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        sync_dir(dir);
        Ok(FileInfo {
            path: rel.to_string(),
            sha256: sha256_hex(data),
            bytes: data.len() as u64,
        })
    }

    /// Moves a file that was written elsewhere (e.g. safetensors written to a temporary path
    /// on the same filesystem) to `<home>/<rel>` and returns its [`FileInfo`].
    pub fn adopt_file(&self, written: &Path, rel: &str) -> Result<FileInfo> {
        let path = self.home.join(checked_relative(rel)?);
        let dir = path
            .parent()
            .ok_or_else(|| anyhow!("`{rel}` has no folder"))?;
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        fs::File::open(written)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("syncing {}", written.display()))?;
        let (sha256, bytes) = sha256_file(written)?;
        fs::rename(written, &path)
            .with_context(|| format!("renaming {} to {}", written.display(), path.display()))?;
        sync_dir(dir);
        Ok(FileInfo {
            path: rel.to_string(),
            sha256,
            bytes,
        })
    }

    /// Checks a recorded file against its checksum and size; returns its full path.
    pub fn verify_file(&self, f: &FileInfo) -> Result<PathBuf> {
        let path = self.home.join(checked_relative(&f.path)?);
        let (sha, bytes) = sha256_file(&path)?;
        if sha != f.sha256 || bytes != f.bytes {
            bail!(
                "{} is corrupt: SHA-256 {sha} ({bytes} bytes), the checkpoint recorded {} ({} bytes)",
                path.display(),
                f.sha256,
                f.bytes
            );
        }
        Ok(path)
    }

    /// SHA-256 of a file outside the store (a model's weights, a benchmark file), remembered by
    /// its canonical path, size and modification time so that a multi-gigabyte model is read
    /// once, not at every evaluation.
    pub fn file_sha256(&self, path: &Path) -> Result<String> {
        let canon = path
            .canonicalize()
            .with_context(|| format!("cannot read {}", path.display()))?;
        let meta =
            fs::metadata(&canon).with_context(|| format!("cannot read {}", canon.display()))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let stamp = format!("{} {mtime} ", meta.len());
        let key = canon.to_string_lossy().into_owned();
        let tree = self.tree(FILEHASHES)?;
        if let Some(v) = tree.get(key.as_bytes()).context("reading the run store")? {
            if let Some(sha) = std::str::from_utf8(&v)
                .ok()
                .and_then(|v| v.strip_prefix(&stamp))
            {
                return Ok(sha.to_string());
            }
        }
        let (sha, _) = sha256_file(&canon)?;
        tree.insert(key.as_bytes(), format!("{stamp}{sha}").as_bytes())
            .context("writing the run store")?;
        Ok(sha)
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<()> {
        self.db.flush().context("flushing the run store")?;
        Ok(())
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.db.size_on_disk().context("reading the run store")
    }
}

fn keys_with_prefix(tree: &Tree, prefix: &[u8]) -> Result<Vec<IVec>> {
    tree.scan_prefix(prefix)
        .keys()
        .collect::<sled::Result<Vec<_>>>()
        .context("reading the run store")
}

fn head_matches(h: &codec::HeadView<'_>, f: &RolloutFilter) -> bool {
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

fn text_matches(r: &Rollout, needle_lower: &str) -> bool {
    let has = |s: &str| s.to_lowercase().contains(needle_lower);
    has(&r.prompt_id)
        || has(&r.prompt)
        || has(&r.response)
        || r.reasoning.as_deref().is_some_and(has)
        || r.answer.as_deref().is_some_and(has)
}
