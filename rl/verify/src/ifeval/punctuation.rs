//! `punctuation:no_comma`.
use crate::checker::{char_pos, verdict, BuildError, CheckFn, Kw};

pub fn build(_kw: &Kw) -> Result<CheckFn, BuildError> {
    Ok(Box::new(|value| {
        // (a byte search: ',' is ASCII, so never part of another char's UTF-8)
        let n = memchr::memchr_iter(b',', value.as_bytes()).count();
        match memchr::memchr(b',', value.as_bytes()) {
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
