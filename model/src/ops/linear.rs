//! `x Wᵀ` for a frozen `W`: the backward returns the gradient of `x` only. candle's matmul
//! backward computes the gradient of both operands, which for LoRA meant computing and keeping a
//! full-size gradient for every frozen weight.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CudaStorage, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// `x Wᵀ` as one graph node. With `weight_grad`, the backward also writes `dW = gᵀ x` in `W`'s
/// own `(N, K)` layout: through candle's `x.matmul(&w.t())` the weight gradient arrives as the
/// transpose of a `(K, N)` product, and adding that view into `W`'s gradient buffer reads it
/// with a stride of a row per element (on an H100 those uncoalesced adds were a large share of
/// a 1.5B model's backward). Without it (a frozen `W`) only `dx` is computed.
struct MatmulT {
    weight_grad: bool,
}

/// The frozen case, for the LoRA layer's forward.
const FROZEN: MatmulT = MatmulT { weight_grad: false };

fn dims(l1: &Layout, l2: &Layout) -> Result<(usize, usize, usize)> {
    let (m, k) = l1.shape().dims2()?;
    let (n, k2) = l2.shape().dims2()?;
    if k != k2 {
        candle_core::bail!("matmul-t: x is {m}x{k} but W is {n}x{k2}");
    }
    Ok((m, n, k))
}

impl CustomOp2 for MatmulT {
    fn name(&self) -> &'static str {
        if self.weight_grad {
            "matmul-t"
        } else {
            "frozen-matmul-t"
        }
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
        if m <= crate::ops::cpu::SMALL_M {
            if let (CpuStorage::F32(x), CpuStorage::F32(w)) = (s1, s2) {
                if let (Some((x0, x1)), Some((w0, w1))) =
                    (l1.contiguous_offsets(), l2.contiguous_offsets())
                {
                    let y = crate::ops::cpu::matmul_t_small_m(&x[x0..x1], &w[w0..w1], m, n, k);
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
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dw = if self.weight_grad {
            Some(grad.t()?.matmul(x)?)
        } else {
            None
        };
        Ok((Some(grad.matmul(w)?), dw))
    }
}

/// `x Wᵀ` with `x: (M, K)`, `W: (N, K)`, differentiable in both; the weight's gradient comes
/// out in the weight's layout (see [`MatmulT`]).
pub fn matmul_t(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    x.apply_op2(w, MatmulT { weight_grad: true })
}

/// `x Wᵀ` with `x: (M, K)`, `W: (N, K)`; no gradient flows to `W`.
pub fn frozen_matmul_t(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    x.apply_op2(w, FROZEN)
}

/// `y = x Wᵀ + b + scale · (x Aᵀ) Bᵀ`: a frozen linear layer with a LoRA adapter, as one node
/// of candle's graph, for `x` of any rank (leading axes are rows).
///
/// Composed from candle ops the same layer was about eight graph nodes (the reshapes in and
/// out, the two adapter matmuls, the scaling, the sum), and candle's backward gives every node
/// a zero gradient buffer that the incoming gradient is added to: two extra passes over a
/// `rows × features` tensor per node. Here the forward writes the value into one buffer and
/// the backward is written out:
/// `dx = g W + scale · (g B) A`, `dA = scale · (g B)ᵀ x`, `dB = scale · gᵀ (x Aᵀ)`.
struct LoraLinear {
    w: Tensor,
    bias: Option<Tensor>,
    scale: f64,
    /// `scale · x Aᵀ` from the forward, `(rows, r)`, for `dB = gᵀ (scale · x Aᵀ)` in the
    /// backward (a skinny product the backward would otherwise compute again).
    xa: std::sync::Mutex<Option<Tensor>>,
}

fn rows_of(t: &Tensor) -> Result<Tensor> {
    let k = t.dim(candle_core::D::Minus1)?;
    t.reshape(((), k))
}

impl candle_core::CustomOp3 for LoraLinear {
    fn name(&self) -> &'static str {
        "lora-linear"
    }
    /// `x Wᵀ + b + ((scale · x Aᵀ) Bᵀ)` into one fresh buffer: three GEMMs and one pass.
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sa: &CpuStorage,
        la: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let dims = lx.shape().dims();
        let k = dims.last().copied().unwrap_or(0);
        if k == 0 || !lx.is_contiguous() {
            candle_core::bail!(
                "lora-linear: contiguous input with features expected, got {:?}",
                lx.shape()
            );
        }
        let m = lx.shape().elem_count() / k;
        let lx2 = Layout::contiguous_with_offset((m, k), lx.start_offset());
        let (ws, wl) = self.w.storage_and_layout();
        let candle_core::Storage::Cpu(ws) = &*ws else {
            candle_core::bail!("lora-linear: weight not on the CPU");
        };
        let (n, _) = wl.shape().dims2()?;
        let (r, _) = la.shape().dims2()?;
        // The base layer exactly as without the adapter (so B = 0 gives the base model bit
        // for bit; a few rows take the small-M kernel).
        let (y, _) = FROZEN.cpu_fwd(sx, &lx2, ws, wl)?;
        let mut xa = sx.matmul(sa, (1, m, r, k), &lx2, &la.transpose(0, 1)?)?;
        let scale = self.scale as f32;
        let (CpuStorage::F32(xa_v), CpuStorage::F32(mut y_v)) = (&mut xa, y) else {
            candle_core::bail!("lora-linear: f32 only");
        };
        xa_v.iter_mut().for_each(|v| *v *= scale);
        let d = xa.matmul(
            sb,
            (1, m, n, r),
            &Layout::contiguous((m, r)),
            &lb.transpose(0, 1)?,
        )?;
        let CpuStorage::F32(d) = d else {
            candle_core::bail!("lora-linear: f32 only");
        };
        if let (CpuStorage::F32(xa_v), Ok(mut keep)) = (xa, self.xa.lock()) {
            *keep = Some(Tensor::from_vec(xa_v, (m, r), &candle_core::Device::Cpu)?);
        }
        match &self.bias {
            Some(bias) => {
                let bias = bias.to_vec1::<f32>()?;
                y_v.par_chunks_mut(n)
                    .zip(d.par_chunks(n))
                    .for_each(|(yr, dr)| {
                        for ((y, d), b) in yr.iter_mut().zip(dr).zip(&bias) {
                            *y += d + b;
                        }
                    });
            }
            None => y_v
                .par_iter_mut()
                .zip(d.par_iter())
                .for_each(|(y, d)| *y += d),
        }
        let mut out = dims.to_vec();
        if let Some(last) = out.last_mut() {
            *last = n;
        }
        Ok((CpuStorage::F32(y_v), Shape::from(out)))
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
        let kept = self.xa.lock().ok().and_then(|mut k| k.take());
        let db = b
            .track_op()
            .then(|| match kept {
                Some(xa) => g2.t()?.matmul(&xa),
                None => g2.t()?.matmul(&(x2.matmul(&ad.t()?)? * self.scale)?),
            })
            .transpose()?;
        Ok((dx, da, db))
    }
}

/// The LoRA layer `x Wᵀ + b + scale · (x Aᵀ) Bᵀ` for a frozen `W` (and bias), differentiable
/// in `x`, `A` and `B`, as one graph node: CPU, f32 ([`lora_linear_fits`]), no dropout (the
/// caller composes the layer from candle ops otherwise).
pub fn lora_linear(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    a: &Tensor,
    b: &Tensor,
    scale: f64,
) -> Result<Tensor> {
    x.contiguous()?.apply_op3(
        a,
        b,
        LoraLinear {
            w: w.detach(),
            bias: bias.map(|b| b.detach()),
            scale,
            xa: std::sync::Mutex::new(None),
        },
    )
}

/// Whether [`lora_linear`] takes these tensors: all on the CPU in f32.
pub fn lora_linear_fits(ts: &[&Tensor]) -> bool {
    ts.iter()
        .all(|t| t.device().is_cpu() && t.dtype() == candle_core::DType::F32)
}

/// `x Wᵀ` where `W` is the first `rows` rows of the buffer that `first` is a view into: the
/// projections that read one input (q/k/v, gate/up) packed into one `(rows, K)` weight whose
/// projections hold views of it ([`crate::block::Packed`]). candle gives a custom op the whole
/// storage behind a tensor, so the op reads the packed weight through the first projection's
/// view without a tensor of its own: nothing but the views keeps the buffer alive, and once the
/// projections hold other weights it is freed.
struct PackedMatmulT {
    rows: usize,
}

impl PackedMatmulT {
    /// The packed weight's layout: `rows` rows from the view's first element.
    fn layout(&self, l: &Layout) -> Result<Layout> {
        let (_, k) = l.shape().dims2()?;
        if !l.is_contiguous() {
            candle_core::bail!("packed-matmul-t: the weight view is not contiguous");
        }
        Ok(Layout::contiguous_with_offset(
            (self.rows, k),
            l.start_offset(),
        ))
    }
}

/// The number of elements of a CPU buffer (any dtype).
fn cpu_elems(s: &CpuStorage) -> usize {
    match s {
        CpuStorage::F32(v) => v.len(),
        CpuStorage::F64(v) => v.len(),
        CpuStorage::BF16(v) => v.len(),
        CpuStorage::F16(v) => v.len(),
        _ => 0,
    }
}

impl CustomOp2 for PackedMatmulT {
    fn name(&self) -> &'static str {
        "packed-matmul-t"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let wl = self.layout(l2)?;
        if wl.start_offset() + wl.shape().elem_count() > cpu_elems(s2) {
            candle_core::bail!(
                "packed-matmul-t: {} rows from offset {} run past the weight buffer",
                self.rows,
                wl.start_offset()
            );
        }
        FROZEN.cpu_fwd(s1, l1, s2, &wl)
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let wl = self.layout(l2)?;
        #[cfg(feature = "cuda")]
        {
            let len = match s2.dtype() {
                candle_core::DType::F32 => s2.as_cuda_slice::<f32>()?.len(),
                candle_core::DType::BF16 => s2.as_cuda_slice::<half::bf16>()?.len(),
                candle_core::DType::F16 => s2.as_cuda_slice::<half::f16>()?.len(),
                other => candle_core::bail!("packed-matmul-t: {other:?} weights"),
            };
            if wl.start_offset() + wl.shape().elem_count() > len {
                candle_core::bail!(
                    "packed-matmul-t: {} rows from offset {} run past the weight buffer",
                    self.rows,
                    wl.start_offset()
                );
            }
        }
        FROZEN.cuda_fwd(s1, l1, s2, &wl)
    }
}

/// `x P ᵀ` with `x: (M, K)` and `P` the packed `(rows, K)` weight whose first rows `first` is a
/// view of; no gradient. The caller guarantees that the buffer behind `first` holds the packed
/// weight from `first`'s first element on (the ids check of [`crate::block::Packed`]); a
/// buffer too short for `rows` rows is an error, not a read past its end.
pub fn packed_matmul_t(x: &Tensor, first: &Tensor, rows: usize) -> Result<Tensor> {
    x.apply_op2_no_bwd(first, &PackedMatmulT { rows })
}
