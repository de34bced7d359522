//! What a constraint family is. Each family (one official IFEval / IFBench instruction id) is
//! one type in the `families` module implementing [`Family`]: its kwargs, its phrasings, the
//! material it puts in the answer, its plan line and its exact self-check. The generator passes
//! families around as [`Fam`] handles and drawn constraints as [`Leaf`]s; [`Fam::conflicts`]
//! keeps incompatible families off one text.

use std::fmt;
use std::ops::Deref;

use serde_json::{Map, Value};

use super::body::Body;
use super::rng::Rng;

/// What the conflict rule, the tree shapes, the answer builder and the reasoning read about a
/// family. Write a family's as `Traits { .., ..Traits::NONE }`.
#[derive(Clone, Copy, Debug)]
pub struct Traits {
    /// When [`Family::place`] and [`Family::finish`] run, relative to the other families of
    /// the text (smaller first): the order of the material in the answer and of the draws it
    /// makes. 0 for families that add nothing.
    pub order: u16,
    /// The kwargs are bounds measured on the finished answer ([`Family::measure`]), not drawn
    /// first.
    pub measured: bool,
    /// A case change of the whole text (two never share a text).
    pub case: bool,
    /// Fixes what the text starts with (two such never share a text).
    pub at_start: bool,
    /// Fixes what the text ends with (two such never share a text).
    pub at_end: bool,
    /// Can share an answer wrapped in JSON (`detectable_format:json_format`).
    pub json_ok: bool,
    /// Can share a two-response answer (`combination:two_responses`).
    pub two_ok: bool,
    /// May govern the whole answer above a chain (checked on the whole text, met by the first
    /// part or by every part).
    pub chain_safe: bool,
    /// Above a chain, applied to every part (not only the first).
    pub every_part: bool,
    /// A shape of the whole answer: never a selection outcome or a chain step.
    pub whole_answer: bool,
    /// In a two-response answer its material goes after the second response.
    pub closing: bool,
    /// Rewrites the finished text ([`Family::finish`]); the plans name it after the content.
    pub finishes: bool,
    /// The line between paragraphs, in place of a blank line.
    pub divider: Option<&'static str>,
    /// The answer is two versions with this between them (material in the first).
    pub versions: Option<&'static str>,
}

impl Traits {
    pub const NONE: Traits = Traits {
        order: 0,
        measured: false,
        case: false,
        at_start: false,
        at_end: false,
        json_ok: false,
        two_ok: false,
        chain_safe: false,
        every_part: false,
        whole_answer: false,
        closing: false,
        finishes: false,
        divider: None,
        versions: None,
    };
}

/// One constraint family. The answer hooks run in this order: [`Family::paragraphs`] and
/// [`Family::first_sentences`] shape the topic paragraphs, [`Family::place`] adds the
/// material, [`Family::finish`] rewrites the whole text, [`Family::measure`] fills measured
/// kwargs and [`Family::check`] checks the result.
pub trait Family: Sync {
    /// The official instruction id.
    fn id(&self) -> &'static str;
    /// A short name for the reasoning ("required keywords").
    fn name(&self) -> &'static str;
    fn traits(&self) -> Traits {
        Traits::NONE
    }
    /// Ids of families that cannot share a text with this one, beyond the general rules of
    /// [`Fam::conflicts`] (a pair is listed on either side).
    fn conflicts_with(&self) -> &'static [&'static str] {
        &[]
    }
    /// Families excluded by a rule on their traits (the JSON and two-response shapes).
    fn excludes(&self, _other: Fam) -> bool {
        false
    }
    /// Draws the kwargs fixed before the answer is written.
    fn draw(&self, _d: &mut Draw) {}
    /// Three ways a user writes the instruction.
    fn phrasings(&self, l: &Leaf) -> [String; 3];
    /// How the expert means to meet it (a line of the standard reasoning).
    fn plan(&self, l: &Leaf) -> String;
    /// The short profile's one-line plan (the same plan where that is already short).
    fn plan_short(&self, l: &Leaf) -> String {
        self.plan(l)
    }
    /// How many paragraphs the answer must have (`None`: no say). The first family in
    /// [`Traits::order`] with a say decides.
    fn paragraphs(&self, _l: &Leaf) -> Option<usize> {
        None
    }
    /// How many topic sentences the first paragraph needs at least.
    fn first_sentences(&self, _l: &Leaf) -> usize {
        0
    }
    /// Puts the material this constraint needs into the answer.
    fn place(&self, _l: &Leaf, _b: &mut Body) {}
    /// Rewrites the finished text (families with [`Traits::finishes`]); `None` fails the
    /// draw.
    fn finish(&self, text: String) -> Option<String> {
        Some(text)
    }
    /// Fills the kwargs of a measured family from the finished text.
    fn measure(&self, _l: &mut Leaf, _text: &str, _rng: &mut Rng) {}
    /// The exact check on the finished text; `true` for what cannot be checked exactly here
    /// (built with margins and checked by the verifiers).
    fn check(&self, l: &Leaf, text: &str) -> bool;
}

/// A family as the generator passes it around (compared by id).
#[derive(Clone, Copy)]
pub struct Fam(pub &'static dyn Family);

impl Deref for Fam {
    type Target = dyn Family;

    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl PartialEq for Fam {
    fn eq(&self, other: &Fam) -> bool {
        self.id() == other.id()
    }
}

impl Eq for Fam {}

impl fmt::Debug for Fam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Fam {
    /// Whether the two cannot both hold on one text: the same family, two case changes, two
    /// start or two end anchors, a pair either family lists, or a shape's rule.
    pub fn conflicts(self, other: Fam) -> bool {
        if self == other {
            return true;
        }
        let one = |x: Fam, y: Fam| -> bool {
            let (a, b) = (x.traits(), y.traits());
            x.excludes(y)
                || a.case && b.case
                || a.at_start && b.at_start
                || a.at_end && b.at_end
                || x.conflicts_with().contains(&y.id())
        };
        one(self, other) || one(other, self)
    }

    /// Draws a leaf: the kwargs fixed before the answer is written, with small counts when
    /// `short` (the short profile). `request` is the seed request; `used_words` are the words
    /// other leaves of the record took.
    pub fn draw(
        self,
        rng: &mut Rng,
        request: &str,
        used_words: &mut Vec<String>,
        short: bool,
    ) -> Leaf {
        let mut d = Draw {
            rng,
            request,
            used_words,
            short,
            kw: Map::new(),
        };
        self.0.draw(&mut d);
        Leaf {
            fam: self,
            kw: d.kw,
        }
    }
}

/// What [`Family::draw`] draws with.
pub struct Draw<'a> {
    pub rng: &'a mut Rng,
    /// The seed request.
    pub request: &'a str,
    used_words: &'a mut Vec<String>,
    short: bool,
    /// The kwargs drawn so far.
    pub kw: Map<String, Value>,
}

impl Draw<'_> {
    /// An upper bound of a drawn count: `standard`, or `short` in the short profile.
    pub fn hi(&self, standard: usize, short: usize) -> usize {
        if self.short {
            short
        } else {
            standard
        }
    }

    /// A word of `pool` that no other leaf of the record uses (any word of it once all are
    /// taken); it is taken from then on.
    pub fn fresh(&mut self, pool: &[&str]) -> String {
        let free: Vec<&str> = pool
            .iter()
            .copied()
            .filter(|w| !self.used_words.iter().any(|u| u == w))
            .collect();
        let w = if free.is_empty() {
            *self.rng.pick(pool)
        } else {
            *self.rng.pick(&free)
        };
        self.used_words.push(w.to_string());
        w.to_string()
    }
}

/// A drawn constraint: family and official kwargs (measured families get theirs after the
/// answer is built).
#[derive(Clone, Debug)]
pub struct Leaf {
    pub fam: Fam,
    pub kw: Map<String, Value>,
}

impl Leaf {
    pub fn s(&self, k: &str) -> &str {
        self.kw.get(k).and_then(Value::as_str).unwrap_or("")
    }
    /// Whether the relation kwarg `rel` reads "less than" (else "at least").
    pub fn below(&self, rel: &str) -> bool {
        self.s(rel) == "less than"
    }
    /// The relation `rel` and number `limit` as a plan says them: `"{below} N"` (`below` is
    /// the family's word for fewer than) or `"at or above N"`.
    pub fn bound(&self, rel: &str, limit: &str, below: &str) -> String {
        let side = if self.below(rel) {
            below
        } else {
            "at or above"
        };
        format!("{side} {}", self.n(limit))
    }
    /// `count` against the leaf's relation `rel` and its number `limit`, as the checkers read
    /// them: fewer than the number, or at least it.
    pub fn holds(&self, rel: &str, limit: &str, count: usize) -> bool {
        if self.below(rel) {
            count < self.n(limit)
        } else {
            count >= self.n(limit)
        }
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

    /// The instruction as the user writes it, one of the family's phrasings.
    pub fn phrase(&self, rng: &mut Rng) -> String {
        let opts = self.fam.phrasings(self);
        opts[rng.below(opts.len())].clone()
    }

    /// The plan line of the standard reasoning.
    pub fn plan(&self) -> String {
        self.fam.plan(self)
    }

    /// The plan line of the short reasoning.
    pub fn plan_short(&self) -> String {
        self.fam.plan_short(self)
    }
}

/// Words for a phrasing: `"a"`, `"a" and "b"`, `"a", "b" and "c"`.
pub fn list_words(words: &[String]) -> String {
    let q: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        _ => format!("{} and {}", q[..q.len() - 1].join(", "), q[q.len() - 1]),
    }
}

pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A relation kwarg as a phrasing says it: "fewer than" or "at least".
pub fn relation(r: &str) -> &'static str {
    if r == "less than" {
        "fewer than"
    } else {
        "at least"
    }
}

/// "s" unless `n` is 1.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
