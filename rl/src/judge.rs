//! The LLM judge of ALGORITHM §2 on a local model: for each yes/no question about an answer,
//! the judge model does not generate; it compares the summed log-probability of the reply
//! `YES` against `NO`, teacher-forced after the judge prompt, and YES wins only when it is
//! strictly greater.
//!
//! - The prompt is rendered with the **judge's own** tokenizer and chat template (the reference
//!   code used the policy's: a defect).
//! - The rubric is InfoBench's in spirit: YES only if the text entirely fulfils the condition.
//! - The judge sees the instruction and the extracted answer, never the reasoning.
//! - An input longer than the judge's context (or `max_tokens`) is **not** cut: it is reported
//!   as [`JudgeVerdict::overlong`] and counted as not satisfied by the caller, who says so
//!   (the reference code truncated silently: a hidden penalty).
//!
//! Questions are scored in batches: every candidate reply shares its prompt, and when both
//! replies are one token each, one forward of the prompt scores both.

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::{anyhow, bail, Result};
use candle_core::{DType, IndexOp, Tensor, D};
use raif_model::transformer::{padded_inputs, Batch, ForwardOptions};
use raif_model::{LoadedModel, Message};
use raif_verify::reward::Judge;

/// The judge's instructions (InfoBench-style rubric, in our words).
pub const JUDGE_SYSTEM: &str = "You are a strict evaluator. You are given an instruction (with its input, if any), a text generated in response to it, and one question about the generated text. Answer the question with YES or NO only.\n\
- YES: only if the generated text entirely fulfils the condition in the question. Even a small inaccuracy or omission means NO. For example, if the question asks whether every sentence is in the second person and one sentence is not, the answer is NO.\n\
- NO: if the generated text does not meet the condition, or gives nothing to judge it by. For example, if the question asks about the second sentence and the text has only one sentence, the answer is NO.";

/// Log-probabilities by row, position and token.
type RowPositionToken = Vec<Vec<Vec<f32>>>;

/// The reply that means "satisfied".
pub const YES: &str = "YES";
/// The reply that means "not satisfied".
pub const NO: &str = "NO";

/// The user turn the judge answers.
pub fn judge_user_turn(instruction: &str, answer: &str, question: &str) -> String {
    format!(
        "Instruction:\n{instruction}\n\nGenerated text:\n{answer}\n\nQuestion:\n{question}\n\nAnswer YES or NO."
    )
}

/// One question for the judge.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JudgeQuery {
    pub instruction: String,
    pub answer: String,
    pub question: String,
}

/// The judge's decision on one question.
#[derive(Clone, Debug, PartialEq)]
pub struct JudgeVerdict {
    /// log p(YES) > log p(NO), strictly; false when the input was too long.
    pub pass: bool,
    /// Summed log-probability of the reply tokens (NaN when not judged).
    pub logp_yes: f32,
    pub logp_no: f32,
    /// `(tokens, limit)` when the prompt plus reply did not fit: not judged.
    pub overlong: Option<(usize, usize)>,
}

impl JudgeVerdict {
    /// Why the verdict is what it is, for the breakdown.
    pub fn reason(&self) -> String {
        match self.overlong {
            Some((n, limit)) => format!(
                "not judged: the judge input has {n} tokens, more than the judge's limit of {limit} (counted as not satisfied; nothing was truncated)"
            ),
            None => format!(
                "judge answered {} (log p YES {:.3}, NO {:.3})",
                if self.pass { "YES" } else { "NO" },
                self.logp_yes,
                self.logp_no
            ),
        }
    }
}

/// Counters of one judge's work.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JudgeStats {
    pub questions: u64,
    pub overlong: u64,
    pub forward_tokens: u64,
    pub seconds: f64,
}

/// A local model used as the judge.
pub struct ModelJudge {
    pub lm: LoadedModel,
    yes: Vec<u32>,
    no: Vec<u32>,
    /// Longest prompt + reply the judge accepts (its context by default).
    pub max_tokens: usize,
    /// Sequences per forward.
    pub batch: usize,
    stats: Mutex<JudgeStats>,
    /// Verdicts already computed (the same question on the same answer is asked once).
    cache: Mutex<HashMap<JudgeQuery, JudgeVerdict>>,
}

impl ModelJudge {
    pub fn new(lm: LoadedModel) -> Result<Self> {
        let yes = lm.tokenizer.encode(YES)?;
        let no = lm.tokenizer.encode(NO)?;
        if yes.is_empty() || no.is_empty() {
            bail!("the judge's tokenizer encodes YES or NO to no tokens");
        }
        if yes == no {
            bail!("the judge's tokenizer cannot tell YES from NO");
        }
        let max_tokens = lm.model.cfg.max_position_embeddings;
        Ok(ModelJudge {
            lm,
            yes,
            no,
            max_tokens,
            batch: 8,
            stats: Mutex::new(JudgeStats::default()),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The reply token ids (YES, NO).
    pub fn reply_tokens(&self) -> (&[u32], &[u32]) {
        (&self.yes, &self.no)
    }

    pub fn stats(&self) -> JudgeStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The judge prompt text in the judge's own chat template (generation prompt included).
    pub fn prompt_text(&self, q: &JudgeQuery) -> Result<String> {
        self.lm.template.render(
            &[
                Message::system(JUDGE_SYSTEM),
                Message::user(judge_user_turn(&q.instruction, &q.answer, &q.question)),
            ],
            true,
        )
    }

    /// Answer many questions; verdicts in the order of `queries`.
    pub fn ask_batch(&self, queries: &[JudgeQuery]) -> Result<Vec<JudgeVerdict>> {
        let t0 = std::time::Instant::now();
        let mut out: Vec<Option<JudgeVerdict>> = vec![None; queries.len()];
        {
            let cache = self
                .cache
                .lock()
                .map_err(|_| anyhow!("judge cache poisoned"))?;
            for (i, q) in queries.iter().enumerate() {
                out[i] = cache.get(q).cloned();
            }
        }
        // Sequences to run: (tokens, [(query, is_yes, reply)]).
        struct Seq {
            ids: Vec<u32>,
            uses: Vec<(usize, bool)>,
        }
        let mut seqs: Vec<Seq> = Vec::new();
        let mut overlong = 0u64;
        let mut todo = 0u64;
        for (i, q) in queries.iter().enumerate() {
            if out[i].is_some() {
                continue;
            }
            todo += 1;
            let prompt = self.lm.tokenizer.encode(&self.prompt_text(q)?)?;
            let longest = prompt.len() + self.yes.len().max(self.no.len());
            if longest > self.max_tokens {
                overlong += 1;
                out[i] = Some(JudgeVerdict {
                    pass: false,
                    logp_yes: f32::NAN,
                    logp_no: f32::NAN,
                    overlong: Some((longest, self.max_tokens)),
                });
                continue;
            }
            // The input of a reply is the prompt and every reply token but the last; the
            // last k positions then predict the k reply tokens.
            let input = |reply: &[u32]| -> Vec<u32> {
                let mut v = prompt.clone();
                v.extend_from_slice(&reply[..reply.len() - 1]);
                v
            };
            let (iy, in_) = (input(&self.yes), input(&self.no));
            if iy == in_ {
                seqs.push(Seq {
                    ids: iy,
                    uses: vec![(i, true), (i, false)],
                });
            } else {
                seqs.push(Seq {
                    ids: iy,
                    uses: vec![(i, true)],
                });
                seqs.push(Seq {
                    ids: in_,
                    uses: vec![(i, false)],
                });
            }
        }
        // Similar lengths together: less padding.
        seqs.sort_by_key(|s| s.ids.len());
        let mut logp: HashMap<(usize, bool), f32> = HashMap::new();
        let mut forward_tokens = 0u64;
        for chunk in seqs.chunks(self.batch.max(1)) {
            let rows: Vec<&[u32]> = chunk.iter().map(|s| s.ids.as_slice()).collect();
            let t = rows.iter().map(|r| r.len()).max().unwrap_or(0);
            forward_tokens += (t * rows.len()) as u64;
            let k = self.yes.len().max(self.no.len());
            let (wanted, values) = self.reply_logprobs(&rows, k)?;
            for (s, per_pos) in chunk.iter().zip(values) {
                for &(qi, is_yes) in &s.uses {
                    let reply = if is_yes { &self.yes } else { &self.no };
                    // per_pos[j] is position t-k+j; a reply of n tokens is predicted by the
                    // last n positions (a shorter reply's row simply ends earlier: its
                    // input was the prompt plus its own tokens, right-aligned).
                    let off = k - reply.len();
                    let mut sum = 0f32;
                    for (j, &tok) in reply.iter().enumerate() {
                        let w = wanted
                            .binary_search(&tok)
                            .map_err(|_| anyhow!("judge: token {tok} was not read back"))?;
                        sum += per_pos[off + j][w];
                    }
                    logp.insert((qi, is_yes), sum);
                }
            }
        }
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| anyhow!("judge cache poisoned"))?;
        let mut result = Vec::with_capacity(queries.len());
        for (i, q) in queries.iter().enumerate() {
            let v = match out[i].take() {
                Some(v) => v,
                None => {
                    let (y, n) = (
                        logp.get(&(i, true)).copied(),
                        logp.get(&(i, false)).copied(),
                    );
                    let (Some(y), Some(n)) = (y, n) else {
                        bail!("judge: no log-probability computed for question {i}");
                    };
                    JudgeVerdict {
                        pass: y > n,
                        logp_yes: y,
                        logp_no: n,
                        overlong: None,
                    }
                }
            };
            cache.insert(q.clone(), v.clone());
            result.push(v);
        }
        if let Ok(mut s) = self.stats.lock() {
            s.questions += todo;
            s.overlong += overlong;
            s.forward_tokens += forward_tokens;
            s.seconds += t0.elapsed().as_secs_f64();
        }
        Ok(result)
    }

    /// For each row (left-padded into one batch), the log-softmax at its last `k` positions
    /// of the reply tokens only: `(tokens, values[row][position][token index])`, `tokens`
    /// sorted (the whole vocabulary is never read back).
    fn reply_logprobs(&self, rows: &[&[u32]], k: usize) -> Result<(Vec<u32>, RowPositionToken)> {
        let model = &self.lm.model;
        let device = model.device();
        let (ids, pos, mask) = padded_inputs(rows, &vec![0; rows.len()], 0, device)?;
        let hidden = model.forward_hidden(
            &Batch {
                input_ids: &ids,
                positions: &pos,
                mask: &mask,
            },
            None,
            &ForwardOptions::fused(),
        )?;
        let t = hidden.dim(1)?;
        if t < k {
            bail!("judge: a sequence of {t} tokens is shorter than the reply ({k})");
        }
        let last = hidden.i((.., t - k.., ..))?.contiguous()?;
        let logits = model.logits(&last)?.to_dtype(DType::F32)?;
        let max = logits.max_keepdim(D::Minus1)?;
        let lse = (logits
            .broadcast_sub(&max)?
            .exp()?
            .sum_keepdim(D::Minus1)?
            .log()?
            + &max)?;
        let lsm = logits.broadcast_sub(&lse)?;
        let mut wanted: Vec<u32> = self.yes.iter().chain(self.no.iter()).copied().collect();
        wanted.sort_unstable();
        wanted.dedup();
        let idx = Tensor::new(wanted.as_slice(), device)?;
        let picked: Vec<Vec<Vec<f32>>> = lsm.index_select(&idx, 2)?.to_vec3()?;
        Ok((wanted, picked))
    }
}

impl Judge for ModelJudge {
    /// One question. An input too long for the judge is an error here (the trait has no way to
    /// say "not judged"); batch callers use [`ModelJudge::ask_batch`] and report it instead.
    fn ask(&self, instruction: &str, answer: &str, question: &str) -> Result<bool> {
        let v = self.ask_batch(&[JudgeQuery {
            instruction: instruction.to_string(),
            answer: answer.to_string(),
            question: question.to_string(),
        }])?;
        let v = v
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("judge returned no verdict"))?;
        if let Some((n, limit)) = v.overlong {
            bail!("the judge input has {n} tokens, more than the judge's limit of {limit}");
        }
        Ok(v.pass)
    }
}
