//! The workbench's playground (Compare): one free prompt, optionally with a constraint tree,
//! answered by a model or checkpoint in a mode, `samples` times, streaming; each answer scored
//! with the verdicts (and their reasons) and the reward the RAIF trainer would give it.
//!
//! Scoring follows the side's mode: in `think` mode the response is a reasoning sample
//! (`<think>…</think><answer>…</answer>`, format ±1, the answer's constraints); in `io` and
//! `cot` modes it is scored as plain GRPO scores a response (the whole text is the answer,
//! format +1), which is the reward that mode could earn.

use anyhow::{bail, Result};
use raif_datasets::{Message, Record, Split};
use raif_model::{Generator, LoadedModel, PromptMode, SamplingParams};
use raif_verify::reward::TagStyle;
use raif_verify::Constraint;

use crate::rollout::{self, Scored};

/// How to sample.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayOptions {
    /// Answers per side (1–16).
    pub samples: usize,
    /// Sample i uses seed `seed + i`.
    pub seed: u64,
    /// 0: greedy (every sample the same).
    pub temperature: f64,
    pub max_new_tokens: usize,
}

impl Default for PlayOptions {
    fn default() -> Self {
        PlayOptions {
            samples: 1,
            seed: 0,
            temperature: 0.0,
            max_new_tokens: 256,
        }
    }
}

/// Samples per side at most.
pub const MAX_SAMPLES: usize = 16;

/// One scored answer.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaySample {
    pub text: String,
    pub tokens: usize,
    /// `stop`, `stop_string` or `length`.
    pub finish: String,
    pub scored: Scored,
}

/// The record a free prompt is scored as.
pub fn prompt_record(prompt: &str, constraints: Option<&Constraint>) -> Result<Record> {
    let tree = constraints.cloned().unwrap_or(Constraint::And {
        children: Vec::new(),
    });
    if tree
        .leaves()
        .iter()
        .any(|l| matches!(l, Constraint::Judge { .. }))
    {
        bail!("the playground scores rules only: a judge question needs `raif compare --judge`");
    }
    Ok(Record::new(
        "playground",
        "playground",
        Split::Test,
        vec![Message::user(prompt)],
        tree,
    ))
}

/// A constraint as typed: a JSON tree (as in a record's `constraints`), or one rule of the
/// verifier catalogue as `ID key=value …` (a value is JSON where it parses, e.g. `3`, `true`,
/// `["a","b"]`, `"two words"`, else the text itself). Every rule is built once, so that an
/// unknown id or a bad kwarg is reported here, naming it.
pub fn parse_constraint(text: &str) -> Result<Constraint> {
    let text = text.trim();
    let tree = if text.starts_with('{') {
        serde_json::from_str::<Constraint>(text)
            .map_err(|e| anyhow::anyhow!("not a constraint tree (JSON): {e}"))?
    } else {
        let mut words = split_words(text).into_iter();
        let Some(id) = words.next() else {
            bail!("no constraint: type an id such as punctuation:no_comma, or a JSON tree");
        };
        let mut kwargs = serde_json::Map::new();
        for w in words {
            let Some((k, v)) = w.split_once('=') else {
                bail!("`{w}`: a kwarg is key=value");
            };
            let v = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::from(v));
            kwargs.insert(k.to_string(), v);
        }
        Constraint::Rule { id, kwargs }
    };
    for leaf in tree.leaves() {
        if let Constraint::Rule { id, kwargs } = leaf {
            if let Err(e) = raif_verify::registry::build(id, kwargs) {
                let near = near_ids(id);
                if near.is_empty() {
                    bail!("{e}");
                }
                bail!("{e} (did you mean {}?)", near.join(", "));
            }
        }
    }
    Ok(tree)
}

/// Catalogue ids that contain `id`'s last part (`number_words` finds
/// `length_constraints:number_words`), at most five.
pub fn near_ids(id: &str) -> Vec<&'static str> {
    let part = id.rsplit(':').next().unwrap_or(id).to_ascii_lowercase();
    if part.len() < 3 {
        return Vec::new();
    }
    raif_verify::registry::all_ids()
        .into_iter()
        .filter(|c| c.to_ascii_lowercase().contains(&part))
        .take(5)
        .collect()
}

/// Words split on spaces, keeping `"quoted text"` and `[lists, with spaces]` whole.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quote, mut depth) = (false, 0i32);
    for c in s.chars() {
        match c {
            '"' => quote = !quote,
            '[' | '{' if !quote => depth += 1,
            ']' | '}' if !quote => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && !quote && depth <= 0 {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Several constraints as one tree (all must hold); one stays itself.
pub fn all_of(mut cs: Vec<Constraint>) -> Option<Constraint> {
    match cs.len() {
        0 => None,
        1 => cs.pop(),
        _ => Some(Constraint::And { children: cs }),
    }
}

/// How a response of `mode` is scored (see the module's documentation).
pub fn style_of(lm: &LoadedModel, mode: PromptMode) -> TagStyle {
    match mode {
        PromptMode::Think => rollout::tag_style(&lm.template),
        _ => TagStyle::Plain,
    }
}

/// Answer `record` with `lm` in `mode`, `o.samples` times in one batch; `on_delta(sample,
/// text)` streams each piece of text as it is generated. Returns the answers scored.
pub fn play_side(
    lm: &LoadedModel,
    mode: PromptMode,
    record: &Record,
    o: &PlayOptions,
    on_delta: &mut dyn FnMut(usize, &str),
) -> Result<Vec<PlaySample>> {
    if o.samples == 0 || o.samples > MAX_SAMPLES {
        bail!("samples must be 1–{MAX_SAMPLES}, not {}", o.samples);
    }
    let prompt = lm
        .tokenizer
        .encode(&rollout::prompt_text(&lm.template, record, mode)?)?;
    let prompts = vec![prompt; o.samples];
    let seeds: Vec<u64> = (0..o.samples as u64)
        .map(|i| o.seed.wrapping_add(i))
        .collect();
    let params = SamplingParams {
        temperature: o.temperature,
        max_new_tokens: o.max_new_tokens,
        ..SamplingParams::default()
    };
    let gen = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: lm.stop_ids.clone(),
    };
    let outs = gen.generate(&prompts, &seeds, &params, &mut |e| {
        on_delta(e.index, e.delta)
    })?;
    let style = style_of(lm, mode);
    outs.into_iter()
        .map(|g| {
            let scored = rollout::score(&g.text, record, style, false)?;
            Ok(PlaySample {
                tokens: g.tokens.len(),
                finish: match g.finish {
                    raif_model::FinishReason::Stop => "stop",
                    raif_model::FinishReason::StopString => "stop_string",
                    raif_model::FinishReason::Length => "length",
                }
                .to_string(),
                text: g.text,
                scored,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> LoadedModel {
        raif_model::tiny::tiny_model(raif_model::Arch::Llama, 3).expect("a tiny model")
    }

    #[test]
    fn streams_every_sample_and_scores_what_it_streamed() {
        let lm = tiny();
        let tree = Constraint::Rule {
            id: "punctuation:no_comma".into(),
            kwargs: serde_json::Map::new(),
        };
        let record = prompt_record("Say hello.", Some(&tree)).expect("record");
        let o = PlayOptions {
            samples: 3,
            seed: 7,
            temperature: 1.0,
            max_new_tokens: 12,
        };
        let mut streamed = vec![String::new(); 3];
        let out = play_side(&lm, PromptMode::Think, &record, &o, &mut |i, d| {
            streamed[i].push_str(d)
        })
        .expect("play");
        assert_eq!(out.len(), 3);
        for (s, text) in out.iter().zip(&streamed) {
            // What streamed, and at the end any bytes that never formed a character.
            assert!(s.text.starts_with(text.as_str()), "{:?} / {text:?}", s.text);
            assert_eq!(s.scored.total, 1);
            assert!(s.tokens <= 12);
        }
        // Seeded: the same again; greedy: every sample alike.
        let again = play_side(&lm, PromptMode::Think, &record, &o, &mut |_, _| {}).unwrap();
        assert_eq!(
            again.iter().map(|s| &s.text).collect::<Vec<_>>(),
            out.iter().map(|s| &s.text).collect::<Vec<_>>()
        );
        let greedy = PlayOptions {
            temperature: 0.0,
            ..o
        };
        let g = play_side(&lm, PromptMode::Io, &record, &greedy, &mut |_, _| {}).unwrap();
        assert!(g.iter().all(|s| s.text == g[0].text));
        // io is scored as plain GRPO scores it: format +1.
        assert!(g.iter().all(|s| s.scored.format_score == 1.0));
    }

    #[test]
    fn constraints_are_typed_as_catalogue_rules_or_json() {
        let c = parse_constraint(
            r#"length_constraints:number_words relation="less than" num_words=40"#,
        )
        .expect("a rule");
        let Constraint::Rule { id, kwargs } = &c else {
            panic!("{c:?}")
        };
        assert_eq!(id, "length_constraints:number_words");
        assert_eq!(kwargs["num_words"], serde_json::json!(40));
        assert_eq!(kwargs["relation"], serde_json::json!("less than"));
        let j = parse_constraint(
            r#"{"type":"and","children":[{"type":"rule","id":"punctuation:no_comma"}]}"#,
        )
        .expect("a tree");
        assert_eq!(j.leaves().len(), 1);
        let e = parse_constraint("number_words num_words=3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("length_constraints:number_words"), "{e}");
        let e = parse_constraint("length_constraints:number_words relation=about num_words=3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("relation"), "names the kwarg: {e}");
        let e = parse_constraint("{not json").unwrap_err().to_string();
        assert!(e.contains("JSON"), "{e}");
        assert!(all_of(vec![]).is_none());
        assert!(matches!(
            all_of(vec![c.clone(), j]),
            Some(Constraint::And { .. })
        ));
        assert_eq!(all_of(vec![c.clone()]), Some(c));
    }

    #[test]
    fn judge_questions_and_sample_counts_are_refused() {
        let q = Constraint::Judge {
            question: "Is it polite?".into(),
        };
        let e = prompt_record("x", Some(&q)).unwrap_err().to_string();
        assert!(e.contains("judge"), "{e}");
        let lm = tiny();
        let r = prompt_record("x", None).unwrap();
        let o = PlayOptions {
            samples: 0,
            ..PlayOptions::default()
        };
        assert!(play_side(&lm, PromptMode::Io, &r, &o, &mut |_, _| {}).is_err());
    }
}
