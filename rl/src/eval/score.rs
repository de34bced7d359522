//! Scoring of one evaluation item per benchmark family, and the benchmark metrics over items.
//!
//! - Rule-scored (IFEval, IFBench): every instruction strict and loose, exactly as `raif check`
//!   (the official `evaluation_lib`) does it.
//! - CELLO: its four scorers, each a score in [0, 1] (NaN where a scorer does not apply).
//! - Judge-scored (FollowBench, InfoBench, CFBench, FB-Bench): one yes/no question per leaf for
//!   the log-prob judge ([`crate::judge`]); an input too long for the judge is reported and
//!   counted as not satisfied.
//!
//! What is scored: in `think` mode the extracted answer (the training rule of ALGORITHM §1; an
//! unscorable response satisfies nothing), in `io` and `cot` mode the whole response
//! (ALGORITHM §6: only the RAIF mode has tags to extract an answer from).

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Result};
use raif_datasets::{Record, Role};
use raif_model::{ChatTemplate, PromptMode};
use raif_verify::reward::{evaluate_tree, extract, Judge, LeafRole, Prefill, RewardConfig};
use raif_verify::{registry, Constraint};

use super::Bench;
use crate::judge::{JudgeQuery, JudgeVerdict, ModelJudge};
use crate::store::{EvalItem, EvalVerdict, Metrics};

/// A generated response before scoring.
pub struct Generated {
    pub text: String,
    pub prompt_tokens: u32,
    pub tokens: u32,
    /// `stop`, `stop_string`, `length`, or [`PROMPT_TOO_LONG`] (nothing was generated).
    pub finish: String,
}

/// The finish reason of an item whose prompt does not fit the model's context: nothing is
/// generated and nothing is satisfied (reported, never truncated).
pub const PROMPT_TOO_LONG: &str = "prompt_too_long";

/// The text the judge sees as "the instruction": the user turn, or for a conversation
/// (FB-Bench's query, first response and feedback; CELLO's history) the whole transcript.
pub fn instruction_text(r: &Record) -> String {
    let turns: Vec<_> = r
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .collect();
    if turns.len() <= 1 {
        return r.prompt().to_string();
    }
    turns
        .iter()
        .map(|m| {
            let who = match m.role {
                Role::User => "User",
                Role::Assistant => "Assistant",
                Role::System => "System",
            };
            format!("{who}: {}", m.content)
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The reasoning, the scored text and why nothing is scored (if so).
pub struct Answer {
    pub reasoning: Option<String>,
    pub answer: Option<String>,
    pub format_ok: bool,
    pub unscorable: Option<String>,
}

/// Extract what is scored from a response in `mode`.
pub fn answer_of(response: &str, mode: PromptMode, template: &ChatTemplate) -> Answer {
    match mode {
        PromptMode::Think | PromptMode::NoThink => {
            let cfg = RewardConfig {
                style: crate::rollout::tag_style(template),
                prefill: if mode == PromptMode::Think {
                    Prefill::OpenThink
                } else {
                    Prefill::NoThink
                },
            };
            let e = extract(response, &cfg);
            Answer {
                reasoning: e.reasoning,
                answer: e.answer.filter(|_| e.scorable),
                format_ok: e.format_ok,
                unscorable: e.unscorable_reason,
            }
        }
        // The whole response, as generated (the official IFEval evaluation does not trim).
        PromptMode::Io | PromptMode::Cot => Answer {
            reasoning: None,
            answer: Some(response.to_string()),
            format_ok: true,
            unscorable: None,
        },
    }
}

/// The assistant turn before the last user turn (CELLO's "revise" criterion compares with it).
fn previous_answer(r: &Record) -> Option<&str> {
    let last_user = r.messages.iter().rposition(|m| m.role == Role::User)?;
    r.messages[..last_user]
        .iter()
        .rev()
        .find(|m| m.role == Role::Assistant)
        .map(|m| m.content.as_str())
}

/// Leaves of a flat tree (an And of leaves, or one leaf) with their paths; None otherwise.
fn flat_leaves(c: &Constraint) -> Option<Vec<(String, &Constraint)>> {
    match c {
        Constraint::Rule { .. } | Constraint::Judge { .. } => Some(vec![("root".into(), c)]),
        Constraint::And { children } => children
            .iter()
            .enumerate()
            .map(|(i, ch)| match ch {
                Constraint::Rule { .. } | Constraint::Judge { .. } => {
                    Some((format!("root.and[{i}]"), ch))
                }
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn not_scored(c: &Constraint, path: String, why: &str, graded: bool) -> EvalVerdict {
    let (id, question) = match c {
        Constraint::Rule { id, .. } => (id.clone(), None),
        Constraint::Judge { question } => ("judge".to_string(), Some(question.clone())),
        _ => (String::new(), None),
    };
    let rule = matches!(c, Constraint::Rule { .. });
    EvalVerdict {
        id,
        path,
        question,
        strict: false,
        loose: (rule && !graded).then_some(false),
        score: graded.then_some(0.0),
        reason: format!("not scored: {why}"),
        overlong: false,
    }
}

/// The judge questions an item needs (none when its answer is not scorable).
pub fn judge_queries(record: &Record, answer: &Answer) -> Vec<JudgeQuery> {
    let Some(text) = &answer.answer else {
        return Vec::new();
    };
    let instruction = instruction_text(record);
    record
        .constraints
        .leaves()
        .into_iter()
        .filter_map(|l| match l {
            Constraint::Judge { question } => Some(JudgeQuery {
                instruction: instruction.clone(),
                answer: text.clone(),
                question: question.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// Verdicts already computed by a batch call, served to the tree evaluator.
struct Answered<'a> {
    verdicts: &'a HashMap<JudgeQuery, JudgeVerdict>,
    judge: Option<&'a ModelJudge>,
}

impl Judge for Answered<'_> {
    fn ask(&self, instruction: &str, answer: &str, question: &str) -> Result<bool> {
        let q = JudgeQuery {
            instruction: instruction.to_string(),
            answer: answer.to_string(),
            question: question.to_string(),
        };
        match (self.verdicts.get(&q), self.judge) {
            (Some(v), _) => Ok(v.pass),
            // A question not asked ahead (a guard on the prompt): ask now.
            (None, Some(j)) => j.ask(instruction, answer, question),
            (None, None) => bail!("no judge for the question `{question}`"),
        }
    }
}

/// Score one item. `judged` holds the verdicts of [`judge_queries`] (judge-scored benchmarks).
pub fn score_item(
    bench: Bench,
    record: &Record,
    answer: &Answer,
    judged: &HashMap<JudgeQuery, JudgeVerdict>,
    judge: Option<&ModelJudge>,
) -> Result<Vec<EvalVerdict>> {
    let tree = &record.constraints;
    let graded = bench == Bench::Cello;
    let Some(text) = &answer.answer else {
        let why = answer.unscorable.as_deref().unwrap_or("no answer");
        if let Some(leaves) = flat_leaves(tree) {
            return Ok(leaves
                .into_iter()
                .map(|(p, c)| not_scored(c, p, why, graded))
                .collect());
        }
        // A rule-only tree: the leaves a scored answer is held to. Selection guards read the
        // prompt, so an empty answer takes the same branch, and the instruction count does
        // not depend on whether the answer could be scored.
        if let Ok(b) = evaluate_tree(tree, "", &instruction_text(record), None) {
            return Ok(b
                .leaves
                .into_iter()
                .filter(|l| l.role == LeafRole::Constraint)
                .map(|l| EvalVerdict {
                    id: l.what.strip_prefix("rule:").unwrap_or(&l.what).to_string(),
                    path: l.path,
                    question: None,
                    strict: false,
                    loose: None,
                    score: None,
                    reason: format!("not scored: {why}"),
                    overlong: false,
                })
                .collect());
        }
        // (judge leaves: every leaf of the tree)
        return Ok(tree
            .leaves()
            .into_iter()
            .enumerate()
            .map(|(i, c)| not_scored(c, format!("leaf[{i}]"), why, graded))
            .collect());
    };
    if bench == Bench::Cello {
        let Some(leaves) = flat_leaves(tree) else {
            bail!(
                "record `{}`: CELLO records are an And of scorers",
                record.id
            );
        };
        let previous = previous_answer(record);
        return leaves
            .into_iter()
            .map(|(path, c)| {
                let Constraint::Rule { id, kwargs } = c else {
                    bail!("record `{}`: {path} is not a CELLO scorer", record.id);
                };
                let s = raif_verify::cello::score(id, kwargs, text, previous)
                    .map_err(|e| anyhow::anyhow!("record `{}`: {path}: {e}", record.id))?;
                Ok(EvalVerdict {
                    id: id.clone(),
                    path,
                    question: None,
                    strict: s.score >= 1.0,
                    loose: None,
                    score: Some(s.score),
                    reason: s.reason,
                    overlong: false,
                })
            })
            .collect();
    }
    if !bench.judged() {
        // Rules: strict and loose like the official evaluation, per leaf.
        if let Some(leaves) = flat_leaves(tree) {
            if leaves
                .iter()
                .all(|(_, c)| matches!(c, Constraint::Rule { .. }))
            {
                return Ok(leaves
                    .into_iter()
                    .map(|(path, c)| {
                        let Constraint::Rule { id, kwargs } = c else {
                            unreachable!("checked above")
                        };
                        let r = registry::evaluate(id, kwargs, text);
                        EvalVerdict {
                            id: id.clone(),
                            path,
                            question: None,
                            strict: r.strict,
                            loose: Some(r.loose),
                            score: None,
                            reason: match &r.error {
                                Some(e) => format!("{} ({e})", r.reason),
                                None => r.reason,
                            },
                            overlong: false,
                        }
                    })
                    .collect());
            }
        }
    }
    // Any other tree, judge leaves included: the RAIF tree evaluator (strict rules).
    let j = Answered {
        verdicts: judged,
        judge,
    };
    let instruction = instruction_text(record);
    let b = evaluate_tree(tree, text, &instruction, Some(&j))?;
    Ok(b.leaves
        .into_iter()
        .filter(|l| l.role == LeafRole::Constraint)
        .map(|l| {
            let question = l.what.strip_prefix("judge:").map(str::to_string);
            let verdict = question.as_ref().and_then(|q| {
                judged.get(&JudgeQuery {
                    instruction: instruction.clone(),
                    answer: text.clone(),
                    question: q.clone(),
                })
            });
            EvalVerdict {
                id: match &question {
                    Some(_) => "judge".into(),
                    None => l.what.strip_prefix("rule:").unwrap_or(&l.what).to_string(),
                },
                path: l.path,
                question,
                strict: l.pass,
                loose: None,
                score: None,
                reason: verdict.map(JudgeVerdict::reason).unwrap_or(l.reason),
                overlong: verdict.is_some_and(|v| v.overlong.is_some()),
            }
        })
        .collect())
}

fn mean(xs: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut s, mut n) = (0.0, 0usize);
    for x in xs {
        if !x.is_nan() {
            s += x;
            n += 1;
        }
    }
    (n > 0).then(|| s / n as f64)
}

fn frac(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The fraction of an item's constraints satisfied (a CELLO item: the mean of its scores);
/// what `raif compare` ranks items by.
pub fn item_score(it: &EvalItem) -> f64 {
    mean(it.verdicts.iter().map(|v| match v.score {
        Some(s) => s,
        None => f64::from(u8::from(v.strict)),
    }))
    .unwrap_or(0.0)
}

/// Benchmark metrics over items (each with its record at `records[item.index]`), keyed
/// `<bench>.<metric>`.
pub fn metrics(bench: Bench, items: &[EvalItem], records: &[Record]) -> Result<Metrics> {
    let k = bench.key();
    let mut m = Metrics::new();
    let mut put = |name: &str, v: f64| {
        m.insert(format!("{k}.{name}"), v);
    };
    let n = items.len();
    put("items", n as f64);
    put(
        "format_ok",
        frac(items.iter().filter(|i| i.format_ok).count(), n),
    );
    put(
        "unscorable",
        frac(items.iter().filter(|i| i.unscorable.is_some()).count(), n),
    );
    put(
        "truncated",
        frac(items.iter().filter(|i| i.finish == "length").count(), n),
    );
    put(
        "prompt_too_long",
        items.iter().filter(|i| i.finish == PROMPT_TOO_LONG).count() as f64,
    );
    put(
        "mean_tokens",
        mean(items.iter().map(|i| f64::from(i.tokens))).unwrap_or(0.0),
    );
    match bench {
        Bench::Ifeval | Bench::Ifbench | Bench::Generated => rule_metrics(items, &mut put),
        Bench::Cello => cello_metrics(items, &mut put),
        Bench::Followbench => followbench_metrics(items, records, &mut put)?,
        Bench::Infobench => infobench_metrics(items, &mut put),
        Bench::Cfbench => cfbench_metrics(items, records, &mut put)?,
        Bench::Fbbench => fbbench_metrics(items, records, &mut put)?,
    }
    if bench.judged() {
        let over: usize = items
            .iter()
            .map(|i| i.verdicts.iter().filter(|v| v.overlong).count())
            .sum();
        put("judge_overlong", over as f64);
    }
    Ok(m)
}

/// IFEval, IFBench and generated records: prompt- and instruction-level accuracy, strict and
/// loose, and per instruction id.
fn rule_metrics(items: &[EvalItem], put: &mut dyn FnMut(&str, f64)) {
    let n = items.len();
    let (mut ps, mut pl, mut ni, mut is, mut il) = (0, 0, 0, 0, 0);
    let mut by_id: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for it in items {
        ps += usize::from(it.verdicts.iter().all(|v| v.strict));
        pl += usize::from(it.verdicts.iter().all(|v| v.loose.unwrap_or(v.strict)));
        for v in &it.verdicts {
            ni += 1;
            is += usize::from(v.strict);
            il += usize::from(v.loose.unwrap_or(v.strict));
            let e = by_id.entry(&v.id).or_default();
            e.0 += 1;
            e.1 += usize::from(v.strict);
            e.2 += usize::from(v.loose.unwrap_or(v.strict));
        }
    }
    put("prompt_strict", frac(ps, n));
    put("prompt_loose", frac(pl, n));
    put("instruction_strict", frac(is, ni));
    put("instruction_loose", frac(il, ni));
    put("instructions", ni as f64);
    for (id, (c, s, l)) in by_id {
        put(&format!("by_id.{id}.strict"), frac(s, c));
        put(&format!("by_id.{id}.loose"), frac(l, c));
        put(&format!("by_id.{id}.count"), c as f64);
    }
}

/// CELLO: per scorer the mean over items where it applies, and their average.
fn cello_metrics(items: &[EvalItem], put: &mut dyn FnMut(&str, f64)) {
    // CELLO's score: per item and scorer a value in [0, 1] (NaN: does not apply);
    // per scorer the mean over items where it applies; overall the mean of the four.
    let mut per: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for it in items {
        for v in &it.verdicts {
            per.entry(cello_name(&v.id))
                .or_default()
                .push(v.score.unwrap_or(f64::NAN));
        }
    }
    let mut crit = Vec::new();
    for (name, xs) in per {
        if let Some(v) = mean(xs) {
            put(name, v);
            crit.push(v);
        }
    }
    put("average", mean(crit).unwrap_or(0.0));
}

/// FollowBench: hard and soft satisfaction per level and averaged over the levels present.
fn followbench_metrics(
    items: &[EvalItem],
    records: &[Record],
    put: &mut dyn FnMut(&str, f64),
) -> Result<()> {
    // Hard satisfaction: every constraint of the item holds; soft: the fraction that
    // holds. Per level (1–5) and averaged over the levels present.
    let mut levels: BTreeMap<u64, (usize, usize, f64)> = BTreeMap::new();
    for it in items {
        let level = record_of(records, it)?
            .meta
            .get("level")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let e = levels.entry(level).or_default();
        e.0 += 1;
        e.1 += usize::from(it.verdicts.iter().all(|v| v.strict));
        e.2 += item_score(it);
    }
    let (mut hs, mut ss) = (Vec::new(), Vec::new());
    for (level, (c, h, s)) in levels {
        let (h, s) = (frac(h, c), s / c as f64);
        put(&format!("L{level}.hsr"), h);
        put(&format!("L{level}.ssr"), s);
        hs.push(h);
        ss.push(s);
    }
    put("hsr", mean(hs).unwrap_or(0.0));
    put("ssr", mean(ss).unwrap_or(0.0));
    Ok(())
}

/// InfoBench: DRFR over the decomposed questions, and items with every answer yes.
fn infobench_metrics(items: &[EvalItem], put: &mut dyn FnMut(&str, f64)) {
    let n = items.len();
    // DRFR: satisfied decomposed questions over all questions.
    let total: usize = items.iter().map(|i| i.verdicts.len()).sum();
    let yes: usize = items
        .iter()
        .map(|i| i.verdicts.iter().filter(|v| v.strict).count())
        .sum();
    put("drfr", frac(yes, total));
    put(
        "all_yes",
        frac(
            items
                .iter()
                .filter(|i| i.verdicts.iter().all(|v| v.strict))
                .count(),
            n,
        ),
    );
}

/// CFBench: CSR, ISR and the items whose primary constraints all hold.
fn cfbench_metrics(
    items: &[EvalItem],
    records: &[Record],
    put: &mut dyn FnMut(&str, f64),
) -> Result<()> {
    let n = items.len();
    // CSR: mean per item of the fraction satisfied; ISR: items with every constraint
    // satisfied; primary_all: items whose primary (主需) constraints all hold.
    let (mut csr, mut isr, mut prim) = (0.0, 0, 0);
    for it in items {
        csr += item_score(it);
        isr += usize::from(it.verdicts.iter().all(|v| v.strict));
        let pr = record_of(records, it)?
            .meta
            .get("priorities")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        let ok = it
            .verdicts
            .iter()
            .enumerate()
            .filter(|(i, _)| pr.get(*i).and_then(|p| p.as_str()) == Some("primary"))
            .all(|(_, v)| v.strict);
        prim += usize::from(ok);
    }
    put("csr", if n == 0 { 0.0 } else { csr / n as f64 });
    put("isr", frac(isr, n));
    put("primary_all", frac(prim, n));
    Ok(())
}

/// FB-Bench: the checklist's weighted share satisfied.
fn fbbench_metrics(
    items: &[EvalItem],
    records: &[Record],
    put: &mut dyn FnMut(&str, f64),
) -> Result<()> {
    let n = items.len();
    // Per item: the checklist's weighted share satisfied (null weights: equal).
    let mut total = 0.0;
    let mut all = 0;
    for it in items {
        let w = record_of(records, it)?
            .meta
            .get("weights")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        let (mut got, mut sum) = (0.0, 0.0);
        for (i, v) in it.verdicts.iter().enumerate() {
            let wi = w.get(i).and_then(|x| x.as_f64()).unwrap_or(1.0);
            sum += wi;
            if v.strict {
                got += wi;
            }
        }
        total += if sum > 0.0 { got / sum } else { 0.0 };
        all += usize::from(it.verdicts.iter().all(|v| v.strict));
    }
    put("score", if n == 0 { 0.0 } else { total / n as f64 });
    put("all_yes", frac(all, n));
    Ok(())
}

/// The benchmark record of an evaluation item.
fn record_of<'r>(records: &'r [Record], it: &EvalItem) -> Result<&'r Record> {
    records
        .get(it.index as usize)
        .ok_or_else(|| anyhow::anyhow!("evaluation item {} has no benchmark record", it.index))
}

/// The metric name of a CELLO scorer id.
fn cello_name(id: &str) -> &'static str {
    match id {
        "cello:answer_format" => "format",
        "cello:input_dependent_query" => "input",
        "cello:task_prescribed_phrases" => "task",
        "cello:count_limit" => "count",
        _ => "other",
    }
}

/// The headline metrics of a benchmark, in table order (key, label).
pub fn headline(bench: Bench) -> &'static [(&'static str, &'static str)] {
    match bench {
        Bench::Ifeval | Bench::Ifbench | Bench::Generated => &[
            ("prompt_strict", "prompt strict"),
            ("prompt_loose", "prompt loose"),
            ("instruction_strict", "instr strict"),
            ("instruction_loose", "instr loose"),
        ],
        Bench::Cello => &[
            ("format", "format"),
            ("input", "input"),
            ("task", "task"),
            ("count", "count"),
            ("average", "average"),
        ],
        Bench::Followbench => &[("hsr", "HSR"), ("ssr", "SSR")],
        Bench::Infobench => &[("drfr", "DRFR"), ("all_yes", "all yes")],
        Bench::Cfbench => &[
            ("csr", "CSR"),
            ("isr", "ISR"),
            ("primary_all", "primary all"),
        ],
        Bench::Fbbench => &[("score", "score"), ("all_yes", "all yes")],
    }
}
