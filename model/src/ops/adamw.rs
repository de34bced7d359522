//! The fused AdamW update on the CPU: one in-place pass over each f32 parameter (parameter,
//! both moments and the gradient read once, split across threads), with the numbers of one
//! step ([`Hyper`]) that it shares with the CUDA kernel ([`crate::ops::cuda::step`]).
//! [`crate::train::optim`] decides which runs.

use std::cell::RefCell;

use candle_core::{CpuStorage, InplaceOp2, Layout};
use rayon::prelude::*;

/// The numbers of one AdamW step, as the fused kernels (CPU and CUDA) take them: learning
/// rate, betas, epsilon, weight decay, the two bias corrections and the gradient scale
/// (clipping over accumulation).
#[derive(Clone, Copy, Debug)]
pub struct Hyper {
    pub lr: f32,
    pub b1: f32,
    pub b2: f32,
    pub eps: f32,
    pub wd: f32,
    pub bc1: f32,
    pub bc2: f32,
    pub gscale: f32,
}

/// The update of one f32 parameter whose moments live in host memory.
pub(crate) struct FusedAdamW<'a> {
    pub m: RefCell<&'a mut [f32]>,
    pub v: RefCell<&'a mut [f32]>,
    pub h: Hyper,
}

const PAR_CHUNK: usize = 1 << 15;

impl InplaceOp2 for FusedAdamW<'_> {
    fn name(&self) -> &'static str {
        "fused-adamw"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (CpuStorage::F32(p), CpuStorage::F32(g)) = (s1, s2) else {
            candle_core::bail!("fused adamw: f32 parameters and gradients only");
        };
        let (Some((p0, p1)), Some((g0, g1))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            candle_core::bail!("fused adamw: contiguous tensors only");
        };
        let p = &mut p[p0..p1];
        let g = &g[g0..g1];
        let mut m = self.m.borrow_mut();
        let mut v = self.v.borrow_mut();
        if p.len() != g.len() || m.len() != p.len() || v.len() != p.len() {
            candle_core::bail!("fused adamw: size mismatch");
        }
        let Hyper {
            lr,
            b1,
            b2,
            eps,
            wd,
            bc1,
            bc2,
            gscale: gs,
        } = self.h;
        p.par_chunks_mut(PAR_CHUNK)
            .zip(m.par_chunks_mut(PAR_CHUNK))
            .zip(v.par_chunks_mut(PAR_CHUNK))
            .zip(g.par_chunks(PAR_CHUNK))
            .for_each(|(((p, m), v), g)| {
                for i in 0..p.len() {
                    let gi = g[i] * gs;
                    m[i] = b1 * m[i] + (1.0 - b1) * gi;
                    v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                    let upd = (m[i] / bc1) / ((v[i] / bc2).sqrt() + eps);
                    p[i] = p[i] * (1.0 - lr * wd) - lr * upd;
                }
            });
        Ok(())
    }
}
