//! IFBench `ratio:*`.
use crate::checker::{verdict, BuildError, CheckFn, Kw};
use crate::text::split_into_sentences;
use std::collections::HashSet;

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
            let tri = |s: &str| -> HashSet<(char, char, char)> {
                let c: Vec<char> = s.chars().collect();
                c.windows(3).map(|w| (w[0], w[1], w[2])).collect()
            };
            let rset = tri(&reference);
            Ok(Box::new(move |value| {
                let v = tri(value);
                if v.is_empty() {
                    return Err("ZeroDivisionError: the response has no character trigram".into());
                }
                let inter = v.intersection(&rset).count();
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
