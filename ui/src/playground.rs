//! The playground's engine (Compare's `p`): loads the models of the two sides once and keeps
//! them, answers a prompt with both at once (one thread per side, so that they stream side by
//! side), sends the text as it comes in batches of [`BATCH_WINDOW`], then each
//! side's answers scored. It runs on its own thread ([`spawn`]) so that the worker keeps
//! answering store reads while a model generates; tests call [`Engine::run`] directly.
//!
//! With a run training in the workbench, the sides generate on a thread pool of their own
//! whose threads run at a lower scheduling priority (nice 10 on Linux). candle's CPU kernels
//! run on the current rayon pool, so all of the playground's compute is on those threads and
//! the trainer, on the global pool at normal priority, keeps the cores it needs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use raif_model::LoadedModel;
use raif_rl::eval::compare::{parse_side, SideSpec};
use raif_rl::eval::playground::{play_side, prompt_record, PlaySample};
use raif_store::Store;

use crate::action::{Action, Sink, BATCH_WINDOW};
pub use crate::action::{PlayEvent, PlayJob};

/// What a side's model is cached under: its checkpoint, else its model spec.
fn model_key(spec: &SideSpec) -> String {
    spec.checkpoint
        .clone()
        .unwrap_or_else(|| spec.model.clone())
}

/// The models loaded so far and where to find more.
pub struct Engine {
    store: Arc<Store>,
    home: PathBuf,
    device: String,
    models: HashMap<String, Arc<LoadedModel>>,
    /// Low-priority compute threads, made the first time a run trains beside a job.
    background: Option<rayon::ThreadPool>,
}

impl Engine {
    pub fn new(store: Arc<Store>, home: PathBuf) -> Self {
        Engine {
            store,
            home,
            device: "auto".into(),
            models: HashMap::new(),
            background: None,
        }
    }

    /// A side's model: loaded the first time (saying so), then reused.
    fn model(
        &mut self,
        spec: &SideSpec,
        status: &mut dyn FnMut(String),
    ) -> Result<Arc<LoadedModel>> {
        let key = model_key(spec);
        if let Some(m) = self.models.get(&key) {
            return Ok(m.clone());
        }
        status(format!("loading {key} (once; later prompts reuse it)…"));
        let t = Instant::now();
        let lm = match &spec.checkpoint {
            Some(c) => {
                let (run, step) = raif_rl::trainer::parse_checkpoint_spec(c)?;
                raif_rl::trainer::load_checkpoint_model(
                    &self.store,
                    &self.home,
                    &run,
                    step,
                    &self.device,
                )?
                .0
            }
            None => LoadedModel::open(
                &self.home.join("models"),
                &spec.model,
                &self.device,
                None,
                &mut |l| status(l.to_string()),
            )
            .with_context(|| format!("loading `{}`", spec.model))?,
        };
        status(format!(
            "loaded {key} in {:.1} s",
            t.elapsed().as_secs_f64()
        ));
        let lm = Arc::new(lm);
        self.models.insert(key, lm.clone());
        Ok(lm)
    }

    /// Answer `job` with both sides, reporting through `out` (from this thread and the
    /// sides' threads).
    pub fn run(&mut self, job: &PlayJob, out: &(dyn Fn(Action) + Sync)) {
        let t0 = Instant::now();
        let id = job.id;
        let done = |side: usize, result: Result<Vec<PlaySample>, String>, first: Option<f64>| {
            out(Action::Play(PlayEvent::Done {
                job: id,
                side,
                result,
                first_token_s: first,
                elapsed_s: t0.elapsed().as_secs_f64(),
            }))
        };
        let record = match prompt_record(&job.prompt, job.constraints.as_ref()) {
            Ok(r) => r,
            Err(e) => {
                for side in 0..2 {
                    done(side, Err(format!("{e:#}")), None);
                }
                return;
            }
        };
        let store = self.store.clone();
        let is_run = |r: &str| store.run(r).ok().flatten().is_some();
        let specs = job.sides.clone().map(|s| parse_side(&s, &is_run));
        // Only this job's models stay loaded: trying checkpoint after checkpoint does not
        // pile up copies of the weights.
        let keys: Vec<String> = specs.iter().flatten().map(model_key).collect();
        self.models.retain(|k, _| keys.contains(k));
        let mut ready = Vec::new();
        for (side, spec) in specs.into_iter().enumerate() {
            let loaded = spec.and_then(|s| {
                let m = self.model(&s, &mut |line| {
                    out(Action::Play(PlayEvent::Status { job: id, line }))
                })?;
                Ok((s, m))
            });
            match loaded {
                Ok(x) => ready.push((side, x)),
                Err(e) => done(side, Err(format!("{e:#}")), None),
            }
        }
        let pool = if job.low_priority {
            self.background_pool()
        } else {
            None
        };
        std::thread::scope(|scope| {
            for (side, (spec, lm)) in &ready {
                let (side, record, done) = (*side, &record, &done);
                scope.spawn(move || {
                    let answer = || {
                        let mut batch = Batcher::new(id, side, out, t0);
                        let r = play_side(lm, spec.mode, record, &job.options, &mut |i, d| {
                            batch.push(i, d)
                        });
                        batch.flush();
                        (r, batch.first)
                    };
                    let (r, first) = match pool {
                        Some(p) => p.install(answer),
                        None => answer(),
                    };
                    done(side, r.map_err(|e| format!("{e:#}")), first);
                });
            }
        });
    }

    /// The low-priority pool (as many threads as candle uses; None where it cannot be made:
    /// the job then runs at normal priority).
    fn background_pool(&mut self) -> Option<&rayon::ThreadPool> {
        if self.background.is_none() {
            self.background = rayon::ThreadPoolBuilder::new()
                .num_threads(rayon::current_num_threads())
                .thread_name(|i| format!("raif-ui-playground-{i}"))
                .start_handler(|_| lower_priority())
                .build()
                .ok();
        }
        self.background.as_ref()
    }
}

/// Gathers a side's text for [`BATCH_WINDOW`] before it goes to the view.
struct Batcher<'a> {
    job: u64,
    side: usize,
    out: &'a (dyn Fn(Action) + Sync),
    deltas: Vec<(usize, String)>,
    /// The job's start, and when the last batch went.
    t0: Instant,
    since: Instant,
    /// Seconds from the job's start to the first text.
    first: Option<f64>,
}

impl<'a> Batcher<'a> {
    fn new(job: u64, side: usize, out: &'a (dyn Fn(Action) + Sync), t0: Instant) -> Self {
        Batcher {
            job,
            side,
            out,
            deltas: Vec::new(),
            t0,
            since: Instant::now(),
            first: None,
        }
    }
    fn push(&mut self, sample: usize, delta: &str) {
        let first = self.first.is_none();
        if first {
            self.first = Some(self.t0.elapsed().as_secs_f64());
        }
        match self.deltas.last_mut() {
            Some((s, text)) if *s == sample => text.push_str(delta),
            _ => self.deltas.push((sample, delta.to_string())),
        }
        // The first text at once (it is what the user waits for), then in batches.
        if first || self.since.elapsed() >= BATCH_WINDOW {
            self.flush();
        }
    }
    fn flush(&mut self) {
        if !self.deltas.is_empty() {
            (self.out)(Action::Play(PlayEvent::Deltas {
                job: self.job,
                side: self.side,
                deltas: std::mem::take(&mut self.deltas),
            }));
        }
        self.since = Instant::now();
    }
}

/// Nice 10 for the calling thread (Linux; elsewhere nothing).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's id changes only its scheduling priority.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// The engine on its own thread: jobs in, events to `sink`.
pub fn spawn(store: Arc<Store>, home: PathBuf, sink: Sink) -> Result<Sender<PlayJob>> {
    let (tx, rx) = std::sync::mpsc::channel::<PlayJob>();
    std::thread::Builder::new()
        .name("raif-ui-playground".into())
        .spawn(move || {
            let mut engine = Engine::new(store, home);
            while let Ok(mut job) = rx.recv() {
                // Only the newest waiting job: an older one nobody waits for any more.
                while let Ok(newer) = rx.try_recv() {
                    job = newer;
                }
                engine.run(&job, &|a| sink(a));
            }
        })
        .context("cannot start the playground's thread")?;
    Ok(tx)
}
