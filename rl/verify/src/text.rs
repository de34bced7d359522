//! Text utilities of the official code: the regex sentence splitter of `instructions_util`
//! (`split_into_sentences`, used by IFBench), `emoji.is_emoji`, `syllapy.count`, Python's `csv`
//! reader, NFKD-to-ASCII folding and Unicode digit values.

use std::sync::LazyLock;

use crate::py;

#[cfg_attr(not(test), allow(dead_code))] // (the pattern STARTER_ALTS spells out)
const STARTERS: &str = r"(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\s|She\s|It\s|They\s|Their\s|Our\s|We\s|But\s|However\s|That\s|This\s|Wherever)";

/// The alternatives of [`STARTERS`] in order, each with whether `\s` follows it.
const STARTER_ALTS: [(&str, bool); 20] = [
    ("Mr", false),
    ("Mrs", false),
    ("Ms", false),
    ("Dr", false),
    ("Prof", false),
    ("Capt", false),
    ("Cpt", false),
    ("Lt", false),
    ("He", true),
    ("She", true),
    ("It", true),
    ("They", true),
    ("Their", true),
    ("Our", true),
    ("We", true),
    ("But", true),
    ("However", true),
    ("That", true),
    ("This", true),
    ("Wherever", false),
];

/// The [`STARTERS`] group at the start of `s`: the first alternative that matches (nothing
/// follows the group in the patterns, so it is the one taken).
fn starter(s: &str) -> Option<&str> {
    STARTER_ALTS.iter().find_map(|&(w, space)| {
        let rest = s.strip_prefix(w)?;
        if !space {
            return Some(&s[..w.len()]);
        }
        let c = rest.chars().next().filter(|&c| py::is_space(c))?;
        Some(&s[..w.len() + c.len_utf8()])
    })
}

/// The first of `alts` that `s` starts with and that is followed by `then`.
fn alt_then<'a>(s: &str, alts: &[&'a str], then: &str) -> Option<&'a str> {
    alts.iter()
        .find(|a| s.strip_prefix(**a).is_some_and(|r| r.starts_with(then)))
        .copied()
}

fn ascii_letter(s: &str, at: usize) -> Option<char> {
    s.as_bytes()
        .get(at)
        .filter(|b| b.is_ascii_alphabetic())
        .map(|&b| b as char)
}

/// Where a hand-written pattern's matches can start (see [`py::rewrite_at`]).
#[derive(Clone, Copy)]
enum Starts {
    /// At the byte `.0` minus `.1` bytes (every match has it there).
    Anchor(u8, usize),
    /// At one of three bytes (every match starts with one of them).
    Bytes3(u8, u8, u8),
    /// Two chars before a '.' that follows an ASCII letter (`\s([A-Za-z])[.] `).
    SpaceLetterDot,
    /// At one of these byte offsets (decreasing) before a '.' (every match has its '.' at
    /// one of them): far fewer candidates than a byte as common as the space.
    BeforeDot(&'static [usize]),
}

fn starts(t: &str, s: Starts) -> Box<dyn FnMut(usize) -> Option<usize> + '_> {
    match s {
        Starts::Anchor(b, offset) => Box::new(py::anchored(t, b, offset)),
        Starts::Bytes3(a, b, c) => Box::new(move |pos| {
            let bytes = t.as_bytes().get(pos..)?;
            Some(pos + memchr::memchr3(a, b, c, bytes)?)
        }),
        Starts::BeforeDot(offsets) => Box::new(move |pos| {
            // (a candidate for the dot at p is p − o; they increase with p, and for one dot
            // with decreasing o)
            let b = t.as_bytes();
            let mut from = pos + offsets.last().copied().unwrap_or(0);
            loop {
                let p = from + memchr::memchr(b'.', b.get(from..)?)?;
                for &o in offsets {
                    if let Some(i) = p.checked_sub(o) {
                        if i >= pos && t.is_char_boundary(i) {
                            return Some(i);
                        }
                    }
                }
                from = p + 1;
            }
        }),
        Starts::SpaceLetterDot => Box::new(move |pos| {
            // every match is (a char) (an ASCII letter) '.', so its '.' is 2 chars after its
            // start; the candidates come in increasing order (two such '.' are 2+ bytes apart)
            let b = t.as_bytes();
            let mut from = pos + 2;
            loop {
                let p = from + memchr::memchr(b'.', b.get(from..)?)?;
                from = p + 1;
                if !b[p - 1].is_ascii_alphabetic() {
                    continue;
                }
                let Some(c) = t[..p - 1].chars().next_back() else {
                    continue;
                };
                let i = p - 1 - c.len_utf8();
                if i >= pos {
                    return Some(i);
                }
            }
        }),
    }
}

/// `t` with the matches of a hand-written pattern replaced.
fn apply(t: String, s: Starts, m: impl Fn(&str, usize) -> Option<(usize, String)>) -> String {
    match py::rewrite_at(&t, starts(&t, s), m) {
        Some(r) => r,
        None => t,
    }
}

/// `instructions_util.split_into_sentences(text)` (the regex splitter, not Punkt). Each
/// `re.sub` is done by hand, by a matcher that says whether (and with what) its pattern
/// matches at a position, taking the pattern's alternatives in order; the patterns are in the
/// comments and a test compares the whole with the regex version.
pub fn split_into_sentences(text: &str) -> Vec<String> {
    // format!(" {text}  ").replace('\n', " ")
    let mut t = String::with_capacity(text.len() + 3);
    t.push(' ');
    let mut last = 0;
    for i in memchr::memchr_iter(b'\n', text.as_bytes()) {
        t.push_str(&text[last..i]);
        t.push(' ');
        last = i + 1;
    }
    t.push_str(&text[last..]);
    t.push_str("  ");
    // (Mr|St|Mrs|Ms|Dr)[.] -> \1<prd>
    t = apply(t, Starts::Bytes3(b'M', b'S', b'D'), |t, i| {
        let a = alt_then(&t[i..], &["Mr", "St", "Mrs", "Ms", "Dr"], ".")?;
        Some((a.len() + 1, format!("{a}<prd>")))
    });
    // [.](com|net|org|io|gov|edu|me) -> <prd>\1
    t = apply(t, Starts::Anchor(b'.', 0), |t, i| {
        let rest = t[i..].strip_prefix('.')?;
        let a = alt_then(rest, &["com", "net", "org", "io", "gov", "edu", "me"], "")?;
        Some((1 + a.len(), format!("<prd>{a}")))
    });
    // ([0-9])[.]([0-9]) -> \1<prd>\2
    t = apply(t, Starts::Anchor(b'.', 1), |t, i| {
        match t.as_bytes().get(i..i + 3)? {
            [a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                Some((3, format!("{}<prd>{}", *a as char, *b as char)))
            }
            _ => None,
        }
    });
    // \.{2,} -> <prd> per dot, then <stop>
    t = apply(t, Starts::Anchor(b'.', 0), |t, i| {
        let rest = &t[i..];
        let n = rest.len() - rest.trim_start_matches('.').len();
        (n >= 2).then(|| (n, format!("{}<stop>", "<prd>".repeat(n))))
    });
    if t.contains("Ph.D") {
        t = t.replace("Ph.D.", "Ph<prd>D<prd>");
    }
    // \s([A-Za-z])[.]  -> " \1<prd> "
    t = apply(t, Starts::SpaceLetterDot, |t, i| {
        let c = t[i..].chars().next().filter(|&c| py::is_space(c))?;
        let j = i + c.len_utf8();
        let l = ascii_letter(t, j)?;
        t[j + 1..]
            .starts_with(". ")
            .then(|| (c.len_utf8() + 3, format!(" {l}<prd> ")))
    });
    // ([A-Z][.][A-Z][.](?:[A-Z][.])?) STARTERS -> \1<stop> \2 (the greedy optional part
    // first, then without it)
    t = apply(t, Starts::Anchor(b'.', 1), |t, i| {
        let b = t.as_bytes();
        let up_dot =
            |k: usize| b.get(k).is_some_and(u8::is_ascii_uppercase) && b.get(k + 1) == Some(&b'.');
        if !(up_dot(i) && up_dot(i + 2)) {
            return None;
        }
        [6, 4].into_iter().find_map(|g| {
            if g == 6 && !up_dot(i + 4) {
                return None;
            }
            let st = starter(t[i + g..].strip_prefix(' ')?)?;
            Some((g + 1 + st.len(), format!("{}<stop> {st}", &t[i..i + g])))
        })
    });
    // ([A-Za-z])[.]([A-Za-z])[.]([A-Za-z])[.] -> \1<prd>\2<prd>\3<prd>
    t = apply(t, Starts::Anchor(b'.', 1), |t, i| {
        let b = t.as_bytes();
        let l = |k: usize| ascii_letter(t, i + k);
        let dot = |k: usize| b.get(i + k) == Some(&b'.');
        if !dot(1) {
            return None;
        }
        let (x, y, z) = (l(0)?, l(2)?, l(4)?);
        (dot(1) && dot(3) && dot(5)).then(|| (6, format!("{x}<prd>{y}<prd>{z}<prd>")))
    });
    // ([A-Za-z])[.]([A-Za-z])[.] -> \1<prd>\2<prd>
    t = apply(t, Starts::Anchor(b'.', 1), |t, i| {
        let b = t.as_bytes();
        let l = |k: usize| ascii_letter(t, i + k);
        let dot = |k: usize| b.get(i + k) == Some(&b'.');
        if !dot(1) {
            return None;
        }
        let (x, y) = (l(0)?, l(2)?);
        (dot(1) && dot(3)).then(|| (4, format!("{x}<prd>{y}<prd>")))
    });
    // " (Inc|Ltd|Jr|Sr|Co)[.] STARTERS" -> " \1<stop> \2" (no alternative is a prefix of
    // another, so at most one can match)
    const SUFFIXES: [&str; 5] = ["Inc", "Ltd", "Jr", "Sr", "Co"];
    // (their '.' is 3 or 4 bytes after the space)
    const SUFFIX_DOT: &[usize] = &[4, 3];
    t = apply(t, Starts::BeforeDot(SUFFIX_DOT), |t, i| {
        let rest = t[i..].strip_prefix(' ')?;
        let a = alt_then(rest, &SUFFIXES, ". ")?;
        let st = starter(&rest[a.len() + 2..])?;
        Some((1 + a.len() + 2 + st.len(), format!(" {a}<stop> {st}")))
    });
    // " (Inc|Ltd|Jr|Sr|Co)[.]" -> " \1<prd>"
    t = apply(t, Starts::BeforeDot(SUFFIX_DOT), |t, i| {
        let rest = t[i..].strip_prefix(' ')?;
        let a = alt_then(rest, &SUFFIXES, ".")?;
        Some((1 + a.len() + 1, format!(" {a}<prd>")))
    });
    // " ([A-Za-z])[.]" -> " \1<prd>"
    t = apply(t, Starts::BeforeDot(&[2]), |t, i| {
        let b = t.as_bytes();
        let l = ascii_letter(t, i + 1)?;
        (b[i] == b' ' && b.get(i + 2) == Some(&b'.')).then(|| (3, format!(" {l}<prd>")))
    });
    split_marked(t)
}

include!(concat!(env!("OUT_DIR"), "/emoji.rs"));

/// `emoji.is_emoji(c)` for a single character: a search of the sorted table build.rs makes of
/// `data/emoji.txt` (parsing the file into a set on first use was 1% of checking IFBench's
/// samples, and the other thread waited for it).
pub fn is_emoji(c: char) -> bool {
    EMOJI.binary_search(&(c as u32)).is_ok()
}

/// `syllapy.count(word)`.
pub fn syllables(word: &str) -> i64 {
    let word = py::strip(word);
    // an ASCII word (nearly all) is lowercased on the stack
    let mut buf = [0u8; 48];
    if word.is_ascii() && word.len() <= buf.len() {
        let low = &mut buf[..word.len()];
        low.copy_from_slice(word.as_bytes());
        low.make_ascii_lowercase();
        if let Ok(low) = std::str::from_utf8(low) {
            return syllables_of_lowered(low);
        }
    }
    syllables_of_lowered(&py::lower(word))
}

/// [`syllables`] of a stripped, lowercased word.
fn syllables_of_lowered(low: &str) -> i64 {
    // word -> count, the table build.rs makes of data/syllapy.csv
    static D: LazyLock<crate::table::Table<'static>> = LazyLock::new(|| table!("syllapy.bin"));
    let w = py::strip_chars(low, py::PUNCTUATION);
    if w.is_empty() {
        return 0;
    }
    // re.search(r"\d", w)
    if w.chars().any(py::is_nd) {
        return 0;
    }
    if let Some(n) = D.get(w.as_bytes()).and_then(|v| v.try_into().ok()) {
        return i64::from_le_bytes(n);
    }
    // re.match("([^-]+)-(.+)", word)
    if let Some(i) = w.find('-') {
        if i > 0 && w[i + 1..].chars().next().is_some_and(|c| c != '\n') {
            let rest = &w[i + 1..];
            let rest = rest.split('\n').next().unwrap_or("");
            let a = syllables(&w[..i]);
            let b = syllables(rest);
            if a == 0 || b == 0 {
                return 0;
            }
            return a + b;
        }
    }
    vowel_count(w)
}

/// syllapy's count of a word not in its table: vowel groups, less a final `e`, plus a final
/// `le` after a consonant, at least 1.
fn vowel_count(w: &str) -> i64 {
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut n = 0i64;
    // a vowel that starts the word or follows a non-vowel
    let mut prev_vowel = false;
    for c in w.chars() {
        let v = vowel(c);
        if v && !prev_vowel {
            n += 1;
        }
        prev_vowel = v;
    }
    if w.ends_with('e') {
        n -= 1;
    }
    if w.ends_with("le") && w.chars().rev().nth(2).is_some_and(|c| !vowel(c)) {
        n += 1;
    }
    if n == 0 {
        n += 1;
    }
    n
}

/// [`vowel_count`] as it was ported first, over a char vector (the reference it is tested
/// against).
#[cfg(test)]
fn vowel_count_reference(w: &str) -> i64 {
    let vowels = "aeiouy";
    let c: Vec<char> = w.chars().collect();
    let mut n = 0i64;
    if vowels.contains(c[0]) {
        n += 1;
    }
    for i in 1..c.len() {
        if vowels.contains(c[i]) && !vowels.contains(c[i - 1]) {
            n += 1;
        }
    }
    if w.ends_with('e') {
        n -= 1;
    }
    if w.ends_with("le") && c.len() > 2 && !vowels.contains(c[c.len() - 3]) {
        n += 1;
    }
    if n == 0 {
        n += 1;
    }
    n
}

/// `list(csv.reader(io.StringIO(value), delimiter=d))` with the excel dialect; Err is `csv.Error`.
pub fn csv_rows(value: &str, delim: char) -> Result<Vec<Vec<String>>, String> {
    #[derive(PartialEq, Clone, Copy)]
    enum St {
        StartRecord,
        StartField,
        InField,
        InQuoted,
        QuoteInQuoted,
        EatCrnl,
    }
    let mut rows = Vec::new();
    let mut st = St::StartRecord;
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut field_len = 0usize;
    // StringIO lines: split after each '\n'
    let mut lines: Vec<&str> = value.split_inclusive('\n').collect();
    if value.is_empty() {
        lines.clear();
    }
    let mut li = 0;
    loop {
        if li >= lines.len() {
            if field_len != 0 || st == St::InQuoted {
                fields.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut fields));
            }
            break;
        }
        // one record may span several lines
        while let Some(line) = lines.get(li) {
            li += 1;
            let chars = line.chars().map(Some).chain(std::iter::once(None));
            for c in chars {
                // None is EOL
                let nl = matches!(c, Some('\n') | Some('\r'));
                macro_rules! save {
                    () => {{
                        fields.push(std::mem::take(&mut field));
                        field_len = 0;
                    }};
                }
                let mut cur = st;
                if cur == St::StartRecord {
                    if c.is_none() {
                        continue;
                    } else if nl {
                        st = St::EatCrnl;
                        continue;
                    }
                    st = St::StartField;
                    cur = St::StartField;
                }
                match cur {
                    St::StartField => {
                        if nl || c.is_none() {
                            save!();
                            st = if c.is_none() {
                                St::StartRecord
                            } else {
                                St::EatCrnl
                            };
                        } else if c == Some('"') {
                            st = St::InQuoted;
                        } else if c == Some(delim) {
                            save!();
                        } else if let Some(ch) = c {
                            field.push(ch);
                            field_len += 1;
                            st = St::InField;
                        }
                    }
                    St::InField => {
                        if nl || c.is_none() {
                            save!();
                            st = if c.is_none() {
                                St::StartRecord
                            } else {
                                St::EatCrnl
                            };
                        } else if c == Some(delim) {
                            save!();
                            st = St::StartField;
                        } else if let Some(ch) = c {
                            field.push(ch);
                            field_len += 1;
                        }
                    }
                    St::InQuoted => {
                        if c.is_none() {
                        } else if c == Some('"') {
                            st = St::QuoteInQuoted;
                        } else if let Some(ch) = c {
                            field.push(ch);
                            field_len += 1;
                        }
                    }
                    St::QuoteInQuoted => {
                        if c == Some('"') {
                            field.push('"');
                            field_len += 1;
                            st = St::InQuoted;
                        } else if c == Some(delim) {
                            save!();
                            st = St::StartField;
                        } else if nl || c.is_none() {
                            save!();
                            st = if c.is_none() {
                                St::StartRecord
                            } else {
                                St::EatCrnl
                            };
                        } else if let Some(ch) = c {
                            field.push(ch);
                            field_len += 1;
                            st = St::InField;
                        }
                    }
                    St::EatCrnl => {
                        if nl {
                        } else if c.is_none() {
                            st = St::StartRecord;
                        } else {
                            return Err("new-line character seen in unquoted field".into());
                        }
                    }
                    St::StartRecord => {}
                }
            }
            if st == St::StartRecord {
                break;
            }
        }
        if st == St::StartRecord {
            rows.push(std::mem::take(&mut fields));
        } else {
            // ran out of lines inside a record: the EOF rule above
            if field_len != 0 || st == St::InQuoted {
                fields.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut fields));
            } else if !fields.is_empty() {
                // fields saved but record not finished: CPython drops them (returns None)
            }
            break;
        }
    }
    Ok(rows)
}

/// `unicodedata.normalize('NFKD', s).encode('ASCII', 'ignore').decode('ASCII')`.
pub fn nfkd_ascii(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkd().filter(|c| c.is_ascii()).collect()
}

/// The value of a Unicode decimal digit (Python's `int()` accepts any of them).
pub fn digit_value(c: char) -> Option<u32> {
    if let Some(d) = c.to_digit(10) {
        return Some(d);
    }
    const ZEROS: &[u32] = &[
        0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
        0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
        0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
        0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
        0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
        0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
    ];
    let cp = c as u32;
    let z = ZEROS.iter().rev().find(|&&z| z <= cp)?;
    let d = cp - z;
    (d < 10).then_some(d)
}

/// Python `int(s)` for a string of decimal digits.
pub fn py_int(s: &str) -> Option<i64> {
    let mut v: i64 = 0;
    for c in s.chars() {
        v = v.checked_mul(10)?.checked_add(digit_value(c)? as i64)?;
    }
    Some(v)
}

/// The common end of the IFBench sentence splitter: quotes after the final punctuation, then
/// split at `<stop>` marks (`<prd>` restored to a period), strip, drop a final empty piece.
fn split_marked(mut t: String) -> Vec<String> {
    if t.contains('”') {
        t = t.replace(".”", "”.");
    }
    if t.contains('"') {
        t = t.replace(".\"", "\".");
    }
    if t.contains('!') {
        t = t.replace("!\"", "\"!");
    }
    if t.contains('?') {
        t = t.replace("?\"", "\"?");
    }
    // t.replace('.', ".<stop>").replace('?', "?<stop>").replace('!', "!<stop>")
    //  .replace("<prd>", ".").split("<stop>"), each piece stripped, in one pass: a '.', '?' or
    // '!' of `t` ends a piece (and stays in it), a "<stop>" ends one (and goes), a "<prd>" is
    // a '.' that ends nothing. (No replacement makes or unmakes another's match: "<stop>" and
    // "<prd>" cannot overlap, and a '.' put for "<prd>" is in neither.)
    let b = t.as_bytes();
    let mut s: Vec<String> = Vec::new();
    let mut cur = String::new();
    let (mut i, mut seg) = (0, 0);
    let mut end_piece = |cur: &mut String| {
        s.push(py::strip(cur).to_string());
        cur.clear();
    };
    while i < b.len() {
        match b[i] {
            b'.' | b'?' | b'!' => {
                cur.push_str(&t[seg..=i]);
                end_piece(&mut cur);
                i += 1;
                seg = i;
            }
            b'<' if b[i..].starts_with(b"<stop>") => {
                cur.push_str(&t[seg..i]);
                end_piece(&mut cur);
                i += 6;
                seg = i;
            }
            b'<' if b[i..].starts_with(b"<prd>") => {
                cur.push_str(&t[seg..i]);
                cur.push('.');
                i += 5;
                seg = i;
            }
            _ => i += 1,
        }
    }
    cur.push_str(&t[seg..]);
    end_piece(&mut cur);
    if s.last().is_some_and(|x| x.is_empty()) {
        s.pop();
    }
    s
}

#[cfg(test)]
mod reference {
    use super::*;
    use crate::py::PyRegex;
    use crate::py_re;

    fn sub(re: &PyRegex, text: &str, f: impl Fn(&py::Caps) -> String) -> String {
        re.replace_all(text, f)
    }

    fn g<'a>(c: &py::Caps<'a>, i: usize) -> &'a str {
        c.str(i)
    }

    /// The regex version of [`split_into_sentences`] (the reference the tests compare it with).
    pub(crate) fn split_into_sentences_reference(text: &str) -> Vec<String> {
        let mut t = format!(" {text}  ");
        t = t.replace('\n', " ");
        t = sub(py_re!(r"(Mr|St|Mrs|Ms|Dr)[.]"), &t, |c| {
            format!("{}<prd>", g(c, 1))
        });
        t = sub(py_re!(r"[.](com|net|org|io|gov|edu|me)"), &t, |c| {
            format!("<prd>{}", g(c, 1))
        });
        t = sub(py_re!(r"([0-9])[.]([0-9])"), &t, |c| {
            format!("{}<prd>{}", g(c, 1), g(c, 2))
        });
        t = sub(py_re!(r"\.{2,}"), &t, |c| {
            format!("{}<stop>", "<prd>".repeat(g(c, 0).chars().count()))
        });
        if t.contains("Ph.D") {
            t = t.replace("Ph.D.", "Ph<prd>D<prd>");
        }
        t = sub(py_re!(r"\s([A-Za-z])[.] "), &t, |c| {
            format!(" {}<prd> ", g(c, 1))
        });
        static ACR: LazyLock<PyRegex> = LazyLock::new(|| {
            PyRegex::new(
                &format!(r"([A-Z][.][A-Z][.](?:[A-Z][.])?) {STARTERS}"),
                false,
                false,
            )
            .expect("static")
        });
        t = sub(&ACR, &t, |c| format!("{}<stop> {}", g(c, 1), g(c, 2)));
        t = sub(
            py_re!(r"([A-Za-z])[.]([A-Za-z])[.]([A-Za-z])[.]"),
            &t,
            |c| format!("{}<prd>{}<prd>{}<prd>", g(c, 1), g(c, 2), g(c, 3)),
        );
        t = sub(py_re!(r"([A-Za-z])[.]([A-Za-z])[.]"), &t, |c| {
            format!("{}<prd>{}<prd>", g(c, 1), g(c, 2))
        });
        static SUF: LazyLock<PyRegex> = LazyLock::new(|| {
            PyRegex::new(&format!(r" (Inc|Ltd|Jr|Sr|Co)[.] {STARTERS}"), false, false)
                .expect("static")
        });
        t = sub(&SUF, &t, |c| format!(" {}<stop> {}", g(c, 1), g(c, 2)));
        t = sub(py_re!(r" (Inc|Ltd|Jr|Sr|Co)[.]"), &t, |c| {
            format!(" {}<prd>", g(c, 1))
        });
        t = sub(py_re!(r" ([A-Za-z])[.]"), &t, |c| {
            format!(" {}<prd>", g(c, 1))
        });
        split_marked_reference(t)
    }

    /// The end of the splitter as the official code writes it, one `replace` at a time.
    fn split_marked_reference(mut t: String) -> Vec<String> {
        t = t.replace(".”", "”.");
        t = t.replace(".\"", "\".");
        t = t.replace("!\"", "\"!");
        t = t.replace("?\"", "\"?");
        t = t
            .replace('.', ".<stop>")
            .replace('?', "?<stop>")
            .replace('!', "!<stop>")
            .replace("<prd>", ".");
        let mut s: Vec<String> = t
            .split("<stop>")
            .map(|x| py::strip(x).to_string())
            .collect();
        if s.last().is_some_and(|x| x.is_empty()) {
            s.pop();
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table holds exactly the code points of `data/emoji.txt`.
    #[test]
    fn emoji_table_is_the_file() {
        let set: std::collections::HashSet<u32> = include_str!("../data/emoji.txt")
            .lines()
            .filter_map(|l| u32::from_str_radix(l.trim(), 16).ok())
            .collect();
        assert!(set.len() > 1000);
        for cp in 0..=0x10FFFFu32 {
            if let Some(c) = char::from_u32(cp) {
                assert_eq!(is_emoji(c), set.contains(&cp), "U+{cp:04X}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// The stack-lowered count is the count of the word lowered by `str.lower`, and the
        /// vowel rule is the char-vector one, on words with every rule's chars (dictionary
        /// words, hyphens, digits, punctuation, spaces, "le", non-ASCII, long).
        #[test]
        fn syllables_equal_the_reference(
            w in "(The|table|Apple|co-operate|don't|x|yes|LE|able|ABLE)?[a-zA-Z'\\-.,!0-9 \t\né٣İ]{0,12}(le|e|y)?"
        ) {
            let low = py::lower(py::strip(&w));
            proptest::prop_assert_eq!(syllables(&w), syllables_of_lowered(&low), "{:?}", w);
            if !low.is_empty() {
                proptest::prop_assert_eq!(vowel_count(&low), vowel_count_reference(&low), "{:?}", w);
            }
        }
    }

    #[test]
    fn syllables_equal_the_reference_on_the_corpus() {
        let mut n = 0;
        for line in include_str!("../data/corpus.jsonl").lines().step_by(5) {
            let v: serde_json::Value = serde_json::from_str(line).expect("corpus line");
            for w in v["response"].as_str().unwrap_or("").split(' ') {
                let low = py::lower(py::strip(w));
                assert_eq!(syllables(w), syllables_of_lowered(&low), "{w:?}");
                if !low.is_empty() {
                    assert_eq!(vowel_count(&low), vowel_count_reference(&low), "{w:?}");
                }
                n += 1;
            }
        }
        let long = "Supercalifragilisticexpialidocious-antidisestablishmentarianism-le";
        assert_eq!(syllables(long), syllables_of_lowered(&py::lower(long)));
        assert!(n > 1000, "{n} words");
    }

    #[test]
    fn sentence_splitter_equals_the_regex_version() {
        let alphabet: Vec<char> = "MrsStDcomnegvdui.IncLtdJrCoPhAB HeWTyO\u{a0}\u{1c}\t\n01!?\"”xE"
            .chars()
            .collect();
        let mut texts = crate::py::tests::random_texts(&alphabet, 40_000, 16);
        let words = [
            "Mr.",
            "Mrs.",
            "St.",
            "Dr.",
            "Ms.",
            ".com",
            ".io",
            ".me",
            "3.5",
            "...",
            "Ph.D.",
            " a. ",
            "U.S.A. He ",
            "A.B. Mrs ",
            "A.B.C. They\t",
            " Inc. We ",
            " Co. Wherever",
            " Jr.",
            " x.",
            "e.g.",
            "i.e. ",
            "!\"",
            "?\"",
            ".\"",
            ".”",
            " Ltd. However ",
            // the splitter's own markers, written in the text
            "<stop>",
            "<prd>",
            "<st",
            "op>",
            "<pr",
            "d>",
            "<",
            ".<stop>",
        ];
        let mut x = 7u64;
        for _ in 0..20_000 {
            let mut t = String::new();
            for _ in 0..6 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.push_str(words[(x % words.len() as u64) as usize]);
                if x & 0x100 != 0 {
                    t.push(' ');
                }
            }
            texts.push(t);
        }
        for t in &texts {
            assert_eq!(
                split_into_sentences(t),
                crate::text::reference::split_into_sentences_reference(t),
                "{t:?}"
            );
        }
    }

    #[test]
    fn sentences() {
        assert_eq!(
            split_into_sentences("Hello there. How are you? Fine!"),
            vec!["Hello there.", "How are you?", "Fine!"]
        );
        assert!(split_into_sentences("").is_empty());
    }

    #[test]
    fn csv() {
        assert_eq!(
            csv_rows("a,b\n\n\"c,d\",e", ',').unwrap(),
            vec![vec!["a", "b"], vec![], vec!["c,d", "e"]]
        );
        assert!(csv_rows("a\rb", ',').is_err());
    }

    #[test]
    fn syllapy() {
        assert_eq!(syllables("hello"), 2);
        assert_eq!(syllables("table"), 2);
    }
}
