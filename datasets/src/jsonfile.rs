//! Reading JSON Lines and JSON-array files with the line number of every record.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::error::{DataError, Loc, Result};

/// One parsed JSON object with where it came from.
#[derive(Debug, Clone)]
pub struct Located {
    pub loc: Loc,
    pub value: Value,
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| DataError::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| DataError::File {
        file: path.to_path_buf(),
        msg: format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// Parses a JSON Lines text: one JSON value per non-blank line. A UTF-8 byte-order mark is
/// ignored. Errors name the file and the line.
pub fn parse_jsonl(path: &Path, text: &str) -> Result<Vec<Located>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let loc = Loc::new(path, i + 1);
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| DataError::Json {
            loc: loc.clone(),
            msg: format!("{e} (column {})", e.column()),
        })?;
        out.push(Located { loc, value });
    }
    Ok(out)
}

/// Reads a JSON Lines file.
pub fn read_jsonl(path: &Path) -> Result<Vec<Located>> {
    let text = read_text(path)?;
    parse_jsonl(path, &text)
}

/// Replaces the bare `NaN`, `Infinity` and `-Infinity` tokens that Python's `json.dump` writes
/// (outside strings) with `null`, so files written by pandas-based tools parse.
pub fn python_nan_to_null(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains("NaN") && !line.contains("Infinity") {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else {
            let token = ["-Infinity", "Infinity", "NaN"]
                .into_iter()
                .find(|t| rest.starts_with(t));
            if let Some(t) = token {
                out.push_str("null");
                rest = &rest[t.len()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

/// Reads a JSON Lines file written by Python, where `NaN` may stand for a missing value
/// (CELLO): those tokens read as `null`.
pub fn read_jsonl_python(path: &Path) -> Result<Vec<Located>> {
    let text = read_text(path)?;
    let fixed: String = text
        .lines()
        .map(|l| python_nan_to_null(l).into_owned() + "\n")
        .collect();
    parse_jsonl(path, &fixed)
}

/// The 1-based line on which each top-level element of a JSON array starts.
fn element_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut line = 1usize;
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let mut expect_elem = false;
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        if depth == 1 && expect_elem && c != ']' {
            lines.push(line);
            expect_elem = false;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => {
                depth += 1;
                if depth == 1 {
                    expect_elem = true;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 1 => expect_elem = true,
            _ => {}
        }
    }
    lines
}

/// Reads a file that holds one JSON array of records. Each element gets the line it starts on.
pub fn read_json_array(path: &Path) -> Result<Vec<Located>> {
    let text = read_text(path)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let value: Value = serde_json::from_str(text).map_err(|e| DataError::Json {
        loc: Loc::new(path, e.line()),
        msg: format!("{e}"),
    })?;
    let Value::Array(items) = value else {
        return Err(DataError::File {
            file: path.to_path_buf(),
            msg: "expected a JSON array of records".into(),
        });
    };
    let lines = element_lines(text);
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, value)| Located {
            loc: Loc::new(path, lines.get(i).copied().unwrap_or(0)),
            value,
        })
        .collect())
}

/// Reads either form: a file whose first non-blank character is `[` as a JSON array, anything
/// else as JSON Lines (InfoBench ships JSON Lines under a `.json` name).
pub fn read_records_any(path: &Path) -> Result<Vec<Located>> {
    let text = read_text(path)?;
    let first = text
        .trim_start_matches('\u{feff}')
        .chars()
        .find(|c| !c.is_whitespace());
    if first == Some('[') {
        read_json_array(path)
    } else {
        parse_jsonl(path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_element_lines() {
        let text = "[\n  {\"a\": \"x,\\\"y]\"},\n  {\"b\": [1, 2]}\n,\n{\"c\": {}}]";
        assert_eq!(element_lines(text), vec![2, 3, 5]);
    }

    #[test]
    fn python_nan_reads_as_null() {
        let l = r#"{"a": NaN, "b": "NaN \" Infinity", "c": [-Infinity, 1]}"#;
        let v: serde_json::Value = serde_json::from_str(&python_nan_to_null(l)).unwrap();
        assert!(v["a"].is_null() && v["c"][0].is_null());
        assert_eq!(v["b"], "NaN \" Infinity");
    }

    #[test]
    fn jsonl_error_names_line() {
        let p = Path::new("f.jsonl");
        let err = parse_jsonl(p, "{\"a\":1}\n\n{oops}\n").unwrap_err();
        assert_eq!(err.loc().map(|l| l.line), Some(3));
        assert!(err.to_string().starts_with("f.jsonl:3: invalid JSON"));
    }
}
