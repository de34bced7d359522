//! `detectable_content:*`: placeholders, postscript.
use crate::checker::{char_pos, verdict, BuildError, CheckFn, Kw};
use crate::py::{self, PyRegex};
use crate::scan;

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "detectable_content:number_placeholders" => {
            let n = kw.count("num_placeholders")?;
            Ok(Box::new(move |value| {
                // len(re.findall(r"\[.*?\]", value))
                let c = scan::placeholders(value) as i64;
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
            // the same search by hand (scan::postscript) for these and for plain markers
            use scan::Mark::{Char, OptSpace};
            let mark: Option<Vec<scan::Mark>> = match marker.as_str() {
                "P.P.S" => Some(vec![
                    Char('p'),
                    Char('.'),
                    OptSpace,
                    Char('p'),
                    Char('.'),
                    OptSpace,
                    Char('s'),
                ]),
                "P.S." => Some(vec![Char('p'), Char('.'), OptSpace, Char('s'), Char('.')]),
                m if scan::is_plain_literal(&py::lower(m)) => {
                    Some(py::lower(m).chars().map(Char).collect())
                }
                _ => None,
            };
            let re = match mark {
                Some(_) => None,
                None => Some(PyRegex::new(&pat, false, true).map_err(|e| e.to_string())),
            };
            Ok(Box::new(move |value| {
                let low = py::lower(value);
                let found = match (&mark, &re) {
                    (Some(mark), _) => scan::postscript(&low, mark).map(|a| (a, a)),
                    (None, Some(re)) => {
                        let re = re.as_ref().map_err(Clone::clone)?;
                        re.find(&low).map_err(|e| e.to_string())?
                    }
                    (None, None) => None,
                };
                match found {
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
