//! The constraint families the generator draws from (IFEval and IFBench instruction ids):
//! their conflicts, how their kwargs are drawn, how they are phrased in a prompt and how the
//! expert explains them.

use serde_json::{json, Map, Value};

use super::rng::Rng;
use super::text::{FORBIDDEN_POOL, KEYWORD_POOL, POSITION_WORDS};

/// One family = one official instruction id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fam {
    // IFEval
    Existence,
    Frequency,
    Forbidden,
    LetterFreq,
    NumSentences,
    NumParagraphs,
    NumWords,
    NthPara,
    Placeholders,
    Postscript,
    Bullets,
    Constrained,
    Highlights,
    Sections,
    Json,
    Title,
    TwoResponses,
    RepeatPrompt,
    EndChecker,
    CapitalFreq,
    Capital,
    Lowercase,
    NoComma,
    Quotation,
    // IFBench
    KeywordsMultiple,
    Numbers,
    Conjunctions,
    Pronouns,
    UniqueWords,
    TitleCase,
    OutputTemplate,
    NoBulletsBullets,
    SubBullets,
    ListSep,
    Thesis,
    QuoteUnquote,
    Parentheses,
    NestedQuotes,
    WordsPosition,
    SentenceKeyword,
    WordCountRange,
    Punctuation,
}

use Fam::*;

pub const ALL: [Fam; 42] = [
    Existence,
    Frequency,
    Forbidden,
    LetterFreq,
    NumSentences,
    NumParagraphs,
    NumWords,
    NthPara,
    Placeholders,
    Postscript,
    Bullets,
    Constrained,
    Highlights,
    Sections,
    Json,
    Title,
    TwoResponses,
    RepeatPrompt,
    EndChecker,
    CapitalFreq,
    Capital,
    Lowercase,
    NoComma,
    Quotation,
    KeywordsMultiple,
    Numbers,
    Conjunctions,
    Pronouns,
    UniqueWords,
    TitleCase,
    OutputTemplate,
    NoBulletsBullets,
    SubBullets,
    ListSep,
    Thesis,
    QuoteUnquote,
    Parentheses,
    NestedQuotes,
    WordsPosition,
    SentenceKeyword,
    WordCountRange,
    Punctuation,
];

/// The families of the short profile: surface constraints a small model can learn whose
/// material keeps a two-sentence answer short (see the crate README for what is left out and
/// why). Every pair the conflict table allows can share one short answer.
pub const SHORT: [Fam; 28] = [
    // keywords
    Existence,
    Frequency,
    Forbidden,
    SentenceKeyword,
    WordsPosition,
    // counts measured on the short answer
    LetterFreq,
    NumSentences,
    NumWords,
    WordCountRange,
    UniqueWords,
    CapitalFreq,
    Pronouns,
    Numbers,
    // small pieces of content
    Placeholders,
    Postscript,
    Bullets,
    Constrained,
    Highlights,
    Title,
    EndChecker,
    Thesis,
    QuoteUnquote,
    // whole-text transforms and wrappers
    Json,
    Quotation,
    Capital,
    Lowercase,
    TitleCase,
    NoComma,
];

impl Fam {
    pub fn id(self) -> &'static str {
        match self {
            Existence => "keywords:existence",
            Frequency => "keywords:frequency",
            Forbidden => "keywords:forbidden_words",
            LetterFreq => "keywords:letter_frequency",
            NumSentences => "length_constraints:number_sentences",
            NumParagraphs => "length_constraints:number_paragraphs",
            NumWords => "length_constraints:number_words",
            NthPara => "length_constraints:nth_paragraph_first_word",
            Placeholders => "detectable_content:number_placeholders",
            Postscript => "detectable_content:postscript",
            Bullets => "detectable_format:number_bullet_lists",
            Constrained => "detectable_format:constrained_response",
            Highlights => "detectable_format:number_highlighted_sections",
            Sections => "detectable_format:multiple_sections",
            Json => "detectable_format:json_format",
            Title => "detectable_format:title",
            TwoResponses => "combination:two_responses",
            RepeatPrompt => "combination:repeat_prompt",
            EndChecker => "startend:end_checker",
            CapitalFreq => "change_case:capital_word_frequency",
            Capital => "change_case:english_capital",
            Lowercase => "change_case:english_lowercase",
            NoComma => "punctuation:no_comma",
            Quotation => "startend:quotation",
            KeywordsMultiple => "count:keywords_multiple",
            Numbers => "count:numbers",
            Conjunctions => "count:conjunctions",
            Pronouns => "count:pronouns",
            UniqueWords => "count:unique_word_count",
            TitleCase => "format:title_case",
            OutputTemplate => "format:output_template",
            NoBulletsBullets => "format:no_bullets_bullets",
            SubBullets => "format:sub-bullets",
            ListSep => "format:list",
            Thesis => "format:thesis",
            QuoteUnquote => "format:quote_unquote",
            Parentheses => "format:parentheses",
            NestedQuotes => "format:quotes",
            WordsPosition => "words:words_position",
            SentenceKeyword => "sentence:keyword",
            WordCountRange => "count:word_count_range",
            Punctuation => "count:punctuation",
        }
    }

    /// Families whose kwargs are measured on the constructed answer (bounds), not drawn first.
    pub fn measured(self) -> bool {
        matches!(
            self,
            NumSentences
                | NumWords
                | LetterFreq
                | CapitalFreq
                | Conjunctions
                | Pronouns
                | UniqueWords
                | WordCountRange
        )
    }

    /// Case transforms and anything else that rewrites the whole text.
    fn is_case(self) -> bool {
        matches!(self, Lowercase | Capital | TitleCase)
    }

    /// Families that fix what the text starts with.
    fn at_start(self) -> bool {
        matches!(
            self,
            RepeatPrompt | Quotation | Json | WordsPosition | Thesis
        )
    }

    /// Families that fix what the text ends with.
    fn at_end(self) -> bool {
        matches!(
            self,
            EndChecker | Quotation | Json | WordsPosition | NoBulletsBullets
        )
    }

    /// Families that can share a JSON answer (the text is one JSON string value).
    fn json_ok(self) -> bool {
        matches!(
            self,
            Existence
                | Frequency
                | Forbidden
                | LetterFreq
                | Lowercase
                | Capital
                | NoComma
                | NumWords
                | Placeholders
                | Highlights
                | Title
                | Postscript
                | Pronouns
                | Conjunctions
                | UniqueWords
                | KeywordsMultiple
                | Numbers
                | CapitalFreq
                | WordCountRange
                | NumSentences
        )
    }

    /// Families that can share a two-response answer.
    fn two_ok(self) -> bool {
        matches!(
            self,
            Existence
                | Forbidden
                | Lowercase
                | Capital
                | NoComma
                | Title
                | Highlights
                | Placeholders
                | Postscript
                | EndChecker
                | Pronouns
                | Conjunctions
                | UniqueWords
                | NumWords
                | LetterFreq
                | CapitalFreq
                | NumSentences
                | WordCountRange
        )
    }

    /// Families that may govern the whole answer above a chain (checked on the whole text, met
    /// by the first part or by every part).
    pub fn chain_safe(self) -> bool {
        matches!(
            self,
            Existence
                | Forbidden
                | NoComma
                | Lowercase
                | Capital
                | Placeholders
                | Highlights
                | Title
                | Postscript
        )
    }

    /// Families applied to every part of a chain when they govern the whole answer.
    pub fn applies_to_every_part(self) -> bool {
        matches!(self, Forbidden | NoComma | Lowercase | Capital)
    }

    /// Families that make sense as selection-branch outcomes and chain steps (not whole-answer
    /// shapes).
    pub fn step_ok(self) -> bool {
        !matches!(self, TwoResponses | Json | RepeatPrompt | NoBulletsBullets)
    }
}

/// Whether two families cannot both hold on one text.
pub fn conflicts(a: Fam, b: Fam) -> bool {
    if a == b {
        return true;
    }
    let one = |x: Fam, y: Fam| -> bool {
        if x == Json && !y.json_ok() {
            return true;
        }
        if x == TwoResponses && !y.two_ok() {
            return true;
        }
        if x.is_case() && y.is_case() {
            return true;
        }
        if x.at_start() && y.at_start() || x.at_end() && y.at_end() {
            return true;
        }
        matches!(
            (x, y),
            (
                Lowercase | Capital | TitleCase,
                Constrained | Sections | OutputTemplate | Thesis
            ) | (Capital | TitleCase, WordsPosition)
                | (TitleCase, ListSep | Json)
                | (NumParagraphs, NthPara | NoBulletsBullets | SubBullets)
                | (Sections, NthPara | Numbers)
                | (NthPara, OutputTemplate | SentenceKeyword)
                | (SubBullets, Bullets | Highlights | NoBulletsBullets)
                | (
                    NoBulletsBullets,
                    Postscript | Constrained | ListSep | NthPara | Sections
                )
                | (NoComma, Punctuation)
                | (QuoteUnquote, NestedQuotes | Quotation)
                | (NestedQuotes, Quotation | RepeatPrompt)
                | (
                    WordsPosition,
                    Title
                        | Sections
                        | OutputTemplate
                        | Postscript
                        | Constrained
                        | Bullets
                        | ListSep
                        | SubBullets
                        | Thesis
                )
                | (
                    SentenceKeyword,
                    RepeatPrompt | Thesis | Bullets | ListSep | SubBullets
                )
                | (KeywordsMultiple, RepeatPrompt)
                | (Frequency, RepeatPrompt)
                | (Numbers, RepeatPrompt)
                | (Lowercase, ListSep)
                | (NthPara, Title | Thesis | RepeatPrompt | WordsPosition)
                | (SentenceKeyword, WordsPosition)
        )
    };
    one(a, b) || one(b, a)
}

/// A drawn leaf: family and official kwargs (measured families get theirs after the answer
/// is built).
#[derive(Clone, Debug)]
pub struct Leaf {
    pub fam: Fam,
    pub kw: Map<String, Value>,
}

impl Leaf {
    pub fn s(&self, k: &str) -> &str {
        self.kw.get(k).and_then(Value::as_str).unwrap_or("")
    }
    pub fn n(&self, k: &str) -> usize {
        self.kw
            .get(k)
            .and_then(Value::as_u64)
            .map(|v| v as usize)
            .unwrap_or(0)
    }
    pub fn list(&self, k: &str) -> Vec<String> {
        self.kw
            .get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

const EXISTENCE_POOL: &[&str] = &[
    "schedule", "budget", "quality", "feedback", "priority", "detail", "routine", "balance",
    "purpose", "effort", "progress", "support", "choice", "timing", "comfort", "safety",
];
const END_PHRASES: &[&str] = &[
    "Is there anything else I can help with?",
    "Let me know if you have additional questions.",
    "That is all for now.",
    "Thanks for reading.",
    "Happy to help further.",
];
const SPLITTERS: &[&str] = &["Section", "SECTION", "Part", "PART"];

/// Draws the kwargs of a leaf that are fixed before the answer is written. `request` is the
/// seed request (for repeat_prompt); `topic_words` are words of the seed (for keywords).
pub fn draw(fam: Fam, rng: &mut Rng, request: &str, used_words: &mut Vec<String>) -> Leaf {
    draw_sized(fam, rng, request, used_words, false)
}

/// [`draw`] with small counts when `short` (the short profile: at most 2 keywords, forbidden
/// words, placeholders, highlights and numbers, 2–3 bullets, a keyword frequency of at most
/// 2 (at least) or 3 (less than), a keyword in the 1st or 2nd sentence). With `short` false
/// this is exactly [`draw`] (the same draws from `rng`).
pub fn draw_sized(
    fam: Fam,
    rng: &mut Rng,
    request: &str,
    used_words: &mut Vec<String>,
    short: bool,
) -> Leaf {
    // (standard, short) upper bounds of the drawn counts.
    let hi = |standard: usize, small: usize| if short { small } else { standard };
    let mut kw = Map::new();
    let fresh = |rng: &mut Rng, pool: &[&str], used: &mut Vec<String>| -> String {
        let free: Vec<&str> = pool
            .iter()
            .copied()
            .filter(|w| !used.iter().any(|u| u == w))
            .collect();
        let w = if free.is_empty() {
            *rng.pick(pool)
        } else {
            *rng.pick(&free)
        };
        used.push(w.to_string());
        w.to_string()
    };
    match fam {
        Existence => {
            let k = rng.range(1, hi(3, 2));
            let words: Vec<String> = (0..k)
                .map(|_| fresh(rng, EXISTENCE_POOL, used_words))
                .collect();
            kw.insert("keywords".into(), json!(words));
        }
        Frequency => {
            let w = fresh(rng, KEYWORD_POOL, used_words);
            let less = rng.chance(1, 3);
            let n = if less {
                rng.range(2, hi(5, 3))
            } else {
                rng.range(1, hi(4, 2))
            };
            kw.insert("keyword".into(), json!(w));
            kw.insert("frequency".into(), json!(n));
            kw.insert(
                "relation".into(),
                json!(if less { "less than" } else { "at least" }),
            );
        }
        Forbidden => {
            let k = rng.range(1, hi(4, 2));
            let words = rng.sample(FORBIDDEN_POOL, k);
            kw.insert("forbidden_words".into(), json!(words));
        }
        NumParagraphs => {
            kw.insert("num_paragraphs".into(), json!(rng.range(2, 5)));
        }
        NthPara => {
            let n = rng.range(2, 5);
            let k = rng.range(1, n);
            let w = fresh(rng, POSITION_WORDS, used_words);
            kw.insert("num_paragraphs".into(), json!(n));
            kw.insert("nth_paragraph".into(), json!(k));
            kw.insert("first_word".into(), json!(w));
        }
        Placeholders => {
            kw.insert("num_placeholders".into(), json!(rng.range(1, hi(4, 2))));
        }
        Postscript => {
            kw.insert(
                "postscript_marker".into(),
                json!(*rng.pick(&["P.S.", "P.P.S"])),
            );
        }
        Bullets => {
            kw.insert("num_bullets".into(), json!(rng.range(2, hi(5, 3))));
        }
        Highlights => {
            kw.insert("num_highlights".into(), json!(rng.range(1, hi(3, 2))));
        }
        Sections => {
            kw.insert("section_spliter".into(), json!(*rng.pick(SPLITTERS)));
            kw.insert("num_sections".into(), json!(rng.range(2, 4)));
        }
        RepeatPrompt => {
            kw.insert("prompt_to_repeat".into(), json!(request));
        }
        EndChecker => {
            kw.insert("end_phrase".into(), json!(*rng.pick(END_PHRASES)));
        }
        KeywordsMultiple => {
            for i in 1..=5 {
                let w = fresh(rng, KEYWORD_POOL, used_words);
                kw.insert(format!("keyword{i}"), json!(w));
            }
        }
        Numbers => {
            kw.insert("N".into(), json!(rng.range(1, hi(4, 2))));
        }
        ListSep => {
            kw.insert("sep".into(), json!(*rng.pick(&["SEPARATOR", "!?!?"])));
        }
        WordsPosition => {
            let w = fresh(rng, POSITION_WORDS, used_words);
            kw.insert("keyword".into(), json!(w));
        }
        SentenceKeyword => {
            let w = fresh(rng, POSITION_WORDS, used_words);
            kw.insert("word".into(), json!(w));
            kw.insert("N".into(), json!(rng.range(1, hi(3, 2))));
        }
        _ => {}
    }
    Leaf { fam, kw }
}

fn list_words(words: &[String]) -> String {
    let q: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        _ => format!("{} and {}", q[..q.len() - 1].join(", "), q[q.len() - 1]),
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The instruction as the user writes it, from one of several phrasings.
pub fn phrase(l: &Leaf, rng: &mut Rng) -> String {
    let p = |rng: &mut Rng, opts: Vec<String>| -> String { opts[rng.below(opts.len())].clone() };
    let rel = |r: &str| {
        if r == "less than" {
            "fewer than"
        } else {
            "at least"
        }
    };
    match l.fam {
        Existence => {
            let w = list_words(&l.list("keywords"));
            p(rng, vec![
                format!("Be sure to mention {w}."),
                format!("Your reply has to include the word{} {w}.", if l.list("keywords").len() > 1 { "s" } else { "" }),
                format!("Work {w} into the text somewhere."),
            ])
        }
        Frequency => {
            let (w, n, r) = (l.s("keyword"), l.n("frequency"), rel(l.s("relation")));
            p(rng, vec![
                format!("Use the word \"{w}\" {r} {n} time{}.", if n == 1 { "" } else { "s" }),
                format!("The word \"{w}\" should show up {r} {n} time{} in your reply.", if n == 1 { "" } else { "s" }),
                format!("Mention \"{w}\" {r} {n} time{}.", if n == 1 { "" } else { "s" }),
            ])
        }
        Forbidden => {
            let w = list_words(&l.list("forbidden_words"));
            p(rng, vec![
                format!("Avoid the words {w} entirely."),
                format!("Do not use any of these words: {w}."),
                format!("Keep {w} out of your answer."),
            ])
        }
        LetterFreq => {
            let (c, n, r) = (l.s("letter"), l.n("let_frequency"), rel(l.s("let_relation")));
            p(rng, vec![
                format!("The letter \"{c}\" must appear {r} {n} times."),
                format!("Make sure the letter {c} is used {r} {n} times in total."),
                format!("Count your letters: \"{c}\" should occur {r} {n} times."),
            ])
        }
        NumSentences => {
            let (n, r) = (l.n("num_sentences"), rel(l.s("relation")));
            p(rng, vec![
                format!("Write {r} {n} sentences."),
                format!("I want {r} {n} sentences from you."),
                format!("Use {r} {n} sentences overall."),
            ])
        }
        NumParagraphs => {
            let n = l.n("num_paragraphs");
            p(rng, vec![
                format!("Write exactly {n} paragraphs and put a line with *** between neighbouring paragraphs."),
                format!("Break the text into {n} paragraphs; the only thing between two paragraphs is a *** line."),
                format!("Give {n} paragraphs in total, each pair separated by ***."),
            ])
        }
        NumWords => {
            let (n, r) = (l.n("num_words"), rel(l.s("relation")));
            p(rng, vec![
                format!("Keep the length to {r} {n} words."),
                format!("The reply should have {r} {n} words."),
                format!("Use {r} {n} words."),
            ])
        }
        NthPara => {
            let (n, k, w) = (l.n("num_paragraphs"), l.n("nth_paragraph"), l.s("first_word"));
            p(rng, vec![
                format!("Write {n} paragraphs separated by blank lines, and start the {} paragraph with the word \"{w}\".", ordinal(k)),
                format!("Use exactly {n} paragraphs (separate them with two new lines); paragraph {k} must begin with \"{w}\"."),
                format!("Organise the reply as {n} paragraphs split by empty lines, the {} of which opens with the word \"{w}\".", ordinal(k)),
            ])
        }
        Placeholders => {
            let n = l.n("num_placeholders");
            p(rng, vec![
                format!("Include at least {n} placeholder{} in square brackets, like [name].", if n == 1 { "" } else { "s" }),
                format!("Leave {n} or more blanks for me to fill in, written in square brackets such as [date]."),
                format!("Add no fewer than {n} bracketed placeholder{} (for example [address]).", if n == 1 { "" } else { "s" }),
            ])
        }
        Postscript => {
            let m = l.s("postscript_marker");
            p(rng, vec![
                format!("End with a postscript that starts with {m}"),
                format!("Add a postscript at the end, beginning with {m}"),
                format!("Finish by adding a note that begins with {m}"),
            ])
        }
        Bullets => {
            let n = l.n("num_bullets");
            p(rng, vec![
                format!("Include exactly {n} bullet points written as markdown lines that start with \"* \"."),
                format!("Put exactly {n} items in a markdown list made of \"* \" lines, for instance:\n* one idea\n* another idea"),
                format!("Give precisely {n} markdown bullet points (lines starting with an asterisk)."),
            ])
        }
        Constrained => p(rng, vec![
            "Somewhere in the reply, say one of these exact sentences: \"My answer is yes.\", \"My answer is no.\", \"My answer is maybe.\"".to_string(),
            "Include your verdict as one of: My answer is yes. / My answer is no. / My answer is maybe.".to_string(),
            "State your position using exactly one of the phrases \"My answer is yes.\", \"My answer is no.\" or \"My answer is maybe.\"".to_string(),
        ]),
        Highlights => {
            let n = l.n("num_highlights");
            p(rng, vec![
                format!("Highlight at least {n} part{} with markdown, for example *an important phrase*.", if n == 1 { "" } else { "s" }),
                format!("Mark {n} or more key phrases in markdown italics like *this*."),
                format!("Emphasise {n} or more phrase{} by wrapping them in single asterisks.", if n == 1 { "" } else { "s" }),
            ])
        }
        Sections => {
            let (s, n) = (l.s("section_spliter"), l.n("num_sections"));
            p(rng, vec![
                format!("Divide the reply into {n} sections, each starting with \"{s} X\" where X is the section number."),
                format!("Organise your answer in {n} sections labelled {s} 1, {s} 2 and so on."),
                format!("Use {n} numbered sections; mark the start of each one with {s} followed by its number."),
            ])
        }
        Json => p(rng, vec![
            "Return one JSON object that holds your whole reply; a code fence around it is fine.".to_string(),
            "Wrap the whole reply in a JSON object.".to_string(),
            "Give the reply as valid JSON only.".to_string(),
        ]),
        Title => p(rng, vec![
            "Put a heading between << and >> somewhere in the reply, e.g. <<plan for monday>>.".to_string(),
            "Start with a title in double angle brackets, for example <<a fitting title>>.".to_string(),
            "Include a title enclosed in << and >>.".to_string(),
        ]),
        TwoResponses => p(rng, vec![
            "I would like two alternative versions; the line between them is ****** (six asterisks).".to_string(),
            "Write two distinct versions of the reply and separate them with ******.".to_string(),
            "Provide two alternative answers; put ****** between them and nothing else.".to_string(),
        ]),
        RepeatPrompt => p(rng, vec![
            "Open your reply by copying my request exactly (only the request, none of these conditions), then answer it.".to_string(),
            "First copy my request exactly as written, leaving out these instructions, and then respond.".to_string(),
            "Begin by restating the request verbatim (only the request itself), and only then answer it.".to_string(),
        ]),
        EndChecker => {
            let e = l.s("end_phrase");
            p(rng, vec![
                format!("Make \"{e}\" the final words of the reply, with nothing after them."),
                format!("The very last words of your reply must be: {e}"),
                format!("Sign off with exactly \"{e}\" and stop there."),
            ])
        }
        CapitalFreq => {
            let (n, r) = (l.n("capital_frequency"), rel(l.s("capital_relation")));
            p(rng, vec![
                format!("Use words written in all capital letters {r} {n} times."),
                format!("Fully capitalised words should appear {r} {n} times."),
                format!("Include {r} {n} words in ALL CAPS."),
            ])
        }
        Capital => p(rng, vec![
            "Write the whole reply in English using capital letters only.".to_string(),
            "Reply in English, and type every letter as a capital.".to_string(),
            "Use only capital letters throughout, in English.".to_string(),
        ]),
        Lowercase => p(rng, vec![
            "Write the whole reply in English using lowercase letters only; no capitals at all.".to_string(),
            "Reply in English, and type every letter in lower case.".to_string(),
            "Do not use any capital letters; keep everything lowercase and in English.".to_string(),
        ]),
        NoComma => p(rng, vec![
            "Do not use any commas.".to_string(),
            "Avoid commas completely.".to_string(),
            "Your reply must not contain a single comma.".to_string(),
        ]),
        Quotation => p(rng, vec![
            "Begin the reply with a double quote character and end it with one.".to_string(),
            "Put the whole answer inside double quotes.".to_string(),
            "Enclose everything you write in a pair of double quotation marks.".to_string(),
        ]),
        KeywordsMultiple => {
            let k: Vec<&str> = (1..=5).map(|i| l.s(&format!("keyword{i}"))).collect();
            p(rng, vec![
                format!("Use the word {} once, {} twice, {} three times, {} five times and {} seven times.", k[0], k[1], k[2], k[3], k[4]),
                format!("Word counts matter: \"{}\" exactly once, \"{}\" exactly twice, \"{}\" exactly three times, \"{}\" exactly five times, \"{}\" exactly seven times.", k[0], k[1], k[2], k[3], k[4]),
                format!("Include {} one time, {} two times, {} three times, {} five times, and {} seven times.", k[0], k[1], k[2], k[3], k[4]),
            ])
        }
        Numbers => {
            let n = l.n("N");
            p(rng, vec![
                format!("Exactly {n} figure{} written in digits should appear.", if n == 1 { "" } else { "s" }),
                format!("Your answer should contain precisely {n} number{}, no more and no fewer.", if n == 1 { "" } else { "s" }),
                format!("Mention exactly {n} numeric value{}.", if n == 1 { "" } else { "s" }),
            ])
        }
        Conjunctions => {
            let n = l.n("small_n");
            p(rng, vec![
                format!("Join ideas with {n} or more distinct linking words from the set and, but, or, nor, for, so, yet."),
                format!("Include {n} or more distinct coordinating conjunctions such as and, but, or, so, yet."),
                format!("Make use of no fewer than {n} different coordinating conjunctions."),
            ])
        }
        Pronouns => {
            let n = l.n("N");
            p(rng, vec![
                format!("Refer to people and things with pronouns, {n} or more of them."),
                format!("Use {n} or more pronouns in your answer."),
                format!("The reply should contain no fewer than {n} pronouns."),
            ])
        }
        UniqueWords => {
            let n = l.n("N");
            p(rng, vec![
                format!("Draw on a vocabulary of {n} or more different words."),
                format!("Your vocabulary should span {n} or more different words."),
                format!("Include no fewer than {n} distinct words."),
            ])
        }
        TitleCase => p(rng, vec![
            "Capitalise the first letter of each and every word you write.".to_string(),
            "Every word of the answer should start with a capital letter, title case style.".to_string(),
            "Use title case throughout the whole response.".to_string(),
        ]),
        OutputTemplate => p(rng, vec![
            "Label your reply with three headings in this order: My Answer:, My Conclusion:, Future Outlook:.".to_string(),
            "Structure the reply with the labels My Answer:, My Conclusion: and Future Outlook:.".to_string(),
            "Use these three labelled parts: My Answer:, then My Conclusion:, then Future Outlook:.".to_string(),
        ]),
        NoBulletsBullets => p(rng, vec![
            "Lead with two or more full sentences (each ending in a period) and close with two or more * list lines.".to_string(),
            "Open with two or more plain sentences ending in periods, followed only by two or more * bullet points.".to_string(),
            "First write at least two full sentences, then end with a list of at least two bullets using *.".to_string(),
        ]),
        SubBullets => p(rng, vec![
            "List with * items, and under each item add a - sub-item.".to_string(),
            "Include * bullets, each followed by at least one - sub-bullet.".to_string(),
            "Make a list with * bullet points where every bullet has a nested - sub-point.".to_string(),
        ]),
        ListSep => {
            let s = l.s("sep");
            p(rng, vec![
                format!("Write a list whose items each begin with {s}."),
                format!("List the items, starting each one with {s} instead of a bullet."),
                format!("Give a list in which every item is introduced by {s} rather than a bullet point."),
            ])
        }
        Thesis => p(rng, vec![
            "Open with a one-line claim set in HTML italics (<i> and </i>), then carry on in plain text.".to_string(),
            "Open with an italic thesis sentence marked up as HTML <i></i>, then continue normally.".to_string(),
            "State a thesis first, in HTML italics, and follow it with unitalicised text.".to_string(),
        ]),
        QuoteUnquote => p(rng, vec![
            "Quote a short phrase and say in plain words what it means right after it.".to_string(),
            "If you quote anything, explain it right after in your own words; never end on a quotation.".to_string(),
            "Include a quoted phrase and make sure each quotation is followed by an explanation outside the quotes.".to_string(),
        ]),
        Parentheses => p(rng, vec![
            "Somewhere, put brackets inside brackets five layers deep, mixing round, square and curly ones.".to_string(),
            "Somewhere include brackets nested five levels deep, mixing (), [] and {}.".to_string(),
            "Show at least five levels of nested brackets, like ( [ { ( [ ] ) } ] ).".to_string(),
        ]),
        NestedQuotes => p(rng, vec![
            "Let someone quote a person who quotes a third person, switching between double and single quote marks at each layer.".to_string(),
            "Nest quotations three levels deep, switching between double and single quotation marks.".to_string(),
            "Somewhere, quote someone quoting someone who is quoting someone, alternating \" and ' marks.".to_string(),
        ]),
        WordsPosition => {
            let w = l.s("keyword");
            p(rng, vec![
                format!("Both the 2nd word and the next-to-last word of the reply have to be \"{w}\"."),
                format!("Make \"{w}\" the second word of the response and also the second to last word."),
                format!("Place the word {w} second from the start and second from the end of the reply."),
            ])
        }
        SentenceKeyword => {
            let (w, n) = (l.s("word"), l.n("N"));
            p(rng, vec![
                format!("The {} sentence must contain the word \"{w}\".", ordinal(n)),
                format!("Include \"{w}\" in sentence number {n}."),
                format!("Put the keyword {w} in the {} sentence of the reply.", ordinal(n)),
            ])
        }
        WordCountRange => {
            let (a, b) = (l.n("min_words"), l.n("max_words"));
            p(rng, vec![
                format!("Aim for a length from {a} to {b} words, inclusive."),
                format!("Keep the word count between {a} and {b}."),
                format!("Write no fewer than {a} and no more than {b} words."),
            ])
        }
        Punctuation => p(rng, vec![
            "Show off your punctuation: a full stop, a comma, an exclamation mark, a question mark, a semicolon, a colon and an interrobang (?!) should all appear.".to_string(),
            "Make sure the reply contains a period, a comma, an exclamation mark, a question mark, a semicolon, a colon and an interrobang (?!).".to_string(),
            "Include each of these at least once: . , ! ? ; : and ?!".to_string(),
        ]),
    }
}

/// A short name for the reasoning trace.
pub fn name(f: Fam) -> &'static str {
    match f {
        Existence => "required keywords",
        Frequency => "keyword frequency",
        Forbidden => "forbidden words",
        LetterFreq => "letter frequency",
        NumSentences => "sentence count",
        NumParagraphs => "paragraph count with *** dividers",
        NumWords => "word count",
        NthPara => "paragraph count and a fixed first word",
        Placeholders => "square-bracket placeholders",
        Postscript => "postscript",
        Bullets => "exact number of bullet points",
        Constrained => "fixed verdict sentence",
        Highlights => "markdown highlights",
        Sections => "numbered sections",
        Json => "JSON output",
        Title => "title in double angular brackets",
        TwoResponses => "two responses separated by ******",
        RepeatPrompt => "repeat the request first",
        EndChecker => "fixed ending phrase",
        CapitalFreq => "all-capital words",
        Capital => "all uppercase",
        Lowercase => "all lowercase",
        NoComma => "no commas",
        Quotation => "whole reply in double quotes",
        KeywordsMultiple => "five keywords with fixed counts",
        Numbers => "exact count of numbers",
        Conjunctions => "distinct coordinating conjunctions",
        Pronouns => "pronoun count",
        UniqueWords => "unique word count",
        TitleCase => "title case",
        OutputTemplate => "three-label template",
        NoBulletsBullets => "sentences first, bullets last",
        SubBullets => "bullets with sub-bullets",
        ListSep => "custom list marker",
        Thesis => "italic HTML thesis",
        QuoteUnquote => "quotes followed by explanations",
        Parentheses => "five levels of nested brackets",
        NestedQuotes => "three levels of nested quotes",
        WordsPosition => "word in second and second-to-last position",
        SentenceKeyword => "keyword in a given sentence",
        WordCountRange => "word count range",
        Punctuation => "every punctuation mark",
    }
}

/// How the expert plans to satisfy a leaf (for the reasoning trace).
pub fn plan(l: &Leaf) -> String {
    match l.fam {
        Existence => format!(
            "work {} into the sentences",
            list_words(&l.list("keywords"))
        ),
        Frequency => format!(
            "use \"{}\" {} {} times and count every occurrence, including inside longer words",
            l.s("keyword"),
            if l.s("relation") == "less than" {
                "fewer than"
            } else {
                "at least"
            },
            l.n("frequency")
        ),
        Forbidden => format!(
            "choose wording that never uses {}",
            list_words(&l.list("forbidden_words"))
        ),
        LetterFreq => format!(
            "keep the letter \"{}\" {} {} times; I will count it when the draft is done",
            l.s("letter"),
            if l.s("let_relation") == "less than" {
                "under"
            } else {
                "at or above"
            },
            l.n("let_frequency")
        ),
        NumSentences => format!(
            "keep the sentence total {} {}",
            if l.s("relation") == "less than" {
                "below"
            } else {
                "at or above"
            },
            l.n("num_sentences")
        ),
        NumParagraphs => format!(
            "write {} paragraphs with a *** line between each pair",
            l.n("num_paragraphs")
        ),
        NumWords => format!(
            "keep the word total {} {}",
            if l.s("relation") == "less than" {
                "below"
            } else {
                "at or above"
            },
            l.n("num_words")
        ),
        NthPara => format!(
            "write {} paragraphs separated by blank lines and open paragraph {} with \"{}\"",
            l.n("num_paragraphs"),
            l.n("nth_paragraph"),
            l.s("first_word")
        ),
        Placeholders => format!(
            "leave {} blanks like [name] for the reader",
            l.n("num_placeholders")
        ),
        Postscript => format!("add a last note starting with {}", l.s("postscript_marker")),
        Bullets => format!(
            "write exactly {} lines starting with \"* \" and no other lines starting with * or -",
            l.n("num_bullets")
        ),
        Constrained => "state the verdict with the exact sentence \"My answer is yes.\"".into(),
        Highlights => format!(
            "mark {} phrases as *italic* inside sentences, never at the start of a line",
            l.n("num_highlights")
        ),
        Sections => format!(
            "label {} sections as {} 1, {} 2 and so on",
            l.n("num_sections"),
            l.s("section_spliter"),
            l.s("section_spliter")
        ),
        Json => "put the whole text in one JSON object with a single string field".into(),
        Title => "open with a title in << >>".into(),
        TwoResponses => "write two different versions and put ****** between them".into(),
        RepeatPrompt => "copy the request word for word at the very start".into(),
        EndChecker => format!(
            "end with \"{}\" and add nothing after it",
            l.s("end_phrase")
        ),
        CapitalFreq => format!(
            "keep all-capital words {} {}",
            if l.s("capital_relation") == "less than" {
                "under"
            } else {
                "at or above"
            },
            l.n("capital_frequency")
        ),
        Capital => "turn every letter into a capital at the end".into(),
        Lowercase => "turn every letter into lowercase at the end".into(),
        NoComma => "write sentences that need no commas".into(),
        Quotation => "put one double quote at the very start and one at the very end".into(),
        KeywordsMultiple => {
            let k: Vec<&str> = (1..=5).map(|i| l.s(&format!("keyword{i}"))).collect();
            format!("write {} once, {} twice, {} three times, {} five times and {} seven times and nowhere else", k[0], k[1], k[2], k[3], k[4])
        }
        Numbers => format!(
            "include exactly {} numbers and no other digits anywhere",
            l.n("N")
        ),
        Conjunctions => format!("use at least {} of and, but, or, so, yet", l.n("small_n")),
        Pronouns => format!(
            "use at least {} pronouns such as we, you, it, they",
            l.n("N")
        ),
        UniqueWords => format!("vary the vocabulary to reach {} different words", l.n("N")),
        TitleCase => "capitalise the first letter of every word at the end".into(),
        OutputTemplate => "label the parts My Answer:, My Conclusion: and Future Outlook:".into(),
        NoBulletsBullets => {
            "write the sentences first and end with * bullets and nothing after them".into()
        }
        SubBullets => "give every * bullet a - sub-bullet and use no other asterisks".into(),
        ListSep => format!("start each list item with {}", l.s("sep")),
        Thesis => "open with <i>thesis</i> and continue after it".into(),
        QuoteUnquote => "quote one phrase and explain it right after".into(),
        Parentheses => "add one phrase with ( [ { ( [ ] ) } ] ) nesting".into(),
        NestedQuotes => {
            "add a quotation inside a quotation inside a quotation, alternating \" and '".into()
        }
        WordsPosition => format!(
            "make \"{}\" the second word and the second-to-last word",
            l.s("keyword")
        ),
        SentenceKeyword => format!(
            "put \"{}\" in each of the first {} sentences",
            l.s("word"),
            l.n("N")
        ),
        WordCountRange => format!(
            "land between {} and {} words",
            l.n("min_words"),
            l.n("max_words")
        ),
        Punctuation => "include . , ! ? ; : and an interrobang ?!".into(),
    }
}

/// A shorter [`plan`] for the short profile's one-line reasoning (the same plan where that is
/// already short).
pub fn plan_short(l: &Leaf) -> String {
    match l.fam {
        Frequency => format!(
            "use \"{}\" {} {} time{}",
            l.s("keyword"),
            if l.s("relation") == "less than" {
                "fewer than"
            } else {
                "at least"
            },
            l.n("frequency"),
            if l.n("frequency") == 1 { "" } else { "s" }
        ),
        LetterFreq => format!(
            "keep the letter \"{}\" {} {} times",
            l.s("letter"),
            if l.s("let_relation") == "less than" {
                "under"
            } else {
                "at or above"
            },
            l.n("let_frequency")
        ),
        Bullets => format!(
            "add exactly {} lines starting with \"* \"",
            l.n("num_bullets")
        ),
        Highlights => format!(
            "mark {} phrase{} as *italic* inside a sentence",
            l.n("num_highlights"),
            if l.n("num_highlights") == 1 { "" } else { "s" }
        ),
        Json => "put the whole text in one JSON object with one string field".into(),
        Numbers => {
            let n = l.n("N");
            format!(
                "include exactly {n} number{} and no other digits",
                if n == 1 { "" } else { "s" }
            )
        }
        SentenceKeyword => match l.n("N") {
            1 => format!("put \"{}\" in the first sentence", l.s("word")),
            n => format!("put \"{}\" in each of the first {n} sentences", l.s("word")),
        },
        Placeholders => {
            let n = l.n("num_placeholders");
            format!(
                "leave {n} blank{} like [name] for the reader",
                if n == 1 { "" } else { "s" }
            )
        }
        WordsPosition => format!(
            "make \"{}\" the 2nd and the 2nd-to-last word",
            l.s("keyword")
        ),
        Quotation => "open and close the reply with a double quote".into(),
        Constrained => "include the exact sentence \"My answer is yes.\"".into(),
        EndChecker => format!("end with \"{}\" and nothing after it", l.s("end_phrase")),
        _ => plan(l),
    }
}
