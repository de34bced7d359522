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

use std::fmt;
use std::sync::{Arc, Mutex};

/// `string.punctuation`.
pub const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// `string.punctuation + ' '`, the strip set the IFBench code uses everywhere.
pub const PUNCT_SPACE: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ";

/// Python's `str.isspace()` for one character.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `s.split()` (no argument): runs of Python whitespace, no empty pieces.
pub fn split_ws(s: &str) -> Vec<&str> {
    /// Not `isspace()`, for each ASCII char: all but `\t\n\x0b\x0c\r`, `\x1c`-`\x1f` and
    /// the space.
    const NOT_SPACE: [bool; 128] = {
        let mut t = [false; 128];
        let mut c = 0;
        while c < 128 {
            t[c] = !matches!(c, 9..=13 | 28..=32);
            c += 1;
        }
        t
    };
    runs(s, &NOT_SPACE, |c| !is_space(c))
}

/// The maximal runs of chars of `s` that are in a class: `ascii` says it for each ASCII char,
/// `other` for the rest. ASCII bytes are read through the table; a char is decoded only where
/// one starts above ASCII.
pub(crate) fn runs<'a>(
    s: &'a str,
    ascii: &[bool; 128],
    other: impl Fn(char) -> bool,
) -> Vec<&'a str> {
    let b = s.as_bytes();
    // (room for a word every 8 bytes: English averages one every 5 or 6, so the list grows
    // once or twice rather than ten times)
    let mut out = Vec::with_capacity(b.len() / 8 + 1);
    let mut start = None;
    if b.is_ascii() {
        // no char to decode: the table alone
        for (i, &c) in b.iter().enumerate() {
            match (ascii[c as usize], start) {
                (true, None) => start = Some(i),
                (false, Some(a)) => {
                    out.push(&s[a..i]);
                    start = None;
                }
                _ => {}
            }
        }
    } else {
        let mut i = 0;
        while i < b.len() {
            let (inside, n) = if b[i] < 0x80 {
                (ascii[b[i] as usize], 1)
            } else {
                let c = s[i..].chars().next().unwrap_or(' ');
                (other(c), c.len_utf8())
            };
            match (inside, start) {
                (true, None) => start = Some(i),
                (false, Some(a)) => {
                    out.push(&s[a..i]);
                    start = None;
                }
                _ => {}
            }
            i += n;
        }
    }
    if let Some(a) = start {
        out.push(&s[a..]);
    }
    out
}

/// A fast hash for the sets and maps of one check (a response's words, its sentences): std's
/// SipHash guards a long-lived map against chosen keys, which such a map does not need, and
/// costs several times more. rustc's Fx step, over 8 bytes at a time.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHash(u64);

impl std::hash::Hasher for FastHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        self.0 = h;
    }
}

/// A set or map of one check, hashed with [`FastHash`].
pub(crate) type FastBuild = std::hash::BuildHasherDefault<FastHash>;

/// `s.strip()`.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// `s.lstrip()`.
pub fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// `s.rstrip()`.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// Membership in a set of characters given as a string: a 128-bit mask when the set is ASCII
/// (every set the checkers strip with), else the string's own search.
#[derive(Clone, Copy)]
pub struct CharSet<'a> {
    ascii: Option<u128>,
    chars: &'a str,
}

impl<'a> CharSet<'a> {
    pub fn new(chars: &'a str) -> Self {
        let ascii = chars
            .is_ascii()
            .then(|| chars.bytes().fold(0u128, |m, b| m | (1u128 << b)));
        CharSet { ascii, chars }
    }

    #[inline]
    pub fn contains(&self, c: char) -> bool {
        match self.ascii {
            Some(m) => (c as u32) < 128 && m & (1u128 << (c as u32)) != 0,
            None => self.chars.contains(c),
        }
    }
}

/// `s.strip(chars)`.
pub fn strip_chars<'a>(s: &'a str, chars: &str) -> &'a str {
    let set = CharSet::new(chars);
    s.trim_matches(|c| set.contains(c))
}

/// `s.lstrip(chars)`.
pub fn lstrip_chars<'a>(s: &'a str, chars: &str) -> &'a str {
    let set = CharSet::new(chars);
    s.trim_start_matches(|c| set.contains(c))
}

/// `s.rstrip(chars)`.
pub fn rstrip_chars<'a>(s: &'a str, chars: &str) -> &'a str {
    let set = CharSet::new(chars);
    s.trim_end_matches(|c| set.contains(c))
}

/// `s.lower()`.
pub fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// `s.translate(str.maketrans('', '', string.punctuation))`.
pub fn remove_punct(s: &str) -> String {
    // The punctuation is ASCII, and an ASCII byte is never part of another character's
    // UTF-8 encoding: keep the other bytes.
    const PUNCT: [bool; 256] = {
        let b = PUNCTUATION.as_bytes();
        let mut t = [false; 256];
        let mut i = 0;
        while i < b.len() {
            t[b[i] as usize] = true;
            i += 1;
        }
        t
    };
    // the runs between punctuation bytes are copied whole (each ends and starts at a char
    // boundary: the punctuation is ASCII)
    let mut kept = String::with_capacity(s.len());
    let mut run = 0;
    for (i, &c) in s.as_bytes().iter().enumerate() {
        if PUNCT[c as usize] {
            kept.push_str(&s[run..i]);
            run = i + 1;
        }
    }
    kept.push_str(&s[run..]);
    kept
}

/// Python `len(s)`: code points.
pub fn len(s: &str) -> usize {
    s.chars().count()
}

fn is_title_char(c: char) -> bool {
    matches!(c as u32,
        0x01C5 | 0x01C8 | 0x01CB | 0x01F2 | 0x1F88..=0x1F8F | 0x1F98..=0x1F9F | 0x1FA8..=0x1FAF
        | 0x1FBC | 0x1FCC | 0x1FFC)
}

/// `c.isupper()` for a one-character string.
pub fn char_is_upper(c: char) -> bool {
    c.is_uppercase() && !c.is_lowercase() && !is_title_char(c)
}

/// `c.islower()` for a one-character string.
pub fn char_is_lower(c: char) -> bool {
    c.is_lowercase() && !c.is_uppercase() && !is_title_char(c)
}

/// `s.isupper()`: at least one cased character and no lowercase or titlecase one.
pub fn is_upper(s: &str) -> bool {
    if s.is_ascii() {
        let b = s.as_bytes();
        return !b.iter().any(u8::is_ascii_lowercase) && b.iter().any(u8::is_ascii_uppercase);
    }
    is_upper_chars(s)
}

/// [`is_upper`] char by char (any text; the ASCII case is its shortcut).
fn is_upper_chars(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_title_char(c) {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        }
    }
    cased
}

/// `s.islower()`.
pub fn is_lower(s: &str) -> bool {
    if s.is_ascii() {
        let b = s.as_bytes();
        return !b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase);
    }
    is_lower_chars(s)
}

/// [`is_lower`] char by char (any text; the ASCII case is its shortcut).
fn is_lower_chars(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() || is_title_char(c) {
            return false;
        }
        if c.is_lowercase() {
            cased = true;
        }
    }
    cased
}

fn is_decimal(c: char) -> bool {
    // \p{Nd}
    is_nd(c)
}

/// `c.isdigit()`: decimal digits plus the Numeric_Type=Digit characters (superscripts,
/// circled digits, ...).
pub fn char_is_digit(c: char) -> bool {
    is_decimal(c)
        || matches!(c as u32,
            0xB2 | 0xB3 | 0xB9 | 0x1369..=0x1371 | 0x19DA | 0x2070 | 0x2074..=0x2079
            | 0x2080..=0x2089 | 0x2460..=0x2468 | 0x2474..=0x247C | 0x2488..=0x2490
            | 0x24EA | 0x24F5..=0x24FD | 0x24FF | 0x2776..=0x277E | 0x2780..=0x2788
            | 0x278A..=0x2792 | 0x10A40..=0x10A43 | 0x10E60..=0x10E68 | 0x11052..=0x1105A
            | 0x1F100..=0x1F10A)
}

/// `s.isdigit()`.
pub fn is_digit(s: &str) -> bool {
    !s.is_empty() && s.chars().all(char_is_digit)
}

/// `s.isalpha()` for one char (letters: categories L*).
pub fn char_is_alpha(c: char) -> bool {
    static L: std::sync::LazyLock<Vec<(char, char)>> =
        std::sync::LazyLock::new(|| class_ranges(r"\p{L}"));
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_ranges(&L, c)
}

/// Char-index slicing `s[a:b]` with Python's clamping (non-negative bounds only).
pub fn slice_chars(s: &str, start: usize, end: usize) -> &str {
    let mut it = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()));
    let mut a = None;
    let mut b = s.len();
    for (n, idx) in (&mut it).enumerate() {
        if n == start {
            a = Some(idx);
        }
        if n == end {
            b = idx;
            break;
        }
    }
    match a {
        Some(a) if a <= b => &s[a..b],
        _ => "",
    }
}

/// The character at code-point index `i` (`s[i]`), or `None`.
pub fn char_at(s: &str, i: usize) -> Option<char> {
    s.chars().nth(i)
}

/// `\d` of the `regex` crate (Unicode Nd), which is also what NLTK's `regex` module and
/// [`translate`]'s `\d` (Python's `\d` on str) match.
pub(crate) fn is_nd(c: char) -> bool {
    static D: std::sync::LazyLock<Vec<(char, char)>> =
        std::sync::LazyLock::new(|| class_ranges(r"\d"));
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    in_ranges(&D, c)
}

/// The code point ranges of a `regex` class pattern, from the `regex-syntax` tables the `regex`
/// crate compiles it from (our own constant patterns: a failure gives an empty class, which the
/// tests would catch).
pub(crate) fn class_ranges(class: &str) -> Vec<(char, char)> {
    use regex_syntax::hir::{Class, HirKind};
    match regex_syntax::parse(class).map(|h| h.into_kind()) {
        Ok(HirKind::Class(Class::Unicode(c))) => c.iter().map(|r| (r.start(), r.end())).collect(),
        _ => Vec::new(),
    }
}

/// Whether `c` is in sorted, disjoint `ranges`.
pub(crate) fn in_ranges(ranges: &[(char, char)], c: char) -> bool {
    let i = ranges.partition_point(|&(_, e)| e < c);
    ranges.get(i).is_some_and(|&(s, _)| s <= c)
}

/// Byte spans of `re.findall(r"\d+", text)`: the maximal runs of `\d` (Unicode Nd), which is
/// what the greedy, leftmost `\d+` finds.
pub fn digit_runs(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (is_nd(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// Python's `\w` as [`translate`] has it (`[\p{L}\p{N}_]`, not case-folded).
pub(crate) fn is_py_word(c: char) -> bool {
    exact_word(c)
}

/// Rewrite `t` left to right, as `re.sub` does: at each candidate start `next(pos)` gives (the
/// first position at or after `pos` where a match could start; it must not pass over any
/// position where one does; None when there is none), `m(t, i)` gives the byte length of a
/// match starting there and its replacement, or None; after a match the scan resumes at its
/// end (matches are never empty). None when nothing matched.
pub(crate) fn rewrite_at(
    t: &str,
    mut next: impl FnMut(usize) -> Option<usize>,
    m: impl Fn(&str, usize) -> Option<(usize, String)>,
) -> Option<String> {
    let mut out = String::new();
    let mut last = 0;
    let mut pos = 0;
    while let Some(i) = next(pos) {
        if i >= t.len() {
            break;
        }
        if let Some((n, rep)) = m(t, i) {
            if out.is_empty() {
                out.reserve(t.len() + 16);
            }
            out.push_str(&t[last..i]);
            out.push_str(&rep);
            pos = i + n;
            last = pos;
        } else {
            pos = i + t[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    (last > 0).then(|| {
        out.push_str(&t[last..]);
        out
    })
}

/// Candidate starts for [`rewrite_at`] when every match starts with one of the bytes `a`, `b`,
/// `c` (ASCII chars or UTF-8 lead bytes, so always at char boundaries).
pub(crate) fn byte_starts(t: &str, a: u8, b: u8, c: u8) -> impl FnMut(usize) -> Option<usize> + '_ {
    move |pos| Some(pos + memchr::memchr3(a, b, c, t.as_bytes().get(pos..)?)?)
}

/// Candidate starts for [`rewrite_at`] when every match is a char followed by one of the ASCII
/// bytes `a`, `b`, `c`: the start of the char before each such byte (in increasing order, as
/// the bytes are).
pub(crate) fn char_before_bytes(
    t: &str,
    a: u8,
    b: u8,
    c: u8,
) -> impl FnMut(usize) -> Option<usize> + '_ {
    move |pos| {
        let bytes = t.as_bytes();
        let mut from = pos + 1;
        loop {
            let p = from + memchr::memchr3(a, b, c, bytes.get(from..)?)?;
            from = p + 1;
            // (an ASCII byte is a char boundary)
            let Some(ch) = t[..p].chars().next_back() else {
                continue;
            };
            let i = p - ch.len_utf8();
            if i >= pos {
                return Some(i);
            }
        }
    }
}

/// Candidate starts for [`rewrite_at`] when every match has the byte `anchor` at `offset`
/// bytes from its start (the candidates are the anchors' positions minus `offset`, at char
/// boundaries).
pub(crate) fn anchored(
    t: &str,
    anchor: u8,
    offset: usize,
) -> impl FnMut(usize) -> Option<usize> + '_ {
    move |pos| {
        let b = t.as_bytes();
        let mut from = pos + offset;
        loop {
            let p = from + memchr::memchr(anchor, b.get(from..)?)?;
            let i = p - offset;
            if t.is_char_boundary(i) {
                return Some(i);
            }
            from = p + 1;
        }
    }
}

// ------------------------------------------------------------------------------------------
// Regular expressions with Python `re` semantics.

/// Error compiling a Python pattern (the official code would raise `re.error`).
#[derive(Debug, Clone)]
pub struct PatternError(pub String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for PatternError {}

const W: &str = r"\p{L}\p{N}_";
const S: &str = r"\s\x{1c}-\x{1f}";

#[derive(Clone, Copy, PartialEq)]
enum Last {
    Nothing,
    Assert,
    Atom,
    Repeat,
    RepeatDone,
}

/// Translate a Python `re` pattern (with the given flags) into fancy-regex syntax, raising what
/// `re.compile` raises ("nothing to repeat", "multiple repeat", "global flags not at the start
/// of the expression", bad escapes, unterminated sets).
/// `exact_b` chooses an exact `\b` (Python's word definition, via look-around) instead of the
/// Rust one (identical on ASCII text).
pub fn translate(
    pat: &str,
    ignore_case: bool,
    multiline: bool,
    exact_b: bool,
) -> Result<String, PatternError> {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::new();
    if ignore_case || multiline {
        out.push_str("(?");
        if ignore_case {
            out.push('i');
        }
        if multiline {
            out.push('m');
        }
        out.push(')');
    }
    let mut i = 0;
    let mut in_class = false;
    let mut class_start = 0usize;
    let mut ml = multiline;
    // Python's IGNORECASE also equates i, I, dotless ı and dotted İ (sre's case equivalences and
    // simple lowercase); Rust's case folding does not.
    let ic = ignore_case || pat.contains("(?i");
    let is_i = |c: char| matches!(c, 'i' | 'I' | 'ı' | 'İ');
    let err = |m: &str, at: usize| Err(PatternError(format!("{m} at position {at}")));
    // re.ASCII given as a leading global flag group, e.g. (?a)
    let ascii = {
        let mut j = 0;
        let mut found = false;
        while chars.get(j) == Some(&'(') && chars.get(j + 1) == Some(&'?') {
            let mut k = j + 2;
            let mut f = String::new();
            while k < chars.len() && chars[k].is_ascii_alphabetic() {
                f.push(chars[k]);
                k += 1;
            }
            if f.is_empty() || chars.get(k) != Some(&')') {
                break;
            }
            found |= f.contains('a');
            j = k + 1;
        }
        found
    };
    let mut last = Last::Nothing;
    // only global flag groups seen so far (they must all come first)
    let mut only_flags_so_far = true;
    while i < chars.len() {
        let c = chars[i];
        if in_class {
            if ic && is_i(c) {
                out.push_str("iIıİ");
                i += 1;
                continue;
            }
            // a literal range covering i/I: add the Turkish i's
            if ic
                && c != '\\'
                && chars.get(i + 1) == Some(&'-')
                && chars.get(i + 2).is_some_and(|&d| d != ']' && d != '\\')
            {
                let d = chars[i + 2];
                if (c <= 'i' && 'i' <= d) || (c <= 'I' && 'I' <= d) {
                    out.push(c);
                    out.push('-');
                    out.push(d);
                    out.push_str("ıİ");
                    i += 3;
                    continue;
                }
            }
            match c {
                '\\' => {
                    let (s, n) = escape(&chars, i, true, exact_b, ascii)?;
                    out.push_str(&s);
                    i += n;
                    continue;
                }
                ']' if i > class_start => {
                    in_class = false;
                    out.push(']');
                    last = Last::Atom;
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                '-' if chars.get(i + 1) == Some(&'-') => out.push_str("\\-"),
                _ => out.push(c),
            }
            i += 1;
            continue;
        }
        let is_flag_group = c == '(' && chars.get(i + 1) == Some(&'?') && {
            let mut j = i + 2;
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                j += 1;
            }
            j > i + 2 && chars.get(j) == Some(&')')
        };
        let is_comment =
            c == '(' && chars.get(i + 1) == Some(&'?') && chars.get(i + 2) == Some(&'#');
        if !(is_flag_group || is_comment) {
            only_flags_so_far = false;
        }
        // quantifiers
        let quant_len = if matches!(c, '*' | '+' | '?') {
            Some(1)
        } else if c == '{' {
            let rest: String = chars[i..].iter().take(40).collect();
            static Q: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                regex::Regex::new(r"^\{([0-9]*)(,([0-9]*))?\}").expect("static regex")
            });
            Q.captures(&rest).and_then(|m| {
                let a = m.get(1).map(|x| x.as_str()).unwrap_or("");
                let has_comma = m.get(2).is_some();
                (has_comma || !a.is_empty())
                    .then(|| m.get(0).map(|x| x.as_str().chars().count()).unwrap_or(1))
            })
        } else {
            None
        };
        if let Some(len) = quant_len {
            match last {
                Last::Nothing | Last::Assert => return err("nothing to repeat", i),
                Last::Repeat if c == '?' || c == '+' => {
                    out.push(c);
                    last = Last::RepeatDone;
                    i += 1;
                    continue;
                }
                Last::Repeat | Last::RepeatDone => return err("multiple repeat", i),
                Last::Atom => {}
            }
            if c == '{' {
                let q: String = chars[i + 1..i + len - 1].iter().collect();
                let (a, b) = match q.split_once(',') {
                    Some((a, b)) => (a.to_string(), Some(b.to_string())),
                    None => (q.clone(), None),
                };
                out.push('{');
                out.push_str(if a.is_empty() { "0" } else { &a });
                if let Some(b) = b {
                    out.push(',');
                    out.push_str(&b);
                }
                out.push('}');
            } else {
                out.push(c);
            }
            last = Last::Repeat;
            i += len;
            continue;
        }
        if ic && is_i(c) {
            out.push_str("[iIıİ]");
            last = Last::Atom;
            i += 1;
            continue;
        }
        match c {
            '\\' => {
                let (s, n) = escape(&chars, i, false, exact_b, ascii)?;
                out.push_str(&s);
                last = if matches!(chars.get(i + 1), Some('b' | 'B' | 'A' | 'Z')) {
                    Last::Assert
                } else {
                    Last::Atom
                };
                i += n;
                continue;
            }
            '[' => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i;
                // a leading ']' is a literal in Python
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            '$' => {
                if ml {
                    out.push('$');
                } else {
                    out.push_str(r"(?:(?=\n\z)|\z)");
                }
                last = Last::Assert;
            }
            '^' => {
                out.push('^');
                last = Last::Assert;
            }
            '|' => {
                out.push('|');
                last = Last::Nothing;
            }
            ')' => {
                out.push(')');
                last = Last::Atom;
            }
            '{' => {
                out.push_str("\\{");
                last = Last::Atom;
            }
            '}' => {
                out.push_str("\\}");
                last = Last::Atom;
            }
            '(' => {
                if chars.get(i + 1) != Some(&'?') {
                    out.push('(');
                    last = Last::Nothing;
                    i += 1;
                    continue;
                }
                let rest: String = chars[i..].iter().take(200).collect();
                if rest.starts_with("(?#") {
                    // comment group
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
                if let Some(f) = ["(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>"]
                    .iter()
                    .find(|f| rest.starts_with(**f))
                {
                    out.push_str(f);
                    i += f.chars().count();
                    last = Last::Nothing;
                    continue;
                }
                if let Some(r) = rest.strip_prefix("(?P<") {
                    let name: String = r.chars().take_while(|&c| c != '>').collect();
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
                        || !r.contains('>')
                    {
                        return err("bad character in group name", i);
                    }
                    out.push_str("(?P<");
                    out.push_str(&name);
                    out.push('>');
                    i += 4 + name.chars().count() + 1;
                    last = Last::Nothing;
                    continue;
                }
                if let Some(r) = rest.strip_prefix("(?P=") {
                    let name: String = r.chars().take_while(|&c| c != ')').collect();
                    if !r.contains(')') {
                        return err("missing ), unterminated name", i);
                    }
                    out.push_str(&format!(r"\k<{name}>"));
                    i += 4 + name.chars().count() + 1;
                    last = Last::Atom;
                    continue;
                }
                // inline flags: (?aiLmsux) global, or (?aiLmsux-imsx:...) scoped
                let mut j = i + 2;
                let mut on = String::new();
                while j < chars.len() && chars[j].is_ascii_alphabetic() {
                    on.push(chars[j]);
                    j += 1;
                }
                let mut off = String::new();
                if chars.get(j) == Some(&'-') {
                    j += 1;
                    while j < chars.len() && chars[j].is_ascii_alphabetic() {
                        off.push(chars[j]);
                        j += 1;
                    }
                }
                if on
                    .chars()
                    .chain(off.chars())
                    .any(|f| !"aiLmsux".contains(f))
                {
                    return err("unknown extension or bad inline flag", i);
                }
                if on.contains('L') {
                    return err(
                        "bad inline flags: cannot use 'L' flag with a str pattern",
                        i,
                    );
                }
                let keep = |s: &str| {
                    s.chars()
                        .filter(|f| "imsx".contains(*f))
                        .collect::<String>()
                };
                match chars.get(j) {
                    Some(')') if off.is_empty() && !on.is_empty() => {
                        if !only_flags_so_far {
                            return err("global flags not at the start of the expression", i);
                        }
                        if on.contains('m') {
                            ml = true;
                        }
                        let k = keep(&on);
                        if !k.is_empty() {
                            out.push_str(&format!("(?{k})"));
                        }
                        i = j + 1;
                        continue;
                    }
                    Some(':') if !on.is_empty() || !off.is_empty() => {
                        let (k_on, k_off) = (keep(&on), keep(&off));
                        if k_off.is_empty() {
                            out.push_str(&format!("(?{k_on}:"));
                        } else {
                            out.push_str(&format!("(?{k_on}-{k_off}:"));
                        }
                        if k_on.is_empty() && k_off.is_empty() {
                            out.truncate(out.len() - 3);
                            out.push_str("(?:");
                        }
                        i = j + 1;
                        last = Last::Nothing;
                        continue;
                    }
                    _ => {
                        // (?(...) conditionals and anything else: let the engine decide
                        out.push('(');
                        i += 1;
                        last = Last::Nothing;
                        continue;
                    }
                }
            }
            _ => {
                out.push(c);
                last = Last::Atom;
            }
        }
        i += 1;
    }
    if in_class {
        return Err(PatternError(format!(
            "unterminated character set in {pat:?}"
        )));
    }
    Ok(out)
}

fn escape(
    chars: &[char],
    i: usize,
    in_class: bool,
    exact_b: bool,
    ascii: bool,
) -> Result<(String, usize), PatternError> {
    let Some(&n) = chars.get(i + 1) else {
        return Err(PatternError("bad escape (end of pattern)".into()));
    };
    if ascii {
        // re.ASCII: \w, \d, \s and \b are the ASCII classes
        const AW: &str = "0-9A-Za-z_";
        const AS: &str = r"\t\n\x0B\x0C\r ";
        let s = match (n, in_class) {
            ('w', true) => Some(AW.to_string()),
            ('w', false) => Some(format!("(?-i:[{AW}])")),
            ('W', true) => Some(format!("[^{AW}]")),
            ('W', false) => Some(format!("(?-i:[^{AW}])")),
            ('d', true) => Some("0-9".to_string()),
            ('d', false) => Some("[0-9]".to_string()),
            ('D', _) => Some("[^0-9]".to_string()),
            ('s', true) => Some(AS.to_string()),
            ('s', false) => Some(format!("[{AS}]")),
            ('S', _) => Some(format!("[^{AS}]")),
            ('b', false) => Some(format!("(?-i:(?<=[{AW}])(?![{AW}])|(?<![{AW}])(?=[{AW}]))")),
            ('B', false) => Some(format!("(?-i:(?<=[{AW}])(?=[{AW}])|(?<![{AW}])(?![{AW}]))")),
            _ => None,
        };
        if let Some(s) = s {
            return Ok((s, 2));
        }
    }
    let s = match n {
        'w' => {
            if in_class {
                W.to_string()
            } else {
                // Python does not case-fold a category: `\w` under IGNORECASE is still `\w`.
                format!("(?-i:[{W}])")
            }
        }
        'W' => format!("(?-i:[^{W}])"),
        's' => {
            if in_class {
                S.to_string()
            } else {
                format!("[{S}]")
            }
        }
        'S' => format!("[^{S}]"),
        'd' => r"\d".into(),
        'D' => r"\D".into(),
        'b' if in_class => r"\x08".into(),
        'b' => {
            if exact_b {
                format!("(?-i:(?<=[{W}])(?![{W}])|(?<![{W}])(?=[{W}]))")
            } else {
                r"\b".into()
            }
        }
        'B' => {
            if exact_b {
                format!("(?-i:(?<=[{W}])(?=[{W}])|(?<![{W}])(?![{W}]))")
            } else {
                r"\B".into()
            }
        }
        'A' => r"\A".into(),
        'Z' => r"\z".into(),
        'n' => r"\n".into(),
        't' => r"\t".into(),
        'r' => r"\r".into(),
        'f' => r"\x0C".into(),
        'v' => r"\x0B".into(),
        'a' => r"\x07".into(),
        'x' => {
            let h: String = chars.iter().skip(i + 2).take(2).collect();
            if h.len() == 2 && h.chars().all(|c| c.is_ascii_hexdigit()) {
                return Ok((format!(r"\x{{{h}}}"), 4));
            }
            return Err(PatternError("incomplete escape \\x".into()));
        }
        'u' | 'U' => {
            let k = if n == 'u' { 4 } else { 8 };
            let h: String = chars.iter().skip(i + 2).take(k).collect();
            if h.chars().count() == k && h.chars().all(|c| c.is_ascii_hexdigit()) {
                return Ok((format!(r"\x{{{h}}}"), 2 + k));
            }
            return Err(PatternError(format!("incomplete escape \\{n}")));
        }
        '0' => {
            // octal escape \0, \0o, \0oo
            let mut v = 0u32;
            let mut k = 2;
            while k < 4 && chars.get(i + k).is_some_and(|c| ('0'..='7').contains(c)) {
                v = v * 8 + chars[i + k].to_digit(8).unwrap_or(0);
                k += 1;
            }
            return Ok((format!(r"\x{{{v:x}}}"), k));
        }
        '1'..='9' if !in_class => {
            let mut k = 1;
            let mut num = String::new();
            while k < 3 && chars.get(i + k).is_some_and(|c| c.is_ascii_digit()) {
                num.push(chars[i + k]);
                k += 1;
            }
            return Ok((format!(r"\{num}"), k));
        }
        c if c.is_ascii_alphanumeric() => {
            return Err(PatternError(format!("bad escape \\{c}")));
        }
        c => {
            let mut s = String::from("\\");
            if c.is_ascii_punctuation() {
                s.push(c);
            } else {
                // escaping a non-ASCII or space character: a literal
                s = format!(r"\x{{{:x}}}", c as u32);
            }
            s
        }
    };
    Ok((s, 2))
}

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

/// What follows the literal body of a [`Literal`] pattern.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Tail {
    Nothing,
    /// `\b`
    Boundary,
    /// `(?=\s)`
    SpaceAhead,
}

/// A pattern of the shape `[(?i)][\b]BODY[\b | (?=\s)]`, where BODY is a non-empty sequence of
/// literal characters and non-nested capture groups of literal characters (the keyword patterns
/// of IFEval and NLTK's contraction patterns), matched without compiling any regex.
///
/// Why it is exactly equivalent to the fancy-regex translation: [`translate`] leaves a literal
/// character as it is, except `i`, `I`, `ı`, `İ` under IGNORECASE, which become `[iIıİ]`;
/// fancy-regex delegates a case-insensitive literal or class to the `regex` crate, whose
/// translator makes it the class of the character(s) plus their simple case variants
/// (`case_fold_simple`, computed here with the same `regex-syntax` function), and a
/// case-sensitive literal matches itself only. So BODY matches one text character per pattern
/// character, each from a known set ([`BodyChar`]), and at a given start has exactly one
/// possible end. The full pattern
/// matches at start `s` iff BODY matches at `s` and the assertions hold at both ends; trying the
/// starts in increasing order (every start, not only after a failed candidate's end) finds the
/// same leftmost match, and after a match, the search resumes at its end (BODY is never empty)
/// as `re.finditer` does. The exact `\b` is `(?-i:(?<=W)(?!W)|(?<!W)(?=W))` with `W` =
/// `[\p{L}\p{N}_]` (never case-folded, as in Python), i.e. "W before" differs
/// from "W after"; [`exact_word`] tests membership in that same class with `regex-syntax`'s
/// tables. (On ASCII text the `ascii` variant's Rust `\b` is the same boundary: both word sets
/// are `[0-9A-Za-z_]` there.) `(?=\s)` translates to `[\s\x{1c}-\x{1f}]`, which is
/// [`is_space`]; whitespace has no case variants.
struct Literal {
    body: Vec<BodyChar>,
    /// The first UTF-8 bytes of the chars the first body char matches: a match can only start
    /// at such a byte (a leading byte is always a char boundary).
    first_bytes: [bool; 256],
    /// The same bytes listed, when there are at most three: `memchr` then finds the
    /// candidates (a case-insensitive ASCII letter is two or three: `k` also starts `K`'s
    /// Kelvin sign).
    first_few: Option<Vec<u8>>,
    /// Character index ranges of the capture groups in `body`.
    groups: Vec<(usize, usize)>,
    lead_b: bool,
    tail: Tail,
    /// For each body char, the (at most two) ASCII chars it matches, when it matches one or
    /// two and they are the same letter in two cases or one char: on ASCII text the body is
    /// then compared byte by byte. (None: some body char matches no ASCII char, or others.)
    ascii: Option<(Vec<u8>, Vec<u8>)>,
    /// When each body char matches one ASCII non-letter or an ASCII letter in both cases: the
    /// body lowercased, found with `memmem` in an ASCII text lowercased (see [`lowered`]),
    /// where a match of the body is exactly an occurrence of it.
    folded: Option<memchr::memmem::Finder<'static>>,
}

/// The `folded` finder of a body with ASCII forms `lo`/`hi` (see [`Literal::folded`]).
fn folded_finder(ascii: &Option<(Vec<u8>, Vec<u8>)>) -> Option<memchr::memmem::Finder<'static>> {
    let (lo, hi) = ascii.as_ref()?;
    let folds = lo.iter().zip(hi).all(|(&l, &h)| {
        if l.is_ascii_alphabetic() {
            l != h && l.eq_ignore_ascii_case(&h)
        } else {
            l == h
        }
    });
    let needle: Vec<u8> = lo.iter().map(u8::to_ascii_lowercase).collect();
    folds.then(|| memchr::memmem::Finder::new(&needle).into_owned())
}

thread_local! {
    /// The last text [`lowered`] was asked for, whether it is ASCII, and its ASCII lowercase.
    static LOWERED: std::cell::RefCell<(String, bool, Vec<u8>)> =
        const { std::cell::RefCell::new((String::new(), false, Vec::new())) };
}

/// Run `f` with `text` lowercased if it is ASCII (None otherwise). The last text's lowercase is
/// kept on the thread: checkers look for several keywords in one response.
fn lowered<R>(text: &str, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
    LOWERED.with(|c| {
        let mut c = c.borrow_mut();
        let (kept, ascii, low) = &mut *c;
        if kept.as_str() != text {
            kept.clear();
            kept.push_str(text);
            *ascii = text.is_ascii();
            low.clear();
            if *ascii {
                low.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
            }
        }
        f(ascii.then_some(&low[..]))
    })
}

/// [`Literal::ascii`] of a body.
fn ascii_body(body: &[BodyChar]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut lo = Vec::with_capacity(body.len());
    let mut hi = Vec::with_capacity(body.len());
    for b in body {
        // (the ASCII chars it matches, in order: its set is sorted)
        let a: Vec<u8> =
            b.0.iter()
                .filter(|c| c.is_ascii())
                .map(|&c| c as u8)
                .collect();
        match a[..] {
            [x] => {
                lo.push(x);
                hi.push(x);
            }
            [x, y] if x.to_ascii_lowercase() == y => {
                lo.push(x);
                hi.push(y);
            }
            _ => return None,
        }
    }
    Some((lo, hi))
}

/// `c` and its simple case variants: what a case-insensitive `c` matches in the `regex` crate
/// (its translator folds a literal with this same `regex-syntax` function).
pub(crate) fn case_variants(c: char) -> Vec<char> {
    use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
    let mut cls = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
    cls.case_fold_simple();
    cls.iter().flat_map(|r| r.start()..=r.end()).collect()
}

/// The text characters one pattern character matches (sorted).
#[derive(Clone)]
struct BodyChar(Vec<char>);

impl BodyChar {
    fn new(c: char, casei: bool) -> BodyChar {
        if !casei {
            return BodyChar(vec![c]);
        }
        // (an ASCII char's set is made once per process, when first asked for: keywords are
        // mostly ASCII, and the Unicode folding below costs more than the rest of compiling a
        // literal)
        static ASCII: [std::sync::OnceLock<BodyChar>; 128] =
            [const { std::sync::OnceLock::new() }; 128];
        match ASCII.get(c as usize) {
            Some(cell) => cell.get_or_init(|| BodyChar::folded(c)).clone(),
            None => BodyChar::folded(c),
        }
    }

    /// The chars IGNORECASE matches for `c`: its simple case folding, with Python's Turkish
    /// i's.
    fn folded(c: char) -> BodyChar {
        use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
        let base: &[char] = if matches!(c, 'i' | 'I' | 'ı' | 'İ') {
            &['i', 'I', 'ı', 'İ']
        } else {
            &[c]
        };
        let mut cls = ClassUnicode::new(base.iter().map(|&c| ClassUnicodeRange::new(c, c)));
        cls.case_fold_simple();
        BodyChar(cls.iter().flat_map(|r| r.start()..=r.end()).collect())
    }

    fn matches(&self, c: char) -> bool {
        match self.0.as_slice() {
            [one] => *one == c,
            set => set.contains(&c),
        }
    }
}

/// `[\p{L}\p{N}_]`, the translation's Python `\w`, as sorted code point ranges.
fn word_ranges() -> &'static [(char, char)] {
    static R: std::sync::LazyLock<Vec<(char, char)>> =
        std::sync::LazyLock::new(|| class_ranges(&format!("[{W}]")));
    &R
}

fn in_word_ranges(c: char) -> bool {
    in_ranges(word_ranges(), c)
}

/// Whether `c` is in the class `[\p{L}\p{N}_]` of the exact `\b` translation. Never case-folded:
/// Python tests `\w`, `\b` by category even under IGNORECASE (U+0345, which folds to ι, is not a
/// word character there), and the translation wraps them in `(?-i:…)` to match.
fn exact_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    in_word_ranges(c)
}

/// The exact `\b` at byte offset `at`.
fn exact_boundary(text: &str, at: usize) -> bool {
    let before = text[..at].chars().next_back().is_some_and(exact_word);
    let after = text[at..].chars().next().is_some_and(exact_word);
    before != after
}

/// Split `pat` into the parts of a [`Literal`] pattern: (inline `(?i)`, leading `\b`, body, tail),
/// or None when it has another shape.
fn literal_shape(pat: &str) -> Option<(bool, bool, &str, Tail)> {
    let (inline_i, p) = match pat.strip_prefix("(?i)") {
        Some(r) => (true, r),
        None => (false, pat),
    };
    let (lead_b, p) = match p.strip_prefix(r"\b") {
        Some(r) => (true, r),
        None => (false, p),
    };
    let (body, tail) = if let Some(r) = p.strip_suffix(r"\b") {
        (r, Tail::Boundary)
    } else if let Some(r) = p.strip_suffix(r"(?=\s)") {
        (r, Tail::SpaceAhead)
    } else {
        (p, Tail::Nothing)
    };
    // literal characters and `(literal characters)`; everything special to `re` is excluded
    const SPECIAL: &str = r"\.^$*+?{}[]|()";
    let mut in_group = false;
    let mut group_len = 0;
    for c in body.chars() {
        match c {
            '(' if !in_group => {
                in_group = true;
                group_len = 0;
            }
            ')' if in_group && group_len > 0 => in_group = false,
            c if SPECIAL.contains(c) => return None,
            _ => group_len += 1,
        }
    }
    if in_group || body.is_empty() {
        return None;
    }
    Some((inline_i, lead_b, body, tail))
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
    if let Some((inline_i, lead_b, body, tail)) = literal_shape(pat) {
        let casei = ignore_case || inline_i;
        let mut chars = Vec::new();
        let mut groups = Vec::new();
        for c in body.chars() {
            match c {
                '(' => groups.push((chars.len(), chars.len())),
                ')' => {
                    if let Some(g) = groups.last_mut() {
                        g.1 = chars.len();
                    }
                }
                c => chars.push(BodyChar::new(c, casei)),
            }
        }
        let mut first_bytes = [false; 256];
        for &c in chars.first().map_or(&[][..], |b| b.0.as_slice()) {
            let mut buf = [0u8; 4];
            first_bytes[c.encode_utf8(&mut buf).as_bytes()[0] as usize] = true;
        }
        let listed: Vec<u8> = (0..=255u8).filter(|&b| first_bytes[b as usize]).collect();
        let ascii = ascii_body(&chars);
        return Ok(Compiled::Literal(Literal {
            first_few: (listed.len() <= 3).then_some(listed),
            first_bytes,
            folded: folded_finder(&ascii),
            ascii,
            body: chars,
            groups,
            lead_b,
            tail,
        }));
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

impl Literal {
    /// Whether the assertions around a body match at `s..e` hold.
    fn accepts(&self, text: &str, s: usize, e: usize) -> bool {
        if self.lead_b && !exact_boundary(text, s) {
            return false;
        }
        match self.tail {
            Tail::Nothing => true,
            Tail::Boundary => exact_boundary(text, e),
            Tail::SpaceAhead => text[e..].chars().next().is_some_and(is_space),
        }
    }

    /// Where the body matching at byte `s` ends (and the end of each of its characters).
    fn body_at(&self, text: &str, s: usize, ends: &mut Vec<usize>) -> Option<usize> {
        ends.clear();
        if let Some((lo, hi)) = &self.ascii {
            // ASCII text: one char a byte, and each body char matches just its `lo`/`hi`
            if let Some(w) = text
                .as_bytes()
                .get(s..s + lo.len())
                .filter(|w| w.is_ascii())
            {
                let hit = w
                    .iter()
                    .zip(lo.iter().zip(hi))
                    .all(|(&c, (&l, &h))| c == l || c == h);
                if !hit {
                    return None;
                }
                ends.extend((1..=w.len()).map(|k| s + k));
                return Some(s + w.len());
            }
        }
        let mut it = text[s..].char_indices();
        for b in &self.body {
            let (i, c) = it.next()?;
            if !b.matches(c) {
                return None;
            }
            ends.push(s + i + c.len_utf8());
        }
        ends.last().copied()
    }

    /// The leftmost match starting at or after `pos` (a char boundary), with the end offset of
    /// each body character.
    fn find_from(&self, text: &str, pos: usize, ends: &mut Vec<usize>) -> Option<(usize, usize)> {
        if let Some(finder) = &self.folded {
            let found = lowered(text, |low| {
                let low = low?;
                let n = finder.needle().len();
                let mut from = pos;
                while let Some(k) = low.get(from..).and_then(|l| finder.find(l)) {
                    let s = from + k;
                    if self.accepts(text, s, s + n) {
                        ends.clear();
                        ends.extend((1..=n).map(|j| s + j));
                        return Some(Some((s, s + n)));
                    }
                    from = s + 1;
                }
                Some(None)
            });
            if let Some(found) = found {
                return found;
            }
        }
        let bytes = text.as_bytes();
        if let Some(few) = &self.first_few {
            let next = |from: usize| {
                let rest = bytes.get(from..)?;
                let k = match few[..] {
                    [] => None,
                    [a] => memchr::memchr(a, rest),
                    [a, b] => memchr::memchr2(a, b, rest),
                    [a, b, c, ..] => memchr::memchr3(a, b, c, rest),
                };
                k.map(|k| from + k)
            };
            let mut from = pos;
            while let Some(s) = next(from) {
                if let Some(e) = self.body_at(text, s, ends) {
                    if self.accepts(text, s, e) {
                        return Some((s, e));
                    }
                }
                from = s + 1;
            }
            return None;
        }
        for (s, &b) in bytes.iter().enumerate().skip(pos) {
            if !self.first_bytes[b as usize] {
                continue;
            }
            if let Some(e) = self.body_at(text, s, ends) {
                if self.accepts(text, s, e) {
                    return Some((s, e));
                }
            }
        }
        None
    }

    /// The capture spans of a match at `s` (group 0 first).
    fn caps<'t>(&self, text: &'t str, s: usize, ends: &[usize]) -> Caps<'t> {
        let at = |k: usize| if k == 0 { s } else { ends[k - 1] };
        let mut spans = vec![Some((s, at(ends.len())))];
        spans.extend(self.groups.iter().map(|&(a, b)| Some((at(a), at(b)))));
        Caps { text, spans }
    }
}

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
    fn new_fancy(pat: &str, ignore_case: bool, multiline: bool) -> Result<Self, PatternError> {
        let exact_src = translate(pat, ignore_case, multiline, true)?;
        Ok(PyRegex {
            inner: Arc::new(compile_fancy(pat, &exact_src, ignore_case, multiline)?),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// The table split is `str::split(is_space)` without the empty pieces, on text with
        /// every kind of Python whitespace (ASCII, `\x1c`-`\x1f`, NEL, NBSP, the U+2000 block,
        /// the ideographic space) next to ASCII and multi-byte letters.
        #[test]
        fn split_ws_splits_on_python_whitespace(
            s in "[ a\t\n\x0b\x0c\r\x1c\x1f\u{85}\u{a0}\u{1680}\u{2003}\u{2028}\u{202f}\u{3000}é日\u{200b}\x00]{0,24}"
        ) {
            let want: Vec<&str> = s.split(is_space).filter(|w| !w.is_empty()).collect();
            proptest::prop_assert_eq!(split_ws(&s), want, "{:?}", s);
        }

        /// The same on ASCII text (the table-only loop).
        #[test]
        fn split_ws_splits_ascii_on_python_whitespace(s in "[ a.\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x00\x7f]{0,30}") {
            let want: Vec<&str> = s.split(is_space).filter(|w| !w.is_empty()).collect();
            proptest::prop_assert_eq!(split_ws(&s), want, "{:?}", s);
        }
    }

    #[test]
    fn python_classes() {
        let w = PyRegex::new(r"\w+", false, false).unwrap();
        // Devanagari vowel signs are not \w in Python's re
        assert_eq!(w.find_all("नमस्ते").unwrap().len(), 2);
        assert!(PyRegex::new(r"\s", false, false)
            .unwrap()
            .search("\u{1c}")
            .unwrap());
        let d = PyRegex::new(r"a$", false, false).unwrap();
        assert!(d.search("xa\n").unwrap());
        assert!(!d.search("xa\n\n").unwrap());
        assert!(PyRegex::new(r"a{b", false, false)
            .unwrap()
            .search("a{b")
            .unwrap());
        assert!(PyRegex::new(r"\bcat\b", true, false)
            .unwrap()
            .search("A CAT!")
            .unwrap());
        assert!(!PyRegex::new(r"\bcat\b", true, false)
            .unwrap()
            .search("concaté")
            .unwrap());
    }

    #[test]
    fn exact_word_is_the_regex_class() {
        // exact_word must be the class the fancy translation's look-arounds use, everywhere,
        // and IGNORECASE must not widen it (Python: re.search(r'\w', '\u0345', re.I) is None)
        let plain = regex::Regex::new(&format!("^[{W}]$")).unwrap();
        let mut b = [0u8; 4];
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let s = c.encode_utf8(&mut b);
            assert_eq!(exact_word(c), plain.is_match(s), "{c:?}");
        }
        let w = PyRegex::new(r"\w", true, false).unwrap();
        assert!(!w.search("\u{345}").unwrap());
        assert!(w.search("\u{212a}").unwrap());
        let kw = PyRegex::new(r"\bfoo\b", true, false).unwrap();
        assert!(kw.search("\u{345}FOO").unwrap());
    }

    #[test]
    fn literal_path_equals_fancy() {
        let pats = [
            (r"\bcat\b", true),
            (r"\bcat\b", false),
            (r"\bkiss\b", true),
            (r"\bsing\b", true),
            (r"\bİ\b", true),
            (r"\bthe last\b", true),
            (r"cat", true),
            (r"is", true),
            (r"\bé\b", true),
            (r"\bι\b", true),
            (r"(?i)\b(can)(not)\b", false),
            (r"(?i)\b(wan)(na)(?=\s)", false),
            (r"(?i) ('t)(is)\b", false),
            (r"a-b's #1", true),
            (r"\bété\b", true),
            (r"straße", true),
            (r"\bkelvin\b", true),
            (r"(k)(iss)", false),
        ];
        let texts = [
            "the cat sat; CAT, Cat! concat cats",
            "KISS kiſs \u{212a}iss, ſing SING",
            "İ ı i I Iİ",
            "ι\u{345} \u{345}ι \u{3b9}x é É ée",
            "cannot CANNOT can not cannotx xcannot",
            "wanna go WANNA\twanna\u{1c}wannax wanna",
            " 'tis 'TIS 'tisx  'tis",
            "A-B'S #1 a-b's #12",
            "",
            "the last word is the last",
            "ÉTÉ été Été étéx STRASSE straße STRAẞE \u{212a}ELVIN Kelvin kelvin",
            "e\u{301}te\u{301} ete",
            "kiss Kiss \u{212a}iss",
            "cat\u{301} \u{301}cat",
            "a-b's #1",
            "日本語cat日本語 ñcatñ cat_ _cat 1cat cat1 ²cat",
        ];
        for (p, ic) in pats {
            let lit = PyRegex::new(p, ic, false).unwrap();
            assert!(matches!(&*lit.inner, Compiled::Literal(_)), "{p}");
            let fancy = PyRegex::new_fancy(p, ic, false).unwrap();
            for t in texts {
                assert_eq!(
                    lit.search(t).unwrap(),
                    fancy.search(t).unwrap(),
                    "{p} {t:?}"
                );
                assert_eq!(lit.find(t).unwrap(), fancy.find(t).unwrap(), "{p} {t:?}");
                assert_eq!(
                    lit.find_all(t).unwrap(),
                    fancy.find_all(t).unwrap(),
                    "{p} {t:?}"
                );
                assert_eq!(lit.split_count(t).unwrap(), fancy.split_count(t).unwrap());
                let f = |c: &Caps| {
                    (0..c.len())
                        .map(|i| format!("<{}>", c.get(i).unwrap_or("-")))
                        .collect::<String>()
                };
                assert_eq!(lit.replace_all(t, f), fancy.replace_all(t, f), "{p} {t:?}");
            }
        }
        // other shapes take the general path
        for p in [
            r"\bca+t\b",
            r"\b(?:a)\b",
            r"a\\b",
            r"(a(b))",
            r"\b\b",
            "",
            r"()",
        ] {
            if let Ok(r) = PyRegex::new(p, true, false) {
                assert!(matches!(&*r.inner, Compiled::Fancy { .. }), "{p}");
            }
        }
    }

    #[test]
    fn class_tables_are_the_regex_classes() {
        let nd = regex::Regex::new(r"^\p{Nd}$").unwrap();
        let l = regex::Regex::new(r"^\p{L}$").unwrap();
        let d = regex::Regex::new(r"^\d$").unwrap();
        let mut b = [0u8; 4];
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let s = c.encode_utf8(&mut b);
            assert_eq!(is_decimal(c), nd.is_match(s), "{c:?}");
            assert_eq!(is_nd(c), d.is_match(s), "{c:?}");
            assert_eq!(char_is_alpha(c), l.is_match(s), "{c:?}");
        }
    }

    #[test]
    fn hand_patterns_equal_their_regexes() {
        let alphabet: Vec<char> = "0123²٣ aAbBcC_-.,/\n\u{a0}é日".chars().collect();
        let texts = crate::nltk::tests::random_texts(&alphabet, 30_000, 12);
        let d = PyRegex::new(r"\d+", false, false).unwrap();
        let w = PyRegex::new(r"\w", false, false).unwrap();
        for t in &texts {
            assert_eq!(digit_runs(t), d.find_all(t).unwrap(), "{t:?}");
            for c in t.chars() {
                assert_eq!(is_py_word(c), w.search(&c.to_string()).unwrap(), "{c:?}");
            }
        }
    }

    #[test]
    fn str_methods() {
        assert_eq!(split_ws(" a\u{1c}b  c "), vec!["a", "b", "c"]);
        assert!(is_upper("HELLO 1"));
        assert!(!is_upper("123"));
        assert!(is_lower("hello"));
        assert_eq!(slice_chars("héllo", 1, 3), "él");
        assert!(is_digit("²3"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The literal path (with its byte-by-byte compare on ASCII text) finds what the
        /// general translation finds.
        #[test]
        fn literal_path_finds_what_fancy_finds(
            text in "[abcABkKsSi '#1_\\-\u{212a}\u{17f}é]{0,24}",
            k in 0..12usize,
        ) {
            // (pattern, IGNORECASE) -> the literal path and the general one, compiled once
            static PATS: std::sync::LazyLock<Vec<(&str, PyRegex, PyRegex)>> =
                std::sync::LazyLock::new(|| {
                    [r"\bcab\b", r"\bkiss\b", r"Ab", r"\ba-b's #1\b", r"(a)(b)(?=\s)", r"\bsé\b"]
                        .into_iter()
                        .flat_map(|p| [true, false].map(|ic| (p, ic)))
                        .map(|(p, ic)| {
                            let lit = PyRegex::new(p, ic, false).expect("pattern");
                            (p, lit, PyRegex::new_fancy(p, ic, false).expect("pattern"))
                        })
                        .collect()
                });
            let (p, lit, fancy) = &PATS[k];
            proptest::prop_assert_eq!(lit.find_all(&text).ok(), fancy.find_all(&text).ok(), "{} {:?}", p, text);
        }
    }

    proptest::proptest! {

        /// The ASCII shortcuts of `isupper`/`islower` agree with the char-by-char definitions.
        #[test]
        fn ascii_case_tests_are_the_definitions(text in "[a-zA-Z0-9 .,'\n_\u{1c}ǅß]{0,12}") {
            let ascii: String = text.chars().filter(char::is_ascii).collect();
            for t in [&text, &ascii] {
                proptest::prop_assert_eq!(is_upper(t), is_upper_chars(t), "{:?}", t);
                proptest::prop_assert_eq!(is_lower(t), is_lower_chars(t), "{:?}", t);
            }
        }

        /// The byte-level punctuation removal and the ASCII masks are the plain definitions.
        #[test]
        fn fast_char_sets_are_the_definitions(
            text in "[a-z .,!?*'\\\"()é中\u{1c}\n-]{0,40}",
            set in proptest::sample::select(vec![PUNCTUATION, PUNCT_SPACE, " *", "aé", ""]),
        ) {
            let plain: String = text.chars().filter(|c| !PUNCTUATION.contains(*c)).collect();
            proptest::prop_assert_eq!(remove_punct(&text), plain);
            proptest::prop_assert_eq!(strip_chars(&text, set), text.trim_matches(|c| set.contains(c)));
            proptest::prop_assert_eq!(lstrip_chars(&text, set), text.trim_start_matches(|c| set.contains(c)));
            proptest::prop_assert_eq!(rstrip_chars(&text, set), text.trim_end_matches(|c| set.contains(c)));
        }
    }
}
