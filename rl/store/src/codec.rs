//! Value encodings. Every value starts with one format byte:
//!
//! - [`JSON`]: the record as serde_json (runs and checkpoint manifests, which hold free-form
//!   `serde_json::Value`s that a non-self-describing format cannot carry);
//! - [`POSTCARD`]: the record as postcard (metrics, evaluations, rollouts). A rollout is two
//!   postcard records back to back: a small head with everything a filter looks at (ids,
//!   rewards, verdicts, flags) and a body with the texts and per-token arrays, so that a
//!   filtered scan decodes only the head of the rollouts it skips.
//! - [`RAW`]: checkpoint blobs, the bytes as given.
//! - [`POSTCARD_V2`]: a rollout written since budget forcing: the postcard head and body of
//!   [`POSTCARD`], then a third record with what was forced ([`Forcing`]). Rollouts written
//!   as [`POSTCARD`] read as never forced.
//!
//! Readers accept any format a record type can be decoded from, so a later version can change
//! what it writes without rewriting old stores.

use anyhow::{anyhow, bail, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::types::{Rollout, Verdict};

pub const JSON: u8 = 1;
pub const POSTCARD: u8 = 2;
pub const RAW: u8 = 3;
pub const POSTCARD_V2: u8 = 4;

/// What budget forcing injected into a rollout (the third record of [`POSTCARD_V2`]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Forcing {
    pub forced: String,
    pub forced_tokens: Vec<u32>,
}

fn split(bytes: &[u8]) -> Result<(u8, &[u8])> {
    match bytes.split_first() {
        Some((&f, rest)) => Ok((f, rest)),
        None => bail!("empty value (no format byte)"),
    }
}

fn unknown(format: u8) -> anyhow::Error {
    anyhow!(
        "unknown format byte {format} (written by a newer raif? this one reads {JSON}, {POSTCARD}, {RAW} and {POSTCARD_V2})"
    )
}

pub fn encode_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut out = vec![JSON];
    serde_json::to_writer(&mut out, value)?;
    Ok(out)
}

pub fn encode_postcard<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let out = postcard::to_extend(value, vec![POSTCARD])?;
    Ok(out)
}

/// A JSON or postcard record.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let (format, rest) = split(bytes)?;
    match format {
        JSON => Ok(serde_json::from_slice(rest)?),
        POSTCARD => {
            let (value, left) = postcard::take_from_bytes(rest)?;
            if !left.is_empty() {
                bail!("{} bytes left over after the record", left.len());
            }
            Ok(value)
        }
        other => Err(unknown(other)),
    }
}

pub fn encode_raw(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 1);
    out.push(RAW);
    out.extend_from_slice(data);
    out
}

pub fn decode_raw(bytes: &[u8]) -> Result<&[u8]> {
    let (format, rest) = split(bytes)?;
    if format != RAW {
        return Err(unknown(format));
    }
    Ok(rest)
}

/// The part of a rollout that filters look at.
#[derive(Serialize)]
struct HeadRef<'a> {
    step: u64,
    prompt_index: u32,
    sample: u32,
    prompt_id: &'a str,
    finish: &'a str,
    reward: f64,
    answer_score: f64,
    format_score: f64,
    satisfied: u32,
    total: u32,
    verdicts: &'a [Verdict],
    advantage: f64,
    kept: bool,
    keep_reason: &'a str,
    no_think: bool,
    eval: bool,
}

#[derive(Serialize)]
struct BodyRef<'a> {
    prompt: &'a str,
    response: &'a str,
    reasoning: Option<Part<&'a str>>,
    answer: Option<Part<&'a str>>,
    tokens: &'a [u32],
    logprobs: &'a [f32],
    entropies: &'a [f32],
}

/// A rollout's head: all but its texts and per-token arrays (same field order as [`HeadRef`]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct RolloutHead {
    pub step: u64,
    pub prompt_index: u32,
    pub sample: u32,
    pub prompt_id: String,
    pub finish: String,
    pub reward: f64,
    pub answer_score: f64,
    pub format_score: f64,
    pub satisfied: u32,
    pub total: u32,
    pub verdicts: Vec<Verdict>,
    pub advantage: f64,
    pub kept: bool,
    pub keep_reason: String,
    pub no_think: bool,
    pub eval: bool,
}

#[derive(Deserialize)]
struct Body {
    prompt: String,
    response: String,
    reasoning: Option<Part<String>>,
    answer: Option<Part<String>>,
    tokens: Vec<u32>,
    logprobs: Vec<f32>,
    entropies: Vec<f32>,
}

/// Reasoning and answer are usually cut out of the response: then only their byte range is
/// stored.
#[derive(Serialize, Deserialize)]
enum Part<S> {
    /// `response[start..start + len]`.
    In(u32, u32),
    Text(S),
}

fn part_of<'a>(response: &'a str, part: Option<&'a str>) -> Option<Part<&'a str>> {
    let part = part?;
    if part.is_empty() {
        return Some(Part::Text(part));
    }
    match response.find(part) {
        Some(start) if u32::try_from(start + part.len()).is_ok() => {
            Some(Part::In(start as u32, part.len() as u32))
        }
        _ => Some(Part::Text(part)),
    }
}

fn resolve(response: &str, part: Option<Part<String>>) -> Result<Option<String>> {
    match part {
        None => Ok(None),
        Some(Part::Text(s)) => Ok(Some(s)),
        Some(Part::In(start, len)) => {
            let (start, end) = (start as usize, start as usize + len as usize);
            response
                .get(start..end)
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| {
                    anyhow!(
                        "span {start}..{end} is outside the response ({} bytes)",
                        response.len()
                    )
                })
        }
    }
}

pub fn encode_rollout(r: &Rollout) -> Result<Vec<u8>> {
    let head = HeadRef {
        step: r.step,
        prompt_index: r.prompt_index,
        sample: r.sample,
        prompt_id: &r.prompt_id,
        finish: &r.finish,
        reward: r.reward,
        answer_score: r.answer_score,
        format_score: r.format_score,
        satisfied: r.satisfied,
        total: r.total,
        verdicts: &r.verdicts,
        advantage: r.advantage,
        kept: r.kept,
        keep_reason: &r.keep_reason,
        no_think: r.no_think,
        eval: r.eval,
    };
    let body = BodyRef {
        prompt: &r.prompt,
        response: &r.response,
        reasoning: part_of(&r.response, r.reasoning.as_deref()),
        answer: part_of(&r.response, r.answer.as_deref()),
        tokens: &r.tokens,
        logprobs: &r.logprobs,
        entropies: &r.entropies,
    };
    let out = postcard::to_extend(&head, vec![POSTCARD_V2])?;
    let out = postcard::to_extend(&body, out)?;
    let forcing = (r.forced.as_str(), r.forced_tokens.as_slice());
    let out = postcard::to_extend(&forcing, out)?;
    Ok(out)
}

/// A rollout value decoded up to its head; [`RolloutBytes::finish`] decodes the rest.
pub enum RolloutBytes<'a> {
    /// `v2`: the body is followed by a [`Forcing`] record.
    Split {
        head: RolloutHead,
        body: &'a [u8],
        v2: bool,
    },
    Whole(Box<Rollout>),
}

impl RolloutBytes<'_> {
    pub fn head(&self) -> HeadView<'_> {
        match self {
            RolloutBytes::Split { head, .. } => HeadView {
                prompt_id: &head.prompt_id,
                reward: head.reward,
                verdicts: &head.verdicts,
                kept: head.kept,
                no_think: head.no_think,
                eval: head.eval,
                step: head.step,
            },
            RolloutBytes::Whole(r) => HeadView {
                prompt_id: &r.prompt_id,
                reward: r.reward,
                verdicts: &r.verdicts,
                kept: r.kept,
                no_think: r.no_think,
                eval: r.eval,
                step: r.step,
            },
        }
    }

    pub fn into_head(self) -> RolloutHead {
        match self {
            RolloutBytes::Split { head, .. } => head,
            RolloutBytes::Whole(r) => head_of(&r),
        }
    }

    pub fn finish(self) -> Result<Rollout> {
        match self {
            RolloutBytes::Whole(r) => Ok(*r),
            RolloutBytes::Split { head, body, v2 } => {
                let (b, left): (Body, _) = postcard::take_from_bytes(body)?;
                let (forcing, left) = if v2 {
                    postcard::take_from_bytes::<Forcing>(left)?
                } else {
                    (Forcing::default(), left)
                };
                if !left.is_empty() {
                    bail!("{} bytes left over after the rollout", left.len());
                }
                let reasoning = resolve(&b.response, b.reasoning)?;
                let answer = resolve(&b.response, b.answer)?;
                Ok(Rollout {
                    step: head.step,
                    prompt_index: head.prompt_index,
                    sample: head.sample,
                    prompt_id: head.prompt_id,
                    prompt: b.prompt,
                    response: b.response,
                    reasoning,
                    answer,
                    tokens: b.tokens,
                    logprobs: b.logprobs,
                    entropies: b.entropies,
                    finish: head.finish,
                    reward: head.reward,
                    answer_score: head.answer_score,
                    format_score: head.format_score,
                    satisfied: head.satisfied,
                    total: head.total,
                    verdicts: head.verdicts,
                    advantage: head.advantage,
                    kept: head.kept,
                    keep_reason: head.keep_reason,
                    no_think: head.no_think,
                    eval: head.eval,
                    forced: if forcing.forced.is_empty() {
                        "none".into()
                    } else {
                        forcing.forced
                    },
                    forced_tokens: forcing.forced_tokens,
                })
            }
        }
    }
}

/// What filters look at, whichever way the rollout was stored.
pub struct HeadView<'a> {
    pub prompt_id: &'a str,
    pub reward: f64,
    pub verdicts: &'a [Verdict],
    pub kept: bool,
    pub no_think: bool,
    pub eval: bool,
    pub step: u64,
}

pub fn decode_rollout_head(bytes: &[u8]) -> Result<RolloutBytes<'_>> {
    let (format, rest) = split(bytes)?;
    match format {
        POSTCARD | POSTCARD_V2 => {
            let (head, body) = postcard::take_from_bytes::<RolloutHead>(rest)?;
            Ok(RolloutBytes::Split {
                head,
                body,
                v2: format == POSTCARD_V2,
            })
        }
        JSON => Ok(RolloutBytes::Whole(Box::new(serde_json::from_slice(rest)?))),
        other => Err(unknown(other)),
    }
}

pub fn decode_rollout(bytes: &[u8]) -> Result<Rollout> {
    decode_rollout_head(bytes)?.finish()
}

/// The head of a rollout.
pub fn head_of(r: &Rollout) -> RolloutHead {
    RolloutHead {
        step: r.step,
        prompt_index: r.prompt_index,
        sample: r.sample,
        prompt_id: r.prompt_id.clone(),
        finish: r.finish.clone(),
        reward: r.reward,
        answer_score: r.answer_score,
        format_score: r.format_score,
        satisfied: r.satisfied,
        total: r.total,
        verdicts: r.verdicts.clone(),
        advantage: r.advantage,
        kept: r.kept,
        keep_reason: r.keep_reason.clone(),
        no_think: r.no_think,
        eval: r.eval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(forced: &str, forced_tokens: Vec<u32>) -> Rollout {
        Rollout {
            step: 3,
            prompt_index: 1,
            sample: 2,
            prompt_id: "p".into(),
            prompt: "say hi".into(),
            response: "plan\n</think>\n<answer>\nhi\n</answer>".into(),
            reasoning: Some("plan".into()),
            answer: Some("hi".into()),
            tokens: vec![5, 6, 7, 8],
            logprobs: vec![-0.5, 0.0, 0.0, -1.0],
            entropies: vec![1.0, 0.0, 0.0, 2.0],
            finish: "stopstring".into(),
            forced: forced.into(),
            forced_tokens,
            ..Rollout::default()
        }
    }

    #[test]
    fn forced_rollouts_round_trip() {
        let r = rollout("think", vec![1, 2]);
        let bytes = encode_rollout(&r).unwrap();
        assert_eq!(bytes[0], POSTCARD_V2);
        assert_eq!(decode_rollout(&bytes).unwrap(), r);
        assert!(r.was_forced());
    }

    #[test]
    fn rollouts_stored_before_forcing_read_as_never_forced() {
        // A rollout in the first postcard layout: head and body only.
        let r = rollout("none", Vec::new());
        let v2 = encode_rollout(&r).unwrap();
        let (head, body) = postcard::take_from_bytes::<RolloutHead>(&v2[1..]).unwrap();
        let (_, tail) = postcard::take_from_bytes::<Body>(body).unwrap();
        let mut v1 = vec![POSTCARD];
        v1.extend_from_slice(&v2[1..v2.len() - tail.len()]);
        assert_eq!(head.step, 3);
        let back = decode_rollout(&v1).unwrap();
        assert_eq!(back, r);
        assert!(!back.was_forced());
        // A v2 value cut short is an error, not a silent default.
        assert!(decode_rollout(&v2[..v2.len() - 1]).is_err());
    }
}
