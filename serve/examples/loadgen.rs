//! A bounded load generator for the reward server, on loopback.
//!
//! Requests are OpenRLHF-shaped `POST /get_reward` batches: each IFEval prompt of
//! `input_data.jsonl` (its real instructions as the label), chat-templated with the RAIF prompt
//! ending in `<think>\n`, with `--group` synthetic IFEval-sized responses. For every concurrency
//! level it runs until `--seconds` or `--max-requests`, whichever comes first, and prints
//! responses scored per second and p50 / p99 request latency. It stops by itself.
//!
//! ```text
//! # in-process server (default), 5 s per level:
//! cargo run --release -p raif-serve --example loadgen -- --seconds 5
//! # against a running `raif serve-reward --addr 127.0.0.1:5000`:
//! cargo run --release -p raif-serve --example loadgen -- --addr 127.0.0.1:5000 --seconds 60
//! # scoring alone on one core, no HTTP (responses per second per core):
//! cargo run --release -p raif-serve --example loadgen -- --direct --seconds 10
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use raif_serve::score::{score_batch, Item};
use raif_serve::{synth, AppState, ServeOptions};
use raif_verify::reward::{Prefill, TagStyle};
use serde_json::{json, Value};

#[derive(Parser, Debug, Clone)]
struct Args {
    /// A running server; default: start one in this process on an ephemeral loopback port.
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// Concurrency levels (concurrent clients).
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    concurrency: Vec<usize>,
    /// Seconds per level (at most).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Requests per level (at most).
    #[arg(long, default_value_t = 100_000)]
    max_requests: u64,
    /// Responses per request (a GRPO group).
    #[arg(long, default_value_t = 8)]
    group: usize,
    /// IFEval rows (prompt, instruction_id_list, kwargs).
    #[arg(long, default_value = "../shared/data/ifeval/input_data.jsonl")]
    input: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Score the prepared responses directly on this thread (no HTTP): responses per core.
    #[arg(long)]
    direct: bool,
    /// Requests sent one at a time before measuring (the verifiers load their tables on
    /// first use).
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Read the resident memory of this process (a separately started server) instead of this
    /// one's.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Write the prepared responses as `raif check` / oracle JSONL (instruction ids, kwargs,
    /// prompt, the whole think+answer response) and exit: the same work for
    /// scripts/serve/official_strict_rate.py, the official checker's side of the comparison.
    #[arg(long)]
    dump: Option<PathBuf>,
}

const SYSTEM: &str = raif_verify::reward::SYSTEM_PROMPT;

struct Prepared {
    bodies: Vec<Bytes>,
    items: Vec<Item>,
}

fn prepare(args: &Args) -> Result<Prepared> {
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {} (--input)", args.input.display()))?;
    let mut rng = synth::Rng::new(args.seed);
    let mut bodies = Vec::new();
    let mut items = Vec::new();
    let mut dump = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: malformed JSON", args.input.display(), i + 1))?;
        let user = row["prompt"].as_str().unwrap_or_default();
        let prompt = format!(
            "<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n<think>\n"
        );
        let label =
            json!({"instruction_id_list": row["instruction_id_list"], "kwargs": row["kwargs"]});
        let tree = match raif_serve::label::parse_label(&label) {
            Ok(t) => t,
            Err(e) => bail!("{}:{}: {e}", args.input.display(), i + 1),
        };
        let label = label.to_string();
        let mut query = Vec::new();
        for _ in 0..args.group {
            let resp = format!("{}<|im_end|>", synth::think_answer(&mut rng));
            items.push(Item {
                prompt: prompt.clone(),
                response: resp.trim_end_matches("<|im_end|>").to_string(),
                tree: tree.clone(),
                prefill: Prefill::OpenThink,
            });
            query.push(format!("{prompt}{resp}"));
            if args.dump.is_some() {
                let whole = json!({
                    "key": dump.len(),
                    "instruction_id_list": row["instruction_id_list"],
                    "kwargs": row["kwargs"],
                    "prompt": user,
                    "response": resp.trim_end_matches("<|im_end|>"),
                });
                dump.push(whole.to_string());
            }
        }
        let body = json!({
            "query": query,
            "prompts": vec![prompt; args.group],
            "labels": vec![label; args.group],
        });
        bodies.push(Bytes::from(serde_json::to_vec(&body)?));
    }
    if bodies.is_empty() {
        bail!("{}: no rows", args.input.display());
    }
    if let Some(path) = &args.dump {
        dump.push(String::new());
        std::fs::write(path, dump.join("\n"))
            .with_context(|| format!("cannot write {} (--dump)", path.display()))?;
    }
    Ok(Prepared { bodies, items })
}

fn rss_mib(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let s = std::fs::read_to_string(path).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn direct(args: &Args, p: &Prepared) -> Result<()> {
    for it in p.items.iter().take(args.warmup * args.group) {
        let far = Instant::now() + Duration::from_secs(3600);
        score_batch(
            std::slice::from_ref(it),
            TagStyle::ThinkAnswer,
            far,
            &AtomicBool::new(false),
        )
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let never = AtomicBool::new(false);
    let far = Instant::now() + Duration::from_secs(3600);
    let mut n = 0u64;
    let t = Instant::now();
    'outer: loop {
        for it in &p.items {
            if Instant::now() > deadline || n >= args.max_requests * args.group as u64 {
                break 'outer;
            }
            // one at a time: no rayon fan-out below 4 items
            score_batch(std::slice::from_ref(it), TagStyle::ThinkAnswer, far, &never)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            n += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "direct (one thread, no HTTP): {n} responses in {secs:.2} s = {:.0} responses/s/core",
        n as f64 / secs
    );
    Ok(())
}

async fn level(
    addr: SocketAddr,
    bodies: Arc<Vec<Bytes>>,
    c: usize,
    args: &Args,
) -> Result<(u64, u64, u64, f64, Vec<Duration>)> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(c)
        .build_http();
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let scored = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let max = args.max_requests;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (client, bodies, next, errors, scored) = (
            client.clone(),
            bodies.clone(),
            next.clone(),
            errors.clone(),
            scored.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= max || Instant::now() >= deadline {
                    break;
                }
                let body = bodies[(k as usize) % bodies.len()].clone();
                let req = match Request::builder()
                    .method(Method::POST)
                    .uri(format!("http://{addr}/get_reward"))
                    .header("content-type", "application/json")
                    .body(Full::new(body))
                {
                    Ok(r) => r,
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                };
                let t0 = Instant::now();
                let ok = match client.request(req).await {
                    Ok(resp) if resp.status().is_success() => {
                        match resp.into_body().collect().await {
                            Ok(b) => serde_json::from_slice::<Value>(&b.to_bytes())
                                .ok()
                                .and_then(|v| v["rewards"].as_array().map(|a| a.len() as u64)),
                            Err(_) => None,
                        }
                    }
                    _ => None,
                };
                lat.push(t0.elapsed());
                match ok {
                    Some(n) => {
                        scored.fetch_add(n, Ordering::Relaxed);
                    }
                    None => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await?);
    }
    let secs = t.elapsed().as_secs_f64();
    lat.sort();
    Ok((
        lat.len() as u64,
        scored.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
        secs,
        lat,
    ))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let prepared = prepare(&args)?;
    eprintln!(
        "{} requests prepared ({} responses each, {:.1} KiB per request on average)",
        prepared.bodies.len(),
        args.group,
        prepared.bodies.iter().map(|b| b.len()).sum::<usize>() as f64
            / prepared.bodies.len() as f64
            / 1024.0
    );
    if let Some(path) = &args.dump {
        eprintln!(
            "wrote {} responses to {}",
            prepared.items.len(),
            path.display()
        );
        return Ok(());
    }
    if args.direct {
        return direct(&args, &prepared);
    }
    let (addr, stop) = match args.addr {
        Some(a) => (a, None),
        None => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let state = AppState::new(ServeOptions {
                addr,
                ..ServeOptions::default()
            });
            let task = tokio::spawn(raif_serve::serve_listener(listener, state, async {
                let _ = rx.await;
            }));
            (addr, Some((tx, task)))
        }
    };
    let bodies = Arc::new(prepared.bodies);
    if args.warmup > 0 {
        let warm = Args {
            seconds: 60.0,
            max_requests: args.warmup as u64,
            concurrency: vec![1],
            ..args.clone()
        };
        let (_, _, errors, _, _) = level(addr, bodies.clone(), 1, &warm).await?;
        if errors > 0 {
            bail!(
                "{errors} of {} warm-up requests to {addr} failed",
                args.warmup
            );
        }
    }
    let whose = if args.server_pid.is_some() {
        "server"
    } else {
        "this process"
    };
    println!("| clients | seconds | requests | responses scored | errors | responses/s | p50 ms | p99 ms | RSS MiB start → end ({whose}) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let mib = |m: Option<f64>| m.map(|m| format!("{m:.0}")).unwrap_or_else(|| "-".into());
    for &c in &args.concurrency {
        let before = rss_mib(args.server_pid);
        let (reqs, scored, errors, secs, lat) =
            level(addr, bodies.clone(), c.max(1), &args).await?;
        println!(
            "| {c} | {secs:.1} | {reqs} | {scored} | {errors} | {:.0} | {:.1} | {:.1} | {} → {} |",
            scored as f64 / secs,
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            mib(before),
            mib(rss_mib(args.server_pid)),
        );
    }
    if let Some((tx, task)) = stop {
        let _ = tx.send(());
        task.await??;
    }
    Ok(())
}
