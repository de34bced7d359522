//! Training support: differentiable log-probs and entropy, frozen linears, full and LoRA
//! parameters, AdamW with clipping and a warm-up/cosine schedule, and checkpoints.

pub mod checkpoint;
pub mod ckpt;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod frozen;
pub mod logprob;
pub mod lora;
pub mod ops;
pub mod optim;
pub mod params;

pub use ckpt::SideGrads;
pub use logprob::{token_logprobs, token_logprobs_ckpt, LogProbs, SeqBatch};
pub use lora::{Lora, LoraConfig};
pub use optim::{AdamW, AdamWConfig, LrSchedule};
pub use params::{TrainMode, Trainable};
