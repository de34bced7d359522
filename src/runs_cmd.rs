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
