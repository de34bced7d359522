//! Answers highlighted with syntect when they are JSON, code or markdown (pure-Rust regexes,
//! the bundled syntaxes and themes), memoised so that a redraw costs a lookup.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;

/// Bigger answers are shown plain (highlighting them would stall a frame).
const MAX_HIGHLIGHT_BYTES: usize = 32 * 1024;
const CACHE_ENTRIES: usize = 64;

fn assets() -> &'static (SyntaxSet, Theme) {
    static A: OnceLock<(SyntaxSet, Theme)> = OnceLock::new();
    A.get_or_init(|| {
        let ss = SyntaxSet::load_defaults_newlines();
        let ts = ThemeSet::load_defaults();
        let theme = ts
            .themes
            .get("base16-eighties.dark")
            .or_else(|| ts.themes.values().next())
            .cloned()
            .unwrap_or_default();
        (ss, theme)
    })
}

/// What an answer looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    Json,
    Markdown,
    Python,
    Rust,
    Plain,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Json => "json",
            Lang::Markdown => "markdown",
            Lang::Python => "python",
            Lang::Rust => "rust",
            Lang::Plain => "text",
        }
    }
    fn extension(self) -> &'static str {
        match self {
            Lang::Json => "json",
            Lang::Markdown => "md",
            Lang::Python => "py",
            Lang::Rust => "rs",
            Lang::Plain => "txt",
        }
    }
}

/// A cheap guess from the text itself.
pub fn detect(text: &str) -> Lang {
    let t = text.trim();
    let bracketed =
        (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'));
    if bracketed && serde_json::from_str::<serde_json::Value>(t).is_ok() {
        return Lang::Json;
    }
    let first = t.lines().next().unwrap_or("");
    if first.starts_with("def ")
        || first.starts_with("import ")
        || first.starts_with("from ")
        || first.starts_with("class ")
    {
        return Lang::Python;
    }
    if first.starts_with("fn ") || first.starts_with("use ") || first.starts_with("pub ") {
        return Lang::Rust;
    }
    let md = t.contains("```")
        || t.lines().any(|l| {
            l.starts_with("# ")
                || l.starts_with("## ")
                || l.starts_with("- ")
                || l.starts_with("* ")
                || l.starts_with("| ")
                || l.starts_with("1. ")
        });
    if md {
        Lang::Markdown
    } else {
        Lang::Plain
    }
}

fn colour(c: syntect::highlighting::Color) -> Color {
    Color::Rgb(c.r, c.g, c.b)
}

fn highlight_uncached(text: &str, lang: Lang) -> Vec<Line<'static>> {
    let (ss, theme) = assets();
    let Some(syntax) = ss.find_syntax_by_extension(lang.extension()) else {
        return plain(text);
    };
    let mut h = HighlightLines::new(syntax, theme);
    let mut out = Vec::new();
    for line in syntect::util::LinesWithEndings::from(text) {
        let Ok(regions) = h.highlight_line(line, ss) else {
            return plain(text);
        };
        let spans: Vec<Span<'static>> = regions
            .into_iter()
            .map(|(st, s)| {
                let mut style = Style::default().fg(colour(st.foreground));
                if st.font_style.contains(FontStyle::BOLD) {
                    style = style.add_modifier(Modifier::BOLD);
                }
                if st.font_style.contains(FontStyle::ITALIC) {
                    style = style.add_modifier(Modifier::ITALIC);
                }
                Span::styled(s.trim_end_matches(['\n', '\r']).to_string(), style)
            })
            .collect();
        out.push(Line::from(spans));
    }
    out
}

/// Lines of plain text.
pub fn plain(text: &str) -> Vec<Line<'static>> {
    text.lines().map(|l| Line::raw(l.to_string())).collect()
}

thread_local! {
    static CACHE: RefCell<HashMap<u64, Vec<Line<'static>>>> = RefCell::new(HashMap::new());
}

/// The answer as styled lines (plain text when it is neither JSON, code nor markdown).
pub fn highlight(text: &str) -> (Lang, Vec<Line<'static>>) {
    let lang = detect(text);
    if lang == Lang::Plain || text.len() > MAX_HIGHLIGHT_BYTES {
        return (lang, plain(text));
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    lang.hash(&mut hasher);
    let key = hasher.finish();
    if let Some(v) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return (lang, v);
    }
    let lines = highlight_uncached(text, lang);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(key, lines.clone());
    });
    (lang, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_and_colours_json() {
        assert_eq!(detect("{\"a\": [1, 2]}"), Lang::Json);
        assert_eq!(detect("# Title\n\n- one\n- two"), Lang::Markdown);
        assert_eq!(detect("def f():\n    return 1"), Lang::Python);
        assert_eq!(detect("just words"), Lang::Plain);
        let (lang, lines) = highlight("{\"a\": 1}");
        assert_eq!(lang, Lang::Json);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].spans.len() > 1, "{:?}", lines[0]);
        let text: String = lines[0].spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "{\"a\": 1}");
    }
}
