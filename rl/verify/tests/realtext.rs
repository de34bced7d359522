//! Agreement of our ports with the official libraries on real text: the 294 IFBench sample
//! responses, the 294 IFBench prompts and the 541 IFEval prompts (read from ../shared/data),
//! against data/realtext_expected.jsonl (scripts/verify/gen_realtext.py). Also every IFEval row
//! paired with a real response (row index mod 294) against the oracle's verdicts.

use std::path::PathBuf;

use serde_json::{Map, Value};

fn fnv(s: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

fn read_jsonl(p: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

#[test]
fn real_text_agreement() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        dir.is_dir(),
        "{} is absent: this test reads the real IFEval/IFBench texts from the shared data folder \
         beside the checkout",
        dir.display()
    );
    let resp: Vec<String> = read_jsonl(&dir.join("ifbench/sample_output.jsonl"))
        .iter()
        .map(|v| v["response"].as_str().unwrap_or("").to_string())
        .collect();
    let ifb: Vec<String> = read_jsonl(&dir.join("ifbench/IFBench_test.jsonl"))
        .iter()
        .map(|v| v["prompt"].as_str().unwrap_or("").to_string())
        .collect();
    let ife = read_jsonl(&dir.join("ifeval/input_data.jsonl"));
    let texts: Vec<String> = resp
        .iter()
        .cloned()
        .chain(ifb.iter().cloned())
        .chain(
            ife.iter()
                .map(|v| v["prompt"].as_str().unwrap_or("").to_string()),
        )
        .collect();
    let expected: Vec<Value> = include_str!("../data/realtext_expected.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let names = ["punkt", "tokens", "words", "regex_sentences", "lang", "tag"];
    let mut agree = [0usize; 6];
    let mut diffs = Vec::new();
    let mut n = 0;
    for e in expected.iter().filter(|e| e.get("text").is_some()) {
        let i = e["text"].as_u64().expect("index") as usize;
        let t = &texts[i];
        n += 1;
        let toks = raif_verify::nltk::word_tokenize(t);
        let got = [
            Value::from(raif_verify::nltk::sent_tokenize(t).len()),
            Value::from(fnv(&toks.join("\u{1f}"))),
            Value::from(raif_verify::nltk::count_words(t)),
            Value::from(raif_verify::text::split_into_sentences(t).len()),
            raif_verify::langdetect::detect(t)
                .map(Value::from)
                .unwrap_or(Value::Null),
            raif_verify::nltk::first_pos_tag(&toks)
                .map(Value::from)
                .unwrap_or(Value::Null),
        ];
        for (k, name) in names.iter().enumerate() {
            if got[k] == e[*name] {
                agree[k] += 1;
            } else {
                diffs.push(format!(
                    "text {i} {name}: official {} ours {}",
                    e[*name], got[k]
                ));
            }
        }
    }
    for (k, name) in names.iter().enumerate() {
        eprintln!("{name}: {}/{n} texts agree", agree[k]);
    }
    // IFEval rows with real responses
    let (mut total, mut ok_s, mut ok_l) = (0, 0, 0);
    for e in expected.iter().filter(|e| e.get("ifeval").is_some()) {
        let i = e["ifeval"].as_u64().expect("index") as usize;
        let row = &ife[i];
        let response = &resp[i % resp.len()];
        let ids = row["instruction_id_list"].as_array().expect("ids");
        for (k, id) in ids.iter().enumerate() {
            if e["overridden"][k].as_bool() == Some(true) {
                continue;
            }
            let kw: Map<String, Value> = row["kwargs"][k].as_object().cloned().unwrap_or_default();
            let got = raif_verify::evaluate(id.as_str().unwrap_or(""), &kw, response);
            total += 1;
            let (es, el) = (e["strict"][k].as_bool(), e["loose"][k].as_bool());
            ok_s += (Some(got.strict) == es) as usize;
            ok_l += (Some(got.loose) == el) as usize;
            if Some(got.strict) != es || Some(got.loose) != el {
                diffs.push(format!(
                    "ifeval row {i} {id}: official {es:?}/{el:?} ours {}/{} ({})",
                    got.strict, got.loose, got.reason
                ));
            }
        }
    }
    eprintln!("IFEval rows with real responses: strict {ok_s}/{total}, loose {ok_l}/{total}");
    for d in diffs.iter().take(40) {
        eprintln!("DIFF {d}");
    }
    assert!(diffs.is_empty(), "{} differences", diffs.len());
}
