//! The logic behind `raif data …` (the binary's `src/data.rs` only parses arguments and prints).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::catalog::IdCatalog;
use crate::gen::{self, ContaminationIndex, GenConfig, GenReport};
use crate::loaders::{self, Format};
use crate::record::{write_records, Record};
use crate::stats::{self, Stats};
use crate::validate::{self, Report};

/// Guesses a file's format from its name and first record, for commands run without `--format`.
pub fn detect_format(path: &Path) -> Format {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_lowercase();
    if path.is_dir() && name.contains("followbench") {
        return Format::FollowbenchEn;
    }
    if name.contains("cello") {
        return Format::Cello;
    }
    if name.contains("fb_bench") {
        return Format::Fbbench;
    }
    if name.contains("cfbench") {
        return Format::Cfbench;
    }
    if name.contains("infobench") {
        return Format::Infobench;
    }
    // Sniff the first line's keys.
    let first = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.lines().find(|l| !l.trim().is_empty()).map(str::to_string))
        .and_then(|l| serde_json::from_str::<serde_json::Value>(&l).ok());
    let has = |k: &str| first.as_ref().and_then(|v| v.get(k)).is_some();
    if has("format") && has("constraints") {
        Format::Record
    } else if has("instruction_id_list") && has("prompt") {
        if first
            .as_ref()
            .and_then(|v| v.get("key"))
            .is_some_and(|k| k.is_string())
        {
            Format::Ifbench
        } else {
            Format::Ifeval
        }
    } else if has("input") && has("target") {
        Format::RaifRl
    } else if has("question") && has("answer") {
        Format::RaifExpert
    } else if has("prompt_new") {
        Format::FollowbenchEn
    } else {
        Format::Record
    }
}

/// `raif data validate`.
pub fn validate_file(
    path: &Path,
    format: Option<Format>,
    catalog: &dyn IdCatalog,
) -> Result<Report> {
    let f = format.unwrap_or_else(|| detect_format(path));
    Ok(validate::validate(path, f, catalog)?)
}

/// `raif data stats`.
pub fn stats_file(path: &Path, format: Option<Format>, catalog: &dyn IdCatalog) -> Result<Stats> {
    let f = format.unwrap_or_else(|| detect_format(path));
    let records = loaders::load(f, path, catalog)?;
    Ok(stats::compute(&records))
}

/// `raif data convert`: any format to record JSONL.
pub fn convert_file(
    path: &Path,
    format: Option<Format>,
    out: &Path,
    catalog: &dyn IdCatalog,
) -> Result<usize> {
    let f = format.unwrap_or_else(|| detect_format(path));
    let records = loaders::load(f, path, catalog)?;
    write_records(out, &records)?;
    Ok(records.len())
}

/// IFEval and IFBench prompts found under the given data folders (laid out like
/// `../shared/data` or `<home>/data`); the folders used are returned too.
pub fn benchmark_prompts(
    roots: &[PathBuf],
    catalog: &dyn IdCatalog,
) -> Result<(Vec<String>, Vec<PathBuf>)> {
    let mut prompts = Vec::new();
    let mut used = Vec::new();
    for f in [Format::Ifeval, Format::Ifbench] {
        for root in roots {
            let Some(p) = f.default_path(root) else {
                continue;
            };
            if p.exists() {
                let recs: Vec<Record> = loaders::load(f, &p, catalog)?;
                prompts.extend(recs.iter().map(|r| r.prompt().to_string()));
                used.push(p);
                break;
            }
        }
    }
    Ok((prompts, used))
}

/// Word n-gram size and threshold of the contamination check run by `raif data gen`.
pub const CONTAMINATION_N: usize = 8;
pub const CONTAMINATION_THRESHOLD: f64 = 0.2;

/// What `raif data gen` did.
#[derive(Debug)]
pub struct GenOutcome {
    pub out: PathBuf,
    pub report: GenReport,
    /// Benchmark files the contamination check used (empty: the check did not run).
    pub checked_against: Vec<PathBuf>,
}

/// `raif data gen`: generates, checks contamination against whatever IFEval / IFBench copies
/// `roots` hold, and writes the records atomically.
pub fn gen_file(
    cfg: &GenConfig,
    out: &Path,
    roots: &[PathBuf],
    catalog: &dyn IdCatalog,
) -> Result<GenOutcome> {
    gen_file_filtered(cfg, out, roots, catalog, None)
}

/// [`gen_file`] with a length filter (see [`gen::generate_filtered`]): draws for which `fits`
/// returns false are drawn again and counted in the report's `budget_rejects`.
pub fn gen_file_filtered(
    cfg: &GenConfig,
    out: &Path,
    roots: &[PathBuf],
    catalog: &dyn IdCatalog,
    fits: Option<&dyn Fn(&Record) -> bool>,
) -> Result<GenOutcome> {
    let (prompts, used) = benchmark_prompts(roots, catalog)?;
    let index = if prompts.is_empty() {
        None
    } else {
        Some(ContaminationIndex::new(
            prompts.iter().map(String::as_str),
            CONTAMINATION_N,
            CONTAMINATION_THRESHOLD,
        ))
    };
    let (records, report) = gen::generate_filtered(cfg, index.as_ref(), fits);
    write_records(out, &records).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(GenOutcome {
        out: out.to_path_buf(),
        report,
        checked_against: used,
    })
}
