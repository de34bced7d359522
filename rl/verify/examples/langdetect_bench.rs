//! Microseconds per `langdetect::detect` call (a developer aid; run a `--release` build):
//!
//!     cargo run --release -p raif-verify --example langdetect_bench [-- ROUNDS [RESPONSES.jsonl]]
//!
//! Texts: a ~3,000-character English answer, the same in French, a mixed CJK / Latin text, and,
//! when a JSONL file with `response` fields is given (e.g. ../shared/data/ifbench/
//! sample_output.jsonl), its responses. Each text comes in 16 variants (a distinct first word),
//! cycled through, so that the per-thread memo of the last 8 answers never answers a call.
//! Prints the minimum and the median over ROUNDS (default 15) of the mean time per call in each
//! set (on a busy machine the minimum is the steadier figure).
use std::time::Instant;

fn english() -> String {
    let unit = "The committee reviewed the proposal in detail and concluded that the new schedule \
                would reduce waiting times for most passengers. However, several members noted \
                that the evening service still needs more frequent trains, especially on weekends \
                when demand is highest. ";
    repeat_to(unit, 3000)
}

fn french() -> String {
    let unit = "Le comité a examiné la proposition en détail et a conclu que le nouvel horaire \
                réduirait le temps d'attente de la plupart des voyageurs. Cependant, plusieurs \
                membres ont noté que le service du soir a encore besoin de trains plus fréquents. ";
    repeat_to(unit, 3000)
}

fn mixed() -> String {
    let unit = "東京の天気は晴れです。The meeting starts at 10 AM — 会議は十時に始まります。\
                서울은 오늘 비가 옵니다. Привет, как дела? ";
    repeat_to(unit, 3000)
}

fn repeat_to(unit: &str, chars: usize) -> String {
    let mut s = String::new();
    while s.chars().count() < chars {
        s.push_str(unit);
    }
    s
}

/// 16 variants of `text`, each with a distinct first word.
fn variants(text: &str) -> Vec<String> {
    const W: [&str; 16] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
    ];
    W.iter().map(|w| format!("{w} {text}")).collect()
}

fn time_set(texts: &[String], rounds: usize) -> (f64, f64) {
    let mut per_call = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        for x in texts {
            std::hint::black_box(raif_verify::langdetect::detect(std::hint::black_box(x)).ok());
        }
        per_call.push(t.elapsed().as_secs_f64() * 1e6 / texts.len() as f64);
    }
    per_call.sort_by(f64::total_cmp);
    (per_call[0], per_call[per_call.len() / 2])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(15)
        .max(1);
    let mut sets: Vec<(String, Vec<String>)> = vec![
        ("english-3k".into(), variants(&english())),
        ("french-3k".into(), variants(&french())),
        ("mixed-cjk-3k".into(), variants(&mixed())),
    ];
    if let Some(path) = args.next() {
        match std::fs::read_to_string(&path) {
            Ok(body) => {
                let texts: Vec<String> = body
                    .lines()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .filter_map(|v| v.get("response")?.as_str().map(String::from))
                    .collect();
                let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
                let mean = chars / texts.len().max(1);
                sets.push((
                    format!("responses({}, mean {mean} chars)", texts.len()),
                    texts,
                ));
            }
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
    // warm up: the profiles, the regexes, the thread's buffers
    for (_, texts) in &sets {
        for x in texts {
            let _ = raif_verify::langdetect::detect(x);
        }
    }
    for (name, texts) in &sets {
        let (min, median) = time_set(texts, rounds);
        println!("{name:<40} min {min:8.2}  median {median:8.2} µs/call");
    }
}
