//! Python `str` methods and the character classes behind them (`str.isspace()`, `\w`, `\d`),
//! and the helpers for `re.sub` done by hand ([`rewrite_at`] and its candidate starts).

use super::W;

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
pub(super) fn is_upper_chars(s: &str) -> bool {
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
pub(super) fn is_lower_chars(s: &str) -> bool {
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

pub(super) fn is_decimal(c: char) -> bool {
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
/// [`translate`](fn@super::translate)'s `\d` (Python's `\d` on str) match.
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

/// Python's `\w` as [`translate`](fn@super::translate) has it (`[\p{L}\p{N}_]`, not case-folded).
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
pub(super) fn exact_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    in_word_ranges(c)
}
