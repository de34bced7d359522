//! `raif check`: the command-line face of `raif_verify::check` (all logic lives there).
use anyhow::Result;

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
    /// Exit 0 even when lines of the input had problems (they are still printed, and their
    /// result lines still written).
    #[arg(long)]
    pub lenient: bool,
}

/// The exit status of `raif check` when every line was read and a result written for each,
/// but some lines had problems (malformed JSON, an unknown instruction id, bad kwargs): each
/// problem is printed as `FILE:LINE: message`. Other errors (a missing file) exit 1.
pub const EXIT_BAD_LINES: i32 = 3;

/// Lines of the input had problems (see [`EXIT_BAD_LINES`]).
#[derive(Debug)]
pub struct BadLines {
    pub problems: usize,
    pub file: String,
}

impl std::fmt::Display for BadLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} problem(s) in {} (listed above; their lines' results were written as errors or \
             failures); --lenient exits 0",
            self.problems, self.file
        )
    }
}

impl std::error::Error for BadLines {}

pub fn run(args: CheckArgs) -> Result<()> {
    let file = args.input.display().to_string();
    let report = raif_verify::check::run(&raif_verify::check::CheckOptions {
        input: args.input,
        output: args.output,
        summary: args.summary,
        responses: args.responses,
    })?;
    if !args.lenient && !report.problems.is_empty() {
        return Err(BadLines {
            problems: report.problems.len(),
            file,
        }
        .into());
    }
    Ok(())
}
