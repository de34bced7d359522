//! Ports of the NLTK pieces the official checkers call: the Punkt sentence tokenizer with its
//! English parameters (`nltk.sent_tokenize`), the improved Treebank word tokenizer
//! (`nltk.word_tokenize`), `RegexpTokenizer(r"\w+")` word counting, the English stop-word
//! list and the averaged-perceptron POS tagger (first token only).
//!
//! NLTK 3.10 runs its regexes on the third-party `regex` module, whose `\w`, `\s`, `\d` are the
//! Unicode classes that Rust's `regex` crate uses; those patterns are written here directly.
//! The two contraction lists that NLTK compiles with stdlib `re` go through [`crate::py`].

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::py;
use crate::table::Table;

// ------------------------------------------------------------------------------------------
// Word counting and stop words

/// `nltk.tokenize.RegexpTokenizer(r"\w+").tokenize(text)`: the maximal runs of `\w` (the
/// `regex` module's Unicode `\w`, the class `regex_syntax::is_word_character` tests), which is
/// what the greedy, leftmost `\w+` finds.
pub fn word_tokens(text: &str) -> Vec<&str> {
    py::runs(text, &ASCII_WORD, is_word_char)
}

/// `\w` of each ASCII char: `[0-9A-Za-z_]`.
const ASCII_WORD: [bool; 128] = {
    let mut t = [false; 128];
    let mut c = 0;
    while c < 128 {
        t[c] = (c as u8).is_ascii_alphanumeric() || c == b'_' as usize;
        c += 1;
    }
    t
};

/// `instructions_util.count_words`: the number of [`word_tokens`], counted (the word starts)
/// without building them.
pub fn count_words(text: &str) -> usize {
    let b = text.as_bytes();
    if b.is_ascii() {
        let mut n = 0;
        let mut in_word = false;
        for &c in b {
            let w = ASCII_WORD[(c & 0x7F) as usize];
            n += usize::from(w & !in_word);
            in_word = w;
        }
        return n;
    }
    let mut n = 0;
    let mut in_word = false;
    let mut i = 0;
    while i < b.len() {
        // (ASCII bytes read directly; a char is decoded only where one starts above ASCII)
        let w = if b[i] < 0x80 {
            i += 1;
            ASCII_WORD[b[i - 1] as usize]
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            i += c.len_utf8();
            is_word_char(c)
        };
        n += usize::from(w && !in_word);
        in_word = w;
    }
    n
}

/// NLTK's English stop words.
pub fn stopwords() -> &'static HashSet<&'static str> {
    static S: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
        include_str!("../data/stopwords_en.txt")
            .lines()
            .filter(|l| !l.is_empty())
            .collect()
    });
    &S
}

/// The stop words that are ASCII `\w` runs (the only ones a [`word_tokens`] token can equal),
/// each packed in a u128 (bytes little-endian, at most 16), sorted for a binary search.
fn ascii_word_stopwords() -> &'static [u128] {
    static S: LazyLock<Vec<u128>> = LazyLock::new(|| {
        let mut v: Vec<u128> = stopwords()
            .iter()
            .filter(|w| w.bytes().all(|b| b < 128 && ASCII_WORD[b as usize]))
            .filter_map(|w| pack16(w.as_bytes()))
            .collect();
        v.sort_unstable();
        v
    });
    &S
}

/// Up to 16 bytes as one u128 (None when longer); no two such strings without NUL bytes pack
/// to the same number.
fn pack16(b: &[u8]) -> Option<u128> {
    let mut a = [0u8; 16];
    a.get_mut(..b.len())?.copy_from_slice(b);
    Some(u128::from_le_bytes(a))
}

/// `instructions_util.count_stopwords` (IFBench): the [`word_tokens`] whose lowercase is a stop
/// word.
pub fn count_stopwords(text: &str) -> usize {
    let ascii = ascii_word_stopwords();
    word_tokens(text)
        .into_iter()
        .filter(|t| {
            if t.is_ascii() {
                // (a `\w` run has no NUL byte; one longer than 16 bytes is no stop word)
                pack16(t.as_bytes()).is_some_and(|k| {
                    // (each packed byte lowercased)
                    let lowered =
                        u128::from_le_bytes(k.to_le_bytes().map(|c| c.to_ascii_lowercase()));
                    ascii.binary_search(&lowered).is_ok()
                })
            } else {
                stopwords().contains(py::lower(t).as_str())
            }
        })
        .count()
}

/// [`count_stopwords`] as written first: every token lowercased into a new string and looked
/// up in the set (the reference it is tested against).
#[cfg(test)]
fn count_stopwords_reference(text: &str) -> usize {
    let s = stopwords();
    word_tokens(text)
        .into_iter()
        .filter(|t| s.contains(py::lower(t).as_str()))
        .count()
}

// ------------------------------------------------------------------------------------------
// Punkt

/// The Punkt English parameters, read in place from the tables `build.rs` makes of
/// `data/punkt_english.txt`.
struct PunktParams {
    abbrev: Table<'static>,
    /// `first\tsecond`
    colloc: Table<'static>,
    starters: Table<'static>,
    /// type -> u32 flags
    ortho: Table<'static>,
}

impl PunktParams {
    fn colloc(&self, a: &str, b: &str) -> bool {
        // (the first of a stored pair never has a tab, so the key is unambiguous)
        if a.contains('\t') {
            return false;
        }
        let n = a.len() + 1 + b.len();
        let mut buf = [0u8; 96];
        if n > buf.len() {
            return self.colloc.contains(format!("{a}\t{b}").as_bytes());
        }
        buf[..a.len()].copy_from_slice(a.as_bytes());
        buf[a.len()] = b'\t';
        buf[a.len() + 1..n].copy_from_slice(b.as_bytes());
        self.colloc.contains(&buf[..n])
    }

    fn ortho(&self, t: &str) -> u32 {
        self.ortho
            .get(t.as_bytes())
            .and_then(|v| v.try_into().ok())
            .map_or(0, u32::from_le_bytes)
    }
}

static PUNKT: LazyLock<PunktParams> = LazyLock::new(|| PunktParams {
    abbrev: table!("punkt_abbrev.bin"),
    colloc: table!("punkt_colloc.bin"),
    starters: table!("punkt_starters.bin"),
    ortho: table!("punkt_ortho.bin"),
});

const ORTHO_BEG_UC: u32 = 1 << 1;
const ORTHO_MID_UC: u32 = 1 << 2;
const ORTHO_UNK_UC: u32 = 1 << 3;
const ORTHO_BEG_LC: u32 = 1 << 4;
const ORTHO_MID_LC: u32 = 1 << 5;
const ORTHO_UNK_LC: u32 = 1 << 6;
const ORTHO_UC: u32 = ORTHO_BEG_UC | ORTHO_MID_UC | ORTHO_UNK_UC;
const ORTHO_LC: u32 = ORTHO_BEG_LC | ORTHO_MID_LC | ORTHO_UNK_LC;

/// Punkt's word tokenizer pattern (`PunktLanguageVars._word_tokenize_fmt`), which
/// [`punkt_word_tokenize`] implements by hand (the pattern is kept for the tests):
/// `(?:MC|(?=[^\(\"\`{\[:;&\#\*@\)}\]\-,])\S+?(?=\s|$|NW|MC|,(?=$|\s|NW|MC))|\S)`
#[cfg(test)]
fn punkt_word_pattern() -> String {
    const NON_WORD: &str =
        r#"(?:[)";}\]\*:@'\({\[\x{2018}\x{2019}\x{201c}\x{201d}\x{ab}\x{bb}?!])"#;
    const MULTI_CHAR: &str = r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)";
    format!(
        r#"(?:{mc}|(?=[^\(\"\`{{\[:;&\#\*@\)}}\]\-,])\S+?(?=\s|$|{nw}|{mc}|,(?=$|\s|{nw}|{mc}))|\S)"#,
        mc = MULTI_CHAR,
        nw = NON_WORD
    )
}

/// `NW`, the non-word characters: `[)";}\]\*:@'\({\[‘’“”«»?!]`.
fn punkt_non_word(c: char) -> bool {
    matches!(
        c,
        ')' | '"'
            | ';'
            | '}'
            | ']'
            | '*'
            | ':'
            | '@'
            | '\''
            | '('
            | '{'
            | '['
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201c}'
            | '\u{201d}'
            | '\u{ab}'
            | '\u{bb}'
            | '?'
            | '!'
    )
}

/// The characters a word may not start with: `[\(\"\`{\[:;&\#\*@\)}\]\-,]`.
fn punkt_no_word_start(c: char) -> bool {
    matches!(
        c,
        '(' | '"'
            | '`'
            | '{'
            | '['
            | ':'
            | ';'
            | '&'
            | '#'
            | '*'
            | '@'
            | ')'
            | '}'
            | ']'
            | '-'
            | ','
    )
}

/// The byte length of the `MC` match at the start of `s`,
/// `(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)`, greedy, alternatives in order.
fn punkt_multi_char(s: &str) -> Option<usize> {
    // (every alternative starts with '-' or '.')
    if !matches!(s.as_bytes().first(), Some(b'-' | b'.')) {
        return None;
    }
    let run = |ch: char| s.len() - s.trim_start_matches(ch).len();
    if s.starts_with("--") {
        return Some(run('-'));
    }
    if s.starts_with("..") {
        return Some(run('.'));
    }
    // (?:\.\s){2,}\. : the most repetitions k of "." + whitespace, then "."; when the char
    // after them is not ".", giving one repetition back leaves its "." to end the match
    // (k repetitions; `ends`: the byte offsets after the last two)
    let (mut k, mut ends) = (0usize, [0usize; 2]);
    let mut it = s.char_indices().peekable();
    while let (Some((_, '.')), Some(&(j, w))) = (it.next(), it.peek()) {
        if !w.is_whitespace() {
            break;
        }
        it.next();
        k += 1;
        ends = [ends[1], j + w.len_utf8()];
    }
    match ends {
        [_, e] if k >= 2 && s[e..].starts_with('.') => Some(e + 1),
        [e, _] if k >= 3 => Some(e + 1),
        _ => None,
    }
}

/// The look-ahead that ends a word at `p`: `(?=\s|$|NW|MC|,(?=$|\s|NW|MC))` (`$`: the end of
/// the text, no MULTILINE).
fn punkt_word_ends(s: &str, p: usize) -> bool {
    // (an ASCII letter or digit next is none of the ends, nor a ',')
    if s.as_bytes().get(p).is_some_and(u8::is_ascii_alphanumeric) {
        return false;
    }
    let simple = |q: usize| match s[q..].chars().next() {
        None => true,
        Some(c) => c.is_whitespace() || punkt_non_word(c) || punkt_multi_char(&s[q..]).is_some(),
    };
    simple(p) || (s[p..].starts_with(',') && simple(p + 1))
}

/// The spans of [`for_each_punkt_word`].
#[cfg(test)]
fn punkt_word_spans(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for_each_punkt_word(line, |a, b| out.push((a, b)));
    out
}

/// `re.findall(word pattern, line)`, the pattern of [`punkt_word_pattern`] done by hand,
/// calling `f` on each match's byte span: at each position, leftmost first, `MC`; else, on a
/// non-space char that may start a word, the shortest run of non-space chars after which
/// [`punkt_word_ends`] holds (it always ends: at the next space or the end at the latest);
/// else one non-space char. `\s` and `\S` are the `regex` module's (Unicode White_Space,
/// `char::is_whitespace`).
fn for_each_punkt_word(line: &str, mut f: impl FnMut(usize, usize)) {
    let mut i = 0;
    while let Some(c) = line[i..].chars().next() {
        if let Some(n) = punkt_multi_char(&line[i..]) {
            f(i, i + n);
            i += n;
            continue;
        }
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if punkt_no_word_start(c) {
            f(i, i + c.len_utf8());
            i += c.len_utf8();
            continue;
        }
        let mut e = i;
        for d in line[i..].chars() {
            if d.is_whitespace() {
                break;
            }
            e += d.len_utf8();
            if punkt_word_ends(line, e) {
                break;
            }
        }
        f(i, e);
        i = e;
    }
}

#[derive(Debug, Clone)]
struct Tok<'a> {
    tok: &'a str,
    /// The token lowercased, when it is ASCII and its text's lowercase was made once for all
    /// its tokens (ASCII lowercasing keeps every byte where it is).
    low: Option<&'a str>,
    /// The lowercased token, or `##number##` and what follows the number.
    ty: std::borrow::Cow<'a, str>,
    period_final: bool,
    sentbreak: bool,
    abbr: bool,
    ellipsis: bool,
}

/// The `regex` module's `\w` (Unicode): Alphabetic, Mark, Nd, Pc, Join_Control; the table the
/// `regex` crate's `\w` and `\b` use.
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    regex_syntax::is_word_character(c)
}

/// The end of the match of `^-?[\.,]?\d[\d,\.-]*\.?(?=\n?\z)` in `s`, if any. Each part is
/// forced: `-` and `[.,]` are not digits, so skipping them leaves nothing for `\d`; the greedy
/// `[\d,.-]*` takes the whole run (`\.?` then finds no "."), and the look-ahead needs the rest
/// to be "" or "\n"; giving back run characters leaves a rest that starts with one of them, so
/// no shorter run can succeed.
fn number_prefix(s: &str) -> Option<usize> {
    let mut t = s.strip_prefix('-').unwrap_or(s);
    t = t.strip_prefix(['.', ',']).unwrap_or(t);
    let mut it = t.chars();
    if !it.next().is_some_and(py::is_nd) {
        return None;
    }
    let rest = it
        .as_str()
        .trim_start_matches(|c: char| matches!(c, ',' | '.' | '-') || py::is_nd(c));
    (rest.is_empty() || rest == "\n").then(|| s.len() - rest.len())
}

fn non_punct_char(c: char) -> bool {
    is_word_char(c) && !py::is_nd(c)
}

impl<'a> Tok<'a> {
    /// The token `tok`, with its lowercase `low` if the caller has it.
    fn new(tok: &'a str, low: Option<&'a str>) -> Tok<'a> {
        let lowered = match low {
            Some(l) => l.into(),
            None => lower_cow(tok),
        };
        let ty = match number_prefix(&lowered) {
            Some(end) => format!("##number##{}", &lowered[end..]).into(),
            None => lowered,
        };
        Tok {
            tok,
            low,
            ty,
            period_final: tok.ends_with('.'),
            sentbreak: false,
            abbr: false,
            ellipsis: false,
        }
    }
    fn type_no_period(&self) -> &str {
        // (more than one char: a "." and one before it, so more than one byte)
        if self.ty.len() > 1 && self.ty.ends_with('.') {
            &self.ty[..self.ty.len() - 1]
        } else {
            &self.ty
        }
    }
    fn type_no_sentperiod(&self) -> &str {
        if self.sentbreak {
            self.type_no_period()
        } else {
            &self.ty
        }
    }
    fn first_upper(&self) -> bool {
        self.tok.chars().next().is_some_and(py::char_is_upper)
    }
    fn first_lower(&self) -> bool {
        self.tok.chars().next().is_some_and(py::char_is_lower)
    }
    fn is_ellipsis(&self) -> bool {
        let t = self.tok.strip_suffix('\n').unwrap_or(self.tok);
        t.len() >= 2 && t.chars().all(|c| c == '.')
    }
    fn is_initial(&self) -> bool {
        let t = self.tok.strip_suffix('\n').unwrap_or(self.tok);
        let mut it = t.chars();
        matches!((it.next(), it.next(), it.next()), (Some(a), Some('.'), None) if non_punct_char(a))
    }
}

/// `s.lower()`, borrowed when that changes nothing (ASCII without capitals).
fn lower_cow(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()) {
        s.into()
    } else {
        py::lower(s).into()
    }
}

fn first_pass(t: &mut Tok) {
    let p = &*PUNKT;
    let tok = t.tok;
    if tok == "." || tok == "?" || tok == "!" {
        t.sentbreak = true;
    } else if t.is_ellipsis() {
        t.ellipsis = true;
    } else if t.period_final && !tok.ends_with("..") {
        // (the lowercase of the token without its '.'; `low` only for ASCII, where that is
        // a prefix of the lowercased token)
        let stem = match t.low {
            Some(l) => l[..l.len() - 1].into(),
            None => lower_cow(&tok[..tok.len() - 1]),
        };
        let last = stem.rsplit('-').next().unwrap_or("");
        if p.abbrev.contains(stem.as_bytes()) || p.abbrev.contains(last.as_bytes()) {
            t.abbr = true;
        } else {
            t.sentbreak = true;
        }
    }
}

enum Ortho {
    True,
    False,
    Unknown,
}

fn ortho_heuristic(t: &Tok) -> Ortho {
    if [";", ":", ",", ".", "!", "?"].contains(&t.tok) {
        return Ortho::False;
    }
    let oc = PUNKT.ortho(t.type_no_sentperiod());
    if t.first_upper() && (oc & ORTHO_LC) != 0 && (oc & ORTHO_MID_UC) == 0 {
        return Ortho::True;
    }
    if t.first_lower() && ((oc & ORTHO_UC) != 0 || (oc & ORTHO_BEG_LC) == 0) {
        return Ortho::False;
    }
    Ortho::Unknown
}

/// The second pass's decision for `t1` followed by `t2`: the new (sentbreak, abbr) of `t1`, or
/// None to leave them.
fn second_pass(t1: &Tok, t2: &Tok) -> Option<(bool, bool)> {
    let p = &*PUNKT;
    if !t1.period_final {
        return None;
    }
    let typ = t1.type_no_period();
    let next_typ = t2.type_no_sentperiod();
    let initial = t1.is_initial();
    if p.colloc(typ, next_typ) {
        return Some((false, true));
    }
    if (t1.abbr || t1.ellipsis) && !initial {
        if let Ortho::True = ortho_heuristic(t2) {
            return Some((true, t1.abbr));
        }
        if t2.first_upper() && p.starters.contains(next_typ.as_bytes()) {
            return Some((true, t1.abbr));
        }
    }
    if initial || typ == "##number##" {
        let o = ortho_heuristic(t2);
        if let Ortho::False = o {
            return Some((false, true));
        }
        if let Ortho::Unknown = o {
            if initial && t2.first_upper() && (p.ortho(next_typ) & ORTHO_LC) == 0 {
                return Some((false, true));
            }
        }
    }
    None
}

/// Punkt's `text_contains_sentbreak`: whether a token of `text` that the annotation leaves a
/// sentence break has a token after it. The tokens are annotated as they come (Punkt's
/// parastart/linestart flags are not used by sentence splitting): the first pass needs the
/// token alone and the second one the next token, read before its own second pass, as the
/// annotation over the whole list does.
///
/// `low`: `text` lowercased, when `text` is ASCII (then each token's lowercase is a slice of it).
fn text_contains_sentbreak(text: &str, low: Option<&str>) -> bool {
    match word_period_word(text, low) {
        Some(b) => b,
        None => annotate_for_sentbreak(text, low),
    }
}

/// [`text_contains_sentbreak`] for the most common context, `W. N` with `W` (two letters or
/// more) and `N` ASCII letters, when `W` is not an abbreviation (None: another context, or an
/// abbreviation, which the annotation decides). Its tokens are `W.` and `N`. The first pass
/// makes `W.` a sentence break (not `..`, not an abbreviation; `W` has no `-`); the second
/// pass undoes that only for a collocation `(w, n)` (lowercased): `W.` is not an initial (more
/// than one letter) nor a number, and the abbreviation rules do not apply. `N` is no break.
fn word_period_word(text: &str, low: Option<&str>) -> Option<bool> {
    let low = low?;
    let b = text.as_bytes();
    let w = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let rest = b.get(w..)?;
    if w < 2 || !rest.starts_with(b". ") {
        return None;
    }
    let n = &rest[2..];
    if n.is_empty() || !n.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let (lw, ln) = (&low[..w], &low[w + 2..]);
    let p = &*PUNKT;
    if p.abbrev.contains(lw.as_bytes()) {
        return None;
    }
    Some(!p.colloc(lw, ln))
}

/// [`text_contains_sentbreak`] by annotating the tokens.
fn annotate_for_sentbreak(text: &str, low: Option<&str>) -> bool {
    let mut prev: Option<Tok> = None;
    let mut found = false;
    let mut at = 0;
    for line in text.split('\n') {
        let line_at = at;
        at += line.len() + 1;
        if found {
            break;
        }
        if py::strip(line).is_empty() {
            continue;
        }
        for_each_punkt_word(line, |a, b| {
            if found {
                return;
            }
            let low = low.map(|l| &l[line_at + a..line_at + b]);
            let mut t = Tok::new(&line[a..b], low);
            first_pass(&mut t);
            if let Some(mut p) = prev.take() {
                if let Some((sentbreak, abbr)) = second_pass(&p, &t) {
                    p.sentbreak = sentbreak;
                    p.abbr = abbr;
                }
                found = p.sentbreak;
            }
            prev = Some(t);
        });
    }
    found
}

struct EndCtx {
    start: usize,
    end: usize,
    after_tok: (usize, usize),
    next_tok: Option<usize>,
}

fn period_contexts(text: &str) -> Vec<EndCtx> {
    let nw = |c: char| ")\";}]*:@'({[\u{2018}\u{2019}\u{201c}\u{201d}\u{ab}\u{bb}?!".contains(c);
    let mut out = Vec::new();
    for i in memchr::memchr3_iter(b'.', b'?', b'!', text.as_bytes()) {
        let end = i + 1;
        let rest = &text[end..];
        let mut chars = rest.char_indices();
        match chars.next() {
            Some((_, n)) if nw(n) => out.push(EndCtx {
                start: i,
                end,
                after_tok: (end, end + n.len_utf8()),
                next_tok: None,
            }),
            Some((_, n)) if n.is_whitespace() => {
                let ws_end = rest.find(|c: char| !c.is_whitespace()).map(|k| end + k);
                if let Some(ws_end) = ws_end {
                    let tok_end = text[ws_end..]
                        .find(|c: char| c.is_whitespace())
                        .map(|k| ws_end + k)
                        .unwrap_or(text.len());
                    out.push(EndCtx {
                        start: i,
                        end,
                        after_tok: (end, tok_end),
                        next_tok: Some(ws_end),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

fn last_ws_index(s: &str) -> usize {
    // index (in bytes; whitespace here is ASCII) of the last string.whitespace char, 0 if none
    s.rfind([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
        .unwrap_or(0)
}

/// Punkt's `_match_potential_end_contexts`: calls `f` on each period context and its text
/// (the word before, the end char, the token after), in text order.
///
/// With the context, `f` gets its lowercase when it is ASCII (made in a buffer kept across
/// contexts, for [`text_contains_sentbreak`]).
fn potential_end_contexts(text: &str, mut f: impl FnMut(&EndCtx, &str, Option<&str>)) {
    let mut ctx = String::new();
    let mut low = String::new();
    let mut emit = |pm: &EndCtx, prev_slice: (usize, usize)| {
        ctx.clear();
        ctx.push_str(&text[prev_slice.0..prev_slice.1.max(prev_slice.0)]);
        ctx.push_str(&text[pm.start..pm.end]);
        ctx.push_str(&text[pm.after_tok.0..pm.after_tok.1]);
        let ascii = ctx.is_ascii();
        if ascii {
            low.clear();
            low.push_str(&ctx);
            low.make_ascii_lowercase();
        }
        f(pm, &ctx, ascii.then_some(low.as_str()));
    };
    let mut prev_slice = (0usize, 0usize);
    let mut prev: Option<EndCtx> = None;
    for m in period_contexts(text) {
        let before = &text[prev_slice.1..m.start];
        let mut idx = last_ws_index(before);
        if idx != 0 {
            idx += prev_slice.1 + 1;
        } else {
            idx = prev_slice.0;
        }
        let prev_word = (idx, m.start);
        if let Some(pm) = prev.take() {
            if prev_slice.1 <= prev_word.0 {
                emit(&pm, prev_slice);
            }
        }
        prev = Some(m);
        prev_slice = prev_word;
    }
    if let Some(pm) = prev {
        emit(&pm, prev_slice);
    }
}

fn slices_from_text(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut last_break = 0;
    potential_end_contexts(text, |m, ctx, low| {
        if text_contains_sentbreak(ctx, low) {
            out.push((last_break, m.end));
            last_break = m.next_tok.unwrap_or(m.end);
        }
    });
    out.push((last_break, py::rstrip(text).len()));
    out
}

fn realign_match(s: &str) -> Option<(usize, usize)> {
    // ["')\]}‘’“”«»]+?(?:\s+|(?=--)|$)  (MULTILINE); returns (group0 end, rstripped len)
    let set = |c: char| "\"')]}\u{2018}\u{2019}\u{201c}\u{201d}\u{ab}\u{bb}".contains(c);
    let mut it = s.char_indices();
    loop {
        let (i, c) = it.next()?;
        if !set(c) {
            return None;
        }
        let pos = i + c.len_utf8();
        let rest = &s[pos..];
        if let Some(n) = rest.chars().next() {
            if n.is_whitespace() {
                let k = rest
                    .find(|c: char| !c.is_whitespace())
                    .unwrap_or(rest.len());
                let end = pos + k;
                return Some((end, py::rstrip(&s[..end]).len()));
            }
            if rest.starts_with("--") || n == '\n' {
                return Some((pos, py::rstrip(&s[..pos]).len()));
            }
        } else {
            return Some((pos, py::rstrip(&s[..pos]).len()));
        }
    }
}

/// Punkt sentence spans (byte offsets), `PunktTokenizer("english").span_tokenize(text)`.
pub fn sent_spans(text: &str) -> Vec<(usize, usize)> {
    let slices = slices_from_text(text);
    let mut out = Vec::new();
    let mut realign = 0usize;
    for (k, s1) in slices.iter().enumerate() {
        let s1 = (s1.0 + realign, s1.1);
        let nonempty = |s: (usize, usize)| s.0 < s.1;
        match slices.get(k + 1) {
            None => {
                if nonempty(s1) {
                    out.push(s1);
                }
            }
            Some(s2) => {
                let t2 = if s2.0 <= s2.1 { &text[s2.0..s2.1] } else { "" };
                if let Some((end, stripped)) = realign_match(t2) {
                    out.push((s1.0, s2.0 + stripped));
                    realign = end;
                } else {
                    realign = 0;
                    if nonempty(s1) {
                        out.push(s1);
                    }
                }
            }
        }
    }
    out
}

/// `nltk.sent_tokenize(text)` (Punkt, English).
pub fn sent_tokenize(text: &str) -> Vec<&str> {
    sent_spans(text)
        .into_iter()
        .map(|(a, b)| if a <= b { &text[a..b] } else { "" })
        .collect()
}

// ------------------------------------------------------------------------------------------
// NLTKWordTokenizer

/// One substitution of the tokenizer, `re.sub(pattern, replacement, text)`, done by hand
/// (`fast`; the tests hold it to the pattern).
///
/// Every match of `pattern` contains one of the strings in `needs`, so a text without any of
/// them is left as it is without running the substitution: exactly what it would give.
struct Sub {
    // (read by the tests, which compile them)
    #[cfg_attr(not(test), allow(dead_code))]
    pattern: &'static str,
    #[cfg_attr(not(test), allow(dead_code))]
    replacement: &'static str,
    needs: &'static [&'static str],
    /// The substitution (None: no match).
    fast: fn(&str) -> Option<String>,
}

/// A substitution with a hand-written equivalent (the pattern is compiled only by the tests,
/// which hold the two to each other).
const fn fast_sub(
    pattern: &'static str,
    replacement: &'static str,
    needs: &'static [&'static str],
    fast: fn(&str) -> Option<String>,
) -> Sub {
    Sub {
        pattern,
        replacement,
        needs,
        fast,
    }
}

/// `re.sub(r"([^'])' ", r"\1 ' ", t)`: a space put before each `' ` that follows a char other
/// than `'` (a char the previous match took cannot start the next one). None: no match.
fn apostrophe_space(t: &str) -> Option<String> {
    let mut out = String::new();
    let (mut copied, mut matched_to) = (0, 0);
    for p in memchr::memmem::find_iter(t.as_bytes(), b"' ") {
        let Some(c) = t[..p].chars().next_back() else {
            continue;
        };
        if c == '\'' || p - c.len_utf8() < matched_to {
            continue;
        }
        out.push_str(&t[copied..p]);
        out.push_str(" ' ");
        copied = p + 2;
        matched_to = p + 2;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&t[copied..]);
    Some(out)
}

/// `re.sub(r"[SET]", r" \g<0> ", t)` for a set of single chars.
fn pad_chars(t: &str, set: fn(char) -> bool) -> Option<String> {
    if !t.chars().any(set) {
        return None;
    }
    let mut out = String::with_capacity(t.len() + 16);
    for c in t.chars() {
        if set(c) {
            out.push(' ');
            out.push(c);
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `t.replace(from, to)` as a substitution of a literal pattern (None: no occurrence).
fn replace_literal(t: &str, from: &str, to: &str) -> Option<String> {
    t.contains(from).then(|| t.replace(from, to))
}

static STARTING_QUOTES: [Sub; 4] = [
    fast_sub(
        r"([«“‘„]|[`]+)",
        " $1 ",
        &["«", "“", "‘", "„", "`"],
        |t| {
            // one opening quote, or the whole run of backticks (« is C2 AB in UTF-8; “ ‘ „
            // start with E2)
            py::rewrite_at(t, py::byte_starts(t, 0xC2, 0xE2, b'`'), |t, i| {
                let rest = &t[i..];
                match rest.chars().next()? {
                    c @ ('«' | '“' | '‘' | '„') => Some((c.len_utf8(), format!(" {c} "))),
                    '`' => {
                        let n = rest.len() - rest.trim_start_matches('`').len();
                        Some((n, format!(" {} ", &rest[..n])))
                    }
                    _ => None,
                }
            })
        },
    ),
    fast_sub(r#"^""#, "``", &["\""], |t| {
        t.strip_prefix('"').map(|r| format!("``{r}"))
    }),
    fast_sub(r"(``)", " $1 ", &["``"], |t| {
        replace_literal(t, "``", " `` ")
    }),
    fast_sub(r#"([ \(\[{<])("|'{2})"#, "$1 `` ", &["\"", "''"], |t| {
        py::rewrite_at(t, py::char_before_bytes(t, b'"', b'\'', b'\''), |t, i| {
            let rest = &t[i..];
            let c = rest.chars().next().filter(|c| " ([{<".contains(*c))?;
            let q = &rest[1..];
            let n = if q.starts_with('"') {
                1
            } else if q.starts_with("''") {
                2
            } else {
                return None;
            };
            Some((1 + n, format!("{c} `` ")))
        })
    }),
];

/// `re.sub(r"(?i)(?<!\w)(')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)", r"\1 ", t)` by hand: a space
/// after each `'` that follows no word char, precedes one, and does not start one of the
/// suffixes (case-insensitively: each suffix char or one of its simple case variants, as the
/// `regex` crate folds it) followed by a word boundary. (`\w` is not case-folded: the `regex`
/// crate's Unicode `\w` is closed under case folding. A suffix ends with a word char, so the
/// boundary after it is "no word char next".)
fn quote_start(t: &str) -> String {
    static SUFFIXES: LazyLock<Vec<Vec<Vec<char>>>> = LazyLock::new(|| {
        ["re", "ve", "ll", "m", "t", "s", "d", "n"]
            .iter()
            .map(|s| s.chars().map(py::case_variants).collect())
            .collect()
    });
    let suffix_then_boundary = |rest: &str| {
        SUFFIXES.iter().any(|suf| {
            let mut it = rest.chars();
            suf.iter()
                .all(|set| it.next().is_some_and(|c| set.contains(&c)))
                && !it.next().is_some_and(is_word_char)
        })
    };
    let mut out = String::with_capacity(t.len() + 8);
    let mut last = 0;
    for (i, _) in t.match_indices('\'') {
        let rest = &t[i + 1..];
        if t[..i].chars().next_back().is_some_and(is_word_char)
            || !rest.chars().next().is_some_and(is_word_char)
            || suffix_then_boundary(rest)
        {
            continue;
        }
        out.push_str(&t[last..=i]);
        out.push(' ');
        last = i + 1;
    }
    out.push_str(&t[last..]);
    out
}

static PUNCTUATION_A: [Sub; 1] = [fast_sub(r"([:,])([^\d])", " $1 $2", &[":", ","], |t| {
    // a ':' or ',' and the next char, when that is not a digit (`\d`: Unicode Nd)
    py::rewrite_at(t, py::byte_starts(t, b':', b',', b','), |t, i| {
        let mut it = t[i..].chars();
        let sep = it.next().filter(|c| matches!(c, ':' | ','))?;
        let c = it.next().filter(|&c| !py::is_nd(c))?;
        Some((1 + c.len_utf8(), format!(" {sep} {c}")))
    })
})];

static PUNCTUATION_B: [Sub; 3] = [
    fast_sub(r"\.{2,}", " $0 ", &[".."], |t| {
        // every run of two or more dots
        py::rewrite_at(t, py::byte_starts(t, b'.', b'.', b'.'), |t, i| {
            let rest = &t[i..];
            let n = rest.len() - rest.trim_start_matches('.').len();
            (n >= 2).then(|| (n, format!(" {} ", &rest[..n])))
        })
    }),
    fast_sub(r"[;@#$%&]", " $0 ", &[";", "@", "#", "$", "%", "&"], |t| {
        pad_chars(t, |c| matches!(c, ';' | '@' | '#' | '$' | '%' | '&'))
    }),
    fast_sub(
        r"[\x{2012}-\x{2015}]",
        " $0 ",
        &["\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}"],
        |t| pad_chars(t, |c| ('\u{2012}'..='\u{2015}').contains(&c)),
    ),
];

static PUNCTUATION_C: [Sub; 5] = [
    fast_sub(r"[?!]", " $0 ", &["?", "!"], |t| {
        pad_chars(t, |c| matches!(c, '?' | '!'))
    }),
    fast_sub(r"([^'])' ", "$1 ' ", &["' "], apostrophe_space),
    fast_sub(r"[*]", " $0 ", &["*"], |t| pad_chars(t, |c| c == '*')),
    fast_sub(
        r"[\]\[\(\)\{\}\<\>]",
        " $0 ",
        &["]", "[", "(", ")", "{", "}", "<", ">"],
        |t| {
            pad_chars(t, |c| {
                matches!(c, ']' | '[' | '(' | ')' | '{' | '}' | '<' | '>')
            })
        },
    ),
    fast_sub(r"--", " -- ", &["--"], |t| replace_literal(t, "--", " -- ")),
];

static ENDING_QUOTES_A: [Sub; 3] = [
    fast_sub(r"([»”’])", " $1 ", &["»", "”", "’"], |t| {
        pad_chars(t, |c| matches!(c, '»' | '”' | '’'))
    }),
    fast_sub(r"''", " '' ", &["''"], |t| replace_literal(t, "''", " '' ")),
    fast_sub(r#"""#, " '' ", &["\""], |t| {
        replace_literal(t, "\"", " '' ")
    }),
];

// (between the two: `\s+` -> " ", see collapse_spaces)

static ENDING_QUOTES_B: [Sub; 2] = [
    fast_sub(r"([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 ", &["'"], |t| {
        clitic(t, &["'s", "'S", "'m", "'M", "'d", "'D", "'"])
    }),
    fast_sub(
        r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ",
        "$1 $2 ",
        &["'"],
        |t| clitic(t, &["'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"]),
    ),
];

/// `re.sub(r"([^' ])(ALT1|ALT2|...) ", r"\1 \2 ", t)`: a char other than `'` and space, then
/// the first alternative (in order) that is followed by a space.
fn clitic(t: &str, alts: &[&str]) -> Option<String> {
    // (tried only before a ', n or N: every alternative starts with one)
    py::rewrite_at(t, py::char_before_bytes(t, b'\'', b'n', b'N'), |t, i| {
        let c = t[i..].chars().next().filter(|c| !matches!(c, '\'' | ' '))?;
        let rest = &t[i + c.len_utf8()..];
        // every alternative starts with ', n or N
        if !matches!(rest.as_bytes().first(), Some(b'\'' | b'n' | b'N')) {
            return None;
        }
        let alt = alts
            .iter()
            .find(|a| rest.strip_prefix(**a).is_some_and(|r| r.starts_with(' ')))?;
        Some((c.len_utf8() + alt.len() + 1, format!("{c} {alt} ")))
    })
}

/// `re.sub(r"\s+", " ", t)` (the `regex` module's `\s`, Unicode White_Space, which is what
/// `char::is_whitespace` tests): every maximal run of whitespace becomes one space.
fn collapse_spaces(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut in_run = false;
    for c in t.chars() {
        if c.is_whitespace() {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

fn contractions() -> &'static [py::PyRegex] {
    static C: LazyLock<Vec<py::PyRegex>> = LazyLock::new(|| {
        [
            r"(?i)\b(can)(not)\b",
            r"(?i)\b(d)('ye)\b",
            r"(?i)\b(gim)(me)\b",
            r"(?i)\b(gon)(na)\b",
            r"(?i)\b(got)(ta)\b",
            r"(?i)\b(lem)(me)\b",
            r"(?i)\b(more)('n)\b",
            r"(?i)\b(wan)(na)(?=\s)",
            r"(?i) ('t)(is)\b",
            r"(?i) ('t)(was)\b",
        ]
        .iter()
        .map(|p| py::PyRegex::new(p, false, false).expect("static pattern"))
        .collect()
    });
    &C
}

fn apply(text: String, list: &[Sub]) -> String {
    let mut t = text;
    for s in list {
        if !s.needs.iter().any(|n| t.contains(n)) {
            continue;
        }
        if let Some(o) = (s.fast)(&t) {
            t = o;
        }
    }
    t
}

/// `([^\.])(\.)([SET]*)\s*$` substituted by `\1 \2 \3 ` (`spaced`) or `\1 \2\3 `: the
/// sentence-final period rules, done by hand (the pattern is anchored at the end, at most one
/// match; `[SET]*` cannot contain the period).
fn final_period(t: &str, set: &str, spaced: bool) -> String {
    // trailing whitespace (the regex module's \s, i.e. Unicode White_Space)
    let ws = t.trim_end_matches(char::is_whitespace).len();
    // the run of SET characters just before it
    let k0 = t[..ws].trim_end_matches(|c| set.contains(c)).len();
    let mut before = t[..k0].chars().rev();
    let c1 = match (before.next(), before.next()) {
        (Some('.'), Some(c1)) if c1 != '.' => c1,
        _ => return t.to_string(),
    };
    // the (possessive or greedy) run from k0 may extend into trailing spaces when SET has ' '
    let r = t[k0..]
        .find(|c| !set.contains(c))
        .map_or(t.len(), |n| k0 + n);
    let p = k0 - 1 - c1.len_utf8();
    let mut out = String::with_capacity(t.len() + 4);
    out.push_str(&t[..p]);
    out.push(c1);
    out.push_str(if spaced { " . " } else { " ." });
    out.push_str(&t[k0..r]);
    out.push(' ');
    out
}

/// `([:,])$` substituted by ` \1 ` (`$`: at the end or before a final newline).
fn final_colon(t: &str) -> String {
    let body = t.strip_suffix('\n').unwrap_or(t);
    match body.chars().last() {
        Some(c @ (':' | ',')) => {
            let i = body.len() - 1;
            format!("{} {c} {}", &t[..i], &t[i + 1..])
        }
        _ => t.to_string(),
    }
}

/// A cheap gate before the contraction patterns: true whenever one of them could match. The
/// patterns are case-insensitive, so every character is lowered to what it can match: its
/// simple lowercase, and `İ`, `ı` → `i`, `ſ` → `s`, `K` (Kelvin) → `k` (a false positive only
/// costs time; `str::to_lowercase` would turn `İ` into two characters and miss `GİMME`).
fn contraction_candidate(t: &str) -> bool {
    const STARTS: [&str; 9] = [
        "can", "d'ye", "gim", "gon", "got", "lem", "more'n", "wan", "'t",
    ];
    if t.is_ascii() {
        // (an ASCII char's simple lowercase is its ASCII lowercase; none of the special
        // cases below is ASCII)
        let l = t.to_ascii_lowercase();
        return STARTS.iter().any(|w| l.contains(w));
    }
    let l: String = t
        .chars()
        .map(|c| match c {
            'İ' | 'ı' => 'i',
            'ſ' => 's',
            '\u{212A}' => 'k',
            c => c.to_lowercase().next().unwrap_or(c),
        })
        .collect();
    STARTS.iter().any(|w| l.contains(w))
}

/// What the Treebank rules do with an ASCII byte of a plain sentence (see [`plain_treebank`]).
#[derive(Clone, Copy, PartialEq)]
enum Plain {
    /// Kept inside its token.
    Word,
    /// `' '`, `\t`, `\n`, `\r`: ends a token.
    Space,
    /// `;@#$%&?!*` and brackets: always a token of its own.
    Alone,
    /// `,` and `:`: a token of their own before a non-digit, or at the end.
    Sep,
    /// `.`: runs of two or more, and a sentence-final dot after a non-dot, are tokens.
    Dot,
    /// `-`: each `--`, from the left, is a token.
    Dash,
    /// `"`: a token, `` `` `` where it opens a quote, `''` elsewhere.
    Quote,
    /// `'`: plain only between two ASCII letters (see [`plain_clitics`]).
    Apostrophe,
    /// A char that some rule rewrites or reads around in ways not done here (`` ` ``, control
    /// chars): the sentence is not plain.
    Other,
}

const PLAIN_ASCII: [Plain; 128] = {
    let mut t = [Plain::Word; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            b' ' | b'\t' | b'\n' | b'\r' => Plain::Space,
            b';' | b'@' | b'#' | b'$' | b'%' | b'&' | b'?' | b'!' | b'*' | b'(' | b')' | b'['
            | b']' | b'{' | b'}' | b'<' | b'>' => Plain::Alone,
            b',' | b':' => Plain::Sep,
            b'.' => Plain::Dot,
            b'-' => Plain::Dash,
            b'"' => Plain::Quote,
            b'\'' => Plain::Apostrophe,
            b'`' | 0..=0x1f | 0x7f => Plain::Other,
            _ => Plain::Word,
        };
        b += 1;
    }
    t
};

/// Whether the `"` at byte `i` of `b` opens a quote for the Treebank rules: `^"`, and
/// `([ \(\[{<])"` on the text where `^"` became `` `` `` and that was padded with spaces (so
/// a second `"` at the start opens too). The char before is never itself part of an earlier
/// match.
fn plain_quote_opens(b: &[u8], i: usize) -> bool {
    i == 0 || (i == 1 && b[0] == b'"') || matches!(b[i - 1], b' ' | b'(' | b'[' | b'{' | b'<')
}

/// [`treebank_tokenize`] without rewriting the text, for a sentence whose chars only the
/// simple rules concern; calls `f` on each token and returns true, or returns false (having
/// called nothing) when the sentence is not plain.
///
/// Plain: no `` ` `` or control char other than `\t\n\r`, `'` only between two ASCII letters,
/// no non-ASCII whitespace (Python's and Rust's agree on ASCII whitespace), none of `«»“”‘’„`,
/// none of `İıſK` (which the case-insensitive contraction patterns may fold to ASCII), and no
/// `cannot`, `d'ye`, `gimme`, `gonna`, `gotta`, `lemme`, `more'n` or `wanna` in any case where a
/// word may start (the contraction patterns, which start with `\b`; the others need a `'`
/// after a space). On such a text the rules only
/// insert spaces, turn each `"` into `` `` `` or `''`, and split clitics off, so the tokens
/// are the text split at whitespace and around:
/// - `;@#$%&?!*`, brackets and U+2012–U+2015 (padded wherever they are);
/// - each maximal run of two or more dots (`\.{2,}`), and each `--` from the left;
/// - each `"`: `` `` `` at the start or after a space or an opening bracket, `''` elsewhere;
/// - the sentence-final dot: the last char before the trailing whitespace, closing brackets,
///   closing quotes and spaces, when it is a dot after a non-dot (the first final-period rule,
///   which runs after the opening quotes are rewritten; the second then finds nothing new);
/// - `,` or `:` before a char that is not a digit (`([:,])([^\d])`, which also consumes that
///   char, so a `,`/`:` right after a matched one is not matched itself), and `,` or `:` at the
///   end, before at most one `\n` (`([:,])$`);
///
/// and then clitics at the end of a token ([`plain_clitics`]).
fn plain_treebank(s: &str, f: &mut impl FnMut(&str)) -> bool {
    let b = s.as_bytes();
    // first pass: is it plain?
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x80 {
            // (at a char boundary: continuation bytes are skipped)
            if c & 0xC0 == 0x80 {
                continue;
            }
            let ch = s[i..].chars().next().unwrap_or(' ');
            if ch.is_whitespace()
                || matches!(
                    ch,
                    '«' | '»' | '“' | '”' | '‘' | '’' | '„' | 'İ' | 'ı' | 'ſ' | '\u{212A}'
                )
            {
                return false;
            }
            continue;
        }
        match PLAIN_ASCII[c as usize] {
            Plain::Other => return false,
            Plain::Apostrophe => {
                let letter = |j: Option<usize>| {
                    j.and_then(|j| b.get(j))
                        .is_some_and(u8::is_ascii_alphabetic)
                };
                if !letter(i.checked_sub(1)) || !letter(Some(i + 1)) {
                    return false;
                }
            }
            // (every contraction pattern starts with `\b`: a letter after a word char starts
            // none; a non-ASCII char before is taken as a possible boundary)
            Plain::Word if i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') => {
                let rest = &b[i..];
                let hit =
                    |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
                let contraction = match c | 0x20 {
                    b'c' => hit(b"cannot"),
                    b'd' => hit(b"d'ye"),
                    b'g' => hit(b"gimme") || hit(b"gonna") || hit(b"gotta"),
                    b'l' => hit(b"lemme"),
                    b'm' => hit(b"more'n"),
                    b'w' => hit(b"wanna"),
                    _ => false,
                };
                if contraction {
                    return false;
                }
            }
            _ => {}
        }
    }
    // the final dot and the final `,`/`:`
    let body = s.strip_suffix('\n').unwrap_or(s).len();
    let final_sep = (body > 0 && matches!(b[body - 1], b',' | b':')).then(|| body - 1);
    let mut u = s.trim_end_matches([' ', '\t', '\n', '\r']).len();
    while u > 0
        && match b[u - 1] {
            b']' | b')' | b'}' | b'>' | b' ' => true,
            b'"' => !plain_quote_opens(b, u - 1),
            _ => false,
        }
    {
        u -= 1;
    }
    let final_dot = (u >= 2 && b[u - 1] == b'.' && b[u - 2] != b'.').then(|| u - 1);
    // second pass: split. `word`: where the token being read started, if one is.
    let mut word = None::<usize>;
    let mut emit = |word: &mut Option<usize>, at: usize, alone: Option<&str>| {
        if let Some(a) = word.take() {
            plain_clitics(&s[a..at], &mut *f);
        }
        if let Some(t) = alone {
            f(t);
        }
    };
    let mut no_sep_at = usize::MAX;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // Some(n): the n bytes at i are a token of their own; None: i is in a word
        let (alone, n) = if c >= 0x80 {
            let ch = s[i..].chars().next().unwrap_or(' ');
            let n = ch.len_utf8();
            (('\u{2012}'..='\u{2015}').contains(&ch).then_some(n), n)
        } else {
            match PLAIN_ASCII[c as usize] {
                Plain::Space => {
                    emit(&mut word, i, None);
                    i += 1;
                    continue;
                }
                Plain::Quote => {
                    let q = if plain_quote_opens(b, i) { "``" } else { "''" };
                    emit(&mut word, i, Some(q));
                    i += 1;
                    continue;
                }
                Plain::Alone => (Some(1), 1),
                Plain::Dot => {
                    let run = b[i..].iter().take_while(|&&d| d == b'.').count();
                    let alone = run >= 2 || final_dot == Some(i);
                    (alone.then_some(run), run.max(1))
                }
                Plain::Dash => {
                    let pair = b.get(i + 1) == Some(&b'-');
                    (pair.then_some(2), if pair { 2 } else { 1 })
                }
                Plain::Sep => {
                    let matched =
                        i != no_sep_at && s[i + 1..].chars().next().is_some_and(|d| !py::is_nd(d));
                    if matched {
                        no_sep_at = i + 1;
                    }
                    ((matched || final_sep == Some(i)).then_some(1), 1)
                }
                Plain::Word | Plain::Apostrophe | Plain::Other => (None, 1),
            }
        };
        match alone {
            Some(n) => emit(&mut word, i, Some(&s[i..i + n])),
            None => {
                word.get_or_insert(i);
            }
        }
        i += n;
    }
    emit(&mut word, b.len(), None);
    true
}

/// The clitic rules on one word of a plain sentence, whose `'`s are between ASCII letters:
/// `([^' ])('[sS]|'[mM]|'[dD]|') ` and then `([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) `, each
/// splitting off the clitic that ends a token (the space after it: the token's end) when a
/// char other than `'` is before it in the token.
fn plain_clitics(w: &str, f: &mut impl FnMut(&str)) {
    if !w.as_bytes().contains(&b'\'') {
        return f(w);
    }
    let split = |w: &'_ str, sufs: &[&str]| -> Option<usize> {
        let suf = sufs.iter().find(|x| w.ends_with(**x))?;
        let at = w.len() - suf.len();
        (at > 0 && w.as_bytes()[at - 1] != b'\'').then_some(at)
    };
    let (head, first) = match split(w, &["'s", "'S", "'m", "'M", "'d", "'D"]) {
        Some(at) => (&w[..at], Some(&w[at..])),
        None => (w, None),
    };
    match split(
        head,
        &["'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"],
    ) {
        Some(at) => {
            f(&head[..at]);
            f(&head[at..]);
        }
        None => f(head),
    }
    if let Some(t) = first {
        f(t);
    }
}

/// `NLTKWordTokenizer().tokenize(sentence)`.
pub fn treebank_tokenize(sentence: &str) -> Vec<String> {
    let mut t = apply(sentence.to_string(), &STARTING_QUOTES);
    if t.contains('\'') {
        t = quote_start(&t);
    }
    t = final_period(&t, "])}>\"'»”’ ", true);
    t = apply(t, &PUNCTUATION_A);
    t = final_colon(&t);
    t = apply(t, &PUNCTUATION_B);
    t = final_period(&t, "])}>\"'", false);
    t = apply(t, &PUNCTUATION_C);
    t = format!(" {t} ");
    t = apply(t, &ENDING_QUOTES_A);
    t = collapse_spaces(&t);
    t = apply(t, &ENDING_QUOTES_B);
    let candidate = contraction_candidate(&t);
    for re in contractions().iter().filter(|_| candidate) {
        t = re.replace_all(&t, |c: &py::Caps| format!(" {} {} ", c.str(1), c.str(2)));
    }
    py::split_ws(&t).into_iter().map(String::from).collect()
}

/// `nltk.word_tokenize(text)`.
pub fn word_tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word_token(text, |t| out.push(t.to_string()));
    out
}

/// Call `f` on each token of `nltk.word_tokenize(text)`, in order (no token list is built).
///
/// Inside [`with_sentence_memo`], a sentence already tokenized on this thread reuses its
/// tokens: the loose evaluation tokenizes up to 8 variants of one response, which differ only
/// by a first or last line or by their `*`, so most of their sentences are the same strings,
/// and the Treebank tokenizer (a pure function of the sentence) is the costly part.
pub fn for_each_word_token(text: &str, mut f: impl FnMut(&str)) {
    for sentence in sent_tokenize(text) {
        sentence_tokens(sentence, &mut f);
    }
}

/// Call `f` on the Treebank tokens of one sentence of [`sent_tokenize`] (memoised as
/// [`for_each_word_token`] says).
fn sentence_tokens(sentence: &str, f: &mut impl FnMut(&str)) {
    // (a plain sentence is split faster than the memo is read)
    if plain_treebank(sentence, &mut *f) {
        return;
    }
    let memo = SENTENCE_MEMO.with(|m| {
        m.borrow_mut().as_mut().map(|memo| {
            // (looked up by the borrowed sentence: the key is copied only when it is new)
            if let Some(tokens) = memo.get(sentence) {
                return tokens.clone();
            }
            let tokens: std::rc::Rc<[String]> = treebank_tokenize(sentence).into();
            memo.insert(sentence.into(), tokens.clone());
            tokens
        })
    });
    match memo {
        Some(tokens) => tokens.iter().for_each(|t| f(t)),
        None => treebank_tokenize(sentence).iter().for_each(|t| f(t)),
    }
}

/// The first `n` tokens of `nltk.word_tokenize(text)` (all of them if there are fewer). The
/// tokens of a sentence depend on that sentence alone, so only the sentences that hold the
/// first `n` tokens are tokenized: `words:start_verb` tags the first token from the first
/// three.
pub fn word_tokenize_head(text: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in sent_tokenize(text) {
        if out.len() >= n {
            break;
        }
        sentence_tokens(sentence, &mut |t| out.push(t.to_string()));
    }
    out.truncate(n);
    out
}

/// The last `n` tokens of `nltk.word_tokenize(text)` (all of them if there are fewer), from
/// the sentences that hold them (see [`word_tokenize_head`]).
pub fn word_tokenize_tail(text: &str, n: usize) -> Vec<String> {
    let mut last: Vec<Vec<String>> = Vec::new();
    let mut count = 0;
    for sentence in sent_tokenize(text).into_iter().rev() {
        if count >= n {
            break;
        }
        let mut tokens = Vec::new();
        sentence_tokens(sentence, &mut |t| tokens.push(t.to_string()));
        count += tokens.len();
        last.push(tokens);
    }
    let mut out: Vec<String> = last.into_iter().rev().flatten().collect();
    out.drain(..out.len().saturating_sub(n));
    out
}

type SentenceMemo = std::collections::HashMap<Box<str>, std::rc::Rc<[String]>, py::FastBuild>;

thread_local! {
    /// Treebank tokens by sentence, while a [`with_sentence_memo`] scope is open on the thread
    /// (None: no scope, nothing is kept).
    static SENTENCE_MEMO: std::cell::RefCell<Option<SentenceMemo>> =
        const { std::cell::RefCell::new(None) };
}

/// Run `f` with the Treebank tokens of the sentences it tokenizes kept and reused (see
/// [`for_each_word_token`]); they are dropped when the outermost scope ends, so the memory is
/// that of one scope's texts (one response and its variants) and a scope never sees another's
/// sentences. Tokens are a pure function of the sentence, so results are the same with and
/// without the scope. Nested scopes share the outer one.
pub fn with_sentence_memo<R>(f: impl FnOnce() -> R) -> R {
    /// Ends the scope even if `f` panics.
    struct Close;
    impl Drop for Close {
        fn drop(&mut self) {
            SENTENCE_MEMO.with(|m| *m.borrow_mut() = None);
        }
    }
    let outer = SENTENCE_MEMO.with(|m| {
        let mut m = m.borrow_mut();
        let outer = m.is_none();
        if outer {
            *m = Some(SentenceMemo::default());
        }
        outer
    });
    // (not `outer.then_some(Close)`: that builds a `Close` in an inner scope too, and dropping
    // it would end the outer scope)
    let _close = if outer { Some(Close) } else { None };
    f()
}

// ------------------------------------------------------------------------------------------
// Averaged perceptron tagger (English), first token only

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
        for line in include_str!("../data/corpus.jsonl").lines().step_by(5) {
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
        for line in include_str!("../data/corpus.jsonl").lines().step_by(7) {
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
            "'Tis", "it'", "'s", "x''y", "a'1", "é's", "`x`", "x\u{b}y", "x\u{1c}y", "a\u{a0}b",
            "“q”", "cannot", "GoNNa", "wanna go", "gimme", "gotta", "Lemme", "D'ye", "more'n",
            "\u{212a}", "İ", "ı", "ſ",
        ] {
            assert!(plain(s).is_none(), "{s:?} is not plain");
        }
    }

    /// The shortcut for `W. N` contexts answers as the annotation does, on every period
    /// context of the corpus's responses and on hand cases (abbreviations, collocations,
    /// initials, numbers, other shapes).
    #[test]
    fn word_period_word_agrees_with_the_annotation() {
        let mut texts: Vec<String> = include_str!("../data/corpus.jsonl")
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
        for line in include_str!("../data/corpus.jsonl").lines().step_by(3) {
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
        let toks =
            word_tokenize("Hello world. I can't go!! \"Quote\" (a) 3.5 U.S.A. e.g. test--it");
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

    /// Random strings over `alphabet` (a fixed-seed generator: reproducible).
    pub(crate) fn random_texts(alphabet: &[char], n: usize, max_len: usize) -> Vec<String> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..n)
            .map(|_| {
                let len = (next() % (max_len as u64 + 1)) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    const TRICKY: &[char] = &[
        'a', 'B', 'z', '1', '٣', '_', 'é', '\u{301}', 'ſ', 'K', ' ', ' ', '\t', '\n', '\u{a0}',
        '\u{2003}', '.', '.', '-', '-', ',', ':', ';', '\'', '"', '`', '(', ')', '[', ']', '{',
        '}', '&', '#', '*', '@', '?', '!', '‘', '’', '“', '”', '«', '»', '$', '日', '²', '„', '‒',
        '–', '—', '―', '<', '>', '%',
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
}
