//! Side by side: two evaluations of the same benchmark items (e.g. the base model in `cot`
//! mode against a RAIF checkpoint in `think` mode) compared item by item, and one free prompt
//! answered by both.

use anyhow::{bail, Context, Result};
use raif_datasets::{Message, Record, Split};
use raif_model::{LoadedModel, PromptMode};
use raif_verify::Constraint;
use serde::{Deserialize, Serialize};

use super::score::item_score;
use super::{generate_batch, mode_name, score_batch, Bench};
use crate::judge::ModelJudge;
use crate::store::EvalItem;

/// A side of `raif compare` and the workbench's playground: a model or checkpoint and a mode.
#[derive(Clone, Debug, PartialEq)]
pub struct SideSpec {
    pub model: String,
    pub checkpoint: Option<String>,
    pub mode: PromptMode,
}

impl SideSpec {
    pub fn label(&self) -> String {
        format!(
            "{} ({})",
            self.checkpoint.as_deref().unwrap_or(&self.model),
            mode_name(self.mode)
        )
    }
}

/// Parses `TARGET:MODE`; TARGET is a checkpoint when it has `@` and names a run in the store.
pub fn parse_side(spec: &str, is_run: &dyn Fn(&str) -> bool) -> Result<SideSpec> {
    let (target, mode) = spec.rsplit_once(':').with_context(|| {
        format!("`{spec}`: expected TARGET:MODE, e.g. default:cot or RUN@STEP:think")
    })?;
    let mode: PromptMode = mode.parse().with_context(|| format!("`{spec}`"))?;
    if mode == PromptMode::NoThink {
        bail!("`{spec}`: the mode must be io, cot or think");
    }
    if target.is_empty() {
        bail!("`{spec}`: no model or checkpoint before `:`");
    }
    let run = target.rsplit_once('@').map(|(r, _)| r).unwrap_or(target);
    if target.contains('@') && is_run(run) {
        Ok(SideSpec {
            model: String::new(),
            checkpoint: Some(target.to_string()),
            mode,
        })
    } else if target.contains('@') {
        bail!("`{spec}`: no run `{run}` in the store (see `raif runs list`)")
    } else {
        Ok(SideSpec {
            model: target.to_string(),
            checkpoint: None,
            mode,
        })
    }
}

/// Who did better on one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    AWins,
    BWins,
    Tie,
}

/// One item of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairRow {
    pub index: u32,
    pub record_id: String,
    /// Fraction of the item's constraints satisfied (CELLO: mean score).
    pub a: f64,
    pub b: f64,
    pub outcome: Outcome,
}

/// Wins, losses and ties of A against B.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub a_wins: usize,
    pub b_wins: usize,
    pub ties: usize,
    pub rows: Vec<PairRow>,
}

/// Compare the items both evaluations have (matched by index, which must name the same record).
pub fn compare_items(a: &[EvalItem], b: &[EvalItem]) -> Result<Tally> {
    let mut t = Tally::default();
    let by_index: std::collections::HashMap<u32, &EvalItem> =
        b.iter().map(|i| (i.index, i)).collect();
    for ia in a {
        let Some(ib) = by_index.get(&ia.index) else {
            continue;
        };
        if ia.record_id != ib.record_id {
            bail!(
                "item {}: A answered record `{}`, B record `{}`: not the same benchmark data",
                ia.index,
                ia.record_id,
                ib.record_id
            );
        }
        let (sa, sb) = (item_score(ia), item_score(ib));
        let outcome = if sa > sb {
            t.a_wins += 1;
            Outcome::AWins
        } else if sb > sa {
            t.b_wins += 1;
            Outcome::BWins
        } else {
            t.ties += 1;
            Outcome::Tie
        };
        t.rows.push(PairRow {
            index: ia.index,
            record_id: ia.record_id.clone(),
            a: sa,
            b: sb,
            outcome,
        });
    }
    Ok(t)
}

/// One side of a free-prompt comparison.
pub struct Side<'a> {
    pub model: &'a LoadedModel,
    pub mode: PromptMode,
}

/// Answer one prompt with both sides (greedy) and score each answer against `constraints`
/// (rules strict and loose; judge questions with `judge`). Without constraints the verdict
/// lists are empty.
pub fn compare_prompt(
    a: &Side,
    b: &Side,
    prompt: &str,
    constraints: Option<&Constraint>,
    judge: Option<&ModelJudge>,
    max_new_tokens: usize,
) -> Result<(EvalItem, EvalItem)> {
    let tree = constraints.cloned().unwrap_or(Constraint::And {
        children: Vec::new(),
    });
    let has_judge = tree
        .leaves()
        .iter()
        .any(|l| matches!(l, Constraint::Judge { .. }));
    // Rules only: the IFEval scoring (strict and loose); judge questions: the judged path.
    let bench = if has_judge {
        Bench::Infobench
    } else {
        Bench::Ifeval
    };
    let record = Record::new(
        "prompt",
        "prompt",
        Split::Test,
        vec![Message::user(prompt)],
        tree,
    );
    let mut out = Vec::new();
    for side in [a, b] {
        let (mut g, _) = generate_batch(side.model, &[&record], side.mode, max_new_tokens)?;
        let Some(g) = g.pop() else {
            bail!("generation returned nothing");
        };
        let mut items = score_batch(bench, side.model, side.mode, judge, &[(0, &record, g)])?;
        let Some(it) = items.pop() else {
            bail!("scoring returned nothing");
        };
        out.push(it);
    }
    let b_item = out.pop();
    let a_item = out.pop();
    match (a_item, b_item) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => bail!("comparison incomplete"),
    }
}
