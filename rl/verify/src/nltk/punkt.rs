//! The Punkt sentence tokenizer with its English parameters (`nltk.sent_tokenize`).

use std::sync::LazyLock;

use super::words::is_word_char;
use crate::py;
use crate::table::Table;

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
pub(super) fn punkt_word_pattern() -> String {
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
pub(super) fn punkt_word_spans(line: &str) -> Vec<(usize, usize)> {
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

/// The end of the match of `^-?[\.,]?\d[\d,\.-]*\.?(?=\n?\z)` in `s`, if any. Each part is
/// forced: `-` and `[.,]` are not digits, so skipping them leaves nothing for `\d`; the greedy
/// `[\d,.-]*` takes the whole run (`\.?` then finds no "."), and the look-ahead needs the rest
/// to be "" or "\n"; giving back run characters leaves a rest that starts with one of them, so
/// no shorter run can succeed.
pub(super) fn number_prefix(s: &str) -> Option<usize> {
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
pub(super) fn word_period_word(text: &str, low: Option<&str>) -> Option<bool> {
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
pub(super) fn annotate_for_sentbreak(text: &str, low: Option<&str>) -> bool {
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

pub(super) struct EndCtx {
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
pub(super) fn potential_end_contexts(text: &str, mut f: impl FnMut(&EndCtx, &str, Option<&str>)) {
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
