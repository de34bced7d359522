//! The CUDA kernels of generation's fused forward ([`crate::ops::infer`]; no backward),
//! compiled with [`crate::ops::cuda`]'s source (whose helpers they use) and launched the same
//! way:
//!
//! - SwiGLU read straight from the packed gate/up output, and the residual add with the RMSNorm
//!   after it (one block per row), each one kernel where candle's composites were two or three
//!   passes;
//! - the fixed-shape decode step's cache writes (issue #25): a column write and RoPE of q and k
//!   with the cache write of k and v, both reading the write column from device memory, so a
//!   captured graph of the step ([`crate::graph`]) replays them at each step's column. The RoPE
//!   kernel replaces, per layer, two copies of q and k out of the packed output, two RoPE
//!   kernels, a copy of v and two cache writes.

use anyhow::{bail, Result};
use candle_core::{DType, Tensor};

use crate::ops::cuda::{address, grid, launch, per_row, same_count, Arg};

/// Appended to [`crate::ops::cuda`]'s source (after `load_logit`, `store_logit`, `block_sum`).
pub(crate) const SRC: &str = r#"
// --- generation's fused forward (`ops::infer`): no backward. ---------------------------------
// out[r, j] = silu(y[r, j]) * y[r, f + j]: SwiGLU of the packed gate/up output y (rows, 2f).
template <typename T>
__device__ void swiglu_packed(const T* y, T* out, unsigned long long rows, unsigned long long f) {
    unsigned long long n = rows * f;
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        unsigned long long r = i / f, j = i % f;
        float a = load_logit(y, r * 2 * f + j), b = load_logit(y, r * 2 * f + f + j);
        float s = 1.0f / (1.0f + expf(-a));
        store_logit(out, i, a * s * b);
    }
}
// One block per row of d: sum = x + h (stored in T, and the norm taken of the stored value, as
// the composite add then RMSNorm do), norm = sum / sqrt(mean(sum²) + eps) * w. Each thread
// reads back only the elements it wrote itself.
template <typename T>
__device__ void add_rms(const T* x, const T* h, const T* w, T* sum, T* norm, unsigned int d,
                        float eps) {
    __shared__ float sh[32];
    unsigned long long r = blockIdx.x;
    const T* xr = x + r * d;
    const T* hr = h + r * d;
    T* sr = sum + r * d;
    T* nr = norm + r * d;
    float ss = 0.0f;
    for (unsigned int j = threadIdx.x; j < d; j += blockDim.x) {
        store_logit(sr, j, load_logit(xr, j) + load_logit(hr, j));
        float v = load_logit(sr, j);
        ss += v * v;
    }
    ss = block_sum(ss, sh);
    float m = sqrtf(ss / (float)d + eps);
    for (unsigned int j = threadIdx.x; j < d; j += blockDim.x)
        store_logit(nr, j, load_logit(sr, j) / m * load_logit(w, j));
}
#define RAIF_INFER_OPS(SUF, T)                                                                  \
extern "C" __global__ void raif_swiglu_packed_##SUF(const T* y, T* out, unsigned long long rows, \
                                                    unsigned long long f) {                     \
    swiglu_packed(y, out, rows, f);                                                             \
}                                                                                               \
extern "C" __global__ void raif_add_rms_##SUF(const T* x, const T* h, const T* w, T* sum,        \
                                              T* norm, unsigned int d, float eps) {             \
    add_rms(x, h, w, sum, norm, d, eps);                                                        \
}
RAIF_INFER_OPS(f32, float)
RAIF_INFER_OPS(bf16, unsigned short)

// --- the fixed-shape decode step's cache writes (`kv_cache`, `ops::infer::rope_kv_write`) -----
// Both read the write column from device memory, so a captured graph replays them at each
// step's column. buf (rows, cap, d) with rows = B·heads: buf[r, *column, :] = src[r, :].
template <typename T>
__device__ void kv_write(T* buf, const T* src, const unsigned int* column,
                         unsigned long long rows, unsigned int cap, unsigned int d) {
    unsigned long long n = rows * d, c = column[0];
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        unsigned long long r = i / d, j = i % d;
        buf[(r * cap + c) * d + j] = src[i];
    }
}
// One decode position from the packed q/k/v output y (B, (nh + 2 nkv) hd): rotate-half RoPE of
// the q and k heads with cos/sin (B, hd/2), q into q (B, nh, hd), k and v into the caches
// kc/vc (B, nkv, cap, hd) at *column. One thread per pair (j, j + hd/2) of one head of one row.
template <typename T>
__device__ void rope_kv(const T* y, const T* cs, const T* sn, T* q, T* kc, T* vc,
                        const unsigned int* column, unsigned int b, unsigned int nh,
                        unsigned int nkv, unsigned int cap, unsigned int hd) {
    unsigned long long half = hd / 2, heads = nh + 2 * nkv, c = column[0];
    unsigned long long n = (unsigned long long)b * heads * half;
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        unsigned long long r = i / (heads * half), h = (i / half) % heads, j = i % half;
        const T* yh = y + (r * heads + h) * hd;
        float a = load_logit(yh, j), e = load_logit(yh, j + half);
        T* dst;
        if (h < nh + nkv) {
            float co = load_logit(cs, r * half + j), si = load_logit(sn, r * half + j);
            float o1 = a * co - e * si, o2 = a * si + e * co;
            a = o1;
            e = o2;
            dst = h < nh ? q + (r * nh + h) * hd : kc + ((r * nkv + (h - nh)) * cap + c) * hd;
        } else {
            dst = vc + ((r * nkv + (h - nh - nkv)) * cap + c) * hd;
        }
        store_logit(dst, j, a);
        store_logit(dst, j + half, e);
    }
}
#define RAIF_DECODE_OPS(SUF, T)                                                                 \
extern "C" __global__ void raif_kv_write_##SUF(T* buf, const T* src, const unsigned int* column, \
                                               unsigned long long rows, unsigned int cap,       \
                                               unsigned int d) {                                \
    kv_write(buf, src, column, rows, cap, d);                                                   \
}                                                                                               \
extern "C" __global__ void raif_rope_kv_##SUF(const T* y, const T* cs, const T* sn, T* q, T* kc, \
                                              T* vc, const unsigned int* column, unsigned int b, \
                                              unsigned int nh, unsigned int nkv,                \
                                              unsigned int cap, unsigned int hd) {              \
    rope_kv(y, cs, sn, q, kc, vc, column, b, nh, nkv, cap, hd);                                 \
}
RAIF_DECODE_OPS(f32, float)
RAIF_DECODE_OPS(bf16, unsigned short)
"#;

/// SwiGLU of the packed gate/up output `y (rows, 2f)` (gate first): `silu(gate) · up`,
/// `(rows, f)`.
pub fn swiglu_packed(y: &Tensor) -> Result<Tensor> {
    let (rows, two_f) = y.dims2()?;
    if two_f % 2 != 0 {
        bail!("fused packed swiglu: odd width {two_f}");
    }
    let f = two_f / 2;
    let out = Tensor::zeros((rows, f), y.dtype(), y.device())?;
    let n = rows * f;
    if n == 0 {
        return Ok(out);
    }
    let args = [address(y)?, address(&out)?, rows as u64, f as u64].map(Arg::U64);
    // SAFETY: `y` is a contiguous buffer of `rows × 2f` elements and the fresh `out` one of
    // `rows × f`, of one dtype (the caller checks `ops_apply`).
    unsafe { launch(y, "swiglu_packed", grid(n), &args) }?;
    Ok(out)
}

/// The residual add and the RMSNorm after it, `(2, rows, H)`: `s = x + h`, then
/// `s / √(mean(s²) + eps) · w`.
pub fn add_rms_norm(x: &Tensor, h: &Tensor, w: &Tensor, eps: f64) -> Result<Tensor> {
    let d = w.elem_count();
    let n = x.elem_count();
    if d == 0 || n % d != 0 || x.dims().last() != Some(&d) {
        bail!(
            "fused add-rms-norm: x {:?} does not end in w's {d}",
            x.dims()
        );
    }
    same_count("add-rms-norm", &[("update", h)], n)?;
    let rows = n / d;
    let out = Tensor::zeros((2, rows, d), x.dtype(), x.device())?;
    if rows == 0 {
        return Ok(out);
    }
    let (sum, norm) = (out.get(0)?, out.get(1)?);
    let args = [
        Arg::U64(address(x)?),
        Arg::U64(address(h)?),
        Arg::U64(address(w)?),
        Arg::U64(address(&sum)?),
        Arg::U64(address(&norm)?),
        Arg::U32(d as u32),
        Arg::F32(eps as f32),
    ];
    // SAFETY: `x`, `h` hold `rows × d` elements and `w` `d`, contiguous, of one dtype (the
    // caller checks `ops_apply`); `sum` and `norm` are the two halves of the fresh `out`.
    unsafe { launch(x, "add_rms", per_row(rows, 256), &args) }?;
    Ok(out)
}

/// `buf[.., .., column, ..] = src` in place for `buf (B, H, cap, D)` and `src (B, H, 1, D)`,
/// the column read from the `(1,)` u32 tensor on the device (no read-back to the host).
pub fn kv_write(buf: &Tensor, src: &Tensor, column: &Tensor) -> Result<()> {
    let (b, h, cap, d) = buf.dims4()?;
    if src.dims4()? != (b, h, 1, d) || column.dtype() != DType::U32 || column.elem_count() != 1 {
        bail!(
            "kv write: {:?} into {:?} at a column of {:?} {:?}",
            src.dims(),
            buf.dims(),
            column.dtype(),
            column.dims()
        );
    }
    let rows = b * h;
    if rows * d == 0 {
        return Ok(());
    }
    let args = [
        Arg::U64(address(buf)?),
        Arg::U64(address(src)?),
        Arg::U64(address(column)?),
        Arg::U64(rows as u64),
        Arg::U32(cap as u32),
        Arg::U32(d as u32),
    ];
    // SAFETY: `buf` holds `rows × cap × d` elements and `src` `rows × d`, contiguous, of one
    // dtype (the caller checks `ops_apply`); `column` is one u32, below `cap` (the cache's
    // bookkeeping: `LayerCache` refuses a step past its capacity).
    unsafe { launch(buf, "kv_write", grid(rows * d), &args) }
}

/// The decode step's RoPE and cache write in one kernel: from the packed q/k/v output
/// `y (B, (nh + 2·nkv)·hd)`, q rotated into a fresh `(B, nh, 1, hd)`, k rotated and v copied
/// into `kc`/`vc (B, nkv, cap, hd)` at the column `column` holds. `cos`/`sin`: `(B, hd/2)`.
pub fn rope_kv_write(
    y: &Tensor,
    (cos, sin): (&Tensor, &Tensor),
    (kc, vc): (&Tensor, &Tensor),
    column: &Tensor,
    (nh, nkv, hd): (usize, usize, usize),
) -> Result<Tensor> {
    let (b, _, cap, _) = kc.dims4()?;
    if y.elem_count() != b * (nh + 2 * nkv) * hd
        || kc.dims4()? != (b, nkv, cap, hd)
        || vc.dims() != kc.dims()
        || cos.elem_count() != b * hd / 2
        || sin.elem_count() != b * hd / 2
        || hd % 2 != 0
        || column.dtype() != DType::U32
        || column.elem_count() != 1
    {
        bail!(
            "rope-kv: y {:?}, cos {:?}, caches {:?} for {nh}/{nkv} heads of {hd}",
            y.dims(),
            cos.dims(),
            kc.dims()
        );
    }
    let q = Tensor::zeros((b, nh, 1, hd), y.dtype(), y.device())?;
    let n = b * (nh + 2 * nkv) * hd / 2;
    if n == 0 {
        return Ok(q);
    }
    let args = [
        Arg::U64(address(y)?),
        Arg::U64(address(cos)?),
        Arg::U64(address(sin)?),
        Arg::U64(address(&q)?),
        Arg::U64(address(kc)?),
        Arg::U64(address(vc)?),
        Arg::U64(address(column)?),
        Arg::U32(b as u32),
        Arg::U32(nh as u32),
        Arg::U32(nkv as u32),
        Arg::U32(cap as u32),
        Arg::U32(hd as u32),
    ];
    // SAFETY: the sizes checked above, every buffer contiguous and of one dtype (the caller
    // checks `ops_apply`), the column below `cap` (`LayerCache`'s bookkeeping).
    unsafe { launch(y, "rope_kv", grid(n), &args) }?;
    Ok(q)
}
