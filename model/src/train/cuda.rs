//! The training step's own CUDA kernels (issue #9), where candle's composite ops cost many
//! passes over memory: the AdamW update with its gradient norm, and the token log-probs of the
//! output layer with their backward.
//!
//! **AdamW.** The composite update (`m`, `v`, bias corrections, the step, casts) is some twenty
//! elementwise ops, each reading and writing whole f32 tensors: about 170 bytes of memory
//! traffic per parameter, 260 GB per step for a 1.5B model. This kernel reads the gradient,
//! `m`, `v` and the f32 master weight once and writes `m`, `v`, the master and the bf16
//! parameter once: 22 bytes per parameter. The arithmetic is the CPU kernel's
//! ([`super::optim`]'s `FusedAdamW`), in f32, in the same order.
//!
//! **Log-probs.** Per position, the log-softmax over the vocabulary at the target token was
//! about a dozen f32 passes over a `positions × vocabulary` chunk (cast, max, subtract, exp,
//! sum, log, subtract, gather; in the backward again, then exp, multiply, scatter, cast): at a
//! 152k vocabulary, about 48 ms of an H100's 248 ms step. Here one kernel reads each row of
//! logits once for `log p(target)`, the log-sum-exp and (on request) the entropy, and one
//! writes each row's gradient `g·(onehot − softmax)` straight from the logits and the kept
//! log-sum-exp. Statistics are f32, as on the composite path.
//!
//! The source is compiled once per process with NVRTC (which ships with the CUDA runtime
//! libraries the cuda build already needs), so the build needs no extra compiler step.

use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use candle_core::cuda_backend::cudarc::driver::{DevicePtr, LaunchConfig, PushKernelArg};
use candle_core::{DType, Device, Storage, Tensor};

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
extern "C" __global__ void raif_sumsq_g32(const float* g, unsigned long long n, double* out) {
    sum_squares(g, n, out);
}
extern "C" __global__ void raif_sumsq_g16(const unsigned short* g, unsigned long long n,
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

extern "C" __global__ void raif_adamw_g32(unsigned short* p16, float* p32, float* m, float* v,
                                          const float* g, unsigned long long n, float lr,
                                          float b1, float b2, float eps, float wd, float bc1,
                                          float bc2, float gs) {
    adamw(p16, p32, m, v, g, n, lr, b1, b2, eps, wd, bc1, bc2, gs);
}
extern "C" __global__ void raif_adamw_g16(unsigned short* p16, float* p32, float* m, float* v,
                                          const unsigned short* g, unsigned long long n,
                                          float lr, float b1, float b2, float eps, float wd,
                                          float bc1, float bc2, float gs) {
    adamw(p16, p32, m, v, g, n, lr, b1, b2, eps, wd, bc1, bc2, gs);
}
"#;

fn ptx() -> Result<&'static str> {
    static PTX: OnceLock<std::result::Result<String, String>> = OnceLock::new();
    PTX.get_or_init(|| {
        candle_core::cuda_backend::cudarc::nvrtc::compile_ptx(SRC)
            .map(|p| p.to_src())
            .map_err(|e| format!("{e:?}"))
    })
    .as_deref()
    .map_err(|e| anyhow::anyhow!("compiling the fused AdamW kernel with NVRTC: {e}"))
}

pub use crate::train::optim::Hyper;

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

/// Whether `var` (`RAIF_FUSED_ADAMW`, `RAIF_FUSED_LOGPROB`) switches the fused kernels off,
/// read once per process: the checks run per tensor and per chunk on every step.
fn switched_off(var: &'static str) -> bool {
    static ADAMW: OnceLock<bool> = OnceLock::new();
    static LOGPROB: OnceLock<bool> = OnceLock::new();
    let cell = if var == "RAIF_FUSED_ADAMW" {
        &ADAMW
    } else {
        &LOGPROB
    };
    *cell.get_or_init(|| std::env::var(var).as_deref() == Ok("0"))
}

/// The launch shape of a grid-stride kernel over `n` elements: 256 threads a block, at most
/// 32 blocks per multiprocessor of the largest cards.
fn grid(n: usize) -> LaunchConfig {
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
    let Device::Cuda(dev) = first.device() else {
        return Ok(None);
    };
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
        let name = match g.dtype() {
            DType::BF16 => "raif_sumsq_g16",
            _ => "raif_sumsq_g32",
        };
        let func = dev
            .get_or_load_custom_func(name, "raif_train", ptx()?)
            .with_context(|| format!("loading the CUDA kernel `{name}`"))?;
        let (gp, n64, slot) = (address(g)?, n as u64, base + 8 * i as u64);
        let mut b = func.builder();
        b.arg(&gp).arg(&n64).arg(&slot);
        // SAFETY: `g` is a live contiguous buffer of `n` f32/bf16 elements and `slot` one f64
        // of `out`, which lives until after the transfer below.
        unsafe { b.launch(grid(n)) }.context("launching the sum-of-squares kernel")?;
    }
    Ok(Some(out.to_vec1::<f64>()?.iter().sum()))
}

/// The device address of a contiguous tensor's first element.
fn address(t: &Tensor) -> Result<u64> {
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cuda(s) = &*storage else {
        bail!("fused adamw: a tensor is not on the CUDA device");
    };
    let Device::Cuda(dev) = t.device() else {
        bail!("fused adamw: a tensor is not on the CUDA device");
    };
    let stream = dev.cuda_stream();
    let base = match t.dtype() {
        DType::F32 => s.as_cuda_slice::<f32>()?.device_ptr(&stream).0,
        DType::BF16 => s.as_cuda_slice::<half::bf16>()?.device_ptr(&stream).0,
        DType::F64 => s.as_cuda_slice::<f64>()?.device_ptr(&stream).0,
        DType::U32 => s.as_cuda_slice::<u32>()?.device_ptr(&stream).0,
        other => bail!("fused adamw: {other:?} tensors are not supported"),
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
    for (what, t) in [("gradient", g), ("exp_avg", m), ("exp_avg_sq", v)]
        .into_iter()
        .chain(master.map(|w| ("master", w)))
    {
        if t.elem_count() != n {
            bail!(
                "fused adamw: {what} has {} elements, the parameter {n}",
                t.elem_count()
            );
        }
    }
    if n == 0 {
        return Ok(());
    }
    let Device::Cuda(dev) = p.device() else {
        bail!("fused adamw: the parameter is not on the CUDA device");
    };
    let name = match g.dtype() {
        DType::BF16 => "raif_adamw_g16",
        _ => "raif_adamw_g32",
    };
    let func = dev
        .get_or_load_custom_func(name, "raif_train", ptx()?)
        .with_context(|| format!("loading the CUDA kernel `{name}`"))?;
    let (p16, p32) = match master {
        Some(w) => (address(p)?, address(w)?),
        None => (0u64, address(p)?),
    };
    let (mp, vp, gp) = (address(m)?, address(v)?, address(g)?);
    let n64 = n as u64;
    let cfg = grid(n);
    let mut b = func.builder();
    b.arg(&p16)
        .arg(&p32)
        .arg(&mp)
        .arg(&vp)
        .arg(&gp)
        .arg(&n64)
        .arg(&h.lr)
        .arg(&h.b1)
        .arg(&h.b2)
        .arg(&h.eps)
        .arg(&h.wd)
        .arg(&h.bc1)
        .arg(&h.bc2)
        .arg(&h.gscale);
    // SAFETY: every address is a live, contiguous buffer of `n` elements of the kernel's
    // types (checked above and by `applies`); the optimizer owns `m`, `v` and the master, and
    // the parameter is written only here, on the device's one stream.
    unsafe { b.launch(cfg) }.context("launching the fused AdamW kernel")?;
    Ok(())
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

fn rows_config(rows: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (rows as u32, 1, 1),
        block_dim: (1024, 1, 1),
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
    let Device::Cuda(dev) = logits.device() else {
        bail!("fused log-probs: the logits are not on the CUDA device");
    };
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
    let name = match logits.dtype() {
        DType::BF16 => "raif_lp_stats_bf16",
        _ => "raif_lp_stats_f32",
    };
    let func = dev
        .get_or_load_custom_func(name, "raif_train", ptx()?)
        .with_context(|| format!("loading the CUDA kernel `{name}`"))?;
    let (lp_, tp, lsep) = (address(logits)?, address(&targets)?, address(&lse)?);
    let (outp, entp) = (
        address(&lp)?,
        match &ent {
            Some(e) => address(e)?,
            None => 0u64,
        },
    );
    let v64 = vocab as u64;
    let mut b = func.builder();
    b.arg(&lp_)
        .arg(&tp)
        .arg(&v64)
        .arg(&outp)
        .arg(&lsep)
        .arg(&entp);
    // SAFETY: contiguous buffers of the sizes checked above; the outputs are fresh.
    unsafe { b.launch(rows_config(rows)) }.context("launching the log-prob kernel")?;
    Ok((lp, lse, ent))
}

/// The gradient of `Σ_r g[r]·log p(targets[r])` with respect to `logits`, from the logits and
/// the forward's log-sum-exp: `g·(onehot − softmax)`, in the logits' dtype.
pub fn logprob_grad(logits: &Tensor, targets: &Tensor, lse: &Tensor, g: &Tensor) -> Result<Tensor> {
    let (rows, vocab) = logits.dims2()?;
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    let lse = lse.to_dtype(DType::F32)?.contiguous()?;
    let g = g.to_dtype(DType::F32)?.contiguous()?;
    for (what, t) in [
        ("targets", &targets),
        ("log-sum-exp", &lse),
        ("gradient", &g),
    ] {
        if t.elem_count() != rows {
            bail!(
                "fused log-prob backward: {what} has {} values for {rows} rows",
                t.elem_count()
            );
        }
    }
    let Device::Cuda(dev) = logits.device() else {
        bail!("fused log-prob backward: the logits are not on the CUDA device");
    };
    let out = Tensor::zeros((rows, vocab), logits.dtype(), logits.device())?;
    if rows == 0 {
        return Ok(out);
    }
    let name = match logits.dtype() {
        DType::BF16 => "raif_lp_grad_bf16",
        _ => "raif_lp_grad_f32",
    };
    let func = dev
        .get_or_load_custom_func(name, "raif_train", ptx()?)
        .with_context(|| format!("loading the CUDA kernel `{name}`"))?;
    let (lp_, tp, lsep, gp, outp) = (
        address(logits)?,
        address(&targets)?,
        address(&lse)?,
        address(&g)?,
        address(&out)?,
    );
    let v64 = vocab as u64;
    let mut b = func.builder();
    b.arg(&lp_)
        .arg(&tp)
        .arg(&lsep)
        .arg(&gp)
        .arg(&v64)
        .arg(&outp);
    // SAFETY: contiguous buffers of the sizes checked above; `out` is fresh.
    unsafe { b.launch(rows_config(rows)) }.context("launching the log-prob backward kernel")?;
    Ok(out)
}
