//! `punctuation:no_comma`.
use crate::checker::{char_pos, verdict, BuildError, CheckFn, Kw};

pub fn build(_kw: &Kw) -> Result<CheckFn, BuildError> {
    Ok(Box::new(|value| {
        let n = value.matches(',').count();
        match value.find(',') {
            Some(i) => verdict(
                false,
                format!(
                    "{n} comma{} found, first at char {}",
                    if n == 1 { "" } else { "s" },
                    char_pos(value, i)
                ),
            ),
            None => verdict(true, "no comma"),
        }
    }))
}
