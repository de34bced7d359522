//! IFBench `ratio:*`.
use crate::checker::{verdict, BuildError, CheckFn, Kw};
use crate::text::split_into_sentences;

/// The set of a text's character trigrams (Python's `{s[i:i+3] for i …}`), each packed in a
/// u64 (21 bits per code point), sorted and deduplicated.
fn trigrams(s: &str) -> Vec<u64> {
    let c: Vec<u64> = s.chars().map(|c| c as u64).collect();
    let mut t: Vec<u64> = c
        .windows(3)
        .map(|w| (w[0] << 42) | (w[1] << 21) | w[2])
        .collect();
    t.sort_unstable();
    t.dedup();
    t
}

/// |a ∩ b| of two sorted, deduplicated sets.
fn sorted_intersection(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
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
            let rset = trigrams(&reference);
            Ok(Box::new(move |value| {
                let v = trigrams(value);
                if v.is_empty() {
                    return Err("ZeroDivisionError: the response has no character trigram".into());
                }
                let inter = sorted_intersection(&v, &rset);
                let o = inter as f64 / v.len() as f64;
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
