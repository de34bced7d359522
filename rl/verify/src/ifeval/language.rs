//! `language:response_language` (langdetect, seeded like the oracle).
use crate::checker::{verdict, BuildError, CheckFn, Kw};

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    let language = kw.nonempty_str("language")?;
    Ok(Box::new(move |value| {
        match crate::langdetect::detect(value) {
            Ok(l) => verdict(
                l == language,
                format!("detected language {l:?} (wanted {language:?})"),
            ),
            Err(_) => verdict(
                true,
                "language not detectable (no features): counted as a pass, like the official code",
            ),
        }
    }))
}
