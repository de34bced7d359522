use std::borrow::Cow;

use proptest::prelude::*;

use super::chars::{char_info, CharInfo, ASCII_INFO, BMP_INFO, NO_CODE};
use super::model::{normalize, normalize_vi};
use super::reference;
use super::*;
use crate::table::{gram_key, small_code, small_gram_index, GramEntries};

#[test]
fn small_table_is_the_big_one() {
    let m = &*MODEL;
    let alphabet: Vec<char> = " abcdefghijklmnopqrstuvwxyz".chars().collect();
    let mut n = 0;
    for &a in &alphabet {
        for gram in [vec![a]]
            .into_iter()
            .chain(alphabet.iter().map(|&b| vec![a, b]))
            .chain(
                alphabet
                    .iter()
                    .flat_map(|&b| alphabet.iter().map(move |&c| vec![a, b, c])),
            )
        {
            let i = small_gram_index(&gram).expect("small");
            let big = m.probs.get(gram_key(&gram));
            assert_eq!(reference::lookup(m, &gram), big, "{gram:?}");
            assert_eq!(m.small_known(i as u32), big.is_some(), "{gram:?}");
            n += 1;
        }
    }
    assert_eq!(n, crate::table::SMALL_GRAMS);
    assert_eq!(small_gram_index(&['A']), None);
    assert_eq!(small_gram_index(&['a', 'é']), None);
}

#[test]
fn char_table_is_the_definition() {
    let bmp = &BMP_INFO;
    for cp in 0..=0x10_FFFFu32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let got = char_info(bmp, c);
        assert_eq!(got, CharInfo::of(c), "U+{cp:04X}");
        let n = normalize(c);
        assert_eq!(got.cp(), n as u32, "U+{cp:04X}");
        assert_eq!(got.is_upper(), crate::py::char_is_upper(n), "U+{cp:04X}");
        assert_eq!(got.is_space(), n == ' ', "U+{cp:04X}");
        let code = small_code(n).map_or(NO_CODE, |k| k as u32);
        assert_eq!(got.code(), code, "U+{cp:04X}");
    }
}

#[test]
fn mt_matches_cpython() {
    // random.Random(0).random() == 0.8444218515250481
    let mut r = PyRandom::new(0);
    assert_eq!(r.random(), 0.8444218515250481);
    // generating the first block early changes nothing
    let mut t = PyRandom::new(0);
    t.twist();
    assert_eq!(t.random(), 0.8444218515250481);
}

#[test]
fn vietnamese_marks_are_found() {
    // (the marks are searched for only from the smallest one up)
    assert_eq!(normalize_vi("Vie\u{0323}t Nam"), "Vi\u{1eb9}t Nam");
    assert_eq!(normalize_vi("tie\u{0301}ng"), "ti\u{e9}ng");
    assert!(matches!(normalize_vi("plain ascii"), Cow::Borrowed(_)));
    assert!(matches!(normalize_vi("déjà vu"), Cow::Borrowed(_)));
}

#[test]
fn detects_common_languages() {
    assert_eq!(
        detect("This is a sentence written in plain English.").unwrap(),
        "en"
    );
    assert_eq!(
        detect("Ceci est une phrase écrite en français.").unwrap(),
        "fr"
    );
    assert!(detect("1234 !!!").is_err());
    assert!(detect("").is_err());
}

/// The fast path's n-grams, as the reference's (entries, in order).
fn fast_ngrams(text: &str) -> Vec<GramEntries> {
    let m = &*MODEL;
    let mut g = Grams::default();
    extract(m, text, &mut g);
    g.ids()
        .iter()
        .map(|&id| g.entries(m, id).expect("an id has entries"))
        .collect()
}

/// The fast path against the reference: the same n-grams, the same probabilities to the
/// bit, the same answer; twice on one thread (reused buffers, memo) for two seeds.
fn same_as_reference(text: &str) {
    let m = &*MODEL;
    assert_eq!(fast_ngrams(text), reference::ngrams(m, text), "{text:?}");
    let mut s = Scratch::default();
    for seed in [0, 7, 0] {
        let want = reference::lang_probs(m, text, seed);
        let got = lang_probs(m, text, seed, &mut s, false).map(|p| p.to_vec());
        let bits = |r: &Result<Vec<f64>, NoFeatures>| {
            r.as_ref()
                .map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
                .map_err(|e| e.clone())
        };
        assert_eq!(bits(&got), bits(&want), "{text:?} seed {seed}");
        let want_lang = want.map(|p| best_language(m, &p));
        assert_eq!(detect_seeded(text, seed), want_lang, "{text:?} seed {seed}");
    }
}

#[test]
fn ascii_table_is_the_definition() {
    for b in 0u8..128 {
        assert_eq!(ASCII_INFO[b as usize], CharInfo::of(b as char).0, "{b}");
    }
}

#[test]
fn fast_path_matches_reference_on_examples() {
    let long_en = "The committee reviewed the proposal. ".repeat(400);
    let many_chars = "日本語のテキストと English words ".repeat(600);
    for t in [
        "",
        " ",
        "   \n\t ",
        "a",
        "A",
        "AB CD EF",
        "This is a sentence written in plain English.",
        "Ceci est une phrase écrite en français.",
        "Dies ist ein Satz auf Deutsch, größer als gedacht. ÄÖÜ straße",
        "Это предложение написано по-русски. ПРИВЕТ мир",
        "这是一个用中文写的句子。東京の天気は晴れです。",
        "これは日本語の文です。カタカナとひらがな。",
        "한국어 문장입니다. 서울은 오늘 비가 옵니다.",
        "هذه جملة مكتوبة باللغة العربية ی",
        "Tiếng Việt có dấu: Việt Nam, người, được. Tie\u{0301}ng Vie\u{0323}\u{0302}t",
        "ελληνικά κείμενο ΑΒΓ δέλτα",
        "हिन्दी में लिखा गया वाक्य है।",
        "See https://example.com/a?b=c and mail me at a.b@example.org now",
        "emoji 😀🎉 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 text, ǅ title case, ș ț",
        "Mixed: English, français, Deutsch, русский, 日本語, 한국어, العربية.",
        "HTTP NASA USA ABC dEF GhI",
        // mostly non-Latin: the Latin letters are dropped (after spaces are collapsed)
        "日本語のテキスト a  b 東京 c 大阪 Z",
        "a  b   c    d  \u{2003} e\u{2014}f",
        // English with punctuation above ASCII (read as ASCII with spaces)
        "It\u{2019}s \u{201c}quoted\u{201d} \u{2014} and\u{2026} done\u{00a0}here. AB\u{2019}CD",
        "\u{2019}\u{2019} \u{2014}",
        &long_en,
        &many_chars,
    ] {
        same_as_reference(t);
    }
}

/// Text from pieces that exercise langdetect's rules: scripts, capitals, spaces,
/// punctuation, URLs and addresses, Vietnamese marks, chars beyond the BMP.
fn text_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z ]{0,12}",
        "[A-Za-z .,!?]{0,12}",
        "[àâçéèêëîïôûùüÿñæœßäöå ]{0,8}",
        "[а-яА-ЯёЁ ]{0,8}",
        "[一-龥 ]{0,6}",
        "[ぁ-んァ-ン ]{0,6}",
        "[가-힣 ]{0,6}",
        "[ا-ي ی]{0,6}",
        "[α-ωΑ-Ω ]{0,6}",
        "[aeiouy][\u{0300}\u{0301}\u{0303}\u{0309}\u{0323}]",
        Just("https://example.com/x?y=1".to_string()),
        Just(" a.b@example.org ".to_string()),
        Just("  \t\n ".to_string()),
        "\\PC{0,4}",
        "[A-Za-z \u{2018}\u{2019}\u{201c}\u{201d}\u{2013}\u{2014}\u{2026}\u{00a0}\u{00bf}]{0,12}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn fast_path_matches_reference(text in text_strategy()) {
        same_as_reference(&text);
    }
}
