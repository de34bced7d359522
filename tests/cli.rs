//! End-to-end tests of the `raif` binary on models and homes built in the test.

use std::path::Path;
use std::process::{Command, Output};

fn raif(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_raif"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("RAIF_HOME")
        .output()
        .expect("run raif")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn every_subcommand_has_help() {
    let home = tempfile::tempdir().unwrap();
    let top = raif(home.path(), &["--help"]);
    assert!(top.status.success());
    let (out, _) = text(&top);
    // Every subcommand listed in the top-level help answers --help itself.
    let subs: Vec<String> = out
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|s| s != "help")
        .collect();
    assert!(subs.len() >= 5, "{out}");
    for s in &subs {
        let o = raif(home.path(), &[s, "--help"]);
        assert!(o.status.success(), "raif {s} --help");
    }
    for nested in [
        ["model", "fetch"],
        ["model", "list"],
        ["model", "info"],
        ["bench", "generate"],
    ] {
        let o = raif(home.path(), &[nested[0], nested[1], "--help"]);
        assert!(o.status.success(), "raif {nested:?} --help");
    }
}

#[test]
fn model_list_on_an_empty_home() {
    let home = tempfile::tempdir().unwrap();
    let o = raif(home.path(), &["model", "list"]);
    assert!(o.status.success());
    assert!(text(&o).0.contains("no models cached"));
}

#[test]
fn generate_and_info_on_a_tiny_hf_folder() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("tiny-llama");
    let lm = raif_model::tiny::tiny_model(raif_model::Arch::Llama, 1).unwrap();
    lm.save_hf(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let o = raif(
        home.path(),
        &["model", "info", "--model", d, "--device", "cpu"],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("Llama") && out.contains("chatml"), "{out}");
    let args = [
        "generate",
        "--model",
        d,
        "--prompt",
        "the cat",
        "--mode",
        "io",
        "--n",
        "2",
        "--seed",
        "7",
        "--max-new-tokens",
        "5",
        "--device",
        "cpu",
    ];
    let a = raif(home.path(), &args);
    let b = raif(home.path(), &args);
    assert!(a.status.success(), "{}", text(&a).1);
    assert_eq!(a.stdout, b.stdout, "same seed, same output");
    assert_eq!(text(&a).0.matches("── sample").count(), 2);
}

#[test]
fn bad_model_arguments_fail_with_a_clear_message() {
    let home = tempfile::tempdir().unwrap();
    let o = raif(
        home.path(),
        &[
            "generate",
            "--model",
            "/no/such/model.gguf",
            "--prompt",
            "x",
        ],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).1.contains("model `/no/such/model.gguf` not found"),
        "{}",
        text(&o).1
    );
    let o = raif(
        home.path(),
        &[
            "generate", "--model", "x", "--prompt", "x", "--mode", "weird",
        ],
    );
    assert!(!o.status.success());
    let o = raif(home.path(), &["model", "fetch", "--hf", "not-an-id"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("OWNER/NAME"));
}
