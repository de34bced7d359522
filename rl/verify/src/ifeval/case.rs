//! `change_case:*`: capital word frequency, all capitals in English, all lowercase in English.
use crate::checker::{verdict, BuildError, CheckFn, Kw};
use crate::py;

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "change_case:capital_word_frequency" => {
            let n = kw.int("capital_frequency")?;
            let rel = kw.relation("capital_relation")?;
            Ok(Box::new(move |value| {
                let mut c = 0i64;
                crate::nltk::for_each_word_token(value, |w| c += py::is_upper(w) as i64);
                verdict(
                    rel.holds(c, n),
                    format!("{c} all-capital words (needs {} {n})", rel.text()),
                )
            }))
        }
        "change_case:english_capital" => Ok(Box::new(|value| {
            if !py::is_upper(value) {
                return verdict(false, "not all capital letters");
            }
            match crate::langdetect::detect(value) {
                Ok(l) => verdict(l == "en", format!("all capitals; detected language {l:?}")),
                Err(_) => verdict(
                    true,
                    "all capitals; language not detectable (counted as a pass)",
                ),
            }
        })),
        "change_case:english_lowercase" => Ok(Box::new(|value| {
            if !py::is_lower(value) {
                return verdict(false, "not all lowercase letters");
            }
            match crate::langdetect::detect(value) {
                Ok(l) => verdict(l == "en", format!("all lowercase; detected language {l:?}")),
                Err(_) => verdict(
                    true,
                    "all lowercase; language not detectable (counted as a pass)",
                ),
            }
        })),
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}
