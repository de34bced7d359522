//! `language:response_language` (langdetect, seeded like the oracle).
use crate::checker::{verdict, BuildError, CheckFn, Kw};

/// `instructions_util.LANGUAGE_CODES`: the only languages the official checker accepts (any
/// other code raises a KeyError while the instruction is built).
pub const LANGUAGE_CODES: &[&str] = &[
    "en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it", "bn", "uk", "th", "ur", "ta", "te",
    "bg", "ko", "pl", "he", "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa", "ml", "fi",
];

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    let language = kw.nonempty_str("language")?;
    if !LANGUAGE_CODES.contains(&language.as_str()) {
        return Err(BuildError::Invalid {
            id: kw.id.into(),
            name: "language".into(),
            msg: format!("{language:?} is not one of the IFEval language codes {LANGUAGE_CODES:?}"),
        });
    }
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
