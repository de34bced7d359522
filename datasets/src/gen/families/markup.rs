//! Markup families: highlights, sections, a title, a thesis line, a labelled template, quotes and
//! brackets.

use serde_json::json;

use crate::gen::body::Body;
use crate::gen::family::{plural, Draw, Family, Leaf, Traits};
use crate::gen::text::{capitalise_first, count_highlights};

const HIGHLIGHTS: &[&str] = &[
    "start early",
    "stay calm",
    "keep it simple",
    "check twice",
    "ask for help",
    "write it down",
];
const SPLITTERS: &[&str] = &["Section", "SECTION", "Part", "PART"];

pub struct Highlights;

impl Family for Highlights {
    fn id(&self) -> &'static str {
        "detectable_format:number_highlighted_sections"
    }
    fn name(&self) -> &'static str {
        "markdown highlights"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 140,
            json_ok: true,
            two_ok: true,
            chain_safe: true,
            ..Traits::NONE
        }
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert("num_highlights".into(), json!(d.rng.range(1, d.hi(3, 2))));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let n = l.n("num_highlights");
        [
            format!(
                "Highlight at least {n} part{} with markdown, for example *an important phrase*.",
                plural(n)
            ),
            format!("Mark {n} or more key phrases in markdown italics like *this*."),
            format!(
                "Emphasise {n} or more phrase{} by wrapping them in single asterisks.",
                plural(n)
            ),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "mark {} phrases as *italic* inside sentences, never at the start of a line",
            l.n("num_highlights")
        )
    }
    fn plan_short(&self, l: &Leaf) -> String {
        format!(
            "mark {} phrase{} as *italic* inside a sentence",
            l.n("num_highlights"),
            plural(l.n("num_highlights"))
        )
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        let hs: Vec<String> = b
            .rng
            .sample(HIGHLIGHTS, l.n("num_highlights").max(1))
            .into_iter()
            .map(|h| format!("*{h}*"))
            .collect();
        b.add(format!("Keep in mind {}.", hs.join(" and ")));
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        count_highlights(v) >= l.n("num_highlights")
    }
}

pub struct Sections;

impl Family for Sections {
    fn id(&self) -> &'static str {
        "detectable_format:multiple_sections"
    }
    fn name(&self) -> &'static str {
        "numbered sections"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 70,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "length_constraints:nth_paragraph_first_word",
            "count:numbers",
        ]
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert("section_spliter".into(), json!(*d.rng.pick(SPLITTERS)));
        d.kw.insert("num_sections".into(), json!(d.rng.range(2, 4)));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let (s, n) = (l.s("section_spliter"), l.n("num_sections"));
        [
                format!("Divide the reply into {n} sections, each starting with \"{s} X\" where X is the section number."),
                format!("Organise your answer in {n} sections labelled {s} 1, {s} 2 and so on."),
                format!("Use {n} numbered sections; mark the start of each one with {s} followed by its number."),
            ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "label {} sections as {} 1, {} 2 and so on",
            l.n("num_sections"),
            l.s("section_spliter"),
            l.s("section_spliter")
        )
    }
    fn paragraphs(&self, l: &Leaf) -> Option<usize> {
        Some(l.n("num_sections"))
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        let sp = l.s("section_spliter");
        for (i, p) in b.paras.iter_mut().enumerate() {
            p.pre.push(format!("{sp} {}", i + 1));
        }
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        let s = l.s("section_spliter");
        (1..=l.n("num_sections")).all(|i| v.contains(&format!("{s} {i}")))
    }
}

pub struct Title;

impl Family for Title {
    fn id(&self) -> &'static str {
        "detectable_format:title"
    }
    fn name(&self) -> &'static str {
        "title in double angular brackets"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 50,
            json_ok: true,
            two_ok: true,
            chain_safe: true,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Put a heading between << and >> somewhere in the reply, e.g. <<plan for monday>>."
                .to_string(),
            "Start with a title in double angle brackets, for example <<a fitting title>>."
                .to_string(),
            "Include a title enclosed in << and >>.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "open with a title in << >>".into()
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        let title: Vec<String> = format!("notes on {}", b.seed.topic)
            .split_whitespace()
            .map(capitalise_first)
            .collect();
        b.head(format!("<<{}>>", title.join(" ")));
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        v.contains("<<") && v.contains(">>")
    }
}

pub struct Thesis;

impl Family for Thesis {
    fn id(&self) -> &'static str {
        "format:thesis"
    }
    fn name(&self) -> &'static str {
        "italic HTML thesis"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 60,
            at_start: true,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Open with a one-line claim set in HTML italics (<i> and </i>), then carry on in plain text.".to_string(),
            "Open with an italic thesis sentence marked up as HTML <i></i>, then continue normally.".to_string(),
            "State a thesis first, in HTML italics, and follow it with unitalicised text.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "open with <i>thesis</i> and continue after it".into()
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        let topic = capitalise_first(b.seed.topic);
        b.head(format!("<i>{topic} deserves careful thought.</i>"));
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        v.contains("<i>") && v.contains("</i>")
    }
}

pub struct OutputTemplate;

impl Family for OutputTemplate {
    fn id(&self) -> &'static str {
        "format:output_template"
    }
    fn name(&self) -> &'static str {
        "three-label template"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 240,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Label your reply with three headings in this order: My Answer:, My Conclusion:, Future Outlook:.".to_string(),
            "Structure the reply with the labels My Answer:, My Conclusion: and Future Outlook:.".to_string(),
            "Use these three labelled parts: My Answer:, then My Conclusion:, then Future Outlook:.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "label the parts My Answer:, My Conclusion: and Future Outlook:".into()
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        if let Some(s) = b.first().sentences.first_mut() {
            *s = format!("My Answer: {s}");
        }
        let (conclusion, outlook) = (b.topic_sentence(), b.topic_sentence());
        b.add(format!("My Conclusion: {conclusion}"));
        b.add(format!("Future Outlook: {outlook}"));
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        ["My Answer:", "My Conclusion:", "Future Outlook:"]
            .iter()
            .all(|m| v.contains(m))
    }
}

pub struct QuoteUnquote;

impl Family for QuoteUnquote {
    fn id(&self) -> &'static str {
        "format:quote_unquote"
    }
    fn name(&self) -> &'static str {
        "quotes followed by explanations"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 210,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &["format:quotes", "startend:quotation"]
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Quote a short phrase and say in plain words what it means right after it.".to_string(),
            "If you quote anything, explain it right after in your own words; never end on a quotation.".to_string(),
            "Include a quoted phrase and make sure each quotation is followed by an explanation outside the quotes.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "quote one phrase and explain it right after".into()
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        b.add("The phrase \"one step at a time\" means steady progress.".into());
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
        let tail = compact.trim_end_matches(|c: char| {
            c.is_ascii_digit() || (c.is_ascii_punctuation() && c != '"')
        });
        !compact.contains("\"\"") && !tail.ends_with('"')
    }
}

pub struct Parentheses;

impl Family for Parentheses {
    fn id(&self) -> &'static str {
        "format:parentheses"
    }
    fn name(&self) -> &'static str {
        "five levels of nested brackets"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 190,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Somewhere, put brackets inside brackets five layers deep, mixing round, square and curly ones.".to_string(),
            "Somewhere include brackets nested five levels deep, mixing (), [] and {}.".to_string(),
            "Show at least five levels of nested brackets, like ( [ { ( [ ] ) } ] ).".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "add one phrase with ( [ { ( [ ] ) } ] ) nesting".into()
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        b.add("Think in layers (plan [budget {time (people [tools])}]).".into());
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        parentheses_ok(v)
    }
}

pub struct NestedQuotes;

impl Family for NestedQuotes {
    fn id(&self) -> &'static str {
        "format:quotes"
    }
    fn name(&self) -> &'static str {
        "three levels of nested quotes"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 200,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &["startend:quotation", "combination:repeat_prompt"]
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Let someone quote a person who quotes a third person, switching between double and single quote marks at each layer.".to_string(),
            "Nest quotations three levels deep, switching between double and single quotation marks.".to_string(),
            "Somewhere, quote someone quoting someone who is quoting someone, alternating \" and ' marks.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "add a quotation inside a quotation inside a quotation, alternating \" and '".into()
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        b.add("As one coach put it \"my mentor told me 'always say \"start small\" to yourself' every day\" and it stuck.".into());
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        nested_quotes_ok(v)
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
