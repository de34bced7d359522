//! `raif train` (headless training with a progress bar) and `raif config show`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use raif_rl::config::{RunConfig, PRESETS};
use raif_rl::trainer::{self, TrainerEvent, TrainerSetup};
use raif_store::Store;

use raif_store::Home;

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// Start from a preset: grpo, raif (grpo + superior-CoT enforcement + behaviour cloning)
    /// or tiny (the raif recipe sized for a CPU).
    #[arg(long)]
    pub preset: Option<String>,
    /// A TOML run configuration (see `raif config show`); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The run's total number of steps, warm-up included: the run ends after step STEPS and its
    /// learning-rate schedule spans it (`train.steps` = STEPS − `warmup.steps`). With --resume,
    /// a new total above the last committed step: it extends (or shortens) the run, and the
    /// remaining steps follow the schedule of the new total.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Stop cleanly after this step number, as Ctrl-C would: the run keeps its total and its
    /// schedule, and `--resume` continues it.
    #[arg(long, value_name = "STEP")]
    pub stop_at: Option<u64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// The run's id (default: run-<unix time>).
    #[arg(long)]
    pub run_id: Option<String>,
    /// Append one JSON object per committed step (`step` and the metrics) to this file.
    #[arg(long)]
    pub metrics_jsonl: Option<PathBuf>,
    /// Continue a run from its last checkpoint with everything it was started with: its
    /// configuration, model, data, seed and device come from the store. Only --steps (a new
    /// total), --stop-at and --metrics-jsonl apply; any flag that would change the run is an
    /// error.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with_all = ["preset", "config", "seed", "run_id", "model", "data", "device", "set"]
    )]
    pub resume: Option<String>,
    /// Override the model (default, a .gguf, an HF folder, OWNER/NAME).
    #[arg(long)]
    pub model: Option<String>,
    /// Override the training data (a JSONL of records or a benchmark file).
    #[arg(long)]
    pub data: Option<String>,
    /// cpu, cuda, cuda:N, auto.
    #[arg(long)]
    pub device: Option<String>,
    /// Set one configuration value, e.g. `--set warmup.steps=0` or
    /// `--set rollout.stop_strings=[]` (TOML values; repeatable; applied after --config/--preset).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print a complete run configuration to start from.
    Show {
        #[arg(long, default_value = "raif")]
        preset: String,
    },
}

pub fn config(a: ConfigArgs) -> Result<()> {
    let ConfigCommand::Show { preset } = a.command;
    print!("{}", RunConfig::preset(&preset)?.to_toml()?);
    Ok(())
}

/// The configuration a `raif train` / `raif` invocation asks for.
pub fn build_config(a: &TrainArgs) -> Result<RunConfig> {
    let mut cfg = match (&a.config, &a.preset) {
        (Some(p), _) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            RunConfig::from_toml(&text, &p.display().to_string())?
        }
        (None, Some(pr)) => RunConfig::preset(pr)?,
        (None, None) => RunConfig::preset("raif")?,
    };
    if let Some(s) = a.seed {
        cfg.train.seed = s;
    }
    if let Some(n) = a.steps {
        cfg.train.steps = grpo_steps_for_total(&cfg, n)?;
    }
    if let Some(m) = &a.model {
        cfg.model.path = m.clone();
    }
    if let Some(d) = &a.data {
        cfg.data.path = d.clone();
    }
    if let Some(d) = &a.device {
        cfg.model.device = d.clone();
    }
    for kv in &a.set {
        cfg = cfg.with_setting(kv)?;
    }
    cfg.validate()?;
    Ok(cfg)
}

/// `train.steps` for a run of `total` steps in all (`--steps`): the warm-up counts.
fn grpo_steps_for_total(cfg: &RunConfig, total: u64) -> Result<usize> {
    let warmup = cfg.warmup.steps as u64;
    if total == 0 {
        bail!("--steps 0: a run has at least one step");
    }
    if total < warmup {
        bail!(
            "--steps {total} is shorter than the warm-up ({warmup} steps): --steps counts the \
             warm-up too (use --set warmup.steps=N to shorten it)"
        );
    }
    Ok((total - warmup) as usize)
}

/// The stored configuration of a run to resume, with a new total from `--steps` (which must
/// lie above the last committed step; the caller stores it once every flag is checked);
/// errors name the run and what it has reached. Returns the configuration and the last
/// committed step.
fn resume_config(
    store: &Store,
    home: &Home,
    id: &str,
    steps: Option<u64>,
) -> Result<(RunConfig, u64)> {
    let info = store
        .run(id)?
        .with_context(|| format!("no run `{id}` in {}", home.root().display()))?;
    let mut cfg: RunConfig = serde_json::from_value(info.config)
        .with_context(|| format!("run `{id}`: the stored run configuration is unreadable"))?;
    let reached = info.last_step.unwrap_or(0);
    let total = cfg.total_steps() as u64;
    match steps {
        Some(n) if n <= reached => bail!(
            "--steps {n}: run `{id}` has already committed step {reached}; --steps is the run's \
             new total and must be above it"
        ),
        Some(n) => {
            cfg.train.steps = grpo_steps_for_total(&cfg, n)?;
            cfg.validate()?;
        }
        None if reached >= total => bail!(
            "run `{id}` has committed all its {total} steps; pass --steps N (above {reached}) to \
             extend it"
        ),
        None => {}
    }
    Ok((cfg, reached))
}

pub fn default_run_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("run-{t}")
}

pub fn train(home: &Home, a: TrainArgs) -> Result<()> {
    if let Some(p) = &a.preset {
        if !PRESETS.contains(&p.as_str()) {
            bail!("unknown preset `{p}` ({})", PRESETS.join(", "));
        }
    }
    std::fs::create_dir_all(home.root())
        .with_context(|| format!("cannot create {}", home.root().display()))?;
    let store = Arc::new(Store::open(home.root())?);
    let setup = trainer_setup(home, &a, &store)?;
    let (run_id, resume) = (setup.run_id.clone(), setup.resume);
    let total = setup.config.total_steps() as u64;
    let warmup = setup.config.warmup.steps as u64;
    let handle = trainer::spawn(store.clone(), setup)?;
    let stop_tx = handle.commands.clone();
    // Ctrl-C stops cleanly: the current step finishes and is checkpointed.
    let _ = ctrlc_stop(stop_tx);
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} step {pos}/{len} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Without a terminal the bar is hidden: say the same things as plain lines.
    let say = |msg: String| {
        if bar.is_hidden() {
            eprintln!("{msg}")
        } else {
            bar.println(msg)
        }
    };
    let mut written = 0u64;
    let mut failure = None;
    let mut metrics_out = match &a.metrics_jsonl {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open {}", p.display()))?,
        ),
        None => None,
    };
    for ev in handle.events.iter() {
        match ev {
            TrainerEvent::Started {
                first_step,
                trainable_parameters,
                model,
                ..
            } => {
                bar.set_position(first_step - 1);
                written = first_step - 1;
                if resume {
                    if let (Some(p), Some(f)) = (&a.metrics_jsonl, metrics_out.as_mut()) {
                        // The store is the truth: the file is rewritten with the committed steps
                        // the resumed run keeps (a killed run may have missed or over-written lines).
                        let mut text = String::new();
                        for (s, m) in store.metrics(&run_id)? {
                            if s < first_step {
                                text += &metrics_line(s, m);
                                text.push('\n');
                            }
                        }
                        std::fs::write(p, text)
                            .with_context(|| format!("cannot write {}", p.display()))?;
                        *f = std::fs::OpenOptions::new().append(true).open(p)?;
                    }
                }
                say(format!("run {run_id}: {model}, {trainable_parameters} trainable parameters, from step {first_step}"));
            }
            TrainerEvent::StepStarted { step, .. } => {
                bar.set_message(format!("step {step}: generating"))
            }
            TrainerEvent::StepMetrics { step, metrics } => {
                bar.set_position(step);
                let line = step_line(step, warmup, &metrics);
                if bar.is_hidden() {
                    eprintln!("step {step}/{total}: {line}");
                }
                bar.set_message(line);
                if let Some(f) = metrics_out.as_mut() {
                    // Read from the store: what is written is what was committed.
                    for (s, m) in store.metrics(&run_id)? {
                        if s > written {
                            writeln!(f, "{}", metrics_line(s, m))?;
                            f.flush()?;
                            written = s;
                        }
                    }
                } else {
                    written = step;
                }
            }
            TrainerEvent::Warning(w) => say(format!("warning: {w}")),
            TrainerEvent::CheckpointSaved { step } => {
                bar.set_message(format!("step {step}: checkpoint saved"))
            }
            TrainerEvent::Failed(e) => failure = Some(e),
            TrainerEvent::Finished { last_step } => {
                say(format!("run {run_id} stopped after step {last_step}"))
            }
            _ => {}
        }
    }
    bar.finish_and_clear();
    let joined = handle
        .thread
        .join()
        .map_err(|_| anyhow::anyhow!("the trainer thread panicked"))?;
    match (joined, failure) {
        (Ok(last), None) => {
            println!(
                "run {run_id}: {last} steps committed in {}",
                home.root().display()
            );
            Ok(())
        }
        (Err(e), _) => {
            let hint = oom_hint(&format!("{e:#}"));
            Err(e.context(format!(
                "run {run_id} failed{hint} (resume it with `raif train --resume {run_id}`)"
            )))
        }
        (Ok(_), Some(e)) => bail!("run {run_id} failed: {e}{}", oom_hint(&e)),
    }
}

/// The run `raif train` asks for: a new one from its flags, or a stored one to resume (with a
/// new total from `--steps`, stored once every flag is checked).
fn trainer_setup(home: &Home, a: &TrainArgs, store: &Store) -> Result<TrainerSetup> {
    // The last committed step: 0 for a new run.
    let (cfg, run_id, resume, reached) = match &a.resume {
        Some(id) => {
            let (cfg, reached) = resume_config(store, home, id, a.steps)?;
            (cfg, id.clone(), true, reached)
        }
        None => (
            build_config(a)?,
            a.run_id.clone().unwrap_or_else(default_run_id),
            false,
            0,
        ),
    };
    let total = cfg.total_steps() as u64;
    if let Some(at) = a.stop_at {
        if at <= reached || at > total {
            bail!(
                "--stop-at {at}: the step to stop after must lie in {}..={total} (the run has \
                 committed {reached} of its {total} steps)",
                reached + 1
            );
        }
    }
    if resume && a.steps.is_some() {
        // Checked: the new total is stored before the trainer compares configurations.
        store.set_run_config(&run_id, serde_json::to_value(&cfg)?)?;
    }
    Ok(TrainerSetup {
        config: cfg,
        run_id,
        home: home.root().to_path_buf(),
        resume,
        stop_after: a.stop_at,
    })
}

/// A suggestion when a failure looks like running out of memory.
fn oom_hint(msg: &str) -> &'static str {
    let m = msg.to_lowercase();
    if m.contains("out of memory")
        || m.contains("cannot allocate")
        || m.contains("alloc") && m.contains("fail")
    {
        " — out of memory: try LoRA (train.mode.kind = \"lora\"), a smaller train.group_size or micro_batch, \
         shorter rollout.max_new_tokens, or train.gradient_checkpointing = true"
    } else {
        ""
    }
}

/// The progress line of a committed step: warm-up steps show the expert NLL, GRPO steps the
/// reward and how often the model closed its own tags; a held-out evaluation is appended.
fn step_line(step: u64, warmup: u64, m: &raif_store::Metrics) -> String {
    let g = |k: &str| m.get(k).copied().unwrap_or(f64::NAN);
    let mut line = if step <= warmup {
        format!(
            "warm-up {step}/{warmup}  expert_nll {:.3}  grad_norm {:.2}  {:.1}s/step",
            g("expert_nll"),
            g("grad_norm"),
            g("step_time")
        )
    } else {
        // A step whose groups were all skipped trained no sample: no KL was measured.
        let kl = match m.get("kl") {
            Some(v) => format!("{v:.4}"),
            None => format!("- ({:.0} skipped)", g("skipped_samples")),
        };
        format!(
            "GRPO {}  reward {:+.3} ± {:.3}  self-closed {:.2}  forced {:.2}  keep {:.2}  kl {kl}  {:.1}s/step",
            step - warmup,
            g("reward"),
            g("reward_std"),
            g("format/self_closed_ratio"),
            g("completions/forced_ratio"),
            g("keep_ratio"),
            g("step_time")
        )
    };
    if m.contains_key("eval/format_ok") {
        line += &format!(
            "  | held out: format {:.2}, instructions {:.2}",
            g("eval/format_ok"),
            g("eval/instruction_strict")
        );
    }
    line
}

/// One line of `--metrics-jsonl`: `step` and every metric.
fn metrics_line(step: u64, m: raif_store::Metrics) -> String {
    let mut o = serde_json::Map::new();
    o.insert("step".into(), serde_json::json!(step));
    for (k, v) in m {
        o.insert(k, serde_json::json!(v));
    }
    serde_json::Value::Object(o).to_string()
}

/// Install a Ctrl-C handler that asks the trainer to stop after the current step.
fn ctrlc_stop(tx: std::sync::mpsc::Sender<trainer::TrainerCommand>) -> Result<()> {
    ctrlc::set_handler(move || {
        let _ = tx.send(trainer::TrainerCommand::Stop);
        eprintln!("\nraif: stopping after the current step (with a checkpoint)…");
    })
    .context("cannot install the Ctrl-C handler")
}
