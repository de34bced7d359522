//! `raif`: the RAIF Workbench command line. It only parses arguments and wires the library
//! crates together; the logic lives in `raif-model`, `raif-verify`, `raif-datasets`, `raif-rl`
//! and `raif-ui`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod bench_cmd;
mod check;
mod data;
mod eval_cmd;
mod model_cmd;
mod runs_cmd;
mod train_cmd;

/// RAIF Workbench: teach language models to follow complex instructions by reasoning first.
#[derive(Parser, Debug)]
#[command(name = "raif", version, about, long_about = None)]
pub struct Cli {
    /// Workspace directory: the run store and the model cache live here.
    /// Default: the user's data folder (e.g. ~/.local/share/raif).
    #[arg(long, global = true, env = "RAIF_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Workbench only: the model for the launch form (default, a .gguf, an HF folder).
    #[arg(long)]
    pub model: Option<String>,
    /// Workbench only: start a run of this preset at once (tiny, grpo, raif).
    #[arg(long)]
    pub preset: Option<String>,
    /// Workbench only: start a run of this TOML configuration at once.
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Without a subcommand, `raif` opens the terminal workbench.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fetch, list and inspect models.
    Model(model_cmd::ModelArgs),
    /// Generate from a model, streaming to the terminal.
    Generate(model_cmd::GenerateArgs),
    /// Measure speed and memory (`raif bench generate`).
    Bench(bench_cmd::BenchArgs),
    /// Check responses against IFEval / IFBench instructions, like the official checkers.
    Check(check::CheckArgs),
    /// Datasets: load, validate, describe, generate, fetch.
    Data(data::DataArgs),
    /// Train headless (GRPO / RAIF) with a progress bar; every step is committed to the store.
    Train(train_cmd::TrainArgs),
    /// Run configurations (`raif config show --preset raif`).
    Config(train_cmd::ConfigArgs),
    /// Runs in the store: list, show metrics, read rollouts.
    Runs(runs_cmd::RunsArgs),
    /// Evaluate a model or checkpoint on a benchmark (greedy, batched, resumable, stored).
    Eval(eval_cmd::EvalArgs),
    /// Two models or checkpoints side by side: one prompt, or a benchmark item by item.
    Compare(eval_cmd::CompareArgs),
    /// Serve the RAIF reward over HTTP (OpenRLHF /get_reward, /v1/score, /health, /metrics).
    ServeReward(raif_serve::ServeArgs),
    /// Import a TRL / verl run or our JSONL export into the store for replay.
    Import {
        #[command(subcommand)]
        what: raif_interop::cli::ImportCommand,
    },
    /// Export a run as JSONL or Parquet.
    Export(raif_interop::cli::ExportArgs),
}

fn main() {
    raif_model::alloc::keep_freed_memory();
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    refuse_workbench_flags(&cli, matches.subcommand_name());
    let home = raif_store::Home::resolve(cli.home.clone());
    let result: Result<()> = match cli.command {
        None => raif_ui::run(raif_ui::UiOptions {
            home: home.root().to_path_buf(),
            model: cli.model.clone(),
            preset: cli.preset.clone(),
            config: cli.config.clone(),
        }),
        Some(c) => run_command(&home, c),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        let code = match e.downcast_ref::<check::BadLines>() {
            Some(_) => check::EXIT_BAD_LINES,
            None => 1,
        };
        std::process::exit(code);
    }
}

/// The workbench's own flags (`raif --preset tiny`) mean nothing before a subcommand, which
/// has flags of its own: a clap usage error that names them, not silence. (clap's
/// `args_conflicts_with_subcommands` would refuse the global `--home` too.)
fn refuse_workbench_flags(cli: &Cli, sub: Option<&str>) {
    let Some(name) = sub else { return };
    let given: Vec<&str> = [
        ("--model", cli.model.is_some()),
        ("--preset", cli.preset.is_some()),
        ("--config", cli.config.is_some()),
    ]
    .into_iter()
    .filter_map(|(f, set)| set.then_some(f))
    .collect();
    if given.is_empty() {
        return;
    }
    use clap::CommandFactory;
    Cli::command()
        .error(
            clap::error::ErrorKind::ArgumentConflict,
            format!(
                "{} before a subcommand: {} only applies to the workbench (`raif` alone); \
                 give the subcommand's own flags after `raif {name}`",
                given.join(", "),
                if given.len() == 1 { "it" } else { "they" }
            ),
        )
        .exit()
}

fn run_command(home: &raif_store::Home, command: Command) -> Result<()> {
    let home = home.clone();
    match command {
        Command::Model(a) => model_cmd::model(&home, a),
        Command::Generate(a) => model_cmd::generate(&home, a),
        Command::Bench(a) => bench_cmd::bench(&home, a),
        Command::Check(a) => check::run(a),
        Command::Data(a) => data::run(&home, a),
        Command::Train(a) => train_cmd::train(&home, a),
        Command::Config(a) => train_cmd::config(a),
        Command::Runs(a) => runs_cmd::run(home.root(), a),
        Command::Eval(a) => eval_cmd::eval(&home, a),
        Command::Compare(a) => eval_cmd::compare(&home, a),
        Command::ServeReward(a) => raif_serve::run(a),
        Command::Import { what } => raif_store::Store::open(home.root())
            .and_then(|s| raif_interop::cli::run_import(&s, &what))
            .map(|r| eprintln!("{r}")),
        Command::Export(a) => raif_store::Store::open(home.root())
            .and_then(|s| raif_interop::cli::run_export(&s, &a))
            .map(|m| eprintln!("{m}")),
    }
}
