//! The RAIF reward (ALGORITHM.md §1–2): format check, reasoning/answer extraction, evaluation of
//! a [`Constraint`] tree (And / Chain / Selection, rule and judge leaves) with a per-leaf
//! breakdown, and the reward `answer score + format score`.
//!
//! ```
//! use raif_verify::reward::{raif_reward, RewardConfig};
//! use raif_verify::Constraint;
//! let tree: Constraint = serde_json::from_str(
//!     r#"{"type":"and","children":[{"type":"rule","id":"punctuation:no_comma","kwargs":{}}]}"#).unwrap();
//! let r = raif_reward("<think>no commas</think><answer>Hello world</answer>", "Say hello without commas.",
//!                     &tree, &RewardConfig::default(), None).unwrap();
//! assert_eq!(r.reward, 3.0);
//! ```

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::registry;
use crate::tree::Constraint;

/// The placeholder the system prompt shows; a reasoning equal to it is not scored.
pub const PLACEHOLDER_REASONING: &str = "reasoning process here";

/// The RAIF system prompt (ALGORITHM §1).
pub const SYSTEM_PROMPT: &str = "You are a helpful assistant. The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning process here </think><answer> answer here </answer>.";

/// How the answer is marked in a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TagStyle {
    /// `<think>…</think><answer>…</answer>`, each tag exactly once, in that order.
    #[default]
    ThinkAnswer,
    /// DeepSeek-R1 style: `<think>…</think>` exactly once each; the answer is the text after `</think>`.
    ThinkOnly,
    /// No tags (the I/O and CoT evaluation modes): the whole response is the answer.
    Plain,
}

impl TagStyle {
    /// The style of a chat-template family: DeepSeek-R1 templates use think tags only, the
    /// others (ChatML/Qwen, Llama-3, Mistral) think and answer tags.
    pub fn for_template(name: &str) -> TagStyle {
        let n = name.to_ascii_lowercase();
        if n.contains("deepseek") || n.contains("r1") {
            TagStyle::ThinkOnly
        } else {
            TagStyle::ThinkAnswer
        }
    }
}

/// What the generation prompt already contains after the chat template (ALGORITHM §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    /// Nothing: the response carries all its tags.
    #[default]
    None,
    /// `<think>\n`: sampling starts inside the reasoning (the RAIF prompt).
    OpenThink,
    /// `<think>\n\n</think>\n`: a "no-think" (fast) prompt; the reasoning is empty by design and
    /// the answer is still extracted and scored (ALGORITHM §4 compares against these samples).
    NoThink,
}

impl Prefill {
    /// The text the template put before the response.
    pub fn text(self) -> &'static str {
        match self {
            Prefill::None => "",
            Prefill::OpenThink => "<think>\n",
            Prefill::NoThink => "<think>\n\n</think>\n",
        }
    }
}

/// Reward settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct RewardConfig {
    pub style: TagStyle,
    /// What the generation prompt ended with; it is put back before the response for the
    /// format check.
    #[serde(default)]
    pub prefill: Prefill,
}

/// The format verdict and the extracted parts of one response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extracted {
    pub format_ok: bool,
    /// Why the format is invalid (None when valid).
    pub format_error: Option<String>,
    pub reasoning: Option<String>,
    pub answer: Option<String>,
    /// Whether the answer is scored (valid format, non-empty reasoning and answer, reasoning not
    /// the placeholder).
    pub scorable: bool,
    pub unscorable_reason: Option<String>,
}

/// Where each of `tags` occurs in `text`, in text order: one pass over the `<` bytes (a tag
/// starts with `<`, and no two of ours can start at the same `<`). Occurrences of one tag never
/// overlap, so counting them equals `str::matches(..).count()`.
fn tag_positions(text: &str, tags: &[&str], out: &mut Vec<(usize, usize)>, offset: usize) {
    let b = text.as_bytes();
    for at in memchr::memchr_iter(b'<', b) {
        if let Some(k) = tags.iter().position(|t| b[at..].starts_with(t.as_bytes())) {
            out.push((k, offset + at));
        }
    }
}

/// The text the template's prefill and the response make together, read in place: the
/// response (a few kilobytes) is not copied to put the prefill (a few bytes) before it.
struct Joined<'a> {
    prefill: &'a str,
    response: &'a str,
}

impl Joined<'_> {
    fn len(&self) -> usize {
        self.prefill.len() + self.response.len()
    }

    /// Where each of `tags` occurs, in order (see [`tag_positions`]). A tag that starts in the
    /// prefill may end in the response: those are found in the prefill and the response's
    /// first bytes (a tag is shorter than 16 bytes).
    fn tag_positions(&self, tags: &[&str]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let pl = self.prefill.len();
        if pl > 0 {
            let mut cut = self.response.len().min(16);
            while !self.response.is_char_boundary(cut) {
                cut -= 1;
            }
            let head = [self.prefill, &self.response[..cut]].concat();
            tag_positions(&head, tags, &mut out, 0);
            out.retain(|&(_, at)| at < pl);
        }
        tag_positions(self.response, tags, &mut out, pl);
        out
    }

    /// The text from `s` to `e`, trimmed.
    fn trimmed(&self, s: usize, e: usize) -> String {
        let pl = self.prefill.len();
        if s >= pl {
            return self.response[s - pl..e - pl].trim().to_string();
        }
        if e <= pl {
            return self.prefill[s..e].trim().to_string();
        }
        [&self.prefill[s..], &self.response[..e - pl]]
            .concat()
            .trim()
            .to_string()
    }
}

/// Check the format and extract reasoning and answer (both trimmed).
pub fn extract(response: &str, cfg: &RewardConfig) -> Extracted {
    let text = Joined {
        prefill: if cfg.prefill != Prefill::None && cfg.style != TagStyle::Plain {
            cfg.prefill.text()
        } else {
            ""
        },
        response,
    };
    let reasoning_required = cfg.style != TagStyle::Plain && cfg.prefill != Prefill::NoThink;
    let mut format_error = None;
    let (reasoning, answer) = match cfg.style {
        TagStyle::Plain => (None, Some(response.trim().to_string())),
        TagStyle::ThinkAnswer | TagStyle::ThinkOnly => {
            let tags: &[&str] = if cfg.style == TagStyle::ThinkAnswer {
                &["<think>", "</think>", "<answer>", "</answer>"]
            } else {
                &["<think>", "</think>"]
            };
            let found = text.tag_positions(tags);
            let first = |k: usize| found.iter().find(|(t, _)| *t == k).map(|&(_, p)| p);
            let last = |k: usize| found.iter().rev().find(|(t, _)| *t == k).map(|&(_, p)| p);
            for (k, t) in tags.iter().enumerate() {
                let n = found.iter().filter(|(x, _)| *x == k).count();
                if n != 1 && format_error.is_none() {
                    format_error = Some(format!("{t} occurs {n} times (needs exactly once)"));
                }
            }
            if format_error.is_none() {
                let p: Vec<usize> = (0..tags.len()).map(|k| first(k).unwrap_or(0)).collect();
                if p.windows(2).any(|w| w[0] >= w[1]) {
                    format_error = Some(format!("tags out of order (needs {})", tags.join(" ")));
                }
            }
            // The last block opened by tag `open`, up to the first `close` after it.
            let block = |open: usize, close: usize| -> Option<String> {
                let s = last(open)? + tags[open].len();
                let e = found.iter().find(|&&(t, p)| t == close && p >= s)?.1;
                Some(text.trimmed(s, e))
            };
            let reasoning = block(0, 1);
            let answer = if cfg.style == TagStyle::ThinkAnswer {
                block(2, 3)
            } else {
                last(1).map(|e| text.trimmed(e + "</think>".len(), text.len()))
            };
            (reasoning, answer)
        }
    };
    let format_ok = format_error.is_none();
    let unscorable_reason = if !format_ok {
        Some(format!(
            "bad format: {}",
            format_error.clone().unwrap_or_default()
        ))
    } else if reasoning_required && reasoning.as_deref().is_none_or(str::is_empty) {
        Some("empty reasoning".to_string())
    } else if answer.as_deref().is_none_or(str::is_empty) {
        Some("empty answer".to_string())
    } else if reasoning.as_deref() == Some(PLACEHOLDER_REASONING) {
        Some("the reasoning is the placeholder text".to_string())
    } else {
        None
    };
    Extracted {
        format_ok,
        format_error,
        reasoning,
        answer,
        scorable: unscorable_reason.is_none(),
        unscorable_reason,
    }
}

/// Answer score for S satisfied of Q constraints: +2 if all, −2 if none, S/Q otherwise.
/// (Q = 0: nothing to violate, +2.)
pub fn answer_score(satisfied: usize, total: usize) -> f64 {
    if satisfied == total {
        2.0
    } else if satisfied == 0 {
        -2.0
    } else {
        satisfied as f64 / total as f64
    }
}

/// The LLM judge: one yes/no question about the answer to an instruction (ALGORITHM §2).
pub trait Judge {
    fn ask(&self, instruction: &str, answer: &str, question: &str) -> Result<bool>;
}

/// What a leaf was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeafRole {
    /// A constraint on the answer: counted in S / Q.
    Constraint,
    /// A Selection guard, checked on the prompt: reported, not counted.
    Guard,
    /// A constraint of a branch that was not selected: reported, not checked, not counted.
    NotSelected,
}

/// One leaf's verdict in the breakdown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeafVerdict {
    /// Where the leaf sits, e.g. `and.children[1].chain.steps[0]`.
    pub path: String,
    /// `rule:<id>` or `judge:<question>`.
    pub what: String,
    pub role: LeafRole,
    pub pass: bool,
    pub reason: String,
}

/// The tree's verdict with every leaf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// The root's verdict (And: all; Chain: every step; Selection: the chosen branch).
    pub pass: bool,
    pub leaves: Vec<LeafVerdict>,
    /// Satisfied constraint leaves (S).
    pub satisfied: usize,
    /// Constraint leaves (Q).
    pub total: usize,
}

struct Ctx<'a> {
    prompt: &'a str,
    judge: Option<&'a dyn Judge>,
    leaves: Vec<LeafVerdict>,
}

fn leaf_name(c: &Constraint) -> String {
    match c {
        Constraint::Rule { id, .. } => String::with_capacity(5 + id.len()) + "rule:" + id,
        Constraint::Judge { question } => format!("judge:{question}"),
        _ => String::new(),
    }
}

/// Run `f` with `seg` appended to the path, then take it off again: one buffer holds the path
/// of the node being walked.
fn in_seg<R>(path: &mut String, seg: std::fmt::Arguments, f: impl FnOnce(&mut String) -> R) -> R {
    use std::fmt::Write;
    let n = path.len();
    let _ = path.write_fmt(seg);
    let r = f(path);
    path.truncate(n);
    r
}

fn skip_all(c: &Constraint, path: &mut String, role: LeafRole, reason: &str, ctx: &mut Ctx) {
    match c {
        Constraint::Rule { .. } | Constraint::Judge { .. } => ctx.leaves.push(LeafVerdict {
            path: path.clone(),
            what: leaf_name(c),
            role,
            pass: false,
            reason: reason.to_string(),
        }),
        Constraint::And { children } => {
            for (i, ch) in children.iter().enumerate() {
                in_seg(path, format_args!(".and[{i}]"), |p| {
                    skip_all(ch, p, role, reason, ctx)
                });
            }
        }
        Constraint::Chain { steps, .. } => {
            for (i, ch) in steps.iter().enumerate() {
                in_seg(path, format_args!(".chain[{i}]"), |p| {
                    skip_all(ch, p, role, reason, ctx)
                });
            }
        }
        Constraint::Selection {
            branches,
            otherwise,
        } => {
            for (i, b) in branches.iter().enumerate() {
                in_seg(path, format_args!(".selection[{i}].then"), |p| {
                    skip_all(&b.then, p, role, reason, ctx)
                });
            }
            if let Some(o) = otherwise {
                in_seg(path, format_args!(".selection.otherwise"), |p| {
                    skip_all(o, p, role, reason, ctx)
                });
            }
        }
    }
}

fn eval(
    c: &Constraint,
    text: &str,
    path: &mut String,
    role: LeafRole,
    ctx: &mut Ctx,
) -> Result<bool> {
    match c {
        Constraint::Rule { id, kwargs } => {
            let v = registry::check_strict(id, kwargs, text)
                .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
            ctx.leaves.push(LeafVerdict {
                path: path.clone(),
                what: leaf_name(c),
                role,
                pass: v.pass,
                reason: v.reason,
            });
            Ok(v.pass)
        }
        Constraint::Judge { question } => {
            let Some(j) = ctx.judge else {
                bail!("{path}: the tree has a judge leaf but no judge was supplied");
            };
            let pass = j.ask(ctx.prompt, text, question)?;
            ctx.leaves.push(LeafVerdict {
                path: path.clone(),
                what: leaf_name(c),
                role,
                pass,
                reason: format!("judge answered {}", if pass { "YES" } else { "NO" }),
            });
            Ok(pass)
        }
        Constraint::And { children } => {
            let mut all = true;
            for (i, ch) in children.iter().enumerate() {
                all &= in_seg(path, format_args!(".and[{i}]"), |p| {
                    eval(ch, text, p, role, ctx)
                })?;
            }
            Ok(all)
        }
        Constraint::Chain { separator, steps } => {
            let mut all = true;
            match separator {
                None => {
                    for (i, s) in steps.iter().enumerate() {
                        all &= in_seg(path, format_args!(".chain[{i}]"), |p| {
                            eval(s, text, p, role, ctx)
                        })?;
                    }
                }
                Some(sep) => {
                    let parts: Vec<&str> = if sep.is_empty() {
                        vec![text]
                    } else {
                        text.split(sep.as_str()).collect()
                    };
                    for (i, s) in steps.iter().enumerate() {
                        all &= in_seg(path, format_args!(".chain[{i}]"), |p| match parts.get(i) {
                            Some(part) => eval(s, part.trim(), p, role, ctx),
                            None => {
                                let why = format!(
                                    "part {} of the answer (split on {sep:?}) is missing",
                                    i + 1
                                );
                                skip_all(s, p, role, &why, ctx);
                                Ok(false)
                            }
                        })?;
                    }
                }
            }
            Ok(all)
        }
        Constraint::Selection {
            branches,
            otherwise,
        } => {
            let mut chosen: Option<usize> = None;
            for (i, b) in branches.iter().enumerate() {
                if chosen.is_some() {
                    in_seg(path, format_args!(".selection[{i}].then"), |p| {
                        skip_all(
                            &b.then,
                            p,
                            LeafRole::NotSelected,
                            "branch not selected",
                            ctx,
                        )
                    });
                    continue;
                }
                let prompt = ctx.prompt;
                let holds = in_seg(path, format_args!(".selection[{i}].when"), |p| {
                    eval(&b.when, prompt, p, LeafRole::Guard, ctx)
                })?;
                if holds {
                    chosen = Some(i);
                } else {
                    in_seg(path, format_args!(".selection[{i}].then"), |p| {
                        skip_all(
                            &b.then,
                            p,
                            LeafRole::NotSelected,
                            "guard does not hold",
                            ctx,
                        )
                    });
                }
            }
            let result = match chosen {
                Some(i) => in_seg(path, format_args!(".selection[{i}].then"), |p| {
                    eval(&branches[i].then, text, p, role, ctx)
                })?,
                None => match otherwise {
                    Some(o) => in_seg(path, format_args!(".selection.otherwise"), |p| {
                        eval(o, text, p, role, ctx)
                    })?,
                    None => true,
                },
            };
            if chosen.is_some() {
                if let Some(o) = otherwise {
                    in_seg(path, format_args!(".selection.otherwise"), |p| {
                        skip_all(o, p, LeafRole::NotSelected, "a branch was selected", ctx)
                    });
                }
            }
            Ok(result)
        }
    }
}

fn has_judge(c: &Constraint) -> bool {
    c.leaves()
        .iter()
        .any(|l| matches!(l, Constraint::Judge { .. }))
}

/// Evaluate a constraint tree on an answer. Rule leaves use IFEval's strict semantics; judge
/// leaves go to `judge` (an error if the tree has one and no judge is given); Selection guards
/// are checked on `prompt`.
pub fn evaluate_tree(
    tree: &Constraint,
    answer: &str,
    prompt: &str,
    judge: Option<&dyn Judge>,
) -> Result<Breakdown> {
    if judge.is_none() && has_judge(tree) {
        bail!("the constraint tree has judge leaves but no judge was supplied");
    }
    let mut ctx = Ctx {
        prompt,
        judge,
        leaves: Vec::new(),
    };
    let mut path = String::with_capacity(64) + "root";
    let pass = eval(tree, answer, &mut path, LeafRole::Constraint, &mut ctx)?;
    let counted: Vec<&LeafVerdict> = ctx
        .leaves
        .iter()
        .filter(|l| l.role == LeafRole::Constraint)
        .collect();
    let total = counted.len();
    let satisfied = counted.iter().filter(|l| l.pass).count();
    Ok(Breakdown {
        pass,
        leaves: ctx.leaves,
        satisfied,
        total,
    })
}

/// The full reward of one response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reward {
    pub extracted: Extracted,
    /// The tree breakdown (None when the answer is not scorable).
    pub breakdown: Option<Breakdown>,
    pub answer_score: f64,
    pub format_score: f64,
    /// answer_score + format_score, in [−3, 3].
    pub reward: f64,
}

/// RAIF reward of `response` to `prompt` under `tree`.
pub fn raif_reward(
    response: &str,
    prompt: &str,
    tree: &Constraint,
    cfg: &RewardConfig,
    judge: Option<&dyn Judge>,
) -> Result<Reward> {
    if judge.is_none() && has_judge(tree) {
        bail!("the constraint tree has judge leaves but no judge was supplied");
    }
    let extracted = extract(response, cfg);
    let format_score = if extracted.format_ok { 1.0 } else { -1.0 };
    let (breakdown, answer_score) = if extracted.scorable {
        let b = evaluate_tree(
            tree,
            extracted.answer.as_deref().unwrap_or(""),
            prompt,
            judge,
        )?;
        let s = answer_score(b.satisfied, b.total);
        (Some(b), s)
    } else {
        (None, -2.0)
    };
    Ok(Reward {
        extracted,
        breakdown,
        answer_score,
        format_score,
        reward: answer_score + format_score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(v: serde_json::Value) -> Constraint {
        serde_json::from_value(v).unwrap()
    }

    struct YesIfContains(&'static str);
    impl Judge for YesIfContains {
        fn ask(&self, _i: &str, answer: &str, _q: &str) -> Result<bool> {
            Ok(answer.contains(self.0))
        }
    }

    #[test]
    fn format_and_extraction() {
        let c = RewardConfig::default();
        let e = extract("x<think> r </think> <answer> a </answer>y", &c);
        assert!(e.format_ok && e.scorable);
        assert_eq!(e.reasoning.as_deref(), Some("r"));
        assert_eq!(e.answer.as_deref(), Some("a"));
        assert!(!extract("<think>r</think><answer>a", &c).format_ok);
        assert!(!extract("<answer>a</answer><think>r</think>", &c).format_ok);
        assert!(!extract("<think>a</think><think>b</think><answer>a</answer>", &c).format_ok);
        let e = extract(
            "<think>reasoning process here</think><answer>a</answer>",
            &c,
        );
        assert!(e.format_ok && !e.scorable);
        let e = extract("<think> </think><answer>a</answer>", &c);
        assert!(!e.scorable);
        let r1 = RewardConfig {
            style: TagStyle::ThinkOnly,
            prefill: Prefill::OpenThink,
        };
        let e = extract("reason\n</think>\n\nThe answer.", &r1);
        assert!(e.format_ok && e.scorable);
        assert_eq!(e.answer.as_deref(), Some("The answer."));
        // the prefill is put back: a second <think> in the response is a format error
        assert!(!extract("<think>r</think>x", &r1).format_ok);
        let fast = RewardConfig {
            style: TagStyle::ThinkAnswer,
            prefill: Prefill::NoThink,
        };
        let e = extract("<answer>quick</answer>", &fast);
        assert!(e.format_ok && e.scorable, "{e:?}");
        assert_eq!(TagStyle::for_template("deepseek-r1"), TagStyle::ThinkOnly);
        assert_eq!(TagStyle::for_template("chatml"), TagStyle::ThinkAnswer);
    }

    /// The extraction written plainly with `str` searches (one scan per question): the one-pass
    /// scanner of [`extract`] must agree with it on any text.
    fn extract_by_search(text: &str, style: TagStyle) -> (bool, Option<String>, Option<String>) {
        let tags: &[&str] = if style == TagStyle::ThinkAnswer {
            &["<think>", "</think>", "<answer>", "</answer>"]
        } else {
            &["<think>", "</think>"]
        };
        let once = tags.iter().all(|t| text.matches(t).count() == 1);
        let p: Vec<usize> = tags.iter().map(|t| text.find(t).unwrap_or(0)).collect();
        let ok = once && p.windows(2).all(|w| w[0] < w[1]);
        let block = |open: &str, close: &str| -> Option<String> {
            let s = text.rfind(open)? + open.len();
            let e = text[s..].find(close)? + s;
            Some(text[s..e].trim().to_string())
        };
        let answer = if style == TagStyle::ThinkAnswer {
            block("<answer>", "</answer>")
        } else {
            text.rfind("</think>")
                .map(|e| text[e + "</think>".len()..].trim().to_string())
        };
        (ok, block("<think>", "</think>"), answer)
    }

    proptest::proptest! {
        #[test]
        fn one_pass_extraction_agrees_with_plain_searches(
            parts in proptest::collection::vec(0usize..12, 0..14)
        ) {
            const PIECES: [&str; 12] = [
                "<think>", "</think>", "<answer>", "</answer>", "<", "</", "think>", " a ",
                "\n", "<<answer>", "</think</think>", "é",
            ];
            let text: String = parts.iter().map(|&i| PIECES[i]).collect();
            for style in [TagStyle::ThinkAnswer, TagStyle::ThinkOnly] {
                for prefill in [Prefill::None, Prefill::OpenThink, Prefill::NoThink] {
                    // (the prefill is read in place, not joined to the response)
                    let cfg = RewardConfig { style, prefill };
                    let e = extract(&text, &cfg);
                    let whole = format!("{}{text}", prefill.text());
                    let (ok, reasoning, answer) = extract_by_search(&whole, style);
                    proptest::prop_assert_eq!(e.format_ok, ok, "{:?} {:?}", whole, style);
                    proptest::prop_assert_eq!(e.reasoning, reasoning, "{:?} {:?}", whole, style);
                    proptest::prop_assert_eq!(e.answer, answer, "{:?} {:?}", whole, style);
                }
            }
        }

        /// The joined text finds the tags and cuts the blocks of the whole text, wherever the
        /// prefill ends (a tag may cross from one into the other).
        #[test]
        fn joined_text_reads_as_the_whole(
            parts in proptest::collection::vec(0usize..8, 0..10),
            cut in 0usize..64,
        ) {
            const PIECES: [&str; 8] = ["<think>", "</think>", "<answer>", "<", " a ", "\n", "é", "nk>"];
            let whole: String = parts.iter().map(|&i| PIECES[i]).collect();
            let mut cut = cut.min(whole.len());
            while !whole.is_char_boundary(cut) {
                cut -= 1;
            }
            let j = Joined { prefill: &whole[..cut], response: &whole[cut..] };
            let tags = ["<think>", "</think>", "<answer>"];
            let mut want = Vec::new();
            tag_positions(&whole, &tags, &mut want, 0);
            let got = j.tag_positions(&tags);
            proptest::prop_assert_eq!(&got, &want, "{:?} at {}", whole, cut);
            let bounds: Vec<usize> = std::iter::once(0)
                .chain(got.iter().flat_map(|&(k, p)| [p, p + tags[k].len()]))
                .chain(std::iter::once(whole.len()))
                .collect();
            for &s in &bounds {
                for &e in bounds.iter().filter(|&&e| e >= s) {
                    proptest::prop_assert_eq!(j.trimmed(s, e), whole[s..e].trim());
                }
            }
        }
    }

    #[test]
    fn scores() {
        assert_eq!(answer_score(3, 3), 2.0);
        assert_eq!(answer_score(0, 3), -2.0);
        assert_eq!(answer_score(1, 4), 0.25);
        let t = tree(json!({"type":"and","children":[
            {"type":"rule","id":"punctuation:no_comma","kwargs":{}},
            {"type":"rule","id":"keywords:existence","kwargs":{"keywords":["cat"]}}]}));
        let c = RewardConfig::default();
        let r = raif_reward(
            "<think>t</think><answer>a dog, here</answer>",
            "p",
            &t,
            &c,
            None,
        )
        .unwrap();
        assert_eq!(
            (r.answer_score, r.format_score, r.reward),
            (-2.0, 1.0, -1.0)
        );
        let r = raif_reward(
            "<think>t</think><answer>a cat, here</answer>",
            "p",
            &t,
            &c,
            None,
        )
        .unwrap();
        assert_eq!(r.reward, 1.5);
        let r = raif_reward("<answer>a cat</answer>", "p", &t, &c, None).unwrap();
        assert_eq!(r.reward, -3.0);
        let r = raif_reward("<think>t</think><answer>a cat</answer>", "p", &t, &c, None).unwrap();
        assert_eq!(r.reward, 3.0);
    }

    #[test]
    fn chain_selection_and_judge() {
        let t = tree(json!({"type":"and","children":[
            {"type":"chain","separator":"***","steps":[
                {"type":"rule","id":"keywords:existence","kwargs":{"keywords":["first"]}},
                {"type":"rule","id":"keywords:existence","kwargs":{"keywords":["second"]}},
                {"type":"rule","id":"keywords:existence","kwargs":{"keywords":["third"]}}]},
            {"type":"selection","branches":[
                {"when":{"type":"rule","id":"keywords:existence","kwargs":{"keywords":["French"]}},
                 "then":{"type":"rule","id":"punctuation:no_comma","kwargs":{}}}],
             "otherwise":{"type":"judge","question":"Is it polite?"}}]}));
        let b = evaluate_tree(
            &t,
            "first *** second",
            "Answer in English",
            Some(&YesIfContains("second")),
        )
        .unwrap();
        assert_eq!((b.satisfied, b.total), (3, 4));
        assert!(!b.pass);
        assert!(b
            .leaves
            .iter()
            .any(|l| l.path == "root.and[0].chain[2]" && !l.pass && l.reason.contains("missing")));
        assert!(b
            .leaves
            .iter()
            .any(|l| l.role == LeafRole::Guard && !l.pass));
        assert!(b.leaves.iter().any(|l| l.role == LeafRole::NotSelected));
        // without a judge: an error
        assert!(evaluate_tree(&t, "x", "p", None).is_err());
        // the French branch is chosen when the prompt says so
        let b = evaluate_tree(&t, "first *** second *** third", "Answer in French", None);
        assert!(
            b.is_err(),
            "otherwise still has a judge leaf: the tree needs a judge"
        );
        let b = evaluate_tree(
            &t,
            "first *** second *** third",
            "Answer in French",
            Some(&YesIfContains("zzz")),
        )
        .unwrap();
        assert!(b.pass && b.satisfied == 4 && b.total == 4);
    }

    #[test]
    fn unknown_id_is_an_error() {
        let t = tree(json!({"type":"rule","id":"nope:nothing","kwargs":{}}));
        assert!(evaluate_tree(&t, "x", "p", None).is_err());
    }
}
