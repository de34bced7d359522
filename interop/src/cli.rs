//! The command-line side: `raif import trl|verl|jsonl …` and `raif export RUN --format …`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use raif_store::Store;
use raif_verify::reward::TagStyle;

use crate::{export_jsonl, export_parquet, ExportFormat, ImportOptions, ImportReport};

/// Options every import takes.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ImportCommon {
    /// The new run's id (default: `<format>-<folder or file name>`).
    #[arg(long)]
    pub run_id: Option<String>,
    /// How answers are marked in the responses.
    #[arg(long, value_enum, default_value_t = TagStyle::ThinkAnswer)]
    pub style: TagStyle,
    /// RAIF records or IFEval / IFBench rows (JSONL) whose constraints apply to the prompts
    /// that contain their instruction: those responses are re-verified with our verifiers.
    #[arg(long)]
    pub records: Option<PathBuf>,
}

impl ImportCommon {
    pub fn options(&self) -> ImportOptions {
        ImportOptions {
            run_id: self.run_id.clone(),
            style: self.style,
            records: self.records.clone(),
        }
    }
}

/// `raif import …`.
#[derive(clap::Subcommand, Clone, Debug)]
pub enum ImportCommand {
    /// A TRL GRPO output folder (its completions/completions_*.parquet, log_completions=True).
    Trl {
        dir: PathBuf,
        #[command(flatten)]
        common: ImportCommon,
    },
    /// A verl trainer.rollout_data_dir (its <step>.jsonl files).
    Verl {
        dir: PathBuf,
        #[command(flatten)]
        common: ImportCommon,
    },
    /// Our own JSONL export (`raif export RUN --format jsonl`), or plain rows
    /// {step, prompt, response, reward?, constraints?}.
    Jsonl {
        file: PathBuf,
        #[command(flatten)]
        common: ImportCommon,
    },
}

/// Run an import into `store`.
pub fn run_import(store: &Store, cmd: &ImportCommand) -> Result<ImportReport> {
    match cmd {
        ImportCommand::Trl { dir, common } => crate::import_trl(store, dir, &common.options()),
        ImportCommand::Verl { dir, common } => crate::import_verl(store, dir, &common.options()),
        ImportCommand::Jsonl { file, common } => {
            crate::import_jsonl(store, file, &common.options())
        }
    }
}

/// `raif export RUN --format jsonl|parquet [-o PATH]`.
#[derive(clap::Args, Clone, Debug)]
pub struct ExportArgs {
    /// The run to export.
    pub run: String,
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Where to write (JSONL: default standard output; Parquet: default `<run>.parquet`).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Run an export; returns a one-line summary for standard error.
pub fn run_export(store: &Store, args: &ExportArgs) -> Result<String> {
    match args.format {
        ExportFormat::Jsonl => match &args.output {
            Some(p) => {
                let f = std::fs::File::create(p)
                    .with_context(|| format!("cannot create {}", p.display()))?;
                let mut w = std::io::BufWriter::new(f);
                let n = export_jsonl(store, &args.run, &mut w)?;
                w.flush().context("writing the export")?;
                Ok(format!(
                    "exported {n} rollouts of `{}` to {}",
                    args.run,
                    p.display()
                ))
            }
            None => {
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                let n = export_jsonl(store, &args.run, &mut w)?;
                Ok(format!("exported {n} rollouts of `{}`", args.run))
            }
        },
        ExportFormat::Parquet => {
            let p = args.output.clone().unwrap_or_else(|| {
                PathBuf::from(format!("{}.parquet", args.run.replace(':', "_")))
            });
            let n = export_parquet(store, &args.run, &p)?;
            Ok(format!(
                "exported {n} rollouts of `{}` to {}",
                args.run,
                p.display()
            ))
        }
    }
}
