//! Typed access to the fields of one JSON record, with errors that name file, line and field.

use serde_json::{Map, Value};

use crate::error::{DataError, Loc, Result};
use raif_verify::{Branch, Constraint};

/// Names a JSON type for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One record (a JSON object) and where it is.
pub struct Obj<'a> {
    pub loc: &'a Loc,
    pub map: &'a Map<String, Value>,
    /// Prefix for field names in errors (e.g. `raw.` for a nested object).
    pub prefix: String,
}

impl<'a> Obj<'a> {
    /// The record at `loc` must be a JSON object.
    pub fn new(loc: &'a Loc, v: &'a Value) -> Result<Self> {
        match v {
            Value::Object(map) => Ok(Obj {
                loc,
                map,
                prefix: String::new(),
            }),
            other => Err(DataError::Json {
                loc: loc.clone(),
                msg: format!("expected a JSON object, found {}", type_name(other)),
            }),
        }
    }

    pub fn path(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    pub fn err(&self, name: &str, msg: impl Into<String>) -> DataError {
        DataError::field(self.loc, self.path(name), msg)
    }

    /// The field, absent or null giving `None`.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    pub fn req(&self, name: &str) -> Result<&'a Value> {
        self.get(name).ok_or_else(|| self.err(name, "missing"))
    }

    pub fn str(&self, name: &str) -> Result<&'a str> {
        match self.req(name)? {
            Value::String(s) => Ok(s),
            other => Err(self.err(
                name,
                format!("expected a string, found {}", type_name(other)),
            )),
        }
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.err(
                name,
                format!("expected a string, found {}", type_name(other)),
            )),
        }
    }

    /// A string, or a number written as its decimal text (benchmark keys are either).
    pub fn str_or_num(&self, name: &str) -> Result<String> {
        match self.req(name)? {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(self.err(
                name,
                format!("expected a string or a number, found {}", type_name(other)),
            )),
        }
    }

    pub fn u64(&self, name: &str) -> Result<u64> {
        match self.req(name)? {
            Value::Number(n) => n.as_u64().ok_or_else(|| {
                self.err(name, format!("expected a non-negative integer, found {n}"))
            }),
            other => Err(self.err(
                name,
                format!("expected an integer, found {}", type_name(other)),
            )),
        }
    }

    pub fn array(&self, name: &str) -> Result<&'a Vec<Value>> {
        match self.req(name)? {
            Value::Array(a) => Ok(a),
            other => Err(self.err(
                name,
                format!("expected an array, found {}", type_name(other)),
            )),
        }
    }

    pub fn object(&self, name: &str) -> Result<Obj<'a>> {
        match self.req(name)? {
            Value::Object(map) => Ok(Obj {
                loc: self.loc,
                map,
                prefix: format!("{}.", self.path(name)),
            }),
            other => Err(self.err(
                name,
                format!("expected an object, found {}", type_name(other)),
            )),
        }
    }

    /// An array of strings.
    pub fn str_list(&self, name: &str) -> Result<Vec<String>> {
        self.array(name)?
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.err(
                    &format!("{name}[{i}]"),
                    format!("expected a string, found {}", type_name(other)),
                )),
            })
            .collect()
    }
}

/// Parses a constraint tree from JSON, naming the exact path of any problem
/// (e.g. `constraints.children[2].kwargs`).
pub fn parse_constraint(loc: &Loc, path: &str, v: &Value) -> Result<Constraint> {
    let map = match v {
        Value::Object(m) => m,
        other => {
            return Err(DataError::field(
                loc,
                path,
                format!("expected a constraint object, found {}", type_name(other)),
            ))
        }
    };
    let o = Obj {
        loc,
        map,
        prefix: format!("{path}."),
    };
    let ty = o.str("type")?;
    match ty {
        "rule" => {
            let id = o.str("id")?.to_string();
            let kwargs = match o.get("kwargs") {
                None => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(other) => {
                    return Err(o.err(
                        "kwargs",
                        format!("expected an object, found {}", type_name(other)),
                    ))
                }
            };
            Ok(Constraint::Rule { id, kwargs })
        }
        "judge" => {
            let question = o.str("question")?;
            if question.trim().is_empty() {
                return Err(o.err("question", "empty judge question"));
            }
            Ok(Constraint::Judge {
                question: question.to_string(),
            })
        }
        "and" => {
            let children = o
                .array("children")?
                .iter()
                .enumerate()
                .map(|(i, c)| parse_constraint(loc, &format!("{path}.children[{i}]"), c))
                .collect::<Result<Vec<_>>>()?;
            Ok(Constraint::And { children })
        }
        "chain" => {
            let separator = o.opt_str("separator")?.map(str::to_string);
            let steps = o
                .array("steps")?
                .iter()
                .enumerate()
                .map(|(i, c)| parse_constraint(loc, &format!("{path}.steps[{i}]"), c))
                .collect::<Result<Vec<_>>>()?;
            if steps.is_empty() {
                return Err(o.err("steps", "a chain needs at least one step"));
            }
            Ok(Constraint::Chain { separator, steps })
        }
        "selection" => {
            let mut branches = Vec::new();
            for (i, b) in o.array("branches")?.iter().enumerate() {
                let bp = format!("{path}.branches[{i}]");
                let bm = match b {
                    Value::Object(m) => m,
                    other => {
                        return Err(DataError::field(
                            loc,
                            bp,
                            format!("expected an object, found {}", type_name(other)),
                        ))
                    }
                };
                let bo = Obj {
                    loc,
                    map: bm,
                    prefix: format!("{bp}."),
                };
                let when = parse_constraint(loc, &format!("{bp}.when"), bo.req("when")?)?;
                let then = parse_constraint(loc, &format!("{bp}.then"), bo.req("then")?)?;
                branches.push(Branch { when, then });
            }
            if branches.is_empty() {
                return Err(o.err("branches", "a selection needs at least one branch"));
            }
            let otherwise = match o.get("otherwise") {
                None => None,
                Some(v) => Some(Box::new(parse_constraint(
                    loc,
                    &format!("{path}.otherwise"),
                    v,
                )?)),
            };
            Ok(Constraint::Selection {
                branches,
                otherwise,
            })
        }
        other => Err(o.err(
            "type",
            format!(
                "unknown constraint type `{other}` (expected rule, judge, and, chain or selection)"
            ),
        )),
    }
}
