//! `detectable_format:*`: bullet lists, constrained response, highlights, sections, JSON,
//! title, and RAIF's XML.
use crate::checker::{verdict, BuildError, CheckFn, Kw};
use crate::py::{self, PyRegex};
use crate::scan;

fn strip_fences<'a>(v: &'a str, langs: &[&str]) -> &'a str {
    let mut s = py::strip(v);
    for l in langs {
        s = s.strip_prefix(l).unwrap_or(s);
    }
    // the chain of removeprefix calls: each applies to the result of the previous one
    s = s.strip_prefix("```").unwrap_or(s);
    s = s.strip_suffix("```").unwrap_or(s);
    py::strip(s)
}

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "detectable_format:number_bullet_lists" => {
            let n = kw.count("num_bullets")?;
            Ok(Box::new(move |value| {
                // re.findall(r"^\s*\*[^\*].*$", value, re.MULTILINE) and r"^\s*-.*$"
                let a = scan::star_bullets(value);
                let b = scan::dash_bullets(value);
                let c = (a + b) as i64;
                verdict(
                    c == n,
                    format!("{c} bullet points ({a} with *, {b} with -; needs exactly {n})"),
                )
            }))
        }
        "detectable_format:constrained_response" => Ok(Box::new(|value| {
            let v = py::strip(value);
            for o in [
                "My answer is yes.",
                "My answer is no.",
                "My answer is maybe.",
            ] {
                if v.contains(o) {
                    return verdict(true, format!("contains {o:?}"));
                }
            }
            verdict(false, "contains none of the allowed answers")
        })),
        "detectable_format:number_highlighted_sections" => {
            let n = kw.count("num_highlights")?;
            Ok(Box::new(move |value| {
                let mut c = 0i64;
                // re.findall(r"\*[^\n\*]*\*", value)
                for (a, b) in scan::starred(value) {
                    if !py::strip(value[a..b].trim_matches('*')).is_empty() {
                        c += 1;
                    }
                }
                // re.findall(r"\*\*[^\n\*]*\*\*", value)
                for (a, b) in scan::double_starred(value) {
                    let h = &value[a..b];
                    let h = h.strip_prefix("**").unwrap_or(h);
                    let h = h.strip_suffix("**").unwrap_or(h);
                    if !py::strip(h).is_empty() {
                        c += 1;
                    }
                }
                verdict(
                    c >= n,
                    format!("{c} highlighted sections (needs at least {n})"),
                )
            }))
        }
        "detectable_format:multiple_sections" => {
            let sp = py::strip(&kw.str("section_spliter")?).to_string();
            let n = kw.count("num_sections")?;
            // re.split(r"\s?" + sp + r"\s?\d+\s?", value): by hand for a plain spliter
            let re = if scan::is_plain_literal(&sp) {
                None
            } else {
                Some(
                    PyRegex::new(&format!(r"\s?{sp}\s?\d+\s?"), false, false)
                        .map_err(|e| e.to_string()),
                )
            };
            Ok(Box::new(move |value| {
                let c = match &re {
                    None => scan::sections(value, &sp) as i64,
                    Some(re) => {
                        let re = re.as_ref().map_err(Clone::clone)?;
                        re.split_count(value).map_err(|e| e.to_string())? as i64 - 1
                    }
                };
                verdict(
                    c >= n,
                    format!("{c} sections marked {sp:?} N (needs at least {n})"),
                )
            }))
        }
        "detectable_format:json_format" => Ok(Box::new(|value| {
            let s = strip_fences(value, &["```json", "```Json", "```JSON"]);
            match crate::pyjson::validate(s) {
                Ok(()) => verdict(true, "valid JSON"),
                Err((m, at)) => verdict(false, format!("not valid JSON: {m} at char {at}")),
            }
        })),
        "detectable_format:title" => Ok(Box::new(|value| {
            // re.findall(r"<<[^\n]+>>", value)
            for (a, b) in scan::titles(value) {
                let t = value[a..b].trim_start_matches('<').trim_end_matches('>');
                if !py::strip(t).is_empty() {
                    return verdict(
                        true,
                        format!("title {}", crate::checker::snip(&value[a..b])),
                    );
                }
            }
            verdict(false, "no <<title>>")
        })),
        "detectable_format:xml_format" => Ok(Box::new(|value| {
            let s = strip_fences(value, &["```xml", "```Xml", "```XML"]);
            match crate::xml::validate(s) {
                Ok(root) => verdict(true, format!("well-formed XML, root <{root}>")),
                Err(m) => verdict(false, format!("not well-formed XML: {m}")),
            }
        })),
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}
