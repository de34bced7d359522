//! [`PyRegex`], a compiled Python `re` pattern: `re.search`, `re.findall`, `re.sub` and
//! `re.split` on the fancy-regex translation, or on a [`Literal`] when the pattern is one.

use std::sync::{Arc, Mutex};

use super::literal::Literal;
use super::translate::translate;
use super::{Caps, PatternError};

/// A compiled Python `re` pattern (cheap to clone: compiled patterns are shared through a
/// process-wide cache, see [`PyRegex::new`]).
#[derive(Clone)]
pub struct PyRegex {
    inner: Arc<Compiled>,
}

// (each compiled pattern is one value behind an `Arc`: the variants' sizes cost nothing)
#[allow(clippy::large_enum_variant)]
enum Compiled {
    /// The general case: the fancy-regex translation.
    Fancy {
        /// Exact translation (Python's `\b` through look-around).
        exact: fancy_regex::Regex,
        /// Same pattern with Rust's `\b` (equal to Python's on ASCII text); None when identical.
        ascii: Option<fancy_regex::Regex>,
        groups: usize,
    },
    /// A literal pattern with optional word boundaries, matched without look-around.
    Literal(Literal),
}

fn build_fancy(src: &str, pat: &str) -> Result<fancy_regex::Regex, PatternError> {
    fancy_regex::RegexBuilder::new(src)
        .backtrack_limit(5_000_000)
        .build()
        .map_err(|e| PatternError(format!("invalid pattern {pat:?}: {e}")))
}

fn compile(pat: &str, ignore_case: bool, multiline: bool) -> Result<Compiled, PatternError> {
    // translate first: it raises what `re.compile` raises, whatever the shape
    let exact_src = translate(pat, ignore_case, multiline, true)?;
    if let Some(literal) = Literal::from_pattern(pat, ignore_case) {
        return Ok(Compiled::Literal(literal));
    }
    compile_fancy(pat, &exact_src, ignore_case, multiline)
}

fn compile_fancy(
    pat: &str,
    exact_src: &str,
    ignore_case: bool,
    multiline: bool,
) -> Result<Compiled, PatternError> {
    let ascii_src = translate(pat, ignore_case, multiline, false)?;
    let exact = build_fancy(exact_src, pat)?;
    let ascii = if ascii_src != exact_src {
        Some(build_fancy(&ascii_src, pat)?)
    } else {
        None
    };
    let groups = exact.captures_len().saturating_sub(1);
    Ok(Compiled::Fancy {
        exact,
        ascii,
        groups,
    })
}

/// Compiled patterns by (pattern, IGNORECASE, MULTILINE): checkers are built per instruction,
/// and the same keyword or marker recurs across prompts. Entries are immutable compiled
/// patterns, so sharing one changes nothing; the cache is cleared when it grows large (a
/// long-running reward server sees an unbounded stream of kwargs).
type Cache = std::collections::HashMap<(String, bool, bool), Arc<Compiled>>;
static CACHE: std::sync::LazyLock<Mutex<Cache>> = std::sync::LazyLock::new(Default::default);
const CACHE_MAX: usize = 4096;

impl PyRegex {
    /// Compile `pat` as `re.compile(pat, flags)` would.
    pub fn new(pat: &str, ignore_case: bool, multiline: bool) -> Result<Self, PatternError> {
        let key = (pat.to_string(), ignore_case, multiline);
        if let Some(c) = CACHE.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(PyRegex { inner: c });
        }
        let inner = Arc::new(compile(pat, ignore_case, multiline)?);
        if let Ok(mut m) = CACHE.lock() {
            if m.len() >= CACHE_MAX {
                m.clear();
            }
            m.insert(key, inner.clone());
        }
        Ok(PyRegex { inner })
    }

    /// Always the general fancy-regex translation (the reference the fast paths are tested
    /// against).
    #[cfg(test)]
    pub(super) fn new_fancy(
        pat: &str,
        ignore_case: bool,
        multiline: bool,
    ) -> Result<Self, PatternError> {
        let exact_src = translate(pat, ignore_case, multiline, true)?;
        Ok(PyRegex {
            inner: Arc::new(compile_fancy(pat, &exact_src, ignore_case, multiline)?),
        })
    }

    /// Whether the pattern took the literal path (for the tests).
    #[cfg(test)]
    pub(super) fn is_literal(&self) -> bool {
        matches!(&*self.inner, Compiled::Literal(_))
    }

    fn re_for<'a>(
        exact: &'a fancy_regex::Regex,
        ascii: &'a Option<fancy_regex::Regex>,
        text: &str,
    ) -> &'a fancy_regex::Regex {
        match ascii {
            Some(a) if text.is_ascii() => a,
            _ => exact,
        }
    }

    fn groups(&self) -> usize {
        match &*self.inner {
            Compiled::Fancy { groups, .. } => *groups,
            Compiled::Literal(l) => l.groups.len(),
        }
    }

    /// `re.search(...) is not None`.
    pub fn search(&self, text: &str) -> Result<bool, PatternError> {
        match &*self.inner {
            Compiled::Fancy { exact, ascii, .. } => Self::re_for(exact, ascii, text)
                .is_match(text)
                .map_err(|e| PatternError(format!("regex failed: {e}"))),
            Compiled::Literal(l) => Ok(l.find_from(text, 0, &mut Vec::new()).is_some()),
        }
    }

    /// The first match's byte span.
    pub fn find(&self, text: &str) -> Result<Option<(usize, usize)>, PatternError> {
        match &*self.inner {
            Compiled::Fancy { exact, ascii, .. } => Self::re_for(exact, ascii, text)
                .find(text)
                .map(|m| m.map(|m| (m.start(), m.end())))
                .map_err(|e| PatternError(format!("regex failed: {e}"))),
            Compiled::Literal(l) => Ok(l.find_from(text, 0, &mut Vec::new())),
        }
    }

    /// Byte spans of `re.findall` / `re.finditer` matches.
    /// Python 3.7+ rules for empty matches: an empty match may follow a non-empty one at the
    /// same position; after an empty match the search must advance.
    pub fn find_all(&self, text: &str) -> Result<Vec<(usize, usize)>, PatternError> {
        let re = match &*self.inner {
            Compiled::Fancy { exact, ascii, .. } => Self::re_for(exact, ascii, text),
            Compiled::Literal(l) => {
                // matches are never empty: resume at the end of each
                let mut v = Vec::new();
                let mut pos = 0;
                let mut ends = Vec::new();
                while let Some((s, e)) = l.find_from(text, pos, &mut ends) {
                    v.push((s, e));
                    pos = e;
                }
                return Ok(v);
            }
        };
        let mut v = Vec::new();
        let mut pos = 0;
        let mut must_advance = false;
        while pos <= text.len() {
            let m = re
                .find_from_pos(text, pos)
                .map_err(|e| PatternError(format!("regex failed: {e}")))?;
            let Some(m) = m else { break };
            let (s, e) = (m.start(), m.end());
            if must_advance && s == pos && e == pos {
                match text[pos..].chars().next() {
                    Some(c) => {
                        pos += c.len_utf8();
                        must_advance = false;
                        continue;
                    }
                    None => break,
                }
            }
            v.push((s, e));
            must_advance = s == e;
            pos = e;
        }
        Ok(v)
    }

    /// `len(re.split(pattern, text))` (captured groups are included by `re.split`).
    pub fn split_count(&self, text: &str) -> Result<usize, PatternError> {
        let n = self.find_all(text)?.len();
        Ok(n * (1 + self.groups()) + 1)
    }

    /// `re.sub(pattern, f, text)` with a replacement function.
    pub fn replace_all(&self, text: &str, f: impl Fn(&Caps) -> String) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        match &*self.inner {
            Compiled::Fancy { exact, ascii, .. } => {
                let re = Self::re_for(exact, ascii, text);
                for c in re.captures_iter(text) {
                    let Ok(c) = c else { break };
                    let Some(m) = c.get(0) else { continue };
                    out.push_str(&text[last..m.start()]);
                    out.push_str(&f(&Caps::from_fancy(text, &c)));
                    last = m.end();
                }
            }
            Compiled::Literal(l) => {
                let mut ends = Vec::new();
                while let Some((s, e)) = l.find_from(text, last, &mut ends) {
                    out.push_str(&text[last..s]);
                    out.push_str(&f(&l.caps(text, s, &ends)));
                    last = e;
                }
            }
        }
        out.push_str(&text[last..]);
        out
    }

    /// `re.split(pattern, text)` for patterns without groups.
    pub fn split<'a>(&self, text: &'a str) -> Result<Vec<&'a str>, PatternError> {
        let mut out = Vec::new();
        let mut last = 0;
        for (a, b) in self.find_all(text)? {
            out.push(&text[last..a]);
            last = b;
        }
        out.push(&text[last..]);
        Ok(out)
    }
}

/// A static Python pattern (compiled once; the pattern is ours, so failure is a bug).
#[macro_export]
macro_rules! py_re {
    ($pat:expr) => {
        $crate::py_re!($pat, false, false)
    };
    ($pat:expr, $ic:expr, $ml:expr) => {{
        static RE: std::sync::LazyLock<$crate::py::PyRegex> = std::sync::LazyLock::new(|| {
            $crate::py::PyRegex::new($pat, $ic, $ml).expect("static pattern")
        });
        &*RE
    }};
}
