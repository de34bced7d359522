//! Ops of generation's fused forward only (no backward; `ForwardPath::Fused`), where packing
//! saves passes over memory:
//!
//! - [`swiglu_packed`]: SwiGLU straight from the packed gate/up output `(rows, 2f)` (one matmul
//!   computed both), without first copying the two halves out;
//! - [`add_rms_norm`]: the residual add and the RMSNorm that follows it in one pass, giving both
//!   the new residual stream and its norm (a block's attention output into the post-attention
//!   norm, its MLP output into the next block's input norm or the final norm).
//!
//! On the CPU in f32 each is one kernel; on CUDA a kernel of [`crate::ops::cuda`] (where
//! `RAIF_FUSED_OPS` allows); anything else takes the composite of candle ops, which gives the
//! same values.

use candle_core::{CpuStorage, CustomOp1, CustomOp3, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

fn cpu_f32(t: &Tensor) -> bool {
    t.device().is_cpu() && t.dtype() == DType::F32
}

/// `silu(y[.., :f]) · y[.., f:]` for `y (rows, 2f)` (CPU, f32, contiguous) → `(rows, f)`.
struct SwiGluPackedCpu;

impl CustomOp1 for SwiGluPackedCpu {
    fn name(&self) -> &'static str {
        "swiglu-packed"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(y), Some((y0, y1))) = (s, l.contiguous_offsets()) else {
            candle_core::bail!("swiglu-packed: f32, contiguous input only");
        };
        let (rows, two_f) = l.shape().dims2()?;
        if two_f % 2 != 0 {
            candle_core::bail!("swiglu-packed: odd width {two_f}");
        }
        let f = two_f / 2;
        let mut out = vec![0f32; rows * f];
        if f > 0 {
            out.par_chunks_mut(f)
                .zip(y[y0..y1].par_chunks(two_f))
                .for_each(|(o, r)| crate::ops::cpu::swiglu(&r[..f], &r[f..], o));
        }
        Ok((CpuStorage::F32(out), Shape::from((rows, f))))
    }
}

/// SwiGLU of the packed gate/up output `y (rows, 2f)` (gate in the first `f` columns, up in
/// the last): `silu(gate) · up`, `(rows, f)`. No gradient.
pub fn swiglu_packed(y: &Tensor) -> Result<Tensor> {
    let (_, two_f) = y.dims2()?;
    if two_f % 2 != 0 {
        candle_core::bail!("swiglu-packed: odd width {two_f}");
    }
    let f = two_f / 2;
    let y = y.contiguous()?;
    if cpu_f32(&y) {
        return y.apply_op1_no_bwd(&SwiGluPackedCpu);
    }
    #[cfg(feature = "cuda")]
    if crate::ops::cuda::ops_apply(&[&y]) {
        return crate::ops::cuda_infer::swiglu_packed(&y)
            .map_err(|e| candle_core::Error::Msg(format!("{e:#}")));
    }
    crate::ops::layer::swiglu(&y.narrow(1, 0, f)?, &y.narrow(1, f, f)?)
}

/// `(x + h, rmsnorm(x + h) · w)` (CPU, f32, contiguous) → `(2, rows, H)`: the sum, then its
/// norm. The norm is candle's RMSNorm kernel's arithmetic (a sequential sum of squares, the
/// value divided by the root, times the weight), so both paths give the same bits.
struct AddRmsNormCpu {
    eps: f32,
}

impl CustomOp3 for AddRmsNormCpu {
    fn name(&self) -> &'static str {
        "add-rms-norm"
    }
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sh: &CpuStorage,
        lh: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(x), CpuStorage::F32(h), CpuStorage::F32(w)) = (sx, sh, sw) else {
            candle_core::bail!("add-rms-norm: f32 only");
        };
        let (Some((x0, x1)), Some((h0, h1)), Some((w0, w1))) = (
            lx.contiguous_offsets(),
            lh.contiguous_offsets(),
            lw.contiguous_offsets(),
        ) else {
            candle_core::bail!("add-rms-norm: inputs must be contiguous");
        };
        let (x, h, w) = (&x[x0..x1], &h[h0..h1], &w[w0..w1]);
        let dim = w.len();
        if dim == 0 || x.len() % dim != 0 || h.len() != x.len() {
            candle_core::bail!(
                "add-rms-norm: shapes {:?} {:?} {:?}",
                lx.shape(),
                lh.shape(),
                lw.shape()
            );
        }
        let n = x.len();
        let mut out = vec![0f32; 2 * n];
        let (sum, norm) = out.split_at_mut(n);
        let eps = self.eps;
        sum.par_chunks_mut(dim)
            .zip(norm.par_chunks_mut(dim))
            .zip(x.par_chunks(dim).zip(h.par_chunks(dim)))
            .for_each(|((s, o), (xr, hr))| {
                for ((s, &a), &b) in s.iter_mut().zip(xr).zip(hr) {
                    *s = a + b;
                }
                let sum2 = s.iter().map(|&v| v * v).sum::<f32>();
                let m = (sum2 / dim as f32 + eps).sqrt();
                for ((o, &v), &a) in o.iter_mut().zip(s.iter()).zip(w) {
                    *o = v / m * a;
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((2, n / dim, dim))))
    }
}

/// The residual add and the RMSNorm after it: `(s, rmsnorm(s) · w)` with `s = x + h`, both of
/// `x`'s shape, in one pass on the CPU (f32) and in one CUDA kernel. No gradient.
pub fn add_rms_norm(x: &Tensor, h: &Tensor, w: &Tensor, eps: f64) -> Result<(Tensor, Tensor)> {
    if x.shape() != h.shape() {
        candle_core::bail!(
            "add-rms-norm: residual {:?} and update {:?}",
            x.shape(),
            h.shape()
        );
    }
    let (x, h, w) = (x.contiguous()?, h.contiguous()?, w.contiguous()?);
    let packed = if cpu_f32(&x) && cpu_f32(&h) && cpu_f32(&w) {
        Some(x.apply_op3_no_bwd(&h, &w, &AddRmsNormCpu { eps: eps as f32 })?)
    } else {
        cuda_add_rms_norm(&x, &h, &w, eps)?
    };
    if let Some(p) = packed {
        return Ok((p.get(0)?.reshape(x.shape())?, p.get(1)?.reshape(x.shape())?));
    }
    let s = (&x + &h)?;
    let n = candle_nn::ops::rms_norm(&s, &w, eps as f32)?;
    Ok((s, n))
}

/// The CUDA kernel of [`add_rms_norm`] where it applies (`(2, rows, H)`), else `None`.
fn cuda_add_rms_norm(x: &Tensor, h: &Tensor, w: &Tensor, eps: f64) -> Result<Option<Tensor>> {
    #[cfg(feature = "cuda")]
    if crate::ops::cuda::ops_apply(&[x, h, w]) {
        return crate::ops::cuda_infer::add_rms_norm(x, h, w, eps)
            .map(Some)
            .map_err(|e| candle_core::Error::Msg(format!("{e:#}")));
    }
    let _ = (x, h, w, eps);
    Ok(None)
}

/// Head counts and width of one attention layer: query heads, key/value heads, head width.
#[derive(Clone, Copy, Debug)]
pub struct Heads {
    pub nh: usize,
    pub nkv: usize,
    pub hd: usize,
}

/// Rotate-half RoPE of the q and k heads of one decode position, read straight from the packed
/// q/k/v output `y (B, (nh + 2·nkv)·hd)` with `cos`/`sin (B, hd/2)` (CPU, f32, contiguous) →
/// `(B, nh + nkv, 1, hd)`: candle's rope arithmetic, so the same bits.
struct RopeQkCpu(Heads);

impl CustomOp3 for RopeQkCpu {
    fn name(&self) -> &'static str {
        "rope-qk"
    }
    fn cpu_fwd(
        &self,
        sy: &CpuStorage,
        ly: &Layout,
        sc: &CpuStorage,
        lc: &Layout,
        ss: &CpuStorage,
        ls: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let Heads { nh, nkv, hd } = self.0;
        let (CpuStorage::F32(y), CpuStorage::F32(cs), CpuStorage::F32(sn)) = (sy, sc, ss) else {
            candle_core::bail!("rope-qk: f32 only");
        };
        let (Some((y0, y1)), Some((c0, c1)), Some((s0, s1))) = (
            ly.contiguous_offsets(),
            lc.contiguous_offsets(),
            ls.contiguous_offsets(),
        ) else {
            candle_core::bail!("rope-qk: inputs must be contiguous");
        };
        let (y, cs, sn) = (&y[y0..y1], &cs[c0..c1], &sn[s0..s1]);
        let (heads, half) = (nh + 2 * nkv, hd / 2);
        let b = y.len() / (heads * hd).max(1);
        if hd % 2 != 0 || y.len() != b * heads * hd || cs.len() != b * half || sn.len() != cs.len()
        {
            candle_core::bail!("rope-qk: y {:?}, cos {:?}", ly.shape(), lc.shape());
        }
        let rot = nh + nkv;
        let mut out = vec![0f32; b * rot * hd];
        for (r, o) in out.chunks_exact_mut(rot * hd).enumerate() {
            let (c, s) = (&cs[r * half..][..half], &sn[r * half..][..half]);
            for (h, oh) in o.chunks_exact_mut(hd).enumerate() {
                let x = &y[(r * heads + h) * hd..][..hd];
                for j in 0..half {
                    let (a, e) = (x[j], x[j + half]);
                    oh[j] = a * c[j] - e * s[j];
                    oh[j + half] = a * s[j] + e * c[j];
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((b, rot, 1, hd))))
    }
}

/// One decode position's attention inputs from the packed q/k/v output `y (B, 1, (nh + 2·nkv)·hd)`:
/// rotate-half RoPE of the q and k heads with `cos`/`sin (B, 1, hd/2)`, k and v written into the
/// fixed-capacity caches `kc`/`vc (B, nkv, cap, hd)` at the column the `(1,)` u32 tensor `column`
/// holds; returns q `(B, nh, 1, hd)`. On CUDA one kernel, the column read on the device (what a
/// captured decode step replays); on the CPU (f32) one pass for the rotations and one per cache
/// write; elsewhere candle's rope and the cache's column write. No gradient.
pub fn rope_kv_write(
    y: &Tensor,
    (cos, sin): (&Tensor, &Tensor),
    (kc, vc): (&Tensor, &Tensor),
    column: &Tensor,
    heads: Heads,
) -> Result<Tensor> {
    let Heads { nh, nkv, hd } = heads;
    let b = kc.dim(0)?;
    let (y, cos, sin) = (
        y.reshape((b, (nh + 2 * nkv) * hd))?.contiguous()?,
        cos.reshape((b, hd / 2))?.contiguous()?,
        sin.reshape((b, hd / 2))?.contiguous()?,
    );
    #[cfg(feature = "cuda")]
    if crate::ops::cuda::ops_apply(&[&y, &cos, &sin, kc, vc]) {
        return crate::ops::cuda_infer::rope_kv_write(
            &y,
            (&cos, &sin),
            (kc, vc),
            column,
            (nh, nkv, hd),
        )
        .map_err(|e| candle_core::Error::Msg(format!("{e:#}")));
    }
    let write = |buf: &Tensor, t: &Tensor| {
        crate::kv_cache::write_column(buf, t, column)
            .map_err(|e| candle_core::Error::Msg(format!("{e:#}")))
    };
    let v = y
        .narrow(1, (nh + nkv) * hd, nkv * hd)?
        .reshape((b, nkv, 1, hd))?;
    if cpu_f32(&y) && cpu_f32(&cos) && cpu_f32(&sin) {
        let qk = y.apply_op3_no_bwd(&cos, &sin, &RopeQkCpu(heads))?;
        write(kc, &qk.narrow(1, nh, nkv)?)?;
        write(vc, &v)?;
        return qk.narrow(1, 0, nh);
    }
    let (cos, sin) = (cos.reshape((b, 1, hd / 2))?, sin.reshape((b, 1, hd / 2))?);
    let rot = |off: usize, n: usize| -> Result<Tensor> {
        let x = y.narrow(1, off * hd, n * hd)?.reshape((b, n, 1, hd))?;
        candle_nn::rotary_emb::rope(&x.contiguous()?, &cos, &sin)
    };
    write(kc, &rot(nh, nkv)?)?;
    write(vc, &v)?;
    rot(0, nh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn draw(shape: (usize, usize), seed: u64) -> Tensor {
        let mut rng = crate::rng::Rng::for_stream(seed, 0);
        let v: Vec<f32> = (0..shape.0 * shape.1)
            .map(|_| rng.normal() as f32)
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).expect("tensor")
    }

    fn vec(t: &Tensor) -> Vec<f32> {
        t.flatten_all().and_then(|t| t.to_vec1()).expect("values")
    }

    /// The packed kernel computes each element as the two-input SwiGLU does, so the values
    /// are the same bits; odd widths and a strided input (a view) included.
    #[test]
    fn packed_swiglu_is_the_swiglu_of_the_two_halves() {
        for (rows, f) in [(1, 1), (3, 7), (17, 48), (40, 33)] {
            let y = draw((rows, 2 * f), rows as u64);
            let got = swiglu_packed(&y).expect("packed");
            let want = crate::ops::layer::swiglu(
                &y.narrow(1, 0, f).expect("gate"),
                &y.narrow(1, f, f).expect("up"),
            )
            .expect("swiglu");
            assert_eq!(got.dims(), &[rows, f]);
            assert_eq!(vec(&got), vec(&want), "rows {rows}, f {f}");
        }
        let wide = draw((5, 20), 9);
        let view = wide.narrow(1, 2, 16).expect("view");
        let got = swiglu_packed(&view).expect("strided");
        let want = crate::ops::layer::reference::swiglu(
            &view.narrow(1, 0, 8).expect("gate"),
            &view.narrow(1, 8, 8).expect("up"),
        )
        .expect("reference");
        let d = (got - want).and_then(|d| d.abs()).expect("diff");
        assert!(vec(&d).iter().all(|&x| x <= 1e-6), "{:?}", vec(&d));
        assert!(swiglu_packed(&draw((2, 5), 1)).is_err(), "odd width");
    }

    /// The sum is `x + h` exactly and the norm is candle's RMSNorm of it, bit for bit.
    #[test]
    fn add_rms_norm_is_the_add_then_candles_rms_norm() {
        for (rows, dim) in [(1, 1), (2, 32), (45, 33), (3, 576)] {
            let x = draw((rows, dim), 1);
            let h = draw((rows, dim), 2);
            let w = draw((1, dim), 3).reshape(dim).expect("weight");
            let (s, n) = add_rms_norm(&x, &h, &w, 1e-5).expect("fused");
            let want_s = (&x + &h).expect("add");
            let want_n = candle_nn::ops::rms_norm(&want_s, &w, 1e-5).expect("norm");
            assert_eq!(s.dims(), x.dims());
            assert_eq!(vec(&s), vec(&want_s), "sum, {rows}x{dim}");
            assert_eq!(vec(&n), vec(&want_n), "norm, {rows}x{dim}");
        }
        let x = draw((2, 8), 1);
        assert!(add_rms_norm(&x, &draw((2, 4), 2), &draw((1, 8), 3), 1e-5).is_err());
    }

    /// The CPU rotations read straight from the packed q/k/v output, and the cache writes at
    /// the device-held column: candle's rope of each head and the values, bit for bit, the
    /// other columns untouched.
    #[test]
    fn rope_kv_write_is_candles_rope_and_the_column_write() {
        let heads = Heads {
            nh: 4,
            nkv: 2,
            hd: 8,
        };
        let (b, cap, col) = (3, 5, 2u32);
        let w = (heads.nh + 2 * heads.nkv) * heads.hd;
        let y = draw((b, w), 4).reshape((b, 1, w)).expect("y");
        let cos = draw((b, 4), 5).reshape((b, 1, 4)).expect("cos");
        let sin = draw((b, 4), 6).reshape((b, 1, 4)).expect("sin");
        let kc = draw((b * 2 * cap, 8), 7)
            .reshape((b, 2, cap, 8))
            .expect("k cache");
        let vc = draw((b * 2 * cap, 8), 8)
            .reshape((b, 2, cap, 8))
            .expect("v cache");
        let (k0, v0) = (vec(&kc), vec(&vc));
        let column = Tensor::new(&[col], &Device::Cpu).expect("column");
        let q = rope_kv_write(&y, (&cos, &sin), (&kc, &vc), &column, heads).expect("fused");
        let part = |off: usize, n: usize| {
            y.narrow(2, off * 8, n * 8)
                .and_then(|t| t.reshape((b, 1, n, 8)))
                .and_then(|t| t.transpose(1, 2))
                .and_then(|t| t.contiguous())
                .expect("part")
        };
        let rope = |x: &Tensor| candle_nn::rotary_emb::rope(x, &cos, &sin).expect("rope");
        assert_eq!(q.dims(), &[b, 4, 1, 8]);
        assert_eq!(vec(&q), vec(&rope(&part(0, 4))), "q");
        let at = |c: &Tensor| c.narrow(2, col as usize, 1).expect("column");
        assert_eq!(vec(&at(&kc)), vec(&rope(&part(4, 2))), "k");
        assert_eq!(vec(&at(&vc)), vec(&part(6, 2)), "v");
        // every other column as it was
        for (c, before) in [(&kc, &k0), (&vc, &v0)] {
            let after = vec(c);
            let changed: Vec<usize> = (0..after.len())
                .filter(|&i| after[i] != before[i])
                .map(|i| (i / 8) % cap)
                .collect();
            assert!(changed.iter().all(|&c| c == col as usize), "{changed:?}");
        }
    }
}
