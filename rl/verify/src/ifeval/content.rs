//! `detectable_content:*`: placeholders, postscript.
use crate::checker::{char_pos, verdict, BuildError, CheckFn, Kw};
use crate::py::{self, PyRegex};
use crate::py_re;

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "detectable_content:number_placeholders" => {
            let n = kw.count("num_placeholders")?;
            Ok(Box::new(move |value| {
                let c = py_re!(r"\[.*?\]")
                    .find_all(value)
                    .map_err(|e| e.to_string())?
                    .len() as i64;
                verdict(c >= n, format!("{c} [placeholders] (needs at least {n})"))
            }))
        }
        "detectable_content:postscript" => {
            let marker = py::strip(&kw.str("postscript_marker")?).to_string();
            let pat = match marker.as_str() {
                "P.P.S" => r"\s*p\.\s?p\.\s?s.*$".to_string(),
                "P.S." => r"\s*p\.\s?s\..*$".to_string(),
                m => format!(r"\s*{}.*$", py::lower(m)),
            };
            let re = PyRegex::new(&pat, false, true).map_err(|e| e.to_string());
            Ok(Box::new(move |value| {
                let re = re.as_ref().map_err(Clone::clone)?;
                let low = py::lower(value);
                match re.find(&low).map_err(|e| e.to_string())? {
                    Some((a, _)) => verdict(
                        true,
                        format!("postscript {marker:?} found at char {}", char_pos(&low, a)),
                    ),
                    None => verdict(false, format!("no postscript starting with {marker:?}")),
                }
            }))
        }
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}
