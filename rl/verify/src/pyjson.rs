//! `json.loads` acceptance with Python's rules (NaN/Infinity allowed, strict control
//! characters, lone surrogate escapes allowed, nesting bounded like CPython's recursion limit).

/// CPython raises RecursionError a little before 1000 nested containers (the recursion limit
/// less the caller's stack): the oracle accepts 991 nested arrays or objects and fails 992.
pub const MAX_DEPTH: usize = 991;

/// Err(message, char position) if Python's `json.loads(s)` would raise.
pub fn validate(s: &str) -> Result<(), (String, usize)> {
    let b: Vec<char> = s.chars().collect();
    let mut p = Parser { b: &b, i: 0 };
    p.ws();
    p.value(0)?;
    p.ws();
    if p.i != b.len() {
        return Err(("Extra data".into(), p.i));
    }
    Ok(())
}

struct Parser<'a> {
    b: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], ' ' | '\t' | '\n' | '\r') {
            self.i += 1;
        }
    }
    fn err<T>(&self, m: &str) -> Result<T, (String, usize)> {
        Err((m.to_string(), self.i))
    }
    fn lit(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        if self.i + n <= self.b.len() && self.b[self.i..self.i + n].iter().copied().eq(s.chars()) {
            self.i += n;
            true
        } else {
            false
        }
    }
    fn value(&mut self, depth: usize) -> Result<(), (String, usize)> {
        let Some(&c) = self.b.get(self.i) else {
            return self.err("Expecting value");
        };
        match c {
            '"' => self.string(),
            '{' => {
                if depth + 1 > MAX_DEPTH {
                    return self.err("maximum recursion depth exceeded");
                }
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    if self.b.get(self.i) != Some(&'"') {
                        return self.err("Expecting property name enclosed in double quotes");
                    }
                    self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&':') {
                        return self.err("Expecting ':' delimiter");
                    }
                    self.i += 1;
                    self.ws();
                    self.value(depth + 1)?;
                    self.ws();
                    match self.b.get(self.i) {
                        Some('}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        Some(',') => {
                            self.i += 1;
                            self.ws();
                        }
                        _ => return self.err("Expecting ',' delimiter"),
                    }
                }
            }
            '[' => {
                if depth + 1 > MAX_DEPTH {
                    return self.err("maximum recursion depth exceeded");
                }
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.ws();
                    match self.b.get(self.i) {
                        Some(']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        Some(',') => {
                            self.i += 1;
                            self.ws();
                        }
                        _ => return self.err("Expecting ',' delimiter"),
                    }
                }
            }
            'n' if self.lit("null") => Ok(()),
            't' if self.lit("true") => Ok(()),
            'f' if self.lit("false") => Ok(()),
            'N' if self.lit("NaN") => Ok(()),
            'I' if self.lit("Infinity") => Ok(()),
            '-' if self.lit("-Infinity") => Ok(()),
            '-' | '0'..='9' => self.number(),
            _ => self.err("Expecting value"),
        }
    }
    fn digits(&mut self) -> usize {
        let s = self.i;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        self.i - s
    }
    fn number(&mut self) -> Result<(), (String, usize)> {
        let start = self.i;
        if self.b.get(self.i) == Some(&'-') {
            self.i += 1;
        }
        match self.b.get(self.i) {
            Some('0') => self.i += 1,
            Some('1'..='9') => {
                self.digits();
            }
            _ => {
                self.i = start;
                return self.err("Expecting value");
            }
        }
        if self.b.get(self.i) == Some(&'.')
            && self.b.get(self.i + 1).is_some_and(|c| c.is_ascii_digit())
        {
            self.i += 1;
            self.digits();
        }
        if matches!(self.b.get(self.i), Some('e' | 'E')) {
            let save = self.i;
            self.i += 1;
            if matches!(self.b.get(self.i), Some('+' | '-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                self.i = save;
            }
        }
        Ok(())
    }
    fn string(&mut self) -> Result<(), (String, usize)> {
        self.i += 1;
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return self.err("Unterminated string");
            };
            match c {
                '"' => {
                    self.i += 1;
                    return Ok(());
                }
                '\\' => {
                    self.i += 1;
                    match self.b.get(self.i) {
                        Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => self.i += 1,
                        Some('u') => {
                            let ok = (1..=4).all(|k| {
                                self.b
                                    .get(self.i + k)
                                    .is_some_and(|c| c.is_ascii_hexdigit())
                            });
                            if !ok {
                                return self.err("Invalid \\uXXXX escape");
                            }
                            self.i += 5;
                        }
                        _ => return self.err("Invalid \\escape"),
                    }
                }
                c if (c as u32) < 0x20 => return self.err("Invalid control character"),
                _ => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validate;
    #[test]
    fn python_json() {
        for ok in [
            "{}",
            "[1, 2.5e3, NaN, -Infinity]",
            "\"\\ud800\"",
            " {\"a\": {\"b\": [null]}} ",
            "-0",
            "1E5",
        ] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "{'a': 1}",
            "[1,]",
            "01",
            "{\"a\" 1}",
            "\"a\tb\"",
            "1.",
            "[1] x",
            "nan",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
