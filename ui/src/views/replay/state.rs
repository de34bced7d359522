//! Replay's state: where it is (runs → steps → prompts → rollouts, a search, an evolution),
//! a list with a cursor for each level, and the moves between them. What the worker answers
//! lands here too.

use std::collections::BTreeMap;

use raif_store::{Metrics, Rollout, RolloutFilter, RunInfo};

use crate::action::{Action, GroupSource, InputTarget, Request, TokensSource, View};
use crate::component::Effects;
use crate::select::SelectList;
use crate::state::{parse_range_f64, phase_label, run_total_steps, run_warmup_steps, PhaseBounds};

/// Rollouts a filtered replay search returns at most.
pub const SCAN_LIMIT: usize = 2000;

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
    pub runs: SelectList<RunInfo>,
    /// The selected run's steps with rollouts.
    pub steps: SelectList<u64>,
    /// Mean reward of each step (from its metrics).
    pub step_rewards: BTreeMap<u64, f64>,
    /// Where the loaded run's warm-up ends, from its `phase` metric.
    pub phases: PhaseBounds,
    /// The rollouts of the loaded step.
    pub step_rollouts: Vec<Rollout>,
    pub loaded_step: Option<u64>,
    /// The prompt indices of the loaded step.
    pub prompts: SelectList<u32>,
    /// The selected prompt's samples (indices into `step_rollouts`).
    pub samples: SelectList<usize>,
    pub filter: RolloutFilter,
    /// What the filters found in the whole run.
    pub results: SelectList<Rollout>,
    pub truncated: bool,
    /// One prompt's answers across the steps.
    pub evolution: SelectList<Rollout>,
    pub evo_prompt: String,
    pub loading: bool,
    pub show_reasoning: bool,
}

impl ReplayState {
    pub fn run(&self) -> Option<&RunInfo> {
        self.runs.selected()
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
    /// The selected prompt's samples.
    pub fn prompt_rollouts(&self) -> Vec<&Rollout> {
        self.samples
            .iter()
            .filter_map(|&i| self.step_rollouts.get(i))
            .collect()
    }
    /// The rollout the right-hand pane shows.
    pub fn selected_rollout(&self) -> Option<&Rollout> {
        let sample = |i: Option<&usize>| i.and_then(|&i| self.step_rollouts.get(i));
        match self.level {
            ReplayLevel::Rollouts => sample(self.samples.selected()),
            ReplayLevel::Prompts => sample(self.samples.first()),
            ReplayLevel::Results => self.results.selected(),
            ReplayLevel::Evolution => self.evolution.selected(),
            _ => None,
        }
    }
    /// A rollout is shown: the keys that open it apply.
    pub fn on_rollout(&self) -> bool {
        matches!(
            self.level,
            ReplayLevel::Rollouts
                | ReplayLevel::Results
                | ReplayLevel::Evolution
                | ReplayLevel::Prompts
        )
    }

    /// Prompt indices of the loaded step, in order.
    fn prompt_indices(&self) -> Vec<u32> {
        let mut p: Vec<u32> = self.step_rollouts.iter().map(|r| r.prompt_index).collect();
        p.sort_unstable();
        p.dedup();
        p
    }
    /// Indices of the selected prompt's samples in `step_rollouts`.
    fn sample_indices(&self) -> Vec<usize> {
        let Some(&p) = self.prompts.selected() else {
            return Vec::new();
        };
        (0..self.step_rollouts.len())
            .filter(|&i| self.step_rollouts[i].prompt_index == p)
            .collect()
    }

    /// Up, down, page, top, bottom in the list of the current level.
    pub(super) fn move_by(&mut self, d: i64) {
        match self.level {
            ReplayLevel::Runs => {
                if self.runs.move_by(d) {
                    self.steps.clear();
                    self.loaded_step = None;
                    self.phases = PhaseBounds::default();
                }
            }
            ReplayLevel::Steps => {
                self.steps.move_by(d);
            }
            ReplayLevel::Prompts => {
                self.prompts.move_by(d);
                self.samples.reset(self.sample_indices());
            }
            ReplayLevel::Rollouts => {
                self.samples.move_by(d);
            }
            ReplayLevel::Results => {
                self.results.move_by(d);
            }
            ReplayLevel::Evolution => {
                self.evolution.move_by(d);
            }
        }
    }

    /// Enter: one level in (a run's steps, a step's prompts, a prompt's samples, a group).
    pub(super) fn enter(&mut self, fx: &mut Effects) {
        match self.level {
            ReplayLevel::Runs => {
                if let Some(run) = self.runs.selected() {
                    fx.request(Request::LoadRun(run.id.clone()));
                    self.level = ReplayLevel::Steps;
                    self.loading = true;
                }
            }
            ReplayLevel::Steps => {
                let (Some(run), Some(&step)) = (self.runs.selected(), self.steps.selected()) else {
                    return;
                };
                let run = run.id.clone();
                self.level = ReplayLevel::Prompts;
                if self.loaded_step == Some(step) {
                    self.prompts.select(0);
                    self.samples.reset(self.sample_indices());
                } else {
                    self.loading = true;
                    self.step_rollouts.clear();
                    self.prompts.reset(Vec::new());
                    self.samples.reset(Vec::new());
                    fx.request(Request::LoadStep { run, step });
                }
            }
            ReplayLevel::Prompts => {
                if !self.prompts.is_empty() {
                    self.level = ReplayLevel::Rollouts;
                    self.samples.select(0);
                }
            }
            ReplayLevel::Rollouts | ReplayLevel::Results | ReplayLevel::Evolution => {
                self.open_group(fx)
            }
        }
    }

    /// Esc: one level out.
    pub(super) fn back(&mut self) {
        self.level = match self.level {
            ReplayLevel::Runs | ReplayLevel::Steps => ReplayLevel::Runs,
            ReplayLevel::Prompts | ReplayLevel::Results => ReplayLevel::Steps,
            ReplayLevel::Rollouts => ReplayLevel::Prompts,
            ReplayLevel::Evolution => {
                if self.filter_active() {
                    ReplayLevel::Results
                } else if self.loaded_step.is_some() {
                    ReplayLevel::Rollouts
                } else {
                    ReplayLevel::Steps
                }
            }
        };
    }

    /// The group of the selected rollout: the loaded step's, or (a search result, an
    /// evolution entry) what of its step is held here.
    pub(super) fn open_group(&self, fx: &mut Effects) {
        let Some(r) = self.selected_rollout() else {
            return;
        };
        let key = (r.step, r.prompt_index, r.sample);
        let whole_step = self.loaded_step == Some(r.step)
            && matches!(self.level, ReplayLevel::Rollouts | ReplayLevel::Prompts);
        let rollouts = if whole_step {
            self.step_rollouts.clone()
        } else {
            let src = if self.level == ReplayLevel::Results {
                &self.results
            } else {
                &self.evolution
            };
            src.iter().filter(|x| x.step == r.step).cloned().collect()
        };
        let src = GroupSource {
            run: self.run().map(|r| r.id.clone()),
            model: self.run().map(|r| r.model.clone()).unwrap_or_default(),
            rollouts,
            key,
            from: View::Replay,
        };
        fx.send(View::Group, Action::ShowGroup(Box::new(src)));
    }

    pub(super) fn open_tokens(&self, fx: &mut Effects) {
        let Some(r) = self.selected_rollout() else {
            fx.message("select a rollout first");
            return;
        };
        let src = TokensSource {
            rollout: r.clone(),
            model: self.run().map(|i| i.model.clone()).unwrap_or_default(),
            from: View::Replay,
        };
        fx.send(View::Tokens, Action::ShowTokens(Box::new(src)));
    }

    /// The selected rollout's prompt across the steps of the run.
    pub(super) fn open_evolution(&mut self, fx: &mut Effects) {
        let target = self.selected_rollout().map(|r| r.prompt_id.clone());
        match (target, self.run().map(|r| r.id.clone())) {
            (Some(pid), Some(run)) => {
                self.loading = true;
                self.evo_prompt = pid.clone();
                fx.request(Request::Evolution {
                    run,
                    prompt_id: pid,
                });
            }
            _ => fx.message("select a rollout first"),
        }
    }

    /// The selected run's curves.
    pub(super) fn open_run_curves(&self, fx: &mut Effects) {
        if let Some(r) = self.run() {
            fx.request(Request::LoadRun(r.id.clone()));
            let show = Action::ShowRunCurves {
                run: r.id.clone(),
                warmup: run_warmup_steps(r),
            };
            fx.send(View::Curves, show);
        }
    }

    /// Read the runs (and the selected run) again.
    pub(super) fn refresh(&self, fx: &mut Effects) {
        fx.request(Request::ListRuns);
        if let Some(r) = self.run() {
            fx.request(Request::LoadRun(r.id.clone()));
        }
    }

    pub(super) fn cycle_kept(&mut self, fx: &mut Effects) {
        self.filter.kept = cycle(self.filter.kept);
        self.rescan(fx);
    }

    pub(super) fn cycle_no_think(&mut self, fx: &mut Effects) {
        self.filter.no_think = cycle(self.filter.no_think);
        self.rescan(fx);
    }

    pub(super) fn clear_filters(&mut self) {
        self.filter = RolloutFilter::default();
        self.results.clear();
        if matches!(self.level, ReplayLevel::Results) {
            self.level = ReplayLevel::Steps;
        }
    }

    /// Search the whole run again after a filter changed.
    fn rescan(&mut self, fx: &mut Effects) {
        let Some(run) = self.run().map(|r| r.id.clone()) else {
            fx.message("choose a run first");
            return;
        };
        if self.filter_active() {
            self.level = ReplayLevel::Results;
            self.loading = true;
            self.results.clear();
            fx.request(Request::Scan {
                run,
                filter: self.filter.clone(),
                limit: SCAN_LIMIT,
            });
        } else if self.level == ReplayLevel::Results {
            self.level = ReplayLevel::Steps;
        }
    }

    /// The prompt's text for a filter: what the filter holds now.
    pub(super) fn input_text(&self, t: InputTarget) -> String {
        let f = &self.filter;
        match t {
            InputTarget::Search => f.text.clone().unwrap_or_default(),
            InputTarget::FailedConstraint => f.failed_constraint.clone().unwrap_or_default(),
            InputTarget::RewardRange => match (f.reward_min, f.reward_max) {
                (None, None) => String::new(),
                (a, b) => format!(
                    "{}..{}",
                    a.map(|x| x.to_string()).unwrap_or_default(),
                    b.map(|x| x.to_string()).unwrap_or_default()
                ),
            },
            _ => String::new(),
        }
    }

    /// A filter typed at the prompt.
    pub(super) fn submit(&mut self, t: InputTarget, s: String, fx: &mut Effects) {
        let opt = |s: String| (!s.is_empty()).then_some(s);
        match t {
            InputTarget::Search => self.filter.text = opt(s),
            InputTarget::FailedConstraint => self.filter.failed_constraint = opt(s),
            InputTarget::RewardRange => match parse_range_f64(&s) {
                Ok((a, b)) => {
                    self.filter.reward_min = a;
                    self.filter.reward_max = b;
                }
                Err(e) => {
                    fx.message(e);
                    return;
                }
            },
            _ => return,
        }
        self.rescan(fx);
    }

    // What the worker answers (for the selected run only: the selection may have moved on).

    fn is_selected_run(&self, run: &str) -> bool {
        self.run().is_some_and(|r| r.id == run)
    }

    /// The runs in the store; the selected run stays selected.
    pub(super) fn runs_listed(&mut self, runs: Vec<RunInfo>) {
        let keep = self.run().map(|r| r.id.clone());
        self.runs.set_items(runs);
        if let Some(id) = keep {
            self.runs.select_where(|r| r.id == id);
        }
    }

    pub(super) fn run_loaded(&mut self, run: &str, steps: Vec<u64>, metrics: &[(u64, Metrics)]) {
        if !self.is_selected_run(run) {
            return;
        }
        self.steps.set_items(steps);
        self.step_rewards = metrics
            .iter()
            .filter_map(|(s, m)| Some((*s, *m.get("reward")?)))
            .collect();
        self.phases = PhaseBounds::default();
        for (s, m) in metrics {
            self.phases.record(*s, m);
        }
        self.loading = false;
    }

    pub(super) fn step_loaded(&mut self, run: &str, step: u64, rollouts: Vec<Rollout>) {
        if !self.is_selected_run(run) {
            return;
        }
        self.loaded_step = Some(step);
        self.step_rollouts = rollouts;
        self.loading = false;
        self.prompts.set_items(self.prompt_indices());
        self.samples.set_items(self.sample_indices());
    }

    pub(super) fn scan_done(
        &mut self,
        run: &str,
        filter: &RolloutFilter,
        rollouts: Vec<Rollout>,
        truncated: bool,
    ) {
        if self.is_selected_run(run) && *filter == self.filter {
            self.results.reset(rollouts);
            self.truncated = truncated;
            self.loading = false;
        }
    }

    pub(super) fn evolution_loaded(&mut self, run: &str, prompt_id: &str, rollouts: Vec<Rollout>) {
        if self.is_selected_run(run) && prompt_id == self.evo_prompt {
            self.evolution.reset(rollouts);
            self.loading = false;
            self.level = ReplayLevel::Evolution;
        }
    }
}

/// Any → yes → no → any.
fn cycle(v: Option<bool>) -> Option<bool> {
    match v {
        None => Some(true),
        Some(true) => Some(false),
        Some(false) => None,
    }
}
