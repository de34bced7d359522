//! Rough per-stage timings of the NLTK ports on a 20 KB text (a developer aid).
use std::time::Instant;
fn main() {
    let unit = "The quick brown fox, Mr. Smith said, jumps over 3 lazy dogs! Is it *true*? \"Yes\" (really) — 日本語 😀\n";
    let mut text = String::new();
    while text.len() < 20_000 {
        text.push_str(unit);
    }
    let _ = raif_verify::nltk::word_tokenize("Warm up. Mr. X.");
    let _ = raif_verify::langdetect::detect("warm up text");
    for _ in 0..3 {
        let t = Instant::now();
        let s = raif_verify::nltk::sent_tokenize(&text);
        let a = t.elapsed();
        let t = Instant::now();
        let n: usize = s
            .iter()
            .map(|x| raif_verify::nltk::treebank_tokenize(x).len())
            .sum();
        let b = t.elapsed();
        let t = Instant::now();
        let l = raif_verify::langdetect::detect(&text);
        let c = t.elapsed();
        let t = Instant::now();
        let k = raif_verify::text::split_into_sentences(&text).len();
        let d = t.elapsed();
        println!("punkt {:?} ({} sents)  treebank {:?} ({n} tokens)  langdetect {:?} ({l:?})  regex-splitter {:?} ({k})", a, s.len(), b, c, d);
    }
}
