//! List families: bullet points, sentences-then-bullets, sub-bullets, custom list markers.

use serde_json::json;

use crate::gen::body::Body;
use crate::gen::family::{Draw, Family, Leaf, Traits};
use crate::gen::text::count_bullets;

/// Four-word list items.
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

pub struct Bullets;

impl Family for Bullets {
    fn id(&self) -> &'static str {
        "detectable_format:number_bullet_lists"
    }
    fn name(&self) -> &'static str {
        "exact number of bullet points"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 320,
            ..Traits::NONE
        }
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert("num_bullets".into(), json!(d.rng.range(2, d.hi(5, 3))));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let n = l.n("num_bullets");
        [
                format!("Include exactly {n} bullet points written as markdown lines that start with \"* \"."),
                format!("Put exactly {n} items in a markdown list made of \"* \" lines, for instance:\n* one idea\n* another idea"),
                format!("Give precisely {n} markdown bullet points (lines starting with an asterisk)."),
            ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!(
            "write exactly {} lines starting with \"* \" and no other lines starting with * or -",
            l.n("num_bullets")
        )
    }
    fn plan_short(&self, l: &Leaf) -> String {
        format!(
            "add exactly {} lines starting with \"* \"",
            l.n("num_bullets")
        )
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        for it in b.rng.sample(ITEMS, l.n("num_bullets")) {
            b.line(format!("* {it}"));
        }
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        count_bullets(v) == l.n("num_bullets")
    }
}

pub struct NoBulletsBullets;

impl Family for NoBulletsBullets {
    fn id(&self) -> &'static str {
        "format:no_bullets_bullets"
    }
    fn name(&self) -> &'static str {
        "sentences first, bullets last"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 350,
            at_end: true,
            whole_answer: true,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "detectable_content:postscript",
            "detectable_format:constrained_response",
            "format:list",
            "length_constraints:nth_paragraph_first_word",
            "detectable_format:multiple_sections",
        ]
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "Lead with two or more full sentences (each ending in a period) and close with two or more * list lines.".to_string(),
            "Open with two or more plain sentences ending in periods, followed only by two or more * bullet points.".to_string(),
            "First write at least two full sentences, then end with a list of at least two bullets using *.".to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "write the sentences first and end with * bullets and nothing after them".into()
    }
    fn paragraphs(&self, _l: &Leaf) -> Option<usize> {
        // IFBench's check stops at the first blank line before the bullets: one paragraph.
        Some(1)
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        // The bullets of a bullet count already end the answer (nothing placed after them can
        // share a text with this family); else two or three.
        if b.last().post.last().is_some_and(|x| x.starts_with("* ")) {
            return;
        }
        let n = b.rng.range(2, 3);
        for it in b.rng.sample(ITEMS, n) {
            b.line(format!("* {it}"));
        }
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        let lines: Vec<&str> = v.split('\n').collect();
        let first = lines.iter().position(|x| x.trim().starts_with('*'));
        match first {
            Some(i) => lines[i..].iter().all(|x| x.trim().starts_with('*')) && lines.len() - i >= 2,
            None => false,
        }
    }
}

pub struct SubBullets;

impl Family for SubBullets {
    fn id(&self) -> &'static str {
        "format:sub-bullets"
    }
    fn name(&self) -> &'static str {
        "bullets with sub-bullets"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 310,
            ..Traits::NONE
        }
    }
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[
            "detectable_format:number_bullet_lists",
            "detectable_format:number_highlighted_sections",
            "format:no_bullets_bullets",
        ]
    }
    fn phrasings(&self, _l: &Leaf) -> [String; 3] {
        [
            "List with * items, and under each item add a - sub-item.".to_string(),
            "Include * bullets, each followed by at least one - sub-bullet.".to_string(),
            "Make a list with * bullet points where every bullet has a nested - sub-point."
                .to_string(),
        ]
    }
    fn plan(&self, _l: &Leaf) -> String {
        "give every * bullet a - sub-bullet and use no other asterisks".into()
    }
    fn place(&self, _l: &Leaf, b: &mut Body) {
        for it in b.rng.sample(ITEMS, 2) {
            b.line(format!("* {it}"));
            b.line("  - Do it this week".to_string());
        }
    }
    fn check(&self, _l: &Leaf, v: &str) -> bool {
        v.split('*').skip(1).all(|c| c.contains('-'))
    }
}

pub struct ListSep;

impl Family for ListSep {
    fn id(&self) -> &'static str {
        "format:list"
    }
    fn name(&self) -> &'static str {
        "custom list marker"
    }
    fn traits(&self) -> Traits {
        Traits {
            order: 300,
            ..Traits::NONE
        }
    }
    fn draw(&self, d: &mut Draw) {
        d.kw.insert("sep".into(), json!(*d.rng.pick(&["SEPARATOR", "!?!?"])));
    }
    fn phrasings(&self, l: &Leaf) -> [String; 3] {
        let s = l.s("sep");
        [
            format!("Write a list whose items each begin with {s}."),
            format!("List the items, starting each one with {s} instead of a bullet."),
            format!(
                "Give a list in which every item is introduced by {s} rather than a bullet point."
            ),
        ]
    }
    fn plan(&self, l: &Leaf) -> String {
        format!("start each list item with {}", l.s("sep"))
    }
    fn place(&self, l: &Leaf, b: &mut Body) {
        let sep = l.s("sep");
        let k = b.rng.range(2, 4);
        for it in b.rng.sample(ITEMS, k) {
            b.line(format!("{sep} {it}"));
        }
    }
    fn check(&self, l: &Leaf, v: &str) -> bool {
        v.matches(l.s("sep")).count() >= 2
    }
}
