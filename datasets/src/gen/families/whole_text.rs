//! Whole-text families: a JSON wrapper, outer quotes, case changes, no commas.

use serde_json::Value;

use crate::gen::family::{Fam, Family, Leaf, Traits};
use crate::gen::text::{py_is_lower, py_is_upper};

pub struct Json;

impl Family for Json {
    fn id(&self) -> &'static str {
        "detectable_format:json_format"
    }
    fn name(&self) -> &'static str {
        "JSON output"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 400,
            at_start: true,
            at_end: true,
            whole_answer: true,
            finishes: true,
            ..Traits::NONE
        }
    }
    fn excludes(&self, other: Fam) -> bool {
        !other.traits().json_ok
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Return one JSON object that holds your whole reply; a code fence around it is fine."
                .to_string(),
            "Wrap the whole reply in a JSON object.".to_string(),
            "Give the reply as valid JSON only.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "put the whole text in one JSON object with a single string field".into()
    }
    fn plan_short(&self, _l: &Leaf) -> String {
        "put the whole text in one JSON object with one string field".into()
    }
    fn finish(&self, text: String) -> Option<String> {
        // One string field holding the text with its line breaks joined (a later case change
        // applies to the key too).
        let flat = text
            .split('\n')
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let v = serde_json::to_string(&flat).ok()?;
        Some(format!("{{\"answer\": {v}}}"))
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        let t = v.trim();
        serde_json::from_str::<Value>(t).is_ok()
    }
}

pub struct Quotation;

impl Family for Quotation {
    fn id(&self) -> &'static str {
        "startend:quotation"
    }
    fn name(&self) -> &'static str {
        "whole reply in double quotes"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 440,
            at_start: true,
            at_end: true,
            finishes: true,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Begin the reply with a double quote character and end it with one.".to_string(),
            "Put the whole answer inside double quotes.".to_string(),
            "Enclose everything you write in a pair of double quotation marks.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "put one double quote at the very start and one at the very end".into()
    }
    fn plan_short(&self, _l: &Leaf) -> String {
        "open and close the reply with a double quote".into()
    }
    fn finish(&self, text: String) -> Option<String> {
        Some(format!("\"{text}\""))
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        let t = v.trim();
        t.len() > 1 && t.starts_with('"') && t.ends_with('"')
    }
}

pub struct Capital;

impl Family for Capital {
    fn id(&self) -> &'static str {
        "change_case:english_capital"
    }
    fn name(&self) -> &'static str {
        "all uppercase"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 420,
            case: true,
            json_ok: true,
            two_ok: true,
            chain_safe: true,
            every_part: true,
            finishes: true,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "detectable_format:constrained_response",
            "detectable_format:multiple_sections",
            "format:output_template",
            "format:thesis",
            "words:words_position",
        ]
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Write the whole reply in English using capital letters only.".to_string(),
            "Reply in English, and type every letter as a capital.".to_string(),
            "Use only capital letters throughout, in English.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "turn every letter into a capital at the end".into()
    }
    fn finish(&self, text: String) -> Option<String> {
        Some(text.to_uppercase())
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        py_is_upper(v)
    }
}

pub struct Lowercase;

impl Family for Lowercase {
    fn id(&self) -> &'static str {
        "change_case:english_lowercase"
    }
    fn name(&self) -> &'static str {
        "all lowercase"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 410,
            case: true,
            json_ok: true,
            two_ok: true,
            chain_safe: true,
            every_part: true,
            finishes: true,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "detectable_format:constrained_response",
            "detectable_format:multiple_sections",
            "format:output_template",
            "format:thesis",
            "format:list",
        ]
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Write the whole reply in English using lowercase letters only; no capitals at all."
                .to_string(),
            "Reply in English, and type every letter in lower case.".to_string(),
            "Do not use any capital letters; keep everything lowercase and in English.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "turn every letter into lowercase at the end".into()
    }
    fn finish(&self, text: String) -> Option<String> {
        Some(text.to_lowercase())
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        py_is_lower(v)
    }
}

pub struct TitleCase;

impl Family for TitleCase {
    fn id(&self) -> &'static str {
        "format:title_case"
    }
    fn name(&self) -> &'static str {
        "title case"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 430,
            case: true,
            finishes: true,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "detectable_format:constrained_response",
            "detectable_format:multiple_sections",
            "format:output_template",
            "format:thesis",
            "words:words_position",
            "format:list",
            "detectable_format:json_format",
        ]
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Capitalise the first letter of each and every word you write.".to_string(),
            "Every word of the answer should start with a capital letter, title case style."
                .to_string(),
            "Use title case throughout the whole response.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "capitalise the first letter of every word at the end".into()
    }
    fn finish(&self, text: String) -> Option<String> {
        Some(to_title_case(&text))
    }
    fn check(&self, _l: &Leaf, _v: &str) -> bool {
        // The text is title-cased last; the verifiers check it.
        true
    }
}

pub struct NoComma;

impl Family for NoComma {
    fn id(&self) -> &'static str {
        "punctuation:no_comma"
    }
    fn name(&self) -> &'static str {
        "no commas"
    }
    fn traits(&self) -> Traits {
        Traits {
            json_ok: true,
            two_ok: true,
            chain_safe: true,
            every_part: true,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &["count:punctuation"]
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Do not use any commas.".to_string(),
            "Avoid commas completely.".to_string(),
            "Your reply must not contain a single comma.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "write sentences that need no commas".into()
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        !v.contains(',')
    }
}

/// Every ASCII letter run: first letter upper, the rest lower.
fn to_title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alpha = false;
    for c in s.chars() {
        let a = c.is_ascii_alphabetic();
        if a && !prev_alpha {
            out.push(c.to_ascii_uppercase());
        } else if a {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
        prev_alpha = a;
    }
    out
}
