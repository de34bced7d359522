//! langdetect's sampling (`Detector._detect_block`): the seven trials that draw n-grams at
//! random and multiply the languages' probabilities by theirs, over dense rows of the
//! profiles ([`Rows`]).

use std::sync::OnceLock;

use super::grams::Grams;
use super::model::Model;
use super::random::PyRandom;
use crate::table::{GramEntries, SMALL_GRAMS};

/// Fill `row` (zeros, one per language) with the probabilities of the n-gram with entries `e`.
fn decode_row(m: &Model, e: GramEntries, row: &mut [f64]) {
    for k in 0..e.1 as usize {
        let Some((l, x)) = m.probs.entry(e, k) else {
            break;
        };
        // (a later entry for the same language wins, as it did)
        if let Some(v) = row.get_mut(l) {
            *v = x;
        }
    }
}

/// A row decoded once, shared by the threads.
type RowCell = OnceLock<Box<[f64]>>;

/// The dense rows (one f64 per language, 0.0 where the n-gram has no entry) of the direct
/// table's n-grams, each decoded the first time any text draws it and kept for the process.
/// Most draws of most texts are these n-grams, and decoding a row (scattered 9-byte entries,
/// often not in cache) cost more than the rest of the sampling; kept, the rows of the
/// languages a server scores stay warm. At most `SMALL_GRAMS` rows (~9 MB), in practice a few
/// thousand.
pub(super) static SMALL_ROWS: SmallRows = SmallRows {
    pages: [const { OnceLock::new() }; SMALL_GRAMS.div_ceil(256)],
};

/// [`SMALL_ROWS`]' cells in pages of 256, each page made the first time one of its n-grams is
/// drawn: the cells of every direct-table n-gram (~490 KB) would cost a short process like
/// `raif check` a hundred page faults, and a text draws from a few pages.
pub(super) struct SmallRows {
    pages: [OnceLock<Box<[RowCell]>>; SMALL_GRAMS.div_ceil(256)],
}

impl SmallRows {
    /// The cell of direct-table id `id`; None for another id.
    #[inline]
    fn get(&self, id: usize) -> Option<&RowCell> {
        if id >= SMALL_GRAMS {
            return None;
        }
        let page = self
            .pages
            .get(id >> 8)?
            .get_or_init(|| (0..256).map(|_| OnceLock::new()).collect());
        page.get(id & 255)
    }
}

/// The probabilities of the n-grams drawn, as dense rows, so that the update is one
/// vectorisable pass: the direct table's from [`SMALL_ROWS`], the others decoded the first
/// time the text draws them.
#[derive(Default)]
pub(super) struct Rows {
    nl: usize,
    /// id - `SMALL_GRAMS` -> 1 + row index in `data` (0: not decoded yet)
    row_of: Vec<u32>,
    data: Vec<f64>,
}

impl Rows {
    /// No rows, of `nl` languages, for the ids of `g` (reusing the last text's memory).
    pub(super) fn reset(&mut self, nl: usize, g: &Grams) {
        self.row_of.clear();
        self.row_of.resize(g.others.len(), 0);
        self.data.clear();
        self.nl = nl;
    }

    fn get<'a>(
        &'a mut self,
        m: &Model,
        small_rows: &'static SmallRows,
        g: &Grams,
        id: u32,
    ) -> &'a [f64] {
        let nl = self.nl;
        // (every id drawn has entries; none would be a row of zeros)
        if let Some(cell) = small_rows.get(id as usize) {
            return cell.get_or_init(|| {
                let mut row = vec![0.0; nl].into_boxed_slice();
                if let Some(e) = g.entries(m, id) {
                    decode_row(m, e, &mut row);
                }
                row
            });
        }
        // (not a direct-table id: at least `SMALL_GRAMS`)
        let k = id as usize - SMALL_GRAMS;
        let row = match self.row_of.get(k) {
            Some(&r) if r != 0 => r as usize - 1,
            _ => {
                let row = self.data.len() / nl.max(1);
                self.data.resize(self.data.len() + nl, 0.0);
                if let Some(e) = g.entries(m, id) {
                    decode_row(m, e, &mut self.data[row * nl..]);
                }
                if let Some(r) = self.row_of.get_mut(k) {
                    *r = row as u32 + 1;
                }
                row
            }
        };
        &self.data[row * nl..(row + 1) * nl]
    }
}

/// The seven sampling trials of one detection.
pub(super) struct Trials<'a> {
    pub(super) m: &'a Model,
    pub(super) grams: &'a Grams,
    pub(super) rows: &'a mut Rows,
    pub(super) prob: &'a mut Vec<f64>,
    pub(super) langprob: &'a mut Vec<f64>,
    pub(super) rng: &'a mut PyRandom,
    pub(super) small_rows: &'static SmallRows,
    pub(super) decided_only: bool,
}

impl Trials<'_> {
    /// Whether, after `done` of the 7 trials, the language with the largest running sum is
    /// already the answer: each trial adds its probabilities (which sum to 1 after its last
    /// normalisation) divided by 7, so the remaining trials add at most `(7 − done)/7` to any
    /// language; a leader ahead of the runner-up by more than that stays strictly ahead (so
    /// it is also the first of equals), and its share exceeds the 0.1 threshold. (NaN never
    /// decides.)
    fn decided(langprob: &[f64], done: usize) -> bool {
        let (mut a, mut b) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for &p in langprob {
            if p > a {
                b = a;
                a = p;
            } else if p > b {
                b = p;
            }
        }
        // (1e-9: far above the sums' rounding, far below any real margin)
        a - b > (7 - done) as f64 / 7.0 + 1e-9
    }

    /// The trials compiled for AVX2: the update and the division are element-wise, so four
    /// lanes give the same bits as one; the sum stays a sequential chain (its rounding is the
    /// oracle's), and nothing is fused (no FMA).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run_avx2(&mut self) {
        self.run_inline()
    }

    pub(super) fn run(&mut self) {
        self.run_inline()
    }

    #[inline(always)]
    fn run_inline(&mut self) {
        let Trials {
            m,
            grams,
            rows,
            prob,
            langprob,
            rng,
            small_rows,
            decided_only,
        } = self;
        let nl = m.langs.len();
        let ngrams = grams.ids();
        for trial in 0..7 {
            if *decided_only && trial > 0 && Self::decided(langprob, trial) {
                break;
            }
            prob.clear();
            prob.resize(nl, 1.0 / nl as f64);
            let alpha = 0.5 + rng.gauss(0.0, 1.0) * 0.05;
            let weight = alpha / 10000.0;
            let mut i = 0usize;
            loop {
                let id = ngrams[rng.randbelow(ngrams.len())];
                // prob[l] *= weight + p(word | l), p = 0.0 where the word has no entry for l
                let row = rows.get(m, small_rows, grams, id);
                for (p, x) in prob.iter_mut().zip(row) {
                    *p *= weight + x;
                }
                if i.is_multiple_of(5) {
                    // _normalize_prob: the sum in order (its rounding is the oracle's), then
                    // each divided; the largest quotient exceeds the threshold exactly when
                    // some quotient does (a NaN exceeds nothing and is never the largest), so
                    // no running maximum (a chain of dependent comparisons as long as the
                    // sum's) is kept.
                    let sum: f64 = prob.iter().fold(0.0, |a, b| a + b);
                    for p in prob.iter_mut() {
                        *p /= sum;
                    }
                    let converged = prob.iter().fold(false, |c, &q| c | (q > 0.99999));
                    if converged || i >= 1000 {
                        break;
                    }
                }
                i += 1;
            }
            for (lp, p) in langprob.iter_mut().zip(prob.iter()) {
                *lp += p / 7.0;
            }
        }
    }
}
