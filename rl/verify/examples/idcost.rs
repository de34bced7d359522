//! `cargo run -p raif-verify --release --example idcost -- INPUT.jsonl`: where checking a file's
//! lines spends its time, by instruction id (a developer aid for speed work on `raif check`).
//!
//! Builds and evaluates (strict and loose) every instruction of every line six times on one
//! thread and prints the mean time of the last five passes per id, largest first: the first pass
//! pays for the lazily built tables and patterns, the others show the steady cost.
use std::collections::HashMap;
use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::{Map, Value};

fn main() -> anyhow::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        bail!("usage: idcost INPUT.jsonl");
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let mut rows = Vec::new();
    for (i, l) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value =
            serde_json::from_str(l).with_context(|| format!("{path}:{}: malformed JSON", i + 1))?;
        rows.push(v);
    }
    const PASSES: usize = 6;
    let empty = Map::new();
    let mut cost: HashMap<String, (f64, usize)> = HashMap::new();
    for pass in 0..PASSES {
        for r in &rows {
            let resp = r["response"].as_str().unwrap_or("");
            let ids = r["instruction_id_list"]
                .as_array()
                .map_or(&[][..], |a| a.as_slice());
            for (i, id) in ids.iter().enumerate() {
                let Some(id) = id.as_str() else { continue };
                let kw: Map<String, Value> = r["kwargs"]
                    .get(i)
                    .and_then(Value::as_object)
                    .unwrap_or(&empty)
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let t = Instant::now();
                if let Ok(c) = raif_verify::registry::build(id, &kw) {
                    std::hint::black_box(raif_verify::registry::evaluate_checker(id, &c, resp));
                }
                if pass > 0 {
                    let e = cost.entry(id.to_string()).or_default();
                    e.0 += t.elapsed().as_secs_f64() / (PASSES - 1) as f64;
                    e.1 += 1;
                }
            }
        }
    }
    let mut by_id: Vec<_> = cost.into_iter().collect();
    by_id.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    let total: f64 = by_id.iter().map(|x| x.1 .0).sum();
    println!("total {:.2} ms a pass", total * 1e3);
    for (id, (t, n)) in &by_id {
        println!(
            "{:>8.3} ms {:>5.1}%  {:>4} checks  {id}",
            t * 1e3,
            t / total * 100.0,
            n / (PASSES - 1)
        );
    }
    Ok(())
}
