//! The decoder-only transformer shared by Llama, Qwen2 and Mistral: RMSNorm, RoPE (with Llama-3
//! scaling), grouped-query attention, SwiGLU, optional q/k/v bias, tied or untied embeddings.
//!
//! One forward serves generation and training ([`ForwardOptions`]): fused kernels without a
//! backward for speed, or the differentiable ops of [`crate::ops::layer`]; LoRA adapters on or
//! off; gradient checkpointing. It takes a padded batch: per-row positions and an additive
//! attention mask. The blocks are in [`crate::block`], the KV cache in [`crate::kv_cache`].

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};

use crate::block::{Block, BlockCtx, ForwardPath, Linear, RmsNorm};
use crate::config::ModelConfig;
use crate::kv_cache::KvCache;
use crate::proj::Proj;
use crate::train::recompute::{recomputed_block, SideGrads};
use crate::weights::{self, Weights};

/// The model. Parameters are plain tensors, so the same struct can hold frozen weights for
/// generation or `Var`-backed tensors for training.
#[derive(Clone, Debug)]
pub struct Transformer {
    pub cfg: ModelConfig,
    pub embed_tokens: Tensor,
    pub layers: Vec<Block>,
    pub norm: RmsNorm,
    /// `None` when the embeddings are tied.
    pub lm_head: Option<Tensor>,
    inv_freq: Tensor,
}

/// Inputs of one forward over a padded batch.
pub struct Batch<'a> {
    /// `(B, T)` token ids (u32).
    pub input_ids: &'a Tensor,
    /// `(B, T)` positions (u32) of each token within its own sequence.
    pub positions: &'a Tensor,
    /// `(B, T, T_cache + T)` additive mask: 0 where a query may attend, −∞ elsewhere.
    pub mask: &'a Tensor,
}

/// How a forward runs.
#[derive(Clone, Copy, Debug)]
pub struct ForwardOptions<'a> {
    /// Which kernels: fused (generation; no backward) or differentiable (training).
    pub path: ForwardPath,
    /// `false` switches LoRA adapters off: the reference policy of a LoRA run (the base model,
    /// no second copy of the weights).
    pub adapters: bool,
    /// Gradient checkpointing: each block keeps only its input for the backward and recomputes
    /// its activations there; the block parameters' gradients are delivered here. Not used
    /// with a KV cache.
    pub recompute: Option<&'a SideGrads>,
}

impl ForwardOptions<'static> {
    /// Generation's forward: fused kernels, adapters on.
    pub const fn fused() -> Self {
        ForwardOptions {
            path: ForwardPath::Fused,
            adapters: true,
            recompute: None,
        }
    }

    /// Training's forward: differentiable ops, adapters on, no recomputation.
    pub const fn differentiable() -> Self {
        ForwardOptions {
            path: ForwardPath::Differentiable,
            adapters: true,
            recompute: None,
        }
    }
}

impl<'a> ForwardOptions<'a> {
    /// These options with LoRA adapters on or off.
    pub const fn adapters(self, on: bool) -> Self {
        ForwardOptions {
            adapters: on,
            ..self
        }
    }

    /// These options with gradient checkpointing into `side` (none: off).
    pub fn recompute<'b>(self, side: Option<&'b SideGrads>) -> ForwardOptions<'b> {
        ForwardOptions {
            path: self.path,
            adapters: self.adapters,
            recompute: side,
        }
    }
}

impl Default for ForwardOptions<'static> {
    fn default() -> Self {
        ForwardOptions::fused()
    }
}

impl Transformer {
    /// Build from checked weights (HF names). The weights are moved in, not copied.
    pub fn from_weights(cfg: ModelConfig, mut w: Weights, source: &str) -> Result<Self> {
        cfg.validate()?;
        weights::check(&cfg, &w, source)?;
        let device = w
            .get("model.embed_tokens.weight")
            .map(|t| t.device().clone())
            .unwrap_or(Device::Cpu);
        let mut take = |name: String| -> Result<Tensor> {
            w.remove(&name)
                .with_context(|| format!("{source}: missing tensor `{name}`"))
        };
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| Block::from_weights(&cfg, i, &mut take))
            .collect::<Result<Vec<_>>>()?;
        let embed_tokens = take("model.embed_tokens.weight".into())?;
        let norm = RmsNorm {
            weight: take("model.norm.weight".into())?,
            eps: cfg.rms_norm_eps,
        };
        let lm_head = if cfg.tie_word_embeddings {
            None
        } else {
            Some(take("lm_head.weight".into())?)
        };
        let inv_freq = Tensor::new(cfg.rope_inv_freq(), &device)?;
        let mut model = Transformer {
            cfg,
            embed_tokens,
            layers,
            norm,
            lm_head,
            inv_freq,
        };
        if std::env::var("RAIF_FUSED_PROJ").as_deref() != Ok("0") {
            model.fuse_projections()?;
        }
        Ok(model)
    }

    /// Pack every block's q/k/v and gate/up weights for generation's fused forward, one matmul
    /// per group ([`crate::block::Packed`]): the weights are concatenated once and each
    /// projection keeps a view, so memory does not grow. [`Transformer::from_weights`] calls
    /// it (unless `RAIF_FUSED_PROJ=0`, for comparisons); after weights were swapped for
    /// inference (a merged adapter, say), calling it again packs the new ones. Training is
    /// unaffected: a swapped or `Var` weight simply takes the per-projection path. Returns how
    /// many groups were packed now.
    pub fn fuse_projections(&mut self) -> Result<usize> {
        let mut n = 0;
        for l in &mut self.layers {
            n += l.fuse_projections()?;
        }
        Ok(n)
    }

    /// Undo [`Transformer::fuse_projections`]: every projection owns its weights again and the
    /// fused path goes projection by projection (the reference the packed path is tested
    /// against).
    pub fn unfuse_projections(&mut self) -> Result<()> {
        for l in &mut self.layers {
            l.unfuse_projections()?;
        }
        Ok(())
    }

    /// How many blocks take the packed q/k/v matmul and the packed gate/up matmul on the fused
    /// path now.
    pub fn packed_projections(&self) -> (usize, usize) {
        self.layers.iter().fold((0, 0), |(q, g), l| {
            let (a, b) = l.projections_packed();
            (q + usize::from(a), g + usize::from(b))
        })
    }

    /// All parameters by HF name (the inverse of `from_weights`), sharing storage. Packed
    /// projections' weights and biases are views into one buffer
    /// ([`Transformer::fuse_projections`]): candle calls that read a tensor's whole buffer
    /// rather than its layout (`QTensor::quantize`; `Tensor::copy` and `to_device`, which copy
    /// all of it) need `force_contiguous` first.
    pub fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![
            (
                "model.embed_tokens.weight".to_string(),
                self.embed_tokens.clone(),
            ),
            ("model.norm.weight".to_string(), self.norm.weight.clone()),
        ];
        if let Some(h) = &self.lm_head {
            out.push(("lm_head.weight".into(), h.clone()));
        }
        for (i, l) in self.layers.iter().enumerate() {
            out.extend(l.params(i).into_iter().map(|(name, t)| (name, t.clone())));
        }
        out
    }

    pub fn device(&self) -> &Device {
        self.embed_tokens.device()
    }

    pub fn dtype(&self) -> DType {
        self.embed_tokens.dtype()
    }

    /// cos/sin of shape `(B, T, D/2)` for the given positions.
    fn rope_tables(&self, positions: &Tensor) -> Result<(Tensor, Tensor)> {
        let (b, t) = positions.dims2()?;
        let pos = positions.to_dtype(DType::F32)?.reshape((b, t, 1))?;
        let freqs = pos.broadcast_mul(&self.inv_freq.reshape((1, 1, ()))?)?;
        let dt = self.dtype();
        Ok((
            freqs.cos()?.to_dtype(dt)?.contiguous()?,
            freqs.sin()?.to_dtype(dt)?.contiguous()?,
        ))
    }

    /// Final hidden states `(B, T, hidden)` (after the last norm). With `cache`, the batch
    /// continues the cached positions and its keys and values are appended.
    pub fn forward_hidden(
        &self,
        batch: &Batch,
        mut cache: Option<&mut KvCache>,
        opts: &ForwardOptions,
    ) -> Result<Tensor> {
        let ForwardOptions {
            path,
            adapters,
            recompute,
        } = *opts;
        let (b, t) = batch.input_ids.dims2()?;
        let (cos, sin) = self.rope_tables(batch.positions)?;
        let ids = batch.input_ids.flatten_all()?;
        let mut x =
            self.embed_tokens
                .index_select(&ids, 0)?
                .reshape((b, t, self.cfg.hidden_size))?;
        let tk = batch.mask.dim(2)?;
        // (B, 1, 1, T, Tk): broadcast over KV heads and the query heads sharing each.
        let mask = batch
            .mask
            .to_dtype(self.dtype())?
            .reshape((b, 1, 1, t, tk))?;
        let ctx = BlockCtx {
            cos,
            sin,
            mask,
            path,
            adapters,
        };
        // The fused path carries each block's MLP output into the next norm, which adds it to
        // the residual stream in the same pass (`Block::forward_fused`).
        let mut pending: Option<Tensor> = None;
        for (i, layer) in self.layers.iter().enumerate() {
            match (recompute, cache.as_deref_mut(), path) {
                (Some(side), None, _) => x = recomputed_block(layer, &x, ctx.clone(), side)?,
                (_, c, ForwardPath::Fused) => {
                    let (nx, m) = layer.forward_fused(
                        &x,
                        pending.as_ref(),
                        &ctx,
                        c.map(|c| c.layer_mut(i)),
                    )?;
                    // The fused path computes no gradient, but trainable weights (`Var`s: LoRA
                    // adapters, a full fine-tune) make candle record every op: without this, a
                    // rollout's prefill kept the activations of all layers alive at once (3 GB
                    // at batch 8 on the default model). Detached, only one block's are.
                    x = nx.detach();
                    pending = Some(m.detach());
                }
                (_, c, _) => x = layer.forward(&x, &ctx, c.map(|c| c.layer_mut(i)))?,
            }
        }
        match pending {
            Some(m) => Ok(self.norm.add_forward(&x, Some(&m))?.1),
            None => self.norm.forward(&x, path),
        }
    }

    /// Logits over the vocabulary for hidden states of shape `(..., hidden)`.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        Linear::new(self.output_weight().clone(), None).forward(hidden)
    }

    /// The output projection: `lm_head`, or the embeddings when tied.
    pub fn output_weight(&self) -> &Tensor {
        self.lm_head.as_ref().unwrap_or(&self.embed_tokens)
    }

    /// Every linear layer with its HF name prefix (`model.layers.3.self_attn.q_proj`) and
    /// which projection it is.
    pub fn linears_mut(&mut self) -> Vec<(String, Proj, &mut Linear)> {
        let mut out = Vec::new();
        for (i, l) in self.layers.iter_mut().enumerate() {
            for (proj, lin) in l.linears_mut() {
                out.push((proj.hf_prefix(i), proj, lin));
            }
        }
        out
    }

    /// Every parameter slot by HF name, for swapping tensors (e.g. for `Var`-backed ones).
    pub fn params_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        let mut out: Vec<(String, &mut Tensor)> = vec![
            (
                "model.embed_tokens.weight".to_string(),
                &mut self.embed_tokens,
            ),
            ("model.norm.weight".to_string(), &mut self.norm.weight),
        ];
        if let Some(h) = self.lm_head.as_mut() {
            out.push(("lm_head.weight".into(), h));
        }
        for (i, l) in self.layers.iter_mut().enumerate() {
            out.extend(l.params_mut(i));
        }
        out
    }

    /// Logits `(B, T, vocab)`: [`Transformer::forward_hidden`], then [`Transformer::logits`].
    pub fn forward(
        &self,
        batch: &Batch,
        cache: Option<&mut KvCache>,
        opts: &ForwardOptions,
    ) -> Result<Tensor> {
        let h = self.forward_hidden(batch, cache, opts)?;
        self.logits(&h)
    }
}

/// Inputs for a left-padded batch of sequences of different lengths, continuing from
/// `cached` already-cached columns whose padding is `pads[b]` (the first `pads[b]` columns of
/// row b are padding). Builds `(B, T)` ids, positions and the `(B, T, cached + T)` mask.
pub fn padded_inputs(
    rows: &[&[u32]],
    pads: &[usize],
    cached: usize,
    device: &Device,
) -> Result<(Tensor, Tensor, Tensor)> {
    let b = rows.len();
    let t = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let tk = cached + t;
    let mut ids = vec![0u32; b * t];
    let mut pos = vec![0u32; b * t];
    let mut mask = vec![f32::NEG_INFINITY; b * t * tk];
    for (r, row) in rows.iter().enumerate() {
        // New tokens are right-aligned; the columns before them in this chunk are padding.
        let extra_pad = t - row.len();
        let pad = pads[r] + if cached == 0 { extra_pad } else { 0 };
        debug_assert!(
            cached == 0 || extra_pad == 0,
            "continuation chunks must have equal length"
        );
        for j in 0..t {
            let col = cached + j;
            if j >= extra_pad {
                ids[r * t + j] = row[j - extra_pad];
            }
            pos[r * t + j] = col.saturating_sub(pad) as u32;
            let m = &mut mask[(r * t + j) * tk..(r * t + j + 1) * tk];
            if col < pad {
                // A padding query attends to itself only, so its softmax stays finite.
                m[col] = 0.0;
            } else {
                m[pad..=col].iter_mut().for_each(|x| *x = 0.0);
            }
        }
    }
    Ok((
        Tensor::from_vec(ids, (b, t), device)?,
        Tensor::from_vec(pos, (b, t), device)?,
        Tensor::from_vec(mask, (b, t, tk), device)?,
    ))
}

/// Inputs of a fixed-shape decode step (one new token per row) against a KV cache of fixed
/// `capacity` holding `cached` columns, row b's first `pads[b]` of them padding: `(B, 1)` ids,
/// `(B, 1)` positions, the `(1,)` u32 column the step writes (`cached`), and the
/// `(B, 1, capacity)` additive mask over the whole capacity (the columns not written yet are
/// masked). The positions, column and mask are what [`padded_inputs`] gives for the step,
/// widened to the capacity.
pub fn static_step_inputs(
    rows: &[&[u32]],
    pads: &[usize],
    cached: usize,
    capacity: usize,
    device: &Device,
) -> Result<(Tensor, Tensor, Tensor, Tensor)> {
    let b = rows.len();
    if cached >= capacity || pads.len() != b {
        anyhow::bail!(
            "fixed-shape step: column {cached} of a capacity of {capacity}, {} pads for {b} rows",
            pads.len()
        );
    }
    let mut ids = vec![0u32; b];
    let mut pos = vec![0u32; b];
    let mut mask = vec![f32::NEG_INFINITY; b * capacity];
    for (r, row) in rows.iter().enumerate() {
        let [tok] = row else {
            anyhow::bail!("fixed-shape step: row {r} has {} tokens, not 1", row.len());
        };
        ids[r] = *tok;
        let pad = pads[r];
        pos[r] = cached.saturating_sub(pad) as u32;
        let m = &mut mask[r * capacity..(r + 1) * capacity];
        if cached < pad {
            m[cached] = 0.0;
        } else {
            m[pad..=cached].iter_mut().for_each(|x| *x = 0.0);
        }
    }
    Ok((
        Tensor::from_vec(ids, (b, 1), device)?,
        Tensor::from_vec(pos, (b, 1), device)?,
        Tensor::new(&[cached as u32], device)?,
        Tensor::from_vec(mask, (b, 1, capacity), device)?,
    ))
}
