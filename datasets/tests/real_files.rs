//! Every loader on the real benchmark files in `../shared/data` (counts from its README).

use std::path::PathBuf;

use raif_datasets::catalog::{IdCatalog, OfficialIds, IFBENCH_IDS, IFEVAL_IDS};
use raif_datasets::loaders::{self, Format, Lang};
use raif_datasets::{stats, Constraint, Record};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

fn official(id: &str) -> bool {
    IFEVAL_IDS.contains(&id) || IFBENCH_IDS.contains(&id)
}

fn load(f: Format) -> Vec<Record> {
    let path = f.default_path(&data()).expect("benchmark path");
    let recs = loaders::load(f, &path, &official).unwrap_or_else(|e| panic!("{f}: {e}"));
    let mut ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "{f}: record ids are unique");
    for r in &recs {
        // CFBench idx 810 ships with an empty prompt; it is kept as the benchmark has it.
        if r.id != "cfbench-810" {
            assert!(!r.prompt().trim().is_empty(), "{f}: {} has a prompt", r.id);
        }
    }
    recs
}

#[test]
fn ifeval_541() {
    let r = load(Format::Ifeval);
    assert_eq!(r.len(), 541);
    let s = stats::compute(&r);
    assert_eq!(s.distinct_rule_ids(), 25);
    // Kwargs are kept as written (null ones dropped).
    let first = &r[0];
    assert_eq!(first.id, "ifeval-1000");
    let Constraint::And { children } = &first.constraints else {
        panic!()
    };
    assert_eq!(children.len(), 3);
    assert_eq!(
        children[2],
        Constraint::Rule {
            id: "length_constraints:number_words".into(),
            kwargs: serde_json::from_str(r#"{"relation":"at least","num_words":300}"#).unwrap()
        }
    );
}

#[test]
fn ifbench_294() {
    let r = load(Format::Ifbench);
    assert_eq!(r.len(), 294);
    let s = stats::compute(&r);
    assert_eq!(
        s.distinct_rule_ids(),
        57,
        "IFBench_test uses 57 of the 58 ids"
    );
    // The null kwargs IFBench writes for every unused key are dropped.
    for rec in &r {
        for leaf in rec.constraints.leaves() {
            if let Constraint::Rule { kwargs, .. } = leaf {
                assert!(kwargs.values().all(|v| !v.is_null()));
            }
        }
    }
    let leaves: usize = r.iter().map(|x| x.constraints.leaves().len()).sum();
    assert_eq!(leaves, 335, "instruction-level count of the README");
}

#[test]
fn cello_523() {
    let r = load(Format::Cello);
    assert_eq!(r.len(), 523);
    let s = stats::compute(&r);
    for id in raif_datasets::catalog::CELLO_IDS {
        assert!(s.leaf_types.get(id).copied().unwrap_or(0) > 0, "{id} used");
        assert!(OfficialIds.contains(id));
    }
    // Input-dependent query criteria carry the input text.
    assert_eq!(s.leaf_types["cello:input_dependent_query"], 413);
    // Multi-round conversations keep their history turns.
    assert!(r.iter().any(|x| x.messages.len() == 9));
}

#[test]
fn followbench_820_en_590_zh() {
    let en = load(Format::FollowbenchEn);
    assert_eq!(en.len(), 820);
    let zh = load(Format::FollowbenchZh);
    assert_eq!(zh.len(), 590);
    for r in en.iter().chain(&zh) {
        let level = r.meta["level"].as_u64().unwrap();
        assert!((1..=5).contains(&level));
    }
    let l5 = en.iter().filter(|r| r.meta["level"] == 5).count();
    assert_eq!(l5, 164);
    // Base (level-0) instructions for every category but the rule-scored example one, whose
    // expected answers are attached instead.
    let based = |rs: &[raif_datasets::Record]| {
        rs.iter()
            .filter(|r| r.meta.contains_key("base_instruction"))
            .count()
    };
    assert_eq!(based(&en), 620);
    assert_eq!(based(&zh), 590);
    let answered = en.iter().filter(|r| r.meta.contains_key("answer")).count();
    assert_eq!(answered, 200);
    let d = data().join("benchmarks/FollowBench/data_infer/mixed_constraint.jsonl");
    assert_eq!(
        loaders::load_followbench_file(&d, Lang::En).unwrap().len(),
        85
    );
}

#[test]
fn infobench_500() {
    let r = load(Format::Infobench);
    assert_eq!(r.len(), 500);
    assert!(r.iter().all(|x| x
        .constraints
        .leaves()
        .iter()
        .all(|l| matches!(l, Constraint::Judge { .. }))));
    // The `.json` file is JSON Lines too, without `prompt`: same records, same prompts.
    let j = loaders::load_infobench(&data().join("benchmarks/InfoBench/InFoBench/InfoBench.json"))
        .unwrap();
    assert_eq!(j.len(), 500);
    assert_eq!(j[0].prompt(), r[0].prompt());
    assert_eq!(j[7].constraints, r[7].constraints);
}

#[test]
fn cfbench_1000() {
    let r = load(Format::Cfbench);
    assert_eq!(r.len(), 1000);
    let (mut p, mut s) = (0, 0);
    for rec in &r {
        let pr = rec.meta["priorities"].as_array().unwrap();
        assert_eq!(pr.len(), rec.constraints.leaves().len());
        p += pr.iter().filter(|v| *v == "primary").count();
        s += pr.iter().filter(|v| *v == "secondary").count();
    }
    assert_eq!((p, s), (1835, 2402));
    let j =
        loaders::load_cfbench(&data().join("benchmarks/CFBench/data/cfbench_data.json")).unwrap();
    assert_eq!(j.len(), 1000);
}

#[test]
fn fbbench_734() {
    let r = load(Format::Fbbench);
    assert_eq!(r.len(), 734);
    let unweighted = r.iter().filter(|x| x.meta["weights"][0].is_null()).count();
    assert_eq!(
        unweighted, 388,
        "Response Maintenance items have bare questions"
    );
    for rec in &r {
        assert_eq!(rec.messages.len(), 3);
        assert!(!rec.constraints.leaves().is_empty());
        assert_eq!(
            rec.meta["weights"].as_array().unwrap().len(),
            rec.constraints.leaves().len()
        );
    }
}

#[test]
fn records_round_trip_through_jsonl() {
    let mut all = load(Format::Ifbench);
    all.extend(load(Format::Cello));
    all.extend(load(Format::Fbbench));
    let text = raif_datasets::record::to_jsonl(&all).unwrap();
    let back = raif_datasets::record::parse_records(
        std::path::Path::new("mem.jsonl"),
        &text,
        &OfficialIds,
    )
    .unwrap();
    assert_eq!(back, all);
}

#[test]
fn validate_warns_with_the_line_of_the_benchmark_record() {
    use raif_datasets::validate::validate;
    let path = Format::Cfbench.default_path(&data()).unwrap();
    let r = validate(&path, Format::Cfbench, &official).unwrap();
    assert!(r.ok());
    assert_eq!(r.records, 1000);
    let w: Vec<&String> = r
        .warnings
        .iter()
        .filter(|w| w.contains("empty prompt"))
        .collect();
    assert_eq!(w.len(), 1, "{:?}", r.warnings);
    assert!(
        w[0].contains("cfbench_data_infer.jsonl:811: cfbench-810"),
        "{}",
        w[0]
    );
    // FB-Bench is a JSON array: records carry the line their element starts on.
    let fb = loaders::load_located(
        Format::Fbbench,
        &Format::Fbbench.default_path(&data()).unwrap(),
        &official,
    )
    .unwrap();
    assert_eq!(fb[0].0.line, 2);
    assert!(fb.windows(2).all(|p| p[0].0.line < p[1].0.line));
}
