//! The layer ops: attention, RMSNorm, RoPE and SwiGLU with hand-written backwards. Training
//! uses them whole; generation's fused forward uses their values (SwiGLU, the attention
//! output) without a graph.
//!
//! candle has no backward for its fused softmax, RMSNorm and RoPE kernels, and the composite
//! forms that it can differentiate are slow and heavy: the composite attention kept about seven
//! `T × Tk` score tensors per layer alive for the backward (heaptrack, session 3), and each
//! composite op is another pass over memory with a thread-pool barrier.
//!
//! Each op here computes its value with the fused kernel generation uses, without a graph, and
//! hands it to candle as the output of a custom op whose backward is the op's derivative
//! written out. The graph then keeps only the op's inputs
//! (and, for attention, its output), and the backward recomputes what it needs:
//!
//! - attention: `P = softmax(Q Kᵀ · scale + mask)` once more (as flash attention does), then
//!   `dV = Pᵀ dY`, `dS = P ∘ (dY Vᵀ − rowsum(dY ∘ Y))`, `dQ = dS K · scale`, `dK = dSᵀ Q · scale`;
//! - RMSNorm `y = x · r · w` with `r = 1/√(mean(x²) + ε)`:
//!   `dx = r · (g∘w − x̂ · mean(g∘w∘x̂))`, `dw = Σ_rows g ∘ x̂` with `x̂ = x · r`;
//! - RoPE is a rotation, so its backward is the rotation by the opposite angle:
//!   RoPE of the gradient with `−sin`.
//!
//! The composite forms stay in [`reference`] as the definitions that tests compare with.

use candle_core::{
    CpuStorage, CudaStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Result, Shape,
    Storage, Tensor, D,
};
use rayon::prelude::*;

/// The value an op computed with the fused kernels, handed to candle as the op's output by its
/// forward (taken, so the graph does not keep a second reference to it).
struct Value(std::sync::Mutex<Option<Tensor>>);

impl Value {
    fn new(t: Tensor) -> Self {
        Value(std::sync::Mutex::new(Some(t)))
    }

    fn take(&self) -> Result<Tensor> {
        self.0
            .lock()
            .map_err(|_| candle_core::Error::Msg("op value poisoned".into()))?
            .take()
            .ok_or_else(|| candle_core::Error::Msg("op value taken twice".into()))
    }

    /// A copy of the value's storage, exactly its elements. (`try_clone` copies a whole
    /// buffer whatever the layout, so a view is first made into a buffer of its own. The
    /// values handed here are fresh op outputs, which own their buffer exactly.)
    fn storage(&self) -> Result<(Storage, Shape)> {
        let mut v = self.take()?;
        let exact = {
            let (st, l) = v.storage_and_layout();
            let whole = l.is_contiguous() && l.start_offset() == 0;
            match &*st {
                Storage::Cpu(c) => whole && cpu_len(c) == l.shape().elem_count(),
                _ => whole,
            }
        };
        if !exact {
            v = v.affine(1.0, 0.0)?;
        }
        let (st, l) = v.storage_and_layout();
        Ok((st.try_clone(l)?, l.shape().clone()))
    }

    fn cpu(&self) -> Result<(CpuStorage, Shape)> {
        match self.storage()? {
            (Storage::Cpu(c), sh) => Ok((c, sh)),
            _ => candle_core::bail!("op value is not on the CPU"),
        }
    }

    fn cuda(&self) -> Result<(CudaStorage, Shape)> {
        match self.storage()? {
            (Storage::Cuda(c), sh) => Ok((c, sh)),
            _ => candle_core::bail!("op value is not on a CUDA device"),
        }
    }
}

/// `cpu_fwd` and `cuda_fwd` of a gradient op: hand out the value computed beforehand.
macro_rules! value_forward {
    ($($s:ident $l:ident),+) => {
        fn cpu_fwd(&self, $($s: &CpuStorage, $l: &Layout),+) -> Result<(CpuStorage, Shape)> {
            self.value.cpu()
        }
        fn cuda_fwd(&self, $($s: &CudaStorage, $l: &Layout),+) -> Result<(CudaStorage, Shape)> {
            self.value.cuda()
        }
    };
}

fn cpu_len(c: &CpuStorage) -> usize {
    match c {
        CpuStorage::F32(v) => v.len(),
        CpuStorage::F64(v) => v.len(),
        CpuStorage::BF16(v) => v.len(),
        CpuStorage::F16(v) => v.len(),
        _ => usize::MAX,
    }
}

/// The CPU kernels of this module take f32 only.
fn cpu_f32(t: &Tensor) -> bool {
    t.device().is_cpu() && t.dtype() == DType::F32
}

/// Whether candle's graph reaches any of these tensors (so a gradient op is needed at all).
fn tracked(ts: &[&Tensor]) -> bool {
    ts.iter().any(|t| t.track_op())
}

/// The CUDA kernels of these ops ([`crate::ops::cuda`]), each returning `None` where they do
/// not apply (not CUDA, not f32/bf16, switched off with `RAIF_FUSED_OPS=0`, or a build without
/// the `cuda` feature): the caller then takes the composite path.
mod fused {
    use candle_core::{Result, Tensor};

    #[cfg(feature = "cuda")]
    use crate::ops::cuda;

    #[cfg(feature = "cuda")]
    fn err(e: anyhow::Error) -> candle_core::Error {
        candle_core::Error::Msg(format!("{e:#}"))
    }

    pub fn swiglu(g: &Tensor, u: &Tensor) -> Result<Option<Tensor>> {
        #[cfg(feature = "cuda")]
        if cuda::ops_apply(&[g, u]) {
            return cuda::swiglu(g, u).map(Some).map_err(err);
        }
        let _ = (g, u);
        Ok(None)
    }

    pub fn swiglu_bwd(g: &Tensor, u: &Tensor, dh: &Tensor) -> Result<Option<(Tensor, Tensor)>> {
        #[cfg(feature = "cuda")]
        if cuda::ops_apply(&[g, u, dh]) {
            return cuda::swiglu_bwd(g, u, dh).map(Some).map_err(err);
        }
        let _ = (g, u, dh);
        Ok(None)
    }

    pub fn rms_norm_bwd(
        x: &Tensor,
        w: &Tensor,
        g: &Tensor,
        eps: f64,
        want_dw: bool,
    ) -> Result<Option<(Tensor, Option<Tensor>)>> {
        #[cfg(feature = "cuda")]
        if cuda::ops_apply(&[x, w, g]) && w.elem_count() <= cuda::RMS_BWD_MAX_HIDDEN {
            return cuda::rms_norm_bwd(x, w, g, eps, want_dw)
                .map(Some)
                .map_err(err);
        }
        let _ = (x, w, g, eps, want_dw);
        Ok(None)
    }

    /// `s ← softmax(s + mask)` in place (`s` fresh, `(B, H, R, Tk)`; the mask holds one row
    /// per batch and query, `B · t · Tk`); `false` where the kernel does not apply.
    pub fn masked_softmax(s: &Tensor, mask: &Tensor, t: usize) -> Result<bool> {
        #[cfg(feature = "cuda")]
        if s.rank() == 4
            && t > 0
            && s.dim(2)? % t == 0
            && mask.elem_count() == s.dim(0)? * t * s.dim(3)?
        {
            let mask = mask.contiguous()?;
            if cuda::ops_apply(&[s, &mask]) {
                return cuda::masked_softmax_inplace(s, &mask, t)
                    .map(|()| true)
                    .map_err(err);
            }
        }
        let _ = (s, mask, t);
        Ok(false)
    }

    /// `dp ← p ∘ (dp − rowsum(dy ∘ y))` in place (`dp` fresh); `false` where it does not apply.
    pub fn softmax_bwd(dp: &Tensor, p: &Tensor, dy: &Tensor, y: &Tensor) -> Result<bool> {
        #[cfg(feature = "cuda")]
        if cuda::ops_apply(&[dp, p, dy, y]) {
            return cuda::softmax_bwd_inplace(dp, p, dy, y)
                .map(|()| true)
                .map_err(err);
        }
        let _ = (dp, p, dy, y);
        Ok(false)
    }
}

// ---------------------------------------------------------------------------------------------
// RoPE

struct RopeGrad {
    cos: Tensor,
    sin: Tensor,
    value: Value,
}

impl CustomOp1 for RopeGrad {
    fn name(&self) -> &'static str {
        "rope-grad"
    }
    value_forward!(_s _l);
    fn bwd(&self, _x: &Tensor, _res: &Tensor, g: &Tensor) -> Result<Option<Tensor>> {
        let g = g.detach().contiguous()?;
        let back = candle_nn::rotary_emb::rope(&g, &self.cos, &self.sin.neg()?)?;
        Ok(Some(back))
    }
}

/// Rotate-half RoPE of `x (B, H, T, D)` with per-row `cos`/`sin (B, T, D/2)`, differentiable in `x`.
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let x = x.contiguous()?;
    let value = candle_nn::rotary_emb::rope(&x.detach(), cos, sin)?;
    if !tracked(&[&x]) {
        return Ok(value);
    }
    x.apply_op1(RopeGrad {
        cos: cos.detach(),
        sin: sin.detach(),
        value: Value::new(value),
    })
}

// ---------------------------------------------------------------------------------------------
// RMSNorm

struct RmsNormGrad {
    eps: f64,
    value: Value,
}

impl CustomOp2 for RmsNormGrad {
    fn name(&self) -> &'static str {
        "rms-norm-grad"
    }
    value_forward!(_s1 _l1, _s2 _l2);
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (x, wd, g) = (x.detach(), w.detach(), g.detach().contiguous()?);
        let want_dw = w.track_op();
        let h = x.dim(D::Minus1)?;
        if let Some((dx, dw)) = fused::rms_norm_bwd(&x, &wd, &g, self.eps, want_dw)? {
            return Ok((Some(dx), dw));
        }
        if cpu_f32(&x) {
            // One pass per row; the weight gradient rides in an extra last row.
            let out = x.apply_op3_no_bwd(
                &wd,
                &g,
                &RmsNormBwdCpu {
                    eps: self.eps as f32,
                },
            )?;
            let n = x.elem_count() / h;
            let dx = out.narrow(0, 0, n)?.reshape(x.shape())?;
            let dw = want_dw
                .then(|| out.narrow(0, n, 1)?.reshape(h))
                .transpose()?;
            return Ok((Some(dx), dw));
        }
        let r = (x.sqr()?.mean_keepdim(D::Minus1)? + self.eps)?
            .sqrt()?
            .recip()?;
        let xhat = x.broadcast_mul(&r)?;
        let gw = g.broadcast_mul(&wd)?;
        let c = (&gw * &xhat)?.mean_keepdim(D::Minus1)?;
        let dx = (gw - xhat.broadcast_mul(&c)?)?.broadcast_mul(&r)?;
        let dw = want_dw
            .then(|| (&g * &xhat)?.reshape(((), h))?.sum(0))
            .transpose()?;
        Ok((Some(dx), dw))
    }
}

/// The RMSNorm backward on CPU in f32: `(x, w, g)` → `(N + 1, H)`, rows `0..N` the input
/// gradient, row `N` the weight gradient.
struct RmsNormBwdCpu {
    eps: f32,
}

/// Rows per parallel task of the RMSNorm backward (each task sums its own weight gradient).
const RMS_ROWS_PER_TASK: usize = 64;

impl CustomOp3 for RmsNormBwdCpu {
    fn name(&self) -> &'static str {
        "rms-norm-bwd"
    }
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(x), CpuStorage::F32(w), CpuStorage::F32(g)) = (sx, sw, sg) else {
            candle_core::bail!("rms-norm-bwd: f32 only");
        };
        let (Some((x0, x1)), Some((w0, w1)), Some((g0, g1))) = (
            lx.contiguous_offsets(),
            lw.contiguous_offsets(),
            lg.contiguous_offsets(),
        ) else {
            candle_core::bail!("rms-norm-bwd: inputs must be contiguous");
        };
        let (x, w, g) = (&x[x0..x1], &w[w0..w1], &g[g0..g1]);
        let h = w.len();
        if h == 0 || x.len() % h != 0 || g.len() != x.len() {
            candle_core::bail!(
                "rms-norm-bwd: shapes {:?} {:?} {:?}",
                lx.shape(),
                lw.shape(),
                lg.shape()
            );
        }
        let n = x.len() / h;
        let mut out = vec![0f32; (n + 1) * h];
        let (dx, _) = out.split_at_mut(n * h);
        let eps = self.eps;
        let partial: Vec<Vec<f32>> = dx
            .par_chunks_mut(RMS_ROWS_PER_TASK * h)
            .enumerate()
            .map(|(task, dxs)| {
                let mut dw = vec![0f32; h];
                let r0 = task * RMS_ROWS_PER_TASK;
                for (i, dxr) in dxs.chunks_exact_mut(h).enumerate() {
                    let row = (r0 + i) * h;
                    let (xr, gr) = (&x[row..row + h], &g[row..row + h]);
                    let ms = xr.iter().map(|v| v * v).sum::<f32>() / h as f32;
                    let r = 1.0 / (ms + eps).sqrt();
                    let mut c = 0f32;
                    for j in 0..h {
                        let xh = xr[j] * r;
                        c += gr[j] * w[j] * xh;
                        dw[j] += gr[j] * xh;
                    }
                    c /= h as f32;
                    for j in 0..h {
                        dxr[j] = r * (gr[j] * w[j] - xr[j] * r * c);
                    }
                }
                dw
            })
            .collect();
        let dw = &mut out[n * h..];
        for p in partial {
            dw.iter_mut().zip(p).for_each(|(a, b)| *a += b);
        }
        Ok((CpuStorage::F32(out), Shape::from((n + 1, h))))
    }
}

/// RMSNorm over the last axis, `x · w / √(mean(x²) + eps)`, differentiable in `x` and `w`.
pub fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> Result<Tensor> {
    let x = x.contiguous()?;
    let value = match x.dtype() {
        // candle's fused kernel has no f64 (the finite-difference tests run in f64).
        DType::F64 => reference::rms_norm(&x.detach(), &w.detach(), eps)?,
        _ => candle_nn::ops::rms_norm(&x.detach(), &w.detach(), eps as f32)?,
    };
    if !tracked(&[&x, w]) {
        return Ok(value);
    }
    x.apply_op2(
        w,
        RmsNormGrad {
            eps,
            value: Value::new(value),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// SwiGLU

/// Elements per parallel task of the SwiGLU kernels.
const SWIGLU_CHUNK: usize = 16 * 1024;

fn f32_slices<'a>(
    a: &'a CpuStorage,
    la: &Layout,
    b: &'a CpuStorage,
    lb: &Layout,
) -> Result<Option<(&'a [f32], &'a [f32])>> {
    match (a, b, la.contiguous_offsets(), lb.contiguous_offsets()) {
        (CpuStorage::F32(a), CpuStorage::F32(b), Some((a0, a1)), Some((b0, b1))) => {
            if a1 - a0 != b1 - b0 {
                candle_core::bail!("swiglu: shapes {:?} and {:?}", la.shape(), lb.shape());
            }
            Ok(Some((&a[a0..a1], &b[b0..b1])))
        }
        _ => Ok(None),
    }
}

/// `silu(g) · u` in one pass (CPU, f32, contiguous).
struct SwiGluCpu;

impl CustomOp2 for SwiGluCpu {
    fn name(&self) -> &'static str {
        "swiglu"
    }
    fn cpu_fwd(
        &self,
        sg: &CpuStorage,
        lg: &Layout,
        su: &CpuStorage,
        lu: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let Some((g, u)) = f32_slices(sg, lg, su, lu)? else {
            candle_core::bail!("swiglu: f32, contiguous inputs only");
        };
        let mut out = vec![0f32; g.len()];
        out.par_chunks_mut(SWIGLU_CHUNK)
            .zip(g.par_chunks(SWIGLU_CHUNK).zip(u.par_chunks(SWIGLU_CHUNK)))
            .for_each(|(o, (g, u))| crate::ops::cpu::swiglu(g, u, o));
        Ok((CpuStorage::F32(out), lg.shape().clone()))
    }
}

/// The SwiGLU backward (CPU, f32): `(g, u, dh)` → `(2, N)`: `dg` then `du`.
struct SwiGluBwdCpu;

impl CustomOp3 for SwiGluBwdCpu {
    fn name(&self) -> &'static str {
        "swiglu-bwd"
    }
    fn cpu_fwd(
        &self,
        sg: &CpuStorage,
        lg: &Layout,
        su: &CpuStorage,
        lu: &Layout,
        sd: &CpuStorage,
        ld: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (Some((g, u)), Some((_, dh))) =
            (f32_slices(sg, lg, su, lu)?, f32_slices(sg, lg, sd, ld)?)
        else {
            candle_core::bail!("swiglu-bwd: f32, contiguous inputs only");
        };
        let n = g.len();
        let mut out = vec![0f32; 2 * n];
        let (dg, du) = out.split_at_mut(n);
        dg.par_chunks_mut(SWIGLU_CHUNK)
            .zip(du.par_chunks_mut(SWIGLU_CHUNK))
            .zip(g.par_chunks(SWIGLU_CHUNK).zip(u.par_chunks(SWIGLU_CHUNK)))
            .zip(dh.par_chunks(SWIGLU_CHUNK))
            .for_each(|(((dg, du), (g, u)), dh)| crate::ops::cpu::swiglu_bwd(g, u, dh, dg, du));
        Ok((CpuStorage::F32(out), Shape::from((2, n))))
    }
}

struct SwiGluGrad {
    value: Value,
}

impl CustomOp2 for SwiGluGrad {
    fn name(&self) -> &'static str {
        "swiglu-grad"
    }
    value_forward!(_s1 _l1, _s2 _l2);
    fn bwd(
        &self,
        g: &Tensor,
        u: &Tensor,
        _res: &Tensor,
        dh: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (gd, ud, dh) = (g.detach(), u.detach(), dh.detach().contiguous()?);
        let (dg, du) = if let Some(d) = fused::swiglu_bwd(&gd, &ud, &dh)? {
            d
        } else if cpu_f32(&gd) {
            let out = gd.apply_op3_no_bwd(&ud, &dh, &SwiGluBwdCpu)?;
            (
                out.get(0)?.reshape(g.shape())?,
                out.get(1)?.reshape(g.shape())?,
            )
        } else {
            let s = candle_nn::ops::sigmoid(&gd)?;
            let silu = (&gd * &s)?;
            let dsilu = (&s * ((&gd * (1.0 - &s)?)? + 1.0)?)?;
            ((&dh * &ud)?.mul(&dsilu)?, (&dh * silu)?)
        };
        Ok((g.track_op().then_some(dg), u.track_op().then_some(du)))
    }
}

/// The gated activation of the MLP, `silu(g) · u`, differentiable in both; one pass on CPU.
pub fn swiglu(g: &Tensor, u: &Tensor) -> Result<Tensor> {
    let (g, u) = (g.contiguous()?, u.contiguous()?);
    let value = if let Some(v) = fused::swiglu(&g.detach(), &u.detach())? {
        v
    } else if cpu_f32(&g) {
        g.detach().apply_op2_no_bwd(&u.detach(), &SwiGluCpu)?
    } else {
        reference::swiglu(&g.detach(), &u.detach())?
    };
    if !tracked(&[&g, &u]) {
        return Ok(value);
    }
    g.apply_op2(
        &u,
        SwiGluGrad {
            value: Value::new(value),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Attention

/// Scaled dot-product attention with grouped-query heads and an additive mask.
#[derive(Clone, Copy, Debug)]
pub struct AttnShape {
    pub n_kv: usize,
    pub n_rep: usize,
    pub scale: f64,
}

/// Attention probabilities `softmax(qs Kᵀ + mask)` for queries grouped by KV head,
/// `qs (B, n_kv, n_rep·T, D)` already scaled, `mask (B, 1, 1, T, Tk)`.
fn probs(qs: &Tensor, k: &Tensor, mask: &Tensor, n_rep: usize) -> Result<Tensor> {
    let s = qs.matmul(&k.t()?)?;
    if cpu_f32(&s) {
        // `s` is a fresh tensor that nothing else holds.
        s.inplace_op2(&mask.contiguous()?, &crate::ops::cpu::MaskedSoftmax)?;
        return Ok(s);
    }
    let (b, nkv, rows, tk) = s.dims4()?;
    // `s` is fresh here too.
    if fused::masked_softmax(&s, mask, rows / n_rep)? {
        return Ok(s);
    }
    let s = s
        .reshape((b, nkv, n_rep, rows / n_rep, tk))?
        .broadcast_add(mask)?
        .reshape((b, nkv, rows, tk))?;
    candle_nn::ops::softmax_last_dim(&s)
}

/// `q (B, n_head, T, D)` → `(B, n_kv, n_rep·T, D)`: the query heads sharing a KV head stacked
/// along the time axis, so one batched GEMM serves them all without copying K or V.
fn grouped(x: &Tensor, sh: AttnShape) -> Result<Tensor> {
    let (b, _, t, d) = x.dims4()?;
    x.contiguous()?.reshape((b, sh.n_kv, sh.n_rep * t, d))
}

/// `(B, n_kv, n_rep·T, D)` → `(B, T, n_head·D)`, the layout the output projection takes.
fn ungrouped(y: &Tensor, n_head: usize) -> Result<Tensor> {
    let (b, _, rows, d) = y.dims4()?;
    let t = rows / (n_head / y.dim(1)?);
    y.reshape((b, n_head, t, d))?
        .transpose(1, 2)?
        .reshape((b, t, n_head * d))
}

/// The inverse of [`ungrouped`].
fn regrouped(y: &Tensor, n_head: usize, sh: AttnShape) -> Result<Tensor> {
    let (b, t, hd) = y.dims3()?;
    let d = hd / n_head;
    grouped(&y.reshape((b, t, n_head, d))?.transpose(1, 2)?, sh)
}

struct AttnGrad {
    mask: Tensor,
    sh: AttnShape,
    value: Value,
}

impl CustomOp3 for AttnGrad {
    fn name(&self) -> &'static str {
        "attention-grad"
    }
    value_forward!(_s1 _l1, _s2 _l2, _s3 _l3);
    #[allow(clippy::type_complexity)]
    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let sh = self.sh;
        let n_head = q.dim(1)?;
        let (qd, kd, vd) = (q.detach(), k.detach(), v.detach());
        let qs = (grouped(&qd, sh)? * sh.scale)?;
        let g = regrouped(&g.detach(), n_head, sh)?;
        // The output `Y`, for `rowsum(dY ∘ Y)`.
        let y = regrouped(&res.detach(), n_head, sh)?;
        let p = probs(&qs, &kd, &self.mask, sh.n_rep)?;
        let dv = v.track_op().then(|| p.t()?.matmul(&g)).transpose()?;
        let dp = g.matmul(&vd.t()?)?;
        let ds = if fused::softmax_bwd(&dp, &p, &g, &y)? {
            dp
        } else {
            let delta = (&g * &y)?.sum_keepdim(D::Minus1)?;
            if cpu_f32(&p) {
                dp.inplace_op3(&p, &delta, &SoftmaxBwdCpu)?;
                dp
            } else {
                (dp.broadcast_sub(&delta)? * &p)?
            }
        };
        drop(p);
        let dq = if q.track_op() {
            let dq = (ds.matmul(&kd)? * sh.scale)?;
            let (b, _, t, d) = qd.dims4()?;
            Some(dq.reshape((b, n_head, t, d))?)
        } else {
            None
        };
        let dk = k.track_op().then(|| ds.t()?.matmul(&qs)).transpose()?;
        Ok((dq, dk, dv))
    }
}

/// `dP ← P ∘ (dP − δ)` in place, row by row (CPU, f32, contiguous): the softmax backward.
struct SoftmaxBwdCpu;

impl candle_core::InplaceOp3 for SoftmaxBwdCpu {
    fn name(&self) -> &'static str {
        "softmax-bwd"
    }
    fn cpu_fwd(
        &self,
        sd: &mut CpuStorage,
        ld: &Layout,
        sp: &CpuStorage,
        lp: &Layout,
        sdl: &CpuStorage,
        ldl: &Layout,
    ) -> Result<()> {
        let (CpuStorage::F32(d), CpuStorage::F32(p), CpuStorage::F32(delta)) = (sd, sp, sdl) else {
            candle_core::bail!("softmax-bwd: f32 only");
        };
        let (Some((d0, d1)), Some((p0, p1)), Some((e0, e1))) = (
            ld.contiguous_offsets(),
            lp.contiguous_offsets(),
            ldl.contiguous_offsets(),
        ) else {
            candle_core::bail!("softmax-bwd: inputs must be contiguous");
        };
        let tk = ld.shape().dims().last().copied().unwrap_or(1).max(1);
        let (d, p, delta) = (&mut d[d0..d1], &p[p0..p1], &delta[e0..e1]);
        if p.len() != d.len() || delta.len() * tk != d.len() {
            candle_core::bail!(
                "softmax-bwd: shapes {:?} {:?} {:?}",
                ld.shape(),
                lp.shape(),
                ldl.shape()
            );
        }
        d.par_chunks_mut(tk)
            .zip(p.par_chunks(tk))
            .zip(delta.par_iter())
            .for_each(|((dr, pr), &e)| {
                dr.iter_mut()
                    .zip(pr)
                    .for_each(|(x, &pv)| *x = pv * (*x - e));
            });
        Ok(())
    }
}

/// Query positions per block of the block-causal prefill attention.
const CAUSAL_BLOCK: usize = 128;

/// Prefill attention (CPU, f32, no gradient) in blocks of query positions: a block of queries
/// `[i0, i1)` can only see the key columns before `cached + i1`, so the scores and the
/// weighted sum of each block stop there. With no cache this skips close to half of the
/// attention arithmetic (the masked upper triangle). The mask still applies inside a block,
/// so padding and causality are exactly those of the full computation.
///
/// `q (B, n_head, T, D)`, `k`/`v (B, n_kv, Tk, D)`, `mask (B, …, T, Tk)`; returns `(B, T, n_head·D)`.
fn causal_blocks(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Tensor,
    sh: AttnShape,
) -> Result<Tensor> {
    let AttnShape {
        n_kv: nkv,
        n_rep,
        scale,
    } = sh;
    let (b, nh, t, hd) = q.dims4()?;
    let tk = k.dim(2)?;
    let cached = tk - t;
    // The mask's last two axes are (query, key); leading ones are broadcast axes.
    let mr = mask.rank();
    // Queries grouped by their KV head: (B, n_kv, n_rep, T, D).
    let q = (q.contiguous()?.reshape((b, nkv, n_rep, t, hd))? * scale)?;
    let mut ys = Vec::with_capacity(t.div_ceil(CAUSAL_BLOCK));
    let mut i0 = 0;
    while i0 < t {
        let len = CAUSAL_BLOCK.min(t - i0);
        let kl = cached + i0 + len;
        let qb = q
            .narrow(3, i0, len)?
            .contiguous()?
            .reshape((b, nkv, n_rep * len, hd))?;
        let kb = k.narrow(2, 0, kl)?;
        let vb = v.narrow(2, 0, kl)?;
        let mb = mask
            .narrow(mr - 2, i0, len)?
            .narrow(mr - 1, 0, kl)?
            .contiguous()?;
        let att = qb.matmul(&kb.t()?)?; // (B, n_kv, n_rep·len, kl)
        att.inplace_op2(&mb, &crate::ops::cpu::MaskedSoftmax)?;
        ys.push(att.matmul(&vb)?.reshape((b, nkv, n_rep, len, hd))?);
        i0 += len;
    }
    let y = Tensor::cat(&ys, 3)?; // (B, n_kv, n_rep, T, D)
    ungrouped(&y.reshape((b, nkv, n_rep * t, hd))?, nh)
}

/// Attention output without a graph: the fused kernels of generation. On CPU in f32, long
/// prefills go by blocks of queries that skip the masked upper triangle
/// ([`causal_blocks`]); otherwise one masked softmax per score row.
pub(crate) fn attention_value(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Tensor,
    sh: AttnShape,
) -> Result<Tensor> {
    let (n_head, t) = (q.dim(1)?, q.dim(2)?);
    if cpu_f32(q) && t >= 2 * CAUSAL_BLOCK {
        return causal_blocks(q, k, v, mask, sh);
    }
    let qs = (grouped(q, sh)? * sh.scale)?;
    let p = probs(&qs, k, mask, sh.n_rep)?;
    ungrouped(&p.matmul(v)?, n_head)
}

/// `softmax(q Kᵀ · scale + mask) V` with `q (B, n_head, T, D)`, `k`/`v (B, n_kv, Tk, D)`,
/// `mask (B, 1, 1, T, Tk)`; returns `(B, T, n_head·D)`, differentiable in `q`, `k` and `v`.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Tensor,
    sh: AttnShape,
) -> Result<Tensor> {
    let (q, k, v) = (q.contiguous()?, k.contiguous()?, v.contiguous()?);
    let value = attention_value(&q.detach(), &k.detach(), &v.detach(), mask, sh)?;
    if !tracked(&[&q, &k, &v]) {
        return Ok(value);
    }
    q.apply_op3(
        &k,
        &v,
        AttnGrad {
            mask: mask.detach(),
            sh,
            value: Value::new(value),
        },
    )
}

/// The composite forms candle differentiates by itself: the definitions the ops above are
/// tested against.
pub mod reference {
    use super::*;

    pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let half = x.dim(D::Minus1)? / 2;
        let cos = Tensor::cat(&[cos, cos], D::Minus1)?.unsqueeze(1)?;
        let sin = Tensor::cat(&[sin, sin], D::Minus1)?.unsqueeze(1)?;
        let x1 = x.narrow(D::Minus1, 0, half)?;
        let x2 = x.narrow(D::Minus1, half, half)?;
        let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
        x.broadcast_mul(&cos)? + rotated.broadcast_mul(&sin)?
    }

    pub fn swiglu(g: &Tensor, u: &Tensor) -> Result<Tensor> {
        candle_nn::ops::silu(g)? * u
    }

    pub fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> Result<Tensor> {
        candle_nn::ops::rms_norm_slow(x, w, eps as f32)
    }

    pub fn attention(
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: &Tensor,
        sh: AttnShape,
    ) -> Result<Tensor> {
        let n_head = q.dim(1)?;
        let q = grouped(q, sh)?;
        let (b, nkv, rows, _) = q.dims4()?;
        let tk = k.dim(2)?;
        let s = (q.matmul(&k.t()?)? * sh.scale)?
            .reshape((b, nkv, sh.n_rep, rows / sh.n_rep, tk))?
            .broadcast_add(mask)?
            .reshape((b, nkv, rows, tk))?;
        let p = candle_nn::ops::softmax(&s, D::Minus1)?;
        ungrouped(&p.matmul(v)?, n_head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_is_a_view_hands_out_exactly_its_elements() {
        let t = Tensor::arange(0f32, 12., &candle_core::Device::Cpu)
            .and_then(|t| t.reshape((3, 4)))
            .expect("tensor");
        for (view, want) in [
            (
                t.narrow(0, 1, 2).expect("narrow"),
                (4..12).map(|v| v as f32).collect::<Vec<_>>(),
            ),
            (
                t.narrow(0, 0, 1).expect("narrow"),
                (0..4).map(|v| v as f32).collect(),
            ),
            (
                t.t().expect("t"),
                vec![0., 4., 8., 1., 5., 9., 2., 6., 10., 3., 7., 11.],
            ),
        ] {
            let (st, shape) = Value::new(view.clone()).cpu().expect("value");
            assert_eq!(shape, *view.shape());
            let CpuStorage::F32(v) = st else {
                panic!("f32 expected")
            };
            assert_eq!(v, want);
        }
    }
}
