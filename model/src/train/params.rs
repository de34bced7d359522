//! Which parameters train: every weight (full fine-tune) or LoRA adapters over frozen weights.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use candle_core::{DType, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::train::lora::{Lora, LoraConfig, LoraDropout};
use crate::transformer::Transformer;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrainMode {
    Full,
    Lora(LoraConfig),
}

/// The trainable variables of a model, by name, in a fixed order. Names are HF names for a
/// full fine-tune and PEFT names (`….q_proj.lora_A.weight`) for LoRA.
pub struct Trainable {
    pub mode: TrainMode,
    pub vars: Vec<(String, Var)>,
    dropout_rng: Arc<Mutex<Rng>>,
    dropout_active: Arc<AtomicBool>,
}

impl Trainable {
    /// Make every weight of `model` a `Var` (a copy: the tensors it held before stay as they
    /// were, e.g. in a frozen reference model that shares them).
    pub fn full(model: &mut Transformer) -> Result<Self> {
        let mut vars = Vec::new();
        for (name, slot) in model.params_mut() {
            let v = Var::from_tensor(slot)?;
            *slot = v.as_tensor().clone();
            vars.push((name, v));
        }
        // Re-tie: with tied embeddings the output projection reads embed_tokens, which is now a Var.
        Ok(Trainable {
            mode: TrainMode::Full,
            vars,
            dropout_rng: Arc::new(Mutex::new(Rng::new(0))),
            dropout_active: Arc::default(),
        })
    }

    /// Attach LoRA adapters (A ~ U(±1/√in) as PEFT's Kaiming-uniform init, B = 0) to the
    /// configured modules; the base weights stay frozen.
    pub fn lora(model: &mut Transformer, cfg: &LoraConfig, seed: u64) -> Result<Self> {
        cfg.validate()?;
        let mut rng = Rng::new(seed);
        let dropout_rng = Arc::new(Mutex::new(Rng::for_stream(seed, 1)));
        let dropout_active = Arc::new(AtomicBool::new(false));
        let mut vars = Vec::new();
        let dtype = model.dtype();
        let device = model.device().clone();
        for (prefix, proj, lin) in model.linears_mut() {
            if !cfg.targets.iter().any(|t| t == proj.name()) {
                continue;
            }
            if lin.lora.is_some() {
                bail!("{prefix} already has a LoRA adapter");
            }
            let (out_dim, in_dim) = lin.weight.dims2()?;
            let bound = 1.0 / (in_dim as f64).sqrt();
            let a: Vec<f32> = (0..cfg.r * in_dim)
                .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
                .collect();
            let a =
                Var::from_tensor(&Tensor::from_vec(a, (cfg.r, in_dim), &device)?.to_dtype(dtype)?)?;
            let b = Var::from_tensor(&Tensor::zeros((out_dim, cfg.r), dtype, &device)?)?;
            lin.lora = Some(Lora {
                a: a.as_tensor().clone(),
                b: b.as_tensor().clone(),
                scale: cfg.scale(),
                dropout: (cfg.dropout > 0.0).then(|| LoraDropout {
                    p: cfg.dropout,
                    rng: dropout_rng.clone(),
                    active: dropout_active.clone(),
                }),
            });
            vars.push((format!("{prefix}.lora_A.weight"), a));
            vars.push((format!("{prefix}.lora_B.weight"), b));
        }
        if vars.is_empty() {
            bail!("no module matched the LoRA targets {:?}", cfg.targets);
        }
        Ok(Trainable {
            mode: TrainMode::Lora(cfg.clone()),
            vars,
            dropout_rng,
            dropout_active,
        })
    }

    /// Number of trainable scalars.
    pub fn num_parameters(&self) -> usize {
        self.vars.iter().map(|(_, v)| v.elem_count()).sum()
    }

    /// Dropout is applied only while this is on (training forwards, not rollouts).
    pub fn set_training(&self, on: bool) {
        self.dropout_active.store(on, Ordering::Relaxed);
    }

    pub fn dropout_rng_state(&self) -> Result<[u64; 4]> {
        Ok(self
            .dropout_rng
            .lock()
            .map_err(|_| anyhow::anyhow!("dropout rng poisoned"))?
            .state())
    }

    pub fn set_dropout_rng_state(&self, s: [u64; 4]) -> Result<()> {
        *self
            .dropout_rng
            .lock()
            .map_err(|_| anyhow::anyhow!("dropout rng poisoned"))? = Rng::from_state(s);
        Ok(())
    }

    /// Overwrite the variables' values (e.g. from a checkpoint); names and shapes must match.
    pub fn load_values(
        &self,
        values: &std::collections::HashMap<String, Tensor>,
        source: &str,
    ) -> Result<()> {
        for (name, var) in &self.vars {
            let t = values
                .get(name)
                .with_context(|| format!("{source}: missing tensor `{name}`"))?;
            if t.dims() != var.dims() {
                bail!(
                    "{source}: tensor `{name}` has shape {:?}, expected {:?}",
                    t.dims(),
                    var.dims()
                );
            }
            var.set(&t.to_dtype(var.dtype())?.to_device(var.device())?)?;
        }
        Ok(())
    }
}

/// Fold every LoRA adapter into its base weight and remove it (for export, or generation with
/// the merged model). The merged weights are frozen tensors (detached from the adapters'
/// `Var`s), packed again for the fused forward ([`Transformer::fuse_projections`]).
pub fn merge_lora(model: &mut Transformer) -> Result<usize> {
    let mut n = 0;
    for (_, _, lin) in model.linears_mut() {
        if let Some(l) = lin.lora.take() {
            let w = (lin.weight.to_dtype(DType::F32)? + l.merged_delta()?)?
                .to_dtype(lin.weight.dtype())?;
            lin.weight = w.detach();
            n += 1;
        }
    }
    model.fuse_projections()?;
    Ok(n)
}
