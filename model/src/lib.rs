//! `raif-model`: tokenizers, chat templates, the Llama / Qwen2 / Mistral transformer with a KV
//! cache, batched sampling and the model cache. It knows nothing of rewards, runs or terminals.

pub mod alloc;
pub mod block;
pub mod config;
pub mod devcheck;
pub mod device;
pub mod fetch;
pub mod generate;
pub mod graph;
pub mod kv_cache;
pub mod loaded;
pub mod ops;
pub mod proj;
pub mod rng;
pub mod template;
pub mod tiny;
pub mod tokenizer;
pub mod train;
pub mod transformer;
pub mod weights;

pub use block::ForwardPath;
pub use config::{Arch, ModelConfig};
pub use generate::{
    draws_on_device, BudgetForcing, DeviceSampler, FinishReason, Forced, Generation, Generator,
    SamplingParams, TokenEvent,
};
pub use loaded::{LoadedModel, ModelSource};
pub use proj::Proj;
pub use rng::Rng;
pub use template::{ChatTemplate, Message, PromptMode, Role};
pub use tokenizer::Tokenizer;
pub use transformer::{ForwardOptions, Transformer};

pub use candle_core;
