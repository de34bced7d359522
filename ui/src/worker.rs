//! The background thread: store reads, tokenizers, the trainer's thread and its event stream.
//! Everything that can block lives here; the UI thread only receives [`Action`]s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Instant;

use raif_model::fetch::{self, DefaultModel};
use raif_model::Tokenizer;
use raif_rl::trainer::{self, TrainerCommand, TrainerEvent, TrainerHandle, TrainerSetup};
use raif_store::{RolloutFilter, Store};

use crate::action::{Action, Request};
pub use crate::action::{Sink, BATCH_WINDOW};

/// What the blocking requests need.
pub struct Ctx {
    pub store: Arc<Store>,
    pub home: PathBuf,
    tokenizers: HashMap<String, Result<Arc<Tokenizer>, String>>,
    /// The playground's models, when it answers here (tests; the workbench runs it on its
    /// own thread).
    engine: Option<crate::playground::Engine>,
}

impl Ctx {
    pub fn new(store: Arc<Store>, home: PathBuf) -> Self {
        Ctx {
            store,
            home,
            tokenizers: HashMap::new(),
            engine: None,
        }
    }

    fn models(&self) -> PathBuf {
        self.home.join("models")
    }

    fn tokenizer(&mut self, model: &str) -> Result<Arc<Tokenizer>, String> {
        if let Some(t) = self.tokenizers.get(model) {
            return t.clone();
        }
        let t = load_tokenizer(&self.models(), model)
            .map(Arc::new)
            .map_err(|e| format!("{e:#}"));
        self.tokenizers.insert(model.to_string(), t.clone());
        t
    }
}

/// The tokenizer of a model spec (`default`, a .gguf, an HF folder, a cached OWNER/NAME),
/// without loading weights and without fetching anything.
pub fn load_tokenizer(models: &Path, spec: &str) -> anyhow::Result<Tokenizer> {
    let path = if spec == "default" {
        DefaultModel::path(models)
    } else if Path::new(spec).exists() {
        PathBuf::from(spec)
    } else if let Some(p) = fetch::cached_hf(models, spec) {
        p
    } else {
        anyhow::bail!("model `{spec}` is not on this machine");
    };
    if !path.exists() {
        anyhow::bail!("{} is not cached", path.display())
    }
    raif_model::loaded::load_tokenizer(&path)
}

/// Curves' `P`: the runs' curves as `<home>/plots/<first run>-<unix time>.svg`.
fn plot(
    ctx: &Ctx,
    runs: &[String],
    metrics: Vec<String>,
    smoothing: f64,
) -> anyhow::Result<Action> {
    let loaded = runs
        .iter()
        .map(|id| crate::plot::PlotRun::load(&ctx.store, id))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let dir = ctx.home.join("plots");
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let first = runs.first().map(String::as_str).unwrap_or("run");
    let out = dir.join(format!("{first}-{now}.svg"));
    crate::plot::plot(
        &loaded,
        &crate::plot::PlotOptions::new(metrics, smoothing),
        &out,
    )?;
    Ok(Action::PlotWritten(out))
}

fn err(e: anyhow::Error) -> Action {
    Action::Error(format!("{e:#}"))
}

/// Do one blocking request (everything but starting and commanding the trainer and fetching).
pub fn serve(ctx: &mut Ctx, req: Request) -> Vec<Action> {
    let store = ctx.store.clone();
    match req {
        Request::ListRuns => vec![store.list_runs().map(Action::Runs).unwrap_or_else(err)],
        Request::EvalItems(id) => vec![store
            .eval_items(&id)
            .map(|items| Action::EvalItems { id, items })
            .unwrap_or_else(err)],
        Request::ListEvals => vec![store
            .list_eval_runs()
            .map(Action::Evals)
            .unwrap_or_else(err)],
        Request::ListModels => vec![fetch::list_cached(&ctx.models())
            .map(Action::Models)
            .unwrap_or_else(err)],
        Request::LoadRun(run) => {
            let r = (|| -> anyhow::Result<Action> {
                Ok(Action::RunLoaded {
                    steps: store.rollout_steps(&run)?,
                    metrics: store.metrics(&run)?,
                    run: run.clone(),
                })
            })();
            vec![r.unwrap_or_else(err)]
        }
        Request::LoadStep { run, step } => vec![store
            .step_rollouts(&run, step)
            .map(|rollouts| Action::StepLoaded {
                run,
                step,
                rollouts,
            })
            .unwrap_or_else(err)],
        Request::Scan { run, filter, limit } => {
            let mut rollouts = Vec::new();
            let mut truncated = false;
            for r in store.scan_rollouts(&run, filter.clone()) {
                match r {
                    Ok(r) if rollouts.len() < limit => rollouts.push(r),
                    Ok(_) => {
                        truncated = true;
                        break;
                    }
                    Err(e) => return vec![err(e)],
                }
            }
            vec![Action::ScanDone {
                run,
                filter,
                rollouts,
                truncated,
            }]
        }
        Request::Evolution { run, prompt_id } => {
            let f = RolloutFilter {
                text: Some(prompt_id.clone()),
                ..Default::default()
            };
            let mut rollouts = Vec::new();
            for r in store.scan_rollouts(&run, f) {
                match r {
                    Ok(r) if r.prompt_id == prompt_id => {
                        rollouts.push(r);
                        if rollouts.len() >= crate::views::replay::SCAN_LIMIT {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return vec![err(e)],
                }
            }
            vec![Action::EvolutionLoaded {
                run,
                prompt_id,
                rollouts,
            }]
        }
        Request::TokenTexts { key, model, tokens } => {
            let texts = ctx.tokenizer(&model).map(|t| t.token_texts(&tokens));
            vec![Action::TokenTexts { key, texts }]
        }
        Request::Plot {
            runs,
            metrics,
            smoothing,
        } => vec![plot(ctx, &runs, metrics, smoothing).unwrap_or_else(err)],
        Request::Play(job) => {
            let engine = ctx.engine.get_or_insert_with(|| {
                crate::playground::Engine::new(store.clone(), ctx.home.clone())
            });
            let out = std::sync::Mutex::new(Vec::new());
            engine.run(&job, &|a| {
                if let Ok(mut v) = out.lock() {
                    v.push(a);
                }
            });
            out.into_inner().unwrap_or_default()
        }
        Request::Start(_) | Request::Command(_) | Request::FetchDefault => vec![],
    }
}

/// Merge the Token deltas of each sequence within runs of consecutive Token events (order
/// of sequences kept); other events stay where they are. Returns the events and how many
/// Token events there were.
pub fn coalesce(batch: Vec<TrainerEvent>) -> (Vec<TrainerEvent>, u64) {
    let mut out: Vec<TrainerEvent> = Vec::new();
    let mut n = 0u64;
    // Index in `out` of the pending Token event of each sequence in the current run.
    let mut open: HashMap<(u64, u32, u32), usize> = HashMap::new();
    for e in batch {
        match e {
            TrainerEvent::Token {
                step,
                prompt_index,
                sample,
                delta,
            } => {
                n += 1;
                match open.get(&(step, prompt_index, sample)) {
                    Some(&i) => {
                        if let Some(TrainerEvent::Token { delta: d, .. }) = out.get_mut(i) {
                            d.push_str(&delta);
                        }
                    }
                    None => {
                        open.insert((step, prompt_index, sample), out.len());
                        out.push(TrainerEvent::Token {
                            step,
                            prompt_index,
                            sample,
                            delta,
                        });
                    }
                }
            }
            other => {
                open.clear();
                out.push(other);
            }
        }
    }
    (out, n)
}

/// Forward a trainer's events to the UI in batches, then its exit.
fn forward(h: TrainerHandle, sink: Sink) {
    let TrainerHandle { events, thread, .. } = h;
    while let Ok(first) = events.recv() {
        let mut batch = vec![first];
        let until = Instant::now() + BATCH_WINDOW;
        let mut closed = false;
        while batch.len() < 100_000 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match events.recv_timeout(left) {
                Ok(e) => batch.push(e),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        let (events_out, n) = coalesce(batch);
        sink(Action::Trainer(events_out, n));
        if closed {
            break;
        }
    }
    let r = match thread.join() {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => Err("the trainer thread panicked".to_string()),
    };
    sink(Action::TrainerExited(r));
}

/// A fresh run id: `run-<unix time>`, with a suffix if taken.
fn new_run_id(store: &Store) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = format!("run-{t}");
    let mut id = base.clone();
    let mut k = 2;
    while store.run(&id).ok().flatten().is_some() {
        id = format!("{base}-{k}");
        k += 1;
    }
    id
}

/// The worker's loop: answers requests until the UI drops its sender.
pub fn run(mut ctx: Ctx, requests: Receiver<Request>, sink: Sink) {
    let mut commands: Option<Sender<TrainerCommand>> = None;
    let mut playground: Option<Sender<crate::playground::PlayJob>> = None;
    while let Ok(req) = requests.recv() {
        match req {
            Request::Play(job) => {
                if playground.is_none() {
                    match crate::playground::spawn(
                        ctx.store.clone(),
                        ctx.home.clone(),
                        sink.clone(),
                    ) {
                        Ok(tx) => playground = Some(tx),
                        Err(e) => sink(err(e)),
                    }
                }
                if let Some(tx) = &playground {
                    if tx.send(*job).is_err() {
                        sink(Action::Error("the playground's thread has stopped".into()));
                    }
                }
            }
            Request::Start(cfg) => {
                let run_id = new_run_id(&ctx.store);
                let setup = TrainerSetup {
                    config: *cfg,
                    run_id: run_id.clone(),
                    home: ctx.home.clone(),
                    resume: false,
                    stop_after: None,
                };
                match trainer::spawn(ctx.store.clone(), setup) {
                    Ok(h) => {
                        commands = Some(h.commands.clone());
                        sink(Action::TrainerSpawned { run_id });
                        let s = sink.clone();
                        let spawned = std::thread::Builder::new()
                            .name("raif-ui-events".into())
                            .spawn(move || forward(h, s));
                        if let Err(e) = spawned {
                            sink(Action::TrainerExited(Err(format!(
                                "cannot start the event thread: {e}"
                            ))));
                        }
                    }
                    Err(e) => sink(Action::TrainerExited(Err(format!("{e:#}")))),
                }
            }
            Request::Command(c) => {
                if let Some(tx) = &commands {
                    if tx.send(c).is_err() {
                        sink(Action::Log("the trainer has already stopped".into()));
                    }
                }
            }
            Request::FetchDefault => {
                let models = ctx.models();
                let s = sink.clone();
                let spawned = std::thread::Builder::new()
                    .name("raif-ui-fetch".into())
                    .spawn(move || {
                        let r = fetch::fetch_default(&models, &mut |line| {
                            s(Action::Log(line.to_string()))
                        });
                        s(Action::FetchFinished(
                            r.map(|o| format!("{o:?}")).map_err(|e| format!("{e:#}")),
                        ));
                    });
                if let Err(e) = spawned {
                    sink(Action::FetchFinished(Err(e.to_string())));
                }
            }
            other => {
                for a in serve(&mut ctx, other) {
                    sink(a);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(p: u32, d: &str) -> TrainerEvent {
        TrainerEvent::Token {
            step: 1,
            prompt_index: p,
            sample: 0,
            delta: d.into(),
        }
    }

    #[test]
    fn coalescing_keeps_order_around_other_events() {
        let (out, n) = coalesce(vec![
            tok(0, "a"),
            tok(1, "x"),
            tok(0, "b"),
            TrainerEvent::Paused,
            tok(0, "c"),
        ]);
        assert_eq!(n, 4);
        assert_eq!(
            out,
            vec![tok(0, "ab"), tok(1, "x"), TrainerEvent::Paused, tok(0, "c")]
        );
    }
}
