//! `keywords:*`: existence, frequency, forbidden words, letter frequency.
use crate::checker::{char_pos, verdict, BuildError, CheckFn, Kw};
use crate::py::{self, PyRegex};

fn compile(p: &str, ic: bool) -> Result<PyRegex, String> {
    PyRegex::new(p, ic, false).map_err(|e| format!("re.error: {e}"))
}

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "keywords:existence" => {
            let mut keywords = kw.str_list("keywords")?;
            if keywords.is_empty() {
                return Err(BuildError::Missing {
                    id: kw.id.into(),
                    name: "keywords".into(),
                });
            }
            keywords.sort();
            let res: Vec<(String, Result<PyRegex, String>)> = keywords
                .into_iter()
                .map(|k| {
                    let r = compile(&k, true);
                    (k, r)
                })
                .collect();
            Ok(Box::new(move |value| {
                for (k, re) in &res {
                    let re = re.as_ref().map_err(Clone::clone)?;
                    if !re.search(value).map_err(|e| e.to_string())? {
                        return verdict(false, format!("keyword {k:?} not found"));
                    }
                }
                verdict(true, format!("all {} keywords found", res.len()))
            }))
        }
        "keywords:frequency" => {
            let keyword = kw.nonempty_str("keyword")?;
            let keyword = py::strip(&keyword).to_string();
            let frequency = kw.count("frequency")?;
            let rel = kw.relation("relation")?;
            let re = compile(&keyword, true);
            Ok(Box::new(move |value| {
                let re = re.as_ref().map_err(Clone::clone)?;
                let n = re.find_all(value).map_err(|e| e.to_string())?.len() as i64;
                verdict(
                    rel.holds(n, frequency),
                    format!(
                        "{keyword:?} occurs {n} times (needs {} {frequency})",
                        rel.text()
                    ),
                )
            }))
        }
        "keywords:forbidden_words" => {
            let mut words = kw.str_list("forbidden_words")?;
            if words.is_empty() {
                return Err(BuildError::Missing {
                    id: kw.id.into(),
                    name: "forbidden_words".into(),
                });
            }
            words.sort();
            words.dedup();
            let res: Vec<(String, Result<PyRegex, String>)> = words
                .into_iter()
                .map(|w| {
                    let r = compile(&format!(r"\b{w}\b"), true);
                    (w, r)
                })
                .collect();
            Ok(Box::new(move |value| {
                for (w, re) in &res {
                    let re = re.as_ref().map_err(Clone::clone)?;
                    if let Some((a, _)) = re.find(value).map_err(|e| e.to_string())? {
                        return verdict(
                            false,
                            format!("forbidden word {w:?} at char {}", char_pos(value, a)),
                        );
                    }
                }
                verdict(true, "no forbidden word")
            }))
        }
        "keywords:letter_frequency" => {
            let letter = kw.str("letter")?;
            let n = letter.chars().count();
            let lowered = py::lower(&letter);
            let is_az =
                lowered.chars().count() == 1 && lowered.chars().all(|c| c.is_ascii_lowercase());
            if n != 1 {
                return Err(BuildError::Invalid {
                    id: kw.id.into(),
                    name: "letter".into(),
                    msg: format!("must be a single character, got {letter:?}"),
                });
            }
            let _ = is_az;
            let letter = py::lower(py::strip(&letter));
            let frequency = kw.count("let_frequency")?;
            let rel = kw.relation("let_relation")?;
            Ok(Box::new(move |value| {
                let low = py::lower(value);
                // Counter(value.lower())[letter]: letter is one character (or "" after strip)
                let n = if letter.chars().count() == 1 {
                    let c = letter.chars().next().unwrap_or(' ');
                    low.chars().filter(|&x| x == c).count() as i64
                } else {
                    0
                };
                verdict(
                    rel.holds(n, frequency),
                    format!(
                        "letter {letter:?} occurs {n} times (needs {} {frequency})",
                        rel.text()
                    ),
                )
            }))
        }
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}
