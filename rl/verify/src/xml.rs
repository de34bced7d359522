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
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut stack: Vec<String> = Vec::new();
    let mut root: Option<String> = None;
    let mut root_closed = false;
    let starts = |i: usize, p: &str| {
        b.len() >= i + p.chars().count()
            && b[i..].iter().take(p.chars().count()).copied().eq(p.chars())
    };
    let find = |i: usize, p: &str| -> Option<usize> {
        let n = p.chars().count();
        (i..=b.len().saturating_sub(n)).find(|&k| b[k..k + n].iter().copied().eq(p.chars()))
    };
    while i < b.len() {
        let c = b[i];
        if c == '<' {
            if starts(i, "<!--") {
                let e = find(i + 4, "-->").ok_or("unterminated comment")?;
                i = e + 3;
            } else if starts(i, "<?") {
                let e = find(i + 2, "?>").ok_or("unterminated processing instruction")?;
                i = e + 2;
            } else if starts(i, "<![CDATA[") {
                if stack.is_empty() {
                    return Err("CDATA outside the root element".into());
                }
                let e = find(i + 9, "]]>").ok_or("unterminated CDATA")?;
                i = e + 3;
            } else if starts(i, "<!") {
                if root.is_some() {
                    return Err("doctype after the root element".into());
                }
                let e = find(i + 2, ">").ok_or("unterminated doctype")?;
                i = e + 1;
            } else if starts(i, "</") {
                let mut j = i + 2;
                let mut name = String::new();
                while j < b.len() && is_name_char(b[j]) {
                    name.push(b[j]);
                    j += 1;
                }
                while j < b.len() && b[j].is_whitespace() {
                    j += 1;
                }
                if b.get(j) != Some(&'>') {
                    return Err(format!("malformed closing tag </{name}"));
                }
                match stack.pop() {
                    Some(open) if open == name => {}
                    Some(open) => return Err(format!("</{name}> closes <{open}>")),
                    None => return Err(format!("</{name}> without an opening tag")),
                }
                if stack.is_empty() {
                    root_closed = true;
                }
                i = j + 1;
            } else {
                let mut j = i + 1;
                if !b.get(j).is_some_and(|&c| is_name_start(c)) {
                    return Err(format!("'<' not followed by a tag name at char {i}"));
                }
                let mut name = String::new();
                while j < b.len() && is_name_char(b[j]) {
                    name.push(b[j]);
                    j += 1;
                }
                if root_closed {
                    return Err(format!("second root element <{name}>"));
                }
                let mut attrs: Vec<String> = Vec::new();
                loop {
                    let ws = j;
                    while j < b.len() && b[j].is_whitespace() {
                        j += 1;
                    }
                    match b.get(j) {
                        None => return Err(format!("unterminated tag <{name}")),
                        Some('>') => {
                            j += 1;
                            if root.is_none() {
                                root = Some(name.clone());
                            }
                            stack.push(name.clone());
                            break;
                        }
                        Some('/') if b.get(j + 1) == Some(&'>') => {
                            j += 2;
                            if root.is_none() {
                                root = Some(name.clone());
                            }
                            if stack.is_empty() {
                                root_closed = true;
                            }
                            break;
                        }
                        Some(&c) if is_name_start(c) && j > ws => {
                            let mut an = String::new();
                            while j < b.len() && is_name_char(b[j]) {
                                an.push(b[j]);
                                j += 1;
                            }
                            while j < b.len() && b[j].is_whitespace() {
                                j += 1;
                            }
                            if b.get(j) != Some(&'=') {
                                return Err(format!("attribute {an} of <{name}> has no value"));
                            }
                            j += 1;
                            while j < b.len() && b[j].is_whitespace() {
                                j += 1;
                            }
                            let q = match b.get(j) {
                                Some(&q) if q == '"' || q == '\'' => q,
                                _ => {
                                    return Err(format!("attribute {an} of <{name}> is not quoted"))
                                }
                            };
                            j += 1;
                            while j < b.len() && b[j] != q {
                                if b[j] == '<' {
                                    return Err(format!("'<' in attribute {an}"));
                                }
                                j += 1;
                            }
                            if j >= b.len() {
                                return Err(format!("unterminated attribute {an}"));
                            }
                            j += 1;
                            if attrs.contains(&an) {
                                return Err(format!("duplicate attribute {an}"));
                            }
                            attrs.push(an);
                        }
                        Some(c) => return Err(format!("unexpected {c:?} in tag <{name}>")),
                    }
                }
                i = j;
            }
        } else if c == '&' {
            let e = (i + 1..b.len())
                .find(|&k| b[k] == ';')
                .ok_or("'&' without ';'")?;
            let ent: String = b[i + 1..e].iter().collect();
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
            if stack.is_empty() {
                return Err("text outside the root element".into());
            }
            i = e + 1;
        } else {
            if stack.is_empty() && !c.is_whitespace() {
                return Err(format!("text outside the root element at char {i}"));
            }
            i += 1;
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{open}> is never closed"));
    }
    root.ok_or_else(|| "no root element".to_string())
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
