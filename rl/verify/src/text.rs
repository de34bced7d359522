//! Text utilities of the official code: the regex sentence splitter of `instructions_util`
//! (`split_into_sentences`, used by IFBench), `emoji.is_emoji`, `syllapy.count`, Python's `csv`
//! reader, NFKD-to-ASCII folding and Unicode digit values.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::py::{self, PyRegex};
use crate::py_re;

fn sub(re: &PyRegex, text: &str, f: impl Fn(&py::Caps) -> String) -> String {
    re.replace_all(text, f)
}

fn g<'a>(c: &py::Caps<'a>, i: usize) -> &'a str {
    c.str(i)
}

const STARTERS: &str = r"(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\s|She\s|It\s|They\s|Their\s|Our\s|We\s|But\s|However\s|That\s|This\s|Wherever)";

/// `instructions_util.split_into_sentences(text)` (the regex splitter, not Punkt).
pub fn split_into_sentences(text: &str) -> Vec<String> {
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
        PyRegex::new(&format!(r" (Inc|Ltd|Jr|Sr|Co)[.] {STARTERS}"), false, false).expect("static")
    });
    t = sub(&SUF, &t, |c| format!(" {}<stop> {}", g(c, 1), g(c, 2)));
    t = sub(py_re!(r" (Inc|Ltd|Jr|Sr|Co)[.]"), &t, |c| {
        format!(" {}<prd>", g(c, 1))
    });
    t = sub(py_re!(r" ([A-Za-z])[.]"), &t, |c| {
        format!(" {}<prd>", g(c, 1))
    });
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

/// `emoji.is_emoji(c)` for a single character.
pub fn is_emoji(c: char) -> bool {
    static E: LazyLock<HashSet<u32>> = LazyLock::new(|| {
        include_str!("../data/emoji.txt")
            .lines()
            .filter_map(|l| u32::from_str_radix(l.trim(), 16).ok())
            .collect()
    });
    E.contains(&(c as u32))
}

/// `syllapy.count(word)`.
pub fn syllables(word: &str) -> i64 {
    // word -> count, the table build.rs makes of data/syllapy.csv
    static D: LazyLock<crate::table::Table<'static>> = LazyLock::new(|| table!("syllapy.bin"));
    let low = py::lower(py::strip(word));
    let w = py::strip_chars(&low, py::PUNCTUATION);
    if w.is_empty() {
        return 0;
    }
    if py_re!(r"\d").search(w).unwrap_or(false) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
