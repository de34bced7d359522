//! `raif eval` and `raif compare`: the command-line face of `raif_rl::eval` (all scoring and
//! storage logic lives there; `raif bench eval` is in `bench_cmd`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use raif_model::{LoadedModel, PromptMode};
use raif_rl::eval::compare::{compare_items, compare_prompt, parse_side, Outcome, Side};
use raif_rl::eval::{
    data_identity, model_identity, score, template_identity, tokens_per_s, Bench, EvalSetup,
    Evaluation, Identity, Progress,
};
use raif_rl::judge::ModelJudge;
use raif_store::{EvalItem, EvalRun, EvalStatus, Store};
use raif_verify::Constraint;

use crate::model_cmd::{self, log, ModelSel};
use raif_store::Home;

#[derive(Args, Debug, Clone)]
pub struct EvalArgs {
    /// `default`, a .gguf file, a Hugging Face folder, or a cached OWNER/NAME.
    #[arg(long, short = 'm', default_value = "default")]
    pub model: String,
    /// Evaluate a run's checkpoint instead (`RUN@STEP`, or `RUN` for its newest): the run's
    /// base model with the checkpoint's weights.
    #[arg(long, value_name = "RUN@STEP", conflicts_with = "model")]
    pub checkpoint: Option<String>,
    /// ifeval, ifbench, cello, followbench, infobench, cfbench, fb-bench, or generated (a file
    /// written by `raif data gen`, given with --data FILE).
    #[arg(long, short = 'b', required_unless_present = "list")]
    pub bench: Option<String>,
    /// io (plain prompt), cot (think step by step), think (RAIF reasoning format).
    #[arg(long, default_value = "think")]
    pub mode: PromptMode,
    /// Only the first N items.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print the metrics as one JSON object (`ifeval.prompt_strict`, …) on standard output.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub gen: SharedEvalArgs,
    /// Override the policy's chat template.
    #[arg(long)]
    pub template: Option<String>,
    /// Forget what this evaluation stored and start over.
    #[arg(long, conflicts_with = "rescore")]
    pub fresh: bool,
    /// Score the stored responses again with the current verifiers (and judge), without
    /// generating: after a verifier fix, the stored verdicts and metrics follow it.
    #[arg(long)]
    pub rescore: bool,
    /// List the stored evaluations and exit.
    #[arg(
        long,
        conflicts_with_all = ["model", "checkpoint", "bench", "mode", "limit", "template", "fresh", "rescore"]
    )]
    pub list: bool,
}

/// How `raif eval` and `raif compare` generate and score: one set of options for both.
#[derive(Args, Debug, Clone)]
pub struct SharedEvalArgs {
    /// The judge model for judge-scored benchmarks and judge questions (a model spec like
    /// --model).
    #[arg(long, value_name = "MODEL")]
    pub judge: Option<String>,
    /// Prompts generated at once.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 1024)]
    pub max_new_tokens: usize,
    /// The benchmark data folder, laid out like `raif data fetch` writes it (default
    /// `<home>/data`); or the benchmark file itself.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "auto")]
    pub device: String,
}

/// The benchmark file: `--data` when it is a file, else the benchmark's place under the data
/// folder.
pub(crate) fn bench_path(home: &Home, bench: Bench, data: &Option<PathBuf>) -> Result<PathBuf> {
    let root = data.clone().unwrap_or_else(|| home.data());
    if root.is_file() || (bench == Bench::Followbench && root.join("data_infer").is_dir()) {
        return Ok(root);
    }
    let p = bench.default_path(&root)?;
    if !p.exists() {
        bail!(
            "{} not found at {} (fetch it with `raif data fetch {}`, or pass --data FOLDER or --data FILE)",
            bench.name(),
            p.display(),
            bench.name()
        );
    }
    Ok(p)
}

fn load_judge(home: &Home, spec: &Option<String>, device: &str) -> Result<Option<ModelJudge>> {
    let Some(j) = spec else { return Ok(None) };
    let lm = model_cmd::load(
        home,
        &ModelSel {
            model: j.clone(),
            device: device.to_string(),
            template: None,
        },
    )
    .with_context(|| format!("cannot load the judge `{j}`"))?;
    Ok(Some(ModelJudge::new(lm)?))
}

/// Stop after the current batch on Ctrl-C (a second Ctrl-C ends the process).
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if f.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nraif: stopping after this batch (Ctrl-C again to quit now)");
    });
    flag
}

pub(crate) fn progress_line(p: &Progress) {
    eprint!(
        "\rraif: {:>5}/{} items{}  {:.1} tokens/s   ",
        p.done,
        p.target,
        if p.resumed > 0 {
            format!(" ({} resumed)", p.resumed)
        } else {
            String::new()
        },
        p.generated_tokens as f64 / p.generate_s.max(1e-9)
    );
}

/// What the evaluated model (with its checkpoint), its template in `mode`, the data and the
/// judge are: the part of an evaluation's id that names cannot fake.
fn identity(
    store: &Store,
    lm: &LoadedModel,
    checkpoint: Option<String>,
    mode: PromptMode,
    data: &std::path::Path,
    judge: Option<&ModelJudge>,
) -> Result<Identity> {
    let mut model = model_identity(store, lm)?;
    if let Some(ck) = checkpoint {
        model = format!("{model}+{ck}");
    }
    Ok(Identity {
        model,
        template: template_identity(&lm.template, mode)?,
        data: data_identity(store, data)?,
        judge: judge.map(|j| model_identity(store, &j.lm)).transpose()?,
    })
}

/// One evaluation to run: what `raif eval` and each side of `raif compare` ask for.
pub(crate) struct EvalOptions<'a> {
    pub bench: Bench,
    pub model: &'a str,
    pub checkpoint: Option<&'a str>,
    pub mode: PromptMode,
    pub template: Option<&'a str>,
    pub limit: Option<usize>,
    pub gen: &'a SharedEvalArgs,
    /// Forget what was stored and start over.
    pub fresh: bool,
    /// Score the stored responses again instead of generating.
    pub rescore: bool,
}

/// Evaluate one setup; the store stays open for the caller.
fn evaluate(
    home: &Home,
    store: &Store,
    o: &EvalOptions,
    judge: Option<&ModelJudge>,
    stop: &AtomicBool,
) -> Result<(EvalRun, Vec<EvalItem>)> {
    let (bench, mode) = (o.bench, o.mode);
    let path = bench_path(home, bench, &o.gen.data)?;
    let records = bench.load(&path)?;
    let model_cmd::Target {
        lm, checkpoint: ck, ..
    } = model_cmd::load_target(
        home,
        store,
        o.model,
        o.checkpoint,
        &o.gen.device,
        o.template,
    )?;
    let (checkpoint, ck_identity) = ck.unzip();
    let identity = identity(store, &lm, ck_identity, mode, &path, judge)?;
    let setup = EvalSetup {
        model: o.model.to_string(),
        checkpoint,
        bench,
        mode,
        limit: o.limit,
        judge: o.gen.judge.clone(),
        max_new_tokens: o.gen.max_new_tokens,
        batch: o.gen.batch,
        data: path,
        identity,
    };
    if o.fresh {
        store.delete_eval_run(&setup.id())?;
    }
    let ev = Evaluation {
        store,
        policy: &lm,
        judge,
        stop: Some(stop),
    };
    let run = if o.rescore {
        ev.rescore(&setup, &records)?
    } else {
        let run = ev.run(&setup, &records, &mut progress_line)?;
        eprintln!();
        run
    };
    let items = store
        .eval_items(&run.id)?
        .into_iter()
        .filter(|i| (i.index as usize) < run.target)
        .collect();
    Ok((run, items))
}

/// The summary table of an evaluation.
pub fn summary_text(run: &EvalRun) -> String {
    let mut s = String::new();
    let bench = Bench::parse(&run.bench).ok();
    s += &format!(
        "evaluation {}  ({} on {}, mode {}{}{})\n",
        run.id,
        run.checkpoint.as_deref().unwrap_or(&run.model),
        run.bench,
        run.mode,
        run.judge
            .as_ref()
            .map(|j| format!(", judge {j}"))
            .unwrap_or_default(),
        if run.status == EvalStatus::Finished {
            String::new()
        } else {
            format!(", {}", run.status)
        }
    );
    s += &format!("items {} of {}\n", run.done, run.target);
    if let Some(b) = bench {
        for (key, label) in score::headline(b) {
            if let Some(v) = run.metrics.get(&format!("{}.{key}", b.key())) {
                s += &format!("  {label:<16} {v:.4}\n");
            }
        }
        if b == Bench::Followbench {
            for l in 1..=5 {
                let h = run.metrics.get(&format!("followbench.L{l}.hsr"));
                let ss = run.metrics.get(&format!("followbench.L{l}.ssr"));
                if let (Some(h), Some(ss)) = (h, ss) {
                    s += &format!("  level {l:<10} HSR {h:.4}  SSR {ss:.4}\n");
                }
            }
        }
        let k = b.key();
        for (name, label) in [
            ("format_ok", "format ok"),
            ("unscorable", "unscorable"),
            ("truncated", "hit max tokens"),
            ("prompt_too_long", "prompt too long"),
            ("mean_tokens", "mean tokens"),
        ] {
            if let Some(v) = run.metrics.get(&format!("{k}.{name}")) {
                s += &format!("  {label:<16} {v:.4}\n");
            }
        }
        if let Some(v) = run.metrics.get(&format!("{k}.judge_overlong")) {
            if *v > 0.0 {
                s += &format!("  judge inputs too long (not judged, counted as failed): {v}\n");
            }
        }
    }
    let t = &run.timing;
    s += &format!(
        "generated {} tokens in {:.1} s ({:.1} tokens/s); scoring {:.1} s ({} judge questions); time taken {:.1} s",
        t.generated_tokens,
        t.generate_s,
        tokens_per_s(run),
        t.score_s,
        t.judge_questions,
        t.wall_s
    );
    s
}

/// Metrics and timings as one JSON object.
pub fn metrics_json(run: &EvalRun) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, v) in &run.metrics {
        m.insert(k.clone(), serde_json::json!(v));
    }
    m.insert("eval.id".into(), serde_json::json!(run.id));
    m.insert("eval.status".into(), serde_json::json!(run.status.name()));
    m.insert("eval.items".into(), serde_json::json!(run.done));
    m.insert(
        "eval.tokens_per_s".into(),
        serde_json::json!(tokens_per_s(run)),
    );
    m.insert(
        "eval.generated_tokens".into(),
        serde_json::json!(run.timing.generated_tokens),
    );
    m.insert(
        "eval.generate_s".into(),
        serde_json::json!(run.timing.generate_s),
    );
    m.insert("eval.score_s".into(), serde_json::json!(run.timing.score_s));
    m.insert("eval.wall_s".into(), serde_json::json!(run.timing.wall_s));
    serde_json::Value::Object(m)
}

pub fn eval(home: &Home, a: EvalArgs) -> Result<()> {
    let store = Store::open(home.root())?;
    if a.list {
        for r in store.list_eval_runs()? {
            let b = Bench::parse(&r.bench).ok();
            let head = b
                .and_then(|b| score::headline(b).first().map(|(k, l)| (b, *k, *l)))
                .and_then(|(b, k, l)| {
                    r.metrics
                        .get(&format!("{}.{k}", b.key()))
                        .map(|v| format!("{l} {v:.4}"))
                })
                .unwrap_or_default();
            println!(
                "{:<36} {:<11} {:>5}/{:<5} {:<28} {}",
                r.id,
                r.status,
                r.done,
                r.target,
                r.checkpoint.as_deref().unwrap_or(&r.model),
                head
            );
        }
        return Ok(());
    }
    let Some(b) = &a.bench else {
        bail!("--bench is required");
    };
    let bench = Bench::parse(b)?;
    if a.mode == PromptMode::NoThink {
        bail!("--mode must be io, cot or think");
    }
    let judge = load_judge(home, &a.gen.judge, &a.gen.device)?;
    if bench.judged() && judge.is_none() {
        bail!(
            "{} is scored by an LLM judge: pass --judge MODEL (a local model; see ALGORITHM §2)",
            bench.name()
        );
    }
    let stop = interrupt_flag();
    let options = EvalOptions {
        bench,
        model: &a.model,
        checkpoint: a.checkpoint.as_deref(),
        mode: a.mode,
        template: a.template.as_deref(),
        limit: a.limit,
        gen: &a.gen,
        fresh: a.fresh,
        rescore: a.rescore,
    };
    let (run, _) = evaluate(home, &store, &options, judge.as_ref(), &stop)?;
    if a.json {
        println!("{}", metrics_json(&run));
    } else {
        println!("{}", summary_text(&run));
    }
    if run.status == EvalStatus::Interrupted {
        log("interrupted: run the same command again to continue where it stopped");
    }
    Ok(())
}

// ------------------------------------------------------------------ compare

#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    /// Side A: `TARGET:MODE`, TARGET a model (default, a path, OWNER/NAME) or a checkpoint
    /// `RUN@STEP`; MODE io, cot or think. E.g. `default:cot`.
    #[arg(long)]
    pub a: String,
    /// Side B, e.g. `my-run@40:think`.
    #[arg(long)]
    pub b: String,
    /// One prompt answered by both (--limit, --data and --batch are for --bench).
    #[arg(
        long,
        conflicts_with_all = ["bench", "limit", "data", "batch"],
        required_unless_present = "bench"
    )]
    pub prompt: Option<String>,
    /// With --prompt: a constraint tree (JSON, as in a record's `constraints`) to score both
    /// answers against.
    #[arg(long, requires = "prompt")]
    pub constraints: Option<String>,
    /// A benchmark: both sides are evaluated (stored and resumable like `raif eval`) and
    /// compared item by item.
    #[arg(long)]
    pub bench: Option<String>,
    /// With --bench: only the first N items.
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub gen: SharedEvalArgs,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Width of the side-by-side text (default: the terminal's, or 100).
    #[arg(long)]
    pub width: Option<usize>,
}

/// Lay out two texts in two columns of `w` characters each.
pub fn two_columns(a: &str, b: &str, w: usize) -> String {
    let wrap = |t: &str| -> Vec<String> {
        let mut out = Vec::new();
        for line in t.lines() {
            let chars: Vec<char> = line.chars().collect();
            if chars.is_empty() {
                out.push(String::new());
            }
            for c in chars.chunks(w.max(1)) {
                out.push(c.iter().collect());
            }
        }
        out
    };
    let (la, lb) = (wrap(a), wrap(b));
    let n = la.len().max(lb.len());
    let mut s = String::new();
    for i in 0..n {
        let l = la.get(i).map(String::as_str).unwrap_or("");
        let r = lb.get(i).map(String::as_str).unwrap_or("");
        let pad = w.saturating_sub(l.chars().count());
        s += &format!("{l}{} │ {r}\n", " ".repeat(pad));
    }
    s
}

/// An item as text: reasoning, answer and verdicts.
pub fn item_text(it: &EvalItem) -> String {
    let mut s = String::new();
    if let Some(r) = &it.reasoning {
        s += &format!("── reasoning ──\n{r}\n");
    }
    s += "── answer ──\n";
    match (&it.answer, &it.unscorable) {
        (_, Some(why)) => s += &format!("(not scored: {why})\n{}\n", it.response),
        (Some(a), None) => s += &format!("{a}\n"),
        (None, None) => s += &format!("{}\n", it.response),
    }
    if !it.verdicts.is_empty() {
        s += "── verdicts ──\n";
        for v in &it.verdicts {
            let mark = if v.strict { "✓" } else { "✗" };
            let what = v.question.as_deref().unwrap_or(&v.id);
            let extra = match (v.loose, v.score) {
                (Some(l), _) if l != v.strict => " (loose ✓)".to_string(),
                (_, Some(sc)) => format!(" {sc:.2}"),
                _ => String::new(),
            };
            s += &format!("{mark} {what}{extra}\n");
        }
        s += &format!("satisfied {:.2}\n", score::item_score(it));
    }
    s
}

fn term_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

pub fn compare(home: &Home, a: CompareArgs) -> Result<()> {
    let store = Store::open(home.root())?;
    let is_run = |r: &str| store.run(r).ok().flatten().is_some();
    let sa = parse_side(&a.a, &is_run)?;
    let sb = parse_side(&a.b, &is_run)?;
    let judge = load_judge(home, &a.gen.judge, &a.gen.device)?;
    let width = a.width.unwrap_or_else(term_width).max(20);
    let col = (width - 3) / 2;
    if let Some(prompt) = &a.prompt {
        let tree: Option<Constraint> = match &a.constraints {
            Some(j) => Some(
                serde_json::from_str(j).context("--constraints: not a constraint tree (JSON)")?,
            ),
            None => None,
        };
        let ma = model_cmd::load_target(
            home,
            &store,
            &sa.model,
            sa.checkpoint.as_deref(),
            &a.gen.device,
            None,
        )?
        .lm;
        let mb = model_cmd::load_target(
            home,
            &store,
            &sb.model,
            sb.checkpoint.as_deref(),
            &a.gen.device,
            None,
        )?
        .lm;
        let (ia, ib) = compare_prompt(
            &Side {
                model: &ma,
                mode: sa.mode,
            },
            &Side {
                model: &mb,
                mode: sb.mode,
            },
            prompt,
            tree.as_ref(),
            judge.as_ref(),
            a.gen.max_new_tokens,
        )?;
        if a.json {
            println!(
                "{}",
                serde_json::json!({"a": {"side": sa.label(), "item": item_json(&ia)},
                                   "b": {"side": sb.label(), "item": item_json(&ib)}})
            );
        } else {
            print!(
                "{}",
                two_columns(
                    &format!("A: {}\n\n{}", sa.label(), item_text(&ia)),
                    &format!("B: {}\n\n{}", sb.label(), item_text(&ib)),
                    col
                )
            );
        }
        return Ok(());
    }
    let Some(b) = &a.bench else {
        bail!("pass --prompt TEXT or --bench NAME");
    };
    let bench = Bench::parse(b)?;
    if bench.judged() && judge.is_none() {
        bail!(
            "{} is scored by an LLM judge: pass --judge MODEL",
            bench.name()
        );
    }
    let stop = interrupt_flag();
    let mut sides = Vec::new();
    for s in [&sa, &sb] {
        log(&format!("evaluating {}", s.label()));
        let options = EvalOptions {
            bench,
            model: &s.model,
            checkpoint: s.checkpoint.as_deref(),
            mode: s.mode,
            template: None,
            limit: a.limit,
            gen: &a.gen,
            fresh: false,
            rescore: false,
        };
        let r = evaluate(home, &store, &options, judge.as_ref(), &stop)?;
        if r.0.status == EvalStatus::Interrupted {
            bail!("interrupted: run the same command again to continue where it stopped");
        }
        sides.push(r);
    }
    let (ra, items_a) = &sides[0];
    let (rb, items_b) = &sides[1];
    let t = compare_items(items_a, items_b)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "a": {"side": sa.label(), "metrics": metrics_json(ra)},
                "b": {"side": sb.label(), "metrics": metrics_json(rb)},
                "a_wins": t.a_wins, "b_wins": t.b_wins, "ties": t.ties,
                "items": t.rows,
            })
        );
        return Ok(());
    }
    println!("A: {}\n{}\n", sa.label(), summary_text(ra));
    println!("B: {}\n{}\n", sb.label(), summary_text(rb));
    println!(
        "{:>6}  {:<28} {:>6} {:>6}  winner",
        "item", "record", "A", "B"
    );
    for r in &t.rows {
        println!(
            "{:>6}  {:<28} {:>6.2} {:>6.2}  {}",
            r.index,
            r.record_id,
            r.a,
            r.b,
            match r.outcome {
                Outcome::AWins => "A",
                Outcome::BWins => "B",
                Outcome::Tie => "tie",
            }
        );
    }
    println!(
        "\nA wins {}, B wins {}, ties {} (of {} items; per item: fraction of its constraints satisfied)",
        t.a_wins,
        t.b_wins,
        t.ties,
        t.rows.len()
    );
    Ok(())
}

fn item_json(it: &EvalItem) -> serde_json::Value {
    serde_json::json!({
        "response": it.response,
        "reasoning": it.reasoning,
        "answer": it.answer,
        "unscorable": it.unscorable,
        "tokens": it.tokens,
        "satisfied": score::item_score(it),
        "verdicts": it.verdicts.iter().map(|v| serde_json::json!({
            "id": v.id, "question": v.question, "strict": v.strict, "loose": v.loose,
            "score": v.score, "reason": v.reason})).collect::<Vec<_>>(),
    })
}
