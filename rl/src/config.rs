//! Run configuration (TOML): every hyperparameter of ALGORITHM.md §3–5 with the reference
//! values as defaults, and the presets `grpo`, `raif` (= grpo + superior-CoT enforcement +
//! behaviour cloning) and `tiny` (sized so that one step of the default model takes under a
//! minute on a 2-core CPU).

use anyhow::{bail, Context, Result};
use raif_model::train::LoraConfig;
use raif_model::PromptMode;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Which preset this configuration started from (informational).
    pub preset: String,
    pub model: ModelSection,
    pub data: DataSection,
    pub train: TrainSection,
    pub rollout: RolloutSection,
    pub grpo: GrpoSection,
    pub raif: RaifSection,
    pub eval: EvalSection,
    pub warmup: WarmupSection,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    /// `default`, a .gguf file, a Hugging Face folder, or a cached OWNER/NAME.
    pub path: String,
    /// cpu, cuda, cuda:N or auto.
    pub device: String,
    /// Override the chat template (chatml, smollm, qwen, llama3, llama3.1, deepseek-r1, mistral).
    pub template: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataSection {
    /// A JSONL file of records (raif-datasets format, or any benchmark file the loaders read).
    /// Empty: generate complex instructions with the built-in generator.
    pub path: String,
    /// Records generated when `path` is empty.
    pub generate_n: usize,
    /// Nesting depth of generated constraint trees (1–3; standard profile).
    pub generate_depth: usize,
    /// Generator profile: `standard` (trees of depth 1–3, long demonstrations) or `short`
    /// (one or two constraints, a plan line per constraint, a two-sentence answer).
    pub generate_profile: String,
    /// Short profile: constraints per record (1 or 2; 0: a mix of both).
    pub generate_constraints: u8,
    /// Curriculum: the first this many GRPO steps (all of them, if the run is shorter) draw
    /// only records with a single constraint, later steps draw from every record (0: off).
    pub curriculum_steps: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mode {
    Full,
    Lora(LoraConfig),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSection {
    pub seed: u64,
    /// Rollout steps.
    pub steps: usize,
    pub prompts_per_step: usize,
    /// G: samples per prompt (the no-think share included).
    pub group_size: usize,
    /// Samples per optimizer step (RAIF: 128, i.e. two optimizer steps per rollout step).
    pub samples_per_optimizer_step: usize,
    /// Samples per forward/backward (gradients accumulate over micro-batches).
    pub micro_batch: usize,
    pub mode: Mode,
    pub learning_rate: f64,
    pub warmup_ratio: f64,
    /// The cosine decay ends at this fraction of the peak learning rate.
    pub min_lr_ratio: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub max_grad_norm: f64,
    pub gradient_checkpointing: bool,
    /// Save a checkpoint every this many steps (the last step is always saved).
    pub checkpoint_every: usize,
    /// Keep only the newest this many checkpoints (0: keep all).
    pub keep_checkpoints: usize,
}

/// How responses are prompted and scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerFormat {
    /// RAIF: reason in `<think>`, answer in `<answer>` (or after `</think>` for R1-style
    /// templates); format score ±1.
    Think,
    /// Plain GRPO without a reasoning format: the whole response is the answer (format score
    /// +1); superior-CoT enforcement does not apply.
    Plain,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RolloutSection {
    pub format: AnswerFormat,
    pub temperature: f64,
    pub top_p: f64,
    pub top_k: usize,
    pub max_new_tokens: usize,
    /// Sequences generated at once.
    pub generation_batch: usize,
    /// Budget forcing (ALGORITHM §7): reasoning tokens before `</think>\n<answer>\n` is
    /// injected (0: off).
    pub think_budget: usize,
    /// Answer tokens after `</think>` before `</answer>` is injected (0: off).
    pub answer_budget: usize,
    /// Format score of a sample with an injected tag (its answer is scored as usual): −1 as if
    /// the model had not closed it.
    pub forced_format_score: f64,
    /// Generation stops at these strings, which stay in the text (e.g. `</answer>`).
    pub stop_strings: Vec<String>,
}

/// The policy the KL term holds the trained policy to (`grpo.reference`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferencePolicy {
    /// The model the run started from (the paper; with LoRA, the base with adapters off).
    Start,
    /// The policy at the end of the warm-up: RL held to its cold-start checkpoint, as
    /// DeepSeek-R1's RL starts from its SFT model. The same as `start` without a warm-up.
    Warmup,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpoSection {
    pub clip_eps: f64,
    pub kl_coef: f64,
    /// What the KL term compares with.
    pub reference: ReferencePolicy,
    /// Skip the policy forward/backward of samples in groups whose baseline rewards are all
    /// equal (zero advantage; DAPO's dynamic-sampling rationale). Their KL term is skipped
    /// with them; behaviour cloning is not. The denominators stay as they were.
    pub skip_zero_std_groups: bool,
}

/// How a GRPO step draws the expert demonstrations it clones (`raif.bc_sampling`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BcSampling {
    /// Every demonstration equally likely.
    Uniform,
    /// Each demonstration weighted by how often the policy's rollouts failed its constraint
    /// types in the run's earlier GRPO steps (`trainer::sampling`).
    Failing,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaifSection {
    /// Superior-CoT enforcement (ALGORITHM §4).
    pub enforce_superior_cot: bool,
    /// Share of each group sampled with the no-think prompt (1/4: 2 of 8).
    pub no_think_fraction: f64,
    /// Behaviour cloning of expert demonstrations (ALGORITHM §5).
    pub expert_bc: bool,
    pub bc_coef: f64,
    /// Mask the expert's prompt tokens out of the BC loss (the reference code trained on them).
    pub bc_mask_prompt: bool,
    /// How GRPO steps draw their demonstrations: `uniform` (the paper), or `failing`: weighted
    /// towards the constraint types the policy's own rollouts have been failing in this run.
    pub bc_sampling: BcSampling,
    /// The group mean and std include the no-think samples (the paper). Off: the baseline is
    /// over the reasoning samples only (the keep rule still compares with no-think samples).
    pub no_think_in_baseline: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalSection {
    /// Score a held-out batch every this many GRPO steps (0: never), greedy and without
    /// forcing; also at the end of the warm-up and at the last step.
    pub every: usize,
    pub prompts: usize,
}

/// A cold start (DeepSeek-R1): behaviour cloning only, prompts masked, before GRPO, as the
/// first `steps` steps of the same run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WarmupSection {
    /// Warm-up steps (0: off). GRPO's `train.steps` come after them.
    pub steps: usize,
    /// Constant learning rate of the warm-up.
    pub learning_rate: f64,
    /// Expert demonstrations per warm-up step (one optimizer step).
    pub demos_per_step: usize,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            path: "default".into(),
            device: "auto".into(),
            template: None,
        }
    }
}
impl Default for DataSection {
    fn default() -> Self {
        DataSection {
            path: String::new(),
            generate_n: 2000,
            generate_depth: 2,
            generate_profile: "standard".into(),
            generate_constraints: 0,
            curriculum_steps: 0,
        }
    }
}
impl Default for TrainSection {
    fn default() -> Self {
        TrainSection {
            seed: 42,
            steps: 30,
            prompts_per_step: 32,
            group_size: 8,
            samples_per_optimizer_step: 128,
            micro_batch: 4,
            mode: Mode::Full,
            learning_rate: 1e-6,
            warmup_ratio: 0.03,
            min_lr_ratio: 0.1,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.0,
            max_grad_norm: 1.0,
            gradient_checkpointing: true,
            checkpoint_every: 1,
            keep_checkpoints: 2,
        }
    }
}
impl Default for RolloutSection {
    fn default() -> Self {
        RolloutSection {
            format: AnswerFormat::Think,
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            max_new_tokens: 4096,
            generation_batch: 64,
            think_budget: 0,
            answer_budget: 0,
            forced_format_score: -1.0,
            stop_strings: Vec::new(),
        }
    }
}
impl Default for GrpoSection {
    fn default() -> Self {
        GrpoSection {
            clip_eps: 0.2,
            kl_coef: 0.001,
            reference: ReferencePolicy::Start,
            skip_zero_std_groups: false,
        }
    }
}
impl Default for RaifSection {
    fn default() -> Self {
        RaifSection {
            enforce_superior_cot: true,
            no_think_fraction: 0.25,
            expert_bc: true,
            bc_coef: 1.0,
            bc_mask_prompt: false,
            bc_sampling: BcSampling::Uniform,
            no_think_in_baseline: true,
        }
    }
}
impl Default for EvalSection {
    fn default() -> Self {
        EvalSection {
            every: 10,
            prompts: 32,
        }
    }
}
impl Default for WarmupSection {
    fn default() -> Self {
        WarmupSection {
            steps: 0,
            learning_rate: 5e-4,
            demos_per_step: 4,
        }
    }
}
impl Default for RunConfig {
    fn default() -> Self {
        RunConfig::preset("raif").unwrap_or_else(|_| unreachable!())
    }
}

pub const PRESETS: [&str; 3] = ["grpo", "raif", "tiny"];

impl RunConfig {
    pub fn preset(name: &str) -> Result<RunConfig> {
        let base = |preset: &str| RunConfig {
            preset: preset.into(),
            model: ModelSection::default(),
            data: DataSection::default(),
            train: TrainSection::default(),
            rollout: RolloutSection::default(),
            grpo: GrpoSection::default(),
            raif: RaifSection::default(),
            eval: EvalSection::default(),
            warmup: WarmupSection::default(),
        };
        Ok(match name {
            "raif" => base("raif"),
            "grpo" => {
                let mut c = base("grpo");
                c.raif.enforce_superior_cot = false;
                c.raif.no_think_fraction = 0.0;
                c.raif.expert_bc = false;
                c
            }
            "tiny" => {
                // Sized for the 135M default model on a 2-core CPU, with the switches of
                // ALGORITHM §7 on (docs/RESULTS.md has the sweeps these values come from).
                let mut c = base("tiny");
                c.data.generate_n = 400;
                c.data.generate_profile = "short".into();
                c.data.generate_constraints = 0;
                // Every GRPO step draws from all records: two-constraint prompts give groups
                // more reward variance from the start (docs/RESULTS.md, session 14).
                c.data.curriculum_steps = 0;
                c.warmup.steps = 36;
                c.warmup.learning_rate = 5e-4;
                c.warmup.demos_per_step = 8;
                c.train.steps = 50;
                c.train.prompts_per_step = 2;
                c.train.group_size = 4;
                c.train.samples_per_optimizer_step = 6;
                c.train.micro_batch = 3;
                c.train.mode = Mode::Lora(LoraConfig {
                    r: 16,
                    alpha: 32.0,
                    ..LoraConfig::default()
                });
                c.train.learning_rate = 5e-4;
                c.train.warmup_ratio = 0.0;
                // Micro-batches of 3 short sequences fit without recomputation (peak under
                // 3 GB); recomputing made the whole run 33 minutes instead of about 26.
                c.train.gradient_checkpointing = false;
                c.rollout.max_new_tokens = 160;
                c.rollout.think_budget = 48;
                c.rollout.answer_budget = 96;
                c.rollout.forced_format_score = 0.0;
                c.rollout.stop_strings = vec!["</answer>".into()];
                c.rollout.generation_batch = 8;
                c.raif.bc_mask_prompt = true;
                // Behaviour cloning weighs 3 during GRPO, so that the families the warm-up
                // taught are not lost to the few GRPO groups that see them (session 14: held
                // out 54.0% of instructions against 50.8% at weight 1).
                c.raif.bc_coef = 3.0;
                // At G = 4 a no-think sample costs a quarter of each group and the keep rule
                // drops about one reasoning sample in eight; off, the run reached +1.59 over its
                // last ten GRPO steps against +1.08 (docs/RESULTS.md, ablations). The `raif`
                // preset keeps enforcement; `--set raif.enforce_superior_cot=true` restores it.
                c.raif.enforce_superior_cot = false;
                c.raif.no_think_in_baseline = false;
                c.grpo.skip_zero_std_groups = true;
                // At the end of the warm-up, at GRPO step 25 and at the last: each takes
                // about 25 s.
                c.eval.every = 25;
                c.eval.prompts = 16;
                c
            }
            other => bail!("unknown preset `{other}` (grpo, raif, tiny)"),
        })
    }

    /// Parse a TOML file; unknown keys are errors naming the key.
    pub fn from_toml(text: &str, file: &str) -> Result<RunConfig> {
        let c: RunConfig =
            toml::from_str(text).with_context(|| format!("{file}: invalid run configuration"))?;
        c.validate().with_context(|| file.to_string())?;
        Ok(c)
    }

    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }

    /// This configuration with one value set from `KEY=VALUE`: a dotted key
    /// (`warmup.steps`, `train.mode.r`) and a TOML value (`0`, `5e-4`, `true`, `"short"`,
    /// `["</answer>"]`; a bare word is read as a string). Unknown keys and values of the wrong
    /// type are errors that name them.
    pub fn with_setting(&self, kv: &str) -> Result<RunConfig> {
        let (key, value) = kv
            .split_once('=')
            .with_context(|| format!("--set {kv}: expected KEY=VALUE, e.g. warmup.steps=0"))?;
        let key = key.trim();
        let parsed: toml::Value = toml::from_str::<toml::Table>(&format!("v = {}", value.trim()))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.trim().to_string()));
        let mut doc = toml::Value::try_from(self)?;
        let parts: Vec<&str> = key.split('.').collect();
        let (last, sections) = parts
            .split_last()
            .with_context(|| format!("--set {kv}: empty key"))?;
        let mut table = doc
            .as_table_mut()
            .context("a run configuration is a TOML table")?;
        for (i, part) in sections.iter().enumerate() {
            table = table
                .get_mut(*part)
                .and_then(toml::Value::as_table_mut)
                .with_context(|| {
                    format!("--set {kv}: unknown section `{}`", parts[..=i].join("."))
                })?;
        }
        table.insert(last.to_string(), parsed);
        let c: RunConfig = doc.try_into().map_err(|e: toml::de::Error| {
            anyhow::anyhow!(
                "--set {kv}: {} (see `raif config show` for the keys and their types)",
                e.message()
            )
        })?;
        Ok(c)
    }

    /// Steps of the whole run: the warm-up's, then GRPO's.
    pub fn total_steps(&self) -> usize {
        self.warmup.steps + self.train.steps
    }

    /// The step whose policy is the KL reference, when that is the warm-up's last step (a
    /// warm-up, a KL term and `grpo.reference = "warmup"`); its checkpoint is kept.
    pub fn warmup_reference_step(&self) -> Option<u64> {
        (self.grpo.reference == ReferencePolicy::Warmup
            && self.warmup.steps > 0
            && self.grpo.kl_coef > 0.0)
            .then_some(self.warmup.steps as u64)
    }

    /// 0 for a warm-up step, 1 for a GRPO step (the `phase` metric).
    pub fn phase_of(&self, step: u64) -> u8 {
        u8::from(step > self.warmup.steps as u64)
    }

    /// Samples of a group drawn with the no-think prompt.
    pub fn no_think_per_group(&self) -> usize {
        if !self.raif.enforce_superior_cot || self.rollout.format == AnswerFormat::Plain {
            return 0;
        }
        ((self.train.group_size as f64) * self.raif.no_think_fraction).round() as usize
    }

    /// The prompt mode of the trained (reasoning) samples.
    pub fn prompt_mode(&self) -> PromptMode {
        match self.rollout.format {
            AnswerFormat::Think => PromptMode::Think,
            AnswerFormat::Plain => PromptMode::Io,
        }
    }

    // `!(x > 0.0)` on purpose: it also rejects NaN.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn validate(&self) -> Result<()> {
        let t = &self.train;
        if (t.steps == 0 && self.warmup.steps == 0)
            || t.prompts_per_step == 0
            || t.micro_batch == 0
            || t.samples_per_optimizer_step == 0
        {
            bail!("train.steps (or warmup.steps), prompts_per_step, micro_batch and samples_per_optimizer_step must be at least 1");
        }
        if t.group_size < 2 {
            bail!("train.group_size must be at least 2 (advantages are relative to the group)");
        }
        if self.no_think_per_group() >= t.group_size {
            bail!(
                "raif.no_think_fraction leaves no reasoning sample in a group of {}",
                t.group_size
            );
        }
        if !(t.learning_rate > 0.0) {
            bail!("train.learning_rate must be positive");
        }
        if !(0.0..1.0).contains(&t.warmup_ratio) || !(0.0..=1.0).contains(&t.min_lr_ratio) {
            bail!("train.warmup_ratio must be in [0, 1) and min_lr_ratio in [0, 1]");
        }
        if let Mode::Lora(l) = &t.mode {
            l.validate()?;
        }
        if self.rollout.max_new_tokens == 0 || self.rollout.generation_batch == 0 {
            bail!("rollout.max_new_tokens and generation_batch must be at least 1");
        }
        if !(0.0..1.0).contains(&self.raif.no_think_fraction) {
            bail!("raif.no_think_fraction must be in [0, 1)");
        }
        if !(self.grpo.clip_eps > 0.0) || self.grpo.kl_coef < 0.0 {
            bail!("grpo.clip_eps must be positive and kl_coef non-negative");
        }
        let r = &self.rollout;
        if (r.think_budget == 0) != (r.answer_budget == 0) {
            bail!("rollout.think_budget and rollout.answer_budget are set together (both 0: no budget forcing)");
        }
        if r.think_budget > 0 {
            if self.rollout.format == AnswerFormat::Plain {
                bail!("rollout.think_budget: budget forcing needs rollout.format = \"think\"");
            }
            // Room for both budgets and the injected tags.
            if r.max_new_tokens < r.think_budget + r.answer_budget + 16 {
                bail!(
                    "rollout.max_new_tokens ({}) must be at least think_budget + answer_budget + 16 ({}) to leave room for the injected tags",
                    r.max_new_tokens,
                    r.think_budget + r.answer_budget + 16
                );
            }
        }
        if !r.forced_format_score.is_finite() || r.forced_format_score.abs() > 1.0 {
            bail!("rollout.forced_format_score must be in [-1, 1]");
        }
        if r.stop_strings.iter().any(String::is_empty) {
            bail!("rollout.stop_strings: an empty stop string would stop at once");
        }
        match self.data.generate_profile.as_str() {
            "standard" | "short" => {}
            other => {
                bail!("data.generate_profile must be \"standard\" or \"short\", got \"{other}\"")
            }
        }
        if self.data.generate_constraints > 2 {
            bail!("data.generate_constraints must be 0 (a mix), 1 or 2");
        }
        let w = &self.warmup;
        if w.steps > 0 && (w.demos_per_step == 0 || !(w.learning_rate > 0.0)) {
            bail!("warmup.demos_per_step must be at least 1 and warmup.learning_rate positive");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_through_toml() {
        for p in PRESETS {
            let c = RunConfig::preset(p).unwrap();
            c.validate().unwrap();
            let text = c.to_toml().unwrap();
            assert_eq!(RunConfig::from_toml(&text, "x.toml").unwrap(), c, "{p}");
        }
        let raif = RunConfig::preset("raif").unwrap();
        assert_eq!(raif.no_think_per_group(), 2);
        assert_eq!(
            (raif.train.group_size, raif.grpo.kl_coef, raif.grpo.clip_eps),
            (8, 0.001, 0.2)
        );
        assert_eq!(RunConfig::preset("grpo").unwrap().no_think_per_group(), 0);
        let tiny = RunConfig::preset("tiny").unwrap();
        assert_eq!(tiny.no_think_per_group(), 0);
        let mut with_enforcement = tiny.clone();
        with_enforcement.raif.enforce_superior_cot = true;
        assert_eq!(with_enforcement.no_think_per_group(), 1);
    }

    #[test]
    fn bad_configs_name_the_problem() {
        let e = format!(
            "{:#}",
            RunConfig::from_toml("[train]\nstepz = 3\n", "run.toml").unwrap_err()
        );
        assert!(e.contains("run.toml") && e.contains("stepz"), "{e}");
        let e = format!(
            "{:#}",
            RunConfig::from_toml("[train]\ngroup_size = 1\n", "run.toml").unwrap_err()
        );
        assert!(e.contains("group_size"), "{e}");
        // Partial files fill the rest with defaults.
        let c = RunConfig::from_toml("[train]\nsteps = 7\n", "run.toml").unwrap();
        assert_eq!(c.train.steps, 7);
        assert_eq!(c.train.group_size, 8);
    }
}
