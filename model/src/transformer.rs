//! The decoder-only transformer shared by Llama, Qwen2 and Mistral: RMSNorm, RoPE (with Llama-3
//! scaling), grouped-query attention, SwiGLU, optional q/k/v bias, tied or untied embeddings.
//!
//! One forward serves generation and training. `Path::Fused` uses candle's fused kernels
//! (no backward) for speed; `Path::Differentiable` uses equivalent composite ops that candle can
//! differentiate. Both take a padded batch: per-row positions and an additive attention mask.

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};

use crate::config::ModelConfig;
use crate::proj::Proj;
use crate::weights::{self, Weights};

/// Which kernels the forward uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Fused softmax / RMSNorm / RoPE: fastest, but candle has no backward for them.
    Fused,
    /// Composite ops with a backward, for training.
    Differentiable,
}

/// A linear layer `y = x Wᵀ + b` over the last dimension, optionally with a LoRA adapter.
#[derive(Clone, Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub lora: Option<Lora>,
}

impl Linear {
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Linear {
            weight,
            bias,
            lora: None,
        }
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_opts(x, true)
    }

    /// `adapters: false` computes the base layer only (the LoRA reference policy).
    pub fn forward_opts(&self, x: &Tensor, adapters: bool) -> Result<Tensor> {
        if let (Some(l), true) = (&self.lora, adapters) {
            let fits = crate::ops::linear::lora_linear_fits(&[x, &self.weight, &l.a, &l.b]);
            if fits && !self.weight.is_variable() && !l.dropout_active() {
                return Ok(crate::ops::linear::lora_linear(
                    x,
                    &self.weight,
                    self.bias.as_ref(),
                    &l.a,
                    &l.b,
                    l.scale,
                )?);
            }
        }
        let dims = x.dims().to_vec();
        let in_dim = *dims.last().context("linear input has no dimensions")?;
        let rows: usize = dims[..dims.len() - 1].iter().product();
        let x2 = x.reshape((rows, in_dim))?;
        // A weight that is not a `Var` is frozen: its backward must yield only the input's
        // gradient (candle's matmul backward would also compute and keep the weight's).
        let y = if self.weight.is_variable() {
            crate::ops::linear::matmul_t(&x2, &self.weight)?
        } else {
            crate::ops::linear::frozen_matmul_t(&x2, &self.weight)?
        };
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let y = match (&self.lora, adapters) {
            (Some(l), true) => (y + l.delta(&x2)?)?,
            _ => y,
        };
        let mut out = dims;
        let last = out.len() - 1;
        out[last] = self.weight.dim(0)?;
        Ok(y.reshape(out)?)
    }
}

pub use crate::train::lora::Lora;

#[derive(Clone, Debug)]
pub struct RmsNorm {
    pub weight: Tensor,
    pub eps: f64,
}

impl RmsNorm {
    pub fn forward(&self, x: &Tensor, path: Path) -> Result<Tensor> {
        Ok(match path {
            Path::Fused => {
                candle_nn::ops::rms_norm(&x.contiguous()?, &self.weight, self.eps as f32)?
            }
            Path::Differentiable => crate::ops::layer::rms_norm(x, &self.weight, self.eps)?,
        })
    }
}

/// A growable key/value cache for one layer: preallocated `(B, n_kv, capacity, head_dim)`
/// buffers written in place, so a decode step copies only the new position.
#[derive(Clone, Debug, Default)]
pub struct LayerCache {
    k: Option<Tensor>,
    v: Option<Tensor>,
    len: usize,
}

impl LayerCache {
    fn append(&mut self, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let t = k.dim(2)?;
        let need = self.len + t;
        let cap = self.k.as_ref().map(|k| k.dim(2)).transpose()?.unwrap_or(0);
        if need > cap {
            let new_cap = need.max(cap * 2).max(64).next_multiple_of(64);
            let (b, h, _, d) = k.dims4()?;
            let grow = |old: &Option<Tensor>| -> Result<Tensor> {
                let buf = Tensor::zeros((b, h, new_cap, d), k.dtype(), k.device())?;
                if let Some(old) = old {
                    if self.len > 0 {
                        buf.slice_set(&old.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
                    }
                }
                Ok(buf)
            };
            self.k = Some(grow(&self.k)?);
            self.v = Some(grow(&self.v)?);
        }
        let (kb, vb) = match (&self.k, &self.v) {
            (Some(kb), Some(vb)) => (kb, vb),
            _ => anyhow::bail!("kv cache buffers missing"),
        };
        kb.slice_set(&k.contiguous()?, 2, self.len)?;
        vb.slice_set(&v.contiguous()?, 2, self.len)?;
        self.len = need;
        Ok((kb.narrow(2, 0, self.len)?, vb.narrow(2, 0, self.len)?))
    }

    /// Keep only the given batch rows (sequences that are still generating).
    fn retain_rows(&mut self, rows: &Tensor) -> Result<()> {
        if let (Some(k), Some(v)) = (&self.k, &self.v) {
            self.k = Some(k.index_select(rows, 0)?);
            self.v = Some(v.index_select(rows, 0)?);
        }
        Ok(())
    }
}

/// The key/value cache of every layer, plus the number of cached positions.
#[derive(Clone, Debug)]
pub struct KvCache {
    layers: Vec<LayerCache>,
}

impl KvCache {
    pub fn new(cfg: &ModelConfig) -> Self {
        KvCache {
            layers: vec![LayerCache::default(); cfg.num_hidden_layers],
        }
    }
    /// Positions cached so far (columns, including left padding).
    pub fn len(&self) -> usize {
        self.layers.first().map(|l| l.len).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Keep only these batch rows, in this order.
    pub fn retain_rows(&mut self, rows: &[u32]) -> Result<()> {
        let Some(first) = self.layers.iter().find_map(|l| l.k.as_ref()) else {
            return Ok(());
        };
        let idx = Tensor::new(rows, first.device())?;
        for l in &mut self.layers {
            l.retain_rows(&idx)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct Attention {
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub o_proj: Linear,
    n_head: usize,
    n_kv: usize,
    head_dim: usize,
}

/// Rotate-half RoPE with per-row cos/sin of shape `(B, T, D/2)`.
fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, path: Path) -> Result<Tensor> {
    match path {
        Path::Fused => Ok(candle_nn::rotary_emb::rope(&x.contiguous()?, cos, sin)?),
        Path::Differentiable => Ok(crate::ops::layer::rope(x, cos, sin)?),
    }
}

impl Attention {
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: &Tensor,
        cache: Option<&mut LayerCache>,
        path: Path,
        ad: bool,
    ) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let (nh, nkv, hd) = (self.n_head, self.n_kv, self.head_dim);
        let q = self
            .q_proj
            .forward_opts(x, ad)?
            .reshape((b, t, nh, hd))?
            .transpose(1, 2)?;
        let k = self
            .k_proj
            .forward_opts(x, ad)?
            .reshape((b, t, nkv, hd))?
            .transpose(1, 2)?;
        let v = self
            .v_proj
            .forward_opts(x, ad)?
            .reshape((b, t, nkv, hd))?
            .transpose(1, 2)?;
        let q = rope(&q, cos, sin, path)?;
        let k = rope(&k, cos, sin, path)?;
        let (k, v) = match cache {
            Some(c) => c.append(&k, &v)?,
            None => (k, v.contiguous()?),
        };
        let scale = 1.0 / (hd as f64).sqrt();
        let cpu_fused = path == Path::Fused && x.device().is_cpu() && x.dtype() == DType::F32;
        if cpu_fused && t == 1 && k.stride()[3] == 1 && v.stride()[3] == 1 {
            // A decode step: one fused kernel for all sequences and heads.
            let op = crate::ops::cpu::DecodeAttention {
                mask: mask.flatten_all()?.to_vec1::<f32>()?,
                scale: scale as f32,
            };
            let y = q.contiguous()?.apply_op3_no_bwd(&k, &v, &op)?;
            return self.o_proj.forward_opts(&y, ad);
        }
        let sh = crate::ops::layer::AttnShape {
            n_kv: nkv,
            n_rep: nh / nkv,
            scale,
        };
        let y = match path {
            Path::Differentiable => crate::ops::layer::attention(&q, &k, &v, mask, sh)?,
            Path::Fused => crate::ops::layer::attention_value(&q, &k, &v, mask, sh)?,
        };
        self.o_proj.forward_opts(&y, ad)
    }
}

#[derive(Clone, Debug)]
pub struct Mlp {
    pub gate_proj: Linear,
    pub up_proj: Linear,
    pub down_proj: Linear,
}

impl Mlp {
    fn forward(&self, x: &Tensor, ad: bool) -> Result<Tensor> {
        let h = crate::ops::layer::swiglu(
            &self.gate_proj.forward_opts(x, ad)?,
            &self.up_proj.forward_opts(x, ad)?,
        )?;
        self.down_proj.forward_opts(&h, ad)
    }
}

#[derive(Clone, Debug)]
pub struct Block {
    pub input_layernorm: RmsNorm,
    pub self_attn: Attention,
    pub post_attention_layernorm: RmsNorm,
    pub mlp: Mlp,
}

impl Block {
    /// One pre-norm decoder block.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: &Tensor,
        cache: Option<&mut LayerCache>,
        path: Path,
        adapters: bool,
    ) -> Result<Tensor> {
        let h = self.input_layernorm.forward(x, path)?;
        let h = self
            .self_attn
            .forward(&h, cos, sin, mask, cache, path, adapters)?;
        let x = (x + h)?;
        let h = self.post_attention_layernorm.forward(&x, path)?;
        Ok((&x + self.mlp.forward(&h, adapters)?)?)
    }

    /// The seven projections, in [`Proj::ALL`] order.
    pub fn linears(&self) -> [(Proj, &Linear); 7] {
        let Attention {
            q_proj,
            k_proj,
            v_proj,
            o_proj,
            ..
        } = &self.self_attn;
        let Mlp {
            gate_proj,
            up_proj,
            down_proj,
        } = &self.mlp;
        [
            (Proj::Q, q_proj),
            (Proj::K, k_proj),
            (Proj::V, v_proj),
            (Proj::O, o_proj),
            (Proj::Gate, gate_proj),
            (Proj::Up, up_proj),
            (Proj::Down, down_proj),
        ]
    }

    /// [`Block::linears`], mutable.
    pub fn linears_mut(&mut self) -> [(Proj, &mut Linear); 7] {
        projections_mut(&mut self.self_attn, &mut self.mlp)
    }

    /// The block's parameters by HF name in layer `layer` (norms, then each projection's
    /// weight and bias), in the order of [`Transformer::named_tensors`].
    pub fn params(&self, layer: usize) -> Vec<(String, &Tensor)> {
        let p = format!("model.layers.{layer}");
        let mut out = vec![
            (
                format!("{p}.input_layernorm.weight"),
                &self.input_layernorm.weight,
            ),
            (
                format!("{p}.post_attention_layernorm.weight"),
                &self.post_attention_layernorm.weight,
            ),
        ];
        for (proj, lin) in self.linears() {
            let p = proj.hf_prefix(layer);
            out.push((format!("{p}.weight"), &lin.weight));
            if let Some(b) = &lin.bias {
                out.push((format!("{p}.bias"), b));
            }
        }
        out
    }

    /// [`Block::params`], mutable (for swapping tensors).
    pub fn params_mut(&mut self, layer: usize) -> Vec<(String, &mut Tensor)> {
        let p = format!("model.layers.{layer}");
        let Block {
            input_layernorm,
            self_attn,
            post_attention_layernorm,
            mlp,
        } = self;
        let mut out = vec![
            (
                format!("{p}.input_layernorm.weight"),
                &mut input_layernorm.weight,
            ),
            (
                format!("{p}.post_attention_layernorm.weight"),
                &mut post_attention_layernorm.weight,
            ),
        ];
        for (proj, lin) in projections_mut(self_attn, mlp) {
            let p = proj.hf_prefix(layer);
            out.push((format!("{p}.weight"), &mut lin.weight));
            if let Some(b) = lin.bias.as_mut() {
                out.push((format!("{p}.bias"), b));
            }
        }
        out
    }

    /// Every tensor of the block (weights, biases, norms, LoRA A/B).
    pub fn tensors(&self) -> Vec<&Tensor> {
        let mut out = vec![
            &self.input_layernorm.weight,
            &self.post_attention_layernorm.weight,
        ];
        for (_, lin) in self.linears() {
            out.push(&lin.weight);
            out.extend(lin.bias.as_ref());
            if let Some(l) = &lin.lora {
                out.push(&l.a);
                out.push(&l.b);
            }
        }
        out
    }

    /// The LoRA dropout stream of this block, if any (restored for recomputation).
    pub fn dropout_rng(&self) -> Option<std::sync::Arc<std::sync::Mutex<crate::rng::Rng>>> {
        self.linears().into_iter().find_map(|(_, l)| {
            l.lora
                .as_ref()
                .and_then(|l| l.dropout.as_ref())
                .map(|d| d.rng.clone())
        })
    }
}

/// The seven projections of a block's attention and MLP, in [`Proj::ALL`] order.
fn projections_mut<'a>(a: &'a mut Attention, m: &'a mut Mlp) -> [(Proj, &'a mut Linear); 7] {
    let Attention {
        q_proj,
        k_proj,
        v_proj,
        o_proj,
        ..
    } = a;
    let Mlp {
        gate_proj,
        up_proj,
        down_proj,
    } = m;
    [
        (Proj::Q, q_proj),
        (Proj::K, k_proj),
        (Proj::V, v_proj),
        (Proj::O, o_proj),
        (Proj::Gate, gate_proj),
        (Proj::Up, up_proj),
        (Proj::Down, down_proj),
    ]
}

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
        let eps = cfg.rms_norm_eps;
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let p = format!("model.layers.{i}");
            let mut lin = |proj: Proj| -> Result<Linear> {
                let p = proj.hf_prefix(i);
                Ok(Linear::new(
                    take(format!("{p}.weight"))?,
                    if proj.has_bias(&cfg) {
                        Some(take(format!("{p}.bias"))?)
                    } else {
                        None
                    },
                ))
            };
            let [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj] =
                Proj::ALL.map(&mut lin);
            layers.push(Block {
                input_layernorm: RmsNorm {
                    weight: take(format!("{p}.input_layernorm.weight"))?,
                    eps,
                },
                self_attn: Attention {
                    q_proj: q_proj?,
                    k_proj: k_proj?,
                    v_proj: v_proj?,
                    o_proj: o_proj?,
                    n_head: cfg.num_attention_heads,
                    n_kv: cfg.num_key_value_heads,
                    head_dim: cfg.head_dim,
                },
                post_attention_layernorm: RmsNorm {
                    weight: take(format!("{p}.post_attention_layernorm.weight"))?,
                    eps,
                },
                mlp: Mlp {
                    gate_proj: gate_proj?,
                    up_proj: up_proj?,
                    down_proj: down_proj?,
                },
            });
        }
        let embed_tokens = take("model.embed_tokens.weight".into())?;
        let norm = RmsNorm {
            weight: take("model.norm.weight".into())?,
            eps,
        };
        let lm_head = if cfg.tie_word_embeddings {
            None
        } else {
            Some(take("lm_head.weight".into())?)
        };
        let inv_freq = Tensor::new(cfg.rope_inv_freq(), &device)?;
        Ok(Transformer {
            cfg,
            embed_tokens,
            layers,
            norm,
            lm_head,
            inv_freq,
        })
    }

    /// All parameters by HF name (the inverse of `from_weights`), sharing storage.
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

    /// Final hidden states `(B, T, hidden)` (after the last norm).
    pub fn forward_hidden(
        &self,
        batch: &Batch,
        cache: Option<&mut KvCache>,
        path: Path,
    ) -> Result<Tensor> {
        self.forward_hidden_opts(batch, cache, path, true)
    }

    /// [`Transformer::forward_hidden`]; `adapters: false` switches LoRA adapters off (the
    /// reference policy of a LoRA run: the base model, no second copy of the weights).
    pub fn forward_hidden_opts(
        &self,
        batch: &Batch,
        cache: Option<&mut KvCache>,
        path: Path,
        adapters: bool,
    ) -> Result<Tensor> {
        self.forward_hidden_train(batch, cache, path, adapters, None)
    }

    /// The forward with every option: with `checkpoint`, each block keeps only its input for
    /// the backward and recomputes its activations there (gradient checkpointing); the block
    /// parameters' gradients are then delivered through `checkpoint`.
    pub fn forward_hidden_train(
        &self,
        batch: &Batch,
        mut cache: Option<&mut KvCache>,
        path: Path,
        adapters: bool,
        checkpoint: Option<&crate::train::ckpt::SideGrads>,
    ) -> Result<Tensor> {
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
        for (i, layer) in self.layers.iter().enumerate() {
            x = match (checkpoint, cache.as_deref_mut()) {
                (Some(side), None) => {
                    let ctx = crate::train::ckpt::BlockCtx {
                        cos: cos.clone(),
                        sin: sin.clone(),
                        mask: mask.clone(),
                        path,
                        adapters,
                    };
                    crate::train::ckpt::checkpointed_block(layer, &x, ctx, side)?
                }
                (_, c) => layer.forward(
                    &x,
                    &cos,
                    &sin,
                    &mask,
                    c.map(|c| &mut c.layers[i]),
                    path,
                    adapters,
                )?,
            };
            if path == Path::Fused {
                // The fused path computes no gradient, but trainable weights (`Var`s: LoRA
                // adapters, a full fine-tune) make candle record every op: without this, a
                // rollout's prefill kept the activations of all layers alive at once (3 GB at
                // batch 8 on the default model). Detached, only one block's are.
                x = x.detach();
            }
        }
        self.norm.forward(&x, path)
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

    /// Full forward: logits `(B, T, vocab)`.
    pub fn forward(
        &self,
        batch: &Batch,
        cache: Option<&mut KvCache>,
        path: Path,
    ) -> Result<Tensor> {
        let h = self.forward_hidden(batch, cache, path)?;
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
