//! The reproducible complex-instruction generator (`raif data gen`).
//!
//! A record = one of our seed tasks ([`seeds`]) + verifiable constraints from the IFEval and
//! IFBench families ([`families`]), composed into And / Chain / Selection trees of depth 1–3,
//! each constraint phrased from several wordings, conflicting families excluded. Every record
//! carries a constructive expert demonstration: a reasoning trace that names and decomposes each
//! constraint and plans for it, and an answer built to satisfy them ([`answer`]). The same seed
//! gives the same records byte for byte (our own [`rng`]).
//!
//! Each family lives in one place: a type in [`families`] implementing [`family::Family`]
//! (kwargs, phrasings, answer material, plan line, self-check), registered in
//! [`families::ALL`].
//!
//! [`Profile::Short`] writes demonstrations a small model can imitate within a short token
//! budget: one or two constraints from [`families::SHORT`], a two-sentence answer plus their
//! material, and one plan line per constraint as reasoning. [`generate_filtered`] lets the
//! caller reject (and redraw) records that do not fit its token budget.

pub mod answer;
pub mod body;
pub mod contamination;
pub mod families;
pub mod family;
mod reasoning;
pub mod rng;
pub mod seeds;
pub mod text;
mod tree;

use serde_json::{json, Map};

use crate::record::{source, Expert, Message, Record, Split};
use families::SHORT;
use family::Leaf;
use raif_verify::Constraint;
use reasoning::{reasoning, short_reasoning};
use rng::Rng;
use seeds::Seed;
use tree::{node_depth, render, segments, to_constraint, Draft, Node};

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
    /// Trees of depth 1–3 (And, Chain, Selection) over every family, with a full reasoning
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
    let mut d = Draft::new(rng, seed, false);
    let root = d.tree(depth)?;
    if node_depth(&root) != depth as usize || tree::leaf_ids(&root).is_empty() {
        return None;
    }
    let (segs, sep) = segments(&root, &d.arena)?;
    // Build every part; measured kwargs go back into the arena.
    let mut parts = Vec::new();
    let mut self_ok = true;
    for seg in &segs {
        let mut leaves: Vec<Leaf> = seg.iter().map(|i| d.arena[*i].clone()).collect();
        match answer::build_segment(&mut leaves, seed, &mut d.rng) {
            Some(t) => {
                for (k, i) in seg.iter().enumerate() {
                    if d.arena[*i].fam.traits().measured {
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
    let mut d = Draft::new(rng, seed, true);
    let ids = d.draw_from(&SHORT, k, &[], &|_| true);
    if ids.len() != k {
        return None;
    }
    // The arena holds exactly the drawn leaves, in order.
    let Some(answer) = answer::build_short(&mut d.arena, seed, &mut d.rng) else {
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
