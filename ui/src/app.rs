//! The workbench: the views' states side by side and what is global (the view shown, the
//! help and quit overlays, the prompt at the bottom, the status line, the log, the training
//! run). [`App::update`] handles the global actions and routes the rest: the keys' actions to
//! the view shown, the worker's results and the trainer's events to the views they are for.
//! Each view's own changes live in its module (`views/`); rendering reads this state and
//! nothing else (a pure function of this snapshot).

use std::collections::VecDeque;

use raif_rl::config::RunConfig;
use raif_rl::trainer::{TrainerCommand, TrainerEvent};

use crate::action::{Action, InputTarget, Request, View};
use crate::component::{AnyComponent, Effects, Shared};
pub use crate::state::{
    parse_range_f64, phase_label, run_total_steps, run_warmup_steps, Phase, PhaseBounds, TrainState,
};
use crate::views::compare::CompareState;
use crate::views::curves::CurvesState;
use crate::views::eval::EvalState;
use crate::views::group::GroupState;
use crate::views::launch::LaunchState;
use crate::views::live::LiveState;
pub use crate::views::replay::ReplayLevel;
use crate::views::replay::ReplayState;
use crate::views::tokens::TokensState;

/// Lines of log kept.
const LOG_LINES: usize = 200;

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

    /// A view, to draw it or read its keys.
    pub fn component(&self, v: View) -> &dyn AnyComponent {
        match v {
            View::Launch => &self.launch,
            View::Live => &self.live,
            View::Group => &self.group,
            View::Curves => &self.curves,
            View::Replay => &self.replay,
            View::Tokens => &self.tokens,
            View::Eval => &self.evals,
            View::Compare => &self.compare,
        }
    }

    /// A view to change, and what it may read meanwhile.
    fn parts(&mut self, v: View) -> (&mut dyn AnyComponent, Shared<'_>) {
        let sh = Shared {
            train: &self.train,
            input: self.input.as_ref(),
            detail_scroll: self.detail_scroll,
            log: &self.log,
        };
        let c: &mut dyn AnyComponent = match v {
            View::Launch => &mut self.launch,
            View::Live => &mut self.live,
            View::Group => &mut self.group,
            View::Curves => &mut self.curves,
            View::Replay => &mut self.replay,
            View::Tokens => &mut self.tokens,
            View::Eval => &mut self.evals,
            View::Compare => &mut self.compare,
        };
        (c, sh)
    }

    /// What every view may read.
    pub fn shared(&self) -> Shared<'_> {
        Shared {
            train: &self.train,
            input: self.input.as_ref(),
            detail_scroll: self.detail_scroll,
            log: &self.log,
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
        self.curves.reset_live();
        self.view = View::Live;
        self.message = Some(format!(
            "starting a {} run on {} (loading the model)…",
            cfg.preset, cfg.model.path
        ));
        vec![Request::Start(Box::new(cfg))]
    }

    /// Apply one action; the answer is work for the background thread. The global actions
    /// are handled here, the rest goes to a view.
    pub fn update(&mut self, a: Action) -> Vec<Request> {
        let mut out = Vec::new();
        match a {
            Action::SwitchView(v) => self.show(v, &mut out),
            Action::NextView => self.show(self.neighbour(1), &mut out),
            Action::PrevView => self.show(self.neighbour(-1), &mut out),
            Action::ToggleHelp => {
                self.help = !self.help;
                self.help_scroll = 0;
            }
            Action::Quit => self.quit(),
            Action::ConfirmQuit(yes) => {
                self.confirm_quit = false;
                if yes {
                    self.quit_when_stopped = true;
                    out.extend(self.stop_run());
                }
            }
            Action::Back if self.help => self.help = false,
            Action::Back if self.confirm_quit => self.confirm_quit = false,
            Action::Back if self.input.is_some() => self.input = None,
            Action::Resize(w, h) => self.size = (w, h),
            Action::Tick(ms) => self.tick(ms),
            Action::Scroll(d) if self.help => self.scroll(d * 3),
            Action::ScrollDetail(d) => self.scroll(d),
            Action::StartInput(t) => self.route(t.owner(), a, &mut out),
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
                    let s = s.trim().to_string();
                    self.route(t.owner(), Action::Submit(t, s), &mut out);
                }
            }
            Action::StartRun
            | Action::PauseResume
            | Action::StopRun
            | Action::SaveNow
            | Action::Trainer(..)
            | Action::TrainerSpawned { .. }
            | Action::TrainerExited(_) => self.trainer(a, &mut out),
            Action::Log(s) => self.log_line(s),
            Action::Error(ref e) => {
                self.log_line(format!("error: {e}"));
                self.route(View::Replay, a, &mut out);
            }
            a => self.worker_result_or_view(a, &mut out),
        }
        out
    }

    /// A result of the worker goes to the view that asked for it; anything else to the view
    /// shown (a move there scrolls its detail back to the top).
    fn worker_result_or_view(&mut self, a: Action, out: &mut Vec<Request>) {
        let to = match &a {
            Action::Runs(_)
            | Action::StepLoaded { .. }
            | Action::ScanDone { .. }
            | Action::EvolutionLoaded { .. } => View::Replay,
            Action::RunLoaded { run, .. } => {
                // Replay's run, and Curves when it shows or overlays that run.
                if self.curves.wants(run) {
                    self.route(View::Curves, a.clone(), out);
                }
                View::Replay
            }
            Action::Evals(_) => View::Eval,
            Action::EvalItems { .. } | Action::Play(_) => View::Compare,
            Action::TokenTexts { .. } => View::Tokens,
            Action::PlotWritten(_) => View::Curves,
            Action::Models(_) | Action::FetchFinished(_) => View::Launch,
            _ => {
                if a.nav_delta().is_some() {
                    self.detail_scroll = 0;
                }
                self.view
            }
        };
        self.route(to, a, out);
    }

    /// Hand an action to a view and apply what it asks for.
    fn route(&mut self, v: View, a: Action, out: &mut Vec<Request>) {
        let mut fx = Effects::default();
        {
            let (c, sh) = self.parts(v);
            c.update(a, &sh, &mut fx);
        }
        self.apply(fx, out);
    }

    fn apply(&mut self, fx: Effects, out: &mut Vec<Request>) {
        let Effects {
            requests,
            message,
            log,
            input,
            goto,
            send,
        } = fx;
        out.extend(requests);
        if message.is_some() {
            self.message = message;
        }
        for line in log {
            self.log_line(line);
        }
        if input.is_some() {
            self.input = input;
        }
        if let Some(v) = goto {
            self.view = v;
        }
        for (v, a) in send {
            self.route(v, a, out);
        }
    }

    /// Show a view by its tab (it may refresh what it shows).
    fn show(&mut self, v: View, out: &mut Vec<Request>) {
        let from = self.view;
        self.view = v;
        self.fill_if_empty(v, from, out);
        let mut fx = Effects::default();
        self.parts(v).0.on_show(&mut fx);
        self.apply(fx, out);
    }

    /// Group and Tokens shown by their tab while empty open the rollout selected in the view
    /// the user came from, else the newest live one, else Replay's selection.
    fn fill_if_empty(&mut self, v: View, from: View, out: &mut Vec<Request>) {
        let (empty, open) = match v {
            View::Group => (self.group.step_rollouts.is_empty(), Action::OpenGroup),
            View::Tokens => (self.tokens.rollout.is_none(), Action::OpenTokens),
            _ => return,
        };
        if !empty {
            return;
        }
        let has_selection = |s: View| match s {
            View::Live => self.live.rollouts.selected().is_some(),
            View::Replay => self.replay.selected_rollout().is_some(),
            View::Group => v == View::Tokens && self.group.selected_rollout().is_some(),
            _ => false,
        };
        let source = [from, View::Live, View::Replay]
            .into_iter()
            .find(|&s| has_selection(s));
        if let Some(s) = source {
            self.route(s, open, out);
            self.view = v;
        }
    }

    /// The view `d` tabs away from the shown one.
    fn neighbour(&self, d: i32) -> View {
        let n = View::ALL.len() as i32;
        let i = View::ALL.iter().position(|v| *v == self.view).unwrap_or(0) as i32;
        View::ALL[(i + d).rem_euclid(n) as usize]
    }

    fn scroll(&mut self, d: i32) {
        let target = if self.help {
            &mut self.help_scroll
        } else {
            &mut self.detail_scroll
        };
        *target = (i64::from(*target) + i64::from(d)).clamp(0, i64::from(u16::MAX)) as u16;
    }

    /// `q`: close the help, else quit (asking first while training).
    fn quit(&mut self) {
        if self.help {
            self.help = false;
        } else if self.train.phase.active() {
            if self.train.phase == Phase::Stopping {
                self.quit_when_stopped = true;
                self.message = Some(
                    "stopping after the current step; the workbench closes when it is saved".into(),
                );
            } else {
                self.confirm_quit = true;
            }
        } else {
            self.should_quit = true;
        }
    }

    /// Starting and commanding the trainer, and what its thread reports.
    fn trainer(&mut self, a: Action, out: &mut Vec<Request>) {
        match a {
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
            _ => {}
        }
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

    /// One trainer event: the step's streams and rollouts go to Live, its metrics to Curves,
    /// the rest is the training run's state.
    fn on_event(&mut self, e: TrainerEvent) {
        match e {
            TrainerEvent::StepStarted { step, prompts } => {
                self.train.step = step;
                self.train.step_started_ms = self.now_ms;
                self.train.step_tokens = 0;
                self.live.step_started(step, prompts);
            }
            TrainerEvent::Token {
                step,
                prompt_index,
                sample,
                delta,
            } => self.live.token(step, (prompt_index, sample), &delta),
            TrainerEvent::Rollout(r) => self.live.rollout(*r),
            TrainerEvent::StepMetrics { step, metrics } => {
                self.curves.add_live(step, &metrics);
                // Rollouts of a step get their final advantages only with the step's end:
                // the live list keeps what the events said.
                self.train.steps_done = step;
                self.train.last_metrics = Some(metrics);
            }
            other => self.on_run_event(other),
        }
    }

    /// The training run started, saved, paused, resumed, warned, finished or failed.
    fn on_run_event(&mut self, e: TrainerEvent) {
        match e {
            TrainerEvent::Started {
                run_id,
                total_steps,
                warmup_steps,
                first_step,
                model,
                trainable_parameters,
            } => {
                if self.train.phase != Phase::Stopping {
                    self.train.phase = Phase::Running;
                }
                self.train.run_id = Some(run_id.clone());
                self.train.total_steps = total_steps;
                self.train.warmup_steps = warmup_steps;
                self.train.steps_done = first_step.saturating_sub(1);
                self.train.model = model;
                self.train.trainable = trainable_parameters;
                self.message = Some(format!("run {run_id} started"));
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
            TrainerEvent::StepStarted { .. }
            | TrainerEvent::Token { .. }
            | TrainerEvent::Rollout(_)
            | TrainerEvent::StepMetrics { .. } => {}
        }
    }
}
