"""The PyTorch side of `raif bench train-step`: one AdamW step (forward, backward, update) on
8 sequences x 256 tokens of the same text, float32 on the CPU, full fine-tune or LoRA (peft,
r 8, alpha 16, all projections), optionally with gradient checkpointing.

Usage: python torch_train_step.py HF_FOLDER [--lora] [--checkpointing] [--threads 2] [--reps 3]
Prints one JSON object: step_s, tokens_per_s, peak_rss_mb.
"""
import argparse, json, resource, statistics, time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--lora", action="store_true")
ap.add_argument("--checkpointing", action="store_true")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--seq-len", type=int, default=256)
a = ap.parse_args()
torch.set_num_threads(a.threads)
tok = AutoTokenizer.from_pretrained(a.model)
model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32)
if a.lora:
    from peft import LoraConfig, get_peft_model
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, task_type="CAUSAL_LM",
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                                             "gate_proj", "up_proj", "down_proj"]))
if a.checkpointing:
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if a.lora:
        model.enable_input_require_grads()
model.train()
params = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.AdamW(params, lr=1e-5, betas=(0.9, 0.95), weight_decay=0.0)
text = ("Researchers teach small language models to follow instructions with several constraints at once, "
        "rewarding answers that satisfy every rule and reasoning that beats answering directly. ")
ids = tok(text * (1 + a.seq_len // 20))["input_ids"]
batch = torch.tensor([ids[b:b + a.seq_len] for b in range(a.batch)])


def step():
    t = time.perf_counter()
    out = model(input_ids=batch, labels=batch)
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return time.perf_counter() - t, out.loss.item()


step()
times = []
for _ in range(a.reps):
    s, _ = step()
    times.append(s)
s = statistics.median(times)
print(json.dumps({
    "engine": f"torch {torch.__version__}", "mode": "lora" if a.lora else "full", "checkpointing": a.checkpointing,
    "threads": a.threads, "trainable_parameters": sum(p.numel() for p in params),
    "step_s": s, "tokens_per_s": a.batch * a.seq_len / s,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
