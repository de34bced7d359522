//! One decoder block and its layers: RMSNorm, grouped-query attention with RoPE, the SwiGLU
//! MLP, and the linear projections (optionally with LoRA adapters) that they are made of.
//!
//! `ForwardPath::Fused` uses candle's fused kernels (no backward) for speed, one matmul for the
//! packed q/k/v and one for the packed gate/up projections ([`Packed`]), and the residual adds
//! fused with the RMSNorms after them ([`crate::ops::infer`]);
//! `ForwardPath::Differentiable` uses the ops of [`crate::ops::layer`], which have backwards,
//! one projection at a time.

use anyhow::{Context, Result};
use candle_core::{DType, Tensor, TensorId, D};

use crate::config::ModelConfig;
use crate::kv_cache::LayerCache;
use crate::proj::Proj;
use crate::train::lora::Lora;

/// Which kernels the forward uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardPath {
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

/// Projections that read the same input (q/k/v; gate/up), packed for generation's fused
/// forward: their weights concatenated along the output axis (`Tensor::cat`), and each
/// projection's `weight` (and bias) replaced by a `narrow` view of the result, so there is one
/// copy of the weights, not two. One matmul then computes every projection
/// ([`crate::ops::linear::packed_matmul_t`] reads the packed buffer through the first view).
///
/// Nothing here holds the packed weight: only the projections' views keep it alive. Training
/// and weight swaps are unaffected: whatever replaces a projection's weight or bias (a `Var` of a
/// full fine-tune, a `params_mut` swap, a merged LoRA weight) is a tensor with another id, and
/// [`Packed::live`] then sends the forward back to the per-projection path (and the old buffer is
/// freed with its last view). The differentiable path always goes projection by projection.
///
/// LoRA adapters: with adapters on, the packed matmul computes the base layers and each
/// adapter's delta ([`Lora::delta`]) is added to its own projection's slice of the output. An
/// adapter drawing dropout (a training forward) sends the forward to the per-projection path,
/// so the dropout stream is drawn in its usual order.
#[derive(Clone, Debug)]
pub struct Packed {
    /// Output width of each projection, in order.
    outs: Vec<usize>,
    /// The ids of the weight views installed in the projections.
    weights: Vec<TensorId>,
    /// The packed bias (a few thousand elements, so it is kept whole) and the ids of the views
    /// installed in the projections; `None` when the projections have no bias.
    bias: Option<(Tensor, Vec<TensorId>)>,
}

impl Packed {
    /// Pack `lins`, which must share input width, dtype and device, hold frozen tensors
    /// (no `Var`, no graph) and all have a bias or none; `None` (and nothing changed) otherwise.
    fn pack(lins: &mut [&mut Linear]) -> Result<Option<Packed>> {
        let Some(first) = lins.first() else {
            return Ok(None);
        };
        let (_, k) = first.weight.dims2()?;
        let (dtype, device) = (first.weight.dtype(), first.weight.device().clone());
        let has_bias = first.bias.is_some();
        let frozen = |t: &Tensor| !t.track_op() && t.dtype() == dtype;
        for l in lins.iter() {
            let fits = l.weight.dims2()?.1 == k
                && frozen(&l.weight)
                && l.weight.device().same_device(&device)
                && l.bias.is_some() == has_bias
                && l.bias.as_ref().is_none_or(|b| frozen(b) && b.rank() == 1);
            if !fits {
                return Ok(None);
            }
        }
        let outs = lins
            .iter()
            .map(|l| l.weight.dim(0))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let weight = Tensor::cat(&lins.iter().map(|l| &l.weight).collect::<Vec<_>>(), 0)?;
        let bias = if has_bias {
            let parts: Vec<&Tensor> = lins.iter().filter_map(|l| l.bias.as_ref()).collect();
            Some(Tensor::cat(&parts, 0)?)
        } else {
            None
        };
        let (mut weights, mut bias_ids, mut off) = (Vec::new(), Vec::new(), 0);
        for (l, &n) in lins.iter_mut().zip(&outs) {
            l.weight = weight.narrow(0, off, n)?;
            weights.push(l.weight.id());
            if let (Some(b), Some(packed)) = (l.bias.as_mut(), &bias) {
                *b = packed.narrow(0, off, n)?;
                bias_ids.push(b.id());
            }
            off += n;
        }
        Ok(Some(Packed {
            outs,
            weights,
            bias: bias.map(|b| (b, bias_ids)),
        }))
    }

    /// Whether `lins` still hold exactly the views [`Packed::pack`] installed (and no `Var`).
    pub fn live(&self, lins: &[&Linear]) -> bool {
        let bias_ok = match &self.bias {
            Some((_, ids)) => lins
                .iter()
                .zip(ids)
                .all(|(l, id)| l.bias.as_ref().is_some_and(|b| b.id() == *id)),
            None => lins.iter().all(|l| l.bias.is_none()),
        };
        lins.len() == self.weights.len()
            && lins
                .iter()
                .zip(&self.weights)
                .all(|(l, id)| l.weight.id() == *id && !l.weight.is_variable())
            && bias_ok
    }

    /// `x Pᵀ + b`, every projection's base output side by side, `(rows, Σ out)`, for
    /// `x (rows, in)`; the caller checks [`Packed::live`].
    fn matmul(&self, lins: &[&Linear], x2: &Tensor) -> Result<Tensor> {
        let first = lins.first().context("packed projections: none")?;
        let total = self.outs.iter().sum();
        let y = crate::ops::linear::packed_matmul_t(x2, &first.weight, total)?;
        Ok(match &self.bias {
            Some((b, _)) => y.broadcast_add(b)?,
            None => y,
        })
    }
}

/// The packed projections' outputs for `x (…, in)`: `(rows, Σ out)` and each projection's LoRA
/// delta `(rows, out)` where an adapter applies; `None` where the packed path does not apply
/// (not packed, a weight or bias swapped since, or an adapter drawing dropout).
type PackedOut = (Tensor, Vec<Option<Tensor>>);

fn packed_forward(
    packed: Option<&Packed>,
    lins: &[&Linear],
    x: &Tensor,
    adapters: bool,
) -> Result<Option<PackedOut>> {
    let Some(p) = packed.filter(|p| p.live(lins)) else {
        return Ok(None);
    };
    let loras: Vec<Option<&Lora>> = lins
        .iter()
        .map(|l| l.lora.as_ref().filter(|_| adapters))
        .collect();
    if loras.iter().flatten().any(|l| l.dropout_active()) {
        return Ok(None);
    }
    let k = x.dim(D::Minus1)?;
    let x2 = x.reshape(((), k))?;
    let y = p.matmul(lins, &x2)?;
    let deltas = loras
        .iter()
        .map(|l| l.map(|l| l.delta(&x2)).transpose())
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(Some((y, deltas)))
}

#[derive(Clone, Debug)]
pub struct RmsNorm {
    pub weight: Tensor,
    pub eps: f64,
}

impl RmsNorm {
    pub fn forward(&self, x: &Tensor, path: ForwardPath) -> Result<Tensor> {
        Ok(match path {
            ForwardPath::Fused => {
                candle_nn::ops::rms_norm(&x.contiguous()?, &self.weight, self.eps as f32)?
            }
            ForwardPath::Differentiable => crate::ops::layer::rms_norm(x, &self.weight, self.eps)?,
        })
    }

    /// The fused path's residual add and this norm: `(x + h, norm(x + h))` in one pass
    /// ([`crate::ops::infer::add_rms_norm`]); with no `h`, `(x, norm(x))`.
    pub fn add_forward(&self, x: &Tensor, h: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        match h {
            Some(h) => Ok(crate::ops::infer::add_rms_norm(
                x,
                h,
                &self.weight,
                self.eps,
            )?),
            None => Ok((x.clone(), self.forward(x, ForwardPath::Fused)?)),
        }
    }
}

/// What every block of one forward shares: the RoPE tables `(B, T, D/2)` of the positions, the
/// additive mask `(B, 1, 1, T, Tk)`, the kernels, and whether LoRA adapters apply.
#[derive(Clone, Debug)]
pub struct BlockCtx {
    pub cos: Tensor,
    pub sin: Tensor,
    pub mask: Tensor,
    pub path: ForwardPath,
    /// `false`: the base layers only (the reference policy of a LoRA run).
    pub adapters: bool,
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
    /// q/k/v packed for the fused path, if they could be.
    qkv: Option<Packed>,
}

/// Rotate-half RoPE with per-row cos/sin of shape `(B, T, D/2)`.
fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, path: ForwardPath) -> Result<Tensor> {
    match path {
        ForwardPath::Fused => Ok(candle_nn::rotary_emb::rope(&x.contiguous()?, cos, sin)?),
        ForwardPath::Differentiable => Ok(crate::ops::layer::rope(x, cos, sin)?),
    }
}

impl Attention {
    /// q, k and v as `(B, T, heads, head_dim)`. On the fused path with packed projections, one
    /// matmul and views of its output (a LoRA delta added to its own projection's view);
    /// otherwise one matmul per projection.
    fn qkv(&self, x: &Tensor, path: ForwardPath, ad: bool) -> Result<[Tensor; 3]> {
        let (b, t, _) = x.dims3()?;
        let (nh, nkv, hd) = (self.n_head, self.n_kv, self.head_dim);
        let lins = [&self.q_proj, &self.k_proj, &self.v_proj];
        let heads = [nh, nkv, nkv];
        if path == ForwardPath::Fused {
            if let Some((y, deltas)) = packed_forward(self.qkv.as_ref(), &lins, x, ad)? {
                let y = y.reshape((b, t, nh + 2 * nkv, hd))?;
                let piece = |i: usize, off: usize| -> Result<Tensor> {
                    let p = y.narrow(2, off, heads[i])?;
                    Ok(match &deltas[i] {
                        Some(d) => (p + d.reshape((b, t, heads[i], hd))?)?,
                        None => p,
                    })
                };
                return Ok([piece(0, 0)?, piece(1, nh)?, piece(2, nh + nkv)?]);
            }
        }
        let one = |i: usize| -> Result<Tensor> {
            Ok(lins[i].forward_opts(x, ad)?.reshape((b, t, heads[i], hd))?)
        };
        Ok([one(0)?, one(1)?, one(2)?])
    }

    /// A fixed-shape decode step (one position, a cache writing at a device-held column) on the
    /// fused path with packed q/k/v: q, then the whole key and value buffers, with RoPE and the
    /// cache write in one op ([`crate::ops::infer::rope_kv_write`]; LoRA deltas added to the
    /// packed output first). `None`: the general path (`RAIF_FUSED_ROPE_KV=0` forces it).
    fn column_step(
        &self,
        x: &Tensor,
        ctx: &BlockCtx,
        cache: Option<&mut LayerCache>,
    ) -> Result<Option<(Tensor, Tensor, Tensor)>> {
        let lins = [&self.q_proj, &self.k_proj, &self.v_proj];
        let Some(cache) = cache.filter(|c| c.has_column()) else {
            return Ok(None);
        };
        if ctx.path != ForwardPath::Fused
            || x.dim(1)? != 1
            || std::env::var("RAIF_FUSED_ROPE_KV").as_deref() == Ok("0")
        {
            return Ok(None);
        }
        let Some((mut y, deltas)) = packed_forward(self.qkv.as_ref(), &lins, x, ctx.adapters)?
        else {
            return Ok(None);
        };
        if deltas.iter().any(Option::is_some) {
            let rows = y.dim(0)?;
            let parts = deltas
                .iter()
                .zip(lins)
                .map(|(d, l)| match d {
                    Some(d) => Ok(d.clone()),
                    None => Tensor::zeros((rows, l.weight.dim(0)?), y.dtype(), y.device()),
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
            y = (y + Tensor::cat(&parts, 1)?)?;
        }
        let Some((kc, vc, column)) = cache.column_step()? else {
            return Ok(None);
        };
        let heads = crate::ops::infer::Heads {
            nh: self.n_head,
            nkv: self.n_kv,
            hd: self.head_dim,
        };
        let q =
            crate::ops::infer::rope_kv_write(&y, (&ctx.cos, &ctx.sin), (&kc, &vc), &column, heads)?;
        Ok(Some((q, kc, vc)))
    }

    fn forward(
        &self,
        x: &Tensor,
        ctx: &BlockCtx,
        mut cache: Option<&mut LayerCache>,
    ) -> Result<Tensor> {
        let BlockCtx {
            cos,
            sin,
            mask,
            path,
            adapters: ad,
        } = ctx;
        let (path, ad) = (*path, *ad);
        let t = x.dim(1)?;
        let (nh, nkv, hd) = (self.n_head, self.n_kv, self.head_dim);
        let (q, k, v) = match self.column_step(x, ctx, cache.as_deref_mut())? {
            Some(qkv) => qkv,
            None => {
                let [q, k, v] = self.qkv(x, path, ad)?;
                let (q, k, v) = (q.transpose(1, 2)?, k.transpose(1, 2)?, v.transpose(1, 2)?);
                let q = rope(&q, cos, sin, path)?;
                let k = rope(&k, cos, sin, path)?;
                let (k, v) = match cache {
                    Some(c) => c.append(&k, &v)?,
                    None => (k, v.contiguous()?),
                };
                (q, k, v)
            }
        };
        let scale = 1.0 / (hd as f64).sqrt();
        let cpu_fused =
            path == ForwardPath::Fused && x.device().is_cpu() && x.dtype() == DType::F32;
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
            ForwardPath::Differentiable => crate::ops::layer::attention(&q, &k, &v, mask, sh)?,
            ForwardPath::Fused => crate::ops::layer::attention_value(&q, &k, &v, mask, sh)?,
        };
        self.o_proj.forward_opts(&y, ad)
    }
}

#[derive(Clone, Debug)]
pub struct Mlp {
    pub gate_proj: Linear,
    pub up_proj: Linear,
    pub down_proj: Linear,
    /// gate/up packed for the fused path, if they could be.
    gate_up: Option<Packed>,
}

impl Mlp {
    fn forward(&self, x: &Tensor, ad: bool, path: ForwardPath) -> Result<Tensor> {
        let lins = [&self.gate_proj, &self.up_proj];
        let packed = match path {
            ForwardPath::Fused => packed_forward(self.gate_up.as_ref(), &lins, x, ad)?,
            ForwardPath::Differentiable => None,
        };
        let h = match packed {
            // SwiGLU straight from the packed `(rows, 2f)` output: no copy of its halves.
            Some((y, deltas)) if deltas.iter().all(Option::is_none) => {
                crate::ops::infer::swiglu_packed(&y)?
            }
            Some((y, deltas)) => {
                let f = self.gate_proj.weight.dim(0)?;
                let half = |i: usize| -> Result<Tensor> {
                    let p = y.narrow(1, i * f, f)?;
                    Ok(match deltas.get(i).and_then(Option::as_ref) {
                        Some(d) => (p + d)?,
                        None => p,
                    })
                };
                crate::ops::layer::swiglu(&half(0)?, &half(1)?)?
            }
            None => {
                return self.down_proj.forward_opts(
                    &crate::ops::layer::swiglu(
                        &self.gate_proj.forward_opts(x, ad)?,
                        &self.up_proj.forward_opts(x, ad)?,
                    )?,
                    ad,
                )
            }
        };
        let mut dims = x.dims().to_vec();
        if let Some(last) = dims.last_mut() {
            *last = h.dim(1)?;
        }
        self.down_proj.forward_opts(&h.reshape(dims)?, ad)
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
    /// Layer `layer` from HF-named weights, taken out with `take` (q/k/v biases as `cfg`
    /// says).
    pub fn from_weights(
        cfg: &ModelConfig,
        layer: usize,
        take: &mut dyn FnMut(String) -> Result<Tensor>,
    ) -> Result<Block> {
        let p = format!("model.layers.{layer}");
        let eps = cfg.rms_norm_eps;
        let mut lin = |proj: Proj| -> Result<Linear> {
            let p = proj.hf_prefix(layer);
            Ok(Linear::new(
                take(format!("{p}.weight"))?,
                if proj.has_bias(cfg) {
                    Some(take(format!("{p}.bias"))?)
                } else {
                    None
                },
            ))
        };
        let [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj] =
            Proj::ALL.map(&mut lin);
        Ok(Block {
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
                qkv: None,
            },
            post_attention_layernorm: RmsNorm {
                weight: take(format!("{p}.post_attention_layernorm.weight"))?,
                eps,
            },
            mlp: Mlp {
                gate_proj: gate_proj?,
                up_proj: up_proj?,
                down_proj: down_proj?,
                gate_up: None,
            },
        })
    }

    /// One pre-norm decoder block; `cache` is this layer's KV cache.
    pub fn forward(
        &self,
        x: &Tensor,
        ctx: &BlockCtx,
        cache: Option<&mut LayerCache>,
    ) -> Result<Tensor> {
        if ctx.path == ForwardPath::Fused {
            let (x, m) = self.forward_fused(x, None, ctx, cache)?;
            return Ok((x + m)?);
        }
        let h = self.input_layernorm.forward(x, ctx.path)?;
        let h = self.self_attn.forward(&h, ctx, cache)?;
        let x = (x + h)?;
        let h = self.post_attention_layernorm.forward(&x, ctx.path)?;
        Ok((&x + self.mlp.forward(&h, ctx.adapters, ctx.path)?)?)
    }

    /// The fused path with each residual add carried into the norm after it: given the
    /// residual stream `x` and the previous block's MLP output `pending` (not added yet),
    /// returns the residual stream after this block's attention and this block's MLP output
    /// (not added yet: the next block's input norm, or the final norm, adds it). Each add and
    /// the norm after it are one pass ([`RmsNorm::add_forward`]).
    pub fn forward_fused(
        &self,
        x: &Tensor,
        pending: Option<&Tensor>,
        ctx: &BlockCtx,
        cache: Option<&mut LayerCache>,
    ) -> Result<(Tensor, Tensor)> {
        let (x, h) = self.input_layernorm.add_forward(x, pending)?;
        let a = self.self_attn.forward(&h, ctx, cache)?;
        let (x, h) = self.post_attention_layernorm.add_forward(&x, Some(&a))?;
        let m = self.mlp.forward(&h, ctx.adapters, ForwardPath::Fused)?;
        Ok((x, m))
    }

    /// Pack q/k/v and gate/up ([`Packed`]) where their tensors are frozen and not packed
    /// already; returns how many groups were packed now.
    pub fn fuse_projections(&mut self) -> Result<usize> {
        let mut n = 0;
        let a = &mut self.self_attn;
        if !a
            .qkv
            .as_ref()
            .is_some_and(|p| p.live(&[&a.q_proj, &a.k_proj, &a.v_proj]))
        {
            a.qkv = Packed::pack(&mut [&mut a.q_proj, &mut a.k_proj, &mut a.v_proj])?;
            n += usize::from(a.qkv.is_some());
        }
        let m = &mut self.mlp;
        if !m
            .gate_up
            .as_ref()
            .is_some_and(|p| p.live(&[&m.gate_proj, &m.up_proj]))
        {
            m.gate_up = Packed::pack(&mut [&mut m.gate_proj, &mut m.up_proj])?;
            n += usize::from(m.gate_up.is_some());
        }
        Ok(n)
    }

    /// Undo [`Block::fuse_projections`]: every packed projection gets a weight (and bias) of
    /// its own again, an exact copy of its view, and the forward goes projection by projection.
    pub fn unfuse_projections(&mut self) -> Result<()> {
        let a = &mut self.self_attn;
        if let Some(p) = a.qkv.take() {
            own_tensors(&p, &mut [&mut a.q_proj, &mut a.k_proj, &mut a.v_proj])?;
        }
        let m = &mut self.mlp;
        if let Some(p) = m.gate_up.take() {
            own_tensors(&p, &mut [&mut m.gate_proj, &mut m.up_proj])?;
        }
        Ok(())
    }

    /// Whether q/k/v and gate/up are packed and their views still in place: the fused path
    /// then takes one matmul for each group.
    pub fn projections_packed(&self) -> (bool, bool) {
        let a = &self.self_attn;
        let m = &self.mlp;
        (
            a.qkv
                .as_ref()
                .is_some_and(|p| p.live(&[&a.q_proj, &a.k_proj, &a.v_proj])),
            m.gate_up
                .as_ref()
                .is_some_and(|p| p.live(&[&m.gate_proj, &m.up_proj])),
        )
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
            ..
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
    /// weight and bias), in the order of
    /// [`Transformer::named_tensors`](crate::transformer::Transformer::named_tensors).
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
        ..
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

/// Give projections that still hold `p`'s views weights (and biases) of their own: exact
/// copies (`force_contiguous`; `Tensor::copy` would copy the whole packed buffer).
fn own_tensors(p: &Packed, lins: &mut [&mut Linear]) -> Result<()> {
    let live = p.live(&lins.iter().map(|l| &**l).collect::<Vec<_>>());
    if live {
        for l in lins.iter_mut() {
            l.weight = l.weight.force_contiguous()?;
            if let Some(b) = l.bias.as_mut() {
                *b = b.force_contiguous()?;
            }
        }
    }
    Ok(())
}
