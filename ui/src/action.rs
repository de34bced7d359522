//! Everything that can change the `App`: keys mapped by the views' key
//! tables, what one view sends another (typed: a group or a rollout to show), the trainer's
//! events and the results of the worker (typed notifications, one variant each). `App::update`
//! handles the global ones and routes the rest to a view; the answer is [`Request`]s for the
//! worker (never blocking work).

use std::collections::BTreeMap;

use raif_model::fetch::CachedModel;
use raif_rl::config::RunConfig;
use raif_rl::trainer::{TrainerCommand, TrainerEvent};
use raif_store::{EvalRun, Metrics, Rollout, RolloutFilter, RunInfo};

use crate::select::PAGE;

pub use crate::views::View;

/// Which text a prompt at the bottom edits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputTarget {
    /// Replay: text search.
    Search,
    /// Replay: failed constraint id.
    FailedConstraint,
    /// Replay: reward range `MIN..MAX`.
    RewardRange,
    /// Launch: the selected field.
    LaunchField,
    /// Curves: zoom to steps `A..B`.
    ZoomRange,
    /// Playground: the prompt.
    PlayPrompt,
    /// Playground: a constraint to add (`ID key=value …` or a JSON tree).
    PlayConstraint,
    /// Playground: the kwargs of the id picked in the catalogue.
    PlayKwargs,
    /// Playground: side A (true) or B as `TARGET:MODE`.
    PlaySide(bool),
    /// Playground: samples, seed, temperature, max new tokens (`N SEED TEMP MAX`).
    PlaySampling,
}

impl InputTarget {
    /// The view that asked for the text and takes it.
    pub fn owner(self) -> View {
        match self {
            InputTarget::Search | InputTarget::FailedConstraint | InputTarget::RewardRange => {
                View::Replay
            }
            InputTarget::LaunchField => View::Launch,
            InputTarget::ZoomRange => View::Curves,
            InputTarget::PlayPrompt
            | InputTarget::PlayConstraint
            | InputTarget::PlayKwargs
            | InputTarget::PlaySide(_)
            | InputTarget::PlaySampling => View::Compare,
        }
    }

    /// What the prompt at the bottom asks for.
    pub fn label(self) -> &'static str {
        match self {
            InputTarget::Search => "search text",
            InputTarget::FailedConstraint => "failed constraint id",
            InputTarget::RewardRange => "reward range (MIN..MAX)",
            InputTarget::LaunchField => "value",
            InputTarget::ZoomRange => "steps (A..B, empty: all)",
            InputTarget::PlayPrompt => "prompt",
            InputTarget::PlayConstraint => "constraint (ID key=value …, or a JSON tree)",
            InputTarget::PlayKwargs => "kwargs (key=value …, empty: none)",
            InputTarget::PlaySide(true) => {
                "side A (MODEL:MODE or RUN@STEP:MODE; modes io, cot, think)"
            }
            InputTarget::PlaySide(false) => {
                "side B (MODEL:MODE or RUN@STEP:MODE; modes io, cot, think)"
            }
            InputTarget::PlaySampling => "samples seed temperature max-tokens (e.g. 4 0 1.0 256)",
        }
    }
}

/// (step, prompt index, sample): a rollout's identity within a run.
pub type RolloutKey = (u64, u32, u32);

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    // Everywhere.
    SwitchView(View),
    NextView,
    PrevView,
    ToggleHelp,
    /// `q`: quit, or ask first while training.
    Quit,
    /// The answer to "stop training and quit?".
    ConfirmQuit(bool),
    /// Esc: close an overlay or go back.
    Back,
    Resize(u16, u16),
    /// Milliseconds since the workbench started (the only clock the state sees).
    Tick(u64),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Left,
    Right,
    Enter,
    /// Mouse wheel over the current view (negative: up).
    Scroll(i32),
    /// Scroll the detail pane (PgUp/PgDn in Live, Group, Replay).
    ScrollDetail(i32),

    // Text input at the bottom line.
    StartInput(InputTarget),
    InputChar(char),
    InputBackspace,
    InputSubmit,
    /// The text typed at the prompt (trimmed), for the view that asked for it.
    Submit(InputTarget, String),

    // Trainer control.
    StartRun,
    PauseResume,
    StopRun,
    SaveNow,
    FetchDefaultModel,

    // Live / Group / Replay.
    ToggleReasoning,
    ToggleBreakdown,
    ToggleFollow,
    OpenGroup,
    OpenTokens,
    NextPrompt,
    PrevPrompt,
    CycleSort,

    // Curves.
    CycleSmoothing,
    ToggleBand,
    ToggleFreeze,
    ToggleSmallMultiples,
    /// The dashboard, or one metric full size.
    ToggleDashboard,
    /// Stop drawing the overlaid runs.
    ClearOverlays,
    ZoomIn,
    ZoomOut,
    ZoomReset,

    // Replay.
    CycleKeptFilter,
    CycleNoThinkFilter,
    ClearFilters,
    OpenEvolution,
    Refresh,
    /// Curves of the run selected in Replay.
    OpenRunCurves,
    /// Draw the run selected in Replay over Curves' run (again: stop).
    OverlaySelectedRun,

    /// Write the shown curves to a picture.
    SavePlot,
    /// The worker wrote the picture here.
    PlotWritten(std::path::PathBuf),

    // Tokens.
    CycleTokenColour,

    // Compare's playground.
    /// Stored evaluations, or the playground.
    TogglePlayground,
    /// Answer the prompt with both sides.
    RunPlayground,
    /// Open or close the verifier catalogue.
    ToggleCatalogue,
    /// Remove the constraints.
    ClearConstraints,
    /// What the playground's engine reports.
    Play(PlayEvent),

    // Launch form.
    CycleChoice(i32),

    // What one view hands another.
    /// Show a group (Live and Replay open one).
    ShowGroup(Box<GroupSource>),
    /// Show a rollout's tokens (Live, Group and Replay open them).
    ShowTokens(Box<TokensSource>),
    /// Curves of a stored run (Replay opens them; its metrics come as `RunLoaded`).
    ShowRunCurves {
        run: String,
        /// Its warm-up steps, from its configuration.
        warmup: u64,
    },
    /// Draw a stored run over Curves' run, or stop drawing it (its metrics come as
    /// `RunLoaded`).
    OverlayRun(String),
    /// Make a stored evaluation side A (true) or B (false) of Compare (its items come as
    /// `EvalItems`).
    CompareSide {
        a: bool,
        run: Box<EvalRun>,
    },

    // From the worker.
    /// Trainer events, in order, with Token deltas coalesced, and how many Token events
    /// they were (for throughput).
    Trainer(Vec<TrainerEvent>, u64),
    TrainerSpawned {
        run_id: String,
    },
    /// The trainer thread ended (its result), after its last event.
    TrainerExited(Result<u64, String>),
    Runs(Vec<RunInfo>),
    /// The stored evaluations (`raif eval`), newest first.
    Evals(Vec<EvalRun>),
    /// Eval view: make the selected evaluation side A (true) or B (false) of Compare.
    MarkCompare(bool),
    /// The items of a stored evaluation.
    EvalItems {
        id: String,
        items: Vec<raif_store::EvalItem>,
    },
    RunLoaded {
        run: String,
        steps: Vec<u64>,
        metrics: Vec<(u64, Metrics)>,
    },
    StepLoaded {
        run: String,
        step: u64,
        rollouts: Vec<Rollout>,
    },
    ScanDone {
        run: String,
        filter: RolloutFilter,
        rollouts: Vec<Rollout>,
        truncated: bool,
    },
    EvolutionLoaded {
        run: String,
        prompt_id: String,
        rollouts: Vec<Rollout>,
    },
    TokenTexts {
        key: RolloutKey,
        texts: Result<Vec<String>, String>,
    },
    Models(Vec<CachedModel>),
    /// Fetching the default model ended: what was fetched, or why it failed.
    FetchFinished(Result<String, String>),
    /// A line of progress (fetching the default model, …).
    Log(String),
    Error(String),
}

impl Action {
    /// Rows a movement moves the cursor (None: not a movement). Every list moves by these.
    pub fn nav_delta(&self) -> Option<i64> {
        Some(match self {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -PAGE,
            Action::PageDown => PAGE,
            Action::Top => i64::MIN / 4,
            Action::Bottom => i64::MAX / 4,
            Action::Scroll(d) => i64::from(*d) * 3,
            _ => return None,
        })
    }
}

/// A group to show: the rollouts of its step, the sample to select and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSource {
    pub run: Option<String>,
    /// The model spec whose tokenizer decodes the rollouts.
    pub model: String,
    /// The whole step, so that its prompts can be jumped between.
    pub rollouts: Vec<Rollout>,
    pub key: RolloutKey,
    /// Esc goes back there.
    pub from: View,
}

/// A rollout whose tokens to show.
#[derive(Clone, Debug, PartialEq)]
pub struct TokensSource {
    pub rollout: Rollout,
    /// The model spec whose tokenizer decodes them.
    pub model: String,
    pub from: View,
}

/// Work for the background thread; its answers come back as Actions.
#[derive(Debug)]
pub enum Request {
    ListRuns,
    ListEvals,
    EvalItems(String),
    ListModels,
    LoadRun(String),
    LoadStep {
        run: String,
        step: u64,
    },
    Scan {
        run: String,
        filter: RolloutFilter,
        limit: usize,
    },
    Evolution {
        run: String,
        prompt_id: String,
    },
    /// Token texts of a rollout with the tokenizer of `model` (a model spec of the run).
    TokenTexts {
        key: RolloutKey,
        model: String,
        tokens: Vec<u32>,
    },
    /// Start a new run (the worker names it `run-<unix time>`).
    Start(Box<RunConfig>),
    Command(TrainerCommand),
    FetchDefault,
    /// Answer a prompt with two models (the playground; its events come as `Action::Play`).
    Play(Box<PlayJob>),
    /// Draw runs' curves to a picture under the home's `plots/` (Curves' `P`).
    Plot {
        runs: Vec<String>,
        metrics: Vec<String>,
        smoothing: f64,
    },
}

/// A map of metric name to value, for Curves.
pub type MetricRow = BTreeMap<String, f64>;

/// Where the worker's answers go (the UI's channel, or a Vec in tests).
pub type Sink = std::sync::Arc<dyn Fn(Action) + Send + Sync>;

/// Events gathered for at most this long before they go to the UI as one action.
pub const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(40);

// ------------------------------------------------------------------ the playground

/// One prompt for both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayJob {
    /// Events name it; the view ignores those of an older job.
    pub id: u64,
    pub prompt: String,
    pub constraints: Option<raif_verify::Constraint>,
    /// `TARGET:MODE` of side A and side B (as `raif compare --a/--b`).
    pub sides: [String; 2],
    pub options: raif_rl::eval::playground::PlayOptions,
    /// A run is training here: generate at a lower priority.
    pub low_priority: bool,
}

/// What the engine reports about a job.
#[derive(Clone, Debug, PartialEq)]
pub enum PlayEvent {
    /// A line of progress (loading a model, and how long it took).
    Status { job: u64, line: String },
    /// New text of a side's samples (sample index, text), in order.
    Deltas {
        job: u64,
        side: usize,
        deltas: Vec<(usize, String)>,
    },
    /// A side finished: its answers scored, or why it could not answer.
    Done {
        job: u64,
        side: usize,
        result: Result<Vec<raif_rl::eval::playground::PlaySample>, String>,
        /// From the job's start to the side's first text (None: it produced none).
        first_token_s: Option<f64>,
        elapsed_s: f64,
    },
}
