//! `raif bench …`: generation, training-step and evaluation throughput, and the device check.
//! Measurements only; what they measure lives in the library crates.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use raif_model::{device, Generator, PromptMode, SamplingParams};
use raif_rl::eval::{mode_name, tokens_per_s, Bench, EvalSetup, Evaluation, Identity};
use raif_store::Store;

use crate::eval_cmd::{bench_path, progress_line};
use crate::model_cmd::{load, log, ModelSel};
use raif_store::Home;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Prefill tokens/s (512-token prompt), greedy decode tokens/s at batch 1 and sampled
    /// decode tokens/s at batch 8 (128 new tokens), peak memory; warm-up, median of 3.
    Generate {
        #[command(flatten)]
        sel: ModelSel,
        /// Print one JSON object (prefill_tps, decode_tps_b1, decode_tps_b8, peak_rss_mb).
        #[arg(long)]
        json: bool,
        /// Repetitions (the median is reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Sequences of the sampled decode (reported as decode_tps_batch; decode_tps_b8 when 8).
        /// On CUDA the result also gives the share of the memory-bandwidth limit reached.
        #[arg(long, default_value_t = 8)]
        batch: usize,
    },
    /// Evaluation throughput: a batched `raif eval` (generation + scoring, stored in a
    /// temporary store) of the first --limit items of a rule-scored benchmark: tokens/s,
    /// items/s and time taken.
    Eval(BenchEvalArgs),
    /// Does a device compute what the CPU computes? Tiny random models of each family on
    /// --device (in its default dtype, or --dtype) against the CPU in f32: logits, per-token
    /// log-probs and the gradients of one training loss. Exits non-zero outside tolerance.
    DeviceCheck {
        /// cpu, cuda, cuda:N.
        #[arg(long, default_value = "cuda")]
        device: String,
        /// f32 or bf16 (default: bf16 on CUDA, f32 on the CPU).
        #[arg(long)]
        dtype: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The workbench playground's latency: the time from Enter to each side's first text, with
    /// the models loaded for the first job (cold) and kept for the next (warm, the median of
    /// --reps), on the same engine the TUI runs; and each side's whole answer.
    Playground {
        /// Side A, as in the playground (MODEL:MODE or RUN@STEP:MODE).
        #[arg(long, default_value = "default:cot")]
        a: String,
        /// Side B.
        #[arg(long, default_value = "default:think")]
        b: String,
        #[arg(
            long,
            default_value = "Write two sentences about the sea, without commas."
        )]
        prompt: String,
        #[arg(long, default_value_t = 64)]
        max_new_tokens: usize,
        #[arg(long, default_value_t = 3)]
        reps: usize,
        #[arg(long)]
        json: bool,
    },
    /// One optimizer step (forward, backward, AdamW) on 8 sequences × 256 tokens: seconds per
    /// step, tokens/s and peak memory; full fine-tune or LoRA.
    TrainStep {
        #[command(flatten)]
        sel: ModelSel,
        /// LoRA (r 8, alpha 16, all projections) instead of a full fine-tune.
        #[arg(long)]
        lora: bool,
        /// Keep every activation instead of recomputing blocks in the backward.
        #[arg(long)]
        no_checkpointing: bool,
        #[arg(long, default_value_t = 8)]
        batch: usize,
        #[arg(long, default_value_t = 256)]
        seq_len: usize,
        /// Print one JSON object (step_s, tokens_per_s, peak_rss_mb).
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 3)]
        reps: usize,
    },
}

/// Peak resident memory of this process (Linux VmHWM), in MB.
pub fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn bench(home: &Home, a: BenchArgs) -> Result<()> {
    match a.command {
        BenchCommand::Generate {
            sel,
            json,
            reps,
            batch,
        } => bench_generate(home, sel, json, reps, batch),
        BenchCommand::Eval(a) => bench_eval(home, a),
        BenchCommand::DeviceCheck {
            device,
            dtype,
            json,
        } => device_check(&device, dtype.as_deref(), json),
        BenchCommand::Playground {
            a,
            b,
            prompt,
            max_new_tokens,
            reps,
            json,
        } => bench_playground(home, [a, b], prompt, max_new_tokens, reps, json),
        BenchCommand::TrainStep {
            sel,
            lora,
            no_checkpointing,
            batch,
            seq_len,
            json,
            reps,
        } => bench_train_step(
            home,
            sel,
            lora,
            !no_checkpointing,
            batch,
            seq_len,
            json,
            reps,
        ),
    }
}

/// One playground job on `engine`: each side's (first text, whole answer) in seconds.
fn play_once(
    engine: &mut raif_ui::playground::Engine,
    id: u64,
    sides: &[String; 2],
    prompt: &str,
    max_new_tokens: usize,
) -> Result<[(f64, f64); 2]> {
    use raif_ui::playground::{PlayEvent, PlayJob};
    let job = PlayJob {
        id,
        prompt: prompt.to_string(),
        constraints: None,
        sides: sides.clone(),
        options: raif_rl::eval::playground::PlayOptions {
            max_new_tokens,
            ..Default::default()
        },
        low_priority: false,
    };
    let out = std::sync::Mutex::new(Vec::new());
    engine.run(&job, &|a| {
        if let raif_ui::Action::Play(PlayEvent::Done {
            side,
            result,
            first_token_s,
            elapsed_s,
            ..
        }) = a
        {
            if let Ok(mut v) = out.lock() {
                v.push((side, result, first_token_s, elapsed_s));
            }
        }
    });
    let mut res = [(f64::NAN, f64::NAN); 2];
    for (side, result, first, elapsed) in out.into_inner().unwrap_or_default() {
        if let Err(e) = result {
            bail!("side {}: {e}", sides[side]);
        }
        res[side] = (first.unwrap_or(f64::NAN), elapsed);
    }
    Ok(res)
}

fn bench_playground(
    home: &Home,
    sides: [String; 2],
    prompt: String,
    max_new_tokens: usize,
    reps: usize,
    json: bool,
) -> Result<()> {
    let store = std::sync::Arc::new(Store::open(home.root())?);
    let mut engine = raif_ui::playground::Engine::new(store, home.root().to_path_buf());
    let cold = play_once(&mut engine, 1, &sides, &prompt, max_new_tokens)?;
    let mut warm = Vec::new();
    for i in 0..reps.max(1) {
        warm.push(play_once(
            &mut engine,
            2 + i as u64,
            &sides,
            &prompt,
            max_new_tokens,
        )?);
    }
    let med = |side: usize, k: usize| {
        median(
            warm.iter()
                .map(|w| if k == 0 { w[side].0 } else { w[side].1 })
                .collect(),
        )
    };
    let threads = candle_core_threads();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "a": sides[0], "b": sides[1], "max_new_tokens": max_new_tokens, "threads": threads,
                "cold_first_text_s": [cold[0].0, cold[1].0],
                "cold_answer_s": [cold[0].1, cold[1].1],
                "warm_first_text_s": [med(0, 0), med(1, 0)],
                "warm_answer_s": [med(0, 1), med(1, 1)],
                "peak_rss_mb": peak_rss_mb(),
            })
        );
    } else {
        println!(
            "playground: A {} against B {}, {threads} threads, at most {max_new_tokens} tokens",
            sides[0], sides[1]
        );
        println!(
            "first job (models loaded): first text A {:.2} s, B {:.2} s; answers {:.2} s, {:.2} s",
            cold[0].0, cold[1].0, cold[0].1, cold[1].1
        );
        println!(
            "models kept (median of {}): first text A {:.2} s, B {:.2} s; answers {:.2} s, {:.2} s",
            warm.len(),
            med(0, 0),
            med(1, 0),
            med(0, 1),
            med(1, 1)
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn bench_train_step(
    home: &Home,
    sel: ModelSel,
    lora: bool,
    checkpointing: bool,
    batch: usize,
    seq_len: usize,
    json: bool,
    reps: usize,
) -> Result<()> {
    use raif_model::train::optim::{AdamW, AdamWConfig, GradAccum};
    use raif_model::train::{
        token_logprobs, LogProbOptions, LoraConfig, SeqBatch, SideGrads, Trainable,
    };
    if batch == 0 || seq_len < 2 {
        bail!("--batch must be at least 1 and --seq-len at least 2");
    }
    let mut lm = load(home, &sel)?;
    let tr = if lora {
        Trainable::lora(&mut lm.model, &LoraConfig::default(), 0)?
    } else {
        Trainable::full(&mut lm.model)?
    };
    tr.set_training(true);
    let mut opt = AdamW::new(&tr.vars, AdamWConfig::default())?;
    // Real text, so the loss is a language-model loss and not noise.
    let text = "Researchers teach small language models to follow instructions with several constraints at once, \
                rewarding answers that satisfy every rule and reasoning that beats answering directly. ";
    let ids = lm.tokenizer.encode(&text.repeat(1 + seq_len / 20))?;
    if ids.len() < seq_len + batch {
        bail!("bench text tokenized to only {} tokens", ids.len());
    }
    let seqs: Vec<Vec<u32>> = (0..batch).map(|b| ids[b..b + seq_len].to_vec()).collect();
    let sb = SeqBatch::new(&seqs, &vec![1; batch], lm.model.device())?;
    let n_tokens: usize = sb.counts.iter().sum();
    let side = SideGrads::default();
    let dev = lm.model.device().clone();
    // (step, forward, backward, optimizer) seconds and the loss; each phase ends with the
    // device synchronized, so on a GPU the phases are its own time, not the launches'.
    let step = |opt: &mut AdamW| -> Result<([f64; 4], f64)> {
        let t = Instant::now();
        let lp = token_logprobs(
            &lm.model,
            &sb,
            &LogProbOptions::policy().recompute(checkpointing.then_some(&side)),
        )?
        .logp;
        let loss = ((lp * &sb.loss_mask)?.sum_all()?.neg()? / n_tokens as f64)?;
        let l = loss
            .to_dtype(raif_model::candle_core::DType::F32)?
            .to_scalar::<f32>()? as f64;
        let t_fwd = t.elapsed().as_secs_f64();
        let store = loss.backward()?;
        let mut acc = GradAccum::new(tr.vars.len());
        acc.add(&tr.vars, &store, Some(&side))?;
        drop(store);
        dev.synchronize()?;
        let t_bwd = t.elapsed().as_secs_f64();
        opt.step(&tr.vars, &acc.grads, 1e-5, 1.0)?;
        dev.synchronize()?;
        let t_all = t.elapsed().as_secs_f64();
        Ok(([t_all, t_fwd, t_bwd - t_fwd, t_all - t_bwd], l))
    };
    log(&format!(
        "{} trainable parameters; warm-up step",
        tr.num_parameters()
    ));
    step(&mut opt)?;
    let mut times: [Vec<f64>; 4] = Default::default();
    for r in 0..reps.max(1) {
        let (s, l) = step(&mut opt)?;
        log(&format!(
            "rep {}: {:.3} s (forward {:.3}, backward {:.3}, optimizer {:.3}), loss {l:.4}",
            r + 1,
            s[0],
            s[1],
            s[2],
            s[3]
        ));
        for (all, x) in times.iter_mut().zip(s) {
            all.push(x);
        }
    }
    let [step_t, fwd_t, bwd_t, opt_t] = times;
    let step_s = median(step_t);
    let out = serde_json::json!({
        "mode": if lora { "lora" } else { "full" },
        "checkpointing": checkpointing,
        "batch": batch,
        "seq_len": seq_len,
        "trainable_parameters": tr.num_parameters(),
        "threads": candle_core_threads(),
        "step_s": step_s,
        "forward_s": median(fwd_t),
        "backward_s": median(bwd_t),
        "optimizer_s": median(opt_t),
        "tokens_per_s": (batch * seq_len) as f64 / step_s,
        "peak_rss_mb": peak_rss_mb(),
    });
    if json {
        println!("{out}");
    } else {
        println!(
            "{} step, {batch} × {seq_len} tokens: {step_s:.2} s, {:.0} tokens/s, peak RSS {:.0} MB",
            if lora { "LoRA" } else { "full fine-tune" },
            (batch * seq_len) as f64 / step_s,
            out["peak_rss_mb"].as_f64().unwrap_or(0.0)
        );
    }
    Ok(())
}

fn bench_generate(home: &Home, sel: ModelSel, json: bool, reps: usize, batch: usize) -> Result<()> {
    let reps = reps.max(1);
    if batch == 0 {
        bail!("--batch must be at least 1");
    }
    let lm = load(home, &sel)?;
    // No stop tokens: every run generates exactly the requested number of tokens.
    let gen = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: Vec::new(),
    };
    let text = "The quick brown fox jumps over the lazy dog while the researchers measure tokens per second. ";
    let mut long = lm.tokenizer.encode(&text.repeat(64))?;
    if long.len() < 512 {
        bail!("bench prompt tokenized to only {} tokens", long.len());
    }
    long.truncate(512);
    let short = lm.tokenizer.encode(&lm.template.prompt(
        "Write a short story about a lighthouse keeper.",
        PromptMode::Io,
    )?)?;
    let run = |prompts: Vec<Vec<u32>>,
               params: &SamplingParams|
     -> Result<raif_model::generate::GenStats> {
        let seeds: Vec<u64> = (0..prompts.len() as u64).collect();
        Ok(gen
            .generate_with_stats(&prompts, &seeds, params, &mut |_| {})?
            .1)
    };
    let one = SamplingParams::greedy(1);
    let greedy = SamplingParams::greedy(128);
    let sampled = SamplingParams {
        temperature: 1.0,
        max_new_tokens: 128,
        ..Default::default()
    };
    log("warm-up");
    run(vec![long.clone()], &one)?;
    run(
        vec![short.clone(); batch],
        &SamplingParams {
            max_new_tokens: 8,
            ..sampled.clone()
        },
    )?;
    let (mut pre, mut d1, mut d8) = (Vec::new(), Vec::new(), Vec::new());
    let mut graphs = serde_json::Value::Null;
    for r in 0..reps {
        let s = run(vec![long.clone()], &one)?;
        pre.push(s.prompt_tokens as f64 / s.prefill_s);
        let s1 = run(vec![short.clone()], &greedy)?;
        // The first token comes from the prefill; the rest are decode steps.
        d1.push((s1.generated_tokens - 1) as f64 / s1.decode_s);
        let s = run(vec![short.clone(); batch], &sampled)?;
        d8.push((s.generated_tokens - batch) as f64 / s.decode_s);
        // what the fixed-shape step's CUDA graphs did (RAIF_STATIC_DECODE=1 on a GPU)
        graphs = serde_json::json!({ "b1": s1.graphs, "batch": s.graphs });
        log(&format!(
            "rep {}: prefill {:.1} tok/s, decode b1 {:.1} tok/s, decode b{batch} {:.1} tok/s",
            r + 1,
            pre[r],
            d1[r],
            d8[r]
        ));
    }
    let decode_batch = median(d8);
    let mut out = serde_json::json!({
        "model": lm.source.path().display().to_string(),
        "device": device::describe(lm.model.device()),
        "dtype": format!("{:?}", lm.model.dtype()),
        "threads": candle_core_threads(),
        "prefill_tps": median(pre),
        "decode_tps_b1": median(d1),
        "decode_batch": batch,
        "decode_prompt_tokens": short.len(),
        "decode_tps_batch": decode_batch,
        "static_decode": std::env::var("RAIF_STATIC_DECODE").as_deref() == Ok("1"),
        "graphs": graphs,
        "peak_rss_mb": peak_rss_mb(),
    });
    if batch == 8 {
        out["decode_tps_b8"] = serde_json::json!(decode_batch);
    }
    if lm.model.device().is_cuda() {
        // The decode bound: each step reads every weight once and each sequence's KV cache
        // (on average the prompt plus half the new tokens).
        let cfg = &lm.model.cfg;
        let elt = lm.model.dtype().size_in_bytes() as f64;
        let avg_len = short.len() as f64 + 64.0;
        let kv_bytes = (cfg.num_hidden_layers * 2 * cfg.num_key_value_heads * cfg.head_dim) as f64
            * avg_len
            * batch as f64
            * elt;
        let step_bytes = cfg.num_parameters() as f64 * elt + kv_bytes;
        let bw = device_bandwidth(lm.model.device())?;
        let steps_per_s = decode_batch / batch as f64;
        out["bandwidth_gbs"] = serde_json::json!(bw / 1e9);
        out["bytes_per_step"] = serde_json::json!(step_bytes);
        out["bandwidth_fraction"] = serde_json::json!(step_bytes * steps_per_s / bw);
    }
    if json {
        println!("{out}");
    } else {
        println!(
            "prefill (512 tokens)      {:>8.1} tokens/s",
            out["prefill_tps"].as_f64().unwrap_or(0.0)
        );
        println!(
            "decode greedy, batch 1    {:>8.1} tokens/s",
            out["decode_tps_b1"].as_f64().unwrap_or(0.0)
        );
        println!(
            "decode sampled, batch {batch:<3}{:>8.1} tokens/s",
            out["decode_tps_batch"].as_f64().unwrap_or(0.0)
        );
        if let Some(f) = out["bandwidth_fraction"].as_f64() {
            println!(
                "  {:.0}% of the memory-bandwidth bound (device copy {:.0} GB/s)",
                100.0 * f,
                out["bandwidth_gbs"].as_f64().unwrap_or(0.0)
            );
        }
        println!(
            "peak RSS                  {:>8.0} MB",
            out["peak_rss_mb"].as_f64().unwrap_or(0.0)
        );
    }
    Ok(())
}

fn device_check(device: &str, dtype: Option<&str>, json: bool) -> Result<()> {
    use raif_model::devcheck;
    let dev = device::parse_device(device)?;
    let dtype = match dtype {
        None => device::default_dtype(&dev),
        Some("f32") => raif_model::candle_core::DType::F32,
        Some("bf16") => raif_model::candle_core::DType::BF16,
        Some(other) => bail!("unknown --dtype `{other}` (f32, bf16)"),
    };
    let checks = devcheck::check(&dev, dtype)?;
    let adamw = devcheck::check_adamw(&dev, dtype)?;
    let ok = devcheck::passes(&checks, dtype) && adamw <= devcheck::ADAMW_TOL;
    let (tl, tp, tg) = devcheck::tolerances(dtype);
    if json {
        println!(
            "{}",
            serde_json::json!({
                "device": device::describe(&dev),
                "dtype": format!("{dtype:?}"),
                "tolerances": {"logits_rel": tl, "logprob_abs": tp, "grad_rel": tg},
                "families": checks,
                "adamw_rel": adamw,
                "adamw_tol": devcheck::ADAMW_TOL,
                "pass": ok,
            })
        );
    } else {
        println!(
            "{} in {dtype:?} against the CPU in f32 (tolerances: logits {tl}, log-probs {tp}, gradients {tg})",
            device::describe(&dev)
        );
        println!(
            "{:<8} {:>12} {:>12} {:>12} {:>12} {:>8} {:>14} {:>12} {:>12} {:>14}  worst gradient",
            "family",
            "logits rel",
            "packed rel",
            "+lora rel",
            "decode rel",
            "replays",
            "log-prob abs",
            "entropy abs",
            "grad rel",
            "sampler parted"
        );
        for c in &checks {
            println!(
                "{:<8} {:>12.2e} {:>12.2e} {:>12.2e} {:>12.2e} {:>8} {:>14.2e} {:>12.2e} {:>12.2e} {:>14}  {}",
                c.arch,
                c.logits_rel,
                c.packed_rel,
                c.packed_lora_rel,
                c.decode_rel,
                c.decode_graph_replays,
                c.logprob_abs,
                c.entropy_abs,
                c.grad_rel,
                c.sampler_parted,
                c.grad_worst
            );
        }
        for c in &checks {
            if let Some(why) = &c.decode_graph_fallback {
                println!("{}: decode graphs fell back to eager steps: {why}", c.arch);
            }
        }
        println!(
            "AdamW, 3 steps: max |Δ| / max |update| = {adamw:.2e} (tolerance {:.0e})",
            devcheck::ADAMW_TOL
        );
        println!("{}", if ok { "PASS" } else { "FAIL" });
    }
    if !ok {
        bail!("the device disagrees with the CPU beyond the {dtype:?} tolerances");
    }
    Ok(())
}

/// Device memory bandwidth in bytes/s, measured: copies of a 1 GiB buffer (each reads and
/// writes it), after a warm-up copy.
fn device_bandwidth(dev: &raif_model::candle_core::Device) -> Result<f64> {
    let n = 1usize << 28; // f32 elements: 1 GiB
    let x = raif_model::candle_core::Tensor::zeros(n, raif_model::candle_core::DType::F32, dev)?;
    let _ = x.copy()?;
    dev.synchronize()?;
    let reps = 10;
    let t = Instant::now();
    for _ in 0..reps {
        let _ = x.copy()?;
    }
    dev.synchronize()?;
    Ok(2.0 * (4 * n * reps) as f64 / t.elapsed().as_secs_f64())
}

fn candle_core_threads() -> usize {
    raif_model::candle_core::utils::get_num_threads()
}

#[derive(Args, Debug, Clone)]
pub struct BenchEvalArgs {
    #[command(flatten)]
    pub sel: ModelSel,
    /// A rule-scored benchmark (ifeval, ifbench, cello).
    #[arg(long, default_value = "ifeval")]
    pub bench: String,
    #[arg(long, default_value = "io")]
    pub mode: PromptMode,
    #[arg(long, default_value_t = 32)]
    pub limit: usize,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 256)]
    pub max_new_tokens: usize,
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Generation + scoring throughput of a batched evaluation, measured end to end in a
/// temporary store (nothing is kept).
pub fn bench_eval(home: &Home, a: BenchEvalArgs) -> Result<()> {
    let bench = Bench::parse(&a.bench)?;
    if bench.judged() {
        bail!("raif bench eval measures the rule-scored benchmarks (ifeval, ifbench, cello)");
    }
    let path = bench_path(home, bench, &a.data)?;
    let records = bench.load(&path)?;
    let lm = load(home, &a.sel)?;
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let store = Store::open(tmp.path())?;
    let setup = EvalSetup {
        model: a.sel.model.clone(),
        checkpoint: None,
        bench,
        mode: a.mode,
        limit: Some(a.limit),
        judge: None,
        max_new_tokens: a.max_new_tokens,
        batch: a.batch,
        // The temporary store holds this evaluation alone: its id need not tell it from
        // others, and hashing the model's files would only delay the measurement.
        identity: Identity::default(),
        data: path,
    };
    let ev = Evaluation {
        store: &store,
        policy: &lm,
        judge: None,
        stop: None,
    };
    let t = Instant::now();
    let run = ev.run(&setup, &records, &mut progress_line)?;
    eprintln!();
    let wall = t.elapsed().as_secs_f64();
    let out = serde_json::json!({
        "bench": bench.name(),
        "mode": mode_name(a.mode),
        "items": run.done,
        "batch": a.batch,
        "max_new_tokens": a.max_new_tokens,
        "prompt_tokens": run.timing.prompt_tokens,
        "generated_tokens": run.timing.generated_tokens,
        "generate_s": run.timing.generate_s,
        "score_s": run.timing.score_s,
        "wall_s": wall,
        "tokens_per_s": tokens_per_s(&run),
        "items_per_s": run.done as f64 / wall.max(1e-9),
        "peak_rss_mb": peak_rss_mb(),
    });
    if a.json {
        println!("{out}");
    } else {
        println!(
            "{} {} items ({} mode, batch {}): generated {} tokens in {:.1} s = {:.1} tokens/s; scoring {:.2} s; {:.2} items/s end to end ({:.1} s)",
            run.done,
            bench.name(),
            mode_name(a.mode),
            a.batch,
            run.timing.generated_tokens,
            run.timing.generate_s,
            tokens_per_s(&run),
            run.timing.score_s,
            run.done as f64 / wall.max(1e-9),
            wall
        );
    }
    Ok(())
}
