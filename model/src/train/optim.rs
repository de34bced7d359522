//! AdamW with decoupled weight decay, global-norm gradient clipping, gradient accumulation and
//! the warm-up + cosine-to-floor learning-rate schedule of ALGORITHM.md §3.
//!
//! On the CPU with f32 parameters the update is one fused, in-place pass over each tensor
//! (parameter, both moments and the gradient read once, split across threads:
//! [`crate::ops::adamw`]), instead of the dozen allocating tensor ops per parameter of
//! `candle_nn::AdamW`. On CUDA it is one kernel ([`crate::ops::cuda`]); other devices use
//! tensor ops.

use std::cell::RefCell;
use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::ops::adamw::{FusedAdamW, Hyper};
use crate::train::recompute::SideGrads;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Clip gradients to this global L2 norm (None: no clipping).
    pub max_grad_norm: Option<f64>,
}

impl Default for AdamWConfig {
    /// RAIF's values: betas (0.9, 0.95), no weight decay, clip 1.0.
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.0,
            max_grad_norm: Some(1.0),
        }
    }
}

/// Linear warm-up from 0, then cosine decay from the peak to `min_ratio · peak`
/// (transformers' `cosine_with_min_lr` schedule).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    pub peak: f64,
    pub warmup_steps: usize,
    pub total_steps: usize,
    pub min_ratio: f64,
}

impl LrSchedule {
    /// RAIF: 3% warm-up, cosine to 10% of the peak.
    pub fn raif(peak: f64, total_steps: usize) -> Self {
        LrSchedule {
            peak,
            warmup_steps: (total_steps as f64 * 0.03).ceil() as usize,
            total_steps,
            min_ratio: 0.1,
        }
    }

    /// The learning rate of optimizer step `step` (0-based).
    pub fn lr(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.peak * step as f64 / self.warmup_steps.max(1) as f64;
        }
        let span = self.total_steps.saturating_sub(self.warmup_steps).max(1);
        let progress = ((step - self.warmup_steps) as f64 / span as f64).min(1.0);
        let cos = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.peak * (self.min_ratio + (1.0 - self.min_ratio) * cos)
    }
}

/// Gradients summed over micro-batches, one slot per variable.
pub struct GradAccum {
    pub grads: Vec<Option<Tensor>>,
    pub micro_steps: usize,
}

impl GradAccum {
    pub fn new(n: usize) -> Self {
        GradAccum {
            grads: vec![None; n],
            micro_steps: 0,
        }
    }

    /// Add the gradients of one backward pass (and those its checkpointed blocks delivered
    /// on the side). Sums of half-precision gradients are kept in f32; a gradient that is
    /// alone in its slot stays as it came (no sum to round, and on CUDA the optimizer reads
    /// bf16 directly: casting every gradient of a 1.5B model to f32 cost 14 ms a step).
    pub fn add(
        &mut self,
        vars: &[(String, Var)],
        store: &GradStore,
        side: Option<&SideGrads>,
    ) -> Result<()> {
        // Sums are f32 when the model computes in bf16/f16: each addition in bf16 would
        // round the running sum to 8 bits of mantissa.
        let wide = |t: Tensor| match t.dtype() {
            DType::BF16 | DType::F16 => t.to_dtype(DType::F32),
            _ => Ok(t),
        };
        for (slot, (_, v)) in self.grads.iter_mut().zip(vars) {
            let parts = [
                store.get(v.as_tensor()).map(|g| g.detach()),
                side.and_then(|s| s.take(v.as_tensor())),
            ];
            for g in parts.into_iter().flatten() {
                *slot = Some(match slot.take() {
                    Some(acc) => (wide(acc)? + wide(g)?)?,
                    None => g,
                });
            }
        }
        self.micro_steps += 1;
        Ok(())
    }

    pub fn clear(&mut self) {
        self.grads.iter_mut().for_each(|g| *g = None);
        self.micro_steps = 0;
    }
}

enum Moments {
    /// CPU f32: plain vectors updated in place.
    Host { m: Vec<f32>, v: Vec<f32> },
    Tensors {
        m: Tensor,
        v: Tensor,
        /// The f32 master copy of a parameter stored in a narrower type (bf16 on CUDA): the
        /// update is applied here and the parameter is its rounding. Without it an update
        /// smaller than half a bf16 step (lr 1e-5 against weights near 0.02 is one) would be
        /// rounded away every step.
        master: Option<Tensor>,
    },
}

/// What one optimizer step did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepInfo {
    /// Global L2 norm of the gradients before clipping.
    pub grad_norm: f64,
    pub clipped: bool,
    pub lr: f64,
    /// False when the gradient norm was not finite: the step was skipped.
    pub applied: bool,
}

pub struct AdamW {
    pub cfg: AdamWConfig,
    /// Optimizer steps taken.
    pub step: u64,
    moments: Vec<Moments>,
}

impl AdamW {
    pub fn new(vars: &[(String, Var)], cfg: AdamWConfig) -> Result<Self> {
        let moments = vars
            .iter()
            .map(|(_, v)| {
                Ok(if v.device().is_cpu() && v.dtype() == DType::F32 {
                    Moments::Host {
                        m: vec![0.0; v.elem_count()],
                        v: vec![0.0; v.elem_count()],
                    }
                } else {
                    let m = Tensor::zeros(v.shape(), DType::F32, v.device())?;
                    Moments::Tensors {
                        v: m.zeros_like()?,
                        m,
                        master: Self::master_of(v)?,
                    }
                })
            })
            .collect::<Result<_>>()?;
        Ok(AdamW {
            cfg,
            step: 0,
            moments,
        })
    }

    /// Global L2 norm of a set of gradients.
    /// A fresh f32 master copy for a parameter that is not f32, else none.
    fn master_of(v: &Var) -> Result<Option<Tensor>> {
        Ok(if v.dtype() == DType::F32 {
            None
        } else {
            Some(v.as_tensor().to_dtype(DType::F32)?.contiguous()?)
        })
    }

    /// The global L2 norm of the gradients. Each tensor's sum of squares is taken where it
    /// lives (in f32) and all of them come back in one transfer, to be added in f64.
    pub fn grad_norm(grads: &[Option<Tensor>]) -> Result<f64> {
        #[cfg(feature = "cuda")]
        if let Some(sq) = crate::ops::cuda::sum_squares(grads)? {
            return Ok(sq.sqrt());
        }
        let mut by_device: Vec<(Device, Vec<Tensor>)> = Vec::new();
        for g in grads.iter().flatten() {
            let sq = g.to_dtype(DType::F32)?.sqr()?.sum_all()?;
            match by_device
                .iter_mut()
                .find(|(d, _)| d.same_device(g.device()))
            {
                Some((_, v)) => v.push(sq),
                None => by_device.push((g.device().clone(), vec![sq])),
            }
        }
        let mut sq = 0f64;
        for (_, parts) in by_device {
            for x in Tensor::stack(&parts, 0)?.to_vec1::<f32>()? {
                sq += x as f64;
            }
        }
        Ok(sq.sqrt())
    }

    /// One update with learning rate `lr`. Gradients are divided by `grad_divisor` first (e.g.
    /// the number of accumulated micro-batches when their losses were not pre-scaled).
    pub fn step(
        &mut self,
        vars: &[(String, Var)],
        grads: &[Option<Tensor>],
        lr: f64,
        grad_divisor: f64,
    ) -> Result<StepInfo> {
        if grads.len() != vars.len() {
            bail!(
                "adamw: {} gradients for {} variables",
                grads.len(),
                vars.len()
            );
        }
        let raw_norm = Self::grad_norm(grads)? / grad_divisor;
        if !raw_norm.is_finite() {
            return Ok(StepInfo {
                grad_norm: raw_norm,
                clipped: false,
                lr,
                applied: false,
            });
        }
        let clip = match self.cfg.max_grad_norm {
            Some(max) if raw_norm > max => max / (raw_norm + 1e-6),
            _ => 1.0,
        };
        let gscale = clip / grad_divisor;
        self.step += 1;
        let t = self.step as i32;
        let (b1, b2) = (self.cfg.beta1, self.cfg.beta2);
        let bc1 = 1.0 - b1.powi(t);
        let bc2 = 1.0 - b2.powi(t);
        let h = Hyper {
            lr: lr as f32,
            b1: b1 as f32,
            b2: b2 as f32,
            eps: self.cfg.eps as f32,
            wd: self.cfg.weight_decay as f32,
            bc1: bc1 as f32,
            bc2: bc2 as f32,
            gscale: gscale as f32,
        };
        for (((_, var), g), mom) in vars.iter().zip(grads).zip(self.moments.iter_mut()) {
            let Some(g) = g else { continue };
            match mom {
                Moments::Host { m, v } => {
                    let g = g.to_dtype(DType::F32)?.contiguous()?;
                    let op = FusedAdamW {
                        m: RefCell::new(m.as_mut_slice()),
                        v: RefCell::new(v.as_mut_slice()),
                        h,
                    };
                    var.as_tensor().inplace_op2(&g, &op)?;
                }
                Moments::Tensors { m, v, master } => {
                    #[cfg(feature = "cuda")]
                    {
                        use crate::ops::cuda;
                        let g = g.contiguous()?;
                        if cuda::applies(var.as_tensor(), master.as_ref(), &g, m, v) {
                            cuda::step(var.as_tensor(), master.as_ref(), &g, m, v, h)?;
                            continue;
                        }
                    }
                    let g = (g.to_dtype(DType::F32)? * gscale)?;
                    *m = ((&*m * b1)? + (&g * (1.0 - b1))?)?;
                    *v = ((&*v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
                    let upd = ((&*m / bc1)? / ((&*v / bc2)?.sqrt()? + self.cfg.eps)?)?;
                    let p = match master {
                        Some(w) => w.clone(),
                        None => var.as_tensor().to_dtype(DType::F32)?,
                    };
                    let p = ((p * (1.0 - lr * self.cfg.weight_decay))? - (upd * lr)?)?;
                    var.set(&p.to_dtype(var.dtype())?)?;
                    if let Some(w) = master {
                        *w = p;
                    }
                }
            }
        }
        Ok(StepInfo {
            grad_norm: raw_norm,
            clipped: clip < 1.0,
            lr,
            applied: true,
        })
    }

    /// The f32 master copy the optimizer keeps of variable `i` (one not stored in f32).
    pub fn master(&self, i: usize) -> Option<&Tensor> {
        match self.moments.get(i)? {
            Moments::Tensors { master, .. } => master.as_ref(),
            Moments::Host { .. } => None,
        }
    }

    /// The moments as named tensors (`<var>.exp_avg`, `<var>.exp_avg_sq`, and `<var>.master`
    /// for a parameter with an f32 master copy) for checkpoints.
    pub fn state_tensors(&self, vars: &[(String, Var)]) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        for ((name, var), mom) in vars.iter().zip(&self.moments) {
            let (m, v) = match mom {
                Moments::Host { m, v } => (
                    Tensor::from_slice(m, var.shape(), &Device::Cpu)?,
                    Tensor::from_slice(v, var.shape(), &Device::Cpu)?,
                ),
                Moments::Tensors { m, v, master } => {
                    if let Some(w) = master {
                        out.insert(format!("{name}.master"), w.to_device(&Device::Cpu)?);
                    }
                    (m.to_device(&Device::Cpu)?, v.to_device(&Device::Cpu)?)
                }
            };
            out.insert(format!("{name}.exp_avg"), m);
            out.insert(format!("{name}.exp_avg_sq"), v);
        }
        Ok(out)
    }

    /// Restore moments saved by [`AdamW::state_tensors`]; call it after the parameters are
    /// loaded: a master copy the checkpoint lacks (an f32 run's) is made from them.
    pub fn load_state_tensors(
        &mut self,
        vars: &[(String, Var)],
        t: &HashMap<String, Tensor>,
        step: u64,
        source: &str,
    ) -> Result<()> {
        for ((name, var), mom) in vars.iter().zip(self.moments.iter_mut()) {
            let get = |k: String| -> Result<Tensor> {
                let x = t
                    .get(&k)
                    .with_context(|| format!("{source}: missing optimizer tensor `{k}`"))?;
                if x.dims() != var.dims() {
                    bail!(
                        "{source}: optimizer tensor `{k}` has shape {:?}, expected {:?}",
                        x.dims(),
                        var.dims()
                    );
                }
                Ok(x.to_dtype(DType::F32)?)
            };
            let (m, v) = (
                get(format!("{name}.exp_avg"))?,
                get(format!("{name}.exp_avg_sq"))?,
            );
            *mom = match mom {
                Moments::Host { .. } => Moments::Host {
                    m: m.flatten_all()?.to_vec1()?,
                    v: v.flatten_all()?.to_vec1()?,
                },
                Moments::Tensors { .. } => Moments::Tensors {
                    m: m.to_device(var.device())?,
                    v: v.to_device(var.device())?,
                    master: match (
                        Self::master_of(var)?,
                        t.contains_key(&format!("{name}.master")),
                    ) {
                        (Some(_), true) => Some(
                            get(format!("{name}.master"))?
                                .to_device(var.device())?
                                .contiguous()?,
                        ),
                        (fresh, _) => fresh,
                    },
                },
            };
        }
        self.step = step;
        Ok(())
    }
}
