//! Turns the embedded data files into tables the library reads in place, so that no process
//! parses megabytes of text and builds big hash maps before its first check:
//! - the langdetect profiles (`data/langdetect.txt.z`), below;
//! - the POS tagger (`data/tagger.txt.z`), the Punkt parameters (`data/punkt_english.txt`) and
//!   the syllable counts (`data/syllapy.csv`), as `src/table.rs` tables: see [`tagger`],
//!   [`punkt`], [`syllapy`]. Each parses its file exactly as the library did before (a repeated
//!   key: the last line wins, as `HashMap::insert` did).
//!
//! The langdetect profiles are a `table::write_grams` table (`langdetect.bin`), its answers for
//! the n-grams of lowercase ASCII letters and spaces as a direct table
//! (`langdetect_small.bin`, see `table::small_gram_index`), with
//! `langdetect_langs.txt`, the profiles' languages in order, one a line.
//!
//! The probabilities are computed here with exactly the parsing and the division the runtime
//! code used before (the same f64 bits).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[path = "src/table.rs"]
mod table;

type Entries = BTreeMap<Vec<u8>, Vec<u8>>;

fn inflate(path: &str) -> String {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    String::from_utf8(
        miniz_oxide::inflate::decompress_to_vec_zlib(&raw)
            .unwrap_or_else(|e| panic!("{path}: bad zlib: {e:?}")),
    )
    .unwrap_or_else(|e| panic!("{path}: not UTF-8: {e}"))
}

/// `tagger_classes.txt` (the classes, tab-separated), `tagger_dict.bin` (word -> tag) and
/// `tagger_weights.bin` (feature -> (class u16, weight f64) pairs).
fn tagger(out: &Path) {
    let text = inflate("data/tagger.txt.z");
    let mut classes = String::new();
    let (mut dict, mut weights) = (Entries::new(), Entries::new());
    for line in text.lines() {
        let mut parts = line.split('\t');
        match parts.next() {
            Some("CLASSES") => classes = parts.collect::<Vec<_>>().join("\t"),
            Some("D") => {
                if let (Some(w), Some(tag)) = (parts.next(), parts.next()) {
                    dict.insert(w.into(), tag.into());
                }
            }
            Some("W") => {
                if let (Some(f), Some(ws)) = (parts.next(), parts.next()) {
                    let mut v = Vec::new();
                    for p in ws.split(' ') {
                        let parsed = p.split_once(':').and_then(|(a, b)| {
                            Some((a.parse::<u16>().ok()?, b.parse::<f64>().ok()?))
                        });
                        if let Some((a, b)) = parsed {
                            v.extend(a.to_le_bytes());
                            v.extend(b.to_le_bytes());
                        }
                    }
                    weights.insert(f.into(), v);
                }
            }
            _ => {}
        }
    }
    write(out, "tagger_classes.txt", classes.as_bytes());
    write(out, "tagger_dict.bin", &table::write(&dict));
    write(out, "tagger_weights.bin", &table::write(&weights));
}

/// `punkt_{abbrev,colloc,starters}.bin` (sets; a collocation is `first\tsecond`) and
/// `punkt_ortho.bin` (type -> u32 flags).
fn punkt(out: &Path) {
    let text = std::fs::read_to_string("data/punkt_english.txt").expect("punkt_english.txt");
    let (mut abbrev, mut colloc, mut starters, mut ortho) = (
        Entries::new(),
        Entries::new(),
        Entries::new(),
        Entries::new(),
    );
    let mut section = "";
    for line in text.lines() {
        if line.starts_with('[') && line.ends_with(']') {
            section = match line {
                "[abbrev]" => "a",
                "[colloc]" => "c",
                "[starters]" => "s",
                "[ortho]" => "o",
                _ => "",
            };
            continue;
        }
        match section {
            "a" => {
                abbrev.insert(line.into(), Vec::new());
            }
            "s" => {
                starters.insert(line.into(), Vec::new());
            }
            "c" => {
                if let Some((a, b)) = line.split_once('\t') {
                    colloc.insert(format!("{a}\t{b}").into_bytes(), Vec::new());
                }
            }
            "o" => {
                if let Some((a, b)) = line.split_once('\t') {
                    let flags: u32 = b.parse().unwrap_or(0);
                    ortho.insert(a.into(), flags.to_le_bytes().to_vec());
                }
            }
            _ => {}
        }
    }
    write(out, "punkt_abbrev.bin", &table::write(&abbrev));
    write(out, "punkt_colloc.bin", &table::write(&colloc));
    write(out, "punkt_starters.bin", &table::write(&starters));
    write(out, "punkt_ortho.bin", &table::write(&ortho));
}

/// `syllapy.bin`: word -> syllable count (i64).
fn syllapy(out: &Path) {
    let text = std::fs::read_to_string("data/syllapy.csv").expect("syllapy.csv");
    let mut m = Entries::new();
    for l in text.lines() {
        let Some((w, n)) = l.rsplit_once(',') else {
            continue;
        };
        if let Ok(n) = n.trim().parse::<i64>() {
            m.insert(w.into(), n.to_le_bytes().to_vec());
        }
    }
    write(out, "syllapy.bin", &table::write(&m));
}

/// `emoji.rs`: the code points of `data/emoji.txt` (one hex number a line; other lines are
/// skipped), sorted, as a constant array for a binary search.
fn emoji(out: &Path) {
    let text = std::fs::read_to_string("data/emoji.txt").expect("emoji.txt");
    let mut cps: Vec<u32> = text
        .lines()
        .filter_map(|l| u32::from_str_radix(l.trim(), 16).ok())
        .collect();
    cps.sort_unstable();
    cps.dedup();
    let list: Vec<String> = cps.iter().map(|c| format!("{c:#x}")).collect();
    let src = format!(
        "/// The code points of `data/emoji.txt`, sorted (made by build.rs).\nconst EMOJI: [u32; {}] = [{}];\n",
        cps.len(),
        list.join(", ")
    );
    write(out, "emoji.rs", src.as_bytes());
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("write {name}: {e}"));
}

fn main() {
    for f in [
        "build.rs",
        "src/table.rs",
        "data/langdetect.txt.z",
        "data/tagger.txt.z",
        "data/punkt_english.txt",
        "data/syllapy.csv",
        "data/emoji.txt",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    tagger(&dir);
    punkt(&dir);
    syllapy(&dir);
    emoji(&dir);
    langdetect(&dir);
}

fn langdetect(dir: &Path) {
    let text = inflate("data/langdetect.txt.z");
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
        let chars: Vec<char> = g.chars().collect();
        let len = chars.len();
        // longer grams are never looked up
        if !(1..=3).contains(&len) {
            continue;
        }
        let key = table::gram_key(&chars);
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
    let out = table::write_grams(&probs);
    // the direct table of the n-grams of lowercase ASCII letters and spaces: the hash table's
    // own answers, in the order `table::small_gram_index` numbers them
    let grams = table::GramTable::new(&out);
    let mut small = Vec::new();
    for i in 0..table::SMALL_GRAMS {
        let e = grams.get(table::small_gram_key(i));
        small.extend(table::encode_small(e).to_le_bytes());
    }
    std::fs::write(dir.join("langdetect_small.bin"), small).expect("write langdetect_small.bin");
    std::fs::write(dir.join("langdetect.bin"), out).expect("write langdetect.bin");
    std::fs::write(dir.join("langdetect_langs.txt"), langs.replace('\t', "\n"))
        .expect("write langdetect_langs.txt");
}
