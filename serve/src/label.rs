//! Labels: a record's constraints as JSON, in any of the forms a training engine may carry them.
//!
//! Accepted forms (a JSON value, or a string holding one — OpenRLHF's `--label_key` column is
//! usually a string):
//! - a [`Constraint`] tree: `{"type":"and","children":[...]}`;
//! - IFEval / IFBench style: `{"instruction_id_list": [...], "kwargs": [{...}, ...]}`;
//! - a RAIF record (anything with a `constraints` field holding one of the above);
//! - a list of constraints (read as an And of them).
//!
//! Every rule leaf is built once here, so an unknown instruction id or a bad kwarg is a client
//! error (4xx) that names the leaf, before anything is scored. Judge leaves are refused: the
//! reward server runs rule verifiers only.

use raif_verify::{registry, Constraint};
use serde_json::{Map, Value};

/// Parse one label into a constraint tree and check that every rule leaf can be built.
pub fn parse_label(v: &Value) -> Result<Constraint, String> {
    let tree = to_tree(v, 0)?;
    validate(&tree)?;
    Ok(tree)
}

fn to_tree(v: &Value, depth: usize) -> Result<Constraint, String> {
    if depth > 2 {
        return Err("label nests strings or `constraints` fields too deeply".into());
    }
    match v {
        Value::Null => Err("label is null (the record's constraints are needed)".into()),
        Value::String(s) => {
            let inner: Value = serde_json::from_str(s)
                .map_err(|e| format!("label is a string but not JSON: {e}"))?;
            to_tree(&inner, depth + 1)
        }
        Value::Array(items) => {
            let children = items
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    serde_json::from_value::<Constraint>(c.clone())
                        .map_err(|e| format!("label[{i}]: not a constraint: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Constraint::And { children })
        }
        Value::Object(o) => {
            if o.contains_key("type") {
                serde_json::from_value::<Constraint>(v.clone())
                    .map_err(|e| format!("label is not a valid constraint tree: {e}"))
            } else if let Some(ids) = o.get("instruction_id_list") {
                id_list(ids, o.get("kwargs"))
            } else if let Some(c) = o.get("constraints") {
                to_tree(c, depth + 1)
            } else {
                Err(
                    "label has none of `type` (a constraint tree), `instruction_id_list` \
                     (IFEval style) or `constraints` (a RAIF record)"
                        .into(),
                )
            }
        }
        Value::Bool(_) | Value::Number(_) => {
            Err("label is a number or boolean, not the record's constraints".into())
        }
    }
}

fn id_list(ids: &Value, kwargs: Option<&Value>) -> Result<Constraint, String> {
    let ids = ids
        .as_array()
        .ok_or("`instruction_id_list` is not a list")?
        .iter()
        .enumerate()
        .map(|(i, id)| {
            id.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("`instruction_id_list[{i}]` is not a string"))
        })
        .collect::<Result<Vec<String>, String>>()?;
    let kwargs: Vec<Map<String, Value>> = match kwargs {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, k)| match k {
                Value::Null => Ok(Map::new()),
                Value::Object(m) => Ok(m.clone()),
                _ => Err(format!("`kwargs[{i}]` is not an object")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`kwargs` is not a list".into()),
    };
    if kwargs.len() > ids.len() {
        return Err(format!(
            "`kwargs` has {} entries for {} instruction ids",
            kwargs.len(),
            ids.len()
        ));
    }
    Ok(Constraint::from_id_list(&ids, &kwargs))
}

/// Every rule leaf builds (known id, valid kwargs); no judge leaves.
fn validate(tree: &Constraint) -> Result<(), String> {
    for (i, leaf) in tree.leaves().into_iter().enumerate() {
        match leaf {
            Constraint::Rule { id, kwargs } => {
                let _check = registry::build(id, kwargs).map_err(|e| format!("leaf {i}: {e}"))?;
            }
            Constraint::Judge { question } => {
                return Err(format!(
                    "leaf {i}: judge question {question:?}: the reward server runs rule \
                     verifiers only (no LLM judge)"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms() {
        let tree = json!({"type":"and","children":[{"type":"rule","id":"punctuation:no_comma","kwargs":{}}]});
        let a = parse_label(&tree).expect("tree");
        let b = parse_label(&Value::String(tree.to_string())).expect("string");
        assert_eq!(a, b);
        let c = parse_label(&json!({"instruction_id_list":["punctuation:no_comma"],"kwargs":[{}]}))
            .expect("ifeval");
        assert_eq!(a, c);
        let d = parse_label(&json!({"id":"x","constraints":tree})).expect("record");
        assert_eq!(a, d);
        let e = parse_label(&json!([{"type":"rule","id":"punctuation:no_comma"}])).expect("list");
        assert_eq!(a, e);
    }

    #[test]
    fn errors() {
        let e = parse_label(&json!({"instruction_id_list":["no:such_id"]})).unwrap_err();
        assert!(e.contains("unknown instruction id"), "{e}");
        let e = parse_label(&json!({"type":"judge","question":"ok?"})).unwrap_err();
        assert!(e.contains("judge"), "{e}");
        let e = parse_label(&json!("not json")).unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        let e = parse_label(&json!(3)).unwrap_err();
        assert!(e.contains("number"), "{e}");
        let e = parse_label(
            &json!({"instruction_id_list":["length_constraints:number_words"],"kwargs":[{}]}),
        )
        .unwrap_err();
        assert!(e.contains("missing"), "{e}");
    }
}
