//! Everything that can change the [`App`](crate::app::App): keys mapped by the components,
//! the trainer's events and the store reads of the worker. `App::update` is the only place
//! state changes, and it answers with [`Request`]s for the worker (never blocking work).

use std::collections::BTreeMap;

use raif_model::fetch::CachedModel;
use raif_rl::config::RunConfig;
use raif_rl::store::{EvalRun, Metrics, Rollout, RolloutFilter, RunInfo};
use raif_rl::trainer::{TrainerCommand, TrainerEvent};

/// The screens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    Launch,
    Live,
    Group,
    Curves,
    Replay,
    Tokens,
    /// Stored benchmark evaluations per model, mode and checkpoint.
    Eval,
    /// Two evaluations of the same benchmark side by side, item by item.
    Compare,
}

impl View {
    pub const ALL: [View; 8] = [
        View::Launch,
        View::Live,
        View::Group,
        View::Curves,
        View::Replay,
        View::Tokens,
        View::Eval,
        View::Compare,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Launch => "Launch",
            View::Live => "Live",
            View::Group => "Group",
            View::Curves => "Curves",
            View::Replay => "Replay",
            View::Tokens => "Tokens",
            View::Eval => "Eval",
            View::Compare => "Compare",
        }
    }

    /// The digit that opens it.
    pub fn key(self) -> char {
        match self {
            View::Launch => '1',
            View::Live => '2',
            View::Group => '3',
            View::Curves => '4',
            View::Replay => '5',
            View::Tokens => '6',
            View::Eval => '7',
            View::Compare => '8',
        }
    }
}

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

    // Tokens.
    CycleTokenColour,

    // Launch form.
    CycleChoice(i32),

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
        items: Vec<raif_rl::store::EvalItem>,
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
}

/// A map of metric name to value, for Curves.
pub type MetricRow = BTreeMap<String, f64>;
