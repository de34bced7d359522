"""TRL's GRPOTrainer on the same work as `raif train --preset tiny`, for the step-time comparison
in docs/RESULTS.md: 2 prompts x G=4 samples per step, up to 96 new tokens, temperature 1.0,
LoRA r 8 / alpha 16 on all projections, AdamW (0.9, 0.95), k3 KL at 0.001 against the base model
(adapters off), clip 0.2, the per-sample token mean ("grpo" loss), float32 on the CPU.

The prompts are the generated records' instructions in the RAIF think prompt (ChatML, the RAIF
system prompt, `<think>\\n` after the generation prompt), rendered here so TRL sees exactly the
text the workbench samples from. The reward is the RAIF format score plus a constant answer
score (a cheap Python function: the step time measured is the trainer's, not a verifier's).

Usage: python trl_grpo_step.py HF_FOLDER RECORDS.jsonl [--steps 6] [--threads 2]
Prints one JSON object per step (step_s) and a final one with the median over the steps after
the first.
"""
import argparse, json, re, statistics, time

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer

SYSTEM = ("You are a helpful assistant. The assistant first thinks about the reasoning process in the mind "
          "and then provides the user with the answer. The reasoning process and answer are enclosed within "
          "<think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning process here "
          "</think><answer> answer here </answer>.")

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("records")
ap.add_argument("--steps", type=int, default=6)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
torch.set_num_threads(a.threads)

prompts = []
for line in open(a.records):
    r = json.loads(line)
    user = [m["content"] for m in r["messages"] if m["role"] == "user"][-1]
    prompts.append(f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
                   f"<|im_start|>assistant\n<think>\n")
ds = Dataset.from_dict({"prompt": prompts})

FORMAT = re.compile(r"^(?s:(?!<think>).)*</think>(?s:.)*<answer>(?s:.)*</answer>")


def reward(completions, **_):
    return [(1.0 if FORMAT.search(c) else -1.0) - 2.0 for c in completions]


class Timer(TrainerCallback):
    def __init__(self):
        self.times = []

    def on_step_begin(self, args, state, control, **kw):
        self.t = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        s = time.perf_counter() - self.t
        self.times.append(s)
        print(json.dumps({"step": state.global_step, "step_s": s}), flush=True)


cfg = GRPOConfig(
    output_dir="/tmp/trl-grpo-out", report_to=[], save_strategy="no", logging_steps=1,
    use_cpu=True, bf16=False, fp16=False, seed=0,
    per_device_train_batch_size=8, gradient_accumulation_steps=1, num_generations=4,
    max_completion_length=96, temperature=1.0, top_p=1.0,
    learning_rate=2e-5, adam_beta1=0.9, adam_beta2=0.95, weight_decay=0.0, max_grad_norm=1.0,
    beta=0.001, epsilon=0.2, loss_type="grpo", max_steps=a.steps,
)
lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, task_type="CAUSAL_LM",
                  target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
timer = Timer()
trainer = GRPOTrainer(model=a.model, reward_funcs=reward, args=cfg, train_dataset=ds, peft_config=lora,
                      callbacks=[timer])
trainer.train()
rest = timer.times[1:] or timer.times
import transformers, trl
print(json.dumps({"engine": f"trl {trl.__version__}, transformers {transformers.__version__}, torch {torch.__version__}",
                  "threads": a.threads, "steps": len(timer.times), "median_step_s": statistics.median(rest),
                  "step_s": timer.times}))
