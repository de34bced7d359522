//! Model configuration: one struct for the Llama / Qwen2 / Mistral decoder family, read from a
//! Hugging Face `config.json` or from GGUF metadata, and written back as `config.json`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The architecture family. They share one implementation; the differences are data
/// (q/k/v bias, tied embeddings, rope scaling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Llama,
    Qwen2,
    Mistral,
}

impl Arch {
    pub fn hf_architecture(self) -> &'static str {
        match self {
            Arch::Llama => "LlamaForCausalLM",
            Arch::Qwen2 => "Qwen2ForCausalLM",
            Arch::Mistral => "MistralForCausalLM",
        }
    }
    pub fn model_type(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
            Arch::Mistral => "mistral",
        }
    }
    /// Every family, for the code and the tests that go over all of them.
    pub const ALL: [Arch; 3] = [Arch::Llama, Arch::Qwen2, Arch::Mistral];

    /// The family of a `config.json` (`architectures[0]`, else `model_type`) or of a GGUF's
    /// `general.architecture` (a model type): the names above are the only table.
    pub fn from_names(architecture: Option<&str>, model_type: Option<&str>) -> Result<Arch> {
        let by_arch = Arch::ALL
            .into_iter()
            .find(|a| Some(a.hf_architecture()) == architecture);
        let by_type = Arch::ALL
            .into_iter()
            .find(|a| Some(a.model_type()) == model_type);
        match by_arch.or(by_type) {
            Some(a) => Ok(a),
            None => bail!(
                "unsupported architecture {} (model_type {}): raif supports {}",
                architecture.unwrap_or("(none)"),
                model_type.unwrap_or("(none)"),
                Arch::ALL.map(|a| a.hf_architecture()).join(", ")
            ),
        }
    }
}

/// Llama-3 style RoPE frequency scaling (`rope_scaling.rope_type == "llama3"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Llama3RopeScaling {
    pub factor: f64,
    pub low_freq_factor: f64,
    pub high_freq_factor: f64,
    pub original_max_position_embeddings: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub arch: Arch,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub rope_theta: f64,
    pub rope_scaling: Option<Llama3RopeScaling>,
    pub rms_norm_eps: f64,
    pub max_position_embeddings: usize,
    pub tie_word_embeddings: bool,
    /// q/k/v projections carry a bias (Qwen2; Llama with `attention_bias`).
    pub attention_bias: bool,
    pub bos_token_id: Option<u32>,
    pub eos_token_ids: Vec<u32>,
}

fn get_usize(v: &Value, key: &str, file: &str) -> Result<usize> {
    v.get(key)
        .and_then(Value::as_u64)
        .map(|x| x as usize)
        .with_context(|| format!("{file}: field `{key}` is missing or not a non-negative integer"))
}

fn ids(v: Option<&Value>) -> Vec<u32> {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|x| vec![x as u32]).unwrap_or_default(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_u64().map(|x| x as u32))
            .collect(),
        _ => Vec::new(),
    }
}

impl ModelConfig {
    /// Parse a Hugging Face `config.json`.
    pub fn from_hf_json(text: &str, file: &str) -> Result<Self> {
        let v: Value =
            serde_json::from_str(text).with_context(|| format!("{file}: not valid JSON"))?;
        let architecture = v
            .get("architectures")
            .and_then(|a| a.get(0))
            .and_then(Value::as_str);
        let model_type = v.get("model_type").and_then(Value::as_str);
        let arch = Arch::from_names(architecture, model_type).with_context(|| file.to_string())?;
        let hidden_size = get_usize(&v, "hidden_size", file)?;
        let num_attention_heads = get_usize(&v, "num_attention_heads", file)?;
        if num_attention_heads == 0
            || hidden_size % num_attention_heads != 0 && v.get("head_dim").is_none()
        {
            bail!("{file}: hidden_size {hidden_size} is not divisible by num_attention_heads {num_attention_heads}");
        }
        let num_key_value_heads = v
            .get("num_key_value_heads")
            .and_then(Value::as_u64)
            .map(|x| x as usize)
            .unwrap_or(num_attention_heads);
        if num_key_value_heads == 0 || num_attention_heads % num_key_value_heads != 0 {
            bail!("{file}: num_attention_heads {num_attention_heads} is not a multiple of num_key_value_heads {num_key_value_heads}");
        }
        let head_dim = v
            .get("head_dim")
            .and_then(Value::as_u64)
            .map(|x| x as usize)
            .unwrap_or(hidden_size / num_attention_heads);
        let rope_scaling = match v.get("rope_scaling") {
            None | Some(Value::Null) => None,
            Some(rs) => {
                let kind = rs
                    .get("rope_type")
                    .or_else(|| rs.get("type"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                match kind {
                    "llama3" => Some(
                        serde_json::from_value::<Llama3RopeScaling>(rs.clone())
                            .with_context(|| format!("{file}: field `rope_scaling` (llama3)"))?,
                    ),
                    "default" => None,
                    other => bail!("{file}: field `rope_scaling`: rope_type `{other}` is not supported (only llama3)"),
                }
            }
        };
        let attention_bias = match arch {
            Arch::Qwen2 => true,
            _ => v
                .get("attention_bias")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
        Ok(ModelConfig {
            arch,
            vocab_size: get_usize(&v, "vocab_size", file)?,
            hidden_size,
            intermediate_size: get_usize(&v, "intermediate_size", file)?,
            num_hidden_layers: get_usize(&v, "num_hidden_layers", file)?,
            num_attention_heads,
            num_key_value_heads,
            head_dim,
            rope_theta: v
                .get("rope_theta")
                .and_then(Value::as_f64)
                .unwrap_or(10_000.0),
            rope_scaling,
            rms_norm_eps: v
                .get("rms_norm_eps")
                .and_then(Value::as_f64)
                .unwrap_or(1e-6),
            max_position_embeddings: v
                .get("max_position_embeddings")
                .and_then(Value::as_u64)
                .map(|x| x as usize)
                .unwrap_or(4096),
            tie_word_embeddings: v
                .get("tie_word_embeddings")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            attention_bias,
            bos_token_id: ids(v.get("bos_token_id")).first().copied(),
            eos_token_ids: ids(v.get("eos_token_id")),
        })
    }

    pub fn from_hf_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_hf_json(&text, &path.display().to_string())
    }

    /// The `config.json` another tool (transformers, vLLM, candle) can load.
    pub fn to_hf_json(&self) -> Value {
        let mut v = json!({
            "architectures": [self.arch.hf_architecture()],
            "model_type": self.arch.model_type(),
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "rope_theta": self.rope_theta,
            "rms_norm_eps": self.rms_norm_eps,
            "max_position_embeddings": self.max_position_embeddings,
            "tie_word_embeddings": self.tie_word_embeddings,
            "torch_dtype": "float32",
        });
        if let Some(rs) = &self.rope_scaling {
            v["rope_scaling"] = json!({
                "rope_type": "llama3",
                "factor": rs.factor,
                "low_freq_factor": rs.low_freq_factor,
                "high_freq_factor": rs.high_freq_factor,
                "original_max_position_embeddings": rs.original_max_position_embeddings,
            });
        }
        if self.arch == Arch::Llama {
            v["attention_bias"] = json!(self.attention_bias);
            v["mlp_bias"] = json!(false);
        }
        if let Some(b) = self.bos_token_id {
            v["bos_token_id"] = json!(b);
        }
        match self.eos_token_ids.as_slice() {
            [] => {}
            [one] => v["eos_token_id"] = json!(one),
            many => v["eos_token_id"] = json!(many),
        }
        v
    }

    pub fn n_rep(&self) -> usize {
        self.num_attention_heads / self.num_key_value_heads
    }

    /// Parameter count (weights actually stored: tied embeddings counted once).
    pub fn num_parameters(&self) -> usize {
        let h = self.hidden_size;
        let q = self.num_attention_heads * self.head_dim;
        let kv = self.num_key_value_heads * self.head_dim;
        let bias = if self.attention_bias { q + 2 * kv } else { 0 };
        let per_layer = h * q + 2 * h * kv + q * h + bias + 3 * h * self.intermediate_size + 2 * h;
        let emb = self.vocab_size * h;
        emb + self.num_hidden_layers * per_layer
            + h
            + if self.tie_word_embeddings { 0 } else { emb }
    }

    /// Inverse RoPE frequencies, with Llama-3 scaling applied when configured.
    pub fn rope_inv_freq(&self) -> Vec<f32> {
        let d = self.head_dim;
        let base: Vec<f64> = (0..d / 2)
            .map(|i| 1.0 / self.rope_theta.powf((2 * i) as f64 / d as f64))
            .collect();
        let Some(rs) = &self.rope_scaling else {
            return base.into_iter().map(|x| x as f32).collect();
        };
        let old = rs.original_max_position_embeddings as f64;
        let low_wavelen = old / rs.low_freq_factor;
        let high_wavelen = old / rs.high_freq_factor;
        base.into_iter()
            .map(|f| {
                let wavelen = 2.0 * std::f64::consts::PI / f;
                let scaled = if wavelen < high_wavelen {
                    f
                } else if wavelen > low_wavelen {
                    f / rs.factor
                } else {
                    let smooth = (old / wavelen - rs.low_freq_factor)
                        / (rs.high_freq_factor - rs.low_freq_factor);
                    (1.0 - smooth) * f / rs.factor + smooth * f
                };
                scaled as f32
            })
            .collect()
    }

    /// Sanity checks shared by every source.
    pub fn validate(&self) -> Result<()> {
        if self.vocab_size == 0 || self.hidden_size == 0 || self.num_hidden_layers == 0 {
            bail!("model config has a zero size: {self:?}");
        }
        if !self.head_dim.is_multiple_of(2) {
            bail!("head_dim {} must be even for RoPE", self.head_dim);
        }
        Ok(())
    }
}
