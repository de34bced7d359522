//! Per-token log-probabilities (and entropy) of given target tokens over a padded batch, with a
//! backward that never materialises the whole `(B, T, vocab)` logits: the forward and the
//! backward both walk the positions in chunks.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Result};
use candle_core::backend::{BackendDevice, BackendStorage};
use candle_core::{
    CpuStorage, CudaStorage, CustomOp2, CustomOp3, DType, Device, Layout, Shape, Tensor, D,
};

use crate::train::recompute::SideGrads;
use crate::transformer::{padded_inputs, Batch, ForwardOptions, Transformer};

/// Rows of logits computed at once.
const CHUNK: usize = 256;

/// A padded batch of token sequences, each split into a prompt and a scored continuation.
pub struct SeqBatch {
    pub input_ids: Tensor,
    pub positions: Tensor,
    pub mask: Tensor,
    /// `(B, T)` u32: the token each column predicts (the next token), 0 where none.
    pub targets: Tensor,
    /// `(B, T)` f32: 1 where the column's target is a scored token.
    pub loss_mask: Tensor,
    /// Scored tokens per row.
    pub counts: Vec<usize>,
    /// Left padding per row.
    pub pads: Vec<usize>,
}

impl SeqBatch {
    /// `seqs[b]` = prompt + continuation; the tokens from `starts[b]` on are scored. Rows are
    /// left-padded like generation batches.
    pub fn new(seqs: &[Vec<u32>], starts: &[usize], device: &Device) -> Result<Self> {
        Self::masked(seqs, starts, &[], device)
    }

    /// [`SeqBatch::new`] where the tokens at `excluded[b]` (positions in `seqs[b]`, e.g. tokens
    /// injected by budget forcing) are not scored either: their columns are 0 in `loss_mask`,
    /// so they carry no loss, no ratio and no gradient. `excluded` may be empty (none).
    pub fn masked(
        seqs: &[Vec<u32>],
        starts: &[usize],
        excluded: &[Vec<usize>],
        device: &Device,
    ) -> Result<Self> {
        if seqs.len() != starts.len()
            || seqs.is_empty()
            || !(excluded.is_empty() || excluded.len() == seqs.len())
        {
            bail!(
                "SeqBatch: {} sequences, {} starts, {} exclusion lists",
                seqs.len(),
                starts.len(),
                excluded.len()
            );
        }
        let t = seqs.iter().map(Vec::len).max().unwrap_or(0);
        let mut targets = vec![0u32; seqs.len() * t];
        let mut lmask = vec![0f32; seqs.len() * t];
        let mut counts = Vec::with_capacity(seqs.len());
        let mut pads = Vec::with_capacity(seqs.len());
        for (b, (s, &start)) in seqs.iter().zip(starts).enumerate() {
            if start == 0 || start > s.len() {
                bail!("SeqBatch: row {b} scores from token {start} of {} (the first token has no prediction)", s.len());
            }
            let pad = t - s.len();
            pads.push(pad);
            let skip = excluded.get(b).map(Vec::as_slice).unwrap_or(&[]);
            let mut n = 0;
            for j in 0..s.len() - 1 {
                targets[b * t + pad + j] = s[j + 1];
                if j + 1 >= start && !skip.contains(&(j + 1)) {
                    lmask[b * t + pad + j] = 1.0;
                    n += 1;
                }
            }
            counts.push(n);
        }
        let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
        let (input_ids, positions, mask) = padded_inputs(&refs, &vec![0; seqs.len()], 0, device)?;
        Ok(SeqBatch {
            input_ids,
            positions,
            mask,
            targets: Tensor::from_vec(targets, (seqs.len(), t), device)?,
            loss_mask: Tensor::from_vec(lmask, (seqs.len(), t), device)?,
            counts,
            pads,
        })
    }

    /// The inverse of [`SeqBatch::row_values`]: a `(B, T)` f32 tensor holding `rows[b]` at row
    /// b's scored columns, in order, and 0 elsewhere (e.g. log-probs computed earlier for the
    /// same sequences and exclusions).
    pub fn scatter_rows(&self, rows: &[Vec<f32>]) -> Result<Tensor> {
        let (b, t) = self.loss_mask.dims2()?;
        if rows.len() != b {
            bail!(
                "SeqBatch::scatter_rows: {} rows for a batch of {b}",
                rows.len()
            );
        }
        let mask: Vec<Vec<f32>> = self.loss_mask.to_vec2()?;
        let mut grid = vec![0f32; b * t];
        for (r, vals) in rows.iter().enumerate() {
            if vals.len() != self.counts[r] {
                bail!(
                    "SeqBatch::scatter_rows: row {r} has {} values for {} scored tokens",
                    vals.len(),
                    self.counts[r]
                );
            }
            let cols = (0..t).filter(|&c| mask[r][c] > 0.0);
            for (c, v) in cols.zip(vals) {
                grid[r * t + c] = *v;
            }
        }
        Ok(Tensor::from_vec(grid, (b, t), self.loss_mask.device())?)
    }

    /// The scored values of row `b` of a `(B, T)` tensor, in order.
    pub fn row_values(&self, t: &Tensor, b: usize) -> Result<Vec<f32>> {
        let row: Vec<f32> = t.get(b)?.to_dtype(DType::F32)?.to_vec1()?;
        let m: Vec<f32> = self.loss_mask.get(b)?.to_vec1()?;
        Ok(row
            .into_iter()
            .zip(m)
            .filter(|(_, m)| *m > 0.0)
            .map(|(v, _)| v)
            .collect())
    }
}

/// Per-token log-probs `(B, T)` (differentiable) and, on request, entropy `(B, T)` (no grad).
pub struct LogProbs {
    pub logp: Tensor,
    pub entropy: Option<Tensor>,
}

/// Log-softmax of one chunk of logits at the targets, and the entropy of each row.
/// The dtype the softmax is computed in: f64 stays f64 (gradient checks), the rest use f32.
fn stat_dtype(d: DType) -> DType {
    if d == DType::F64 {
        DType::F64
    } else {
        DType::F32
    }
}

fn chunk_stats(
    logits: &Tensor,
    targets: &Tensor,
    entropy: bool,
) -> Result<(Tensor, Option<Tensor>, Tensor)> {
    let lsm = log_softmax_stat(logits)?;
    let lp = lsm.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?;
    let ent = if entropy {
        Some((lsm.exp()? * &lsm)?.sum(D::Minus1)?.neg()?)
    } else {
        None
    };
    Ok((lp, ent, lsm))
}

/// The log-softmax of a chunk of logits, in the statistics dtype: the one definition the
/// forward values and the backward's probabilities (`exp` of it) both come from, so that a
/// backward from kept chunks and one from recomputed chunks give the same bits.
fn log_softmax_stat(logits: &Tensor) -> candle_core::Result<Tensor> {
    let logits = logits.to_dtype(stat_dtype(logits.dtype()))?;
    candle_nn::ops::log_softmax(&logits, D::Minus1)
}

/// The forward keeps its chunks of logits (the CPU's fused path) or log-softmax (the composite
/// path) for the backward while they take at most this many bytes (default 512 MiB: 8 × 256
/// positions of a 49k vocabulary in f32 are 403 MB);
/// beyond, the backward computes them again (a second output-layer matmul, ~4% of a LoRA step
/// of the default model) so that memory stays bounded by one chunk at long sequences and
/// large vocabularies. Both give the same bits. 0: always recompute.
pub static KEEP_LSM_BYTES: AtomicUsize = AtomicUsize::new(512 << 20);

/// Zero in the forward; in the backward, the gradient of `Σ g·logp(target)` with respect to
/// the hidden states and (when it is trainable) the output weight, chunk by chunk.
struct LogProbGrad {
    targets: Tensor,
    want_w_grad: bool,
    /// The forward's chunks (rows `CHUNK·k ..`) when they were small enough to keep: logits
    /// beside `lse`, log-softmax without it.
    kept: Option<Vec<Tensor>>,
    /// The forward's per-row log-sum-exp chunks, when the fused kernels (CUDA, or the CPU's in
    /// f32) computed it: the backward then writes each chunk's logit gradient in one pass.
    lse: Option<Vec<Tensor>>,
}

impl LogProbGrad {
    fn zeros_like_rows(l1: &Layout) -> candle_core::Result<Shape> {
        Ok(Shape::from(l1.shape().dims2()?.0))
    }
}

impl CustomOp2 for LogProbGrad {
    fn name(&self) -> &'static str {
        "logprob-grad"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        _s2: &CpuStorage,
        _l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let shape = Self::zeros_like_rows(l1)?;
        Ok((
            s1.device().zeros_impl(&shape, stat_dtype(s1.dtype()))?,
            shape,
        ))
    }
    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        _s2: &CudaStorage,
        _l2: &Layout,
    ) -> candle_core::Result<(CudaStorage, Shape)> {
        let shape = Self::zeros_like_rows(l1)?;
        Ok((
            s1.device().zeros_impl(&shape, stat_dtype(s1.dtype()))?,
            shape,
        ))
    }
    fn bwd(
        &self,
        h: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let n = h.dim(0)?;
        let h = h.detach();
        let w = w.detach();
        let sdt = stat_dtype(h.dtype());
        let grad = grad.detach().to_dtype(sdt)?;
        let mut gh = Vec::new();
        let mut gw: Option<Tensor> = None;
        let mut start = 0;
        let mut k = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            let hc = h.narrow(0, start, len)?;
            let gl = if let Some(lse) = self.lse.as_ref().and_then(|c| c.get(k)) {
                let logits = match self.kept.as_ref().and_then(|c| c.get(k)) {
                    Some(l) => l.clone(),
                    None => hc.matmul(&w.t()?)?,
                };
                fused_grad(
                    &logits,
                    &self.targets.narrow(0, start, len)?,
                    lse,
                    &grad.narrow(0, start, len)?,
                )?
            } else {
                let lsm = match self.kept.as_ref().and_then(|c| c.get(k)) {
                    Some(l) => l.clone(),
                    None => log_softmax_stat(&hc.matmul(&w.t()?)?)?,
                };
                let p = lsm.exp()?;
                let tc = self.targets.narrow(0, start, len)?.unsqueeze(1)?;
                let gc = grad.narrow(0, start, len)?.unsqueeze(1)?;
                // d logp[target] / d logits = onehot - softmax: −g·p everywhere, + g at the
                // target.
                p.broadcast_mul(&gc.neg()?)?
                    .scatter_add(&tc, &gc, 1)?
                    .to_dtype(h.dtype())?
            };
            gh.push(gl.matmul(&w)?);
            if self.want_w_grad {
                let part = gl.t()?.matmul(&hc)?;
                gw = Some(match gw {
                    Some(acc) => (acc + part)?,
                    None => part,
                });
            }
            start += len;
            k += 1;
        }
        Ok((Some(Tensor::cat(&gh, 0)?), gw))
    }
}

/// The fused CUDA statistics of one chunk of logits (`(lp, lse, entropy)`), where they apply.
#[cfg(feature = "cuda")]
fn fused_stats(
    logits: &Tensor,
    targets: &Tensor,
    entropy: bool,
) -> Result<Option<(Tensor, Tensor, Option<Tensor>)>> {
    if let Some(s) = cpu_stats(logits, targets, entropy)? {
        return Ok(Some(s));
    }
    if !crate::ops::cuda::logprob_applies(logits) {
        return Ok(None);
    }
    Ok(Some(crate::ops::cuda::logprob_stats(
        logits, targets, entropy,
    )?))
}

#[cfg(not(feature = "cuda"))]
fn fused_stats(
    logits: &Tensor,
    targets: &Tensor,
    entropy: bool,
) -> Result<Option<(Tensor, Tensor, Option<Tensor>)>> {
    cpu_stats(logits, targets, entropy)
}

/// The statistics of one f32 chunk of logits on the CPU (None elsewhere): per row, one pass
/// for the maximum and one for the sum of exponentials (`kernels::row_lse`), where candle's
/// composite log-softmax makes five passes over the chunk and a scalar `exp`.
fn cpu_stats(
    logits: &Tensor,
    targets: &Tensor,
    entropy: bool,
) -> Result<Option<(Tensor, Tensor, Option<Tensor>)>> {
    if !logits.device().is_cpu() || logits.dtype() != DType::F32 {
        return Ok(None);
    }
    let targets = targets.to_dtype(DType::U32)?;
    let st = logits.apply_op2_no_bwd(&targets, &CpuLogitStats { entropy })?;
    let (lp, lse) = (st.get(0)?, st.get(1)?);
    Ok(Some((lp, lse, entropy.then(|| st.get(2)).transpose()?)))
}

/// `(logits (R, V) f32, targets (R) u32)` → `(3, R)`: the log-prob of each row's target, the
/// row's log-sum-exp and its entropy (0 unless asked for).
struct CpuLogitStats {
    entropy: bool,
}

/// The rows of an f32 `(R, V)` chunk and its u32 targets, checked.
fn logits_and_targets<'a>(
    s1: &'a CpuStorage,
    l1: &Layout,
    s2: &'a CpuStorage,
    l2: &Layout,
) -> candle_core::Result<(&'a [f32], &'a [u32], usize)> {
    let (rows, vocab) = l1.shape().dims2()?;
    match (s1, s2, l1.contiguous_offsets(), l2.contiguous_offsets()) {
        (CpuStorage::F32(x), CpuStorage::U32(t), Some((a, b)), Some((c, d))) if d - c == rows => {
            let t = &t[c..d];
            if let Some(bad) = t.iter().find(|&&t| t as usize >= vocab) {
                candle_core::bail!("log-probs: target {bad} outside the vocabulary of {vocab}");
            }
            Ok((&x[a..b], t, vocab))
        }
        _ => candle_core::bail!(
            "log-probs: contiguous f32 logits {:?} and u32 targets {:?} expected",
            l1.shape(),
            l2.shape()
        ),
    }
}

impl CustomOp2 for CpuLogitStats {
    fn name(&self) -> &'static str {
        "logit-stats"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        use rayon::prelude::*;
        let (x, t, vocab) = logits_and_targets(s1, l1, s2, l2)?;
        let rows = t.len();
        let mut out = vec![0f32; 3 * rows];
        let (lp, rest) = out.split_at_mut(rows);
        let (lse, ent) = rest.split_at_mut(rows);
        lp.par_iter_mut()
            .zip(lse.par_iter_mut().zip(ent.par_iter_mut()))
            .zip(x.par_chunks(vocab).zip(t.par_iter()))
            .for_each(|((lp, (lse, ent)), (row, &t))| {
                let (max, ln_sum, h) = crate::ops::cpu::row_lse(row, self.entropy);
                *lse = max + ln_sum;
                *lp = (row[t as usize] - max) - ln_sum;
                *ent = if self.entropy { h } else { 0.0 };
            });
        Ok((CpuStorage::F32(out), Shape::from((3, rows))))
    }
}

/// `(logits (R, V) f32, targets (R) u32, [lse; g] (2, R) f32)` → the logit gradient
/// `g · (onehot(target) − softmax(logits))`, in one pass per row.
struct CpuLogitGrad;

impl CustomOp3 for CpuLogitGrad {
    fn name(&self) -> &'static str {
        "logit-grad"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        use rayon::prelude::*;
        let (x, t, vocab) = logits_and_targets(s1, l1, s2, l2)?;
        let rows = t.len();
        let lg = match (s3, l3.contiguous_offsets()) {
            (CpuStorage::F32(v), Some((a, b))) if b - a == 2 * rows => &v[a..b],
            _ => candle_core::bail!("log-probs: (2, {rows}) f32 lse and gradient expected"),
        };
        let (lse, g) = lg.split_at(rows);
        let mut out = vec![0f32; rows * vocab];
        out.par_chunks_mut(vocab)
            .zip(x.par_chunks(vocab))
            .zip(t.par_iter().zip(lse.par_iter().zip(g.par_iter())))
            .for_each(|((o, row), (&t, (&lse, &g)))| {
                crate::ops::cpu::row_logit_grad(row, lse, g, o);
                o[t as usize] += g;
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// The logit gradient of one chunk from its log-sum-exp (only reached when [`fused_stats`]
/// ran in the forward).
fn fused_grad(
    logits: &Tensor,
    targets: &Tensor,
    lse: &Tensor,
    g: &Tensor,
) -> candle_core::Result<Tensor> {
    if logits.device().is_cpu() {
        let lg = Tensor::stack(&[lse, &g.to_dtype(DType::F32)?], 0)?;
        return logits.apply_op3_no_bwd(&targets.to_dtype(DType::U32)?, &lg, &CpuLogitGrad);
    }
    #[cfg(feature = "cuda")]
    {
        crate::ops::cuda::logprob_grad(logits, targets, lse, g)
            .map_err(|e| candle_core::Error::Msg(format!("{e:#}")))
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (logits, targets, lse, g);
        Err(candle_core::Error::Msg(
            "fused log-prob backward without the cuda feature".into(),
        ))
    }
}

/// What a log-prob pass computes, and how.
#[derive(Clone, Copy, Debug)]
pub struct LogProbOptions<'a> {
    /// `false` switches LoRA adapters off: the reference policy of a LoRA run.
    pub adapters: bool,
    /// Also the entropy of each position's distribution.
    pub entropy: bool,
    /// Gradient checkpointing: the block parameters' gradients arrive here (see
    /// [`crate::train::optim::GradAccum::add`]).
    pub recompute: Option<&'a SideGrads>,
}

impl LogProbOptions<'static> {
    /// The trained policy: adapters on, no entropy, no recomputation.
    pub const fn policy() -> Self {
        LogProbOptions {
            adapters: true,
            entropy: false,
            recompute: None,
        }
    }
}

impl<'a> LogProbOptions<'a> {
    /// Adapters on (the policy) or off (a LoRA run's reference policy).
    pub const fn adapters(mut self, on: bool) -> Self {
        self.adapters = on;
        self
    }

    /// Also compute the entropy.
    pub const fn with_entropy(mut self) -> Self {
        self.entropy = true;
        self
    }

    /// Gradient checkpointing into `side` (none: keep every activation).
    pub fn recompute<'b>(self, side: Option<&'b SideGrads>) -> LogProbOptions<'b> {
        LogProbOptions {
            adapters: self.adapters,
            entropy: self.entropy,
            recompute: side,
        }
    }
}

/// Log-probabilities of `batch.targets` under the model: `(B, T)`, differentiable with respect
/// to the model's trainable parameters, with the entropy when `opts.entropy`.
pub fn token_logprobs(
    model: &Transformer,
    batch: &SeqBatch,
    opts: &LogProbOptions,
) -> Result<LogProbs> {
    let (adapters, entropy) = (opts.adapters, opts.entropy);
    let (b, t) = batch.input_ids.dims2()?;
    let hidden = model.forward_hidden(
        &Batch {
            input_ids: &batch.input_ids,
            positions: &batch.positions,
            mask: &batch.mask,
        },
        None,
        &ForwardOptions::differentiable()
            .adapters(adapters)
            .recompute(opts.recompute),
    )?;
    let h = hidden.reshape((b * t, model.cfg.hidden_size))?;
    let w = model.output_weight();
    let targets = batch.targets.flatten_all()?;
    // Values, without a graph, chunk by chunk.
    let hd = h.detach();
    let wd = w.detach();
    let (mut lps, mut ents) = (Vec::new(), Vec::new());
    let graph = h.track_op() || w.is_variable();
    let vocab = wd.dim(0)?;
    let keep = graph
        && b * t * vocab * stat_dtype(h.dtype()).size_in_bytes()
            <= KEEP_LSM_BYTES.load(Ordering::Relaxed);
    let mut kept = Vec::new();
    let mut lses = Vec::new();
    let mut start = 0;
    while start < b * t {
        let len = CHUNK.min(b * t - start);
        let logits = hd.narrow(0, start, len)?.matmul(&wd.t()?)?;
        let tc = targets.narrow(0, start, len)?;
        if let Some((lp, lse, ent)) = fused_stats(&logits, &tc, entropy)? {
            lps.push(lp);
            ents.extend(ent);
            lses.push(lse);
            // (on the CPU the logits are kept for the backward while they fit the budget, as
            // the log-softmax is on the composite path; on CUDA they are computed again, as
            // before: GPU memory is the scarcer)
            if keep && logits.device().is_cpu() {
                kept.push(logits);
            }
            start += len;
            continue;
        }
        let (lp, ent, lsm) = chunk_stats(&logits, &tc, entropy)?;
        lps.push(lp);
        if let Some(e) = ent {
            ents.push(e);
        }
        if keep {
            kept.push(lsm);
        }
        start += len;
    }
    // In the statistics dtype (f32 for a bf16 model): rounding log-probs to bf16 would put up
    // to ±0.02 of noise into every importance ratio exp(logp − old logp).
    let values = Tensor::cat(&lps, 0)?.to_dtype(stat_dtype(h.dtype()))?;
    // The graph: values + (zero whose backward is the chunked gradient).
    let fused = !lses.is_empty();
    let op = LogProbGrad {
        targets: targets.clone(),
        want_w_grad: w.is_variable(),
        kept: (keep && !kept.is_empty()).then_some(kept),
        lse: fused.then_some(lses),
    };
    let logp = if graph {
        (values + h.apply_op2(w, op)?)?
    } else {
        values
    };
    let logp = logp.to_dtype(stat_dtype(h.dtype()))?.reshape((b, t))?;
    let entropy = if entropy {
        Some(Tensor::cat(&ents, 0)?.reshape((b, t))?)
    } else {
        None
    };
    Ok(LogProbs { logp, entropy })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(n: usize, seed: usize, spread: f32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f32 / 1000.0 - 0.5) * spread)
            .collect()
    }

    fn close(a: &Tensor, b: &Tensor, tol: f32, what: &str) {
        let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a.len(), b.len(), "{what}");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= tol * (1.0 + y.abs()),
                "{what}[{i}]: {x} vs {y}"
            );
        }
    }

    /// The CPU's fused statistics and logit gradient against the composite log-softmax they
    /// replace, on rows whose length is not a multiple of the 16 lanes and whose logits
    /// spread over ±40.
    #[test]
    fn cpu_fused_log_softmax_matches_the_composite_definition() {
        let dev = Device::Cpu;
        let (rows, vocab) = (6, 53);
        let logits = Tensor::from_vec(det(rows * vocab, 1, 80.0), (rows, vocab), &dev).unwrap();
        let targets = Tensor::new(&[0u32, 52, 5, 17, 3, 40], &dev).unwrap();
        let (lp, lse, ent) = cpu_stats(&logits, &targets, true).unwrap().unwrap();
        let (lp_ref, ent_ref, lsm) = chunk_stats(&logits, &targets, true).unwrap();
        close(&lp, &lp_ref, 2e-6, "logp");
        close(&ent.unwrap(), &ent_ref.unwrap(), 2e-6, "entropy");
        let g = Tensor::from_vec(det(rows, 2, 3.0), rows, &dev).unwrap();
        let gl = fused_grad(&logits, &targets, &lse, &g).unwrap();
        let gc = g.unsqueeze(1).unwrap();
        let want = lsm
            .exp()
            .unwrap()
            .broadcast_mul(&gc.neg().unwrap())
            .unwrap()
            .scatter_add(&targets.unsqueeze(1).unwrap(), &gc, 1)
            .unwrap();
        close(&gl, &want, 2e-6, "logit gradient");
        // a target outside the vocabulary is an error, not a read out of bounds
        let bad = Tensor::new(&[0u32, 53, 5, 17, 3, 40], &dev).unwrap();
        let e = cpu_stats(&logits, &bad, false).unwrap_err().to_string();
        assert!(e.contains("outside the vocabulary"), "{e}");
    }
}
