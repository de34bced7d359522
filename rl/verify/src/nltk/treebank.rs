//! `NLTKWordTokenizer` (NLTK's improved Treebank tokenizer) and `nltk.word_tokenize`, which
//! runs it on each Punkt sentence.

use std::sync::LazyLock;

use super::punkt::sent_tokenize;
use super::words::is_word_char;
use crate::py;

/// One substitution of the tokenizer, `re.sub(pattern, replacement, text)`, done by hand
/// (`fast`; the tests hold it to the pattern).
///
/// Every match of `pattern` contains one of the strings in `needs`, so a text without any of
/// them is left as it is without running the substitution: exactly what it would give.
pub(super) struct Sub {
    // (read by the tests, which compile them)
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) pattern: &'static str,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) replacement: &'static str,
    pub(super) needs: &'static [&'static str],
    /// The substitution (None: no match).
    pub(super) fast: fn(&str) -> Option<String>,
}

/// A substitution with a hand-written equivalent (the pattern is compiled only by the tests,
/// which hold the two to each other).
const fn fast_sub(
    pattern: &'static str,
    replacement: &'static str,
    needs: &'static [&'static str],
    fast: fn(&str) -> Option<String>,
) -> Sub {
    Sub {
        pattern,
        replacement,
        needs,
        fast,
    }
}

/// `re.sub(r"([^'])' ", r"\1 ' ", t)`: a space put before each `' ` that follows a char other
/// than `'` (a char the previous match took cannot start the next one). None: no match.
fn apostrophe_space(t: &str) -> Option<String> {
    let mut out = String::new();
    let (mut copied, mut matched_to) = (0, 0);
    for p in memchr::memmem::find_iter(t.as_bytes(), b"' ") {
        let Some(c) = t[..p].chars().next_back() else {
            continue;
        };
        if c == '\'' || p - c.len_utf8() < matched_to {
            continue;
        }
        out.push_str(&t[copied..p]);
        out.push_str(" ' ");
        copied = p + 2;
        matched_to = p + 2;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&t[copied..]);
    Some(out)
}

/// `re.sub(r"[SET]", r" \g<0> ", t)` for a set of single chars.
fn pad_chars(t: &str, set: fn(char) -> bool) -> Option<String> {
    if !t.chars().any(set) {
        return None;
    }
    let mut out = String::with_capacity(t.len() + 16);
    for c in t.chars() {
        if set(c) {
            out.push(' ');
            out.push(c);
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `t.replace(from, to)` as a substitution of a literal pattern (None: no occurrence).
fn replace_literal(t: &str, from: &str, to: &str) -> Option<String> {
    t.contains(from).then(|| t.replace(from, to))
}

pub(super) static STARTING_QUOTES: [Sub; 4] = [
    fast_sub(
        r"([«“‘„]|[`]+)",
        " $1 ",
        &["«", "“", "‘", "„", "`"],
        |t| {
            // one opening quote, or the whole run of backticks (« is C2 AB in UTF-8; “ ‘ „
            // start with E2)
            py::rewrite_at(t, py::byte_starts(t, 0xC2, 0xE2, b'`'), |t, i| {
                let rest = &t[i..];
                match rest.chars().next()? {
                    c @ ('«' | '“' | '‘' | '„') => Some((c.len_utf8(), format!(" {c} "))),
                    '`' => {
                        let n = rest.len() - rest.trim_start_matches('`').len();
                        Some((n, format!(" {} ", &rest[..n])))
                    }
                    _ => None,
                }
            })
        },
    ),
    fast_sub(r#"^""#, "``", &["\""], |t| {
        t.strip_prefix('"').map(|r| format!("``{r}"))
    }),
    fast_sub(r"(``)", " $1 ", &["``"], |t| {
        replace_literal(t, "``", " `` ")
    }),
    fast_sub(r#"([ \(\[{<])("|'{2})"#, "$1 `` ", &["\"", "''"], |t| {
        py::rewrite_at(t, py::char_before_bytes(t, b'"', b'\'', b'\''), |t, i| {
            let rest = &t[i..];
            let c = rest.chars().next().filter(|c| " ([{<".contains(*c))?;
            let q = &rest[1..];
            let n = if q.starts_with('"') {
                1
            } else if q.starts_with("''") {
                2
            } else {
                return None;
            };
            Some((1 + n, format!("{c} `` ")))
        })
    }),
];

/// `re.sub(r"(?i)(?<!\w)(')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)", r"\1 ", t)` by hand: a space
/// after each `'` that follows no word char, precedes one, and does not start one of the
/// suffixes (case-insensitively: each suffix char or one of its simple case variants, as the
/// `regex` crate folds it) followed by a word boundary. (`\w` is not case-folded: the `regex`
/// crate's Unicode `\w` is closed under case folding. A suffix ends with a word char, so the
/// boundary after it is "no word char next".)
pub(super) fn quote_start(t: &str) -> String {
    static SUFFIXES: LazyLock<Vec<Vec<Vec<char>>>> = LazyLock::new(|| {
        ["re", "ve", "ll", "m", "t", "s", "d", "n"]
            .iter()
            .map(|s| s.chars().map(py::case_variants).collect())
            .collect()
    });
    let suffix_then_boundary = |rest: &str| {
        SUFFIXES.iter().any(|suf| {
            let mut it = rest.chars();
            suf.iter()
                .all(|set| it.next().is_some_and(|c| set.contains(&c)))
                && !it.next().is_some_and(is_word_char)
        })
    };
    let mut out = String::with_capacity(t.len() + 8);
    let mut last = 0;
    for (i, _) in t.match_indices('\'') {
        let rest = &t[i + 1..];
        if t[..i].chars().next_back().is_some_and(is_word_char)
            || !rest.chars().next().is_some_and(is_word_char)
            || suffix_then_boundary(rest)
        {
            continue;
        }
        out.push_str(&t[last..=i]);
        out.push(' ');
        last = i + 1;
    }
    out.push_str(&t[last..]);
    out
}

pub(super) static PUNCTUATION_A: [Sub; 1] =
    [fast_sub(r"([:,])([^\d])", " $1 $2", &[":", ","], |t| {
        // a ':' or ',' and the next char, when that is not a digit (`\d`: Unicode Nd)
        py::rewrite_at(t, py::byte_starts(t, b':', b',', b','), |t, i| {
            let mut it = t[i..].chars();
            let sep = it.next().filter(|c| matches!(c, ':' | ','))?;
            let c = it.next().filter(|&c| !py::is_nd(c))?;
            Some((1 + c.len_utf8(), format!(" {sep} {c}")))
        })
    })];

pub(super) static PUNCTUATION_B: [Sub; 3] = [
    fast_sub(r"\.{2,}", " $0 ", &[".."], |t| {
        // every run of two or more dots
        py::rewrite_at(t, py::byte_starts(t, b'.', b'.', b'.'), |t, i| {
            let rest = &t[i..];
            let n = rest.len() - rest.trim_start_matches('.').len();
            (n >= 2).then(|| (n, format!(" {} ", &rest[..n])))
        })
    }),
    fast_sub(r"[;@#$%&]", " $0 ", &[";", "@", "#", "$", "%", "&"], |t| {
        pad_chars(t, |c| matches!(c, ';' | '@' | '#' | '$' | '%' | '&'))
    }),
    fast_sub(
        r"[\x{2012}-\x{2015}]",
        " $0 ",
        &["\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}"],
        |t| pad_chars(t, |c| ('\u{2012}'..='\u{2015}').contains(&c)),
    ),
];

pub(super) static PUNCTUATION_C: [Sub; 5] = [
    fast_sub(r"[?!]", " $0 ", &["?", "!"], |t| {
        pad_chars(t, |c| matches!(c, '?' | '!'))
    }),
    fast_sub(r"([^'])' ", "$1 ' ", &["' "], apostrophe_space),
    fast_sub(r"[*]", " $0 ", &["*"], |t| pad_chars(t, |c| c == '*')),
    fast_sub(
        r"[\]\[\(\)\{\}\<\>]",
        " $0 ",
        &["]", "[", "(", ")", "{", "}", "<", ">"],
        |t| {
            pad_chars(t, |c| {
                matches!(c, ']' | '[' | '(' | ')' | '{' | '}' | '<' | '>')
            })
        },
    ),
    fast_sub(r"--", " -- ", &["--"], |t| replace_literal(t, "--", " -- ")),
];

pub(super) static ENDING_QUOTES_A: [Sub; 3] = [
    fast_sub(r"([»”’])", " $1 ", &["»", "”", "’"], |t| {
        pad_chars(t, |c| matches!(c, '»' | '”' | '’'))
    }),
    fast_sub(r"''", " '' ", &["''"], |t| replace_literal(t, "''", " '' ")),
    fast_sub(r#"""#, " '' ", &["\""], |t| {
        replace_literal(t, "\"", " '' ")
    }),
];

// (between the two: `\s+` -> " ", see collapse_spaces)

pub(super) static ENDING_QUOTES_B: [Sub; 2] = [
    fast_sub(r"([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 ", &["'"], |t| {
        clitic(t, &["'s", "'S", "'m", "'M", "'d", "'D", "'"])
    }),
    fast_sub(
        r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ",
        "$1 $2 ",
        &["'"],
        |t| clitic(t, &["'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"]),
    ),
];

/// `re.sub(r"([^' ])(ALT1|ALT2|...) ", r"\1 \2 ", t)`: a char other than `'` and space, then
/// the first alternative (in order) that is followed by a space.
fn clitic(t: &str, alts: &[&str]) -> Option<String> {
    // (tried only before a ', n or N: every alternative starts with one)
    py::rewrite_at(t, py::char_before_bytes(t, b'\'', b'n', b'N'), |t, i| {
        let c = t[i..].chars().next().filter(|c| !matches!(c, '\'' | ' '))?;
        let rest = &t[i + c.len_utf8()..];
        // every alternative starts with ', n or N
        if !matches!(rest.as_bytes().first(), Some(b'\'' | b'n' | b'N')) {
            return None;
        }
        let alt = alts
            .iter()
            .find(|a| rest.strip_prefix(**a).is_some_and(|r| r.starts_with(' ')))?;
        Some((c.len_utf8() + alt.len() + 1, format!("{c} {alt} ")))
    })
}

/// `re.sub(r"\s+", " ", t)` (the `regex` module's `\s`, Unicode White_Space, which is what
/// `char::is_whitespace` tests): every maximal run of whitespace becomes one space.
pub(super) fn collapse_spaces(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut in_run = false;
    for c in t.chars() {
        if c.is_whitespace() {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

fn contractions() -> &'static [py::PyRegex] {
    static C: LazyLock<Vec<py::PyRegex>> = LazyLock::new(|| {
        [
            r"(?i)\b(can)(not)\b",
            r"(?i)\b(d)('ye)\b",
            r"(?i)\b(gim)(me)\b",
            r"(?i)\b(gon)(na)\b",
            r"(?i)\b(got)(ta)\b",
            r"(?i)\b(lem)(me)\b",
            r"(?i)\b(more)('n)\b",
            r"(?i)\b(wan)(na)(?=\s)",
            r"(?i) ('t)(is)\b",
            r"(?i) ('t)(was)\b",
        ]
        .iter()
        .map(|p| py::PyRegex::new(p, false, false).expect("static pattern"))
        .collect()
    });
    &C
}

fn apply(text: String, list: &[Sub]) -> String {
    let mut t = text;
    for s in list {
        if !s.needs.iter().any(|n| t.contains(n)) {
            continue;
        }
        if let Some(o) = (s.fast)(&t) {
            t = o;
        }
    }
    t
}

/// `([^\.])(\.)([SET]*)\s*$` substituted by `\1 \2 \3 ` (`spaced`) or `\1 \2\3 `: the
/// sentence-final period rules, done by hand (the pattern is anchored at the end, at most one
/// match; `[SET]*` cannot contain the period).
pub(super) fn final_period(t: &str, set: &str, spaced: bool) -> String {
    // trailing whitespace (the regex module's \s, i.e. Unicode White_Space)
    let ws = t.trim_end_matches(char::is_whitespace).len();
    // the run of SET characters just before it
    let k0 = t[..ws].trim_end_matches(|c| set.contains(c)).len();
    let mut before = t[..k0].chars().rev();
    let c1 = match (before.next(), before.next()) {
        (Some('.'), Some(c1)) if c1 != '.' => c1,
        _ => return t.to_string(),
    };
    // the (possessive or greedy) run from k0 may extend into trailing spaces when SET has ' '
    let r = t[k0..]
        .find(|c| !set.contains(c))
        .map_or(t.len(), |n| k0 + n);
    let p = k0 - 1 - c1.len_utf8();
    let mut out = String::with_capacity(t.len() + 4);
    out.push_str(&t[..p]);
    out.push(c1);
    out.push_str(if spaced { " . " } else { " ." });
    out.push_str(&t[k0..r]);
    out.push(' ');
    out
}

/// `([:,])$` substituted by ` \1 ` (`$`: at the end or before a final newline).
fn final_colon(t: &str) -> String {
    let body = t.strip_suffix('\n').unwrap_or(t);
    match body.chars().last() {
        Some(c @ (':' | ',')) => {
            let i = body.len() - 1;
            format!("{} {c} {}", &t[..i], &t[i + 1..])
        }
        _ => t.to_string(),
    }
}

/// A cheap gate before the contraction patterns: true whenever one of them could match. The
/// patterns are case-insensitive, so every character is lowered to what it can match: its
/// simple lowercase, and `İ`, `ı` → `i`, `ſ` → `s`, `K` (Kelvin) → `k` (a false positive only
/// costs time; `str::to_lowercase` would turn `İ` into two characters and miss `GİMME`).
fn contraction_candidate(t: &str) -> bool {
    const STARTS: [&str; 9] = [
        "can", "d'ye", "gim", "gon", "got", "lem", "more'n", "wan", "'t",
    ];
    if t.is_ascii() {
        // (an ASCII char's simple lowercase is its ASCII lowercase; none of the special
        // cases below is ASCII)
        let l = t.to_ascii_lowercase();
        return STARTS.iter().any(|w| l.contains(w));
    }
    let l: String = t
        .chars()
        .map(|c| match c {
            'İ' | 'ı' => 'i',
            'ſ' => 's',
            '\u{212A}' => 'k',
            c => c.to_lowercase().next().unwrap_or(c),
        })
        .collect();
    STARTS.iter().any(|w| l.contains(w))
}

/// What the Treebank rules do with an ASCII byte of a plain sentence (see [`plain_treebank`]).
#[derive(Clone, Copy, PartialEq)]
enum Plain {
    /// Kept inside its token.
    Word,
    /// `' '`, `\t`, `\n`, `\r`: ends a token.
    Space,
    /// `;@#$%&?!*` and brackets: always a token of its own.
    Alone,
    /// `,` and `:`: a token of their own before a non-digit, or at the end.
    Sep,
    /// `.`: runs of two or more, and a sentence-final dot after a non-dot, are tokens.
    Dot,
    /// `-`: each `--`, from the left, is a token.
    Dash,
    /// `"`: a token, `` `` `` where it opens a quote, `''` elsewhere.
    Quote,
    /// `'`: plain only between two ASCII letters (see [`plain_clitics`]).
    Apostrophe,
    /// A char that some rule rewrites or reads around in ways not done here (`` ` ``, control
    /// chars): the sentence is not plain.
    Other,
}

const PLAIN_ASCII: [Plain; 128] = {
    let mut t = [Plain::Word; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            b' ' | b'\t' | b'\n' | b'\r' => Plain::Space,
            b';' | b'@' | b'#' | b'$' | b'%' | b'&' | b'?' | b'!' | b'*' | b'(' | b')' | b'['
            | b']' | b'{' | b'}' | b'<' | b'>' => Plain::Alone,
            b',' | b':' => Plain::Sep,
            b'.' => Plain::Dot,
            b'-' => Plain::Dash,
            b'"' => Plain::Quote,
            b'\'' => Plain::Apostrophe,
            b'`' | 0..=0x1f | 0x7f => Plain::Other,
            _ => Plain::Word,
        };
        b += 1;
    }
    t
};

/// Whether the `"` at byte `i` of `b` opens a quote for the Treebank rules: `^"`, and
/// `([ \(\[{<])"` on the text where `^"` became `` `` `` and that was padded with spaces (so
/// a second `"` at the start opens too). The char before is never itself part of an earlier
/// match.
fn plain_quote_opens(b: &[u8], i: usize) -> bool {
    i == 0 || (i == 1 && b[0] == b'"') || matches!(b[i - 1], b' ' | b'(' | b'[' | b'{' | b'<')
}

/// [`treebank_tokenize`] without rewriting the text, for a sentence whose chars only the
/// simple rules concern; calls `f` on each token and returns true, or returns false (having
/// called nothing) when the sentence is not plain.
///
/// Plain: no `` ` `` or control char other than `\t\n\r`, `'` only between two ASCII letters,
/// no non-ASCII whitespace (Python's and Rust's agree on ASCII whitespace), none of `«»“”‘’„`,
/// none of `İıſK` (which the case-insensitive contraction patterns may fold to ASCII), and no
/// `cannot`, `d'ye`, `gimme`, `gonna`, `gotta`, `lemme`, `more'n` or `wanna` in any case where a
/// word may start (the contraction patterns, which start with `\b`; the others need a `'`
/// after a space). On such a text the rules only
/// insert spaces, turn each `"` into `` `` `` or `''`, and split clitics off, so the tokens
/// are the text split at whitespace and around:
/// - `;@#$%&?!*`, brackets and U+2012–U+2015 (padded wherever they are);
/// - each maximal run of two or more dots (`\.{2,}`), and each `--` from the left;
/// - each `"`: `` `` `` at the start or after a space or an opening bracket, `''` elsewhere;
/// - the sentence-final dot: the last char before the trailing whitespace, closing brackets,
///   closing quotes and spaces, when it is a dot after a non-dot (the first final-period rule,
///   which runs after the opening quotes are rewritten; the second then finds nothing new);
/// - `,` or `:` before a char that is not a digit (`([:,])([^\d])`, which also consumes that
///   char, so a `,`/`:` right after a matched one is not matched itself), and `,` or `:` at the
///   end, before at most one `\n` (`([:,])$`);
///
/// and then clitics at the end of a token ([`plain_clitics`]).
pub(super) fn plain_treebank(s: &str, f: &mut impl FnMut(&str)) -> bool {
    let b = s.as_bytes();
    // first pass: is it plain?
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x80 {
            // (at a char boundary: continuation bytes are skipped)
            if c & 0xC0 == 0x80 {
                continue;
            }
            let ch = s[i..].chars().next().unwrap_or(' ');
            if ch.is_whitespace()
                || matches!(
                    ch,
                    '«' | '»' | '“' | '”' | '‘' | '’' | '„' | 'İ' | 'ı' | 'ſ' | '\u{212A}'
                )
            {
                return false;
            }
            continue;
        }
        match PLAIN_ASCII[c as usize] {
            Plain::Other => return false,
            Plain::Apostrophe => {
                let letter = |j: Option<usize>| {
                    j.and_then(|j| b.get(j))
                        .is_some_and(u8::is_ascii_alphabetic)
                };
                if !letter(i.checked_sub(1)) || !letter(Some(i + 1)) {
                    return false;
                }
            }
            // (every contraction pattern starts with `\b`: a letter after a word char starts
            // none; a non-ASCII char before is taken as a possible boundary)
            Plain::Word if i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') => {
                let rest = &b[i..];
                let hit =
                    |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
                let contraction = match c | 0x20 {
                    b'c' => hit(b"cannot"),
                    b'd' => hit(b"d'ye"),
                    b'g' => hit(b"gimme") || hit(b"gonna") || hit(b"gotta"),
                    b'l' => hit(b"lemme"),
                    b'm' => hit(b"more'n"),
                    b'w' => hit(b"wanna"),
                    _ => false,
                };
                if contraction {
                    return false;
                }
            }
            _ => {}
        }
    }
    // the final dot and the final `,`/`:`
    let body = s.strip_suffix('\n').unwrap_or(s).len();
    let final_sep = (body > 0 && matches!(b[body - 1], b',' | b':')).then(|| body - 1);
    let mut u = s.trim_end_matches([' ', '\t', '\n', '\r']).len();
    while u > 0
        && match b[u - 1] {
            b']' | b')' | b'}' | b'>' | b' ' => true,
            b'"' => !plain_quote_opens(b, u - 1),
            _ => false,
        }
    {
        u -= 1;
    }
    let final_dot = (u >= 2 && b[u - 1] == b'.' && b[u - 2] != b'.').then(|| u - 1);
    // second pass: split. `word`: where the token being read started, if one is.
    let mut word = None::<usize>;
    let mut emit = |word: &mut Option<usize>, at: usize, alone: Option<&str>| {
        if let Some(a) = word.take() {
            plain_clitics(&s[a..at], &mut *f);
        }
        if let Some(t) = alone {
            f(t);
        }
    };
    let mut no_sep_at = usize::MAX;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // Some(n): the n bytes at i are a token of their own; None: i is in a word
        let (alone, n) = if c >= 0x80 {
            let ch = s[i..].chars().next().unwrap_or(' ');
            let n = ch.len_utf8();
            (('\u{2012}'..='\u{2015}').contains(&ch).then_some(n), n)
        } else {
            match PLAIN_ASCII[c as usize] {
                Plain::Space => {
                    emit(&mut word, i, None);
                    i += 1;
                    continue;
                }
                Plain::Quote => {
                    let q = if plain_quote_opens(b, i) { "``" } else { "''" };
                    emit(&mut word, i, Some(q));
                    i += 1;
                    continue;
                }
                Plain::Alone => (Some(1), 1),
                Plain::Dot => {
                    let run = b[i..].iter().take_while(|&&d| d == b'.').count();
                    let alone = run >= 2 || final_dot == Some(i);
                    (alone.then_some(run), run.max(1))
                }
                Plain::Dash => {
                    let pair = b.get(i + 1) == Some(&b'-');
                    (pair.then_some(2), if pair { 2 } else { 1 })
                }
                Plain::Sep => {
                    let matched =
                        i != no_sep_at && s[i + 1..].chars().next().is_some_and(|d| !py::is_nd(d));
                    if matched {
                        no_sep_at = i + 1;
                    }
                    ((matched || final_sep == Some(i)).then_some(1), 1)
                }
                Plain::Word | Plain::Apostrophe | Plain::Other => (None, 1),
            }
        };
        match alone {
            Some(n) => emit(&mut word, i, Some(&s[i..i + n])),
            None => {
                word.get_or_insert(i);
            }
        }
        i += n;
    }
    emit(&mut word, b.len(), None);
    true
}

/// The clitic rules on one word of a plain sentence, whose `'`s are between ASCII letters:
/// `([^' ])('[sS]|'[mM]|'[dD]|') ` and then `([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) `, each
/// splitting off the clitic that ends a token (the space after it: the token's end) when a
/// char other than `'` is before it in the token.
fn plain_clitics(w: &str, f: &mut impl FnMut(&str)) {
    if !w.as_bytes().contains(&b'\'') {
        return f(w);
    }
    let split = |w: &'_ str, sufs: &[&str]| -> Option<usize> {
        let suf = sufs.iter().find(|x| w.ends_with(**x))?;
        let at = w.len() - suf.len();
        (at > 0 && w.as_bytes()[at - 1] != b'\'').then_some(at)
    };
    let (head, first) = match split(w, &["'s", "'S", "'m", "'M", "'d", "'D"]) {
        Some(at) => (&w[..at], Some(&w[at..])),
        None => (w, None),
    };
    match split(
        head,
        &["'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"],
    ) {
        Some(at) => {
            f(&head[..at]);
            f(&head[at..]);
        }
        None => f(head),
    }
    if let Some(t) = first {
        f(t);
    }
}

/// `NLTKWordTokenizer().tokenize(sentence)`.
pub fn treebank_tokenize(sentence: &str) -> Vec<String> {
    let mut t = apply(sentence.to_string(), &STARTING_QUOTES);
    if t.contains('\'') {
        t = quote_start(&t);
    }
    t = final_period(&t, "])}>\"'»”’ ", true);
    t = apply(t, &PUNCTUATION_A);
    t = final_colon(&t);
    t = apply(t, &PUNCTUATION_B);
    t = final_period(&t, "])}>\"'", false);
    t = apply(t, &PUNCTUATION_C);
    t = format!(" {t} ");
    t = apply(t, &ENDING_QUOTES_A);
    t = collapse_spaces(&t);
    t = apply(t, &ENDING_QUOTES_B);
    let candidate = contraction_candidate(&t);
    for re in contractions().iter().filter(|_| candidate) {
        t = re.replace_all(&t, |c: &py::Caps| format!(" {} {} ", c.str(1), c.str(2)));
    }
    py::split_ws(&t).into_iter().map(String::from).collect()
}

/// `nltk.word_tokenize(text)`.
pub fn word_tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word_token(text, |t| out.push(t.to_string()));
    out
}

/// Call `f` on each token of `nltk.word_tokenize(text)`, in order (no token list is built).
///
/// Inside [`with_sentence_memo`], a sentence already tokenized on this thread reuses its
/// tokens: the loose evaluation tokenizes up to 8 variants of one response, which differ only
/// by a first or last line or by their `*`, so most of their sentences are the same strings,
/// and the Treebank tokenizer (a pure function of the sentence) is the costly part.
pub fn for_each_word_token(text: &str, mut f: impl FnMut(&str)) {
    for sentence in sent_tokenize(text) {
        sentence_tokens(sentence, &mut f);
    }
}

/// Call `f` on the Treebank tokens of one sentence of [`sent_tokenize`] (memoised as
/// [`for_each_word_token`] says).
fn sentence_tokens(sentence: &str, f: &mut impl FnMut(&str)) {
    // (a plain sentence is split faster than the memo is read)
    if plain_treebank(sentence, &mut *f) {
        return;
    }
    let memo = SENTENCE_MEMO.with(|m| {
        m.borrow_mut().as_mut().map(|memo| {
            // (looked up by the borrowed sentence: the key is copied only when it is new)
            if let Some(tokens) = memo.get(sentence) {
                return tokens.clone();
            }
            let tokens: std::rc::Rc<[String]> = treebank_tokenize(sentence).into();
            memo.insert(sentence.into(), tokens.clone());
            tokens
        })
    });
    match memo {
        Some(tokens) => tokens.iter().for_each(|t| f(t)),
        None => treebank_tokenize(sentence).iter().for_each(|t| f(t)),
    }
}

/// The first `n` tokens of `nltk.word_tokenize(text)` (all of them if there are fewer). The
/// tokens of a sentence depend on that sentence alone, so only the sentences that hold the
/// first `n` tokens are tokenized: `words:start_verb` tags the first token from the first
/// three.
pub fn word_tokenize_head(text: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in sent_tokenize(text) {
        if out.len() >= n {
            break;
        }
        sentence_tokens(sentence, &mut |t| out.push(t.to_string()));
    }
    out.truncate(n);
    out
}

/// The last `n` tokens of `nltk.word_tokenize(text)` (all of them if there are fewer), from
/// the sentences that hold them (see [`word_tokenize_head`]).
pub fn word_tokenize_tail(text: &str, n: usize) -> Vec<String> {
    let mut last: Vec<Vec<String>> = Vec::new();
    let mut count = 0;
    for sentence in sent_tokenize(text).into_iter().rev() {
        if count >= n {
            break;
        }
        let mut tokens = Vec::new();
        sentence_tokens(sentence, &mut |t| tokens.push(t.to_string()));
        count += tokens.len();
        last.push(tokens);
    }
    let mut out: Vec<String> = last.into_iter().rev().flatten().collect();
    out.drain(..out.len().saturating_sub(n));
    out
}

type SentenceMemo = std::collections::HashMap<Box<str>, std::rc::Rc<[String]>, py::FastBuild>;

thread_local! {
    /// Treebank tokens by sentence, while a [`with_sentence_memo`] scope is open on the thread
    /// (None: no scope, nothing is kept).
    pub(super) static SENTENCE_MEMO: std::cell::RefCell<Option<SentenceMemo>> =
        const { std::cell::RefCell::new(None) };
}

/// Run `f` with the Treebank tokens of the sentences it tokenizes kept and reused (see
/// [`for_each_word_token`]); they are dropped when the outermost scope ends, so the memory is
/// that of one scope's texts (one response and its variants) and a scope never sees another's
/// sentences. Tokens are a pure function of the sentence, so results are the same with and
/// without the scope. Nested scopes share the outer one.
pub fn with_sentence_memo<R>(f: impl FnOnce() -> R) -> R {
    /// Ends the scope even if `f` panics.
    struct Close;
    impl Drop for Close {
        fn drop(&mut self) {
            SENTENCE_MEMO.with(|m| *m.borrow_mut() = None);
        }
    }
    let outer = SENTENCE_MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let outer = m.is_none();
        if outer {
            *m = Some(SentenceMemo::default());
        }
        outer
    });
    // (not `outer.then_some(Close)`: that builds a `Close` in an inner scope too, and dropping
    // it would end the outer scope)
    let _close = if outer { Some(Close) } else { None };
    f()
}
