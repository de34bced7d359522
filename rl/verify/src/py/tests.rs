//! The tests of [`crate::py`], and [`random_texts`], the random strings that tests across the
//! crate draw from.

use super::strings::{exact_word, is_decimal, is_lower_chars, is_upper_chars};
use super::*;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
    /// The table split is `str::split(is_space)` without the empty pieces, on text with
    /// every kind of Python whitespace (ASCII, `\x1c`-`\x1f`, NEL, NBSP, the U+2000 block,
    /// the ideographic space) next to ASCII and multi-byte letters.
    #[test]
    fn split_ws_splits_on_python_whitespace(
        s in "[ a\t\n\x0b\x0c\r\x1c\x1f\u{85}\u{a0}\u{1680}\u{2003}\u{2028}\u{202f}\u{3000}é日\u{200b}\x00]{0,24}"
    ) {
        let want: Vec<&str> = s.split(is_space).filter(|w| !w.is_empty()).collect();
        proptest::prop_assert_eq!(split_ws(&s), want, "{:?}", s);
    }

    /// The same on ASCII text (the table-only loop).
    #[test]
    fn split_ws_splits_ascii_on_python_whitespace(s in "[ a.\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x00\x7f]{0,30}") {
        let want: Vec<&str> = s.split(is_space).filter(|w| !w.is_empty()).collect();
        proptest::prop_assert_eq!(split_ws(&s), want, "{:?}", s);
    }
}

#[test]
fn python_classes() {
    let w = PyRegex::new(r"\w+", false, false).unwrap();
    // Devanagari vowel signs are not \w in Python's re
    assert_eq!(w.find_all("नमस्ते").unwrap().len(), 2);
    assert!(PyRegex::new(r"\s", false, false)
        .unwrap()
        .search("\u{1c}")
        .unwrap());
    let d = PyRegex::new(r"a$", false, false).unwrap();
    assert!(d.search("xa\n").unwrap());
    assert!(!d.search("xa\n\n").unwrap());
    assert!(PyRegex::new(r"a{b", false, false)
        .unwrap()
        .search("a{b")
        .unwrap());
    assert!(PyRegex::new(r"\bcat\b", true, false)
        .unwrap()
        .search("A CAT!")
        .unwrap());
    assert!(!PyRegex::new(r"\bcat\b", true, false)
        .unwrap()
        .search("concaté")
        .unwrap());
}

#[test]
fn exact_word_is_the_regex_class() {
    // exact_word must be the class the fancy translation's look-arounds use, everywhere,
    // and IGNORECASE must not widen it (Python: re.search(r'\w', '\u0345', re.I) is None)
    let plain = regex::Regex::new(&format!("^[{W}]$")).unwrap();
    let mut b = [0u8; 4];
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let s = c.encode_utf8(&mut b);
        assert_eq!(exact_word(c), plain.is_match(s), "{c:?}");
    }
    let w = PyRegex::new(r"\w", true, false).unwrap();
    assert!(!w.search("\u{345}").unwrap());
    assert!(w.search("\u{212a}").unwrap());
    let kw = PyRegex::new(r"\bfoo\b", true, false).unwrap();
    assert!(kw.search("\u{345}FOO").unwrap());
}

#[test]
fn literal_path_equals_fancy() {
    let pats = [
        (r"\bcat\b", true),
        (r"\bcat\b", false),
        (r"\bkiss\b", true),
        (r"\bsing\b", true),
        (r"\bİ\b", true),
        (r"\bthe last\b", true),
        (r"cat", true),
        (r"is", true),
        (r"\bé\b", true),
        (r"\bι\b", true),
        (r"(?i)\b(can)(not)\b", false),
        (r"(?i)\b(wan)(na)(?=\s)", false),
        (r"(?i) ('t)(is)\b", false),
        (r"a-b's #1", true),
        (r"\bété\b", true),
        (r"straße", true),
        (r"\bkelvin\b", true),
        (r"(k)(iss)", false),
    ];
    let texts = [
        "the cat sat; CAT, Cat! concat cats",
        "KISS kiſs \u{212a}iss, ſing SING",
        "İ ı i I Iİ",
        "ι\u{345} \u{345}ι \u{3b9}x é É ée",
        "cannot CANNOT can not cannotx xcannot",
        "wanna go WANNA\twanna\u{1c}wannax wanna",
        " 'tis 'TIS 'tisx  'tis",
        "A-B'S #1 a-b's #12",
        "",
        "the last word is the last",
        "ÉTÉ été Été étéx STRASSE straße STRAẞE \u{212a}ELVIN Kelvin kelvin",
        "e\u{301}te\u{301} ete",
        "kiss Kiss \u{212a}iss",
        "cat\u{301} \u{301}cat",
        "a-b's #1",
        "日本語cat日本語 ñcatñ cat_ _cat 1cat cat1 ²cat",
    ];
    for (p, ic) in pats {
        let lit = PyRegex::new(p, ic, false).unwrap();
        assert!(lit.is_literal(), "{p}");
        let fancy = PyRegex::new_fancy(p, ic, false).unwrap();
        for t in texts {
            assert_eq!(
                lit.search(t).unwrap(),
                fancy.search(t).unwrap(),
                "{p} {t:?}"
            );
            assert_eq!(lit.find(t).unwrap(), fancy.find(t).unwrap(), "{p} {t:?}");
            assert_eq!(
                lit.find_all(t).unwrap(),
                fancy.find_all(t).unwrap(),
                "{p} {t:?}"
            );
            assert_eq!(lit.split_count(t).unwrap(), fancy.split_count(t).unwrap());
            let f = |c: &Caps| {
                (0..c.len())
                    .map(|i| format!("<{}>", c.get(i).unwrap_or("-")))
                    .collect::<String>()
            };
            assert_eq!(lit.replace_all(t, f), fancy.replace_all(t, f), "{p} {t:?}");
        }
    }
    // other shapes take the general path
    for p in [
        r"\bca+t\b",
        r"\b(?:a)\b",
        r"a\\b",
        r"(a(b))",
        r"\b\b",
        "",
        r"()",
    ] {
        if let Ok(r) = PyRegex::new(p, true, false) {
            assert!(!r.is_literal(), "{p}");
        }
    }
}

#[test]
fn class_tables_are_the_regex_classes() {
    let nd = regex::Regex::new(r"^\p{Nd}$").unwrap();
    let l = regex::Regex::new(r"^\p{L}$").unwrap();
    let d = regex::Regex::new(r"^\d$").unwrap();
    let mut b = [0u8; 4];
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let s = c.encode_utf8(&mut b);
        assert_eq!(is_decimal(c), nd.is_match(s), "{c:?}");
        assert_eq!(is_nd(c), d.is_match(s), "{c:?}");
        assert_eq!(char_is_alpha(c), l.is_match(s), "{c:?}");
    }
}

#[test]
fn hand_patterns_equal_their_regexes() {
    let alphabet: Vec<char> = "0123²٣ aAbBcC_-.,/\n\u{a0}é日".chars().collect();
    let texts = random_texts(&alphabet, 30_000, 12);
    let d = PyRegex::new(r"\d+", false, false).unwrap();
    let w = PyRegex::new(r"\w", false, false).unwrap();
    for t in &texts {
        assert_eq!(digit_runs(t), d.find_all(t).unwrap(), "{t:?}");
        for c in t.chars() {
            assert_eq!(is_py_word(c), w.search(&c.to_string()).unwrap(), "{c:?}");
        }
    }
}

#[test]
fn str_methods() {
    assert_eq!(split_ws(" a\u{1c}b  c "), vec!["a", "b", "c"]);
    assert!(is_upper("HELLO 1"));
    assert!(!is_upper("123"));
    assert!(is_lower("hello"));
    assert_eq!(slice_chars("héllo", 1, 3), "él");
    assert!(is_digit("²3"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// The literal path (with its byte-by-byte compare on ASCII text) finds what the
    /// general translation finds.
    #[test]
    fn literal_path_finds_what_fancy_finds(
        text in "[abcABkKsSi '#1_\\-\u{212a}\u{17f}é]{0,24}",
        k in 0..12usize,
    ) {
        // (pattern, IGNORECASE) -> the literal path and the general one, compiled once
        static PATS: std::sync::LazyLock<Vec<(&str, PyRegex, PyRegex)>> =
            std::sync::LazyLock::new(|| {
                [r"\bcab\b", r"\bkiss\b", r"Ab", r"\ba-b's #1\b", r"(a)(b)(?=\s)", r"\bsé\b"]
                    .into_iter()
                    .flat_map(|p| [true, false].map(|ic| (p, ic)))
                    .map(|(p, ic)| {
                        let lit = PyRegex::new(p, ic, false).expect("pattern");
                        (p, lit, PyRegex::new_fancy(p, ic, false).expect("pattern"))
                    })
                    .collect()
            });
        let (p, lit, fancy) = &PATS[k];
        proptest::prop_assert_eq!(lit.find_all(&text).ok(), fancy.find_all(&text).ok(), "{} {:?}", p, text);
    }
}

proptest::proptest! {

    /// The ASCII shortcuts of `isupper`/`islower` agree with the char-by-char definitions.
    #[test]
    fn ascii_case_tests_are_the_definitions(text in "[a-zA-Z0-9 .,'\n_\u{1c}ǅß]{0,12}") {
        let ascii: String = text.chars().filter(char::is_ascii).collect();
        for t in [&text, &ascii] {
            proptest::prop_assert_eq!(is_upper(t), is_upper_chars(t), "{:?}", t);
            proptest::prop_assert_eq!(is_lower(t), is_lower_chars(t), "{:?}", t);
        }
    }

    /// The byte-level punctuation removal and the ASCII masks are the plain definitions.
    #[test]
    fn fast_char_sets_are_the_definitions(
        text in "[a-z .,!?*'\\\"()é中\u{1c}\n-]{0,40}",
        set in proptest::sample::select(vec![PUNCTUATION, PUNCT_SPACE, " *", "aé", ""]),
    ) {
        let plain: String = text.chars().filter(|c| !PUNCTUATION.contains(*c)).collect();
        proptest::prop_assert_eq!(remove_punct(&text), plain);
        proptest::prop_assert_eq!(strip_chars(&text, set), text.trim_matches(|c| set.contains(c)));
        proptest::prop_assert_eq!(lstrip_chars(&text, set), text.trim_start_matches(|c| set.contains(c)));
        proptest::prop_assert_eq!(rstrip_chars(&text, set), text.trim_end_matches(|c| set.contains(c)));
    }
}

/// Random strings over `alphabet` (a fixed-seed generator: reproducible).
pub(crate) fn random_texts(alphabet: &[char], n: usize, max_len: usize) -> Vec<String> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let len = (next() % (max_len as u64 + 1)) as usize;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        })
        .collect()
}
