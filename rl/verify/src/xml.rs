//! Well-formedness check for RAIF's `detectable_format:xml_format` (no official checker exists:
//! the answer, fences removed, must be one well-formed XML document: optional prolog, comments,
//! processing instructions and doctype, exactly one root element, balanced tags, quoted
//! attributes, and `&name;` / `&#N;` entities).

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_numeric() || c == '-' || c == '.' || c == '\u{b7}'
}

/// Ok(root element name) or Err(reason).
pub fn validate(s: &str) -> Result<String, String> {
    let mut doc = Doc {
        b: s.chars().collect(),
        i: 0,
        stack: Vec::new(),
        root: None,
        root_closed: false,
    };
    while let Some(&c) = doc.b.get(doc.i) {
        match c {
            '<' => doc.markup()?,
            '&' => doc.entity()?,
            _ => doc.text(c)?,
        }
    }
    if let Some(open) = doc.stack.last() {
        return Err(format!("<{open}> is never closed"));
    }
    doc.root.ok_or_else(|| "no root element".to_string())
}

/// The document being read: its chars, the position, the open elements.
struct Doc {
    b: Vec<char>,
    i: usize,
    /// The names of the elements open at `i`, outermost first.
    stack: Vec<String>,
    root: Option<String>,
    /// Whether the root element has been closed (nothing but misc may follow).
    root_closed: bool,
}

impl Doc {
    /// Whether the text at `i` starts with `p`.
    fn starts(&self, i: usize, p: &str) -> bool {
        let n = p.chars().count();
        self.b.len() >= i + n && self.b[i..].iter().take(n).copied().eq(p.chars())
    }

    /// Where `p` next occurs at or after `i`.
    fn find(&self, i: usize, p: &str) -> Option<usize> {
        let n = p.chars().count();
        let b = &self.b;
        (i..=b.len().saturating_sub(n)).find(|&k| b[k..k + n].iter().copied().eq(p.chars()))
    }

    /// The position of the first char at or after `j` that is not whitespace.
    fn skip_ws(&self, mut j: usize) -> usize {
        while j < self.b.len() && self.b[j].is_whitespace() {
            j += 1;
        }
        j
    }

    /// The run of name chars from `j`, and the position after it.
    fn name(&self, mut j: usize) -> (String, usize) {
        let mut name = String::new();
        while j < self.b.len() && is_name_char(self.b[j]) {
            name.push(self.b[j]);
            j += 1;
        }
        (name, j)
    }

    /// A `<`: a comment, a processing instruction, CDATA, a doctype or a tag.
    fn markup(&mut self) -> Result<(), String> {
        let i = self.i;
        if self.starts(i, "<!--") {
            let e = self.find(i + 4, "-->").ok_or("unterminated comment")?;
            self.i = e + 3;
        } else if self.starts(i, "<?") {
            let e = self
                .find(i + 2, "?>")
                .ok_or("unterminated processing instruction")?;
            self.i = e + 2;
        } else if self.starts(i, "<![CDATA[") {
            if self.stack.is_empty() {
                return Err("CDATA outside the root element".into());
            }
            let e = self.find(i + 9, "]]>").ok_or("unterminated CDATA")?;
            self.i = e + 3;
        } else if self.starts(i, "<!") {
            if self.root.is_some() {
                return Err("doctype after the root element".into());
            }
            let e = self.find(i + 2, ">").ok_or("unterminated doctype")?;
            self.i = e + 1;
        } else if self.starts(i, "</") {
            self.closing_tag()?;
        } else {
            self.opening_tag()?;
        }
        Ok(())
    }

    /// `</name>`, which must close the innermost open element.
    fn closing_tag(&mut self) -> Result<(), String> {
        let (name, j) = self.name(self.i + 2);
        let j = self.skip_ws(j);
        if self.b.get(j) != Some(&'>') {
            return Err(format!("malformed closing tag </{name}"));
        }
        match self.stack.pop() {
            Some(open) if open == name => {}
            Some(open) => return Err(format!("</{name}> closes <{open}>")),
            None => return Err(format!("</{name}> without an opening tag")),
        }
        if self.stack.is_empty() {
            self.root_closed = true;
        }
        self.i = j + 1;
        Ok(())
    }

    /// `<name attr="v" …>` or `<name … />`.
    fn opening_tag(&mut self) -> Result<(), String> {
        let i = self.i;
        if !self.b.get(i + 1).is_some_and(|&c| is_name_start(c)) {
            return Err(format!("'<' not followed by a tag name at char {i}"));
        }
        let (name, mut j) = self.name(i + 1);
        if self.root_closed {
            return Err(format!("second root element <{name}>"));
        }
        let mut attrs: Vec<String> = Vec::new();
        loop {
            let ws = j;
            j = self.skip_ws(j);
            match self.b.get(j) {
                None => return Err(format!("unterminated tag <{name}")),
                Some('>') => {
                    self.root.get_or_insert_with(|| name.clone());
                    self.stack.push(name);
                    self.i = j + 1;
                    return Ok(());
                }
                Some('/') if self.b.get(j + 1) == Some(&'>') => {
                    self.root.get_or_insert(name);
                    if self.stack.is_empty() {
                        self.root_closed = true;
                    }
                    self.i = j + 2;
                    return Ok(());
                }
                Some(&c) if is_name_start(c) && j > ws => {
                    let (an, end) = self.attribute(j, &name)?;
                    if attrs.contains(&an) {
                        return Err(format!("duplicate attribute {an}"));
                    }
                    attrs.push(an);
                    j = end;
                }
                Some(c) => return Err(format!("unexpected {c:?} in tag <{name}>")),
            }
        }
    }

    /// The attribute `an = "v"` (or `'v'`) at `j` of the tag `tag`: its name and the position
    /// after its closing quote.
    fn attribute(&self, j: usize, tag: &str) -> Result<(String, usize), String> {
        let (an, j) = self.name(j);
        let j = self.skip_ws(j);
        if self.b.get(j) != Some(&'=') {
            return Err(format!("attribute {an} of <{tag}> has no value"));
        }
        let mut j = self.skip_ws(j + 1);
        let q = match self.b.get(j) {
            Some(&q) if q == '"' || q == '\'' => q,
            _ => return Err(format!("attribute {an} of <{tag}> is not quoted")),
        };
        j += 1;
        while j < self.b.len() && self.b[j] != q {
            if self.b[j] == '<' {
                return Err(format!("'<' in attribute {an}"));
            }
            j += 1;
        }
        if j >= self.b.len() {
            return Err(format!("unterminated attribute {an}"));
        }
        Ok((an, j + 1))
    }

    /// `&name;`, `&#N;` or `&#xH;`, inside the root element.
    fn entity(&mut self) -> Result<(), String> {
        let i = self.i;
        let e = (i + 1..self.b.len())
            .find(|&k| self.b[k] == ';')
            .ok_or("'&' without ';'")?;
        let ent: String = self.b[i + 1..e].iter().collect();
        let ok = matches!(ent.as_str(), "amp" | "lt" | "gt" | "quot" | "apos")
            || (ent.starts_with("#x")
                && ent.len() > 2
                && ent[2..].chars().all(|c| c.is_ascii_hexdigit()))
            || (ent.starts_with('#')
                && ent.len() > 1
                && ent[1..].chars().all(|c| c.is_ascii_digit()))
            || (!ent.is_empty() && ent.chars().all(is_name_char));
        if !ok {
            return Err(format!("bad entity &{ent};"));
        }
        if self.stack.is_empty() {
            return Err("text outside the root element".into());
        }
        self.i = e + 1;
        Ok(())
    }

    /// A char of text `c`: only whitespace outside the root element.
    fn text(&mut self, c: char) -> Result<(), String> {
        if self.stack.is_empty() && !c.is_whitespace() {
            return Err(format!("text outside the root element at char {}", self.i));
        }
        self.i += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml() {
        assert!(super::validate("<?xml version=\"1.0\"?><a x='1'><b/>t &amp; u</a>").is_ok());
        assert!(super::validate("<a><b></a></b>").is_err());
        assert!(super::validate("<a></a><b></b>").is_err());
        assert!(super::validate("hello").is_err());
    }
}
