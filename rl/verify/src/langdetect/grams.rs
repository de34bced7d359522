//! langdetect's `append` and `_extract_ngrams`: a text's n-grams that have a profile, as ids
//! ([`Grams`]), computed from the chars' [`CharInfo`] without building strings.

use super::chars::{char_info, BmpInfo, CharInfo, ASCII_INFO, BMP_INFO, NO_CODE};
use super::model::{known_bit, normalize_vi, remove_urls_mails, Model, SMALL_KNOWN_WORDS};
use crate::table::{decode_small, GramEntries, SMALL_ALPHABET, SMALL_GRAMS};

/// Where the direct table's n-grams of each length start (`table::small_gram_index`).
const SMALL_OFFSET: [u32; 4] = [
    0,
    0,
    SMALL_ALPHABET as u32,
    (SMALL_ALPHABET + SMALL_ALPHABET * SMALL_ALPHABET) as u32,
];

/// A text's n-grams that have a profile (langdetect drops the others before sampling, so they
/// draw no random number), in text order, as ids: an id below `SMALL_GRAMS` is the n-gram's
/// direct-table index; `SMALL_GRAMS + k` is `others[k]`. An id is computed from the window's
/// chars without building a string, and each n-gram outside the direct table is looked up in
/// the big table once per text.
#[derive(Default)]
pub(super) struct Grams {
    /// The ids, in `ids[..n]`; the rest is room for the next ones (a text of `c` chars has at
    /// most `3c` n-grams, and [`extract`] makes that room first, so that an id is written and
    /// counted without a branch on whether it has a profile).
    ids: Vec<u32>,
    n: usize,
    /// The profile entries of the n-grams outside the direct table, by id - `SMALL_GRAMS`.
    pub(super) others: Vec<GramEntries>,
    /// n-gram key -> id ([`ABSENT`]: no profile) of the n-grams outside the direct table.
    memo: KeyMemo,
}

/// The id of an n-gram that has no profile.
const ABSENT: u32 = u32::MAX;

impl Grams {
    /// The ids of the text's n-grams that have a profile, in order.
    pub(super) fn ids(&self) -> &[u32] {
        &self.ids[..self.n]
    }

    /// Room for the n-grams of `chars` chars (3 each) after the `n` kept.
    fn make_room(&mut self, chars: usize) {
        let need = self.n + 3 * chars;
        if self.ids.len() < need {
            self.ids.resize(need, 0);
        }
    }

    /// The profile entries of the n-gram with id `id`.
    pub(super) fn entries(&self, m: &Model, id: u32) -> Option<GramEntries> {
        let i = id as usize;
        match i.checked_sub(SMALL_GRAMS) {
            None => {
                let b = m.small.get(4 * i..4 * i + 4)?;
                decode_small(u32::from_le_bytes(b.try_into().ok()?))
            }
            Some(k) => self.others.get(k).copied(),
        }
    }

    /// Push the direct-table id `idx` if its n-gram has a profile.
    #[inline(always)]
    fn push_small(&mut self, m: &Model, idx: u32) {
        // (written at `n` either way; counted when it has a profile)
        self.ids[self.n] = idx;
        self.n += usize::from(m.small_known(idx));
    }

    /// Push the id of the n-gram `g` (1 to 3 chars of a window) if it has a profile. (Once per
    /// n-gram of the text: inlined for each length, the direct table's case is a few
    /// instructions.)
    #[inline(always)]
    fn push<const N: usize>(&mut self, m: &Model, g: [CharInfo; N]) {
        let mut idx = 0u32;
        let mut small = true;
        for c in g {
            let code = c.code();
            small &= code != NO_CODE;
            idx = idx * SMALL_ALPHABET as u32 + code;
        }
        if small {
            let idx = idx + SMALL_OFFSET[N];
            self.push_small(m, idx);
        } else {
            // (the key `table::gram_key` makes of the chars)
            self.push_other(m, g.iter().fold(0u64, |k, c| (k << 21) | c.cp() as u64));
        }
    }

    /// Push the id of the n-gram with key `key`, outside the direct table, if it has a profile.
    /// (Inlined: in a text of another script every n-gram comes here, most already seen.)
    #[inline(always)]
    fn push_other(&mut self, m: &Model, key: u64) {
        let id = match self.memo.get(key) {
            Some(id) => id,
            None => self.first_other(m, key),
        };
        if id != ABSENT {
            self.ids[self.n] = id;
            self.n += 1;
        }
    }

    /// The id of an n-gram outside the direct table, first seen in this text.
    #[inline(never)]
    fn first_other(&mut self, m: &Model, key: u64) -> u32 {
        let id = match m.probs.get(key) {
            Some(e) => {
                self.others.push(e);
                (SMALL_GRAMS + self.others.len() - 1) as u32
            }
            None => ABSENT,
        };
        self.memo.insert(key, id);
        id
    }
}

/// A map from n-gram keys (never 0) to u32, cleared in O(1) between texts: a slot belongs to
/// the current text only when its generation is the current one. Open addressing, at most half
/// full.
#[derive(Default)]
struct KeyMemo {
    /// (key, value, generation)
    slots: Vec<(u64, u32, u32)>,
    generation: u32,
    len: usize,
}

impl KeyMemo {
    fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // (after 2^32 texts) the stale generations could be taken for current ones
            self.slots.fill((0, 0, 0));
            self.generation = 1;
        }
        self.len = 0;
    }

    fn slot(key: u64, mask: usize) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & mask
    }

    #[inline(always)]
    fn get(&self, key: u64) -> Option<u32> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = Self::slot(key, mask);
        // at most half full: every probe sequence reaches a slot of another generation
        loop {
            let (k, v, g) = *self.slots.get(i)?;
            if g != self.generation {
                return None;
            }
            if k == key {
                return Some(v);
            }
            i = (i + 1) & mask;
        }
    }

    /// Insert a key that is not in the map.
    fn insert(&mut self, key: u64, value: u32) {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = Self::slot(key, mask);
        while self.slots[i].2 == self.generation {
            i = (i + 1) & mask;
        }
        self.slots[i] = (key, value, self.generation);
        self.len += 1;
    }

    fn grow(&mut self) {
        let n = (2 * self.slots.len()).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![(0, 0, 0); n]);
        let mask = n - 1;
        for (k, v, g) in old {
            if g == self.generation && g != 0 {
                let mut i = Self::slot(k, mask);
                while self.slots[i].2 == self.generation {
                    i = (i + 1) & mask;
                }
                self.slots[i] = (k, v, g);
            }
        }
    }
}

/// langdetect's `Detector.append` and `_extract_ngrams`: the ids of `text`'s n-grams that have
/// a profile, into `g`.
#[inline(never)]
pub(super) fn extract(m: &Model, text: &str, g: &mut Grams) {
    g.n = 0;
    g.others.clear();
    g.memo.clear();
    let bmp = &BMP_INFO;
    // append(): URLs and addresses become spaces, Vietnamese pairs one char, then at most
    // 10,000 chars are read, a space after a space dropped
    let cleaned = remove_urls_mails(text);
    let t = normalize_vi(&cleaned);
    const MAX_CHARS: usize = 10000;
    let is_latin = |ch: char| ('A'..='z').contains(&ch);
    // cleaning_text(): when less than a third of the letters are Latin ones, those are dropped.
    // (A space is neither, so counting before spaces are collapsed counts the same; only a
    // char >= U+0300 counts as non-Latin, so ASCII needs no count.)
    let drop_latin = !t.is_ascii() && {
        let (mut latin, mut non_latin) = (0usize, 0usize);
        for ch in t.chars().take(MAX_CHARS) {
            if is_latin(ch) {
                latin += 1;
            } else if ch >= '\u{0300}' {
                // (the original compares a block id with a name here: always true)
                non_latin += 1;
            }
        }
        latin * 2 < non_latin
    };
    // _extract_ngrams(), on the fly
    if t.is_ascii() {
        // (one char a byte, its info from the constant table; no Latin is dropped)
        let b = t.as_bytes();
        let b = &b[..b.len().min(MAX_CHARS)];
        g.make_room(b.len());
        window_ascii(m, g, b);
    } else if let Some(b) = (!drop_latin)
        .then(|| ascii_with_spaces(bmp, &t, MAX_CHARS))
        .flatten()
    {
        // (a text whose other chars all normalise to a space, like English with curly
        // quotes and dashes, reads as ASCII with spaces in their place: n-grams depend on the
        // normalised chars alone, and the char count, which the limit counts, is the same)
        g.make_room(b.len());
        window_ascii(m, g, &b);
    } else {
        // (at most one char a byte)
        g.make_room(t.len().min(MAX_CHARS));
        window(
            m,
            g,
            t.chars().take(MAX_CHARS).map(|c| {
                let dropped = drop_latin && is_latin(c);
                (c, (!dropped).then(|| char_info(bmp, c)))
            }),
        );
    }
}

/// The first `max` chars of `t` as ASCII bytes, each char above ASCII a space; None if one of
/// them does not normalise to a space.
fn ascii_with_spaces(bmp: &BmpInfo, t: &str, max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(t.len().min(max));
    for c in t.chars().take(max) {
        if c.is_ascii() {
            out.push(c as u8);
        } else if char_info(bmp, c).is_space() {
            out.push(b' ');
        } else {
            return None;
        }
    }
    Some(out)
}

/// [`window`] over an ASCII text, word by word. Every char but a letter normalises to a space,
/// and the first space after a word leaves the window closed: the next letter starts it again
/// from " " (further spaces, collapsed or not, change nothing). So each word (a run of letters
/// `c0 c1 …`) gives its n-grams alone: at letter `k` the window is `[c(k-2), c(k-1), ck]` (" "
/// before the word), which gives the 1-gram `ck`, the 2-gram `c(k-1) ck` and, from the second
/// letter, the 3-gram; a space after the word gives the 2-gram and 3-gram ending with it. The
/// capital rule skips letter `k`'s n-grams when it and the letter before are both capitals
/// (the flag is set by such a pair and cleared by any other char).
fn window_ascii(m: &Model, g: &mut Grams, b: &[u8]) {
    let space = CharInfo(ASCII_INFO[b' ' as usize]);
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let len = b[i..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let word = &b[i..i + len];
        if word.iter().all(u8::is_ascii_lowercase) {
            lowercase_word(m, g, word, i + len < b.len());
            i += len;
            continue;
        }
        let (mut p2, mut p1) = (space, space);
        let mut prev_upper = false;
        let mut k = 0;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            let ch = CharInfo(ASCII_INFO[b[i] as usize]);
            let upper = b[i].is_ascii_uppercase();
            if !(upper && prev_upper) {
                g.push(m, [ch]);
                g.push(m, [p1, ch]);
                if k > 0 {
                    g.push(m, [p2, p1, ch]);
                }
            }
            prev_upper = upper;
            (p2, p1) = (p1, ch);
            k += 1;
            i += 1;
        }
        if i < b.len() {
            g.push(m, [p1, space]);
            g.push(m, [p2, p1, space]);
        }
    }
}

/// The n-grams of a word of ASCII lowercase letters (see [`window_ascii`]; `closed`: a char
/// follows it), all in the direct table: the ids are base-27 numbers of the codes (a letter's
/// is 1 to 26, the space's 0). (Local copies of the id buffer and count, which stores into the
/// buffer would otherwise make the compiler reload.)
fn lowercase_word(m: &Model, g: &mut Grams, word: &[u8], closed: bool) {
    let a = SMALL_ALPHABET as u32;
    let known: &[u64; SMALL_KNOWN_WORDS] = &m.small_known;
    let mut n = g.n;
    let ids = &mut g.ids[..];
    let mut push = |idx: u32| {
        ids[n] = idx;
        n += usize::from(known_bit(known, idx));
    };
    let (mut c2, mut c1) = (0u32, 0u32);
    for (k, &x) in word.iter().enumerate() {
        let c0 = u32::from(x - b'a') + 1;
        push(SMALL_OFFSET[1] + c0);
        push(SMALL_OFFSET[2] + c1 * a + c0);
        if k > 0 {
            push(SMALL_OFFSET[3] + (c2 * a + c1) * a + c0);
        }
        (c2, c1) = (c1, c0);
    }
    if closed {
        push(SMALL_OFFSET[2] + c1 * a);
        push(SMALL_OFFSET[3] + (c2 * a + c1) * a);
    }
    g.n = n;
}

/// The n-gram window over the text's chars, each with its info (None: a Latin char the
/// cleaning drops), pushing each n-gram's id. It is langdetect's NGram: at most 3 chars, reset
/// to " " after a space; `capital`: in a word of capitals, which yields no n-grams. (The
/// non-ASCII texts' path; [`window_ascii`] is the same for ASCII, word by word.)
fn window(m: &Model, g: &mut Grams, chars: impl Iterator<Item = (char, Option<CharInfo>)>) {
    let space = CharInfo(ASCII_INFO[b' ' as usize]);
    let mut w = [space; 3];
    let mut len = 1;
    let mut capital = false;
    let mut pre = '\0';
    for (ch0, ch) in chars {
        // (a space is collapsed against the char before it in the text, even a dropped Latin one)
        let doubled_space = ch0 == ' ' && pre == ' ';
        pre = ch0;
        let Some(ch) = ch.filter(|_| !doubled_space) else {
            continue;
        };
        let last = w[len - 1];
        let mut skip_add = false;
        if last.is_space() {
            w[0] = space;
            len = 1;
            capital = false;
            if ch.is_space() {
                skip_add = true;
            }
        } else if len >= 3 {
            w = [w[1], w[2], space];
            len = 2;
        }
        if !skip_add {
            w[len] = ch;
            len += 1;
            if ch.is_upper() {
                if last.is_upper() {
                    capital = true;
                }
            } else {
                capital = false;
            }
        }
        // (a window left at " " has no n-gram: the 1-gram " " is never one)
        if capital || skip_add {
            continue;
        }
        // the window has 2 or 3 chars, `ch` the last
        if !ch.is_space() {
            g.push(m, [ch]);
        }
        if len == 2 {
            g.push(m, [w[0], w[1]]);
        } else {
            g.push(m, [w[1], w[2]]);
            g.push(m, [w[0], w[1], w[2]]);
        }
    }
}
