//! What `raif runs list|show|rollouts` print: JSON lines for scripts, tables for people.

use std::io::Write;

use anyhow::{anyhow, Result};
use serde_json::{json, Map, Value};

use super::{Metrics, Rollout, RolloutFilter, RunInfo, Store};

/// `2026-11-26T04:44:46Z` from Unix seconds (UTC, proleptic Gregorian).
pub fn iso8601(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A number as JSON; NaN and infinities (which JSON cannot carry) become `null`.
fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The object `raif runs list --json` prints for a run.
pub fn run_json(r: &RunInfo) -> Value {
    let error = match &r.status {
        super::RunStatus::Failed(why) => Value::String(why.clone()),
        _ => Value::Null,
    };
    json!({
        "id": r.id,
        "status": r.status.name(),
        "error": error,
        "last_step": r.last_step,
        "model": r.model,
        "dataset": r.dataset,
        "preset": r.preset,
        "source": r.source,
        "created": iso8601(r.created_unix),
        "created_unix": r.created_unix,
    })
}

/// The object `raif runs show --json` prints for a step: `{"step": N, <metric>: value, …}`.
pub fn step_json(step: u64, m: &Metrics) -> Value {
    let mut o = Map::new();
    o.insert("step".into(), json!(step));
    for (k, v) in m {
        o.insert(k.clone(), num(*v));
    }
    Value::Object(o)
}

/// The object `raif runs rollouts --json` prints for a rollout (per-token arrays summarised
/// over the drawn tokens: injected ones have no log-prob or entropy of their own).
pub fn rollout_json(r: &Rollout) -> Value {
    let mean = |xs: &[f32]| {
        let drawn: Vec<f64> = xs
            .iter()
            .enumerate()
            .filter(|(i, _)| !r.forced_tokens.contains(&(*i as u32)))
            .map(|(_, &x)| x as f64)
            .collect();
        if drawn.is_empty() {
            Value::Null
        } else {
            num(drawn.iter().sum::<f64>() / drawn.len() as f64)
        }
    };
    json!({
        "step": r.step,
        "prompt_index": r.prompt_index,
        "prompt_id": r.prompt_id,
        "sample": r.sample,
        "prompt": r.prompt,
        "response": r.response,
        "reasoning": r.reasoning,
        "answer": r.answer,
        "finish": r.finish,
        "num_tokens": r.tokens.len(),
        "forced": if r.was_forced() { r.forced.as_str() } else { "none" },
        "forced_tokens": r.forced_tokens.len(),
        "mean_logprob": mean(&r.logprobs),
        "mean_entropy": mean(&r.entropies),
        "reward": num(r.reward),
        "answer_score": num(r.answer_score),
        "format_score": num(r.format_score),
        "satisfied": r.satisfied,
        "total": r.total,
        "advantage": num(r.advantage),
        "kept": r.kept,
        "keep_reason": r.keep_reason,
        "no_think": r.no_think,
        "eval": r.eval,
        "verdicts": r.verdicts,
    })
}

fn line(w: &mut dyn Write, v: &Value) -> Result<()> {
    serde_json::to_writer(&mut *w, v)?;
    w.write_all(b"\n")?;
    Ok(())
}

fn short(s: &str, n: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= n {
        flat
    } else {
        let mut out: String = flat.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// `raif runs list`.
pub fn write_runs_list(store: &Store, json: bool, w: &mut dyn Write) -> Result<()> {
    let runs = store.list_runs()?;
    if json {
        for r in &runs {
            line(w, &run_json(r))?;
        }
        return Ok(());
    }
    if runs.is_empty() {
        writeln!(w, "no runs in {}", store.path().display())?;
        return Ok(());
    }
    writeln!(
        w,
        "{:<28} {:<9} {:>9} {:<20}  {:<24} {:<8} DATASET",
        "ID", "STATUS", "LAST STEP", "CREATED", "MODEL", "PRESET"
    )?;
    for r in &runs {
        let last = r
            .last_step
            .map_or_else(|| "-".to_string(), |s| s.to_string());
        writeln!(
            w,
            "{:<28} {:<9} {:>9} {:<20}  {:<24} {:<8} {}",
            r.id,
            r.status.name(),
            last,
            iso8601(r.created_unix),
            short(&r.model, 24),
            short(&r.preset, 8),
            short(&r.dataset, 40)
        )?;
        if let super::RunStatus::Failed(why) = &r.status {
            writeln!(w, "    failed: {}", short(why, 100))?;
        }
    }
    Ok(())
}

/// Metrics shown as columns by `raif runs show` without `--json`, in this order when present.
const SHOWN: &[&str] = &[
    "reward",
    "reward_std",
    "answer_score",
    "format_score",
    "keep_ratio",
    "kl",
    "loss",
    "entropy",
    "grad_norm",
    "learning_rate",
    "step_time",
];

/// `raif runs show ID`.
pub fn write_run_show(store: &Store, id: &str, json: bool, w: &mut dyn Write) -> Result<()> {
    let info = store.run(id)?.ok_or_else(|| no_run(store, id))?;
    let steps = store.metrics(id)?;
    if json {
        for (s, m) in &steps {
            line(w, &step_json(*s, m))?;
        }
        return Ok(());
    }
    writeln!(
        w,
        "run {}  status {}  model {}  dataset {}  preset {}  created {}  last step {}",
        info.id,
        info.status,
        info.model,
        info.dataset,
        info.preset,
        iso8601(info.created_unix),
        info.last_step
            .map_or_else(|| "-".to_string(), |s| s.to_string())
    )?;
    if steps.is_empty() {
        writeln!(w, "no committed steps")?;
        return Ok(());
    }
    let cols: Vec<&str> = SHOWN
        .iter()
        .copied()
        .filter(|c| steps.iter().any(|(_, m)| m.contains_key(*c)))
        .collect();
    write!(w, "{:>6}", "step")?;
    for c in &cols {
        write!(w, " {:>13}", short(c, 13))?;
    }
    writeln!(w)?;
    for (s, m) in &steps {
        write!(w, "{s:>6}")?;
        for c in &cols {
            let v = m.get(*c).map_or_else(|| "-".to_string(), |x| fmt_num(*x));
            write!(w, " {v:>13}")?;
        }
        writeln!(w)?;
    }
    let mut others: Vec<&String> = steps
        .iter()
        .flat_map(|(_, m)| m.keys())
        .filter(|k| !SHOWN.contains(&k.as_str()))
        .collect();
    others.sort();
    others.dedup();
    if !others.is_empty() {
        writeln!(
            w,
            "{} more metrics ({}…): see --json",
            others.len(),
            others
                .iter()
                .take(4)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(())
}

fn no_run(store: &Store, id: &str) -> anyhow::Error {
    anyhow!(
        "no run `{id}` in {} (see `raif runs list`)",
        store.path().display()
    )
}

/// `raif runs rollouts ID [--step K] [filters]`. Errors if the run does not exist, or if
/// `--step` names a step that the run never committed.
pub fn write_rollouts(
    store: &Store,
    id: &str,
    filter: RolloutFilter,
    json: bool,
    w: &mut dyn Write,
) -> Result<()> {
    let info = store.run(id)?.ok_or_else(|| no_run(store, id))?;
    if let Some(step) = filter.step {
        if store.step_metrics(id, step)?.is_none() {
            let last = info
                .last_step
                .map_or_else(|| "none yet".to_string(), |s| s.to_string());
            return Err(anyhow!(
                "run `{id}` has no step {step} (last committed step: {last})"
            ));
        }
    }
    if !json {
        writeln!(
            w,
            "{:>5} {:<18} {:>3} {:>8} {:>8} {:<4} {:<3} {:>7}  {:<24} ANSWER",
            "STEP", "PROMPT", "S", "REWARD", "ADV", "KEPT", "NT", "SAT", "FAILED"
        )?;
    }
    let mut n = 0usize;
    for r in store.scan_rollouts(id, filter) {
        let r = r?;
        n += 1;
        if json {
            line(w, &rollout_json(&r))?;
            continue;
        }
        let failed: Vec<&str> = r
            .verdicts
            .iter()
            .filter(|v| !v.pass)
            .map(|v| v.id.as_str())
            .collect();
        writeln!(
            w,
            "{:>5} {:<18} {:>3} {:>8} {:>8} {:<4} {:<3} {:>7}  {:<24} {}",
            r.step,
            short(&r.prompt_id, 18),
            r.sample,
            fmt_num(r.reward),
            fmt_num(r.advantage),
            if r.kept { "yes" } else { "no" },
            if r.no_think { "yes" } else { "" },
            format!("{}/{}", r.satisfied, r.total),
            short(&failed.join(","), 24),
            short(r.answer.as_deref().unwrap_or("(none)"), 60)
        )?;
    }
    if !json {
        writeln!(w, "{n} rollouts")?;
    }
    Ok(())
}
