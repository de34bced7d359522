//! Deterministic synthetic responses of IFEval size (a few hundred words, with the features
//! IFEval's instructions look for switched on and off at random), for the load generator and
//! the tests. Not a language model: the point is realistic text length and checker paths.

/// A small deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

const WORDS: &[&str] = &[
    "the",
    "river",
    "county",
    "history",
    "people",
    "summer",
    "travel",
    "should",
    "because",
    "during",
    "ancient",
    "market",
    "season",
    "letter",
    "story",
    "garden",
    "mountain",
    "city",
    "language",
    "music",
    "important",
    "family",
    "morning",
    "evening",
    "journey",
    "reason",
    "answer",
    "question",
    "simple",
    "careful",
    "friend",
    "student",
    "teacher",
    "village",
    "window",
    "water",
    "light",
    "quiet",
    "bright",
    "small",
    "large",
    "early",
    "later",
    "often",
    "never",
    "always",
    "many",
    "few",
    "work",
    "play",
    "write",
    "read",
    "think",
    "learn",
    "build",
    "count",
    "Tripoli",
    "Raymond",
    "castle",
    "harbor",
    "festival",
    "recipe",
    "planet",
    "energy",
];

fn sentence(rng: &mut Rng, commas: bool) -> String {
    let n = 8 + rng.below(14);
    let mut s = String::new();
    for i in 0..n {
        let w = WORDS[rng.below(WORDS.len())];
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push(' ');
            s.push_str(w);
        }
        if commas && i > 2 && i + 2 < n && rng.chance(0.08) {
            s.push(',');
        }
    }
    s.push(if rng.chance(0.1) { '?' } else { '.' });
    s
}

/// One IFEval-sized answer (roughly 150–500 words).
pub fn answer(rng: &mut Rng) -> String {
    let commas = rng.chance(0.5);
    let mut out = String::new();
    if rng.chance(0.3) {
        out.push_str("<<A Title About Things>>\n\n");
    }
    let paragraphs = 2 + rng.below(5);
    for p in 0..paragraphs {
        if p > 0 {
            out.push_str(if rng.chance(0.5) {
                "\n\n"
            } else {
                "\n\n***\n\n"
            });
        }
        if rng.chance(0.3) {
            out.push_str(&format!("SECTION {}\n", p + 1));
        }
        if rng.chance(0.3) {
            out.push_str(&format!("*highlighted part {}* ", p + 1));
        }
        let sentences = 3 + rng.below(6);
        for i in 0..sentences {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&sentence(rng, commas));
        }
        if rng.chance(0.2) {
            out.push_str("\n* a bullet point\n* another bullet point");
        }
    }
    if rng.chance(0.3) {
        out.push_str("\n\nP.S. Thank you for reading.");
    }
    if rng.chance(0.2) {
        out = out.to_uppercase();
    } else if rng.chance(0.1) {
        out = out.to_lowercase();
    }
    out
}

/// A RAIF-format response (`<think>…</think><answer>…</answer>`) around an IFEval-sized answer.
pub fn think_answer(rng: &mut Rng) -> String {
    let mut reasoning = String::new();
    for i in 0..(2 + rng.below(4)) {
        if i > 0 {
            reasoning.push(' ');
        }
        reasoning.push_str(&sentence(rng, true));
    }
    format!(
        "{reasoning}\n</think>\n<answer>\n{}\n</answer>",
        answer(rng)
    )
}
