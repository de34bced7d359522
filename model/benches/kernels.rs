//! `cargo bench -p raif-model --bench kernels`: the decode-step matmul `x Wᵀ` at the default
//! model's shapes, the small-M kernel against candle's GEMM. Best of N runs (robust to a busy
//! machine); prints milliseconds and the weight-streaming rate.

use std::time::Instant;

use candle_core::{Device, Tensor};
use raif_model::ops::cpu::matmul_t_small_m;

fn best_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> anyhow::Result<()> {
    let dev = Device::Cpu;
    // SmolLM2-135M: q/o 576×576, k/v 192×576, gate/up 1536×576, down 576×1536, lm head 49152×576.
    let shapes = [
        (576, 576),
        (192, 576),
        (1536, 576),
        (576, 1536),
        (49152, 576),
    ];
    println!(
        "{:>4} {:>6} {:>5} {:>10} {:>10} {:>8}",
        "M", "N", "K", "kernel ms", "gemm ms", "GB/s"
    );
    for m in [1usize, 8, 16] {
        for &(n, k) in &shapes {
            let x = Tensor::randn(0f32, 1.0, (m, k), &dev)?;
            let w = Tensor::randn(0f32, 1.0, (n, k), &dev)?;
            let (xv, wv) = (
                x.flatten_all()?.to_vec1::<f32>()?,
                w.flatten_all()?.to_vec1::<f32>()?,
            );
            let reps = if n > 10_000 { 20 } else { 200 };
            let ours = best_ms(reps, || {
                std::hint::black_box(matmul_t_small_m(&xv, &wv, m, n, k));
            });
            let wt = w.t()?;
            let gemm = best_ms(reps, || {
                std::hint::black_box(x.matmul(&wt).ok());
            });
            let gbs = (n * k * 4) as f64 / (ours * 1e-3) / 1e9;
            println!("{m:>4} {n:>6} {k:>5} {ours:>10.3} {gemm:>10.3} {gbs:>8.1}");
        }
    }
    Ok(())
}
