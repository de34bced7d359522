//! Literal patterns (keywords, NLTK's contractions) matched without compiling a regex
//! ([`Literal`]), exactly as their fancy-regex translation matches.

use super::strings::{exact_word, is_space};
use super::Caps;

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
/// Why it is exactly equivalent to the fancy-regex translation: [`translate`](fn@super::translate) leaves a literal
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
pub(super) struct Literal {
    body: Vec<BodyChar>,
    /// The first UTF-8 bytes of the chars the first body char matches: a match can only start
    /// at such a byte (a leading byte is always a char boundary).
    first_bytes: [bool; 256],
    /// The same bytes listed, when there are at most three: `memchr` then finds the
    /// candidates (a case-insensitive ASCII letter is two or three: `k` also starts `K`'s
    /// Kelvin sign).
    first_few: Option<Vec<u8>>,
    /// Character index ranges of the capture groups in `body`.
    pub(super) groups: Vec<(usize, usize)>,
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

impl Literal {
    /// `pat` as a literal pattern (IGNORECASE given by `ignore_case` or an inline `(?i)`), or
    /// None when it has another shape (see [`literal_shape`]).
    pub(super) fn from_pattern(pat: &str, ignore_case: bool) -> Option<Literal> {
        let (inline_i, lead_b, body, tail) = literal_shape(pat)?;
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
        Some(Literal {
            first_few: (listed.len() <= 3).then_some(listed),
            first_bytes,
            folded: folded_finder(&ascii),
            ascii,
            body: chars,
            groups,
            lead_b,
            tail,
        })
    }

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
    pub(super) fn find_from(
        &self,
        text: &str,
        pos: usize,
        ends: &mut Vec<usize>,
    ) -> Option<(usize, usize)> {
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
    pub(super) fn caps<'t>(&self, text: &'t str, s: usize, ends: &[usize]) -> Caps<'t> {
        let at = |k: usize| if k == 0 { s } else { ends[k - 1] };
        let mut spans = vec![Some((s, at(ends.len())))];
        spans.extend(self.groups.iter().map(|&(a, b)| Some((at(a), at(b)))));
        Caps { text, spans }
    }
}
