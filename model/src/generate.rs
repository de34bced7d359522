//! Batched sampling with a KV cache over prompts of different lengths (left padding), with
//! temperature, top-k, top-p, stop tokens and strings, per-sequence seeds and streaming.

use anyhow::{bail, Result};
use candle_core::{DType, Device, IndexOp, Tensor};
use serde::{Deserialize, Serialize};

use crate::graph::{DecodeGraphs, GraphStats};
use crate::kv_cache::KvCache;
use crate::rng::Rng;
use crate::tokenizer::Tokenizer;
use crate::transformer::{padded_inputs, Batch, ForwardOptions, Transformer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplingParams {
    /// 0 means greedy.
    pub temperature: f64,
    /// Nucleus mass kept (1.0 = off).
    pub top_p: f64,
    /// Keep the k most likely tokens (0 = off).
    pub top_k: usize,
    pub max_new_tokens: usize,
    /// Generation stops when the text contains one of these (the text is cut before it, or
    /// after it with `keep_stop_strings`).
    pub stop_strings: Vec<String>,
    /// Keep the stop string that ended a sequence in its text (e.g. `</answer>`, which the
    /// format check needs).
    #[serde(default)]
    pub keep_stop_strings: bool,
    /// Reasoning and answer budgets with injected closing tags ([`BudgetForcing`]).
    #[serde(default)]
    pub forcing: Option<BudgetForcing>,
}

/// Budget forcing (s1, arXiv 2501.19393; Elastic Reasoning, arXiv 2505.05315). A sequence
/// starts in its reasoning phase (or in its answer phase, see
/// [`Generator::generate_rows`]); it enters the answer phase when its text contains
/// `think_tag`. When `think_budget` sampled tokens pass in the reasoning phase, the tokens of
/// `think_close` are injected (the sampled token is replaced, one per decode step); when
/// `answer_budget` sampled tokens pass in the answer phase, those of `answer_close` are
/// injected and the sequence ends ([`FinishReason::Length`]: the answer was cut). Injected
/// tokens are listed in [`Generation::forced`] and carry a log-prob of 0: they were not drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetForcing {
    pub think_budget: usize,
    pub answer_budget: usize,
    /// The text that ends the reasoning, e.g. `</think>`.
    pub think_tag: String,
    /// Injected when the reasoning budget runs out, e.g. `\n</think>\n<answer>\n`.
    pub think_close: String,
    /// Injected when the answer budget runs out, e.g. `\n</answer>`.
    pub answer_close: String,
}

impl BudgetForcing {
    /// RAIF's tags (ALGORITHM §1).
    pub fn raif(think_budget: usize, answer_budget: usize) -> Self {
        BudgetForcing {
            think_budget,
            answer_budget,
            think_tag: "</think>".into(),
            think_close: "\n</think>\n<answer>\n".into(),
            answer_close: "\n</answer>".into(),
        }
    }

    /// DeepSeek-R1-style templates: the answer is the text after `</think>`, so nothing is
    /// injected when the answer budget runs out; the sequence just ends.
    pub fn r1(think_budget: usize, answer_budget: usize) -> Self {
        BudgetForcing {
            think_budget,
            answer_budget,
            think_tag: "</think>".into(),
            think_close: "\n</think>\n\n".into(),
            answer_close: String::new(),
        }
    }
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            max_new_tokens: 256,
            stop_strings: Vec::new(),
            keep_stop_strings: false,
            forcing: None,
        }
    }
}

impl SamplingParams {
    pub fn greedy(max_new_tokens: usize) -> Self {
        SamplingParams {
            temperature: 0.0,
            max_new_tokens,
            ..Default::default()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// An end-of-sequence / end-of-turn token was sampled (it is the last token).
    Stop,
    /// A stop string appeared in the text.
    StopString,
    /// `max_new_tokens` reached (or the model's context is full), or the answer budget of
    /// [`BudgetForcing`] ran out.
    Length,
}

/// Which closing tags budget forcing injected into a sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Forced {
    /// Both tags were the model's own (or no forcing).
    #[default]
    None,
    /// The reasoning budget ran out: `</think>` was injected.
    Think,
    /// The answer budget ran out: `</answer>` was injected.
    Answer,
    /// Both.
    Both,
}

impl Forced {
    pub fn name(self) -> &'static str {
        match self {
            Forced::None => "none",
            Forced::Think => "think",
            Forced::Answer => "answer",
            Forced::Both => "think+answer",
        }
    }

    pub fn parse(s: &str) -> Forced {
        match s {
            "think" => Forced::Think,
            "answer" => Forced::Answer,
            "think+answer" | "both" => Forced::Both,
            _ => Forced::None,
        }
    }

    pub fn any(self) -> bool {
        self != Forced::None
    }

    fn with(self, other: Forced) -> Forced {
        match (self, other) {
            (Forced::None, o) | (o, Forced::None) => o,
            (a, b) if a == b => a,
            _ => Forced::Both,
        }
    }
}

/// One generated sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// Generated token ids, including the final stop token when `finish == Stop`.
    pub tokens: Vec<u32>,
    /// Log-probability of each generated token under the model (temperature 1, no truncation).
    pub logprobs: Vec<f32>,
    /// Decoded text without the stop token, cut before a stop string.
    pub text: String,
    pub finish: FinishReason,
    /// Indices into `tokens` of the tokens budget forcing injected (not drawn from the model).
    #[serde(default)]
    pub forced: Vec<u32>,
    /// Which closing tags were injected.
    #[serde(default)]
    pub forced_tags: Forced,
}

/// A streamed event: the text delta of sequence `index`.
pub struct TokenEvent<'a> {
    pub index: usize,
    pub token: u32,
    pub delta: &'a str,
}

pub struct Generator<'a> {
    pub model: &'a Transformer,
    pub tokenizer: &'a Tokenizer,
    /// Token ids that end a sequence.
    pub stop_ids: Vec<u32>,
}

struct Row<'t> {
    index: usize,
    rng: Rng,
    tokens: Vec<u32>,
    logprobs: Vec<f32>,
    text: String,
    stream: crate::tokenizer::TokenStream<'t>,
    pad: usize,
    finish: Option<FinishReason>,
    /// Budget forcing: in the answer phase (after the think tag), sampled tokens of the
    /// current phase, tokens still to inject, what was injected and where.
    answering: bool,
    phase_tokens: usize,
    queue: std::collections::VecDeque<u32>,
    closing_answer: bool,
    forced: Vec<u32>,
    forced_tags: Forced,
}

/// What one generation call fixes for all its rows: the sampling parameters, budget forcing's
/// closing tags (tokenized) and the model's context.
struct Limits<'p> {
    params: &'p SamplingParams,
    think_close: Vec<u32>,
    answer_close: Vec<u32>,
    max_ctx: usize,
}

impl Row<'_> {
    /// Append a token's text: switch to the answer phase at the think tag, cut at the first
    /// stop string that ends in the new text, and stream what is kept.
    fn push_text(
        &mut self,
        tok: u32,
        delta: &str,
        params: &SamplingParams,
        on_token: &mut dyn FnMut(TokenEvent),
    ) {
        let row = self;
        let before = row.text.len();
        row.text.push_str(delta);
        if let Some(f) = &params.forcing {
            if !row.answering {
                let from = before.saturating_sub(f.think_tag.len().saturating_sub(1));
                let from = (0..=from)
                    .rev()
                    .find(|&i| row.text.is_char_boundary(i))
                    .unwrap_or(0);
                if row.text[from..].contains(f.think_tag.as_str()) {
                    row.answering = true;
                    row.phase_tokens = 0;
                }
            }
        }
        let mut hit = None;
        // The injected answer close ends the sequence itself (as cut by length).
        let stop_strings: &[String] = if row.closing_answer {
            &[]
        } else {
            &params.stop_strings
        };
        for s in stop_strings {
            // Only a match that ends in the new text can be new.
            let from = before.saturating_sub(s.len().saturating_sub(1));
            let from = (0..=from)
                .rev()
                .find(|&i| row.text.is_char_boundary(i))
                .unwrap_or(0);
            if let Some(k) = row.text[from..].find(s.as_str()) {
                let at = from + k;
                if hit.is_none_or(|(h, _)| at < h) {
                    hit = Some((at, s.len()));
                }
            }
        }
        match hit {
            Some((at, len)) => {
                let end = if params.keep_stop_strings {
                    at + len
                } else {
                    at
                };
                if end > before {
                    on_token(TokenEvent {
                        index: row.index,
                        token: tok,
                        delta: &row.text[before..end],
                    });
                }
                row.text.truncate(end);
                row.finish = Some(FinishReason::StopString);
            }
            None => on_token(TokenEvent {
                index: row.index,
                token: tok,
                delta: &row.text[before..],
            }),
        }
    }

    /// Budget forcing, for a row still generating: when the current phase's budget has run
    /// out, queue its closing tag.
    fn queue_closing_tag(&mut self, f: &BudgetForcing, limits: &Limits) {
        let row = self;
        if row.queue.is_empty() && !row.closing_answer {
            if !row.answering && row.phase_tokens >= f.think_budget {
                row.queue.extend(limits.think_close.iter().copied());
                row.forced_tags = row.forced_tags.with(Forced::Think);
                // The answer phase starts with the injected tags (sampled tokens
                // count again only once they have been fed).
                row.answering = true;
                row.phase_tokens = 0;
            } else if row.answering && row.phase_tokens >= f.answer_budget {
                row.queue.extend(limits.answer_close.iter().copied());
                row.forced_tags = row.forced_tags.with(Forced::Answer);
                row.closing_answer = true;
                if row.queue.is_empty() {
                    row.finish = Some(FinishReason::Length);
                }
            }
        }
    }
}

/// Pick a token from logits; returns (token, log-prob under the unmodified distribution).
pub fn sample(logits: &[f32], p: &SamplingParams, rng: &mut Rng) -> (u32, f32) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = max as f64
        + logits
            .iter()
            .map(|&l| ((l - max) as f64).exp())
            .sum::<f64>()
            .ln();
    let logprob = |i: usize| (logits[i] as f64 - lse) as f32;
    if p.temperature <= 0.0 {
        let mut best = 0;
        for (i, &l) in logits.iter().enumerate() {
            if l > logits[best] {
                best = i;
            }
        }
        return (best as u32, logprob(best));
    }
    let inv_t = 1.0 / p.temperature;
    let full = p.top_k == 0 && p.top_p >= 1.0;
    let mut cand: Vec<(usize, f64)> = if full {
        logits
            .iter()
            .enumerate()
            .map(|(i, &l)| (i, ((l - max) as f64) * inv_t))
            .collect()
    } else {
        let mut v: Vec<(usize, f64)> = logits
            .iter()
            .enumerate()
            .map(|(i, &l)| (i, ((l - max) as f64) * inv_t))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        if p.top_k > 0 {
            v.truncate(p.top_k.max(1));
        }
        v
    };
    let mut weights: Vec<f64> = cand.iter().map(|&(_, s)| s.exp()).collect();
    if !full && p.top_p < 1.0 {
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let mut keep = weights.len();
        for (j, w) in weights.iter().enumerate() {
            acc += w / total;
            if acc >= p.top_p {
                keep = j + 1;
                break;
            }
        }
        cand.truncate(keep);
        weights.truncate(keep);
    }
    let total: f64 = weights.iter().sum();
    let mut u = rng.next_f64() * total;
    let mut pick = cand.len() - 1;
    for (j, w) in weights.iter().enumerate() {
        if u < *w {
            pick = j;
            break;
        }
        u -= w;
    }
    let tok = cand[pick].0;
    (tok as u32, logprob(tok))
}

/// Whether `generate` draws the next tokens on the model's device, so that only the drawn ids
/// and their log-probs come back to the host each step ([`DeviceSampler`]), or copies the
/// logits to the host and runs [`sample`]. Off the CPU the device draws greedy decoding and
/// temperature sampling over the whole vocabulary (the trainer's and the evaluation's
/// settings); top-k and top-p stay on the host. `RAIF_SAMPLE_ON_DEVICE=1` (or `0`) forces the
/// choice, e.g. to run the device path on the CPU.
pub fn draws_on_device(device: &Device, p: &SamplingParams) -> bool {
    let supported = DeviceSampler::supports(p);
    match std::env::var("RAIF_SAMPLE_ON_DEVICE").as_deref() {
        Ok("1") => supported,
        Ok("0") => false,
        _ => supported && !device.is_cpu(),
    }
}

/// Width of the chunks of the two-level search of [`DeviceSampler::draw`].
const DRAW_CHUNK: usize = 512;

/// An n × n matrix of ones on and above the diagonal: `x.matmul(&it)` is the running sum of
/// `x`'s rows.
fn upper_ones(n: usize, device: &Device) -> Result<Tensor> {
    let mut m = vec![0f32; n * n];
    for i in 0..n {
        for v in &mut m[i * n + i..(i + 1) * n] {
            *v = 1.0;
        }
    }
    Ok(Tensor::from_vec(m, (n, n), device)?)
}

/// Draws tokens where the logits are ([`DeviceSampler::draw`]), with its running-sum matrices
/// made once for a vocabulary size and a device.
pub struct DeviceSampler {
    vocab: usize,
    chunk: usize,
    chunks: usize,
    /// upper-triangular ones, chunk × chunk and chunks × chunks
    within: Tensor,
    across: Tensor,
    /// vocab − i for token i (exact in f32): among tied maxima the first token ranks highest
    first_rank: Tensor,
}

impl DeviceSampler {
    /// What it draws: greedy, or temperature sampling over the whole vocabulary.
    pub fn supports(p: &SamplingParams) -> bool {
        p.temperature <= 0.0 || (p.top_k == 0 && p.top_p >= 1.0)
    }

    pub fn new(vocab: usize, device: &Device) -> Result<Self> {
        if vocab == 0 {
            bail!("DeviceSampler: empty vocabulary");
        }
        let chunk = DRAW_CHUNK.min(vocab);
        let chunks = vocab.div_ceil(chunk);
        Ok(DeviceSampler {
            vocab,
            chunk,
            chunks,
            within: upper_ones(chunk, device)?,
            across: upper_ones(chunks, device)?,
            first_rank: Tensor::from_vec(
                (0..vocab).map(|i| (vocab - i) as f32).collect::<Vec<_>>(),
                (1, vocab),
                device,
            )?,
        })
    }

    /// Draw one token per row of `logits` ([rows, vocab]) where the logits are, as [`sample`]
    /// does on the host for greedy decoding and for temperature sampling over the whole
    /// vocabulary (`p.top_k == 0`, `p.top_p >= 1`): row i takes the first token whose running
    /// weight exceeds `u[i]` times the total, the weights being exp((l − max) / T) in
    /// vocabulary order. `u[i]` is row i's own uniform draw (ignored when greedy), so a
    /// sequence's samples follow its seed on any device; the sums are f32 here and f64 on the
    /// host, so the two can part only where `u` falls within rounding of a boundary. The
    /// running sums are found in two levels (chunk totals, then inside the chosen chunk) with
    /// triangular matmuls: nothing the size of the vocabulary leaves the device. Returns
    /// (token, log-probability under the unmodified distribution) per row.
    pub fn draw(&self, logits: &Tensor, u: &[f64], p: &SamplingParams) -> Result<Vec<(u32, f32)>> {
        let (rows, vocab) = logits.dims2()?;
        if vocab != self.vocab || rows == 0 {
            bail!(
                "DeviceSampler: logits {:?} for a sampler of {} tokens",
                logits.dims(),
                self.vocab
            );
        }
        let dev = logits.device();
        let l = logits.to_dtype(DType::F32)?;
        let max = l.max_keepdim(1)?;
        let z = l.broadcast_sub(&max)?;
        let ez = z.exp()?;
        let lse = ez.sum_keepdim(1)?.log()?;
        let tok = if p.temperature <= 0.0 {
            // The host's rule: the first of tied maxima (bf16 logits tie often). A device
            // argmax may return any of them, so rank the maxima by position instead.
            l.broadcast_eq(&max)?
                .to_dtype(DType::F32)?
                .broadcast_mul(&self.first_rank)?
                .argmax_keepdim(1)?
        } else {
            if !Self::supports(p) {
                bail!("DeviceSampler: top-k and top-p are drawn on the host");
            }
            if u.len() != rows {
                bail!("DeviceSampler: {} rows but {} uniforms", rows, u.len());
            }
            let (k, c) = (self.chunk, self.chunks);
            // the weights exp((l − max) / T); at T = 1 (the trainer's) those of the log-sum
            let w = if p.temperature == 1.0 {
                ez
            } else {
                (z * (1.0 / p.temperature))?.exp()?
            };
            let w = if c * k > vocab {
                let pad = Tensor::zeros((rows, c * k - vocab), DType::F32, dev)?;
                Tensor::cat(&[&w, &pad], 1)?
            } else {
                w
            };
            let wc = w.reshape((rows, c, k))?;
            let sums = wc.sum(2)?;
            let cum = sums.matmul(&self.across)?;
            let total = cum.narrow(1, c - 1, 1)?;
            let us: Vec<f32> = u.iter().map(|&x| x as f32).collect();
            let target = Tensor::from_vec(us, (rows, 1), dev)?.mul(&total)?;
            // the chunk: how many chunks end at or below the target
            let chunk = cum
                .broadcast_le(&target)?
                .to_dtype(DType::F32)?
                .sum_keepdim(1)?
                .minimum((c - 1) as f64)?;
            let chunk_id = chunk.to_dtype(DType::U32)?;
            let before = (&cum - &sums)?.gather(&chunk_id, 1)?;
            let rest = (&target - &before)?;
            let ids = chunk_id
                .unsqueeze(2)?
                .broadcast_as((rows, 1, k))?
                .contiguous()?;
            let inside = wc.gather(&ids, 1)?.squeeze(1)?.matmul(&self.within)?;
            let j = inside
                .broadcast_le(&rest)?
                .to_dtype(DType::F32)?
                .sum_keepdim(1)?
                .minimum((k - 1) as f64)?;
            ((chunk * k as f64)? + j)?
                .minimum((vocab - 1) as f64)?
                .to_dtype(DType::U32)?
        };
        let lp = ((l.gather(&tok, 1)? - max)? - lse)?;
        // one transfer: ids are exact in f32 below 2^24
        let both: Vec<Vec<f32>> = Tensor::cat(&[&tok.to_dtype(DType::F32)?, &lp], 1)?.to_vec2()?;
        Ok(both.into_iter().map(|r| (r[0] as u32, r[1])).collect())
    }
}

/// Timings of one `generate` call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GenStats {
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub prefill_s: f64,
    pub decode_s: f64,
    /// The decode steps' batch sizes, in the order they ran (each once): the rows still
    /// generating, or with the fixed-shape step the batch-size buckets.
    #[serde(default)]
    pub decode_batch_sizes: Vec<usize>,
    /// CUDA graphs of the fixed-shape decode step ([`crate::graph`]).
    #[serde(default)]
    pub graphs: GraphStats,
}

impl<'a> Generator<'a> {
    /// [`Generator::generate_with_stats`] without the timings.
    pub fn generate(
        &self,
        prompts: &[Vec<u32>],
        seeds: &[u64],
        params: &SamplingParams,
        on_token: &mut dyn FnMut(TokenEvent),
    ) -> Result<Vec<Generation>> {
        Ok(self
            .generate_with_stats(prompts, seeds, params, on_token)?
            .0)
    }

    /// Generate one continuation per prompt. `seeds[i]` seeds sequence i's own RNG, so a
    /// sequence's output does not depend on its batch neighbours. `on_token` is called for
    /// every completed piece of text.
    pub fn generate_with_stats(
        &self,
        prompts: &[Vec<u32>],
        seeds: &[u64],
        params: &SamplingParams,
        on_token: &mut dyn FnMut(TokenEvent),
    ) -> Result<(Vec<Generation>, GenStats)> {
        self.generate_rows(prompts, seeds, &[], params, on_token)
    }

    /// [`Generator::generate_with_stats`] where `answering[i]` says that prompt i already
    /// closed its reasoning (a no-think prompt), so [`BudgetForcing`] counts its tokens
    /// against the answer budget from the start. Empty: every prompt starts in its reasoning.
    ///
    /// `RAIF_STATIC_DECODE=1` takes the fixed-shape decode step
    /// ([`Generator::generate_static`]).
    pub fn generate_rows(
        &self,
        prompts: &[Vec<u32>],
        seeds: &[u64],
        answering: &[bool],
        params: &SamplingParams,
        on_token: &mut dyn FnMut(TokenEvent),
    ) -> Result<(Vec<Generation>, GenStats)> {
        let fixed = std::env::var("RAIF_STATIC_DECODE").as_deref() == Ok("1");
        self.generate_rows_opts(prompts, seeds, answering, params, fixed, on_token)
    }

    /// [`Generator::generate`] with the fixed-shape decode step: a KV cache of fixed capacity
    /// (the longest prompt plus `max_new_tokens`), each step writing its keys and values at a
    /// column held in a device tensor and attending over the whole capacity under an additive
    /// mask ([`crate::kv_cache`]), so every step of one batch size has the same shapes. The
    /// tokens and log-probs are those of the growing cache.
    pub fn generate_static(
        &self,
        prompts: &[Vec<u32>],
        seeds: &[u64],
        params: &SamplingParams,
        on_token: &mut dyn FnMut(TokenEvent),
    ) -> Result<(Vec<Generation>, GenStats)> {
        self.generate_rows_opts(prompts, seeds, &[], params, true, on_token)
    }

    fn generate_rows_opts(
        &self,
        prompts: &[Vec<u32>],
        seeds: &[u64],
        answering: &[bool],
        params: &SamplingParams,
        fixed: bool,
        on_token: &mut dyn FnMut(TokenEvent),
    ) -> Result<(Vec<Generation>, GenStats)> {
        if prompts.len() != seeds.len()
            || !(answering.is_empty() || answering.len() == prompts.len())
        {
            bail!(
                "generate: {} prompts but {} seeds and {} phases",
                prompts.len(),
                seeds.len(),
                answering.len()
            );
        }
        let (think_close, answer_close) = self.closing_tags(params)?;
        if prompts.is_empty() {
            return Ok((Vec::new(), GenStats::default()));
        }
        let t0 = std::time::Instant::now();
        if let Some(i) = prompts.iter().position(|p| p.is_empty()) {
            bail!("generate: prompt {i} is empty");
        }
        let model = self.model;
        let device = model.device();
        let max_ctx = model.cfg.max_position_embeddings;
        let longest = prompts.iter().map(Vec::len).max().unwrap_or(0);
        if longest >= max_ctx {
            bail!("generate: a prompt has {longest} tokens, the model's context is {max_ctx}");
        }
        let limits = Limits {
            params,
            think_close,
            answer_close,
            max_ctx,
        };
        let rows = self.start_rows(prompts, seeds, answering, longest);
        let mut pads: Vec<usize> = rows.iter().map(|r| r.pad).collect();
        let mut slots: Vec<Option<Row>> = rows.into_iter().map(Some).collect();
        let mut batch_sizes = Vec::new();
        let mut graphs = DecodeGraphs::new(device);
        let mut done: Vec<Option<Generation>> = vec![None; prompts.len()];
        let mut cache = if fixed {
            // Every column a row can reach: the prompts, then at most `max_new_tokens` (each
            // row's positions stop at the context).
            let cap = longest + params.max_new_tokens.min(max_ctx).max(1);
            KvCache::with_capacity(&model.cfg, cap)
        } else {
            KvCache::new(&model.cfg)
        };

        // Prefill: all prompts at once, left-padded; only the last position's logits are needed.
        let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
        let zero_pads = vec![0; prompts.len()];
        let (ids, pos, mask) = padded_inputs(&refs, &zero_pads, 0, device)?;
        let hidden = model.forward_hidden(
            &Batch {
                input_ids: &ids,
                positions: &pos,
                mask: &mask,
            },
            Some(&mut cache),
            &ForwardOptions::fused(),
        )?;
        let sampler = match draws_on_device(device, params) {
            true => Some(DeviceSampler::new(model.output_weight().dim(0)?, device)?),
            false => None,
        };
        let logits = model.logits(&hidden.i((.., longest - 1..longest, ..))?.squeeze(1)?)?;
        // Reading the draws back synchronises the device, so the split below is honest.
        let mut drawn = draw(sampler.as_ref(), &logits, &mut slots, params)?;
        let prefill_s = t0.elapsed().as_secs_f64();
        let t1 = std::time::Instant::now();

        loop {
            let cached = cache.len();
            for (slot, &d) in slots.iter_mut().zip(drawn.iter()) {
                if let Some(row) = slot {
                    self.accept(row, d, &limits, cached, on_token)?;
                }
            }
            self.retire(&mut slots, &mut done)?;
            let live = slots.iter().flatten().count();
            if live == 0 {
                break;
            }
            // Shrink the batch (and its cache) to the rows still generating; the fixed-shape
            // step only to the next batch-size bucket, keeping finished rows as dead slots.
            let size = if fixed {
                bucket(live, slots.len())
            } else {
                live
            };
            if size < slots.len() {
                let keep = compact(&mut slots, &mut pads, size);
                cache.retain_rows(&keep)?;
            }
            if batch_sizes.last() != Some(&slots.len()) {
                batch_sizes.push(slots.len());
            }
            let last: Vec<[u32; 1]> = slots
                .iter()
                .map(|s| {
                    [s.as_ref()
                        .and_then(|r| r.tokens.last())
                        .copied()
                        .unwrap_or(0)]
                })
                .collect();
            let refs: Vec<&[u32]> = last.iter().map(|l| l.as_slice()).collect();
            let logits = graphs.decode(model, &mut cache, &refs, &pads)?;
            drawn = draw(sampler.as_ref(), &logits, &mut slots, params)?;
        }
        let gens: Vec<Generation> = done
            .into_iter()
            .enumerate()
            .map(|(i, g)| g.ok_or_else(|| anyhow::anyhow!("generate: sequence {i} did not finish")))
            .collect::<Result<_>>()?;
        let stats = GenStats {
            prompt_tokens: prompts.iter().map(Vec::len).sum(),
            generated_tokens: gens.iter().map(|g| g.tokens.len()).sum(),
            prefill_s,
            decode_s: t1.elapsed().as_secs_f64(),
            decode_batch_sizes: batch_sizes,
            graphs: graphs.stats,
        };
        Ok((gens, stats))
    }

    /// Budget forcing's closing tags, tokenized (none without forcing).
    fn closing_tags(&self, params: &SamplingParams) -> Result<(Vec<u32>, Vec<u32>)> {
        Ok(match &params.forcing {
            Some(f) => {
                if f.think_budget == 0 || f.answer_budget == 0 {
                    bail!("generate: budget forcing needs budgets of at least one token");
                }
                (
                    self.tokenizer.encode(&f.think_close)?,
                    self.tokenizer.encode(&f.answer_close)?,
                )
            }
            None => (Vec::new(), Vec::new()),
        })
    }

    /// One row per prompt, each with its own RNG stream, left-padded to `longest`.
    fn start_rows(
        &self,
        prompts: &[Vec<u32>],
        seeds: &[u64],
        answering: &[bool],
        longest: usize,
    ) -> Vec<Row<'a>> {
        prompts
            .iter()
            .enumerate()
            .map(|(i, p)| Row {
                index: i,
                rng: Rng::for_stream(seeds[i], 0),
                tokens: Vec::new(),
                logprobs: Vec::new(),
                text: String::new(),
                stream: self.tokenizer.stream(),
                pad: longest - p.len(),
                finish: None,
                answering: answering.get(i).copied().unwrap_or(false),
                phase_tokens: 0,
                queue: Default::default(),
                closing_answer: false,
                forced: Vec::new(),
                forced_tags: Forced::None,
            })
            .collect()
    }

    /// Take the token drawn for `row` at this step, or the next injected one in its place:
    /// record it, stream its text, and decide whether the row has finished or a budget ran out.
    /// `cached`: the positions in the KV cache.
    fn accept(
        &self,
        row: &mut Row,
        (drawn_tok, drawn_lp): (u32, f32),
        limits: &Limits,
        cached: usize,
        on_token: &mut dyn FnMut(TokenEvent),
    ) -> Result<()> {
        let params = limits.params;
        // An injected token replaces the one drawn at this position.
        let injected = row.queue.pop_front();
        let (tok, lp) = match injected {
            Some(t) => {
                row.forced.push(row.tokens.len() as u32);
                (t, 0.0)
            }
            None => (drawn_tok, drawn_lp),
        };
        row.tokens.push(tok);
        row.logprobs.push(lp);
        if injected.is_none() && self.stop_ids.contains(&tok) {
            row.finish = Some(FinishReason::Stop);
            return Ok(());
        }
        if injected.is_none() {
            row.phase_tokens += 1;
        }
        if let Some(delta) = row.stream.push(tok)? {
            row.push_text(tok, &delta, params, on_token);
        }
        if row.finish.is_none()
            && (row.tokens.len() >= params.max_new_tokens
                || cached + 1 - row.pad >= limits.max_ctx
                || (row.closing_answer && row.queue.is_empty()))
        {
            row.finish = Some(FinishReason::Length);
        }
        // A budget ran out: queue its closing tag.
        if let (Some(f), None) = (&params.forcing, &row.finish) {
            row.queue_closing_tag(f, limits);
        }
        Ok(())
    }

    /// Move the finished rows into `done` (with their final text), leaving their slots dead.
    fn retire(&self, slots: &mut [Option<Row>], done: &mut [Option<Generation>]) -> Result<()> {
        for slot in slots.iter_mut() {
            if !slot.as_ref().is_some_and(|r| r.finish.is_some()) {
                continue;
            }
            let Some(row) = slot.take() else { continue };
            let Some(finish) = row.finish.clone() else {
                continue;
            };
            // The streamed text can lag by an incomplete character; the final text is
            // decoded whole (a stop string's cut is kept as is).
            let text = match finish {
                FinishReason::StopString => row.text,
                FinishReason::Stop => self
                    .tokenizer
                    .decode(&row.tokens[..row.tokens.len() - 1], false)?,
                FinishReason::Length => self.tokenizer.decode(&row.tokens, false)?,
            };
            done[row.index] = Some(Generation {
                tokens: row.tokens,
                logprobs: row.logprobs,
                text,
                finish,
                forced: row.forced,
                forced_tags: row.forced_tags,
            });
        }
        Ok(())
    }
}

/// One token per live slot from its row of `logits` (on the device where `sampler` is, else
/// on the host). Dead slots (rows finished but kept in a fixed-shape batch) draw nothing and
/// use no random numbers, so a row's draws do not depend on its neighbours.
fn draw(
    sampler: Option<&DeviceSampler>,
    logits: &Tensor,
    slots: &mut [Option<Row>],
    params: &SamplingParams,
) -> Result<Vec<(u32, f32)>> {
    if let Some(sampler) = sampler {
        let u: Vec<f64> = slots
            .iter_mut()
            .map(|s| match s {
                Some(r) if params.temperature > 0.0 => r.rng.next_f64(),
                _ => 0.0,
            })
            .collect();
        return sampler.draw(logits, &u, params);
    }
    let lg: Vec<Vec<f32>> = logits.to_dtype(DType::F32)?.to_vec2()?;
    Ok(slots
        .iter_mut()
        .zip(lg.iter())
        .map(|(s, l)| match s {
            Some(r) => sample(l, params, &mut r.rng),
            None => (0, 0.0),
        })
        .collect())
}

/// The batch size of a fixed-shape step for `live` rows in a batch of `size`: the smallest
/// power of two holding them, or `size` itself when that is no smaller. A captured decode step
/// is replayed at one batch size, so the sizes a batch passes through are few: at most
/// log2(B) + 1 for B prompts.
pub fn bucket(live: usize, size: usize) -> usize {
    let p = live.max(1).next_power_of_two();
    if p < size {
        p
    } else {
        size
    }
}

/// Keep the live slots in order, then dead slots up to `size` (each a copy of the first live
/// row's cache, so its mask stays valid); returns the batch rows kept, for the cache.
fn compact(slots: &mut Vec<Option<Row>>, pads: &mut Vec<usize>, size: usize) -> Vec<u32> {
    let mut keep: Vec<u32> = (0..slots.len() as u32)
        .filter(|&j| slots[j as usize].is_some())
        .collect();
    let live = keep.len();
    if let Some(&first) = keep.first() {
        keep.resize(size.max(live), first);
    }
    let mut old = std::mem::take(slots);
    *slots = keep
        .iter()
        .enumerate()
        .map(|(i, &j)| {
            if i < live {
                old[j as usize].take()
            } else {
                None
            }
        })
        .collect();
    *pads = keep.iter().map(|&j| pads[j as usize]).collect();
    keep
}
