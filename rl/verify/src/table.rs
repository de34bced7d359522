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
}
