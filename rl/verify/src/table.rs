//! String-keyed hash tables that `build.rs` makes from the embedded data files and the library
//! reads in place: looking a key up costs a hash and a comparison, and no process parses a data
//! file it only needs a few entries of. `build.rs` includes this file (`#[path]`), so the writer
//! and the reader share one hash function and one layout.
//!
//! Layout (little-endian): `n_slots: u32` (a power of two), `slots: [u32; n_slots]` (0: empty,
//! else 1 + the offset of a record in `records`), then the records, each `key_len: u32,
//! value_len: u32, key, value`. Open addressing with linear probing, at most half full.

#![allow(dead_code)] // build.rs uses the writer, the library the reader

use std::collections::BTreeMap;

/// FNV-1a, 64 bits.
pub fn hash(key: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in key {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?) as usize)
}

/// Build a table of `entries`.
pub fn write(entries: &BTreeMap<Vec<u8>, Vec<u8>>) -> Vec<u8> {
    let n_slots = (2 * entries.len()).max(2).next_power_of_two();
    let mut slots = vec![0u32; n_slots];
    let mut records = Vec::new();
    for (k, v) in entries {
        let mut i = (hash(k) as usize) & (n_slots - 1);
        while slots[i] != 0 {
            i = (i + 1) & (n_slots - 1);
        }
        slots[i] = u32::try_from(records.len() + 1).expect("table too large");
        records.extend((k.len() as u32).to_le_bytes());
        records.extend((v.len() as u32).to_le_bytes());
        records.extend(k);
        records.extend(v);
    }
    let mut out = Vec::with_capacity(4 + 4 * n_slots + records.len());
    out.extend((n_slots as u32).to_le_bytes());
    for s in slots {
        out.extend(s.to_le_bytes());
    }
    out.extend(records);
    out
}

/// The table `build.rs` wrote to `$OUT_DIR/NAME`, embedded in the binary.
#[allow(unused_macros)] // (build.rs)
macro_rules! table {
    ($name:literal) => {
        $crate::table::Table::new(include_bytes!(concat!(env!("OUT_DIR"), "/", $name)))
    };
}

/// A table made by [`write`], read in place.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    slots: &'a [u8],
    records: &'a [u8],
    n_slots: usize,
}

impl<'a> Table<'a> {
    /// The table in `bin` (a malformed one, impossible for our build output, is empty).
    pub fn new(bin: &'a [u8]) -> Table<'a> {
        let n = u32_at(bin, 0).unwrap_or(0);
        let slots_end = 4usize.saturating_add(n.saturating_mul(4));
        match (bin.get(4..slots_end), bin.get(slots_end..)) {
            (Some(slots), Some(records)) if n.is_power_of_two() => Table {
                slots,
                records,
                n_slots: n,
            },
            _ => Table {
                slots: &[],
                records: &[],
                n_slots: 0,
            },
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<&'a [u8]> {
        if self.n_slots == 0 {
            return None;
        }
        let mask = self.n_slots - 1;
        let mut i = (hash(key) as usize) & mask;
        // at most half full: every probe sequence reaches an empty slot
        for _ in 0..self.n_slots {
            let slot = u32_at(self.slots, 4 * i)?;
            if slot == 0 {
                return None;
            }
            let at = slot - 1;
            let kl = u32_at(self.records, at)?;
            let vl = u32_at(self.records, at + 4)?;
            let k = self.records.get(at + 8..at + 8 + kl)?;
            if k == key {
                return self.records.get(at + 8 + kl..at + 8 + kl + vl);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Whether `key` is in the table.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }
}

/// The langdetect n-gram table: an n-gram of 1 to 3 chars, packed 21 bits a char into a u64
/// key ([`gram_key`]), to its (language index, probability) entries.
///
/// Layout (little-endian): `slots: [(key: u64, entries: u32); 1 << GRAM_SLOT_BITS]` (key 0:
/// empty; `entries` = offset << 8 | count), then the entries, each `language: u8, probability:
/// f64`. Open addressing with linear probing, at most three quarters full (two thirds for the
/// profiles): finding an n-gram reads one 12-byte slot, most of the time in one cache line.
pub const GRAM_SLOT_BITS: u32 = 17;
const GRAM_SLOT: usize = 12;

/// The key of an n-gram (chars are never NUL, so n-grams of different lengths never collide).
pub fn gram_key(gram: &[char]) -> u64 {
    gram.iter().fold(0u64, |k, &c| (k << 21) | c as u64)
}

/// The first slot of a key (Fibonacci hashing).
fn gram_slot(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - GRAM_SLOT_BITS)) as usize
}

/// Build the n-gram table.
pub fn write_grams(grams: &BTreeMap<u64, Vec<(u8, f64)>>) -> Vec<u8> {
    let n_slots = 1usize << GRAM_SLOT_BITS;
    assert!(4 * grams.len() <= 3 * n_slots, "n-gram table too full");
    let mut slots = vec![(0u64, 0u32); n_slots];
    let mut entries = Vec::new();
    for (&key, v) in grams {
        assert!(key != 0, "n-gram key 0");
        let mut i = gram_slot(key);
        while slots[i].0 != 0 {
            i = (i + 1) & (n_slots - 1);
        }
        let at = entries.len() / 9;
        assert!(at < 1 << 24 && v.len() < 256, "n-gram entries too large");
        slots[i] = (key, (at as u32) << 8 | v.len() as u32);
        for (l, p) in v {
            entries.push(*l);
            entries.extend(p.to_le_bytes());
        }
    }
    let mut out = Vec::with_capacity(GRAM_SLOT * n_slots + entries.len());
    for (k, e) in slots {
        out.extend(k.to_le_bytes());
        out.extend(e.to_le_bytes());
    }
    out.extend(entries);
    out
}

/// A table made by [`write_grams`], read in place.
#[derive(Clone, Copy)]
pub struct GramTable<'a> {
    slots: &'a [u8],
    entries: &'a [u8],
}

/// Where an n-gram's entries are in a [`GramTable`]: (index of the first, count).
pub type GramEntries = (u32, u8);

impl<'a> GramTable<'a> {
    /// The table in `bin` (a truncated one, impossible for our build output, is empty).
    pub fn new(bin: &'a [u8]) -> GramTable<'a> {
        let n = GRAM_SLOT << GRAM_SLOT_BITS;
        match (bin.get(..n), bin.get(n..)) {
            (Some(slots), Some(entries)) => GramTable { slots, entries },
            _ => GramTable {
                slots: &[],
                entries: &[],
            },
        }
    }

    /// The entries of the n-gram with key `key`.
    pub fn get(&self, key: u64) -> Option<GramEntries> {
        let n_slots = self.slots.len() / GRAM_SLOT;
        if n_slots == 0 || key == 0 {
            return None;
        }
        let mut i = gram_slot(key);
        // at most three quarters full: every probe sequence reaches an empty slot
        for _ in 0..n_slots {
            let s: &[u8; GRAM_SLOT] = self
                .slots
                .get(GRAM_SLOT * i..GRAM_SLOT * (i + 1))?
                .try_into()
                .ok()?;
            let k = u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]);
            if k == key {
                let e = u32::from_le_bytes([s[8], s[9], s[10], s[11]]);
                return Some((e >> 8, e as u8));
            }
            if k == 0 {
                return None;
            }
            i = (i + 1) & (n_slots - 1);
        }
        None
    }

    /// Entry `k` of `e`: (language index, probability); None past the end.
    pub fn entry(&self, e: GramEntries, k: usize) -> Option<(usize, f64)> {
        let at = 9 * (e.0 as usize + k);
        let r: &[u8; 9] = self.entries.get(at..at + 9)?.try_into().ok()?;
        let p = f64::from_le_bytes([r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]]);
        Some((r[0] as usize, p))
    }
}

/// The alphabet of the direct n-gram table: space and the lowercase ASCII letters (most
/// n-grams of most texts), numbered 0 to 26.
pub const SMALL_ALPHABET: usize = 27;

/// How many n-grams (of 1 to 3 chars) the direct table has.
pub const SMALL_GRAMS: usize =
    SMALL_ALPHABET + SMALL_ALPHABET * SMALL_ALPHABET + SMALL_ALPHABET.pow(3);

/// A char's code in the direct table's alphabet (None: not in it).
pub const fn small_code(c: char) -> Option<usize> {
    match c {
        ' ' => Some(0),
        'a'..='z' => Some(c as usize - 'a' as usize + 1),
        _ => None,
    }
}

/// The direct-table index of an n-gram of 1 to 3 chars of the alphabet, None for another
/// n-gram: 1-grams first, then 2-grams, then 3-grams, each in base-27 order.
pub fn small_gram_index(gram: &[char]) -> Option<usize> {
    let mut i = 0;
    for &c in gram {
        i = i * SMALL_ALPHABET + small_code(c)?;
    }
    match gram.len() {
        1 => Some(i),
        2 => Some(SMALL_ALPHABET + i),
        3 => Some(SMALL_ALPHABET + SMALL_ALPHABET * SMALL_ALPHABET + i),
        _ => None,
    }
}

/// The key of the n-gram with direct-table index `i` (the inverse of [`small_gram_index`]).
pub fn small_gram_key(i: usize) -> u64 {
    let a = SMALL_ALPHABET;
    let (len, mut j) = if i < a {
        (1, i)
    } else if i < a + a * a {
        (2, i - a)
    } else {
        (3, i - a - a * a)
    };
    let mut chars = [' '; 3];
    for k in (0..len).rev() {
        let d = j % a;
        chars[k] = if d == 0 {
            ' '
        } else {
            (b'a' + d as u8 - 1) as char
        };
        j /= a;
    }
    gram_key(&chars[..len])
}

/// A direct-table cell: `index << 8 | count` of the entries, or `u32::MAX` for an n-gram
/// without a profile (an n-gram with no entries is still present).
pub fn encode_small(e: Option<GramEntries>) -> u32 {
    match e {
        Some((i, n)) => {
            assert!(i < 1 << 24, "n-gram entries too many for the direct table");
            (i << 8) | n as u32
        }
        None => u32::MAX,
    }
}

/// The inverse of [`encode_small`].
pub fn decode_small(v: u32) -> Option<GramEntries> {
    (v != u32::MAX).then_some((v >> 8, v as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut m = BTreeMap::new();
        for i in 0..1000u32 {
            m.insert(format!("k{i}").into_bytes(), i.to_le_bytes().to_vec());
        }
        m.insert(Vec::new(), b"empty key".to_vec());
        let bin = write(&m);
        let t = Table::new(&bin);
        for (k, v) in &m {
            assert_eq!(t.get(k), Some(v.as_slice()));
        }
        assert_eq!(t.get(b"k1000"), None);
        assert_eq!(Table::new(&[]).get(b"x"), None);
        assert_eq!(Table::new(&[3, 0, 0, 0]).get(b"x"), None);
    }

    #[test]
    fn gram_round_trip() {
        let mut m = BTreeMap::new();
        for c in ['a', 'é', '日', ' '] {
            for d in ['b', 'ß', ' '] {
                m.insert(
                    gram_key(&[c, d]),
                    vec![(3u8, 0.25f64), (7, f64::MIN_POSITIVE)],
                );
            }
            m.insert(gram_key(&[c]), vec![]);
        }
        let bin = write_grams(&m);
        let t = GramTable::new(&bin);
        for (k, v) in &m {
            let e = t.get(*k).unwrap();
            assert_eq!(e.1 as usize, v.len());
            for (i, (l, p)) in v.iter().enumerate() {
                assert_eq!(t.entry(e, i), Some((*l as usize, *p)));
            }
        }
        assert_eq!(t.get(gram_key(&['x', 'y', 'z'])), None);
        assert_eq!(GramTable::new(&[]).get(1), None);
    }
}
