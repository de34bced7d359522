//! The constraint tree of a standard record: drawing it (And / Chain / Selection of depth 1–3
//! over compatible families), the answer's segments (one leaf set per text part), the rule tree
//! it becomes, and the instruction text it is phrased as.

use serde_json::json;

use super::families::{ALL, DOES_NOT_MENTION, MENTIONS};
use super::family::{Fam, Leaf};
use super::rng::Rng;
use super::seeds::Seed;
use raif_verify::{Branch, Constraint};

/// Internal tree over leaf indices into an arena.
#[derive(Clone, Debug)]
pub enum Node {
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

/// The draws of one record: its random stream, seed task and the leaves drawn so far.
pub struct Draft<'a> {
    pub rng: Rng,
    pub seed: &'a Seed,
    /// Every leaf drawn, indexed by the tree's [`Node::Leaf`]s.
    pub arena: Vec<Leaf>,
    used_words: Vec<String>,
    /// Short profile: small counts in the drawn kwargs.
    short: bool,
}

impl<'a> Draft<'a> {
    pub fn new(rng: Rng, seed: &'a Seed, short: bool) -> Self {
        Draft {
            rng,
            seed,
            arena: Vec::new(),
            used_words: Vec::new(),
            short,
        }
    }

    /// Draws `k` mutually compatible families passing `ok`, compatible with `with`.
    fn draw_leaves(&mut self, k: usize, with: &[Fam], ok: &dyn Fn(Fam) -> bool) -> Vec<usize> {
        self.draw_from(&ALL, k, with, ok)
    }

    /// [`Self::draw_leaves`] from the families in `from`.
    pub fn draw_from(
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
            if taken.iter().any(|t| t.conflicts(f)) {
                continue;
            }
            taken.push(f);
            let leaf = f.draw(
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
            let ok = move |f: Fam| {
                !f.traits().whole_answer
                    && (is_chosen || !f.traits().measured)
                    && (!step || !f.traits().whole_answer)
            };
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
                    fam: MENTIONS,
                    kw: serde_json::from_value(json!({ "keywords": [w] })).unwrap_or_default(),
                }
            } else {
                Leaf {
                    fam: DOES_NOT_MENTION,
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
                0 => {
                    Self::leaves_node(self.draw_leaves(1, with, &|f: Fam| !f.traits().whole_answer))
                }
                1 => {
                    if i == k - 1 && self.rng.chance(1, 3) {
                        self.selection(with, 0, true)?
                    } else {
                        let n = self.rng.range(2, 3);
                        Self::leaves_node(
                            self.draw_leaves(n, with, &|f: Fam| !f.traits().whole_answer),
                        )
                    }
                }
                _ => {
                    if i == k - 1 {
                        self.selection(with, 1, true)?
                    } else {
                        let n = self.rng.range(2, 3);
                        Node::And(
                            self.draw_leaves(n, with, &|f: Fam| !f.traits().whole_answer)
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
    pub fn tree(&mut self, depth: u8) -> Option<Node> {
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
                    let g = self.draw_leaves(k, &[], &|f: Fam| f.traits().chain_safe);
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
                    let g = self.draw_leaves(k, &[], &|f: Fam| f.traits().chain_safe);
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
            let ids = self.draw_leaves(2, with, &|f: Fam| !f.traits().whole_answer);
            if ids.len() < 2 {
                return None;
            }
            steps.push(Node::And(ids.into_iter().map(Node::Leaf).collect()));
        }
        Some(Node::Chain { sep, steps })
    }
}

pub fn node_depth(n: &Node) -> usize {
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
pub fn segments(root: &Node, arena: &[Leaf]) -> Option<(Vec<Vec<usize>>, Option<String>)> {
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
                            if i == 0 || arena[*gi].fam.traits().every_part {
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

pub fn to_constraint(n: &Node, arena: &[Leaf]) -> Constraint {
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

pub fn leaf_ids(n: &Node) -> Vec<usize> {
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

/// A selection guard as the prompt and the reasoning say it.
pub fn when_text(w: &Leaf) -> String {
    if w.fam == MENTIONS {
        format!("mentions \"{}\"", w.list("keywords").join(""))
    } else {
        format!(
            "does not mention \"{}\"",
            w.list("forbidden_words").join("")
        )
    }
}

/// The instruction text for a node (selection and chain wording included).
pub fn render(n: &Node, arena: &[Leaf], rng: &mut Rng, in_part: bool) -> String {
    match n {
        Node::Leaf(i) => arena[*i].phrase(rng),
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
