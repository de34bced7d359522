//! Helpers shared by the model's test files (each file is its own crate: not every one uses
//! every helper).
#![allow(dead_code)]

use candle_core::{Device, Tensor};
use raif_model::train::lora::LoraConfig;
use raif_model::train::Trainable;
use raif_model::Transformer;

/// max |t|, as f32.
pub fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// max |a − b|.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    max_abs(&(a - b).unwrap())
}

/// Attach LoRA adapters to every projection and give their B matrices nonzero values, so the
/// deltas change the output.
pub fn with_lora(m: &mut Transformer) -> Trainable {
    let cfg = LoraConfig {
        r: 4,
        alpha: 8.0,
        ..LoraConfig::default()
    };
    let tr = Trainable::lora(m, &cfg, 5).unwrap();
    for (i, (name, v)) in tr.vars.iter().enumerate() {
        if name.ends_with("lora_B.weight") {
            let t = Tensor::randn(0f32, 0.3, v.shape(), &Device::Cpu).unwrap();
            v.set(&(t + i as f64 * 1e-3).unwrap()).unwrap();
        }
    }
    tr
}
