//! Word counting (`RegexpTokenizer(r"\w+")`, `count_words`) and NLTK's English stop words.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::py;

/// `nltk.tokenize.RegexpTokenizer(r"\w+").tokenize(text)`: the maximal runs of `\w` (the
/// `regex` module's Unicode `\w`, the class `regex_syntax::is_word_character` tests), which is
/// what the greedy, leftmost `\w+` finds.
pub fn word_tokens(text: &str) -> Vec<&str> {
    py::runs(text, &ASCII_WORD, is_word_char)
}

/// `\w` of each ASCII char: `[0-9A-Za-z_]`.
const ASCII_WORD: [bool; 128] = {
    let mut t = [false; 128];
    let mut c = 0;
    while c < 128 {
        t[c] = (c as u8).is_ascii_alphanumeric() || c == b'_' as usize;
        c += 1;
    }
    t
};

/// `instructions_util.count_words`: the number of [`word_tokens`], counted (the word starts)
/// without building them.
pub fn count_words(text: &str) -> usize {
    let b = text.as_bytes();
    if b.is_ascii() {
        let mut n = 0;
        let mut in_word = false;
        for &c in b {
            let w = ASCII_WORD[(c & 0x7F) as usize];
            n += usize::from(w & !in_word);
            in_word = w;
        }
        return n;
    }
    let mut n = 0;
    let mut in_word = false;
    let mut i = 0;
    while i < b.len() {
        // (ASCII bytes read directly; a char is decoded only where one starts above ASCII)
        let w = if b[i] < 0x80 {
            i += 1;
            ASCII_WORD[b[i - 1] as usize]
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            i += c.len_utf8();
            is_word_char(c)
        };
        n += usize::from(w && !in_word);
        in_word = w;
    }
    n
}

/// NLTK's English stop words.
pub fn stopwords() -> &'static HashSet<&'static str> {
    static S: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
        include_str!("../../data/stopwords_en.txt")
            .lines()
            .filter(|l| !l.is_empty())
            .collect()
    });
    &S
}

/// The stop words that are ASCII `\w` runs (the only ones a [`word_tokens`] token can equal),
/// each packed in a u128 (bytes little-endian, at most 16), sorted for a binary search.
fn ascii_word_stopwords() -> &'static [u128] {
    static S: LazyLock<Vec<u128>> = LazyLock::new(|| {
        let mut v: Vec<u128> = stopwords()
            .iter()
            .filter(|w| w.bytes().all(|b| b < 128 && ASCII_WORD[b as usize]))
            .filter_map(|w| pack16(w.as_bytes()))
            .collect();
        v.sort_unstable();
        v
    });
    &S
}

/// Up to 16 bytes as one u128 (None when longer); no two such strings without NUL bytes pack
/// to the same number.
fn pack16(b: &[u8]) -> Option<u128> {
    let mut a = [0u8; 16];
    a.get_mut(..b.len())?.copy_from_slice(b);
    Some(u128::from_le_bytes(a))
}

/// `instructions_util.count_stopwords` (IFBench): the [`word_tokens`] whose lowercase is a stop
/// word.
pub fn count_stopwords(text: &str) -> usize {
    let ascii = ascii_word_stopwords();
    word_tokens(text)
        .into_iter()
        .filter(|t| {
            if t.is_ascii() {
                // (a `\w` run has no NUL byte; one longer than 16 bytes is no stop word)
                pack16(t.as_bytes()).is_some_and(|k| {
                    // (each packed byte lowercased)
                    let lowered =
                        u128::from_le_bytes(k.to_le_bytes().map(|c| c.to_ascii_lowercase()));
                    ascii.binary_search(&lowered).is_ok()
                })
            } else {
                stopwords().contains(py::lower(t).as_str())
            }
        })
        .count()
}

/// [`count_stopwords`] as written first: every token lowercased into a new string and looked
/// up in the set (the reference it is tested against).
#[cfg(test)]
pub(super) fn count_stopwords_reference(text: &str) -> usize {
    let s = stopwords();
    word_tokens(text)
        .into_iter()
        .filter(|t| s.contains(py::lower(t).as_str()))
        .count()
}

/// The `regex` module's `\w` (Unicode): Alphabetic, Mark, Nd, Pc, Join_Control; the table the
/// `regex` crate's `\w` and `\b` use.
pub(super) fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    regex_syntax::is_word_character(c)
}
