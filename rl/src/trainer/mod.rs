//! The RAIF GRPO trainer (ALGORITHM.md §3–5). It runs on its own OS thread, owns the model and
//! optimizer, publishes [`TrainerEvent`]s on a bounded channel (never blocking on a slow
//! consumer: events that do not fit are dropped and counted, the store keeps everything) and
//! obeys [`TrainerCommand`]s. Every step commits atomically to the store: rollouts, metrics
//! and (every `checkpoint_every` steps, and the last) a checkpoint.
//!
//! A run is a pure function of its configuration and seed: the prompts of step s, the sampling
//! seeds of every sequence and the expert demonstrations are derived from (seed, s), so a run
//! resumed from a checkpoint produces the same rollouts as one never interrupted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use raif_datasets::{Record, Split};
use raif_model::train::checkpoint::{self, Manifest};
use raif_model::train::optim::{AdamW, AdamWConfig, LrSchedule};
use raif_model::train::{SideGrads, Trainable};
use raif_model::{LoadedModel, Rng, Transformer};
use serde::{Deserialize, Serialize};

pub mod metrics;
mod phases;
pub mod sampling;

use phases::{Pool, Sample, TrainBatch};

use crate::config::{Mode, RunConfig};
use crate::rollout::{self, Scored};
use crate::store::{
    BlobInfo, CheckpointManifest, FileInfo, Metrics, Rollout, RunInfo, RunStatus, StepCommit, Store,
};

/// A named blob kept inside the store with a checkpoint (LoRA tensors, optimizer state).
type NamedBlob = (String, Vec<u8>);

/// What the trainer tells the rest of the program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TrainerEvent {
    Started {
        run_id: String,
        /// Warm-up and GRPO steps together.
        total_steps: u64,
        /// Steps 1..=warmup_steps are the warm-up (behaviour cloning only); GRPO follows.
        #[serde(default)]
        warmup_steps: u64,
        first_step: u64,
        model: String,
        trainable_parameters: usize,
    },
    StepStarted {
        step: u64,
        prompts: Vec<String>,
    },
    /// Text generated so far for one sequence of the current step.
    Token {
        step: u64,
        prompt_index: u32,
        sample: u32,
        delta: String,
    },
    /// A rollout, scored (advantage and keep flag are final once its group is complete).
    Rollout(Box<Rollout>),
    StepMetrics {
        step: u64,
        metrics: Metrics,
    },
    CheckpointSaved {
        step: u64,
    },
    Paused,
    Resumed,
    Warning(String),
    Finished {
        last_step: u64,
    },
    Failed(String),
}

/// What the rest of the program can ask of the trainer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainerCommand {
    Pause,
    Resume,
    /// Stop after the current step, with a checkpoint.
    Stop,
    /// Checkpoint at the end of the current step.
    SaveNow,
}

/// Where a run starts.
#[derive(Clone, Debug)]
pub struct TrainerSetup {
    pub config: RunConfig,
    pub run_id: String,
    pub home: PathBuf,
    /// Continue an existing run from its last checkpoint.
    pub resume: bool,
    /// Stop after this step (e.g. `--steps`), default `config.train.steps`.
    pub stop_after: Option<u64>,
}

/// The thread, its event stream and its command channel.
pub struct TrainerHandle {
    pub events: Receiver<TrainerEvent>,
    pub commands: std::sync::mpsc::Sender<TrainerCommand>,
    pub thread: std::thread::JoinHandle<Result<u64>>,
    /// Events that did not fit in the channel.
    pub dropped: Arc<AtomicU64>,
}

/// Prompt indices of held-out evaluation rollouts start here (their `eval` flag is set too).
pub const EVAL_PROMPT_BASE: u32 = 1 << 20;

/// Events buffered for a consumer.
pub const EVENT_CAPACITY: usize = 4096;

/// Start the trainer on its own thread.
pub fn spawn(store: Arc<Store>, setup: TrainerSetup) -> Result<TrainerHandle> {
    let (etx, erx) = std::sync::mpsc::sync_channel(EVENT_CAPACITY);
    let (ctx, crx) = std::sync::mpsc::channel();
    let dropped = Arc::new(AtomicU64::new(0));
    let d2 = dropped.clone();
    let thread = std::thread::Builder::new()
        .name("raif-trainer".into())
        .spawn(move || {
            let sink = EventSink {
                tx: etx,
                dropped: d2,
            };
            let run_id = setup.run_id.clone();
            let out =
                Trainer::new(store.clone(), setup, sink.clone(), crx).and_then(|mut t| t.run());
            if let Err(e) = &out {
                let msg = format!("{e:#}");
                let _ = store.set_status(&run_id, RunStatus::Failed(msg.clone()));
                sink.send(TrainerEvent::Failed(msg));
            }
            out
        })?;
    Ok(TrainerHandle {
        events: erx,
        commands: ctx,
        thread,
        dropped,
    })
}

#[derive(Clone)]
struct EventSink {
    tx: SyncSender<TrainerEvent>,
    dropped: Arc<AtomicU64>,
}

impl EventSink {
    fn send(&self, e: TrainerEvent) {
        match self.tx.try_send(e) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Seconds between laps, for the `time/*` metrics of a step's phases.
struct PhaseClock(Instant);

impl PhaseClock {
    fn start() -> Self {
        PhaseClock(Instant::now())
    }
    /// Seconds since the last lap (or the start).
    fn lap(&mut self) -> f64 {
        let now = Instant::now();
        let s = now.duration_since(self.0).as_secs_f64();
        self.0 = now;
        s
    }
}

/// A deterministic 64-bit mix of several values (seeds of sequences, data order).
fn mix(parts: &[u64]) -> u64 {
    let mut r = Rng::new(0x5241_4946);
    for p in parts {
        r = Rng::new(r.next_u64() ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
    r.next_u64()
}

/// The i-th record of the training stream: epoch by epoch, each epoch a seeded permutation.
fn stream_index(seed: u64, n: usize, i: u64) -> usize {
    let epoch = i / n as u64;
    let pos = (i % n as u64) as usize;
    let mut perm: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(mix(&[seed, epoch, 1]));
    for k in (1..n).rev() {
        let j = rng.below(k as u64 + 1) as usize;
        perm.swap(k, j);
    }
    perm[pos]
}

/// The score of a sample that was never scored (it cannot happen: every sample is scored
/// before anything reads it).
static UNSCORED: Scored = Scored {
    reasoning: None,
    answer: None,
    format_ok: false,
    unscorable: None,
    satisfied: 0,
    total: 0,
    answer_score: -2.0,
    format_score: -1.0,
    reward: -3.0,
    verdicts: Vec::new(),
};

struct Trainer {
    cfg: RunConfig,
    run_id: String,
    home: PathBuf,
    store: Arc<Store>,
    lm: LoadedModel,
    reference: Option<Transformer>,
    trainable: Trainable,
    opt: AdamW,
    sched: LrSchedule,
    train: Vec<Record>,
    heldout: Vec<Record>,
    experts: Vec<usize>,
    /// Training records with a single constraint (the curriculum's first stage).
    single: Vec<usize>,
    first_step: u64,
    last_step: u64,
    events: EventSink,
    commands: Receiver<TrainerCommand>,
    side: SideGrads,
    save_now: bool,
    stop: bool,
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A checkpoint's files in one folder: full weights are files in their checkpoint folder
/// (verified by checksum when loaded); LoRA checkpoints live in the store and are unpacked to a
/// temporary folder, removed when this is dropped.
pub struct CheckpointFolder {
    path: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl CheckpointFolder {
    pub fn open(store: &Store, home: &Path, run: &str, ck: &CheckpointManifest) -> Result<Self> {
        if let Some(f) = ck.files.first() {
            let path = home
                .join(&f.path)
                .parent()
                .context("checkpoint file has no folder")?
                .to_path_buf();
            return Ok(CheckpointFolder { path, _tmp: None });
        }
        let tmp = tempfile::Builder::new()
            .prefix(".checkpoint-")
            .tempdir_in(home)
            .with_context(|| format!("cannot create a temporary folder in {}", home.display()))?;
        let d = tmp.path().join("ck");
        std::fs::create_dir_all(&d)?;
        for b in &ck.blobs {
            std::fs::write(
                d.join(&b.name),
                store.checkpoint_blob(run, ck.step, &b.name)?,
            )?;
        }
        std::fs::write(
            d.join("manifest.json"),
            serde_json::to_string(&ck.manifest)?,
        )?;
        Ok(CheckpointFolder {
            path: d,
            _tmp: Some(tmp),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Parses `RUN@STEP` (`RUN@last` or a bare `RUN`: the newest checkpoint).
pub fn parse_checkpoint_spec(spec: &str) -> Result<(String, Option<u64>)> {
    let (run, step) = match spec.rsplit_once('@') {
        Some((r, "last")) | Some((r, "")) => (r, None),
        Some((r, s)) => (
            r,
            Some(s.parse::<u64>().with_context(|| {
                format!("checkpoint `{spec}`: the step after `@` must be a number (or `last`)")
            })?),
        ),
        None => (spec, None),
    };
    if run.is_empty() {
        bail!("checkpoint `{spec}`: expected RUN@STEP");
    }
    Ok((run.to_string(), step))
}

/// Load a run's model at a checkpoint for inference: the run's base model (from its stored
/// configuration) with the checkpoint's weights, LoRA adapters merged into the base weights.
/// `step` None takes the newest checkpoint. Returns the model, the run's configuration and
/// the step loaded.
pub fn load_checkpoint_model(
    store: &Store,
    home: &Path,
    run: &str,
    step: Option<u64>,
    device_spec: &str,
) -> Result<(LoadedModel, RunConfig, u64)> {
    let info = store
        .run(run)?
        .with_context(|| format!("no run `{run}` in the store (see `raif runs list`)"))?;
    let cfg: RunConfig = serde_json::from_value(info.config.clone())
        .with_context(|| format!("run `{run}`: the stored run configuration is unreadable"))?;
    let ck = match step {
        Some(s) => store.checkpoint(run, s)?.with_context(|| {
            let have: Vec<String> = store
                .checkpoints(run)
                .map(|v| v.iter().map(|c| c.step.to_string()).collect())
                .unwrap_or_default();
            format!(
                "run `{run}` has no checkpoint at step {s} (checkpoints: {})",
                if have.is_empty() {
                    "none".to_string()
                } else {
                    have.join(", ")
                }
            )
        })?,
        None => store
            .last_checkpoint(run)?
            .with_context(|| format!("run `{run}` has no checkpoint"))?,
    };
    let mut lm = LoadedModel::open(
        &home.join("models"),
        &cfg.model.path,
        device_spec,
        cfg.model.template.as_deref(),
        &mut |_| {},
    )?;
    let trainable = match &cfg.train.mode {
        Mode::Full => Trainable::full(&mut lm.model)?,
        Mode::Lora(l) => Trainable::lora(&mut lm.model, l, mix(&[cfg.train.seed, 7]))?,
    };
    let folder = CheckpointFolder::open(store, home, run, &ck)?;
    let manifest = checkpoint::verify(folder.path())?;
    if manifest.mode != trainable.mode {
        bail!(
            "run `{run}` step {}: the checkpoint was trained as {:?}, the run's configuration says {:?}",
            ck.step,
            manifest.mode,
            trainable.mode
        );
    }
    let src = folder.path().join("trainable.safetensors");
    let values = candle_core::safetensors::load(&src, &candle_core::Device::Cpu)
        .with_context(|| format!("cannot read {}", src.display()))?;
    trainable.load_values(&values, &src.display().to_string())?;
    trainable.set_training(false);
    drop(trainable);
    raif_model::train::params::merge_lora(&mut lm.model)?;
    // Inference only: no gradient tracking on the weights.
    for (_, t) in lm.model.params_mut() {
        *t = t.detach();
    }
    Ok((lm, cfg, ck.step))
}

/// The records a run trains on: a file, or the built-in generator.
pub fn load_records(cfg: &RunConfig) -> Result<Vec<Record>> {
    Ok(load_records_with(cfg, None)?.0)
}

/// [`load_records`], where generated demonstrations that do not fit the run's budgets
/// (`rollout.think_budget` / `answer_budget`, counted with `tokenizer`) are drawn again; the
/// generator's report (None for a file) counts them.
pub fn load_records_with(
    cfg: &RunConfig,
    tokenizer: Option<&raif_model::Tokenizer>,
) -> Result<(Vec<Record>, Option<raif_datasets::gen::GenReport>)> {
    if cfg.data.path.is_empty() {
        let gc = gen_config(cfg)?;
        let r = &cfg.rollout;
        let fits = |rec: &Record| -> bool {
            match (tokenizer, &rec.expert) {
                (Some(t), Some(e)) if r.think_budget > 0 => {
                    rollout::demo_fits(t, e, r.think_budget, r.answer_budget).unwrap_or(false)
                }
                _ => true,
            }
        };
        let (records, report) = raif_datasets::gen::generate_filtered(&gc, None, Some(&fits));
        return Ok((records, Some(report)));
    }
    let path = Path::new(&cfg.data.path);
    let format = raif_datasets::commands::detect_format(path);
    let records = raif_datasets::loaders::load(format, path, &raif_datasets::catalog::VerifierIds)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot load the training data {}", path.display()))?;
    Ok((records, None))
}

/// The generator settings of a run that generates its data.
pub fn gen_config(cfg: &RunConfig) -> Result<raif_datasets::gen::GenConfig> {
    let depth = match cfg.data.generate_depth {
        0 => None,
        d @ 1..=3 => Some(d as u8),
        d => bail!("data.generate_depth must be 0 (mixed) or 1–3, got {d}"),
    };
    let profile: raif_datasets::gen::Profile = cfg
        .data
        .generate_profile
        .parse()
        .map_err(|e| anyhow::anyhow!("data.generate_profile: {e}"))?;
    Ok(raif_datasets::gen::GenConfig {
        n: cfg.data.generate_n,
        seed: cfg.train.seed,
        depth,
        profile,
        constraints: match cfg.data.generate_constraints {
            0 => None,
            k => Some(k),
        },
        heldout_only: false,
    })
}

/// A run's records: training and held-out, which training records carry demonstrations, and
/// which have a single constraint (the curriculum's first stage).
struct TrainData {
    train: Vec<Record>,
    heldout: Vec<Record>,
    experts: Vec<usize>,
    single: Vec<usize>,
}

impl TrainData {
    fn load(
        cfg: &RunConfig,
        tokenizer: &raif_model::Tokenizer,
        events: &EventSink,
    ) -> Result<Self> {
        let (mut records, report) = load_records_with(cfg, Some(tokenizer))?;
        if let Some(r) = report.filter(|r| r.budget_rejects > 0) {
            events.send(TrainerEvent::Warning(format!(
                "{} generated demonstrations were longer than the budgets ({} reasoning, {} answer tokens) and were drawn again",
                r.budget_rejects, cfg.rollout.think_budget, cfg.rollout.answer_budget
            )));
        }
        let before = records.len();
        records.retain(|r| !rollout::needs_judge(r));
        if records.len() < before {
            events.send(TrainerEvent::Warning(format!(
                "{} records with judge questions skipped: training with an LLM judge is not supported yet",
                before - records.len()
            )));
        }
        let (heldout, train): (Vec<Record>, Vec<Record>) = records
            .into_iter()
            .partition(|r| r.split == Split::Heldout || r.split == Split::Test);
        if train.is_empty() {
            bail!(
                "no training records (all {} are held out or need a judge)",
                heldout.len()
            );
        }
        let experts: Vec<usize> = train
            .iter()
            .enumerate()
            .filter(|(_, r)| r.expert.is_some())
            .map(|(i, _)| i)
            .collect();
        if cfg.warmup.steps > 0 && experts.is_empty() {
            bail!(
                "warmup.steps is {} but no training record has an expert demonstration to clone",
                cfg.warmup.steps
            );
        }
        let single: Vec<usize> = train
            .iter()
            .enumerate()
            .filter(|(_, r)| r.constraints.leaves().len() == 1)
            .map(|(i, _)| i)
            .collect();
        if cfg.raif.expert_bc && experts.is_empty() {
            events.send(TrainerEvent::Warning(
                "raif.expert_bc is on but no record has an expert response: no behaviour cloning"
                    .into(),
            ));
        }
        Ok(TrainData {
            train,
            heldout,
            experts,
            single,
        })
    }
}

impl Trainer {
    fn new(
        store: Arc<Store>,
        setup: TrainerSetup,
        events: EventSink,
        commands: Receiver<TrainerCommand>,
    ) -> Result<Self> {
        let cfg = setup.config.clone();
        cfg.validate()?;
        let mut lm = LoadedModel::open(
            &setup.home.join("models"),
            &cfg.model.path,
            &cfg.model.device,
            cfg.model.template.as_deref(),
            &mut |m| events.send(TrainerEvent::Warning(m.to_string())),
        )?;
        let (reference, trainable) = match &cfg.train.mode {
            Mode::Full => {
                let reference = (cfg.grpo.kl_coef > 0.0).then(|| lm.model.clone());
                (reference, Trainable::full(&mut lm.model)?)
            }
            Mode::Lora(l) => (
                None,
                Trainable::lora(&mut lm.model, l, mix(&[cfg.train.seed, 7]))?,
            ),
        };
        let opt = AdamW::new(
            &trainable.vars,
            AdamWConfig {
                beta1: cfg.train.beta1,
                beta2: cfg.train.beta2,
                eps: cfg.train.eps,
                weight_decay: cfg.train.weight_decay,
                max_grad_norm: Some(cfg.train.max_grad_norm),
            },
        )?;
        let total_opt = cfg.train.steps * Self::optimizer_steps_per_rollout(&cfg);
        let sched = LrSchedule {
            peak: cfg.train.learning_rate,
            warmup_steps: (total_opt as f64 * cfg.train.warmup_ratio).ceil() as usize,
            total_steps: total_opt,
            min_ratio: cfg.train.min_lr_ratio,
        };
        let TrainData {
            train,
            heldout,
            experts,
            single,
        } = TrainData::load(&cfg, &lm.tokenizer, &events)?;
        let total = cfg.total_steps() as u64;
        let last_step = setup.stop_after.unwrap_or(total).min(total);
        let mut t = Trainer {
            cfg,
            run_id: setup.run_id.clone(),
            home: setup.home.clone(),
            store,
            lm,
            reference,
            trainable,
            opt,
            sched,
            train,
            heldout,
            experts,
            single,
            first_step: 1,
            last_step,
            events,
            commands,
            side: SideGrads::default(),
            save_now: false,
            stop: false,
        };
        if setup.resume {
            t.resume()?;
        } else {
            let info = RunInfo {
                id: t.run_id.clone(),
                created_unix: now_unix(),
                status: RunStatus::Running,
                model: t.cfg.model.path.clone(),
                dataset: if t.cfg.data.path.is_empty() {
                    format!(
                        "generated(n={}, seed={})",
                        t.cfg.data.generate_n, t.cfg.train.seed
                    )
                } else {
                    t.cfg.data.path.clone()
                },
                preset: t.cfg.preset.clone(),
                config: serde_json::to_value(&t.cfg)?,
                last_step: None,
                source: "raif".into(),
            };
            t.store.create_run(&info)?;
        }
        Ok(t)
    }

    fn optimizer_steps_per_rollout(cfg: &RunConfig) -> usize {
        let train_samples =
            cfg.train.prompts_per_step * (cfg.train.group_size - cfg.no_think_per_group());
        train_samples
            .div_ceil(cfg.train.samples_per_optimizer_step)
            .max(1)
    }

    /// Restore model, optimizer and RNG state from the run's last checkpoint; later steps are
    /// dropped from the store (they will be produced again, identically).
    fn resume(&mut self) -> Result<()> {
        let info = self
            .store
            .run(&self.run_id)?
            .with_context(|| format!("no run `{}` to resume", self.run_id))?;
        let stored_cfg: RunConfig = serde_json::from_value(info.config.clone())
            .context("the stored run configuration is unreadable")?;
        if stored_cfg != self.cfg {
            bail!("run `{}` was started with a different configuration; resume it without --config/--preset changes", self.run_id);
        }
        match self.store.last_checkpoint(&self.run_id)? {
            None => {
                self.store.truncate_after(&self.run_id, 0)?;
                self.first_step = 1;
            }
            Some(ck) => {
                if let Some(r) = self.cfg.warmup_reference_step().filter(|r| ck.step > *r) {
                    // The KL reference is the policy of the warm-up's last step: load it,
                    // copy it, then load the newest checkpoint over it.
                    let rck = self.store.checkpoint(&self.run_id, r)?.with_context(|| {
                        format!(
                            "run `{}`: the checkpoint of step {r} (the end of the warm-up, the \
                             KL reference) is missing",
                            self.run_id
                        )
                    })?;
                    let folder =
                        CheckpointFolder::open(&self.store, &self.home, &self.run_id, &rck)?;
                    checkpoint::load(folder.path(), &self.trainable, &mut self.opt)?;
                    self.snapshot_reference()?;
                }
                let folder = CheckpointFolder::open(&self.store, &self.home, &self.run_id, &ck)?;
                checkpoint::load(folder.path(), &self.trainable, &mut self.opt)?;
                self.store.truncate_after(&self.run_id, ck.step)?;
                self.first_step = ck.step + 1;
            }
        }
        self.store.set_status(&self.run_id, RunStatus::Running)?;
        Ok(())
    }

    /// The KL reference becomes a frozen copy of the current policy (`grpo.reference =
    /// "warmup"`). With LoRA only the adapters are copied (the base weights are shared and
    /// frozen); a full fine-tune copies every weight.
    fn snapshot_reference(&mut self) -> Result<()> {
        let mut r = self.lm.model.clone();
        match self.cfg.train.mode {
            Mode::Lora(_) => {
                for (_, _, lin) in r.linears_mut() {
                    if let Some(l) = lin.lora.as_mut() {
                        l.a = l.a.copy()?.detach();
                        l.b = l.b.copy()?.detach();
                        l.dropout = None;
                    }
                }
            }
            Mode::Full => {
                for (_, t) in r.params_mut() {
                    *t = t.copy()?.detach();
                }
            }
        }
        self.reference = Some(r);
        Ok(())
    }

    fn poll_commands(&mut self) -> Result<()> {
        loop {
            match self.commands.try_recv() {
                Ok(TrainerCommand::Pause) => {
                    self.store.set_status(&self.run_id, RunStatus::Paused)?;
                    self.events.send(TrainerEvent::Paused);
                    // Block until resumed or stopped.
                    loop {
                        match self.commands.recv() {
                            Ok(TrainerCommand::Resume) => break,
                            Ok(TrainerCommand::Stop) | Err(_) => {
                                self.stop = true;
                                break;
                            }
                            Ok(TrainerCommand::SaveNow) => self.save_now = true,
                            Ok(TrainerCommand::Pause) => {}
                        }
                    }
                    self.store.set_status(&self.run_id, RunStatus::Running)?;
                    self.events.send(TrainerEvent::Resumed);
                }
                Ok(TrainerCommand::Resume) => {}
                Ok(TrainerCommand::Stop) => self.stop = true,
                Ok(TrainerCommand::SaveNow) => self.save_now = true,
                Err(TryRecvError::Empty) => return Ok(()),
                Err(TryRecvError::Disconnected) => return Ok(()),
            }
        }
    }

    fn run(&mut self) -> Result<u64> {
        self.events.send(TrainerEvent::Started {
            run_id: self.run_id.clone(),
            total_steps: self.cfg.total_steps() as u64,
            warmup_steps: self.cfg.warmup.steps as u64,
            first_step: self.first_step,
            model: self.lm.source.path().display().to_string(),
            trainable_parameters: self.trainable.num_parameters(),
        });
        let mut done = self.first_step.saturating_sub(1);
        for step in self.first_step..=self.last_step {
            self.poll_commands()?;
            if self.stop {
                break;
            }
            self.step(step)?;
            done = step;
            self.poll_commands()?;
        }
        let finished = done >= self.cfg.total_steps() as u64;
        self.store.set_status(
            &self.run_id,
            if finished {
                RunStatus::Finished
            } else {
                RunStatus::Stopped
            },
        )?;
        self.store.flush()?;
        self.events.send(TrainerEvent::Finished { last_step: done });
        Ok(done)
    }

    /// The records of GRPO step `g` (1-based): during the curriculum only single-constraint
    /// records (when there are any), then all.
    fn step_prompts(&self, g: u64) -> Vec<usize> {
        let p = self.cfg.train.prompts_per_step as u64;
        let single = g <= self.cfg.data.curriculum_steps as u64 && !self.single.is_empty();
        (0..p)
            .map(|k| {
                let i = (g - 1) * p + k;
                if single {
                    self.single[stream_index(mix(&[self.cfg.train.seed, 11]), self.single.len(), i)]
                } else {
                    stream_index(self.cfg.train.seed, self.train.len(), i)
                }
            })
            .collect()
    }

    /// Whether step `step` ends with a held-out evaluation: every `eval.every` GRPO steps,
    /// at the end of the warm-up and at the run's last step.
    fn eval_due(&self, step: u64) -> bool {
        let every = self.cfg.eval.every as u64;
        let w = self.cfg.warmup.steps as u64;
        if every == 0 || self.heldout.is_empty() {
            return false;
        }
        step == self.cfg.total_steps() as u64
            || (w > 0 && step == w)
            || (step > w && (step - w).is_multiple_of(every))
    }

    /// One step of the run: warm-up or GRPO, the held-out evaluation when due, the commit.
    fn step(&mut self, step: u64) -> Result<()> {
        let t_step = Instant::now();
        if self.cfg.warmup_reference_step() == Some(step - 1) {
            self.snapshot_reference()?;
        }
        let (mut m, mut rollouts) = if self.cfg.phase_of(step) == 0 {
            self.warmup_step(step)?
        } else {
            self.grpo_step(step)?
        };
        if self.eval_due(step) {
            let t_eval = Instant::now();
            let (em, er) = self.heldout_eval(step)?;
            m.extend(em);
            m.insert("time/eval".into(), t_eval.elapsed().as_secs_f64());
            rollouts.extend(er);
        }
        m.insert("step_time".into(), t_step.elapsed().as_secs_f64());
        self.commit(step, m, rollouts)
    }

    /// A GRPO step: rollout, score, reference, optimize, metrics.
    fn grpo_step(&mut self, step: u64) -> Result<(Metrics, Vec<Rollout>)> {
        let records = self.step_prompts(step - self.cfg.warmup.steps as u64);
        self.events.send(TrainerEvent::StepStarted {
            step,
            prompts: records.iter().map(|&r| self.train[r].id.clone()).collect(),
        });
        self.trainable.set_training(false);
        let mut clock = PhaseClock::start();
        let (mut samples, gen_tps) = self.generate(step, &records, Pool::Train, false)?;
        let t_gen = clock.lap();
        self.score(&mut samples, &records, Pool::Train)?;
        self.assign(&mut samples, &records);
        for s in &samples {
            let r = self.to_rollout(step, s, &records, Pool::Train);
            self.events.send(TrainerEvent::Rollout(Box::new(r)));
        }
        let t_score = clock.lap();
        let batch = TrainBatch::new(&samples);
        let refs = self.reference(&batch)?;
        let t_ref = clock.lap();
        let opt = self.optimize(step, &mut samples, &batch, &refs)?;
        let t_opt = clock.lap();
        let mut m =
            metrics::grpo_metrics(&Self::sample_stats(&samples), records.len(), &opt, gen_tps);
        metrics::phase_times(&mut m, t_gen, t_score, t_ref, t_opt, &opt);
        let rollouts = samples
            .iter()
            .map(|s| self.to_rollout(step, s, &records, Pool::Train))
            .collect();
        Ok((m, rollouts))
    }

    /// Phase 7, commit: the step's metrics, rollouts and (when due) checkpoint in one
    /// transaction; older checkpoints beyond `keep_checkpoints` are deleted after it.
    fn commit(&mut self, step: u64, mut m: Metrics, rollouts: Vec<Rollout>) -> Result<()> {
        let want_ckpt = self.save_now
            || self.stop
            || step == self.last_step
            || Some(step) == self.cfg.warmup_reference_step()
            || (self.cfg.train.checkpoint_every > 0
                && step.is_multiple_of(self.cfg.train.checkpoint_every as u64));
        let checkpoint = if want_ckpt {
            let t = Instant::now();
            let ck = self.make_checkpoint(step)?;
            m.insert("time/checkpoint".into(), t.elapsed().as_secs_f64());
            Some(ck)
        } else {
            None
        };
        self.store.commit_step(
            &self.run_id,
            &StepCommit {
                step,
                metrics: m.clone(),
                rollouts,
                checkpoint,
            },
        )?;
        if want_ckpt {
            self.save_now = false;
            self.events.send(TrainerEvent::CheckpointSaved { step });
            let keep = self.cfg.train.keep_checkpoints;
            if keep > 0 {
                // The KL reference's checkpoint is kept besides the newest `keep`.
                let pinned = self.cfg.warmup_reference_step();
                let all: Vec<u64> = self
                    .store
                    .checkpoints(&self.run_id)?
                    .iter()
                    .map(|c| c.step)
                    .filter(|s| Some(*s) != pinned)
                    .collect();
                if all.len() > keep {
                    for old in &all[..all.len() - keep] {
                        self.store.delete_checkpoint(&self.run_id, *old)?;
                    }
                }
            }
        }
        self.events
            .send(TrainerEvent::StepMetrics { step, metrics: m });
        Ok(())
    }

    fn to_rollout(&self, step: u64, s: &Sample, records: &[usize], pool: Pool) -> Rollout {
        let heldout = pool == Pool::Heldout;
        let rec = self.record(pool, records[s.prompt_index]);
        let sc = s.scored();
        let prompt = self
            .lm
            .tokenizer
            .decode(&s.prompt_ids, false)
            .unwrap_or_default();
        Rollout {
            step,
            // Held-out evaluation rollouts share the step's key space: offset their indices.
            prompt_index: s.prompt_index as u32 + if heldout { EVAL_PROMPT_BASE } else { 0 },
            sample: s.sample as u32,
            prompt_id: rec.id.clone(),
            prompt,
            response: s.text.clone(),
            reasoning: sc.reasoning.clone(),
            answer: sc.answer.clone(),
            tokens: s.tokens.clone(),
            logprobs: s.logprobs.clone(),
            entropies: s.entropies.clone(),
            finish: format!("{:?}", s.finish).to_lowercase(),
            reward: sc.reward,
            answer_score: sc.answer_score,
            format_score: sc.format_score,
            satisfied: sc.satisfied as u32,
            total: sc.total as u32,
            verdicts: sc.verdicts.clone(),
            advantage: s.advantage,
            kept: s.keep.kept(),
            keep_reason: serde_json::to_string(&s.keep).unwrap_or_default(),
            no_think: s.no_think,
            eval: heldout,
            forced: s.forced_tags.name().to_string(),
            forced_tokens: s.forced.clone(),
        }
    }

    /// The checkpoint of this step: LoRA tensors and optimizer state inside the store; full
    /// weights as files beside it (checksums in the manifest).
    fn make_checkpoint(&self, step: u64) -> Result<(CheckpointManifest, Vec<NamedBlob>)> {
        let runs = self.home.join("runs").join(&self.run_id);
        std::fs::create_dir_all(&runs)?;
        let dir = runs.join(format!("step-{step}"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        let state = serde_json::json!({"step": step, "run": self.run_id});
        checkpoint::save(&dir, &self.trainable, &self.opt, state)?;
        let manifest: Manifest = checkpoint::verify(&dir)?;
        let mut blobs = Vec::new();
        let mut files = Vec::new();
        let mut infos = Vec::new();
        let in_store = matches!(self.cfg.train.mode, Mode::Lora(_));
        let mut names: Vec<&String> = manifest.files.keys().collect();
        names.sort();
        for name in names {
            let sum = &manifest.files[name];
            if in_store {
                blobs.push((name.clone(), std::fs::read(dir.join(name))?));
                infos.push(BlobInfo {
                    name: name.clone(),
                    sha256: sum.sha256.clone(),
                    bytes: sum.bytes,
                });
            } else {
                let rel = Path::new("runs")
                    .join(&self.run_id)
                    .join(format!("step-{step}"))
                    .join(name);
                files.push(FileInfo {
                    path: rel.display().to_string(),
                    sha256: sum.sha256.clone(),
                    bytes: sum.bytes,
                });
            }
        }
        if in_store {
            std::fs::remove_dir_all(&dir)?;
        }
        let ck = CheckpointManifest {
            step,
            created_unix: now_unix(),
            manifest: serde_json::to_value(&manifest)?,
            blobs: infos,
            files,
        };
        Ok((ck, blobs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_order_is_a_seeded_permutation_per_epoch() {
        let n = 7;
        let e0: Vec<usize> = (0..7).map(|i| stream_index(3, n, i)).collect();
        let mut sorted = e0.clone();
        sorted.sort();
        assert_eq!(sorted, (0..7).collect::<Vec<_>>());
        let e1: Vec<usize> = (7..14).map(|i| stream_index(3, n, i)).collect();
        assert_ne!(e0, e1, "each epoch reshuffles");
        assert_eq!(
            e0,
            (0..7).map(|i| stream_index(3, n, i)).collect::<Vec<_>>()
        );
        assert_ne!(
            e0,
            (0..7).map(|i| stream_index(4, n, i)).collect::<Vec<_>>()
        );
    }
}
