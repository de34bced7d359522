//! Weight sources: a Hugging Face folder (single or sharded safetensors) or a GGUF file
//! (dequantized). Both produce the same thing: a map from Hugging Face tensor names to tensors,
//! checked against the configuration before a model is built from it.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::quantized::gguf_file;
use candle_core::{DType, Device, Tensor};

use crate::config::{Arch, ModelConfig};
use crate::proj::Proj;

/// Tensors by their Hugging Face names (`model.layers.0.self_attn.q_proj.weight`, …).
pub type Weights = HashMap<String, Tensor>;

/// The tensors a configuration requires, with their shapes.
pub fn expected_shapes(cfg: &ModelConfig) -> Vec<(String, Vec<usize>)> {
    let h = cfg.hidden_size;
    let mut out = vec![
        (
            "model.embed_tokens.weight".to_string(),
            vec![cfg.vocab_size, h],
        ),
        ("model.norm.weight".to_string(), vec![h]),
    ];
    if !cfg.tie_word_embeddings {
        out.push(("lm_head.weight".to_string(), vec![cfg.vocab_size, h]));
    }
    for i in 0..cfg.num_hidden_layers {
        let p = format!("model.layers.{i}");
        out.push((format!("{p}.input_layernorm.weight"), vec![h]));
        out.push((format!("{p}.post_attention_layernorm.weight"), vec![h]));
        // The attention's weights, then their biases, then the MLP's weights: the order in
        // which `tiny::random_weights` draws them.
        let weight = |proj: Proj| {
            let (rows, cols) = proj.shape(cfg);
            (format!("{}.weight", proj.hf_prefix(i)), vec![rows, cols])
        };
        out.extend(Proj::ATTENTION.map(weight));
        for proj in Proj::ATTENTION.into_iter().filter(|p| p.has_bias(cfg)) {
            out.push((
                format!("{}.bias", proj.hf_prefix(i)),
                vec![proj.shape(cfg).0],
            ));
        }
        out.extend(Proj::MLP.map(weight));
    }
    out
}

/// Check that every required tensor is present with the right shape; the error names the
/// tensor, the expected shape and what was found.
pub fn check(cfg: &ModelConfig, weights: &Weights, source: &str) -> Result<()> {
    let mut problems = Vec::new();
    for (name, shape) in expected_shapes(cfg) {
        match weights.get(&name) {
            None => problems.push(format!(
                "missing tensor `{name}` (expected shape {shape:?})"
            )),
            Some(t) if t.dims() != shape.as_slice() => problems.push(format!(
                "tensor `{name}` has shape {:?}, expected {shape:?}",
                t.dims()
            )),
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let n = problems.len();
    problems.truncate(5);
    bail!(
        "{source}: {n} tensor problem(s) for this config: {}{}",
        problems.join("; "),
        if n > 5 { "; …" } else { "" }
    )
}

/// The safetensors files of an HF folder: `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json`.
pub fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let single = dir.join("model.safetensors");
    let index = dir.join("model.safetensors.index.json");
    if index.exists() {
        let text = std::fs::read_to_string(&index)
            .with_context(|| format!("cannot read {}", index.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid JSON", index.display()))?;
        let map = v
            .get("weight_map")
            .and_then(|m| m.as_object())
            .with_context(|| {
                format!(
                    "{}: field `weight_map` missing or not an object",
                    index.display()
                )
            })?;
        let mut files: Vec<String> = map
            .values()
            .filter_map(|f| f.as_str().map(str::to_string))
            .collect();
        files.sort();
        files.dedup();
        let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
        for p in &paths {
            if !p.exists() {
                bail!(
                    "{}: lists shard {} which does not exist",
                    index.display(),
                    p.display()
                );
            }
        }
        return Ok(paths);
    }
    if single.exists() {
        return Ok(vec![single]);
    }
    bail!(
        "{}: no model.safetensors or model.safetensors.index.json (an HF model folder needs its weights)",
        dir.display()
    )
}

/// Load an HF folder's tensors, converted to `dtype`.
pub fn load_safetensors(files: &[PathBuf], dtype: DType, device: &Device) -> Result<Weights> {
    let mut out = Weights::new();
    for f in files {
        let tensors = candle_core::safetensors::load(f, &Device::Cpu)
            .with_context(|| format!("{}: not a readable safetensors file", f.display()))?;
        for (name, t) in tensors {
            let t = t
                .to_dtype(dtype)
                .and_then(|t| t.to_device(device))
                .with_context(|| format!("{}: tensor `{name}`", f.display()))?;
            out.insert(name, t);
        }
    }
    Ok(out)
}

/// GGUF tensor name → HF name (`blk.3.attn_q.weight` → `model.layers.3.self_attn.q_proj.weight`).
pub fn gguf_to_hf_name(name: &str) -> Option<String> {
    match name {
        "token_embd.weight" => return Some("model.embed_tokens.weight".into()),
        "output_norm.weight" => return Some("model.norm.weight".into()),
        "output.weight" => return Some("lm_head.weight".into()),
        _ => {}
    }
    let rest = name.strip_prefix("blk.")?;
    let (layer, tail) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    match tail {
        "attn_norm.weight" => return Some(format!("model.layers.{layer}.input_layernorm.weight")),
        "ffn_norm.weight" => {
            return Some(format!(
                "model.layers.{layer}.post_attention_layernorm.weight"
            ))
        }
        _ => {}
    }
    let (module, kind) = tail.rsplit_once('.')?;
    let proj = Proj::ALL.into_iter().find(|p| p.gguf_name() == module)?;
    match kind {
        "weight" => {}
        "bias" if proj.may_have_bias() => {}
        _ => return None,
    }
    Some(format!("{}.{kind}", proj.hf_prefix(layer)))
}

/// llama.cpp's converter permutes the rows of Q and K (weights and biases) of Llama-family
/// models for interleaved RoPE. `unpermute` restores the HF layout (half-split RoPE);
/// `permute` is its inverse, used to write GGUF files in tests.
pub fn unpermute_qk(t: &Tensor, n_head: usize) -> Result<Tensor> {
    let dims = t.dims().to_vec();
    let out = dims[0];
    let mut tmp = vec![n_head, out / n_head / 2, 2];
    tmp.extend(&dims[1..]);
    Ok(t.reshape(tmp)?
        .transpose(1, 2)?
        .contiguous()?
        .reshape(dims)?)
}

/// Inverse of [`unpermute_qk`].
pub fn permute_qk(t: &Tensor, n_head: usize) -> Result<Tensor> {
    let dims = t.dims().to_vec();
    let out = dims[0];
    let mut tmp = vec![n_head, 2, out / n_head / 2];
    tmp.extend(&dims[1..]);
    Ok(t.reshape(tmp)?
        .transpose(1, 2)?
        .contiguous()?
        .reshape(dims)?)
}

/// An open GGUF file: its metadata and tensor index.
pub struct GgufFile {
    pub path: PathBuf,
    pub content: gguf_file::Content,
}

impl GgufFile {
    pub fn open(path: &Path) -> Result<Self> {
        let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let content = gguf_file::Content::read(&mut f)
            .with_context(|| format!("{}: not a readable GGUF file", path.display()))?;
        Ok(GgufFile {
            path: path.to_path_buf(),
            content,
        })
    }

    pub fn meta(&self, key: &str) -> Option<&gguf_file::Value> {
        self.content.metadata.get(key)
    }

    fn meta_u(&self, key: &str) -> Result<usize> {
        let v = self
            .meta(key)
            .with_context(|| format!("{}: metadata `{key}` missing", self.path.display()))?;
        Ok(v.to_u64()
            .or_else(|_| v.to_u32().map(u64::from))
            .or_else(|_| v.to_i32().map(|x| x.max(0) as u64))
            .with_context(|| {
                format!(
                    "{}: metadata `{key}` is not an integer",
                    self.path.display()
                )
            })? as usize)
    }

    fn meta_f(&self, key: &str) -> Option<f64> {
        self.meta(key)
            .and_then(|v| v.to_f32().map(f64::from).or_else(|_| v.to_f64()).ok())
    }

    /// The model configuration from the GGUF metadata.
    pub fn config(&self) -> Result<ModelConfig> {
        let file = self.path.display().to_string();
        let arch_name = self
            .meta("general.architecture")
            .and_then(|v| v.to_string().ok())
            .with_context(|| format!("{file}: metadata `general.architecture` missing"))?
            .clone();
        let arch = Arch::from_names(None, Some(&arch_name))
            .with_context(|| format!("{file}: GGUF architecture `{arch_name}`"))?;
        let a = &arch_name;
        let hidden_size = self.meta_u(&format!("{a}.embedding_length"))?;
        let num_attention_heads = self.meta_u(&format!("{a}.attention.head_count"))?;
        let num_key_value_heads = self
            .meta_u(&format!("{a}.attention.head_count_kv"))
            .unwrap_or(num_attention_heads);
        let head_dim = self
            .meta_u(&format!("{a}.attention.key_length"))
            .unwrap_or(hidden_size / num_attention_heads.max(1));
        let vocab_size = match self
            .meta("tokenizer.ggml.tokens")
            .and_then(|v| v.to_vec().ok())
        {
            Some(t) => t.len(),
            None => self
                .content
                .tensor_infos
                .get("token_embd.weight")
                .map(|t| t.shape.dims()[0])
                .with_context(|| format!("{file}: no token list and no token_embd.weight"))?,
        };
        let has_output = self.content.tensor_infos.contains_key("output.weight");
        let attention_bias = (self.content.tensor_infos)
            .contains_key(&format!("blk.0.{}.bias", Proj::Q.gguf_name()));
        let eos = self
            .meta_u("tokenizer.ggml.eos_token_id")
            .ok()
            .map(|x| x as u32);
        let cfg = ModelConfig {
            arch,
            vocab_size,
            hidden_size,
            intermediate_size: self.meta_u(&format!("{a}.feed_forward_length"))?,
            num_hidden_layers: self.meta_u(&format!("{a}.block_count"))?,
            num_attention_heads,
            num_key_value_heads,
            head_dim,
            rope_theta: self
                .meta_f(&format!("{a}.rope.freq_base"))
                .unwrap_or(10_000.0),
            rope_scaling: None,
            rms_norm_eps: self
                .meta_f(&format!("{a}.attention.layer_norm_rms_epsilon"))
                .unwrap_or(1e-5),
            max_position_embeddings: self.meta_u(&format!("{a}.context_length")).unwrap_or(4096),
            tie_word_embeddings: !has_output,
            attention_bias,
            bos_token_id: self
                .meta_u("tokenizer.ggml.bos_token_id")
                .ok()
                .map(|x| x as u32),
            eos_token_ids: eos.into_iter().collect(),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Dequantize every tensor to `dtype`, renamed to HF names, Q/K rows restored to the HF
    /// layout for Llama-family files.
    pub fn load_weights(
        &self,
        cfg: &ModelConfig,
        dtype: DType,
        device: &Device,
    ) -> Result<Weights> {
        let mut f = File::open(&self.path)
            .with_context(|| format!("cannot open {}", self.path.display()))?;
        let mut out = Weights::new();
        let mut names: Vec<&String> = self.content.tensor_infos.keys().collect();
        names.sort();
        for name in names {
            let Some(hf) = gguf_to_hf_name(name) else {
                continue;
            };
            let q = self
                .content
                .tensor(&mut f, name, &Device::Cpu)
                .with_context(|| format!("{}: tensor `{name}`", self.path.display()))?;
            let mut t = q
                .dequantize(&Device::Cpu)
                .with_context(|| format!("{}: cannot dequantize `{name}`", self.path.display()))?;
            // llama.cpp permutes Q/K for Llama-family models only; Qwen2 GGUFs keep HF layout.
            if cfg.arch != Arch::Qwen2 {
                // `model.layers.3.self_attn.q_proj.weight`: the module is the next-to-last part.
                match hf.rsplit('.').nth(1).and_then(Proj::from_name) {
                    Some(Proj::Q) => t = unpermute_qk(&t, cfg.num_attention_heads)?,
                    Some(Proj::K) => t = unpermute_qk(&t, cfg.num_key_value_heads)?,
                    _ => {}
                }
            }
            out.insert(hf, t.to_dtype(dtype)?.to_device(device)?);
        }
        Ok(out)
    }
}
