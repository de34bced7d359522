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
    let rec: Value = match parse_record(line) {
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

/// A record as `serde_json::from_str::<Value>` parses it, except that the null entries of the
/// objects in its `kwargs` list are dropped as they are read (checkers ignore null kwargs:
/// `Kw::new`). IFBench rows carry ~50 kwargs per instruction, nearly all null, and a key
/// string and a map entry for each were a tenth of checking them.
fn parse_record(line: &str) -> serde_json::Result<Value> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(line);
    let v = Json(Level::Top).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Where a JSON value sits in a record, for [`parse_record`].
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Top,
    KwargsList,
    KwargsObject,
    Other,
}

/// Builds a [`Value`] (as serde_json's own visitor does), dropping null fields at
/// [`Level::KwargsObject`].
#[derive(Clone, Copy)]
struct Json(Level);

impl<'de> serde::de::DeserializeSeed<'de> for Json {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key;

impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v))
    }
}

impl<'de> serde::de::Visitor<'de> for Json {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let inner = Json(match self.0 {
            Level::KwargsList => Level::KwargsObject,
            _ => Level::Other,
        });
        let mut v = Vec::with_capacity(a.size_hint().unwrap_or(0));
        while let Some(x) = a.next_element_seed(inner)? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = a.next_key_seed(Key)? {
            let level = match self.0 {
                Level::Top if k == "kwargs" => Level::KwargsList,
                _ => Level::Other,
            };
            let v = a.next_value_seed(Json(level))?;
            if v.is_null() && self.0 == Level::KwargsObject {
                // (a repeated key: the last one wins, as in serde_json, and it is null)
                m.remove(&*k);
            } else {
                m.insert(k.into_owned(), v);
            }
        }
        Ok(Value::Object(m))
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
    block: &[(usize, &str)],
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
    let cpus = place::worker_cpus(threads - 1);
    std::thread::scope(|s| {
        for k in 1..threads {
            let cpu = cpus.get(k - 1).copied();
            s.spawn(move || {
                if let Some(c) = cpu {
                    place::pin_current(c);
                }
                work()
            });
            // A new thread may be queued behind this one on this CPU, where it would wait
            // for the scheduler's tick before it can move itself: let it run now.
            if cpu.is_some() {
                std::thread::yield_now();
            }
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

/// Where check workers run. On Linux a new thread starts on its parent's CPU and, on a
/// virtual machine with few CPUs, can wait there behind its parent for several scheduler ticks
/// before the balancer moves it: two 10 ms halves of a job took 12-20 ms with the child
/// unplaced and 10.4 ms with it on the other CPU (docs/BENCHMARKS.md, issue #3). So a worker
/// moves itself, as it starts, to an allowed CPU other than its parent's.
#[cfg(target_os = "linux")]
mod place {
    /// `n` allowed CPUs other than the calling thread's current one (repeating if there are
    /// fewer); empty if the affinity cannot be read or there is no other CPU.
    pub fn worker_cpus(n: usize) -> Vec<usize> {
        // SAFETY: a zeroed cpu_set_t is a valid (empty) set, written by sched_getaffinity
        let (set, cur) = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return Vec::new();
            }
            (set, libc::sched_getcpu())
        };
        let others: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            // SAFETY: c < CPU_SETSIZE
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) } && c as i64 != cur as i64)
            .collect();
        if others.is_empty() {
            return Vec::new();
        }
        (0..n).map(|i| others[i % others.len()]).collect()
    }

    /// Move the calling thread to `cpu` (best effort: on failure it stays where it is).
    pub fn pin_current(cpu: usize) {
        // SAFETY: a zeroed cpu_set_t is the empty set; cpu < CPU_SETSIZE (from worker_cpus)
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod place {
    pub fn worker_cpus(_n: usize) -> Vec<usize> {
        Vec::new()
    }
    pub fn pin_current(_cpu: usize) {}
}

/// Lines read and checked at a time, and the bytes after which a block is cut short.
const BLOCK: usize = 4096;
const BLOCK_BYTES: usize = 64 << 20;

/// Read the next block of lines into `buf` (cleared first): `ends` gets, for every line read,
/// its 1-based number and the end of its text in `buf` (`\n` and a `\r` before it removed,
/// as `BufRead::lines` does). Whole lines: at most `max_lines`, and no more once `max_bytes`
/// are read.
/// Returns whether the input ended.
fn read_block(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    ends: &mut Vec<(usize, usize, usize)>,
    lineno: &mut usize,
    (max_lines, max_bytes): (usize, usize),
) -> std::io::Result<bool> {
    buf.clear();
    ends.clear();
    // (read_until, with the memchr crate's vector search for the newlines)
    let mut start = 0;
    let mut ended = false;
    // (the limits are checked between lines: a block holds whole lines)
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            ended = true;
            break;
        }
        let (used, line_done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        buf.extend_from_slice(&chunk[..used]);
        input.consume(used);
        if line_done {
            end_line(buf, start, ends, lineno);
            start = buf.len();
            if ends.len() >= max_lines || buf.len() >= max_bytes {
                break;
            }
        }
    }
    if ended && start < buf.len() {
        // the last line, without a newline
        end_line(buf, start, ends, lineno);
    }
    Ok(ended)
}

/// Record the line `buf[start..]` (its `\n` and a `\r` before it left out).
fn end_line(buf: &[u8], start: usize, ends: &mut Vec<(usize, usize, usize)>, lineno: &mut usize) {
    *lineno += 1;
    let mut end = buf.len();
    if end > start && buf[end - 1] == b'\n' {
        end -= 1;
        if end > start && buf[end - 1] == b'\r' {
            end -= 1;
        }
    }
    ends.push((*lineno, start, end));
}

/// The input file's read buffer (when it is not mapped) and the output's write buffer: 64 KiB
/// (16 system calls per MB instead of 128).
const READ_BUF: usize = 64 << 10;
const WRITE_BUF: usize = 64 << 10;

/// The counts behind a [`Summary`], and the problems, as the blocks of a run are checked.
#[derive(Default)]
struct Tally {
    problems: Vec<String>,
    prompts: usize,
    prompt_strict: usize,
    prompt_loose: usize,
    instructions: usize,
    instruction_strict: usize,
    instruction_loose: usize,
}

impl Tally {
    fn report(self) -> CheckReport {
        let div = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        CheckReport {
            summary: Summary {
                prompts: self.prompts,
                instructions: self.instructions,
                prompt_strict: div(self.prompt_strict, self.prompts),
                prompt_loose: div(self.prompt_loose, self.prompts),
                instruction_strict: div(self.instruction_strict, self.instructions),
                instruction_loose: div(self.instruction_loose, self.instructions),
            },
            problems: self.problems,
        }
    }
}

/// Check one block of lines, given as (line number, start, end) in `buf`, and write their
/// outcomes in order.
fn check_lines(
    input_name: &str,
    buf: &[u8],
    ends: &[(usize, usize, usize)],
    responses: Option<&HashMap<String, String>>,
    threads: usize,
    out: &mut dyn Write,
    tally: &mut Tally,
) -> Result<()> {
    let mut block: Vec<(usize, &str)> = Vec::with_capacity(ends.len());
    let mut outcomes = Vec::new();
    for &(no, a, b) in ends {
        match std::str::from_utf8(&buf[a..b]) {
            Ok(line) if line.trim().is_empty() => {}
            Ok(line) => block.push((no, line)),
            // a line that is not UTF-8 is reported like a malformed one
            Err(e) => {
                outcomes.extend(check_block(input_name, &block, responses, threads));
                block.clear();
                let msg = format!("not UTF-8: {e}");
                outcomes.push(LineOutcome {
                    text: serde_json::json!({"line": no, "error": msg}).to_string(),
                    problems: vec![format!("{input_name}:{no}: {msg}")],
                    checked: None,
                });
            }
        }
    }
    outcomes.extend(check_block(input_name, &block, responses, threads));
    for o in outcomes {
        tally.problems.extend(o.problems);
        writeln!(out, "{}", o.text)?;
        if let Some(c) = o.checked {
            tally.prompts += 1;
            tally.instruction_strict += c.strict_ok;
            tally.instruction_loose += c.loose_ok;
            tally.prompt_strict += c.prompt_strict as usize;
            tally.prompt_loose += c.prompt_loose as usize;
            tally.instructions += c.n;
        }
    }
    Ok(())
}

/// Run `raif check` on readers/writers (the testable core).
pub fn check_stream(
    input_name: &str,
    mut input: impl BufRead,
    out: &mut dyn Write,
    responses: Option<&HashMap<String, String>>,
) -> Result<CheckReport> {
    let mut tally = Tally::default();
    let threads = worker_count();
    // the lines of a block are read into one buffer and checked in place
    let (mut buf, mut ends, mut lineno) = (Vec::new(), Vec::new(), 0usize);
    loop {
        let read = read_block(
            &mut input,
            &mut buf,
            &mut ends,
            &mut lineno,
            (BLOCK, BLOCK_BYTES),
        );
        check_lines(input_name, &buf, &ends, responses, threads, out, &mut tally)?;
        match read {
            Ok(false) => {}
            Ok(true) => break,
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("{input_name}:{}: cannot read", lineno + 1)))
            }
        }
    }
    Ok(tally.report())
}

/// [`check_stream`] on input that is all in memory (a mapped file): its lines are checked
/// where they are, not copied.
pub fn check_bytes(
    input_name: &str,
    data: &[u8],
    out: &mut dyn Write,
    responses: Option<&HashMap<String, String>>,
) -> Result<CheckReport> {
    let mut tally = Tally::default();
    let threads = worker_count();
    let mut ends = Vec::new();
    let (mut start, mut lineno) = (0usize, 0usize);
    while start < data.len() {
        ends.clear();
        while ends.len() < BLOCK && start < data.len() {
            let next = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i + 1);
            end_line(&data[..next], start, &mut ends, &mut lineno);
            start = next;
        }
        check_lines(input_name, data, &ends, responses, threads, out, &mut tally)?;
    }
    Ok(tally.report())
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
    // A regular file is mapped and checked in place: reading 1 MB into fresh memory cost
    // this VM ~0.6 ms, a third of it copying and the rest faulting the pages in, all before
    // the second thread has work (docs/BENCHMARKS.md, issue #3). Anything else (a pipe, a
    // file that cannot be mapped) is read in blocks. (A file truncated by another process
    // while it is being checked ends the run with SIGBUS, as with any mapped file.)
    let mapped = match f.metadata() {
        // SAFETY: the map is only read, and lives until the check below ends
        Ok(m) if m.is_file() && m.len() > 0 => unsafe {
            memmap2::MmapOptions::new().populate().map(&f).ok()
        },
        _ => None,
    };
    let check = |out: &mut dyn Write| -> Result<CheckReport> {
        match &mapped {
            Some(m) => check_bytes(&name, m, out, responses.as_ref()),
            None => check_stream(
                &name,
                std::io::BufReader::with_capacity(READ_BUF, &f),
                out,
                responses.as_ref(),
            ),
        }
    };
    let rep = match &opts.output {
        Some(p) => {
            let mut w = std::io::BufWriter::with_capacity(
                WRITE_BUF,
                std::fs::File::create(p)
                    .with_context(|| format!("cannot create {}", p.display()))?,
            );
            let r = check(&mut w)?;
            w.flush()?;
            r
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(WRITE_BUF, stdout.lock());
            let r = check(&mut w)?;
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

    /// `parse_record` is `serde_json::from_str` with the null kwargs dropped: on crafted lines
    /// (escapes in keys and values, numbers of every kind, nulls outside kwargs kept, nested
    /// objects inside kwargs kept whole, kwargs that are not a list) and on every benchmark row.
    #[test]
    fn records_parse_like_serde_json_without_null_kwargs() {
        fn drop_null_kwargs(mut v: Value) -> Value {
            if let Some(Value::Array(a)) = v.get_mut("kwargs") {
                for kw in a.iter_mut() {
                    if let Value::Object(m) = kw {
                        m.retain(|_, x| !x.is_null());
                    }
                }
            }
            v
        }
        let mut lines: Vec<String> = [
            r#"{"key": -3, "k\u00e9y": "a\n\"b\"", "x": null, "kwargs": [{"a": null, "b": 1.5e3, "c": {"d": null}, "e": [null, 18446744073709551615, -9223372036854775808, 0.1]}, null, [1, {"z": null}], {"n\u0075ll": null, "t": true}]}"#,
            r#"{"kwargs": {"a": null}, "nested": {"kwargs": [{"a": null}]}}"#,
            r#"{"kwargs": "text", "kwargs2": [{"a": null}]}"#,
            r#"[1, {"kwargs": [{"a": null}]}]"#,
            r#""just a string""#,
            r#"{"a": 1, "a": 2, "kwargs": [{"b": 1, "b": null}]}"#,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for f in ["ifeval/input_data.jsonl", "ifbench/IFBench_test.jsonl"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/data")
                .join(f);
            if let Ok(text) = std::fs::read_to_string(&path) {
                lines.extend(text.lines().map(String::from));
            }
        }
        for line in &lines {
            let want = drop_null_kwargs(serde_json::from_str::<Value>(line).unwrap());
            assert_eq!(parse_record(line).unwrap(), want, "{line}");
        }
        for bad in [r#"{"kwargs": [{"a": nul}]}"#, r#"{"a": 1} x"#, r#"{"a" 1}"#] {
            assert_eq!(
                parse_record(bad).unwrap_err().to_string(),
                serde_json::from_str::<Value>(bad).unwrap_err().to_string(),
                "{bad}"
            );
        }
    }

    /// Lines come out of a block as `BufRead::lines` gives them (`\n` and `\r\n` removed, a
    /// last line without `\n`, blank lines kept for numbering), whatever the reader's buffer.
    #[test]
    fn blocks_split_lines_like_bufread_lines() {
        let text = "a\r\n\nb c\n\r\n\r\rd\n \nlast";
        for cap in [1, 2, 3, 7, 64] {
            let mut input = std::io::BufReader::with_capacity(cap, text.as_bytes());
            let (mut buf, mut ends, mut no) = (Vec::new(), Vec::new(), 0);
            assert!(read_block(
                &mut input,
                &mut buf,
                &mut ends,
                &mut no,
                (BLOCK, BLOCK_BYTES)
            )
            .unwrap());
            let got: Vec<(usize, &[u8])> = ends.iter().map(|&(n, a, b)| (n, &buf[a..b])).collect();
            let want: Vec<(usize, &[u8])> = text
                .lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.as_bytes()))
                .collect();
            assert_eq!(got, want, "buffer of {cap}");
        }
        // blocks cut by line count or by bytes hold whole lines, and together every line
        let text: String = (0..500)
            .map(|i| format!("{}\n", "x".repeat(i % 37)))
            .collect();
        for (cap, limits) in [
            (3, (7, usize::MAX)),
            (64, (usize::MAX, 50)),
            (5, (1, 1)),
            (16, (13, 100)),
        ] {
            let mut input = std::io::BufReader::with_capacity(cap, text.as_bytes());
            let (mut buf, mut ends, mut no) = (Vec::new(), Vec::new(), 0);
            let mut got: Vec<(usize, String)> = Vec::new();
            loop {
                let ended = read_block(&mut input, &mut buf, &mut ends, &mut no, limits).unwrap();
                assert!(ends.len() <= limits.0);
                got.extend(
                    ends.iter()
                        .map(|&(n, a, b)| (n, String::from_utf8(buf[a..b].to_vec()).unwrap())),
                );
                if ended {
                    break;
                }
            }
            let want: Vec<(usize, String)> = text
                .lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.to_string()))
                .collect();
            assert_eq!(got, want, "buffer of {cap}, limits {limits:?}");
        }
    }

    /// Checking in place (a mapped file) gives what reading in blocks gives: same output
    /// lines, problems and summary, with blank, CRLF, malformed and non-UTF-8 lines and a last
    /// line without a newline; and `run` on a file (mapped) writes the same lines.
    #[test]
    fn in_place_and_streamed_checks_agree() {
        let ok = |key: u32, resp: &str| {
            format!(
                r#"{{"key": {key}, "instruction_id_list": ["punctuation:no_comma", "change_case:english_lowercase"], "kwargs": [{{}}, {{}}], "prompt": "p", "response": "{resp}"}}"#
            )
        };
        let mut input = Vec::new();
        for k in 0..40u32 {
            input.extend_from_slice(
                ok(k, if k % 3 == 0 { "a, b" } else { "all lower here" }).as_bytes(),
            );
            input.extend_from_slice(match k % 5 {
                0 => b"\r\n".as_slice(),
                1 => b"\n\n".as_slice(),
                2 => b"\n{not json\n".as_slice(),
                3 => b"\n{\"key\": \"\xff\"}\n".as_slice(),
                _ => b"\n".as_slice(),
            });
        }
        input.extend_from_slice(ok(99, "last").as_bytes());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let ra = check_stream("in.jsonl", &input[..], &mut a, None).unwrap();
        let rb = check_bytes("in.jsonl", &input, &mut b, None).unwrap();
        assert_eq!(
            String::from_utf8(a.clone()).unwrap(),
            String::from_utf8(b).unwrap()
        );
        assert_eq!(ra.problems, rb.problems);
        assert_eq!(ra.summary, rb.summary);
        assert_eq!(ra.summary.prompts, 41);

        let dir = std::env::temp_dir().join(format!("raif-check-map-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (inp, outp) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
        std::fs::write(&inp, &input).unwrap();
        let rr = run(&CheckOptions {
            input: inp.clone(),
            output: Some(outp.clone()),
            summary: false,
            responses: None,
        })
        .unwrap();
        assert_eq!(std::fs::read(&outp).unwrap(), a);
        assert_eq!(rr.summary, ra.summary);
        assert_eq!(rr.problems.len(), ra.problems.len());
        // an empty file (not mapped) gives no lines
        std::fs::write(&inp, b"").unwrap();
        let re = run(&CheckOptions {
            input: inp,
            output: Some(outp.clone()),
            summary: false,
            responses: None,
        })
        .unwrap();
        assert_eq!(re.summary.prompts, 0);
        assert!(std::fs::read(&outp).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A line that is not UTF-8 is reported with its number, and the lines around it are
    /// still checked, in order.
    #[test]
    fn a_line_that_is_not_utf8_is_reported_and_the_rest_checked() {
        let ok = |key: u32| {
            format!(
                r#"{{"key": {key}, "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{{}}], "prompt": "p", "response": "no commas"}}"#
            )
        };
        let mut input = Vec::new();
        input.extend_from_slice(ok(1).as_bytes());
        input.extend_from_slice(b"\n{\"key\": 2, \"response\": \"\xff\xfe\"}\r\n");
        input.extend_from_slice(ok(3).as_bytes());
        let mut out = Vec::new();
        let rep = check_stream("in.jsonl", &input[..], &mut out, None).unwrap();
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["key"], 1);
        assert_eq!(lines[1]["line"], 2);
        assert!(lines[1]["error"].as_str().unwrap().starts_with("not UTF-8"));
        assert_eq!(lines[2]["key"], 3);
        assert_eq!(rep.problems.len(), 1);
        assert!(rep.problems[0].starts_with("in.jsonl:2: not UTF-8"));
        assert_eq!(rep.summary.prompts, 2);
    }

    /// The outcomes of a block are the same on 1, 2, 3 and 5 threads (workers placed on other
    /// CPUs or not): every line of IFBench's samples, checked in input order.
    #[test]
    fn outcomes_do_not_depend_on_the_thread_count() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ifbench");
        let (Ok(rows), Ok(resp)) = (
            std::fs::read_to_string(dir.join("IFBench_test.jsonl")),
            std::fs::read_to_string(dir.join("sample_output.jsonl")),
        ) else {
            panic!(
                "{} not found: this test reads the shared IFBench data beside the checkout",
                dir.display()
            );
        };
        let resp: Vec<Value> = resp
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let lines: Vec<String> = rows
            .lines()
            .zip(&resp)
            .take(120)
            .map(|(row, r)| {
                let mut v: Value = serde_json::from_str(row).unwrap();
                v["response"] = r["response"].clone();
                v.to_string()
            })
            .collect();
        let block: Vec<(usize, &str)> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i + 1, l.as_str()))
            .collect();
        let texts = |threads| -> Vec<String> {
            check_block("in.jsonl", &block, None, threads)
                .into_iter()
                .map(|o| o.text)
                .collect()
        };
        let one = texts(1);
        assert_eq!(one.len(), block.len());
        for threads in [2, 3, 5] {
            assert_eq!(texts(threads), one, "{threads} threads");
        }
    }

    /// Workers go to allowed CPUs only.
    #[cfg(target_os = "linux")]
    #[test]
    fn workers_are_placed_on_allowed_cpus() {
        // SAFETY: a zeroed cpu_set_t is valid, written by sched_getaffinity
        let set = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                0
            );
            set
        };
        // SAFETY: plain read of a valid set
        let allowed = (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .count();
        let cpus = place::worker_cpus(5);
        if allowed > 1 {
            assert_eq!(cpus.len(), 5);
        }
        for c in cpus {
            // SAFETY: plain read of a valid set, c < CPU_SETSIZE
            assert!(unsafe { libc::CPU_ISSET(c, &set) }, "cpu {c} not allowed");
        }
    }

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
