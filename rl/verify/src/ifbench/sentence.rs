//! IFBench `sentence:*`.
use crate::checker::{verdict, BuildError, CheckFn, Kw};
use crate::ifbench::py_index;
use crate::py::{self, PUNCT_SPACE};
use crate::text::split_into_sentences;

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "sentence:alliteration_increment" => Ok(Box::new(|value| {
            let mut prev: i64 = -1;
            for (k, s) in split_into_sentences(value).iter().enumerate() {
                let low = py::lower(s);
                let words: Vec<&str> = py::split_ws(&low)
                    .into_iter()
                    .map(|w| py::lstrip_chars(w, PUNCT_SPACE))
                    .filter(|w| !w.is_empty())
                    .collect();
                let mut a = 0i64;
                let mut prev_allit = false;
                for i in 0..words.len().saturating_sub(1) {
                    if words[i].chars().next() == words[i + 1].chars().next() {
                        a += if prev_allit { 1 } else { 2 };
                        prev_allit = true;
                    } else {
                        prev_allit = false;
                    }
                }
                if a <= prev {
                    return verdict(
                        false,
                        format!(
                            "sentence {} has alliteration {a}, not more than {prev}",
                            k + 1
                        ),
                    );
                }
                prev = a;
            }
            verdict(true, "alliteration grows sentence by sentence")
        })),
        "sentence:keyword" => {
            let word = kw.nonempty_str("word")?;
            let n = kw.int("N")?;
            if n < 0 {
                return Err(BuildError::Invalid {
                    id: kw.id.into(),
                    name: "N".into(),
                    msg: "must be >= 0".into(),
                });
            }
            Ok(Box::new(move |value| {
                let s = split_into_sentences(value);
                if (s.len() as i64) < n {
                    return verdict(false, format!("{} sentences (needs at least {n})", s.len()));
                }
                let i = py_index(s.len(), n - 1).ok_or("IndexError: list index out of range")?;
                let ok = py::lower(&s[i]).contains(&py::lower(&word));
                verdict(
                    ok,
                    format!(
                        "sentence {n} {} {word:?}",
                        if ok { "contains" } else { "lacks" }
                    ),
                )
            }))
        }
        "sentence:increment" => {
            let n = kw.count("small_n")?;
            Ok(Box::new(move |value| {
                let s = split_into_sentences(value);
                let count = |x: &str| py::split_ws(py::strip(&py::remove_punct(x))).len() as i64;
                let first = s
                    .first()
                    .ok_or("IndexError: list index out of range (no sentence)")?;
                let mut prev = count(first);
                for (i, x) in s.iter().enumerate().skip(1) {
                    let c = count(x);
                    if c != prev + n {
                        return verdict(
                            false,
                            format!("sentence {} has {c} words, needs {}", i + 1, prev + n),
                        );
                    }
                    prev = c;
                }
                verdict(
                    true,
                    format!("each sentence has {n} more words than the previous"),
                )
            }))
        }
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}
