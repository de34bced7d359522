//! Evaluation of a model (or a run's checkpoint) on the seven benchmarks in a prompt mode
//! (ALGORITHM §6): greedy, batched, every response and verdict stored in sled
//! (`evalruns`, `evalitems/<id>`), resumable, with the benchmark's metrics and timings.
//!
//! An evaluation's id is a function of its setup (what the model, checkpoint, template, data
//! and judge are, the benchmark, mode and generation length: [`EvalSetup::id`]), not of `--limit`: running the same command again continues
//! where it stopped, and a larger limit adds items to the ones already scored.

pub mod compare;
pub mod playground;
pub mod score;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use raif_datasets::loaders::Format;
use raif_datasets::{Record, Role};
use raif_model::{Generator, LoadedModel, PromptMode, SamplingParams};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::judge::ModelJudge;
use crate::store::{now_unix, EvalItem, EvalRecord, EvalRun, EvalStatus, Store};
use score::{answer_of, judge_queries, score_item, Generated};

/// The benchmarks `raif eval` scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Bench {
    Ifeval,
    Ifbench,
    Cello,
    Followbench,
    Infobench,
    Cfbench,
    Fbbench,
    /// Complex instructions written by `raif data gen` (records with rule-checked constraint
    /// trees), e.g. a held-out seed next to the one a run trained on.
    Generated,
}

impl Bench {
    pub const ALL: [Bench; 8] = [
        Bench::Ifeval,
        Bench::Ifbench,
        Bench::Cello,
        Bench::Followbench,
        Bench::Infobench,
        Bench::Cfbench,
        Bench::Fbbench,
        Bench::Generated,
    ];

    /// The name on the command line (the data loader's format name for the published ones).
    pub fn name(self) -> &'static str {
        match self {
            Bench::Generated => "generated",
            b => b.format().name(),
        }
    }

    /// The prefix of its metric keys (`ifeval.prompt_strict`, `fbbench.score`).
    pub fn key(self) -> &'static str {
        match self {
            Bench::Ifeval => "ifeval",
            Bench::Ifbench => "ifbench",
            Bench::Cello => "cello",
            Bench::Followbench => "followbench",
            Bench::Infobench => "infobench",
            Bench::Cfbench => "cfbench",
            Bench::Fbbench => "fbbench",
            Bench::Generated => "generated",
        }
    }

    pub fn format(self) -> Format {
        match self {
            Bench::Ifeval => Format::Ifeval,
            Bench::Ifbench => Format::Ifbench,
            Bench::Cello => Format::Cello,
            Bench::Followbench => Format::FollowbenchEn,
            Bench::Infobench => Format::Infobench,
            Bench::Cfbench => Format::Cfbench,
            Bench::Fbbench => Format::Fbbench,
            Bench::Generated => Format::Record,
        }
    }

    pub fn parse(s: &str) -> Result<Bench> {
        let s = s.to_ascii_lowercase();
        Bench::ALL
            .into_iter()
            .find(|b| b.name() == s || b.key() == s)
            .with_context(|| {
                let names: Vec<&str> = Bench::ALL.iter().map(|b| b.name()).collect();
                format!("unknown benchmark `{s}` ({})", names.join(", "))
            })
    }

    /// Scored by the LLM judge (needs `--judge`).
    pub fn judged(self) -> bool {
        matches!(
            self,
            Bench::Followbench | Bench::Infobench | Bench::Cfbench | Bench::Fbbench
        )
    }

    /// Where the benchmark lies under a data folder laid out like `../shared/data`.
    pub fn default_path(self, data_root: &Path) -> Result<PathBuf> {
        if self == Bench::Generated {
            bail!("generated has no default file: pass --data FILE, a file written by `raif data gen`");
        }
        self.format()
            .default_path(data_root)
            .with_context(|| format!("{} has no default file", self.name()))
    }

    /// Load the benchmark's records (file-, line- and field-named errors).
    pub fn load(self, path: &Path) -> Result<Vec<Record>> {
        raif_datasets::loaders::load(self.format(), path, &raif_datasets::catalog::VerifierIds)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("cannot load {} from {}", self.name(), path.display()))
    }
}

impl std::fmt::Display for Bench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The prompt mode's name (`io`, `cot`, `think`, `no-think`).
pub fn mode_name(m: PromptMode) -> &'static str {
    match m {
        PromptMode::Io => "io",
        PromptMode::Cot => "cot",
        PromptMode::Think => "think",
        PromptMode::NoThink => "no-think",
    }
}

/// What to evaluate and how.
#[derive(Clone, Debug)]
pub struct EvalSetup {
    /// The model as given (recorded; the loaded model is passed separately).
    pub model: String,
    /// `RUN@STEP` when a checkpoint is evaluated.
    pub checkpoint: Option<String>,
    pub bench: Bench,
    pub mode: PromptMode,
    /// The first N items (all when None).
    pub limit: Option<usize>,
    /// The judge model as given (judge-scored benchmarks).
    pub judge: Option<String>,
    pub max_new_tokens: usize,
    /// Prompts generated at once.
    pub batch: usize,
    /// The benchmark file or folder.
    pub data: PathBuf,
    /// What the names above stand for: see [`Identity`].
    pub identity: Identity,
}

/// What an evaluation's models, template and data *are*, whatever they were called on the
/// command line: two setups that generate or score differently never share an id, and the
/// same model reached by two names (`default`, its path) does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// [`model_identity`], with a checkpoint's [`checkpoint_identity`] appended.
    pub model: String,
    /// [`template_identity`] in the setup's mode.
    pub template: String,
    /// [`data_identity`] of the benchmark file or folder.
    pub data: String,
    /// The judge's [`model_identity`] (judge-scored benchmarks).
    pub judge: Option<String>,
}

/// How an evaluation decodes: greedy, always (one name in the id, so that a sampled
/// evaluation, if one is ever added, cannot resume a greedy one).
pub const EVAL_DECODING: &str = "greedy";

impl EvalSetup {
    /// `<bench>-<mode>-<12 hex digits of the setup's hash>`. The hash covers the benchmark,
    /// the mode, the decoding, the generation length and every [`Identity`]; not `--limit`
    /// (a larger limit continues the same evaluation) nor the batch size.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        let i = &self.identity;
        for part in [
            "eval-id-v2",
            self.bench.name(),
            mode_name(self.mode),
            EVAL_DECODING,
            &self.max_new_tokens.to_string(),
            i.model.as_str(),
            i.template.as_str(),
            i.data.as_str(),
            i.judge.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let hash = hex::encode(h.finalize());
        format!(
            "{}-{}-{}",
            self.bench.key(),
            mode_name(self.mode),
            &hash[..12]
        )
    }
}

/// The files that define a loaded model: the GGUF, or a Hugging Face folder's configuration,
/// tokenizer and weight files (sorted by name). Empty for a model built in memory.
pub fn model_files(lm: &LoadedModel) -> Result<Vec<PathBuf>> {
    let p = lm.source.path();
    if p.is_file() {
        return Ok(vec![p.to_path_buf()]);
    }
    if !p.is_dir() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(p)
        .with_context(|| format!("cannot list {}", p.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| {
            f.is_file()
                && f.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(
                        e,
                        "json" | "safetensors" | "model" | "txt" | "tiktoken" | "jinja"
                    )
                })
        })
        .collect();
    files.sort();
    Ok(files)
}

/// What a loaded model is: the SHA-256 of each of its [`model_files`] (read once per file and
/// remembered by the store), or, for a model with no files (`random:SHAPE`), its name.
pub fn model_identity(store: &Store, lm: &LoadedModel) -> Result<String> {
    let files = model_files(lm)?;
    if files.is_empty() {
        return Ok(format!("unfiled:{}", lm.source.path().display()));
    }
    let mut parts = Vec::new();
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        parts.push(format!("{name}={}", store.file_sha256(f)?));
    }
    Ok(parts.join(","))
}

/// What a checkpoint adds to its base model: the recorded SHA-256 of each of its blobs and
/// files (the trained weights among them).
pub fn checkpoint_identity(ck: &crate::store::CheckpointManifest) -> String {
    let mut parts: Vec<String> = ck
        .blobs
        .iter()
        .map(|b| format!("{}={}", b.name, b.sha256))
        .chain(ck.files.iter().map(|f| format!("{}={}", f.path, f.sha256)))
        .collect();
    parts.sort();
    format!("checkpoint[{}]", parts.join(","))
}

/// What a chat template does in a mode: the prompts it writes for a fixed conversation with
/// and without a system turn (two templates that render alike are the same template).
pub fn template_identity(t: &raif_model::ChatTemplate, mode: PromptMode) -> Result<String> {
    use raif_model::{Message, Role as R};
    let m = |role, c: &str| Message {
        role,
        content: c.to_string(),
    };
    let with_system = t.prompt_conversation(&[m(R::System, "S"), m(R::User, "U")], mode)?;
    let without = t.prompt_conversation(&[m(R::User, "U")], mode)?;
    let mut h = Sha256::new();
    h.update(with_system.as_bytes());
    h.update([0u8]);
    h.update(without.as_bytes());
    Ok(format!("{}:{}", t.name(), &hex::encode(h.finalize())[..16]))
}

/// What a benchmark file is: its SHA-256; for a folder, the SHA-256 of every file under it
/// with its relative path.
pub fn data_identity(store: &Store, path: &Path) -> Result<String> {
    if path.is_file() {
        return store.file_sha256(path);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))? {
            let p = e
                .with_context(|| format!("cannot list {}", d.display()))?
                .path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        h.update(
            f.strip_prefix(path)
                .unwrap_or(f)
                .to_string_lossy()
                .as_bytes(),
        );
        h.update([0u8]);
        h.update(store.file_sha256(f)?.as_bytes());
        h.update([0u8]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Progress of an evaluation, after each batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub done: usize,
    pub target: usize,
    /// Done before this command started (resumed).
    pub resumed: usize,
    pub generated_tokens: u64,
    pub generate_s: f64,
}

/// The parts of an evaluation command.
pub struct Evaluation<'a> {
    pub store: &'a Store,
    pub policy: &'a LoadedModel,
    pub judge: Option<&'a ModelJudge>,
    /// Set (e.g. by Ctrl-C) to stop after the current batch; what is done stays stored.
    pub stop: Option<&'a AtomicBool>,
}

/// The prompt of a record in a mode: the record's conversation in the policy's template.
pub fn prompt_of(lm: &LoadedModel, r: &Record, mode: PromptMode) -> Result<String> {
    let conv: Vec<raif_model::Message> = r
        .messages
        .iter()
        .map(|m| raif_model::Message {
            role: match m.role {
                Role::System => raif_model::Role::System,
                Role::User => raif_model::Role::User,
                Role::Assistant => raif_model::Role::Assistant,
            },
            content: m.content.clone(),
        })
        .collect();
    lm.template
        .prompt_conversation(&conv, mode)
        .with_context(|| format!("record `{}`", r.id))
}

/// Generate greedily for some records (one batch), in the policy's template and mode.
pub fn generate_batch(
    lm: &LoadedModel,
    records: &[&Record],
    mode: PromptMode,
    max_new_tokens: usize,
) -> Result<(Vec<Generated>, raif_model::generate::GenStats)> {
    let prompts: Vec<Vec<u32>> = records
        .iter()
        .map(|r| lm.tokenizer.encode(&prompt_of(lm, r, mode)?))
        .collect::<Result<_>>()?;
    let gen = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: lm.stop_ids.clone(),
    };
    let seeds = vec![0u64; prompts.len()];
    let (outs, stats) = gen.generate_with_stats(
        &prompts,
        &seeds,
        &SamplingParams::greedy(max_new_tokens),
        &mut |_| {},
    )?;
    let gens = outs
        .into_iter()
        .zip(&prompts)
        .map(|(g, p)| Generated {
            text: g.text,
            prompt_tokens: p.len() as u32,
            tokens: g.tokens.len() as u32,
            finish: match g.finish {
                raif_model::FinishReason::Stop => "stop",
                raif_model::FinishReason::StopString => "stop_string",
                raif_model::FinishReason::Length => "length",
            }
            .to_string(),
        })
        .collect();
    Ok((gens, stats))
}

/// Score generated responses of records (indices into the benchmark) into items; judge
/// questions of the whole batch go to the judge at once.
pub fn score_batch(
    bench: Bench,
    lm: &LoadedModel,
    mode: PromptMode,
    judge: Option<&ModelJudge>,
    items: &[(u32, &Record, Generated)],
) -> Result<Vec<EvalItem>> {
    let answers: Vec<_> = items
        .iter()
        .map(|(_, _, g)| {
            if g.finish == score::PROMPT_TOO_LONG {
                score::Answer {
                    reasoning: None,
                    answer: None,
                    format_ok: false,
                    unscorable: Some(format!(
                        "the prompt has {} tokens, the model's context is {}: nothing generated",
                        g.prompt_tokens, lm.model.cfg.max_position_embeddings
                    )),
                }
            } else {
                answer_of(&g.text, mode, &lm.template)
            }
        })
        .collect();
    let mut queries = Vec::new();
    for ((_, r, _), a) in items.iter().zip(&answers) {
        queries.extend(judge_queries(r, a));
    }
    let mut judged = HashMap::new();
    if !queries.is_empty() {
        let Some(j) = judge else {
            bail!(
                "{} is scored by an LLM judge: pass --judge MODEL (e.g. a local instruct model)",
                bench.name()
            );
        };
        let verdicts = j.ask_batch(&queries)?;
        judged = queries.into_iter().zip(verdicts).collect();
    }
    items
        .iter()
        .zip(answers)
        .map(|((index, r, g), a)| {
            let verdicts = score_item(bench, r, &a, &judged, judge)?;
            Ok(EvalItem {
                index: *index,
                record_id: r.id.clone(),
                prompt: r.prompt().to_string(),
                response: g.text.clone(),
                reasoning: a.reasoning,
                answer: a.answer,
                format_ok: a.format_ok,
                unscorable: a.unscorable,
                prompt_tokens: g.prompt_tokens,
                tokens: g.tokens,
                finish: g.finish.clone(),
                verdicts,
            })
        })
        .collect()
}

impl Evaluation<'_> {
    /// Run (or continue) an evaluation of `records` (the whole benchmark, in file order).
    /// Returns the evaluation with its metrics over the first `target` items; its status is
    /// `interrupted` when stopped early.
    pub fn run(
        &self,
        setup: &EvalSetup,
        records: &[Record],
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<EvalRun> {
        let t_start = Instant::now();
        if setup.bench.judged() && self.judge.is_none() {
            bail!(
                "{} is scored by an LLM judge: pass --judge MODEL (a local model, used as ALGORITHM §2 says)",
                setup.bench.name()
            );
        }
        if setup.batch == 0 {
            bail!("--batch must be at least 1");
        }
        let id = setup.id();
        let target = setup.limit.unwrap_or(records.len()).min(records.len());
        let mut run = match self.store.eval_run(&id)? {
            Some(r) => {
                if r.bench_items != records.len() {
                    bail!(
                        "evaluation `{id}` was made on {} items of {} and the benchmark now has {}: the data changed; start over with --fresh",
                        r.bench_items, setup.data.display(), records.len()
                    );
                }
                r
            }
            None => EvalRun {
                id: id.clone(),
                created_unix: now_unix(),
                model: setup.model.clone(),
                checkpoint: setup.checkpoint.clone(),
                bench: setup.bench.name().to_string(),
                mode: mode_name(setup.mode).to_string(),
                judge: setup.judge.clone(),
                template: setup.identity.template.clone(),
                max_new_tokens: setup.max_new_tokens,
                data: setup.data.display().to_string(),
                bench_items: records.len(),
                ..Default::default()
            },
        };
        run.target = target;
        run.status = EvalStatus::Running;
        run.updated_unix = now_unix();
        let stored = self.store.eval_items(&id)?;
        same_records(&id, &stored, records)?;
        let done: HashSet<u32> = stored.iter().map(|it| it.index).collect();
        drop(stored);
        self.store.put_eval_run(&run)?;

        // What is left, shortest prompts first (less padding per batch).
        let mut pending: Vec<(usize, usize)> = Vec::new();
        for (i, r) in records.iter().enumerate().take(target) {
            if !done.contains(&(i as u32)) {
                let n = self
                    .policy
                    .tokenizer
                    .encode(&prompt_of(self.policy, r, setup.mode)?)?
                    .len();
                pending.push((n, i));
            }
        }
        pending.sort();
        let resumed = (0..target).filter(|i| done.contains(&(*i as u32))).count();
        let mut done_now = resumed;
        let mut interrupted = false;
        for chunk in pending.chunks(setup.batch) {
            if self.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                interrupted = true;
                break;
            }
            // A prompt the model cannot take is reported as such, not truncated.
            let ctx = self.policy.model.cfg.max_position_embeddings;
            let (fit, long): (Vec<_>, Vec<_>) = chunk.iter().partition(|(n, _)| *n < ctx);
            let recs: Vec<&Record> = fit.iter().map(|&&(_, i)| &records[i]).collect();
            let (mut gens, stats) = if recs.is_empty() {
                (Vec::new(), Default::default())
            } else {
                generate_batch(self.policy, &recs, setup.mode, setup.max_new_tokens)?
            };
            let chunk: Vec<(usize, usize)> = fit.iter().chain(long.iter()).map(|&&c| c).collect();
            for &&(n, _) in &long {
                gens.push(Generated {
                    text: String::new(),
                    prompt_tokens: n as u32,
                    tokens: 0,
                    finish: score::PROMPT_TOO_LONG.into(),
                });
            }
            let t_score = Instant::now();
            let q_before = self.judge.map(|j| j.stats().questions).unwrap_or(0);
            let batch: Vec<(u32, &Record, Generated)> = chunk
                .iter()
                .zip(gens)
                .map(|(&(_, i), g)| (i as u32, &records[i], g))
                .collect();
            let items = score_batch(setup.bench, self.policy, setup.mode, self.judge, &batch)?;
            let tm = &mut run.timing;
            tm.prompt_tokens += stats.prompt_tokens as u64;
            tm.generated_tokens += stats.generated_tokens as u64;
            tm.generate_s += stats.prefill_s + stats.decode_s;
            tm.score_s += t_score.elapsed().as_secs_f64();
            tm.judge_questions += self.judge.map(|j| j.stats().questions).unwrap_or(0) - q_before;
            done_now += items.len();
            run.done = done_now;
            run.updated_unix = now_unix();
            self.store.commit_eval_items(&run, &items)?;
            progress(&Progress {
                done: done_now,
                target,
                resumed,
                generated_tokens: run.timing.generated_tokens,
                generate_s: run.timing.generate_s,
            });
        }
        let items: Vec<EvalItem> = self
            .store
            .eval_items(&id)?
            .into_iter()
            .filter(|it| (it.index as usize) < target)
            .collect();
        run.done = items.len();
        run.metrics = score::metrics(setup.bench, &items, records)?;
        run.status = if interrupted || items.len() < target {
            EvalStatus::Interrupted
        } else {
            EvalStatus::Finished
        };
        run.timing.wall_s += t_start.elapsed().as_secs_f64();
        run.updated_unix = now_unix();
        self.store.put_eval_run(&run)?;
        self.file_with_checkpoint(setup, &run)?;
        Ok(run)
    }

    /// Score an evaluation's stored responses again with the current verifiers (and judge),
    /// without generating: after a verifier fix, its verdicts and metrics follow the fix.
    pub fn rescore(&self, setup: &EvalSetup, records: &[Record]) -> Result<EvalRun> {
        let id = setup.id();
        let Some(mut run) = self.store.eval_run(&id)? else {
            bail!("no stored evaluation `{id}` to score again: run it first (without --rescore)");
        };
        if setup.bench.judged() && self.judge.is_none() {
            bail!(
                "{} is scored by an LLM judge: pass --judge MODEL",
                setup.bench.name()
            );
        }
        let stored = self.store.eval_items(&id)?;
        same_records(&id, &stored, records)?;
        for chunk in stored.chunks(setup.batch.max(1)) {
            let batch: Vec<(u32, &Record, Generated)> = chunk
                .iter()
                .filter_map(|it| {
                    let r = records.get(it.index as usize)?;
                    let g = Generated {
                        text: it.response.clone(),
                        prompt_tokens: it.prompt_tokens,
                        tokens: it.tokens,
                        finish: it.finish.clone(),
                    };
                    Some((it.index, r, g))
                })
                .collect();
            let t_score = Instant::now();
            let items = score_batch(setup.bench, self.policy, setup.mode, self.judge, &batch)?;
            run.timing.score_s += t_score.elapsed().as_secs_f64();
            self.store.commit_eval_items(&run, &items)?;
        }
        let items: Vec<EvalItem> = self
            .store
            .eval_items(&id)?
            .into_iter()
            .filter(|it| (it.index as usize) < run.target)
            .collect();
        run.metrics = score::metrics(setup.bench, &items, records)?;
        run.updated_unix = now_unix();
        self.store.put_eval_run(&run)?;
        self.file_with_checkpoint(setup, &run)?;
        Ok(run)
    }

    /// A checkpoint's finished evaluation also goes with its run (the run's evaluations by
    /// step).
    fn file_with_checkpoint(&self, setup: &EvalSetup, run: &EvalRun) -> Result<()> {
        if let (Some(ck), EvalStatus::Finished) = (&setup.checkpoint, run.status) {
            if let Ok((r, Some(step))) = crate::trainer::parse_checkpoint_spec(ck) {
                if self.store.run(&r)?.is_some() {
                    self.store.put_eval(
                        &r,
                        &EvalRecord {
                            step,
                            name: format!("{}/{}", setup.bench.key(), run.mode),
                            created_unix: now_unix(),
                            metrics: run.metrics.clone(),
                        },
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// What is stored must be the same records, or the scores would mix benchmarks.
fn same_records(id: &str, stored: &[EvalItem], records: &[Record]) -> Result<()> {
    for it in stored {
        let expected = records.get(it.index as usize).map(|r| r.id.as_str());
        if expected != Some(it.record_id.as_str()) {
            bail!(
                "evaluation `{id}` item {} was record `{}`, the benchmark now has {}: the data changed; start over with --fresh",
                it.index,
                it.record_id,
                expected.map_or("nothing".to_string(), |e| format!("`{e}`"))
            );
        }
    }
    Ok(())
}

/// Tokens per second of generation over an evaluation.
pub fn tokens_per_s(run: &EvalRun) -> f64 {
    run.timing.generated_tokens as f64 / run.timing.generate_s.max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> EvalSetup {
        EvalSetup {
            model: "default".into(),
            checkpoint: None,
            bench: Bench::Ifeval,
            mode: PromptMode::Io,
            limit: Some(3),
            judge: None,
            max_new_tokens: 64,
            batch: 8,
            data: PathBuf::from("data.jsonl"),
            identity: Identity {
                model: "model.gguf=aa".into(),
                template: "chatml:01".into(),
                data: "dd".into(),
                judge: None,
            },
        }
    }

    #[test]
    fn every_setting_that_changes_generation_or_scoring_changes_the_id() {
        let base = setup().id();
        type Change = Box<dyn Fn(&mut EvalSetup)>;
        let changes: Vec<(&str, Change)> = vec![
            ("bench", Box::new(|s| s.bench = Bench::Ifbench)),
            ("mode", Box::new(|s| s.mode = PromptMode::Think)),
            ("max tokens", Box::new(|s| s.max_new_tokens = 65)),
            (
                "model",
                Box::new(|s| s.identity.model = "model.gguf=ab".into()),
            ),
            (
                "template",
                Box::new(|s| s.identity.template = "chatml:02".into()),
            ),
            ("data", Box::new(|s| s.identity.data = "de".into())),
            ("judge", Box::new(|s| s.identity.judge = Some("j".into()))),
        ];
        for (what, change) in changes {
            let mut s = setup();
            change(&mut s);
            assert_ne!(s.id(), base, "{what}");
        }
        // Names and how much of it to run are not what is evaluated.
        let mut s = setup();
        s.model = "/models/smollm2.gguf".into();
        s.data = PathBuf::from("elsewhere/data.jsonl");
        s.limit = None;
        s.batch = 1;
        assert_eq!(s.id(), base);
    }

    #[test]
    fn a_template_identity_tells_templates_apart_by_what_they_render() {
        use raif_model::ChatTemplate;
        let t = |n| template_identity(&ChatTemplate::by_name(n).unwrap(), PromptMode::Io).unwrap();
        assert_ne!(
            t("chatml"),
            t("smollm"),
            "same name, another default system prompt"
        );
        assert_ne!(t("chatml"), t("llama3"));
        let think = template_identity(&ChatTemplate::by_name("chatml").unwrap(), PromptMode::Think);
        assert_ne!(think.unwrap(), t("chatml"));
    }
}
