//! Training support: differentiable log-probs and entropy, full and LoRA parameters, AdamW with
//! clipping and a warm-up/cosine schedule, and checkpoints. The layer ops and kernels with
//! their backwards are in [`crate::ops`].

pub mod checkpoint;
pub mod logprob;
pub mod lora;
pub mod optim;
pub mod params;
pub mod recompute;

pub use logprob::{token_logprobs, LogProbOptions, LogProbs, SeqBatch};
pub use lora::{Lora, LoraConfig};
pub use optim::{AdamW, AdamWConfig, LrSchedule};
pub use params::{TrainMode, Trainable};
pub use recompute::SideGrads;
