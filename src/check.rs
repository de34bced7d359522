//! `raif check`: the command-line face of `raif_verify::check` (all logic lives there).
use anyhow::{bail, Result};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// JSONL input: {"key", "instruction_id_list", "kwargs", "prompt", "response"} per line
    /// (without "response" when --responses is given).
    #[arg(long)]
    pub input: std::path::PathBuf,
    /// Where to write one result line per input line (default: standard output).
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
    /// Print prompt-level and instruction-level strict and loose accuracy (to standard error).
    #[arg(long)]
    pub summary: bool,
    /// A {"prompt", "response"} JSONL file joined with the input by exact prompt text.
    #[arg(long)]
    pub responses: Option<std::path::PathBuf>,
    /// Exit with an error status when any line had a problem (malformed, unknown id, bad kwargs).
    #[arg(long)]
    pub strict_input: bool,
}

pub fn run(args: CheckArgs) -> Result<()> {
    let report = raif_verify::check::run(&raif_verify::check::CheckOptions {
        input: args.input,
        output: args.output,
        summary: args.summary,
        responses: args.responses,
    })?;
    if args.strict_input && !report.problems.is_empty() {
        bail!(
            "{} problem(s) in the input (listed above)",
            report.problems.len()
        );
    }
    Ok(())
}
