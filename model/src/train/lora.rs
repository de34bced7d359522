//! LoRA adapters: `y = x Wᵀ + (α/r)·dropout(x) Aᵀ Bᵀ` with `B` initialised to zero, on any of
//! the q/k/v/o/gate/up/down projections. The base weight stays a plain (frozen) tensor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Result};
use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

use crate::proj::Proj;
use crate::rng::Rng;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoraConfig {
    pub r: usize,
    pub alpha: f64,
    pub dropout: f64,
    /// Module names ([`Proj::name`]): any of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,
    /// down_proj.
    pub targets: Vec<String>,
}

impl Default for LoraConfig {
    fn default() -> Self {
        LoraConfig {
            r: 8,
            alpha: 16.0,
            dropout: 0.0,
            targets: Proj::ALL.iter().map(|p| p.name().to_string()).collect(),
        }
    }
}

impl LoraConfig {
    pub fn validate(&self) -> Result<()> {
        if self.r == 0 {
            bail!("lora.r must be at least 1");
        }
        if !(0.0..1.0).contains(&self.dropout) {
            bail!("lora.dropout must be in [0, 1), got {}", self.dropout);
        }
        for t in &self.targets {
            if Proj::from_name(t).is_none() {
                bail!(
                    "lora target `{t}` is not one of {}",
                    Proj::ALL.map(Proj::name).join(", ")
                );
            }
        }
        if self.targets.is_empty() {
            bail!("lora.targets is empty");
        }
        Ok(())
    }
    pub fn scale(&self) -> f64 {
        self.alpha / self.r as f64
    }
}

/// Dropout shared by all adapters of a model: one seeded stream (checkpointed with the run)
/// and a switch that is on only during training forwards.
#[derive(Clone, Debug)]
pub struct LoraDropout {
    pub p: f64,
    pub rng: Arc<Mutex<Rng>>,
    pub active: Arc<AtomicBool>,
}

#[derive(Clone, Debug)]
pub struct Lora {
    /// `(r, in)`.
    pub a: Tensor,
    /// `(out, r)`.
    pub b: Tensor,
    pub scale: f64,
    pub dropout: Option<LoraDropout>,
}

impl Lora {
    /// Whether this forward draws a dropout mask on the adapter's input.
    pub fn dropout_active(&self) -> bool {
        matches!(&self.dropout, Some(d) if d.p > 0.0 && d.active.load(Ordering::Relaxed))
    }

    /// `scale · dropout(x) Aᵀ Bᵀ` for `x: (rows, in)`.
    pub fn delta(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let x = match &self.dropout {
            Some(d) if d.p > 0.0 && d.active.load(Ordering::Relaxed) => {
                let n = x.elem_count();
                let keep = 1.0 - d.p;
                let mask: Vec<f32> = {
                    let mut rng = d
                        .rng
                        .lock()
                        .map_err(|_| candle_core::Error::Msg("lora dropout rng poisoned".into()))?;
                    (0..n)
                        .map(|_| {
                            if rng.next_f64() < keep {
                                (1.0 / keep) as f32
                            } else {
                                0.0
                            }
                        })
                        .collect()
                };
                let m = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
                (x * m)?
            }
            _ => x.clone(),
        };
        x.matmul(&self.a.t()?)?.matmul(&self.b.t()?)? * self.scale
    }

    /// `scale · B A`, the update to fold into `W` when merging.
    pub fn merged_delta(&self) -> candle_core::Result<Tensor> {
        self.b
            .to_dtype(DType::F32)?
            .matmul(&self.a.to_dtype(DType::F32)?)?
            * self.scale
    }
}
