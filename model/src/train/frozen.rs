//! `x Wᵀ` for a frozen `W`: the backward returns the gradient of `x` only. candle's matmul
//! backward computes the gradient of both operands, which for LoRA meant computing and keeping a
//! full-size gradient for every frozen weight.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CudaStorage, CustomOp2, Layout, Result, Shape, Tensor};

struct FrozenMatmulT;

fn dims(l1: &Layout, l2: &Layout) -> Result<(usize, usize, usize)> {
    let (m, k) = l1.shape().dims2()?;
    let (n, k2) = l2.shape().dims2()?;
    if k != k2 {
        candle_core::bail!("frozen matmul: x is {m}x{k} but W is {n}x{k2}");
    }
    Ok((m, n, k))
}

impl CustomOp2 for FrozenMatmulT {
    fn name(&self) -> &'static str {
        "frozen-matmul-t"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (m, n, k) = dims(l1, l2)?;
        // A decode step (a few rows): stream the weight once instead of packing it for GEMM.
        if m <= crate::kernels::SMALL_M {
            if let (CpuStorage::F32(x), CpuStorage::F32(w)) = (s1, s2) {
                if let (Some((x0, x1)), Some((w0, w1))) =
                    (l1.contiguous_offsets(), l2.contiguous_offsets())
                {
                    let y = crate::kernels::matmul_t_small_m(&x[x0..x1], &w[w0..w1], m, n, k);
                    return Ok((CpuStorage::F32(y), Shape::from((m, n))));
                }
            }
        }
        let out = s1.matmul(s2, (1, m, n, k), l1, &l2.transpose(0, 1)?)?;
        Ok((out, Shape::from((m, n))))
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let (m, n, k) = dims(l1, l2)?;
        let out = s1.matmul(s2, (1, m, n, k), l1, &l2.transpose(0, 1)?)?;
        Ok((out, Shape::from((m, n))))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(grad.matmul(w)?), None))
    }
}

/// `x Wᵀ` with `x: (M, K)`, `W: (N, K)`; no gradient flows to `W`.
pub fn frozen_matmul_t(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    x.apply_op2(w, FrozenMatmulT)
}

/// `y = x Wᵀ + b + scale · (x Aᵀ) Bᵀ`: a frozen linear layer with a LoRA adapter, as one node
/// of candle's graph, for `x` of any rank (leading axes are rows).
///
/// Composed from candle ops the same layer was about eight graph nodes (the reshapes in and
/// out, the two adapter matmuls, the scaling, the sum), and candle's backward gives every node
/// a zero gradient buffer that the incoming gradient is added to: two extra passes over a
/// `rows × features` tensor per node. Here the value is computed without a graph and the
/// backward is written out:
/// `dx = g W + scale · (g B) A`, `dA = scale · (g B)ᵀ x`, `dB = scale · gᵀ (x Aᵀ)`.
struct LoraLinearGrad {
    w: Tensor,
    scale: f64,
    value: crate::train::ops::Value,
}

fn rows_of(t: &Tensor) -> Result<Tensor> {
    let k = t.dim(candle_core::D::Minus1)?;
    t.reshape(((), k))
}

impl candle_core::CustomOp3 for LoraLinearGrad {
    fn name(&self) -> &'static str {
        "lora-linear"
    }
    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.value.cpu()
    }
    fn cuda_fwd(
        &self,
        _: &CudaStorage,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        self.value.cuda()
    }
    #[allow(clippy::type_complexity)]
    fn bwd(
        &self,
        x: &Tensor,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        g: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (x2, g2) = (rows_of(&x.detach())?, rows_of(&g.detach().contiguous()?)?);
        let (ad, bd) = (a.detach(), b.detach());
        let gb = (g2.matmul(&bd)? * self.scale)?; // (rows, r)
        let dx = x
            .track_op()
            .then(|| -> Result<Tensor> {
                (g2.matmul(&self.w)? + gb.matmul(&ad)?)?.reshape(x.shape())
            })
            .transpose()?;
        let da = a.track_op().then(|| gb.t()?.matmul(&x2)).transpose()?;
        let db = b
            .track_op()
            .then(|| g2.t()?.matmul(&x2.matmul(&ad.t()?)?)? * self.scale)
            .transpose()?;
        Ok((dx, da, db))
    }
}

/// The LoRA layer `x Wᵀ + b + scale · (x Aᵀ) Bᵀ` for a frozen `W` (and bias), differentiable
/// in `x`, `A` and `B`, as one graph node. No dropout: the caller composes the layer from
/// candle ops when adapter dropout is on.
pub fn lora_linear(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    a: &Tensor,
    b: &Tensor,
    scale: f64,
) -> Result<Tensor> {
    let x = x.contiguous()?;
    let x2 = rows_of(&x.detach())?;
    let y = x2.apply_op2_no_bwd(w, &FrozenMatmulT)?;
    let y = match bias {
        Some(bias) => y.broadcast_add(&bias.detach())?,
        None => y,
    };
    let y = (y + (x2.matmul(&a.detach().t()?)?.matmul(&b.detach().t()?)? * scale)?)?;
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = w.dim(0)?;
    }
    let value = y.reshape(dims)?;
    if !(x.track_op() || a.track_op() || b.track_op()) {
        return Ok(value);
    }
    x.apply_op3(
        a,
        b,
        LoraLinearGrad {
            w: w.detach(),
            scale,
            value: crate::train::ops::Value::new(value),
        },
    )
}
