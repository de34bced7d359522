//! The records the store keeps: runs, metrics, rollouts with their verdicts, checkpoints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One step's metrics, by name (TRL's names where TRL has one).
pub type Metrics = BTreeMap<String, f64>;

/// Where a run stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    #[default]
    Running,
    Paused,
    Finished,
    Stopped,
    /// Failed, with the message that says why.
    Failed(String),
}

impl RunStatus {
    /// `running`, `paused`, `finished`, `stopped` or `failed`.
    pub fn name(&self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Paused => "paused",
            RunStatus::Finished => "finished",
            RunStatus::Stopped => "stopped",
            RunStatus::Failed(_) => "failed",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunStatus::Failed(why) => write!(f, "failed: {why}"),
            other => f.write_str(other.name()),
        }
    }
}

/// Where a benchmark evaluation stands (stored as its name: `running`, `finished`,
/// `interrupted`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EvalStatus {
    /// Being generated, or a process died while it was.
    #[default]
    Running,
    /// Every item of the last command's target is stored.
    Finished,
    /// Stopped (Ctrl-C) before its target; the same command continues it.
    Interrupted,
}

impl EvalStatus {
    pub fn name(self) -> &'static str {
        match self {
            EvalStatus::Running => "running",
            EvalStatus::Finished => "finished",
            EvalStatus::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for EvalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A run: what was trained, on what, how, and how far it got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct RunInfo {
    pub id: String,
    pub created_unix: u64,
    pub status: RunStatus,
    pub model: String,
    pub dataset: String,
    pub preset: String,
    /// The complete run configuration.
    pub config: serde_json::Value,
    /// The last committed step (None before the first commit).
    pub last_step: Option<u64>,
    /// `"raif"` for runs trained here, `"import:trl"` and the like for imported logs.
    pub source: String,
}

/// One verifier's (or the judge's) decision on one rollout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Verdict {
    /// Constraint id, or `"judge"`.
    pub id: String,
    /// Position in the constraint tree, e.g. `root.and[1].chain[0]`.
    pub path: String,
    pub pass: bool,
    pub reason: String,
    /// `"constraint"` or `"guard"`.
    pub role: String,
}

/// One sampled completion with everything the trainer computed about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Rollout {
    pub step: u64,
    pub prompt_index: u32,
    pub sample: u32,
    pub prompt_id: String,
    pub prompt: String,
    pub response: String,
    pub reasoning: Option<String>,
    pub answer: Option<String>,
    pub tokens: Vec<u32>,
    pub logprobs: Vec<f32>,
    pub entropies: Vec<f32>,
    /// Why generation stopped (`eos`, `length`, …).
    pub finish: String,
    pub reward: f64,
    pub answer_score: f64,
    pub format_score: f64,
    pub satisfied: u32,
    pub total: u32,
    pub verdicts: Vec<Verdict>,
    pub advantage: f64,
    pub kept: bool,
    pub keep_reason: String,
    pub no_think: bool,
    /// Part of a held-out evaluation batch (not trained on).
    pub eval: bool,
    /// Which closing tags budget forcing injected: `none`, `think`, `answer` or
    /// `think+answer` (rollouts stored before forcing existed read `none`).
    pub forced: String,
    /// Indices into `tokens` of the injected tokens (they carry no loss and log-prob 0).
    pub forced_tokens: Vec<u32>,
}

impl Rollout {
    /// Budget forcing injected a tag into this rollout.
    pub fn was_forced(&self) -> bool {
        !(self.forced.is_empty() || self.forced == "none")
    }
}

/// A checkpoint blob kept inside sled (LoRA adapter, optimizer state, RNG, data cursor…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BlobInfo {
    pub name: String,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub bytes: u64,
}

/// A file beside the database (full weights as safetensors).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FileInfo {
    /// Relative to `<home>`.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// What a checkpoint holds and where.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct CheckpointManifest {
    pub step: u64,
    pub created_unix: u64,
    /// Free-form: scheduler state, RNG seeds, data cursor, model shape…
    pub manifest: serde_json::Value,
    pub blobs: Vec<BlobInfo>,
    pub files: Vec<FileInfo>,
}

/// A checkpoint manifest and its blobs' bytes by name.
pub type CheckpointData = (CheckpointManifest, Vec<(String, Vec<u8>)>);

/// Everything one training step commits, atomically.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct StepCommit {
    pub step: u64,
    pub metrics: Metrics,
    pub rollouts: Vec<Rollout>,
    /// The manifest and its blobs by name. Blobs missing from `manifest.blobs` are added to it
    /// (with their SHA-256 and size); listed ones must match the data given.
    pub checkpoint: Option<CheckpointData>,
}

/// Which rollouts [`Store::scan_rollouts`](super::Store::scan_rollouts) yields; `None` matches
/// everything.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct RolloutFilter {
    pub step: Option<u64>,
    /// A verdict with this id that did not pass.
    pub failed_constraint: Option<String>,
    /// Inclusive.
    pub reward_min: Option<f64>,
    /// Inclusive.
    pub reward_max: Option<f64>,
    pub kept: Option<bool>,
    pub no_think: Option<bool>,
    /// Case-insensitive substring of the prompt id, prompt, response, reasoning or answer.
    pub text: Option<String>,
    pub eval: Option<bool>,
}

/// A named evaluation of a run at a step (e.g. the held-out batch, or an IFEval pass).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct EvalRecord {
    pub step: u64,
    pub name: String,
    pub created_unix: u64,
    pub metrics: Metrics,
}

/// One evaluation of a model (or a run's checkpoint) on a benchmark in a prompt mode: what was
/// asked, how far it got, and its metrics over the items done. Items live in
/// `evalitems/<id>`; an interrupted evaluation continues with the items it lacks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct EvalRun {
    /// `<bench>-<mode>-<hash of the setup>`: the same setup gets the same id, so running the
    /// same command again resumes it.
    pub id: String,
    pub created_unix: u64,
    pub updated_unix: u64,
    /// The model as given (`default`, a path, OWNER/NAME).
    pub model: String,
    /// `RUN@STEP` when a checkpoint of a run was evaluated.
    pub checkpoint: Option<String>,
    pub bench: String,
    /// io, cot, think.
    pub mode: String,
    /// The judge model (judge-scored benchmarks).
    pub judge: Option<String>,
    /// The chat template's name and a digest of what it renders (empty in evaluations stored
    /// before templates were recorded).
    #[serde(default)]
    pub template: String,
    pub max_new_tokens: usize,
    /// The benchmark file or folder read.
    pub data: String,
    /// Items in the benchmark (before any limit).
    pub bench_items: usize,
    /// Items asked for by the last command (`--limit`, or all).
    pub target: usize,
    /// Items stored.
    pub done: usize,
    pub status: EvalStatus,
    /// Metrics over the first `target` items (`ifeval.prompt_strict`, …).
    pub metrics: Metrics,
    /// Totals over every command that worked on this evaluation.
    pub timing: EvalTiming,
}

/// Time and tokens spent on an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct EvalTiming {
    pub prompt_tokens: u64,
    pub generated_tokens: u64,
    pub generate_s: f64,
    pub score_s: f64,
    pub judge_questions: u64,
    pub wall_s: f64,
}

/// One leaf's verdict in an evaluation: a rule (strict and loose), a CELLO scorer (a score in
/// [0, 1]) or a judge question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct EvalVerdict {
    /// Rule id, `cello:<scorer>`, or `judge`.
    pub id: String,
    /// Position in the constraint tree (`root.and[1]`).
    pub path: String,
    /// The judge's question (judge leaves).
    pub question: Option<String>,
    pub strict: bool,
    /// IFEval's loose verdict (rules only).
    pub loose: Option<bool>,
    /// A graded score (CELLO scorers), NaN when the scorer does not apply.
    pub score: Option<f64>,
    pub reason: String,
    /// The judge did not see it: its input was longer than the judge's limit.
    pub overlong: bool,
}

/// One benchmark item's response and verdicts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct EvalItem {
    /// Position in the benchmark file (the key).
    pub index: u32,
    pub record_id: String,
    /// The last user turn.
    pub prompt: String,
    /// The generated text (after the prompt's prefill, as generated).
    pub response: String,
    pub reasoning: Option<String>,
    /// What was scored: the whole response (io, cot) or the extracted answer (think).
    pub answer: Option<String>,
    pub format_ok: bool,
    /// Why nothing was scored (think mode: bad format, empty answer).
    pub unscorable: Option<String>,
    pub prompt_tokens: u32,
    pub tokens: u32,
    /// `stop`, `stop_string` or `length`.
    pub finish: String,
    pub verdicts: Vec<EvalVerdict>,
}
