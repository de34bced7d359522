//! Contamination check: word n-gram overlap between generated prompts and benchmark prompts.

use std::collections::HashSet;

use serde::Serialize;

/// Word n-grams (lowercased alphanumeric words) of the benchmark prompts.
#[derive(Clone, Debug)]
pub struct ContaminationIndex {
    pub n: usize,
    /// A generated prompt whose share of n-grams found in the index exceeds this is dropped.
    pub threshold: f64,
    grams: HashSet<u64>,
    pub prompts: usize,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// FNV-1a over the n words (stable across runs and platforms).
fn hash(ws: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in ws {
        for b in w.bytes().chain(std::iter::once(b' ')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

impl ContaminationIndex {
    /// Indexes benchmark prompts with n-grams of `n` words.
    pub fn new<'a>(prompts: impl IntoIterator<Item = &'a str>, n: usize, threshold: f64) -> Self {
        let mut grams = HashSet::new();
        let mut count = 0;
        for p in prompts {
            count += 1;
            let w = words(p);
            for g in w.windows(n.max(1)) {
                grams.insert(hash(g));
            }
        }
        ContaminationIndex {
            n: n.max(1),
            threshold,
            grams,
            prompts: count,
        }
    }

    /// Share of the text's n-grams that occur in some benchmark prompt (0 for short texts).
    pub fn overlap(&self, text: &str) -> f64 {
        let w = words(text);
        let total = w.len().saturating_sub(self.n - 1);
        if total == 0 {
            return 0.0;
        }
        let hit = w
            .windows(self.n)
            .filter(|g| self.grams.contains(&hash(g)))
            .count();
        hit as f64 / total as f64
    }
}

/// What the check saw during a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContaminationReport {
    pub n: usize,
    pub threshold: f64,
    pub benchmark_prompts: usize,
    pub checked: usize,
    pub dropped: usize,
    pub dropped_ids: Vec<String>,
    /// Highest overlap among kept prompts.
    pub max_kept_overlap: f64,
    pub mean_kept_overlap: f64,
}

impl ContaminationReport {
    pub fn new(idx: &ContaminationIndex) -> Self {
        ContaminationReport {
            n: idx.n,
            threshold: idx.threshold,
            benchmark_prompts: idx.prompts,
            ..Default::default()
        }
    }

    /// Records the prompt's overlap; false when it is over the threshold (drop it).
    pub fn admit(&mut self, idx: &ContaminationIndex, id: &str, prompt: &str) -> bool {
        let o = idx.overlap(prompt);
        self.checked += 1;
        if o > idx.threshold {
            self.dropped += 1;
            if self.dropped_ids.len() < 100 {
                self.dropped_ids.push(format!("{id} ({o:.2})"));
            }
            return false;
        }
        let kept = (self.checked - self.dropped) as f64;
        self.mean_kept_overlap += (o - self.mean_kept_overlap) / kept;
        self.max_kept_overlap = self.max_kept_overlap.max(o);
        true
    }
}
