//! The RAIF GRPO trainer (ALGORITHM.md §3–5). It runs on its own OS thread, owns the model and
//! optimizer, publishes [`TrainerEvent`]s on a bounded channel (never blocking on a slow
//! consumer: events that do not fit are dropped and counted, the store keeps everything) and
//! obeys [`TrainerCommand`]s. Every step commits atomically to the store: rollouts, metrics
//! and (every `checkpoint_every` steps, and the last) a checkpoint.
//!
//! A run is a pure function of its configuration and seed: the prompts of step s, the sampling
//! seeds of every sequence and the expert demonstrations are derived from (seed, s), so a run
//! resumed from a checkpoint produces the same rollouts as one never interrupted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Tensor};
use raif_datasets::{Record, Split};
use raif_model::train::checkpoint::{self, Manifest};
use raif_model::train::optim::{AdamW, AdamWConfig, GradAccum, LrSchedule};
use raif_model::train::{token_logprobs_ckpt, SeqBatch, SideGrads, Trainable};
use raif_model::{device, Generator, LoadedModel, PromptMode, Rng, SamplingParams, Transformer};
use serde::{Deserialize, Serialize};

use crate::config::{Mode, RunConfig};
use crate::grpo::{
    group_advantages, keep_flags, policy_kl_loss, GroupSample, KeepReason, LossInputs,
};
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
        total_steps: u64,
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

struct Sample {
    prompt_index: usize,
    sample: usize,
    no_think: bool,
    prompt_ids: Vec<u32>,
    tokens: Vec<u32>,
    logprobs: Vec<f32>,
    text: String,
    finish: raif_model::FinishReason,
    scored: Option<Scored>,
    advantage: f64,
    keep: KeepReason,
    entropies: Vec<f32>,
}

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
    let path = raif_model::fetch::resolve(&home.join("models"), &cfg.model.path, &mut |_| {})?;
    let dev = device::parse_device(device_spec)?;
    let dtype = device::default_dtype(&dev);
    let mut lm = LoadedModel::load(&path, dtype, &dev)?;
    if let Some(t) = &cfg.model.template {
        lm.template = raif_model::ChatTemplate::by_name(t)?;
    }
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
    if cfg.data.path.is_empty() {
        let depth = match cfg.data.generate_depth {
            0 => None,
            d @ 1..=3 => Some(d as u8),
            d => bail!("data.generate_depth must be 0 (mixed) or 1–3, got {d}"),
        };
        let gc = raif_datasets::gen::GenConfig {
            n: cfg.data.generate_n,
            seed: cfg.train.seed,
            depth,
        };
        let (records, _) = raif_datasets::gen::generate(&gc, None);
        return Ok(records);
    }
    let path = Path::new(&cfg.data.path);
    let format = raif_datasets::commands::detect_format(path);
    raif_datasets::loaders::load(format, path, &raif_datasets::catalog::VerifierIds)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot load the training data {}", path.display()))
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
        let models = setup.home.join("models");
        let path = raif_model::fetch::resolve(&models, &cfg.model.path, &mut |m| {
            events.send(TrainerEvent::Warning(m.to_string()))
        })?;
        let dev = device::parse_device(&cfg.model.device)?;
        let dtype = if dev.is_cuda() {
            DType::BF16
        } else {
            DType::F32
        };
        let mut lm = LoadedModel::load(&path, dtype, &dev)?;
        if let Some(t) = &cfg.model.template {
            lm.template = raif_model::ChatTemplate::by_name(t)?;
        }
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
        let mut records = load_records(&cfg)?;
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
        if cfg.raif.expert_bc && experts.is_empty() {
            events.send(TrainerEvent::Warning(
                "raif.expert_bc is on but no record has an expert response: no behaviour cloning"
                    .into(),
            ));
        }
        let last_step = setup
            .stop_after
            .unwrap_or(cfg.train.steps as u64)
            .min(cfg.train.steps as u64);
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
                let folder = CheckpointFolder::open(&self.store, &self.home, &self.run_id, &ck)?;
                checkpoint::load(folder.path(), &self.trainable, &mut self.opt)?;
                self.store.truncate_after(&self.run_id, ck.step)?;
                self.first_step = ck.step + 1;
            }
        }
        self.store.set_status(&self.run_id, RunStatus::Running)?;
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
            total_steps: self.cfg.train.steps as u64,
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
        let finished = done >= self.cfg.train.steps as u64;
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

    fn step_prompts(&self, step: u64) -> Vec<usize> {
        let p = self.cfg.train.prompts_per_step as u64;
        (0..p)
            .map(|k| stream_index(self.cfg.train.seed, self.train.len(), (step - 1) * p + k))
            .collect()
    }

    /// Generate and score one group per record (or one greedy answer each, for evaluation).
    fn rollouts(
        &mut self,
        step: u64,
        records: &[usize],
        pool_heldout: bool,
        eval: bool,
    ) -> Result<(Vec<Sample>, f64)> {
        let cfg = self.cfg.clone();
        let (g, nt) = if eval {
            (1, 0)
        } else {
            (cfg.train.group_size, cfg.no_think_per_group())
        };
        let plain = cfg.rollout.format == crate::config::AnswerFormat::Plain;
        let style = if plain {
            raif_verify::reward::TagStyle::Plain
        } else {
            rollout::tag_style(&self.lm.template)
        };
        let mut samples = Vec::new();
        for (pi, &ri) in records.iter().enumerate() {
            let rec = if pool_heldout {
                &self.heldout[ri]
            } else {
                &self.train[ri]
            };
            let think_ids = self.lm.tokenizer.encode(&rollout::prompt_text(
                &self.lm.template,
                rec,
                cfg.prompt_mode(),
            )?)?;
            let fast_ids = if nt > 0 {
                Some(self.lm.tokenizer.encode(&rollout::prompt_text(
                    &self.lm.template,
                    rec,
                    PromptMode::NoThink,
                )?)?)
            } else {
                None
            };
            for j in 0..g {
                let no_think = j >= g - nt;
                let prompt_ids = if no_think {
                    fast_ids.clone().unwrap_or_default()
                } else {
                    think_ids.clone()
                };
                samples.push(Sample {
                    prompt_index: pi,
                    sample: j,
                    no_think,
                    prompt_ids,
                    tokens: Vec::new(),
                    logprobs: Vec::new(),
                    text: String::new(),
                    finish: raif_model::FinishReason::Length,
                    scored: None,
                    advantage: 0.0,
                    keep: KeepReason::Kept,
                    entropies: Vec::new(),
                });
            }
        }
        let params = if eval {
            SamplingParams::greedy(cfg.rollout.max_new_tokens)
        } else {
            SamplingParams {
                temperature: cfg.rollout.temperature,
                top_p: cfg.rollout.top_p,
                top_k: cfg.rollout.top_k,
                max_new_tokens: cfg.rollout.max_new_tokens,
                stop_strings: Vec::new(),
            }
        };
        let t0 = Instant::now();
        let mut generated = 0usize;
        let chunk = cfg.rollout.generation_batch;
        let mut start = 0;
        while start < samples.len() {
            let end = (start + chunk).min(samples.len());
            let prompts: Vec<Vec<u32>> = samples[start..end]
                .iter()
                .map(|s| s.prompt_ids.clone())
                .collect();
            let seed = cfg.train.seed;
            let seeds: Vec<u64> = samples[start..end]
                .iter()
                .map(|s| {
                    mix(&[
                        seed,
                        step,
                        s.prompt_index as u64,
                        s.sample as u64,
                        eval as u64,
                    ])
                })
                .collect();
            let ids: Vec<(u32, u32)> = samples[start..end]
                .iter()
                .map(|s| (s.prompt_index as u32, s.sample as u32))
                .collect();
            let events = self.events.clone();
            let gen = Generator {
                model: &self.lm.model,
                tokenizer: &self.lm.tokenizer,
                stop_ids: self.lm.stop_ids.clone(),
            };
            let outs = gen.generate(&prompts, &seeds, &params, &mut |ev| {
                if !eval {
                    let (p, s) = ids[ev.index];
                    events.send(TrainerEvent::Token {
                        step,
                        prompt_index: p,
                        sample: s,
                        delta: ev.delta.to_string(),
                    });
                }
            })?;
            for (s, o) in samples[start..end].iter_mut().zip(outs) {
                generated += o.tokens.len();
                s.tokens = o.tokens;
                s.logprobs = o.logprobs;
                s.text = o.text;
                s.finish = o.finish;
            }
            start = end;
            self.poll_commands()?;
        }
        let gen_s = t0.elapsed().as_secs_f64();
        for s in samples.iter_mut() {
            let ri = records[s.prompt_index];
            let rec = if pool_heldout {
                &self.heldout[ri]
            } else {
                &self.train[ri]
            };
            s.scored = Some(rollout::score(&s.text, rec, style, s.no_think)?);
        }
        Ok((samples, generated as f64 / gen_s.max(1e-9)))
    }

    /// Advantages and keep flags, group by group.
    fn assign(&self, samples: &mut [Sample], records: &[usize]) {
        let enforce = self.cfg.raif.enforce_superior_cot;
        for (pi, &ri) in records.iter().enumerate() {
            let idx: Vec<usize> = (0..samples.len())
                .filter(|&i| samples[i].prompt_index == pi)
                .collect();
            let rewards: Vec<f64> = idx
                .iter()
                .map(|&i| samples[i].scored.as_ref().map_or(-3.0, |s| s.reward))
                .collect();
            let adv = group_advantages(&rewards);
            let group: Vec<GroupSample> = idx
                .iter()
                .map(|&i| GroupSample {
                    no_think: samples[i].no_think,
                    satisfied: samples[i].scored.as_ref().map_or(0, |s| s.satisfied),
                    reward: samples[i].scored.as_ref().map_or(-3.0, |s| s.reward),
                })
                .collect();
            let stored = self.train[ri].fast_score.map(|f| f.satisfied as usize);
            let keep = keep_flags(&group, stored, enforce);
            for ((&i, a), k) in idx.iter().zip(adv).zip(keep) {
                samples[i].advantage = a;
                samples[i].keep = k;
            }
        }
    }

    /// One expert demonstration for behaviour cloning, chosen by (seed, micro-step).
    fn expert_sequence(&self, micro: u64) -> Result<Option<(Vec<u32>, usize)>> {
        if !self.cfg.raif.expert_bc || self.experts.is_empty() {
            return Ok(None);
        }
        let k = self.experts
            [(mix(&[self.cfg.train.seed, micro, 3]) % self.experts.len() as u64) as usize];
        let rec = &self.train[k];
        let Some(e) = &rec.expert else {
            return Ok(None);
        };
        let prompt = rollout::prompt_text(&self.lm.template, rec, self.cfg.prompt_mode())?;
        let response = match self.cfg.rollout.format {
            // The prompt already opened the think block.
            crate::config::AnswerFormat::Think => format!(
                "{}\n</think>\n<answer>\n{}\n</answer>",
                e.reasoning, e.answer
            ),
            crate::config::AnswerFormat::Plain => e.answer.clone(),
        };
        let p_ids = self.lm.tokenizer.encode(&prompt)?;
        let mut ids = p_ids.clone();
        ids.extend(self.lm.tokenizer.encode(&response)?);
        // End the turn as the template does (e.g. `<|im_end|>`).
        let eot = self
            .lm
            .template
            .stop_tokens()
            .iter()
            .find_map(|t| self.lm.tokenizer.token_to_id(t));
        ids.extend(eot.or_else(|| self.lm.stop_ids.first().copied()));
        let start = if self.cfg.raif.bc_mask_prompt {
            p_ids.len()
        } else {
            1
        };
        Ok(Some((ids, start)))
    }

    fn logprobs_of(
        &self,
        model: &Transformer,
        seqs: &[Vec<u32>],
        starts: &[usize],
        adapters: bool,
    ) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::new();
        let mb = self.cfg.train.micro_batch;
        for (s, st) in seqs.chunks(mb).zip(starts.chunks(mb)) {
            let b = SeqBatch::new(s, st, model.device())?;
            // The checkpointed path computes values without keeping a graph.
            let throwaway = SideGrads::default();
            let lp = token_logprobs_ckpt(model, &b, adapters, false, Some(&throwaway))?
                .logp
                .detach();
            for r in 0..s.len() {
                out.push(b.row_values(&lp, r)?);
            }
        }
        Ok(out)
    }

    fn step(&mut self, step: u64) -> Result<()> {
        let t_step = Instant::now();
        let records = self.step_prompts(step);
        self.events.send(TrainerEvent::StepStarted {
            step,
            prompts: records.iter().map(|&r| self.train[r].id.clone()).collect(),
        });
        self.trainable.set_training(false);
        let (mut samples, gen_tps) = self.rollouts(step, &records, false, false)?;
        self.assign(&mut samples, &records);
        for s in &samples {
            self.events.send(TrainerEvent::Rollout(Box::new(
                self.to_rollout(step, s, &records, false),
            )));
        }

        // Training samples: the reasoning ones (no-think samples are never trained).
        let train_idx: Vec<usize> = (0..samples.len())
            .filter(|&i| !samples[i].no_think)
            .collect();
        let seqs: Vec<Vec<u32>> = train_idx
            .iter()
            .map(|&i| [samples[i].prompt_ids.clone(), samples[i].tokens.clone()].concat())
            .collect();
        let starts: Vec<usize> = train_idx
            .iter()
            .map(|&i| samples[i].prompt_ids.len())
            .collect();
        let n_opt = Self::optimizer_steps_per_rollout(&self.cfg);
        let per_opt = self.cfg.train.samples_per_optimizer_step;
        // Rows with no generated token (impossible with max_new_tokens ≥ 1) cannot be scored.
        let usable: Vec<bool> = train_idx
            .iter()
            .map(|&i| !samples[i].tokens.is_empty())
            .collect();
        let old = if n_opt > 1 {
            Some(self.logprobs_of(&self.lm.model, &seqs, &starts, true)?)
        } else {
            None
        };
        let kl_on = self.cfg.grpo.kl_coef > 0.0;
        let refs = if kl_on {
            Some(match &self.reference {
                Some(r) => self.logprobs_of(r, &seqs, &starts, true)?,
                None => self.logprobs_of(&self.lm.model, &seqs, &starts, false)?,
            })
        } else {
            None
        };
        self.trainable.set_training(true);
        let device = self.lm.model.device().clone();
        let (
            mut loss_sum,
            mut kl_sum,
            mut clipped,
            mut tok,
            mut ent_sum,
            mut ent_n,
            mut bc_sum,
            mut bc_n,
        ) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
        let mut grad_norms = Vec::new();
        let mut lrs = Vec::new();
        let mut nan_skips = 0;
        let order: Vec<usize> = (0..train_idx.len()).filter(|&k| usable[k]).collect();
        for (o, opt_chunk) in order.chunks(per_opt).enumerate() {
            let denom = opt_chunk.len() as f64;
            let n_micro = opt_chunk.len().div_ceil(self.cfg.train.micro_batch);
            let mut acc = GradAccum::new(self.trainable.vars.len());
            for (m, micro) in opt_chunk.chunks(self.cfg.train.micro_batch).enumerate() {
                self.poll_commands()?;
                let mseqs: Vec<Vec<u32>> = micro.iter().map(|&k| seqs[k].clone()).collect();
                let mstarts: Vec<usize> = micro.iter().map(|&k| starts[k]).collect();
                let b = SeqBatch::new(&mseqs, &mstarts, &device)?;
                let ckpt = self.cfg.train.gradient_checkpointing.then_some(&self.side);
                let lp = token_logprobs_ckpt(&self.lm.model, &b, true, true, ckpt)?;
                let (bsz, t) = lp.logp.dims2()?;
                let to_grid = |rows: &[Vec<f32>]| -> Result<Tensor> {
                    let mut grid = vec![0f32; bsz * t];
                    for (r, vals) in rows.iter().enumerate() {
                        let pad = b.pads[r];
                        let start = mstarts[r];
                        for (k, v) in vals.iter().enumerate() {
                            // Scored column of token (start + k) is (pad + start + k − 1).
                            grid[r * t + pad + start + k - 1] = *v;
                        }
                    }
                    Ok(Tensor::from_vec(grid, (bsz, t), &device)?)
                };
                let old_t = match &old {
                    Some(o) => to_grid(&micro.iter().map(|&k| o[k].clone()).collect::<Vec<_>>())?,
                    None => lp.logp.detach(),
                };
                let ref_t = match &refs {
                    Some(r) => Some(to_grid(
                        &micro.iter().map(|&k| r[k].clone()).collect::<Vec<_>>(),
                    )?),
                    None => None,
                };
                let adv = Tensor::from_vec(
                    micro
                        .iter()
                        .map(|&k| samples[train_idx[k]].advantage as f32)
                        .collect::<Vec<_>>(),
                    bsz,
                    &device,
                )?;
                let keep = Tensor::from_vec(
                    micro
                        .iter()
                        .map(|&k| {
                            if samples[train_idx[k]].keep.kept() {
                                1f32
                            } else {
                                0.0
                            }
                        })
                        .collect::<Vec<_>>(),
                    bsz,
                    &device,
                )?;
                let parts = policy_kl_loss(
                    &LossInputs {
                        logp: &lp.logp,
                        old_logp: &old_t,
                        ref_logp: ref_t.as_ref(),
                        mask: &b.loss_mask,
                        adv: &adv,
                        keep: &keep,
                    },
                    self.cfg.grpo.clip_eps,
                    denom,
                )?;
                let mut loss = parts.policy.clone();
                if let Some(kl) = &parts.kl {
                    loss = (loss + (kl * self.cfg.grpo.kl_coef)?)?;
                }
                let micro_id = mix(&[step, o as u64, m as u64]);
                if let Some((eseq, estart)) = self.expert_sequence(micro_id)? {
                    let eb = SeqBatch::new(&[eseq], &[estart], &device)?;
                    let elp = token_logprobs_ckpt(&self.lm.model, &eb, true, false, ckpt)?.logp;
                    let n = eb.counts[0].max(1) as f64;
                    let nll = ((elp * &eb.loss_mask)?.sum_all()?.neg()? / n)?;
                    bc_sum += nll.to_dtype(DType::F64)?.to_scalar::<f64>()?;
                    bc_n += 1;
                    loss = (loss + (nll * (self.cfg.raif.bc_coef / n_micro as f64))?)?;
                }
                let lval = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
                if !lval.is_finite() {
                    nan_skips += 1;
                    self.events.send(TrainerEvent::Warning(format!(
                        "step {step}: non-finite loss in a micro-batch; skipped"
                    )));
                    continue;
                }
                loss_sum += lval;
                kl_sum += parts.kl_sum;
                clipped += parts.clipped_tokens;
                tok += parts.tokens;
                if let Some(e) = &lp.entropy {
                    for r in 0..bsz {
                        let v = b.row_values(e, r)?;
                        samples[train_idx[micro[r]]].entropies = v.clone();
                        ent_sum += v.iter().map(|&x| x as f64).sum::<f64>();
                        ent_n += v.len() as f64;
                    }
                }
                let store = loss.backward()?;
                acc.add(&self.trainable.vars, &store, ckpt)?;
            }
            let opt_step = self.opt.step as usize;
            let lr = self.sched.lr(opt_step);
            let info = self.opt.step(&self.trainable.vars, &acc.grads, lr, 1.0)?;
            if !info.applied {
                nan_skips += 1;
                self.events.send(TrainerEvent::Warning(format!(
                    "step {step}: gradient norm {} is not finite; the optimizer step was skipped",
                    info.grad_norm
                )));
            }
            grad_norms.push(info.grad_norm);
            lrs.push(lr);
        }
        self.side.clear();

        // Metrics (TRL names where TRL has one).
        let think: Vec<&Sample> = samples.iter().filter(|s| !s.no_think).collect();
        let mean = |v: &[f64]| {
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        let sc = |s: &Sample| s.scored.clone().unwrap_or_else(unreachable_scored);
        let rewards: Vec<f64> = think.iter().map(|s| sc(s).reward).collect();
        let mut m: Metrics = BTreeMap::new();
        m.insert("reward".into(), mean(&rewards));
        let mut stds = Vec::new();
        let mut zero_std = 0usize;
        for pi in 0..records.len() {
            let r: Vec<f64> = samples
                .iter()
                .filter(|s| s.prompt_index == pi)
                .map(|s| sc(s).reward)
                .collect();
            let mu = mean(&r);
            let sd = if r.len() > 1 {
                (r.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (r.len() - 1) as f64).sqrt()
            } else {
                0.0
            };
            if sd == 0.0 {
                zero_std += 1;
            }
            stds.push(sd);
        }
        m.insert("reward_std".into(), mean(&stds));
        m.insert(
            "frac_reward_zero_std".into(),
            zero_std as f64 / records.len() as f64,
        );
        m.insert(
            "answer_score".into(),
            mean(&think.iter().map(|s| sc(s).answer_score).collect::<Vec<_>>()),
        );
        m.insert(
            "format_score".into(),
            mean(&think.iter().map(|s| sc(s).format_score).collect::<Vec<_>>()),
        );
        let fast: Vec<f64> = samples
            .iter()
            .filter(|s| s.no_think)
            .map(|s| sc(s).reward)
            .collect();
        if !fast.is_empty() {
            m.insert("reward_no_think".into(), mean(&fast));
        }
        per_constraint(&mut m, "rewards", think.iter().map(|s| sc(s)));
        m.insert(
            "kl".into(),
            if tok > 0.0 {
                kl_sum / think.len().max(1) as f64
            } else {
                0.0
            },
        );
        m.insert(
            "clip_ratio".into(),
            if tok > 0.0 { clipped / tok } else { 0.0 },
        );
        m.insert(
            "keep_ratio".into(),
            think.iter().filter(|s| s.keep.kept()).count() as f64 / think.len().max(1) as f64,
        );
        if bc_n > 0 {
            m.insert("expert_nll".into(), bc_sum / bc_n as f64);
        }
        m.insert("loss".into(), loss_sum / n_opt as f64);
        m.insert("grad_norm".into(), mean(&grad_norms));
        m.insert("learning_rate".into(), lrs.last().copied().unwrap_or(0.0));
        m.insert(
            "entropy".into(),
            if ent_n > 0.0 { ent_sum / ent_n } else { 0.0 },
        );
        m.insert(
            "completions/mean_length".into(),
            mean(
                &think
                    .iter()
                    .map(|s| s.tokens.len() as f64)
                    .collect::<Vec<_>>(),
            ),
        );
        m.insert(
            "completions/clipped_ratio".into(),
            think
                .iter()
                .filter(|s| s.finish == raif_model::FinishReason::Length)
                .count() as f64
                / think.len().max(1) as f64,
        );
        m.insert("tokens/s".into(), gen_tps);
        m.insert("nan_skips".into(), nan_skips as f64);

        let mut rollouts: Vec<Rollout> = samples
            .iter()
            .map(|s| self.to_rollout(step, s, &records, false))
            .collect();
        // Held-out evaluation every K steps: one greedy answer per held-out record.
        if self.cfg.eval.every > 0
            && step.is_multiple_of(self.cfg.eval.every as u64)
            && !self.heldout.is_empty()
        {
            self.trainable.set_training(false);
            let n = self.cfg.eval.prompts.min(self.heldout.len());
            let idx: Vec<usize> = (0..n).collect();
            let (es, _) = self.rollouts(step, &idx, true, true)?;
            let scored: Vec<Scored> = es.iter().filter_map(|s| s.scored.clone()).collect();
            m.insert(
                "eval/reward".into(),
                mean(&scored.iter().map(|s| s.reward).collect::<Vec<_>>()),
            );
            m.insert(
                "eval/answer_score".into(),
                mean(&scored.iter().map(|s| s.answer_score).collect::<Vec<_>>()),
            );
            m.insert(
                "eval/format_score".into(),
                mean(&scored.iter().map(|s| s.format_score).collect::<Vec<_>>()),
            );
            m.insert(
                "eval/completions/mean_length".into(),
                mean(&es.iter().map(|s| s.tokens.len() as f64).collect::<Vec<_>>()),
            );
            per_constraint(&mut m, "eval/rewards", scored.into_iter());
            rollouts.extend(es.iter().map(|s| self.to_rollout(step, s, &idx, true)));
        }
        m.insert("step_time".into(), t_step.elapsed().as_secs_f64());

        let want_ckpt = self.save_now
            || self.stop
            || step == self.last_step
            || (self.cfg.train.checkpoint_every > 0
                && step.is_multiple_of(self.cfg.train.checkpoint_every as u64));
        let checkpoint = if want_ckpt {
            Some(self.make_checkpoint(step)?)
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
                let all = self.store.checkpoints(&self.run_id)?;
                if all.len() > keep {
                    for old in &all[..all.len() - keep] {
                        self.store.delete_checkpoint(&self.run_id, old.step)?;
                    }
                }
            }
        }
        self.events
            .send(TrainerEvent::StepMetrics { step, metrics: m });
        Ok(())
    }

    fn to_rollout(&self, step: u64, s: &Sample, records: &[usize], heldout: bool) -> Rollout {
        let rec = if heldout {
            &self.heldout[records[s.prompt_index]]
        } else {
            &self.train[records[s.prompt_index]]
        };
        let sc = s.scored.clone().unwrap_or_else(unreachable_scored);
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

fn unreachable_scored() -> Scored {
    Scored {
        reasoning: None,
        answer: None,
        format_ok: false,
        unscorable: Some("not scored".into()),
        satisfied: 0,
        total: 0,
        answer_score: -2.0,
        format_score: -1.0,
        reward: -3.0,
        verdicts: Vec::new(),
    }
}

/// `<prefix>/<constraint id>/mean`: the pass rate of each constraint type.
fn per_constraint(m: &mut Metrics, prefix: &str, scored: impl Iterator<Item = Scored>) {
    let mut counts: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for s in scored {
        for v in s.verdicts.iter().filter(|v| v.role == "constraint") {
            let e = counts.entry(v.id.clone()).or_default();
            e.0 += f64::from(u8::from(v.pass));
            e.1 += 1.0;
        }
    }
    for (id, (pass, n)) in counts {
        m.insert(format!("{prefix}/{id}/mean"), pass / n);
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
