//! Which rule ids exist and what kwargs they take.
//!
//! The verifier registry lives in `raif-verify`; this crate does not depend on it for the set of
//! known ids. Loaders and the validator take an [`IdCatalog`] instead, so the caller decides (the
//! binary passes the verifier registry or [`OfficialIds`]). The kwarg table below states the
//! official checkers' `build_description` signatures (IFEval and IFBench), so that a wrong kwarg
//! name or type is caught when a file is read, not when a reward is computed.

use serde_json::{Map, Value};

use crate::error::{DataError, Loc, Result};
use crate::fields::type_name;
use raif_verify::Constraint;

/// The 25 IFEval instruction ids: the verifiers' own list (`raif_verify::ifeval::IDS`), so the
/// catalog and the checkers can never disagree.
pub const IFEVAL_IDS: &[&str] = raif_verify::ifeval::IDS;

/// The 58 IFBench instruction ids (`raif_verify::ifbench::IDS`).
pub const IFBENCH_IDS: &[&str] = raif_verify::ifbench::IDS;

/// CELLO's four rule scorers, as recorded by [`crate::loaders::load_cello`]: each leaf carries the
/// benchmark's criteria for that scorer in `kwargs.criteria`.
pub const CELLO_IDS: [&str; 4] = [
    "cello:answer_format",
    "cello:input_dependent_query",
    "cello:task_prescribed_phrases",
    "cello:count_limit",
];

/// The set of rule ids a file may use.
pub trait IdCatalog {
    fn contains(&self, id: &str) -> bool;
}

impl<F: Fn(&str) -> bool> IdCatalog for F {
    fn contains(&self, id: &str) -> bool {
        self(id)
    }
}

/// Every official IFEval and IFBench id, and the CELLO scorer ids.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfficialIds;

impl IdCatalog for OfficialIds {
    fn contains(&self, id: &str) -> bool {
        IFEVAL_IDS.contains(&id) || IFBENCH_IDS.contains(&id) || CELLO_IDS.contains(&id)
    }
}

/// The ids the verifiers implement (`raif_verify::registry`), and the CELLO scorer ids.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifierIds;

impl IdCatalog for VerifierIds {
    fn contains(&self, id: &str) -> bool {
        raif_verify::registry::family(id).is_some() || CELLO_IDS.contains(&id)
    }
}

/// Accepts every id (for reading files whose ids are checked elsewhere).
#[derive(Clone, Copy, Debug, Default)]
pub struct AnyId;

impl IdCatalog for AnyId {
    fn contains(&self, _id: &str) -> bool {
        true
    }
}

/// The JSON type a kwarg must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KwType {
    /// An integer; an integral float (`3.0`, as IFBench writes them) is accepted.
    Int,
    /// Any number.
    Num,
    Str,
    StrList,
    /// `"less than"` or `"at least"` (IFEval's comparison relations).
    Relation,
}

impl KwType {
    fn accepts(self, v: &Value) -> bool {
        match self {
            KwType::Int => match v {
                Value::Number(n) => {
                    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
                }
                _ => false,
            },
            KwType::Num => v.is_number(),
            KwType::Str => v.is_string(),
            KwType::StrList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            KwType::Relation => matches!(v.as_str(), Some("less than" | "at least")),
        }
    }
    fn describe(self) -> &'static str {
        match self {
            KwType::Int => "an integer",
            KwType::Num => "a number",
            KwType::Str => "a string",
            KwType::StrList => "an array of strings",
            KwType::Relation => "\"less than\" or \"at least\"",
        }
    }
}

use KwType::*;

/// The kwargs an official id takes, or `None` when the id takes free-form kwargs (IFBench's
/// `custom:*` checkers, CELLO scorers) or is not an official id.
pub fn kwarg_spec(id: &str) -> Option<&'static [(&'static str, KwType)]> {
    Some(match id {
        "keywords:existence" => &[("keywords", StrList)],
        "keywords:frequency" => &[("keyword", Str), ("frequency", Int), ("relation", Relation)],
        "keywords:forbidden_words" => &[("forbidden_words", StrList)],
        "keywords:letter_frequency" => &[
            ("letter", Str),
            ("let_frequency", Int),
            ("let_relation", Relation),
        ],
        "language:response_language" => &[("language", Str)],
        "length_constraints:number_sentences" => &[("num_sentences", Int), ("relation", Relation)],
        "length_constraints:number_paragraphs" => &[("num_paragraphs", Int)],
        "length_constraints:number_words" => &[("num_words", Int), ("relation", Relation)],
        "length_constraints:nth_paragraph_first_word" => &[
            ("num_paragraphs", Int),
            ("nth_paragraph", Int),
            ("first_word", Str),
        ],
        "detectable_content:number_placeholders" => &[("num_placeholders", Int)],
        "detectable_content:postscript" => &[("postscript_marker", Str)],
        "detectable_format:number_bullet_lists" => &[("num_bullets", Int)],
        "detectable_format:number_highlighted_sections" => &[("num_highlights", Int)],
        "detectable_format:multiple_sections" => &[("section_spliter", Str), ("num_sections", Int)],
        "combination:repeat_prompt" => &[("prompt_to_repeat", Str)],
        "startend:end_checker" => &[("end_phrase", Str)],
        "change_case:capital_word_frequency" => {
            &[("capital_frequency", Int), ("capital_relation", Relation)]
        }
        "detectable_format:constrained_response"
        | "detectable_format:json_format"
        | "detectable_format:title"
        | "combination:two_responses"
        | "change_case:english_capital"
        | "change_case:english_lowercase"
        | "punctuation:no_comma"
        | "startend:quotation" => &[],
        "count:word_count_range" => &[("min_words", Int), ("max_words", Int)],
        "count:unique_word_count"
        | "count:person_names"
        | "count:numbers"
        | "count:words_japanese"
        | "count:pronouns" => &[("N", Int)],
        "ratio:stop_words" => &[("percentage", Num)],
        "count:conjunctions" | "words:repeats" | "sentence:increment" => &[("small_n", Int)],
        "ratio:overlap" => &[("reference_text", Str), ("percentage", Num)],
        "format:options" => &[("options", Str)],
        "sentence:keyword" => &[("word", Str), ("N", Int)],
        "format:list" => &[("sep", Str)],
        "count:keywords_multiple" => &[
            ("keyword1", Str),
            ("keyword2", Str),
            ("keyword3", Str),
            ("keyword4", Str),
            ("keyword5", Str),
        ],
        "words:keywords_specific_position" => &[("keyword", Str), ("n", Int), ("m", Int)],
        "words:words_position" => &[("keyword", Str)],
        "repeat:repeat_change" => &[("prompt_to_repeat", Str)],
        "repeat:repeat_span" => &[("prompt_to_repeat", Str), ("n_start", Int), ("n_end", Int)],
        "ratio:sentence_type"
        | "ratio:sentence_balance"
        | "words:alphabet"
        | "words:vowel"
        | "words:consonants"
        | "sentence:alliteration_increment"
        | "words:palindrome"
        | "count:punctuation"
        | "format:parentheses"
        | "format:quotes"
        | "words:prime_lengths"
        | "format:newline"
        | "format:emoji"
        | "ratio:sentence_words"
        | "words:start_verb"
        | "words:odd_even_syllables"
        | "words:last_first"
        | "words:paragraph_last_first"
        | "words:no_consecutive"
        | "format:line_indent"
        | "format:quote_unquote"
        | "format:thesis"
        | "format:sub-bullets"
        | "format:no_bullets_bullets"
        | "repeat:repeat_simple"
        | "format:title_case"
        | "format:output_template"
        | "format:no_whitespace" => &[],
        _ => return None,
    })
}

/// Drops null kwargs (IFBench writes every key of every checker, unused ones null).
pub fn drop_nulls(kwargs: &Map<String, Value>) -> Map<String, Value> {
    kwargs
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Checks one rule leaf: the id is known, every non-null kwarg is one the id takes and has
/// the right type. `path` names the leaf in errors.
pub fn check_rule(
    loc: &Loc,
    path: &str,
    id: &str,
    kwargs: &Map<String, Value>,
    catalog: &dyn IdCatalog,
) -> Result<()> {
    if !catalog.contains(id) {
        return Err(DataError::field(
            loc,
            format!("{path}.id"),
            format!("unknown instruction id `{id}`"),
        ));
    }
    let Some(spec) = kwarg_spec(id) else {
        return Ok(());
    };
    for (name, value) in kwargs {
        if value.is_null() {
            continue;
        }
        let field = format!("{path}.kwargs.{name}");
        match spec.iter().find(|(n, _)| n == name) {
            None => {
                return Err(DataError::field(
                    loc,
                    field,
                    format!("`{id}` takes no kwarg `{name}`"),
                ))
            }
            Some((_, ty)) if !ty.accepts(value) => {
                return Err(DataError::field(
                    loc,
                    field,
                    format!(
                        "`{id}` needs {} here, found {} ({value})",
                        ty.describe(),
                        type_name(value)
                    ),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks every rule leaf of a tree (selection guards included).
pub fn check_tree(loc: &Loc, path: &str, c: &Constraint, catalog: &dyn IdCatalog) -> Result<()> {
    match c {
        Constraint::Rule { id, kwargs } => check_rule(loc, path, id, kwargs, catalog),
        Constraint::Judge { question } => {
            if question.trim().is_empty() {
                Err(DataError::field(
                    loc,
                    format!("{path}.question"),
                    "empty judge question",
                ))
            } else {
                Ok(())
            }
        }
        Constraint::And { children } => children
            .iter()
            .enumerate()
            .try_for_each(|(i, k)| check_tree(loc, &format!("{path}.children[{i}]"), k, catalog)),
        Constraint::Chain { steps, .. } => steps
            .iter()
            .enumerate()
            .try_for_each(|(i, k)| check_tree(loc, &format!("{path}.steps[{i}]"), k, catalog)),
        Constraint::Selection {
            branches,
            otherwise,
        } => {
            for (i, b) in branches.iter().enumerate() {
                check_tree(loc, &format!("{path}.branches[{i}].when"), &b.when, catalog)?;
                check_tree(loc, &format!("{path}.branches[{i}].then"), &b.then, catalog)?;
            }
            match otherwise {
                Some(o) => check_tree(loc, &format!("{path}.otherwise"), o, catalog),
                None => Ok(()),
            }
        }
    }
}
