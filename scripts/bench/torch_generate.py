"""The PyTorch + transformers side of `raif bench generate`, measured the same way.

Usage: python torch_generate.py HF_FOLDER [--threads 2] [--reps 3]
HF_FOLDER: the model as a Hugging Face folder, e.g. from `raif model export --out DIR` (the
dequantized default model). Prints one JSON object with prefill_tps, decode_tps_b1,
decode_tps_b8, peak_rss_mb (float32, CPU).
"""
import argparse, json, resource, statistics, time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=3)
a = ap.parse_args()
torch.set_num_threads(a.threads)
tok = AutoTokenizer.from_pretrained(a.model)
model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32).eval()

text = "The quick brown fox jumps over the lazy dog while the researchers measure tokens per second. "
long_ids = torch.tensor([tok(text * 64)["input_ids"][:512]])
short = tok.apply_chat_template([{"role": "user", "content": "Write a short story about a lighthouse keeper."}],
                                add_generation_prompt=True, return_tensors="pt")
if not isinstance(short, torch.Tensor):
    short = short["input_ids"]


def prefill(ids):
    t = time.perf_counter()
    with torch.no_grad():
        model(ids, use_cache=True)
    return time.perf_counter() - t


def gen(ids, n, sample):
    t = time.perf_counter()
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                             do_sample=sample, temperature=1.0 if sample else None, top_p=1.0 if sample else None,
                             top_k=0 if sample else None, pad_token_id=tok.eos_token_id)
    assert out.shape[1] - ids.shape[1] == n
    return time.perf_counter() - t


# warm-up
prefill(long_ids)
gen(short.repeat(8, 1), 8, True)
pre, d1, d8 = [], [], []
for r in range(a.reps):
    pre.append(512 / prefill(long_ids))
    p1 = prefill(short)
    d1.append(127 / (gen(short, 128, False) - p1))
    b8 = short.repeat(8, 1)
    p8 = prefill(b8)
    d8.append(8 * 127 / (gen(b8, 128, True) - p8))
print(json.dumps({
    "engine": f"torch {torch.__version__}",
    "threads": a.threads,
    "prefill_tps": statistics.median(pre),
    "decode_tps_b1": statistics.median(d1),
    "decode_tps_b8": statistics.median(d8),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
