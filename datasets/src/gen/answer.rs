//! Writes an answer that satisfies a set of leaves on one text (a "segment": the whole answer,
//! or one part of a chain): topic sentences of the seed's kind, then each family's material
//! ([`Family::place`](super::family::Family::place)) and whole-text rewrites, then the
//! measured kwargs and each family's exact self-check. A draw that fails its own check is
//! rejected.

use super::body::{Body, Para};
use super::family::Leaf;
use super::rng::Rng;
use super::seeds::{Kind, Seed};
use super::text::{passage_sentences, sentence_bank, short_bank};

/// The leaves in the order their families place material ([`Traits::order`]).
///
/// [`Traits::order`]: super::family::Traits::order
fn in_order(leaves: &[Leaf]) -> Vec<&Leaf> {
    let mut v: Vec<&Leaf> = leaves.iter().collect();
    v.sort_by_key(|l| l.fam.traits().order);
    v
}

/// The body of one response: paragraphs of topic sentences with all constraint material placed.
/// `alt` starts the standard bank half-way (the second of two responses). `short` (the short
/// profile): one paragraph of two topic sentences (three when a keyword must sit in the 2nd
/// sentence) before the material.
fn compose(leaves: &[Leaf], seed: &Seed, rng: &mut Rng, alt: bool, short: bool) -> Vec<Para> {
    let bank = if short {
        short_bank(seed.kind, seed.topic, rng)
    } else {
        let mut bank = sentence_bank(seed.kind, seed.topic);
        rng.shuffle(&mut bank);
        if alt {
            let half = bank.len() / 2;
            bank.rotate_left(half);
        }
        bank
    };
    let ordered = in_order(leaves);
    let n_paras = if short {
        1
    } else if let Some(n) = ordered.iter().find_map(|l| l.fam.paragraphs(l)) {
        n
    } else {
        rng.range(1, 3)
    }
    .max(1);
    let first_min = leaves
        .iter()
        .map(|l| l.fam.first_sentences(l))
        .max()
        .unwrap_or(0);
    let mut body = Body::new(seed, rng, bank);
    for i in 0..n_paras {
        let mut k = if short { 2 } else { body.rng.range(2, 4) };
        if i == 0 {
            k = k.max(first_min);
        }
        let sentences = (0..k).map(|_| body.topic_sentence()).collect();
        body.paras.push(Para {
            sentences,
            ..Para::default()
        });
    }
    restate_given_text(&mut body, short);
    for l in ordered {
        l.fam.place(l, &mut body);
    }
    body.paras
}

/// A summary restates the given text: its first two sentences open the answer (a short
/// answer: its first sentence, after the sentence that names the topic).
fn restate_given_text(body: &mut Body, short: bool) {
    if body.seed.kind != Kind::Summarise {
        return;
    }
    let from_text = passage_sentences(&body.seed.request);
    if short {
        if let (Some(s), Some(second)) = (
            from_text.into_iter().next(),
            body.paras[0].sentences.get_mut(1),
        ) {
            *second = s;
        }
    } else {
        for (i, s) in from_text.into_iter().take(2).enumerate() {
            body.paras[0].sentences.insert(i, s);
        }
    }
}

fn join_paras(paras: &[Para], divider: &str) -> String {
    paras
        .iter()
        .map(Para::render)
        .collect::<Vec<_>>()
        .join(divider)
}

/// Builds the text of one segment and fills the measured kwargs of its leaves. Returns `None`
/// when the construction fails its own checks (the caller draws again).
pub fn build_segment(leaves: &mut [Leaf], seed: &Seed, rng: &mut Rng) -> Option<String> {
    build(leaves, seed, rng, false)
}

/// [`build_segment`] for the short profile: one paragraph of two topic sentences plus the
/// material each leaf needs, then the same measuring and exact self-checks.
pub fn build_short(leaves: &mut [Leaf], seed: &Seed, rng: &mut Rng) -> Option<String> {
    build(leaves, seed, rng, true)
}

fn build(leaves: &mut [Leaf], seed: &Seed, rng: &mut Rng, short: bool) -> Option<String> {
    let divider = leaves
        .iter()
        .find_map(|l| l.fam.traits().divider)
        .unwrap_or("\n\n");
    let mut text = match leaves.iter().find_map(|l| l.fam.traits().versions) {
        Some(between) => {
            // Material only in the first version; closing lines after the second.
            let (firsts, lasts): (Vec<Leaf>, Vec<Leaf>) = leaves
                .iter()
                .cloned()
                .partition(|l| !l.fam.traits().closing);
            let a = join_paras(&compose(&firsts, seed, rng, false, short), divider);
            let b = join_paras(&compose(&lasts, seed, rng, true, short), divider);
            format!("{a}{between}{b}")
        }
        None => join_paras(&compose(leaves, seed, rng, false, short), divider),
    };
    for l in in_order(leaves) {
        text = l.fam.finish(text)?;
    }
    for l in leaves.iter_mut() {
        let fam = l.fam;
        fam.measure(l, &text, rng);
    }
    if leaves.iter().all(|l| l.fam.check(l, &text)) {
        Some(text)
    } else {
        None
    }
}
