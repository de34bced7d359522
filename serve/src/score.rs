//! Scoring: response extraction from an engine's `query`, prefill detection, and the RAIF reward
//! of a batch (in parallel, bounded by a deadline).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use raif_verify::reward::{raif_reward, Prefill, Reward, RewardConfig, TagStyle};
use raif_verify::Constraint;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// End-of-sequence / padding strings an engine may leave at the end of a decoded response
/// (OpenRLHF decodes with `skip_special_tokens=False`). Stripped from the end, repeatedly.
pub const DEFAULT_EOS: &[&str] = &[
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "</s>",
    "<｜end▁of▁sentence｜>",
    "<|end|>",
];

/// What the generation prompt ended with, or `Auto` to read it off each prompt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PrefillMode {
    /// `<think>\n\n</think>` at the end of the prompt: no-think; `<think>` at the end: open think;
    /// otherwise none.
    #[default]
    Auto,
    None,
    OpenThink,
    NoThink,
}

impl PrefillMode {
    /// The prefill for one prompt.
    pub fn resolve(self, prompt: &str) -> Prefill {
        match self {
            PrefillMode::None => Prefill::None,
            PrefillMode::OpenThink => Prefill::OpenThink,
            PrefillMode::NoThink => Prefill::NoThink,
            PrefillMode::Auto => detect_prefill(prompt),
        }
    }
}

/// Read the prefill off the end of a prompt (ALGORITHM §1: the RAIF prompt ends with
/// `<think>\n`, a no-think prompt with `<think>\n\n</think>\n`).
pub fn detect_prefill(prompt: &str) -> Prefill {
    let p = prompt.trim_end();
    if let Some(before) = p.strip_suffix("</think>") {
        if before.trim_end().ends_with("<think>") {
            return Prefill::NoThink;
        }
        return Prefill::None;
    }
    if p.ends_with("<think>") {
        Prefill::OpenThink
    } else {
        Prefill::None
    }
}

/// The response part of an engine's `query` (prompt + response): the text after the prompt.
/// `None` when the prompt is not found in the query.
pub fn response_of<'a>(query: &'a str, prompt: &str) -> Option<&'a str> {
    if prompt.is_empty() {
        return Some(query);
    }
    if let Some(r) = query.strip_prefix(prompt) {
        return Some(r);
    }
    // a BOS or padding token the decoder put before the prompt
    query.find(prompt).map(|i| &query[i + prompt.len()..])
}

/// Strip trailing end-of-sequence strings (and the whitespace between them).
pub fn strip_eos<'a>(mut s: &'a str, eos: &[String]) -> &'a str {
    loop {
        let t = s.trim_end();
        match eos
            .iter()
            .find(|e| !e.is_empty() && t.ends_with(e.as_str()))
        {
            Some(e) => s = &t[..t.len() - e.len()],
            None => return s,
        }
    }
}

/// One response to score.
#[derive(Clone, Debug)]
pub struct Item {
    pub prompt: String,
    pub response: String,
    pub tree: Constraint,
    pub prefill: Prefill,
}

/// Why a batch was not scored.
#[derive(Debug)]
pub enum ScoreError {
    /// The deadline passed (the per-request timeout) or the request was cancelled.
    Timeout,
    /// A verifier failed on item `index`.
    Item { index: usize, reason: String },
}

/// Score a batch with the RAIF reward. Stops early (Err(Timeout)) once `deadline` has passed or
/// `cancel` is set, checked before each item.
pub fn score_batch(
    items: &[Item],
    style: TagStyle,
    deadline: Instant,
    cancel: &AtomicBool,
) -> Result<Vec<Reward>, ScoreError> {
    let one = |(index, it): (usize, &Item)| -> Result<Reward, ScoreError> {
        if cancel.load(Ordering::Relaxed) || Instant::now() > deadline {
            return Err(ScoreError::Timeout);
        }
        let cfg = RewardConfig {
            style,
            prefill: it.prefill,
        };
        raif_reward(&it.response, &it.prompt, &it.tree, &cfg, None).map_err(|e| ScoreError::Item {
            index,
            reason: format!("{e:#}"),
        })
    };
    if items.len() < 4 {
        items.iter().enumerate().map(one).collect()
    } else {
        items.par_iter().enumerate().map(one).collect()
    }
}

/// OpenRLHF's dynamic-filtering score in [0, 1]: the fraction of constraints satisfied
/// (0 when the answer is not scorable).
pub fn unit_score(r: &Reward) -> f64 {
    match &r.breakdown {
        Some(b) if b.total > 0 => b.satisfied as f64 / b.total as f64,
        Some(_) => 1.0,
        None => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefill_detection() {
        assert_eq!(
            detect_prefill("<|im_start|>assistant\n<think>\n"),
            Prefill::OpenThink
        );
        assert_eq!(
            detect_prefill("<|im_start|>assistant\n<think>\n\n</think>\n"),
            Prefill::NoThink
        );
        assert_eq!(detect_prefill("<|im_start|>assistant\n"), Prefill::None);
        assert_eq!(detect_prefill("say </think> here"), Prefill::None);
    }

    #[test]
    fn response_split_and_eos() {
        assert_eq!(response_of("PROMPTresp", "PROMPT"), Some("resp"));
        assert_eq!(response_of("<s>PROMPTresp", "PROMPT"), Some("resp"));
        assert_eq!(response_of("other", "PROMPT"), None);
        assert_eq!(response_of("all", ""), Some("all"));
        let eos: Vec<String> = DEFAULT_EOS.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            strip_eos("answer<|im_end|>\n<|endoftext|><|endoftext|>", &eos),
            "answer"
        );
        assert_eq!(strip_eos("answer ", &eos), "answer ");
    }
}
