//! Does a device (and dtype) compute what the CPU computes in f32? On a tiny random model of each
//! family: the logits of the fused (generation) path (with packed q/k/v and gate/up projections,
//! also against the CPU's per-projection path, bare and with LoRA adapters), the per-token
//! log-probs of the
//! differentiable (training) path, and the gradients of one full fine-tune loss. Both sides
//! start from the same weights (rounded to the device's dtype), so what is compared is the
//! arithmetic. `raif bench
//! device-check --device cuda` runs it on a GPU (issue #9); the tests run it on the CPU in bf16.

use anyhow::Result;
use candle_core::{DType, Device, IndexOp, Tensor};
use serde::Serialize;

use crate::config::Arch;
use crate::tiny::{random_weights, tiny_config};
use crate::train::{token_logprobs, LogProbOptions, SeqBatch, Trainable};
use crate::transformer::{padded_inputs, Batch, ForwardOptions, Transformer};

/// Worst disagreements of one family.
#[derive(Clone, Debug, Serialize)]
pub struct FamilyCheck {
    pub arch: String,
    /// max |Δlogit| / max |logit| (fused forward, padded batch of two rows).
    pub logits_rel: f64,
    /// The same, the device's packed projections ([`crate::block::Packed`]) against the CPU's
    /// per-projection path; then both with LoRA adapters (nonzero B) on every projection.
    pub packed_rel: f64,
    pub packed_lora_rel: f64,
    /// max |Δ log p| over the scored tokens (differentiable forward).
    pub logprob_abs: f64,
    /// max |Δ entropy| over the scored positions (held to the log-prob tolerance).
    pub entropy_abs: f64,
    /// max over parameters of ‖Δgrad‖ / ‖grad‖ (one full fine-tune loss).
    pub grad_rel: f64,
    /// The parameter with the worst gradient.
    pub grad_worst: String,
    /// Tokens the device's sampler ([`crate::generate::DeviceSampler`]) drew differently from
    /// the host sampler on the same logits: greedy, then 32 uniforms per row at temperature 1
    /// (0 expected; f32 against f64 sums can part only within rounding of a boundary).
    pub sampler_parted: usize,
    /// max |Δ log p| of the drawn tokens, device sampler against host sampler.
    pub sampler_logprob_abs: f64,
    /// Eight decode steps of the padded batch after its prefill: the device's fixed-shape step
    /// (RoPE and the cache write in one kernel, the write column read on the device, CUDA graphs
    /// captured and replayed where the device has them) against the CPU's growing cache:
    /// max |Δlogit| / max |logit| over the steps.
    pub decode_rel: f64,
    /// Decode steps replayed from a captured graph on the device side (0 on the CPU), and why
    /// graphs were switched off, if they were.
    pub decode_graph_replays: usize,
    pub decode_graph_fallback: Option<String>,
}

/// The tolerances (logits, log-probs, gradients) a dtype is held to. f32: summation order
/// only. bf16: every activation rounded to 8 mantissa bits against f32 arithmetic; on these
/// tiny random models (weights of std 0.2, so sharp softmaxes) the CPU's own bf16 path is off by
/// up to 0.05 / 0.10 / 0.07, so the bounds leave twice that. A wrong kernel is off by O(1);
/// `--dtype f32` on the device is the tight check.
pub fn tolerances(dtype: DType) -> (f64, f64, f64) {
    match dtype {
        DType::F32 | DType::F64 => (1e-4, 1e-3, 1e-3),
        _ => (0.1, 0.25, 0.15),
    }
}

fn to_cpu_f32(t: &Tensor) -> Result<Tensor> {
    Ok(t.to_dtype(DType::F32)?.to_device(&Device::Cpu)?)
}

fn max_abs(t: &Tensor) -> Result<f64> {
    Ok(t.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()? as f64)
}

fn norm(t: &Tensor) -> Result<f64> {
    Ok((t.sqr()?.sum_all()?.to_scalar::<f32>()? as f64).sqrt())
}

struct Side {
    logits: Tensor,
    /// Fused-path logits: per projection; packed with LoRA; per projection with LoRA.
    unpacked: Tensor,
    lora: Tensor,
    lora_unpacked: Tensor,
    logp: Tensor,
    entropy: Tensor,
    grads: Vec<(String, Tensor)>,
    /// (tokens parted, worst log-prob gap) of the device sampler against the host's
    sampler: (usize, f64),
    /// The decode steps' logits `(steps, B, vocab)` and what the graphs did.
    decode: (Tensor, crate::graph::GraphStats),
}

/// Logits of `steps` decode steps of two rows (fixed tokens, teacher-forced) after a prefill of
/// `a` and `b`: the fixed-shape step through [`crate::graph::DecodeGraphs`] when `fixed`, else
/// the growing cache.
fn decode_steps(
    model: &Transformer,
    (a, b): (&[u32], &[u32]),
    fixed: bool,
    steps: usize,
) -> Result<(Tensor, crate::graph::GraphStats)> {
    use crate::graph::DecodeGraphs;
    use crate::kv_cache::KvCache;
    let device = model.device();
    let (ids, pos, mask) = padded_inputs(&[a, b], &[0, 0], 0, device)?;
    let cap = a.len().max(b.len()) + steps;
    let mut cache = match fixed {
        true => KvCache::with_capacity(&model.cfg, cap),
        false => KvCache::new(&model.cfg),
    };
    let batch = Batch {
        input_ids: &ids,
        positions: &pos,
        mask: &mask,
    };
    model.forward(&batch, Some(&mut cache), &ForwardOptions::fused())?;
    let pads = [cache.len() - a.len(), cache.len() - b.len()];
    let mut graphs = DecodeGraphs::new(device);
    let mut out = Vec::new();
    for step in 0..steps {
        let toks = [(step * 37 % 250 + 3) as u32, (step * 11 % 250 + 5) as u32];
        let rows: Vec<&[u32]> = toks.iter().map(std::slice::from_ref).collect();
        let logits = graphs.decode(model, &mut cache, &rows, &pads)?;
        // copied out before the next step (a replayed graph's logits buffer is reused)
        out.push(to_cpu_f32(&logits)?);
    }
    Ok((Tensor::stack(&out, 0)?, graphs.stats))
}

/// The device sampler against the host sampler on the same last-position logits.
fn check_sampler(last: &Tensor) -> Result<(usize, f64)> {
    use crate::generate::{sample, DeviceSampler, SamplingParams};
    use crate::rng::Rng;
    let (rows, vocab) = last.dims2()?;
    let host: Vec<Vec<f32>> = last.to_dtype(DType::F32)?.to_vec2()?;
    let sampler = DeviceSampler::new(vocab, last.device())?;
    let (mut parted, mut worst) = (0usize, 0f64);
    let mut one = |params: &SamplingParams, round: u64| -> Result<()> {
        let mut streams: Vec<Rng> = (0..rows as u64)
            .map(|i| Rng::for_stream(round, i))
            .collect();
        let u: Vec<f64> = streams.iter().map(|s| s.clone().next_f64()).collect();
        let dev = sampler.draw(last, &u, params)?;
        for (i, s) in streams.iter_mut().enumerate() {
            let (tok, lp) = sample(&host[i], params, s);
            parted += usize::from(tok != dev[i].0);
            worst = worst.max((lp - dev[i].1).abs() as f64);
        }
        Ok(())
    };
    one(&SamplingParams::greedy(1), 0)?;
    for round in 0..32 {
        one(&SamplingParams::default(), round)?;
    }
    Ok((parted, worst))
}

/// Fused-path logits of a copy of `model` with LoRA adapters (r 4, every projection) whose B
/// matrices are drawn nonzero (rounded to `weights`, as the model's weights are), so the
/// adapters' deltas count.
fn lora_logits(model: &Transformer, batch: &Batch, weights: DType) -> Result<Tensor> {
    use crate::rng::Rng;
    use crate::train::lora::LoraConfig;
    let mut m = model.clone();
    let cfg = LoraConfig {
        r: 4,
        alpha: 8.0,
        ..LoraConfig::default()
    };
    let tr = Trainable::lora(&mut m, &cfg, 5)?;
    let mut rng = Rng::new(17);
    for (name, v) in &tr.vars {
        if name.ends_with("lora_B.weight") {
            let x: Vec<f32> = (0..v.elem_count())
                .map(|_| (0.05 * rng.normal()) as f32)
                .collect();
            let t = Tensor::from_vec(x, v.shape(), &Device::Cpu)?
                .to_dtype(weights)?
                .to_dtype(v.dtype())?
                .to_device(v.device())?;
            v.set(&t)?;
        }
    }
    Ok(m.forward(batch, None, &ForwardOptions::fused())?.detach())
}

/// One side: the tiny model's weights drawn in f32, rounded to `weights` (so both sides start
/// from the same numbers and only the arithmetic differs), computed in `dtype` on `device`.
/// `fixed_decode`: its decode steps take the fixed-shape step (the device side) instead of the
/// growing cache (the CPU's reference).
fn run_side(
    arch: Arch,
    weights: DType,
    dtype: DType,
    device: &Device,
    fixed_decode: bool,
) -> Result<Side> {
    let cfg = tiny_config(arch);
    let mut w = random_weights(&cfg, 7, 0.2, DType::F32, &Device::Cpu)?;
    for t in w.values_mut() {
        *t = t.to_dtype(weights)?.to_dtype(dtype)?.to_device(device)?;
    }
    let mut model = Transformer::from_weights(cfg, w, "device-check")?;
    // (packed at load unless `RAIF_FUSED_PROJ=0`; the check wants the packed path either way)
    model.fuse_projections()?;
    let layers = model.layers.len();
    if model.packed_projections() != (layers, layers) {
        anyhow::bail!("{arch:?}: the projections were not packed");
    }
    let a: Vec<u32> = (0..40).map(|i| (i * 37 % 250 + 1) as u32).collect();
    let b: Vec<u32> = (0..27).map(|i| (i * 11 % 250 + 2) as u32).collect();
    let (ids, pos, mask) = padded_inputs(&[&a, &b], &[0, 0], 0, device)?;
    let batch = Batch {
        input_ids: &ids,
        positions: &pos,
        mask: &mask,
    };
    let logits = model.forward(&batch, None, &ForwardOptions::fused())?;
    let mut plain = model.clone();
    plain.unfuse_projections()?;
    let unpacked = plain.forward(&batch, None, &ForwardOptions::fused())?;
    let lora = lora_logits(&model, &batch, weights)?;
    let lora_unpacked = lora_logits(&plain, &batch, weights)?;
    drop(plain);
    let sampler = check_sampler(&logits.i((.., logits.dim(1)? - 1, ..))?.contiguous()?)?;
    let decode = decode_steps(&model, (&a, &b), fixed_decode, 8)?;
    let tr = Trainable::full(&mut model)?;
    tr.set_training(true);
    let sb = SeqBatch::new(&[a.clone(), b.clone()], &[10, 5], device)?;
    let out = token_logprobs(&model, &sb, &LogProbOptions::policy().with_entropy())?;
    let lp = out.logp;
    let entropy = match out.entropy {
        Some(e) => to_cpu_f32(&(e * &sb.loss_mask)?)?,
        None => anyhow::bail!("no entropy from the log-prob pass"),
    };
    let n: usize = sb.counts.iter().sum();
    let loss = ((&lp * &sb.loss_mask)?.sum_all()?.neg()? / n as f64)?;
    let store = loss.backward()?;
    let mut grads = Vec::new();
    for (name, v) in &tr.vars {
        if let Some(g) = store.get(v.as_tensor()) {
            grads.push((name.clone(), to_cpu_f32(g)?));
        }
    }
    Ok(Side {
        logits: to_cpu_f32(&logits)?,
        unpacked: to_cpu_f32(&unpacked)?,
        lora: to_cpu_f32(&lora)?,
        lora_unpacked: to_cpu_f32(&lora_unpacked)?,
        logp: to_cpu_f32(&(lp * &sb.loss_mask)?)?,
        entropy,
        grads,
        sampler,
        decode,
    })
}

/// Compare `device`/`dtype` with the CPU in f32 on the tiny model of every family.
pub fn check(device: &Device, dtype: DType) -> Result<Vec<FamilyCheck>> {
    let mut out = Vec::new();
    for arch in Arch::ALL {
        let want = run_side(arch, dtype, DType::F32, &Device::Cpu, false)?;
        let got = run_side(arch, dtype, dtype, device, true)?;
        if want.grads.is_empty() || got.grads.len() != want.grads.len() {
            anyhow::bail!(
                "{arch:?}: {} gradients on the device, {} on the CPU",
                got.grads.len(),
                want.grads.len()
            );
        }
        let rel = |g: &Tensor, w: &Tensor| -> Result<f64> { Ok(max_abs(&(g - w)?)? / max_abs(w)?) };
        let logits_rel = rel(&got.logits, &want.logits)?;
        let packed_rel = rel(&got.logits, &want.unpacked)?;
        let packed_lora_rel = rel(&got.lora, &want.lora_unpacked)?;
        let decode_rel = rel(&got.decode.0, &want.decode.0)?;
        let logprob_abs = max_abs(&(&got.logp - &want.logp)?)?;
        let entropy_abs = max_abs(&(&got.entropy - &want.entropy)?)?;
        let (mut grad_rel, mut grad_worst) = (-1.0f64, String::new());
        for ((name, g), (_, w)) in got.grads.iter().zip(&want.grads) {
            let r = norm(&(g - w)?)? / norm(w)?.max(1e-12);
            if r > grad_rel {
                (grad_rel, grad_worst) = (r, name.clone());
            }
        }
        out.push(FamilyCheck {
            arch: format!("{arch:?}"),
            logits_rel,
            packed_rel,
            packed_lora_rel,
            logprob_abs,
            entropy_abs,
            grad_rel,
            grad_worst,
            sampler_parted: got.sampler.0,
            sampler_logprob_abs: got.sampler.1,
            decode_rel,
            decode_graph_replays: got.decode.1.replayed,
            decode_graph_fallback: got.decode.1.fallback.clone(),
        });
    }
    Ok(out)
}

/// How far the device's AdamW may move from the CPU's, relative to the size of the update:
/// both are f32 arithmetic on the same numbers, so only rounding (and the order of the
/// gradient-norm sum) may differ. A wrong moment, bias correction or cast is off by O(1).
pub const ADAMW_TOL: f64 = 1e-4;

/// Three AdamW steps (with weight decay and gradient clipping) on `device`, the parameter held
/// in `dtype` (bf16: with its f32 master copy), against the CPU's f32 update from the same
/// starting values and gradients. Returns the larger of max |Δ master| / max |update| over the
/// parameter and the relative error of the gradient norm (Adam's update does not depend on the
/// clipping scale, so a wrong norm needs its own check).
pub fn check_adamw(device: &Device, dtype: DType) -> Result<f64> {
    use crate::rng::Rng;
    use crate::train::optim::{AdamW, AdamWConfig};
    use candle_core::Var;
    // an odd size, so no kernel's blocks divide it evenly
    let shape = (129, 77);
    let n = 129 * 77;
    let mut rng = Rng::new(11);
    let mut draw = |scale: f64| -> Result<Tensor> {
        let x: Vec<f32> = (0..n).map(|_| (rng.normal() * scale) as f32).collect();
        // rounded to the dtype, so both sides start from the same numbers
        Ok(Tensor::from_vec(x, shape, &Device::Cpu)?
            .to_dtype(dtype)?
            .to_dtype(DType::F32)?)
    };
    let p0 = draw(0.2)?;
    let grads: Vec<Tensor> = (0..3).map(|_| draw(1.0)).collect::<Result<_>>()?;
    let cfg = AdamWConfig {
        weight_decay: 0.1,
        // below the gradients' norm (about 100), so every step is clipped
        max_grad_norm: Some(1.0),
        ..AdamWConfig::default()
    };
    let run = |dev: &Device, dt: DType| -> Result<Tensor> {
        let var = Var::from_tensor(&p0.to_dtype(dt)?.to_device(dev)?)?;
        let vars = vec![("p".to_string(), var)];
        let mut opt = AdamW::new(&vars, cfg.clone())?;
        for g in &grads {
            let g = g.to_dtype(dt)?.to_device(dev)?;
            opt.step(&vars, &[Some(g)], 1e-2, 1.0)?;
        }
        let w = opt.master(0).unwrap_or(vars[0].1.as_tensor());
        to_cpu_f32(w)
    };
    let want = run(&Device::Cpu, DType::F32)?;
    let got = run(device, dtype)?;
    let norm_of = |g: &Tensor, dev: &Device| -> Result<f64> {
        AdamW::grad_norm(&[Some(g.to_dtype(dtype)?.to_device(dev)?)])
    };
    let (norm_want, norm_got) = (
        norm_of(&grads[0], &Device::Cpu)?,
        norm_of(&grads[0], device)?,
    );
    let update = max_abs(&(&got - &want)?)? / max_abs(&(&want - &p0)?)?;
    Ok(update.max((norm_got - norm_want).abs() / norm_want))
}

/// Whether every family is within the dtype's tolerances.
pub fn passes(checks: &[FamilyCheck], dtype: DType) -> bool {
    let (tl, tp, tg) = tolerances(dtype);
    checks.iter().all(|c| {
        c.logits_rel <= tl
            && c.packed_rel <= tl
            && c.packed_lora_rel <= tl
            && c.decode_rel <= tl
            && c.logprob_abs <= tp
            && c.entropy_abs <= tp
            && c.grad_rel <= tg
            && c.sampler_parted == 0
            && c.sampler_logprob_abs <= 1e-4
    })
}
