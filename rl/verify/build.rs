//! Turns the langdetect profiles (`data/langdetect.txt.z`) into a binary table that
//! `src/langdetect.rs` reads in place, so that no process parses 1.7 MB of text and builds a
//! 90,000-entry hash map before its first language detection.
//!
//! Also writes `langdetect_langs.txt`, the profiles' languages in order, one a line.
//!
//! Layout (little-endian): an open-addressing hash table (linear probing, [`SLOT_BITS`] bits,
//! the slot of a key is [`slot_of`] of it; `src/langdetect.rs` has the same function), then the
//! entries:
//!   n_entries: u32,
//!   slot_keys: [u64; 1 << SLOT_BITS]   the n-gram, its 1 to 3 chars packed 21 bits each; 0: empty
//!   slot_ranges: [u32; 1 << SLOT_BITS] its entries: start << 6 | count
//!   langs: [u8; n_entries]             language index
//!   probs: [f64; n_entries]            frequency / n_words[lang][len - 1]
//!
//! The probabilities are computed here with exactly the parsing and the division the runtime
//! code used before (the same f64 bits).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The key of an n-gram of 1 to 3 chars (chars are never NUL, so lengths cannot collide).
fn gram_key(g: &str) -> Option<u64> {
    let mut k = 0u64;
    let mut n = 0;
    for c in g.chars() {
        k = (k << 21) | c as u64;
        n += 1;
    }
    (1..=3).contains(&n).then_some(k)
}

/// log2 of the number of slots (87,600 n-grams: a load of 1/3).
const SLOT_BITS: u32 = 18;

/// The slot where the search for `key` starts (Fibonacci hashing).
fn slot_of(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOT_BITS)) as usize
}

fn main() {
    println!("cargo:rerun-if-changed=data/langdetect.txt.z");
    println!("cargo:rerun-if-changed=build.rs");
    let raw = std::fs::read("data/langdetect.txt.z").expect("data/langdetect.txt.z");
    let text = String::from_utf8(
        miniz_oxide::inflate::decompress_to_vec_zlib(&raw).expect("langdetect.txt.z: bad zlib"),
    )
    .expect("langdetect.txt.z: not UTF-8");
    let mut lines = text.lines();
    let langs = lines.next().unwrap_or("");
    let nwords: Vec<Vec<f64>> = lines
        .next()
        .unwrap_or("")
        .split('\t')
        .map(|s| {
            s.split(',')
                .map(|x| x.parse::<f64>().unwrap_or(1.0))
                .collect()
        })
        .collect();
    // a later line for the same gram replaces an earlier one (as HashMap::insert did)
    let mut probs: BTreeMap<u64, Vec<(u8, f64)>> = BTreeMap::new();
    for line in lines {
        let Some((g, rest)) = line.split_once('\t') else {
            continue;
        };
        // longer grams are never looked up
        let Some(key) = gram_key(g) else { continue };
        let len = g.chars().count();
        let v: Vec<(u8, f64)> = rest
            .split(',')
            .filter_map(|p| {
                let (i, f) = p.split_once(':')?;
                let i: usize = i.parse().ok()?;
                let f: f64 = f.parse().ok()?;
                let n = *nwords.get(i)?.get(len - 1)?;
                Some((i as u8, 1.0 * f / n))
            })
            .collect();
        probs.insert(key, v);
    }
    let n_slots = 1usize << SLOT_BITS;
    let mut slot_keys = vec![0u64; n_slots];
    let mut slot_ranges = vec![0u32; n_slots];
    let (mut langs_out, mut probs_out) = (Vec::new(), Vec::new());
    for (&key, v) in &probs {
        let start = langs_out.len();
        assert!(
            v.len() < 64 && start < 1 << 26,
            "langdetect table: entry too large"
        );
        for (l, p) in v {
            langs_out.push(*l);
            probs_out.extend(p.to_le_bytes());
        }
        let mut i = slot_of(key);
        while slot_keys[i] != 0 {
            i = (i + 1) & (n_slots - 1);
        }
        slot_keys[i] = key;
        slot_ranges[i] = ((start as u32) << 6) | v.len() as u32;
    }
    let mut out = Vec::new();
    out.extend((langs_out.len() as u32).to_le_bytes());
    for k in &slot_keys {
        out.extend(k.to_le_bytes());
    }
    for r in &slot_ranges {
        out.extend(r.to_le_bytes());
    }
    out.extend(&langs_out);
    out.extend(&probs_out);
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(dir.join("langdetect.bin"), out).expect("write langdetect.bin");
    std::fs::write(dir.join("langdetect_langs.txt"), langs.replace('\t', "\n"))
        .expect("write langdetect_langs.txt");
}
