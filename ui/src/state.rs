//! What every view may read: the training run of this workbench (its phase, step and
//! throughput), where a run's warm-up ends, and the parsing of typed ranges. A leaf: it
//! imports no other module of the crate.

use raif_store::{Metrics, RunInfo};

#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Idle,
    Starting,
    Running,
    Paused,
    Stopping,
    Finished,
    Failed(String),
}

impl Phase {
    /// A trainer thread is alive (or about to be).
    pub fn active(&self) -> bool {
        matches!(
            self,
            Phase::Starting | Phase::Running | Phase::Paused | Phase::Stopping
        )
    }
    pub fn name(&self) -> &str {
        match self {
            Phase::Idle => "idle",
            Phase::Starting => "starting",
            Phase::Running => "training",
            Phase::Paused => "paused",
            Phase::Stopping => "stopping",
            Phase::Finished => "finished",
            Phase::Failed(_) => "failed",
        }
    }
}

/// The run being trained in this workbench.
#[derive(Clone, Debug)]
pub struct TrainState {
    pub phase: Phase,
    pub run_id: Option<String>,
    pub model: String,
    pub total_steps: u64,
    /// Steps 1..=warmup_steps are the warm-up (behaviour cloning); GRPO follows.
    pub warmup_steps: u64,
    pub step: u64,
    pub steps_done: u64,
    pub trainable: usize,
    pub prompts_per_step: usize,
    pub group_size: usize,
    pub step_started_ms: u64,
    /// Token deltas received this step.
    pub step_tokens: u64,
    pub tokens_per_s: f64,
    pub last_checkpoint: Option<u64>,
    pub last_metrics: Option<Metrics>,
}

impl TrainState {
    /// The step shown for the run: the one running, else the last one done.
    pub fn current_step(&self) -> u64 {
        self.step.max(self.steps_done)
    }
    /// `warm-up 7/20` or `GRPO 12/50` (None for a run without a warm-up).
    pub fn phase_label(&self) -> Option<String> {
        phase_label(self.current_step(), self.warmup_steps, self.total_steps)
    }
    /// The current step is a warm-up (behaviour cloning) step: no rollouts.
    pub fn in_warmup(&self) -> bool {
        self.warmup_steps > 0 && self.current_step() <= self.warmup_steps
    }
}

/// Where `step` of a run of `total` steps, the first `warmup` of them a warm-up, sits:
/// `warm-up 7/20` (steps 1..=warmup) or `GRPO 12/50` (counted from the first GRPO step).
/// None without a warm-up: the whole run is GRPO and its step says everything.
pub fn phase_label(step: u64, warmup: u64, total: u64) -> Option<String> {
    if warmup == 0 {
        return None;
    }
    Some(if step <= warmup {
        format!("warm-up {step}/{warmup}")
    } else {
        format!(
            "GRPO {}/{}",
            step - warmup,
            total.saturating_sub(warmup).max(step - warmup)
        )
    })
}

/// Warm-up steps of a stored run, from its configuration (`warmup.steps`; missing: 0).
pub fn run_warmup_steps(info: &RunInfo) -> u64 {
    info.config
        .get("warmup")
        .and_then(|w| w.get("steps"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

/// All steps of a stored run (warm-up and GRPO), from its configuration, or at least its
/// last committed step.
pub fn run_total_steps(info: &RunInfo) -> u64 {
    let grpo = info
        .config
        .get("train")
        .and_then(|t| t.get("steps"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    (run_warmup_steps(info) + grpo).max(info.last_step.unwrap_or(0))
}

/// Where the warm-up ends and GRPO begins, as the `phase` metric (0 warm-up, 1 GRPO) says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhaseBounds {
    /// The last step seen with `phase` = 0.
    pub last_warmup: Option<u64>,
    /// The first step seen with `phase` = 1.
    pub first_grpo: Option<u64>,
}

impl PhaseBounds {
    /// Note the `phase` metric of `step`.
    pub fn record(&mut self, step: u64, m: &Metrics) {
        let Some(&p) = m.get("phase") else { return };
        if !p.is_finite() {
            return;
        }
        if p < 0.5 {
            self.last_warmup = Some(self.last_warmup.map_or(step, |s| s.max(step)));
        } else {
            self.first_grpo = Some(self.first_grpo.map_or(step, |s| s.min(step)));
        }
    }
    /// The first GRPO step of a run that had warm-up steps (None without a warm-up).
    pub fn grpo_start(&self) -> Option<u64> {
        self.last_warmup.and(self.first_grpo)
    }
}

impl Default for TrainState {
    fn default() -> Self {
        TrainState {
            phase: Phase::Idle,
            run_id: None,
            model: String::new(),
            total_steps: 0,
            warmup_steps: 0,
            step: 0,
            steps_done: 0,
            trainable: 0,
            prompts_per_step: 0,
            group_size: 0,
            step_started_ms: 0,
            step_tokens: 0,
            tokens_per_s: 0.0,
            last_checkpoint: None,
            last_metrics: None,
        }
    }
}

/// `A..B`, `A..`, `..B` or `A` (both ends the same).
pub fn parse_range_f64(s: &str) -> Result<(Option<f64>, Option<f64>), String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok((None, None));
    }
    let bad = || format!("`{s}` is not a range like -1..2.5, 1.. or ..0");
    let p = |x: &str| -> Result<Option<f64>, String> {
        let x = x.trim();
        if x.is_empty() {
            Ok(None)
        } else {
            x.parse::<f64>().map(Some).map_err(|_| bad())
        }
    };
    match s.split_once("..") {
        Some((a, b)) => Ok((p(a)?, p(b)?)),
        None => {
            let v = p(s)?;
            Ok((v, v))
        }
    }
}
