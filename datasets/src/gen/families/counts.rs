//! Counted material: all-capital words, numbers, conjunctions, pronouns, punctuation marks.

use serde_json::json;

use crate::gen::body::Body;
use crate::gen::family::{plural, relation, Draw, Family, Leaf, Traits};
use crate::gen::rng::Rng;
use crate::gen::text::{count_numbers, py_is_upper, strip_punct_space};
use raif_verify::ifbench::count::PRONOUNS;

pub struct CapitalFreq;

impl Family for CapitalFreq {
    fn id(&self) -> &'static str {
        "change_case:capital_word_frequency"
    }
    fn name(&self) -> &'static str {
        "all-capital words"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 180,
            measured: true,
            json_ok: true,
            two_ok: true,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let (n, r) = (l.n("capital_frequency"), relation(l.s("capital_relation")));
        [
            format!("Use words written in all capital letters {r} {n} times."),
            format!("Fully capitalised words should appear {r} {n} times."),
            format!("Include {r} {n} words in ALL CAPS."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "keep all-capital words {}",
            l.bound("capital_relation", "capital_frequency", "under")
        )
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        b.add("This is KEY and it is URGENT.".into());
    }
    fn measure(&self, l: &mut Leaf, text: &str, rng: &mut Rng) {
        let kw = &mut l.kw;
        let c = count_capital_words(text);
        if c >= 3 && rng.chance(1, 2) {
            kw.insert("capital_relation".into(), json!("at least"));
            kw.insert("capital_frequency".into(), json!(rng.range(1, c - 1)));
        } else {
            kw.insert("capital_relation".into(), json!("less than"));
            kw.insert("capital_frequency".into(), json!(c + rng.range(2, 6)));
        }
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        let c = count_capital_words(v);
        if l.below("capital_relation") {
            c + 1 < l.n("capital_frequency")
        } else {
            c >= l.n("capital_frequency")
        }
    }
}

pub struct Numbers;

impl Family for Numbers {
    fn id(&self) -> &'static str {
        "count:numbers"
    }
    fn name(&self) -> &'static str {
        "exact count of numbers"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 150,
            json_ok: true,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &["combination:repeat_prompt"]
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert("N".into(), json!(d.rng.range(1, d.hi(4, 2))));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let n = l.n("N");
        [
            format!(
                "Exactly {n} figure{} written in digits should appear.",
                plural(n)
            ),
            format!(
                "Your answer should contain precisely {n} number{}, no more and no fewer.",
                plural(n)
            ),
            format!("Mention exactly {n} numeric value{}.", plural(n)),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "include exactly {} numbers and no other digits anywhere",
            l.n("N")
        )
    }
    fn plan_short(&self, l: &Leaf) -> String {
        let n = l.n("N");
        format!(
            "include exactly {n} number{} and no other digits",
            plural(n)
        )
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        let mut nums: Vec<usize> = Vec::new();
        while nums.len() < l.n("N") {
            let v = b.rng.range(10, 99);
            if !nums.contains(&v) {
                nums.push(v);
            }
        }
        let nums: Vec<String> = nums.iter().map(|n| n.to_string()).collect();
        b.add(format!("Useful figures here are {}.", nums.join(" and ")));
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        count_numbers(v) == l.n("N")
    }
}

pub struct Conjunctions;

impl Family for Conjunctions {
    fn id(&self) -> &'static str {
        "count:conjunctions"
    }
    fn name(&self) -> &'static str {
        "distinct coordinating conjunctions"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 160,
            measured: true,
            json_ok: true,
            two_ok: true,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let n = l.n("small_n");
        [
                format!("Join ideas with {n} or more distinct linking words from the set and, but, or, nor, for, so, yet."),
                format!("Include {n} or more distinct coordinating conjunctions such as and, but, or, so, yet."),
                format!("Make use of no fewer than {n} different coordinating conjunctions."),
            ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!("use at least {} of and, but, or, so, yet", l.n("small_n"))
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        b.add(
            "We can start now or later but the aim stays firm so we act and yet we stay calm."
                .into(),
        );
    }
    fn measure(&self, l: &mut Leaf, text: &str, rng: &mut Rng) {
        let kw = &mut l.kw;
        let c = count_conjunctions(text);
        kw.insert("small_n".into(), json!(rng.range(2.min(c), c.min(5))));
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        count_conjunctions(v) >= l.n("small_n")
    }
}

pub struct Pronouns;

impl Family for Pronouns {
    fn id(&self) -> &'static str {
        "count:pronouns"
    }
    fn name(&self) -> &'static str {
        "pronoun count"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 170,
            measured: true,
            json_ok: true,
            two_ok: true,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let n = l.n("N");
        [
            format!("Refer to people and things with pronouns, {n} or more of them."),
            format!("Use {n} or more pronouns in your answer."),
            format!("The reply should contain no fewer than {n} pronouns."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "use at least {} pronouns such as we, you, it, they",
            l.n("N")
        )
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        b.add("We hope you find it useful and they will too.".into());
    }
    fn measure(&self, l: &mut Leaf, text: &str, rng: &mut Rng) {
        let kw = &mut l.kw;
        let c = count_pronouns(text);
        kw.insert("N".into(), json!(rng.range(1.min(c), c.min(12))));
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        count_pronouns(v) >= l.n("N")
    }
}

pub struct Punctuation;

impl Family for Punctuation {
    fn id(&self) -> &'static str {
        "count:punctuation"
    }
    fn name(&self) -> &'static str {
        "every punctuation mark"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 220,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Show off your punctuation: a full stop, a comma, an exclamation mark, a question mark, a semicolon, a colon and an interrobang (?!) should all appear.".to_string(),
            "Make sure the reply contains a period, a comma, an exclamation mark, a question mark, a semicolon, a colon and an interrobang (?!).".to_string(),
            "Include each of these at least once: . , ! ? ; : and ?!".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "include . , ! ? ; : and an interrobang ?!".into()
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        b.add("Ready?! Are you sure? Yes: start today; keep going, and finish well!".into());
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        (v.contains("?!") || v.contains("!?"))
            && [".", ",", "!", "?", ";", ":"].iter().all(|p| v.contains(p))
    }
}

/// Capital-word count as NLTK's word tokenizer would see it on this text: tokens split at
/// whitespace and at punctuation other than internal periods.
fn count_capital_words(text: &str) -> usize {
    text.split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| !t.is_empty() && py_is_upper(t))
        .count()
}

/// IFBench `count:pronouns`, with the verifier's own list, so a constructed answer counts
/// pronouns as the check does.
fn count_pronouns(text: &str) -> usize {
    let v = text.replace('/', " ").to_lowercase();
    let v: String = v.chars().filter(|c| !c.is_ascii_punctuation()).collect();
    v.split_whitespace()
        .filter(|w| PRONOUNS.contains(w))
        .count()
}

/// IFBench `count:conjunctions`: distinct raw words whose stripped lowercase form is a
/// coordinating conjunction.
fn count_conjunctions(text: &str) -> usize {
    let set: std::collections::BTreeSet<&str> = text
        .split_whitespace()
        .filter(|w| {
            matches!(
                strip_punct_space(w).to_lowercase().as_str(),
                "and" | "but" | "for" | "nor" | "or" | "so" | "yet"
            )
        })
        .collect();
    set.len()
}
