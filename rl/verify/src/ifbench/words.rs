//! IFBench `words:*`.
use crate::checker::{verdict, BuildError, CheckFn, CheckResult, Kw};
use crate::ifbench::py_index;
use crate::py::{self, PUNCT_SPACE};
use crate::text::{split_into_sentences, syllables};
use std::collections::HashMap;

fn first_char_lower(w: &str) -> String {
    w.chars()
        .next()
        .map(|c| c.to_lowercase().collect())
        .unwrap_or_default()
}

/// The checker of a `words:*` instruction, its kwargs bound (one function per id below).
pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "words:alphabet" => Ok(Box::new(alphabet)),
        "words:vowel" => Ok(Box::new(vowel)),
        "words:consonants" => Ok(Box::new(consonants)),
        "words:palindrome" => Ok(Box::new(palindrome)),
        "words:prime_lengths" => Ok(Box::new(prime_lengths)),
        "words:start_verb" => Ok(Box::new(start_verb)),
        "words:repeats" => repeats(kw),
        "words:odd_even_syllables" => Ok(Box::new(odd_even_syllables)),
        "words:last_first" => Ok(Box::new(last_first)),
        "words:paragraph_last_first" => Ok(Box::new(paragraph_last_first)),
        "words:no_consecutive" => Ok(Box::new(no_consecutive)),
        "words:keywords_specific_position" => keywords_specific_position(kw),
        "words:words_position" => words_position(kw),
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}

/// `words:alphabet`: each word starts with the next letter of the alphabet (z wraps to a).
fn alphabet(value: &str) -> CheckResult {
    let v = py::remove_punct(value);
    let words = py::split_ws(py::strip_chars(&v, PUNCT_SPACE));
    let Some(first) = words.first() else {
        return verdict(false, "no words");
    };
    let fl = first_char_lower(first);
    let mut cur = match fl.chars().next() {
        Some(c) if fl.chars().count() == 1 && c.is_ascii_lowercase() => c,
        _ => {
            return verdict(
                false,
                format!("first word {first:?} does not start with a letter a-z"),
            )
        }
    };
    for (i, w) in words.iter().enumerate().skip(1) {
        let w = py::lower(py::strip_chars(w, PUNCT_SPACE));
        if w.is_empty() {
            continue;
        }
        cur = (b'a' + ((cur as u8 - b'a' + 1) % 26)) as char;
        if !w.starts_with(cur) {
            return verdict(
                false,
                format!("word {} ({w:?}) should start with {cur:?}", i + 1),
            );
        }
    }
    verdict(true, "every word starts with the next letter")
}

/// `words:vowel`: a single paragraph that uses at most 3 distinct vowels.
fn vowel(value: &str) -> CheckResult {
    let paras: Vec<&str> = py::strip(value).split('\n').collect();
    if paras.len() != 1 {
        return verdict(
            false,
            format!("{} lines (needs a single paragraph)", paras.len()),
        );
    }
    let p = py::lower(paras[0]);
    let mut vs: Vec<char> = p
        .chars()
        .filter(|c| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u'))
        .collect();
    vs.sort();
    vs.dedup();
    verdict(
        vs.len() <= 3,
        format!("vowels used: {}", vs.iter().collect::<String>()),
    )
}

/// `words:consonants`: every word has two consonants in a row.
fn consonants(value: &str) -> CheckResult {
    let low = py::lower(value);
    let cons = |c: char| c.is_ascii_lowercase() && !matches!(c, 'a' | 'e' | 'i' | 'o' | 'u');
    for w in py::split_ws(py::strip(&low)) {
        // two consonants in a row
        let mut prev = false;
        let cluster = w.chars().any(|c| {
            let k = cons(c);
            let pair = prev && k;
            prev = k;
            pair
        });
        if !cluster {
            return verdict(false, format!("word {w:?} has no consonant cluster"));
        }
    }
    verdict(true, "every word has a consonant cluster")
}

/// `words:palindrome`: at least 10 palindromes of 5 or more letters.
fn palindrome(value: &str) -> CheckResult {
    let v = py::lower(&py::remove_punct(value));
    let p: Vec<&str> = py::split_ws(&v)
        .into_iter()
        .filter(|w| w.chars().count() >= 5 && w.chars().eq(w.chars().rev()))
        .collect();
    verdict(
        p.len() >= 10,
        format!("{} palindromes of 5+ characters (needs 10)", p.len()),
    )
}

/// `words:prime_lengths`: every word's length is a prime.
fn prime_lengths(value: &str) -> CheckResult {
    const PRIMES: [usize; 25] = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97,
    ];
    let v = py::remove_punct(value);
    for w in py::split_ws(&v) {
        let n = w.chars().count();
        if !PRIMES.contains(&n) {
            return verdict(false, format!("word {w:?} has {n} letters (not prime)"));
        }
    }
    verdict(true, "every word length is prime")
}

/// `words:start_verb`: the first word is a verb (its POS tag has VB).
fn start_verb(value: &str) -> CheckResult {
    // (the first token's tag depends on it and the next two)
    let toks = crate::nltk::word_tokenize_head(value, 3);
    match crate::nltk::first_pos_tag(&toks) {
        Some(t) => verdict(
            t.contains("VB"),
            format!("first token {:?} tagged {t}", toks[0]),
        ),
        None => verdict(false, "no tokens"),
    }
}

/// `words:repeats`: no word repeated more than `small_n` times.
fn repeats(kw: &Kw) -> Result<CheckFn, BuildError> {
    let n = kw.count("small_n")?;
    Ok(Box::new(move |value| {
        let v = py::remove_punct(&py::lower(value));
        let mut counts: HashMap<&str, i64, py::FastBuild> = HashMap::default();
        let words = py::split_ws(&v);
        for w in &words {
            *counts.entry(w).or_default() += 1;
        }
        for w in &words {
            if counts[w] > n {
                return verdict(
                    false,
                    format!("{w:?} repeated {} times (at most {n})", counts[w]),
                );
            }
        }
        verdict(true, format!("no word repeated more than {n} times"))
    }))
}

/// `words:odd_even_syllables`: the words alternate between odd and even syllable counts.
fn odd_even_syllables(value: &str) -> CheckResult {
    let v = py::lower(&py::remove_punct(value));
    let words: Vec<&str> = py::split_ws(&v)
        .into_iter()
        .filter(|w| !py::strip(w).is_empty())
        .collect();
    let par: Vec<i64> = words.iter().map(|w| syllables(w).rem_euclid(2)).collect();
    for i in 0..par.len().saturating_sub(1) {
        if par[i] == par[i + 1] {
            return verdict(
                false,
                format!(
                    "{:?} and {:?} have the same syllable parity",
                    words[i],
                    words[i + 1]
                ),
            );
        }
    }
    verdict(true, "syllable parity alternates")
}

/// `words:last_first`: each sentence starts with the last word of the one before.
fn last_first(value: &str) -> CheckResult {
    let s = split_into_sentences(value);
    for i in 0..s.len().saturating_sub(1) {
        let a = py::split_ws(py::rstrip_chars(&s[i], PUNCT_SPACE));
        let b = py::split_ws(py::lstrip_chars(&s[i + 1], PUNCT_SPACE));
        let (Some(last), Some(first)) = (a.last(), b.first()) else {
            return Err("IndexError: list index out of range (empty sentence)".into());
        };
        if py::lower(last) != py::lower(first) {
            return verdict(
                false,
                format!(
                    "sentence {} ends with {last:?} but the next starts with {first:?}",
                    i + 1
                ),
            );
        }
    }
    verdict(
        true,
        "each sentence starts with the previous one's last word",
    )
}

/// `words:paragraph_last_first`: each paragraph (line) ends with the word it starts with.
fn paragraph_last_first(value: &str) -> CheckResult {
    for (i, p) in value.split('\n').enumerate() {
        let p = py::lower(py::strip(p));
        if p.is_empty() {
            continue;
        }
        let w = py::split_ws(py::strip_chars(&p, PUNCT_SPACE));
        if w.is_empty() || w[0] != w[w.len() - 1] {
            return verdict(
                false,
                format!("line {} does not end with the word it starts with", i + 1),
            );
        }
    }
    verdict(true, "every paragraph ends with its first word")
}

/// `words:no_consecutive`: no two consecutive words start with the same letter.
fn no_consecutive(value: &str) -> CheckResult {
    let v = py::remove_punct(&py::lower(value));
    let w = py::split_ws(&v);
    for i in 0..w.len().saturating_sub(1) {
        if w[i].chars().next() == w[i + 1].chars().next() {
            return verdict(
                false,
                format!("{:?} and {:?} start with the same letter", w[i], w[i + 1]),
            );
        }
    }
    verdict(true, "no consecutive words share a first letter")
}

/// `words:keywords_specific_position`: `keyword` is word `m` of sentence `n`.
fn keywords_specific_position(kw: &Kw) -> Result<CheckFn, BuildError> {
    let k = kw.nonempty_str("keyword")?;
    let k = py::strip(&k).to_string();
    let n = kw.int("n")?;
    let m = kw.int("m")?;
    Ok(Box::new(move |value| {
        let s = split_into_sentences(value);
        if (s.len() as i64) < n {
            return verdict(false, format!("{} sentences (needs at least {n})", s.len()));
        }
        let si = py_index(s.len(), n - 1).ok_or("IndexError: list index out of range")?;
        let words = crate::nltk::word_tokenize(&s[si]);
        if (words.len() as i64) < m {
            return verdict(
                false,
                format!(
                    "sentence {n} has {} words (needs at least {m})",
                    words.len()
                ),
            );
        }
        let wi = py_index(words.len(), m - 1).ok_or("IndexError: list index out of range")?;
        verdict(
            words[wi] == k,
            format!("word {m} of sentence {n} is {:?} (needs {k:?})", words[wi]),
        )
    }))
}

/// `words:words_position`: `keyword` is the second word and the second to last.
fn words_position(kw: &Kw) -> Result<CheckFn, BuildError> {
    let k = py::strip(&kw.str("keyword")?).to_string();
    Ok(Box::new(move |value| {
        // words[1] and words[-2] of `word_tokenize(value)`: its first and last two
        // tokens say all (the sentences between them are not tokenized)
        let head = crate::nltk::word_tokenize_head(value, 2);
        if head.len() < 2 {
            return verdict(false, format!("{} words (needs at least 2)", head.len()));
        }
        let tail = crate::nltk::word_tokenize_tail(value, 2);
        let a = &head[1];
        let b = &tail[0];
        verdict(
            a == b && *b == k,
            format!("second word {a:?}, second to last {b:?} (needs {k:?})"),
        )
    }))
}
