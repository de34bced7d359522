//! Malformed inputs give errors that name the file, the line and the field.

use std::fs;
use std::path::{Path, PathBuf};

use raif_datasets::catalog::{IFBENCH_IDS, IFEVAL_IDS};
use raif_datasets::loaders::{self, Format};
use raif_datasets::record::read_records;
use raif_datasets::validate::validate;
use raif_datasets::DataError;

fn official(id: &str) -> bool {
    IFEVAL_IDS.contains(&id) || IFBENCH_IDS.contains(&id)
}

struct Tmp(tempfile::TempDir);

impl Tmp {
    fn new() -> Self {
        Tmp(tempfile::tempdir().unwrap())
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.path().join(name);
        fs::write(&p, text).unwrap();
        p
    }
}

/// Asserts the error points at `file:line` and, when given, names `field`; returns the message.
fn expect(err: DataError, file: &Path, line: usize, field: Option<&str>) -> String {
    let msg = err.to_string();
    let loc = err.loc().unwrap_or_else(|| panic!("no location in {msg}"));
    assert_eq!(loc.file, file, "{msg}");
    assert_eq!(loc.line, line, "{msg}");
    assert!(
        msg.starts_with(&format!("{}:{line}: ", file.display())),
        "{msg}"
    );
    if let Some(f) = field {
        assert_eq!(err.field_name(), Some(f), "{msg}");
        assert!(msg.contains(&format!("`{f}`")), "{msg}");
    }
    msg
}

const GOOD_IFEVAL: &str = r#"{"key": 1, "prompt": "Write a poem.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}"#;

#[test]
fn ifeval_bad_json() {
    let t = Tmp::new();
    let p = t.file(
        "a.jsonl",
        &format!("{GOOD_IFEVAL}\n{GOOD_IFEVAL}\n{{\"key\": 3, \"prompt\": \n"),
    );
    let m = expect(
        loaders::load_ifeval(&p, &official).unwrap_err(),
        &p,
        3,
        None,
    );
    assert!(m.contains("invalid JSON"), "{m}");
}

#[test]
fn ifeval_missing_field() {
    let t = Tmp::new();
    let p = t.file(
        "a.jsonl",
        &format!("{GOOD_IFEVAL}\n{{\"key\": 2, \"instruction_id_list\": [], \"kwargs\": []}}\n"),
    );
    let m = expect(
        loaders::load_ifeval(&p, &official).unwrap_err(),
        &p,
        2,
        Some("prompt"),
    );
    assert!(m.contains("missing"), "{m}");
}

#[test]
fn ifeval_unknown_id() {
    let t = Tmp::new();
    let p = t.file(
        "a.jsonl",
        r#"{"key": 1, "prompt": "x", "instruction_id_list": ["punctuation:no_comma", "punctuation:no_semicolon"], "kwargs": [{}, {}]}"#,
    );
    let m = expect(
        loaders::load_ifeval(&p, &official).unwrap_err(),
        &p,
        1,
        Some("instruction_id_list[1]"),
    );
    assert!(
        m.contains("unknown instruction id `punctuation:no_semicolon`"),
        "{m}"
    );
}

#[test]
fn ifeval_wrong_kwarg_type_and_name() {
    let t = Tmp::new();
    let p = t.file(
        "a.jsonl",
        &format!(
            "{GOOD_IFEVAL}\n{}\n",
            r#"{"key": 2, "prompt": "x", "instruction_id_list": ["length_constraints:number_words"], "kwargs": [{"relation": "at least", "num_words": "forty"}]}"#
        ),
    );
    let m = expect(
        loaders::load_ifeval(&p, &official).unwrap_err(),
        &p,
        2,
        Some("kwargs[0].num_words"),
    );
    assert!(m.contains("integer"), "{m}");
    let p2 = t.file(
        "b.jsonl",
        r#"{"key": 2, "prompt": "x", "instruction_id_list": ["keywords:frequency"], "kwargs": [{"keyword": "a", "frequency": 2, "relation": "exactly"}]}"#,
    );
    expect(
        loaders::load_ifeval(&p2, &official).unwrap_err(),
        &p2,
        1,
        Some("kwargs[0].relation"),
    );
    let p3 = t.file(
        "c.jsonl",
        r#"{"key": 2, "prompt": "x", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{"strict": true}]}"#,
    );
    let m = expect(
        loaders::load_ifeval(&p3, &official).unwrap_err(),
        &p3,
        1,
        Some("kwargs[0].strict"),
    );
    assert!(m.contains("takes no kwarg"), "{m}");
    // Parallel lists of different lengths.
    let p4 = t.file(
        "d.jsonl",
        r#"{"key": 2, "prompt": "x", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}, {}]}"#,
    );
    expect(
        loaders::load_ifeval(&p4, &official).unwrap_err(),
        &p4,
        1,
        Some("kwargs"),
    );
}

#[test]
fn ifbench_integral_floats_are_integers() {
    let t = Tmp::new();
    let p = t.file(
        "a.jsonl",
        r#"{"key": "7", "prompt": "x", "instruction_id_list": ["count:numbers"], "kwargs": [{"N": 3.0, "letter": null}]}"#,
    );
    assert_eq!(loaders::load_ifbench(&p, &official).unwrap().len(), 1);
    let p = t.file(
        "b.jsonl",
        r#"{"key": "7", "prompt": "x", "instruction_id_list": ["count:numbers"], "kwargs": [{"N": 3.5}]}"#,
    );
    expect(
        loaders::load_ifbench(&p, &official).unwrap_err(),
        &p,
        1,
        Some("kwargs[0].N"),
    );
}

const REC: &str = r#"{"format":1,"id":"a","source":"test","split":"train","messages":[{"role":"user","content":"hi"}],"constraints":{"type":"and","children":[{"type":"rule","id":"punctuation:no_comma"}]}}"#;

#[test]
fn record_errors_name_the_tree_path() {
    let t = Tmp::new();
    let nested = r#"{"format":1,"id":"b","source":"test","split":"train","prompt":"hi","constraints":{"type":"and","children":[{"type":"judge","question":"ok?"},{"type":"chain","steps":[{"type":"rule","id":"no:such"}]}]}}"#;
    let p = t.file("r.jsonl", &format!("{REC}\n\n{nested}\n"));
    let m = expect(
        read_records(&p, &official).unwrap_err(),
        &p,
        3,
        Some("constraints.children[1].steps[0].id"),
    );
    assert!(m.contains("no:such"), "{m}");

    let bad_kw = r#"{"format":1,"id":"b","source":"test","split":"train","prompt":"hi","constraints":{"type":"selection","branches":[{"when":{"type":"rule","id":"keywords:existence","kwargs":{"keywords":"budget"}},"then":{"type":"judge","question":"q"}}]}}"#;
    let p = t.file("k.jsonl", &format!("{bad_kw}\n"));
    expect(
        read_records(&p, &official).unwrap_err(),
        &p,
        1,
        Some("constraints.branches[0].when.kwargs.keywords"),
    );

    let missing = r#"{"format":1,"id":"c","source":"test","split":"train","prompt":"hi"}"#;
    let p = t.file("m.jsonl", &format!("{REC}\n{missing}\n"));
    expect(
        read_records(&p, &official).unwrap_err(),
        &p,
        2,
        Some("constraints"),
    );

    let bad_type = r#"{"format":1,"id":"c","source":"test","split":"train","prompt":"hi","constraints":{"type":"or","children":[]}}"#;
    let p = t.file("t.jsonl", &format!("{bad_type}\n"));
    expect(
        read_records(&p, &official).unwrap_err(),
        &p,
        1,
        Some("constraints.type"),
    );

    let future = REC.replace("\"format\":1", "\"format\":99");
    let p = t.file("f.jsonl", &format!("{future}\n"));
    expect(
        read_records(&p, &official).unwrap_err(),
        &p,
        1,
        Some("format"),
    );

    let bad_split = REC.replace("\"train\"", "\"dev-ish\"");
    let p = t.file("s.jsonl", &format!("{bad_split}\n"));
    expect(
        read_records(&p, &official).unwrap_err(),
        &p,
        1,
        Some("split"),
    );

    let bad_role = REC.replace("\"user\"", "\"robot\"");
    let p = t.file("o.jsonl", &format!("{bad_role}\n"));
    expect(
        read_records(&p, &official).unwrap_err(),
        &p,
        1,
        Some("messages[0].role"),
    );
}

#[test]
fn validate_lists_every_bad_line_and_duplicates() {
    let t = Tmp::new();
    let dup = REC.to_string();
    let bad = REC.replace("punctuation:no_comma", "made:up");
    let p = t.file("v.jsonl", &format!("{REC}\n{bad}\nnot json\n"));
    let r = validate(&p, Format::Record, &official).unwrap();
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(r.errors[0].contains(":3: invalid JSON"), "{:?}", r.errors);
    let p = t.file("w.jsonl", &format!("{REC}\n{bad}\n{dup}\n"));
    let r = validate(&p, Format::Record, &official).unwrap();
    assert_eq!(r.records, 3);
    assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
    assert!(
        r.errors[0].contains("w.jsonl:2: field `constraints.children[0].id`"),
        "{:?}",
        r.errors
    );
    assert!(
        r.errors[1].contains("w.jsonl:3: field `id`: duplicate id `a` (first at"),
        "{:?}",
        r.errors
    );
    let ok = t.file("ok.jsonl", &format!("{REC}\n"));
    assert!(validate(&ok, Format::Record, &official).unwrap().ok());
}

#[test]
fn raif_rl_errors() {
    let t = Tmp::new();
    let good = r#"{"input": "Write.", "target": "{\"instruction_id_list\": [\"punctuation:no_comma\"], \"kwargs\": [{}]}", "task": "ifeval"}"#;
    let judge = r#"{"input": [{"role":"user","content":"Plan a trip."}], "target": {"scoring_questions": ["Is it a plan?"]}, "task": "complex", "fast_score": {"satisfied": 1, "total": 1}}"#;
    let bad_target = r#"{"input": "Write.", "target": "{not json", "task": "ifeval"}"#;
    let p = t.file("rl.jsonl", &format!("{good}\n{judge}\n{bad_target}\n"));
    let m = expect(
        loaders::load_raif_rl(&p, &official).unwrap_err(),
        &p,
        3,
        Some("target"),
    );
    assert!(m.contains("not a JSON object"), "{m}");
    let p = t.file("rl2.jsonl", &format!("{good}\n{judge}\n"));
    let recs = loaders::load_raif_rl(&p, &official).unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].fast_score.map(|f| f.satisfied), Some(1));
    assert_eq!(recs[0].meta["task"], "ifeval");
    let unknown =
        r#"{"input": "Write.", "target": {"instruction_id_list": ["x:y"], "kwargs": [{}]}}"#;
    let p = t.file("rl3.jsonl", &format!("{unknown}\n"));
    expect(
        loaders::load_raif_rl(&p, &official).unwrap_err(),
        &p,
        1,
        Some("target.instruction_id_list[0]"),
    );
    let neither = r#"{"input": "Write.", "target": {"task": "x"}}"#;
    let p = t.file("rl4.jsonl", &format!("{neither}\n"));
    expect(
        loaders::load_raif_rl(&p, &official).unwrap_err(),
        &p,
        1,
        Some("target"),
    );
    let chatml = r#"{"input": "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", "target": {"scoring_questions": ["q"]}}"#;
    let p = t.file("rl5.jsonl", &format!("{chatml}\n"));
    let r = loaders::load_raif_rl(&p, &official).unwrap();
    assert_eq!(r[0].messages.len(), 2);
    assert_eq!(r[0].prompt(), "Hello");
}

#[test]
fn raif_expert_errors() {
    let t = Tmp::new();
    let good = r#"{"question": "Say hi.", "answer": "<think>\nGreet.\n</think>\n<answer>\nHi\n</answer>"}"#;
    let bad = r#"{"question": "Say hi.", "answer": "Hi there"}"#;
    let p = t.file("e.jsonl", &format!("{good}\n{bad}\n"));
    let m = expect(
        loaders::load_raif_expert(&p).unwrap_err(),
        &p,
        2,
        Some("answer"),
    );
    assert!(m.contains("think"), "{m}");
    let p = t.file("e2.jsonl", &format!("{good}\n"));
    let r = loaders::load_raif_expert(&p).unwrap();
    assert_eq!(r[0].expert.as_ref().unwrap().answer, "Hi");
}

#[test]
fn json_array_errors_point_at_the_element_line() {
    let t = Tmp::new();
    let p = t.file(
        "fb.json",
        "[\n  {\"user_query\": \"q\", \"origin_first_response\": \"a\", \"feedback\": \"f\", \"checklist\": [[\"ok?\", 1.0]]},\n  {\"user_query\": \"q\",\n   \"origin_first_response\": \"a\", \"feedback\": \"f\", \"checklist\": [[1, 2]]}\n]\n",
    );
    expect(
        loaders::load_fbbench(&p).unwrap_err(),
        &p,
        3,
        Some("checklist[0]"),
    );
    let p = t.file("broken.json", "[\n {\"a\": 1},\n {\"a\": }\n]");
    let e = loaders::load_fbbench(&p).unwrap_err();
    expect(e, &p, 3, None);
}

#[test]
fn judged_benchmark_errors() {
    let t = Tmp::new();
    let p = t.file(
        "cf.jsonl",
        r#"{"idx": 0, "prompt": "p", "criteria": [["q", "必需", "a", "b"]]}"#,
    );
    expect(
        loaders::load_cfbench(&p).unwrap_err(),
        &p,
        1,
        Some("criteria[0][1]"),
    );
    let p = t.file(
        "ib.jsonl",
        "{\"id\": \"x\", \"instruction\": \"i\", \"input\": \"\"}\n",
    );
    expect(
        loaders::load_infobench(&p).unwrap_err(),
        &p,
        1,
        Some("decomposed_questions"),
    );
    let p = t.file(
        "content_constraint.jsonl",
        r#"{"prompt_new": "p", "raw": {"example_id": 1, "category": "content", "level": "two"}}"#,
    );
    expect(
        loaders::load_followbench_file(&p, loaders::Lang::En).unwrap_err(),
        &p,
        1,
        Some("raw.level"),
    );
    let p = t.file(
        "cello.jsonl",
        r#"{"Instruction_id": "i", "lang": "ch", "task_category": "c", "conversations": [{"role": "user", "content": "x"}], "input_text": NaN, "Answer_format": [{"criterion": "keywords"}], "Input_depdent_query": [], "Task_prescribed_phrases": [], "Count_limit": []}"#,
    );
    expect(
        loaders::load_cello(&p).unwrap_err(),
        &p,
        1,
        Some("Answer_format[0].limit"),
    );
}
