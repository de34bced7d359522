//! Tokens injected by budget forcing carry no loss, no ratio and no gradient: the GRPO loss
//! built the trainer's way (a `SeqBatch::masked` mask and `policy_kl_loss`) has the same
//! parameter gradient as a loss written out by hand over the drawn tokens only, a different
//! one from the loss over every token, and a zero gradient with respect to the log-prob of
//! every injected token.

use candle_core::{DType, Device, Tensor, Var};
use raif_model::tiny::{random_weights, tiny_config};
use raif_model::train::{token_logprobs, LogProbOptions, SeqBatch, Trainable};
use raif_model::{Arch, Transformer};
use raif_rl::grpo::{policy_kl_loss, LossInputs};

const CLIP: f64 = 0.2;

fn model() -> (Transformer, Trainable) {
    let cfg = tiny_config(Arch::Llama);
    let w = random_weights(&cfg, 21, 0.2, DType::F64, &Device::Cpu).unwrap();
    let mut m = Transformer::from_weights(cfg, w, "tiny").unwrap();
    let tr = Trainable::full(&mut m).unwrap();
    (m, tr)
}

/// Two rows: a prompt of 5 tokens and a completion of 9; row 0 has injected tokens at
/// completion positions 3, 4 and 5 (a forced `</think>` in the middle), row 1 none.
fn rows() -> (Vec<Vec<u32>>, Vec<usize>, Vec<Vec<usize>>) {
    let seqs = vec![
        vec![5u32, 9, 13, 200, 31, 7, 7, 99, 17, 18, 19, 64, 65, 66],
        vec![40u32, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53],
    ];
    let starts = vec![5, 5];
    let excluded = vec![vec![5 + 3, 5 + 4, 5 + 5], vec![]];
    (seqs, starts, excluded)
}

fn adv() -> Tensor {
    Tensor::new(&[1.3f64, -0.7], &Device::Cpu).unwrap()
}

/// The trainer's loss: the batch's own mask, π_old = the detached forward (ρ = 1 in value),
/// a reference offset from it so that the k3 term has a gradient.
fn trainer_loss(m: &Transformer, b: &SeqBatch) -> Tensor {
    let lp = token_logprobs(m, b, &LogProbOptions::policy())
        .unwrap()
        .logp;
    let old = lp.detach();
    let reference = (lp.detach() + 0.3).unwrap();
    let keep = Tensor::new(&[1.0f64, 1.0], &Device::Cpu).unwrap();
    let mask = b.loss_mask.to_dtype(DType::F64).unwrap();
    let parts = policy_kl_loss(
        &LossInputs {
            logp: &lp,
            old_logp: &old,
            ref_logp: Some(&reference),
            mask: &mask,
            adv: &adv(),
            keep: &keep,
        },
        CLIP,
        2.0,
    )
    .unwrap();
    (parts.policy + (parts.kl.unwrap() * 0.5).unwrap()).unwrap()
}

/// The same loss written out per token over the drawn tokens only, from a batch that scores
/// every completion token: Σ_rows mean_{drawn t} [−ρ_t·A + 0.5·k3_t] / 2, with ρ = 1 in value
/// (no clipping binds).
fn hand_loss(m: &Transformer) -> Tensor {
    let (seqs, starts, excluded) = rows();
    let b = SeqBatch::new(&seqs, &starts, &Device::Cpu).unwrap();
    let lp = token_logprobs(m, &b, &LogProbOptions::policy())
        .unwrap()
        .logp;
    let t = lp.dim(1).unwrap();
    let a = [1.3f64, -0.7];
    let mut total: Option<Tensor> = None;
    for r in 0..2 {
        let pad = b.pads[r];
        let mut terms = Vec::new();
        for pos in starts[r]..seqs[r].len() {
            if excluded[r].contains(&pos) {
                continue;
            }
            // Column of the prediction of token `pos`.
            let col = pad + pos - 1;
            assert!(col < t);
            let x = lp.get(r).unwrap().get(col).unwrap();
            let rho = (&x - x.detach()).unwrap().exp().unwrap();
            let d = ((x.detach() + 0.3).unwrap() - &x).unwrap();
            let k3 = ((d.exp().unwrap() - &d).unwrap() - 1.0).unwrap();
            let term = ((rho * -a[r]).unwrap() + (k3 * 0.5).unwrap()).unwrap();
            terms.push(term);
        }
        let n = terms.len() as f64;
        let row = (Tensor::stack(&terms, 0).unwrap().sum_all().unwrap() / n).unwrap();
        total = Some(match total {
            None => row,
            Some(s) => (s + row).unwrap(),
        });
    }
    (total.unwrap() / 2.0).unwrap()
}

fn grads(loss: &Tensor, tr: &Trainable) -> Vec<f64> {
    let g = loss.backward().unwrap();
    let mut out = Vec::new();
    for (_, v) in &tr.vars {
        match g.get(v.as_tensor()) {
            Some(t) => out.extend(t.flatten_all().unwrap().to_vec1::<f64>().unwrap()),
            None => out.extend(std::iter::repeat_n(0.0, v.elem_count())),
        }
    }
    out
}

#[test]
fn injected_tokens_contribute_no_gradient() {
    let (m, tr) = model();
    let (seqs, starts, excluded) = rows();
    let masked = SeqBatch::masked(&seqs, &starts, &excluded, &Device::Cpu).unwrap();
    assert_eq!(masked.counts, vec![6, 9]);
    let g_trainer = grads(&trainer_loss(&m, &masked), &tr);
    let g_hand = grads(&hand_loss(&m), &tr);
    let norm = g_hand.iter().map(|x| x * x).sum::<f64>().sqrt();
    let diff = g_trainer
        .iter()
        .zip(&g_hand)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(norm > 1e-3, "the loss has a gradient ({norm})");
    assert!(
        diff < 1e-9 * norm.max(1.0),
        "masked vs by hand: {diff} (norm {norm})"
    );
    // Scoring the injected tokens too changes the gradient: the mask is what removes them.
    let all = SeqBatch::new(&seqs, &starts, &Device::Cpu).unwrap();
    let g_all = grads(&trainer_loss(&m, &all), &tr);
    let diff_all = g_all
        .iter()
        .zip(&g_hand)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(
        diff_all > 1e-4 * norm,
        "injected tokens would have moved the gradient ({diff_all})"
    );
}

#[test]
fn the_loss_has_zero_gradient_at_injected_log_probs() {
    let (seqs, starts, excluded) = rows();
    let b = SeqBatch::masked(&seqs, &starts, &excluded, &Device::Cpu).unwrap();
    let t = b.loss_mask.dim(1).unwrap();
    // Arbitrary log-probs, a π_old off by a little (ratios near 1) and a reference.
    let vals: Vec<f64> = (0..2 * t).map(|i| -0.1 - (i % 7) as f64 * 0.3).collect();
    let logp = Var::from_vec(vals.clone(), (2, t), &Device::Cpu).unwrap();
    let old = Tensor::from_vec(
        vals.iter().map(|v| v + 0.05).collect::<Vec<_>>(),
        (2, t),
        &Device::Cpu,
    )
    .unwrap();
    let reference = (old.clone() - 0.2).unwrap();
    let keep = Tensor::new(&[1.0f64, 1.0], &Device::Cpu).unwrap();
    let mask = b.loss_mask.to_dtype(DType::F64).unwrap();
    let parts = policy_kl_loss(
        &LossInputs {
            logp: logp.as_tensor(),
            old_logp: &old,
            ref_logp: Some(&reference),
            mask: &mask,
            adv: &adv(),
            keep: &keep,
        },
        CLIP,
        2.0,
    )
    .unwrap();
    let loss = (parts.policy + parts.kl.unwrap()).unwrap();
    let g: Vec<Vec<f64>> = loss
        .backward()
        .unwrap()
        .get(logp.as_tensor())
        .unwrap()
        .to_vec2()
        .unwrap();
    for (pos, col) in (starts[0]..seqs[0].len()).map(|p| (p, b.pads[0] + p - 1)) {
        if excluded[0].contains(&pos) {
            assert_eq!(g[0][col], 0.0, "injected token at {pos}");
        } else {
            assert!(g[0][col] != 0.0, "drawn token at {pos} has a gradient");
        }
    }
    // The scored values read back in order, and scattered back to the same columns.
    let lp = Tensor::from_vec(vals, (2, t), &Device::Cpu)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap();
    let rows: Vec<Vec<f32>> = (0..2).map(|r| b.row_values(&lp, r).unwrap()).collect();
    assert_eq!(rows[0].len(), 6);
    let back = b.scatter_rows(&rows).unwrap();
    let masked = (lp * b.loss_mask.clone()).unwrap();
    assert_eq!(
        back.to_vec2::<f32>().unwrap(),
        masked.to_vec2::<f32>().unwrap()
    );
}
