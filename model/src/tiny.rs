//! Randomly initialised models and a small byte-level BPE tokenizer, built in memory. Tests
//! across the workspace use them (no download), and benchmarks use random models of real
//! shapes (e.g. Qwen2.5-1.5B's) where weights cannot be fetched.

use anyhow::Result;
use candle_core::{DType, Device, Tensor};
use serde_json::{json, Value};

use crate::config::{Arch, Llama3RopeScaling, ModelConfig};
use crate::rng::Rng;
use crate::weights::{expected_shapes, Weights};

/// A tiny configuration of the given family (vocab matches [`tiny_tokenizer_json`]).
pub fn tiny_config(arch: Arch) -> ModelConfig {
    let vocab = tiny_vocab().len() + TINY_SPECIALS.len();
    ModelConfig {
        arch,
        vocab_size: vocab,
        hidden_size: 32,
        intermediate_size: 48,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 8,
        rope_theta: 10_000.0,
        rope_scaling: if arch == Arch::Llama {
            Some(Llama3RopeScaling {
                factor: 8.0,
                low_freq_factor: 1.0,
                high_freq_factor: 4.0,
                original_max_position_embeddings: 16,
            })
        } else {
            None
        },
        rms_norm_eps: 1e-5,
        max_position_embeddings: 512,
        tie_word_embeddings: arch != Arch::Mistral,
        attention_bias: arch == Arch::Qwen2,
        bos_token_id: None,
        eos_token_ids: vec![(vocab - TINY_SPECIALS.len()) as u32 + 2],
    }
}

/// Random weights for `cfg`: normal(0, std) matrices, norms near 1, small biases.
pub fn random_weights(
    cfg: &ModelConfig,
    seed: u64,
    std: f64,
    dtype: DType,
    device: &Device,
) -> Result<Weights> {
    let mut rng = Rng::new(seed);
    let mut w = Weights::new();
    for (name, shape) in expected_shapes(cfg) {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = if name.ends_with("norm.weight") {
            (0..n).map(|_| 1.0 + 0.1 * rng.normal() as f32).collect()
        } else if name.ends_with(".bias") {
            (0..n).map(|_| 0.1 * rng.normal() as f32).collect()
        } else {
            (0..n).map(|_| (std * rng.normal()) as f32).collect()
        };
        w.insert(
            name,
            Tensor::from_vec(data, shape, device)?.to_dtype(dtype)?,
        );
    }
    Ok(w)
}

/// Special tokens of the tiny tokenizer, after the byte vocabulary and merges.
pub const TINY_SPECIALS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// GPT-2's byte → printable-character map used by byte-level BPE.
pub fn bytes_to_unicode() -> Vec<char> {
    let mut bs: Vec<u32> = (33..=126).chain(161..=172).chain(174..=255).collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    let mut out = vec![' '; 256];
    for (b, c) in bs.iter().zip(cs.iter()) {
        out[*b as usize] = char::from_u32(*c).unwrap_or('?');
    }
    out
}

/// Merges of the tiny tokenizer (a handful of common English pairs), in rank order; each
/// merge's parts exist before it.
pub fn tiny_merges() -> Vec<(String, String)> {
    let sp = bytes_to_unicode()[b' ' as usize].to_string();
    [
        ("t", "h"),
        ("th", "e"),
        ("SP", "the"),
        ("i", "n"),
        ("in", "k"),
        ("th", "ink"),
        ("SP", "a"),
        ("e", "r"),
        ("o", "n"),
        ("SP", "t"),
        ("a", "n"),
        ("an", "d"),
        ("SP", "and"),
    ]
    .iter()
    .map(|(a, b)| (a.replace("SP", &sp), b.to_string()))
    .collect()
}

/// The tiny vocabulary: 256 byte symbols, then one token per merge.
pub fn tiny_vocab() -> Vec<String> {
    let mut v: Vec<String> = bytes_to_unicode()
        .into_iter()
        .map(|c| c.to_string())
        .collect();
    for (a, b) in tiny_merges() {
        v.push(format!("{a}{b}"));
    }
    v
}

/// A `tokenizer.json` (byte-level BPE, ChatML specials) written independently of the GGUF
/// path, so tests can compare the two.
pub fn tiny_tokenizer_json() -> Value {
    let vocab = tiny_vocab();
    let mut map = serde_json::Map::new();
    for (i, t) in vocab.iter().enumerate() {
        map.insert(t.clone(), json!(i));
    }
    let base = vocab.len();
    let mut added = Vec::new();
    for (k, s) in TINY_SPECIALS.iter().enumerate() {
        map.insert(s.to_string(), json!(base + k));
        added.push(json!({"id": base + k, "content": s, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}));
    }
    let merges: Vec<Value> = tiny_merges()
        .into_iter()
        .map(|(a, b)| json!(format!("{a} {b}")))
        .collect();
    json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                  "vocab": map, "merges": merges}
    })
}

/// A ready tiny model: random weights, the tiny tokenizer, the ChatML template.
pub fn tiny_model(arch: Arch, seed: u64) -> Result<crate::LoadedModel> {
    let cfg = tiny_config(arch);
    let w = random_weights(&cfg, seed, 0.2, DType::F32, &Device::Cpu)?;
    chatml_model(cfg, w, tiny_tokenizer_json(), "tiny")
}

/// A built model with a tokenizer.json document and the ChatML template, named `source`.
fn chatml_model(
    cfg: ModelConfig,
    w: Weights,
    tokenizer_json: Value,
    source: &str,
) -> Result<crate::LoadedModel> {
    let model = crate::Transformer::from_weights(cfg, w, source)?;
    let tokenizer = crate::Tokenizer::from_json(tokenizer_json.to_string())?;
    let stop_ids = model.cfg.eos_token_ids.clone();
    Ok(crate::LoadedModel {
        model,
        tokenizer,
        template: crate::ChatTemplate::ChatMl {
            default_system: None,
        },
        source: crate::ModelSource::HfFolder(source.into()),
        stop_ids,
    })
}

/// Shapes of real models for `random:NAME` (benchmarks where weights cannot be fetched, e.g.
/// on a lent GPU machine without network): the published `config.json` values.
pub const RANDOM_SHAPES: [&str; 5] = [
    "smollm2-135m",
    "qwen2.5-0.5b",
    "qwen2.5-1.5b",
    "qwen2.5-7b",
    "llama-3.1-8b",
];

/// The configuration of a named real shape (see [`RANDOM_SHAPES`]).
pub fn shape_config(name: &str) -> Result<ModelConfig> {
    // (arch, vocab, hidden, intermediate, layers, heads, kv heads, theta, eps, tied)
    let (arch, vocab, hidden, inter, layers, heads, kv, theta, eps, tied) = match name {
        "smollm2-135m" => (
            Arch::Llama,
            49152,
            576,
            1536,
            30,
            9,
            3,
            100_000.0,
            1e-5,
            true,
        ),
        "qwen2.5-0.5b" => (Arch::Qwen2, 151_936, 896, 4864, 24, 14, 2, 1e6, 1e-6, true),
        "qwen2.5-1.5b" => (Arch::Qwen2, 151_936, 1536, 8960, 28, 12, 2, 1e6, 1e-6, true),
        "qwen2.5-7b" => (
            Arch::Qwen2,
            152_064,
            3584,
            18944,
            28,
            28,
            4,
            1e6,
            1e-6,
            false,
        ),
        "llama-3.1-8b" => (
            Arch::Llama,
            128_256,
            4096,
            14336,
            32,
            32,
            8,
            500_000.0,
            1e-5,
            false,
        ),
        other => anyhow::bail!(
            "unknown model shape `{other}` (random:{})",
            RANDOM_SHAPES.join(", random:")
        ),
    };
    let base = tiny_vocab().len();
    Ok(ModelConfig {
        arch,
        vocab_size: vocab,
        hidden_size: hidden,
        intermediate_size: inter,
        num_hidden_layers: layers,
        num_attention_heads: heads,
        num_key_value_heads: kv,
        head_dim: hidden / heads,
        rope_theta: theta,
        rope_scaling: (name == "llama-3.1-8b").then_some(Llama3RopeScaling {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 8192,
        }),
        rms_norm_eps: eps,
        max_position_embeddings: 32_768,
        tie_word_embeddings: tied,
        attention_bias: arch == Arch::Qwen2,
        bos_token_id: None,
        // <|im_end|> of the random-shape tokenizer
        eos_token_ids: vec![base as u32 + 2],
    })
}

/// The tiny byte-level tokenizer grown to `vocab` ids: the ChatML specials right after the
/// byte vocabulary and merges, then filler tokens, so that any id a random model samples
/// decodes.
pub fn filler_tokenizer_json(vocab: usize) -> Value {
    let mut j = tiny_tokenizer_json();
    let start = tiny_vocab().len() + TINY_SPECIALS.len();
    if let Some(map) = j["model"]["vocab"].as_object_mut() {
        for id in start..vocab {
            map.insert(format!("⟨{id}⟩"), json!(id));
        }
    }
    j
}

/// A model of a real shape with random weights (normal, std 0.02; norms 1; biases 0) drawn on
/// `device` itself, in `dtype`, with [`filler_tokenizer_json`] and the ChatML template.
pub fn random_model(name: &str, dtype: DType, device: &Device) -> Result<crate::LoadedModel> {
    let cfg = shape_config(name)?;
    let mut w = Weights::new();
    for (tensor, shape) in expected_shapes(&cfg) {
        let t = if tensor.ends_with("norm.weight") {
            Tensor::ones(shape, dtype, device)?
        } else if tensor.ends_with(".bias") {
            Tensor::zeros(shape, dtype, device)?
        } else {
            Tensor::randn(0f32, 0.02, shape, device)?.to_dtype(dtype)?
        };
        w.insert(tensor, t);
    }
    let tokenizer = filler_tokenizer_json(cfg.vocab_size);
    chatml_model(cfg, w, tokenizer, &format!("random:{name}"))
}
