//! The registry: official instruction id + kwargs -> checker, and strict / loose evaluation
//! exactly as the official `evaluation_lib` does it.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::checker::{BuildError, CheckFn, Kw, Verdict};
use crate::{ifbench, ifeval, py};

/// Which benchmark defines an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    IfEval,
    IfBench,
    Raif,
}

/// Every id this crate knows (IFEval 25, IFBench 58, RAIF additions).
pub fn all_ids() -> Vec<&'static str> {
    ifeval::IDS
        .iter()
        .chain(ifbench::IDS)
        .chain(ifeval::RAIF_IDS)
        .copied()
        .collect()
}

/// The benchmark an id belongs to, or None for an unknown id. (`count:*`, `format:*` … are
/// IFBench's; IFEval's ids use other prefixes, so there is no overlap.)
pub fn family(id: &str) -> Option<Family> {
    if ifeval::IDS.contains(&id) {
        Some(Family::IfEval)
    } else if ifbench::IDS.contains(&id) {
        Some(Family::IfBench)
    } else if ifeval::RAIF_IDS.contains(&id) {
        Some(Family::Raif)
    } else {
        None
    }
}

/// Build the checker for `id` with its benchmark kwargs (null values are ignored).
pub fn build(id: &str, kwargs: &Map<String, Value>) -> Result<CheckFn, BuildError> {
    let kw = Kw::new(id, kwargs);
    let prefix = id.split(':').next().unwrap_or("");
    match family(id) {
        None => Err(BuildError::UnknownId(id.to_string())),
        Some(Family::IfEval) | Some(Family::Raif) => match prefix {
            "keywords" => ifeval::keywords::build(&kw),
            "language" => ifeval::language::build(&kw),
            "length_constraints" => ifeval::length::build(&kw),
            "detectable_content" => ifeval::content::build(&kw),
            "detectable_format" => ifeval::format::build(&kw),
            "combination" => ifeval::combination::build(&kw),
            "startend" => ifeval::startend::build(&kw),
            "change_case" => ifeval::case::build(&kw),
            "punctuation" => ifeval::punctuation::build(&kw),
            _ => Err(BuildError::UnknownId(id.to_string())),
        },
        Some(Family::IfBench) => match prefix {
            "count" => ifbench::count::build(&kw),
            "ratio" => ifbench::ratio::build(&kw),
            "words" => ifbench::words::build(&kw),
            "sentence" => ifbench::sentence::build(&kw),
            "format" => ifbench::format::build(&kw),
            "custom" => ifbench::custom::build(&kw),
            "repeat" => ifbench::repeat::build(&kw),
            _ => Err(BuildError::UnknownId(id.to_string())),
        },
    }
}

/// How many checkers [`built`] keeps per thread.
const BUILT_KEEP: usize = 16;

type Built = (String, Map<String, Value>, std::rc::Rc<CheckFn>);

thread_local! {
    /// The checkers [`built`] made last on this thread, the most recently used first.
    static BUILT: std::cell::RefCell<Vec<Built>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`build`], reusing a checker this thread built for the same id and kwargs: a GRPO group
/// scores several responses against the same instructions, and building a checker (reading
/// its kwargs, finding its family) costs about as much as a short check. A checker is a pure
/// function of its id and kwargs, so a kept one gives the same verdicts.
fn built(id: &str, kwargs: &Map<String, Value>) -> Result<std::rc::Rc<CheckFn>, BuildError> {
    let kept = BUILT.with(|b| {
        let mut b = b.borrow_mut();
        let i = b.iter().position(|(i, k, _)| i == id && k == kwargs)?;
        let e = b.remove(i);
        let c = e.2.clone();
        b.insert(0, e);
        Some(c)
    });
    if let Some(c) = kept {
        return Ok(c);
    }
    let c = std::rc::Rc::new(build(id, kwargs)?);
    BUILT.with(|b| {
        let mut b = b.borrow_mut();
        b.insert(0, (id.to_string(), kwargs.clone(), c.clone()));
        b.truncate(BUILT_KEEP);
    });
    Ok(c)
}

/// The 8 texts of the loose evaluation, in the official order.
pub fn loose_variants(response: &str) -> [String; 8] {
    let v = LooseVariants::new(response);
    std::array::from_fn(|i| v.get(i).into_owned())
}

/// The loose variants, made when asked for: the line-removed ones are slices of the response
/// (joining the lines after the first one is the text after the first newline, and so on), and
/// only the '*'-removed ones of a text with a '*' need a new string.
struct LooseVariants<'a> {
    response: &'a str,
    first: &'a str,
    last: &'a str,
    both: &'a str,
}

impl<'a> LooseVariants<'a> {
    fn new(response: &'a str) -> Self {
        let (f, l) = (response.find('\n'), response.rfind('\n'));
        // r = response.split("\n"): "\n".join(r[1:]), "\n".join(r[:-1]), "\n".join(r[1:-1])
        let first = f.map_or("", |i| py::strip(&response[i + 1..]));
        let last = l.map_or("", |j| py::strip(&response[..j]));
        let both = match (f, l) {
            (Some(i), Some(j)) if i < j => py::strip(&response[i + 1..j]),
            _ => "",
        };
        LooseVariants {
            response,
            first,
            last,
            both,
        }
    }

    fn get(&self, i: usize) -> Cow<'a, str> {
        let no_star = |s: &'a str| {
            // (memchr's vector search: std's `contains('*')` was 1.5% of an IFEval check)
            if memchr::memchr(b'*', s.as_bytes()).is_some() {
                Cow::Owned(remove_stars(s))
            } else {
                Cow::Borrowed(s)
            }
        };
        match i {
            0 => Cow::Borrowed(self.response),
            1 => no_star(self.response),
            2 => Cow::Borrowed(self.first),
            3 => Cow::Borrowed(self.last),
            4 => Cow::Borrowed(self.both),
            5 => no_star(self.first),
            6 => no_star(self.last),
            _ => no_star(self.both),
        }
    }
}

/// `s.replace('*', "")`, copying the pieces between the '*' found by a byte search
/// (`str::replace` and `split` with a char pattern cost several times more on long texts with
/// many '*'; a '*' is one byte of UTF-8, so the pieces are whole chars).
fn remove_stars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for i in memchr::memchr_iter(b'*', s.as_bytes()) {
        out.push_str(&s[last..i]);
        last = i + 1;
    }
    out.push_str(&s[last..]);
    out
}

/// The 8 texts of the loose evaluation as the official code builds them (the reference
/// [`LooseVariants`] is tested against).
#[cfg(test)]
fn loose_variants_joined(response: &str) -> [String; 8] {
    let r: Vec<&str> = response.split('\n').collect();
    let n = r.len();
    let first = py::strip(&r[1.min(n)..].join("\n")).to_string();
    let last = py::strip(&r[..n.saturating_sub(1)].join("\n")).to_string();
    let both = if n >= 2 {
        py::strip(&r[1..n - 1].join("\n")).to_string()
    } else {
        String::new()
    };
    [
        response.to_string(),
        response.replace('*', ""),
        first.clone(),
        last.clone(),
        both.clone(),
        first.replace('*', ""),
        last.replace('*', ""),
        both.replace('*', ""),
    ]
}

/// Names of the loose variants (for reasons).
pub const LOOSE_VARIANT_NAMES: [&str; 8] = [
    "response",
    "'*' removed",
    "first line removed",
    "last line removed",
    "first and last lines removed",
    "first line and '*' removed",
    "last line and '*' removed",
    "first and last lines and '*' removed",
];

/// One instruction's strict and loose verdicts.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InstructionResult {
    pub id: String,
    pub strict: bool,
    pub loose: bool,
    /// The strict verdict's reason (or the loose one's when only loose passes).
    pub reason: String,
    /// Index of the first passing loose variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loose_variant: Option<usize>,
    /// Set when the official code would raise (counted as a fail) or the checker could not be built.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn run_one(check: &CheckFn, text: &str) -> Result<Verdict, String> {
    if py::strip(text).is_empty() {
        return Ok(Verdict {
            pass: false,
            reason: "empty response".into(),
        });
    }
    check(text)
}

/// Strict and loose evaluation of one built checker on one response.
pub fn evaluate_checker(id: &str, check: &CheckFn, response: &str) -> InstructionResult {
    // the variants share most of their sentences with the response (see nltk::with_sentence_memo)
    crate::nltk::with_sentence_memo(|| evaluate_variants(id, check, response))
}

fn evaluate_variants(id: &str, check: &CheckFn, response: &str) -> InstructionResult {
    let strict = run_one(check, response);
    let mut error = strict.as_ref().err().map(|e| format!("strict: {e}"));
    let strict_pass = matches!(&strict, Ok(v) if v.pass);
    let mut reason = match &strict {
        Ok(v) => v.reason.clone(),
        Err(e) => format!("the official code raises: {e}"),
    };
    let mut loose_variant = None;
    if strict_pass {
        loose_variant = Some(0);
    } else {
        // A checker is a pure function of the text (kwargs are bound when it is built; nothing
        // in a check reads mutable state, and langdetect is seeded per call), so a variant
        // equal to a text already checked gets that text's result again: reuse it. Variant 0
        // is the response itself, and many variants coincide (no '*', no first line, ...).
        let variants = LooseVariants::new(response);
        let mut seen: Vec<(Cow<str>, Result<Verdict, String>)> =
            vec![(Cow::Borrowed(response), strict.clone())];
        for (i, name) in LOOSE_VARIANT_NAMES.iter().enumerate() {
            let t = variants.get(i);
            let result = match seen.iter().find(|(s, _)| *s == t) {
                Some((_, r)) => r.clone(),
                None => {
                    let r = run_one(check, &t);
                    seen.push((t, r.clone()));
                    r
                }
            };
            match result {
                Ok(v) if v.pass => {
                    loose_variant = Some(i);
                    if i > 0 {
                        reason = format!("{reason}; loose: passes with {name} ({})", v.reason);
                    }
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    if error.is_none() {
                        error = Some(format!("loose[{i}]: {e}"));
                    }
                }
            }
        }
    }
    InstructionResult {
        id: id.to_string(),
        strict: strict_pass,
        loose: loose_variant.is_some(),
        reason,
        loose_variant,
        error,
    }
}

/// Build and evaluate one instruction; a build error gives a failing result that says why.
pub fn evaluate(id: &str, kwargs: &Map<String, Value>, response: &str) -> InstructionResult {
    match build(id, kwargs) {
        Ok(c) => evaluate_checker(id, &c, response),
        Err(e) => InstructionResult {
            id: id.to_string(),
            strict: false,
            loose: false,
            reason: e.to_string(),
            loose_variant: None,
            error: Some(e.to_string()),
        },
    }
}

/// Strict-only check of one instruction (what RAIF training uses): Ok(verdict) or the build error.
pub fn check_strict(
    id: &str,
    kwargs: &Map<String, Value>,
    response: &str,
) -> Result<Verdict, BuildError> {
    let c = built(id, kwargs)?;
    Ok(match run_one(&c, response) {
        Ok(v) => v,
        Err(e) => Verdict {
            pass: false,
            reason: format!("the official code raises: {e}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept checker is the one its own id and kwargs build: interleaved kwargs (more than are
    /// kept) give the verdicts of freshly built checkers.
    #[test]
    fn kept_checkers_answer_for_their_own_kwargs() {
        let text = "one two three four five six seven eight nine ten";
        for round in 0..3 {
            for n in (0..2 * BUILT_KEEP).map(|k| (k * 7 + round) % 13) {
                for relation in ["at least", "less than"] {
                    let kw: Map<String, Value> = serde_json::from_value(serde_json::json!({
                        "num_words": n, "relation": relation
                    }))
                    .expect("kwargs");
                    let id = "length_constraints:number_words";
                    let fresh = run_one(&build(id, &kw).expect("build"), text).expect("check");
                    assert_eq!(check_strict(id, &kw, text).expect("check"), fresh, "{kw:?}");
                }
            }
        }
    }

    #[test]
    fn loose_variants_are_the_joined_lines() {
        let parts = ["", "a", "*b*", " ", "\n", "\r", "**", "x y", "\u{a0}"];
        let mut texts = vec![String::new()];
        for a in parts {
            for b in parts {
                for c in parts {
                    for d in parts {
                        texts.push(format!("{a}\n{b}{c}\n{d}"));
                        texts.push(format!("{a}{b}\n{c}{d}"));
                        texts.push(format!("{a}{b}{c}{d}"));
                        texts.push(format!("{a}\n{b}\n{c}\n{d}"));
                    }
                }
            }
        }
        for t in &texts {
            assert_eq!(loose_variants(t), loose_variants_joined(t), "{t:?}");
        }
    }
}
