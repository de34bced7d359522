//! The averaged-perceptron POS tagger (English), first token only (`nltk.pos_tag`).

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::py;
use crate::table::Table;

/// The tagger, read in place from the tables `build.rs` makes of `data/tagger.txt.z`.
struct Tagger {
    classes: Vec<&'static str>,
    /// word -> tag
    tagdict: Table<'static>,
    /// feature -> (class u16, weight f64) pairs
    weights: Table<'static>,
}

static TAGGER: LazyLock<Tagger> = LazyLock::new(|| {
    let classes = include_str!(concat!(env!("OUT_DIR"), "/tagger_classes.txt"));
    Tagger {
        classes: if classes.is_empty() {
            Vec::new()
        } else {
            classes.split('\t').collect()
        },
        tagdict: table!("tagger_dict.bin"),
        weights: table!("tagger_weights.bin"),
    }
});

fn tagger_normalize(word: &str) -> String {
    if word.contains('-') && !word.starts_with('-') {
        return "!HYPHEN".into();
    }
    if py::is_digit(word) && py::len(word) == 4 {
        return "!YEAR".into();
    }
    if word.chars().next().is_some_and(py::char_is_digit) {
        return "!DIGITS".into();
    }
    py::lower(word)
}

fn last3(s: &str) -> &str {
    let n = s.chars().count();
    let skip = n.saturating_sub(3);
    match s.char_indices().nth(skip) {
        Some((i, _)) => &s[i..],
        None => "",
    }
}

/// The tag `nltk.pos_tag(tokens)[0][1]` gives the first token.
pub fn first_pos_tag(tokens: &[String]) -> Option<String> {
    let t = &*TAGGER;
    let word = tokens.first()?;
    if let Some(tag) = t.tagdict.get(word.as_bytes()) {
        if !tag.is_empty() {
            return Some(String::from_utf8_lossy(tag).into_owned());
        }
    }
    let ctx = |k: usize| -> String {
        match tokens.get(k) {
            Some(w) => tagger_normalize(w),
            None => ["-END-", "-END2-"][k - tokens.len()].to_string(),
        }
    };
    let w0 = ctx(0);
    let w1 = ctx(1);
    let w2 = ctx(2);
    let pref1: String = word.chars().next().map(String::from).unwrap_or_default();
    let feats = [
        "bias".to_string(),
        format!("i suffix {}", last3(word)),
        format!("i pref1 {pref1}"),
        "i-1 tag -START-".to_string(),
        "i-2 tag -START2-".to_string(),
        "i tag+i-2 tag -START- -START2-".to_string(),
        format!("i word {w0}"),
        format!("i-1 tag+i word -START- {w0}"),
        "i-1 word -START2-".to_string(),
        "i-1 suffix T2-".to_string(),
        "i-2 word -START-".to_string(),
        format!("i+1 word {w1}"),
        format!("i+1 suffix {}", last3(&w1)),
        format!("i+2 word {w2}"),
    ];
    let mut scores = vec![0.0f64; t.classes.len()];
    let mut seen = HashSet::new();
    for f in &feats {
        // features is a dict: a repeated name counts once with value 2 (never happens here)
        if !seen.insert(f.as_str()) {
            continue;
        }
        if let Some(ws) = t.weights.get(f.as_bytes()) {
            for e in ws.chunks_exact(10) {
                let label = u16::from_le_bytes([e[0], e[1]]);
                let w = f64::from_le_bytes([e[2], e[3], e[4], e[5], e[6], e[7], e[8], e[9]]);
                if let Some(s) = scores.get_mut(label as usize) {
                    *s += w;
                }
            }
        }
    }
    let mut best: Option<(f64, &str)> = None;
    for (i, &c) in t.classes.iter().enumerate() {
        let s = scores[i];
        let better = match best {
            None => true,
            Some((bs, bl)) => s > bs || (s == bs && c > bl),
        };
        if better {
            best = Some((s, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}
