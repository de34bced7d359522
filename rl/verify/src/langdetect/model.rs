//! The detector's data (the language profiles, read in place from the tables `build.rs` makes,
//! and langdetect's normalisation tables, parsed once) and langdetect's char normalisation:
//! `normalize` (Unicode blocks, CJK classes), `normalize_vi` and the URL and address removal.

use std::borrow::Cow;
use std::sync::LazyLock;

use crate::table::{decode_small, GramTable, SMALL_GRAMS};

pub(super) struct Model {
    pub(super) langs: Vec<String>,
    /// The n-gram probabilities, read in place from the table `build.rs` makes of
    /// `data/langdetect.txt.z`.
    pub(super) probs: GramTable<'static>,
    /// The same table's answers for the n-grams of spaces and lowercase ASCII letters, by
    /// `small_gram_index`: one small array read instead of a probe of the big table.
    pub(super) small: &'static [u8],
    /// Whether each n-gram of the direct table has a profile, a bit each: what extraction asks
    /// of every n-gram, from 2.5 KB rather than the table's 80. (Words for a power of two of
    /// indices, so that a masked index needs no bounds check; the bits past the table are 0.)
    pub(super) small_known: Box<[u64; SMALL_KNOWN_WORDS]>,
    latin1_excluded: String,
    vi_chars: Vec<char>,
    dmarks: Vec<char>,
    /// The smallest and the largest of `dmarks`: a char outside is no mark, without searching
    /// them.
    dmark_min: char,
    dmark_max: char,
    vi_normalized: Vec<Vec<char>>,
    /// The CJK chars langdetect folds to a representative of their class: (char, class
    /// representative), sorted by char. (A hash map of these ~2,600 pairs took a short
    /// process like `raif check` half a millisecond to build.)
    cjk: Vec<(char, char)>,
    /// The Unicode blocks, by range (sorted), as far as `normalize` tells them apart.
    blocks: Vec<(Block, u32, u32)>,
}

pub(super) static MODEL: LazyLock<Model> = LazyLock::new(|| {
    let mut m = Model {
        langs: include_str!(concat!(env!("OUT_DIR"), "/langdetect_langs.txt"))
            .split_whitespace()
            .map(String::from)
            .collect(),
        probs: GramTable::new(include_bytes!(concat!(env!("OUT_DIR"), "/langdetect.bin"))),
        small: include_bytes!(concat!(env!("OUT_DIR"), "/langdetect_small.bin")),
        small_known: Box::new([0; SMALL_KNOWN_WORDS]),
        latin1_excluded: String::new(),
        vi_chars: Vec::new(),
        dmarks: Vec::new(),
        dmark_min: char::MAX,
        dmark_max: '\0',
        vi_normalized: Vec::new(),
        cjk: Vec::new(),
        blocks: Vec::new(),
    };
    for line in include_str!("../../data/langdetect_tables.txt").lines() {
        let mut p = line.split('\t');
        let key = p.next().unwrap_or("");
        let val = p.next().unwrap_or("");
        match key {
            "LATIN1_EXCLUDE" => m.latin1_excluded = val.to_string(),
            "TO_NORMALIZE_VI_CHARS" => m.vi_chars = val.chars().collect(),
            "DMARK_CLASS" => m.dmarks = val.chars().collect(),
            k if k.starts_with("NORMALIZED_VI_CHARS_") => {
                m.vi_normalized.push(val.chars().collect())
            }
            "CJK" => {
                if let Some(rep) = val.chars().next() {
                    for c in val.chars() {
                        m.cjk.push((c, rep));
                    }
                }
            }
            "BLOCK" => {
                let start = p.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                let end = p.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                m.blocks.push((Block::named(val), start, end));
            }
            _ => {}
        }
    }
    // (a char listed twice keeps its last class: reversed, a stable sort puts it first)
    m.cjk.reverse();
    m.cjk.sort_by_key(|&(c, _)| c);
    m.cjk.dedup_by_key(|&mut (c, _)| c);
    m.dmark_min = m.dmarks.iter().copied().min().unwrap_or(char::MAX);
    m.dmark_max = m.dmarks.iter().copied().max().unwrap_or('\0');
    for (i, cell) in m.small.chunks_exact(4).enumerate().take(SMALL_GRAMS) {
        let v = u32::from_le_bytes([cell[0], cell[1], cell[2], cell[3]]);
        if decode_small(v).is_some() {
            m.small_known[i / 64] |= 1 << (i % 64);
        }
    }
    m
});

impl Model {
    /// Whether the n-gram with direct-table index `i` has a profile.
    #[inline]
    pub(super) fn small_known(&self, i: u32) -> bool {
        known_bit(&self.small_known, i)
    }
}

/// Bit `i` of [`Model::small_known`]'s words. (An index past the table reads a 0 bit, or wraps
/// onto one: none is ever asked.)
#[inline(always)]
pub(super) fn known_bit(words: &[u64; SMALL_KNOWN_WORDS], i: u32) -> bool {
    let i = i as usize;
    words[(i / 64) & (SMALL_KNOWN_WORDS - 1)] >> (i % 64) & 1 != 0
}

/// [`Model::small_known`]'s words: a power of two that holds every direct-table index.
pub(super) const SMALL_KNOWN_WORDS: usize = SMALL_GRAMS.div_ceil(64).next_power_of_two();

/// The Unicode blocks that langdetect's `normalize` treats specially; every other block is
/// `Other`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Block {
    BasicLatin,
    Latin1Supplement,
    LatinExtendedB,
    GeneralPunctuation,
    Arabic,
    LatinExtendedAdditional,
    Hiragana,
    Katakana,
    Bopomofo,
    CjkUnifiedIdeographs,
    HangulSyllables,
    Other,
}

impl Block {
    fn named(name: &str) -> Block {
        match name {
            "UNICODE_BASIC_LATIN" => Block::BasicLatin,
            "UNICODE_LATIN_1_SUPPLEMENT" => Block::Latin1Supplement,
            "UNICODE_LATIN_EXTENDED_B" => Block::LatinExtendedB,
            "UNICODE_GENERAL_PUNCTUATION" => Block::GeneralPunctuation,
            "UNICODE_ARABIC" => Block::Arabic,
            "UNICODE_LATIN_EXTENDED_ADDITIONAL" => Block::LatinExtendedAdditional,
            "UNICODE_HIRAGANA" => Block::Hiragana,
            "UNICODE_KATAKANA" => Block::Katakana,
            "UNICODE_BOPOMOFO" | "UNICODE_BOPOMOFO_EXTENDED" => Block::Bopomofo,
            "UNICODE_CJK_UNIFIED_IDEOGRAPHS" => Block::CjkUnifiedIdeographs,
            "UNICODE_HANGUL_SYLLABLES" => Block::HangulSyllables,
            _ => Block::Other,
        }
    }
}

fn block(c: char) -> Block {
    let cp = c as u32;
    if cp <= 0x7f {
        return Block::BasicLatin;
    }
    let b = &MODEL.blocks;
    let (mut lo, mut hi) = (0isize, b.len() as isize - 1);
    while lo <= hi {
        let mid = ((lo + hi) >> 1) as usize;
        let (kind, s, e) = b[mid];
        if s <= cp && cp <= e {
            return kind;
        }
        if cp < s {
            hi = mid as isize - 1;
        } else {
            lo = mid as isize + 1;
        }
    }
    Block::Other
}

pub(super) fn normalize(c: char) -> char {
    if c.is_ascii() {
        // UNICODE_BASIC_LATIN: letters stay, everything else is a space
        return if c.is_ascii_alphabetic() { c } else { ' ' };
    }
    let m = &*MODEL;
    match block(c) {
        Block::BasicLatin => {
            if c < 'A' || ('Z' < c && c < 'a') || 'z' < c {
                ' '
            } else {
                c
            }
        }
        Block::Latin1Supplement => {
            if m.latin1_excluded.contains(c) {
                ' '
            } else {
                c
            }
        }
        Block::LatinExtendedB => match c {
            '\u{0219}' => '\u{015f}',
            '\u{021b}' => '\u{0163}',
            _ => c,
        },
        Block::GeneralPunctuation => ' ',
        Block::Arabic => {
            if c == '\u{06cc}' {
                '\u{064a}'
            } else {
                c
            }
        }
        Block::LatinExtendedAdditional => {
            if c >= '\u{1ea0}' {
                '\u{1ec3}'
            } else {
                c
            }
        }
        Block::Hiragana => '\u{3042}',
        Block::Katakana => '\u{30a2}',
        Block::Bopomofo => '\u{3105}',
        Block::CjkUnifiedIdeographs => match m.cjk.binary_search_by_key(&c, |&(k, _)| k) {
            Ok(i) => m.cjk[i].1,
            Err(_) => c,
        },
        Block::HangulSyllables => '\u{ac00}',
        Block::Other => c,
    }
}

pub(super) fn normalize_vi(text: &str) -> Cow<'_, str> {
    let m = &*MODEL;
    // a pair is only replaced when its second char is a diacritical mark (the marks are not
    // ASCII, and most chars of most texts are outside U+0300..=U+0323, the marks' range)
    let no_mark = if !m.dmark_min.is_ascii() && text.is_ascii() {
        true
    } else {
        !text
            .chars()
            .any(|c| (m.dmark_min..=m.dmark_max).contains(&c) && m.dmarks.contains(&c))
    };
    if no_mark {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if i + 1 < chars.len() {
            if let (Some(a), Some(d)) = (
                m.vi_chars.iter().position(|&x| x == chars[i]),
                m.dmarks.iter().position(|&x| x == chars[i + 1]),
            ) {
                if let Some(c) = m.vi_normalized.get(d).and_then(|v| v.get(a)) {
                    out.push(*c);
                    i += 2;
                    continue;
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    Cow::Owned(out)
}

pub(super) fn remove_urls_mails(text: &str) -> Cow<'_, str> {
    static URL: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"https?://[-_.?&~;+=/#0-9A-Za-z]{1,2076}").expect("static")
    });
    static MAIL: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}")
            .expect("static")
    });
    // a URL starts with "http" and an address has an '@': without them nothing is replaced
    // (and the patterns need not be compiled)
    let t = if text.contains("http") {
        URL.replace_all(text, " ")
    } else {
        Cow::Borrowed(text)
    };
    if t.contains('@') {
        Cow::Owned(MAIL.replace_all(&t, " ").into_owned())
    } else {
        t
    }
}
