//! IFBench `custom:*` (fixed-prompt instructions).
use crate::checker::{verdict, BuildError, CheckFn, CheckResult, Kw};
use crate::py::{self, PUNCT_SPACE};
use crate::py_re;
use crate::text::{csv_rows, nfkd_ascii, py_int, split_into_sentences};

const CAPITALS: &[&str] = &[
    "Reykjavik",
    "Helsinki",
    "Oslo",
    "Tallinn",
    "Stockholm",
    "Riga",
    "Moscow",
    "Copenhagen",
    "Vilnius",
    "Minsk",
    "Dublin",
    "Berlin",
    "Amsterdam",
    "Warsaw",
    "London",
    "Brussels",
    "Prague",
    "Luxembourg",
    "Paris",
    "Vienna",
    "Bratislava",
    "Budapest",
    "Vaduz",
    "Chisinau",
    "Bern",
    "Ljubljana",
    "Zagreb",
];

/// `re.search(r"^\d{4}-\d{2}-\d{2}$", d)`: 4, 2 and 2 `\d` (Unicode Nd) between dashes, then
/// the end or a final newline (Python's `$`).
fn is_iso_date(d: &str) -> bool {
    let body = d.strip_suffix('\n').unwrap_or(d);
    let c: Vec<char> = body.chars().collect();
    c.len() == 10
        && c.iter().enumerate().all(|(i, &ch)| match i {
            4 | 7 => ch == '-',
            _ => py::is_nd(ch),
        })
}

/// The checker of a `custom:*` instruction, its kwargs bound (one function per id below).
pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "custom:multiples" => Ok(Box::new(multiples)),
        "custom:mcq_count_length" => Ok(Box::new(mcq_count_length)),
        "custom:reverse_newline" => Ok(Box::new(reverse_newline)),
        "custom:word_reverse" => Ok(Box::new(word_reverse)),
        "custom:character_reverse" => Ok(Box::new(character_reverse)),
        "custom:sentence_alphabet" => Ok(Box::new(sentence_alphabet)),
        "custom:european_capitals_sort" => Ok(Box::new(european_capitals_sort)),
        "custom:csv_city" => Ok(Box::new(csv_city)),
        "custom:csv_special_character" => Ok(Box::new(csv_special_character)),
        "custom:csv_quotes" => Ok(Box::new(csv_quotes)),
        "custom:date_format_list" => Ok(Box::new(date_format_list)),
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}

/// `custom:multiples`: the multiples of 7 from 14 to 49, in order.
fn multiples(value: &str) -> CheckResult {
    let v = value.replace(',', ", ");
    let nums: Vec<&str> = py::digit_runs(&v)
        .into_iter()
        .map(|(a, b)| &v[a..b])
        .collect();
    let want = ["14", "21", "28", "35", "42", "49"];
    let ok = nums == want;
    verdict(ok, format!("numbers printed: {}", nums.join(", ")))
}

/// `custom:mcq_count_length`: 4 multiple-choice questions of 5 options each, each question longer than the one before.
fn mcq_count_length(value: &str) -> CheckResult {
    let start = match value.find("Question") {
        Some(i) => i,
        None => value.char_indices().last().map(|(i, _)| i).unwrap_or(0),
    };
    if start != 0 {
        return verdict(false, "text before the first \"Question\"");
    }
    let mut qs = py_re!(r"\n*(?:Question \d+[\.|\):;]?\s*)")
        .split(value)
        .map_err(|e| e.to_string())?;
    if qs.first() == Some(&"") {
        qs.remove(0);
    }
    let qs: Vec<&str> = qs
        .into_iter()
        .map(py::strip)
        .filter(|q| !q.is_empty())
        .collect();
    if qs.len() != 4 {
        return verdict(false, format!("{} questions (needs 4)", qs.len()));
    }
    let mut lens = Vec::new();
    for (k, q) in qs.iter().enumerate() {
        let mut text = String::new();
        let mut opts = 0;
        let mut done = false;
        for line in q.split('\n') {
            if py_re!(r"^[A-Ea-e][\.|\)]\s*\w+")
                .search(py::strip(line))
                .map_err(|e| e.to_string())?
            {
                opts += 1;
                done = true;
            } else if !done {
                text.push(' ');
                text.push_str(py::strip(line));
            }
        }
        if opts != 5 {
            return verdict(
                false,
                format!("question {} has {opts} options (needs 5)", k + 1),
            );
        }
        lens.push(py::strip(&text).chars().count());
    }
    let ok = lens.windows(2).all(|w| w[0] < w[1]);
    verdict(ok, format!("question lengths {lens:?}"))
}

/// `custom:reverse_newline`: from the line with Zimbabwe on, at least 52 lines in reverse alphabetical order.
fn reverse_newline(value: &str) -> CheckResult {
    let lines: Vec<&str> = value
        .split('\n')
        .map(|l| py::strip_chars(l, PUNCT_SPACE))
        .filter(|l| !l.is_empty())
        .collect();
    let Some(start) = lines.iter().position(|l| l.contains("Zimbabwe")) else {
        return verdict(false, "no line with Zimbabwe");
    };
    let target = &lines[start..];
    if target.len() < 52 {
        return verdict(
            false,
            format!(
                "{} lines from Zimbabwe on (needs at least 52)",
                target.len()
            ),
        );
    }
    let norm: Vec<String> = target.iter().map(|l| nfkd_ascii(l)).collect();
    let mut sorted = norm.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    let ok = norm == sorted;
    verdict(
        ok,
        if ok {
            "reverse alphabetical order"
        } else {
            "not in reverse alphabetical order"
        },
    )
}

/// `custom:word_reverse`: a single sentence with its words in reverse order ("eagle bald").
fn word_reverse(value: &str) -> CheckResult {
    let v = py::remove_punct(py::strip(&py::lower(value)));
    let mut w = py::split_ws(&v);
    w.reverse();
    let v = w.join(" ");
    if !v.contains("bald eagle") {
        return verdict(false, "no \"eagle bald\" in the response");
    }
    let ok = split_into_sentences(&v).contains(&v);
    verdict(
        ok,
        if ok {
            "a single reversed sentence"
        } else {
            "more than one sentence"
        },
    )
}

/// `custom:character_reverse`: "bald eagle" spelled backwards.
fn character_reverse(value: &str) -> CheckResult {
    let ok = py::lower(value).contains("elgae dlab");
    verdict(
        ok,
        if ok {
            "contains \"elgae dlab\""
        } else {
            "no \"elgae dlab\""
        },
    )
}

/// `custom:sentence_alphabet`: 26 sentences starting with the letters a to z in turn.
fn sentence_alphabet(value: &str) -> CheckResult {
    let s = split_into_sentences(value);
    if s.len() != 26 {
        return verdict(false, format!("{} sentences (needs 26)", s.len()));
    }
    for (i, x) in s.iter().enumerate() {
        let w = py::split_ws(py::lstrip(x));
        let first = w
            .first()
            .ok_or("IndexError: list index out of range (empty sentence)")?;
        let low = py::lower(first);
        let c = low
            .chars()
            .next()
            .ok_or("IndexError: string index out of range")?;
        let want = (b'a' + i as u8) as char;
        if c != want {
            return verdict(
                false,
                format!("sentence {} starts with {c:?} (needs {want:?})", i + 1),
            );
        }
    }
    verdict(true, "26 sentences from A to Z")
}

/// `custom:european_capitals_sort`: the listed European capitals, comma-separated, in [`CAPITALS`] order.
fn european_capitals_sort(value: &str) -> CheckResult {
    let v = nfkd_ascii(value);
    let caps: Vec<&str> = v.split(',').filter(|c| !py::strip(c).is_empty()).collect();
    if caps.len() != CAPITALS.len() {
        return verdict(
            false,
            format!("{} capitals (needs {})", caps.len(), CAPITALS.len()),
        );
    }
    for (i, c) in caps.iter().enumerate() {
        if py::strip(c) != CAPITALS[i] {
            return verdict(
                false,
                format!(
                    "capital {} is {:?} (needs {:?})",
                    i + 1,
                    py::strip(c),
                    CAPITALS[i]
                ),
            );
        }
    }
    verdict(true, "capitals in the right order")
}

/// `custom:csv_city`: a CSV of 7 rows of 5 fields under the header ID,Country,City,Year,Count.
fn csv_city(value: &str) -> CheckResult {
    let data = csv_rows(value, ',').map_err(|e| format!("csv.Error: {e}"))?;
    if data.len() != 8 {
        return verdict(
            false,
            format!("{} CSV rows (needs 8 with the header)", data.len()),
        );
    }
    if data[0] != ["ID", "Country", "City", "Year", "Count"] {
        return verdict(false, "wrong header");
    }
    for (i, r) in data.iter().enumerate().skip(1) {
        if r.len() != 5 {
            return verdict(false, format!("row {i} has {} fields", r.len()));
        }
    }
    verdict(true, "7 rows of 5 fields under the header")
}

/// `custom:csv_special_character`: a CSV with the ProductID,Category,Brand,Price,Stock header, 14 rows of 5 fields, one quoted field with a special character.
fn csv_special_character(value: &str) -> CheckResult {
    let header = py::strip(value.split('\n').next().unwrap_or(""));
    let re = py_re!(
        r#"^(ProductID|"ProductID"),[ \t]*(Category|"Category"),[ \t]*(Brand|"Brand"),[ \t]*(Price|"Price"),[ \t]*(Stock|"Stock")$"#
    );
    if !re.search(header).map_err(|e| e.to_string())? {
        return verdict(false, "wrong header");
    }
    let v = value.replace('"', "\"\"\"");
    let data = csv_rows(&v, ',').map_err(|e| format!("csv.Error: {e}"))?;
    if data.len() != 15 {
        return verdict(
            false,
            format!("{} CSV rows (needs 15 with the header)", data.len()),
        );
    }
    for (i, r) in data.iter().enumerate().skip(1) {
        if r.len() != 5 {
            return verdict(false, format!("row {i} has {} fields", r.len()));
        }
        for f in r {
            if py_re!(r#"".*[^\d\w\s].*""#)
                .find(f)
                .map_err(|e| e.to_string())?
                .is_some_and(|(a, _)| a == 0)
            {
                return verdict(
                    true,
                    format!("row {i} has a quoted field with a special character"),
                );
            }
        }
    }
    verdict(false, "no quoted field with a special character")
}

/// `custom:csv_quotes`: a tab-separated table with the StudentID, Subject, Grade, Semester, Score header and 3 rows, every field in double quotes.
fn csv_quotes(value: &str) -> CheckResult {
    let header = py::strip(value.split('\n').next().unwrap_or(""));
    let re = py_re!(
        r#"^(StudentID|"StudentID")\t *(Subject|"Subject")\t *(Grade|"Grade")\t *(Semester|"Semester")\t *(Score|"Score")$"#
    );
    if !re.search(header).map_err(|e| e.to_string())? {
        return verdict(false, "wrong header");
    }
    let v = value.replace('"', "\"\"\"");
    let data = csv_rows(&v, '\t').map_err(|e| format!("csv.Error: {e}"))?;
    if data.len() != 4 {
        return verdict(
            false,
            format!("{} rows (needs 4 with the header)", data.len()),
        );
    }
    for (i, r) in data.iter().enumerate() {
        if r.len() != 5 {
            return verdict(false, format!("row {i} has {} fields", r.len()));
        }
        for f in r {
            let s = py::strip(f);
            let first = s
                .chars()
                .next()
                .ok_or("IndexError: string index out of range (empty field)")?;
            if !(first == '"' && s.ends_with('"')) {
                return verdict(
                    false,
                    format!("row {i}: field {f:?} is not in double quotes"),
                );
            }
        }
    }
    verdict(true, "3 tab-separated rows, every field quoted")
}

/// `custom:date_format_list`: comma-separated YYYY-MM-DD dates of Napoleon's lifetime.
fn date_format_list(value: &str) -> CheckResult {
    for d in py::strip(value).split(',') {
        let d = py::strip(d);
        if !is_iso_date(d) {
            return verdict(false, format!("{d:?} is not YYYY-MM-DD"));
        }
        let d = d.trim_end_matches('\n');
        let parts: Vec<i64> = d.split('-').map(|p| py_int(p).unwrap_or(-1)).collect();
        let (y, m, day) = (parts[0], parts[1], parts[2]);
        let bad = !(1769..=1821).contains(&y)
            || m > 12
            || ([1, 3, 5, 7, 8, 10, 12].contains(&m) && day > 31)
            || ([4, 6, 9, 11].contains(&m) && day > 30)
            || (m == 2 && day > 29);
        if bad {
            return verdict(false, format!("{d:?} is not a date of Napoleon's lifetime"));
        }
    }
    verdict(true, "every date is YYYY-MM-DD")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_date_equals_the_pattern() {
        let re = crate::py::PyRegex::new(r"^\d{4}-\d{2}-\d{2}$", false, false).unwrap();
        let alphabet: Vec<char> = "0-12٣²\n x".chars().collect();
        let mut texts = crate::py::tests::random_texts(&alphabet, 50_000, 12);
        texts.extend(
            ["2024-01-31", "2024-01-31\n", "2024-01-31\n\n", "٢٠٢٤-01-31"].map(String::from),
        );
        for t in &texts {
            assert_eq!(is_iso_date(t), re.search(t).unwrap(), "{t:?}");
        }
    }
}
