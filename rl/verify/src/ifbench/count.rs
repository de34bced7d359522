//! IFBench `count:*`.
use crate::checker::{verdict, BuildError, CheckFn, CheckResult, Kw};
use crate::py::{self, PUNCT_SPACE};
use std::collections::HashSet;

const NAMES: &[&str] = &[
    "Emma",
    "Liam",
    "Sophia",
    "Jackson",
    "Olivia",
    "Noah",
    "Ava",
    "Lucas",
    "Isabella",
    "Mason",
    "Mia",
    "Ethan",
    "Charlotte",
    "Alexander",
    "Amelia",
    "Benjamin",
    "Harper",
    "Leo",
    "Zoe",
    "Daniel",
    "Chloe",
    "Samuel",
    "Lily",
    "Matthew",
    "Grace",
    "Owen",
    "Abigail",
    "Gabriel",
    "Ella",
    "Jacob",
    "Scarlett",
    "Nathan",
    "Victoria",
    "Elijah",
    "Layla",
    "Nicholas",
    "Audrey",
    "David",
    "Hannah",
    "Christopher",
    "Penelope",
    "Thomas",
    "Nora",
    "Andrew",
    "Aria",
    "Joseph",
    "Claire",
    "Ryan",
    "Stella",
    "Jonathan",
];

/// The pronouns `count:pronouns` counts (IFBench's list).
pub const PRONOUNS: &[&str] = &[
    "i",
    "me",
    "my",
    "mine",
    "myself",
    "we",
    "us",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
];

fn is_japanese(w: &str) -> bool {
    w.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

/// The checker of a `count:*` instruction, its kwargs bound (one function per id below).
pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "count:word_count_range" => word_count_range(kw),
        "count:unique_word_count" => unique_word_count(kw),
        "count:conjunctions" => conjunctions(kw),
        "count:person_names" => person_names(kw),
        "count:numbers" => numbers(kw),
        "count:punctuation" => Ok(Box::new(punctuation)),
        "count:words_japanese" => words_japanese(kw),
        "count:pronouns" => pronouns(kw),
        "count:keywords_multiple" => keywords_multiple(kw),
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}

/// `count:word_count_range`: between `min_words` and `max_words` words.
fn word_count_range(kw: &Kw) -> Result<CheckFn, BuildError> {
    let lo = kw.count("min_words")?;
    let hi = kw.count("max_words")?;
    Ok(Box::new(move |value| {
        let n = crate::nltk::count_words(value) as i64;
        verdict(lo <= n && n <= hi, format!("{n} words (needs {lo}..={hi})"))
    }))
}

/// `count:unique_word_count`: at least `N` distinct words.
fn unique_word_count(kw: &Kw) -> Result<CheckFn, BuildError> {
    let n = kw.count("N")?;
    Ok(Box::new(move |value| {
        let low = py::lower(value);
        let set: HashSet<&str, py::FastBuild> = py::split_ws(&low)
            .into_iter()
            .map(|w| py::strip_chars(w, PUNCT_SPACE))
            .collect();
        let c = set.len() as i64;
        verdict(c >= n, format!("{c} unique words (needs at least {n})"))
    }))
}

/// `count:conjunctions`: at least `small_n` distinct coordinating conjunctions.
fn conjunctions(kw: &Kw) -> Result<CheckFn, BuildError> {
    let n = kw.count("small_n")?;
    Ok(Box::new(move |value| {
        const CONJ: [&str; 7] = ["and", "but", "for", "nor", "or", "so", "yet"];
        let set: HashSet<&str, py::FastBuild> = py::split_ws(value)
            .into_iter()
            .filter(|w| {
                let s = py::strip_chars(w, PUNCT_SPACE);
                if s.is_ascii() {
                    // (ASCII: `lower()` is the ASCII lowercase; no word is longer than 3)
                    s.len() <= 3 && CONJ.iter().any(|c| c.eq_ignore_ascii_case(s))
                } else {
                    CONJ.contains(&py::lower(s).as_str())
                }
            })
            .collect();
        let c = set.len() as i64;
        verdict(
            c >= n,
            format!("{c} distinct coordinating conjunctions (needs at least {n})"),
        )
    }))
}

/// `count:person_names`: at least `N` names of [`NAMES`].
fn person_names(kw: &Kw) -> Result<CheckFn, BuildError> {
    let n = kw.count("N")?;
    Ok(Box::new(move |value| {
        let found: Vec<&str> = NAMES
            .iter()
            .copied()
            .filter(|nm| value.contains(nm))
            .collect();
        let c = found.len() as i64;
        verdict(
            c >= n,
            format!("{c} listed person names (needs at least {n})"),
        )
    }))
}

/// `count:numbers`: exactly `N` numbers.
fn numbers(kw: &Kw) -> Result<CheckFn, BuildError> {
    let n = kw.count("N")?;
    Ok(Box::new(move |value| {
        let v = py::remove_punct(value);
        let c = py::digit_runs(&v).len() as i64;
        verdict(c == n, format!("{c} numbers (needs exactly {n})"))
    }))
}

/// `count:punctuation`: an interrobang and every one of `. , ! ? ; :`.
fn punctuation(value: &str) -> CheckResult {
    if !(value.contains("!?") || value.contains("?!") || value.contains('‽')) {
        return verdict(false, "no interrobang (?!, !? or ‽)");
    }
    let mut nv = value.replacen("?!", "", 1);
    if nv.chars().count() == value.chars().count() {
        nv = value.replacen("!?", "", 1);
    }
    let missing: Vec<char> = ['.', ',', '!', '?', ';', ':']
        .into_iter()
        .filter(|c| !nv.contains(*c))
        .collect();
    if missing.is_empty() {
        verdict(true, "every punctuation mark used")
    } else {
        verdict(
            false,
            format!(
                "missing {}",
                missing
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }
}

/// `count:words_japanese`: every `N`th word is Japanese.
fn words_japanese(kw: &Kw) -> Result<CheckFn, BuildError> {
    let n = kw.int("N")?;
    Ok(Box::new(move |value| {
        let words = py::split_ws(value);
        for (i, w) in words.iter().enumerate() {
            let w = py::strip_chars(w, PUNCT_SPACE);
            if n == 0 {
                return Err("ZeroDivisionError: integer modulo by zero".into());
            }
            if (i as i64 + 1).rem_euclid(n) == 0
                && !w.is_empty()
                && !py::is_digit(w)
                && !is_japanese(w)
            {
                return verdict(false, format!("word {} ({w:?}) is not Japanese", i + 1));
            }
        }
        verdict(true, format!("every {n}th word is Japanese"))
    }))
}

/// `count:pronouns`: at least `N` pronouns of [`PRONOUNS`].
fn pronouns(kw: &Kw) -> Result<CheckFn, BuildError> {
    let n = kw.count("N")?;
    Ok(Box::new(move |value| {
        let v = py::remove_punct(&py::lower(&value.replace('/', " ")));
        let c = py::split_ws(&v)
            .into_iter()
            .filter(|w| PRONOUNS.contains(w))
            .count() as i64;
        verdict(c >= n, format!("{c} pronouns (needs at least {n})"))
    }))
}

/// `count:keywords_multiple`: `keyword1` to `keyword5` occur exactly 1, 2, 3, 5 and 7 times.
fn keywords_multiple(kw: &Kw) -> Result<CheckFn, BuildError> {
    let mut ks = Vec::new();
    for (i, want) in [(1, 1usize), (2, 2), (3, 3), (4, 5), (5, 7)] {
        let k = kw.str(&format!("keyword{i}"))?;
        ks.push((py::strip(&k).to_string(), want));
    }
    Ok(Box::new(move |value| {
        let low = py::lower(value);
        for (k, want) in &ks {
            let kl = py::lower(k);
            let c = if kl.is_empty() {
                low.chars().count() + 1
            } else {
                low.matches(kl.as_str()).count()
            };
            if c != *want {
                return verdict(
                    false,
                    format!("{k:?} occurs {c} times (needs exactly {want})"),
                );
            }
        }
        verdict(true, "every keyword occurs the required number of times")
    }))
}

#[cfg(test)]
mod tests {
    use crate::py::{self, PUNCT_SPACE};
    use std::collections::HashSet;

    fn reason(id: &str, kwargs: serde_json::Value, text: &str) -> String {
        let kw = kwargs.as_object().cloned().unwrap_or_default();
        let check = crate::registry::build(id, &kw).expect("builds");
        check(text).expect("no error").reason
    }

    proptest::proptest! {
        /// The conjunctions are counted as the official filter counts them (`lower()` of the
        /// stripped word in the list), ASCII shortcut or not, on mixed case, punctuation and
        /// chars that lowercase to more than one.
        #[test]
        fn conjunctions_counted_like_the_official_filter(
            text in "((and|AND|And|but|For|nor|oR|so|YET|ands|an|İ|ſo|ａｎｄ|x)[ ,.!;\n]{0,2}){0,12}"
        ) {
            let want: HashSet<&str> = py::split_ws(&text)
                .into_iter()
                .filter(|w| {
                    let s = py::lower(py::strip_chars(w, PUNCT_SPACE));
                    ["and", "but", "for", "nor", "or", "so", "yet"].contains(&s.as_str())
                })
                .collect();
            let got = reason("count:conjunctions", serde_json::json!({"small_n": 1}), &text);
            proptest::prop_assert!(
                got.starts_with(&format!("{} distinct", want.len())),
                "{:?}: {} against {}", text, got, want.len()
            );
        }
    }
}
