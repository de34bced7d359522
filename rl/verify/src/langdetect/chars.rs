//! What the n-gram window needs to know of each char ([`CharInfo`]), from a constant table for
//! ASCII and from pages built on first use for the rest of the BMP.

use std::sync::OnceLock;

use super::model::normalize;
use crate::table::small_code;

/// What the n-gram window needs to know of a char, packed in a u32 so that one table read
/// answers it for a BMP char: the normalised char (bits 0..21), its code in the direct table's
/// alphabet (bits 21..26, [`NO_CODE`] when it is not in it) and whether the normalised char is
/// upper case (bit 31; Python's `str.isupper`, which drives langdetect's capital-word rule).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct CharInfo(pub(super) u32);

/// The alphabet code of a char outside the direct table's alphabet.
pub(super) const NO_CODE: u32 = 31;

impl CharInfo {
    /// The definition (what the table holds for a BMP char).
    pub(super) fn of(c: char) -> CharInfo {
        let n = normalize(c);
        CharInfo::pack(n, crate::py::char_is_upper(n))
    }

    /// The bits of a normalised char `n` (its alphabet code derived here).
    const fn pack(n: char, upper: bool) -> CharInfo {
        let code = match small_code(n) {
            Some(k) => k as u32,
            None => NO_CODE,
        };
        CharInfo(n as u32 | (code << 21) | ((upper as u32) << 31))
    }

    /// The normalised char, as a code point.
    #[inline]
    pub(super) fn cp(self) -> u32 {
        self.0 & 0x1F_FFFF
    }

    #[inline]
    pub(super) fn code(self) -> u32 {
        (self.0 >> 21) & 31
    }

    #[inline]
    pub(super) fn is_upper(self) -> bool {
        self.0 >> 31 != 0
    }

    #[inline]
    pub(super) fn is_space(self) -> bool {
        self.cp() == ' ' as u32
    }
}

/// [`CharInfo`] of the BMP chars (surrogates, which no `char` is, read as a space), in pages
/// of 64 chars, each built on first use from `normalize` (a block search, a search of the CJK
/// classes) and `char_is_upper` (Unicode tables): those cost more per char than the rest of
/// the n-gram extraction together. By pages because building the whole BMP (65,536 chars)
/// cost a short-lived process like `raif check` more than a millisecond, and a text touches a
/// few pages; small ones because a CJK text touches a few chars in each of many pages (256-char
/// pages built 15,000 chars for the IFEval benchmark's 143 detections).
const BMP_PAGE: usize = 64;

pub(super) struct BmpInfo {
    pages: [OnceLock<Box<[u32; BMP_PAGE]>>; 0x10000 / BMP_PAGE],
}

pub(super) static BMP_INFO: BmpInfo = BmpInfo {
    pages: [const { OnceLock::new() }; 0x10000 / BMP_PAGE],
};

impl BmpInfo {
    /// [`CharInfo`] of `c`: a table read for a BMP char, the definition beyond.
    #[inline]
    fn get(&self, c: char) -> CharInfo {
        let cp = c as usize;
        match self.pages.get(cp / BMP_PAGE) {
            Some(page) => {
                let page = page.get_or_init(|| {
                    let base = (cp - cp % BMP_PAGE) as u32;
                    Box::new(std::array::from_fn(|k| {
                        CharInfo::of(char::from_u32(base + k as u32).unwrap_or(' ')).0
                    }))
                });
                CharInfo(page[cp % BMP_PAGE])
            }
            None => CharInfo::of(c),
        }
    }
}

/// [`CharInfo`] of the ASCII chars, computed at compile time (most chars of most texts; a
/// constant table spares them the page lookup): letters stay, the rest normalise to a space;
/// lowercase letters and the space are in the direct table's alphabet.
pub(super) const ASCII_INFO: [u32; 128] = {
    let mut t = [0u32; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        let n = if b.is_ascii_alphabetic() { b } else { b' ' };
        t[i] = CharInfo::pack(n as char, n.is_ascii_uppercase()).0;
        i += 1;
    }
    t
};

/// [`CharInfo`] of `c`.
#[inline]
pub(super) fn char_info(bmp: &BmpInfo, c: char) -> CharInfo {
    match ASCII_INFO.get(c as usize) {
        Some(&a) => CharInfo(a),
        None => bmp.get(c),
    }
}
