//! Tokenizers: loaded from a `tokenizer.json`, or built from a GGUF file's embedded
//! vocabulary and merges. The GGUF path writes a `tokenizer.json` document in memory and loads
//! that, so both paths run the same Hugging Face `tokenizers` code and the built document can
//! be exported beside a fine-tuned model.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use candle_core::quantized::gguf_file::Value as GValue;
use serde_json::{json, Value};

use crate::weights::GgufFile;

/// A text tokenizer with the model's special tokens.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    json: String,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokenizer({} tokens)", self.vocab_size())
    }
}

/// GGUF token types (llama.cpp): 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_USER_DEFINED: i32 = 4;

// Pre-tokenizer regexes of the byte-level BPE families llama.cpp names in `tokenizer.ggml.pre`.
const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

impl Tokenizer {
    /// Load a Hugging Face `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let json = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_json(json)
            .with_context(|| format!("{}: not a valid tokenizer.json", path.display()))
    }

    pub fn from_json(json: String) -> Result<Self> {
        let inner =
            tokenizers::Tokenizer::from_bytes(json.as_bytes()).map_err(|e| anyhow!("{e}"))?;
        Ok(Tokenizer { inner, json })
    }

    /// The `tokenizer.json` document this tokenizer was built from.
    pub fn to_json(&self) -> &str {
        &self.json
    }

    /// Build from a GGUF's `tokenizer.ggml.*` metadata (byte-level BPE families only).
    pub fn from_gguf(gguf: &GgufFile) -> Result<Self> {
        let json = gguf_tokenizer_json(gguf)?;
        Self::from_json(json.to_string())
            .with_context(|| format!("{}: embedded tokenizer", gguf.path.display()))
    }

    /// Encode text. Special tokens written in the text (e.g. `<|im_start|>`) become their ids;
    /// no BOS/EOS is added (chat templates write them).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| anyhow!("tokenizer: {e}"))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Decode ids to text; `skip_special` drops control tokens.
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special)
            .map_err(|e| anyhow!("tokenizer: {e}"))
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// An incremental decoder for streaming: feed ids, get the new text when it is complete
    /// UTF-8.
    pub fn stream(&self) -> TokenStream<'_> {
        TokenStream {
            tok: self,
            ids: Vec::new(),
            prefix: 0,
            read: 0,
        }
    }

    /// The text of each token on its own (for token-level views), lossless for byte tokens
    /// only in aggregate.
    pub fn token_texts(&self, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|&i| self.decode(&[i], false).unwrap_or_default())
            .collect()
    }
}

/// Incremental detokenizer (prefix/read offsets), robust to multi-token UTF-8 characters.
pub struct TokenStream<'a> {
    tok: &'a Tokenizer,
    ids: Vec<u32>,
    prefix: usize,
    read: usize,
}

impl TokenStream<'_> {
    /// Add one id; returns the newly completed text, if any.
    pub fn push(&mut self, id: u32) -> Result<Option<String>> {
        self.ids.push(id);
        let before = self.tok.decode(&self.ids[self.prefix..self.read], false)?;
        let now = self.tok.decode(&self.ids[self.prefix..], false)?;
        if now.len() > before.len()
            && !now.ends_with('\u{FFFD}')
            && now.is_char_boundary(before.len())
        {
            let delta = now[before.len()..].to_string();
            self.prefix = self.read;
            self.read = self.ids.len();
            Ok(Some(delta))
        } else {
            Ok(None)
        }
    }
}

fn meta_str<'a>(g: &'a GgufFile, key: &str) -> Result<&'a str> {
    g.meta(key)
        .with_context(|| format!("{}: metadata `{key}` missing", g.path.display()))?
        .to_string()
        .map(|s| s.as_str())
        .map_err(|e| anyhow!("{}: metadata `{key}`: {e}", g.path.display()))
}

fn meta_array<'a>(g: &'a GgufFile, key: &str) -> Result<&'a Vec<GValue>> {
    g.meta(key)
        .with_context(|| format!("{}: metadata `{key}` missing", g.path.display()))?
        .to_vec()
        .map_err(|e| anyhow!("{}: metadata `{key}`: {e}", g.path.display()))
}

/// The `tokenizer.json` document equivalent to a GGUF's embedded byte-level BPE tokenizer.
pub fn gguf_tokenizer_json(g: &GgufFile) -> Result<Value> {
    let file = g.path.display().to_string();
    let model = meta_str(g, "tokenizer.ggml.model")?;
    if model != "gpt2" {
        bail!(
            "{file}: GGUF tokenizer model `{model}` is not supported (only byte-level BPE, `gpt2`); \
             use a Hugging Face folder with tokenizer.json for this model"
        );
    }
    let pre = g
        .meta("tokenizer.ggml.pre")
        .and_then(|v| v.to_string().ok())
        .map(|s| s.as_str())
        .unwrap_or("default");
    let byte_level = |use_regex: bool| json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex});
    let split = |re: &str| json!({"type": "Split", "pattern": {"Regex": re}, "behavior": "Isolated", "invert": false});
    let pre_tokenizer = match pre {
        "smollm" => json!({"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true}, byte_level(true)]}),
        "default" | "gpt2" => byte_level(true),
        "llama-bpe" | "llama3" | "smaug-bpe" => json!({"type": "Sequence", "pretokenizers": [split(LLAMA3_REGEX), byte_level(false)]}),
        "qwen2" => json!({"type": "Sequence", "pretokenizers": [split(QWEN2_REGEX), byte_level(false)]}),
        other => bail!(
            "{file}: GGUF pre-tokenizer `{other}` is not supported (smollm, gpt2, llama-bpe, qwen2); \
             use a Hugging Face folder with tokenizer.json for this model"
        ),
    };
    let tokens = meta_array(g, "tokenizer.ggml.tokens")?;
    let types = g
        .meta("tokenizer.ggml.token_type")
        .and_then(|v| v.to_vec().ok());
    let merges = meta_array(g, "tokenizer.ggml.merges")?;
    let mut vocab = serde_json::Map::new();
    let mut added = Vec::new();
    for (id, t) in tokens.iter().enumerate() {
        let s = t
            .to_string()
            .map_err(|e| anyhow!("{file}: token {id}: {e}"))?;
        vocab.insert(s.clone(), json!(id));
        let ty = types
            .and_then(|ts| ts.get(id))
            .and_then(|v| v.to_i32().or_else(|_| v.to_u32().map(|x| x as i32)).ok())
            .unwrap_or(1);
        if ty == TOKEN_TYPE_CONTROL || ty == TOKEN_TYPE_USER_DEFINED {
            added.push(json!({
                "id": id, "content": s, "single_word": false, "lstrip": false, "rstrip": false,
                "normalized": ty == TOKEN_TYPE_USER_DEFINED, "special": ty == TOKEN_TYPE_CONTROL,
            }));
        }
    }
    let merges: Vec<Value> = merges
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.to_string()
                .map(|s| json!(s))
                .map_err(|e| anyhow!("{file}: merge {i}: {e}"))
        })
        .collect::<Result<_>>()?;
    Ok(json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
            "vocab": vocab, "merges": merges,
        }
    }))
}
