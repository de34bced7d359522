// temporary developer aid (not committed): time per instruction id, steady state
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut cost: HashMap<String, (f64, usize)> = HashMap::new();
    let empty = Map::new();
    for round in 0..6 {
        for r in &rows {
            let resp = r["response"].as_str().unwrap();
            let ids = r["instruction_id_list"].as_array().unwrap();
            for (i, id) in ids.iter().enumerate() {
                let id = id.as_str().unwrap();
                let kw = r["kwargs"]
                    .get(i)
                    .and_then(Value::as_object)
                    .unwrap_or(&empty);
                let kw: Map<String, Value> = kw
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let t = Instant::now();
                let c = raif_verify::registry::build(id, &kw);
                if let Ok(c) = c {
                    std::hint::black_box(raif_verify::nltk::with_sentence_memo(|| {
                        raif_verify::registry::evaluate_checker(id, &c, resp)
                    }));
                }
                let e = t.elapsed().as_secs_f64();
                if round > 0 {
                    let x = cost.entry(id.to_string()).or_default();
                    x.0 += e / 5.0;
                    x.1 += 1;
                }
            }
        }
    }
    let mut v: Vec<_> = cost.into_iter().collect();
    v.sort_by(|a, b| b.1 .0.partial_cmp(&a.1 .0).unwrap());
    let tot: f64 = v.iter().map(|x| x.1 .0).sum();
    println!("total {:.2} ms", tot * 1e3);
    for (id, (t, n)) in v.iter().take(30) {
        println!(
            "{:>8.3} ms {:>5.1}% n={:>4}/5  {}",
            t * 1e3,
            t / tot * 100.0,
            n,
            id
        );
    }
}
