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
