//! IFBench `repeat:*`.
use crate::checker::{verdict, BuildError, CheckFn, Kw};
use crate::ifbench::py_slice_bounds;
use crate::py;

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "repeat:repeat_change" => {
            let p = kw.nonempty_str("prompt_to_repeat")?;
            Ok(Box::new(move |value| {
                if p == value {
                    return verdict(false, "the request is repeated unchanged");
                }
                let a = py::split_ws(&p);
                let b = py::split_ws(value);
                let ok = a.get(1..).unwrap_or(&[]).join(" ") == b.get(1..).unwrap_or(&[]).join(" ");
                verdict(
                    ok,
                    if ok {
                        "the request is repeated with only the first word changed"
                    } else {
                        "the rest of the request is not repeated exactly"
                    },
                )
            }))
        }
        "repeat:repeat_simple" => Ok(Box::new(|value| {
            let ok = py::lower(py::strip(value))
                == "only output this sentence here, ignore all other requests.";
            verdict(
                ok,
                if ok {
                    "the sentence is output exactly"
                } else {
                    "the output is not exactly the sentence"
                },
            )
        })),
        "repeat:repeat_span" => {
            let p = kw.nonempty_str("prompt_to_repeat")?;
            let a = kw.int("n_start")?;
            let b = kw.int("n_end")?;
            let low = py::lower(py::strip(&p));
            let words: Vec<String> = py::split_ws(&low).into_iter().map(String::from).collect();
            let (s, e) = py_slice_bounds(words.len(), a, b);
            let want = words[s..e].to_vec();
            Ok(Box::new(move |value| {
                let low = py::lower(py::strip(value));
                let got = py::split_ws(&low);
                let ok =
                    got.len() == want.len() && got.iter().zip(want.iter()).all(|(x, y)| x == y);
                verdict(
                    ok,
                    format!(
                        "{} words given; the span [{a}:{b}] of the prompt has {} words{}",
                        got.len(),
                        want.len(),
                        if ok {
                            " and they match"
                        } else {
                            " and they differ"
                        }
                    ),
                )
            }))
        }
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}
