//! Helpers shared by the model's test files (each file is its own crate: not every one uses
//! every helper).
#![allow(dead_code)]

use candle_core::Tensor;

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
