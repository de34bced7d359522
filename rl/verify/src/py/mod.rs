//! Python `str` and `re` semantics that the official checkers rely on.
//!
//! The official checkers are Python: `str.split()`, `str.strip()`, `str.isupper()` and the
//! stdlib `re` module define what a "word", a "space" or a "match" is. These helpers
//! reproduce those definitions so that ports read like the original code.
//!
//! `re` (stdlib) differs from Rust's `regex` crate in its character classes (`\w` is letters,
//! numbers and `_` only; `\s` includes U+001C..U+001F), in `$` (also matches before a final
//! newline), in `{` (a literal when not a quantifier) and in supporting look-around and
//! back-references. [`PyRegex`] translates a Python pattern into a `fancy_regex` pattern with the
//! same meaning. (NLTK 3.10 routes its own regexes through the third-party `regex` module, whose
//! classes are the Unicode ones that Rust's `regex` crate uses, so NLTK ports use Rust classes.)
//!
//! The parts: `strings` (the `str` methods and character classes), `translate` (a pattern into
//! fancy-regex syntax), `literal` (literal patterns matched without a regex) and `re`
//! ([`PyRegex`] itself); this file holds what they share ([`PatternError`], [`Caps`], `W`).

use std::fmt;

mod literal;
mod re;
mod strings;
#[cfg(test)]
pub(crate) mod tests;
mod translate;

pub(crate) use literal::case_variants;
pub use re::PyRegex;
pub(crate) use strings::{
    anchored, byte_starts, char_before_bytes, is_nd, is_py_word, rewrite_at, runs, FastBuild,
};
pub use strings::{
    char_at, char_is_alpha, char_is_digit, char_is_lower, char_is_upper, digit_runs, is_digit,
    is_lower, is_space, is_upper, len, lower, lstrip, lstrip_chars, remove_punct, rstrip,
    rstrip_chars, slice_chars, split_ws, strip, strip_chars, CharSet, PUNCTUATION, PUNCT_SPACE,
};
pub use translate::translate;

/// Error compiling a Python pattern (the official code would raise `re.error`).
#[derive(Debug, Clone)]
pub struct PatternError(pub String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for PatternError {}

/// Python's `\w` (on str patterns) as a class body, for the translation and [`is_py_word`].
const W: &str = r"\p{L}\p{N}_";

/// The groups of one match, as `re.Match.group(i)` gives them (`get(0)`: the whole match).
pub struct Caps<'t> {
    text: &'t str,
    spans: Vec<Option<(usize, usize)>>,
}

impl<'t> Caps<'t> {
    /// Group `i`, None when it did not take part in the match (or does not exist).
    pub fn get(&self, i: usize) -> Option<&'t str> {
        let (a, b) = (*self.spans.get(i)?)?;
        self.text.get(a..b)
    }

    /// `m.group(i) or ""`.
    pub fn str(&self, i: usize) -> &'t str {
        self.get(i).unwrap_or("")
    }

    /// The number of groups, group 0 included.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Never empty (group 0 is always there); for clippy.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn from_fancy(text: &'t str, c: &fancy_regex::Captures) -> Caps<'t> {
        Caps {
            text,
            spans: (0..c.len())
                .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                .collect(),
        }
    }
}
