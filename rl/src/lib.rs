//! RAIF GRPO: rewards, rollouts, losses and the trainer (the run store is `raif-store`,
//! re-exported as [`store`]).
//!
//! - [`grpo`]: advantages, superior-CoT keep flags, the clipped policy loss and k3 KL.
//! - [`config`]: the TOML run configuration and its presets.
//! - [`rollout`]: prompts in the RAIF modes and scoring of one response.
//! - [`trainer`]: the GRPO loop on its own thread, its events and commands.
//! - [`store`]: `raif-store` (runs, metrics, rollouts, checkpoints and evaluations in sled).
//! - [`judge`]: the log-prob YES/NO judge on a local model (ALGORITHM §2).
//! - [`eval`]: benchmark evaluation (greedy, batched, resumable) and side-by-side comparison.
pub mod config;
pub mod eval;
pub mod grpo;
pub mod judge;
pub mod rollout;
pub mod trainer;

pub use raif_store as store;
pub use raif_verify as verify;
