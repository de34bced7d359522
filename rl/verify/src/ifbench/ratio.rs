//! IFBench `ratio:*`.
use crate::checker::{verdict, BuildError, CheckFn, Kw};
use crate::text::split_into_sentences;

/// The set of a text's character trigrams (Python's `{s[i:i+3] for i …}`), each packed in a
/// u64 (21 bits per code point, so never `u64::MAX`): open addressing with linear probing, at
/// most half full. (Sorting the packed trigrams of a response to deduplicate them was a tenth
/// of checking the IFBench samples.)
struct Trigrams {
    slots: Vec<u64>,
    len: usize,
}

const EMPTY: u64 = u64::MAX;

impl Trigrams {
    fn with_room(n: usize) -> Self {
        Trigrams {
            slots: vec![EMPTY; (2 * n).next_power_of_two().max(16)],
            len: 0,
        }
    }

    fn slot(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & (self.slots.len() - 1)
    }

    /// Insert `key`; whether it was new.
    fn insert(&mut self, key: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            match self.slots[i] {
                EMPTY => {
                    self.slots[i] = key;
                    self.len += 1;
                    return true;
                }
                k if k == key => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn contains(&self, key: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            match self.slots[i] {
                EMPTY => return false,
                k if k == key => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Call `f` with each trigram of `s`, packed, in order (repeats included).
    fn each(s: &str, mut f: impl FnMut(u64)) {
        const MASK: u64 = (1 << 63) - 1;
        let mut w = 0u64;
        for (i, c) in s.chars().enumerate() {
            w = ((w << 21) | c as u64) & MASK;
            if i >= 2 {
                f(w);
            }
        }
    }

    fn of(s: &str) -> Self {
        let mut t = Trigrams::with_room(s.len());
        Trigrams::each(s, |k| {
            t.insert(k);
        });
        t
    }

    /// (|trigrams of `s`|, |trigrams of `s` ∩ self|)
    fn count_and_common(&self, s: &str) -> (usize, usize) {
        let mut own = Trigrams::with_room(s.len());
        let mut common = 0;
        Trigrams::each(s, |k| {
            if own.insert(k) && self.contains(k) {
                common += 1;
            }
        });
        (own.len, common)
    }
}

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "ratio:stop_words" => {
            let pct = kw.number("percentage")?;
            if pct < 0.0 {
                return Err(BuildError::Invalid {
                    id: kw.id.into(),
                    name: "percentage".into(),
                    msg: "must be >= 0".into(),
                });
            }
            Ok(Box::new(move |value| {
                let n = crate::nltk::count_words(value);
                let s = crate::nltk::count_stopwords(value);
                if n == 0 {
                    return Err("ZeroDivisionError: no words".into());
                }
                let p = (s as f64 / n as f64) * 100.0;
                verdict(
                    p <= pct,
                    format!("{s} of {n} words are stop words ({p:.1}%, needs at most {pct}%)"),
                )
            }))
        }
        "ratio:sentence_type" => Ok(Box::new(|value| {
            let s = split_into_sentences(value);
            let d = s.iter().filter(|x| x.ends_with('.')).count();
            let q = s.iter().filter(|x| x.ends_with('?')).count();
            verdict(
                d == 2 * q,
                format!("{d} declarative, {q} interrogative sentences (needs 2:1)"),
            )
        })),
        "ratio:sentence_balance" => Ok(Box::new(|value| {
            let s = split_into_sentences(value);
            let d = s.iter().filter(|x| x.ends_with('.')).count();
            let q = s.iter().filter(|x| x.ends_with('?')).count();
            let e = s.iter().filter(|x| x.ends_with('!')).count();
            verdict(
                d == q && q == e,
                format!("{d} declarative, {q} interrogative, {e} exclamatory sentences"),
            )
        })),
        "ratio:overlap" => {
            let reference = kw.str("reference_text")?;
            let pct = kw.number("percentage")?;
            if pct < 0.0 {
                return Err(BuildError::Invalid {
                    id: kw.id.into(),
                    name: "percentage".into(),
                    msg: "must be >= 0".into(),
                });
            }
            let rset = Trigrams::of(&reference);
            Ok(Box::new(move |value| {
                let (n, inter) = rset.count_and_common(value);
                if n == 0 {
                    return Err("ZeroDivisionError: the response has no character trigram".into());
                }
                let o = inter as f64 / n as f64;
                let ok = pct - 2.0 <= o * 100.0 && o * 100.0 <= pct + 2.0;
                verdict(
                    ok,
                    format!("trigram overlap {:.1}% (needs {pct}% ± 2)", o * 100.0),
                )
            }))
        }
        "ratio:sentence_words" => Ok(Box::new(|value| {
            let s = split_into_sentences(value);
            if s.len() != 3 {
                return verdict(false, format!("{} sentences (needs 3)", s.len()));
            }
            let lens: Vec<usize> = s
                .iter()
                .map(|x| crate::py::strip(x).chars().count())
                .collect();
            verdict(
                lens.iter().all(|l| *l == lens[0]),
                format!("sentence lengths {lens:?} characters"),
            )
        })),
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::Trigrams;
    use std::collections::BTreeSet;

    /// Python's `{s[i:i+3] for i in range(len(s) - 2)}`.
    fn definition(s: &str) -> BTreeSet<String> {
        let c: Vec<char> = s.chars().collect();
        c.windows(3).map(|w| w.iter().collect()).collect()
    }

    proptest::proptest! {
        #[test]
        fn trigram_counts_match_python_sets(a in "[abc\\u{e9}\\u{4e2d} \\u{1F600}]{0,40}", r in "[abc\\u{e9}\\u{4e2d} \\u{1F600}]{0,40}") {
            let (n, common) = Trigrams::of(&r).count_and_common(&a);
            let (da, dr) = (definition(&a), definition(&r));
            proptest::prop_assert_eq!(n, da.len());
            proptest::prop_assert_eq!(common, da.intersection(&dr).count());
        }
    }
}
