//! Length families: sentence, paragraph and word counts, and vocabulary size.

use serde_json::json;

use crate::gen::body::Body;
use crate::gen::family::{ordinal, relation, Draw, Family, Leaf, Traits};
use crate::gen::rng::Rng;
use crate::gen::text::{
    capitalise_first, count_words, max_sentences, strip_punct_space, POSITION_WORDS,
};

pub struct NumSentences;

impl Family for NumSentences {
    fn id(&self) -> &'static str {
        "length_constraints:number_sentences"
    }
    fn name(&self) -> &'static str {
        "sentence count"
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
        let (n, r) = (l.n("num_sentences"), relation(l.s("relation")));
        [
            format!("Write {r} {n} sentences."),
            format!("I want {r} {n} sentences from you."),
            format!("Use {r} {n} sentences overall."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "keep the sentence total {}",
            l.bound("relation", "num_sentences", "below")
        )
    }
    fn measure(&self, l: &mut Leaf, text: &str, rng: &mut Rng) {
        let kw = &mut l.kw;
        let lo = min_sentences(text);
        if lo >= 2 && rng.chance(1, 2) {
            kw.insert("relation".into(), json!("at least"));
            kw.insert("num_sentences".into(), json!(rng.range(1, lo)));
        } else {
            kw.insert("relation".into(), json!("less than"));
            kw.insert(
                "num_sentences".into(),
                json!(max_sentences(text) + rng.range(1, 5)),
            );
        }
    }
    fn check(&self, _l: &Leaf, _v: &str) -> bool {
        // Its bound comes from a safe lower / upper sentence count; the verifiers count with Punkt.
        true
    }
}

pub struct NumParagraphs;

impl Family for NumParagraphs {
    fn id(&self) -> &'static str {
        "length_constraints:number_paragraphs"
    }
    fn name(&self) -> &'static str {
        "paragraph count with *** dividers"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 10,
            divider: Some("\n***\n"),
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "length_constraints:nth_paragraph_first_word",
            "format:no_bullets_bullets",
            "format:sub-bullets",
        ]
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert("num_paragraphs".into(), json!(d.rng.range(2, 5)));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let n = l.n("num_paragraphs");
        [
                format!("Write exactly {n} paragraphs and put a line with *** between neighbouring paragraphs."),
                format!("Break the text into {n} paragraphs; the only thing between two paragraphs is a *** line."),
                format!("Give {n} paragraphs in total, each pair separated by ***."),
            ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "write {} paragraphs with a *** line between each pair",
            l.n("num_paragraphs")
        )
    }
    fn paragraphs(&self, l: &Leaf) -> Option<usize> {
        Some(l.n("num_paragraphs"))
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        star_paragraphs(v) == Some(l.n("num_paragraphs"))
    }
}

pub struct NumWords;

impl Family for NumWords {
    fn id(&self) -> &'static str {
        "length_constraints:number_words"
    }
    fn name(&self) -> &'static str {
        "word count"
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
        let (n, r) = (l.n("num_words"), relation(l.s("relation")));
        [
            format!("Keep the length to {r} {n} words."),
            format!("The reply should have {r} {n} words."),
            format!("Use {r} {n} words."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "keep the word total {}",
            l.bound("relation", "num_words", "below")
        )
    }
    fn measure(&self, l: &mut Leaf, text: &str, rng: &mut Rng) {
        let kw = &mut l.kw;
        let c = count_words(text);
        if rng.chance(1, 2) && c > 10 {
            kw.insert("relation".into(), json!("at least"));
            kw.insert(
                "num_words".into(),
                json!(round_down(c - rng.range(0, c / 4), 5).max(5)),
            );
        } else {
            kw.insert("relation".into(), json!("less than"));
            kw.insert(
                "num_words".into(),
                json!(round_up(c + 1 + rng.range(0, c / 4), 10)),
            );
        }
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        l.holds("relation", "num_words", count_words(v))
    }
}

pub struct NthPara;

impl Family for NthPara {
    fn id(&self) -> &'static str {
        "length_constraints:nth_paragraph_first_word"
    }
    fn name(&self) -> &'static str {
        "paragraph count and a fixed first word"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 30,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "format:output_template",
            "sentence:keyword",
            "detectable_format:title",
            "format:thesis",
            "combination:repeat_prompt",
            "words:words_position",
        ]
    }
    fn draw(&self, d: &mut Draw) {
        let n = d.rng.range(2, 5);
        let k = d.rng.range(1, n);
        let w = d.fresh(POSITION_WORDS);
        d.kw.insert("num_paragraphs".into(), json!(n));
        d.kw.insert("nth_paragraph".into(), json!(k));
        d.kw.insert("first_word".into(), json!(w));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let (n, k, w) = (
            l.n("num_paragraphs"),
            l.n("nth_paragraph"),
            l.s("first_word"),
        );
        [
                format!("Write {n} paragraphs separated by blank lines, and start the {} paragraph with the word \"{w}\".", ordinal(k)),
                format!("Use exactly {n} paragraphs (separate them with two new lines); paragraph {k} must begin with \"{w}\"."),
                format!("Organise the reply as {n} paragraphs split by empty lines, the {} of which opens with the word \"{w}\".", ordinal(k)),
            ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "write {} paragraphs separated by blank lines and open paragraph {} with \"{}\"",
            l.n("num_paragraphs"),
            l.n("nth_paragraph"),
            l.s("first_word")
        )
    }
    fn paragraphs(&self, l: &Leaf) -> Option<usize> {
        Some(l.n("num_paragraphs"))
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        let k = l.n("nth_paragraph").clamp(1, b.paras.len()) - 1;
        let w = capitalise_first(l.s("first_word"));
        let topic = b.seed.topic;
        b.paras[k]
            .sentences
            .insert(0, format!("{w} steps make {topic} easier."));
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        let paras: Vec<&str> = v.split("\n\n").collect();
        let n = paras.iter().filter(|p| !p.trim().is_empty()).count();
        let k = l.n("nth_paragraph");
        if n != l.n("num_paragraphs") || k == 0 || k > paras.len() {
            return false;
        }
        let word = paras[k - 1].split_whitespace().next().unwrap_or("");
        let word = word.trim_start_matches('\'').trim_start_matches('"');
        let first: String = word
            .chars()
            .take_while(|c| !".,?!'\"".contains(*c))
            .flat_map(char::to_lowercase)
            .collect();
        first == l.s("first_word")
    }
}

pub struct WordCountRange;

impl Family for WordCountRange {
    fn id(&self) -> &'static str {
        "count:word_count_range"
    }
    fn name(&self) -> &'static str {
        "word count range"
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
        let (a, b) = (l.n("min_words"), l.n("max_words"));
        [
            format!("Aim for a length from {a} to {b} words, inclusive."),
            format!("Keep the word count between {a} and {b}."),
            format!("Write no fewer than {a} and no more than {b} words."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "land between {} and {} words",
            l.n("min_words"),
            l.n("max_words")
        )
    }
    fn measure(&self, l: &mut Leaf, text: &str, rng: &mut Rng) {
        let kw = &mut l.kw;
        let c = count_words(text);
        kw.insert(
            "min_words".into(),
            json!(round_down(c - rng.range(0, c / 10), 5)),
        );
        kw.insert(
            "max_words".into(),
            json!(round_up(c + rng.range(1, c / 10 + 1), 5)),
        );
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        (l.n("min_words")..=l.n("max_words")).contains(&count_words(v))
    }
}

pub struct UniqueWords;

impl Family for UniqueWords {
    fn id(&self) -> &'static str {
        "count:unique_word_count"
    }
    fn name(&self) -> &'static str {
        "unique word count"
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
        let n = l.n("N");
        [
            format!("Draw on a vocabulary of {n} or more different words."),
            format!("Your vocabulary should span {n} or more different words."),
            format!("Include no fewer than {n} distinct words."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!("vary the vocabulary to reach {} different words", l.n("N"))
    }
    fn measure(&self, l: &mut Leaf, text: &str, rng: &mut Rng) {
        let kw = &mut l.kw;
        let c = count_unique_words(text);
        kw.insert("N".into(), json!(round_down(rng.range(c / 2, c), 5).max(1)));
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        count_unique_words(v) >= l.n("N")
    }
}

fn round_down(v: usize, step: usize) -> usize {
    (v / step) * step
}

fn round_up(v: usize, step: usize) -> usize {
    v.div_ceil(step) * step
}

/// Sentences that end a clause with a lowercase word and a period followed by a space (a safe
/// lower bound for Punkt on this generator's text).
fn min_sentences(text: &str) -> usize {
    let b: Vec<char> = text.chars().collect();
    let mut n = 0;
    for i in 3..b.len().saturating_sub(1) {
        if b[i] == '.'
            && b[i - 1].is_alphabetic()
            && b[i - 2].is_alphabetic()
            && b[i - 3].is_alphabetic()
            && (b[i + 1] == ' ' || b[i + 1] == '\n')
        {
            n += 1;
        }
    }
    n / 2
}

/// IFEval's paragraph count on `***` dividers (None when an empty middle paragraph fails it).
fn star_paragraphs(v: &str) -> Option<usize> {
    // re.split(r"\s?\*\*\*\s?") on this generator's text: dividers are "\n***\n".
    let parts: Vec<&str> = v.split("***").collect();
    let mut n = parts.len();
    for (i, p) in parts.iter().enumerate() {
        if p.trim().is_empty() {
            if i == 0 || i == parts.len() - 1 {
                n -= 1;
            } else {
                return None;
            }
        }
    }
    Some(n)
}

/// IFBench `count:unique_word_count`.
fn count_unique_words(text: &str) -> usize {
    let lower = text.to_lowercase();
    let set: std::collections::BTreeSet<&str> =
        lower.split_whitespace().map(strip_punct_space).collect();
    set.len()
}
