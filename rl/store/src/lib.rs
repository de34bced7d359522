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
//!
//! One file per tree (`runs`, `metrics`, `rollouts`, `checkpoints`, `evals`, `files`), `steps`
//! for the transaction that spans a step's trees, `keys` for the key layouts, `db` for the
//! database handle, `home` for the home folder's layout.

mod checkpoints;
pub mod codec;
mod db;
mod evals;
mod files;
mod home;
mod keys;
mod metrics;
pub mod report;
mod rollouts;
mod runs;
mod steps;
mod types;

pub use db::{now_unix, sha256_hex, Store};
pub use home::Home;
pub use keys::{rollout_key, validate_run_id};
pub use types::*;

/// A rollout without its texts and per-token arrays (see [`Store::scan_rollout_summaries`]).
pub use codec::RolloutHead as RolloutSummary;
