//! Launch: model, data, preset and the key hyperparameters in a form; start, pause, resume,
//! stop and checkpoint now; fetch the default model when nothing is cached.

use crossterm::event::KeyCode;
use raif_model::fetch::CachedModel;
use raif_rl::config::{AnswerFormat, RunConfig, PRESETS};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use super::widgets::{self, dim};
use crate::action::{Action, InputTarget, Request};
use crate::component::{Component, Effects, KeyRow, Shared};
use crate::select::SelectList;

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
    pub fn set_selected(&mut self, value: String) {
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
    pub fn cycle_choice(&mut self, d: i32) {
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

impl LaunchState {
    /// Enter: type the value of a free field (a path, a number), else take the next choice.
    fn enter(&mut self, fx: &mut Effects) {
        let typed = self
            .rows
            .selected()
            .is_some_and(|&id| id.typed() || self.field(id).choices.is_empty());
        if typed {
            self.start_input(fx);
        } else {
            self.cycle_choice(1);
        }
    }

    fn start_input(&self, fx: &mut Effects) {
        let text = self.selected().map(|f| f.value.clone()).unwrap_or_default();
        fx.input(InputTarget::LaunchField, text);
    }

    /// The cached models: the model field offers them.
    fn set_models(&mut self, models: Vec<CachedModel>) {
        let mut choices = vec!["default".to_string()];
        choices.extend(models.iter().map(|m| m.path.display().to_string()));
        self.model.choices = choices;
        self.models = models;
    }

    fn fetch_default(&mut self, fx: &mut Effects) {
        if !self.fetching {
            self.fetching = true;
            fx.log("fetching the default model…".into());
            fx.request(Request::FetchDefault);
        }
    }

    fn fetch_finished(&mut self, r: Result<String, String>, fx: &mut Effects) {
        self.fetching = false;
        fx.request(Request::ListModels);
        fx.log(match r {
            Ok(o) => format!("fetch done: {o}"),
            Err(e) => format!("fetch failed: {e}"),
        });
    }
}

/// Start, pause, stop and checkpoint are the App's (the trainer's) actions; the form's rows
/// move with the arrows and Enter.
const KEYS: &[KeyRow<LaunchState>] = &[
    KeyRow::note("↑↓", "choose a field"),
    KeyRow::note("← →", "cycle the choices"),
    KeyRow::note("Enter", "edit the value (or next choice)"),
    KeyRow::new(
        "s",
        "start training",
        &[(KeyCode::Char('s'), Action::StartRun)],
    )
    .when(|_, sh| !sh.train.phase.active()),
    KeyRow::new(
        "p",
        "pause / resume",
        &[(KeyCode::Char('p'), Action::PauseResume)],
    ),
    KeyRow::new(
        "x",
        "stop (after this step, with a checkpoint)",
        &[(KeyCode::Char('x'), Action::StopRun)],
    ),
    KeyRow::new(
        "c",
        "checkpoint now (end of this step)",
        &[(KeyCode::Char('c'), Action::SaveNow)],
    ),
    KeyRow::new(
        "F",
        "fetch the default model",
        &[(KeyCode::Char('F'), Action::FetchDefaultModel)],
    ),
];

impl Component for LaunchState {
    const KEYS: &'static [KeyRow<Self>] = KEYS;

    fn update(&mut self, a: Action, _sh: &Shared<'_>, fx: &mut Effects) {
        if let Some(d) = a.nav_delta() {
            self.rows.move_by(d);
            return;
        }
        match a {
            Action::Left => self.cycle_choice(-1),
            Action::Right => self.cycle_choice(1),
            Action::CycleChoice(d) => self.cycle_choice(d),
            Action::Enter => self.enter(fx),
            Action::StartInput(InputTarget::LaunchField) => self.start_input(fx),
            Action::Submit(InputTarget::LaunchField, s) => self.set_selected(s),
            Action::FetchDefaultModel => self.fetch_default(fx),
            Action::FetchFinished(r) => self.fetch_finished(r, fx),
            Action::Models(models) => self.set_models(models),
            _ => {}
        }
    }

    fn render(&self, sh: &Shared<'_>, f: &mut Frame, area: Rect) {
        let [form, side] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Min(20)]).areas(area);
        f.render_widget(
            Paragraph::new(form_lines(self, sh, form.width as usize))
                .block(
                    Block::bordered()
                        .title(Line::styled(" New run ", widgets::title_style()))
                        .border_style(Style::default().fg(Color::Cyan)),
                )
                .wrap(Wrap { trim: false }),
            form,
        );
        let [models, control] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Min(5)]).areas(side);
        widgets::render_text(
            f,
            models,
            Line::styled(" Cached models ", widgets::title_style()),
            model_lines(self),
            0,
        );
        widgets::render_text(
            f,
            control,
            Line::styled(" Training ", widgets::title_style()),
            training_lines(sh, control.height),
            0,
        );
    }
}

/// The form: a line per field (the selected one highlighted, typed text while editing), the
/// field's help, and whether the configuration is ready.
fn form_lines(l: &LaunchState, sh: &Shared<'_>, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let label_w = 18;
    let value_w = width.saturating_sub(label_w + 6);
    for (i, &id) in l.rows.iter().enumerate() {
        let fl = l.field(id);
        let sel = i == l.rows.index();
        let editing = sel && sh.input.is_some();
        let mut value = if editing {
            sh.input.map(|x| x.1.clone()).unwrap_or_default()
        } else {
            fl.value.clone()
        };
        if id == FieldId::Model {
            if let Some(m) = l
                .models
                .iter()
                .find(|m| m.path.display().to_string() == value)
            {
                value = format!("{} ({})", m.name, m.kind);
            }
        }
        let arrows = if fl.choices.len() > 1 && !editing {
            "‹ › "
        } else {
            ""
        };
        let st = if sel {
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(
                if sel { "▶ " } else { "  " },
                Style::default().fg(Color::Cyan),
            ),
            Span::styled(
                format!("{:<label_w$}", fl.name),
                if sel { widgets::bold() } else { dim() },
            ),
            Span::styled(widgets::truncate(&value, value_w), st),
            Span::styled(format!(" {arrows}"), dim()),
        ]));
    }
    lines.push(Line::raw(""));
    if let Some(fl) = l.selected() {
        lines.push(Line::styled(format!("  {}", fl.help), dim()));
    }
    lines.push(Line::raw(""));
    match l.config() {
        Ok(c) => lines.push(Line::styled(
            format!(
                "  ready: {}{} GRPO steps × {} prompts × G {} ({})",
                match c.warmup.steps {
                    0 => String::new(),
                    w => format!("{w} warm-up + "),
                },
                c.train.steps,
                c.train.prompts_per_step,
                c.train.group_size,
                match c.no_think_per_group() {
                    0 => "superior CoT not enforced".to_string(),
                    n => format!("{n} no-think, superior CoT enforced"),
                }
            ),
            Style::default().fg(Color::Green),
        )),
        Err(e) => lines.push(Line::styled(
            format!("  not ready: {e}"),
            Style::default().fg(Color::Red),
        )),
    }
    let start = if sh.train.phase.active() {
        "  a run is training: Space pauses, X stops"
    } else {
        "  s starts training"
    };
    lines.push(Line::styled(start, widgets::bold()));
    lines
}

/// The cached models, and how to fetch the default one when it is not among them.
fn model_lines(l: &LaunchState) -> Vec<Line<'static>> {
    let mut ml = Vec::new();
    let has_default = l.models.iter().any(|m| m.name.starts_with("default"));
    if l.models.is_empty() {
        ml.push(Line::styled("No model is cached.", widgets::bold()));
    }
    for m in &l.models {
        ml.push(Line::from(vec![
            Span::raw(format!("{} ", m.name)),
            Span::styled(
                format!("{} · {:.0} MB", m.kind, m.bytes as f64 / 1e6),
                dim(),
            ),
        ]));
    }
    if !has_default {
        ml.push(Line::raw(""));
        ml.push(Line::styled(
            if l.fetching {
                "fetching the default model (SmolLM2-135M-Instruct)…"
            } else {
                "F fetches the default model (SmolLM2-135M-Instruct, ~100 MB)"
            },
            Style::default().fg(Color::Yellow),
        ));
    }
    ml
}

/// The training run's status, and as much of the log as fits in `height` rows.
fn training_lines(sh: &Shared<'_>, height: u16) -> Vec<Line<'static>> {
    let t = &sh.train;
    let mut cl = vec![Line::from(vec![
        Span::raw("status "),
        Span::styled(t.phase.name().to_string(), widgets::phase_style(&t.phase)),
        Span::raw(
            t.run_id
                .as_ref()
                .map(|r| format!(" · {r}"))
                .unwrap_or_default(),
        ),
    ])];
    if t.phase.active() {
        cl.push(Line::raw(format!(
            "step {} of {} · {} done",
            t.step, t.total_steps, t.steps_done
        )));
        cl.push(Line::styled(
            "p pause/resume · x stop · c checkpoint now",
            dim(),
        ));
    }
    cl.push(Line::raw(""));
    let room = height.saturating_sub(2 + cl.len() as u16) as usize;
    let skip = sh.log.len().saturating_sub(room);
    for s in sh.log.iter().skip(skip) {
        cl.push(Line::styled(s.clone(), dim()));
    }
    cl
}
