//! The tests of the NLTK ports.

use super::punkt::{
    annotate_for_sentbreak, number_prefix, potential_end_contexts, punkt_word_pattern,
    punkt_word_spans, word_period_word,
};
use super::treebank::{
    collapse_spaces, final_period, plain_treebank, quote_start, ENDING_QUOTES_A, ENDING_QUOTES_B,
    PUNCTUATION_A, PUNCTUATION_B, PUNCTUATION_C, SENTENCE_MEMO, STARTING_QUOTES,
};
use super::words::{count_stopwords_reference, is_word_char};
use super::*;
use crate::py::tests::random_texts;

fn fre(p: &str) -> fancy_regex::Regex {
    fancy_regex::Regex::new(p).expect("static NLTK pattern")
}

#[test]
fn count_words_counts_word_tokens() {
    for t in [
        "",
        " ",
        "a",
        "a b",
        "_x_ y-z 3.5 é日本 ٣½ x²",
        "Hello, world!! it's",
        "\u{a0}a\u{a0}",
    ] {
        assert_eq!(count_words(t), word_tokens(t).len(), "{t:?}");
    }
}

proptest::proptest! {
    /// Counting (bytes read directly below ASCII) counts the `\w+` tokens.
    #[test]
    fn count_words_is_the_number_of_tokens(text in "[a-z_0-9 .\n'é日٣½²\u{a0}\u{300}]{0,30}") {
        proptest::prop_assert_eq!(count_words(&text), word_tokens(&text).len(), "{:?}", text);
    }
}

proptest::proptest! {
    /// The table tokenizer gives the `\w` runs that splitting at every other char gives.
    #[test]
    fn word_tokens_are_the_runs_of_word_chars(text in "[a-zA-Z_0-9 .\n'é日٣½²\u{a0}\u{300}\u{903}-]{0,30}") {
        let want: Vec<&str> = text.split(|c| !is_word_char(c)).filter(|w| !w.is_empty()).collect();
        proptest::prop_assert_eq!(word_tokens(&text), want, "{:?}", text);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]
    /// Stop words are counted as the reference counts them: mixed case, apostrophes,
    /// underscores, digits, non-ASCII letters (the Kelvin sign lowercases to `k`).
    #[test]
    fn stopwords_counted_like_the_reference(
        text in "((THE|the|The|ourselves|Yourselves|don|t|shouldn|'|_|a1|a|I|İ|Ab|\u{212a}|off|x)[ ,.\n]?){0,20}"
    ) {
        proptest::prop_assert_eq!(count_stopwords(&text), count_stopwords_reference(&text), "{:?}", text);
    }
}

#[test]
fn stopwords_counted_like_the_reference_on_the_corpus() {
    for line in include_str!("../../data/corpus.jsonl").lines().step_by(5) {
        let v: serde_json::Value = serde_json::from_str(line).expect("corpus line");
        let r = v["response"].as_str().unwrap_or("");
        assert_eq!(count_stopwords(r), count_stopwords_reference(r), "{r:?}");
    }
}

/// The sentence memo changes nothing: the tokens of texts that share sentences (and of the
/// same text twice) are the same inside a scope as outside, and the scope ends cleanly.
#[test]
fn sentence_memo_gives_the_same_tokens() {
    let base = "First line: \"Hi\". Mr. Smith can't go!! It's *BIG* (really).\n\
                Second line... 3.5 U.S.A. e.g. test--it. 'Tis gonna be FINE, OK?\n\
                Last line, NO period";
    let mut texts = vec![base.to_string(), base.replace('*', "")];
    for v in crate::registry::loose_variants(base) {
        texts.push(v);
    }
    texts.push(String::new());
    let plain: Vec<Vec<String>> = texts.iter().map(|t| word_tokenize(t)).collect();
    let memo: Vec<Vec<String>> = with_sentence_memo(|| {
        // twice, so that the second pass reads every sentence from the memo; and nested
        let first: Vec<Vec<String>> = texts.iter().map(|t| word_tokenize(t)).collect();
        let second = with_sentence_memo(|| texts.iter().map(|t| word_tokenize(t)).collect());
        assert_eq!(first, second);
        let kept = SENTENCE_MEMO.with(|m| m.borrow().as_ref().map_or(0, |m| m.len()));
        assert!(
            kept > 0,
            "an inner scope leaves the outer one open ({kept} sentences)"
        );
        second
    });
    assert_eq!(plain, memo);
    assert!(
        SENTENCE_MEMO.with(|m| m.borrow().is_none()),
        "the scope is closed"
    );
    // a panic inside the scope closes it too
    let r = std::panic::catch_unwind(|| with_sentence_memo(|| panic!("inside")));
    assert!(r.is_err());
    assert!(SENTENCE_MEMO.with(|m| m.borrow().is_none()));
}

/// The head and tail of the tokens are those of the whole list, on every response of the
/// corpus (and its loose variants) and on hand cases, for several lengths.
#[test]
fn token_head_and_tail_are_the_ends_of_the_whole_list() {
    let mut texts: Vec<String> = vec![
        String::new(),
        " ".into(),
        "One".into(),
        "One two".into(),
        "Hi. Go. Now!".into(),
        "\"Yes.\" He said. A".into(),
        "Mr. Smith went. Then... ok? (Fine.) Done".into(),
    ];
    for line in include_str!("../../data/corpus.jsonl").lines().step_by(7) {
        let v: serde_json::Value = serde_json::from_str(line).expect("corpus line");
        if let Some(r) = v["response"].as_str() {
            texts.extend(crate::registry::loose_variants(r));
        }
    }
    for t in &texts {
        let all = word_tokenize(t);
        for n in [0, 1, 2, 3, 5] {
            let k = n.min(all.len());
            assert_eq!(
                word_tokenize_head(t, n),
                all[..k].to_vec(),
                "head {n} of {t:?}"
            );
            assert_eq!(
                word_tokenize_tail(t, n),
                all[all.len() - k..].to_vec(),
                "tail {n} of {t:?}"
            );
        }
    }
}

/// The plain-sentence split, where it applies (None: not plain).
fn plain(s: &str) -> Option<Vec<String>> {
    let mut v = Vec::new();
    plain_treebank(s, &mut |t| v.push(t.to_string())).then_some(v)
}

/// The plain split gives the rules' tokens, on the cases each of its rules is for, and
/// declines what it does not handle.
#[test]
fn plain_sentences_split_as_the_rules_do() {
    for s in [
        "Hello world.",
        "Hello world. ",
        "Hello world.\n",
        "A, b: c; d@e #f $5 100% R&D? Yes! Ok.",
        "1,000 and 3:45 and 1,a and 2:b.",
        ",,x ,,5 ::y :,z x,, y:,",
        "x,\n",
        "x,,\n",
        "end,",
        "end:\n",
        "wait... what.. really....",
        "a.b.c.",
        "e.g. U.S.A. i.e.",
        "x..",
        "..",
        ".",
        "  .  ",
        "x .",
        "!.",
        "?!?",
        "café naïve 日本語。 ٣٤,٥ x,٣",
        "em—dash and en–dash \u{2012}\u{2015}",
        "a/b+c=d_e~f^g|h\\i",
        "tab\tsep\r\nline",
        "",
        "   ",
        "word",
        "CAN NOT, cann0t, lemmings, xcannot Xgonna 1wanna _gotta",
        "It's Bob's DOG'S; I'm I'M he'd HE'D x'Ds we'll WE'LL you're YOU'RE I've I'VE",
        "don't DON'T Don'T can't've you'll's y'all'd rock'n'roll o'clock n't x'n't.",
        "say \"hi\" (\"a\") [\"b\"] {\"c\"} <\"d\"> x\"y\" \"\" ,\"z\", \"",
        "\"Start. \"End.\"",
        "He said \"go.\"",
        "He said \"go. \"",
        "x.) ] } >",
        "x.\n)",
        "x. (",
        "x.*",
        "*x.",
        "a-b a--b a---b a----b -- - -x x- --.",
        "**bold** and *it* <b>tag</b> [link](url) {x}",
        "x,\"y\" :(z) ,-- ,* ,\"",
    ] {
        let got = plain(s).unwrap_or_else(|| panic!("{s:?} is plain"));
        assert_eq!(got, treebank_tokenize(s), "{s:?}");
    }
    for s in [
        "'Tis", "it'", "'s", "x''y", "a'1", "é's", "`x`", "x\u{b}y", "x\u{1c}y", "a\u{a0}b", "“q”",
        "cannot", "GoNNa", "wanna go", "gimme", "gotta", "Lemme", "D'ye", "more'n", "\u{212a}",
        "İ", "ı", "ſ",
    ] {
        assert!(plain(s).is_none(), "{s:?} is not plain");
    }
}

/// The shortcut for `W. N` contexts answers as the annotation does, on every period
/// context of the corpus's responses and on hand cases (abbreviations, collocations,
/// initials, numbers, other shapes).
#[test]
fn word_period_word_agrees_with_the_annotation() {
    let mut texts: Vec<String> = include_str!("../../data/corpus.jsonl")
        .lines()
        .step_by(2)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("corpus line");
            v["response"].as_str().unwrap_or("").to_string()
        })
        .collect();
    texts.push(
        "He saw Dr. Smith. Then etc. And the U.S. Army. A. Lincoln. Mr. Jones. In Jan. Feb. \
         It was 5. Then no. More tests. Also e.g. That. Section vs. Vs. Ok. Word. word. \
         St. Louis. Gen. Motors. Corp. Inc. Ltd. Co. Arc. Fig. Ibid. Op. Cit. Jr. Sr."
            .into(),
    );
    let (mut short, mut all) = (0, 0);
    for t in &texts {
        potential_end_contexts(t, |_, ctx, low| {
            all += 1;
            if let Some(b) = word_period_word(ctx, low) {
                short += 1;
                assert_eq!(b, annotate_for_sentbreak(ctx, low), "{ctx:?}");
            }
        });
    }
    assert!(
        short * 10 > all,
        "{short} of {all} contexts took the shortcut"
    );
}

/// Every sentence of a third of the committed corpus's responses: where the plain split
/// applies, it gives the rules' tokens (the rules themselves are held to NLTK by the corpus
/// and real-text tests).
#[test]
fn plain_split_agrees_on_the_corpus_sentences() {
    let mut plain_n = 0;
    let mut all = 0;
    for line in include_str!("../../data/corpus.jsonl").lines().step_by(3) {
        let v: serde_json::Value = serde_json::from_str(line).expect("corpus line");
        let text = v["response"].as_str().unwrap_or("");
        for s in sent_tokenize(text) {
            all += 1;
            if let Some(got) = plain(s) {
                plain_n += 1;
                assert_eq!(got, treebank_tokenize(s), "{s:?}");
            }
        }
    }
    assert!(plain_n * 3 > all, "{plain_n} of {all} sentences plain");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20000))]
    /// Random sentences over the chars the plain split treats specially (and some it
    /// declines): where it applies, it gives the rules' tokens.
    #[test]
    fn plain_split_agrees_with_the_rules(
        parts in proptest::collection::vec(proptest::sample::select(vec![
            "a", "Bc", "x", "9", "٣", "é", "日", " ", "  ", "\n", "\t", "\r", ",", ":",
            ".", "..", ";", "?", "!", "@", "#", "$", "%", "&", "—", "–", "/", "_",
            "can", "not", "gon", "na", "'", "\"", "-", "(", "\u{a0}", "*", ")", "]",
            "}", "<", ">", "[", "{", "s", "'s", "'S", "'ll", "n't", "N'T", "'d", "'ve", "`",
            "--",
        ]), 0..24)
    ) {
        let s: String = parts.concat();
        if let Some(got) = plain(&s) {
            proptest::prop_assert_eq!(got, treebank_tokenize(&s), "{:?}", s);
        }
    }
}

#[test]
fn word_tokenize_matches_nltk() {
    let toks = word_tokenize("Hello world. I can't go!! \"Quote\" (a) 3.5 U.S.A. e.g. test--it");
    let want = [
        "Hello", "world", ".", "I", "ca", "n't", "go", "!", "!", "``", "Quote", "''", "(", "a",
        ")", "3.5", "U.S.A.", "e.g", ".", "test", "--", "it",
    ];
    assert_eq!(toks, want);
    // NLTK splits contractions case-insensitively, dotted capital I included (NLTK 3.9:
    // NLTKWordTokenizer().tokenize('GİMME that') == ['GİM', 'ME', 'that']).
    assert_eq!(treebank_tokenize("GİMME that"), ["GİM", "ME", "that"]);
    assert_eq!(treebank_tokenize("cAnnot"), ["cAn", "not"]);
}

const TRICKY: &[char] = &[
    'a', 'B', 'z', '1', '٣', '_', 'é', '\u{301}', 'ſ', 'K', ' ', ' ', '\t', '\n', '\u{a0}',
    '\u{2003}', '.', '.', '-', '-', ',', ':', ';', '\'', '"', '`', '(', ')', '[', ']', '{', '}',
    '&', '#', '*', '@', '?', '!', '‘', '’', '“', '”', '«', '»', '$', '日', '²', '„', '‒', '–', '—',
    '―', '<', '>', '%',
];

#[test]
fn hand_tokenizers_equal_their_patterns() {
    let w = regex::Regex::new(r"\w+").unwrap();
    let punkt = fancy_regex::Regex::new(&punkt_word_pattern()).unwrap();
    let num = fancy_regex::Regex::new(r"^-?[\.,]?\d[\d,\.-]*\.?(?=\n?\z)").unwrap();
    let mut texts = random_texts(TRICKY, 30_000, 24);
    let digits: Vec<char> = "-.,1٣²\na.".chars().collect();
    texts.extend(random_texts(&digits, 5_000, 8));
    let dots: Vec<char> = ". .\u{a0}-,x\n".chars().collect();
    texts.extend(random_texts(&dots, 10_000, 12));
    for t in &texts {
        let want: Vec<&str> = w.find_iter(t).map(|m| m.as_str()).collect();
        assert_eq!(word_tokens(t), want, "{t:?}");
        let want: Vec<(usize, usize)> = punkt
            .find_iter(t)
            .map(|m| m.map(|m| (m.start(), m.end())).unwrap())
            .collect();
        assert_eq!(punkt_word_spans(t), want, "{t:?}");
        let want = num.find(t).unwrap().map(|m| m.end());
        assert_eq!(number_prefix(t), want, "{t:?}");
    }
}

#[test]
fn substitutions_equal_plain_re_sub() {
    let all = STARTING_QUOTES
        .iter()
        .chain(&PUNCTUATION_A)
        .chain(&PUNCTUATION_B)
        .chain(&PUNCTUATION_C)
        .chain(&ENDING_QUOTES_A)
        .chain(&ENDING_QUOTES_B);
    let mut texts = random_texts(TRICKY, 5_000, 20);
    let words: Vec<char> = "n'tNTsSmMdDlLrReEvV ``\"x".chars().collect();
    texts.extend(random_texts(&words, 5_000, 12));
    let apostrophes: Vec<char> = "'' a\né".chars().collect();
    texts.extend(random_texts(&apostrophes, 5_000, 10));
    texts.push("I can't, he'd've  said \"it's\" -- 'twas ... ``ok'' (a) [b] {c} <d>?!".into());
    for s in all {
        let re = fre(s.pattern);
        for t in &texts {
            let want = re.replace_all(t, s.replacement);
            // the needs: a text without them has no match
            if !s.needs.iter().any(|n| t.contains(n)) {
                assert_eq!(want, t.as_str(), "{} {t:?}", s.pattern);
            }
            let got = (s.fast)(t);
            assert_eq!(got.as_deref().unwrap_or(t), want, "{} {t:?}", s.pattern);
        }
    }
    let q = fre(r"(?i)(?<!\w)(')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)");
    let quotes: Vec<char> = "\u{27}\u{27}\u{27}rRevVlLmMtTsSſdDnNx é_1 -\u{301}"
        .chars()
        .collect();
    texts.extend(random_texts(&quotes, 20_000, 10));
    for t in &texts {
        assert_eq!(quote_start(t), q.replace_all(t, "$1 "), "{t:?}");
    }
    let sp = regex::Regex::new(r"\s+").unwrap();
    for t in &texts {
        assert_eq!(collapse_spaces(t), sp.replace_all(t, " "), "{t:?}");
    }
}

/// `final_period` as it was first written (over a char vector), the reference for the
/// slice version.
fn final_period_reference(t: &str, set: &str, spaced: bool) -> String {
    let chars: Vec<(usize, char)> = t.char_indices().collect();
    let n = chars.len();
    let mut ws = n;
    while ws > 0 && chars[ws - 1].1.is_whitespace() {
        ws -= 1;
    }
    let mut k0 = ws;
    while k0 > 0 && set.contains(chars[k0 - 1].1) {
        k0 -= 1;
    }
    if k0 < 2 || chars[k0 - 1].1 != '.' || chars[k0 - 2].1 == '.' {
        return t.to_string();
    }
    let mut r = k0;
    while r < n && set.contains(chars[r].1) {
        r += 1;
    }
    let p = chars[k0 - 2].0;
    let run_start = if k0 < n { chars[k0].0 } else { t.len() };
    let run_end = if r < n { chars[r].0 } else { t.len() };
    let c1 = chars[k0 - 2].1;
    let mut out = String::with_capacity(t.len() + 4);
    out.push_str(&t[..p]);
    out.push(c1);
    out.push_str(if spaced { " . " } else { " ." });
    out.push_str(&t[run_start..run_end]);
    out.push(' ');
    out
}

#[test]
fn final_period_equals_reference() {
    let alphabet: Vec<char> = ".. a])}>\"'»”’\n\u{a0}é".chars().collect();
    for t in random_texts(&alphabet, 20_000, 10) {
        for (set, spaced) in [("])}>\"'»”’ ", true), ("])}>\"'", false)] {
            assert_eq!(
                final_period(&t, set, spaced),
                final_period_reference(&t, set, spaced),
                "{t:?}"
            );
        }
    }
}

#[test]
fn punkt_basic() {
    assert_eq!(sent_tokenize("Mr. Smith went home. He slept.").len(), 2);
    assert_eq!(sent_tokenize("").len(), 0);
}
