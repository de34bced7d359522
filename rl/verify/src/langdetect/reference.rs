//! The implementation before n-grams became ids: a window of chars normalised one by one, each
//! n-gram looked up in the tables as it comes and kept as its entries, the rows found by
//! hashing the entries. Kept to check the fast path against, output for output.

use super::model::{normalize, normalize_vi, remove_urls_mails, Model};
use super::{NoFeatures, PyRandom};
use crate::table::{decode_small, gram_key, small_gram_index, GramEntries};

/// The profile entries of an n-gram of 1 to 3 chars.
pub fn lookup(m: &Model, gram: &[char]) -> Option<GramEntries> {
    match small_gram_index(gram) {
        Some(i) => {
            let b = m.small.get(4 * i..4 * i + 4)?;
            decode_small(u32::from_le_bytes(b.try_into().ok()?))
        }
        None => m.probs.get(gram_key(gram)),
    }
}

/// The profile entries of `text`'s n-grams, in order.
pub fn ngrams(m: &Model, text: &str) -> Vec<GramEntries> {
    let mut buf = Vec::new();
    let mut ngrams = Vec::new();
    // append()
    let cleaned = remove_urls_mails(text);
    let t = normalize_vi(&cleaned);
    let mut pre = '\0';
    for ch in t.chars().take(10000) {
        if ch != ' ' || pre != ' ' {
            buf.push(ch);
        }
        pre = ch;
    }
    // cleaning_text()
    let (mut latin, mut non_latin) = (0usize, 0usize);
    for &ch in buf.iter() {
        if ('A'..='z').contains(&ch) {
            latin += 1;
        } else if ch >= '\u{0300}' {
            non_latin += 1;
        }
    }
    if latin * 2 < non_latin {
        buf.retain(|&ch| !('A'..='z').contains(&ch));
    }
    // _extract_ngrams()
    let mut grams = [' '; 3];
    let mut len = 1;
    let mut capital = false;
    for &ch0 in buf.iter() {
        let ch = normalize(ch0);
        let last = grams[len - 1];
        let mut skip_add = false;
        if last == ' ' {
            grams[0] = ' ';
            len = 1;
            capital = false;
            if ch == ' ' {
                skip_add = true;
            }
        } else if len >= 3 {
            grams = [grams[1], grams[2], ' '];
            len = 2;
        }
        if !skip_add {
            grams[len] = ch;
            len += 1;
            if crate::py::char_is_upper(ch) {
                if crate::py::char_is_upper(last) {
                    capital = true;
                }
            } else {
                capital = false;
            }
        }
        if capital {
            continue;
        }
        for n in 1..=len {
            let w = &grams[len - n..len];
            if w != [' '] {
                if let Some(p) = lookup(m, w) {
                    ngrams.push(p);
                }
            }
        }
    }
    ngrams
}

/// The languages' probabilities.
pub fn lang_probs(m: &Model, text: &str, seed: u32) -> Result<Vec<f64>, NoFeatures> {
    let ngrams = ngrams(m, text);
    if ngrams.is_empty() {
        return Err(NoFeatures);
    }
    let nl = m.langs.len();
    let mut langprob = vec![0.0f64; nl];
    let mut rng = PyRandom::new(seed);
    // a dense row per distinct n-gram drawn, found by its entries' offset
    let mut row_of: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    let mut data: Vec<f64> = Vec::new();
    for _ in 0..7 {
        let mut prob = vec![1.0 / nl as f64; nl];
        let alpha = 0.5 + rng.gauss(0.0, 1.0) * 0.05;
        let weight = alpha / 10000.0;
        let mut i = 0usize;
        loop {
            let word = ngrams[rng.randbelow(ngrams.len())];
            let row = *row_of.entry(word.0).or_insert_with(|| {
                let row = data.len() / nl;
                data.resize(data.len() + nl, 0.0);
                for k in 0..word.1 as usize {
                    let Some((l, x)) = m.probs.entry(word, k) else {
                        break;
                    };
                    if l < nl {
                        data[row * nl + l] = x;
                    }
                }
                row
            });
            for (p, x) in prob.iter_mut().zip(&data[row * nl..(row + 1) * nl]) {
                *p *= weight + x;
            }
            if i.is_multiple_of(5) {
                let sum: f64 = prob.iter().fold(0.0, |a, b| a + b);
                let mut maxp = 0.0;
                for p in prob.iter_mut() {
                    let q = *p / sum;
                    if maxp < q {
                        maxp = q;
                    }
                    *p = q;
                }
                if maxp > 0.99999 || i >= 1000 {
                    break;
                }
            }
            i += 1;
        }
        for (lp, p) in langprob.iter_mut().zip(prob.iter()) {
            *lp += p / 7.0;
        }
    }
    Ok(langprob)
}
