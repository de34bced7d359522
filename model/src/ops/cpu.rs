//! CPU kernels where candle's general matmul leaves speed on the table.
//!
//! [`matmul_t_small_m`]: `y = x Wᵀ` for a handful of rows `x` (the decode step: one row per
//! sequence in the batch). The general GEMM packs the whole weight matrix into panels on every
//! call, which at M ≤ 16 costs more than the multiply itself; a decode step is bound by reading
//! the weights once from memory, so this kernel streams each weight row once and multiplies it
//! with every input row while it is in cache. AVX-512 or AVX2+FMA is chosen at run time.

use rayon::prelude::*;

/// The largest M for which [`matmul_t_small_m`] beats the general GEMM (measured on the
/// project machine with `raif bench generate`; see docs/BENCHMARKS.md).
pub const SMALL_M: usize = 16;

/// Weight rows per parallel task: large enough to amortise the task, small enough to balance.
const ROWS_PER_TASK: usize = 64;

/// `y (M×N) = x (M×K) · Wᵀ` with `w` the row-major `N×K` weight. `x` and `w` are contiguous.
pub fn matmul_t_small_m(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    debug_assert_eq!(x.len(), m * k);
    debug_assert_eq!(w.len(), n * k);
    // yᵀ (N×M): every task owns whole rows of it, so no two tasks write the same cache line
    // region of the output (rows of M floats, tasks of 64 rows).
    let mut yt = vec![0f32; n * m];
    let tile = pick_tile();
    yt.par_chunks_mut(ROWS_PER_TASK * m)
        .enumerate()
        .for_each(|(task, out)| {
            let n0 = task * ROWS_PER_TASK;
            let rows = out.len() / m.max(1);
            let mut r = 0;
            while r < rows {
                let nb = (rows - r).min(TILE_N);
                tile(
                    x,
                    m,
                    &w[(n0 + r) * k..(n0 + r + nb) * k],
                    nb,
                    k,
                    &mut out[r * m..(r + nb) * m],
                );
                r += nb;
            }
        });
    if m == 1 {
        return yt;
    }
    let mut y = vec![0f32; m * n];
    for (j, row) in yt.chunks_exact(m).enumerate() {
        for (i, v) in row.iter().enumerate() {
            y[i * n + j] = *v;
        }
    }
    y
}

/// Weight rows multiplied together in one tile (AVX-512: 8 × 3 accumulators of 32 registers).
const TILE_N: usize = 3;

/// `out[r·m + i] = dot(x row i, w row r)` for all `m` rows of `x` and the `nb ≤ TILE_N` rows
/// of `w` (each of length `k`).
type Tile = fn(&[f32], usize, &[f32], usize, usize, &mut [f32]);

fn pick_tile() -> Tile {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return |x, m, w, nb, k, out| unsafe { x86::tile_avx512(x, m, w, nb, k, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return |x, m, w, nb, k, out| {
                for r in 0..nb {
                    let mut i = 0;
                    while i < m {
                        let mb = (m - i).min(8);
                        let mut o = [0f32; 8];
                        unsafe {
                            x86::dots_avx2(
                                &x[i * k..(i + mb) * k],
                                &w[r * k..(r + 1) * k],
                                k,
                                &mut o[..mb],
                            )
                        };
                        out[r * m + i..r * m + i + mb].copy_from_slice(&o[..mb]);
                        i += mb;
                    }
                }
            };
        }
    }
    |x, m, w, nb, k, out| {
        for r in 0..nb {
            for i in 0..m {
                out[r * m + i] = dot_portable(&x[i * k..(i + 1) * k], &w[r * k..(r + 1) * k]);
            }
        }
    }
}

fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// A register tile: `MB` rows of `x` (at `xp`, stride `k`) times `NB` rows of `w` (at
    /// `wp`, stride `k`), one 16-lane accumulator per pair; `out[r·m + i]`.
    #[target_feature(enable = "avx512f")]
    unsafe fn tile512<const MB: usize, const NB: usize>(
        xp: *const f32,
        wp: *const f32,
        k: usize,
        out: *mut f32,
        m: usize,
    ) {
        let mut acc = [[_mm512_setzero_ps(); NB]; MB];
        let full = k / 16 * 16;
        let mut j = 0;
        while j < full {
            let mut wv = [_mm512_setzero_ps(); NB];
            for (r, v) in wv.iter_mut().enumerate() {
                *v = _mm512_loadu_ps(wp.add(r * k + j));
            }
            for (i, row) in acc.iter_mut().enumerate() {
                let xv = _mm512_loadu_ps(xp.add(i * k + j));
                for (r, a) in row.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(xv, wv[r], *a);
                }
            }
            j += 16;
        }
        for (i, row) in acc.iter().enumerate() {
            for (r, a) in row.iter().enumerate() {
                let mut s = _mm512_reduce_add_ps(*a);
                for t in full..k {
                    s += *xp.add(i * k + t) * *wp.add(r * k + t);
                }
                *out.add(r * m + i) = s;
            }
        }
    }

    /// Every row of `x` (`m` rows) against `nb ≤ 3` rows of `w`, in tiles of up to 8 × 3.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `x` has `m·k` floats, `w` has `nb·k`, `out` has `nb·m`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn tile_avx512(
        x: &[f32],
        m: usize,
        w: &[f32],
        nb: usize,
        k: usize,
        out: &mut [f32],
    ) {
        assert!(x.len() >= m * k && w.len() >= nb * k && out.len() >= nb * m && nb <= 3);
        let (wp, op) = (w.as_ptr(), out.as_mut_ptr());
        let mut i = 0;
        while i < m {
            let mb = (m - i).min(8);
            let xp = x.as_ptr().add(i * k);
            let o = op.add(i);
            macro_rules! go {
                ($($mb:literal),*) => {
                    match (mb, nb) {
                        $(($mb, 3) => tile512::<$mb, 3>(xp, wp, k, o, m),
                          ($mb, 2) => tile512::<$mb, 2>(xp, wp, k, o, m),
                          ($mb, _) => tile512::<$mb, 1>(xp, wp, k, o, m),)*
                        _ => unreachable!("tile rows are 1..=8"),
                    }
                };
            }
            go!(1, 2, 3, 4, 5, 6, 7, 8);
            i += mb;
        }
    }

    /// Up to 8 dot products sharing the weight row `w` (the AVX2 + FMA fallback).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `x` holds `out.len()` rows of `k` floats, `w` has `k`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dots_avx2(x: &[f32], w: &[f32], k: usize, out: &mut [f32]) {
        let mb = out.len();
        debug_assert!(mb <= 8 && x.len() >= mb * k && w.len() >= k);
        let mut acc = [_mm256_setzero_ps(); 8];
        let full = k / 8 * 8;
        let wp = w.as_ptr();
        let xp = x.as_ptr();
        let mut j = 0;
        while j < full {
            let wv = _mm256_loadu_ps(wp.add(j));
            for (i, a) in acc.iter_mut().enumerate().take(mb) {
                *a = _mm256_fmadd_ps(_mm256_loadu_ps(xp.add(i * k + j)), wv, *a);
            }
            j += 8;
        }
        for (i, o) in out.iter_mut().enumerate() {
            let v = acc[i];
            let hi = _mm256_extractf128_ps(v, 1);
            let lo = _mm256_castps256_ps128(v);
            let q = _mm_add_ps(hi, lo);
            let q = _mm_add_ps(q, _mm_movehl_ps(q, q));
            let q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
            let mut s = _mm_cvtss_f32(q);
            for t in full..k {
                s += *xp.add(i * k + t) * *wp.add(t);
            }
            *o = s;
        }
    }
}

/// Row-wise `softmax(att + mask)` for attention scores `att` of shape `(B, H, R·T, Tk)`
/// (H key/value heads, R query heads sharing each, T queries) and an additive mask `(B, T, Tk)`
/// shared by every head: one pass per row, no broadcast copy of the mask. A fully masked row
/// gives NaN, as candle's softmax does.
pub fn masked_softmax(
    att: &mut [f32],
    mask: &[f32],
    b: usize,
    rows_per_b: usize,
    t: usize,
    tk: usize,
) {
    debug_assert_eq!(att.len(), b * rows_per_b * tk);
    debug_assert_eq!(mask.len(), b * t * tk);
    att.par_chunks_mut(tk).enumerate().for_each(|(row, a)| {
        let bi = row / rows_per_b;
        let q = row % rows_per_b % t;
        let m = &mask[(bi * t + q) * tk..(bi * t + q + 1) * tk];
        let mut max = f32::NEG_INFINITY;
        for (x, &mv) in a.iter_mut().zip(m) {
            *x += mv;
            max = max.max(*x);
        }
        if max == f32::NEG_INFINITY {
            a.iter_mut().for_each(|x| *x = f32::NAN);
            return;
        }
        let sum = exp_sub(a, max);
        let inv = 1.0 / sum;
        a.iter_mut().for_each(|x| *x *= inv);
    });
}

/// `exp(x)` for one element, branch-free so that loops of it vectorise: `exp(x) = 2^k · p(r)`
/// with `x = k ln 2 + r`, |r| ≤ ln2/2, and a degree-6 Taylor polynomial for `p` (relative
/// error < 2e-7). Inputs below −87.3 (including −∞) give exactly 0; inputs above 88 give
/// `exp(88)` (the largest power this scaling can represent); NaN stays NaN.
#[inline(always)]
pub fn exp_poly(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    let zero = x < -87.3;
    let x = if zero { -87.3 } else { x };
    let x = if x > 88.0 { 88.0 } else { x };
    let k = (x * LOG2E + ROUND) - ROUND;
    let r = x - k * LN2_HI - k * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    if zero {
        0.0
    } else {
        p * scale
    }
}

/// Defines `pub fn $name(args)` that runs the `#[inline(always)]` function `$body` compiled for
/// AVX-512F or AVX2 + FMA when the CPU has them (chosen at run time), else for the baseline.
/// The bodies are plain element-wise loops: each compilation vectorises them to its width, and
/// as nothing is fused (Rust never contracts `a·b + c`) every one gives the same bits.
macro_rules! simd_dispatch {
    ($(#[$m:meta])* pub fn $name:ident($($a:ident: $t:ty),* $(,)?) $(-> $r:ty)? = $body:path;) => {
        $(#[$m])*
        pub fn $name($($a: $t),*) $(-> $r)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($a: $t),*) $(-> $r)? {
                    $body($($a),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($a: $t),*) $(-> $r)? {
                    $body($($a),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked just above).
                    return unsafe { avx512($($a),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    return unsafe { avx2($($a),*) };
                }
            }
            $body($($a),*)
        }
    };
}

/// [`exp_sub`]'s body: [`exp_poly`] over a slice, summed in 16 lanes.
#[inline(always)]
fn exp_sub_body(a: &mut [f32], max: f32) -> f32 {
    let mut sum = [0f32; 16];
    let mut chunks = a.chunks_exact_mut(16);
    for c in &mut chunks {
        for (l, v) in c.iter_mut().enumerate() {
            *v = exp_poly(*v - max);
            sum[l] += *v;
        }
    }
    let mut total: f32 = sum.iter().sum();
    for v in chunks.into_remainder() {
        *v = exp_poly(*v - max);
        total += *v;
    }
    total
}

simd_dispatch! {
    /// `a[i] = exp(a[i] − max)` in place (−∞ gives 0), returning the sum.
    pub fn exp_sub(a: &mut [f32], max: f32) -> f32 = exp_sub_body;
}

/// `σ(g)` through [`exp_poly`].
#[inline(always)]
fn sigmoid(g: f32) -> f32 {
    1.0 / (1.0 + exp_poly(-g))
}

#[inline(always)]
fn swiglu_body(g: &[f32], u: &[f32], out: &mut [f32]) {
    for ((o, &g), &u) in out.iter_mut().zip(g).zip(u) {
        *o = g * sigmoid(g) * u;
    }
}

simd_dispatch! {
    /// `out = silu(g) · u` element-wise (the SwiGLU of the MLP); slices of one length.
    pub fn swiglu(g: &[f32], u: &[f32], out: &mut [f32]) = swiglu_body;
}

#[inline(always)]
fn swiglu_bwd_body(g: &[f32], u: &[f32], dh: &[f32], dg: &mut [f32], du: &mut [f32]) {
    for ((((dg, du), &g), &u), &d) in dg.iter_mut().zip(du.iter_mut()).zip(g).zip(u).zip(dh) {
        let s = sigmoid(g);
        *dg = d * (u * s * (1.0 + g * (1.0 - s)));
        *du = d * (g * s);
    }
}

simd_dispatch! {
    /// The SwiGLU backward: `dg = dh · u · σ(g)(1 + g(1 − σ(g)))`, `du = dh · silu(g)`.
    pub fn swiglu_bwd(g: &[f32], u: &[f32], dh: &[f32], dg: &mut [f32], du: &mut [f32]) = swiglu_bwd_body;
}

#[inline(always)]
fn row_lse_body(x: &[f32], entropy: bool) -> (f32, f32, f32) {
    let mut m = [f32::NEG_INFINITY; 16];
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for (l, &v) in c.iter().enumerate() {
            m[l] = if v > m[l] { v } else { m[l] };
        }
    }
    let mut max = m
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    for &v in chunks.remainder() {
        max = if v > max { v } else { max };
    }
    // (a NaN, or no finite maximum, makes the sum NaN: the composite definition's answer)
    let (mut s, mut sx) = ([0f32; 16], [0f32; 16]);
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for (l, &v) in c.iter().enumerate() {
            let e = exp_poly(v - max);
            s[l] += e;
            if entropy {
                sx[l] += e * (v - max);
            }
        }
    }
    let (mut sum, mut sumx): (f32, f32) = (s.iter().sum(), sx.iter().sum());
    for &v in chunks.remainder() {
        let e = exp_poly(v - max);
        sum += e;
        sumx += e * (v - max);
    }
    let ln_sum = sum.ln();
    // H = −Σ p ln p with ln p = (x − max) − ln Σ
    (max, ln_sum, ln_sum - sumx / sum)
}

simd_dispatch! {
    /// `(max, ln Σ exp(x − max), entropy)` of one row of logits (the log-sum-exp is the
    /// first two summed; a log-softmax value is best computed as `(x − max) − ln Σ`, which
    /// keeps the digits that adding `max` first would round away); the entropy of its softmax
    /// only when `entropy`. NaN for a row without a finite maximum or with a NaN.
    pub fn row_lse(x: &[f32], entropy: bool) -> (f32, f32, f32) = row_lse_body;
}

#[inline(always)]
fn row_logit_grad_body(x: &[f32], lse: f32, g: f32, out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = -g * exp_poly(v - lse);
    }
}

simd_dispatch! {
    /// `out = −g · softmax(x)` for one row with log-sum-exp `lse` (the gradient of
    /// `g · log softmax(x)[t]` but for the `+g` at the target, which the caller adds).
    pub fn row_logit_grad(x: &[f32], lse: f32, g: f32, out: &mut [f32]) = row_logit_grad_body;
}

/// [`masked_softmax`] in place as a candle op (CPU, f32): scores `(B, H, R·T, Tk)`, contiguous
/// and owned by the caller; mask `(B, 1, 1, T, Tk)` or `(B, T, Tk)`.
pub struct MaskedSoftmax;

impl candle_core::InplaceOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "masked-softmax"
    }

    fn cpu_fwd(
        &self,
        s1: &mut candle_core::CpuStorage,
        l1: &candle_core::Layout,
        s2: &candle_core::CpuStorage,
        l2: &candle_core::Layout,
    ) -> candle_core::Result<()> {
        use candle_core::CpuStorage;
        let (CpuStorage::F32(a), CpuStorage::F32(m)) = (s1, s2) else {
            candle_core::bail!("masked-softmax: f32 only");
        };
        let (Some((a0, a1)), Some((m0, m1))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            candle_core::bail!("masked-softmax: inputs must be contiguous");
        };
        let (b, h, rows, tk) = l1.shape().dims4()?;
        let md = l2.shape().dims();
        let (mb, mtk) = (md[0], md[md.len() - 1]);
        let t = (m1 - m0) / (mb * mtk).max(1);
        if mb != b || mtk != tk || t == 0 || rows % t != 0 {
            candle_core::bail!(
                "masked-softmax: scores {:?} do not fit mask {:?}",
                l1.shape(),
                l2.shape()
            );
        }
        masked_softmax(&mut a[a0..a1], &m[m0..m1], b, rows * h, t, tk);
        Ok(())
    }
}

/// Attention of one new query position per sequence against the cached keys and values (the
/// decode step), all heads at once: `softmax(q·Kᵀ·scale + mask)·V` with grouped-query heads.
/// Replaces a batched GEMM per (sequence, KV head), a mask broadcast and a softmax: at batch 8
/// that was ~50 small GEMM dispatches per layer, more time than the arithmetic.
///
/// Inputs (CPU, f32): `q (B, n_head, 1, D)` contiguous; `k`, `v` of shape `(B, n_kv, Tk, D)`
/// with a unit stride over D (the views of the cache); the op holds the `(B, Tk)` additive mask.
/// Output: `(B, 1, n_head·D)`, the layout the output projection takes.
pub struct DecodeAttention {
    /// `(B, Tk)` additive mask, row-major.
    pub mask: Vec<f32>,
    pub scale: f32,
}

impl candle_core::CustomOp3 for DecodeAttention {
    fn name(&self) -> &'static str {
        "decode-attention"
    }

    fn cpu_fwd(
        &self,
        sq: &candle_core::CpuStorage,
        lq: &candle_core::Layout,
        sk: &candle_core::CpuStorage,
        lk: &candle_core::Layout,
        sv: &candle_core::CpuStorage,
        lv: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        use candle_core::CpuStorage;
        let (CpuStorage::F32(q), CpuStorage::F32(k), CpuStorage::F32(v)) = (sq, sk, sv) else {
            candle_core::bail!("decode-attention: f32 only");
        };
        let Some((q0, _)) = lq.contiguous_offsets() else {
            candle_core::bail!("decode-attention: q must be contiguous");
        };
        let (b, nh, t, d) = lq.shape().dims4()?;
        let (kb, nkv, tk, kd) = lk.shape().dims4()?;
        if t != 1 || kb != b || kd != d || lv.shape() != lk.shape() || nkv == 0 || nh % nkv != 0 {
            candle_core::bail!(
                "decode-attention: q {:?}, k {:?}, v {:?}",
                lq.shape(),
                lk.shape(),
                lv.shape()
            );
        }
        if lk.stride()[3] != 1 || lv.stride()[3] != 1 || self.mask.len() != b * tk {
            candle_core::bail!("decode-attention: unsupported key/value layout or mask size");
        }
        let n_rep = nh / nkv;
        let (ks, vs) = (lk.stride(), lv.stride());
        let (k0, v0) = (lk.start_offset(), lv.start_offset());
        let mut out = vec![0f32; b * nh * d];
        // One task per (sequence, KV head): its n_rep query heads read the same keys/values.
        out.par_chunks_mut(n_rep * d)
            .enumerate()
            .for_each(|(task, o)| {
                let (bi, h) = (task / nkv, task % nkv);
                let mask = &self.mask[bi * tk..(bi + 1) * tk];
                let kbase = k0 + bi * ks[0] + h * ks[1];
                let vbase = v0 + bi * vs[0] + h * vs[1];
                let mut p = vec![0f32; tk];
                for r in 0..n_rep {
                    let head = h * n_rep + r;
                    let qh = &q[q0 + (bi * nh + head) * d..q0 + (bi * nh + head + 1) * d];
                    let mut max = f32::NEG_INFINITY;
                    for (j, pj) in p.iter_mut().enumerate() {
                        *pj = if mask[j] == f32::NEG_INFINITY {
                            f32::NEG_INFINITY
                        } else {
                            let kj = &k[kbase + j * ks[2]..kbase + j * ks[2] + d];
                            dot_portable(qh, kj) * self.scale + mask[j]
                        };
                        max = max.max(*pj);
                    }
                    let oh = &mut o[r * d..(r + 1) * d];
                    if max == f32::NEG_INFINITY {
                        oh.iter_mut().for_each(|x| *x = f32::NAN);
                        continue;
                    }
                    let mut sum = 0f32;
                    for pj in p.iter_mut() {
                        *pj = if *pj == f32::NEG_INFINITY {
                            0.0
                        } else {
                            (*pj - max).exp()
                        };
                        sum += *pj;
                    }
                    let inv = 1.0 / sum;
                    for (j, &pj) in p.iter().enumerate() {
                        if pj != 0.0 {
                            let w = pj * inv;
                            let vj = &v[vbase + j * vs[2]..vbase + j * vs[2] + d];
                            for (x, &y) in oh.iter_mut().zip(vj) {
                                *x += w * y;
                            }
                        }
                    }
                }
            });
        Ok((
            CpuStorage::F32(out),
            candle_core::Shape::from((b, 1, nh * d)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
        let mut y = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                y[i * n + j] = (0..k)
                    .map(|t| x[i * k + t] as f64 * w[j * k + t] as f64)
                    .sum::<f64>() as f32;
            }
        }
        y
    }

    #[test]
    fn fast_exp_matches_std_exp() {
        let mut xs: Vec<f32> = (0..20_000).map(|i| -100.0 + i as f32 * 0.005).collect();
        xs.extend([f32::NEG_INFINITY, -87.0, -1e-30, 0.0]);
        for exp in [exp_sub as fn(&mut [f32], f32) -> f32, exp_sub_body] {
            let mut a = xs.clone();
            let sum = exp(&mut a, 0.0);
            let mut want_sum = 0f64;
            for (&x, &got) in xs.iter().zip(&a) {
                let want = (x as f64).exp();
                want_sum += if x < -87.3 { 0.0 } else { want };
                if x < -87.3 {
                    assert_eq!(got, 0.0, "exp({x})");
                } else {
                    assert!(
                        ((got as f64) - want).abs() <= 3e-7 * want,
                        "exp({x}) = {got}, want {want}"
                    );
                }
            }
            assert!(((sum as f64) - want_sum).abs() <= 1e-5 * want_sum);
        }
    }

    #[test]
    fn small_m_matches_reference_on_ragged_shapes() {
        let mut rng = crate::rng::Rng::for_stream(7, 0);
        for &(m, n, k) in &[
            (1, 1, 1),
            (1, 130, 17),
            (3, 65, 16),
            (8, 200, 576),
            (9, 64, 33),
            (16, 129, 40),
        ] {
            let x: Vec<f32> = (0..m * k).map(|_| rng.next_f64() as f32 - 0.5).collect();
            let w: Vec<f32> = (0..n * k).map(|_| rng.next_f64() as f32 - 0.5).collect();
            let got = matmul_t_small_m(&x, &w, m, n, k);
            let want = reference(&x, &w, m, n, k);
            for (g, e) in got.iter().zip(&want) {
                assert!(
                    (g - e).abs() <= 1e-4 * (1.0 + e.abs()),
                    "m{m} n{n} k{k}: {g} vs {e}"
                );
            }
            for j in 0..n {
                for i in 0..m {
                    let d = dot_portable(&x[i * k..(i + 1) * k], &w[j * k..(j + 1) * k]);
                    assert!((d - want[i * n + j]).abs() <= 1e-4 * (1.0 + want[i * n + j].abs()));
                }
            }
        }
    }
}
