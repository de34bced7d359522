//! `cargo run -p raif-verify --release --example check -- INPUT.jsonl [OUTPUT.jsonl] [--summary]`:
//! the `raif check` core without building the whole workbench (used by scripts/verify/fuzz_diff.py
//! and scripts/verify/bench.sh).
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let summary = args.iter().any(|a| a == "--summary");
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(input) = files.first() else {
        anyhow::bail!("usage: check INPUT.jsonl [OUTPUT.jsonl] [--summary]");
    };
    raif_verify::check::run(&raif_verify::check::CheckOptions {
        input: input.into(),
        output: files.get(1).map(|s| s.into()),
        summary,
        responses: None,
    })?;
    Ok(())
}
