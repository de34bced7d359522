//! `raif model …` and `raif generate`; [`load`] and [`load_target`], the command line's ways
//! to open a model or a run's checkpoint.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use raif_model::fetch::{self, DefaultModel, FetchOutcome};
use raif_model::{device, Generator, LoadedModel, PromptMode, SamplingParams};
use raif_rl::config::{AnswerFormat, RunConfig};
use raif_store::Store;

use raif_store::Home;

#[derive(Args, Debug)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Fetch the default model (SmolLM2-135M-Instruct), or a Hugging Face folder with --hf.
    Fetch {
        /// A Hugging Face model id, OWNER/NAME (needs a network).
        #[arg(long, value_name = "OWNER/NAME")]
        hf: Option<String>,
    },
    /// List the cached models.
    List,
    /// Show a model's configuration, parameter count and chat template.
    Info(ModelSel),
    /// Write a model as a Hugging Face folder (float32 safetensors, tokenizer, chat template):
    /// e.g. the dequantized default model, for transformers or another engine.
    Export {
        #[command(flatten)]
        sel: ModelSel,
        /// Destination folder.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Which model, on which device.
#[derive(Args, Debug, Clone)]
pub struct ModelSel {
    /// `default`, a .gguf file, a Hugging Face folder, a cached OWNER/NAME, or `random:SHAPE`
    /// (a real model's shape with random weights, for benchmarks: smollm2-135m,
    /// qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-7b, llama-3.1-8b).
    #[arg(long, short = 'm', default_value = "default")]
    pub model: String,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Override the chat template (chatml, smollm, qwen, llama3, llama3.1, deepseek-r1, mistral).
    #[arg(long)]
    pub template: Option<String>,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub sel: ModelSel,
    /// The instruction.
    #[arg(long, short = 'p')]
    pub prompt: String,
    /// A run's checkpoint instead of --model (`RUN@STEP`, or `RUN` for its newest): the run's
    /// base model with the checkpoint's weights.
    #[arg(long, conflicts_with = "model")]
    pub checkpoint: Option<String>,
    /// io (plain), cot (think step by step), think (RAIF reasoning format), no-think. Default:
    /// think for a checkpoint of a run trained in the think format, io otherwise (a base
    /// model rarely closes the think format; it reasons to the token limit).
    #[arg(long)]
    pub mode: Option<PromptMode>,
    /// Number of samples.
    #[arg(long, short = 'n', default_value_t = 1)]
    pub n: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 512)]
    pub max_new_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    #[arg(long, default_value_t = 0.7)]
    pub temperature: f64,
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    /// Greedy decoding (same as --temperature 0).
    #[arg(long)]
    pub greedy: bool,
    /// Print the full prompt before generating.
    #[arg(long)]
    pub show_prompt: bool,
}

/// A line on standard error, prefixed `raif:` (the commands' progress and notes).
pub fn log(msg: &str) {
    eprintln!("raif: {msg}");
}

pub fn model(home: &Home, args: ModelArgs) -> Result<()> {
    let models = home.models();
    match args.command {
        ModelCommand::Fetch { hf: None } => {
            match fetch::fetch_default(&models, &mut |m| log(m))? {
                FetchOutcome::AlreadyThere(p) => println!(
                    "{} is already cached at {}",
                    DefaultModel::NAME,
                    p.display()
                ),
                FetchOutcome::Fetched(p) => {
                    println!("fetched {} to {}", DefaultModel::NAME, p.display())
                }
            }
            Ok(())
        }
        ModelCommand::Fetch { hf: Some(id) } => {
            let dir = fetch::fetch_hf(&models, &id, &mut |m| log(m))?;
            println!("fetched {id} to {}", dir.display());
            Ok(())
        }
        ModelCommand::List => {
            let list = fetch::list_cached(&models)?;
            if list.is_empty() {
                println!(
                    "no models cached in {} (run `raif model fetch`)",
                    models.display()
                );
            }
            for m in list {
                println!(
                    "{:<40} {:>5} {:>9.1} MB  {}",
                    m.name,
                    m.kind,
                    m.bytes as f64 / 1e6,
                    m.path.display()
                );
            }
            Ok(())
        }
        ModelCommand::Info(sel) => {
            let lm = load(home, &sel)?;
            let c = &lm.model.cfg;
            println!("source      {}", lm.source.path().display());
            println!("arch        {:?}", c.arch);
            println!("parameters  {:.1} M", c.num_parameters() as f64 / 1e6);
            println!(
                "layers      {}  hidden {}  ffn {}  heads {}/{} (kv)  head_dim {}",
                c.num_hidden_layers,
                c.hidden_size,
                c.intermediate_size,
                c.num_attention_heads,
                c.num_key_value_heads,
                c.head_dim
            );
            println!(
                "vocab       {}  context {}  rope_theta {}  tied {}",
                c.vocab_size, c.max_position_embeddings, c.rope_theta, c.tie_word_embeddings
            );
            println!("template    {}", lm.template.name());
            let stops: Vec<String> = lm
                .stop_ids
                .iter()
                .map(|&i| format!("{i} {:?}", lm.tokenizer.id_to_token(i).unwrap_or_default()))
                .collect();
            println!("stop tokens {}", stops.join(", "));
            Ok(())
        }
        ModelCommand::Export { sel, out } => {
            let lm = load(home, &sel)?;
            lm.save_hf(&out)?;
            println!("wrote {}", out.display());
            Ok(())
        }
    }
}

/// Resolve `--model` to a path (see [`fetch::resolve`]).
pub fn resolve_model(home: &Home, spec: &str) -> Result<PathBuf> {
    fetch::resolve(&home.models(), spec, &mut |m| log(m))
}

/// [`LoadedModel::open`] with the CLI's `--model`, `--device` and `--template`, saying what was
/// loaded and how long it took.
pub fn load(home: &Home, sel: &ModelSel) -> Result<LoadedModel> {
    let t = Instant::now();
    let lm = LoadedModel::open(
        &home.models(),
        &sel.model,
        &sel.device,
        sel.template.as_deref(),
        &mut |m| log(m),
    )?;
    log(&format!(
        "loaded {} ({:.1} M parameters, {:?}, {}) in {:.2} s",
        lm.source.path().display(),
        lm.model.cfg.num_parameters() as f64 / 1e6,
        lm.model.dtype(),
        device::describe(lm.model.device()),
        t.elapsed().as_secs_f64()
    ));
    Ok(lm)
}

/// A model or a run's checkpoint, loaded (see [`load_target`]).
pub struct Target {
    pub lm: LoadedModel,
    /// For a checkpoint: `RUN@STEP` and the checkpoint's identity.
    pub checkpoint: Option<(String, String)>,
    /// For a checkpoint: the run's configuration.
    pub run: Option<RunConfig>,
}

/// A model (`--model`) or a run's checkpoint (`RUN@STEP`), loaded.
pub fn load_target(
    home: &Home,
    store: &Store,
    model: &str,
    checkpoint: Option<&str>,
    device: &str,
    template: Option<&str>,
) -> Result<Target> {
    match checkpoint {
        Some(spec) => {
            let (run, step) = raif_rl::trainer::parse_checkpoint_spec(spec)?;
            let t = Instant::now();
            let (mut lm, cfg, step) =
                raif_rl::trainer::load_checkpoint_model(store, home.root(), &run, step, device)?;
            if let Some(t) = template {
                lm.template = raif_model::ChatTemplate::by_name(t)?;
            }
            log(&format!(
                "loaded run `{run}` at step {step} in {:.2} s",
                t.elapsed().as_secs_f64()
            ));
            let manifest = store
                .checkpoint(&run, step)?
                .with_context(|| format!("run `{run}` has no checkpoint at step {step}"))?;
            Ok(Target {
                lm,
                checkpoint: Some((
                    format!("{run}@{step}"),
                    raif_rl::eval::checkpoint_identity(&manifest),
                )),
                run: Some(cfg),
            })
        }
        None => Ok(Target {
            lm: load(
                home,
                &ModelSel {
                    model: model.to_string(),
                    device: device.to_string(),
                    template: template.map(str::to_string),
                },
            )?,
            checkpoint: None,
            run: None,
        }),
    }
}

/// `raif generate`'s mode when none is given, and why: think for a checkpoint of a run that
/// trained in the think format, io for anything else.
pub fn default_generate_mode(run: Option<&RunConfig>) -> (PromptMode, &'static str) {
    match run {
        Some(c) if c.rollout.format == AnswerFormat::Think => (
            PromptMode::Think,
            "a checkpoint of a run trained to reason in <think>",
        ),
        Some(_) => (
            PromptMode::Io,
            "a checkpoint of a run trained without the think format",
        ),
        None => (
            PromptMode::Io,
            "a model not trained here rarely closes the think format",
        ),
    }
}

pub fn generate(home: &Home, a: GenerateArgs) -> Result<()> {
    if a.n == 0 {
        bail!("--n must be at least 1");
    }
    // The store only for a checkpoint: a plain model needs no store (and so no lock on it
    // while the workbench has it open).
    let (lm, run) = match a.checkpoint.as_deref() {
        Some(spec) => {
            let store = Store::open(home.root())?;
            let t = load_target(
                home,
                &store,
                &a.sel.model,
                Some(spec),
                &a.sel.device,
                a.sel.template.as_deref(),
            )?;
            (t.lm, t.run)
        }
        None => (load(home, &a.sel)?, None),
    };
    let mode = match a.mode {
        Some(m) => m,
        None => {
            let (mode, why) = default_generate_mode(run.as_ref());
            log(&format!(
                "mode {} ({why}; --mode chooses)",
                raif_rl::eval::mode_name(mode)
            ));
            mode
        }
    };
    let prompt = lm.template.prompt(&a.prompt, mode)?;
    if a.show_prompt {
        println!("{prompt}");
    }
    let ids = lm.tokenizer.encode(&prompt)?;
    let params = SamplingParams {
        temperature: if a.greedy { 0.0 } else { a.temperature },
        top_p: a.top_p,
        top_k: a.top_k,
        max_new_tokens: a.max_new_tokens,
        ..Default::default()
    };
    let gen = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: lm.stop_ids.clone(),
    };
    let prompts = vec![ids; a.n];
    let seeds: Vec<u64> = (0..a.n as u64).map(|i| a.seed.wrapping_add(i)).collect();
    let stdout = std::io::stdout();
    // With one sample the text streams as it is generated; with several, each is printed whole.
    let prefix = match mode {
        PromptMode::Think => "<think>\n",
        PromptMode::NoThink => "<think>\n\n</think>\n",
        _ => "",
    };
    if a.n == 1 {
        print!("{prefix}");
    }
    let (outs, stats) = gen.generate_with_stats(&prompts, &seeds, &params, &mut |ev| {
        if a.n == 1 {
            let mut lock = stdout.lock();
            let _ = write!(lock, "{}", ev.delta);
            let _ = lock.flush();
        }
    })?;
    if a.n == 1 {
        println!();
    } else {
        for (i, g) in outs.iter().enumerate() {
            println!(
                "── sample {i} ({} tokens, {:?}) ──\n{prefix}{}",
                g.tokens.len(),
                g.finish,
                g.text
            );
        }
    }
    log(&format!(
        "{} prompt tokens, {} generated in {:.2} s ({:.1} tokens/s decode)",
        stats.prompt_tokens,
        stats.generated_tokens,
        stats.prefill_s + stats.decode_s,
        stats.generated_tokens as f64 / stats.decode_s.max(1e-9)
    ));
    Ok(())
}
