//! `length_constraints:*`: sentences (Punkt), paragraphs, words (NLTK `\w+`), nth paragraph first word.
use crate::checker::{verdict, BuildError, CheckFn, Kw};
use crate::py;

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "length_constraints:number_sentences" => {
            let n = kw.count("num_sentences")?;
            let rel = kw.relation("relation")?;
            Ok(Box::new(move |value| {
                let c = crate::nltk::sent_tokenize(value).len() as i64;
                verdict(
                    rel.holds(c, n),
                    format!("{c} sentences (needs {} {n})", rel.text()),
                )
            }))
        }
        "length_constraints:number_paragraphs" => {
            let n = kw.count("num_paragraphs")?;
            Ok(Box::new(move |value| {
                // re.split(r"\s?\*\*\*\s?", value)
                let parts = crate::scan::split_dividers(value);
                let mut count = parts.len() as i64;
                let last = parts.len() - 1;
                for (i, p) in parts.iter().enumerate() {
                    if py::strip(p).is_empty() {
                        if i == 0 || i == last {
                            count -= 1;
                        } else {
                            return verdict(
                                false,
                                format!("paragraph {} (between *** dividers) is empty", i + 1),
                            );
                        }
                    }
                }
                verdict(
                    count == n,
                    format!("{count} paragraphs separated by *** (needs {n})"),
                )
            }))
        }
        "length_constraints:number_words" => {
            let n = kw.count("num_words")?;
            let rel = kw.relation("relation")?;
            Ok(Box::new(move |value| {
                let c = crate::nltk::count_words(value) as i64;
                verdict(
                    rel.holds(c, n),
                    format!("{c} words (needs {} {n})", rel.text()),
                )
            }))
        }
        "length_constraints:nth_paragraph_first_word" => {
            let num = kw.count("num_paragraphs")?;
            let nth = kw.int("nth_paragraph")?;
            if nth <= 0 || nth > num {
                return Err(BuildError::Invalid {
                    id: kw.id.into(),
                    name: "nth_paragraph".into(),
                    msg: format!("must be in 1..={num}, got {nth}"),
                });
            }
            let first_word = py::lower(&kw.str("first_word")?);
            Ok(Box::new(move |value| {
                let paragraphs: Vec<&str> = value.split("\n\n").collect();
                let mut count = paragraphs.len() as i64;
                for p in &paragraphs {
                    if py::strip(p).is_empty() {
                        count -= 1;
                    }
                }
                let para = if nth <= count {
                    let p = py::strip(paragraphs[(nth - 1) as usize]);
                    if p.is_empty() {
                        return verdict(false, format!("paragraph {nth} is empty"));
                    }
                    p
                } else {
                    return verdict(
                        false,
                        format!("only {count} paragraphs, no paragraph {nth}"),
                    );
                };
                let word = py::split_ws(para).first().copied().unwrap_or("");
                let word = py::strip(word)
                    .trim_start_matches('\'')
                    .trim_start_matches('"');
                let mut fw = String::new();
                for c in word.chars() {
                    if ".,?!'\"".contains(c) {
                        break;
                    }
                    fw.extend(c.to_lowercase());
                }
                verdict(
                    count == num && fw == first_word,
                    format!("{count} paragraphs (needs {num}); paragraph {nth} starts with {fw:?} (needs {first_word:?})"),
                )
            }))
        }
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}
