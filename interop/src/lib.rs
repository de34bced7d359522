//! Replay other engines' runs in the workbench, and export ours.
//!
//! - [`import_trl`]: TRL's `GRPOTrainer(log_completions=True)` writes
//!   `<output_dir>/completions/completions_{global_step:05d}.parquet` (read in TRL's
//!   `trl/trainer/grpo_trainer.py`, `huggingface/trl`: a pandas table `{"step", "prompt",
//!   "completion", **rewards (one float column per reward function, by its name), "advantage"}`
//!   written with `to_parquet`; older releases write `step` as a string and have no file at
//!   all, only the wandb table). Every `completions_*.parquet` under DIR is read (some forks put
//!   them in a per-mode subfolder).
//! - [`import_verl`]: verl's `trainer.rollout_data_dir` gets one `{global_step}.jsonl` per step
//!   (read in `verl/trainer/ppo/ray_trainer.py`, `volcengine/verl`, `_dump_generations`: one
//!   object per sample with `input` (the prompt, decoded with `skip_special_tokens=True`),
//!   `output` (the response), `gts` (the row's `reward_model.ground_truth`, newer releases),
//!   `score` (the sequence reward), `step`, and every `reward_extra_info` key of the same
//!   length).
//! - [`import_jsonl`]: our own export ([`export_jsonl`]): a `run` line, `metrics` lines and
//!   `rollout` lines, or plain rows `{step, prompt, response, reward?, constraints?}`.
//! - [`export_jsonl`], [`export_parquet`]: a stored run, one row per rollout.
//!
//! Imported rollouts are grouped by (step, prompt) like ours (prompt index by first
//! appearance in the step, sample by order). When a row carries constraints (a `constraints` /
//! `label` / `ground_truth` / `gts` field holding a constraint tree or IFEval-style ids and
//! kwargs), or a `--records` file supplies them for the prompt, the response is re-verified
//! with our verifiers and the RAIF reward: the stored reward, its parts and every verdict are
//! ours; the engine's own reward goes to the step metrics as `engine_reward`. Without
//! constraints the engine's reward is kept and the reasoning / answer are still extracted
//! for display. Advantages missing from the file are computed per group (ALGORITHM §3).

pub mod cli;
mod convert;
mod export;
mod readers;

use std::path::{Path, PathBuf};

use anyhow::Result;
use raif_verify::reward::TagStyle;

pub use convert::{parse_constraints, Records};
pub use export::{export_jsonl, export_parquet, ExportFormat};
pub use readers::{read_jsonl_rows, read_trl_dir, read_verl_dir, Row};

use raif_store::Store;

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The new run's id (default: `<source>-<folder or file name>`).
    pub run_id: Option<String>,
    /// How answers are marked in the responses (for extraction and re-verification).
    pub style: TagStyle,
    /// A JSONL file of RAIF records or IFEval / IFBench rows whose constraints apply to the
    /// imported prompts that contain their instruction text.
    pub records: Option<PathBuf>,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub run_id: String,
    pub steps: usize,
    pub rollouts: usize,
    /// Rollouts re-verified with our verifiers.
    pub reverified: usize,
    /// Problems that did not stop the import (`file:line: message`).
    pub problems: Vec<String>,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "imported run `{}`: {} steps, {} rollouts ({} re-verified with our verifiers)",
            self.run_id, self.steps, self.rollouts, self.reverified
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// `raif import trl DIR`.
pub fn import_trl(store: &Store, dir: &Path, opts: &ImportOptions) -> Result<ImportReport> {
    let (rows, problems) = read_trl_dir(dir)?;
    convert::import_rows(store, "trl", dir, rows, problems, opts)
}

/// `raif import verl DIR`.
pub fn import_verl(store: &Store, dir: &Path, opts: &ImportOptions) -> Result<ImportReport> {
    let (rows, problems) = read_verl_dir(dir)?;
    convert::import_rows(store, "verl", dir, rows, problems, opts)
}

/// `raif import jsonl FILE`.
pub fn import_jsonl(store: &Store, file: &Path, opts: &ImportOptions) -> Result<ImportReport> {
    convert::import_jsonl(store, file, opts)
}
