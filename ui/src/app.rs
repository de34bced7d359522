//! The workbench state. It changes only in [`App::update`], from [`Action`]s; rendering reads
//! it and nothing else (a pure function of this snapshot).

use std::collections::{BTreeMap, VecDeque};

use raif_model::fetch::CachedModel;
use raif_rl::config::{AnswerFormat, RunConfig, PRESETS};
use raif_rl::store::{EvalRun, Metrics, Rollout, RolloutFilter, RunInfo};
use raif_rl::trainer::{TrainerCommand, TrainerEvent};

use crate::action::{Action, InputTarget, Request, RolloutKey, View};
use crate::select::SelectList;
use crate::series::Series;
pub use crate::state::{
    phase_label, run_total_steps, run_warmup_steps, Phase, PhaseBounds, TrainState,
};

/// Lines of log kept.
const LOG_LINES: usize = 200;
/// Characters of a streaming sequence kept (its tail).
const STREAM_CHARS: usize = 16 * 1024;
/// Finished rollouts kept for the live view (one step's worth and more).
const LIVE_ROLLOUTS: usize = 4096;
/// Rollouts a filtered replay search returns at most.
pub const SCAN_LIMIT: usize = 2000;
/// Smoothing weights offered by Curves.
pub const SMOOTHING: [f64; 5] = [0.0, 0.6, 0.8, 0.9, 0.97];

#[derive(Clone, Debug)]
pub struct LiveState {
    pub step: u64,
    pub prompts: Vec<String>,
    /// Text generated so far by each sequence of the current step (its tail).
    pub streams: BTreeMap<(u32, u32), String>,
    pub last_stream: Option<(u32, u32)>,
    /// Finished rollouts of `rollouts_step`.
    pub rollouts: Vec<Rollout>,
    pub rollouts_step: u64,
    pub selected: usize,
    /// The selection follows the newest rollout.
    pub follow: bool,
    pub show_reasoning: bool,
    pub show_breakdown: bool,
}

impl Default for LiveState {
    fn default() -> Self {
        LiveState {
            step: 0,
            prompts: Vec::new(),
            streams: BTreeMap::new(),
            last_stream: None,
            rollouts: Vec::new(),
            rollouts_step: 0,
            selected: 0,
            follow: true,
            show_reasoning: false,
            show_breakdown: true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GroupSort {
    #[default]
    Sample,
    Reward,
    Advantage,
    Length,
}

impl GroupSort {
    pub fn name(self) -> &'static str {
        match self {
            GroupSort::Sample => "sample",
            GroupSort::Reward => "reward",
            GroupSort::Advantage => "advantage",
            GroupSort::Length => "length",
        }
    }
    fn next(self) -> Self {
        match self {
            GroupSort::Sample => GroupSort::Reward,
            GroupSort::Reward => GroupSort::Advantage,
            GroupSort::Advantage => GroupSort::Length,
            GroupSort::Length => GroupSort::Sample,
        }
    }
}

/// All G samples of one prompt (from the live step or a replayed one).
#[derive(Clone, Debug, Default)]
pub struct GroupState {
    pub run: Option<String>,
    pub step: u64,
    /// The whole step, so that prompts can be jumped between.
    pub step_rollouts: Vec<Rollout>,
    pub prompt: u32,
    pub sort: GroupSort,
    pub selected: usize,
    pub show_reasoning: bool,
    pub back: Option<View>,
}

impl GroupState {
    /// The samples of the chosen prompt in the chosen order.
    pub fn members(&self) -> Vec<&Rollout> {
        let mut m: Vec<&Rollout> = self
            .step_rollouts
            .iter()
            .filter(|r| r.prompt_index == self.prompt)
            .collect();
        match self.sort {
            GroupSort::Sample => m.sort_by_key(|r| r.sample),
            GroupSort::Reward => {
                m.sort_by(|a, b| b.reward.total_cmp(&a.reward).then(a.sample.cmp(&b.sample)))
            }
            GroupSort::Advantage => m.sort_by(|a, b| {
                b.advantage
                    .total_cmp(&a.advantage)
                    .then(a.sample.cmp(&b.sample))
            }),
            GroupSort::Length => m.sort_by(|a, b| {
                b.tokens
                    .len()
                    .cmp(&a.tokens.len())
                    .then(a.sample.cmp(&b.sample))
            }),
        }
        m
    }
    pub fn prompt_indices(&self) -> Vec<u32> {
        let mut p: Vec<u32> = self.step_rollouts.iter().map(|r| r.prompt_index).collect();
        p.sort_unstable();
        p.dedup();
        p
    }
    pub fn selected_rollout(&self) -> Option<&Rollout> {
        self.members().get(self.selected).copied()
    }
}

#[derive(Clone, Debug)]
pub struct CurvesState {
    /// The metrics of the run being trained here.
    pub live: BTreeMap<String, Series>,
    /// Where the live run's warm-up ends (from its `phase` metric).
    pub live_phases: PhaseBounds,
    /// A run opened from Replay: (id, metrics); shown instead of `live` while set.
    pub other: Option<(String, BTreeMap<String, Series>)>,
    /// Its warm-up steps (from its configuration) and where its warm-up ends (its metrics).
    pub other_warmup: u64,
    pub other_phases: PhaseBounds,
    pub selected: usize,
    pub smoothing: usize,
    pub band: bool,
    pub frozen: Option<(u64, u64)>,
    pub zoom: Option<(u64, u64)>,
    pub small_multiples: bool,
}

impl Default for CurvesState {
    fn default() -> Self {
        CurvesState {
            live: BTreeMap::new(),
            live_phases: PhaseBounds::default(),
            other: None,
            other_warmup: 0,
            other_phases: PhaseBounds::default(),
            selected: 0,
            smoothing: 1,
            band: true,
            frozen: None,
            zoom: None,
            small_multiples: false,
        }
    }
}

impl CurvesState {
    pub fn shown(&self) -> &BTreeMap<String, Series> {
        match &self.other {
            Some((_, s)) => s,
            None => &self.live,
        }
    }
    /// Every metric, per-constraint pass rates last.
    pub fn keys(&self) -> Vec<&String> {
        let (mut main, mut per): (Vec<&String>, Vec<&String>) =
            self.shown().keys().partition(|k| !is_per_constraint(k));
        main.append(&mut per);
        main
    }
    pub fn selected_key(&self) -> Option<&String> {
        self.keys().get(self.selected).copied()
    }
    /// The steps all shown data covers.
    pub fn full_range(&self) -> Option<(u64, u64)> {
        self.shown()
            .values()
            .filter_map(|s| s.range())
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    }
    /// The steps on screen: the zoom, else the frozen range, else everything.
    pub fn visible(&self) -> Option<(u64, u64)> {
        self.zoom.or(self.frozen).or_else(|| self.full_range())
    }
    /// The first GRPO step of the shown run when it had a warm-up: from the `phase` metric,
    /// else from the configuration (`live_warmup`: the live run's warm-up steps).
    pub fn grpo_start(&self, live_warmup: u64) -> Option<u64> {
        let (bounds, warmup) = match &self.other {
            Some(_) => (self.other_phases, self.other_warmup),
            None => (self.live_phases, live_warmup),
        };
        bounds
            .grpo_start()
            .or_else(|| (warmup > 0).then_some(warmup + 1))
    }
    pub fn alpha(&self) -> f64 {
        SMOOTHING[self.smoothing.min(SMOOTHING.len() - 1)]
    }
}

/// `rewards/<id>/mean` and `eval/rewards/<id>/mean`.
pub fn is_per_constraint(key: &str) -> bool {
    (key.starts_with("rewards/") || key.starts_with("eval/rewards/")) && key.ends_with("/mean")
}

fn add_metrics(
    series: &mut BTreeMap<String, Series>,
    phases: &mut PhaseBounds,
    step: u64,
    m: &Metrics,
) {
    phases.record(step, m);
    for (k, v) in m {
        series.entry(k.clone()).or_default().push(step, *v);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReplayLevel {
    #[default]
    Runs,
    Steps,
    Prompts,
    Rollouts,
    /// A filtered search over the whole run.
    Results,
    /// One prompt's answers across steps.
    Evolution,
}

#[derive(Clone, Debug, Default)]
pub struct ReplayState {
    pub level: ReplayLevel,
    pub runs: Vec<RunInfo>,
    pub run_sel: usize,
    pub steps: Vec<u64>,
    /// Mean reward of each step (from its metrics).
    pub step_rewards: BTreeMap<u64, f64>,
    /// Where the loaded run's warm-up ends, from its `phase` metric.
    pub phases: PhaseBounds,
    pub step_sel: usize,
    /// The rollouts of the selected step.
    pub step_rollouts: Vec<Rollout>,
    pub loaded_step: Option<u64>,
    pub prompt_sel: usize,
    pub roll_sel: usize,
    pub filter: RolloutFilter,
    pub results: Vec<Rollout>,
    pub truncated: bool,
    pub result_sel: usize,
    pub evolution: Vec<Rollout>,
    pub evo_prompt: String,
    pub evo_sel: usize,
    pub loading: bool,
    pub show_reasoning: bool,
}

impl ReplayState {
    pub fn run(&self) -> Option<&RunInfo> {
        self.runs.get(self.run_sel)
    }
    /// (warm-up steps, all steps) of the selected run: its configuration, or its `phase`
    /// metric for a run whose configuration does not say.
    pub fn run_phases(&self) -> Option<(u64, u64)> {
        let run = self.run()?;
        let warmup = match run_warmup_steps(run) {
            0 => self.phases.grpo_start().map_or(0, |g| g - 1),
            w => w,
        };
        Some((warmup, run_total_steps(run)))
    }
    /// `warm-up 2/2` or `GRPO 1/3` for a step of the selected run (None without a warm-up).
    pub fn step_phase(&self, step: u64) -> Option<String> {
        let (warmup, total) = self.run_phases()?;
        phase_label(step, warmup, total)
    }
    pub fn filter_active(&self) -> bool {
        let f = &self.filter;
        f.failed_constraint.is_some()
            || f.reward_min.is_some()
            || f.reward_max.is_some()
            || f.kept.is_some()
            || f.no_think.is_some()
            || f.text.is_some()
    }
    /// Prompt indices of the loaded step.
    pub fn prompts(&self) -> Vec<u32> {
        let mut p: Vec<u32> = self.step_rollouts.iter().map(|r| r.prompt_index).collect();
        p.dedup();
        p.sort_unstable();
        p.dedup();
        p
    }
    pub fn prompt_rollouts(&self) -> Vec<&Rollout> {
        match self.prompts().get(self.prompt_sel) {
            Some(&p) => self
                .step_rollouts
                .iter()
                .filter(|r| r.prompt_index == p)
                .collect(),
            None => Vec::new(),
        }
    }
    /// The rollout the right-hand pane shows.
    pub fn selected_rollout(&self) -> Option<&Rollout> {
        match self.level {
            ReplayLevel::Rollouts => self.prompt_rollouts().get(self.roll_sel).copied(),
            ReplayLevel::Prompts => self.prompt_rollouts().first().copied(),
            ReplayLevel::Results => self.results.get(self.result_sel),
            ReplayLevel::Evolution => self.evolution.get(self.evo_sel),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenColour {
    #[default]
    LogProb,
    Entropy,
}

#[derive(Clone, Debug, Default)]
pub struct TokensState {
    pub rollout: Option<Rollout>,
    pub model: String,
    /// Decoded pieces, once the worker has loaded the tokenizer.
    pub texts: Option<Result<Vec<String>, String>>,
    pub selected: usize,
    pub colour: TokenColour,
    pub back: Option<View>,
}

/// One line of the launch form.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub value: String,
    /// Values ←/→ cycle through (free text when empty, or also editable with Enter).
    pub choices: Vec<String>,
    pub help: &'static str,
}

impl Field {
    fn new(name: &'static str, value: String, choices: &[&str], help: &'static str) -> Field {
        Field {
            name,
            value,
            choices: choices.iter().map(|c| c.to_string()).collect(),
            help,
        }
    }

    /// The value as the configuration reads it.
    fn text(&self) -> &str {
        self.value.trim()
    }

    /// The value as a number, or an error naming the field.
    fn number<T: std::str::FromStr>(&self) -> Result<T, String> {
        let v = self.text();
        v.parse::<T>()
            .map_err(|_| format!("{}: `{v}` is not a valid number", self.name))
    }
}

/// The lines of the launch form, in the order shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldId {
    Model,
    Data,
    Preset,
    Steps,
    PromptsPerStep,
    GroupSize,
    LearningRate,
    MaxNewTokens,
    Format,
    Seed,
    Device,
}

impl FieldId {
    pub const ALL: [FieldId; 11] = [
        FieldId::Model,
        FieldId::Data,
        FieldId::Preset,
        FieldId::Steps,
        FieldId::PromptsPerStep,
        FieldId::GroupSize,
        FieldId::LearningRate,
        FieldId::MaxNewTokens,
        FieldId::Format,
        FieldId::Seed,
        FieldId::Device,
    ];

    /// Enter types a value even though ←/→ offer choices (a path can be anything).
    pub fn typed(self) -> bool {
        matches!(self, FieldId::Model | FieldId::Data)
    }
}

/// The launch form: one named field per setting, the rows in [`FieldId::ALL`] order.
#[derive(Clone, Debug)]
pub struct LaunchState {
    pub model: Field,
    pub data: Field,
    pub preset: Field,
    pub steps: Field,
    pub prompts_per_step: Field,
    pub group_size: Field,
    pub learning_rate: Field,
    pub max_new_tokens: Field,
    pub format: Field,
    pub seed: Field,
    pub device: Field,
    /// The rows, one selected.
    pub rows: SelectList<FieldId>,
    pub models: Vec<CachedModel>,
    pub fetching: bool,
}

impl LaunchState {
    pub fn new(model: Option<&str>, preset: Option<&str>) -> Self {
        let p = preset.unwrap_or("tiny").to_string();
        let cfg = RunConfig::preset(&p).or_else(|_| RunConfig::preset("tiny"));
        let blank = String::new;
        let mut s = LaunchState {
            model: Field::new(
                "model",
                model.unwrap_or("default").to_string(),
                &["default"],
                "default, a cached model, a .gguf file or an HF folder (Enter to type)",
            ),
            data: Field::new(
                "data",
                "generated".into(),
                &["generated"],
                "generated, or a JSONL file of records (Enter to type)",
            ),
            preset: Field::new(
                "preset",
                p,
                &PRESETS[..],
                "grpo, raif (grpo + superior CoT + BC) or tiny (CPU-sized)",
            ),
            steps: Field::new("steps", blank(), &[], "rollout steps"),
            prompts_per_step: Field::new(
                "prompts per step",
                blank(),
                &[],
                "prompts sampled per step",
            ),
            group_size: Field::new("group size", blank(), &[], "G: samples per prompt"),
            learning_rate: Field::new("learning rate", blank(), &[], "peak learning rate"),
            max_new_tokens: Field::new("max new tokens", blank(), &[], "tokens per response"),
            format: Field::new(
                "format",
                blank(),
                &["think", "plain"],
                "think (<think>/<answer>) or plain",
            ),
            seed: Field::new("seed", blank(), &[], "run seed"),
            device: Field::new(
                "device",
                blank(),
                &["auto", "cpu", "cuda"],
                "auto, cpu, cuda or cuda:N",
            ),
            rows: FieldId::ALL.to_vec().into(),
            models: Vec::new(),
            fetching: false,
        };
        if let Ok(c) = cfg {
            s.fill_from(&c);
        }
        s
    }

    pub fn field(&self, id: FieldId) -> &Field {
        match id {
            FieldId::Model => &self.model,
            FieldId::Data => &self.data,
            FieldId::Preset => &self.preset,
            FieldId::Steps => &self.steps,
            FieldId::PromptsPerStep => &self.prompts_per_step,
            FieldId::GroupSize => &self.group_size,
            FieldId::LearningRate => &self.learning_rate,
            FieldId::MaxNewTokens => &self.max_new_tokens,
            FieldId::Format => &self.format,
            FieldId::Seed => &self.seed,
            FieldId::Device => &self.device,
        }
    }

    pub fn field_mut(&mut self, id: FieldId) -> &mut Field {
        match id {
            FieldId::Model => &mut self.model,
            FieldId::Data => &mut self.data,
            FieldId::Preset => &mut self.preset,
            FieldId::Steps => &mut self.steps,
            FieldId::PromptsPerStep => &mut self.prompts_per_step,
            FieldId::GroupSize => &mut self.group_size,
            FieldId::LearningRate => &mut self.learning_rate,
            FieldId::MaxNewTokens => &mut self.max_new_tokens,
            FieldId::Format => &mut self.format,
            FieldId::Seed => &mut self.seed,
            FieldId::Device => &mut self.device,
        }
    }

    /// The selected row's field.
    pub fn selected(&self) -> Option<&Field> {
        self.rows.selected().map(|id| self.field(*id))
    }

    /// Reset the hyperparameter fields to a configuration's values.
    pub fn fill_from(&mut self, c: &RunConfig) {
        self.steps.value = c.train.steps.to_string();
        self.prompts_per_step.value = c.train.prompts_per_step.to_string();
        self.group_size.value = c.train.group_size.to_string();
        self.learning_rate.value = format!("{:e}", c.train.learning_rate);
        self.max_new_tokens.value = c.rollout.max_new_tokens.to_string();
        self.format.value = match c.rollout.format {
            AnswerFormat::Think => "think".into(),
            AnswerFormat::Plain => "plain".into(),
        };
        self.seed.value = c.train.seed.to_string();
        self.device.value = c.model.device.clone();
    }

    /// The configuration the form describes, or what is wrong with it.
    pub fn config(&self) -> Result<RunConfig, String> {
        let mut c = RunConfig::preset(self.preset.text()).map_err(|e| format!("{e:#}"))?;
        c.model.path = self.model.text().to_string();
        let data = self.data.text();
        c.data.path = if data == "generated" {
            String::new()
        } else {
            data.to_string()
        };
        c.train.steps = self.steps.number()?;
        c.train.prompts_per_step = self.prompts_per_step.number()?;
        c.train.group_size = self.group_size.number()?;
        c.train.learning_rate = self.learning_rate.number()?;
        c.rollout.max_new_tokens = self.max_new_tokens.number()?;
        c.rollout.format = match self.format.text() {
            "think" => AnswerFormat::Think,
            "plain" => AnswerFormat::Plain,
            other => return Err(format!("format: `{other}` is not think or plain")),
        };
        c.train.seed = self.seed.number()?;
        c.model.device = self.device.text().to_string();
        c.validate().map_err(|e| format!("{e:#}"))?;
        Ok(c)
    }

    /// Set the selected field (a new preset resets the hyperparameters to its values).
    fn set_selected(&mut self, value: String) {
        let Some(&id) = self.rows.selected() else {
            return;
        };
        self.field_mut(id).value = value;
        if id == FieldId::Preset {
            if let Ok(c) = RunConfig::preset(&self.preset.value) {
                self.fill_from(&c);
            }
        }
    }

    /// The selected field's next (`d` = 1) or previous (-1) choice.
    fn cycle_choice(&mut self, d: i32) {
        let Some(f) = self.selected() else { return };
        if f.choices.is_empty() {
            return;
        }
        let i = f.choices.iter().position(|c| *c == f.value).map_or(0, |i| {
            let n = f.choices.len() as i32;
            ((i as i32 + d).rem_euclid(n)) as usize
        });
        let v = f.choices[i].clone();
        self.set_selected(v);
    }
}

/// The whole workbench.
#[derive(Clone, Debug)]
pub struct App {
    pub view: View,
    pub help: bool,
    pub confirm_quit: bool,
    pub quit_when_stopped: bool,
    pub should_quit: bool,
    pub size: (u16, u16),
    pub now_ms: u64,
    pub input: Option<(InputTarget, String)>,
    /// Lines the detail pane is scrolled down.
    pub detail_scroll: u16,
    /// Lines the help overlay is scrolled down.
    pub help_scroll: u16,
    /// The latest message for the status line.
    pub message: Option<String>,
    pub log: VecDeque<String>,
    pub train: TrainState,
    pub live: LiveState,
    pub group: GroupState,
    pub curves: CurvesState,
    pub replay: ReplayState,
    pub tokens: TokensState,
    pub launch: LaunchState,
    pub evals: EvalState,
    pub compare: CompareState,
}

/// The Compare view: two stored evaluations (A, B), their items, the selected item.
#[derive(Clone, Debug, Default)]
pub struct CompareState {
    pub a: Option<(EvalRun, Vec<raif_rl::store::EvalItem>)>,
    pub b: Option<(EvalRun, Vec<raif_rl::store::EvalItem>)>,
    pub selected: usize,
}

impl CompareState {
    /// Per-item comparison of A and B (None until both are loaded).
    pub fn tally(&self) -> Option<Result<raif_rl::eval::compare::Tally, String>> {
        let (Some((_, a)), Some((_, b))) = (&self.a, &self.b) else {
            return None;
        };
        Some(raif_rl::eval::compare::compare_items(a, b).map_err(|e| format!("{e:#}")))
    }

    /// The items of A and B at the selected row of the tally.
    pub fn selected_pair(&self) -> Option<(&raif_rl::store::EvalItem, &raif_rl::store::EvalItem)> {
        let t = self.tally()?.ok()?;
        let row = t.rows.get(self.selected)?;
        fn find(
            s: &Option<(EvalRun, Vec<raif_rl::store::EvalItem>)>,
            index: u32,
        ) -> Option<&raif_rl::store::EvalItem> {
            s.as_ref()
                .and_then(|(_, items)| items.iter().find(|i| i.index == index))
        }
        Some((find(&self.a, row.index)?, find(&self.b, row.index)?))
    }
}

/// The Eval view: stored evaluations in table order, one selected.
#[derive(Clone, Debug, Default)]
pub struct EvalState {
    pub runs: Vec<EvalRun>,
    pub selected: usize,
    pub loaded: bool,
}

impl EvalState {
    /// Benchmark, then model or checkpoint, then mode: evaluations to compare sit together.
    pub fn set(&mut self, mut runs: Vec<EvalRun>) {
        let sel = self.runs.get(self.selected).map(|r| r.id.clone());
        runs.sort_by(|a, b| {
            (
                &a.bench,
                a.checkpoint.as_ref().unwrap_or(&a.model),
                &a.mode,
                &a.id,
            )
                .cmp(&(
                    &b.bench,
                    b.checkpoint.as_ref().unwrap_or(&b.model),
                    &b.mode,
                    &b.id,
                ))
        });
        self.selected = sel
            .and_then(|id| runs.iter().position(|r| r.id == id))
            .unwrap_or(0);
        self.runs = runs;
        self.loaded = true;
    }

    pub fn selected(&self) -> Option<&EvalRun> {
        self.runs.get(self.selected)
    }
}

fn step_sel(sel: &mut usize, len: usize, delta: i64) {
    if len == 0 {
        *sel = 0;
        return;
    }
    let v = (*sel as i64 + delta).clamp(0, len as i64 - 1);
    *sel = v as usize;
}

impl App {
    pub fn new(model: Option<&str>, preset: Option<&str>) -> Self {
        App {
            view: View::Launch,
            help: false,
            confirm_quit: false,
            quit_when_stopped: false,
            should_quit: false,
            size: (80, 24),
            now_ms: 0,
            input: None,
            detail_scroll: 0,
            help_scroll: 0,
            message: None,
            log: VecDeque::new(),
            train: TrainState::default(),
            live: LiveState::default(),
            group: GroupState::default(),
            curves: CurvesState::default(),
            replay: ReplayState::default(),
            tokens: TokensState::default(),
            launch: LaunchState::new(model, preset),
            evals: EvalState::default(),
            compare: CompareState::default(),
        }
    }

    /// The requests a fresh workbench makes.
    pub fn init(&self) -> Vec<Request> {
        vec![Request::ListRuns, Request::ListModels]
    }

    fn log_line(&mut self, s: String) {
        if self.log.len() >= LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(s.clone());
        self.message = Some(s);
    }

    /// Start training this configuration.
    pub fn start(&mut self, cfg: RunConfig) -> Vec<Request> {
        if self.train.phase.active() {
            self.message = Some("a run is already training: stop it first (X)".into());
            return vec![];
        }
        self.train = TrainState {
            phase: Phase::Starting,
            model: cfg.model.path.clone(),
            total_steps: cfg.total_steps() as u64,
            warmup_steps: cfg.warmup.steps as u64,
            prompts_per_step: cfg.train.prompts_per_step,
            group_size: cfg.train.group_size,
            ..TrainState::default()
        };
        self.live = LiveState::default();
        self.curves.live.clear();
        self.curves.live_phases = PhaseBounds::default();
        self.curves.other = None;
        self.view = View::Live;
        self.message = Some(format!(
            "starting a {} run on {} (loading the model)…",
            cfg.preset, cfg.model.path
        ));
        vec![Request::Start(Box::new(cfg))]
    }

    /// Apply one action; the answer is work for the background thread.
    pub fn update(&mut self, a: Action) -> Vec<Request> {
        let mut out = Vec::new();
        match a {
            Action::SwitchView(v) => {
                self.view = v;
                if v == View::Replay {
                    out.push(Request::ListRuns);
                }
                if v == View::Eval {
                    out.push(Request::ListEvals);
                }
            }
            Action::NextView | Action::PrevView => {
                let i = View::ALL.iter().position(|v| *v == self.view).unwrap_or(0);
                let n = View::ALL.len();
                let j = if a == Action::NextView {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.view = View::ALL[j];
                if self.view == View::Replay {
                    out.push(Request::ListRuns);
                }
                if self.view == View::Eval {
                    out.push(Request::ListEvals);
                }
            }
            Action::ToggleHelp => {
                self.help = !self.help;
                self.help_scroll = 0;
            }
            Action::Quit => {
                if self.help {
                    self.help = false;
                } else if self.train.phase.active() {
                    if self.train.phase == Phase::Stopping {
                        self.quit_when_stopped = true;
                        self.message = Some("stopping after the current step; the workbench closes when it is saved".into());
                    } else {
                        self.confirm_quit = true;
                    }
                } else {
                    self.should_quit = true;
                }
            }
            Action::ConfirmQuit(yes) => {
                self.confirm_quit = false;
                if yes {
                    self.quit_when_stopped = true;
                    out.extend(self.stop_run());
                }
            }
            Action::Back => {
                if self.help {
                    self.help = false;
                } else if self.confirm_quit {
                    self.confirm_quit = false;
                } else if self.input.is_some() {
                    self.input = None;
                } else {
                    self.back(&mut out);
                }
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Tick(ms) => self.tick(ms),
            Action::Up => self.move_sel(-1, &mut out),
            Action::Down => self.move_sel(1, &mut out),
            Action::PageUp => self.move_sel(-10, &mut out),
            Action::PageDown => self.move_sel(10, &mut out),
            Action::Top => self.move_sel(i64::MIN / 4, &mut out),
            Action::Bottom => self.move_sel(i64::MAX / 4, &mut out),
            Action::Scroll(d) if self.help => out.extend(self.update(Action::ScrollDetail(d * 3))),
            Action::Scroll(d) => self.move_sel(i64::from(d) * 3, &mut out),
            Action::ScrollDetail(d) => {
                let target = if self.help {
                    &mut self.help_scroll
                } else {
                    &mut self.detail_scroll
                };
                *target = (i64::from(*target) + i64::from(d)).clamp(0, i64::from(u16::MAX)) as u16;
            }
            Action::Left => self.left_right(-1, &mut out),
            Action::Right => self.left_right(1, &mut out),
            Action::Enter => self.enter(&mut out),
            Action::StartInput(t) => {
                let init = match t {
                    InputTarget::Search => self.replay.filter.text.clone().unwrap_or_default(),
                    InputTarget::FailedConstraint => self
                        .replay
                        .filter
                        .failed_constraint
                        .clone()
                        .unwrap_or_default(),
                    InputTarget::RewardRange => {
                        match (self.replay.filter.reward_min, self.replay.filter.reward_max) {
                            (None, None) => String::new(),
                            (a, b) => format!(
                                "{}..{}",
                                a.map(|x| x.to_string()).unwrap_or_default(),
                                b.map(|x| x.to_string()).unwrap_or_default()
                            ),
                        }
                    }
                    InputTarget::LaunchField => self
                        .launch
                        .selected()
                        .map(|f| f.value.clone())
                        .unwrap_or_default(),
                    InputTarget::ZoomRange => self
                        .curves
                        .visible()
                        .map(|(a, b)| format!("{a}..{b}"))
                        .unwrap_or_default(),
                };
                self.input = Some((t, init));
            }
            Action::InputChar(c) => {
                if let Some((_, s)) = &mut self.input {
                    if s.len() < 512 {
                        s.push(c);
                    }
                }
            }
            Action::InputBackspace => {
                if let Some((_, s)) = &mut self.input {
                    s.pop();
                }
            }
            Action::InputSubmit => {
                if let Some((t, s)) = self.input.take() {
                    self.submit_input(t, s, &mut out);
                }
            }
            Action::StartRun => match self.launch.config() {
                Ok(c) => out.extend(self.start(c)),
                Err(e) => {
                    self.view = View::Launch;
                    self.message = Some(format!("cannot start: {e}"));
                }
            },
            Action::PauseResume => match self.train.phase {
                Phase::Running | Phase::Starting => {
                    out.push(Request::Command(TrainerCommand::Pause));
                    self.message = Some("pausing at the next chunk…".into());
                }
                Phase::Paused => out.push(Request::Command(TrainerCommand::Resume)),
                _ => self.message = Some("no run is training".into()),
            },
            Action::StopRun => out.extend(self.stop_run()),
            Action::SaveNow => {
                if self.train.phase.active() {
                    out.push(Request::Command(TrainerCommand::SaveNow));
                    self.message =
                        Some("a checkpoint will be saved at the end of this step".into());
                } else {
                    self.message = Some("no run is training".into());
                }
            }
            Action::FetchDefaultModel => {
                if !self.launch.fetching {
                    self.launch.fetching = true;
                    self.log_line("fetching the default model…".into());
                    out.push(Request::FetchDefault);
                }
            }
            Action::ToggleReasoning => match self.view {
                View::Live => self.live.show_reasoning = !self.live.show_reasoning,
                View::Group => self.group.show_reasoning = !self.group.show_reasoning,
                View::Replay => self.replay.show_reasoning = !self.replay.show_reasoning,
                _ => {}
            },
            Action::ToggleBreakdown => self.live.show_breakdown = !self.live.show_breakdown,
            Action::ToggleFollow => {
                self.live.follow = !self.live.follow;
                if self.live.follow {
                    self.live.selected = self.live.rollouts.len().saturating_sub(1);
                }
            }
            Action::OpenGroup => self.open_group(),
            Action::OpenTokens => out.extend(self.open_tokens()),
            Action::NextPrompt | Action::PrevPrompt => {
                let ps = self.group.prompt_indices();
                if let Some(i) = ps.iter().position(|p| *p == self.group.prompt) {
                    let d: i64 = if a == Action::NextPrompt { 1 } else { -1 };
                    let mut j = i;
                    step_sel(&mut j, ps.len(), d);
                    self.group.prompt = ps[j];
                    self.group.selected = 0;
                }
            }
            Action::CycleSort => self.group.sort = self.group.sort.next(),
            Action::CycleSmoothing => {
                self.curves.smoothing = (self.curves.smoothing + 1) % SMOOTHING.len()
            }
            Action::ToggleBand => self.curves.band = !self.curves.band,
            Action::ToggleFreeze => {
                self.curves.frozen = match self.curves.frozen {
                    Some(_) => None,
                    None => self.curves.visible(),
                };
            }
            Action::ToggleSmallMultiples => {
                self.curves.small_multiples = !self.curves.small_multiples
            }
            Action::ZoomIn | Action::ZoomOut => {
                if let Some((lo, hi)) = self.curves.visible() {
                    let (flo, fhi) = self.curves.full_range().unwrap_or((lo, hi));
                    let span = hi.saturating_sub(lo).max(1);
                    let mid = lo + span / 2;
                    let half = if a == Action::ZoomIn {
                        (span / 4).max(2)
                    } else {
                        span
                    };
                    let nlo = mid.saturating_sub(half).max(flo.min(lo));
                    let nhi = (mid + half).min(fhi.max(hi));
                    self.curves.zoom = Some((nlo, nhi.max(nlo + 1)));
                }
            }
            Action::ZoomReset => self.curves.zoom = None,
            Action::CycleKeptFilter => {
                self.replay.filter.kept = match self.replay.filter.kept {
                    None => Some(true),
                    Some(true) => Some(false),
                    Some(false) => None,
                };
                self.rescan(&mut out);
            }
            Action::CycleNoThinkFilter => {
                self.replay.filter.no_think = match self.replay.filter.no_think {
                    None => Some(true),
                    Some(true) => Some(false),
                    Some(false) => None,
                };
                self.rescan(&mut out);
            }
            Action::ClearFilters => {
                self.replay.filter = RolloutFilter::default();
                self.replay.results.clear();
                if matches!(self.replay.level, ReplayLevel::Results) {
                    self.replay.level = ReplayLevel::Steps;
                }
            }
            Action::OpenEvolution => {
                let target = match self.view {
                    View::Replay => self.replay.selected_rollout().map(|r| r.prompt_id.clone()),
                    _ => None,
                };
                match (target, self.replay.run().map(|r| r.id.clone())) {
                    (Some(pid), Some(run)) => {
                        self.replay.loading = true;
                        self.replay.evo_prompt = pid.clone();
                        out.push(Request::Evolution {
                            run,
                            prompt_id: pid,
                        });
                    }
                    _ => self.message = Some("select a rollout first".into()),
                }
            }
            Action::Refresh if self.view == View::Eval => out.push(Request::ListEvals),
            Action::Refresh => {
                out.push(Request::ListRuns);
                if let Some(r) = self.replay.run() {
                    out.push(Request::LoadRun(r.id.clone()));
                }
            }
            Action::OpenRunCurves => {
                if let Some(r) = self.replay.run() {
                    out.push(Request::LoadRun(r.id.clone()));
                    self.curves.other = Some((r.id.clone(), BTreeMap::new()));
                    self.curves.other_warmup = run_warmup_steps(r);
                    self.curves.other_phases = PhaseBounds::default();
                    self.curves.zoom = None;
                    self.curves.frozen = None;
                    self.curves.selected = 0;
                    self.view = View::Curves;
                }
            }
            Action::CycleTokenColour => {
                self.tokens.colour = match self.tokens.colour {
                    TokenColour::LogProb => TokenColour::Entropy,
                    TokenColour::Entropy => TokenColour::LogProb,
                }
            }
            Action::CycleChoice(d) => self.launch.cycle_choice(d),

            // From the worker.
            Action::Trainer(events, tokens) => {
                for e in events {
                    // The run exists in the store once the trainer has started.
                    if matches!(
                        e,
                        TrainerEvent::Started { .. } | TrainerEvent::Finished { .. }
                    ) {
                        out.push(Request::ListRuns);
                    }
                    self.on_event(e);
                }
                self.train.step_tokens += tokens;
            }
            Action::TrainerSpawned { run_id } => {
                self.train.run_id = Some(run_id.clone());
                self.message = Some(format!("run {run_id}: loading the model…"));
                out.push(Request::ListRuns);
            }
            Action::TrainerExited(r) => {
                if self.train.phase.active() {
                    self.train.phase = match r {
                        Ok(_) => Phase::Finished,
                        Err(e) => Phase::Failed(e),
                    };
                }
                if self.quit_when_stopped {
                    self.should_quit = true;
                }
                out.push(Request::ListRuns);
            }
            Action::Evals(runs) => self.evals.set(runs),
            Action::MarkCompare(is_a) => {
                if let Some(r) = self.evals.selected().cloned() {
                    self.message = Some(format!(
                        "{} is side {} of Compare (8)",
                        r.id,
                        if is_a { "A" } else { "B" }
                    ));
                    out.push(Request::EvalItems(r.id.clone()));
                    let slot = if is_a {
                        &mut self.compare.a
                    } else {
                        &mut self.compare.b
                    };
                    *slot = Some((r, Vec::new()));
                    self.compare.selected = 0;
                }
            }
            Action::EvalItems { id, items } => {
                for slot in [&mut self.compare.a, &mut self.compare.b] {
                    if let Some((r, its)) = slot.as_mut() {
                        if r.id == id {
                            *its = items.clone();
                        }
                    }
                }
            }
            Action::Runs(runs) => {
                let keep = self.replay.run().map(|r| r.id.clone());
                self.replay.runs = runs;
                if let Some(id) = keep {
                    if let Some(i) = self.replay.runs.iter().position(|r| r.id == id) {
                        self.replay.run_sel = i;
                    }
                }
                step_sel(&mut self.replay.run_sel, self.replay.runs.len(), 0);
            }
            Action::RunLoaded {
                run,
                steps,
                metrics,
            } => {
                if self.replay.run().is_some_and(|r| r.id == run) {
                    self.replay.steps = steps;
                    self.replay.step_rewards = metrics
                        .iter()
                        .filter_map(|(s, m)| Some((*s, *m.get("reward")?)))
                        .collect();
                    self.replay.phases = PhaseBounds::default();
                    for (s, m) in &metrics {
                        self.replay.phases.record(*s, m);
                    }
                    step_sel(&mut self.replay.step_sel, self.replay.steps.len(), 0);
                    self.replay.loading = false;
                }
                if let Some((id, series)) = &mut self.curves.other {
                    if *id == run {
                        series.clear();
                        self.curves.other_phases = PhaseBounds::default();
                        for (s, m) in &metrics {
                            add_metrics(series, &mut self.curves.other_phases, *s, m);
                        }
                    }
                }
            }
            Action::StepLoaded {
                run,
                step,
                rollouts,
            } => {
                if self.replay.run().is_some_and(|r| r.id == run) {
                    self.replay.loaded_step = Some(step);
                    self.replay.step_rollouts = rollouts;
                    self.replay.loading = false;
                    let n = self.replay.prompts().len();
                    step_sel(&mut self.replay.prompt_sel, n, 0);
                    let n = self.replay.prompt_rollouts().len();
                    step_sel(&mut self.replay.roll_sel, n, 0);
                }
            }
            Action::ScanDone {
                run,
                filter,
                rollouts,
                truncated,
            } => {
                if self.replay.run().is_some_and(|r| r.id == run) && filter == self.replay.filter {
                    self.replay.results = rollouts;
                    self.replay.truncated = truncated;
                    self.replay.result_sel = 0;
                    self.replay.loading = false;
                }
            }
            Action::EvolutionLoaded {
                run,
                prompt_id,
                rollouts,
            } => {
                if self.replay.run().is_some_and(|r| r.id == run)
                    && prompt_id == self.replay.evo_prompt
                {
                    self.replay.evolution = rollouts;
                    self.replay.evo_sel = 0;
                    self.replay.loading = false;
                    self.replay.level = ReplayLevel::Evolution;
                }
            }
            Action::TokenTexts { key, texts } => {
                if self
                    .tokens
                    .rollout
                    .as_ref()
                    .is_some_and(|r| (r.step, r.prompt_index, r.sample) == key)
                {
                    self.tokens.texts = Some(texts);
                }
            }
            Action::Models(models) => {
                let mut choices = vec!["default".to_string()];
                choices.extend(models.iter().map(|m| m.path.display().to_string()));
                self.launch.model.choices = choices;
                self.launch.models = models;
            }
            Action::FetchFinished(r) => {
                self.launch.fetching = false;
                out.push(Request::ListModels);
                self.log_line(match r {
                    Ok(o) => format!("fetch done: {o}"),
                    Err(e) => format!("fetch failed: {e}"),
                });
            }
            Action::Log(s) => self.log_line(s),
            Action::Error(e) => {
                self.replay.loading = false;
                self.log_line(format!("error: {e}"));
            }
        }
        out
    }

    fn stop_run(&mut self) -> Vec<Request> {
        if self.train.phase.active() && self.train.phase != Phase::Stopping {
            self.train.phase = Phase::Stopping;
            self.message = Some("stopping after the current step, with a checkpoint…".into());
            vec![Request::Command(TrainerCommand::Stop)]
        } else if self.train.phase == Phase::Stopping {
            vec![]
        } else {
            if self.quit_when_stopped {
                self.should_quit = true;
            }
            self.message = Some("no run is training".into());
            vec![]
        }
    }

    fn tick(&mut self, ms: u64) {
        self.now_ms = ms;
        if self.train.phase == Phase::Running {
            let dt = ms.saturating_sub(self.train.step_started_ms) as f64 / 1000.0;
            if dt > 0.0 {
                self.train.tokens_per_s = self.train.step_tokens as f64 / dt;
            }
        }
    }

    fn on_event(&mut self, e: TrainerEvent) {
        match e {
            TrainerEvent::Started {
                run_id,
                total_steps,
                warmup_steps,
                first_step,
                model,
                trainable_parameters,
            } => {
                self.train.phase = if self.train.phase == Phase::Stopping {
                    Phase::Stopping
                } else {
                    Phase::Running
                };
                self.train.run_id = Some(run_id.clone());
                self.train.total_steps = total_steps;
                self.train.warmup_steps = warmup_steps;
                self.train.steps_done = first_step.saturating_sub(1);
                self.train.model = model;
                self.train.trainable = trainable_parameters;
                self.message = Some(format!("run {run_id} started"));
            }
            TrainerEvent::StepStarted { step, prompts } => {
                self.train.step = step;
                self.train.step_started_ms = self.now_ms;
                self.train.step_tokens = 0;
                self.live.step = step;
                self.live.prompts = prompts;
                self.live.streams.clear();
                self.live.last_stream = None;
            }
            TrainerEvent::Token {
                step,
                prompt_index,
                sample,
                delta,
            } => {
                if step != self.live.step {
                    self.live.step = step;
                    self.live.streams.clear();
                }
                let s = self.live.streams.entry((prompt_index, sample)).or_default();
                s.push_str(&delta);
                if s.len() > STREAM_CHARS {
                    let mut cut = s.len() - STREAM_CHARS / 2;
                    while !s.is_char_boundary(cut) {
                        cut += 1;
                    }
                    s.drain(..cut);
                }
                self.live.last_stream = Some((prompt_index, sample));
            }
            TrainerEvent::Rollout(r) => {
                if r.step != self.live.rollouts_step {
                    self.live.rollouts.clear();
                    self.live.rollouts_step = r.step;
                    self.live.selected = 0;
                }
                self.live.streams.remove(&(r.prompt_index, r.sample));
                if self.live.rollouts.len() < LIVE_ROLLOUTS {
                    self.live.rollouts.push(*r);
                }
                if self.live.follow {
                    self.live.selected = self.live.rollouts.len() - 1;
                }
            }
            TrainerEvent::StepMetrics { step, metrics } => {
                add_metrics(
                    &mut self.curves.live,
                    &mut self.curves.live_phases,
                    step,
                    &metrics,
                );
                // Rollouts of a step get their final advantages only with the step's end:
                // the live list keeps what the events said.
                self.train.steps_done = step;
                self.train.last_metrics = Some(metrics);
            }
            TrainerEvent::CheckpointSaved { step } => {
                self.train.last_checkpoint = Some(step);
                self.log_line(format!("checkpoint saved at step {step}"));
            }
            TrainerEvent::Paused => {
                self.train.phase = Phase::Paused;
                self.message = Some("paused (Space resumes)".into());
            }
            TrainerEvent::Resumed => {
                if self.train.phase == Phase::Paused {
                    self.train.phase = Phase::Running;
                }
                self.message = Some("resumed".into());
            }
            TrainerEvent::Warning(w) => self.log_line(format!("warning: {w}")),
            TrainerEvent::Finished { last_step } => {
                self.train.phase = Phase::Finished;
                self.train.steps_done = last_step;
                self.log_line(format!("run stopped after step {last_step}"));
                if self.quit_when_stopped {
                    self.should_quit = true;
                }
            }
            TrainerEvent::Failed(e) => {
                self.train.phase = Phase::Failed(e.clone());
                self.log_line(format!("training failed: {e}"));
                if self.quit_when_stopped {
                    self.should_quit = true;
                }
            }
        }
    }

    fn back(&mut self, _out: &mut Vec<Request>) {
        match self.view {
            View::Replay => {
                self.replay.level = match self.replay.level {
                    ReplayLevel::Runs | ReplayLevel::Steps => ReplayLevel::Runs,
                    ReplayLevel::Prompts | ReplayLevel::Results => ReplayLevel::Steps,
                    ReplayLevel::Rollouts => ReplayLevel::Prompts,
                    ReplayLevel::Evolution => {
                        if self.replay.filter_active() {
                            ReplayLevel::Results
                        } else if self.replay.loaded_step.is_some() {
                            ReplayLevel::Rollouts
                        } else {
                            ReplayLevel::Steps
                        }
                    }
                };
            }
            View::Group => self.view = self.group.back.unwrap_or(View::Live),
            View::Tokens => self.view = self.tokens.back.unwrap_or(View::Live),
            View::Curves => {
                if self.curves.zoom.is_some() {
                    self.curves.zoom = None;
                } else if self.curves.other.is_some() {
                    self.curves.other = None;
                    self.curves.selected = 0;
                }
            }
            _ => {}
        }
    }

    fn move_sel(&mut self, d: i64, out: &mut Vec<Request>) {
        self.detail_scroll = 0;
        match self.view {
            View::Launch => {
                self.launch.rows.move_by(d);
            }
            View::Live => {
                let n = self.live.rollouts.len();
                step_sel(&mut self.live.selected, n, d);
                self.live.follow = n > 0 && self.live.selected + 1 == n;
            }
            View::Group => {
                let n = self.group.members().len();
                step_sel(&mut self.group.selected, n, d);
            }
            View::Curves => {
                let n = self.curves.keys().len();
                step_sel(&mut self.curves.selected, n, d);
            }
            View::Tokens => {
                let n = self.tokens.rollout.as_ref().map_or(0, |r| r.tokens.len());
                step_sel(&mut self.tokens.selected, n, d.saturating_mul(16));
            }
            View::Eval => step_sel(&mut self.evals.selected, self.evals.runs.len(), d),
            View::Compare => {
                let n = self
                    .compare
                    .tally()
                    .and_then(Result::ok)
                    .map_or(0, |t| t.rows.len());
                step_sel(&mut self.compare.selected, n, d);
            }
            View::Replay => {
                let r = &mut self.replay;
                match r.level {
                    ReplayLevel::Runs => {
                        let before = r.run_sel;
                        step_sel(&mut r.run_sel, r.runs.len(), d);
                        if before != r.run_sel {
                            r.steps.clear();
                            r.loaded_step = None;
                            r.phases = PhaseBounds::default();
                        }
                    }
                    ReplayLevel::Steps => step_sel(&mut r.step_sel, r.steps.len(), d),
                    ReplayLevel::Prompts => {
                        let n = r.prompts().len();
                        step_sel(&mut r.prompt_sel, n, d);
                        r.roll_sel = 0;
                    }
                    ReplayLevel::Rollouts => {
                        let n = r.prompt_rollouts().len();
                        step_sel(&mut r.roll_sel, n, d);
                    }
                    ReplayLevel::Results => step_sel(&mut r.result_sel, r.results.len(), d),
                    ReplayLevel::Evolution => step_sel(&mut r.evo_sel, r.evolution.len(), d),
                }
                let _ = out;
            }
        }
    }

    fn left_right(&mut self, d: i64, out: &mut Vec<Request>) {
        match self.view {
            View::Launch => self.launch.cycle_choice(d as i32),
            View::Group => {
                let a = if d > 0 {
                    Action::NextPrompt
                } else {
                    Action::PrevPrompt
                };
                out.extend(self.update(a));
            }
            View::Tokens => {
                let n = self.tokens.rollout.as_ref().map_or(0, |r| r.tokens.len());
                step_sel(&mut self.tokens.selected, n, d);
            }
            View::Curves => {
                if let Some((lo, hi)) = self.curves.visible() {
                    let (flo, fhi) = self.curves.full_range().unwrap_or((lo, hi));
                    let span = hi.saturating_sub(lo).max(1);
                    let shift = (span / 4).max(1);
                    let (nlo, nhi) = if d > 0 {
                        let nhi = (hi + shift).min(fhi.max(hi));
                        (nhi.saturating_sub(span), nhi)
                    } else {
                        let nlo = lo.saturating_sub(shift).max(flo.min(lo));
                        (nlo, nlo + span)
                    };
                    self.curves.zoom = Some((nlo, nhi));
                }
            }
            View::Replay => {
                if d < 0 {
                    self.back(out);
                } else {
                    self.enter(out);
                }
            }
            View::Live | View::Eval | View::Compare => {}
        }
    }

    fn enter(&mut self, out: &mut Vec<Request>) {
        match self.view {
            View::Launch => {
                let free = self
                    .launch
                    .rows
                    .selected()
                    .is_some_and(|&id| id.typed() || self.launch.field(id).choices.is_empty());
                if free {
                    out.extend(self.update(Action::StartInput(InputTarget::LaunchField)));
                } else {
                    self.launch.cycle_choice(1);
                }
            }
            View::Live | View::Group => self.open_group(),
            View::Replay => {
                let r = &mut self.replay;
                match r.level {
                    ReplayLevel::Runs => {
                        if let Some(run) = r.runs.get(r.run_sel) {
                            r.level = ReplayLevel::Steps;
                            r.loading = true;
                            out.push(Request::LoadRun(run.id.clone()));
                        }
                    }
                    ReplayLevel::Steps => {
                        if let (Some(run), Some(&step)) =
                            (r.runs.get(r.run_sel), r.steps.get(r.step_sel))
                        {
                            r.level = ReplayLevel::Prompts;
                            r.prompt_sel = 0;
                            r.roll_sel = 0;
                            if r.loaded_step != Some(step) {
                                r.loading = true;
                                r.step_rollouts.clear();
                                out.push(Request::LoadStep {
                                    run: run.id.clone(),
                                    step,
                                });
                            }
                        }
                    }
                    ReplayLevel::Prompts => {
                        if !r.prompts().is_empty() {
                            r.level = ReplayLevel::Rollouts;
                            r.roll_sel = 0;
                        }
                    }
                    ReplayLevel::Rollouts | ReplayLevel::Results | ReplayLevel::Evolution => {
                        self.open_group()
                    }
                }
            }
            View::Curves => {}
            View::Tokens => {}
            View::Eval | View::Compare => {}
        }
    }

    fn submit_input(&mut self, t: InputTarget, s: String, out: &mut Vec<Request>) {
        let s = s.trim().to_string();
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        match t {
            InputTarget::Search => {
                self.replay.filter.text = opt(&s);
                self.rescan(out);
            }
            InputTarget::FailedConstraint => {
                self.replay.filter.failed_constraint = opt(&s);
                self.rescan(out);
            }
            InputTarget::RewardRange => match parse_range_f64(&s) {
                Ok((a, b)) => {
                    self.replay.filter.reward_min = a;
                    self.replay.filter.reward_max = b;
                    self.rescan(out);
                }
                Err(e) => self.message = Some(e),
            },
            InputTarget::LaunchField => {
                self.launch.set_selected(s);
            }
            InputTarget::ZoomRange => {
                if s.is_empty() {
                    self.curves.zoom = None;
                } else {
                    match parse_range_f64(&s) {
                        Ok((Some(a), Some(b))) if a >= 0.0 && b > a => {
                            self.curves.zoom = Some((a as u64, b as u64))
                        }
                        _ => self.message = Some(format!("`{s}` is not a step range like 10..200")),
                    }
                }
            }
        }
    }

    /// Run the replay search again after a filter changed.
    fn rescan(&mut self, out: &mut Vec<Request>) {
        let Some(run) = self.replay.run().map(|r| r.id.clone()) else {
            self.message = Some("choose a run first".into());
            return;
        };
        if self.replay.filter_active() {
            self.replay.level = ReplayLevel::Results;
            self.replay.loading = true;
            self.replay.results.clear();
            out.push(Request::Scan {
                run,
                filter: self.replay.filter.clone(),
                limit: SCAN_LIMIT,
            });
        } else if self.replay.level == ReplayLevel::Results {
            self.replay.level = ReplayLevel::Steps;
        }
    }

    /// The rollout under the cursor of the current view.
    pub fn current_rollout(&self) -> Option<&Rollout> {
        match self.view {
            View::Live => self.live.rollouts.get(self.live.selected),
            View::Group => self.group.selected_rollout(),
            View::Replay => self.replay.selected_rollout(),
            View::Tokens => self.tokens.rollout.as_ref(),
            _ => None,
        }
    }

    fn open_group(&mut self) {
        let (run, rollouts, key) = match self.view {
            View::Live => {
                let Some(r) = self.live.rollouts.get(self.live.selected) else {
                    return;
                };
                (
                    self.train.run_id.clone(),
                    self.live.rollouts.clone(),
                    (r.step, r.prompt_index, r.sample),
                )
            }
            View::Replay => {
                let Some(r) = self.replay.selected_rollout() else {
                    return;
                };
                let key = (r.step, r.prompt_index, r.sample);
                let all = if self.replay.loaded_step == Some(r.step)
                    && matches!(
                        self.replay.level,
                        ReplayLevel::Rollouts | ReplayLevel::Prompts
                    ) {
                    self.replay.step_rollouts.clone()
                } else {
                    // A search result or an evolution entry: its own group is what we hold.
                    let src = if self.replay.level == ReplayLevel::Results {
                        &self.replay.results
                    } else {
                        &self.replay.evolution
                    };
                    src.iter().filter(|x| x.step == r.step).cloned().collect()
                };
                (self.replay.run().map(|r| r.id.clone()), all, key)
            }
            View::Group => return,
            _ => return,
        };
        self.group.back = Some(self.view);
        self.group.run = run;
        self.group.step = key.0;
        self.group.step_rollouts = rollouts;
        self.group.prompt = key.1;
        let sel = self
            .group
            .members()
            .iter()
            .position(|r| r.sample == key.2)
            .unwrap_or(0);
        self.group.selected = sel;
        self.view = View::Group;
    }

    fn open_tokens(&mut self) -> Vec<Request> {
        let Some(r) = self.current_rollout().cloned() else {
            self.message = Some("select a rollout first".into());
            return vec![];
        };
        let model = match self.view {
            View::Replay => self.replay.run().map(|i| i.model.clone()),
            View::Group if self.group.back == Some(View::Replay) => {
                self.replay.run().map(|i| i.model.clone())
            }
            _ => Some(self.train.model.clone()),
        }
        .unwrap_or_default();
        let key: RolloutKey = (r.step, r.prompt_index, r.sample);
        let req = Request::TokenTexts {
            key,
            model: model.clone(),
            tokens: r.tokens.clone(),
        };
        if self.view != View::Tokens {
            self.tokens.back = Some(self.view);
        }
        self.tokens.texts = None;
        self.tokens.selected = 0;
        self.tokens.model = model;
        self.tokens.rollout = Some(r);
        self.view = View::Tokens;
        vec![req]
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
