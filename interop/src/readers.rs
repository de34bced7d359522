//! Readers of TRL's completions parquet, verl's rollout JSONL and plain JSONL rows.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value};

/// One imported sample, before grouping.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub step: u64,
    pub prompt: String,
    pub response: String,
    /// The engine's total reward for this sample, if the file has one.
    pub reward: Option<f64>,
    /// Other numeric columns (TRL's per-reward-function columns, verl's reward extra info).
    pub extra: BTreeMap<String, f64>,
    pub advantage: Option<f64>,
    /// The sample's constraints, if the file carries them.
    pub constraints: Option<Value>,
    /// `file:row` for messages.
    pub origin: String,
}

/// Field / column names that hold a record's constraints.
pub const CONSTRAINT_KEYS: &[&str] = &["constraints", "label", "ground_truth", "gts"];

fn walk(
    dir: &Path,
    depth: usize,
    out: &mut Vec<PathBuf>,
    pred: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?;
    for e in entries {
        let e = e.with_context(|| format!("cannot read the folder {}", dir.display()))?;
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if depth > 0 {
                walk(&p, depth - 1, out, pred)?;
            }
        } else if pred(&name) {
            out.push(p);
        }
    }
    Ok(())
}

/// The digits of a file name like `completions_00012.parquet` or `12.jsonl`.
fn step_in_name(name: &str) -> Option<u64> {
    let stem = name.split('.').next()?;
    let digits: String = stem
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

// ---------------------------------------------------------------- TRL

/// Every `completions_*.parquet` under `dir` (up to three folders deep), in step order.
pub fn read_trl_dir(dir: &Path) -> Result<(Vec<Row>, Vec<String>)> {
    let mut files = Vec::new();
    walk(dir, 3, &mut files, &|n| {
        n.starts_with("completions_") && n.ends_with(".parquet")
    })?;
    if files.is_empty() {
        bail!(
            "no completions_*.parquet under {} (TRL writes <output_dir>/completions/completions_<step>.parquet with log_completions=True)",
            dir.display()
        );
    }
    files.sort_by_key(|p| {
        (
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(step_in_name)
                .unwrap_or(0),
            p.clone(),
        )
    });
    let mut rows = Vec::new();
    for f in &files {
        read_trl_file(f, &mut rows)?;
    }
    Ok((rows, Vec::new()))
}

fn strings(col: &ArrayRef, what: &str) -> Result<Vec<Option<String>>> {
    match col.data_type() {
        DataType::List(_) | DataType::LargeList(_) => return messages(col, what),
        _ => {}
    }
    let c = arrow_cast::cast(col, &DataType::Utf8)
        .with_context(|| format!("{what}: a {} column is not text", col.data_type()))?;
    let s = c.as_string::<i32>();
    Ok((0..s.len())
        .map(|i| (!s.is_null(i)).then(|| s.value(i).to_string()))
        .collect())
}

/// A conversational column (a list of `{role, content}` per row), as `role: content` lines.
fn messages(col: &ArrayRef, what: &str) -> Result<Vec<Option<String>>> {
    let (values, offsets): (ArrayRef, Vec<usize>) = match col.data_type() {
        DataType::List(_) => {
            let l = col.as_list::<i32>();
            (
                l.values().clone(),
                l.value_offsets().iter().map(|o| *o as usize).collect(),
            )
        }
        _ => {
            let l = col.as_list::<i64>();
            (
                l.values().clone(),
                l.value_offsets().iter().map(|o| *o as usize).collect(),
            )
        }
    };
    let DataType::Struct(_) = values.data_type() else {
        bail!("{what}: a list column whose items are not {{role, content}} messages");
    };
    let st = values.as_struct();
    let content = st
        .column_by_name("content")
        .with_context(|| format!("{what}: messages without a `content` field"))?;
    let content = strings(content, what)?;
    let role = match st.column_by_name("role") {
        Some(r) => strings(r, what)?,
        None => vec![None; content.len()],
    };
    let mut out = Vec::with_capacity(col.len());
    for i in 0..col.len() {
        if col.is_null(i) {
            out.push(None);
            continue;
        }
        let (a, b) = (offsets[i], offsets[i + 1]);
        let mut text = String::new();
        for j in a..b {
            if let Some(r) = role.get(j).cloned().flatten() {
                text.push_str(&r);
                text.push_str(": ");
            }
            text.push_str(content.get(j).and_then(|c| c.as_deref()).unwrap_or(""));
            text.push('\n');
        }
        out.push(Some(text));
    }
    Ok(out)
}

fn floats(col: &ArrayRef, what: &str) -> Result<Vec<Option<f64>>> {
    let c = arrow_cast::cast(col, &DataType::Float64)
        .with_context(|| format!("{what}: a {} column is not numeric", col.data_type()))?;
    let f = c.as_primitive::<arrow_array::types::Float64Type>();
    Ok((0..f.len())
        .map(|i| (!f.is_null(i)).then(|| f.value(i)))
        .collect())
}

fn is_numeric(t: &DataType) -> bool {
    t.is_numeric() || matches!(t, DataType::Boolean)
}

/// One TRL completions file.
pub fn read_trl_file(path: &Path, rows: &mut Vec<Row>) -> Result<()> {
    let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .with_context(|| format!("{}: not a parquet file", path.display()))?
        .build()
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file_step = step_in_name(&name);
    let mut n = 0usize;
    for batch in reader {
        let batch =
            batch.with_context(|| format!("{}: cannot read a record batch", path.display()))?;
        let schema = batch.schema();
        let col = |c: &str| -> Option<ArrayRef> {
            schema.index_of(c).ok().map(|i| Arc::clone(batch.column(i)))
        };
        let what = |c: &str| format!("{}: column `{c}`", path.display());
        let prompt = col("prompt").with_context(|| {
            format!(
                "{}: no `prompt` column (TRL's completions table has step, prompt, completion)",
                path.display()
            )
        })?;
        let completion = col("completion").with_context(|| {
            format!(
                "{}: no `completion` column (TRL's completions table has step, prompt, completion)",
                path.display()
            )
        })?;
        let prompts = strings(&prompt, &what("prompt"))?;
        let completions = strings(&completion, &what("completion"))?;
        let steps: Option<Vec<Option<f64>>> = match col("step") {
            Some(c) => Some(floats(&c, &what("step"))?),
            None => None,
        };
        let advantages = match col("advantage") {
            Some(c) if is_numeric(c.data_type()) => Some(floats(&c, &what("advantage"))?),
            _ => None,
        };
        let mut constraints = None;
        for k in CONSTRAINT_KEYS {
            if let Some(c) = col(k) {
                constraints = Some(strings(&c, &what(k))?);
                break;
            }
        }
        let total = match col("reward") {
            Some(c) if is_numeric(c.data_type()) => Some(floats(&c, &what("reward"))?),
            _ => None,
        };
        let mut extra: Vec<(String, Vec<Option<f64>>)> = Vec::new();
        for field in schema.fields() {
            let fname = field.name().as_str();
            if matches!(
                fname,
                "step" | "prompt" | "completion" | "advantage" | "reward"
            ) || !is_numeric(field.data_type())
            {
                continue;
            }
            if let Some(c) = col(fname) {
                extra.push((fname.to_string(), floats(&c, &what(fname))?));
            }
        }
        for i in 0..batch.num_rows() {
            n += 1;
            let origin = format!("{}:row {n}", path.display());
            let step = steps
                .as_ref()
                .and_then(|s| s[i])
                .map(|s| s.max(0.0) as u64)
                .or(file_step)
                .unwrap_or(0);
            let mut ex = BTreeMap::new();
            for (k, v) in &extra {
                if let Some(x) = v[i] {
                    ex.insert(k.clone(), x);
                }
            }
            // TRL keeps no total: the reward functions' columns sum to it (weights 1)
            let reward = match &total {
                Some(t) => t[i],
                None if !ex.is_empty() => Some(ex.values().sum()),
                None => None,
            };
            rows.push(Row {
                step,
                prompt: prompts[i].clone().unwrap_or_default(),
                response: completions[i].clone().unwrap_or_default(),
                reward,
                extra: if total.is_some() { BTreeMap::new() } else { ex },
                advantage: advantages.as_ref().and_then(|a| a[i]),
                constraints: constraints
                    .as_ref()
                    .and_then(|c| c[i].clone())
                    .map(Value::String),
                origin,
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- verl

/// Every `{step}.jsonl` in `dir`, in step order. Malformed lines are reported and skipped.
pub fn read_verl_dir(dir: &Path) -> Result<(Vec<Row>, Vec<String>)> {
    let mut files = Vec::new();
    walk(dir, 0, &mut files, &|n| {
        n.ends_with(".jsonl")
            && n.trim_end_matches(".jsonl")
                .chars()
                .all(|c| c.is_ascii_digit())
    })?;
    if files.is_empty() {
        bail!(
            "no <step>.jsonl files in {} (verl writes them to trainer.rollout_data_dir)",
            dir.display()
        );
    }
    files.sort_by_key(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(step_in_name)
            .unwrap_or(0)
    });
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for f in &files {
        let step = f
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(step_in_name)
            .unwrap_or(0);
        read_lines(f, &mut problems, |obj, origin| {
            let row = verl_row(obj, step, origin)?;
            rows.push(row);
            Ok(())
        })?;
    }
    Ok((rows, problems))
}

fn read_lines(
    path: &Path,
    problems: &mut Vec<String>,
    mut each: impl FnMut(&Map<String, Value>, String) -> std::result::Result<(), String>,
) -> Result<()> {
    let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}: cannot read", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let origin = format!("{}:{}", path.display(), i + 1);
        match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(o)) => {
                if let Err(e) = each(&o, origin.clone()) {
                    problems.push(format!("{origin}: {e} (line skipped)"));
                }
            }
            Ok(_) => problems.push(format!("{origin}: not a JSON object (line skipped)")),
            Err(e) => problems.push(format!("{origin}: malformed JSON: {e} (line skipped)")),
        }
    }
    Ok(())
}

fn text_field(o: &Map<String, Value>, keys: &[&str]) -> std::result::Result<String, String> {
    for k in keys {
        match o.get(*k) {
            Some(Value::String(s)) => return Ok(s.clone()),
            Some(Value::Null) | None => continue,
            Some(_) => return Err(format!("field `{k}` is not a string")),
        }
    }
    Err(format!("field `{}` is missing", keys.join("` / `")))
}

fn constraints_field(o: &Map<String, Value>) -> Option<Value> {
    CONSTRAINT_KEYS
        .iter()
        .filter_map(|k| o.get(*k))
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
}

fn verl_row(
    o: &Map<String, Value>,
    file_step: u64,
    origin: String,
) -> std::result::Result<Row, String> {
    let step = o.get("step").and_then(Value::as_u64).unwrap_or(file_step);
    let mut extra = BTreeMap::new();
    for (k, v) in o {
        if matches!(k.as_str(), "step" | "score") {
            continue;
        }
        if let Some(x) = v.as_f64() {
            extra.insert(k.clone(), x);
        } else if let Some(b) = v.as_bool() {
            extra.insert(k.clone(), if b { 1.0 } else { 0.0 });
        }
    }
    Ok(Row {
        step,
        prompt: text_field(o, &["input", "prompt"])?,
        response: text_field(o, &["output", "response"])?,
        reward: o.get("score").and_then(Value::as_f64),
        extra,
        advantage: o.get("advantage").and_then(Value::as_f64),
        constraints: constraints_field(o),
        origin,
    })
}

// ---------------------------------------------------------------- plain JSONL rows

/// A plain row: `{step?, prompt, response (or completion / output), reward? (or score),
/// advantage?, constraints? (or label / ground_truth / gts)}`.
pub fn plain_row(o: &Map<String, Value>, origin: String) -> std::result::Result<Row, String> {
    Ok(Row {
        step: o.get("step").and_then(Value::as_u64).unwrap_or(0),
        prompt: text_field(o, &["prompt", "input"])?,
        response: text_field(o, &["response", "completion", "output"])?,
        reward: o
            .get("reward")
            .or_else(|| o.get("score"))
            .and_then(Value::as_f64),
        extra: BTreeMap::new(),
        advantage: o.get("advantage").and_then(Value::as_f64),
        constraints: constraints_field(o),
        origin,
    })
}

/// Plain rows of a JSONL file (malformed lines reported and skipped).
pub fn read_jsonl_rows(path: &Path) -> Result<(Vec<Row>, Vec<String>)> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    read_lines(path, &mut problems, |o, origin| {
        rows.push(plain_row(o, origin)?);
        Ok(())
    })?;
    Ok((rows, problems))
}

pub(crate) fn for_each_line(
    path: &Path,
    problems: &mut Vec<String>,
    each: impl FnMut(&Map<String, Value>, String) -> std::result::Result<(), String>,
) -> Result<()> {
    read_lines(path, problems, each)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names() {
        assert_eq!(step_in_name("completions_00012.parquet"), Some(12));
        assert_eq!(step_in_name("7.jsonl"), Some(7));
        assert_eq!(step_in_name("completions.parquet"), None);
    }
}
