//! Content families: placeholders, a postscript, a verdict sentence, a repeated request, two
//! responses, a fixed ending.

use serde_json::json;

use crate::gen::body::Body;
use crate::gen::family::{plural, Draw, Fam, Family, Leaf, Traits};
use crate::gen::text::count_placeholders;

const PLACEHOLDERS: &[&str] = &[
    "[name]",
    "[date]",
    "[address]",
    "[phone]",
    "[company]",
    "[city]",
];
const END_PHRASES: &[&str] = &[
    "Is there anything else I can help with?",
    "Let me know if you have additional questions.",
    "That is all for now.",
    "Thanks for reading.",
    "Happy to help further.",
];

pub struct Placeholders;

impl Family for Placeholders {
    fn id(&self) -> &'static str {
        "detectable_content:number_placeholders"
    }
    fn name(&self) -> &'static str {
        "square-bracket placeholders"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 130,
            json_ok: true,
            two_ok: true,
            chain_safe: true,
            ..Traits::NONE
        }
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert("num_placeholders".into(), json!(d.rng.range(1, d.hi(4, 2))));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let n = l.n("num_placeholders");
        [
                format!("Include at least {n} placeholder{} in square brackets, like [name].", plural(n)),
                format!("Leave {n} or more blanks for me to fill in, written in square brackets such as [date]."),
                format!("Add no fewer than {n} bracketed placeholder{} (for example [address]).", plural(n)),
            ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "leave {} blanks like [name] for the reader",
            l.n("num_placeholders")
        )
    }
    fn plan_short(&self, l: &Leaf) -> String {
        let n = l.n("num_placeholders");
        format!("leave {n} blank{} like [name] for the reader", plural(n))
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        let ph = b.rng.sample(PLACEHOLDERS, l.n("num_placeholders").max(1));
        b.add(format!("Fill in {} before use.", ph.join(" and ")));
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        count_placeholders(v) >= l.n("num_placeholders")
    }
}

pub struct Postscript;

impl Family for Postscript {
    fn id(&self) -> &'static str {
        "detectable_content:postscript"
    }
    fn name(&self) -> &'static str {
        "postscript"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 330,
            json_ok: true,
            two_ok: true,
            chain_safe: true,
            closing: true,
            ..Traits::NONE
        }
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert(
            "postscript_marker".into(),
            json!(*d.rng.pick(&["P.S.", "P.P.S"])),
        );
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let m = l.s("postscript_marker");
        [
            format!("End with a postscript that starts with {m}"),
            format!("Add a postscript at the end, beginning with {m}"),
            format!("Finish by adding a note that begins with {m}"),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!("add a last note starting with {}", l.s("postscript_marker"))
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        b.line(format!(
            "{} Feel free to reach out at any time.",
            l.s("postscript_marker")
        ));
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        let m = l.s("postscript_marker").to_lowercase();
        v.to_lowercase().contains(&m)
    }
}

pub struct Constrained;

impl Family for Constrained {
    fn id(&self) -> &'static str {
        "detectable_format:constrained_response"
    }
    fn name(&self) -> &'static str {
        "fixed verdict sentence"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 230,
            ..Traits::NONE
        }
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Somewhere in the reply, say one of these exact sentences: \"My answer is yes.\", \"My answer is no.\", \"My answer is maybe.\"".to_string(),
            "Include your verdict as one of: My answer is yes. / My answer is no. / My answer is maybe.".to_string(),
            "State your position using exactly one of the phrases \"My answer is yes.\", \"My answer is no.\" or \"My answer is maybe.\"".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "state the verdict with the exact sentence \"My answer is yes.\"".into()
    }
    fn plan_short(&self, _l: &Leaf) -> String {
        "include the exact sentence \"My answer is yes.\"".into()
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        b.add("My answer is yes.".into());
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        v.contains("My answer is yes.")
    }
}

pub struct RepeatPrompt;

impl Family for RepeatPrompt {
    fn id(&self) -> &'static str {
        "combination:repeat_prompt"
    }
    fn name(&self) -> &'static str {
        "repeat the request first"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 40,
            at_start: true,
            whole_answer: true,
            ..Traits::NONE
        }
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert("prompt_to_repeat".into(), json!(d.request));
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Open your reply by copying my request exactly (only the request, none of these conditions), then answer it.".to_string(),
            "First copy my request exactly as written, leaving out these instructions, and then respond.".to_string(),
            "Begin by restating the request verbatim (only the request itself), and only then answer it.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "copy the request word for word at the very start".into()
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        b.head(l.s("prompt_to_repeat").to_string());
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        v.trim()
            .to_lowercase()
            .starts_with(&l.s("prompt_to_repeat").trim().to_lowercase())
    }
}

pub struct TwoResponses;

impl Family for TwoResponses {
    fn id(&self) -> &'static str {
        "combination:two_responses"
    }
    fn name(&self) -> &'static str {
        "two responses separated by ******"
    }
    fn traits(&self) -> Traits {
        Traits {
            whole_answer: true,
            versions: Some("\n******\n"),
            ..Traits::NONE
        }
    }
    fn excludes(&self, other: Fam) -> bool {
        !other.traits().two_ok
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "I would like two alternative versions; the line between them is ****** (six asterisks).".to_string(),
            "Write two distinct versions of the reply and separate them with ******.".to_string(),
            "Provide two alternative answers; put ****** between them and nothing else.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "write two different versions and put ****** between them".into()
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        let parts: Vec<&str> = v.split("******").filter(|p| !p.trim().is_empty()).collect();
        parts.len() == 2 && parts[0].trim() != parts[1].trim()
    }
}

pub struct EndChecker;

impl Family for EndChecker {
    fn id(&self) -> &'static str {
        "startend:end_checker"
    }
    fn name(&self) -> &'static str {
        "fixed ending phrase"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 340,
            at_end: true,
            two_ok: true,
            closing: true,
            ..Traits::NONE
        }
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert("end_phrase".into(), json!(*d.rng.pick(END_PHRASES)));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let e = l.s("end_phrase");
        [
            format!("Make \"{e}\" the final words of the reply, with nothing after them."),
            format!("The very last words of your reply must be: {e}"),
            format!("Sign off with exactly \"{e}\" and stop there."),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "end with \"{}\" and add nothing after it",
            l.s("end_phrase")
        )
    }
    fn plan_short(&self, l: &Leaf) -> String {
        format!("end with \"{}\" and nothing after it", l.s("end_phrase"))
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        b.line(l.s("end_phrase").to_string());
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        v.trim()
            .trim_matches('"')
            .to_lowercase()
            .ends_with(&l.s("end_phrase").trim().to_lowercase())
    }
}
