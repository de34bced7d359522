//! Generation's packed projections (one matmul for q/k/v, one for gate/up, views of one weight
//! buffer) and fused residual-add + RMSNorm, against the per-projection path, on tiny random
//! models: the same logits (to f32 rounding), the same greedy tokens, with and without LoRA
//! adapters, and the per-projection path whenever a weight was swapped or trains.

use candle_core::{DType, Device, Tensor};
use raif_model::tiny::{random_weights, tiny_config, tiny_tokenizer_json};
use raif_model::train::params::merge_lora;
use raif_model::train::Trainable;
use raif_model::transformer::{padded_inputs, Batch, ForwardOptions};
use raif_model::{Arch, Generation, Generator, SamplingParams, Tokenizer, Transformer};

mod common;
use common::{max_abs, max_abs_diff, with_lora};

const ARCHS: [Arch; 3] = [Arch::Llama, Arch::Qwen2, Arch::Mistral];

/// A tiny model as loading builds it: packed.
fn packed(arch: Arch, seed: u64) -> Transformer {
    let cfg = tiny_config(arch);
    let w = random_weights(&cfg, seed, 0.2, DType::F32, &Device::Cpu).unwrap();
    Transformer::from_weights(cfg, w, "tiny").unwrap()
}

/// The same model with every projection owning its weights again.
fn unpacked(m: &Transformer) -> Transformer {
    let mut u = m.clone();
    u.unfuse_projections().unwrap();
    assert_eq!(u.packed_projections(), (0, 0));
    u
}

fn all_packed(m: &Transformer) -> bool {
    let n = m.layers.len();
    m.packed_projections() == (n, n)
}

/// Fused-path logits of a left-padded batch of two rows (24 rows of activations: the GEMM
/// path of the matmul, not the few-rows kernel).
fn logits(m: &Transformer) -> Tensor {
    let a: Vec<u32> = (0..14).map(|i| (i * 37 % 250 + 1) as u32).collect();
    let b: Vec<u32> = (0..9).map(|i| (i * 11 % 250 + 2) as u32).collect();
    let (ids, pos, mask) = padded_inputs(&[&a, &b], &[0, 0], 0, &Device::Cpu).unwrap();
    let batch = Batch {
        input_ids: &ids,
        positions: &pos,
        mask: &mask,
    };
    m.forward(&batch, None, &ForwardOptions::fused()).unwrap()
}

/// max |a − b| / max |b|.
fn rel(a: &Tensor, b: &Tensor) -> f32 {
    max_abs_diff(a, b) / max_abs(b)
}

/// Greedy continuations of two prompts of different lengths (a padded batch: a prefill, then
/// decode steps of two rows).
fn greedy(m: &Transformer) -> Vec<Generation> {
    let tok = Tokenizer::from_json(tiny_tokenizer_json().to_string()).unwrap();
    let gen = Generator {
        model: m,
        tokenizer: &tok,
        stop_ids: vec![],
    };
    let prompts = vec![vec![5u32, 17, 99, 3, 250, 42, 7], vec![9u32, 8, 7]];
    gen.generate(&prompts, &[1, 2], &SamplingParams::greedy(12), &mut |_| {})
        .unwrap()
}

fn assert_same_generations(got: &[Generation], want: &[Generation], what: &str) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.tokens, w.tokens, "{what}: tokens");
        for (a, b) in g.logprobs.iter().zip(&w.logprobs) {
            assert!((a - b).abs() <= 1e-5, "{what}: log-prob {a} vs {b}");
        }
    }
}

/// Loading packs every block (q/k/v with Qwen's biases, gate/up), and the packed path gives
/// the per-projection logits to f32 rounding.
#[test]
fn packed_projections_give_the_per_projection_logits_for_every_family() {
    for arch in ARCHS {
        let m = packed(arch, 7);
        assert!(all_packed(&m), "{arch:?}: {:?}", m.packed_projections());
        let d = rel(&logits(&m), &logits(&unpacked(&m)));
        assert!(d <= 1e-5, "{arch:?}: logits differ by {d}");
    }
}

/// Greedy generation (prefill, then decode steps through the KV cache) draws the same tokens
/// with the same log-probs, packed or not, for a model with q/k/v biases (Qwen) and one
/// without (Llama).
#[test]
fn greedy_tokens_are_the_same_packed_or_not() {
    for arch in [Arch::Qwen2, Arch::Llama] {
        let m = packed(arch, 11);
        let want = greedy(&unpacked(&m));
        assert_same_generations(&greedy(&m), &want, &format!("{arch:?}"));
        assert!(want.iter().all(|g| g.tokens.len() == 12));
    }
}

/// With LoRA adapters on, the packed base matmul plus each adapter's delta gives the
/// per-projection LoRA layers' logits and tokens; with adapters off, the base model's.
#[test]
fn lora_adapters_add_their_deltas_to_the_packed_projections() {
    for arch in [Arch::Qwen2, Arch::Llama] {
        let base = packed(arch, 3);
        let mut m = base.clone();
        let _tr = with_lora(&mut m);
        assert!(all_packed(&m), "attaching adapters keeps the base weights");
        let mut plain = unpacked(&base);
        let _tr2 = with_lora(&mut plain);
        // the same adapter values on both (drawn from candle's RNG above: copy them over)
        for ((_, _, a), (_, _, b)) in m.linears_mut().into_iter().zip(plain.linears_mut()) {
            let (la, lb) = (a.lora.as_ref().unwrap(), b.lora.as_mut().unwrap());
            lb.a = la.a.clone();
            lb.b = la.b.clone();
        }
        let (with, want) = (logits(&m), logits(&plain));
        let d = rel(&with, &want);
        assert!(d <= 1e-5, "{arch:?}: LoRA logits differ by {d}");
        assert!(
            rel(&with, &logits(&base)) > 1e-3,
            "{arch:?}: the adapters must change the output"
        );
        assert_same_generations(&greedy(&m), &greedy(&plain), &format!("{arch:?} LoRA"));
        let no_adapters = |t: &Transformer| {
            let a: Vec<u32> = vec![5, 9, 13, 200, 31];
            let (ids, pos, mask) = padded_inputs(&[&a], &[0], 0, &Device::Cpu).unwrap();
            let batch = Batch {
                input_ids: &ids,
                positions: &pos,
                mask: &mask,
            };
            t.forward(&batch, None, &ForwardOptions::fused().adapters(false))
                .unwrap()
        };
        assert!(rel(&no_adapters(&m), &no_adapters(&base)) <= 1e-6);
    }
}

/// A weight or bias swapped through `params_mut` is a new tensor: the packed path must not be
/// used (it would read the old packed buffer), and the output follows the new weights.
#[test]
fn a_weight_swapped_through_params_mut_is_used() {
    let m = packed(Arch::Qwen2, 5);
    let mut plain = unpacked(&m);
    for (name, t) in plain.params_mut() {
        if name.ends_with("self_attn.k_proj.bias") || name.ends_with("mlp.up_proj.weight") {
            *t = (&*t * 1.5).unwrap();
        }
    }
    let mut swapped = m.clone();
    for (name, t) in swapped.params_mut() {
        if name.ends_with("self_attn.k_proj.bias") || name.ends_with("mlp.up_proj.weight") {
            *t = (&*t * 1.5).unwrap();
        }
    }
    assert_eq!(swapped.packed_projections(), (0, 0));
    let got = logits(&swapped);
    assert!(
        rel(&got, &logits(&plain)) <= 1e-5,
        "follows the new weights"
    );
    assert!(rel(&got, &logits(&m)) > 1e-3, "the swap changed the output");
    // the original still shares the packed buffers and takes the packed path
    assert!(all_packed(&m));
    // packing again packs the new weights
    assert_eq!(
        swapped.fuse_projections().unwrap(),
        2 * swapped.layers.len()
    );
    assert!(rel(&logits(&swapped), &got) <= 1e-5);
}

/// A full fine-tune makes every weight a `Var` (a copy): the fused path goes projection by
/// projection and follows the variables as the optimizer changes them.
#[test]
fn trained_variables_take_the_per_projection_path() {
    let mut m = packed(Arch::Llama, 9);
    let before = logits(&m);
    let tr = Trainable::full(&mut m).unwrap();
    assert_eq!(m.packed_projections(), (0, 0));
    assert!(rel(&logits(&m), &before) <= 1e-5);
    let (_, q) = tr
        .vars
        .iter()
        .find(|(n, _)| n.ends_with("layers.0.self_attn.q_proj.weight"))
        .unwrap();
    q.set(&(q.as_tensor() * 2.0).unwrap()).unwrap();
    assert!(rel(&logits(&m), &before) > 1e-3);
}

/// Merging adapters gives new frozen weights, which are packed again; the merged model gives
/// the adapters' output.
#[test]
fn merged_adapters_are_packed_again() {
    let mut m = packed(Arch::Qwen2, 4);
    let _tr = with_lora(&mut m);
    let want = logits(&m);
    merge_lora(&mut m).unwrap();
    assert!(all_packed(&m), "{:?}", m.packed_projections());
    assert!(rel(&logits(&m), &want) <= 1e-5);
}

/// The packed weights are saved as the projections' own tensors: a saved and reloaded model
/// gives the same logits.
#[test]
fn a_packed_model_saves_each_projection() {
    let m = packed(Arch::Qwen2, 2);
    let tok = Tokenizer::from_json(tiny_tokenizer_json().to_string()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    raif_model::loaded::save_hf_folder(
        &m,
        &tok,
        &raif_model::ChatTemplate::ChatMl {
            default_system: None,
        },
        dir.path(),
    )
    .unwrap();
    let back = raif_model::LoadedModel::load(dir.path(), DType::F32, &Device::Cpu).unwrap();
    for ((n, a), (_, b)) in m.named_tensors().iter().zip(back.model.named_tensors()) {
        assert_eq!(a.dims(), b.dims(), "{n}");
        assert!(rel(a, &b) == 0.0, "{n}");
    }
    assert!(all_packed(&back.model));
}
