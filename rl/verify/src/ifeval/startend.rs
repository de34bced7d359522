//! `startend:*`: end phrase, quotation.
use crate::checker::{snip, verdict, BuildError, CheckFn, Kw};
use crate::py;

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "startend:end_checker" => {
            let end = py::lower(py::strip(&kw.str("end_phrase")?));
            Ok(Box::new(move |value| {
                let v = py::lower(py::strip(value).trim_matches('"'));
                let tail: String = {
                    let n = v.chars().count();
                    v.chars().skip(n.saturating_sub(40)).collect()
                };
                verdict(
                    v.ends_with(&end),
                    format!("response ends with {} (needs {end:?})", snip(&tail)),
                )
            }))
        }
        "startend:quotation" => Ok(Box::new(|value| {
            let v = py::strip(value);
            let ok = v.chars().count() > 1 && v.starts_with('"') && v.ends_with('"');
            verdict(
                ok,
                if ok {
                    "wrapped in double quotes"
                } else {
                    "not wrapped in double quotes"
                },
            )
        })),
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}
