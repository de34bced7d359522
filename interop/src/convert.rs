//! Rows → stored rollouts: grouping, re-verification, advantages, step metrics.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, Result};
use raif_store::{
    now_unix, sha256_hex, Metrics, Rollout, RunInfo, RunStatus, StepCommit, Store, Verdict,
};
use raif_verify::reward::{extract, raif_reward, LeafRole, Prefill, RewardConfig};
use raif_verify::{registry, Constraint};
use serde_json::{json, Map, Value};

use crate::readers::{for_each_line, plain_row, Row};
use crate::{ImportOptions, ImportReport};

/// A record's constraints in any of the label forms (a constraint tree, IFEval-style
/// `instruction_id_list` + `kwargs`, a RAIF record's `constraints`, a list of constraints, or
/// a string holding one of these). Every rule leaf must build; judge leaves are refused (an
/// import runs no judge).
pub fn parse_constraints(v: &Value) -> std::result::Result<Constraint, String> {
    let tree = to_tree(v, 0)?;
    for (i, leaf) in tree.leaves().into_iter().enumerate() {
        match leaf {
            Constraint::Rule { id, kwargs } => {
                let _check = registry::build(id, kwargs).map_err(|e| format!("leaf {i}: {e}"))?;
            }
            Constraint::Judge { .. } => {
                return Err(format!(
                    "leaf {i}: a judge question (an import runs no judge)"
                ))
            }
            _ => {}
        }
    }
    Ok(tree)
}

fn to_tree(v: &Value, depth: usize) -> std::result::Result<Constraint, String> {
    if depth > 2 {
        return Err("constraints nested too deeply".into());
    }
    match v {
        Value::String(s) => {
            let inner: Value =
                serde_json::from_str(s).map_err(|e| format!("constraints are not JSON: {e}"))?;
            to_tree(&inner, depth + 1)
        }
        Value::Array(items) => Ok(Constraint::And {
            children: items
                .iter()
                .map(|c| {
                    serde_json::from_value(c.clone()).map_err(|e| format!("not a constraint: {e}"))
                })
                .collect::<std::result::Result<_, _>>()?,
        }),
        Value::Object(o) if o.contains_key("type") => {
            serde_json::from_value(v.clone()).map_err(|e| format!("not a constraint tree: {e}"))
        }
        Value::Object(o) if o.contains_key("instruction_id_list") => {
            let ids: Vec<String> = serde_json::from_value(o["instruction_id_list"].clone())
                .map_err(|e| format!("`instruction_id_list`: {e}"))?;
            let kwargs: Vec<Map<String, Value>> = match o.get("kwargs") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|k| k.as_object().cloned().unwrap_or_default())
                    .collect(),
                Some(_) => return Err("`kwargs` is not a list".into()),
            };
            Ok(Constraint::from_id_list(&ids, &kwargs))
        }
        Value::Object(o) if o.contains_key("constraints") => to_tree(&o["constraints"], depth + 1),
        _ => Err(
            "no constraints here (a constraint tree, instruction_id_list, or constraints)".into(),
        ),
    }
}

/// Constraints by instruction text, from a JSONL of RAIF records or IFEval / IFBench rows.
#[derive(Clone, Debug, Default)]
pub struct Records {
    entries: Vec<(String, Constraint)>,
}

impl Records {
    /// Load the file; lines without usable constraints are reported in `problems`.
    pub fn load(path: &Path, problems: &mut Vec<String>) -> Result<Records> {
        let mut entries = Vec::new();
        for_each_line(path, problems, |o, _| {
            let instruction = match o.get("prompt").and_then(Value::as_str) {
                Some(p) => p.to_string(),
                None => o
                    .get("messages")
                    .and_then(Value::as_array)
                    .and_then(|m| {
                        m.iter()
                            .rev()
                            .find(|x| x.get("role").and_then(Value::as_str) == Some("user"))
                    })
                    .and_then(|x| x.get("content"))
                    .and_then(Value::as_str)
                    .ok_or("neither `prompt` nor a user message")?
                    .to_string(),
            };
            let tree = parse_constraints(&Value::Object(o.clone()))?;
            if !instruction.trim().is_empty() {
                entries.push((instruction, tree));
            }
            Ok(())
        })?;
        // the longest instruction wins when several are contained in a prompt
        entries.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
        Ok(Records { entries })
    }

    /// The constraints of the record whose instruction the prompt contains.
    pub fn find(&self, prompt: &str) -> Option<&Constraint> {
        self.entries
            .iter()
            .find(|(ins, _)| prompt.contains(ins.as_str()))
            .map(|(_, t)| t)
    }
}

/// Read the prefill off the end of a prompt (ALGORITHM §1).
fn detect_prefill(prompt: &str) -> Prefill {
    let p = prompt.trim_end();
    if let Some(before) = p.strip_suffix("</think>") {
        if before.trim_end().ends_with("<think>") {
            return Prefill::NoThink;
        }
        return Prefill::None;
    }
    if p.ends_with("<think>") {
        Prefill::OpenThink
    } else {
        Prefill::None
    }
}

fn role_name(r: LeafRole) -> &'static str {
    match r {
        LeafRole::Constraint => "constraint",
        LeafRole::Guard => "guard",
        LeafRole::NotSelected => "not_selected",
    }
}

/// A valid run id from a name.
fn run_id_from(source: &str, path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    let mut id: String = format!("{source}-{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.:+@".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    id.truncate(120);
    id
}

/// A rollout from a row: re-verified when constraints are known.
fn rollout_of(
    row: &Row,
    tree: Option<&Constraint>,
    opts: &ImportOptions,
    problems: &mut Vec<String>,
) -> (Rollout, bool) {
    let cfg = RewardConfig {
        style: opts.style,
        prefill: detect_prefill(&row.prompt),
    };
    let mut r = Rollout {
        step: row.step,
        prompt_id: sha256_hex(row.prompt.as_bytes())[..16].to_string(),
        prompt: row.prompt.clone(),
        response: row.response.clone(),
        finish: String::new(),
        kept: true,
        keep_reason: "imported".into(),
        no_think: cfg.prefill == Prefill::NoThink,
        ..Default::default()
    };
    if let Some(tree) = tree {
        match raif_reward(&row.response, &row.prompt, tree, &cfg, None) {
            Ok(w) => {
                r.reasoning = w.extracted.reasoning.clone();
                r.answer = w.extracted.answer.clone();
                r.reward = w.reward;
                r.answer_score = w.answer_score;
                r.format_score = w.format_score;
                if let Some(b) = &w.breakdown {
                    r.satisfied = b.satisfied as u32;
                    r.total = b.total as u32;
                    r.verdicts = b
                        .leaves
                        .iter()
                        .map(|l| Verdict {
                            id: l
                                .what
                                .strip_prefix("rule:")
                                .map(str::to_string)
                                .unwrap_or_else(|| "judge".into()),
                            path: l.path.clone(),
                            pass: l.pass,
                            reason: l.reason.clone(),
                            role: role_name(l.role).into(),
                        })
                        .collect();
                } else {
                    r.total = tree
                        .leaves()
                        .iter()
                        .filter(|l| matches!(l, Constraint::Rule { .. }))
                        .count() as u32;
                }
                return (r, true);
            }
            Err(e) => problems.push(format!("{}: not re-verified: {e:#}", row.origin)),
        }
    }
    let e = extract(&row.response, &cfg);
    r.reasoning = e.reasoning;
    r.answer = e.answer;
    r.format_score = if e.format_ok { 1.0 } else { -1.0 };
    r.reward = row.reward.unwrap_or(0.0);
    (r, false)
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Unbiased standard deviation (0 for fewer than two values).
fn std_unbiased(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Group one step's rows into rollouts with metrics.
pub(crate) fn build_step(
    step: u64,
    rows: &[Row],
    records: Option<&Records>,
    opts: &ImportOptions,
    problems: &mut Vec<String>,
    reverified: &mut usize,
) -> StepCommit {
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut samples: HashMap<u32, u32> = HashMap::new();
    let mut parsed: HashMap<String, Option<Constraint>> = HashMap::new();
    let mut rollouts = Vec::with_capacity(rows.len());
    let mut has_adv = Vec::with_capacity(rows.len());
    for row in rows {
        let next = index.len() as u32;
        let pi = *index.entry(row.prompt.as_str()).or_insert(next);
        let s = samples.entry(pi).or_insert(0);
        let sample = *s;
        *s += 1;
        let tree: Option<Constraint> = match &row.constraints {
            Some(c) => {
                let key = c.to_string();
                parsed
                    .entry(key)
                    .or_insert_with(|| match parse_constraints(c) {
                        Ok(t) => Some(t),
                        Err(e) => {
                            problems.push(format!("{}: constraints: {e}", row.origin));
                            None
                        }
                    })
                    .clone()
            }
            None => records.and_then(|r| r.find(&row.prompt)).cloned(),
        };
        let (mut r, verified) = rollout_of(row, tree.as_ref(), opts, problems);
        if verified {
            *reverified += 1;
        }
        r.step = step;
        r.prompt_index = pi;
        r.sample = sample;
        r.advantage = row.advantage.unwrap_or(0.0);
        has_adv.push(row.advantage.is_some());
        rollouts.push(r);
    }
    // advantages the file did not give: per group, (r − mean) / (std + 1e-9), unbiased std
    if has_adv.iter().any(|h| !h) {
        let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, r) in rollouts.iter().enumerate() {
            groups.entry(r.prompt_index).or_default().push(i);
        }
        for idx in groups.values() {
            let rs: Vec<f64> = idx.iter().map(|&i| rollouts[i].reward).collect();
            let m = rs.iter().sum::<f64>() / rs.len() as f64;
            let sd = std_unbiased(&rs);
            for &i in idx {
                if !has_adv[i] {
                    rollouts[i].advantage = if sd == 0.0 {
                        0.0
                    } else {
                        (rollouts[i].reward - m) / (sd + 1e-9)
                    };
                }
            }
        }
    }
    let mut metrics = Metrics::new();
    let rewards: Vec<f64> = rollouts.iter().map(|r| r.reward).collect();
    if let Some(m) = mean(&rewards) {
        metrics.insert("reward".into(), m);
        metrics.insert("reward_std".into(), std_unbiased(&rewards));
    }
    let engine: Vec<f64> = rows.iter().filter_map(|r| r.reward).collect();
    if let Some(m) = mean(&engine) {
        metrics.insert("engine_reward".into(), m);
    }
    let verified: Vec<&Rollout> = rollouts
        .iter()
        .filter(|r| !r.verdicts.is_empty() || r.total > 0)
        .collect();
    if !verified.is_empty() {
        let af: Vec<f64> = verified.iter().map(|r| r.answer_score).collect();
        metrics.insert("answer_score".into(), mean(&af).unwrap_or(0.0));
        let sf: Vec<f64> = verified
            .iter()
            .map(|r| {
                if r.total > 0 {
                    r.satisfied as f64 / r.total as f64
                } else {
                    0.0
                }
            })
            .collect();
        metrics.insert("satisfied_fraction".into(), mean(&sf).unwrap_or(0.0));
    }
    let fok: Vec<f64> = rollouts
        .iter()
        .map(|r| if r.format_score > 0.0 { 1.0 } else { 0.0 })
        .collect();
    if let Some(m) = mean(&fok) {
        metrics.insert("format_ok".into(), m);
    }
    let mut extra: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for r in rows {
        for (k, v) in &r.extra {
            extra.entry(k.as_str()).or_default().push(*v);
        }
    }
    for (k, v) in extra {
        if let Some(m) = mean(&v) {
            metrics.insert(format!("rewards/{k}/mean"), m);
        }
    }
    metrics.insert("rollouts".into(), rollouts.len() as f64);
    StepCommit {
        step,
        metrics,
        rollouts,
        checkpoint: None,
    }
}

fn new_run(
    store: &Store,
    id: String,
    source: &str,
    path: &Path,
    opts: &ImportOptions,
    base: Option<&RunInfo>,
) -> Result<RunInfo> {
    let info = RunInfo {
        id,
        created_unix: now_unix(),
        status: RunStatus::Running,
        model: base.map(|b| b.model.clone()).unwrap_or_default(),
        dataset: base
            .map(|b| b.dataset.clone())
            .unwrap_or_else(|| path.display().to_string()),
        preset: base.map(|b| b.preset.clone()).unwrap_or_default(),
        config: json!({
            "imported_from": path.display().to_string(),
            "format": source,
            "style": opts.style,
            "records": opts.records.as_ref().map(|p| p.display().to_string()),
            "original": base.map(|b| json!({"id": b.id, "source": b.source, "config": b.config})),
        }),
        last_step: None,
        source: format!("import:{source}"),
    };
    store.create_run(&info)?;
    Ok(info)
}

fn commit_all(store: &Store, run: &str, commits: Vec<StepCommit>) -> Result<()> {
    let result = (|| -> Result<()> {
        for c in &commits {
            store
                .commit_step(run, c)
                .with_context(|| format!("committing step {} of run `{run}`", c.step))?;
        }
        Ok(())
    })();
    match &result {
        Ok(()) => store.set_status(run, RunStatus::Finished)?,
        Err(e) => store.set_status(run, RunStatus::Failed(format!("import: {e:#}")))?,
    }
    result
}

/// Group rows by step, convert and commit them as a new run.
pub(crate) fn import_rows(
    store: &Store,
    source: &str,
    path: &Path,
    rows: Vec<Row>,
    mut problems: Vec<String>,
    opts: &ImportOptions,
) -> Result<ImportReport> {
    let records = match &opts.records {
        Some(p) => Some(Records::load(p, &mut problems)?),
        None => None,
    };
    let id = opts
        .run_id
        .clone()
        .unwrap_or_else(|| run_id_from(source, path));
    let mut by_step: BTreeMap<u64, Vec<Row>> = BTreeMap::new();
    for r in rows {
        by_step.entry(r.step).or_default().push(r);
    }
    let mut reverified = 0;
    let mut commits = Vec::new();
    let mut n = 0;
    for (step, rows) in &by_step {
        let c = build_step(
            *step,
            rows,
            records.as_ref(),
            opts,
            &mut problems,
            &mut reverified,
        );
        n += c.rollouts.len();
        commits.push(c);
    }
    new_run(store, id.clone(), source, path, opts, None)?;
    commit_all(store, &id, commits)?;
    Ok(ImportReport {
        run_id: id,
        steps: by_step.len(),
        rollouts: n,
        reverified,
        problems,
    })
}

/// Our JSONL: `run`, `metrics` and `rollout` lines (the export), or plain rows.
pub(crate) fn import_jsonl(
    store: &Store,
    file: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport> {
    let mut problems = Vec::new();
    let mut base: Option<RunInfo> = None;
    let mut metrics: BTreeMap<u64, Metrics> = BTreeMap::new();
    let mut stored: BTreeMap<u64, Vec<Rollout>> = BTreeMap::new();
    let mut rows: Vec<Row> = Vec::new();
    for_each_line(file, &mut problems, |o, origin| {
        match o.get("kind").and_then(Value::as_str) {
            Some("run") => {
                let mut o = o.clone();
                o.remove("kind");
                base = Some(
                    serde_json::from_value(Value::Object(o))
                        .map_err(|e| format!("run line: {e}"))?,
                );
            }
            Some("metrics") => {
                let step = o
                    .get("step")
                    .and_then(Value::as_u64)
                    .ok_or("metrics line without `step`")?;
                let m: Metrics =
                    serde_json::from_value(o.get("metrics").cloned().unwrap_or(Value::Null))
                        .map_err(|e| format!("metrics line: {e}"))?;
                metrics.insert(step, m);
            }
            Some("rollout") => {
                let mut o = o.clone();
                o.remove("kind");
                let r: Rollout = serde_json::from_value(Value::Object(o))
                    .map_err(|e| format!("rollout line: {e}"))?;
                stored.entry(r.step).or_default().push(r);
            }
            Some(other) => return Err(format!("unknown line kind `{other}`")),
            None => rows.push(plain_row(o, origin)?),
        }
        Ok(())
    })?;
    if stored.is_empty() && rows.is_empty() {
        anyhow::bail!("{}: no rollouts or rows to import", file.display());
    }
    let records = match &opts.records {
        Some(p) => Some(Records::load(p, &mut problems)?),
        None => None,
    };
    let mut reverified = 0;
    let mut by_step: BTreeMap<u64, Vec<Row>> = BTreeMap::new();
    for r in rows {
        by_step.entry(r.step).or_default().push(r);
    }
    let mut commits: BTreeMap<u64, StepCommit> = BTreeMap::new();
    for (step, rows) in &by_step {
        let c = build_step(
            *step,
            rows,
            records.as_ref(),
            opts,
            &mut problems,
            &mut reverified,
        );
        commits.insert(*step, c);
    }
    for (step, mut rs) in stored {
        rs.sort_by_key(|r| (r.prompt_index, r.sample));
        let c = commits.entry(step).or_insert_with(|| StepCommit {
            step,
            ..Default::default()
        });
        // exported rollouts keep their indices; plain rows of the same step go after them
        let shift = rs.iter().map(|r| r.prompt_index + 1).max().unwrap_or(0);
        for r in c.rollouts.iter_mut() {
            r.prompt_index += shift;
        }
        rs.append(&mut c.rollouts);
        c.rollouts = rs;
    }
    for (step, m) in metrics {
        let c = commits.entry(step).or_insert_with(|| StepCommit {
            step,
            ..Default::default()
        });
        c.metrics = m;
    }
    let n: usize = commits.values().map(|c| c.rollouts.len()).sum();
    let steps = commits.len();
    let id = opts
        .run_id
        .clone()
        .or_else(|| base.as_ref().map(|b| format!("import-{}", b.id)))
        .unwrap_or_else(|| run_id_from("jsonl", file));
    new_run(store, id.clone(), "jsonl", file, opts, base.as_ref())?;
    commit_all(store, &id, commits.into_values().collect())?;
    Ok(ImportReport {
        run_id: id,
        steps,
        rollouts: n,
        reverified,
        problems,
    })
}
