//! The translation of a Python `re` pattern into fancy-regex syntax ([`translate`]), read left
//! to right by a [`Translator`] with one method per construct: a character set and its
//! members, a quantifier, an escape, a group (plain, comment, extension, named, back-reference,
//! inline flags) and the single-character atoms and assertions.

use super::{PatternError, W};

/// Python's `\s` as a class body (`\s` plus U+001C..U+001F).
const S: &str = r"\s\x{1c}-\x{1f}";

/// What the translation last emitted, for the errors `re.compile` raises on quantifiers.
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
    let mut t = Translator::new(pat, ignore_case, multiline, exact_b);
    while t.i < t.chars.len() {
        if t.in_class {
            t.class_member()?;
        } else {
            t.construct()?;
        }
    }
    if t.in_class {
        return Err(PatternError(format!(
            "unterminated character set in {pat:?}"
        )));
    }
    Ok(t.out)
}

/// The error `re.compile` raises for the construct at char position `at`.
fn err<T>(m: &str, at: usize) -> Result<T, PatternError> {
    Err(PatternError(format!("{m} at position {at}")))
}

/// Python's IGNORECASE also equates i, I, dotless ı and dotted İ (sre's case equivalences and
/// simple lowercase); Rust's case folding does not.
fn is_i(c: char) -> bool {
    matches!(c, 'i' | 'I' | 'ı' | 'İ')
}

/// Whether the pattern starts with global flag groups, e.g. `(?a)`, that give re.ASCII.
fn leading_ascii_flag(chars: &[char]) -> bool {
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
}

/// The inline flags of `s` that fancy-regex knows (`imsx`; `a`, `u`, `L` are handled here).
fn engine_flags(s: &str) -> String {
    s.chars().filter(|f| "imsx".contains(*f)).collect()
}

/// One translation in progress: the pattern's chars, the output so far, and the position.
struct Translator {
    chars: Vec<char>,
    out: String,
    /// The char being translated.
    i: usize,
    in_class: bool,
    /// Where the current set's members start (a `]` there is a literal).
    class_start: usize,
    /// MULTILINE: given, or set by a global `(?m)`.
    ml: bool,
    /// IGNORECASE anywhere in the pattern: given, or an inline `(?i`.
    ic: bool,
    exact_b: bool,
    /// re.ASCII given as a leading global flag group.
    ascii: bool,
    last: Last,
    /// Only global flag groups seen so far (they must all come first).
    only_flags_so_far: bool,
}

impl Translator {
    fn new(pat: &str, ignore_case: bool, multiline: bool, exact_b: bool) -> Translator {
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
        Translator {
            ascii: leading_ascii_flag(&chars),
            chars,
            out,
            i: 0,
            in_class: false,
            class_start: 0,
            ml: multiline,
            ic: ignore_case || pat.contains("(?i"),
            exact_b,
            last: Last::Nothing,
            only_flags_so_far: true,
        }
    }

    fn at(&self, k: usize) -> Option<char> {
        self.chars.get(k).copied()
    }

    /// One member of a character set (or its closing `]`).
    fn class_member(&mut self) -> Result<(), PatternError> {
        let c = self.chars[self.i];
        if self.ic && is_i(c) {
            self.out.push_str("iIıİ");
            self.i += 1;
            return Ok(());
        }
        if self.ic && self.class_range_with_i(c) {
            return Ok(());
        }
        match c {
            '\\' => {
                let (s, n) = escape(&self.chars, self.i, true, self.exact_b, self.ascii)?;
                self.out.push_str(&s);
                self.i += n;
                return Ok(());
            }
            ']' if self.i > self.class_start => {
                self.in_class = false;
                self.out.push(']');
                self.last = Last::Atom;
            }
            '[' | '&' | '~' => {
                self.out.push('\\');
                self.out.push(c);
            }
            '-' if self.at(self.i + 1) == Some('-') => self.out.push_str("\\-"),
            _ => self.out.push(c),
        }
        self.i += 1;
        Ok(())
    }

    /// A literal range `c-d` in a set under IGNORECASE that covers `i` or `I`: the range plus
    /// the Turkish i's (false, having done nothing, for anything else).
    fn class_range_with_i(&mut self, c: char) -> bool {
        let i = self.i;
        if c == '\\'
            || self.at(i + 1) != Some('-')
            || !self.at(i + 2).is_some_and(|d| d != ']' && d != '\\')
        {
            return false;
        }
        let d = self.chars[i + 2];
        if !((c <= 'i' && 'i' <= d) || (c <= 'I' && 'I' <= d)) {
            return false;
        }
        self.out.push(c);
        self.out.push('-');
        self.out.push(d);
        self.out.push_str("ıİ");
        self.i += 3;
        true
    }

    /// The construct that starts at char `i`, outside a set.
    fn construct(&mut self) -> Result<(), PatternError> {
        let c = self.chars[self.i];
        if !(self.at_flag_group() || self.at_comment()) {
            self.only_flags_so_far = false;
        }
        if let Some(len) = self.quantifier_len(c) {
            return self.quantifier(c, len);
        }
        if self.ic && is_i(c) {
            self.out.push_str("[iIıİ]");
            self.last = Last::Atom;
            self.i += 1;
            return Ok(());
        }
        match c {
            '\\' => self.escape_outside_class(),
            '[' => {
                self.open_class();
                Ok(())
            }
            '(' => self.group(),
            _ => {
                self.single_char(c);
                Ok(())
            }
        }
    }

    /// Whether a global flag group `(?letters)` starts at `i`.
    fn at_flag_group(&self) -> bool {
        let i = self.i;
        self.at(i) == Some('(') && self.at(i + 1) == Some('?') && {
            let mut j = i + 2;
            while j < self.chars.len() && self.chars[j].is_ascii_alphabetic() {
                j += 1;
            }
            j > i + 2 && self.at(j) == Some(')')
        }
    }

    /// Whether a comment `(?#...)` starts at `i`.
    fn at_comment(&self) -> bool {
        let i = self.i;
        self.at(i) == Some('(') && self.at(i + 1) == Some('?') && self.at(i + 2) == Some('#')
    }

    /// The length in chars of the quantifier `c` starts at `i` (`*`, `+`, `?`, `{m}`, `{m,}`,
    /// `{,n}`, `{m,n}`), if it is one (a `{` that is not a quantifier is a literal).
    fn quantifier_len(&self, c: char) -> Option<usize> {
        if matches!(c, '*' | '+' | '?') {
            return Some(1);
        }
        if c != '{' {
            return None;
        }
        let rest: String = self.chars[self.i..].iter().take(40).collect();
        static Q: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"^\{([0-9]*)(,([0-9]*))?\}").expect("static regex")
        });
        Q.captures(&rest).and_then(|m| {
            let a = m.get(1).map(|x| x.as_str()).unwrap_or("");
            let has_comma = m.get(2).is_some();
            (has_comma || !a.is_empty())
                .then(|| m.get(0).map(|x| x.as_str().chars().count()).unwrap_or(1))
        })
    }

    /// A quantifier of `len` chars starting with `c`: "nothing to repeat" after nothing or an
    /// assertion, "multiple repeat" after a quantifier (except the lazy `?` and possessive `+`
    /// suffixes), `{,n}` written `{0,n}`.
    fn quantifier(&mut self, c: char, len: usize) -> Result<(), PatternError> {
        match self.last {
            Last::Nothing | Last::Assert => return err("nothing to repeat", self.i),
            Last::Repeat if c == '?' || c == '+' => {
                self.out.push(c);
                self.last = Last::RepeatDone;
                self.i += 1;
                return Ok(());
            }
            Last::Repeat | Last::RepeatDone => return err("multiple repeat", self.i),
            Last::Atom => {}
        }
        if c == '{' {
            let q: String = self.chars[self.i + 1..self.i + len - 1].iter().collect();
            let (a, b) = match q.split_once(',') {
                Some((a, b)) => (a.to_string(), Some(b.to_string())),
                None => (q.clone(), None),
            };
            self.out.push('{');
            self.out.push_str(if a.is_empty() { "0" } else { &a });
            if let Some(b) = b {
                self.out.push(',');
                self.out.push_str(&b);
            }
            self.out.push('}');
        } else {
            self.out.push(c);
        }
        self.last = Last::Repeat;
        self.i += len;
        Ok(())
    }

    /// An escape outside a set: a class, a char, a back-reference or an assertion.
    fn escape_outside_class(&mut self) -> Result<(), PatternError> {
        let (s, n) = escape(&self.chars, self.i, false, self.exact_b, self.ascii)?;
        self.out.push_str(&s);
        self.last = if matches!(self.at(self.i + 1), Some('b' | 'B' | 'A' | 'Z')) {
            Last::Assert
        } else {
            Last::Atom
        };
        self.i += n;
        Ok(())
    }

    /// The `[` that opens a set, with its `^` and a leading `]` (a literal in Python).
    fn open_class(&mut self) {
        self.in_class = true;
        self.out.push('[');
        self.i += 1;
        if self.at(self.i) == Some('^') {
            self.out.push('^');
            self.i += 1;
        }
        self.class_start = self.i;
        if self.at(self.i) == Some(']') {
            self.out.push_str("\\]");
            self.i += 1;
        }
    }

    /// A char that is a construct alone: `$` (which also matches before a final newline
    /// without MULTILINE), `^`, `|`, `)`, a literal `{` or `}`, or a literal char.
    fn single_char(&mut self, c: char) {
        match c {
            '$' => {
                if self.ml {
                    self.out.push('$');
                } else {
                    self.out.push_str(r"(?:(?=\n\z)|\z)");
                }
                self.last = Last::Assert;
            }
            '^' => {
                self.out.push('^');
                self.last = Last::Assert;
            }
            '|' => {
                self.out.push('|');
                self.last = Last::Nothing;
            }
            ')' => {
                self.out.push(')');
                self.last = Last::Atom;
            }
            '{' => {
                self.out.push_str("\\{");
                self.last = Last::Atom;
            }
            '}' => {
                self.out.push_str("\\}");
                self.last = Last::Atom;
            }
            _ => {
                self.out.push(c);
                self.last = Last::Atom;
            }
        }
        self.i += 1;
    }

    /// A `(`: a plain group, or one of the `(?` forms.
    fn group(&mut self) -> Result<(), PatternError> {
        if self.at(self.i + 1) != Some('?') {
            self.out.push('(');
            self.last = Last::Nothing;
            self.i += 1;
            return Ok(());
        }
        let rest: String = self.chars[self.i..].iter().take(200).collect();
        if rest.starts_with("(?#") {
            self.skip_comment();
            return Ok(());
        }
        if let Some(f) = ["(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>"]
            .iter()
            .find(|f| rest.starts_with(**f))
        {
            self.out.push_str(f);
            self.i += f.chars().count();
            self.last = Last::Nothing;
            return Ok(());
        }
        if let Some(r) = rest.strip_prefix("(?P<") {
            return self.named_group(r);
        }
        if let Some(r) = rest.strip_prefix("(?P=") {
            return self.named_backref(r);
        }
        self.inline_flags()
    }

    /// A comment group `(?#...)`: dropped.
    fn skip_comment(&mut self) {
        while self.i < self.chars.len() && self.chars[self.i] != ')' {
            self.i += 1;
        }
        self.i += 1;
    }

    /// `(?P<name>`, `r` being what follows `(?P<`.
    fn named_group(&mut self, r: &str) -> Result<(), PatternError> {
        let name: String = r.chars().take_while(|&c| c != '>').collect();
        if name.is_empty()
            || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
            || !r.contains('>')
        {
            return err("bad character in group name", self.i);
        }
        self.out.push_str("(?P<");
        self.out.push_str(&name);
        self.out.push('>');
        self.i += 4 + name.chars().count() + 1;
        self.last = Last::Nothing;
        Ok(())
    }

    /// `(?P=name)`, a back-reference by name, `r` being what follows `(?P=`.
    fn named_backref(&mut self, r: &str) -> Result<(), PatternError> {
        let name: String = r.chars().take_while(|&c| c != ')').collect();
        if !r.contains(')') {
            return err("missing ), unterminated name", self.i);
        }
        self.out.push_str(&format!(r"\k<{name}>"));
        self.i += 4 + name.chars().count() + 1;
        self.last = Last::Atom;
        Ok(())
    }

    /// Inline flags: `(?aiLmsux)` global, or `(?aiLmsux-imsx:...)` scoped; any other `(?`
    /// (conditionals `(?(...)` and the rest) is left to the engine.
    fn inline_flags(&mut self) -> Result<(), PatternError> {
        let i = self.i;
        let mut j = i + 2;
        let mut on = String::new();
        while j < self.chars.len() && self.chars[j].is_ascii_alphabetic() {
            on.push(self.chars[j]);
            j += 1;
        }
        let mut off = String::new();
        if self.at(j) == Some('-') {
            j += 1;
            while j < self.chars.len() && self.chars[j].is_ascii_alphabetic() {
                off.push(self.chars[j]);
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
        match self.at(j) {
            Some(')') if off.is_empty() && !on.is_empty() => self.global_flags(&on, j),
            Some(':') if !on.is_empty() || !off.is_empty() => {
                self.scoped_flags(&on, &off, j);
                Ok(())
            }
            _ => {
                self.out.push('(');
                self.i += 1;
                self.last = Last::Nothing;
                Ok(())
            }
        }
    }

    /// A global flag group `(?on)` ending at char `j`: only at the start of the pattern.
    fn global_flags(&mut self, on: &str, j: usize) -> Result<(), PatternError> {
        if !self.only_flags_so_far {
            return err("global flags not at the start of the expression", self.i);
        }
        if on.contains('m') {
            self.ml = true;
        }
        let k = engine_flags(on);
        if !k.is_empty() {
            self.out.push_str(&format!("(?{k})"));
        }
        self.i = j + 1;
        Ok(())
    }

    /// A scoped flag group `(?on-off:` whose `:` is char `j`.
    fn scoped_flags(&mut self, on: &str, off: &str, j: usize) {
        let (k_on, k_off) = (engine_flags(on), engine_flags(off));
        if k_off.is_empty() {
            self.out.push_str(&format!("(?{k_on}:"));
        } else {
            self.out.push_str(&format!("(?{k_on}-{k_off}:"));
        }
        if k_on.is_empty() && k_off.is_empty() {
            self.out.truncate(self.out.len() - 3);
            self.out.push_str("(?:");
        }
        self.i = j + 1;
        self.last = Last::Nothing;
    }
}

/// The escape at char `i` of `chars` (a backslash), in a set or not: its translation and its
/// length in chars.
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
        if let Some(s) = ascii_escape(n, in_class) {
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

/// The translation of the escape `\` + `n` under re.ASCII, where `\w`, `\d`, `\s` and `\b` are
/// the ASCII classes (None: it translates as without re.ASCII).
fn ascii_escape(n: char, in_class: bool) -> Option<String> {
    const AW: &str = "0-9A-Za-z_";
    const AS: &str = r"\t\n\x0B\x0C\r ";
    match (n, in_class) {
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
    }
}
