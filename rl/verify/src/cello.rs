//! CELLO's four rule scorers (He et al., AAAI 2024), with the semantics of the official
//! scoring code: each returns a score in [0, 1], or NaN when it does not apply to the item.
//!
//! | id | score |
//! |---|---|
//! | `cello:answer_format` | mean of *resolve* (the answer parses as the required json / dict / list / tuple / xml) and *keywords* (share of the required strings present) |
//! | `cello:input_dependent_query` | share of the required strings present, times (1 − BLEU-4 of the answer against the input text, over characters): copying the input scores low |
//! | `cello:task_prescribed_phrases` | share of the required strings present |
//! | `cello:count_limit` | mean of the word-count, sample-count, sentence-count and revise checks that apply |
//!
//! kwargs (as `raif-datasets` loads them): `criteria` `[{criterion, limit}]`, `lang` (`ch` /
//! `eg`), `input_text`. Where the official code behaves unexpectedly, this follows it and says
//! so: a `sentence-max` criterion scores NaN, `sample-exact` / `sample-mins` are not scored
//! (NaN), a resolve limit that is not a string scores 0, and "json"/"dict" are checked with
//! Python's literal syntax (the official code `eval`s the answer, so `true`/`null` fail).
//! Differences: Python expressions other than literals (`1+1`, calls) are not evaluated (they
//! score 0 here); English sentences are split on `.`/`!`/`?` followed by space or end instead
//! of NLTK's Punkt.

use serde_json::{Map, Value};

/// One scorer's result.
#[derive(Clone, Debug, PartialEq)]
pub struct CelloScore {
    /// In [0, 1]; NaN when the scorer does not apply.
    pub score: f64,
    pub reason: String,
}

fn nan(reason: &str) -> CelloScore {
    CelloScore {
        score: f64::NAN,
        reason: reason.to_string(),
    }
}

fn criteria(kwargs: &Map<String, Value>) -> Result<Vec<(String, Value)>, String> {
    let Some(Value::Array(list)) = kwargs.get("criteria") else {
        return Err("kwarg `criteria`: missing or not a list".into());
    };
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let crit = c.get("criterion").and_then(Value::as_str).ok_or_else(|| {
                format!("kwarg `criteria[{i}].criterion`: missing or not a string")
            })?;
            Ok((
                crit.to_string(),
                c.get("limit").cloned().unwrap_or(Value::Null),
            ))
        })
        .collect()
}

/// The first criterion among `names` (official order: a `NULL` one before it means "does not
/// apply").
fn find<'a>(cs: &'a [(String, Value)], names: &[&str]) -> Option<(&'a str, &'a Value)> {
    for (c, l) in cs {
        if names.contains(&c.as_str()) {
            return Some((c, l));
        }
        if c == "NULL" {
            return None;
        }
    }
    None
}

fn keyword_share(answer: &str, limit: &Value) -> Result<(f64, String), String> {
    let Value::Array(words) = limit else {
        return Err("keywords limit is not a list".into());
    };
    if words.is_empty() {
        return Err("keywords limit is empty".into());
    }
    let mut missing = Vec::new();
    let mut hit = 0;
    for w in words {
        let w = match w {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if answer.contains(&w) {
            hit += 1;
        } else {
            missing.push(w);
        }
    }
    let share = hit as f64 / words.len() as f64;
    let reason = if missing.is_empty() {
        format!("all {} required strings present", words.len())
    } else {
        format!(
            "{hit} of {} required strings present; missing {:?}",
            words.len(),
            missing
        )
    };
    Ok((share, reason))
}

fn nanmean(xs: &[f64]) -> f64 {
    let v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Score `answer` with CELLO scorer `id`. `previous` is the assistant's previous answer in the
/// conversation (the `revise` criterion compares lengths with it).
pub fn score(
    id: &str,
    kwargs: &Map<String, Value>,
    answer: &str,
    previous: Option<&str>,
) -> Result<CelloScore, String> {
    let cs = criteria(kwargs)?;
    match id {
        "cello:task_prescribed_phrases" => match find(&cs, &["keywords"]) {
            None => Ok(nan("no keywords criterion")),
            Some((_, l)) => {
                let (s, r) = keyword_share(answer, l)?;
                Ok(CelloScore {
                    score: s,
                    reason: r,
                })
            }
        },
        "cello:input_dependent_query" => match find(&cs, &["keywords"]) {
            None => Ok(nan("no keywords criterion")),
            Some((_, l)) => {
                let (s, r) = keyword_share(answer, l)?;
                match kwargs.get("input_text").and_then(Value::as_str) {
                    Some(input) if input != "NULL" => {
                        let b = char_bleu4(answer, input);
                        Ok(CelloScore {
                            score: (1.0 - b) * s,
                            reason: format!("{r}; BLEU-4 against the input {b:.3}"),
                        })
                    }
                    _ => Ok(CelloScore {
                        score: s,
                        reason: r,
                    }),
                }
            }
        },
        "cello:answer_format" => {
            let resolve = match find(&cs, &["resolve"]) {
                None => (f64::NAN, None),
                Some((_, l)) => {
                    let (ok, why) = resolves(answer, l);
                    (ok.map_or(f64::NAN, |ok| f64::from(u8::from(ok))), Some(why))
                }
            };
            let kw = match find(&cs, &["keywords"]) {
                None => (f64::NAN, None),
                Some((_, l)) => {
                    let (s, r) = keyword_share(answer, l)?;
                    (s, Some(r))
                }
            };
            let reason = [resolve.1, kw.1]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ");
            Ok(CelloScore {
                score: nanmean(&[resolve.0, kw.0]),
                reason,
            })
        }
        "cello:count_limit" => {
            let lang = kwargs.get("lang").and_then(Value::as_str).unwrap_or("ch");
            let mut parts = Vec::new();
            let mut reasons = Vec::new();
            let (w, r) = word_count(&cs, answer, lang)?;
            parts.push(w);
            reasons.extend(r);
            let (s, r) = sample_count(&cs, answer)?;
            parts.push(s);
            reasons.extend(r);
            let (s, r) = sentence_count(&cs, answer, lang)?;
            parts.push(s);
            reasons.extend(r);
            if let Some(prev) = previous {
                let (s, r) = revise(&cs, prev, answer)?;
                parts.push(s);
                reasons.extend(r);
            }
            Ok(CelloScore {
                score: nanmean(&parts),
                reason: if reasons.is_empty() {
                    "no count criterion applies".into()
                } else {
                    reasons.join("; ")
                },
            })
        }
        other => Err(format!("unknown CELLO scorer `{other}`")),
    }
}

fn as_count(l: &Value, what: &str) -> Result<f64, String> {
    l.as_f64()
        .ok_or_else(|| format!("{what} limit is not a number: {l}"))
}

/// Characters in CJK Unified Ideographs (U+4E00–U+9FA5), or English words with a letter or
/// digit.
fn words(answer: &str, lang: &str) -> usize {
    if lang == "ch" {
        answer
            .chars()
            .filter(|c| ('\u{4e00}'..='\u{9fa5}').contains(c))
            .count()
    } else {
        answer
            .split_whitespace()
            .filter(|w| w.chars().any(|c| c.is_ascii_alphanumeric()))
            .count()
    }
}

fn word_count(
    cs: &[(String, Value)],
    answer: &str,
    lang: &str,
) -> Result<(f64, Option<String>), String> {
    let Some((mode, l)) = find(cs, &["word-max", "word-min", "word-exact", "word-min-max"]) else {
        return Ok((f64::NAN, None));
    };
    let n = words(answer, lang) as f64;
    // The official code scores only word-max and word-min; the other two stay at 1.
    let s = match mode {
        "word-max" => {
            let lim = as_count(l, mode)?;
            if n > lim {
                (1.0 - (lim - n).abs() / n).max(0.0)
            } else {
                1.0
            }
        }
        "word-min" => {
            let lim = as_count(l, mode)?;
            if n < lim {
                (n / lim).max(0.0)
            } else {
                1.0
            }
        }
        _ => 1.0,
    };
    Ok((s, Some(format!("{mode} {l}: {n} words, {s:.3}"))))
}

fn sample_count(cs: &[(String, Value)], answer: &str) -> Result<(f64, Option<String>), String> {
    // Every criterion is visited; the mode of the last recognised one carries over to the
    // next (as in the official loop), and the best score wins.
    let mut mode: Option<(&str, &Value)> = None;
    let mut scores = Vec::new();
    let mut why = Vec::new();
    for (c, l) in cs {
        if ["sample-table", "sample-min", "sample-number"].contains(&c.as_str()) {
            mode = Some((c.as_str(), l));
        } else if c == "NULL" {
            return Ok((f64::NAN, None));
        }
        let Some((m, l)) = mode else {
            return Ok((f64::NAN, None));
        };
        let s = match m {
            "sample-min" => {
                let Value::Array(items) = l else {
                    return Err("sample-min limit is not a list".into());
                };
                let mut ok = 0;
                for it in items {
                    let (Some(s), Some(n)) = (
                        it.get(0).and_then(Value::as_str),
                        it.get(1).and_then(Value::as_u64),
                    ) else {
                        return Err(format!("sample-min item {it} is not [string, count]"));
                    };
                    if answer.matches(s).count() as u64 >= n {
                        ok += 1;
                    }
                }
                if items.is_empty() {
                    return Err("sample-min limit is empty".into());
                }
                ok as f64 / items.len() as f64
            }
            "sample-table" => {
                let lim = as_count(l, m)?;
                match (answer.find('|'), answer.rfind('|')) {
                    (Some(b), Some(e)) => {
                        let rows = answer[b..=e].matches('\n').count() as f64;
                        f64::from(u8::from(rows == lim + 1.0))
                    }
                    _ => 0.0,
                }
            }
            _ => {
                // sample-number: the largest number written must be the limit.
                let lim = as_count(l, m)?;
                let mut nums: Vec<f64> = Vec::new();
                let mut cur = String::new();
                for ch in answer.chars().chain(std::iter::once(' ')) {
                    if ch.is_ascii_digit() {
                        cur.push(ch);
                    } else if !cur.is_empty() {
                        nums.push(cur.parse::<f64>().unwrap_or(f64::INFINITY));
                        cur.clear();
                    }
                }
                let mut s = 0.0;
                for x in nums {
                    if x == lim {
                        s = 1.0;
                    }
                    if x > lim {
                        s = 0.0;
                        break;
                    }
                }
                s
            }
        };
        why.push(format!("{m}: {s:.3}"));
        scores.push(s);
    }
    if scores.is_empty() {
        return Ok((f64::NAN, None));
    }
    Ok((
        scores.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Some(why.join(", ")),
    ))
}

fn sentences(answer: &str, lang: &str) -> usize {
    if lang == "ch" {
        // Runs of other characters each closed by one of 。！？；or a newline.
        let ends = |c: char| matches!(c, '。' | '！' | '？' | '；' | '\n');
        let mut n = 0;
        let mut run = false;
        for c in answer.chars() {
            if ends(c) {
                if run {
                    n += 1;
                }
                run = false;
            } else {
                run = true;
            }
        }
        n
    } else {
        let t = answer.trim();
        if t.is_empty() {
            return 0;
        }
        let b: Vec<char> = t.chars().collect();
        let mut n = 0;
        for (i, c) in b.iter().enumerate() {
            if matches!(c, '.' | '!' | '?') && b.get(i + 1).is_none_or(|d| d.is_whitespace()) {
                n += 1;
            }
        }
        n.max(1)
    }
}

fn sentence_count(
    cs: &[(String, Value)],
    answer: &str,
    lang: &str,
) -> Result<(f64, Option<String>), String> {
    let Some((mode, l)) = find(
        cs,
        &[
            "sentence-max",
            "sentence-min",
            "sentence-min-max",
            "sentence-exact",
        ],
    ) else {
        return Ok((f64::NAN, None));
    };
    let n = sentences(answer, lang) as f64;
    let s = match mode {
        // The official code computes a score and then discards it.
        "sentence-max" => f64::NAN,
        "sentence-min" => {
            let lim = as_count(l, mode)?;
            if n < lim {
                (n / lim).max(0.0)
            } else {
                1.0
            }
        }
        "sentence-min-max" => {
            let (Some(a), Some(b)) = (
                l.get(0).and_then(Value::as_f64),
                l.get(1).and_then(Value::as_f64),
            ) else {
                return Err(format!("sentence-min-max limit is not [min, max]: {l}"));
            };
            f64::from(u8::from(a <= n && n <= b))
        }
        _ => f64::from(u8::from(n == as_count(l, mode)?)),
    };
    Ok((s, Some(format!("{mode} {l}: {n} sentences, {s:.3}"))))
}

fn revise(cs: &[(String, Value)], prev: &str, now: &str) -> Result<(f64, Option<String>), String> {
    let Some((_, l)) = find(cs, &["revise"]) else {
        return Ok((f64::NAN, None));
    };
    let (a, b) = (prev.chars().count(), now.chars().count());
    let s = match l.as_str() {
        Some("longer") => f64::from(u8::from(b >= a)),
        Some("shorter") => f64::from(u8::from(b <= a)),
        _ => {
            return Err(format!(
                "revise limit must be \"longer\" or \"shorter\": {l}"
            ))
        }
    };
    Ok((
        s,
        Some(format!("revise {l}: {b} characters after {a}, {s:.0}")),
    ))
}

/// Whether `answer` parses as the structure `limit` names (None: not checked).
fn resolves(answer: &str, limit: &Value) -> (Option<bool>, String) {
    let Some(kind) = limit.as_str() else {
        return (
            Some(false),
            format!("resolve {limit}: not a format name, scores 0"),
        );
    };
    let ok = match kind {
        "json" | "dict" => matches!(pylit::parse(answer), Ok(pylit::Lit::Dict)),
        "list" => matches!(pylit::parse(answer), Ok(pylit::Lit::List)),
        "tuple" => matches!(pylit::parse(answer), Ok(pylit::Lit::Tuple)),
        "xml" => crate::xml::validate(answer.trim_start()).is_ok(),
        // No YAML parser here (the benchmark has no YAML item): not checked.
        "yaml" => return (None, "resolve yaml: not checked".into()),
        _ => false,
    };
    (
        Some(ok),
        format!(
            "resolve {kind}: {}",
            if ok { "parses" } else { "does not parse" }
        ),
    )
}

/// BLEU-4 of `cand` against one reference, over characters, uniform weights, no smoothing
/// (NLTK's `corpus_bleu` on two strings): 0 when any n-gram order has no match.
pub fn char_bleu4(cand: &str, reference: &str) -> f64 {
    use std::collections::HashMap;
    let c: Vec<char> = cand.chars().collect();
    let r: Vec<char> = reference.chars().collect();
    let mut log_sum = 0.0;
    for n in 1..=4 {
        if c.len() < n {
            return 0.0;
        }
        let mut rc: HashMap<&[char], usize> = HashMap::new();
        if r.len() >= n {
            for w in r.windows(n) {
                *rc.entry(w).or_default() += 1;
            }
        }
        let mut cc: HashMap<&[char], usize> = HashMap::new();
        for w in c.windows(n) {
            *cc.entry(w).or_default() += 1;
        }
        let matched: usize = cc
            .iter()
            .map(|(g, k)| (*k).min(rc.get(g).copied().unwrap_or(0)))
            .sum();
        if matched == 0 {
            return 0.0;
        }
        let total = c.len() + 1 - n;
        log_sum += 0.25 * (matched as f64 / total as f64).ln();
    }
    let (cl, rl) = (c.len() as f64, r.len() as f64);
    let bp = if cl > rl { 1.0 } else { (1.0 - rl / cl).exp() };
    bp * log_sum.exp()
}

/// Python literal syntax, enough to tell what `eval` of a literal would return.
pub mod pylit {
    /// The kind of the value a literal evaluates to.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Lit {
        Dict,
        List,
        Tuple,
        Set,
        Str,
        Num,
        Const,
    }

    struct P<'a> {
        b: &'a [char],
        i: usize,
        depth: usize,
    }

    impl P<'_> {
        /// Skip spaces; inside brackets also newlines; and comments.
        fn ws(&mut self) {
            while let Some(&c) = self.b.get(self.i) {
                if c == ' '
                    || c == '\t'
                    || c == '\x0c'
                    || (self.depth > 0 && (c == '\n' || c == '\r'))
                {
                    self.i += 1;
                } else if c == '\\' && matches!(self.b.get(self.i + 1), Some('\n')) {
                    self.i += 2;
                } else if c == '#' {
                    while self.b.get(self.i).is_some_and(|&c| c != '\n') {
                        self.i += 1;
                    }
                } else {
                    break;
                }
            }
        }
        fn peek(&mut self) -> Option<char> {
            self.ws();
            self.b.get(self.i).copied()
        }
        fn eat(&mut self, c: char) -> bool {
            if self.peek() == Some(c) {
                self.i += 1;
                true
            } else {
                false
            }
        }
        fn string(&mut self) -> Result<(), String> {
            // Prefixes r, b, u, f and combinations.
            while self
                .b
                .get(self.i)
                .is_some_and(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f'))
            {
                self.i += 1;
            }
            let q = *self.b.get(self.i).ok_or("end of text in a string")?;
            let triple = self.b.get(self.i + 1) == Some(&q) && self.b.get(self.i + 2) == Some(&q);
            self.i += if triple { 3 } else { 1 };
            loop {
                let c = *self.b.get(self.i).ok_or("unterminated string")?;
                if c == '\\' {
                    self.i += 2;
                    continue;
                }
                if c == q {
                    if !triple {
                        self.i += 1;
                        return Ok(());
                    }
                    if self.b.get(self.i + 1) == Some(&q) && self.b.get(self.i + 2) == Some(&q) {
                        self.i += 3;
                        return Ok(());
                    }
                }
                if c == '\n' && !triple {
                    return Err("newline in a string".into());
                }
                self.i += 1;
            }
        }
        fn atom(&mut self) -> Result<Lit, String> {
            let c = self.peek().ok_or("unexpected end of text")?;
            match c {
                '{' => {
                    self.i += 1;
                    self.depth += 1;
                    let mut kind = Lit::Dict;
                    let mut first = true;
                    while !self.eat('}') {
                        if !first && !self.eat(',') {
                            return Err("expected , or }".into());
                        }
                        if self.eat('}') {
                            break;
                        }
                        self.expr()?;
                        if self.eat(':') {
                            if !first && kind == Lit::Set {
                                return Err("mixed set and dict".into());
                            }
                            self.expr()?;
                        } else {
                            if !first && kind == Lit::Dict {
                                return Err("expected :".into());
                            }
                            kind = Lit::Set;
                        }
                        first = false;
                    }
                    self.depth -= 1;
                    Ok(kind)
                }
                '[' | '(' => {
                    let close = if c == '[' { ']' } else { ')' };
                    self.i += 1;
                    self.depth += 1;
                    let mut n = 0;
                    let mut comma = false;
                    let mut inner = Lit::Tuple;
                    while !self.eat(close) {
                        if n > 0 {
                            if !self.eat(',') {
                                return Err(format!("expected , or {close}"));
                            }
                            comma = true;
                            if self.eat(close) {
                                break;
                            }
                        }
                        inner = self.expr()?;
                        n += 1;
                    }
                    self.depth -= 1;
                    Ok(match (c, n, comma) {
                        ('[', _, _) => Lit::List,
                        // `(x)` is x itself; `()` and `(x,)` are tuples.
                        ('(', 1, false) => inner,
                        _ => Lit::Tuple,
                    })
                }
                '"' | '\'' => {
                    self.string()?;
                    // Adjacent strings concatenate.
                    while matches!(self.peek(), Some('"' | '\'')) {
                        self.string()?;
                    }
                    Ok(Lit::Str)
                }
                '+' | '-' => {
                    self.i += 1;
                    self.atom()?;
                    Ok(Lit::Num)
                }
                c if c.is_ascii_digit() || c == '.' => {
                    let s = self.i;
                    while self
                        .b
                        .get(self.i)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                        || (self.i > s
                            && matches!(self.b.get(self.i), Some('+' | '-'))
                            && matches!(self.b.get(self.i - 1), Some('e' | 'E')))
                    {
                        self.i += 1;
                    }
                    let t: String = self.b[s..self.i].iter().filter(|c| **c != '_').collect();
                    let t = t.trim_end_matches(['j', 'J']);
                    let ok = t.parse::<f64>().is_ok()
                        || (t.len() > 2
                            && t.starts_with('0')
                            && matches!(&t[1..2], "x" | "X" | "o" | "O" | "b" | "B"));
                    if ok {
                        Ok(Lit::Num)
                    } else {
                        Err(format!("bad number `{t}`"))
                    }
                }
                c if c.is_alphabetic() || c == '_' => {
                    let s = self.i;
                    while self
                        .b
                        .get(self.i)
                        .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                    {
                        self.i += 1;
                    }
                    let w: String = self.b[s..self.i].iter().collect();
                    match w.as_str() {
                        "True" | "False" | "None" => Ok(Lit::Const),
                        _ if matches!(self.b.get(self.i), Some('"' | '\''))
                            && w.chars().all(|c| "rRbBuUfF".contains(c)) =>
                        {
                            self.i = s;
                            self.string()?;
                            Ok(Lit::Str)
                        }
                        _ => Err(format!("name `{w}` is not defined")),
                    }
                }
                other => Err(format!("unexpected `{other}`")),
            }
        }
        fn expr(&mut self) -> Result<Lit, String> {
            self.atom()
        }
    }

    /// What `eval(text)` of a Python literal gives (a top-level `a, b` is a tuple).
    pub fn parse(text: &str) -> Result<Lit, String> {
        let b: Vec<char> = text.chars().collect();
        let mut p = P {
            b: &b,
            i: 0,
            depth: 0,
        };
        // eval drops leading spaces and tabs; blank lines are fine.
        while p.b.get(p.i).is_some_and(|c| c.is_whitespace()) {
            p.i += 1;
        }
        let first = p.expr()?;
        let mut kind = first;
        if p.eat(',') {
            kind = Lit::Tuple;
            while p.peek().is_some_and(|c| c != '\n' && c != '\r') {
                p.expr()?;
                if !p.eat(',') {
                    break;
                }
            }
        }
        while p.b.get(p.i).is_some_and(|c| c.is_whitespace()) {
            p.i += 1;
            p.ws();
        }
        if p.i < p.b.len() {
            return Err(format!("unexpected text at character {}", p.i));
        }
        Ok(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kw(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn python_literals() {
        use pylit::{parse, Lit};
        assert_eq!(parse("{'a': 1, \"b\": [1, 2]}"), Ok(Lit::Dict));
        assert_eq!(parse("  {}\n"), Ok(Lit::Dict));
        assert!(parse("{\"a\": true}").is_err(), "eval has no `true`");
        assert_eq!(parse("{\"a\": True, 'b': None}"), Ok(Lit::Dict));
        assert_eq!(parse("[1, 2.5, -3, 'x']"), Ok(Lit::List));
        assert_eq!(parse("(1, 2)"), Ok(Lit::Tuple));
        assert_eq!(parse("1, 2"), Ok(Lit::Tuple));
        assert_eq!(parse("(1)"), Ok(Lit::Num));
        assert_eq!(parse("({'a': 1})"), Ok(Lit::Dict));
        assert_eq!(parse("{1, 2}"), Ok(Lit::Set));
        assert!(parse("```json\n{}\n```").is_err());
        assert!(parse("[1, 2").is_err());
        assert_eq!(parse("{'k': '''multi\nline'''}"), Ok(Lit::Dict));
    }

    #[test]
    fn keywords_and_input_copying() {
        let k = kw(
            json!({"criteria": [{"criterion": "keywords", "limit": ["甲", "乙"]}], "lang": "ch"}),
        );
        let s = score("cello:task_prescribed_phrases", &k, "甲和丙", None).unwrap();
        assert_eq!(s.score, 0.5);
        // Copying the input verbatim gives BLEU 1 and so a score of 0.
        let k = kw(
            json!({"criteria": [{"criterion": "keywords", "limit": ["报价"]}], "lang": "ch",
                          "input_text": "会员报价回购交易"}),
        );
        let copy = score("cello:input_dependent_query", &k, "会员报价回购交易", None).unwrap();
        assert!(copy.score.abs() < 1e-12, "{copy:?}");
        let own = score("cello:input_dependent_query", &k, "报价要看额度", None).unwrap();
        assert_eq!(own.score, 1.0, "{own:?}");
        assert!((char_bleu4("abcde", "abcde") - 1.0).abs() < 1e-12);
        assert_eq!(char_bleu4("abc", "xyz"), 0.0);
    }

    #[test]
    fn count_limits() {
        let k = kw(json!({"criteria": [{"criterion": "word-max", "limit": 4}], "lang": "ch"}));
        assert_eq!(
            score("cello:count_limit", &k, "一二三", None)
                .unwrap()
                .score,
            1.0
        );
        // 8 characters against a maximum of 4: 1 − 4/8.
        assert_eq!(
            score("cello:count_limit", &k, "一二三四五六七八", None)
                .unwrap()
                .score,
            0.5
        );
        let k =
            kw(json!({"criteria": [{"criterion": "sentence-exact", "limit": 2}], "lang": "ch"}));
        assert_eq!(
            score("cello:count_limit", &k, "第一句。第二句！", None)
                .unwrap()
                .score,
            1.0
        );
        assert_eq!(
            score("cello:count_limit", &k, "只有一句。", None)
                .unwrap()
                .score,
            0.0
        );
        let k = kw(
            json!({"criteria": [{"criterion": "sample-min", "limit": [["A", 2], ["B", 1]]}], "lang": "ch"}),
        );
        assert_eq!(
            score("cello:count_limit", &k, "A A", None).unwrap().score,
            0.5
        );
        let k = kw(json!({"criteria": [{"criterion": "sample-number", "limit": 3}], "lang": "ch"}));
        assert_eq!(
            score("cello:count_limit", &k, "1. x 2. y 3. z", None)
                .unwrap()
                .score,
            1.0
        );
        assert_eq!(
            score("cello:count_limit", &k, "1 2 3 4", None)
                .unwrap()
                .score,
            0.0
        );
        let k = kw(json!({"criteria": [{"criterion": "sample-table", "limit": 2}], "lang": "ch"}));
        assert_eq!(
            score("cello:count_limit", &k, "|a|\n|-|\n|1|\n|2|", None)
                .unwrap()
                .score,
            1.0
        );
        let k =
            kw(json!({"criteria": [{"criterion": "revise", "limit": "shorter"}], "lang": "ch"}));
        assert_eq!(
            score("cello:count_limit", &k, "短", Some("长一些"))
                .unwrap()
                .score,
            1.0
        );
        assert_eq!(
            score("cello:count_limit", &k, "更长一些的", Some("短"))
                .unwrap()
                .score,
            0.0
        );
        // Without a previous answer revise does not apply.
        assert!(score("cello:count_limit", &k, "x", None)
            .unwrap()
            .score
            .is_nan());
    }

    #[test]
    fn answer_format() {
        let k = kw(
            json!({"criteria": [{"criterion": "resolve", "limit": "json"},
                                       {"criterion": "keywords", "limit": ["name"]}], "lang": "ch"}),
        );
        assert_eq!(
            score("cello:answer_format", &k, "{'name': 1}", None)
                .unwrap()
                .score,
            1.0
        );
        assert_eq!(
            score("cello:answer_format", &k, "name: 1", None)
                .unwrap()
                .score,
            0.5
        );
        let k = kw(json!({"criteria": [{"criterion": "resolve", "limit": ["xml"]}], "lang": "ch"}));
        assert_eq!(
            score("cello:answer_format", &k, "<a/>", None)
                .unwrap()
                .score,
            0.0
        );
        let k = kw(json!({"criteria": [{"criterion": "resolve", "limit": "xml"}], "lang": "ch"}));
        assert_eq!(
            score("cello:answer_format", &k, "<a><b>x</b></a>", None)
                .unwrap()
                .score,
            1.0
        );
        assert!(score("cello:nope", &k, "x", None).is_err());
    }
}
