//! End-to-end tests of the `raif` binary on models and homes built in the test.

use std::path::Path;
use std::process::{Command, Output};

fn raif(home: &Path, args: &[&str]) -> Output {
    raif_env(home, args, &[])
}

fn raif_env(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_raif"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("RAIF_HOME")
        .envs(env.iter().copied())
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
    // The device sampler (what a GPU uses), forced on the CPU, draws the same tokens from the
    // same seeds, greedy and at temperature 1 (the two can part only where a uniform falls
    // within f32 rounding of a boundary: model/tests/model.rs).
    for extra in [&["--greedy"][..], &[]] {
        let args: Vec<&str> = args.iter().copied().chain(extra.iter().copied()).collect();
        let host = raif_env(home.path(), &args, &[("RAIF_SAMPLE_ON_DEVICE", "0")]);
        let dev = raif_env(home.path(), &args, &[("RAIF_SAMPLE_ON_DEVICE", "1")]);
        assert!(dev.status.success(), "{}", text(&dev).1);
        assert_eq!(text(&host).0, text(&dev).0, "{extra:?}");
    }
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

fn shared_ifeval() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ifeval/input_data.jsonl")
}

#[test]
fn eval_compare_and_bench_eval_on_tiny_models() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("tiny-qwen");
    raif_model::tiny::tiny_model(raif_model::Arch::Qwen2, 2)
        .unwrap()
        .save_hf(&dir)
        .unwrap();
    let d = dir.to_str().unwrap();
    let data = shared_ifeval();
    let data = data.to_str().unwrap();
    let eval = |limit: &str| {
        raif(
            home.path(),
            &[
                "eval",
                "--model",
                d,
                "--bench",
                "ifeval",
                "--mode",
                "io",
                "--limit",
                limit,
                "--data",
                data,
                "--max-new-tokens",
                "6",
                "--device",
                "cpu",
                "--json",
            ],
        )
    };
    let o = eval("3");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let m: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    for k in [
        "ifeval.prompt_strict",
        "ifeval.prompt_loose",
        "ifeval.instruction_strict",
        "ifeval.instruction_loose",
        "eval.tokens_per_s",
        "eval.wall_s",
    ] {
        assert!(m[k].is_number(), "{k} in {out}");
    }
    assert_eq!(m["eval.items"], 3);
    // The same command with a larger limit continues the same evaluation.
    let o = eval("4");
    let (out2, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("(3 resumed)"), "{err}");
    let m2: serde_json::Value = serde_json::from_str(out2.trim()).unwrap();
    assert_eq!(
        (m2["eval.id"].clone(), m2["eval.items"].clone()),
        (m["eval.id"].clone(), 4.into())
    );
    let o = raif(home.path(), &["eval", "--list"]);
    assert!(
        text(&o).0.contains(m["eval.id"].as_str().unwrap()),
        "{}",
        text(&o).0
    );
    // The summary table names the metrics, tokens/s and the time taken.
    let o = raif(
        home.path(),
        &[
            "eval",
            "--model",
            d,
            "--bench",
            "ifeval",
            "--mode",
            "io",
            "--limit",
            "4",
            "--data",
            data,
            "--max-new-tokens",
            "6",
            "--device",
            "cpu",
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("prompt strict") && out.contains("tokens/s") && out.contains("time taken"),
        "{out}"
    );
    // Held-out generated instructions: a `raif data gen` file, rule-scored with its trees.
    let gen_file = home.path().join("heldout.jsonl");
    let g = gen_file.to_str().unwrap();
    let o = raif(
        home.path(),
        &[
            "data", "gen", "--n", "3", "--seed", "11", "--depth", "2", "--out", g,
        ],
    );
    assert!(o.status.success(), "{}", text(&o).1);
    let gen_eval = [
        "eval",
        "--model",
        d,
        "--bench",
        "generated",
        "--mode",
        "think",
        "--data",
        g,
        "--max-new-tokens",
        "6",
        "--device",
        "cpu",
        "--json",
    ];
    let o = raif(home.path(), &gen_eval);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let m: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(m["eval.items"], 3);
    assert!(m["generated.prompt_strict"].is_number(), "{out}");
    assert!(
        m["generated.instructions"].as_f64().unwrap() >= 3.0,
        "{out}"
    );
    // Scored again from the store: the same metrics, nothing generated.
    let o = raif(home.path(), &[&gen_eval[..], &["--rescore"]].concat());
    let (out2, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let m2: serde_json::Value = serde_json::from_str(out2.trim()).unwrap();
    assert_eq!(m2["generated.prompt_strict"], m["generated.prompt_strict"]);
    assert_eq!(m2["eval.id"], m["eval.id"]);
    let o = raif(home.path(), &["eval", "--model", d, "--bench", "generated"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("raif data gen"), "{}", text(&o).1);
    // A judge-scored benchmark without --judge is refused with the reason.
    let o = raif(
        home.path(),
        &["eval", "--model", d, "--bench", "infobench", "--data", data],
    );
    assert!(!o.status.success());
    assert!(text(&o).1.contains("--judge"), "{}", text(&o).1);

    // Compare: one prompt, two sides, scored against a constraint.
    let o = raif(
        home.path(),
        &[
            "compare",
            "--a",
            &format!("{d}:io"),
            "--b",
            &format!("{d}:think"),
            "--prompt",
            "say hi",
            "--constraints",
            r#"{"type":"and","children":[{"type":"rule","id":"punctuation:no_comma","kwargs":{}}]}"#,
            "--max-new-tokens",
            "6",
            "--device",
            "cpu",
            "--width",
            "120",
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("A: ") && out.contains("B: ") && out.contains("── verdicts ──"),
        "{out}"
    );
    // Over a benchmark: per-item wins, losses and ties.
    let o = raif(
        home.path(),
        &[
            "compare",
            "--a",
            &format!("{d}:io"),
            "--b",
            &format!("{d}:cot"),
            "--bench",
            "ifeval",
            "--limit",
            "3",
            "--data",
            data,
            "--max-new-tokens",
            "6",
            "--device",
            "cpu",
            "--json",
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let c: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let n =
        c["a_wins"].as_u64().unwrap() + c["b_wins"].as_u64().unwrap() + c["ties"].as_u64().unwrap();
    assert_eq!(n, 3, "{out}");
    let o = raif(
        home.path(),
        &[
            "compare",
            "--a",
            "nope@3:think",
            "--b",
            &format!("{d}:io"),
            "--prompt",
            "x",
        ],
    );
    assert!(
        !o.status.success() && text(&o).1.contains("no run `nope`"),
        "{}",
        text(&o).1
    );

    // The throughput benchmark.
    let o = raif(
        home.path(),
        &[
            "bench",
            "eval",
            "--model",
            d,
            "--limit",
            "2",
            "--batch",
            "2",
            "--max-new-tokens",
            "4",
            "--data",
            data,
            "--device",
            "cpu",
            "--json",
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let b: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(b["items"], 2);
    assert!(b["tokens_per_s"].as_f64().unwrap() > 0.0, "{out}");
}

/// Fails, and says which flag it refuses.
fn refuses(home: &Path, args: &[&str], flag: &str) {
    let o = raif(home, args);
    let (_, err) = text(&o);
    assert!(!o.status.success(), "`raif {}` succeeded", args.join(" "));
    assert!(
        err.contains(flag),
        "`raif {}` did not name {flag}: {err}",
        args.join(" ")
    );
}

#[test]
fn flags_that_cannot_apply_are_errors_that_name_them() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // The workbench's own flags are not accepted before a subcommand.
    refuses(h, &["--preset", "bogus", "runs", "list"], "--preset");
    refuses(h, &["--model", "default", "runs", "list"], "--model");
    refuses(h, &["--config", "x.toml", "eval", "--list"], "--config");
    // --resume takes the run as it was stored: every flag that would change it is refused.
    for (flag, value) in [
        ("--preset", "tiny"),
        ("--config", "x.toml"),
        ("--seed", "3"),
        ("--model", "default"),
        ("--data", "d.jsonl"),
        ("--device", "cpu"),
        ("--run-id", "y"),
        ("--set", "train.steps=3"),
    ] {
        refuses(h, &["train", "--resume", "x", flag, value], flag);
    }
    // --steps counts the warm-up: a total shorter than it is refused before anything loads.
    refuses(
        h,
        &["train", "--preset", "tiny", "--steps", "10"],
        "--steps 10",
    );
    refuses(
        h,
        &["train", "--preset", "tiny", "--steps", "0"],
        "--steps 0",
    );
    // compare --prompt answers one prompt: the benchmark options do not apply.
    for (flag, value) in [("--limit", "3"), ("--data", "d"), ("--batch", "2")] {
        refuses(
            h,
            &[
                "compare",
                "--a",
                "default:io",
                "--b",
                "default:think",
                "--prompt",
                "hi",
                flag,
                value,
            ],
            flag,
        );
    }
    // eval --list lists; an evaluation's options with it are refused, and a checkpoint is
    // evaluated on its run's own base model.
    refuses(h, &["eval", "--list", "--bench", "ifeval"], "--bench");
    refuses(
        h,
        &[
            "eval",
            "--checkpoint",
            "r@1",
            "--model",
            "m",
            "--bench",
            "ifeval",
        ],
        "--model",
    );
    // The global --home still goes anywhere.
    let o = raif(h, &["runs", "list"]);
    assert!(o.status.success(), "{}", text(&o).1);
}

#[test]
fn an_evaluation_id_follows_what_is_evaluated_not_what_it_is_called() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("tiny-llama");
    raif_model::tiny::tiny_model(raif_model::Arch::Llama, 4)
        .unwrap()
        .save_hf(&dir)
        .unwrap();
    // The same folder under another name.
    let alias = home.path().join("alias");
    std::os::unix::fs::symlink(&dir, &alias).unwrap();
    // A copy of the first IFEval lines, and the same with one byte changed.
    let src = std::fs::read_to_string(shared_ifeval()).unwrap();
    let head: String = src.lines().take(3).map(|l| format!("{l}\n")).collect();
    let data = home.path().join("a.jsonl");
    std::fs::write(&data, &head).unwrap();
    let other = home.path().join("b.jsonl");
    std::fs::write(&other, head.replacen("Write", "write", 1)).unwrap();
    assert_ne!(
        std::fs::read(&data).unwrap(),
        std::fs::read(&other).unwrap()
    );
    let id = |model: &Path, data: &Path, extra: &[&str]| -> String {
        let mut args = vec![
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--bench",
            "ifeval",
            "--limit",
            "1",
            "--data",
            data.to_str().unwrap(),
            "--device",
            "cpu",
            "--json",
        ];
        if !extra.contains(&"--mode") {
            args.extend(["--mode", "io"]);
        }
        if !extra.contains(&"--max-new-tokens") {
            args.extend(["--max-new-tokens", "2"]);
        }
        args.extend(extra);
        let o = raif(home.path(), &args);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{err}");
        let m: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        m["eval.id"].as_str().unwrap().to_string()
    };
    let base = id(&dir, &data, &[]);
    assert_eq!(
        id(&alias, &data, &[]),
        base,
        "the same model under another name"
    );
    let changed = [
        ("template", id(&dir, &data, &["--template", "llama3"])),
        ("data", id(&dir, &other, &[])),
        ("max tokens", id(&dir, &data, &["--max-new-tokens", "3"])),
        ("mode", id(&dir, &data, &["--mode", "cot"])),
    ];
    for (what, other_id) in &changed {
        assert_ne!(other_id, &base, "a different {what} got the same id");
    }
    // The model's weights changed in place: a new id, though the path is the same.
    let w = dir.join("model.safetensors");
    let mut bytes = std::fs::read(&w).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&w, bytes).unwrap();
    assert_ne!(
        id(&dir, &data, &[]),
        base,
        "changed weights got the same id"
    );
}

#[test]
fn check_exits_3_when_lines_of_its_input_had_problems() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let good = r#"{"key": 1, "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}], "prompt": "p", "response": "no commas here"}"#;
    let unknown = r#"{"key": 2, "instruction_id_list": ["no_such:family"], "kwargs": [{}], "prompt": "q", "response": "x"}"#;
    let input = dir.join("in.jsonl");
    let out = dir.join("out.jsonl");
    let (inp, outp) = (input.to_str().unwrap(), out.to_str().unwrap());
    // Clean input: exit 0.
    std::fs::write(&input, format!("{good}\n")).unwrap();
    let o = raif(dir, &["check", "--input", inp, "--output", outp]);
    assert!(o.status.success(), "{}", text(&o).1);
    // A malformed line and an unknown id: every line still gets its result, each problem is
    // named by file and line, and the exit status is the documented 3.
    std::fs::write(
        &input,
        format!("{good}\n{{\"key\": 3, \"prompt\"\n{unknown}\n"),
    )
    .unwrap();
    let o = raif(dir, &["check", "--input", inp, "--output", outp]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("in.jsonl:2:") && err.contains("in.jsonl:3:"),
        "{err}"
    );
    assert!(err.contains("2 problem(s)"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 3);
    // --lenient reports them the same way and exits 0.
    let o = raif(
        dir,
        &["check", "--input", inp, "--output", outp, "--lenient"],
    );
    assert!(o.status.success());
    assert!(text(&o).1.contains("in.jsonl:2:"));
    // A missing file is another kind of error: 1.
    let o = raif(dir, &["check", "--input", "/no/such/file.jsonl"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn runs_plot_draws_two_runs_to_svg_and_png() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    {
        let store = raif_store::Store::open(h).unwrap();
        let done = raif_store::RunStatus::Finished;
        raif_ui::fixtures::build_warmup_run(&store, "wu", done.clone(), 3, 5, 2, 4).unwrap();
        raif_ui::fixtures::build_run(&store, "grpo", done, 6, 2, 4).unwrap();
    }
    for name in ["c.svg", "c.png"] {
        let out = h.join(name);
        let o = raif(
            h,
            &[
                "runs",
                "plot",
                "wu",
                "grpo",
                "--metric",
                "reward",
                "--metric",
                "kl",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", text(&o).1);
        let bytes = std::fs::read(&out).unwrap();
        if name.ends_with(".svg") {
            let svg = String::from_utf8(bytes).unwrap();
            let texts: Vec<&str> = svg
                .split("<text")
                .skip(1)
                .filter_map(|t| t.split_once('>')?.1.split_once("</text>"))
                .map(|(inner, _)| inner.trim())
                .collect();
            assert!(svg.starts_with("<svg"), "{svg:.200}");
            // Each panel's legend names both runs.
            assert_eq!(texts.iter().filter(|t| **t == "wu").count(), 2, "{texts:?}");
            assert_eq!(
                texts.iter().filter(|t| **t == "grpo").count(),
                2,
                "{texts:?}"
            );
        } else {
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        }
    }
    let o = raif(
        h,
        &["runs", "plot", "wu", "--metric", "nope", "--out", "x.svg"],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).1.contains("no run has the metric `nope`"),
        "{}",
        text(&o).1
    );
    let o = raif(
        h,
        &[
            "runs",
            "plot",
            "wu",
            "--metric",
            "reward",
            "--out",
            "x.svg",
            "--smoothing",
            "1",
        ],
    );
    assert!(!o.status.success());
}
