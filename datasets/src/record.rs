//! The one record schema for training and evaluation, and its JSON Lines form.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::{check_tree, IdCatalog};
use crate::error::{DataError, Loc, Result};
use crate::fields::{parse_constraint, type_name, Obj};
use crate::jsonfile::{parse_jsonl, read_jsonl, Located};
use raif_verify::Constraint;

/// The record format version written in every record (`"format"`). Readers reject newer ones.
pub const FORMAT_VERSION: u32 = 1;

/// Who speaks a chat turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "system" => Some(Role::System),
            "user" | "human" => Some(Role::User),
            "assistant" | "gpt" | "bot" => Some(Role::Assistant),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat turn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn user(content: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }
}

/// What a record is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Validation,
    /// Generated records kept out of training (the generator's held-out split).
    Heldout,
    Test,
}

impl Split {
    pub fn parse(s: &str) -> Option<Split> {
        match s {
            "train" => Some(Split::Train),
            "validation" | "valid" | "dev" => Some(Split::Validation),
            "heldout" | "held_out" | "held-out" => Some(Split::Heldout),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Heldout => "heldout",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fast (no-think) model's score on this record, computed offline (ALGORITHM §4): how many
/// of its `total` constraints the fast answer satisfied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastScore {
    pub satisfied: u32,
    pub total: u32,
}

/// An expert demonstration for behaviour cloning (ALGORITHM §5): the reasoning and the answer,
/// rendered in think format by [`Expert::response`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expert {
    pub reasoning: String,
    pub answer: String,
}

impl Expert {
    /// `<think>\n{reasoning}\n</think>\n<answer>\n{answer}\n</answer>`.
    pub fn response(&self) -> String {
        format!(
            "<think>\n{}\n</think>\n<answer>\n{}\n</answer>",
            self.reasoning, self.answer
        )
    }

    /// Splits a think-format response (ALGORITHM §1): each of `<think>`, `</think>`,
    /// `<answer>`, `</answer>` exactly once and in that order; or DeepSeek-R1 style, the think
    /// tags once and the answer being the text after `</think>`. Reasoning and answer are
    /// trimmed and must be non-empty.
    pub fn parse_think(text: &str) -> std::result::Result<Expert, String> {
        let count = |t: &str| text.matches(t).count();
        let (to, tc, ao, ac) = (
            count("<think>"),
            count("</think>"),
            count("<answer>"),
            count("</answer>"),
        );
        if to != 1 || tc != 1 {
            return Err(format!(
                "expected <think> and </think> once each, found {to} and {tc}"
            ));
        }
        let (Some(p_to), Some(p_tc)) = (text.find("<think>"), text.find("</think>")) else {
            return Err("missing think tags".into());
        };
        if p_tc < p_to {
            return Err("</think> comes before <think>".into());
        }
        let reasoning = text[p_to + "<think>".len()..p_tc].trim();
        let after = &text[p_tc + "</think>".len()..];
        let answer = if ao == 0 && ac == 0 {
            after.trim()
        } else if ao == 1 && ac == 1 {
            let (Some(p_ao), Some(p_ac)) = (after.find("<answer>"), after.find("</answer>")) else {
                return Err("<answer> tags must follow </think>".into());
            };
            if p_ac < p_ao {
                return Err("</answer> comes before <answer>".into());
            }
            after[p_ao + "<answer>".len()..p_ac].trim()
        } else {
            return Err(format!(
                "expected <answer> and </answer> once each, found {ao} and {ac}"
            ));
        };
        if reasoning.is_empty() || reasoning == "reasoning process here" {
            return Err("empty reasoning".into());
        }
        if answer.is_empty() {
            return Err("empty answer".into());
        }
        Ok(Expert {
            reasoning: reasoning.to_string(),
            answer: answer.to_string(),
        })
    }
}

/// Where records come from (the `source` field). Free text; these are the loaders' names.
pub mod source {
    pub const IFEVAL: &str = "ifeval";
    pub const IFBENCH: &str = "ifbench";
    pub const RAIF_RL: &str = "raif-rl";
    pub const RAIF_EXPERT: &str = "raif-expert";
    pub const CELLO: &str = "cello";
    pub const FOLLOWBENCH: &str = "followbench";
    pub const INFOBENCH: &str = "infobench";
    pub const CFBENCH: &str = "cfbench";
    pub const FBBENCH: &str = "fb-bench";
    pub const GENERATED: &str = "raif-gen";
}

/// One training or evaluation item.
///
/// JSON form (one line each in a `.jsonl` file):
/// `{"format":1,"id":"…","source":"ifeval","split":"test","messages":[{"role":"user","content":"…"}],
///   "constraints":{"type":"and","children":[…]},"fast_score":{…}?,"expert":{…}?,"meta":{…}?}`.
/// On input, `"prompt": "…"` may stand in for `messages` (one user turn).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub format: u32,
    pub id: String,
    pub source: String,
    pub split: Split,
    /// The conversation up to and including the user turn to answer (system turns allowed).
    pub messages: Vec<Message>,
    /// What the answer must satisfy.
    pub constraints: Constraint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_score: Option<FastScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expert: Option<Expert>,
    /// Benchmark-specific facts (FollowBench level, CFBench priorities, FB-Bench checklist
    /// weights, the generator's seed and structure…).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub meta: Map<String, Value>,
}

impl Record {
    /// A record with the current format version and no optional parts.
    pub fn new(
        id: impl Into<String>,
        source: &str,
        split: Split,
        messages: Vec<Message>,
        constraints: Constraint,
    ) -> Self {
        Record {
            format: FORMAT_VERSION,
            id: id.into(),
            source: source.to_string(),
            split,
            messages,
            constraints,
            fast_score: None,
            expert: None,
            meta: Map::new(),
        }
    }

    /// The text of the last user turn: what the answer responds to.
    pub fn prompt(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .unwrap_or("")
    }

    /// Reads a record from its JSON value, naming file, line and field in errors.
    pub fn from_value(loc: &Loc, v: &Value) -> Result<Record> {
        let o = Obj::new(loc, v)?;
        let format = o.u64("format")?;
        if format == 0 || format > u64::from(FORMAT_VERSION) {
            return Err(o.err(
                "format",
                format!(
                    "unsupported record format {format} (this build reads 1..={FORMAT_VERSION})"
                ),
            ));
        }
        let id = o.str_or_num("id")?;
        if id.trim().is_empty() {
            return Err(o.err("id", "empty id"));
        }
        let source = o.str("source")?.to_string();
        let split_s = o.str("split")?;
        let split = Split::parse(split_s).ok_or_else(|| {
            o.err(
                "split",
                format!("unknown split `{split_s}` (train, validation, heldout, test)"),
            )
        })?;
        let messages = match (o.get("messages"), o.get("prompt")) {
            (Some(m), _) => parse_messages(&o, "messages", m)?,
            (None, Some(Value::String(p))) => vec![Message::user(p.clone())],
            (None, Some(other)) => {
                return Err(o.err(
                    "prompt",
                    format!("expected a string, found {}", type_name(other)),
                ))
            }
            (None, None) => return Err(o.err("messages", "missing (and no `prompt`)")),
        };
        if !messages.iter().any(|m| m.role == Role::User) {
            return Err(o.err("messages", "no user turn"));
        }
        let constraints = parse_constraint(loc, "constraints", o.req("constraints")?)?;
        let fast_score = match o.get("fast_score") {
            None => None,
            Some(_) => {
                let f = o.object("fast_score")?;
                let satisfied = f.u64("satisfied")?;
                let total = f.u64("total")?;
                if satisfied > total {
                    return Err(f.err("satisfied", format!("{satisfied} exceeds total {total}")));
                }
                Some(FastScore {
                    satisfied: u32::try_from(satisfied)
                        .map_err(|_| f.err("satisfied", "too large"))?,
                    total: u32::try_from(total).map_err(|_| f.err("total", "too large"))?,
                })
            }
        };
        let expert = match o.get("expert") {
            None => None,
            Some(_) => {
                let e = o.object("expert")?;
                Some(Expert {
                    reasoning: e.str("reasoning")?.to_string(),
                    answer: e.str("answer")?.to_string(),
                })
            }
        };
        let meta = match o.get("meta") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(o.err(
                    "meta",
                    format!("expected an object, found {}", type_name(other)),
                ))
            }
        };
        Ok(Record {
            format: format as u32,
            id,
            source,
            split,
            messages,
            constraints,
            fast_score,
            expert,
            meta,
        })
    }

    /// One JSON line (no trailing newline). Key order is fixed, so output is byte-stable.
    pub fn to_json_line(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}

/// Parses `[{"role":…,"content":…},…]`.
pub fn parse_messages(o: &Obj<'_>, name: &str, v: &Value) -> Result<Vec<Message>> {
    let Value::Array(items) = v else {
        return Err(o.err(
            name,
            format!("expected an array of turns, found {}", type_name(v)),
        ));
    };
    if items.is_empty() {
        return Err(o.err(name, "empty conversation"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let field = format!("{name}[{i}]");
            let Value::Object(m) = t else {
                return Err(o.err(
                    &field,
                    format!("expected an object, found {}", type_name(t)),
                ));
            };
            let role = match m.get("role") {
                Some(Value::String(r)) => Role::parse(r).ok_or_else(|| {
                    o.err(&format!("{field}.role"), format!("unknown role `{r}`"))
                })?,
                Some(other) => {
                    return Err(o.err(
                        &format!("{field}.role"),
                        format!("expected a string, found {}", type_name(other)),
                    ))
                }
                None => return Err(o.err(&format!("{field}.role"), "missing")),
            };
            let content = match m.get("content") {
                Some(Value::String(c)) => c.clone(),
                Some(other) => {
                    return Err(o.err(
                        &format!("{field}.content"),
                        format!("expected a string, found {}", type_name(other)),
                    ))
                }
                None => return Err(o.err(&format!("{field}.content"), "missing")),
            };
            Ok(Message { role, content })
        })
        .collect()
}

fn records_from(located: Vec<Located>, catalog: &dyn IdCatalog) -> Result<Vec<(Loc, Record)>> {
    located
        .into_iter()
        .map(|l| {
            let r = Record::from_value(&l.loc, &l.value)?;
            check_tree(&l.loc, "constraints", &r.constraints, catalog)?;
            Ok((l.loc, r))
        })
        .collect()
}

/// Reads a record JSONL file with each record's line.
pub fn read_records_located(path: &Path, catalog: &dyn IdCatalog) -> Result<Vec<(Loc, Record)>> {
    records_from(read_jsonl(path)?, catalog)
}

/// Reads a record JSONL file, checking every rule id and kwarg against `catalog`.
pub fn read_records(path: &Path, catalog: &dyn IdCatalog) -> Result<Vec<Record>> {
    Ok(read_records_located(path, catalog)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

/// Parses record JSONL text (for tests and pipes); `path` is only used in errors.
pub fn parse_records(path: &Path, text: &str, catalog: &dyn IdCatalog) -> Result<Vec<Record>> {
    Ok(records_from(parse_jsonl(path, text)?, catalog)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

/// Renders records as JSON Lines (one per line, each ending in `\n`).
pub fn to_jsonl(records: &[Record]) -> serde_json::Result<String> {
    let mut s = String::new();
    for r in records {
        s.push_str(&r.to_json_line()?);
        s.push('\n');
    }
    Ok(s)
}

/// Writes records as JSON Lines, atomically (a temporary file beside it, then a rename), so a
/// failed write never leaves half a file where a good one was.
pub fn write_records(path: &Path, records: &[Record]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    }
    let tmp = path.with_extension("jsonl.tmp");
    {
        let mut f = fs::File::create(&tmp).map_err(|e| DataError::io(&tmp, e))?;
        let text = to_jsonl(records).map_err(|e| DataError::File {
            file: path.to_path_buf(),
            msg: format!("cannot serialise records: {e}"),
        })?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| DataError::io(&tmp, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| DataError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_format_parses() {
        let e = Expert::parse_think("<think>\nplan\n</think>\n<answer>\nhi\n</answer>").unwrap();
        assert_eq!((e.reasoning.as_str(), e.answer.as_str()), ("plan", "hi"));
        let r1 = Expert::parse_think("<think>plan</think>\nthe answer").unwrap();
        assert_eq!(r1.answer, "the answer");
        assert!(Expert::parse_think("no tags").is_err());
        assert!(
            Expert::parse_think("<think>reasoning process here</think><answer>a</answer>").is_err()
        );
        assert!(
            Expert::parse_think("<think>a</think><answer>b</answer><answer>c</answer>").is_err()
        );
        let round = Expert::parse_think(&e.response()).unwrap();
        assert_eq!(round, e);
    }
}
