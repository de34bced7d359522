//! `raif check`: evaluate a JSONL file of benchmark rows with responses, strict and loose, like
//! the official IFEval / IFBench evaluation.
//!
//! Input lines: `{"key", "instruction_id_list", "kwargs", "prompt", "response"}` (or, with a
//! responses file, benchmark rows without `response`, joined by exact prompt text). Output: one
//! line per non-blank input line, in order: `{"key", "prompt_strict", "prompt_loose", "strict",
//! "loose", "instructions": [{"id", "strict", "loose", "reason"}]}`; a malformed line gives
//! `{"line", "error"}` instead. Problems (malformed lines, unknown ids, bad kwargs, missing
//! responses) are also listed with their line numbers, and the rest of the file is still checked.
//!
//! Lines are checked on several threads (`RAIF_CHECK_THREADS`, default: the available
//! parallelism); the output is written in input order and does not depend on the count.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::registry;

/// Options of `raif check`.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub input: PathBuf,
    pub output: Option<PathBuf>,
    pub summary: bool,
    pub responses: Option<PathBuf>,
}

#[derive(Serialize)]
struct OutInstruction<'a> {
    id: &'a str,
    strict: bool,
    loose: bool,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct OutLine<'a> {
    key: &'a Value,
    prompt_strict: bool,
    prompt_loose: bool,
    strict: Vec<bool>,
    loose: Vec<bool>,
    instructions: Vec<OutInstruction<'a>>,
}

/// Accuracies over the checked records (malformed lines excluded).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub prompts: usize,
    pub instructions: usize,
    pub prompt_strict: f64,
    pub prompt_loose: f64,
    pub instruction_strict: f64,
    pub instruction_loose: f64,
}

/// What a run found.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    pub summary: Summary,
    /// `FILE:LINE: message` for every problem.
    pub problems: Vec<String>,
}

fn load_responses(path: &Path) -> Result<HashMap<String, String>> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut map = HashMap::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}: cannot read", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: malformed JSON", path.display(), i + 1))?;
        let p = v["prompt"].as_str().with_context(|| {
            format!(
                "{}:{}: field `prompt`: missing or not a string",
                path.display(),
                i + 1
            )
        })?;
        let r = v["response"].as_str().with_context(|| {
            format!(
                "{}:{}: field `response`: missing or not a string",
                path.display(),
                i + 1
            )
        })?;
        map.insert(p.to_string(), r.to_string());
    }
    Ok(map)
}

struct Checked {
    line: String,
    strict_ok: usize,
    loose_ok: usize,
    prompt_strict: bool,
    prompt_loose: bool,
    n: usize,
    problems: Vec<String>,
}

/// Check one parsed record: the output line, its counts and the problems found; Err when the
/// record cannot be checked at all (a missing field).
fn check_record(
    rec: &Value,
    responses: Option<&HashMap<String, String>>,
) -> Result<Checked, String> {
    // every instruction of the line checks the same response and its variants: they share the
    // tokenized sentences (nltk::with_sentence_memo)
    crate::nltk::with_sentence_memo(|| check_record_memo(rec, responses))
}

fn check_record_memo(
    rec: &Value,
    responses: Option<&HashMap<String, String>>,
) -> Result<Checked, String> {
    let ids = rec
        .get("instruction_id_list")
        .and_then(Value::as_array)
        .ok_or("field `instruction_id_list`: missing or not a list")?;
    let empty = Vec::new();
    let kwargs = match rec.get("kwargs") {
        None | Some(Value::Null) => &empty,
        Some(Value::Array(a)) => a,
        Some(_) => return Err("field `kwargs`: not a list".into()),
    };
    let response: &str = match responses {
        Some(map) => {
            let p = rec
                .get("prompt")
                .and_then(Value::as_str)
                .ok_or("field `prompt`: missing or not a string")?;
            map.get(p)
                .ok_or("no response for this prompt in the responses file")?
        }
        None => rec
            .get("response")
            .and_then(Value::as_str)
            .ok_or("field `response`: missing or not a string")?,
    };
    let mut results = Vec::new();
    let mut problems = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id.as_str() else {
            return Err(format!("field `instruction_id_list[{i}]`: not a string"));
        };
        let no_kwargs = Map::new();
        let kw: &Map<String, Value> = kwargs
            .get(i)
            .and_then(Value::as_object)
            .unwrap_or(&no_kwargs);
        match registry::build(id, kw) {
            Ok(c) => results.push(registry::evaluate_checker(id, &c, response)),
            Err(e) => {
                problems.push(format!("instruction {i}: {e}"));
                results.push(registry::InstructionResult {
                    id: id.to_string(),
                    strict: false,
                    loose: false,
                    reason: e.to_string(),
                    loose_variant: None,
                    error: Some(e.to_string()),
                });
            }
        }
    }
    let null = Value::Null;
    let out = OutLine {
        key: rec.get("key").unwrap_or(&null),
        prompt_strict: results.iter().all(|r| r.strict),
        prompt_loose: results.iter().all(|r| r.loose),
        strict: results.iter().map(|r| r.strict).collect(),
        loose: results.iter().map(|r| r.loose).collect(),
        instructions: results
            .iter()
            .map(|r| OutInstruction {
                id: &r.id,
                strict: r.strict,
                loose: r.loose,
                reason: &r.reason,
                error: r.error.as_deref(),
            })
            .collect(),
    };
    Ok(Checked {
        line: serde_json::to_string(&out).map_err(|e| e.to_string())?,
        strict_ok: results.iter().filter(|r| r.strict).count(),
        loose_ok: results.iter().filter(|r| r.loose).count(),
        prompt_strict: out.prompt_strict,
        prompt_loose: out.prompt_loose,
        n: results.len(),
        problems,
    })
}

/// What checking one input line gave: its output line, its problems (`FILE:LINE: message`)
/// and, for a checked record, its counts.
struct LineOutcome {
    text: String,
    problems: Vec<String>,
    checked: Option<Checked>,
}

fn check_line(
    input_name: &str,
    lineno: usize,
    line: &str,
    responses: Option<&HashMap<String, String>>,
) -> LineOutcome {
    let rec: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            let msg = format!("malformed JSON: {e}");
            return LineOutcome {
                text: serde_json::json!({"line": lineno, "error": msg}).to_string(),
                problems: vec![format!("{input_name}:{lineno}: {msg}")],
                checked: None,
            };
        }
    };
    match check_record(&rec, responses) {
        Ok(mut c) => LineOutcome {
            text: std::mem::take(&mut c.line),
            problems: c
                .problems
                .iter()
                .map(|p| format!("{input_name}:{lineno}: {p}"))
                .collect(),
            checked: Some(c),
        },
        Err(e) => LineOutcome {
            text: serde_json::json!({"line": lineno, "key": rec.get("key"), "error": e})
                .to_string(),
            problems: vec![format!("{input_name}:{lineno}: {e}")],
            checked: None,
        },
    }
}

/// How many threads check lines: `RAIF_CHECK_THREADS` if set (1: no extra thread), else the
/// available parallelism (at most 16).
fn worker_count() -> usize {
    std::env::var("RAIF_CHECK_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(16)
        })
        .max(1)
}

/// Check a block of (line number, line) on `threads` threads; the outcomes in input order.
/// Lines are independent (checkers are pure functions of their input; the shared caches only
/// hold compiled patterns and tables), so the outcome of a line does not depend on the thread
/// that checked it, and the output is the same as checking the lines one after the other.
fn check_block(
    input_name: &str,
    block: &[(usize, String)],
    responses: Option<&HashMap<String, String>>,
    threads: usize,
) -> Vec<LineOutcome> {
    let threads = threads.min(block.len());
    if threads <= 1 {
        return block
            .iter()
            .map(|(n, l)| check_line(input_name, *n, l, responses))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::OnceLock<LineOutcome>> =
        block.iter().map(|_| std::sync::OnceLock::new()).collect();
    let work = || loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some((n, l)) = block.get(i) else { break };
        let _ = slots[i].set(check_line(input_name, *n, l, responses));
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(work);
        }
        work();
    });
    // (every index below block.len() was taken by exactly one worker; a worker that panicked
    // has propagated its panic out of the scope above)
    slots
        .into_iter()
        .zip(block)
        .map(|(o, (n, l))| {
            o.into_inner()
                .unwrap_or_else(|| check_line(input_name, *n, l, responses))
        })
        .collect()
}

/// Lines read and checked at a time.
const BLOCK: usize = 4096;

/// Run `raif check` on readers/writers (the testable core).
pub fn check_stream(
    input_name: &str,
    input: impl BufRead,
    out: &mut dyn Write,
    responses: Option<&HashMap<String, String>>,
) -> Result<CheckReport> {
    let mut rep = CheckReport::default();
    let (mut n, mut ps, mut pl, mut ni, mut is, mut il) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    let threads = worker_count();
    let mut lines = input.lines().enumerate();
    let mut block = Vec::new();
    loop {
        block.clear();
        let mut read_error = None;
        let mut ended = false;
        while block.len() < BLOCK {
            match lines.next() {
                None => {
                    ended = true;
                    break;
                }
                Some((i, Ok(line))) => {
                    if !line.trim().is_empty() {
                        block.push((i + 1, line));
                    }
                }
                Some((i, Err(e))) => {
                    read_error = Some(
                        anyhow::Error::new(e)
                            .context(format!("{input_name}:{}: cannot read", i + 1)),
                    );
                    break;
                }
            }
        }
        for o in check_block(input_name, &block, responses, threads) {
            rep.problems.extend(o.problems);
            writeln!(out, "{}", o.text)?;
            if let Some(c) = o.checked {
                n += 1;
                is += c.strict_ok;
                il += c.loose_ok;
                ps += c.prompt_strict as usize;
                pl += c.prompt_loose as usize;
                ni += c.n;
            }
        }
        if let Some(e) = read_error {
            return Err(e);
        }
        if ended {
            break;
        }
    }
    let div = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    rep.summary = Summary {
        prompts: n,
        instructions: ni,
        prompt_strict: div(ps, n),
        prompt_loose: div(pl, n),
        instruction_strict: div(is, ni),
        instruction_loose: div(il, ni),
    };
    Ok(rep)
}

/// Format a summary for people.
pub fn summary_text(s: &Summary) -> String {
    format!(
        "prompts: {}  instructions: {}\nprompt-level strict: {:.4}  loose: {:.4}\ninstruction-level strict: {:.4}  loose: {:.4}",
        s.prompts, s.instructions, s.prompt_strict, s.prompt_loose, s.instruction_strict, s.instruction_loose
    )
}

/// `raif check` with files: writes the output, prints problems and (optionally) the summary to
/// stderr. Errors only when a file cannot be opened or written.
pub fn run(opts: &CheckOptions) -> Result<CheckReport> {
    let responses = match &opts.responses {
        Some(p) => Some(load_responses(p)?),
        None => None,
    };
    let f = std::fs::File::open(&opts.input)
        .with_context(|| format!("cannot open {}", opts.input.display()))?;
    let name = opts.input.display().to_string();
    let rep = match &opts.output {
        Some(p) => {
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(p)
                    .with_context(|| format!("cannot create {}", p.display()))?,
            );
            let r = check_stream(
                &name,
                std::io::BufReader::new(f),
                &mut w,
                responses.as_ref(),
            )?;
            w.flush()?;
            r
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            let r = check_stream(
                &name,
                std::io::BufReader::new(f),
                &mut w,
                responses.as_ref(),
            )?;
            w.flush()?;
            r
        }
    };
    for p in &rep.problems {
        eprintln!("{p}");
    }
    if opts.summary {
        eprintln!("{}", summary_text(&rep.summary));
    }
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_problems_and_summary() {
        let input = concat!(
            r#"{"key": 1, "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}], "prompt": "p", "response": "no commas"}"#,
            "\n",
            "{not json\n",
            "\n",
            r#"{"key": 3, "instruction_id_list": ["nope:unknown", "punctuation:no_comma"], "kwargs": [{}, {}], "prompt": "p", "response": "a, b"}"#,
            "\n",
            r#"{"key": 4, "instruction_id_list": ["keywords:existence"], "kwargs": [{"keywords": null}], "prompt": "p", "response": "x"}"#,
            "\n",
        );
        let mut out = Vec::new();
        let rep = check_stream("in.jsonl", input.as_bytes(), &mut out, None).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["strict"], serde_json::json!([true]));
        assert_eq!(lines[1]["line"], 2);
        assert_eq!(lines[2]["key"], 3);
        assert_eq!(lines[2]["strict"], serde_json::json!([false, false]));
        assert!(rep
            .problems
            .iter()
            .any(|p| p.starts_with("in.jsonl:2: malformed JSON")));
        assert!(rep
            .problems
            .iter()
            .any(|p| p.starts_with("in.jsonl:4:") && p.contains("unknown instruction id")));
        assert!(rep.problems.iter().any(
            |p| p.starts_with("in.jsonl:5:") && p.contains("missing required kwarg `keywords`")
        ));
        assert_eq!(rep.summary.prompts, 3);
        assert_eq!(rep.summary.instructions, 4);
        assert!((rep.summary.prompt_strict - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn responses_join_by_prompt() {
        let input = r#"{"key": 7, "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}], "prompt": "Say hi"}"#;
        let mut map = HashMap::new();
        map.insert("Say hi".to_string(), "hi there".to_string());
        let mut out = Vec::new();
        let rep = check_stream("b.jsonl", input.as_bytes(), &mut out, Some(&map)).unwrap();
        assert!(rep.problems.is_empty());
        let v: Value = serde_json::from_str(String::from_utf8(out).unwrap().trim()).unwrap();
        assert_eq!(v["prompt_strict"], true);
    }
}
