//! One decoder block and its layers: RMSNorm, grouped-query attention with RoPE, the SwiGLU
//! MLP, and the linear projections (optionally with LoRA adapters) that they are made of.
//!
//! `ForwardPath::Fused` uses candle's fused kernels (no backward) for speed;
//! `ForwardPath::Differentiable` uses the ops of [`crate::ops::layer`], which have backwards.

use anyhow::{Context, Result};
use candle_core::{DType, Tensor};

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
}

/// Rotate-half RoPE with per-row cos/sin of shape `(B, T, D/2)`.
fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, path: ForwardPath) -> Result<Tensor> {
    match path {
        ForwardPath::Fused => Ok(candle_nn::rotary_emb::rope(&x.contiguous()?, cos, sin)?),
        ForwardPath::Differentiable => Ok(crate::ops::layer::rope(x, cos, sin)?),
    }
}

impl Attention {
    fn forward(
        &self,
        x: &Tensor,
        ctx: &BlockCtx,
        cache: Option<&mut LayerCache>,
    ) -> Result<Tensor> {
        let BlockCtx {
            cos,
            sin,
            mask,
            path,
            adapters: ad,
        } = ctx;
        let (path, ad) = (*path, *ad);
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
        })
    }

    /// One pre-norm decoder block; `cache` is this layer's KV cache.
    pub fn forward(
        &self,
        x: &Tensor,
        ctx: &BlockCtx,
        cache: Option<&mut LayerCache>,
    ) -> Result<Tensor> {
        let h = self.input_layernorm.forward(x, ctx.path)?;
        let h = self.self_attn.forward(&h, ctx, cache)?;
        let x = (x + h)?;
        let h = self.post_attention_layernorm.forward(&x, ctx.path)?;
        Ok((&x + self.mlp.forward(&h, ctx.adapters)?)?)
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
