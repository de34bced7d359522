//! The phases of a training step, each a method short enough to read on one screen:
//!
//! - a warm-up step ([`Trainer::warmup_step`]): behaviour cloning only, prompts masked;
//! - a GRPO step: **rollout** ([`Trainer::generate`]), **score** ([`Trainer::score`],
//!   [`Trainer::assign`]), **reference** ([`Trainer::reference`]), **optimize**
//!   ([`Trainer::optimize`]), then the pure **metrics** ([`super::metrics`]);
//! - the **held-out eval** ([`Trainer::heldout_eval`]) and the **commit** (in `mod.rs`).

use anyhow::Result;
use candle_core::{DType, Tensor};
use raif_model::train::optim::GradAccum;
use raif_model::train::{token_logprobs, LogProbOptions, SeqBatch, SideGrads};
use raif_model::{BudgetForcing, Forced, Generator, PromptMode, SamplingParams, Transformer};

use super::metrics::{self, EvalSample, OptStats, SampleStats};
use super::{mix, sampling, stream_index, Trainer, TrainerEvent};
use crate::config::{AnswerFormat, BcSampling};
use crate::grpo::{
    group_advantages, keep_flags, policy_kl_loss, GroupSample, KeepReason, LossInputs,
};
use crate::rollout::{self, Scored};
use crate::store::{Metrics, Rollout};
use raif_verify::Constraint;

/// Which records a batch of prompts comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pool {
    Train,
    Heldout,
}

pub(super) struct Sample {
    pub prompt_index: usize,
    pub sample: usize,
    pub no_think: bool,
    pub prompt_ids: Vec<u32>,
    pub tokens: Vec<u32>,
    pub logprobs: Vec<f32>,
    pub text: String,
    pub finish: raif_model::FinishReason,
    /// Indices into `tokens` of injected tokens, and which tags were injected.
    pub forced: Vec<u32>,
    pub forced_tags: Forced,
    pub scored: Option<Scored>,
    pub advantage: f64,
    pub keep: KeepReason,
    /// Counted in its group's baseline (mean and std).
    pub in_baseline: bool,
    /// Its policy forward/backward runs (false: a zero-variance group was skipped).
    pub active: bool,
    /// Per generated token (0 at injected tokens), filled by the policy forward.
    pub entropies: Vec<f32>,
}

impl Sample {
    pub fn scored(&self) -> &Scored {
        self.scored.as_ref().unwrap_or(&super::UNSCORED)
    }
}

/// The trained samples of a step: reasoning samples with at least one generated token.
pub(super) struct TrainBatch {
    /// Indices into the step's samples.
    pub idx: Vec<usize>,
    pub seqs: Vec<Vec<u32>>,
    pub starts: Vec<usize>,
    /// Positions in `seqs[k]` that are not scored (injected tokens).
    pub excluded: Vec<Vec<usize>>,
    pub active: Vec<bool>,
}

impl TrainBatch {
    pub fn new(samples: &[Sample]) -> Self {
        let idx: Vec<usize> = (0..samples.len())
            .filter(|&i| !samples[i].no_think && !samples[i].tokens.is_empty())
            .collect();
        let s = |k: &usize| &samples[*k];
        TrainBatch {
            seqs: idx
                .iter()
                .map(|k| [s(k).prompt_ids.clone(), s(k).tokens.clone()].concat())
                .collect(),
            starts: idx.iter().map(|k| s(k).prompt_ids.len()).collect(),
            excluded: idx
                .iter()
                .map(|k| {
                    s(k).forced
                        .iter()
                        .map(|&f| s(k).prompt_ids.len() + f as usize)
                        .collect()
                })
                .collect(),
            active: idx.iter().map(|k| s(k).active).collect(),
            idx,
        }
    }

    fn pick<T: Clone>(v: &[T], ks: &[usize]) -> Vec<T> {
        ks.iter().map(|&k| v[k].clone()).collect()
    }
}

/// Log-probs of the trained tokens under π_old and π_ref, per [`TrainBatch`] row (empty for
/// rows that are not active).
pub(super) struct RefLogprobs {
    pub old: Option<Vec<Vec<f32>>>,
    pub reference: Option<Vec<Vec<f32>>>,
}

/// A demonstration in the policy's format: prompt + response + end of turn.
pub(super) struct Demo {
    pub ids: Vec<u32>,
    pub prompt_len: usize,
}

impl Trainer {
    pub(super) fn record(&self, pool: Pool, i: usize) -> &raif_datasets::Record {
        match pool {
            Pool::Train => &self.train[i],
            Pool::Heldout => &self.heldout[i],
        }
    }

    /// Training rollouts: temperature sampling with budget forcing and stop strings.
    /// Evaluation: greedy, neither forcing nor stop strings (what `raif eval` does).
    fn sampling(&self, eval: bool) -> SamplingParams {
        let r = &self.cfg.rollout;
        if eval {
            return SamplingParams::greedy(r.max_new_tokens);
        }
        let forcing = (r.think_budget > 0).then(|| {
            if self.lm.template.is_r1_style() {
                BudgetForcing::r1(r.think_budget, r.answer_budget)
            } else {
                BudgetForcing::raif(r.think_budget, r.answer_budget)
            }
        });
        SamplingParams {
            temperature: r.temperature,
            top_p: r.top_p,
            top_k: r.top_k,
            max_new_tokens: r.max_new_tokens,
            stop_strings: r.stop_strings.clone(),
            keep_stop_strings: true,
            forcing,
        }
    }

    /// The samples of a batch of prompts, before generation.
    fn blank_samples(&self, records: &[usize], pool: Pool, eval: bool) -> Result<Vec<Sample>> {
        let (g, nt) = if eval {
            (1, 0)
        } else {
            (self.cfg.train.group_size, self.cfg.no_think_per_group())
        };
        let mut samples = Vec::new();
        for (pi, &ri) in records.iter().enumerate() {
            let rec = self.record(pool, ri);
            let prompt = |mode| -> Result<Vec<u32>> {
                self.lm
                    .tokenizer
                    .encode(&rollout::prompt_text(&self.lm.template, rec, mode)?)
            };
            let think_ids = prompt(self.cfg.prompt_mode())?;
            let fast_ids = if nt > 0 {
                prompt(PromptMode::NoThink)?
            } else {
                Vec::new()
            };
            for j in 0..g {
                let no_think = j >= g - nt;
                samples.push(Sample {
                    prompt_index: pi,
                    sample: j,
                    no_think,
                    prompt_ids: if no_think {
                        fast_ids.clone()
                    } else {
                        think_ids.clone()
                    },
                    tokens: Vec::new(),
                    logprobs: Vec::new(),
                    text: String::new(),
                    finish: raif_model::FinishReason::Length,
                    forced: Vec::new(),
                    forced_tags: Forced::None,
                    scored: None,
                    advantage: 0.0,
                    keep: KeepReason::Kept,
                    in_baseline: true,
                    active: true,
                    entropies: Vec::new(),
                });
            }
        }
        Ok(samples)
    }

    /// Phase 1, rollout: G samples per record (the no-think share with the no-think prompt),
    /// or one greedy answer per record for evaluation. Returns the samples and tokens/s.
    pub(super) fn generate(
        &mut self,
        step: u64,
        records: &[usize],
        pool: Pool,
        eval: bool,
    ) -> Result<(Vec<Sample>, f64)> {
        let mut samples = self.blank_samples(records, pool, eval)?;
        let params = self.sampling(eval);
        let seed = self.cfg.train.seed;
        let t0 = std::time::Instant::now();
        let mut generated = 0usize;
        for start in (0..samples.len()).step_by(self.cfg.rollout.generation_batch) {
            let end = (start + self.cfg.rollout.generation_batch).min(samples.len());
            let chunk = &mut samples[start..end];
            let prompts: Vec<Vec<u32>> = chunk.iter().map(|s| s.prompt_ids.clone()).collect();
            let seeds: Vec<u64> = chunk
                .iter()
                .map(|s| {
                    mix(&[
                        seed,
                        step,
                        s.prompt_index as u64,
                        s.sample as u64,
                        eval as u64,
                    ])
                })
                .collect();
            // No-think prompts closed their reasoning already.
            let answering: Vec<bool> = chunk.iter().map(|s| s.no_think).collect();
            let ids: Vec<(u32, u32)> = chunk
                .iter()
                .map(|s| (s.prompt_index as u32, s.sample as u32))
                .collect();
            let events = self.events.clone();
            let gen = Generator {
                model: &self.lm.model,
                tokenizer: &self.lm.tokenizer,
                stop_ids: self.lm.stop_ids.clone(),
            };
            let (outs, _) =
                gen.generate_rows(&prompts, &seeds, &answering, &params, &mut |ev| {
                    if !eval {
                        let (p, s) = ids[ev.index];
                        events.send(TrainerEvent::Token {
                            step,
                            prompt_index: p,
                            sample: s,
                            delta: ev.delta.to_string(),
                        });
                    }
                })?;
            for (s, o) in chunk.iter_mut().zip(outs) {
                generated += o.tokens.len();
                s.tokens = o.tokens;
                s.logprobs = o.logprobs;
                s.text = o.text;
                s.finish = o.finish;
                s.forced = o.forced;
                s.forced_tags = o.forced_tags;
            }
            self.poll_commands()?;
        }
        Ok((
            samples,
            generated as f64 / t0.elapsed().as_secs_f64().max(1e-9),
        ))
    }

    /// Phase 2a, score: the reward of every sample (a forced sample keeps its answer score
    /// and gets `rollout.forced_format_score`).
    pub(super) fn score(
        &self,
        samples: &mut [Sample],
        records: &[usize],
        pool: Pool,
    ) -> Result<()> {
        let style = match self.cfg.rollout.format {
            AnswerFormat::Plain => raif_verify::reward::TagStyle::Plain,
            AnswerFormat::Think => rollout::tag_style(&self.lm.template),
        };
        for s in samples.iter_mut() {
            let rec = self.record(pool, records[s.prompt_index]);
            let mut sc = rollout::score(&s.text, rec, style, s.no_think)?;
            if s.forced_tags.any() {
                rollout::apply_forced_format(&mut sc, self.cfg.rollout.forced_format_score);
            }
            s.scored = Some(sc);
        }
        Ok(())
    }

    /// Phase 2b: advantages over each group's baseline samples, keep flags (superior-CoT
    /// enforcement) and which samples skip their forward/backward (zero-variance groups).
    pub(super) fn assign(&self, samples: &mut [Sample], records: &[usize]) {
        let r = &self.cfg.raif;
        for (pi, &ri) in records.iter().enumerate() {
            let idx: Vec<usize> = (0..samples.len())
                .filter(|&i| samples[i].prompt_index == pi)
                .collect();
            for &i in &idx {
                samples[i].in_baseline = !samples[i].no_think || r.no_think_in_baseline;
            }
            let base: Vec<usize> = idx
                .iter()
                .copied()
                .filter(|&i| samples[i].in_baseline)
                .collect();
            let rewards: Vec<f64> = base.iter().map(|&i| samples[i].scored().reward).collect();
            for (&i, a) in base.iter().zip(group_advantages(&rewards)) {
                samples[i].advantage = a;
            }
            let flat = rewards.windows(2).all(|w| w[0] == w[1]);
            let group: Vec<GroupSample> = idx
                .iter()
                .map(|&i| GroupSample {
                    no_think: samples[i].no_think,
                    satisfied: samples[i].scored().satisfied,
                    reward: samples[i].scored().reward,
                })
                .collect();
            let stored = self.train[ri].fast_score.map(|f| f.satisfied as usize);
            let keep = keep_flags(&group, stored, r.enforce_superior_cot);
            for (&i, k) in idx.iter().zip(keep) {
                samples[i].keep = k;
                samples[i].active = !(self.cfg.grpo.skip_zero_std_groups && flat);
            }
        }
    }

    /// Phase 3, reference: log-probs of the active rows' trained tokens under π_old (only
    /// when a rollout feeds several optimizer steps; otherwise π_old is the training forward
    /// itself) and under π_ref (the frozen copy, or the base with adapters off).
    pub(super) fn reference(&self, batch: &TrainBatch) -> Result<RefLogprobs> {
        let active: Vec<usize> = (0..batch.idx.len()).filter(|&k| batch.active[k]).collect();
        let of = |model: &Transformer, adapters: bool| -> Result<Vec<Vec<f32>>> {
            let vals = self.logprobs_of(
                model,
                &TrainBatch::pick(&batch.seqs, &active),
                &TrainBatch::pick(&batch.starts, &active),
                &TrainBatch::pick(&batch.excluded, &active),
                adapters,
            )?;
            let mut rows = vec![Vec::new(); batch.idx.len()];
            for (k, v) in active.iter().zip(vals) {
                rows[*k] = v;
            }
            Ok(rows)
        };
        let old = if Self::optimizer_steps_per_rollout(&self.cfg) > 1 {
            Some(of(&self.lm.model, true)?)
        } else {
            None
        };
        let reference = if self.cfg.grpo.kl_coef > 0.0 {
            Some(match &self.reference {
                Some(r) => of(r, true)?,
                None => of(&self.lm.model, false)?,
            })
        } else {
            None
        };
        Ok(RefLogprobs { old, reference })
    }

    /// Scored log-probs of sequences, without a graph, in micro-batches.
    fn logprobs_of(
        &self,
        model: &Transformer,
        seqs: &[Vec<u32>],
        starts: &[usize],
        excluded: &[Vec<usize>],
        adapters: bool,
    ) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::new();
        let mb = self.cfg.train.micro_batch;
        for ((s, st), ex) in seqs
            .chunks(mb)
            .zip(starts.chunks(mb))
            .zip(excluded.chunks(mb))
        {
            let b = SeqBatch::masked(s, st, ex, model.device())?;
            // The checkpointed path computes values without keeping a graph.
            let throwaway = SideGrads::default();
            let lp = token_logprobs(
                model,
                &b,
                &LogProbOptions::policy()
                    .adapters(adapters)
                    .recompute(Some(&throwaway)),
            )?
            .logp
            .detach();
            for r in 0..s.len() {
                out.push(b.row_values(&lp, r)?);
            }
        }
        Ok(out)
    }

    /// Phase 4, optimize: the rollout's samples in optimizer steps of
    /// `samples_per_optimizer_step`, each in micro-batches (policy loss + KL of the active
    /// rows, one expert demonstration per micro-batch), skipped rows keeping their place in
    /// the denominators.
    pub(super) fn optimize(
        &mut self,
        step: u64,
        samples: &mut [Sample],
        batch: &TrainBatch,
        refs: &RefLogprobs,
    ) -> Result<OptStats> {
        self.trainable.set_training(true);
        let (per_opt, mb) = (
            self.cfg.train.samples_per_optimizer_step,
            self.cfg.train.micro_batch,
        );
        let n_opt = Self::optimizer_steps_per_rollout(&self.cfg);
        let grpo_step = step - self.cfg.warmup.steps as u64;
        let demo_weights = self.failing_demo_weights()?;
        let mut st = OptStats::default();
        let all: Vec<usize> = (0..batch.idx.len()).collect();
        for (o, chunk) in all.chunks(per_opt).enumerate() {
            let active: Vec<usize> = chunk.iter().copied().filter(|&k| batch.active[k]).collect();
            st.skipped_samples += chunk.len() - active.len();
            let micros: Vec<&[usize]> = active.chunks(mb).collect();
            let mut acc = GradAccum::new(self.trainable.vars.len());
            let n_micro = chunk.len().div_ceil(mb);
            let mut any = false;
            for m in 0..n_micro {
                self.poll_commands()?;
                let micro = micros.get(m).copied().unwrap_or(&[]);
                let ctx = MicroCtx {
                    step,
                    o,
                    m,
                    n_micro,
                    denom: chunk.len() as f64,
                    demo_weights: &demo_weights,
                };
                any |= self.micro_step(&ctx, micro, samples, batch, refs, &mut acc, &mut st)?;
            }
            if !any {
                // Neither a policy row nor a demonstration: nothing to learn from.
                continue;
            }
            let lr = self.sched.lr((grpo_step as usize - 1) * n_opt + o);
            self.apply_update(step, &acc, lr, &mut st)?;
        }
        self.side.clear();
        Ok(st)
    }

    /// One optimizer update from accumulated gradients (skipped when the norm is not finite).
    fn apply_update(
        &mut self,
        step: u64,
        acc: &GradAccum,
        lr: f64,
        st: &mut OptStats,
    ) -> Result<()> {
        let t = std::time::Instant::now();
        let info = self.opt.step(&self.trainable.vars, &acc.grads, lr, 1.0)?;
        st.optimizer_s += t.elapsed().as_secs_f64();
        if !info.applied {
            st.nan_skips += 1;
            self.events.send(TrainerEvent::Warning(format!(
                "step {step}: gradient norm {} is not finite; the optimizer step was skipped",
                info.grad_norm
            )));
        }
        st.grad_norms.push(info.grad_norm);
        st.lrs.push(lr);
        st.opt_steps += 1;
        Ok(())
    }

    /// One micro-batch: the policy loss and KL of `micro` (rows of `batch`), plus an expert
    /// demonstration; backward into `acc`. False when it had nothing to train.
    #[allow(clippy::too_many_arguments)]
    fn micro_step(
        &mut self,
        ctx: &MicroCtx,
        micro: &[usize],
        samples: &mut [Sample],
        batch: &TrainBatch,
        refs: &RefLogprobs,
        acc: &mut GradAccum,
        st: &mut OptStats,
    ) -> Result<bool> {
        let mut loss = if micro.is_empty() {
            None
        } else {
            Some(self.policy_part(ctx.denom, micro, samples, batch, refs, st)?)
        };
        let micro_id = mix(&[ctx.step, ctx.o as u64, ctx.m as u64]);
        if let Some(demo) = self.expert_demo(micro_id, ctx.demo_weights)? {
            let nll = self.demo_nll(&[demo], self.cfg.raif.bc_mask_prompt, st)?;
            let bc = (nll * (self.cfg.raif.bc_coef / ctx.n_micro as f64))?;
            loss = Some(match loss {
                Some(l) => (l + bc)?,
                None => bc,
            });
        }
        let Some(loss) = loss else {
            return Ok(false);
        };
        let lval = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if !lval.is_finite() {
            st.nan_skips += 1;
            self.events.send(TrainerEvent::Warning(format!(
                "step {}: non-finite loss in a micro-batch; skipped",
                ctx.step
            )));
            return Ok(false);
        }
        st.loss_sum += lval;
        let ckpt = self.cfg.train.gradient_checkpointing.then_some(&self.side);
        let store = loss.backward()?;
        acc.add(&self.trainable.vars, &store, ckpt)?;
        Ok(true)
    }

    /// The clipped policy loss and KL of rows `micro` of `batch`; injected tokens are masked.
    fn policy_part(
        &self,
        denom: f64,
        micro: &[usize],
        samples: &mut [Sample],
        batch: &TrainBatch,
        refs: &RefLogprobs,
        st: &mut OptStats,
    ) -> Result<Tensor> {
        let device = self.lm.model.device().clone();
        let b = SeqBatch::masked(
            &TrainBatch::pick(&batch.seqs, micro),
            &TrainBatch::pick(&batch.starts, micro),
            &TrainBatch::pick(&batch.excluded, micro),
            &device,
        )?;
        let ckpt = self.cfg.train.gradient_checkpointing.then_some(&self.side);
        let lp = token_logprobs(
            &self.lm.model,
            &b,
            &LogProbOptions::policy().with_entropy().recompute(ckpt),
        )?;
        let rows = |v: &Option<Vec<Vec<f32>>>| v.as_ref().map(|v| TrainBatch::pick(v, micro));
        let old = match rows(&refs.old) {
            Some(r) => b.scatter_rows(&r)?,
            None => lp.logp.detach(),
        };
        let reference = rows(&refs.reference)
            .map(|r| b.scatter_rows(&r))
            .transpose()?;
        let per_row = |f: &dyn Fn(&Sample) -> f32| -> Result<Tensor> {
            let v: Vec<f32> = micro.iter().map(|&k| f(&samples[batch.idx[k]])).collect();
            Ok(Tensor::from_vec(v, micro.len(), &device)?)
        };
        let adv = per_row(&|s| s.advantage as f32)?;
        let keep = per_row(&|s| f32::from(u8::from(s.keep.kept())))?;
        let parts = policy_kl_loss(
            &LossInputs {
                logp: &lp.logp,
                old_logp: &old,
                ref_logp: reference.as_ref(),
                mask: &b.loss_mask,
                adv: &adv,
                keep: &keep,
            },
            self.cfg.grpo.clip_eps,
            denom,
        )?;
        st.kl_sum += parts.kl_sum;
        st.kl_samples += if parts.kl.is_some() { micro.len() } else { 0 };
        st.clipped_tokens += parts.clipped_tokens;
        st.tokens += parts.tokens;
        if let Some(e) = &lp.entropy {
            for (r, &k) in micro.iter().enumerate() {
                let vals = b.row_values(e, r)?;
                st.entropy_sum += vals.iter().map(|&x| x as f64).sum::<f64>();
                st.entropy_tokens += vals.len() as f64;
                let s = &mut samples[batch.idx[k]];
                s.entropies = per_token(&vals, s.tokens.len(), &s.forced);
            }
        }
        let mut loss = parts.policy;
        if let Some(kl) = &parts.kl {
            loss = (loss + (kl * self.cfg.grpo.kl_coef)?)?;
        }
        Ok(loss)
    }

    /// A record's expert demonstration in the policy's format, or None without one.
    pub(super) fn demonstration(&self, rec: usize) -> Result<Option<Demo>> {
        let rec = &self.train[rec];
        let Some(e) = &rec.expert else {
            return Ok(None);
        };
        let prompt = rollout::prompt_text(&self.lm.template, rec, self.cfg.prompt_mode())?;
        let response = match self.cfg.rollout.format {
            // The prompt already opened the think block.
            AnswerFormat::Think => rollout::think_response(e),
            AnswerFormat::Plain => e.answer.clone(),
        };
        let mut ids = self.lm.tokenizer.encode(&prompt)?;
        let prompt_len = ids.len();
        ids.extend(self.lm.tokenizer.encode(&response)?);
        // End the turn as the template does (e.g. `<|im_end|>`).
        let eot = self
            .lm
            .template
            .stop_tokens()
            .iter()
            .find_map(|t| self.lm.tokenizer.token_to_id(t));
        ids.extend(eot.or_else(|| self.lm.stop_ids.first().copied()));
        Ok(Some(Demo { ids, prompt_len }))
    }

    /// The behaviour-cloning demonstration of a GRPO micro-batch, chosen by (seed, micro id):
    /// uniformly, or by `weights` when they are given (one per expert).
    fn expert_demo(&self, micro: u64, weights: &[f64]) -> Result<Option<Demo>> {
        if !self.cfg.raif.expert_bc || self.experts.is_empty() {
            return Ok(None);
        }
        let bits = mix(&[self.cfg.train.seed, micro, 3]);
        let i = if weights.len() == self.experts.len() {
            sampling::draw(weights, sampling::unit(bits))
        } else {
            (bits % self.experts.len() as u64) as usize
        };
        self.demonstration(self.experts[i])
    }

    /// With `raif.bc_sampling = "failing"`, the weight of each demonstration from the run's
    /// committed GRPO steps (`sampling::failing_weights`); otherwise none (uniform).
    fn failing_demo_weights(&self) -> Result<Vec<f64>> {
        if self.cfg.raif.bc_sampling != BcSampling::Failing || self.experts.is_empty() {
            return Ok(Vec::new());
        }
        let history = self.store.metrics(&self.run_id)?;
        let rules: Vec<Vec<String>> = self
            .experts
            .iter()
            .map(|&r| {
                self.train[r]
                    .constraints
                    .leaves()
                    .into_iter()
                    .filter_map(|c| match c {
                        Constraint::Rule { id, .. } => Some(id.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        Ok(sampling::failing_weights(&history, &rules))
    }

    /// The mean over demonstrations of their per-token NLL: over the response tokens with
    /// `mask_prompt`, else over every token after the first (the reference code). The
    /// `expert_nll` metric is always over response tokens.
    fn demo_nll(&self, demos: &[Demo], mask_prompt: bool, st: &mut OptStats) -> Result<Tensor> {
        let device = self.lm.model.device().clone();
        let seqs: Vec<Vec<u32>> = demos.iter().map(|d| d.ids.clone()).collect();
        let starts: Vec<usize> = demos
            .iter()
            .map(|d| if mask_prompt { d.prompt_len } else { 1 })
            .collect();
        let b = SeqBatch::new(&seqs, &starts, &device)?;
        let ckpt = self.cfg.train.gradient_checkpointing.then_some(&self.side);
        let lp = token_logprobs(
            &self.lm.model,
            &b,
            &LogProbOptions::policy().recompute(ckpt),
        )?
        .logp;
        let counts: Vec<f32> = b.counts.iter().map(|&c| c.max(1) as f32).collect();
        let counts = Tensor::from_vec(counts, demos.len(), &device)?;
        let per_row = ((&lp * &b.loss_mask)?.sum(1)? / counts)?.neg()?;
        for (r, d) in demos.iter().enumerate() {
            let vals = b.row_values(&lp.detach(), r)?;
            let resp = &vals[d.prompt_len - starts[r]..];
            st.bc_sum += -resp.iter().map(|&x| x as f64).sum::<f64>() / resp.len().max(1) as f64;
            st.bc_n += 1;
        }
        Ok((per_row.sum_all()? / demos.len() as f64)?)
    }

    /// A warm-up step: behaviour cloning only, prompts masked, one optimizer step over
    /// `warmup.demos_per_step` demonstrations (each epoch of demonstrations a seeded
    /// permutation), at the warm-up's constant learning rate.
    pub(super) fn warmup_step(&mut self, step: u64) -> Result<(Metrics, Vec<Rollout>)> {
        let d = self.cfg.warmup.demos_per_step;
        let picks: Vec<usize> = (0..d)
            .map(|k| {
                let i = stream_index(
                    mix(&[self.cfg.train.seed, 5]),
                    self.experts.len(),
                    (step - 1) * d as u64 + k as u64,
                );
                self.experts[i]
            })
            .collect();
        self.events.send(TrainerEvent::StepStarted {
            step,
            prompts: picks.iter().map(|&r| self.train[r].id.clone()).collect(),
        });
        self.trainable.set_training(true);
        let mut st = OptStats::default();
        let mut acc = GradAccum::new(self.trainable.vars.len());
        for chunk in picks.chunks(self.cfg.train.micro_batch) {
            self.poll_commands()?;
            let ckpt = self.cfg.train.gradient_checkpointing.then_some(&self.side);
            let demos = chunk
                .iter()
                .map(|&r| self.demonstration(r))
                .collect::<Result<Vec<_>>>()?;
            let demos: Vec<Demo> = demos.into_iter().flatten().collect();
            // The mean over the step's demonstrations.
            let loss = (self.demo_nll(&demos, true, &mut st)? * (demos.len() as f64 / d as f64))?;
            st.loss_sum += loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            let store = loss.backward()?;
            acc.add(&self.trainable.vars, &store, ckpt)?;
        }
        self.apply_update(step, &acc, self.cfg.warmup.learning_rate, &mut st)?;
        self.side.clear();
        Ok((metrics::warmup_metrics(&st), Vec::new()))
    }

    /// Phase 6, held-out eval: one greedy answer per held-out record (the first
    /// `eval.prompts`), without forcing or stop strings, scored like training rollouts.
    pub(super) fn heldout_eval(&mut self, step: u64) -> Result<(Metrics, Vec<Rollout>)> {
        self.trainable.set_training(false);
        let n = self.cfg.eval.prompts.min(self.heldout.len());
        let idx: Vec<usize> = (0..n).collect();
        let (mut es, _) = self.generate(step, &idx, Pool::Heldout, true)?;
        self.score(&mut es, &idx, Pool::Heldout)?;
        let view: Vec<EvalSample> = es
            .iter()
            .map(|s| EvalSample {
                scored: s.scored(),
                tokens: s.tokens.len(),
            })
            .collect();
        let m = metrics::eval_metrics(&view);
        let rollouts = es
            .iter()
            .map(|s| self.to_rollout(step, s, &idx, Pool::Heldout))
            .collect();
        Ok((m, rollouts))
    }

    /// The metrics' view of a step's samples.
    pub(super) fn sample_stats(samples: &[Sample]) -> Vec<SampleStats<'_>> {
        samples
            .iter()
            .map(|s| SampleStats {
                group: s.prompt_index,
                no_think: s.no_think,
                scored: s.scored(),
                tokens: s.tokens.len(),
                cut: s.finish == raif_model::FinishReason::Length,
                forced: s.forced_tags.any(),
                kept: s.keep.kept(),
                in_baseline: s.in_baseline,
            })
            .collect()
    }
}

/// Where a micro-batch sits in its step.
struct MicroCtx<'a> {
    step: u64,
    o: usize,
    m: usize,
    n_micro: usize,
    denom: f64,
    /// The step's weight of each expert demonstration; empty: uniform.
    demo_weights: &'a [f64],
}

/// Values of the scored tokens of a completion of `n` tokens, placed at their positions with
/// 0 at the injected ones.
fn per_token(vals: &[f32], n: usize, forced: &[u32]) -> Vec<f32> {
    let mut it = vals.iter();
    (0..n)
        .map(|i| {
            if forced.contains(&(i as u32)) {
                0.0
            } else {
                it.next().copied().unwrap_or(0.0)
            }
        })
        .collect()
}
