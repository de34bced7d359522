//! RAIF GRPO: rewards, rollouts, losses, the trainer and the run store (filled by the trainer issues).
pub use raif_verify as verify;
