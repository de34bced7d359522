//! IFEval and IFBench JSONL: `{"key", "prompt", "instruction_id_list", "kwargs"}`.

use std::path::Path;

use serde_json::{Map, Value};

use crate::catalog::{check_tree, drop_nulls, IdCatalog};
use crate::error::{Loc, Result};
use crate::fields::{type_name, Obj};
use crate::jsonfile::read_jsonl;
use crate::record::{source, Message, Record, Split};
use raif_verify::Constraint;

/// Reads the parallel `instruction_id_list` / `kwargs` lists of one record into an And of rule
/// leaves (null kwargs dropped). Shared with the RAIF RL loader.
pub(crate) fn id_list_tree(o: &Obj<'_>) -> Result<Constraint> {
    let ids = o.str_list("instruction_id_list")?;
    let kwargs_v = match o.get("kwargs") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => {
            return Err(o.err(
                "kwargs",
                format!("expected an array of objects, found {}", type_name(other)),
            ))
        }
    };
    if !kwargs_v.is_empty() && kwargs_v.len() != ids.len() {
        return Err(o.err(
            "kwargs",
            format!(
                "{} kwargs for {} instruction ids (the lists are parallel)",
                kwargs_v.len(),
                ids.len()
            ),
        ));
    }
    let mut kwargs: Vec<Map<String, Value>> = Vec::with_capacity(ids.len());
    for (i, k) in kwargs_v.iter().enumerate() {
        match k {
            Value::Object(m) => kwargs.push(drop_nulls(m)),
            Value::Null => kwargs.push(Map::new()),
            other => {
                return Err(o.err(
                    &format!("kwargs[{i}]"),
                    format!("expected an object, found {}", type_name(other)),
                ))
            }
        }
    }
    Ok(Constraint::from_id_list(&ids, &kwargs))
}

/// Rewrites tree paths (`constraints.children[i].kwargs.x`) to the benchmark's own field names
/// (`kwargs[i].x`) so errors point at what the user sees in the file.
fn check_id_list(o: &Obj<'_>, tree: &Constraint, catalog: &dyn IdCatalog) -> Result<()> {
    let Constraint::And { children } = tree else {
        return check_tree(o.loc, "constraints", tree, catalog);
    };
    for (i, c) in children.iter().enumerate() {
        if let Constraint::Rule { id, .. } = c {
            if !catalog.contains(id) {
                return Err(o.err(
                    &format!("instruction_id_list[{i}]"),
                    format!("unknown instruction id `{id}`"),
                ));
            }
        }
        check_tree(o.loc, &format!("kwargs[{i}]"), c, catalog).map_err(|e| match e {
            crate::error::DataError::Field { loc, field, msg } => crate::error::DataError::Field {
                loc,
                field: field.replacen(&format!("kwargs[{i}].kwargs."), &format!("kwargs[{i}]."), 1),
                msg,
            },
            other => other,
        })?;
    }
    Ok(())
}

fn load(path: &Path, src: &str, catalog: &dyn IdCatalog) -> Result<Vec<(Loc, Record)>> {
    let mut out = Vec::new();
    for l in read_jsonl(path)? {
        let o = Obj::new(&l.loc, &l.value)?;
        let key = o.str_or_num("key")?;
        let prompt = o.str("prompt")?;
        let tree = id_list_tree(&o)?;
        check_id_list(&o, &tree, catalog)?;
        let mut r = Record::new(
            format!("{src}-{key}"),
            src,
            Split::Test,
            vec![Message::user(prompt)],
            tree,
        );
        r.meta.insert("key".into(), l.value["key"].clone());
        out.push((l.loc.clone(), r));
    }
    Ok(out)
}

/// IFEval's `input_data.jsonl` (541 prompts), each record with its line.
pub fn load_ifeval_located(path: &Path, catalog: &dyn IdCatalog) -> Result<Vec<(Loc, Record)>> {
    load(path, source::IFEVAL, catalog)
}

/// IFEval's `input_data.jsonl` (541 prompts).
pub fn load_ifeval(path: &Path, catalog: &dyn IdCatalog) -> Result<Vec<Record>> {
    Ok(load_ifeval_located(path, catalog)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

/// IFBench's `IFBench_test.jsonl` (294 prompts), each record with its line.
pub fn load_ifbench_located(path: &Path, catalog: &dyn IdCatalog) -> Result<Vec<(Loc, Record)>> {
    load(path, source::IFBENCH, catalog)
}

/// IFBench's `IFBench_test.jsonl` (294 prompts).
pub fn load_ifbench(path: &Path, catalog: &dyn IdCatalog) -> Result<Vec<Record>> {
    Ok(load_ifbench_located(path, catalog)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}
