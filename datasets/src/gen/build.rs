//! Writes an answer that satisfies a set of leaves on one text (a "segment": the whole answer,
//! or one part of a chain), then measures the bound-type kwargs on it and checks the
//! regex-level constraints exactly. A draw that fails its own check is rejected.

use serde_json::{json, Value};

use super::families::{Fam, Leaf};
use super::rng::Rng;
use super::seeds::Seed;
use super::text::*;

const PLACEHOLDERS: &[&str] = &[
    "[name]",
    "[date]",
    "[address]",
    "[phone]",
    "[company]",
    "[city]",
];
const HIGHLIGHTS: &[&str] = &[
    "start early",
    "stay calm",
    "keep it simple",
    "check twice",
    "ask for help",
    "write it down",
];
const ITEMS: &[&str] = &[
    "Set a clear goal",
    "Ask for feedback",
    "Keep a short checklist",
    "Review the result",
    "Share the plan",
    "Take a short break",
    "Write down the next step",
    "Check the basics",
];
const FREQ_TEMPLATES: &[&str] = &[
    "The idea of {k} helps here.",
    "A touch of {k} goes a long way.",
    "Think of {k} as a guide.",
    "Keep {k} in mind.",
];

/// One paragraph being assembled.
#[derive(Default, Clone)]
struct Para {
    pre: Vec<String>,
    sentences: Vec<String>,
    post: Vec<String>,
}

impl Para {
    fn render(&self) -> String {
        let mut lines: Vec<String> = self.pre.clone();
        if !self.sentences.is_empty() {
            lines.push(self.sentences.join(" "));
        }
        lines.extend(self.post.iter().cloned());
        lines.join("\n")
    }
}

fn has(leaves: &[Leaf], f: Fam) -> Option<&Leaf> {
    leaves.iter().find(|l| l.fam == f)
}

fn title_case_words(s: &str) -> String {
    s.split_whitespace()
        .map(capitalise_first)
        .collect::<Vec<_>>()
        .join(" ")
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

/// The body of one response: paragraphs of sentences with all constraint material placed.
/// `short` (the short profile): one paragraph of two topic sentences (three when a keyword must
/// sit in the 2nd sentence) before the material.
fn compose(leaves: &[Leaf], seed: &Seed, rng: &mut Rng, alt: bool, short: bool) -> Vec<Para> {
    let bank = if short {
        short_bank(seed.kind, seed.topic, rng)
    } else {
        let mut bank = sentence_bank(seed.kind, seed.topic);
        rng.shuffle(&mut bank);
        if alt {
            let half = bank.len() / 2;
            bank.rotate_left(half);
        }
        bank
    };
    let mut next = 0usize;
    let mut draw = |n: usize| -> Vec<String> {
        (0..n)
            .map(|_| {
                let s = bank[next % bank.len()].clone();
                next += 1;
                s
            })
            .collect()
    };
    let n_paras = if short {
        1
    } else if let Some(l) = has(leaves, Fam::NumParagraphs) {
        l.n("num_paragraphs")
    } else if let Some(l) = has(leaves, Fam::NthPara) {
        l.n("num_paragraphs")
    } else if let Some(l) = has(leaves, Fam::Sections) {
        l.n("num_sections")
    } else if has(leaves, Fam::NoBulletsBullets).is_some() {
        // IFBench's check stops at the first blank line before the bullets: one paragraph.
        1
    } else {
        rng.range(1, 3)
    }
    .max(1);
    let sk = has(leaves, Fam::SentenceKeyword);
    let mut paras: Vec<Para> = (0..n_paras)
        .map(|i| {
            let mut k = if short { 2 } else { rng.range(2, 4) };
            if i == 0 {
                if let Some(l) = sk {
                    k = k.max(l.n("N") + 1);
                }
            }
            Para {
                sentences: draw(k),
                ..Para::default()
            }
        })
        .collect();
    // A summary restates the given text (a short one: its first sentence, after the sentence
    // that names the topic).
    if seed.kind == super::seeds::Kind::Summarise && short {
        if let (Some(s), Some(second)) = (
            passage_sentences(&seed.request).into_iter().next(),
            paras[0].sentences.get_mut(1),
        ) {
            *second = s;
        }
    } else if seed.kind == super::seeds::Kind::Summarise {
        let mut from_text = passage_sentences(&seed.request);
        from_text.truncate(2);
        for (i, s) in from_text.into_iter().enumerate() {
            paras[0].sentences.insert(i, s);
        }
    }
    // Keyword in every sentence of the first paragraph.
    if let Some(l) = sk {
        let w = l.s("word");
        for s in paras[0].sentences.iter_mut() {
            let body = s.trim_end_matches('.');
            *s = format!("{body} with a {w} mind.");
        }
    }
    if let Some(l) = has(leaves, Fam::NthPara) {
        let k = l.n("nth_paragraph").clamp(1, n_paras) - 1;
        let w = capitalise_first(l.s("first_word"));
        paras[k]
            .sentences
            .insert(0, format!("{w} steps make {} easier.", seed.topic));
    }
    if let Some(l) = has(leaves, Fam::Sections) {
        let sp = l.s("section_spliter");
        for (i, p) in paras.iter_mut().enumerate() {
            p.pre.push(format!("{sp} {}", i + 1));
        }
    }
    if has(leaves, Fam::OutputTemplate).is_some() {
        let first = paras[0].sentences.first().cloned().unwrap_or_default();
        if let Some(s) = paras[0].sentences.first_mut() {
            *s = format!("My Answer: {first}");
        }
    }
    if has(leaves, Fam::Thesis).is_some() {
        paras[0].pre.insert(
            0,
            format!(
                "<i>{} deserves careful thought.</i>",
                capitalise_first(seed.topic)
            ),
        );
    }
    if has(leaves, Fam::Title).is_some() {
        paras[0].pre.insert(
            0,
            format!(
                "<<{}>>",
                title_case_words(&format!("notes on {}", seed.topic))
            ),
        );
    }
    if let Some(l) = has(leaves, Fam::RepeatPrompt) {
        paras[0].pre.insert(0, l.s("prompt_to_repeat").to_string());
    }
    // Material sentences go at the end of the last paragraph.
    let last = n_paras - 1;
    let mut add = |s: String| paras[last].sentences.push(s);
    if let Some(l) = has(leaves, Fam::Existence) {
        let words = l.list("keywords");
        add(format!("This also touches on {}.", words.join(" and ")));
    }
    if let Some(l) = has(leaves, Fam::Frequency) {
        let n = l.n("frequency");
        let times = if l.s("relation") == "less than" {
            rng.range(1, n.saturating_sub(1).max(1))
        } else {
            n + rng.range(0, 1)
        };
        for i in 0..times {
            add(FREQ_TEMPLATES[i % FREQ_TEMPLATES.len()].replace("{k}", l.s("keyword")));
        }
    }
    if let Some(l) = has(leaves, Fam::KeywordsMultiple) {
        for (i, c) in [1usize, 2, 3, 5, 7].into_iter().enumerate() {
            let k = l.s(&format!("keyword{}", i + 1));
            let mut s = format!("Remember {k}");
            for _ in 1..c {
                s.push_str(&format!(" and {k}"));
            }
            s.push('.');
            add(s);
        }
    }
    if let Some(l) = has(leaves, Fam::Placeholders) {
        let ph = rng.sample(PLACEHOLDERS, l.n("num_placeholders").max(1));
        add(format!("Fill in {} before use.", ph.join(" and ")));
    }
    if let Some(l) = has(leaves, Fam::Highlights) {
        let hs: Vec<String> = rng
            .sample(HIGHLIGHTS, l.n("num_highlights").max(1))
            .into_iter()
            .map(|h| format!("*{h}*"))
            .collect();
        add(format!("Keep in mind {}.", hs.join(" and ")));
    }
    if let Some(l) = has(leaves, Fam::Numbers) {
        let mut nums: Vec<usize> = Vec::new();
        while nums.len() < l.n("N") {
            let v = rng.range(10, 99);
            if !nums.contains(&v) {
                nums.push(v);
            }
        }
        let nums: Vec<String> = nums.iter().map(|n| n.to_string()).collect();
        add(format!("Useful figures here are {}.", nums.join(" and ")));
    }
    if has(leaves, Fam::Conjunctions).is_some() {
        add(
            "We can start now or later but the aim stays firm so we act and yet we stay calm."
                .into(),
        );
    }
    if has(leaves, Fam::Pronouns).is_some() {
        add("We hope you find it useful and they will too.".into());
    }
    if let Some(l) = has(leaves, Fam::CapitalFreq) {
        let _ = l;
        add("This is KEY and it is URGENT.".into());
    }
    if has(leaves, Fam::Parentheses).is_some() {
        add("Think in layers (plan [budget {time (people [tools])}]).".into());
    }
    if has(leaves, Fam::NestedQuotes).is_some() {
        add("As one coach put it \"my mentor told me 'always say \"start small\" to yourself' every day\" and it stuck.".into());
    }
    if has(leaves, Fam::QuoteUnquote).is_some() {
        add("The phrase \"one step at a time\" means steady progress.".into());
    }
    if has(leaves, Fam::Punctuation).is_some() {
        add("Ready?! Are you sure? Yes: start today; keep going, and finish well!".into());
    }
    if has(leaves, Fam::Constrained).is_some() {
        add("My answer is yes.".into());
    }
    if has(leaves, Fam::OutputTemplate).is_some() {
        let (a, b) = (draw(1), draw(1));
        add(format!("My Conclusion: {}", a[0]));
        add(format!("Future Outlook: {}", b[0]));
    }
    if let Some(l) = has(leaves, Fam::WordsPosition) {
        let k = l.s("keyword");
        let p0 = &mut paras[0].sentences;
        p0.insert(0, format!("Stay {k} about {}.", seed.topic));
        paras[last].sentences.push(format!("Keep it {k}."));
    }
    // Line blocks after the last paragraph's sentences.
    let mut post = Vec::new();
    if let Some(l) = has(leaves, Fam::ListSep) {
        let sep = l.s("sep");
        let k = rng.range(2, 4);
        for it in rng.sample(ITEMS, k) {
            post.push(format!("{sep} {it}"));
        }
    }
    if has(leaves, Fam::SubBullets).is_some() {
        for it in rng.sample(ITEMS, 2) {
            post.push(format!("* {it}"));
            post.push("  - Do it this week".to_string());
        }
    }
    let n_bullets = has(leaves, Fam::Bullets).map(|l| l.n("num_bullets"));
    let nbb = has(leaves, Fam::NoBulletsBullets).is_some();
    if n_bullets.is_some() && !nbb {
        for it in rng.sample(ITEMS, n_bullets.unwrap_or(0)) {
            post.push(format!("* {it}"));
        }
    }
    if let Some(l) = has(leaves, Fam::Postscript) {
        post.push(format!(
            "{} Feel free to reach out at any time.",
            l.s("postscript_marker")
        ));
    }
    if let Some(l) = has(leaves, Fam::EndChecker) {
        post.push(l.s("end_phrase").to_string());
    }
    if nbb {
        let n = n_bullets.unwrap_or_else(|| rng.range(2, 3));
        for it in rng.sample(ITEMS, n) {
            post.push(format!("* {it}"));
        }
    }
    paras[last].post = post;
    paras
}

fn join_paras(paras: &[Para], stars: bool) -> String {
    let sep = if stars { "\n***\n" } else { "\n\n" };
    paras.iter().map(Para::render).collect::<Vec<_>>().join(sep)
}

/// Builds the text of one segment and fills the measured kwargs of its leaves. Returns `None`
/// when the construction fails its own checks (the caller draws again).
pub fn build_segment(leaves: &mut [Leaf], seed: &Seed, rng: &mut Rng) -> Option<String> {
    build(leaves, seed, rng, false)
}

/// [`build_segment`] for the short profile: one paragraph of two topic sentences plus the
/// material each leaf needs, then the same measuring and exact self-checks.
pub fn build_short(leaves: &mut [Leaf], seed: &Seed, rng: &mut Rng) -> Option<String> {
    build(leaves, seed, rng, true)
}

fn build(leaves: &mut [Leaf], seed: &Seed, rng: &mut Rng, short: bool) -> Option<String> {
    let stars = has(leaves, Fam::NumParagraphs).is_some();
    let mut text = if has(leaves, Fam::TwoResponses).is_some() {
        // Material only in the first response; endings after the second.
        let (firsts, lasts): (Vec<Leaf>, Vec<Leaf>) = leaves
            .iter()
            .cloned()
            .partition(|l| !matches!(l.fam, Fam::EndChecker | Fam::Postscript));
        let a = join_paras(&compose(&firsts, seed, rng, false, short), stars);
        let b = join_paras(&compose(&lasts, seed, rng, true, short), stars);
        format!("{a}\n******\n{b}")
    } else {
        join_paras(&compose(leaves, seed, rng, false, short), stars)
    };
    if has(leaves, Fam::Json).is_some() {
        let flat = text
            .split('\n')
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let key = if has(leaves, Fam::Capital).is_some() {
            "ANSWER"
        } else {
            "answer"
        };
        let v = serde_json::to_string(&flat).ok()?;
        text = format!("{{\"{key}\": {v}}}");
    }
    if has(leaves, Fam::Lowercase).is_some() {
        text = text.to_lowercase();
    }
    if has(leaves, Fam::Capital).is_some() {
        text = text.to_uppercase();
    }
    if has(leaves, Fam::TitleCase).is_some() {
        text = to_title_case(&text);
    }
    if has(leaves, Fam::Quotation).is_some() {
        text = format!("\"{text}\"");
    }
    measure(leaves, &text, rng);
    if leaves.iter().all(|l| self_check(l, &text)) {
        Some(text)
    } else {
        None
    }
}

fn round_down(v: usize, step: usize) -> usize {
    (v / step) * step
}
fn round_up(v: usize, step: usize) -> usize {
    v.div_ceil(step) * step
}

/// Capital-word count as NLTK's word tokenizer would see it on this text: tokens split at
/// whitespace and at punctuation other than internal periods.
pub fn count_capital_words(text: &str) -> usize {
    text.split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| !t.is_empty() && py_is_upper(t))
        .count()
}

fn strip_punct_space(w: &str) -> &str {
    w.trim_matches(|c: char| c.is_ascii_punctuation() || c == ' ')
}

/// IFBench `count:unique_word_count`.
pub fn count_unique_words(text: &str) -> usize {
    let lower = text.to_lowercase();
    let set: std::collections::BTreeSet<&str> =
        lower.split_whitespace().map(strip_punct_space).collect();
    set.len()
}

// The verifier's own list, so a constructed answer counts pronouns as the check does.
use raif_verify::ifbench::count::PRONOUNS;

/// IFBench `count:pronouns`.
pub fn count_pronouns(text: &str) -> usize {
    let v = text.replace('/', " ").to_lowercase();
    let v: String = v.chars().filter(|c| !c.is_ascii_punctuation()).collect();
    v.split_whitespace()
        .filter(|w| PRONOUNS.contains(w))
        .count()
}

/// IFBench `count:conjunctions`: distinct raw words whose stripped lowercase form is a
/// coordinating conjunction.
pub fn count_conjunctions(text: &str) -> usize {
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

fn measure(leaves: &mut [Leaf], text: &str, rng: &mut Rng) {
    for l in leaves.iter_mut() {
        let kw = &mut l.kw;
        match l.fam {
            Fam::NumWords => {
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
            Fam::WordCountRange => {
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
            Fam::NumSentences => {
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
            Fam::LetterFreq => {
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
            Fam::CapitalFreq => {
                let c = count_capital_words(text);
                if c >= 3 && rng.chance(1, 2) {
                    kw.insert("capital_relation".into(), json!("at least"));
                    kw.insert("capital_frequency".into(), json!(rng.range(1, c - 1)));
                } else {
                    kw.insert("capital_relation".into(), json!("less than"));
                    kw.insert("capital_frequency".into(), json!(c + rng.range(2, 6)));
                }
            }
            Fam::Conjunctions => {
                let c = count_conjunctions(text);
                kw.insert("small_n".into(), json!(rng.range(2.min(c), c.min(5))));
            }
            Fam::Pronouns => {
                let c = count_pronouns(text);
                kw.insert("N".into(), json!(rng.range(1.min(c), c.min(12))));
            }
            Fam::UniqueWords => {
                let c = count_unique_words(text);
                kw.insert("N".into(), json!(round_down(rng.range(c / 2, c), 5).max(1)));
            }
            _ => {}
        }
    }
}

fn nested_quotes_ok(v: &str) -> bool {
    let mut levels: Vec<char> = Vec::new();
    let (mut reached, mut current) = (0i64, 0i64);
    for c in v.chars() {
        if levels.last() == Some(&c) {
            levels.pop();
            current -= 1;
            if reached - current >= 3 {
                return true;
            }
        } else if c == '"' || c == '\'' {
            levels.push(c);
            current += 1;
            reached = reached.max(current);
        }
    }
    false
}

fn parentheses_ok(v: &str) -> bool {
    let mut levels: Vec<char> = Vec::new();
    let mut max_depth = 0;
    for c in v.chars() {
        if "([{".contains(c) {
            levels.push(c);
            max_depth = max_depth.max(levels.len());
        } else if ")]}".contains(c) {
            let ok = matches!(
                (levels.last(), c),
                (Some('('), ')') | (Some('['), ']') | (Some('{'), '}')
            );
            if ok {
                levels.pop();
                if max_depth >= 5 && levels.len() < max_depth {
                    return true;
                }
            } else {
                levels.clear();
                max_depth = 0;
            }
        }
    }
    false
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

/// Exact checks for the regex-level constraints; `true` for the ones this crate cannot check
/// exactly (those are built with margins and checked by the verifiers).
fn self_check(l: &Leaf, v: &str) -> bool {
    use Fam::*;
    match l.fam {
        Existence => l.list("keywords").iter().all(|k| count_ci(v, k) > 0),
        Frequency => {
            let c = count_ci(v, l.s("keyword"));
            if l.s("relation") == "less than" {
                c < l.n("frequency")
            } else {
                c >= l.n("frequency")
            }
        }
        Forbidden => l
            .list("forbidden_words")
            .iter()
            .all(|w| !contains_word_ci(v, w)),
        LetterFreq => {
            let c = v.to_lowercase().matches(l.s("letter")).count();
            if l.s("let_relation") == "less than" {
                c < l.n("let_frequency")
            } else {
                c >= l.n("let_frequency")
            }
        }
        NumWords => {
            let c = count_words(v);
            if l.s("relation") == "less than" {
                c < l.n("num_words")
            } else {
                c >= l.n("num_words")
            }
        }
        WordCountRange => (l.n("min_words")..=l.n("max_words")).contains(&count_words(v)),
        NumParagraphs => star_paragraphs(v) == Some(l.n("num_paragraphs")),
        NthPara => {
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
        Placeholders => count_placeholders(v) >= l.n("num_placeholders"),
        Postscript => {
            let m = l.s("postscript_marker").to_lowercase();
            v.to_lowercase().contains(&m)
        }
        Bullets => count_bullets(v) == l.n("num_bullets"),
        Constrained => v.contains("My answer is yes."),
        Highlights => count_highlights(v) >= l.n("num_highlights"),
        Sections => {
            let s = l.s("section_spliter");
            (1..=l.n("num_sections")).all(|i| v.contains(&format!("{s} {i}")))
        }
        Json => {
            let t = v.trim();
            serde_json::from_str::<Value>(t).is_ok()
        }
        Title => v.contains("<<") && v.contains(">>"),
        TwoResponses => {
            let parts: Vec<&str> = v.split("******").filter(|p| !p.trim().is_empty()).collect();
            parts.len() == 2 && parts[0].trim() != parts[1].trim()
        }
        RepeatPrompt => v
            .trim()
            .to_lowercase()
            .starts_with(&l.s("prompt_to_repeat").trim().to_lowercase()),
        EndChecker => v
            .trim()
            .trim_matches('"')
            .to_lowercase()
            .ends_with(&l.s("end_phrase").trim().to_lowercase()),
        CapitalFreq => {
            let c = count_capital_words(v);
            if l.s("capital_relation") == "less than" {
                c + 1 < l.n("capital_frequency")
            } else {
                c >= l.n("capital_frequency")
            }
        }
        Capital => py_is_upper(v),
        Lowercase => py_is_lower(v),
        NoComma => !v.contains(','),
        Quotation => {
            let t = v.trim();
            t.len() > 1 && t.starts_with('"') && t.ends_with('"')
        }
        KeywordsMultiple => [1usize, 2, 3, 5, 7]
            .iter()
            .enumerate()
            .all(|(i, c)| count_ci(v, l.s(&format!("keyword{}", i + 1))) == *c),
        Numbers => count_numbers(v) == l.n("N"),
        Conjunctions => count_conjunctions(v) >= l.n("small_n"),
        Pronouns => count_pronouns(v) >= l.n("N"),
        UniqueWords => count_unique_words(v) >= l.n("N"),
        OutputTemplate => ["My Answer:", "My Conclusion:", "Future Outlook:"]
            .iter()
            .all(|m| v.contains(m)),
        NoBulletsBullets => {
            let lines: Vec<&str> = v.split('\n').collect();
            let first = lines.iter().position(|x| x.trim().starts_with('*'));
            match first {
                Some(i) => {
                    lines[i..].iter().all(|x| x.trim().starts_with('*')) && lines.len() - i >= 2
                }
                None => false,
            }
        }
        SubBullets => v.split('*').skip(1).all(|c| c.contains('-')),
        ListSep => v.matches(l.s("sep")).count() >= 2,
        Thesis => v.contains("<i>") && v.contains("</i>"),
        QuoteUnquote => {
            let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            let tail = compact.trim_end_matches(|c: char| {
                c.is_ascii_digit() || (c.is_ascii_punctuation() && c != '"')
            });
            !compact.contains("\"\"") && !tail.ends_with('"')
        }
        Parentheses => parentheses_ok(v),
        NestedQuotes => nested_quotes_ok(v),
        Punctuation => {
            (v.contains("?!") || v.contains("!?"))
                && [".", ",", "!", "?", ";", ":"].iter().all(|p| v.contains(p))
        }
        NumSentences | TitleCase | WordsPosition | SentenceKeyword => true,
    }
}
