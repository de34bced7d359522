"""The PyTorch + transformers side of the GPU benchmarks (issue #9), on a randomly initialised
model of a real shape (no weights can be downloaded on the GPU machine), bf16 on CUDA:

- decode: `generate` of 128 new tokens, sampled (temperature 1), at --batch sequences of
  --prompt-len random tokens each; sequence tokens/s after the prefill, median of --reps;
- train step: one AdamW step (forward, backward, update) of a next-token loss on --train-batch
  sequences x --seq-len tokens, full fine-tune, bf16 weights, median of --reps after a warm-up —
  the work of `raif bench train-step`.

Usage: python torch_gpu.py --shape qwen2.5-1.5b [--batch 64] [--prompt-len 30] [--reps 3]
Prints one JSON object.
"""
import argparse, json, statistics, time

import torch
from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

# The shapes of `raif --model random:NAME` (model/src/tiny.rs), from the published configs.
SHAPES = {
    "smollm2-135m": (LlamaConfig, dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                                       num_attention_heads=9, num_key_value_heads=3, rope_theta=100000.0,
                                       rms_norm_eps=1e-5, tie_word_embeddings=True)),
    "qwen2.5-0.5b": (Qwen2Config, dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                                       num_attention_heads=14, num_key_value_heads=2, rope_theta=1e6,
                                       rms_norm_eps=1e-6, tie_word_embeddings=True)),
    "qwen2.5-1.5b": (Qwen2Config, dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                                       num_attention_heads=12, num_key_value_heads=2, rope_theta=1e6,
                                       rms_norm_eps=1e-6, tie_word_embeddings=True)),
    "qwen2.5-7b": (Qwen2Config, dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                                     num_attention_heads=28, num_key_value_heads=4, rope_theta=1e6,
                                     rms_norm_eps=1e-6, tie_word_embeddings=False)),
    "llama-3.1-8b": (LlamaConfig, dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                                       num_attention_heads=32, num_key_value_heads=8, rope_theta=500000.0,
                                       rms_norm_eps=1e-5, tie_word_embeddings=False,
                                       rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                     "high_freq_factor": 4.0,
                                                     "original_max_position_embeddings": 8192})),
}

ap = argparse.ArgumentParser()
ap.add_argument("--shape", default="qwen2.5-1.5b", choices=sorted(SHAPES))
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--prompt-len", type=int, default=30)
ap.add_argument("--new-tokens", type=int, default=128)
ap.add_argument("--train-batch", type=int, default=8)
ap.add_argument("--seq-len", type=int, default=256)
ap.add_argument("--reps", type=int, default=3)
a = ap.parse_args()
dev = torch.device("cuda")
cls, kw = SHAPES[a.shape]
cfg = cls(max_position_embeddings=32768, **kw)
torch.manual_seed(0)
with dev:  # built on the card: a CPU init of 1.5B parameters would spend the lease
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
for p in model.parameters():  # the same init as raif's random models: N(0, 0.02), norms 1
    if p.dim() > 1:
        torch.nn.init.normal_(p, 0.0, 0.02)
model.eval()
V = cfg.vocab_size


def sync_time(f):
    torch.cuda.synchronize()
    t = time.perf_counter()
    f()
    torch.cuda.synchronize()
    return time.perf_counter() - t


def generate(ids, n):
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                             do_sample=True, temperature=1.0, top_p=1.0, top_k=0, pad_token_id=0, eos_token_id=None)
    assert out.shape[1] - ids.shape[1] == n


ids = torch.randint(0, V, (a.batch, a.prompt_len), device=dev)
generate(ids, 8)  # warm-up
dec = []
for _ in range(a.reps):
    with torch.no_grad():
        pre = sync_time(lambda: model(ids, use_cache=True))
    total = sync_time(lambda: generate(ids, a.new_tokens))
    dec.append(a.batch * (a.new_tokens - 1) / (total - pre))

model.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.95), weight_decay=0.0)
batch = torch.randint(0, V, (a.train_batch, a.seq_len), device=dev)


def step():
    out = model(input_ids=batch, labels=batch)
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)


step()
steps = [sync_time(step) for _ in range(a.reps)]
print(json.dumps({
    "engine": f"torch {torch.__version__} + transformers, bf16",
    "device": torch.cuda.get_device_name(0),
    "shape": a.shape,
    "decode_batch": a.batch,
    "decode_tps_batch": statistics.median(dec),
    "train_batch": a.train_batch,
    "seq_len": a.seq_len,
    "step_s": statistics.median(steps),
    "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20,
}))
