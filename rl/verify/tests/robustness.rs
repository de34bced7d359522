//! Every checker on arbitrary unicode (no panic), and on a 20 KB response (checked, timed,
//! not asserted: benchmarks are commands, not tests).

use std::collections::BTreeMap;
use std::time::Instant;

use proptest::prelude::*;
use serde_json::{Map, Value};

/// One buildable kwargs set per id, taken from the corpus.
fn kwargs_per_id() -> BTreeMap<String, Map<String, Value>> {
    let mut m = BTreeMap::new();
    for line in include_str!("../data/corpus.jsonl").lines() {
        let c: Value = serde_json::from_str(line).expect("corpus line");
        let id = c["id"].as_str().unwrap_or("").to_string();
        if m.contains_key(&id) {
            continue;
        }
        let kw = c["kwargs"].as_object().cloned().unwrap_or_default();
        if raif_verify::registry::build(&id, &kw).is_ok() {
            m.insert(id, kw);
        }
    }
    m.insert("detectable_format:xml_format".into(), Map::new());
    m
}

fn text_strategy() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<String>(),
        "[ \\n\\r\\t*#\\-_.,;:!?\"'()\\[\\]{}<>/\\\\|`~@$%^&=+0-9a-zA-Z]{0,80}",
        "[\\u{0}-\\u{ff}]{0,40}",
        "[\\u{300}-\\u{36f}\\u{900}-\\u{97f}\\u{4e00}-\\u{4e20}\\u{3040}-\\u{30ff}\\u{1f600}-\\u{1f64f}\\u{1c}-\\u{1f}\\u{2028}\\u{200b}]{0,40}",
        Just("<think>".to_string()),
        Just("</answer>".to_string()),
        Just("Section 1\n".to_string()),
        Just("******".to_string()),
        Just("\n\n".to_string()),
        Just("Mr. ".to_string()),
        Just("\"".to_string()),
    ];
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn no_checker_panics(text in text_strategy()) {
        for (id, kw) in kwargs_per_id() {
            let _ = raif_verify::evaluate(&id, &kw, &text);
        }
    }

    #[test]
    fn reward_never_panics(text in text_strategy()) {
        let tree: raif_verify::Constraint = serde_json::from_str(
            r#"{"type":"and","children":[{"type":"rule","id":"punctuation:no_comma","kwargs":{}},
               {"type":"chain","separator":"***","steps":[{"type":"rule","id":"length_constraints:number_words","kwargs":{"num_words":3,"relation":"at least"}}]}]}"#).unwrap();
        for style in [raif_verify::reward::TagStyle::ThinkAnswer, raif_verify::reward::TagStyle::ThinkOnly, raif_verify::reward::TagStyle::Plain] {
            let cfg = raif_verify::reward::RewardConfig { style, prefill: raif_verify::reward::Prefill::None };
            let r = raif_verify::reward::raif_reward(&text, &text, &tree, &cfg, None).unwrap();
            prop_assert!((-3.0..=3.0).contains(&r.reward));
        }
    }
}

#[test]
fn every_checker_handles_20kb() {
    let unit = "The quick brown fox, Mr. Smith said, jumps over 3 lazy dogs! Is it *true*? \"Yes\" (really) — 日本語 😀\n";
    let mut text = String::new();
    while text.len() < 20_000 {
        text.push_str(unit);
    }
    let mut slowest = (0.0f64, String::new());
    let ids = kwargs_per_id();
    assert_eq!(ids.len(), 84, "every id has a kwargs set");
    for (id, kw) in ids {
        let c = raif_verify::registry::build(&id, &kw).expect("build");
        let _ = c("Warm up the lazily loaded tables. Mr. Smith said so."); // first use loads data
        let t = Instant::now();
        let _ = c(&text);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if std::env::var("RAIF_VERIFY_TIMINGS").is_ok() {
            eprintln!("{id}: {ms:.2} ms");
        }
        if ms > slowest.0 {
            slowest = (ms, id.clone());
        }
    }
    eprintln!(
        "20 KB response: slowest single check {:.2} ms ({}) in this build profile",
        slowest.0, slowest.1
    );
}
