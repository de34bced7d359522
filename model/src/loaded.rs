//! Loading a whole model (weights, tokenizer, chat template, stop tokens) from a GGUF file or a
//! Hugging Face folder, and writing one back as a Hugging Face folder.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use serde_json::{json, Value};

use crate::config::ModelConfig;
use crate::template::ChatTemplate;
use crate::tokenizer::Tokenizer;
use crate::transformer::Transformer;
use crate::weights::{self, GgufFile};

/// Where a model came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    Gguf(PathBuf),
    HfFolder(PathBuf),
}

impl ModelSource {
    pub fn path(&self) -> &Path {
        match self {
            ModelSource::Gguf(p) | ModelSource::HfFolder(p) => p,
        }
    }
}

/// A model ready to generate or train.
pub struct LoadedModel {
    pub model: Transformer,
    pub tokenizer: Tokenizer,
    pub template: ChatTemplate,
    pub source: ModelSource,
    /// Ids that end a turn: the config's EOS ids plus the template's end-of-turn tokens.
    pub stop_ids: Vec<u32>,
}

impl LoadedModel {
    /// The one way the command line, the trainer and the evaluator open a model: `spec` is
    /// `default`, a `.gguf` file, a Hugging Face folder, a cached `OWNER/NAME` (resolved under
    /// `models`, fetching the default model once) or `random:SHAPE` (a real model's shape with
    /// random weights, for benchmarks); `device` is `cpu`, `cuda`, `cuda:N` or `auto`, and the
    /// weights take the device's default dtype (f32 on the CPU, bf16 on CUDA); `template`
    /// overrides the model's chat template by name. `log` hears about fetching.
    pub fn open(
        models: &Path,
        spec: &str,
        device: &str,
        template: Option<&str>,
        log: &mut dyn FnMut(&str),
    ) -> Result<Self> {
        let dev = crate::device::parse_device(device)?;
        let dtype = crate::device::default_dtype(&dev);
        let mut lm = match spec.strip_prefix("random:") {
            Some(shape) => crate::tiny::random_model(shape, dtype, &dev)?,
            None => Self::load(&crate::fetch::resolve(models, spec, log)?, dtype, &dev)?,
        };
        if let Some(t) = template {
            lm.template = ChatTemplate::by_name(t)?;
        }
        Ok(lm)
    }

    /// Load a `.gguf` file or an HF folder, weights converted to `dtype` on `device`.
    pub fn load(path: &Path, dtype: DType, device: &Device) -> Result<Self> {
        if !path.exists() {
            bail!("model path {} does not exist", path.display());
        }
        if path.is_dir() {
            Self::load_hf(path, dtype, device)
        } else if path.extension().is_some_and(|e| e == "gguf") {
            Self::load_gguf(path, dtype, device)
        } else {
            bail!("{}: a model is a .gguf file or a Hugging Face folder (config.json, *.safetensors, tokenizer.json)", path.display())
        }
    }

    pub fn load_gguf(path: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let g = GgufFile::open(path)?;
        let cfg = g.config()?;
        let tokenizer = Tokenizer::from_gguf(&g)?;
        let jinja = g
            .meta("tokenizer.chat_template")
            .and_then(|v| v.to_string().ok())
            .map(|s| s.as_str());
        let template = ChatTemplate::detect(jinja, &|t| tokenizer.token_to_id(t).is_some())
            .with_context(|| {
                format!(
                    "{}: cannot tell the chat template; pass --template",
                    path.display()
                )
            })?;
        let w = g.load_weights(&cfg, dtype, device)?;
        let model = Transformer::from_weights(cfg, w, &path.display().to_string())?;
        Ok(Self::assemble(
            model,
            tokenizer,
            template,
            ModelSource::Gguf(path.to_path_buf()),
            &[],
        ))
    }

    pub fn load_hf(dir: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let cfg_path = dir.join("config.json");
        if !cfg_path.exists() {
            bail!(
                "{}: no config.json (not a Hugging Face model folder)",
                dir.display()
            );
        }
        let cfg = ModelConfig::from_hf_file(&cfg_path)?;
        cfg.validate()?;
        let tok_path = dir.join("tokenizer.json");
        if !tok_path.exists() {
            bail!("{}: no tokenizer.json", dir.display());
        }
        let tokenizer = Tokenizer::from_file(&tok_path)?;
        let tc = read_json_opt(&dir.join("tokenizer_config.json"))?;
        let jinja = tc
            .as_ref()
            .and_then(|v| v.get("chat_template"))
            .and_then(|v| v.as_str());
        let template = ChatTemplate::detect(jinja, &|t| tokenizer.token_to_id(t).is_some())
            .with_context(|| {
                format!(
                    "{}: cannot tell the chat template; pass --template",
                    dir.display()
                )
            })?;
        let mut extra_eos = Vec::new();
        if let Some(gc) = read_json_opt(&dir.join("generation_config.json"))? {
            match gc.get("eos_token_id") {
                Some(Value::Number(n)) => extra_eos.extend(n.as_u64().map(|x| x as u32)),
                Some(Value::Array(a)) => {
                    extra_eos.extend(a.iter().filter_map(|x| x.as_u64().map(|x| x as u32)))
                }
                _ => {}
            }
        }
        let files = weights::safetensors_files(dir)?;
        let w = weights::load_safetensors(&files, dtype, device)?;
        let model = Transformer::from_weights(cfg, w, &dir.display().to_string())?;
        Ok(Self::assemble(
            model,
            tokenizer,
            template,
            ModelSource::HfFolder(dir.to_path_buf()),
            &extra_eos,
        ))
    }

    fn assemble(
        model: Transformer,
        tokenizer: Tokenizer,
        template: ChatTemplate,
        source: ModelSource,
        extra: &[u32],
    ) -> Self {
        let mut stop_ids: Vec<u32> = model.cfg.eos_token_ids.clone();
        stop_ids.extend_from_slice(extra);
        stop_ids.extend(
            template
                .stop_tokens()
                .iter()
                .filter_map(|t| tokenizer.token_to_id(t)),
        );
        stop_ids.sort_unstable();
        stop_ids.dedup();
        LoadedModel {
            model,
            tokenizer,
            template,
            source,
            stop_ids,
        }
    }

    /// Write an HF folder (config.json, model.safetensors, tokenizer files) that other tools
    /// load. Each file is written to a temporary name and renamed, so a crash leaves either
    /// the old file or the new one.
    pub fn save_hf(&self, dir: &Path) -> Result<()> {
        save_hf_folder(&self.model, &self.tokenizer, &self.template, dir)
    }
}

fn read_json_opt(path: &Path) -> Result<Option<Value>> {
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    Ok(Some(v))
}

/// Write `bytes` to `path` atomically (temp file in the same folder, fsync, rename).
/// The tokenizer of a model on disk (an HF folder's `tokenizer.json`, or a GGUF's
/// vocabulary and merges), without loading its weights.
pub fn load_tokenizer(path: &Path) -> Result<Tokenizer> {
    if path.is_dir() {
        Tokenizer::from_file(&path.join("tokenizer.json"))
    } else if path.exists() {
        let g = crate::weights::GgufFile::open(path)?;
        Tokenizer::from_gguf(&g)
    } else {
        anyhow::bail!("{} does not exist", path.display())
    }
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().context("path has no parent folder")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {} (is the disk full?)", path.display()))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot rename into {}", path.display()))?;
    Ok(())
}

/// A Jinja chat template text for `tokenizer_config.json`, so exported folders chat correctly
/// in other tools.
pub fn jinja_for(t: &ChatTemplate) -> String {
    match t {
        ChatTemplate::ChatMl { default_system } => {
            let mut s = String::new();
            if let Some(d) = default_system {
                s += &format!("{{% if messages[0]['role'] != 'system' %}}{{{{ '<|im_start|>system\\n{d}<|im_end|>\\n' }}}}{{% endif %}}");
            }
            s += "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
            s
        }
        ChatTemplate::Llama3 { .. } => "{{ '<|begin_of_text|>' }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}".into(),
        ChatTemplate::DeepSeekR1 => "{{ '<｜begin▁of▁sentence｜>' }}{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] }}{% elif message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}{% else %}{{ '<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}".into(),
        ChatTemplate::Mistral => "{{ '<s>' }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST]' + message['content'] + '[/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + '</s>' }}{% endif %}{% endfor %}".into(),
    }
}

/// Write a model as an HF folder.
pub fn save_hf_folder(
    model: &Transformer,
    tokenizer: &Tokenizer,
    template: &ChatTemplate,
    dir: &Path,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cfg = &model.cfg;
    write_atomic(
        &dir.join("config.json"),
        serde_json::to_string_pretty(&cfg.to_hf_json())?.as_bytes(),
    )?;
    let tensors: std::collections::HashMap<String, Tensor> = model
        .named_tensors()
        .into_iter()
        .map(|(n, t)| Ok((n, t.to_device(&Device::Cpu)?.to_dtype(DType::F32)?)))
        .collect::<Result<_>>()?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    candle_core::safetensors::save(&tensors, tmp.path())
        .context("cannot write model.safetensors")?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join("model.safetensors"))
        .context("cannot rename model.safetensors into place")?;
    write_atomic(&dir.join("tokenizer.json"), tokenizer.to_json().as_bytes())?;
    let name = |id: Option<u32>| id.and_then(|i| tokenizer.id_to_token(i));
    let mut tc = json!({
        "chat_template": jinja_for(template),
        "model_max_length": cfg.max_position_embeddings,
        "clean_up_tokenization_spaces": false,
        "tokenizer_class": "PreTrainedTokenizerFast",
    });
    if let Some(b) = name(cfg.bos_token_id) {
        tc["bos_token"] = json!(b);
    }
    if let Some(e) = name(cfg.eos_token_ids.first().copied()) {
        tc["eos_token"] = json!(e);
    }
    write_atomic(
        &dir.join("tokenizer_config.json"),
        serde_json::to_string_pretty(&tc)?.as_bytes(),
    )?;
    let mut gc = json!({"do_sample": true});
    if let Some(b) = cfg.bos_token_id {
        gc["bos_token_id"] = json!(b);
    }
    gc["eos_token_id"] = json!(cfg.eos_token_ids);
    write_atomic(
        &dir.join("generation_config.json"),
        serde_json::to_string_pretty(&gc)?.as_bytes(),
    )?;
    Ok(())
}
