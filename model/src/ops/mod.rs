//! The layer ops and kernels, shared by generation and training.
//!
//! - [`layer`]: attention, RMSNorm, RoPE and SwiGLU with hand-written backwards (their values
//!   come from the fused kernels generation uses);
//! - [`linear`]: `x Wᵀ` with a backward for frozen weights, the packed (q/k/v, gate/up)
//!   matmul, and the one-node LoRA layer;
//! - [`cpu`]: the CPU kernels (small-M matmul, masked softmax, decode attention, SwiGLU,
//!   log-softmax rows);
//! - [`infer`]: generation-only fused ops (SwiGLU of the packed gate/up output, the residual
//!   add with the RMSNorm after it);
//! - [`cuda`]: the CUDA kernels (layer ops, token log-probs, AdamW), with the `cuda` feature;
//!   [`cuda_infer`]: generation's (the fused forward, the decode step's cache writes);
//! - [`adamw`]: the fused AdamW update on the CPU and the numbers of a step it shares with
//!   the CUDA kernel.

pub mod adamw;
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
#[cfg(feature = "cuda")]
pub mod cuda_infer;
pub mod infer;
pub mod layer;
pub mod linear;
