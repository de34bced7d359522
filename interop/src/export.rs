//! `raif export RUN --format jsonl|parquet`.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, StringBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use raif_store::{Rollout, RolloutFilter, Store};
use serde_json::Value;

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON object a line: the run, each step's metrics, each rollout (`raif import jsonl`
    /// reads it back).
    Jsonl,
    /// One row per rollout (`step`, `prompt`, `completion`, `reward`, `advantage`, … — TRL's
    /// column names where TRL has one, so `raif import trl` reads it back too).
    Parquet,
}

fn tagged(kind: &str, v: Value) -> Value {
    match v {
        Value::Object(mut o) => {
            o.insert("kind".into(), Value::String(kind.into()));
            Value::Object(o)
        }
        other => other,
    }
}

/// Write a run as JSONL; returns the number of rollouts written.
pub fn export_jsonl(store: &Store, run: &str, out: &mut dyn Write) -> Result<usize> {
    let info = store
        .run(run)?
        .ok_or_else(|| anyhow!("no run `{run}` in {}", store.path().display()))?;
    let w = |out: &mut dyn Write, v: &Value| -> Result<()> {
        serde_json::to_writer(&mut *out, v)?;
        out.write_all(b"\n").context("writing the export")
    };
    w(out, &tagged("run", serde_json::to_value(&info)?))?;
    for (step, m) in store.metrics(run)? {
        w(
            out,
            &serde_json::json!({"kind": "metrics", "step": step, "metrics": m}),
        )?;
    }
    let mut n = 0;
    for r in store.scan_rollouts(run, RolloutFilter::default()) {
        let r = r?;
        w(out, &tagged("rollout", serde_json::to_value(&r)?))?;
        n += 1;
    }
    out.flush().context("writing the export")?;
    Ok(n)
}

struct Columns {
    step: UInt64Builder,
    prompt_index: UInt32Builder,
    sample: UInt32Builder,
    prompt_id: StringBuilder,
    prompt: StringBuilder,
    completion: StringBuilder,
    reasoning: StringBuilder,
    answer: StringBuilder,
    finish: StringBuilder,
    reward: Float64Builder,
    answer_score: Float64Builder,
    format_score: Float64Builder,
    satisfied: UInt32Builder,
    total: UInt32Builder,
    advantage: Float64Builder,
    kept: BooleanBuilder,
    no_think: BooleanBuilder,
    eval: BooleanBuilder,
    verdicts: StringBuilder,
    rows: usize,
}

impl Columns {
    fn new() -> Self {
        Columns {
            step: UInt64Builder::new(),
            prompt_index: UInt32Builder::new(),
            sample: UInt32Builder::new(),
            prompt_id: StringBuilder::new(),
            prompt: StringBuilder::new(),
            completion: StringBuilder::new(),
            reasoning: StringBuilder::new(),
            answer: StringBuilder::new(),
            finish: StringBuilder::new(),
            reward: Float64Builder::new(),
            answer_score: Float64Builder::new(),
            format_score: Float64Builder::new(),
            satisfied: UInt32Builder::new(),
            total: UInt32Builder::new(),
            advantage: Float64Builder::new(),
            kept: BooleanBuilder::new(),
            no_think: BooleanBuilder::new(),
            eval: BooleanBuilder::new(),
            verdicts: StringBuilder::new(),
            rows: 0,
        }
    }

    fn push(&mut self, r: &Rollout) -> Result<()> {
        self.step.append_value(r.step);
        self.prompt_index.append_value(r.prompt_index);
        self.sample.append_value(r.sample);
        self.prompt_id.append_value(&r.prompt_id);
        self.prompt.append_value(&r.prompt);
        self.completion.append_value(&r.response);
        self.reasoning.append_option(r.reasoning.as_deref());
        self.answer.append_option(r.answer.as_deref());
        self.finish.append_value(&r.finish);
        self.reward.append_value(r.reward);
        self.answer_score.append_value(r.answer_score);
        self.format_score.append_value(r.format_score);
        self.satisfied.append_value(r.satisfied);
        self.total.append_value(r.total);
        self.advantage.append_value(r.advantage);
        self.kept.append_value(r.kept);
        self.no_think.append_value(r.no_think);
        self.eval.append_value(r.eval);
        self.verdicts
            .append_value(serde_json::to_string(&r.verdicts)?);
        self.rows += 1;
        Ok(())
    }

    fn schema() -> Arc<Schema> {
        let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
        Arc::new(Schema::new(vec![
            f("step", DataType::UInt64, false),
            f("prompt_index", DataType::UInt32, false),
            f("sample", DataType::UInt32, false),
            f("prompt_id", DataType::Utf8, false),
            f("prompt", DataType::Utf8, false),
            f("completion", DataType::Utf8, false),
            f("reasoning", DataType::Utf8, true),
            f("answer", DataType::Utf8, true),
            f("finish", DataType::Utf8, false),
            f("reward", DataType::Float64, false),
            f("answer_score", DataType::Float64, false),
            f("format_score", DataType::Float64, false),
            f("satisfied", DataType::UInt32, false),
            f("total", DataType::UInt32, false),
            f("advantage", DataType::Float64, false),
            f("kept", DataType::Boolean, false),
            f("no_think", DataType::Boolean, false),
            f("eval", DataType::Boolean, false),
            f("verdicts", DataType::Utf8, false),
        ]))
    }

    fn finish_batch(&mut self) -> Result<RecordBatch> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.step.finish()),
            Arc::new(self.prompt_index.finish()),
            Arc::new(self.sample.finish()),
            Arc::new(self.prompt_id.finish()),
            Arc::new(self.prompt.finish()),
            Arc::new(self.completion.finish()),
            Arc::new(self.reasoning.finish()),
            Arc::new(self.answer.finish()),
            Arc::new(self.finish.finish()),
            Arc::new(self.reward.finish()),
            Arc::new(self.answer_score.finish()),
            Arc::new(self.format_score.finish()),
            Arc::new(self.satisfied.finish()),
            Arc::new(self.total.finish()),
            Arc::new(self.advantage.finish()),
            Arc::new(self.kept.finish()),
            Arc::new(self.no_think.finish()),
            Arc::new(self.eval.finish()),
            Arc::new(self.verdicts.finish()),
        ];
        self.rows = 0;
        RecordBatch::try_new(Self::schema(), cols).context("building a parquet record batch")
    }
}

/// Write a run as one parquet file (written to a temporary name, then renamed); returns the
/// number of rollouts written.
pub fn export_parquet(store: &Store, run: &str, path: &Path) -> Result<usize> {
    if store.run(run)?.is_none() {
        return Err(anyhow!("no run `{run}` in {}", store.path().display()));
    }
    let tmp = path.with_extension("parquet.partial");
    let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(file, Columns::schema(), Some(props))
        .context("starting the parquet writer")?;
    let mut cols = Columns::new();
    let mut n = 0;
    for r in store.scan_rollouts(run, RolloutFilter::default()) {
        cols.push(&r?)?;
        n += 1;
        if cols.rows >= 4096 {
            writer
                .write(&cols.finish_batch()?)
                .context("writing parquet")?;
        }
    }
    if cols.rows > 0 || n == 0 {
        writer
            .write(&cols.finish_batch()?)
            .context("writing parquet")?;
    }
    writer.close().context("finishing the parquet file")?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))?;
    Ok(n)
}
