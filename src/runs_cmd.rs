//! `raif runs list|show|rollouts`: read the run store of `--home`.
//!
//! Wiring (in `main.rs`): `mod runs_cmd;`, a `Runs(runs_cmd::RunsArgs)` variant documented as
//! "Runs in the store: list them, show a run's metrics, read its rollouts.", and
//! `Command::Runs(a) => runs_cmd::run(home.root(), a)`.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;
use clap::{Args, Subcommand};
use raif_store::{report, RolloutFilter, Store};

#[derive(Args, Debug)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: RunsCommand,
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// List runs, newest first.
    List {
        /// One JSON object per run (id, status, last_step, model, created, …).
        #[arg(long)]
        json: bool,
    },
    /// A run's metrics, one row per committed step.
    Show {
        /// Run id.
        id: String,
        /// One JSON object per step: {"step": N, <metric>: value, …}.
        #[arg(long)]
        json: bool,
    },
    /// A run's rollouts: one step's (--step), or all that pass the filters.
    Rollouts {
        /// Run id.
        id: String,
        /// Only this step.
        #[arg(long)]
        step: Option<u64>,
        /// Only rollouts that failed this constraint id.
        #[arg(long, value_name = "ID")]
        failed: Option<String>,
        /// Only rewards ≥ this.
        #[arg(long, value_name = "R", allow_negative_numbers = true)]
        min_reward: Option<f64>,
        /// Only rewards ≤ this.
        #[arg(long, value_name = "R", allow_negative_numbers = true)]
        max_reward: Option<f64>,
        /// Only kept (true) or dropped (false) rollouts.
        #[arg(long, value_name = "BOOL")]
        kept: Option<bool>,
        /// Only no-think (true) or thinking (false) samples.
        #[arg(long, value_name = "BOOL")]
        no_think: Option<bool>,
        /// Only held-out evaluation (true) or training (false) rollouts.
        #[arg(long, value_name = "BOOL")]
        eval: Option<bool>,
        /// Only rollouts whose prompt id, prompt, response, reasoning or answer contains this
        /// (case-insensitive).
        #[arg(long, value_name = "TEXT")]
        text: Option<String>,
        /// One JSON object per rollout (prompt_id, sample, reasoning, answer, reward,
        /// advantage, kept, verdicts, …).
        #[arg(long)]
        json: bool,
    },
    /// Draw runs' curves to an SVG or PNG picture: one panel per metric, the runs overlaid
    /// with a legend, EMA-smoothed over the faint raw line, GRPO's start dashed.
    Plot {
        /// Run ids (each its own colour).
        #[arg(required = true)]
        runs: Vec<String>,
        /// A metric to draw (repeat for more panels; `raif runs show RUN` lists them).
        #[arg(long = "metric", short = 'm', required = true)]
        metrics: Vec<String>,
        /// The picture: FILE.svg or FILE.png.
        #[arg(long)]
        out: std::path::PathBuf,
        /// EMA weight of the past, 0 (off) to below 1, as the Curves view's.
        #[arg(long, default_value_t = 0.6)]
        smoothing: f64,
    },
}

/// Runs `raif runs …` against the store of `home`.
pub fn run(home: &Path, args: RunsArgs) -> Result<()> {
    let store = Store::open(home)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match args.command {
        RunsCommand::List { json } => report::write_runs_list(&store, json, &mut out),
        RunsCommand::Show { id, json } => report::write_run_show(&store, &id, json, &mut out),
        RunsCommand::Rollouts {
            id,
            step,
            failed,
            min_reward,
            max_reward,
            kept,
            no_think,
            eval,
            text,
            json,
        } => {
            let filter = RolloutFilter {
                step,
                failed_constraint: failed,
                reward_min: min_reward,
                reward_max: max_reward,
                kept,
                no_think,
                text,
                eval,
            };
            report::write_rollouts(&store, &id, filter, json, &mut out)
        }
        RunsCommand::Plot {
            runs,
            metrics,
            out: path,
            smoothing,
        } => plot(&store, &runs, metrics, smoothing, &path),
    };
    let result = result.and_then(|()| out.flush().map_err(anyhow::Error::from));
    match result {
        // `raif runs … | head` closes the pipe early: that is not a failure.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == io::ErrorKind::BrokenPipe)
    })
}

/// `raif runs plot`.
fn plot(
    store: &Store,
    runs: &[String],
    metrics: Vec<String>,
    smoothing: f64,
    path: &Path,
) -> Result<()> {
    if !(0.0..1.0).contains(&smoothing) {
        anyhow::bail!("--smoothing {smoothing}: give a weight from 0 (off) to below 1");
    }
    let runs = runs
        .iter()
        .map(|id| raif_ui::plot::PlotRun::load(store, id))
        .collect::<Result<Vec<_>>>()?;
    raif_ui::plot::plot(
        &runs,
        &raif_ui::plot::PlotOptions::new(metrics, smoothing),
        path,
    )?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
