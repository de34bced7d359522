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
    s.split(is_space).filter(|w| !w.is_empty()).collect()
}

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

/// `s.strip(chars)`.
pub fn strip_chars<'a>(s: &'a str, chars: &str) -> &'a str {
    s.trim_matches(|c| chars.contains(c))
}

/// `s.lstrip(chars)`.
pub fn lstrip_chars<'a>(s: &'a str, chars: &str) -> &'a str {
    s.trim_start_matches(|c| chars.contains(c))
}

/// `s.rstrip(chars)`.
pub fn rstrip_chars<'a>(s: &'a str, chars: &str) -> &'a str {
    s.trim_end_matches(|c| chars.contains(c))
}

/// `s.lower()`.
pub fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// `s.translate(str.maketrans('', '', string.punctuation))`.
pub fn remove_punct(s: &str) -> String {
    s.chars().filter(|c| !PUNCTUATION.contains(*c)).collect()
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
    static ND: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^\p{Nd}$").expect("static regex"));
    if c.is_ascii_digit() {
        return true;
    }
    if c.is_ascii() {
        return false;
    }
    let mut b = [0u8; 4];
    ND.is_match(c.encode_utf8(&mut b))
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
    static L: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^\p{L}$").expect("static regex"));
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    let mut b = [0u8; 4];
    L.is_match(c.encode_utf8(&mut b))
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
                format!("[{W}]")
            }
        }
        'W' => format!("[^{W}]"),
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
                format!("(?:(?<=[{W}])(?![{W}])|(?<![{W}])(?=[{W}]))")
            } else {
                r"\b".into()
            }
        }
        'B' => {
            if exact_b {
                format!("(?:(?<=[{W}])(?=[{W}])|(?<![{W}])(?![{W}]))")
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

/// A compiled Python `re` pattern.
pub struct PyRegex {
    /// Exact translation (Python's `\b` through look-around).
    exact: fancy_regex::Regex,
    /// Same pattern with Rust's `\b` (equal to Python's on ASCII text); None when identical.
    ascii: Option<fancy_regex::Regex>,
    groups: usize,
}

impl PyRegex {
    /// Compile `pat` as `re.compile(pat, flags)` would.
    pub fn new(pat: &str, ignore_case: bool, multiline: bool) -> Result<Self, PatternError> {
        let exact_src = translate(pat, ignore_case, multiline, true)?;
        let ascii_src = translate(pat, ignore_case, multiline, false)?;
        let build = |s: &str| {
            fancy_regex::RegexBuilder::new(s)
                .backtrack_limit(5_000_000)
                .build()
                .map_err(|e| PatternError(format!("invalid pattern {pat:?}: {e}")))
        };
        let exact = build(&exact_src)?;
        let ascii = if ascii_src != exact_src {
            Some(build(&ascii_src)?)
        } else {
            None
        };
        let groups = exact.captures_len().saturating_sub(1);
        Ok(PyRegex {
            exact,
            ascii,
            groups,
        })
    }

    fn re_for(&self, text: &str) -> &fancy_regex::Regex {
        match &self.ascii {
            Some(a) if text.is_ascii() => a,
            _ => &self.exact,
        }
    }

    /// `re.search(...) is not None`.
    pub fn search(&self, text: &str) -> Result<bool, PatternError> {
        self.re_for(text)
            .is_match(text)
            .map_err(|e| PatternError(format!("regex failed: {e}")))
    }

    /// The first match's byte span.
    pub fn find(&self, text: &str) -> Result<Option<(usize, usize)>, PatternError> {
        self.re_for(text)
            .find(text)
            .map(|m| m.map(|m| (m.start(), m.end())))
            .map_err(|e| PatternError(format!("regex failed: {e}")))
    }

    /// Byte spans of `re.findall` / `re.finditer` matches.
    /// Python 3.7+ rules for empty matches: an empty match may follow a non-empty one at the
    /// same position; after an empty match the search must advance.
    pub fn find_all(&self, text: &str) -> Result<Vec<(usize, usize)>, PatternError> {
        let re = self.re_for(text);
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
        Ok(n * (1 + self.groups) + 1)
    }

    /// `re.sub(pattern, f, text)` with a replacement function.
    pub fn replace_all(&self, text: &str, f: impl Fn(&fancy_regex::Captures) -> String) -> String {
        let re = self.re_for(text);
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for c in re.captures_iter(text) {
            let Ok(c) = c else { break };
            let Some(m) = c.get(0) else { continue };
            out.push_str(&text[last..m.start()]);
            out.push_str(&f(&c));
            last = m.end();
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
    fn str_methods() {
        assert_eq!(split_ws(" a\u{1c}b  c "), vec!["a", "b", "c"]);
        assert!(is_upper("HELLO 1"));
        assert!(!is_upper("123"));
        assert!(is_lower("hello"));
        assert_eq!(slice_chars("héllo", 1, 3), "él");
        assert!(is_digit("²3"));
    }
}
