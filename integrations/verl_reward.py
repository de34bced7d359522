"""RAIF reward for verl, through `raif serve-reward`.

verl calls a custom reward function once per response (its naive reward manager):

    compute_score(data_source, solution_str, ground_truth, extra_info=None) -> float | dict

`solution_str` is the decoded response (verl decodes it with skip_special_tokens=True) and
`ground_truth` is the row's `reward_model.ground_truth`: here, the record's constraints as JSON
(a RAIF constraint tree, or IFEval style {"instruction_id_list": [...], "kwargs": [...]}), as a
string or an object. The prompt is not passed to the function; put it in the row's
`extra_info["prompt"]` if your constraint trees use Selection guards (checked on the prompt) or
if the prompt ends with the RAIF `<think>` prefill (then also set `extra_info["prefill"]` to
"open_think", or start the server with `--prefill open-think`).

Configure verl (Hydra overrides):

    custom_reward_function.path=integrations/verl_reward.py \
    custom_reward_function.name=compute_score

and start the server beside the trainer:  raif serve-reward --addr 127.0.0.1:5000
(or set RAIF_REWARD_URL, e.g. http://reward-host:5000). Only the Python standard library is used.

The return value is a dict: verl takes "score" as the reward and logs the other keys
(answer_score, format_score, satisfied, total) as reward_extra_info.
"""

import json
import os
import time
import urllib.error
import urllib.request

RAIF_REWARD_URL = os.environ.get("RAIF_REWARD_URL", "http://127.0.0.1:5000")
TIMEOUT_S = float(os.environ.get("RAIF_REWARD_TIMEOUT", "60"))
RETRIES = int(os.environ.get("RAIF_REWARD_RETRIES", "5"))


class RaifRewardError(RuntimeError):
    """The server refused the request (a 4xx: a bad label, an unknown instruction id)."""


def _post(path, payload):
    body = json.dumps(payload).encode("utf-8")
    req = urllib.request.Request(
        RAIF_REWARD_URL.rstrip("/") + path,
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    last = None
    for attempt in range(RETRIES):
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            reason = e.read().decode("utf-8", "replace")
            if 400 <= e.code < 500:
                # the request itself is wrong: retrying will not help
                raise RaifRewardError(f"raif serve-reward answered {e.code}: {reason}") from None
            last = f"{e.code}: {reason}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            last = str(e)
        time.sleep(min(2 ** attempt, 10))
    raise RuntimeError(f"raif serve-reward at {RAIF_REWARD_URL} failed {RETRIES} times: {last}")


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """The RAIF reward of one response (in [-3, 3]) with its parts."""
    extra_info = extra_info or {}
    item = {
        "prompt": extra_info.get("prompt", "") if isinstance(extra_info, dict) else "",
        "response": solution_str,
        "constraints": ground_truth,
    }
    payload = {"items": [item]}
    if isinstance(extra_info, dict) and extra_info.get("prefill"):
        payload["prefill"] = extra_info["prefill"]
    if isinstance(extra_info, dict) and extra_info.get("style"):
        payload["style"] = extra_info["style"]
    result = _post("/v1/score", payload)["results"][0]
    breakdown = result.get("breakdown") or {}
    return {
        "score": float(result["reward"]),
        "answer_score": float(result["answer_score"]),
        "format_score": float(result["format_score"]),
        "satisfied": int(breakdown.get("satisfied", 0)),
        "total": int(breakdown.get("total", 0)),
    }


if __name__ == "__main__":
    # python integrations/verl_reward.py  (with a server running) — a quick check
    gt = json.dumps({"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]})
    print(compute_score("ifeval", "<think>plan</think><answer>Hello world</answer>", gt))
