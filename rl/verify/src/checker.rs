//! What every instruction checker shares: the verdict, kwargs parsing, and build errors.

use serde_json::{Map, Value};

/// One checker's answer for one response.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    pub pass: bool,
    /// A short human reason ("3 commas found, first at char 41").
    pub reason: String,
}

/// The result of one check: `Err` where the official code raises (the official evaluation
/// would crash; the oracle counts it as a fail, and so do we).
pub type CheckResult = Result<Verdict, String>;

/// A built checker: the instruction with its kwargs bound.
pub type CheckFn = Box<dyn Fn(&str) -> CheckResult + Send + Sync>;

/// Shorthand for a verdict.
pub fn verdict(pass: bool, reason: impl Into<String>) -> CheckResult {
    Ok(Verdict {
        pass,
        reason: reason.into(),
    })
}

/// Why a checker could not be built from its id and kwargs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    #[error("unknown instruction id {0:?}")]
    UnknownId(String),
    #[error("{id}: missing required kwarg `{name}`")]
    Missing { id: String, name: String },
    #[error("{id}: kwarg `{name}`: {msg}")]
    Invalid {
        id: String,
        name: String,
        msg: String,
    },
}

/// Comparison relation of the count instructions ("less than" / "at least", and RAIF's Chinese
/// forms 少于 / 至少).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    LessThan,
    AtLeast,
}

impl Relation {
    pub fn holds(self, actual: i64, threshold: i64) -> bool {
        match self {
            Relation::LessThan => actual < threshold,
            Relation::AtLeast => actual >= threshold,
        }
    }
    pub fn text(self) -> &'static str {
        match self {
            Relation::LessThan => "less than",
            Relation::AtLeast => "at least",
        }
    }
}

/// Kwargs of one instruction, as the benchmark JSON gives them (nulls dropped).
pub struct Kw<'a> {
    pub id: &'a str,
    map: Map<String, Value>,
}

impl<'a> Kw<'a> {
    pub fn new(id: &'a str, kwargs: &Map<String, Value>) -> Self {
        let map = kwargs
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Kw { id, map }
    }

    fn invalid(&self, name: &str, msg: impl Into<String>) -> BuildError {
        BuildError::Invalid {
            id: self.id.to_string(),
            name: name.to_string(),
            msg: msg.into(),
        }
    }

    fn missing(&self, name: &str) -> BuildError {
        BuildError::Missing {
            id: self.id.to_string(),
            name: name.to_string(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// An optional integer (a float with an integral value is accepted, as Python compares it the
    /// same way; a string is not: the official code would raise a TypeError).
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, BuildError> {
        match self.map.get(name) {
            None => Ok(None),
            Some(v) => {
                if let Some(i) = v.as_i64() {
                    Ok(Some(i))
                } else if let Some(f) = v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e15) {
                    Ok(Some(f as i64))
                } else {
                    Err(self.invalid(name, format!("expected an integer, got {v}")))
                }
            }
        }
    }

    /// A required integer.
    pub fn int(&self, name: &str) -> Result<i64, BuildError> {
        self.opt_int(name)?.ok_or_else(|| self.missing(name))
    }

    /// A required non-negative integer (the official code draws a random value for a negative one).
    pub fn count(&self, name: &str) -> Result<i64, BuildError> {
        let v = self.int(name)?;
        if v < 0 {
            return Err(self.invalid(name, format!("must be >= 0, got {v}")));
        }
        Ok(v)
    }

    /// A required number (integer or float), for percentages.
    pub fn number(&self, name: &str) -> Result<f64, BuildError> {
        match self.map.get(name) {
            None => Err(self.missing(name)),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| self.invalid(name, format!("expected a number, got {v}"))),
        }
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<String>, BuildError> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.invalid(name, format!("expected a string, got {v}"))),
        }
    }

    pub fn str(&self, name: &str) -> Result<String, BuildError> {
        self.opt_str(name)?.ok_or_else(|| self.missing(name))
    }

    /// A required non-empty string (the official code treats "" like a missing value).
    pub fn nonempty_str(&self, name: &str) -> Result<String, BuildError> {
        let s = self.str(name)?;
        if s.is_empty() {
            return Err(self.invalid(name, "must not be empty"));
        }
        Ok(s)
    }

    /// A required list of strings (a single string is accepted as a one-element list).
    pub fn str_list(&self, name: &str) -> Result<Vec<String>, BuildError> {
        match self.map.get(name) {
            None => Err(self.missing(name)),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| self.invalid(name, format!("expected strings, got {v}")))
                })
                .collect(),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(v) => Err(self.invalid(name, format!("expected a list of strings, got {v}"))),
        }
    }

    /// A required relation.
    pub fn relation(&self, name: &str) -> Result<Relation, BuildError> {
        let s = self.str(name)?;
        match s.as_str() {
            "less than" | "少于" => Ok(Relation::LessThan),
            "at least" | "至少" => Ok(Relation::AtLeast),
            _ => Err(self.invalid(
                name,
                format!("the relation must be one of \"less than\", \"at least\", 少于, 至少; got {s:?}"),
            )),
        }
    }
}

/// Shorten a text for a reason string.
pub fn snip(s: &str) -> String {
    let t: String = s.chars().take(40).collect();
    if t.len() < s.len() {
        format!("{t:?}…")
    } else {
        format!("{t:?}")
    }
}

/// Character (code point) index of a byte offset.
pub fn char_pos(s: &str, byte: usize) -> usize {
    s[..byte.min(s.len())].chars().count()
}
