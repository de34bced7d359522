//! Hand-written equivalents of the fixed `re` patterns of the IFEval checkers, with the same
//! leftmost, non-overlapping matches as `re.finditer` (and [`crate::py::PyRegex`]): compiling
//! those patterns cost more than running them. Each function names its pattern; the tests
//! compare every one of them with the pattern on random texts of the characters involved.
//!
//! `\s` is Python's ([`py::is_space`]) and `\d` Unicode Nd ([`py::is_nd`]), as in
//! [`crate::py::translate`].

use crate::py;

/// The end of the maximal run of Python whitespace at `i`.
fn skip_space(t: &str, i: usize) -> usize {
    i + (t[i..].len() - t[i..].trim_start_matches(py::is_space).len())
}

/// The end of the line at or after `i` (the next '\n', or the end).
fn line_end(t: &str, i: usize) -> usize {
    memchr::memchr(b'\n', &t.as_bytes()[i..]).map_or(t.len(), |k| i + k)
}

/// The line starts at or after `i` (`^` with MULTILINE: 0 and after every '\n').
fn line_starts(t: &str, i: usize) -> impl Iterator<Item = usize> + '_ {
    let first = (i == 0).then_some(0);
    let rest = memchr::memchr_iter(b'\n', &t.as_bytes()[i.saturating_sub(1)..])
        .map(move |k| i.saturating_sub(1) + k + 1)
        .filter(move |&p| p >= i && p > 0);
    first.into_iter().chain(rest)
}

/// `\*[^\n\*]*\*` (the greedy run stops at the first '\n' or '*'; only a '*' ends a match).
pub fn starred(t: &str) -> Vec<(usize, usize)> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(k) = memchr::memchr(b'*', &b[pos..]) {
        let s = pos + k;
        let r = s
            + 1
            + b[s + 1..]
                .iter()
                .take_while(|&&c| c != b'\n' && c != b'*')
                .count();
        if b.get(r) == Some(&b'*') {
            out.push((s, r + 1));
            pos = r + 1;
        } else {
            pos = s + 1;
        }
    }
    out
}

/// `\*\*[^\n\*]*\*\*` (the run cannot contain '*', so it must be followed by "**").
pub fn double_starred(t: &str) -> Vec<(usize, usize)> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(k) = memchr::memmem::find(&b[pos..], b"**") {
        let s = pos + k;
        let r = s
            + 2
            + b[s + 2..]
                .iter()
                .take_while(|&&c| c != b'\n' && c != b'*')
                .count();
        if b[r..].starts_with(b"**") {
            out.push((s, r + 2));
            pos = r + 2;
        } else {
            pos = s + 1;
        }
    }
    out
}

/// How many matches `^\s*\*[^\*].*$` (MULTILINE) has: at a line start, the whole run of
/// whitespace (a shorter one would leave a space where '*' must be), '*', one char that is not
/// '*' (a newline too), then the rest of that char's line.
pub fn star_bullets(t: &str) -> usize {
    let mut n = 0;
    let mut pos = 0;
    while let Some(p) = line_starts(t, pos).find(|&p| {
        let q = skip_space(t, p);
        t[q..].starts_with('*') && t[q + 1..].chars().next().is_some_and(|c| c != '*')
    }) {
        let q = skip_space(t, p);
        let c = t[q + 1..].chars().next().map_or(0, char::len_utf8);
        pos = line_end(t, q + 1 + c);
        n += 1;
        if pos >= t.len() {
            break;
        }
    }
    n
}

/// How many matches `^\s*-.*$` (MULTILINE) has.
pub fn dash_bullets(t: &str) -> usize {
    let mut n = 0;
    let mut pos = 0;
    while let Some(p) = line_starts(t, pos).find(|&p| t[skip_space(t, p)..].starts_with('-')) {
        pos = line_end(t, skip_space(t, p) + 1);
        n += 1;
        if pos >= t.len() {
            break;
        }
    }
    n
}

/// `<<[^\n]+>>`: the greedy run goes to the end of the line and gives back chars until it is
/// followed by ">>", i.e. the match ends at the last ">>" of the line that leaves the run a
/// char or more.
pub fn titles(t: &str) -> Vec<(usize, usize)> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(k) = memchr::memmem::find(&b[pos..], b"<<") {
        let s = pos + k;
        let r = line_end(t, s + 2);
        match b
            .get(s + 3..r)
            .and_then(|w| memchr::memmem::rfind(w, b">>"))
        {
            Some(j) => {
                let e = s + 3 + j + 2;
                out.push((s, e));
                pos = e;
            }
            None => pos = s + 1,
        }
    }
    out
}

/// How many matches `\[.*?\]` has: a '[' and the first ']' after it on its line.
pub fn placeholders(t: &str) -> usize {
    let b = t.as_bytes();
    let mut n = 0;
    let mut pos = 0;
    while let Some(k) = memchr::memchr(b'[', &b[pos..]) {
        let s = pos + k;
        match b[s + 1..].iter().position(|&c| c == b']' || c == b'\n') {
            Some(j) if b[s + 1 + j] == b']' => {
                n += 1;
                pos = s + 2 + j;
            }
            _ => pos = s + 1,
        }
    }
    n
}

/// `re.split(r"\s?\*\*\*\s?", t)`: every match has a "***"; the first "***" at or after the
/// resume point starts the leftmost match, with the whitespace char just before it when there
/// is one after the resume point (a start there takes it: "***" cannot start with a space),
/// and takes one whitespace char after it.
pub fn split_dividers(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut last = 0;
    while let Some(k) = memchr::memmem::find(&t.as_bytes()[last..], b"***") {
        let star = last + k;
        let start = match t[last..star].chars().next_back() {
            Some(w) if py::is_space(w) => star - w.len_utf8(),
            _ => star,
        };
        let mut e = star + 3;
        if let Some(w) = t[e..].chars().next().filter(|&w| py::is_space(w)) {
            e += w.len_utf8();
        }
        out.push(&t[last..start]);
        last = e;
    }
    out.push(&t[last..]);
    out
}

/// Whether `s` is a plain literal for `re`: no char with a special meaning.
pub fn is_plain_literal(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| r"\.^$*+?{}[]|()".contains(c))
}

/// How many matches `\s?SP\s?\d+\s?` has, for a plain literal `sp` (non-empty, no special char)
/// with no whitespace at its ends. Whether a match includes the whitespace char before SP
/// changes only where it starts, not whether it matches or where it ends: a match is an
/// occurrence of SP followed by (an optional whitespace char and) digits, so the scan goes
/// from each occurrence to the next (occurrences may overlap), resuming after each match.
pub fn sections(t: &str, sp: &str) -> usize {
    let finder = memchr::memmem::Finder::new(sp.as_bytes());
    let mut n = 0;
    let mut pos = 0;
    while let Some(k) = t.as_bytes().get(pos..).and_then(|b| finder.find(b)) {
        let q = pos + k;
        // (SP is valid UTF-8, so it starts and ends at char boundaries)
        let mut p = q + sp.len();
        if let Some(w) = t[p..].chars().next().filter(|&w| py::is_space(w)) {
            p += w.len_utf8();
        }
        let digits = t[p..].len() - t[p..].trim_start_matches(py::is_nd).len();
        if digits == 0 {
            pos = q + 1;
            continue;
        }
        let mut e = p + digits;
        if let Some(w) = t[e..].chars().next().filter(|&w| py::is_space(w)) {
            e += w.len_utf8();
        }
        n += 1;
        pos = e;
    }
    n
}

/// One item of a postscript marker pattern.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Mark {
    Char(char),
    /// `\s?` (never followed by a whitespace char in our patterns: taking it is the only choice)
    OptSpace,
}

/// Where `\s*MARK.*$` (MULTILINE) first matches in `t`: the `.*$` always matches, and the
/// greedy `\s*` takes the whole run of whitespace before the first place the marker matches
/// (which starts with a non-space char), so the match starts where that run starts.
pub fn postscript(t: &str, mark: &[Mark]) -> Option<usize> {
    let first = match mark.first() {
        Some(Mark::Char(c)) if !py::is_space(*c) => *c,
        _ => return None,
    };
    let matches_at = |q: usize| {
        let mut p = q;
        for m in mark {
            match *m {
                Mark::Char(c) => {
                    if !t[p..].starts_with(c) {
                        return false;
                    }
                    p += c.len_utf8();
                }
                Mark::OptSpace => {
                    if let Some(w) = t[p..].chars().next().filter(|&w| py::is_space(w)) {
                        p += w.len_utf8();
                    }
                }
            }
        }
        true
    };
    let q = if first.is_ascii() {
        // (a byte search: an ASCII byte is never part of another char's UTF-8)
        memchr::memchr_iter(first as u8, t.as_bytes()).find(|&q| matches_at(q))?
    } else {
        t.match_indices(first)
            .map(|(q, _)| q)
            .find(|&q| matches_at(q))?
    };
    Some(t[..q].trim_end_matches(py::is_space).len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::py::PyRegex;

    fn texts(alphabet: &str, n: usize, len: usize) -> Vec<String> {
        let a: Vec<char> = alphabet.chars().collect();
        crate::py::tests::random_texts(&a, n, len)
    }

    #[test]
    fn star_patterns() {
        let ts = texts("**a \n-\t\u{a0}*b[]<>x\u{1c}", 30_000, 14);
        let s1 = PyRegex::new(r"\*[^\n\*]*\*", false, false).unwrap();
        let s2 = PyRegex::new(r"\*\*[^\n\*]*\*\*", false, false).unwrap();
        let b1 = PyRegex::new(r"^\s*\*[^\*].*$", false, true).unwrap();
        let b2 = PyRegex::new(r"^\s*-.*$", false, true).unwrap();
        let d = PyRegex::new(r"\s?\*\*\*\s?", false, false).unwrap();
        for t in &ts {
            assert_eq!(starred(t), s1.find_all(t).unwrap(), "{t:?}");
            assert_eq!(double_starred(t), s2.find_all(t).unwrap(), "{t:?}");
            assert_eq!(star_bullets(t), b1.find_all(t).unwrap().len(), "{t:?}");
            assert_eq!(dash_bullets(t), b2.find_all(t).unwrap().len(), "{t:?}");
            assert_eq!(split_dividers(t), d.split(t).unwrap(), "{t:?}");
        }
    }

    #[test]
    fn bracket_patterns() {
        let ts = texts("<<>>[] a\nb<>é", 30_000, 14);
        let ti = PyRegex::new(r"<<[^\n]+>>", false, false).unwrap();
        let ph = PyRegex::new(r"\[.*?\]", false, false).unwrap();
        for t in &ts {
            assert_eq!(titles(t), ti.find_all(t).unwrap(), "{t:?}");
            assert_eq!(placeholders(t), ph.find_all(t).unwrap().len(), "{t:?}");
        }
    }

    #[test]
    fn section_pattern() {
        let ts = texts("SECTION 1 2٣\n\tSSECXé\u{a0}", 30_000, 16);
        for sp in ["SECTION", "S", "SS", "SEC X", "X", "é"] {
            let re = PyRegex::new(&format!(r"\s?{sp}\s?\d+\s?"), false, false).unwrap();
            for t in &ts {
                assert_eq!(
                    sections(t, sp),
                    re.find_all(t).unwrap().len(),
                    "{sp:?} {t:?}"
                );
            }
        }
    }

    #[test]
    fn postscript_patterns() {
        let ts = texts("p.s. \n\tp.p.s\u{a0}note:x", 30_000, 14);
        let cases: [(&str, Vec<Mark>); 3] = [
            (
                r"\s*p\.\s?p\.\s?s.*$",
                vec![
                    Mark::Char('p'),
                    Mark::Char('.'),
                    Mark::OptSpace,
                    Mark::Char('p'),
                    Mark::Char('.'),
                    Mark::OptSpace,
                    Mark::Char('s'),
                ],
            ),
            (
                r"\s*p\.\s?s\..*$",
                vec![
                    Mark::Char('p'),
                    Mark::Char('.'),
                    Mark::OptSpace,
                    Mark::Char('s'),
                    Mark::Char('.'),
                ],
            ),
            (r"\s*note:.*$", "note:".chars().map(Mark::Char).collect()),
        ];
        for (pat, mark) in &cases {
            let re = PyRegex::new(pat, false, true).unwrap();
            for t in &ts {
                let want = re.find(t).unwrap().map(|(a, _)| a);
                assert_eq!(postscript(t, mark), want, "{pat} {t:?}");
            }
        }
    }
}
