//! `cargo run --release -p raif-model --example gemm_shapes`: the training step's matmuls at the
//! default model's shapes (2048 rows: 8 × 256 tokens), forward `x Wᵀ` and the two backward
//! products `g W` and `gᵀ x`, best of five, in GFLOP/s. `scripts/bench/torch_matmul.py` times
//! the same in PyTorch (docs/BENCHMARKS.md, issue #5).
use std::time::Instant;

use anyhow::Result;
use candle_core::{Device, Tensor};

fn bench(name: &str, f: &dyn Fn() -> Result<Tensor>, flops: f64) -> Result<()> {
    f()?;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t0 = Instant::now();
        f()?;
        best = best.min(t0.elapsed().as_secs_f64());
    }
    println!(
        "{name:<34} {:9.2} ms {:7.1} GFLOP/s",
        best * 1e3,
        flops / best / 1e9
    );
    Ok(())
}

fn main() -> Result<()> {
    let n = 2048;
    let t = |shape: (usize, usize)| Tensor::randn(0f32, 1.0, shape, &Device::Cpu);
    for (i, o) in [(576usize, 1536usize), (1536, 576), (576, 576), (576, 49152)] {
        let (x, w, g) = (t((n, i))?, t((o, i))?, t((n, o))?);
        let fl = 2.0 * (n * i * o) as f64;
        bench(
            &format!("x Wt  [{n},{i}]x[{i},{o}]"),
            &|| Ok(x.matmul(&w.t()?)?),
            fl,
        )?;
        bench(
            &format!("g W   [{n},{o}]x[{o},{i}]"),
            &|| Ok(g.matmul(&w)?),
            fl,
        )?;
        bench(
            &format!("gt x  [{o},{n}]x[{n},{i}]"),
            &|| Ok(g.t()?.matmul(&x)?),
            fl,
        )?;
    }
    // LoRA r 8: the adapter's skinny products, `(x Aᵀ)`, `(x Aᵀ) Bᵀ`, and the backward's `g B`,
    // `(g B) A`, `(g B)ᵀ x`, `gᵀ (x Aᵀ)`.
    let r = 8;
    for (i, o) in [(576usize, 576usize), (576, 192), (576, 1536), (1536, 576)] {
        let (x, a, b, g) = (t((n, i))?, t((r, i))?, t((o, r))?, t((n, o))?);
        let xa = x.matmul(&a.t()?)?;
        let gb = g.matmul(&b)?;
        let fl = |p: usize| 2.0 * (n * r * p) as f64;
        bench(
            &format!("x At  [{n},{i}]x[{i},{r}]"),
            &|| Ok(x.matmul(&a.t()?)?),
            fl(i),
        )?;
        bench(
            &format!("xa Bt [{n},{r}]x[{r},{o}]"),
            &|| Ok(xa.matmul(&b.t()?)?),
            fl(o),
        )?;
        bench(
            &format!("g B   [{n},{o}]x[{o},{r}]"),
            &|| Ok(g.matmul(&b)?),
            fl(o),
        )?;
        bench(
            &format!("gb A  [{n},{r}]x[{r},{i}]"),
            &|| Ok(gb.matmul(&a)?),
            fl(i),
        )?;
        bench(
            &format!("gbt x [{r},{n}]x[{n},{i}]"),
            &|| Ok(gb.t()?.matmul(&x)?),
            fl(i),
        )?;
        bench(
            &format!("gt xa [{o},{n}]x[{n},{r}]"),
            &|| Ok(g.t()?.matmul(&xa)?),
            fl(o),
        )?;
    }
    Ok(())
}
