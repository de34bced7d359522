//! Our CUDA kernels (issue #9), where candle's composite ops cost many passes over memory: the
//! AdamW update with its gradient norm, the token log-probs of the output layer with their
//! backward, and the layer ops of [`crate::ops::layer`] (SwiGLU, RMSNorm's backward,
//! attention's masked softmax and its backward; the masked softmax and SwiGLU serve
//! generation's fused forward too).
//!
//! **AdamW.** The composite update (`m`, `v`, bias corrections, the step, casts) is some twenty
//! elementwise ops, each reading and writing whole f32 tensors: about 170 bytes of memory
//! traffic per parameter, 260 GB per step for a 1.5B model. This kernel reads the gradient,
//! `m`, `v` and the f32 master weight once and writes `m`, `v`, the master and the bf16
//! parameter once: 22 bytes per parameter. The arithmetic is the CPU kernel's
//! ([`crate::ops::adamw`]'s `FusedAdamW`), in f32, in the same order.
//!
//! **Log-probs.** Per position, the log-softmax over the vocabulary at the target token was
//! about a dozen f32 passes over a `positions × vocabulary` chunk (cast, max, subtract, exp,
//! sum, log, subtract, gather; in the backward again, then exp, multiply, scatter, cast): at a
//! 152k vocabulary, about 48 ms of an H100's 248 ms step. Here one kernel reads each row of
//! logits once for `log p(target)`, the log-sum-exp and (on request) the entropy, and one
//! writes each row's gradient `g·(onehot − softmax)` straight from the logits and the kept
//! log-sum-exp. Statistics are f32, as on the composite path.
//!
//! **Layer ops.** On the CPU, `ops` has one-pass kernels for these; on CUDA they were
//! composites: RMSNorm's backward eleven elementwise and reduction kernels, SwiGLU's backward
//! six, the mask add and softmax two, the softmax backward four, each a full pass over a
//! `tokens × hidden` (or `heads × T × Tk`) tensor in bf16 with the rounding of every step. Here
//! each is one kernel (RMSNorm's backward two: the rows, then the sum of the blocks' partial
//! weight gradients), reading its inputs once, computing in f32, writing once.
//!
//! **Generation's fused forward** ([`crate::ops::infer`]) has its kernels in
//! [`crate::ops::cuda_infer`], compiled with these.
//!
//! The source is compiled once per process with NVRTC (which ships with the CUDA runtime
//! libraries the cuda build already needs), so the build needs no extra compiler step.

use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use candle_core::cuda_backend::cudarc::driver::{DevicePtr, LaunchConfig, PushKernelArg};
use candle_core::{DType, Device, Storage, Tensor};

use crate::ops::adamw::Hyper;

const SRC: &str = r#"
__device__ __forceinline__ float bf16_to_f32(unsigned short h) {
    return __uint_as_float(((unsigned int)h) << 16);
}
// round to nearest even, NaN kept a (quiet) NaN: what candle's and PyTorch's casts do
__device__ __forceinline__ unsigned short f32_to_bf16(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}
__device__ __forceinline__ float load_grad(const float* g, unsigned long long i) { return g[i]; }
__device__ __forceinline__ float load_grad(const unsigned short* g, unsigned long long i) {
    return bf16_to_f32(g[i]);
}

// p32: the f32 master weight (or the f32 parameter itself); p16: the bf16 parameter, or null.
template <typename G>
__device__ void adamw(unsigned short* p16, float* p32, float* m, float* v, const G* g,
                      unsigned long long n, float lr, float b1, float b2, float eps, float wd,
                      float bc1, float bc2, float gs) {
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        float gi = load_grad(g, i) * gs;
        float mi = __fadd_rn(__fmul_rn(b1, m[i]), __fmul_rn(1.0f - b1, gi));
        float vi = __fadd_rn(__fmul_rn(b2, v[i]), __fmul_rn(__fmul_rn(1.0f - b2, gi), gi));
        m[i] = mi;
        v[i] = vi;
        float upd = __fdiv_rn(__fdiv_rn(mi, bc1), __fadd_rn(__fsqrt_rn(__fdiv_rn(vi, bc2)), eps));
        float p = __fsub_rn(__fmul_rn(p32[i], __fsub_rn(1.0f, __fmul_rn(lr, wd))), __fmul_rn(lr, upd));
        p32[i] = p;
        if (p16) p16[i] = f32_to_bf16(p);
    }
}

// The sum of squares of a gradient, added into *out: f64 in each thread, warp shuffles, one
// atomic add per block. (A one-block reduction over a 233M-element embedding gradient is what
// made the composite norm slow: one multiprocessor streaming the whole tensor.)
template <typename G>
__device__ void sum_squares(const G* g, unsigned long long n, double* out) {
    __shared__ double part[32];
    double acc = 0.0;
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        double x = (double)load_grad(g, i);
        acc += x * x;
    }
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) part[warp] = acc;
    __syncthreads();
    if (warp == 0) {
        acc = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
        if (lane == 0) atomicAdd(out, acc);
    }
}
extern "C" __global__ void raif_sumsq_f32(const float* g, unsigned long long n, double* out) {
    sum_squares(g, n, out);
}
extern "C" __global__ void raif_sumsq_bf16(const unsigned short* g, unsigned long long n,
                                          double* out) {
    sum_squares(g, n, out);
}

// --- log-probs: one block per row of logits ---------------------------------------------
__device__ __forceinline__ float load_logit(const float* l, unsigned long long i) { return l[i]; }
__device__ __forceinline__ float load_logit(const unsigned short* l, unsigned long long i) {
    return bf16_to_f32(l[i]);
}
__device__ __forceinline__ void store_logit(float* l, unsigned long long i, float x) { l[i] = x; }
__device__ __forceinline__ void store_logit(unsigned short* l, unsigned long long i, float x) {
    l[i] = f32_to_bf16(x);
}
// Block-wide reductions (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ float block_max(float x, float* sh) {
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) sh[warp] = x;
    __syncthreads();
    x = lane < warps ? sh[lane] : -__int_as_float(0x7f800000);
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}
__device__ float block_sum(float x, float* sh) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) sh[warp] = x;
    __syncthreads();
    x = lane < warps ? sh[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}
// lp[r] = l[r, t[r]] - lse[r]; lse[r] = log sum_j exp l[r, j]; ent[r] (if ent) = entropy.
template <typename T>
__device__ void row_stats(const T* logits, const unsigned int* targets, unsigned long long vocab,
                          float* lp, float* lse, float* ent) {
    __shared__ float sh[32];
    unsigned long long r = blockIdx.x;
    const T* l = logits + r * vocab;
    float mx = -__int_as_float(0x7f800000);
    for (unsigned long long j = threadIdx.x; j < vocab; j += blockDim.x) mx = fmaxf(mx, load_logit(l, j));
    mx = block_max(mx, sh);
    float s = 0.0f, sl = 0.0f;
    for (unsigned long long j = threadIdx.x; j < vocab; j += blockDim.x) {
        float z = load_logit(l, j) - mx;
        float e = expf(z);
        s += e;
        sl += e * z;
    }
    s = block_sum(s, sh);
    if (ent) sl = block_sum(sl, sh);
    if (threadIdx.x == 0) {
        float ls = logf(s);
        unsigned int t = targets[r];
        lp[r] = (load_logit(l, t) - mx) - ls;
        lse[r] = mx + ls;
        if (ent) ent[r] = ls - sl / s;
    }
}
// dl[r, j] = g[r] * ((j == t[r]) - exp(l[r, j] - lse[r])), in the logits' type.
template <typename T>
__device__ void row_grad(const T* logits, const unsigned int* targets, const float* lse,
                         const float* g, unsigned long long vocab, T* dl) {
    unsigned long long r = blockIdx.x;
    const T* l = logits + r * vocab;
    T* d = dl + r * vocab;
    float gr = g[r], m = lse[r];
    unsigned int t = targets[r];
    for (unsigned long long j = threadIdx.x; j < vocab; j += blockDim.x) {
        float v = -gr * expf(load_logit(l, j) - m);
        if (j == t) v += gr;
        store_logit(d, j, v);
    }
}
extern "C" __global__ void raif_lp_stats_f32(const float* l, const unsigned int* t,
                                             unsigned long long vocab, float* lp, float* lse,
                                             float* ent) {
    row_stats(l, t, vocab, lp, lse, ent);
}
extern "C" __global__ void raif_lp_stats_bf16(const unsigned short* l, const unsigned int* t,
                                              unsigned long long vocab, float* lp, float* lse,
                                              float* ent) {
    row_stats(l, t, vocab, lp, lse, ent);
}
extern "C" __global__ void raif_lp_grad_f32(const float* l, const unsigned int* t,
                                            const float* lse, const float* g,
                                            unsigned long long vocab, float* dl) {
    row_grad(l, t, lse, g, vocab, dl);
}
extern "C" __global__ void raif_lp_grad_bf16(const unsigned short* l, const unsigned int* t,
                                             const float* lse, const float* g,
                                             unsigned long long vocab, unsigned short* dl) {
    row_grad(l, t, lse, g, vocab, dl);
}

// --- the layer ops of the training step (see `ops`): SwiGLU, RMSNorm's backward, the masked
// softmax of attention and its backward. Arithmetic in f32 whatever the storage type.

// out = silu(g) * u
template <typename T>
__device__ void swiglu_fwd(const T* g, const T* u, T* out, unsigned long long n) {
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        float a = load_logit(g, i), b = load_logit(u, i);
        float s = 1.0f / (1.0f + expf(-a));
        store_logit(out, i, a * s * b);
    }
}
// dg = dh * u * s * (1 + g (1 - s)), du = dh * silu(g), with s = sigmoid(g)
template <typename T>
__device__ void swiglu_bwd(const T* g, const T* u, const T* dh, T* dg, T* du,
                           unsigned long long n) {
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += stride) {
        float a = load_logit(g, i), b = load_logit(u, i), d = load_logit(dh, i);
        float s = 1.0f / (1.0f + expf(-a));
        store_logit(dg, i, d * b * s * (1.0f + a * (1.0f - s)));
        store_logit(du, i, d * a * s);
    }
}
// RMSNorm backward, `rpb` rows per block: dx = r (g w - x̂ mean(g w x̂)) with r = 1/sqrt(mean(x²)
// + eps), x̂ = x r; each block also writes its rows' share of dw = Σ g x̂ to dwp[block, :] (f32),
// which `colsum` adds up. Dynamic shared memory: h + 32 floats.
template <typename T>
__device__ void rms_bwd(const T* x, const T* w, const T* g, T* dx, float* dwp,
                        unsigned long long rows, unsigned int h, float eps, unsigned int rpb) {
    extern __shared__ float smem[];
    float* dw = smem;
    float* red = smem + h;
    for (unsigned int j = threadIdx.x; j < h; j += blockDim.x) dw[j] = 0.0f;
    unsigned long long r0 = (unsigned long long)blockIdx.x * rpb;
    unsigned long long r1 = r0 + rpb < rows ? r0 + rpb : rows;
    for (unsigned long long r = r0; r < r1; r++) {
        const T* xr = x + r * h;
        const T* gr = g + r * h;
        float ss = 0.0f, c = 0.0f;
        for (unsigned int j = threadIdx.x; j < h; j += blockDim.x) {
            float xv = load_logit(xr, j);
            ss += xv * xv;
            c += load_logit(gr, j) * load_logit(w, j) * xv;
        }
        ss = block_sum(ss, red);
        c = block_sum(c, red);
        float rs = 1.0f / sqrtf(ss / (float)h + eps);
        float cm = rs * c / (float)h;
        for (unsigned int j = threadIdx.x; j < h; j += blockDim.x) {
            float xh = load_logit(xr, j) * rs;
            float gv = load_logit(gr, j);
            store_logit(dx + r * h, j, rs * (gv * load_logit(w, j) - xh * cm));
            dw[j] += gv * xh;
        }
    }
    __syncthreads();
    for (unsigned int j = threadIdx.x; j < h; j += blockDim.x)
        dwp[(unsigned long long)blockIdx.x * h + j] = dw[j];
}
// out[j] = Σ_b p[b, j]
template <typename T>
__device__ void colsum(const float* p, unsigned int nb, unsigned int h, T* out) {
    unsigned int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= h) return;
    float s = 0.0f;
    for (unsigned int b = 0; b < nb; b++) s += p[(unsigned long long)b * h + j];
    store_logit(out, j, s);
}
// In place, one block per row of scores `s (B, ·, rows_per_b, tk)`: s = softmax(s + mask) with
// the additive mask `(B, t, tk)` of the row's batch and query (row % t). A fully masked row
// gives NaN, as candle's softmax and the CPU kernel do.
template <typename T>
__device__ void masked_softmax(T* s, const T* mask, unsigned long long rows_per_b, unsigned int t,
                               unsigned int tk) {
    __shared__ float sh[32];
    unsigned long long r = blockIdx.x;
    unsigned long long bi = r / rows_per_b;
    unsigned long long q = (r % rows_per_b) % t;
    T* a = s + r * tk;
    const T* m = mask + (bi * t + q) * tk;
    float mx = -__int_as_float(0x7f800000);
    for (unsigned int j = threadIdx.x; j < tk; j += blockDim.x)
        mx = fmaxf(mx, load_logit(a, j) + load_logit(m, j));
    mx = block_max(mx, sh);
    if (mx == -__int_as_float(0x7f800000)) {
        for (unsigned int j = threadIdx.x; j < tk; j += blockDim.x)
            store_logit(a, j, __int_as_float(0x7fc00000));
        return;
    }
    float sum = 0.0f;
    for (unsigned int j = threadIdx.x; j < tk; j += blockDim.x)
        sum += expf(load_logit(a, j) + load_logit(m, j) - mx);
    float inv = 1.0f / block_sum(sum, sh);
    for (unsigned int j = threadIdx.x; j < tk; j += blockDim.x)
        store_logit(a, j, expf(load_logit(a, j) + load_logit(m, j) - mx) * inv);
}
// In place, one block per row: dp = p (dp - δ) with δ = Σ_d dy[r, d] y[r, d], the softmax
// backward of attention (`dy`, `y`: the output's gradient and the output, `d` wide).
template <typename T>
__device__ void softmax_bwd(T* dp, const T* p, const T* dy, const T* y, unsigned int tk,
                            unsigned int d) {
    __shared__ float sh[32];
    unsigned long long r = blockIdx.x;
    float delta = 0.0f;
    for (unsigned int j = threadIdx.x; j < d; j += blockDim.x)
        delta += load_logit(dy + r * d, j) * load_logit(y + r * d, j);
    delta = block_sum(delta, sh);
    for (unsigned int j = threadIdx.x; j < tk; j += blockDim.x) {
        unsigned long long i = r * tk + j;
        store_logit(dp, i, load_logit(p, i) * (load_logit(dp, i) - delta));
    }
}
#define RAIF_LAYER_OPS(SUF, T)                                                                  \
extern "C" __global__ void raif_swiglu_##SUF(const T* g, const T* u, T* out,                    \
                                             unsigned long long n) { swiglu_fwd(g, u, out, n); }   \
extern "C" __global__ void raif_swiglu_bwd_##SUF(const T* g, const T* u, const T* dh, T* dg,    \
                                                 T* du, unsigned long long n) {                \
    swiglu_bwd(g, u, dh, dg, du, n);                                                            \
}                                                                                               \
extern "C" __global__ void raif_rms_bwd_##SUF(const T* x, const T* w, const T* g, T* dx,        \
                                              float* dwp, unsigned long long rows,              \
                                              unsigned int h, float eps, unsigned int rpb) {     \
    rms_bwd(x, w, g, dx, dwp, rows, h, eps, rpb);                                               \
}                                                                                               \
extern "C" __global__ void raif_colsum_##SUF(const float* p, unsigned int nb, unsigned int h,   \
                                             T* out) { colsum(p, nb, h, out); }                 \
extern "C" __global__ void raif_masked_softmax_##SUF(T* s, const T* mask,                       \
                                                     unsigned long long rows_per_b,             \
                                                     unsigned int t, unsigned int tk) {         \
    masked_softmax(s, mask, rows_per_b, t, tk);                                                 \
}                                                                                               \
extern "C" __global__ void raif_softmax_bwd_##SUF(T* dp, const T* p, const T* dy, const T* y,   \
                                                  unsigned int tk, unsigned int d) {            \
    softmax_bwd(dp, p, dy, y, tk, d);                                                           \
}
RAIF_LAYER_OPS(f32, float)
RAIF_LAYER_OPS(bf16, unsigned short)

extern "C" __global__ void raif_adamw_f32(unsigned short* p16, float* p32, float* m, float* v,
                                          const float* g, unsigned long long n, float lr,
                                          float b1, float b2, float eps, float wd, float bc1,
                                          float bc2, float gs) {
    adamw(p16, p32, m, v, g, n, lr, b1, b2, eps, wd, bc1, bc2, gs);
}
extern "C" __global__ void raif_adamw_bf16(unsigned short* p16, float* p32, float* m, float* v,
                                          const unsigned short* g, unsigned long long n,
                                          float lr, float b1, float b2, float eps, float wd,
                                          float bc1, float bc2, float gs) {
    adamw(p16, p32, m, v, g, n, lr, b1, b2, eps, wd, bc1, bc2, gs);
}
"#;

fn ptx() -> Result<&'static str> {
    static PTX: OnceLock<std::result::Result<String, String>> = OnceLock::new();
    PTX.get_or_init(|| {
        candle_core::cuda_backend::cudarc::nvrtc::compile_ptx(format!(
            "{SRC}{}",
            crate::ops::cuda_infer::SRC
        ))
        .map(|p| p.to_src())
        .map_err(|e| format!("{e:?}"))
    })
    .as_deref()
    .map_err(|e| anyhow::anyhow!("compiling the training kernels with NVRTC: {e}"))
}

/// Whether [`step`] takes these tensors: CUDA, contiguous, an f32 or bf16 parameter (bf16
/// with an f32 master), an f32 or bf16 gradient, f32 moments. `RAIF_FUSED_ADAMW=0` turns it
/// off (the composite update then runs, for comparisons).
pub fn applies(p: &Tensor, master: Option<&Tensor>, g: &Tensor, m: &Tensor, v: &Tensor) -> bool {
    if switched_off("RAIF_FUSED_ADAMW") || !p.device().is_cuda() {
        return false;
    }
    let param_ok = match (p.dtype(), master) {
        (DType::F32, None) => true,
        (DType::BF16, Some(w)) => w.dtype() == DType::F32 && w.is_contiguous(),
        _ => false,
    };
    param_ok
        && matches!(g.dtype(), DType::F32 | DType::BF16)
        && m.dtype() == DType::F32
        && v.dtype() == DType::F32
        && [p, g, m, v].iter().all(|t| t.is_contiguous())
}

/// Whether `var` (`RAIF_FUSED_ADAMW`, `RAIF_FUSED_LOGPROB`, `RAIF_FUSED_OPS`) switches the
/// fused kernels off, read once per process: the checks run per tensor and per chunk on every
/// step.
fn switched_off(var: &'static str) -> bool {
    static ADAMW: OnceLock<bool> = OnceLock::new();
    static LOGPROB: OnceLock<bool> = OnceLock::new();
    static OPS: OnceLock<bool> = OnceLock::new();
    let cell = match var {
        "RAIF_FUSED_ADAMW" => &ADAMW,
        "RAIF_FUSED_LOGPROB" => &LOGPROB,
        _ => &OPS,
    };
    *cell.get_or_init(|| std::env::var(var).as_deref() == Ok("0"))
}

/// The launch shape of a grid-stride kernel over `n` elements: 256 threads a block, at most
/// 32 blocks per multiprocessor of the largest cards.
pub(super) fn grid(n: usize) -> LaunchConfig {
    let threads = 256u32;
    LaunchConfig {
        grid_dim: (n.div_ceil(threads as usize).clamp(1, 132 * 32) as u32, 1, 1),
        block_dim: (threads, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// The squared L2 norm of all the gradients, when they are all on one CUDA device, contiguous,
/// f32 or bf16 (else `None`: the caller takes the composite path). Every tensor's sum of
/// squares goes into one f64 slot of a device buffer, and the buffer comes back in one
/// transfer.
pub fn sum_squares(grads: &[Option<Tensor>]) -> Result<Option<f64>> {
    if switched_off("RAIF_FUSED_ADAMW") {
        return Ok(None);
    }
    let present: Vec<&Tensor> = grads.iter().flatten().collect();
    let Some(first) = present.first() else {
        return Ok(None);
    };
    if !first.device().is_cuda() {
        return Ok(None);
    }
    if !present.iter().all(|g| {
        g.device().same_device(first.device())
            && g.is_contiguous()
            && matches!(g.dtype(), DType::F32 | DType::BF16)
    }) {
        return Ok(None);
    }
    let out = Tensor::zeros(present.len(), DType::F64, first.device())?;
    let base = address(&out)?;
    for (i, g) in present.iter().enumerate() {
        let n = g.elem_count();
        if n == 0 {
            continue;
        }
        let args = [address(g)?, n as u64, base + 8 * i as u64].map(Arg::U64);
        // SAFETY: `g` is a live contiguous buffer of `n` f32/bf16 elements and the slot one
        // f64 of `out`, which lives until after the transfer below.
        unsafe { launch(g, "sumsq", grid(n), &args) }?;
    }
    Ok(Some(out.to_vec1::<f64>()?.iter().sum()))
}

/// The device address of a contiguous tensor's first element.
pub(super) fn address(t: &Tensor) -> Result<u64> {
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cuda(s) = &*storage else {
        bail!("fused kernel: a tensor is not on the CUDA device");
    };
    let Device::Cuda(dev) = t.device() else {
        bail!("fused kernel: a tensor is not on the CUDA device");
    };
    let stream = dev.cuda_stream();
    let base = match t.dtype() {
        DType::F32 => s.as_cuda_slice::<f32>()?.device_ptr(&stream).0,
        DType::BF16 => s.as_cuda_slice::<half::bf16>()?.device_ptr(&stream).0,
        DType::F64 => s.as_cuda_slice::<f64>()?.device_ptr(&stream).0,
        DType::U32 => s.as_cuda_slice::<u32>()?.device_ptr(&stream).0,
        other => bail!("fused kernel: {other:?} tensors are not supported"),
    };
    Ok(base + (layout.start_offset() * t.dtype().size_in_bytes()) as u64)
}

/// One AdamW step of `p` in place (and of its master, `m` and `v`), as the composite update
/// computes it. The caller checks [`applies`] first.
pub fn step(
    p: &Tensor,
    master: Option<&Tensor>,
    g: &Tensor,
    m: &Tensor,
    v: &Tensor,
    h: Hyper,
) -> Result<()> {
    let n = p.elem_count();
    let mut others = vec![("gradient", g), ("exp_avg", m), ("exp_avg_sq", v)];
    others.extend(master.map(|w| ("master", w)));
    same_count("adamw", &others, n)?;
    if n == 0 {
        return Ok(());
    }
    let (p16, p32) = match master {
        Some(w) => (address(p)?, address(w)?),
        None => (0u64, address(p)?),
    };
    let mut args =
        Vec::from([p16, p32, address(m)?, address(v)?, address(g)?, n as u64].map(Arg::U64));
    args.extend([h.lr, h.b1, h.b2, h.eps, h.wd, h.bc1, h.bc2, h.gscale].map(Arg::F32));
    // SAFETY: every address is a live, contiguous buffer of `n` elements of the kernel's
    // types (checked above and by `applies`); the optimizer owns `m`, `v` and the master, and
    // the parameter is written only here, on the device's one stream. The kernel is chosen by
    // the gradient's dtype.
    unsafe { launch(g, "adamw", grid(n), &args) }
}

/// Whether the fused log-prob kernels take these logits: CUDA, contiguous, 2-D, f32 or bf16.
/// `RAIF_FUSED_LOGPROB=0` turns them off (the composite path then runs, for comparisons).
pub fn logprob_applies(logits: &Tensor) -> bool {
    !switched_off("RAIF_FUSED_LOGPROB")
        && logits.device().is_cuda()
        && logits.rank() == 2
        && logits.is_contiguous()
        && matches!(logits.dtype(), DType::F32 | DType::BF16)
}

/// One block of `threads` threads per row.
pub(super) fn per_row(rows: usize, threads: u32) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (rows as u32, 1, 1),
        block_dim: (threads, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// `(log p(target), log-sum-exp, entropy if asked)` of each row of `logits` (`rows × vocab`),
/// each `(rows,)` f32. `targets`: `(rows,)` u32 below `vocab`.
pub fn logprob_stats(
    logits: &Tensor,
    targets: &Tensor,
    entropy: bool,
) -> Result<(Tensor, Tensor, Option<Tensor>)> {
    let (rows, vocab) = logits.dims2()?;
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    if targets.elem_count() != rows {
        bail!(
            "fused log-probs: {} targets for {rows} rows",
            targets.elem_count()
        );
    }
    let lp = Tensor::zeros(rows, DType::F32, logits.device())?;
    let lse = lp.zeros_like()?;
    let ent = if entropy {
        Some(lp.zeros_like()?)
    } else {
        None
    };
    if rows == 0 {
        return Ok((lp, lse, ent));
    }
    let ent_p = match &ent {
        Some(e) => address(e)?,
        None => 0,
    };
    let args = [
        address(logits)?,
        address(&targets)?,
        vocab as u64,
        address(&lp)?,
        address(&lse)?,
        ent_p,
    ]
    .map(Arg::U64);
    // SAFETY: contiguous buffers of the sizes checked above; the outputs are fresh.
    unsafe { launch(logits, "lp_stats", per_row(rows, 1024), &args) }?;
    Ok((lp, lse, ent))
}

/// The gradient of `Σ_r g[r]·log p(targets[r])` with respect to `logits`, from the logits and
/// the forward's log-sum-exp: `g·(onehot − softmax)`, in the logits' dtype.
pub fn logprob_grad(logits: &Tensor, targets: &Tensor, lse: &Tensor, g: &Tensor) -> Result<Tensor> {
    let (rows, vocab) = logits.dims2()?;
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    let lse = lse.to_dtype(DType::F32)?.contiguous()?;
    let g = g.to_dtype(DType::F32)?.contiguous()?;
    same_count(
        "log-prob backward",
        &[
            ("targets", &targets),
            ("log-sum-exp", &lse),
            ("gradient", &g),
        ],
        rows,
    )?;
    let out = Tensor::zeros((rows, vocab), logits.dtype(), logits.device())?;
    if rows == 0 {
        return Ok(out);
    }
    let args = [
        address(logits)?,
        address(&targets)?,
        address(&lse)?,
        address(&g)?,
        vocab as u64,
        address(&out)?,
    ]
    .map(Arg::U64);
    // SAFETY: contiguous buffers of the sizes checked above; `out` is fresh.
    unsafe { launch(logits, "lp_grad", per_row(rows, 1024), &args) }?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The layer ops of the training step: SwiGLU, RMSNorm's backward, attention's masked softmax
// and its backward (`ops` calls these where [`ops_apply`] holds).

/// Whether the fused layer kernels take these tensors: all on one CUDA device, contiguous, all
/// f32 or all bf16. `RAIF_FUSED_OPS=0` turns them off (the composite ops then run).
pub fn ops_apply(ts: &[&Tensor]) -> bool {
    let Some(first) = ts.first() else {
        return false;
    };
    !switched_off("RAIF_FUSED_OPS")
        && first.device().is_cuda()
        && matches!(first.dtype(), DType::F32 | DType::BF16)
        && ts.iter().all(|t| {
            t.is_contiguous()
                && t.dtype() == first.dtype()
                && t.device().same_device(first.device())
        })
}

/// A kernel argument.
pub(super) enum Arg {
    U64(u64),
    U32(u32),
    F32(f32),
}

/// Launch `raif_<op>_<f32|bf16>` of this module's source, chosen by `t`'s dtype, on `t`'s
/// device.
///
/// # Safety
/// `args` must match the kernel's parameters, and every address among them must be a live
/// buffer as large as the kernel reads or writes under `cfg`.
pub(super) unsafe fn launch(t: &Tensor, op: &str, cfg: LaunchConfig, args: &[Arg]) -> Result<()> {
    let Device::Cuda(dev) = t.device() else {
        bail!("fused {op}: the tensor is not on the CUDA device");
    };
    let name = match t.dtype() {
        DType::BF16 => format!("raif_{op}_bf16"),
        DType::F32 => format!("raif_{op}_f32"),
        other => bail!("fused {op}: {other:?} is not supported"),
    };
    let func = dev
        .get_or_load_custom_func(&name, "raif_train", ptx()?)
        .with_context(|| format!("loading the CUDA kernel `{name}`"))?;
    let mut b = func.builder();
    for a in args {
        match a {
            Arg::U64(v) => b.arg(v),
            Arg::U32(v) => b.arg(v),
            Arg::F32(v) => b.arg(v),
        };
    }
    // SAFETY: the caller's contract.
    unsafe { b.launch(cfg) }.with_context(|| format!("launching the CUDA kernel `{name}`"))?;
    Ok(())
}

pub(super) fn same_count(op: &str, ts: &[(&str, &Tensor)], n: usize) -> Result<()> {
    for (what, t) in ts {
        if t.elem_count() != n {
            bail!(
                "fused {op}: {what} has {} elements, expected {n}",
                t.elem_count()
            );
        }
    }
    Ok(())
}

/// `silu(g) · u`.
pub fn swiglu(g: &Tensor, u: &Tensor) -> Result<Tensor> {
    let n = g.elem_count();
    same_count("swiglu", &[("u", u)], n)?;
    let out = Tensor::zeros(g.shape(), g.dtype(), g.device())?;
    if n == 0 {
        return Ok(out);
    }
    let args = [address(g)?, address(u)?, address(&out)?, n as u64].map(Arg::U64);
    // SAFETY: `g`, `u` and the fresh `out` are contiguous buffers of `n` elements of one dtype.
    unsafe { launch(g, "swiglu", grid(n), &args) }?;
    Ok(out)
}

/// The SwiGLU backward: `(∂/∂g, ∂/∂u)` of `silu(g) · u` given the output's gradient `dh`.
pub fn swiglu_bwd(g: &Tensor, u: &Tensor, dh: &Tensor) -> Result<(Tensor, Tensor)> {
    let n = g.elem_count();
    same_count("swiglu backward", &[("u", u), ("gradient", dh)], n)?;
    let dg = Tensor::zeros(g.shape(), g.dtype(), g.device())?;
    let du = dg.zeros_like()?;
    if n == 0 {
        return Ok((dg, du));
    }
    let args = [
        address(g)?,
        address(u)?,
        address(dh)?,
        address(&dg)?,
        address(&du)?,
        n as u64,
    ]
    .map(Arg::U64);
    // SAFETY: five contiguous buffers of `n` elements of one dtype; `dg` and `du` are fresh.
    unsafe { launch(g, "swiglu_bwd", grid(n), &args) }?;
    Ok((dg, du))
}

/// The widest hidden size [`rms_norm_bwd`] takes: its blocks keep a row of `dw` in shared
/// memory (48 KiB, less the reduction's 32 floats).
pub const RMS_BWD_MAX_HIDDEN: usize = 8192;

/// The RMSNorm backward: `dx`, and `dw` when asked, for `y = x · w / √(mean(x²) + eps)` over the
/// last axis, given `y`'s gradient `g`.
pub fn rms_norm_bwd(
    x: &Tensor,
    w: &Tensor,
    g: &Tensor,
    eps: f64,
    want_dw: bool,
) -> Result<(Tensor, Option<Tensor>)> {
    let h = w.elem_count();
    let n = x.elem_count();
    if h == 0 || n % h != 0 || x.dims().last() != Some(&h) {
        bail!(
            "fused rms-norm backward: x {:?} does not end in w's {h}",
            x.dims()
        );
    }
    same_count("rms-norm backward", &[("gradient", g)], n)?;
    if h > RMS_BWD_MAX_HIDDEN {
        bail!("fused rms-norm backward: hidden size {h} over the kernel's {RMS_BWD_MAX_HIDDEN}");
    }
    let rows = n / h;
    let dx = Tensor::zeros(x.shape(), x.dtype(), x.device())?;
    let dw = Tensor::zeros(h, w.dtype(), w.device())?;
    if rows == 0 {
        return Ok((dx, want_dw.then_some(dw)));
    }
    // A few rows per block: enough blocks to fill the card, few partial rows of `dw` to add.
    let rpb = rows.div_ceil(512).max(1);
    let blocks = rows.div_ceil(rpb);
    let part = Tensor::zeros((blocks, h), DType::F32, x.device())?;
    let args = [
        Arg::U64(address(x)?),
        Arg::U64(address(w)?),
        Arg::U64(address(g)?),
        Arg::U64(address(&dx)?),
        Arg::U64(address(&part)?),
        Arg::U64(rows as u64),
        Arg::U32(h as u32),
        Arg::F32(eps as f32),
        Arg::U32(rpb as u32),
    ];
    let cfg = LaunchConfig {
        grid_dim: (blocks as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: ((h + 32) * 4) as u32,
    };
    // SAFETY: `x`, `g`, `dx` hold `rows × h` elements, `w` `h`, `part` `blocks × h` f32; the
    // kernel writes only the fresh `dx` and `part`; shared memory is `h + 32` floats.
    unsafe { launch(x, "rms_bwd", cfg, &args) }?;
    if !want_dw {
        return Ok((dx, None));
    }
    let args = [
        Arg::U64(address(&part)?),
        Arg::U32(blocks as u32),
        Arg::U32(h as u32),
        Arg::U64(address(&dw)?),
    ];
    let cfg = LaunchConfig {
        grid_dim: (h.div_ceil(256) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: `part` is `blocks × h` f32 and the fresh `dw` `h` elements of `w`'s dtype.
    unsafe { launch(w, "colsum", cfg, &args) }?;
    Ok((dx, Some(dw)))
}

/// In place: `s ← softmax(s + mask)` over the last axis, for scores `s (B, H, R, Tk)` (a fresh
/// tensor nothing else holds) and an additive mask of `B · T · Tk` elements shared by every head,
/// row `r` of a batch taking the mask row of query `r mod T`.
pub fn masked_softmax_inplace(s: &Tensor, mask: &Tensor, t: usize) -> Result<()> {
    let (b, h, r, tk) = s.dims4()?;
    same_count("masked softmax", &[("mask", mask)], b * t * tk)?;
    let rows = b * h * r;
    if rows == 0 || tk == 0 {
        return Ok(());
    }
    if t == 0 || r % t != 0 {
        bail!("fused masked softmax: {r} rows per head are not a multiple of {t} queries");
    }
    let args = [
        Arg::U64(address(s)?),
        Arg::U64(address(mask)?),
        Arg::U64((h * r) as u64),
        Arg::U32(t as u32),
        Arg::U32(tk as u32),
    ];
    // SAFETY: `s` holds `rows × tk` elements and is written only by this kernel (its caller's
    // fresh scores); the mask holds `b · t · tk` elements of the same dtype.
    unsafe { launch(s, "masked_softmax", per_row(rows, 256), &args) }
}

/// In place: `dp ← p ∘ (dp − δ)` with `δ = rowsum(dy ∘ y)`, the softmax backward of attention:
/// `dp`, `p` are `rows × Tk` (`dp` a fresh tensor nothing else holds), `dy`, `y` `rows × D`.
pub fn softmax_bwd_inplace(dp: &Tensor, p: &Tensor, dy: &Tensor, y: &Tensor) -> Result<()> {
    let tk = dp.dims().last().copied().unwrap_or(0);
    let d = y.dims().last().copied().unwrap_or(0);
    if tk == 0 || d == 0 {
        return Ok(());
    }
    let rows = dp.elem_count() / tk;
    same_count("softmax backward", &[("p", p)], rows * tk)?;
    same_count("softmax backward", &[("dy", dy), ("y", y)], rows * d)?;
    if rows == 0 {
        return Ok(());
    }
    let args = [
        Arg::U64(address(dp)?),
        Arg::U64(address(p)?),
        Arg::U64(address(dy)?),
        Arg::U64(address(y)?),
        Arg::U32(tk as u32),
        Arg::U32(d as u32),
    ];
    // SAFETY: `dp`, `p` hold `rows × tk` elements, `dy`, `y` `rows × d`, all of one dtype; only
    // `dp` (the caller's fresh tensor) is written.
    unsafe { launch(dp, "softmax_bwd", per_row(rows, 256), &args) }
}
