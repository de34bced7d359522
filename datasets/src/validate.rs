//! `raif data validate`: read a file in any supported format and report every problem.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::catalog::{check_tree, IdCatalog};
use crate::error::{DataError, Loc, Result};
use crate::jsonfile::read_jsonl;
use crate::loaders::{self, Format};
use crate::record::{Record, Role};

/// What validation found. `errors` are hard problems (the file cannot be used as is);
/// `warnings` are oddities worth a look.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub format: String,
    pub records: usize,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Stop listing after this many errors.
pub const MAX_ERRORS: usize = 50;

/// Checks that hold for records of any origin: unique ids, a user turn to answer, a non-empty
/// prompt, constraints (or an expert demonstration) present.
pub fn lint(records: &[(Loc, Record)], report: &mut Report) {
    let mut seen: HashMap<&str, &Loc> = HashMap::new();
    for (loc, r) in records {
        if let Some(first) = seen.insert(r.id.as_str(), loc) {
            report.errors.push(
                DataError::field(
                    loc,
                    "id",
                    format!("duplicate id `{}` (first at {first})", r.id),
                )
                .to_string(),
            );
        }
        if r.messages.last().map(|m| m.role) != Some(Role::User) {
            report
                .warnings
                .push(format!("{loc}: {}: the last turn is not the user's", r.id));
        }
        if r.prompt().trim().is_empty() {
            report
                .warnings
                .push(format!("{loc}: {}: empty prompt", r.id));
        }
        if r.constraints.leaves().is_empty() && r.expert.is_none() {
            report.warnings.push(format!(
                "{loc}: {}: no constraints and no expert answer",
                r.id
            ));
        }
        if let Some(f) = r.fast_score {
            let q = r.constraints.leaves().len() as u32;
            if f.total != q {
                report.warnings.push(format!(
                    "{loc}: {}: fast_score.total {} but {} constraint leaves",
                    r.id, f.total, q
                ));
            }
        }
    }
}

/// Validates a record JSONL file, listing every bad line (up to [`MAX_ERRORS`]), not just the
/// first.
pub fn validate_records(path: &Path, catalog: &dyn IdCatalog) -> Result<Report> {
    let mut report = Report {
        format: Format::Record.to_string(),
        ..Report::default()
    };
    let mut good = Vec::new();
    let lines = match read_jsonl(path) {
        Ok(l) => l,
        Err(e @ DataError::Json { .. }) => {
            report.errors.push(e.to_string());
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    for l in lines {
        report.records += 1;
        let r = Record::from_value(&l.loc, &l.value)
            .and_then(|r| check_tree(&l.loc, "constraints", &r.constraints, catalog).map(|_| r));
        match r {
            Ok(r) => good.push((l.loc, r)),
            Err(e) => {
                if report.errors.len() < MAX_ERRORS {
                    report.errors.push(e.to_string());
                }
            }
        }
    }
    lint(&good, &mut report);
    Ok(report)
}

/// Validates a file of any format: record files line by line; benchmark files through their
/// loader (which stops at the first error), then the common checks.
pub fn validate(path: &Path, format: Format, catalog: &dyn IdCatalog) -> Result<Report> {
    if format == Format::Record {
        return validate_records(path, catalog);
    }
    let mut report = Report {
        format: format.to_string(),
        ..Report::default()
    };
    match loaders::load_located(format, path, catalog) {
        Ok(located) => {
            report.records = located.len();
            lint(&located, &mut report);
        }
        Err(e @ (DataError::Io { .. } | DataError::File { .. })) => return Err(e),
        Err(e) => report.errors.push(e.to_string()),
    }
    Ok(report)
}
