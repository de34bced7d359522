"""PyTorch's side of `cargo run --release -p raif-model --example gemm_shapes`: the same
matmuls (2048 rows; forward x W^T, backward g W and g^T x), float32, best of five, GFLOP/s.
Usage: python torch_matmul.py [--threads 2]"""
import argparse, time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
torch.set_num_threads(ap.parse_args().threads)
n = 2048


def bench(name, f, flops):
    f()
    best = min(timed(f) for _ in range(5))
    print(f"{name:<34} {best * 1e3:9.2f} ms {flops / best / 1e9:7.1f} GFLOP/s")


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


for i, o in [(576, 1536), (1536, 576), (576, 576), (576, 49152)]:
    x, w, g = torch.randn(n, i), torch.randn(o, i), torch.randn(n, o)
    fl = 2.0 * n * i * o
    bench(f"x Wt  [{n},{i}]x[{i},{o}]", lambda: x @ w.t(), fl)
    bench(f"g W   [{n},{o}]x[{o},{i}]", lambda: g @ w, fl)
    bench(f"gt x  [{o},{n}]x[{n},{i}]", lambda: g.t() @ x, fl)
