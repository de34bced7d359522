//! Keyword families: words that must appear, how often, where, or never.

use serde_json::json;

use crate::gen::body::Body;
use crate::gen::family::{list_words, ordinal, plural, relation, Draw, Family, Leaf, Traits};
use crate::gen::rng::Rng;
use crate::gen::text::{contains_word_ci, count_ci, FORBIDDEN_POOL, KEYWORD_POOL, POSITION_WORDS};

const EXISTENCE_POOL: &[&str] = &[
    "schedule", "budget", "quality", "feedback", "priority", "detail", "routine", "balance",
    "purpose", "effort", "progress", "support", "choice", "timing", "comfort", "safety",
];
const FREQ_TEMPLATES: &[&str] = &[
    "The idea of {k} helps here.",
    "A touch of {k} goes a long way.",
    "Think of {k} as a guide.",
    "Keep {k} in mind.",
];

pub struct Existence;

impl Family for Existence {
    fn id(&self) -> &'static str {
        "keywords:existence"
    }
    fn name(&self) -> &'static str {
        "required keywords"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 100,
            json_ok: true,
            two_ok: true,
            chain_safe: true,
            ..Traits::NONE
        }
    }
    fn draw(&self, d: &mut Draw) {
        let k = d.rng.range(1, d.hi(3, 2));
        let words: Vec<String> = (0..k).map(|_| d.fresh(EXISTENCE_POOL)).collect();
        d.kw.insert("keywords".into(), json!(words));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let w = list_words(&l.list("keywords"));
        [
            format!("Be sure to mention {w}."),
            format!(
                "Your reply has to include the word{} {w}.",
                if l.list("keywords").len() > 1 {
                    "s"
                } else {
                    ""
                }
            ),
            format!("Work {w} into the text somewhere."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "work {} into the sentences",
            list_words(&l.list("keywords"))
        )
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        let words = l.list("keywords");
        b.add(format!("This also touches on {}.", words.join(" and ")));
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        l.list("keywords").iter().all(|k| count_ci(v, k) > 0)
    }
}

pub struct Frequency;

impl Family for Frequency {
    fn id(&self) -> &'static str {
        "keywords:frequency"
    }
    fn name(&self) -> &'static str {
        "keyword frequency"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 110,
            json_ok: true,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &["combination:repeat_prompt"]
    }
    fn draw(&self, d: &mut Draw) {
        let w = d.fresh(KEYWORD_POOL);
        let less = d.rng.chance(1, 3);
        let n = if less {
            d.rng.range(2, d.hi(5, 3))
        } else {
            d.rng.range(1, d.hi(4, 2))
        };
        d.kw.insert("keyword".into(), json!(w));
        d.kw.insert("frequency".into(), json!(n));
        d.kw.insert(
            "relation".into(),
            json!(if less { "less than" } else { "at least" }),
        );
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let (w, n, r) = (l.s("keyword"), l.n("frequency"), relation(l.s("relation")));
        [
            format!("Use the word \"{w}\" {r} {n} time{}.", plural(n)),
            format!(
                "The word \"{w}\" should show up {r} {n} time{} in your reply.",
                plural(n)
            ),
            format!("Mention \"{w}\" {r} {n} time{}.", plural(n)),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "use \"{}\" {} {} times and count every occurrence, including inside longer words",
            l.s("keyword"),
            relation(l.s("relation")),
            l.n("frequency")
        )
    }
    fn plan_short(&self, l: &Leaf) -> String {
        format!(
            "use \"{}\" {} {} time{}",
            l.s("keyword"),
            relation(l.s("relation")),
            l.n("frequency"),
            plural(l.n("frequency"))
        )
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        let n = l.n("frequency");
        let times = if l.below("relation") {
            b.rng.range(1, n.saturating_sub(1).max(1))
        } else {
            n + b.rng.range(0, 1)
        };
        for i in 0..times {
            b.add(FREQ_TEMPLATES[i % FREQ_TEMPLATES.len()].replace("{k}", l.s("keyword")));
        }
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        l.holds("relation", "frequency", count_ci(v, l.s("keyword")))
    }
}

pub struct Forbidden;

impl Family for Forbidden {
    fn id(&self) -> &'static str {
        "keywords:forbidden_words"
    }
    fn name(&self) -> &'static str {
        "forbidden words"
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
    fn draw(&self, d: &mut Draw) {
        let k = d.rng.range(1, d.hi(4, 2));
        let words = d.rng.sample(FORBIDDEN_POOL, k);
        d.kw.insert("forbidden_words".into(), json!(words));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let w = list_words(&l.list("forbidden_words"));
        [
            format!("Avoid the words {w} entirely."),
            format!("Do not use any of these words: {w}."),
            format!("Keep {w} out of your answer."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "choose wording that never uses {}",
            list_words(&l.list("forbidden_words"))
        )
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        l.list("forbidden_words")
            .iter()
            .all(|w| !contains_word_ci(v, w))
    }
}

pub struct LetterFreq;

impl Family for LetterFreq {
    fn id(&self) -> &'static str {
        "keywords:letter_frequency"
    }
    fn name(&self) -> &'static str {
        "letter frequency"
    }
    fn traits(&self) -> Traits {
        Traits {
            measured: true,
            json_ok: true,
            two_ok: true,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let (c, n, r) = (
            l.s("letter"),
            l.n("let_frequency"),
            relation(l.s("let_relation")),
        );
        [
            format!("The letter \"{c}\" must appear {r} {n} times."),
            format!("Make sure the letter {c} is used {r} {n} times in total."),
            format!("Count your letters: \"{c}\" should occur {r} {n} times."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "{}; I will count it when the draft is done",
            self.plan_short(l)
        )
    }
    fn plan_short(&self, l: &Leaf) -> String {
        format!(
            "keep the letter \"{}\" {} times",
            l.s("letter"),
            l.bound("let_relation", "let_frequency", "under")
        )
    }
    fn measure(&self, l: &mut Leaf, text: &str, rng: &mut Rng) {
        let kw = &mut l.kw;
        let letter = (b'a' + rng.below(26) as u8) as char;
        let c = text.to_lowercase().matches(letter).count();
        kw.insert("letter".into(), json!(letter.to_string()));
        if c >= 2 && rng.chance(1, 2) {
            kw.insert("let_relation".into(), json!("at least"));
            kw.insert(
                "let_frequency".into(),
                json!((c * rng.range(50, 100) / 100).max(1)),
            );
        } else {
            kw.insert("let_relation".into(), json!("less than"));
            kw.insert("let_frequency".into(), json!(c + rng.range(1, 10)));
        }
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        l.holds(
            "let_relation",
            "let_frequency",
            v.to_lowercase().matches(l.s("letter")).count(),
        )
    }
}

pub struct KeywordsMultiple;

impl Family for KeywordsMultiple {
    fn id(&self) -> &'static str {
        "count:keywords_multiple"
    }
    fn name(&self) -> &'static str {
        "five keywords with fixed counts"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 120,
            json_ok: true,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &["combination:repeat_prompt"]
    }
    fn draw(&self, d: &mut Draw) {
        for i in 1..=5 {
            let w = d.fresh(KEYWORD_POOL);
            d.kw.insert(format!("keyword{i}"), json!(w));
        }
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let k: Vec<&str> = (1..=5).map(|i| l.s(&format!("keyword{i}"))).collect();
        [
                format!("Use the word {} once, {} twice, {} three times, {} five times and {} seven times.", k[0], k[1], k[2], k[3], k[4]),
                format!("Word counts matter: \"{}\" exactly once, \"{}\" exactly twice, \"{}\" exactly three times, \"{}\" exactly five times, \"{}\" exactly seven times.", k[0], k[1], k[2], k[3], k[4]),
                format!("Include {} one time, {} two times, {} three times, {} five times, and {} seven times.", k[0], k[1], k[2], k[3], k[4]),
            ]
    }
    fn plan(&self, l: &Leaf) -> String {
        let k: Vec<&str> = (1..=5).map(|i| l.s(&format!("keyword{i}"))).collect();
        format!("write {} once, {} twice, {} three times, {} five times and {} seven times and nowhere else", k[0], k[1], k[2], k[3], k[4])
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        for (i, c) in [1usize, 2, 3, 5, 7].into_iter().enumerate() {
            let k = l.s(&format!("keyword{}", i + 1));
            let mut s = format!("Remember {k}");
            for _ in 1..c {
                s.push_str(&format!(" and {k}"));
            }
            s.push('.');
            b.add(s);
        }
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        [1usize, 2, 3, 5, 7]
            .iter()
            .enumerate()
            .all(|(i, c)| count_ci(v, l.s(&format!("keyword{}", i + 1))) == *c)
    }
}

pub struct WordsPosition;

impl Family for WordsPosition {
    fn id(&self) -> &'static str {
        "words:words_position"
    }
    fn name(&self) -> &'static str {
        "word in second and second-to-last position"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 250,
            at_start: true,
            at_end: true,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "detectable_format:title",
            "detectable_format:multiple_sections",
            "format:output_template",
            "detectable_content:postscript",
            "detectable_format:constrained_response",
            "detectable_format:number_bullet_lists",
            "format:list",
            "format:sub-bullets",
            "format:thesis",
        ]
    }
    fn draw(&self, d: &mut Draw) {
        let w = d.fresh(POSITION_WORDS);
        d.kw.insert("keyword".into(), json!(w));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let w = l.s("keyword");
        [
            format!("Both the 2nd word and the next-to-last word of the reply have to be \"{w}\"."),
            format!(
                "Make \"{w}\" the second word of the response and also the second to last word."
            ),
            format!(
                "Place the word {w} second from the start and second from the end of the reply."
            ),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "make \"{}\" the second word and the second-to-last word",
            l.s("keyword")
        )
    }
    fn plan_short(&self, l: &Leaf) -> String {
        format!(
            "make \"{}\" the 2nd and the 2nd-to-last word",
            l.s("keyword")
        )
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        let k = l.s("keyword");
        let topic = b.seed.topic;
        b.first()
            .sentences
            .insert(0, format!("Stay {k} about {topic}."));
        b.add(format!("Keep it {k}."));
    }
    fn check(&self, _l: &Leaf, _v: &str) -> bool {
        // Placed at both ends by construction; the verifiers check it.
        true
    }
}

pub struct SentenceKeyword;

impl Family for SentenceKeyword {
    fn id(&self) -> &'static str {
        "sentence:keyword"
    }
    fn name(&self) -> &'static str {
        "keyword in a given sentence"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 20,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "combination:repeat_prompt",
            "format:thesis",
            "detectable_format:number_bullet_lists",
            "format:list",
            "format:sub-bullets",
            "words:words_position",
        ]
    }
    fn draw(&self, d: &mut Draw) {
        let w = d.fresh(POSITION_WORDS);
        d.kw.insert("word".into(), json!(w));
        d.kw.insert("N".into(), json!(d.rng.range(1, d.hi(3, 2))));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let (w, n) = (l.s("word"), l.n("N"));
        [
            format!("The {} sentence must contain the word \"{w}\".", ordinal(n)),
            format!("Include \"{w}\" in sentence number {n}."),
            format!(
                "Put the keyword {w} in the {} sentence of the reply.",
                ordinal(n)
            ),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "put \"{}\" in each of the first {} sentences",
            l.s("word"),
            l.n("N")
        )
    }
    fn plan_short(&self, l: &Leaf) -> String {
        match l.n("N") {
            1 => format!("put \"{}\" in the first sentence", l.s("word")),
            n => format!("put \"{}\" in each of the first {n} sentences", l.s("word")),
        }
    }
    fn first_sentences(&self, l: &Leaf) -> usize {
        l.n("N") + 1
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        // The keyword in every sentence of the first paragraph.
        let w = l.s("word");
        for s in b.first().sentences.iter_mut() {
            let body = s.trim_end_matches('.');
            *s = format!("{body} with a {w} mind.");
        }
    }
    fn check(&self, _l: &Leaf, _v: &str) -> bool {
        // In every sentence of the first paragraph by construction; the verifiers check it.
        true
    }
}
