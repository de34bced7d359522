//! The reproducible complex-instruction generator (`raif data gen`).
//!
//! A record = one of our seed tasks ([`seeds`]) + verifiable constraints from the IFEval and
//! IFBench families ([`families`]), composed into And / Chain / Selection trees of depth 1–3,
//! each constraint phrased from several wordings, conflicting families excluded. Every record
//! carries a constructive expert demonstration: a reasoning trace that names and decomposes each
//! constraint and plans for it, and an answer built to satisfy them ([`build`]). The same seed
//! gives the same records byte for byte (our own [`rng`]).
//!
//! [`Profile::Short`] writes demonstrations a small model can imitate within a short token
//! budget: one or two constraints from [`families::SHORT`], a two-sentence answer plus their
//! material, and one plan line per constraint as reasoning. [`generate_filtered`] lets the
//! caller reject (and redraw) records that do not fit its token budget.

pub mod build;
pub mod contamination;
pub mod families;
pub mod rng;
pub mod seeds;
pub mod text;

use serde_json::{json, Map};

use crate::record::{source, Expert, Message, Record, Split};
use families::{conflicts, draw_sized, phrase, Fam, Leaf, ALL, SHORT};
use raif_verify::{Branch, Constraint};
use rng::Rng;
use seeds::Seed;

pub use contamination::{ContaminationIndex, ContaminationReport};

/// Every tenth seed (index ≡ 7 mod 10) is held out: its records form the `heldout` split.
pub fn is_heldout_seed(index: usize) -> bool {
    index % 10 == 7
}

/// What kind of records a run writes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Trees of depth 1–3 (And, Chain, Selection) over all 42 families, with a full reasoning
    /// trace and answers of several paragraphs.
    #[default]
    Standard,
    /// One or two constraints (an And of leaves) from [`families::SHORT`], a two-sentence
    /// answer plus the constraints' material, and one plan line per constraint as reasoning:
    /// demonstrations a small model can imitate within a short token budget.
    Short,
}

impl Profile {
    pub const ALL: [Profile; 2] = [Profile::Standard, Profile::Short];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Standard => "standard",
            Profile::Short => "short",
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown generator profile `{s}` (expected standard or short)"))
    }
}

/// Settings of one generation run. Build one with the fields you need and
/// `..GenConfig::default()` for the rest (default: 0 records, seed 0, mixed depth, standard
/// profile, mixed constraint count).
#[derive(Clone, Debug, Default)]
pub struct GenConfig {
    pub n: usize,
    pub seed: u64,
    /// Nesting depth of every record (1–3); `None` draws 1, 2 or 3 per record. Standard
    /// profile only (short records have depth 1).
    pub depth: Option<u8>,
    pub profile: Profile,
    /// Short profile only: `Some(1)` or `Some(2)` constraints on every record (other values are
    /// clamped to 1–2); `None` draws 1 or 2 with equal chance per record index.
    pub constraints: Option<u8>,
    /// Draw only held-out seed tasks ([`is_heldout_seed`]): every record is in the `heldout`
    /// split, with a request no training record of any seed carries (an evaluation set of
    /// unseen requests).
    pub heldout_only: bool,
}

/// The seed task of a draw: any seed, or only held-out ones.
fn pick_seed(rng: &mut Rng, n: usize, heldout_only: bool) -> usize {
    if heldout_only {
        let held: Vec<usize> = (0..n).filter(|&i| is_heldout_seed(i)).collect();
        held[rng.below(held.len())]
    } else {
        rng.below(n)
    }
}

/// Checks a generated record's expert answer against its own constraints with the verifiers
/// (`raif_verify::reward::evaluate_tree`, IFEval strict semantics): `Ok(())` when every
/// constraint holds, else the failing leaves.
pub fn verify_expert(record: &Record) -> Result<(), String> {
    let Some(e) = &record.expert else {
        return Err("no expert answer".into());
    };
    let b =
        raif_verify::reward::evaluate_tree(&record.constraints, &e.answer, record.prompt(), None)
            .map_err(|err| err.to_string())?;
    if b.pass && b.satisfied == b.total {
        return Ok(());
    }
    let bad: Vec<String> = b
        .leaves
        .iter()
        .filter(|l| l.role == raif_verify::reward::LeafRole::Constraint && !l.pass)
        .map(|l| format!("{} {} ({})", l.path, l.what, l.reason))
        .collect();
    Err(bad.join("; "))
}

/// What a run did (every number counted during the run).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GenReport {
    pub records: usize,
    pub heldout: usize,
    /// Draws whose construction failed the generator's own exact checks (drawn again).
    pub self_check_rejects: usize,
    /// Draws whose expert answer the verifiers rejected (drawn again), with the first reasons.
    pub verifier_rejects: usize,
    pub verifier_reasons: Vec<String>,
    /// Draws that passed the verifiers but that the caller's length filter
    /// ([`generate_filtered`]) rejected (drawn again), with the first 20 of them.
    pub budget_rejects: usize,
    pub budget_reasons: Vec<String>,
    pub contamination: Option<ContaminationReport>,
}

/// Internal tree over leaf indices into an arena.
#[derive(Clone, Debug)]
enum Node {
    Leaf(usize),
    And(Vec<Node>),
    Chain {
        sep: String,
        steps: Vec<Node>,
    },
    Sel {
        branches: Vec<(Leaf, Node)>,
        otherwise: Option<Box<Node>>,
        /// The branch the prompt selects (`None`: otherwise).
        chosen: Option<usize>,
    },
}

const SEPARATORS: &[&str] = &["=====", "#####", "~~~~~", "%%%%%"];
const STEP_ROLES: &[&str] = &[
    "give a short overview",
    "go into the practical details",
    "wrap up with a closing thought",
];
const STOP: &[&str] = &[
    "about",
    "their",
    "there",
    "which",
    "would",
    "should",
    "could",
    "write",
    "explain",
    "describe",
    "these",
    "those",
    "after",
    "before",
    "where",
    "while",
    "following",
    "summarise",
    "message",
    "short",
    "someone",
    "first",
];

struct Draft<'a> {
    rng: Rng,
    seed: &'a Seed,
    arena: Vec<Leaf>,
    used_words: Vec<String>,
    /// Short profile: small counts in the drawn kwargs.
    short: bool,
}

impl<'a> Draft<'a> {
    /// Draws `k` mutually compatible families passing `ok`, compatible with `with`.
    fn draw_leaves(&mut self, k: usize, with: &[Fam], ok: &dyn Fn(Fam) -> bool) -> Vec<usize> {
        self.draw_from(&ALL, k, with, ok)
    }

    /// [`Self::draw_leaves`] from the families in `from`.
    fn draw_from(
        &mut self,
        from: &[Fam],
        k: usize,
        with: &[Fam],
        ok: &dyn Fn(Fam) -> bool,
    ) -> Vec<usize> {
        let mut pool: Vec<Fam> = from.iter().copied().filter(|f| ok(*f)).collect();
        self.rng.shuffle(&mut pool);
        let mut taken: Vec<Fam> = with.to_vec();
        let mut out = Vec::new();
        for f in pool {
            if out.len() == k {
                break;
            }
            if taken.iter().any(|t| conflicts(*t, f)) {
                continue;
            }
            taken.push(f);
            let leaf = draw_sized(
                f,
                &mut self.rng,
                &self.seed.request,
                &mut self.used_words,
                self.short,
            );
            self.arena.push(leaf);
            out.push(self.arena.len() - 1);
        }
        out
    }

    fn fams(&self, ids: &[usize]) -> Vec<Fam> {
        ids.iter().map(|i| self.arena[*i].fam).collect()
    }

    fn leaves_node(ids: Vec<usize>) -> Node {
        if ids.len() == 1 {
            Node::Leaf(ids[0])
        } else {
            Node::And(ids.into_iter().map(Node::Leaf).collect())
        }
    }

    /// Condition words: words of the seed request.
    fn condition_words(&mut self) -> Vec<String> {
        let mut words: Vec<String> = self
            .seed
            .request
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 5 && w.chars().all(|c| c.is_ascii_lowercase()))
            .filter(|w| !STOP.contains(w))
            .map(str::to_string)
            .collect();
        words.sort();
        words.dedup();
        self.rng.shuffle(&mut words);
        words
    }

    /// A selection whose outcomes are leaf sets (`then_depth` 0: single leaves, 1: Ands).
    fn selection(&mut self, with: &[Fam], then_depth: u8, step: bool) -> Option<Node> {
        let words = self.condition_words();
        if words.len() < 2 {
            return None;
        }
        let n_branches = self.rng.range(1, 2);
        let has_otherwise = n_branches == 1 || self.rng.chance(2, 3);
        // Which outcome the prompt selects.
        let chosen = if has_otherwise && self.rng.chance(1, 3) {
            None
        } else {
            Some(self.rng.below(n_branches))
        };
        let outcome = |d: &mut Draft, is_chosen: bool| -> Option<Node> {
            let k = if then_depth == 0 {
                1
            } else {
                d.rng.range(2, 3)
            };
            let ok =
                move |f: Fam| f.step_ok() && (is_chosen || !f.measured()) && (!step || f.step_ok());
            let ids = d.draw_leaves(k, with, &ok);
            if ids.is_empty() {
                return None;
            }
            Some(if then_depth == 0 {
                Node::Leaf(ids[0])
            } else {
                Node::And(ids.into_iter().map(Node::Leaf).collect())
            })
        };
        let mut branches = Vec::new();
        for (b, w) in words.iter().take(n_branches).enumerate() {
            let is_chosen = chosen == Some(b);
            let w = w.clone();
            let when = if is_chosen {
                Leaf {
                    fam: Fam::Existence,
                    kw: serde_json::from_value(json!({ "keywords": [w] })).unwrap_or_default(),
                }
            } else {
                Leaf {
                    fam: Fam::Forbidden,
                    kw: serde_json::from_value(json!({ "forbidden_words": [w] }))
                        .unwrap_or_default(),
                }
            };
            let then = outcome(self, is_chosen)?;
            branches.push((when, then));
        }
        let otherwise = if has_otherwise {
            Some(Box::new(outcome(self, chosen.is_none())?))
        } else {
            None
        };
        Some(Node::Sel {
            branches,
            otherwise,
            chosen,
        })
    }

    fn chain(&mut self, with: &[Fam], step_depth: u8) -> Option<Node> {
        let sep = (*self.rng.pick(SEPARATORS)).to_string();
        let k = self.rng.range(2, 3);
        let mut steps = Vec::new();
        for i in 0..k {
            let node = match step_depth {
                0 => Self::leaves_node(self.draw_leaves(1, with, &|f: Fam| f.step_ok())),
                1 => {
                    if i == k - 1 && self.rng.chance(1, 3) {
                        self.selection(with, 0, true)?
                    } else {
                        let n = self.rng.range(2, 3);
                        Self::leaves_node(self.draw_leaves(n, with, &|f: Fam| f.step_ok()))
                    }
                }
                _ => {
                    if i == k - 1 {
                        self.selection(with, 1, true)?
                    } else {
                        let n = self.rng.range(2, 3);
                        Node::And(
                            self.draw_leaves(n, with, &|f: Fam| f.step_ok())
                                .into_iter()
                                .map(Node::Leaf)
                                .collect(),
                        )
                    }
                }
            };
            steps.push(node);
        }
        Some(Node::Chain { sep, steps })
    }

    /// A tree of exactly `depth`.
    fn tree(&mut self, depth: u8) -> Option<Node> {
        let shape = self.rng.below(10);
        match depth {
            1 => match shape {
                0..=6 => {
                    let k = self.rng.range(2, 4);
                    Some(Node::And(
                        self.draw_leaves(k, &[], &|_| true)
                            .into_iter()
                            .map(Node::Leaf)
                            .collect(),
                    ))
                }
                7 | 8 => self.chain(&[], 0),
                _ => self.selection(&[], 0, false),
            },
            2 => match shape {
                0..=3 => {
                    let k = self.rng.range(1, 2);
                    let g = self.draw_leaves(k, &[], &|f: Fam| f.chain_safe());
                    let gf = self.fams(&g);
                    let c = self.chain(&gf, 0)?;
                    let mut kids: Vec<Node> = g.into_iter().map(Node::Leaf).collect();
                    kids.push(c);
                    Some(Node::And(kids))
                }
                4..=6 => {
                    let k = self.rng.range(1, 3);
                    let g = self.draw_leaves(k, &[], &|_| true);
                    let gf = self.fams(&g);
                    let s = self.selection(&gf, 0, false)?;
                    let mut kids: Vec<Node> = g.into_iter().map(Node::Leaf).collect();
                    kids.push(s);
                    Some(Node::And(kids))
                }
                7 | 8 => self
                    .chain(&[], 1)
                    .filter(|n| node_depth(n) == 2)
                    .or_else(|| self.chain_ands(&[])),
                _ => self.selection(&[], 1, false),
            },
            _ => match shape {
                0..=4 => {
                    let k = self.rng.range(1, 2);
                    let g = self.draw_leaves(k, &[], &|f: Fam| f.chain_safe());
                    let gf = self.fams(&g);
                    let c = self.chain(&gf, 1)?;
                    if node_depth(&c) != 2 {
                        return None;
                    }
                    let mut kids: Vec<Node> = g.into_iter().map(Node::Leaf).collect();
                    kids.push(c);
                    Some(Node::And(kids))
                }
                5..=7 => {
                    let k = self.rng.range(1, 2);
                    let g = self.draw_leaves(k, &[], &|_| true);
                    let gf = self.fams(&g);
                    let s = self.selection(&gf, 1, false)?;
                    let mut kids: Vec<Node> = g.into_iter().map(Node::Leaf).collect();
                    kids.push(s);
                    Some(Node::And(kids))
                }
                _ => self.chain(&[], 2),
            },
        }
    }

    fn chain_ands(&mut self, with: &[Fam]) -> Option<Node> {
        let sep = (*self.rng.pick(SEPARATORS)).to_string();
        let mut steps = Vec::new();
        for _ in 0..2 {
            let ids = self.draw_leaves(2, with, &|f: Fam| f.step_ok());
            if ids.len() < 2 {
                return None;
            }
            steps.push(Node::And(ids.into_iter().map(Node::Leaf).collect()));
        }
        Some(Node::Chain { sep, steps })
    }
}

fn node_depth(n: &Node) -> usize {
    match n {
        Node::Leaf(_) => 0,
        Node::And(k) => 1 + k.iter().map(node_depth).max().unwrap_or(0),
        Node::Chain { steps, .. } => 1 + steps.iter().map(node_depth).max().unwrap_or(0),
        Node::Sel {
            branches,
            otherwise,
            ..
        } => {
            1 + branches
                .iter()
                .map(|(_, t)| node_depth(t))
                .chain(otherwise.iter().map(|o| node_depth(o)))
                .max()
                .unwrap_or(0)
        }
    }
}

/// The leaves a single-segment node puts on its text (the chosen outcome for a selection).
fn segment_leaves(n: &Node) -> Option<Vec<usize>> {
    match n {
        Node::Leaf(i) => Some(vec![*i]),
        Node::And(kids) => {
            let mut out = Vec::new();
            for k in kids {
                out.extend(segment_leaves(k)?);
            }
            Some(out)
        }
        Node::Sel {
            branches,
            otherwise,
            chosen,
        } => match chosen {
            Some(b) => segment_leaves(&branches.get(*b)?.1),
            None => segment_leaves(otherwise.as_ref()?),
        },
        Node::Chain { .. } => None,
    }
}

/// The answer's segments: one leaf set per text part, and the chain separator if any.
fn segments(root: &Node, arena: &[Leaf]) -> Option<(Vec<Vec<usize>>, Option<String>)> {
    fn split(kids: &[Node]) -> (Vec<usize>, Option<&Node>) {
        let mut g = Vec::new();
        let mut chain = None;
        for k in kids {
            match k {
                Node::Chain { .. } => chain = Some(k),
                other => g.extend(segment_leaves(other).unwrap_or_default()),
            }
        }
        (g, chain)
    }
    match root {
        Node::Chain { sep, steps } => {
            let parts = steps
                .iter()
                .map(segment_leaves)
                .collect::<Option<Vec<_>>>()?;
            Some((parts, Some(sep.clone())))
        }
        Node::And(kids) => {
            let (g, chain) = split(kids);
            match chain {
                None => Some((vec![g], None)),
                Some(Node::Chain { sep, steps }) => {
                    let mut parts = steps
                        .iter()
                        .map(segment_leaves)
                        .collect::<Option<Vec<_>>>()?;
                    for (i, p) in parts.iter_mut().enumerate() {
                        for gi in &g {
                            if i == 0 || arena[*gi].fam.applies_to_every_part() {
                                p.push(*gi);
                            }
                        }
                    }
                    Some((parts, Some(sep.clone())))
                }
                Some(_) => None,
            }
        }
        other => Some((vec![segment_leaves(other)?], None)),
    }
}

fn to_constraint(n: &Node, arena: &[Leaf]) -> Constraint {
    let leaf = |l: &Leaf| Constraint::Rule {
        id: l.fam.id().to_string(),
        kwargs: l.kw.clone(),
    };
    match n {
        Node::Leaf(i) => leaf(&arena[*i]),
        Node::And(k) => Constraint::And {
            children: k.iter().map(|c| to_constraint(c, arena)).collect(),
        },
        Node::Chain { sep, steps } => Constraint::Chain {
            separator: Some(sep.clone()),
            steps: steps.iter().map(|c| to_constraint(c, arena)).collect(),
        },
        Node::Sel {
            branches,
            otherwise,
            ..
        } => Constraint::Selection {
            branches: branches
                .iter()
                .map(|(w, t)| Branch {
                    when: leaf(w),
                    then: to_constraint(t, arena),
                })
                .collect(),
            otherwise: otherwise
                .as_ref()
                .map(|o| Box::new(to_constraint(o, arena))),
        },
    }
}

fn leaf_ids(n: &Node) -> Vec<usize> {
    match n {
        Node::Leaf(i) => vec![*i],
        Node::And(k) => k.iter().flat_map(leaf_ids).collect(),
        Node::Chain { steps, .. } => steps.iter().flat_map(leaf_ids).collect(),
        Node::Sel {
            branches,
            otherwise,
            ..
        } => branches
            .iter()
            .flat_map(|(_, t)| leaf_ids(t))
            .chain(otherwise.iter().flat_map(|o| leaf_ids(o)))
            .collect(),
    }
}

fn when_text(w: &Leaf) -> String {
    match w.fam {
        Fam::Existence => format!("mentions \"{}\"", w.list("keywords").join("")),
        _ => format!(
            "does not mention \"{}\"",
            w.list("forbidden_words").join("")
        ),
    }
}

/// The instruction text for a node (selection and chain wording included).
fn render(n: &Node, arena: &[Leaf], rng: &mut Rng, in_part: bool) -> String {
    match n {
        Node::Leaf(i) => phrase(&arena[*i], rng),
        Node::And(kids) => kids
            .iter()
            .map(|k| render(k, arena, rng, in_part))
            .collect::<Vec<_>>()
            .join(if in_part { " " } else { "\n" }),
        Node::Chain { sep, steps } => {
            let mut s = format!(
                "Answer in {} parts, with a line containing only {sep} between consecutive parts.",
                steps.len()
            );
            for (i, st) in steps.iter().enumerate() {
                let role = STEP_ROLES[(i * STEP_ROLES.len()) / steps.len().max(1)];
                s.push_str(&format!(
                    "\nPart {} should {role}. {}",
                    i + 1,
                    render(st, arena, rng, true)
                ));
            }
            s
        }
        Node::Sel {
            branches,
            otherwise,
            ..
        } => {
            let mut s = String::new();
            for (w, t) in branches {
                s.push_str(&format!(
                    "{}If my request above {}, follow this rule: {}",
                    if s.is_empty() { "" } else { " " },
                    when_text(w),
                    render(t, arena, rng, true)
                ));
            }
            if let Some(o) = otherwise {
                s.push_str(&format!(
                    " {}: {}",
                    if branches.len() == 1 {
                        "If not"
                    } else {
                        "If none of these applies"
                    },
                    render(o, arena, rng, true)
                ));
            }
            s
        }
    }
}

/// The reasoning trace: names and decomposes every constraint and plans how to meet it.
fn reasoning(
    seed: &Seed,
    root: &Node,
    arena: &[Leaf],
    segs: &[Vec<usize>],
    sep: &Option<String>,
) -> String {
    let mut out = Vec::new();
    out.push(format!("The task: {}", seed.request));
    let all = leaf_ids(root);
    out.push(format!(
        "The request carries {} constraint{} on the answer; I will list them and decide how to satisfy each before writing.",
        all.len(),
        if all.len() == 1 { "" } else { "s" }
    ));
    // Structure.
    fn describe(n: &Node, arena: &[Leaf], out: &mut Vec<String>) {
        match n {
            Node::Chain { sep, steps } => {
                out.push(format!(
                    "Structure: a chain of {} parts separated by a line with only {sep}; each part is checked on its own text, so every part must meet its own constraints.",
                    steps.len()
                ));
                for st in steps {
                    describe(st, arena, out);
                }
            }
            Node::Sel {
                branches,
                otherwise,
                chosen,
            } => {
                let mut parts = Vec::new();
                for (i, (w, _)) in branches.iter().enumerate() {
                    let holds = *chosen == Some(i);
                    parts.push(format!(
                        "the condition that my request {} is {}",
                        when_text(w),
                        if holds { "true" } else { "false" }
                    ));
                }
                let pick = match chosen {
                    Some(i) => format!("so branch {} applies", i + 1),
                    None if otherwise.is_some() => "so the fallback branch applies".to_string(),
                    None => "so no branch applies".to_string(),
                };
                out.push(format!(
                    "Structure: a selection. Checking the request: {}; {pick}, and only that branch's constraints count.",
                    parts.join("; ")
                ));
                let mut skipped = Vec::new();
                for (i, (_, t)) in branches.iter().enumerate() {
                    if *chosen != Some(i) {
                        skipped.push((format!("branch {}", i + 1), t));
                    }
                }
                if chosen.is_some() {
                    if let Some(o) = otherwise {
                        skipped.push(("the fallback branch".to_string(), o));
                    }
                }
                for (label, t) in skipped {
                    let names: Vec<String> = leaf_ids(t)
                        .iter()
                        .map(|i| {
                            format!("{} ({})", families::name(arena[*i].fam), arena[*i].fam.id())
                        })
                        .collect();
                    out.push(format!(
                        "Not applicable here: {label}, which would ask for {}.",
                        names.join(", ")
                    ));
                }
                if let Some(i) = chosen {
                    if let Some((_, t)) = branches.get(*i) {
                        describe(t, arena, out);
                    }
                } else if let Some(o) = otherwise {
                    describe(o, arena, out);
                }
            }
            Node::And(kids) => {
                for k in kids {
                    describe(k, arena, out);
                }
            }
            Node::Leaf(_) => {}
        }
    }
    describe(root, arena, &mut out);
    for (si, seg) in segs.iter().enumerate() {
        if segs.len() > 1 {
            out.push(format!("Part {}:", si + 1));
        } else {
            out.push("Constraints that apply to the answer:".to_string());
        }
        for (j, i) in seg.iter().enumerate() {
            let l = &arena[*i];
            out.push(format!(
                "{}. {} ({}): {}.",
                j + 1,
                families::name(l.fam),
                l.fam.id(),
                families::plan(l)
            ));
        }
        let fams: Vec<Fam> = seg.iter().map(|i| arena[*i].fam).collect();
        let order: Vec<&str> = [
            Fam::Lowercase,
            Fam::Capital,
            Fam::TitleCase,
            Fam::Json,
            Fam::Quotation,
        ]
        .iter()
        .filter(|f| fams.contains(f))
        .map(|f| families::name(*f))
        .collect();
        if !order.is_empty() {
            out.push(format!(
                "Order of work: write the content and place every required element first, then apply {} last so nothing undoes it.",
                order.join(", then ")
            ));
        }
    }
    if let Some(s) = sep {
        out.push(format!(
            "I will join the parts with a line holding only {s}."
        ));
    }
    out.push(format!(
        "Content: the answer stays on topic ({}), and after drafting I re-count every number-bearing constraint before finishing.",
        seed.topic
    ));
    out.join("\n")
}

/// Builds record `index` (attempt `attempt`); `None` when this draw must be redrawn.
fn try_record(
    cfg: &GenConfig,
    seeds: &[Seed],
    index: usize,
    attempt: u64,
) -> Option<(Record, bool)> {
    let mut rng = Rng::for_item(cfg.seed, index as u64, attempt);
    let si = pick_seed(&mut rng, seeds.len(), cfg.heldout_only);
    let seed = &seeds[si];
    let depth = cfg
        .depth
        .map(|d| d.clamp(1, 3))
        .unwrap_or_else(|| rng.range(1, 3) as u8);
    let mut d = Draft {
        rng,
        seed,
        arena: Vec::new(),
        used_words: Vec::new(),
        short: false,
    };
    let root = d.tree(depth)?;
    if node_depth(&root) != depth as usize || leaf_ids(&root).is_empty() {
        return None;
    }
    let (segs, sep) = segments(&root, &d.arena)?;
    // Build every part; measured kwargs go back into the arena.
    let mut parts = Vec::new();
    let mut self_ok = true;
    for seg in &segs {
        let mut leaves: Vec<Leaf> = seg.iter().map(|i| d.arena[*i].clone()).collect();
        match build::build_segment(&mut leaves, seed, &mut d.rng) {
            Some(t) => {
                for (k, i) in seg.iter().enumerate() {
                    if d.arena[*i].fam.measured() {
                        d.arena[*i].kw = leaves[k].kw.clone();
                    }
                }
                parts.push(t);
            }
            None => {
                self_ok = false;
                break;
            }
        }
    }
    if !self_ok {
        return Some((rejected_draw(), false));
    }
    let answer = match &sep {
        Some(s) => parts.join(&format!("\n{s}\n")),
        None => parts.join(""),
    };
    let instructions = render(&root, &d.arena, &mut d.rng, false);
    let prompt = format!("{}\n\n{}", seed.request, instructions);
    let trace = reasoning(seed, &root, &d.arena, &segs, &sep);
    let split = if is_heldout_seed(si) {
        Split::Heldout
    } else {
        Split::Train
    };
    let mut r = Record::new(
        format!("gen-{}-{:06}", cfg.seed, index),
        source::GENERATED,
        split,
        vec![Message::user(prompt)],
        to_constraint(&root, &d.arena),
    );
    r.expert = Some(Expert {
        reasoning: trace,
        answer,
    });
    let mut meta = Map::new();
    meta.insert("seed_index".into(), json!(si));
    meta.insert("kind".into(), json!(seed.kind.name()));
    meta.insert("depth".into(), json!(depth));
    meta.insert("gen_seed".into(), json!(cfg.seed));
    meta.insert("attempt".into(), json!(attempt));
    r.meta = meta;
    Some((r, true))
}

/// A draw that cannot become a record (the caller counts it as a self-check reject).
fn rejected_draw() -> Record {
    Record::new(
        "",
        "",
        Split::Train,
        vec![],
        Constraint::And { children: vec![] },
    )
}

/// Salt of the short profile's record streams (ASCII "RAIFSHRT"), so that short records do not
/// mirror the standard records of the same seed.
const SHORT_SALT: u64 = 0x5241_4946_5348_5254;
/// Salt of the stream that draws a short record's constraint count (ASCII "SHRTCONS").
const COUNT_SALT: u64 = 0x5348_5254_434f_4e53;

/// How many constraints short record `index` carries: fixed by the config, else 1 or 2 with
/// equal chance from the index's own stream (the same for every attempt of the index).
fn short_count(cfg: &GenConfig, index: usize) -> usize {
    match cfg.constraints {
        Some(k) => k.clamp(1, 2) as usize,
        None => {
            let mut r = Rng::for_item(cfg.seed ^ COUNT_SALT, index as u64, 0);
            1 + r.below(2)
        }
    }
}

/// Where a family's plan line goes in the short reasoning: content first, then the JSON
/// wrapper, then case transforms (they apply to the JSON key too), then the outer quotes —
/// the order in which the answer is built.
fn work_rank(f: Fam) -> u8 {
    match f {
        Fam::Json => 1,
        Fam::Lowercase | Fam::Capital | Fam::TitleCase => 2,
        Fam::Quotation => 3,
        _ => 0,
    }
}

/// The short reasoning: one plan line per constraint, in the order of work.
fn short_reasoning(leaves: &[Leaf]) -> String {
    let mut order: Vec<&Leaf> = leaves.iter().collect();
    order.sort_by_key(|l| work_rank(l.fam));
    order
        .iter()
        .map(|l| {
            let plan = families::plan_short(l);
            // A plan that ends on a marker such as "P.S." needs no second period.
            let stop = if plan.ends_with('.') { "" } else { "." };
            format!("Plan: {} — {plan}{stop}", families::name(l.fam))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Builds short record `index` (attempt `attempt`); `None` when this draw must be redrawn.
fn try_short(
    cfg: &GenConfig,
    seeds: &[Seed],
    index: usize,
    attempt: u64,
) -> Option<(Record, bool)> {
    let k = short_count(cfg, index);
    let mut rng = Rng::for_item(cfg.seed ^ SHORT_SALT, index as u64, attempt);
    let si = pick_seed(&mut rng, seeds.len(), cfg.heldout_only);
    let seed = &seeds[si];
    let mut d = Draft {
        rng,
        seed,
        arena: Vec::new(),
        used_words: Vec::new(),
        short: true,
    };
    let ids = d.draw_from(&SHORT, k, &[], &|_| true);
    if ids.len() != k {
        return None;
    }
    // The arena holds exactly the drawn leaves, in order.
    let Some(answer) = build::build_short(&mut d.arena, seed, &mut d.rng) else {
        return Some((rejected_draw(), false));
    };
    let root = Node::And(ids.into_iter().map(Node::Leaf).collect());
    let instructions = render(&root, &d.arena, &mut d.rng, false);
    let prompt = format!("{}\n\n{}", seed.request, instructions);
    let split = if is_heldout_seed(si) {
        Split::Heldout
    } else {
        Split::Train
    };
    let mut r = Record::new(
        format!("gen-short-{}-{:06}", cfg.seed, index),
        source::GENERATED,
        split,
        vec![Message::user(prompt)],
        to_constraint(&root, &d.arena),
    );
    r.expert = Some(Expert {
        reasoning: short_reasoning(&d.arena),
        answer,
    });
    let mut meta = Map::new();
    meta.insert("seed_index".into(), json!(si));
    meta.insert("kind".into(), json!(seed.kind.name()));
    meta.insert("depth".into(), json!(1));
    meta.insert("gen_seed".into(), json!(cfg.seed));
    meta.insert("attempt".into(), json!(attempt));
    meta.insert("profile".into(), json!(Profile::Short.name()));
    meta.insert("n_constraints".into(), json!(k));
    r.meta = meta;
    Some((r, true))
}

/// Runs the generator. Every kept record's expert answer has passed the verifiers
/// ([`verify_expert`]); a draw that fails is drawn again (and counted). With `contamination`,
/// prompts too close to a benchmark prompt are dropped and replaced by later records.
pub fn generate(
    cfg: &GenConfig,
    contamination: Option<&ContaminationIndex>,
) -> (Vec<Record>, GenReport) {
    generate_filtered(cfg, contamination, None)
}

/// [`generate`] with a length filter: a verified draw for which `fits` returns false (say, its
/// expert reasoning or answer has more tokens than the model's budget) is drawn again as the
/// next attempt of the same index and counted in [`GenReport::budget_rejects`]; an index that
/// runs out of attempts is skipped, as for any other reject.
pub fn generate_filtered(
    cfg: &GenConfig,
    contamination: Option<&ContaminationIndex>,
    fits: Option<&dyn Fn(&Record) -> bool>,
) -> (Vec<Record>, GenReport) {
    let seeds = seeds::all();
    let mut report = GenReport::default();
    let mut crep = contamination.map(ContaminationReport::new);
    let mut out = Vec::with_capacity(cfg.n);
    let mut index = 0usize;
    // Each index gets up to 200 attempts; the index stream itself is unbounded so that dropped
    // (contaminated) records are replaced by later indices.
    while out.len() < cfg.n && index < cfg.n * 20 + 100 {
        for attempt in 0..200u64 {
            let drawn = match cfg.profile {
                Profile::Standard => try_record(cfg, &seeds, index, attempt),
                Profile::Short => try_short(cfg, &seeds, index, attempt),
            };
            let Some((r, ok)) = drawn else {
                continue;
            };
            if !ok {
                report.self_check_rejects += 1;
                continue;
            }
            if let Err(e) = verify_expert(&r) {
                report.verifier_rejects += 1;
                if report.verifier_reasons.len() < 20 {
                    report.verifier_reasons.push(format!("{}: {e}", r.id));
                }
                continue;
            }
            if let Some(fits) = fits {
                if !fits(&r) {
                    report.budget_rejects += 1;
                    if report.budget_reasons.len() < 20 {
                        report.budget_reasons.push(budget_reason(&r, attempt));
                    }
                    continue;
                }
            }
            if let (Some(idx), Some(cr)) = (contamination, crep.as_mut()) {
                if !cr.admit(idx, &r.id, r.prompt()) {
                    break;
                }
            }
            if r.split == Split::Heldout {
                report.heldout += 1;
            }
            out.push(r);
            break;
        }
        index += 1;
    }
    report.records = out.len();
    report.contamination = crep;
    (out, report)
}

/// What the report says about a draw the length filter rejected (sizes in words and bytes).
fn budget_reason(r: &Record, attempt: u64) -> String {
    let (rw, rc, aw, ac) = match &r.expert {
        Some(e) => (
            text::count_words(&e.reasoning),
            e.reasoning.len(),
            text::count_words(&e.answer),
            e.answer.len(),
        ),
        None => (0, 0, 0, 0),
    };
    format!(
        "{} (attempt {attempt}): reasoning {rw} words / {rc} bytes, answer {aw} words / {ac} bytes",
        r.id
    )
}

/// Histogram of rule ids over records (for the coverage check).
pub fn id_histogram(records: &[Record]) -> std::collections::BTreeMap<String, usize> {
    let mut h = std::collections::BTreeMap::new();
    for r in records {
        for l in r.constraints.leaves() {
            if let Constraint::Rule { id, .. } = l {
                *h.entry(id.clone()).or_insert(0) += 1;
            }
        }
    }
    h
}
