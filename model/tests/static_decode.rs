//! The fixed-shape decode step (a KV cache of fixed capacity, the write column in a device
//! tensor, attention over the whole capacity under a mask): the same logits, tokens and
//! log-probs as the growing cache, on tiny random models with a left-padded batch of two rows.

use candle_core::{DType, Device, Tensor};
use raif_model::generate::GenStats;
use raif_model::kv_cache::KvCache;
use raif_model::tiny::{random_weights, tiny_config, tiny_tokenizer_json};
use raif_model::transformer::{padded_inputs, static_step_inputs, Batch, ForwardOptions};
use raif_model::{Arch, Generation, Generator, SamplingParams, Tokenizer, Transformer};

mod common;
use common::{max_abs_diff, with_lora};

fn model(arch: Arch, seed: u64) -> Transformer {
    let cfg = tiny_config(arch);
    let w = random_weights(&cfg, seed, 0.2, DType::F32, &Device::Cpu).unwrap();
    Transformer::from_weights(cfg, w, "tiny").unwrap()
}

/// Two prompts of different lengths (the second left-padded by four columns).
fn prompts() -> Vec<Vec<u32>> {
    vec![vec![5u32, 17, 99, 3, 250, 42, 7], vec![9u32, 8, 7]]
}

fn generations(m: &Transformer, params: &SamplingParams, fixed: bool) -> Vec<Generation> {
    let tok = Tokenizer::from_json(tiny_tokenizer_json().to_string()).unwrap();
    let gen = Generator {
        model: m,
        tokenizer: &tok,
        stop_ids: vec![],
    };
    let seeds = [3, 4];
    run(&gen, &prompts(), &seeds, params, fixed).0
}

fn run(
    gen: &Generator,
    prompts: &[Vec<u32>],
    seeds: &[u64],
    params: &SamplingParams,
    fixed: bool,
) -> (Vec<Generation>, GenStats) {
    if fixed {
        gen.generate_static(prompts, seeds, params, &mut |_| {})
    } else {
        gen.generate_with_stats(prompts, seeds, params, &mut |_| {})
    }
    .unwrap()
}

fn assert_same(got: &[Generation], want: &[Generation], what: &str) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.tokens, w.tokens, "{what}");
        assert_eq!(g.logprobs.len(), w.logprobs.len(), "{what}");
        for (a, b) in g.logprobs.iter().zip(&w.logprobs) {
            assert!((a - b).abs() <= 1e-5, "{what}: log-prob {a} vs {b}");
        }
    }
}

/// Greedy and sampled generation: the fixed-shape step draws the tokens the growing cache
/// draws, with the same log-probs, for Qwen (q/k/v biases) and Llama.
#[test]
fn fixed_shape_decode_draws_the_tokens_of_the_growing_cache() {
    for arch in [Arch::Qwen2, Arch::Llama] {
        let m = model(arch, 7);
        for params in [SamplingParams::greedy(16), {
            let mut p = SamplingParams::greedy(16);
            p.temperature = 1.0;
            p
        }] {
            let want = generations(&m, &params, false);
            assert!(want.iter().all(|g| g.tokens.len() == 16));
            let got = generations(&m, &params, true);
            assert_same(&got, &want, &format!("{arch:?} T={}", params.temperature));
        }
    }
}

/// Step by step: after a prefill into a cache of fixed capacity, each fixed-shape step (its
/// mask spans the whole capacity, which the attention must then read whole) gives the logits
/// of the growing cache's step, and the buffers keep their capacity.
#[test]
fn each_fixed_shape_step_gives_the_growing_caches_logits() {
    let m = model(Arch::Qwen2, 5);
    let (a, b) = (vec![5u32, 17, 99, 3, 250], vec![9u32, 8]);
    let (ids, pos, mask) = padded_inputs(&[&a, &b], &[0, 0], 0, &Device::Cpu).unwrap();
    let batch = Batch {
        input_ids: &ids,
        positions: &pos,
        mask: &mask,
    };
    let opts = ForwardOptions::fused();
    let cap = 12;
    let mut grow = KvCache::new(&m.cfg);
    let mut fixed = KvCache::with_capacity(&m.cfg, cap);
    m.forward(&batch, Some(&mut grow), &opts).unwrap();
    m.forward(&batch, Some(&mut fixed), &opts).unwrap();
    let pads = [0usize, 3];
    for (step, toks) in [[7u32, 11], [250, 3], [42, 42], [1, 2]].iter().enumerate() {
        let rows: Vec<&[u32]> = toks.iter().map(std::slice::from_ref).collect();
        let (i, p, mk) = padded_inputs(&rows, &pads, grow.len(), &Device::Cpu).unwrap();
        let want = m
            .forward(
                &Batch {
                    input_ids: &i,
                    positions: &p,
                    mask: &mk,
                },
                Some(&mut grow),
                &opts,
            )
            .unwrap();
        let (i, p, col, mk) =
            static_step_inputs(&rows, &pads, fixed.len(), cap, &Device::Cpu).unwrap();
        assert_eq!(mk.dims(), &[2, 1, cap]);
        fixed.set_write_column(Some(&col)).unwrap();
        let got = m
            .forward(
                &Batch {
                    input_ids: &i,
                    positions: &p,
                    mask: &mk,
                },
                Some(&mut fixed),
                &opts,
            )
            .unwrap();
        let d = max_abs_diff(&got, &want);
        assert!(d <= 1e-5, "step {step}: {d}");
        assert_eq!(fixed.len(), grow.len());
    }
    assert_eq!(fixed.capacity(), Some(cap));
    // The next step would still fit; a prefill past the capacity does not.
    let long: Vec<u32> = (0..13).collect();
    let (i, p, mk) = padded_inputs(&[&long], &[0], 0, &Device::Cpu).unwrap();
    let mut small = KvCache::with_capacity(&m.cfg, cap);
    let err = m.forward(
        &Batch {
            input_ids: &i,
            positions: &p,
            mask: &mk,
        },
        Some(&mut small),
        &opts,
    );
    assert!(err.is_err(), "13 positions into a capacity of 12");
    // A growing cache takes no write column.
    let col = Tensor::new(&[0u32], &Device::Cpu).unwrap();
    assert!(KvCache::new(&m.cfg).set_write_column(Some(&col)).is_err());
}

/// Five prompts of different lengths.
fn five_prompts() -> Vec<Vec<u32>> {
    (0..5)
        .map(|i| {
            (0..3 + 2 * i)
                .map(|j| ((i * 31 + j * 17) % 250 + 1) as u32)
                .collect()
        })
        .collect()
}

/// Rows that finish at different steps: the fixed-shape batch keeps them as dead slots and
/// shrinks only to power-of-two buckets (5 → 4 → 2 → 1), where the growing cache shrinks to
/// the live rows at every finish; the live rows draw the same tokens with the same log-probs.
#[test]
fn finished_rows_stay_as_dead_slots_until_the_next_bucket() {
    let m = model(Arch::Qwen2, 13);
    let tok = Tokenizer::from_json(tiny_tokenizer_json().to_string()).unwrap();
    let prompts = five_prompts();
    let seeds = [11, 12, 13, 14, 15];
    let mut params = SamplingParams::greedy(24);
    params.temperature = 1.0;
    let free = Generator {
        model: &m,
        tokenizer: &tok,
        stop_ids: vec![],
    };
    let (open, _) = run(&free, &prompts, &seeds, &params, false);
    // A stop token that leaves three rows generating at some step (a batch of 3: a bucket of 4
    // holding a dead slot).
    let stop = open
        .iter()
        .flat_map(|g| g.tokens.iter().copied())
        .find(|&t| {
            let gen = Generator {
                model: &m,
                tokenizer: &tok,
                stop_ids: vec![t],
            };
            run(&gen, &prompts, &seeds, &params, false)
                .1
                .decode_batch_sizes
                .contains(&3)
        })
        .expect("a stop token that retires rows at different steps");
    let gen = Generator {
        model: &m,
        tokenizer: &tok,
        stop_ids: vec![stop],
    };
    let (want, grow) = run(&gen, &prompts, &seeds, &params, false);
    let (got, fixed) = run(&gen, &prompts, &seeds, &params, true);
    assert_same(&got, &want, "dead slots");
    assert!(
        fixed
            .decode_batch_sizes
            .iter()
            .all(|s| [5, 4, 2, 1].contains(s)),
        "{fixed:?}"
    );
    assert!(
        fixed.decode_batch_sizes.windows(2).all(|w| w[0] > w[1]),
        "{fixed:?}"
    );
    assert!(fixed.decode_batch_sizes.contains(&4), "{fixed:?}");
    assert_ne!(fixed.decode_batch_sizes, grow.decode_batch_sizes);
    assert_eq!(fixed.graphs.captured, 0, "no graphs on the CPU");
}

/// With LoRA adapters on, the fixed-shape step adds their deltas to the packed q/k/v output
/// before RoPE and the cache write: the tokens of the growing cache.
#[test]
fn fixed_shape_decode_with_lora_adapters_draws_the_growing_caches_tokens() {
    for arch in [Arch::Qwen2, Arch::Llama] {
        let mut m = model(arch, 21);
        let _tr = with_lora(&mut m);
        let mut params = SamplingParams::greedy(12);
        params.temperature = 1.0;
        let want = generations(&m, &params, false);
        let got = generations(&m, &params, true);
        assert_same(&got, &want, &format!("{arch:?} with LoRA"));
        let base = generations(&model(arch, 21), &params, true);
        assert_ne!(
            base.iter().map(|g| &g.tokens).collect::<Vec<_>>(),
            got.iter().map(|g| &g.tokens).collect::<Vec<_>>(),
            "{arch:?}: the adapters change the tokens"
        );
    }
}
