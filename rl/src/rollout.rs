//! Rollouts: prompts from records in the RAIF modes, and scoring of one response (reasoning
//! samples with the full format rule; no-think samples, whose prompt already closed an empty
//! think block, on their answer).

use anyhow::Result;
use raif_datasets::Record;
use raif_model::{ChatTemplate, PromptMode};
use raif_verify::reward::{raif_reward, LeafRole, Prefill, RewardConfig, TagStyle};
use raif_verify::Constraint;
use serde::{Deserialize, Serialize};

/// A verdict on one leaf of the constraint tree.
pub use crate::store::Verdict;

/// The scored parts of one response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub reasoning: Option<String>,
    pub answer: Option<String>,
    pub format_ok: bool,
    /// Why the answer was not scored, if it was not.
    pub unscorable: Option<String>,
    pub satisfied: usize,
    pub total: usize,
    pub answer_score: f64,
    pub format_score: f64,
    pub reward: f64,
    pub verdicts: Vec<Verdict>,
}

/// True when a record has a judge question somewhere (the trainer needs a judge for it).
pub fn needs_judge(r: &Record) -> bool {
    r.constraints
        .leaves()
        .iter()
        .any(|l| matches!(l, Constraint::Judge { .. }))
}

/// The prompt text of a record in a mode (generation prompt and RAIF prefix included).
pub fn prompt_text(template: &ChatTemplate, record: &Record, mode: PromptMode) -> Result<String> {
    template.prompt(record.prompt(), mode)
}

/// The tag style of a template family (R1-style models answer after `</think>`).
pub fn tag_style(template: &ChatTemplate) -> TagStyle {
    if template.is_r1_style() {
        TagStyle::ThinkOnly
    } else {
        TagStyle::ThinkAnswer
    }
}

/// Score a generated continuation. The prompt's prefix (`<think>\n`, or the empty closed think
/// block of a no-think prompt) is put back for the format check; a no-think sample needs no
/// reasoning, only a well-formed answer.
pub fn score(generated: &str, record: &Record, style: TagStyle, no_think: bool) -> Result<Scored> {
    let prefill = match (style, no_think) {
        (TagStyle::Plain, _) => Prefill::None,
        (_, true) => Prefill::NoThink,
        (_, false) => Prefill::OpenThink,
    };
    let r = raif_reward(
        generated,
        record.prompt(),
        &record.constraints,
        &RewardConfig { style, prefill },
        None,
    )?;
    let (satisfied, total, verdicts) = match &r.breakdown {
        Some(b) => (
            b.satisfied,
            b.total,
            b.leaves
                .iter()
                .map(|l| Verdict {
                    id: l.what.strip_prefix("rule:").unwrap_or(&l.what).to_string(),
                    path: l.path.clone(),
                    pass: l.pass,
                    reason: l.reason.clone(),
                    role: match l.role {
                        LeafRole::Constraint => "constraint".into(),
                        _ => "guard".into(),
                    },
                })
                .collect(),
        ),
        None => (0, count_constraints(&record.constraints), Vec::new()),
    };
    Ok(Scored {
        reasoning: if no_think {
            None
        } else {
            r.extracted.reasoning.clone()
        },
        answer: r.extracted.answer.clone(),
        format_ok: r.extracted.format_ok,
        unscorable: r.extracted.unscorable_reason.clone(),
        satisfied,
        total,
        answer_score: r.answer_score,
        format_score: r.format_score,
        reward: r.reward,
        verdicts,
    })
}

/// A forced sample (budget forcing injected a tag) in a valid format keeps its answer score
/// and gets `forced_format_score` in place of +1 (ALGORITHM §7). An invalid format stays −1.
pub fn apply_forced_format(s: &mut Scored, forced_format_score: f64) {
    if s.format_ok {
        s.format_score = forced_format_score;
        s.reward = s.answer_score + forced_format_score;
    }
}

/// An expert demonstration as the policy writes it after a think prompt (which already
/// opened `<think>`): reasoning, the closing and answer tags, the answer.
pub fn think_response(e: &raif_datasets::Expert) -> String {
    format!(
        "{}\n</think>\n<answer>\n{}\n</answer>",
        e.reasoning, e.answer
    )
}

/// Tokens a demonstration spends in the reasoning phase (up to and including `</think>`) and
/// in the answer phase (from there through `</answer>`), counted with the policy's tokenizer
/// as budget forcing counts them.
pub fn demo_token_counts(
    t: &raif_model::Tokenizer,
    e: &raif_datasets::Expert,
) -> Result<(usize, usize)> {
    let think = t.encode(&format!("{}\n</think>", e.reasoning))?.len();
    let answer = t
        .encode(&format!("\n<answer>\n{}\n</answer>", e.answer))?
        .len();
    Ok((think, answer))
}

/// Whether a demonstration fits the reasoning and answer budgets, so that imitating it never
/// runs into forcing.
pub fn demo_fits(
    t: &raif_model::Tokenizer,
    e: &raif_datasets::Expert,
    think_budget: usize,
    answer_budget: usize,
) -> Result<bool> {
    let (th, an) = demo_token_counts(t, e)?;
    Ok(th <= think_budget && an <= answer_budget)
}

/// Constraint leaves (Q) of a tree, selection guards excluded, without evaluating it: an
/// unscorable answer satisfies none of them.
fn count_constraints(c: &Constraint) -> usize {
    match c {
        Constraint::Rule { .. } | Constraint::Judge { .. } => 1,
        Constraint::And { children } => children.iter().map(count_constraints).sum(),
        Constraint::Chain { steps, .. } => steps.iter().map(count_constraints).sum(),
        // Only one branch counts; which one depends on the prompt. Use the first as the size.
        Constraint::Selection {
            branches,
            otherwise,
        } => branches
            .first()
            .map(|b| count_constraints(&b.then))
            .or_else(|| otherwise.as_ref().map(|o| count_constraints(o)))
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raif_datasets::{Message, Split};

    fn rec() -> Record {
        let tree: Constraint = serde_json::from_str(
            r#"{"type":"and","children":[{"type":"rule","id":"punctuation:no_comma","kwargs":{}},
                {"type":"rule","id":"change_case:english_lowercase","kwargs":{}}]}"#,
        )
        .unwrap();
        Record::new(
            "r1",
            "test",
            Split::Train,
            vec![Message::user("say hi, lowercase, no commas")],
            tree,
        )
    }

    #[test]
    fn reasoning_samples_need_the_full_format() {
        let s = score(
            "plan: no commas</think><answer>hi there</answer>",
            &rec(),
            TagStyle::ThinkAnswer,
            false,
        )
        .unwrap();
        assert_eq!((s.satisfied, s.total, s.reward), (2, 2, 3.0));
        assert_eq!(s.reasoning.as_deref(), Some("plan: no commas"));
        let s = score(
            "plan</think><answer>Hi, there</answer>",
            &rec(),
            TagStyle::ThinkAnswer,
            false,
        )
        .unwrap();
        assert_eq!((s.satisfied, s.reward), (0, -1.0));
        assert_eq!(s.verdicts.len(), 2);
        let s = score(
            "no closing tag <answer>hi</answer>",
            &rec(),
            TagStyle::ThinkAnswer,
            false,
        )
        .unwrap();
        assert_eq!(
            (s.format_score, s.answer_score, s.reward),
            (-1.0, -2.0, -3.0)
        );
        assert!(s.unscorable.is_some());
    }

    #[test]
    fn the_system_prompt_is_the_same_text_in_the_model_and_the_verifier() {
        // The template owns the prompt; raif-verify keeps a copy for crates without a model.
        assert_eq!(
            raif_verify::reward::SYSTEM_PROMPT,
            raif_model::template::RAIF_SYSTEM
        );
    }

    #[test]
    fn no_think_samples_are_scored_on_their_answer() {
        let s = score(
            "<answer>hi there</answer>",
            &rec(),
            TagStyle::ThinkAnswer,
            true,
        )
        .unwrap();
        assert_eq!((s.satisfied, s.reward), (2, 3.0));
        assert_eq!(s.reasoning, None);
        let s = score("Hi, there", &rec(), TagStyle::ThinkAnswer, true).unwrap();
        assert_eq!((s.format_score, s.reward), (-1.0, -3.0));
    }
}
