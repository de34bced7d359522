//! RAIF GRPO: rewards, rollouts, losses, the trainer and the run store.
//!
//! - [`grpo`]: advantages, superior-CoT keep flags, the clipped policy loss and k3 KL.
pub mod grpo;
pub mod store;

pub use raif_verify as verify;
