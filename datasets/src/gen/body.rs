//! The text of one response while it is assembled: paragraphs of topic sentences into which
//! each family's `Family::place` puts its material.

use super::rng::Rng;
use super::seeds::Seed;

/// One paragraph: lines above its sentences, the sentences, lines below them.
#[derive(Default, Clone)]
pub struct Para {
    pub pre: Vec<String>,
    pub sentences: Vec<String>,
    pub post: Vec<String>,
}

impl Para {
    pub fn render(&self) -> String {
        let mut lines: Vec<String> = self.pre.clone();
        if !self.sentences.is_empty() {
            lines.push(self.sentences.join(" "));
        }
        lines.extend(self.post.iter().cloned());
        lines.join("\n")
    }
}

/// A response being assembled (at least one paragraph).
pub struct Body<'a> {
    pub seed: &'a Seed,
    pub rng: &'a mut Rng,
    pub paras: Vec<Para>,
    /// Topic sentences of the seed's kind, taken in turn.
    bank: Vec<String>,
    next: usize,
}

impl<'a> Body<'a> {
    pub fn new(seed: &'a Seed, rng: &'a mut Rng, bank: Vec<String>) -> Self {
        Body {
            seed,
            rng,
            paras: Vec::new(),
            bank,
            next: 0,
        }
    }

    /// The next topic sentence (the bank starts over when it runs out).
    pub fn topic_sentence(&mut self) -> String {
        let s = self.bank[self.next % self.bank.len()].clone();
        self.next += 1;
        s
    }

    pub fn first(&mut self) -> &mut Para {
        &mut self.paras[0]
    }

    pub fn last(&mut self) -> &mut Para {
        let i = self.paras.len() - 1;
        &mut self.paras[i]
    }

    /// A sentence of material, at the end of the last paragraph.
    pub fn add(&mut self, s: String) {
        self.last().sentences.push(s);
    }

    /// A line above the first paragraph's sentences (below the ones placed before it).
    pub fn head(&mut self, line: String) {
        self.first().pre.push(line);
    }

    /// A line below the last paragraph's sentences (after the ones placed before it).
    pub fn line(&mut self, line: String) {
        self.last().post.push(line);
    }
}
