//! Checkpoints: trainable weights, optimizer moments, step counters and RNG state, as
//! safetensors files plus a small JSON manifest with sha256 checksums. A checkpoint folder is
//! written under a temporary name (each file fsynced) and renamed into place, so it is either
//! complete or absent; loading verifies every checksum before touching the model.
//!
//! Also the exports other tools read: a fine-tuned model as a Hugging Face folder, LoRA
//! adapters in PEFT's layout.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::fetch::sha256_file;
use crate::train::lora::LoraConfig;
use crate::train::optim::AdamW;
use crate::train::params::{TrainMode, Trainable};

pub const CHECKPOINT_FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileSum {
    pub sha256: String,
    pub bytes: u64,
}

/// `manifest.json` of a checkpoint folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub mode: TrainMode,
    /// Optimizer steps taken.
    pub optimizer_step: u64,
    /// Caller-defined progress (e.g. the trainer's step and data cursor) and RNG states.
    pub state: Value,
    pub lora_dropout_rng: [u64; 4],
    pub files: HashMap<String, FileSum>,
}

fn to_cpu(map: HashMap<String, Tensor>) -> Result<HashMap<String, Tensor>> {
    map.into_iter()
        .map(|(k, t)| Ok((k, t.to_device(&Device::Cpu)?)))
        .collect()
}

fn save_tensors(map: &HashMap<String, Tensor>, path: &Path) -> Result<()> {
    candle_core::safetensors::save(map, path)
        .with_context(|| format!("cannot write {} (is the disk full?)", path.display()))?;
    std::fs::File::open(path)?.sync_all()?;
    Ok(())
}

/// Save a checkpoint into `dir` (which must not exist yet; a leftover temporary folder from a
/// crash is replaced).
pub fn save(dir: &Path, trainable: &Trainable, opt: &AdamW, state: Value) -> Result<()> {
    if dir.exists() {
        bail!("checkpoint {} already exists", dir.display());
    }
    let parent = dir.parent().context("checkpoint path has no parent")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dir
        .file_name()
        .context("checkpoint path has no name")?
        .to_string_lossy()
        .to_string();
    let tmp = parent.join(format!(".{name}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    let weights: HashMap<String, Tensor> = trainable
        .vars
        .iter()
        .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
        .collect();
    save_tensors(&to_cpu(weights)?, &tmp.join("trainable.safetensors"))?;
    save_tensors(
        &opt.state_tensors(&trainable.vars)?,
        &tmp.join("optimizer.safetensors"),
    )?;
    let mut files = HashMap::new();
    for f in ["trainable.safetensors", "optimizer.safetensors"] {
        let p = tmp.join(f);
        files.insert(
            f.to_string(),
            FileSum {
                sha256: sha256_file(&p)?,
                bytes: std::fs::metadata(&p)?.len(),
            },
        );
    }
    let manifest = Manifest {
        format: CHECKPOINT_FORMAT,
        mode: trainable.mode.clone(),
        optimizer_step: opt.step,
        state,
        lora_dropout_rng: trainable.dropout_rng_state()?,
        files,
    };
    crate::loaded::write_atomic(
        &tmp.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, dir)
        .with_context(|| format!("cannot rename the checkpoint into {}", dir.display()))?;
    Ok(())
}

/// Read and verify a checkpoint's manifest and files (nothing is loaded into a model yet).
pub fn verify(dir: &Path) -> Result<Manifest> {
    let mpath = dir.join("manifest.json");
    let text = std::fs::read_to_string(&mpath)
        .with_context(|| format!("{}: cannot read (incomplete checkpoint?)", mpath.display()))?;
    let m: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a valid checkpoint manifest", mpath.display()))?;
    if m.format != CHECKPOINT_FORMAT {
        bail!("{}: checkpoint format {} is not supported (this raif reads format {CHECKPOINT_FORMAT})", mpath.display(), m.format);
    }
    for (f, sum) in &m.files {
        let p = dir.join(f);
        let bytes = std::fs::metadata(&p)
            .with_context(|| format!("{}: missing", p.display()))?
            .len();
        if bytes != sum.bytes {
            bail!(
                "{}: {bytes} bytes, the manifest says {} (truncated or corrupt checkpoint)",
                p.display(),
                sum.bytes
            );
        }
        let got = sha256_file(&p)?;
        if got != sum.sha256 {
            bail!(
                "{}: sha256 {got} does not match the manifest's {} (corrupt checkpoint)",
                p.display(),
                sum.sha256
            );
        }
    }
    Ok(m)
}

/// Load a verified checkpoint into `trainable` and `opt`; returns the manifest.
pub fn load(dir: &Path, trainable: &Trainable, opt: &mut AdamW) -> Result<Manifest> {
    let m = verify(dir)?;
    if m.mode != trainable.mode {
        bail!(
            "{}: checkpoint was trained as {:?}, this run is {:?}",
            dir.display(),
            m.mode,
            trainable.mode
        );
    }
    let src = dir.display().to_string();
    let w = candle_core::safetensors::load(dir.join("trainable.safetensors"), &Device::Cpu)?;
    let o = candle_core::safetensors::load(dir.join("optimizer.safetensors"), &Device::Cpu)?;
    // Check everything before writing anything.
    for (name, var) in &trainable.vars {
        let t = w
            .get(name)
            .with_context(|| format!("{src}: missing tensor `{name}`"))?;
        if t.dims() != var.dims() {
            bail!(
                "{src}: tensor `{name}` has shape {:?}, expected {:?}",
                t.dims(),
                var.dims()
            );
        }
    }
    trainable.load_values(&w, &src)?;
    opt.load_state_tensors(&trainable.vars, &o, m.optimizer_step, &src)?;
    trainable.set_dropout_rng_state(m.lora_dropout_rng)?;
    Ok(m)
}

/// Write LoRA adapters in PEFT's layout (`adapter_config.json`, `adapter_model.safetensors`).
pub fn export_peft(dir: &Path, trainable: &Trainable, base_model: &str) -> Result<()> {
    let TrainMode::Lora(cfg) = &trainable.mode else {
        bail!("export_peft: this run is a full fine-tune, not LoRA");
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tensors: HashMap<String, Tensor> = trainable
        .vars
        .iter()
        .map(|(n, v)| {
            Ok((
                format!("base_model.model.{n}"),
                v.as_tensor()
                    .to_device(&Device::Cpu)?
                    .to_dtype(DType::F32)?,
            ))
        })
        .collect::<Result<_>>()?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    candle_core::safetensors::save(&tensors, tmp.path())?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join("adapter_model.safetensors"))?;
    crate::loaded::write_atomic(
        &dir.join("adapter_config.json"),
        serde_json::to_string_pretty(&peft_config(cfg, base_model))?.as_bytes(),
    )?;
    Ok(())
}

pub fn peft_config(cfg: &LoraConfig, base_model: &str) -> Value {
    json!({
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base_model,
        "r": cfg.r,
        "lora_alpha": cfg.alpha,
        "lora_dropout": cfg.dropout,
        "target_modules": cfg.targets,
        "bias": "none",
        "fan_in_fan_out": false,
        "inference_mode": true,
        "init_lora_weights": true,
        "use_rslora": false,
        "use_dora": false,
        "modules_to_save": null,
    })
}
