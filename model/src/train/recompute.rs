//! Gradient checkpointing (recomputation; saving a run is [`super::checkpoint`]): a block keeps
//! only its input for the backward and recomputes its activations there. The block's output is its value (computed without a graph) plus a zero
//! whose backward re-runs the block with a graph, backpropagates the incoming gradient through
//! it, returns the input's gradient to candle and hands the parameters' gradients to
//! [`SideGrads`], which the trainer adds to candle's own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use candle_core::backend::{BackendDevice, BackendStorage};
use candle_core::{CpuStorage, CudaStorage, CustomOp1, Layout, Shape, Tensor, TensorId, Var};

use crate::block::{Block, BlockCtx};

/// Parameter gradients produced inside checkpointed backwards, by tensor id.
#[derive(Clone, Debug, Default)]
pub struct SideGrads {
    inner: Arc<Mutex<HashMap<TensorId, Tensor>>>,
}

impl SideGrads {
    fn add(&self, id: TensorId, g: Tensor) -> candle_core::Result<()> {
        let mut m = self
            .inner
            .lock()
            .map_err(|_| candle_core::Error::Msg("side grads poisoned".into()))?;
        let v = match m.remove(&id) {
            Some(acc) => (acc + g)?,
            None => g,
        };
        m.insert(id, v);
        Ok(())
    }

    /// Take the gradient collected for a tensor (and forget it).
    pub fn take(&self, t: &Tensor) -> Option<Tensor> {
        self.inner.lock().ok()?.remove(&t.id())
    }

    pub fn clear(&self) {
        if let Ok(mut m) = self.inner.lock() {
            m.clear();
        }
    }
}

struct Recompute {
    block: Block,
    ctx: BlockCtx,
    side: SideGrads,
    rng_before: Option<(Arc<Mutex<crate::rng::Rng>>, crate::rng::Rng)>,
}

impl CustomOp1 for Recompute {
    fn name(&self) -> &'static str {
        "checkpointed-block"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        Ok((
            s.device().zeros_impl(l.shape(), s.dtype())?,
            l.shape().clone(),
        ))
    }
    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> candle_core::Result<(CudaStorage, Shape)> {
        Ok((
            s.device().zeros_impl(l.shape(), s.dtype())?,
            l.shape().clone(),
        ))
    }
    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let err = |e: anyhow::Error| candle_core::Error::Msg(format!("{e:#}"));
        // Replay the same dropout masks as the forward drew.
        let after = match &self.rng_before {
            Some((rng, before)) => {
                let mut r = rng
                    .lock()
                    .map_err(|_| candle_core::Error::Msg("rng poisoned".into()))?;
                Some(std::mem::replace(&mut *r, before.clone()))
            }
            None => None,
        };
        let xv = Var::from_tensor(&x.detach())?;
        let out = self
            .block
            .forward(xv.as_tensor(), &self.ctx, None)
            .map_err(err)?;
        let gs = (out * grad.detach())?.sum_all()?.backward()?;
        if let (Some((rng, _)), Some(after)) = (&self.rng_before, after) {
            if let Ok(mut r) = rng.lock() {
                *r = after;
            }
        }
        for t in self.block.tensors() {
            if t.is_variable() {
                if let Some(g) = gs.get(t) {
                    self.side.add(t.id(), g.detach())?;
                }
            }
        }
        Ok(gs.get(xv.as_tensor()).map(|g| g.detach()))
    }
}

/// Run `block` on `x` keeping only `x` for the backward.
pub fn recomputed_block(
    block: &Block,
    x: &Tensor,
    ctx: BlockCtx,
    side: &SideGrads,
) -> Result<Tensor> {
    let rng_before = match block.dropout_rng() {
        Some(rng) => {
            let s = rng
                .lock()
                .map_err(|_| anyhow::anyhow!("rng poisoned"))?
                .clone();
            Some((rng, s))
        }
        None => None,
    };
    // Detached: trainable parameters would otherwise put the whole block in the graph again
    // (the graph built here is dropped at once).
    let value = block.forward(&x.detach(), &ctx, None)?.detach();
    // The op must be in the graph even when nothing before this block trains (LoRA: the
    // embeddings are frozen), so that the block's own parameters get their gradients.
    let x_in = if x.track_op() {
        x.clone()
    } else {
        Var::from_tensor(x)?.as_tensor().clone()
    };
    let op = Recompute {
        block: block.clone(),
        ctx,
        side: side.clone(),
        rng_before,
    };
    Ok((value + x_in.apply_op1(op)?)?)
}
