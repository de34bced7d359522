//! IFBench `format:*`.
use crate::checker::{verdict, BuildError, CheckFn, CheckResult, Kw};
use crate::py::{self, PUNCT_SPACE};
use crate::text::{is_emoji, split_into_sentences};

fn indent(l: &str) -> usize {
    l.chars().count() - l.trim_start_matches(' ').chars().count()
}

/// Whether `re.search(r"\W*[aA]\W*[bB]\W*[cC]\W*", options)` matches at 0: a letter cannot be
/// `\W`, so each greedy `\W*` takes exactly the run of non-word chars before the next letter,
/// which must then be the next of a, b, c (either case).
fn abc_at_start(options: &str) -> bool {
    let mut it = options.chars().filter(|&c| py::is_py_word(c));
    ['a', 'b', 'c'].iter().all(|&l| {
        it.next()
            .is_some_and(|c| c.to_ascii_lowercase() == l && c.is_ascii())
    })
}

/// The checker of a `format:*` instruction, its kwargs bound (one function per id below).
pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "format:parentheses" => Ok(Box::new(parentheses)),
        "format:quotes" => Ok(Box::new(quotes)),
        "format:options" => options(kw),
        "format:newline" => Ok(Box::new(newline)),
        "format:emoji" => Ok(Box::new(emoji)),
        "format:line_indent" => Ok(Box::new(line_indent)),
        "format:quote_unquote" => Ok(Box::new(quote_unquote)),
        "format:list" => list(kw),
        "format:thesis" => Ok(Box::new(thesis)),
        "format:sub-bullets" => Ok(Box::new(sub_bullets)),
        "format:no_bullets_bullets" => Ok(Box::new(no_bullets_bullets)),
        "format:title_case" => Ok(Box::new(title_case)),
        "format:output_template" => Ok(Box::new(output_template)),
        "format:no_whitespace" => Ok(Box::new(no_whitespace)),
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}

/// `format:parentheses`: brackets nested at least 5 levels deep.
fn parentheses(value: &str) -> CheckResult {
    let mut levels: Vec<char> = Vec::new();
    let mut max_depth = 0usize;
    for c in value.chars() {
        if "([{".contains(c) {
            levels.push(c);
            max_depth = max_depth.max(levels.len());
        } else if ")]}".contains(c) {
            let matched = matches!(
                (levels.last(), c),
                (Some('('), ')') | (Some('['), ']') | (Some('{'), '}')
            );
            if matched {
                levels.pop();
                if max_depth >= 5 && levels.len() < max_depth {
                    return verdict(true, format!("brackets nested {max_depth} deep"));
                }
            } else {
                levels.clear();
                max_depth = 0;
            }
        }
    }
    verdict(
        false,
        format!("brackets not nested 5 levels deep (deepest open run {max_depth})"),
    )
}

/// `format:quotes`: quotation marks nested at least 3 levels deep.
fn quotes(value: &str) -> CheckResult {
    let mut levels: Vec<char> = Vec::new();
    let (mut reached, mut cur) = (0i64, 0i64);
    for c in value.chars() {
        if levels.last() == Some(&c) {
            levels.pop();
            cur -= 1;
            if reached - cur >= 3 {
                return verdict(true, format!("quotes nested {reached} deep"));
            }
        } else if c == '"' || c == '\'' {
            levels.push(c);
            cur += 1;
            reached = reached.max(cur);
        }
    }
    verdict(
        false,
        format!("quotes not nested 3 levels deep (reached {reached})"),
    )
}

/// `format:options`: the answer is one of `options` (exactly, when they are labelled a, b, c; else in lower case, surrounding punctuation and spaces removed).
fn options(kw: &Kw) -> Result<CheckFn, BuildError> {
    let options = kw.str("options")?;
    let strict = abc_at_start(&options);
    let sep = if options.contains('/') {
        "/"
    } else if options.contains("or") {
        "or"
    } else {
        ","
    };
    let opts: Vec<String> = options
        .split(sep)
        .map(|o| py::strip(o).to_string())
        .collect();
    Ok(Box::new(move |value| {
        if strict {
            let ok = opts.iter().any(|o| o == value);
            return verdict(
                ok,
                if ok {
                    format!("answer {value:?} is an option")
                } else {
                    format!("answer is not exactly one of {opts:?}")
                },
            );
        }
        let v = py::lower(py::strip_chars(value, PUNCT_SPACE));
        let ok = opts
            .iter()
            .any(|o| py::lower(py::strip_chars(o, PUNCT_SPACE)) == v);
        verdict(
            ok,
            if ok {
                format!("answer {v:?} is an option")
            } else {
                format!("answer is not one of {opts:?}")
            },
        )
    }))
}

/// `format:newline`: one word per line.
fn newline(value: &str) -> CheckResult {
    let v = py::remove_punct(value);
    let lines = py::strip(&v).split('\n').filter(|l| !l.is_empty()).count();
    let words = py::split_ws(py::strip(&v)).len();
    verdict(
        lines == words,
        format!("{lines} non-empty lines for {words} words"),
    )
}

/// `format:emoji`: every sentence ends with an emoji.
fn emoji(value: &str) -> CheckResult {
    let s = split_into_sentences(value);
    for (i, x) in s.iter().enumerate() {
        let st = py::remove_punct(x);
        let st: Vec<char> = py::strip(&st).chars().collect();
        let Some(&last) = st.last() else {
            return verdict(false, format!("sentence {} is only punctuation", i + 1));
        };
        let second = if st.len() > 1 { st[st.len() - 2] } else { last };
        if !is_emoji(last) && !is_emoji(second) {
            if i + 1 < s.len() {
                let nx = py::remove_punct(&s[i + 1]);
                let Some(f) = py::strip(&nx).chars().next() else {
                    return verdict(false, format!("sentence {} is only punctuation", i + 2));
                };
                if !is_emoji(f) {
                    return verdict(
                        false,
                        format!("sentence {} does not end with an emoji", i + 1),
                    );
                }
            } else {
                return verdict(
                    false,
                    format!("sentence {} does not end with an emoji", i + 1),
                );
            }
        }
    }
    verdict(true, "every sentence ends with an emoji")
}

/// `format:line_indent`: each line is indented more than the one before.
fn line_indent(value: &str) -> CheckResult {
    let mut lines: Vec<&str> = value.split('\n').collect();
    // `for line in lines: if not line.strip(): lines.remove(line)` (mutating while iterating)
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if py::strip(l).is_empty() {
            if let Some(p) = lines.iter().position(|x| *x == l) {
                lines.remove(p);
            }
        }
        i += 1;
    }
    for i in 0..lines.len().saturating_sub(1) {
        if indent(lines[i + 1]) <= indent(lines[i]) {
            return verdict(
                false,
                format!("line {} is not indented more than the line before", i + 2),
            );
        }
    }
    verdict(true, "each line is indented more than the previous")
}

/// `format:quote_unquote`: every quotation is followed by an explanation.
fn quote_unquote(value: &str) -> CheckResult {
    let v = value.replace(['“', '”'], "\"").replace("'\"'", "");
    let v: String = py::split_ws(&v).concat();
    if v.contains("\"\"") {
        return verdict(false, "a quotation is immediately followed by another");
    }
    let strip_set: String = format!("0123456789{}", py::PUNCTUATION.replace('"', ""));
    let t = py::strip_chars(&v, &strip_set);
    let last = t
        .chars()
        .last()
        .ok_or("IndexError: string index out of range")?;
    verdict(
        last != '"',
        if last == '"' {
            "ends with a quotation, no explanation after it"
        } else {
            "every quotation is followed by an explanation"
        },
    )
}

/// `format:list`: a list whose separator `sep` occurs at least twice.
fn list(kw: &Kw) -> Result<CheckFn, BuildError> {
    let sep = kw.str("sep")?;
    Ok(Box::new(move |value| {
        let c = if sep.is_empty() {
            value.chars().count() + 1
        } else {
            value.matches(sep.as_str()).count()
        };
        verdict(
            c >= 2,
            format!("separator {sep:?} used {c} times (needs at least 2)"),
        )
    }))
}

/// `format:thesis`: an italic (`<i>` or `<em>`) thesis followed by text.
fn thesis(value: &str) -> CheckResult {
    let idx = match value.find("<i>") {
        Some(i) => i,
        None => match value.find("<em>") {
            Some(i) => i,
            None => return verdict(false, "no <i> or <em> thesis"),
        },
    };
    let v = &value[idx..];
    let end = match v.find("</i>") {
        Some(e) => e,
        None => match v.find("</em>") {
            Some(e) => e,
            None => return verdict(false, "the italic thesis is never closed"),
        },
    };
    let thesis = if end > 3 { &v[3..end] } else { "" };
    if py::strip(thesis).is_empty() {
        return verdict(false, "the italic thesis is empty");
    }
    let text = v.get(end + 4..).unwrap_or("");
    let ok = !py::strip(text).is_empty();
    verdict(
        ok,
        if ok {
            "italic thesis followed by text"
        } else {
            "nothing follows the italic thesis"
        },
    )
}

/// `format:sub-bullets`: every `*` bullet has a `-` sub-bullet.
fn sub_bullets(value: &str) -> CheckResult {
    for (i, b) in value.split('*').enumerate().skip(1) {
        if !b.contains('-') {
            return verdict(false, format!("bullet {i} has no '-' sub-bullet"));
        }
    }
    verdict(true, "every * bullet has a - sub-bullet")
}

/// `format:no_bullets_bullets`: at least 2 sentences, then at least 2 `*` bullets and nothing after them.
fn no_bullets_bullets(value: &str) -> CheckResult {
    // `sentences` starts as True and is later rebound to a list (truthy when non-empty)
    let mut sentences_truthy = true;
    let mut in_sentences = true;
    let (mut ns, mut nb) = (0usize, 0usize);
    for line in value.split('\n') {
        if py::strip(line).starts_with('*') {
            in_sentences = false;
            sentences_truthy = false;
            if ns < 2 {
                return verdict(false, format!("a bullet after only {ns} sentences"));
            }
            nb += 1;
        } else if in_sentences && sentences_truthy {
            let s = split_into_sentences(py::strip(line));
            sentences_truthy = !s.is_empty();
            ns += s.len();
        } else {
            return verdict(
                false,
                "text after the bullet points (or after an empty line)",
            );
        }
    }
    verdict(nb >= 2, format!("{ns} sentences then {nb} bullets"))
}

/// `format:title_case`: every word capitalised.
fn title_case(value: &str) -> CheckResult {
    for w in crate::nltk::word_tokenize(value) {
        let mut it = w.chars();
        let Some(first) = it.next() else { continue };
        let rest: String = it.collect();
        if py::char_is_upper(first) && py::is_lower(&rest) {
            continue;
        } else if py::char_is_lower(first) && (py::is_upper(&rest) || py::is_lower(&rest)) {
            return verdict(false, format!("word {w:?} is not capitalised"));
        }
    }
    verdict(true, "title case")
}

/// `format:output_template`: the My Answer / My Conclusion / Future Outlook template.
fn output_template(value: &str) -> CheckResult {
    let ok = value.contains("My Answer:")
        && value.contains("My Conclusion:")
        && value.contains("Future Outlook:");
    verdict(
        ok,
        if ok {
            "the template is used"
        } else {
            "a template heading is missing"
        },
    )
}

/// `format:no_whitespace`: no whitespace.
fn no_whitespace(value: &str) -> CheckResult {
    match value.chars().position(py::is_space) {
        Some(i) => verdict(false, format!("whitespace at char {i}")),
        None => verdict(true, "no whitespace"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abc_at_start_equals_the_pattern() {
        let re = crate::py::PyRegex::new(r"\W*[aA]\W*[bB]\W*[cC]\W*", false, false).unwrap();
        let alphabet: Vec<char> = "aAbBcC ,/().1_éxÀ\n".chars().collect();
        let mut texts = crate::py::tests::random_texts(&alphabet, 50_000, 10);
        texts.extend(["A) B) C)", "a / b / c", "(a), (b) or (c)"].map(String::from));
        for t in &texts {
            let want = re.find(t).unwrap().is_some_and(|(a, _)| a == 0);
            assert_eq!(abc_at_start(t), want, "{t:?}");
        }
    }
}
