//! Model-layer tests on tiny random models built in the test (no download).

use std::collections::HashMap;

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{DType, Device, IndexOp, Tensor};
use raif_model::generate::sample;
use raif_model::kv_cache::KvCache;
use raif_model::tiny::{
    random_weights, tiny_config, tiny_merges, tiny_model, tiny_tokenizer_json, tiny_vocab,
    TINY_SPECIALS,
};
use raif_model::transformer::{padded_inputs, Batch, ForwardOptions};
use raif_model::weights::permute_qk;
use raif_model::ForwardPath;
use raif_model::{
    Arch, ChatTemplate, DeviceSampler, Generator, LoadedModel, Message, PromptMode, Rng,
    SamplingParams, Tokenizer, Transformer,
};

mod common;
use common::max_abs_diff;

const ARCHS: [Arch; 3] = [Arch::Llama, Arch::Qwen2, Arch::Mistral];

fn full_logits(m: &Transformer, ids: &[u32], path: ForwardPath) -> Tensor {
    let (i, p, mask) = padded_inputs(&[ids], &[0], 0, &Device::Cpu).unwrap();
    m.forward(
        &Batch {
            input_ids: &i,
            positions: &p,
            mask: &mask,
        },
        None,
        &ForwardOptions {
            path,
            ..ForwardOptions::fused()
        },
    )
    .unwrap()
    .squeeze(0)
    .unwrap()
}

#[test]
fn kv_cache_path_matches_full_forward_for_every_family() {
    for arch in ARCHS {
        let lm = tiny_model(arch, 7).unwrap();
        let m = &lm.model;
        let ids: Vec<u32> = vec![5, 17, 99, 3, 250, 42, 7, 11];
        let full = full_logits(m, &ids, ForwardPath::Fused);
        // Prefill 3 tokens into the cache, then one token at a time.
        let mut cache = KvCache::new(&m.cfg);
        let (i, p, mask) = padded_inputs(&[&ids[..3]], &[0], 0, &Device::Cpu).unwrap();
        let pre = m
            .forward(
                &Batch {
                    input_ids: &i,
                    positions: &p,
                    mask: &mask,
                },
                Some(&mut cache),
                &ForwardOptions::fused(),
            )
            .unwrap();
        assert!(
            max_abs_diff(&pre.squeeze(0).unwrap(), &full.i(0..3).unwrap()) < 1e-4,
            "{arch:?} prefill"
        );
        for t in 3..ids.len() {
            let (i, p, mask) =
                padded_inputs(&[&ids[t..t + 1]], &[0], cache.len(), &Device::Cpu).unwrap();
            let step = m
                .forward(
                    &Batch {
                        input_ids: &i,
                        positions: &p,
                        mask: &mask,
                    },
                    Some(&mut cache),
                    &ForwardOptions::fused(),
                )
                .unwrap();
            let d = max_abs_diff(
                &step.squeeze(0).unwrap().squeeze(0).unwrap(),
                &full.i(t).unwrap(),
            );
            assert!(d < 1e-4, "{arch:?} step {t}: {d}");
        }
    }
}

#[test]
fn left_padded_batch_matches_each_sequence_alone() {
    for arch in ARCHS {
        let lm = tiny_model(arch, 3).unwrap();
        let m = &lm.model;
        let a: Vec<u32> = vec![1, 2, 3, 4, 5, 6];
        let b: Vec<u32> = vec![9, 8, 7];
        let (i, p, mask) = padded_inputs(&[&a, &b], &[0, 0], 0, &Device::Cpu).unwrap();
        let out = m
            .forward(
                &Batch {
                    input_ids: &i,
                    positions: &p,
                    mask: &mask,
                },
                None,
                &ForwardOptions::fused(),
            )
            .unwrap();
        let la = full_logits(m, &a, ForwardPath::Fused);
        let lb = full_logits(m, &b, ForwardPath::Fused);
        assert!(
            max_abs_diff(&out.i(0).unwrap(), &la) < 1e-4,
            "{arch:?} row a"
        );
        assert!(
            max_abs_diff(&out.i(1).unwrap().i(3..6).unwrap(), &lb) < 1e-4,
            "{arch:?} row b"
        );
    }
}

/// Prompts of 256 positions or more take the block-causal prefill attention; it must give the
/// logits of the plain (differentiable) attention, with left padding and after cached columns.
#[test]
fn block_causal_prefill_matches_full_attention_on_long_padded_batches() {
    for arch in ARCHS {
        let lm = tiny_model(arch, 13).unwrap();
        let m = &lm.model;
        let a: Vec<u32> = (0..300).map(|i| (i * 37 % 250 + 1) as u32).collect();
        let b: Vec<u32> = (0..170).map(|i| (i * 11 % 250 + 2) as u32).collect();
        let (i, p, mask) = padded_inputs(&[&a, &b], &[0, 0], 0, &Device::Cpu).unwrap();
        let batch = Batch {
            input_ids: &i,
            positions: &p,
            mask: &mask,
        };
        let fused = m.forward(&batch, None, &ForwardOptions::fused()).unwrap();
        let plain = m
            .forward(&batch, None, &ForwardOptions::differentiable())
            .unwrap();
        let d = max_abs_diff(&fused, &plain);
        assert!(d < 1e-4, "{arch:?} padded batch: {d}");
        let lb = full_logits(m, &b, ForwardPath::Differentiable);
        let d = max_abs_diff(&fused.i(1).unwrap().i(130..300).unwrap(), &lb);
        assert!(d < 1e-4, "{arch:?} padded row alone: {d}");

        // 40 cached columns, then a 260-token chunk through the block path.
        let mut cache = KvCache::new(&m.cfg);
        for (start, len) in [(0, 40), (40, 260)] {
            let (i, p, mask) =
                padded_inputs(&[&a[start..start + len]], &[0], cache.len(), &Device::Cpu).unwrap();
            let out = m
                .forward(
                    &Batch {
                        input_ids: &i,
                        positions: &p,
                        mask: &mask,
                    },
                    Some(&mut cache),
                    &ForwardOptions::fused(),
                )
                .unwrap();
            let want = plain.i(0).unwrap().i(start..start + len).unwrap();
            let d = max_abs_diff(&out.squeeze(0).unwrap(), &want);
            assert!(d < 1e-4, "{arch:?} cached chunk at {start}: {d}");
        }
    }
}

#[test]
fn fused_and_differentiable_paths_agree() {
    for arch in ARCHS {
        let lm = tiny_model(arch, 11).unwrap();
        let ids: Vec<u32> = (0..12).map(|i| (i * 37 % 260) as u32).collect();
        let f = full_logits(&lm.model, &ids, ForwardPath::Fused);
        let d = full_logits(&lm.model, &ids, ForwardPath::Differentiable);
        assert!(max_abs_diff(&f, &d) < 1e-4, "{arch:?}");
    }
}

#[test]
fn hf_folder_round_trip_gives_identical_logits() {
    for arch in ARCHS {
        let lm = tiny_model(arch, 5).unwrap();
        let dir = tempfile::tempdir().unwrap();
        lm.save_hf(dir.path()).unwrap();
        for f in [
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "tokenizer_config.json",
            "generation_config.json",
        ] {
            assert!(dir.path().join(f).exists(), "{f} written");
        }
        let back = LoadedModel::load(dir.path(), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(back.model.cfg, lm.model.cfg);
        assert_eq!(back.template, lm.template);
        let ids: Vec<u32> = vec![3, 1, 4, 1, 5, 9, 2, 6];
        let a = full_logits(&lm.model, &ids, ForwardPath::Fused)
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let b = full_logits(&back.model, &ids, ForwardPath::Fused)
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(a, b, "{arch:?}: logits must be identical after save/load");
    }
}

#[test]
fn sharded_hf_folder_loads() {
    let lm = tiny_model(Arch::Qwen2, 2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    lm.save_hf(dir.path()).unwrap();
    // Split model.safetensors into two shards with an index, as large checkpoints are.
    let all =
        candle_core::safetensors::load(dir.path().join("model.safetensors"), &Device::Cpu).unwrap();
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    let mut names: Vec<&String> = all.keys().collect();
    names.sort();
    let (first, second) = names.split_at(names.len() / 2);
    let mut map = serde_json::Map::new();
    for (file, part) in [
        ("model-00001-of-00002.safetensors", first),
        ("model-00002-of-00002.safetensors", second),
    ] {
        let t: HashMap<String, Tensor> = part
            .iter()
            .map(|n| ((*n).clone(), all[*n].clone()))
            .collect();
        candle_core::safetensors::save(&t, dir.path().join(file)).unwrap();
        for n in part {
            map.insert((*n).clone(), serde_json::json!(file));
        }
    }
    std::fs::write(
        dir.path().join("model.safetensors.index.json"),
        serde_json::json!({"metadata": {}, "weight_map": map}).to_string(),
    )
    .unwrap();
    let back = LoadedModel::load(dir.path(), DType::F32, &Device::Cpu).unwrap();
    let ids = [7u32, 8, 9];
    assert!(
        max_abs_diff(
            &full_logits(&lm.model, &ids, ForwardPath::Fused),
            &full_logits(&back.model, &ids, ForwardPath::Fused)
        ) == 0.0
    );
}

/// Write a GGUF the way llama.cpp's converter does (Q/K rows permuted, GGUF names, tokenizer
/// metadata) from HF-layout weights.
fn write_gguf(lm: &LoadedModel, path: &std::path::Path) {
    let cfg = &lm.model.cfg;
    let arch = match cfg.arch {
        Arch::Llama => "llama",
        Arch::Qwen2 => "qwen2",
        Arch::Mistral => "mistral",
    };
    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    for (name, t) in lm.model.named_tensors() {
        let t = if cfg.arch != Arch::Qwen2 && name.contains("q_proj") {
            permute_qk(&t, cfg.num_attention_heads).unwrap()
        } else if cfg.arch != Arch::Qwen2 && name.contains("k_proj") {
            permute_qk(&t, cfg.num_key_value_heads).unwrap()
        } else {
            t
        };
        let g = match name.as_str() {
            "model.embed_tokens.weight" => "token_embd.weight".to_string(),
            "model.norm.weight" => "output_norm.weight".to_string(),
            "lm_head.weight" => "output.weight".to_string(),
            n => {
                let rest = n.strip_prefix("model.layers.").unwrap();
                let (l, tail) = rest.split_once('.').unwrap();
                let g = match tail {
                    "input_layernorm.weight" => "attn_norm.weight",
                    "post_attention_layernorm.weight" => "ffn_norm.weight",
                    "self_attn.q_proj.weight" => "attn_q.weight",
                    "self_attn.k_proj.weight" => "attn_k.weight",
                    "self_attn.v_proj.weight" => "attn_v.weight",
                    "self_attn.o_proj.weight" => "attn_output.weight",
                    "self_attn.q_proj.bias" => "attn_q.bias",
                    "self_attn.k_proj.bias" => "attn_k.bias",
                    "self_attn.v_proj.bias" => "attn_v.bias",
                    "mlp.gate_proj.weight" => "ffn_gate.weight",
                    "mlp.up_proj.weight" => "ffn_up.weight",
                    "mlp.down_proj.weight" => "ffn_down.weight",
                    other => panic!("unmapped {other}"),
                };
                format!("blk.{l}.{g}")
            }
        };
        // `QTensor::quantize` reads a tensor's whole buffer, ignoring its layout: packed
        // projection weights are views into one buffer, so each gets a buffer of its own.
        let t = t.force_contiguous().unwrap();
        tensors.push((g, QTensor::quantize(&t, GgmlDType::F32).unwrap()));
    }
    use gguf_file::Value as V;
    let mut tokens: Vec<V> = tiny_vocab().into_iter().map(V::String).collect();
    let mut types: Vec<V> = vec![V::I32(1); tokens.len()];
    for s in TINY_SPECIALS {
        tokens.push(V::String(s.to_string()));
        types.push(V::I32(3));
    }
    let merges: Vec<V> = tiny_merges()
        .into_iter()
        .map(|(a, b)| V::String(format!("{a} {b}")))
        .collect();
    let meta: Vec<(String, V)> = vec![
        ("general.architecture".into(), V::String(arch.into())),
        (
            format!("{arch}.embedding_length"),
            V::U32(cfg.hidden_size as u32),
        ),
        (
            format!("{arch}.feed_forward_length"),
            V::U32(cfg.intermediate_size as u32),
        ),
        (
            format!("{arch}.block_count"),
            V::U32(cfg.num_hidden_layers as u32),
        ),
        (
            format!("{arch}.attention.head_count"),
            V::U32(cfg.num_attention_heads as u32),
        ),
        (
            format!("{arch}.attention.head_count_kv"),
            V::U32(cfg.num_key_value_heads as u32),
        ),
        (
            format!("{arch}.rope.freq_base"),
            V::F32(cfg.rope_theta as f32),
        ),
        (
            format!("{arch}.attention.layer_norm_rms_epsilon"),
            V::F32(cfg.rms_norm_eps as f32),
        ),
        (
            format!("{arch}.context_length"),
            V::U32(cfg.max_position_embeddings as u32),
        ),
        ("tokenizer.ggml.model".into(), V::String("gpt2".into())),
        ("tokenizer.ggml.pre".into(), V::String("smollm".into())),
        ("tokenizer.ggml.tokens".into(), V::Array(tokens)),
        ("tokenizer.ggml.token_type".into(), V::Array(types)),
        ("tokenizer.ggml.merges".into(), V::Array(merges)),
        (
            "tokenizer.ggml.eos_token_id".into(),
            V::U32(cfg.eos_token_ids[0]),
        ),
        (
            "tokenizer.chat_template".into(),
            V::String("{% for message in messages %}<|im_start|>...{% endfor %}".into()),
        ),
    ];
    let meta_refs: Vec<(&str, &V)> = meta.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let t_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut f = std::fs::File::create(path).unwrap();
    gguf_file::write(&mut f, &meta_refs, &t_refs).unwrap();
}

#[test]
fn gguf_round_trip_restores_hf_layout() {
    // Llama-family RoPE scaling is not stored in GGUF metadata in our writer: compare families
    // without it.
    for arch in [Arch::Qwen2, Arch::Mistral, Arch::Llama] {
        let mut cfg = tiny_config(arch);
        cfg.rope_scaling = None;
        let w = random_weights(&cfg, 21, 0.2, DType::F32, &Device::Cpu).unwrap();
        let model = Transformer::from_weights(cfg, w, "tiny").unwrap();
        let lm = LoadedModel {
            model,
            tokenizer: Tokenizer::from_json(tiny_tokenizer_json().to_string()).unwrap(),
            template: ChatTemplate::ChatMl {
                default_system: None,
            },
            source: raif_model::ModelSource::HfFolder("tiny".into()),
            stop_ids: vec![],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.gguf");
        write_gguf(&lm, &path);
        let back = LoadedModel::load(&path, DType::F32, &Device::Cpu).unwrap();
        assert_eq!(back.model.cfg.num_key_value_heads, 2);
        assert_eq!(back.template.name(), "chatml");
        let ids = [4u32, 8, 15, 16, 23, 42];
        let d = max_abs_diff(
            &full_logits(&lm.model, &ids, ForwardPath::Fused),
            &full_logits(&back.model, &ids, ForwardPath::Fused),
        );
        assert!(d < 1e-5, "{arch:?}: {d}");
        assert!(back
            .stop_ids
            .contains(&back.tokenizer.token_to_id("<|im_end|>").unwrap()));
    }
}

#[test]
fn gguf_built_tokenizer_matches_tokenizer_json_and_round_trips() {
    let lm = tiny_model(Arch::Llama, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.gguf");
    write_gguf(&lm, &path);
    let g = raif_model::weights::GgufFile::open(&path).unwrap();
    let from_gguf = Tokenizer::from_gguf(&g).unwrap();
    let from_json = Tokenizer::from_json(tiny_tokenizer_json().to_string()).unwrap();
    let texts = [
        "the cat and the hat",
        "<|im_start|>user\nThink about 2024 and 3.14159<|im_end|>\n",
        "  leading spaces,\ttabs\r\nand CRLF",
        "unicode: héllo wörld — 你好, мир 🙂",
        "",
        "<think>\nreasoning</think><answer>ok</answer>",
    ];
    for t in texts {
        let a = from_gguf.encode(t).unwrap();
        let b = from_json.encode(t).unwrap();
        assert_eq!(a, b, "{t:?}");
        assert_eq!(from_gguf.decode(&a, false).unwrap(), t, "round trip {t:?}");
    }
    // Merges are applied (fewer tokens than bytes) and specials are single tokens.
    assert!(from_gguf.encode("the the the").unwrap().len() < "the the the".len());
    let im = from_gguf.encode("<|im_start|>").unwrap();
    assert_eq!(im, vec![from_json.token_to_id("<|im_start|>").unwrap()]);
    // Digits are split one by one, like SmolLM2's tokenizer.
    assert_eq!(from_gguf.encode("2024").unwrap().len(), 4);
}

#[test]
fn streaming_detokenizer_reassembles_multibyte_text() {
    let tok = Tokenizer::from_json(tiny_tokenizer_json().to_string()).unwrap();
    let text = "naïve 你好 🙂 the end";
    let ids = tok.encode(text).unwrap();
    let mut s = tok.stream();
    let mut out = String::new();
    for id in ids {
        if let Some(d) = s.push(id).unwrap() {
            out += &d;
        }
    }
    assert_eq!(out, text);
}

#[test]
fn chat_templates_render_the_expected_text() {
    let conv = vec![
        Message::system("Be brief."),
        Message::user("Hi"),
        Message::assistant("Hello!"),
        Message::user("2+2?"),
    ];
    let chatml = ChatTemplate::ChatMl {
        default_system: None,
    }
    .render(&conv, true)
    .unwrap();
    assert_eq!(
        chatml,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    );
    let smol = ChatTemplate::by_name("smollm")
        .unwrap()
        .render(&conv[1..2], true)
        .unwrap();
    assert_eq!(
        smol,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
    let llama = ChatTemplate::Llama3 { date_header: false }
        .render(&conv, true)
        .unwrap();
    assert_eq!(
        llama,
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    );
    let llama31 = ChatTemplate::Llama3 { date_header: true }
        .render(&conv[1..2], true)
        .unwrap();
    assert_eq!(
        llama31,
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    );
    let r1 = ChatTemplate::DeepSeekR1.render(&conv, true).unwrap();
    assert_eq!(r1, "<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>");
    let mistral = ChatTemplate::Mistral.render(&conv, true).unwrap();
    assert_eq!(
        mistral,
        "<s>[INST]Hi[/INST]Hello!</s>[INST]Be brief.\n\n2+2?[/INST]"
    );
}

#[test]
fn raif_prompt_modes() {
    let t = ChatTemplate::ChatMl {
        default_system: None,
    };
    let think = t.prompt("List 3 fruits.", PromptMode::Think).unwrap();
    assert!(think.starts_with(
        "<|im_start|>system\nYou are a helpful assistant. The assistant first thinks"
    ));
    assert!(think
        .ends_with("<|im_start|>user\nList 3 fruits.<|im_end|>\n<|im_start|>assistant\n<think>\n"));
    let fast = t.prompt("List 3 fruits.", PromptMode::NoThink).unwrap();
    assert!(fast.ends_with("<|im_start|>assistant\n<think>\n\n</think>\n"));
    let io = t.prompt("List 3 fruits.", PromptMode::Io).unwrap();
    assert_eq!(
        io,
        "<|im_start|>user\nList 3 fruits.<|im_end|>\n<|im_start|>assistant\n"
    );
    let cot = t.prompt("List 3 fruits.", PromptMode::Cot).unwrap();
    assert!(cot.contains("List 3 fruits.\n\nLet's think step by step"));
    let r1 = ChatTemplate::DeepSeekR1
        .prompt("Q", PromptMode::Think)
        .unwrap();
    assert_eq!(
        r1,
        "<｜begin▁of▁sentence｜><｜User｜>Q<｜Assistant｜><think>\n"
    );
    assert!("no-think".parse::<PromptMode>().is_ok());
    assert!("bogus".parse::<PromptMode>().is_err());
}

#[test]
fn seeded_sampling_is_reproducible_and_independent_of_batch_neighbours() {
    let lm = tiny_model(Arch::Llama, 9).unwrap();
    let gen = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: lm.stop_ids.clone(),
    };
    let p = |s: &str| {
        lm.tokenizer
            .encode(&lm.template.prompt(s, PromptMode::Io).unwrap())
            .unwrap()
    };
    let prompts = vec![
        p("the cat"),
        p("a much longer prompt about the and then"),
        p("x"),
    ];
    let params = SamplingParams {
        temperature: 1.0,
        top_p: 0.9,
        top_k: 50,
        max_new_tokens: 12,
        ..Default::default()
    };
    let a = gen
        .generate(&prompts, &[1, 2, 3], &params, &mut |_| {})
        .unwrap();
    let b = gen
        .generate(&prompts, &[1, 2, 3], &params, &mut |_| {})
        .unwrap();
    assert_eq!(a, b);
    let alone = gen
        .generate(&prompts[1..2], &[2], &params, &mut |_| {})
        .unwrap();
    assert_eq!(alone[0].tokens, a[1].tokens);
    for (x, y) in alone[0].logprobs.iter().zip(&a[1].logprobs) {
        assert!((x - y).abs() < 1e-4);
    }
    let c = gen
        .generate(&prompts, &[4, 5, 6], &params, &mut |_| {})
        .unwrap();
    assert_ne!(a, c, "a different seed gives different samples");
}

#[test]
fn greedy_generation_follows_the_full_forward_argmax_and_logprobs() {
    let lm = tiny_model(Arch::Qwen2, 4).unwrap();
    let gen = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: vec![],
    };
    // Long enough that the KV cache grows twice (it starts at 64 positions).
    let prompt = lm
        .tokenizer
        .encode(&"the and the cat, ".repeat(12))
        .unwrap();
    assert!(prompt.len() > 70);
    let n = 90;
    let out = gen
        .generate(
            std::slice::from_ref(&prompt),
            &[0],
            &SamplingParams::greedy(n),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(out[0].tokens.len(), n);
    assert_eq!(out[0].finish, raif_model::FinishReason::Length);
    let mut seq = prompt.clone();
    for (k, &tok) in out[0].tokens.iter().enumerate() {
        let logits = full_logits(&lm.model, &seq, ForwardPath::Fused);
        let last = logits.i(seq.len() - 1).unwrap();
        let lsm = candle_nn::ops::log_softmax(&last, 0)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let arg = lsm
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0 as u32;
        assert_eq!(tok, arg, "step {k}");
        assert!((lsm[tok as usize] - out[0].logprobs[k]).abs() < 1e-4);
        seq.push(tok);
    }
}

/// The inverse-CDF position of `u` among `weights` (f64, vocabulary order): how close the
/// target `u * total` lies to the nearest boundary, relative to the total.
fn boundary_gap(weights: &[f64], u: f64) -> f64 {
    let total: f64 = weights.iter().sum();
    let target = u * total;
    let mut acc = 0.0;
    let mut gap = f64::INFINITY;
    for w in weights {
        acc += w;
        gap = gap.min((acc - target).abs());
    }
    gap / total
}

#[test]
fn device_sampler_draws_what_the_host_sampler_draws() {
    // A vocabulary that is not a multiple of the sampler's chunk, peaked and flat rows, and
    // the temperatures the trainer and the evaluation use.
    let (rows, vocab) = (6, 1300);
    let mut rng = Rng::new(7);
    let mut data = Vec::new();
    for r in 0..rows {
        for _ in 0..vocab {
            let scale = [0.5, 2.0, 8.0][r % 3];
            data.push((rng.normal() * scale) as f32);
        }
    }
    let logits = Tensor::from_vec(data.clone(), (rows, vocab), &Device::Cpu).unwrap();
    let sampler = DeviceSampler::new(vocab, &Device::Cpu).unwrap();
    let mut parted = 0;
    let mut draws = 0;
    for temperature in [0.0, 1.0, 0.7] {
        let params = SamplingParams {
            temperature,
            ..SamplingParams::default()
        };
        for round in 0..40u64 {
            let mut streams: Vec<Rng> = (0..rows as u64)
                .map(|i| Rng::for_stream(round, i))
                .collect();
            // the uniform each row's host draw takes
            let u: Vec<f64> = streams.iter().map(|s| s.clone().next_f64()).collect();
            let dev = sampler.draw(&logits, &u, &params).unwrap();
            for (i, stream) in streams.iter_mut().enumerate() {
                let row = &data[i * vocab..(i + 1) * vocab];
                let (tok, lp) = sample(row, &params, stream);
                assert!((lp - dev[i].1).abs() < 1e-4, "log-prob of row {i}");
                draws += 1;
                if tok != dev[i].0 {
                    // only where u lies within f32 rounding of a boundary
                    let max = row.iter().copied().fold(f32::MIN, f32::max);
                    let w: Vec<f64> = row
                        .iter()
                        .map(|&l| (((l - max) as f64) / temperature).exp())
                        .collect();
                    assert!(temperature > 0.0, "greedy parted at row {i}");
                    let gap = boundary_gap(&w, u[i]);
                    assert!(
                        gap < 1e-5,
                        "row {i}: host {tok}, device {}, gap {gap}",
                        dev[i].0
                    );
                    parted += 1;
                }
            }
        }
    }
    assert!(parted * 100 <= draws, "{parted} of {draws} draws parted");
}

#[test]
fn device_greedy_takes_the_first_of_tied_maxima_as_the_host_does() {
    // bf16 logits tie often; the host keeps the first maximum and so must the device.
    let rows = [
        vec![1.0f32, 3.0, 3.0, 0.0, 3.0],
        vec![-1.0, -1.0, -1.0, -1.0, -1.0],
        vec![0.0, 0.0, 0.0, 0.0, 2.0],
        vec![f32::NEG_INFINITY; 5],
    ];
    let flat: Vec<f32> = rows.concat();
    let t = Tensor::from_vec(flat, (rows.len(), 5), &Device::Cpu).unwrap();
    let sampler = DeviceSampler::new(5, &Device::Cpu).unwrap();
    let dev = sampler
        .draw(&t, &[0.5; 4], &SamplingParams::greedy(1))
        .unwrap();
    for (i, row) in rows.iter().enumerate() {
        let (tok, _) = sample(row, &SamplingParams::greedy(1), &mut Rng::new(0));
        assert_eq!(dev[i].0, tok, "row {i}");
    }
    assert_eq!(
        dev.iter().map(|d| d.0).collect::<Vec<_>>(),
        vec![1, 0, 4, 0]
    );
}

#[test]
fn device_sampler_frequencies_follow_the_distribution() {
    let logits = [0.0f32, 1.0, 2.0, -1.0, 0.5, 3.0, -2.0];
    let t = Tensor::from_slice(&logits, (1, logits.len()), &Device::Cpu).unwrap();
    let sampler = DeviceSampler::new(logits.len(), &Device::Cpu).unwrap();
    let params = SamplingParams::default();
    let n = 4000;
    let mut rng = Rng::new(3);
    let mut counts = [0usize; 7];
    for _ in 0..n {
        let u = [rng.next_f64()];
        counts[sampler.draw(&t, &u, &params).unwrap()[0].0 as usize] += 1;
    }
    let z: f64 = logits.iter().map(|&l| (l as f64).exp()).sum();
    for (k, &c) in counts.iter().enumerate() {
        let p = (logits[k] as f64).exp() / z;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (c as f64 - n as f64 * p).abs() < 5.0 * sd + 1.0,
            "token {k}: {c} draws, expected {:.0}",
            n as f64 * p
        );
    }
    // bad shapes and top-p are refused, not drawn
    assert!(sampler.draw(&t, &[0.5, 0.5], &params).is_err());
    let top_p = SamplingParams {
        top_p: 0.9,
        ..SamplingParams::default()
    };
    assert!(sampler.draw(&t, &[0.5], &top_p).is_err());
}

#[test]
fn stop_tokens_and_stop_strings_end_generation() {
    let lm = tiny_model(Arch::Llama, 4).unwrap();
    let prompt = lm.tokenizer.encode("the").unwrap();
    // Find what greedy decoding produces, then stop on its second token / on its text.
    let free = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: vec![],
    }
    .generate(
        std::slice::from_ref(&prompt),
        &[0],
        &SamplingParams::greedy(8),
        &mut |_| {},
    )
    .unwrap();
    let second = free[0].tokens[1];
    let stopped = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: vec![second],
    }
    .generate(
        std::slice::from_ref(&prompt),
        &[0],
        &SamplingParams::greedy(8),
        &mut |_| {},
    )
    .unwrap();
    let first_hit = free[0].tokens.iter().position(|&t| t == second).unwrap();
    assert_eq!(stopped[0].finish, raif_model::FinishReason::Stop);
    assert_eq!(
        stopped[0].tokens,
        free[0].tokens[..=first_hit].to_vec(),
        "the stop token is the last token"
    );
    // A stop string: the text of the first generated token that decodes to plain ASCII.
    let sampled = SamplingParams {
        temperature: 1.0,
        max_new_tokens: 48,
        ..Default::default()
    };
    let long = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: vec![],
    }
    .generate(std::slice::from_ref(&prompt), &[0], &sampled, &mut |_| {})
    .unwrap();
    let needle = long[0].tokens[1..]
        .iter()
        .map(|&t| lm.tokenizer.decode(&[t], false).unwrap())
        .find(|s| !s.trim().is_empty() && s.chars().all(|c| c.is_ascii_graphic()))
        .expect("some generated token is plain ASCII");
    let mut p = sampled.clone();
    p.stop_strings = vec![needle.clone()];
    let mut streamed = String::new();
    let s = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: vec![],
    }
    .generate(&[prompt], &[0], &p, &mut |e| streamed.push_str(e.delta))
    .unwrap();
    assert_eq!(
        s[0].finish,
        raif_model::FinishReason::StopString,
        "needle {needle:?} in {:?}",
        long[0].text
    );
    assert!(!s[0].text.contains(&needle));
    assert_eq!(
        streamed, s[0].text,
        "the streamed text stops where the text is cut"
    );
    assert!(long[0].text.starts_with(&s[0].text));
}

#[test]
fn bad_model_folders_give_clear_errors() {
    let lm = tiny_model(Arch::Llama, 1).unwrap();
    let err = |p: &std::path::Path| {
        format!(
            "{:#}",
            LoadedModel::load(p, DType::F32, &Device::Cpu)
                .err()
                .expect("must fail")
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(err(&d.join("nope")).contains("does not exist"));
    assert!(err(d).contains("no config.json"));
    lm.save_hf(d).unwrap();
    // Unknown architecture.
    let cfg_text = std::fs::read_to_string(d.join("config.json")).unwrap();
    std::fs::write(
        d.join("config.json"),
        cfg_text
            .replace("LlamaForCausalLM", "GPTNeoXForCausalLM")
            .replace("\"llama\"", "\"gpt_neox\""),
    )
    .unwrap();
    assert!(err(d).contains("unsupported architecture GPTNeoXForCausalLM"));
    std::fs::write(d.join("config.json"), &cfg_text).unwrap();
    // A missing tensor, then a mis-shaped one.
    let mut t = candle_core::safetensors::load(d.join("model.safetensors"), &Device::Cpu).unwrap();
    let k = "model.layers.1.mlp.up_proj.weight".to_string();
    let orig = t.remove(&k).unwrap();
    candle_core::safetensors::save(&t, d.join("model.safetensors")).unwrap();
    let e = err(d);
    assert!(
        e.contains("missing tensor `model.layers.1.mlp.up_proj.weight` (expected shape [48, 32])"),
        "{e}"
    );
    t.insert(k, orig.narrow(0, 0, 40).unwrap());
    candle_core::safetensors::save(&t, d.join("model.safetensors")).unwrap();
    let e = err(d);
    assert!(
        e.contains(
            "tensor `model.layers.1.mlp.up_proj.weight` has shape [40, 32], expected [48, 32]"
        ),
        "{e}"
    );
    // No weights, no tokenizer, broken JSON.
    std::fs::remove_file(d.join("model.safetensors")).unwrap();
    assert!(err(d).contains("no model.safetensors"));
    std::fs::remove_file(d.join("tokenizer.json")).unwrap();
    assert!(err(d).contains("no tokenizer.json"));
    std::fs::write(d.join("config.json"), "{ not json").unwrap();
    assert!(err(d).contains("config.json: not valid JSON"));
    // A file that is neither GGUF nor a folder; a corrupt GGUF.
    std::fs::write(d.join("x.bin"), b"hello").unwrap();
    assert!(err(&d.join("x.bin")).contains("a model is a .gguf file or a Hugging Face folder"));
    std::fs::write(d.join("x.gguf"), b"GGUFxxxx").unwrap();
    assert!(err(&d.join("x.gguf")).contains("not a readable GGUF file"));
}

/// The `random:SHAPE` models have the published parameter counts, and one builds and generates
/// (its filler tokenizer decodes any id the random weights sample).
#[test]
fn random_shapes_match_the_published_models() {
    use raif_model::tiny::{random_model, shape_config, RANDOM_SHAPES};
    let billions = |n: &str| shape_config(n).unwrap().num_parameters() as f64 / 1e9;
    assert!((billions("smollm2-135m") - 0.1345).abs() < 0.001);
    assert!((billions("qwen2.5-0.5b") - 0.494).abs() < 0.002);
    assert!((billions("qwen2.5-1.5b") - 1.544).abs() < 0.002);
    assert!((billions("qwen2.5-7b") - 7.616).abs() < 0.005);
    assert!((billions("llama-3.1-8b") - 8.030).abs() < 0.005);
    assert_eq!(RANDOM_SHAPES.len(), 5);
    assert!(shape_config("qwen9-1t").is_err());
    let lm = random_model("smollm2-135m", DType::F32, &Device::Cpu).unwrap();
    let gen = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: Vec::new(),
    };
    let prompt = lm.tokenizer.encode("a random model").unwrap();
    let params = SamplingParams {
        temperature: 1.0,
        max_new_tokens: 4,
        ..Default::default()
    };
    let (out, _) = gen
        .generate_with_stats(&[prompt], &[1], &params, &mut |_| {})
        .unwrap();
    assert_eq!(out[0].tokens.len(), 4);
    assert!(out[0].tokens.iter().all(|&t| (t as usize) < 49152));
}
