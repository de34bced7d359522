//! RAIF's own JSONL formats.
//!
//! RL format, one line per prompt: `{"input": …, "target": …, "task": "…"}` where `input` is a
//! prompt string (plain, or already ChatML-templated with `<|im_start|>` turns) or a list of
//! `{role, content}` turns, and `target` is a JSON object, or a string holding one, with
//! `instruction_id_list` + `kwargs` (rule-scored) and/or `scoring_questions` (judge-scored).
//! An optional `fast_score` `{satisfied, total}` is kept (ALGORITHM §4).
//!
//! Expert format: `{"question": …, "answer": "<think>…</think><answer>…</answer>"}`.

use std::path::Path;

use serde_json::Value;

use crate::catalog::{check_tree, IdCatalog};
use crate::error::{DataError, Loc, Result};
use crate::fields::{type_name, Obj};
use crate::jsonfile::read_jsonl;
use crate::loaders::ifeval::id_list_tree;
use crate::record::{parse_messages, source, Expert, FastScore, Message, Record, Role, Split};
use raif_verify::Constraint;

/// Splits a ChatML-templated prompt into its system and user turns (assistant turns kept too).
/// A trailing generation prompt (`<|im_start|>assistant` with no end) is dropped.
pub fn parse_chatml(text: &str) -> Option<Vec<Message>> {
    if !text.contains("<|im_start|>") {
        return None;
    }
    let mut out = Vec::new();
    for part in text.split("<|im_start|>").skip(1) {
        let (head, body) = part.split_once('\n').unwrap_or((part, ""));
        let Some(role) = Role::parse(head.trim()) else {
            continue;
        };
        let Some(end) = body.find("<|im_end|>") else {
            continue; // the open generation prompt
        };
        out.push(Message {
            role,
            content: body[..end].trim().to_string(),
        });
    }
    if out.iter().any(|m| m.role == Role::User) {
        Some(out)
    } else {
        None
    }
}

fn prompt_field(o: &Obj<'_>, name: &str) -> Result<Vec<Message>> {
    match o.req(name)? {
        Value::String(s) => {
            if s.trim().is_empty() {
                return Err(o.err(name, "empty prompt"));
            }
            Ok(parse_chatml(s).unwrap_or_else(|| vec![Message::user(s.clone())]))
        }
        v @ Value::Array(_) => parse_messages(o, name, v),
        other => Err(o.err(
            name,
            format!(
                "expected a string or a list of turns, found {}",
                type_name(other)
            ),
        )),
    }
}

/// Reads a RAIF RL file.
pub fn load_raif_rl_located(path: &Path, catalog: &dyn IdCatalog) -> Result<Vec<(Loc, Record)>> {
    let mut out = Vec::new();
    for (n, l) in read_jsonl(path)?.into_iter().enumerate() {
        let o = Obj::new(&l.loc, &l.value)?;
        let messages = prompt_field(&o, "input")?;
        let target_owned;
        let target_v = match o.req("target")? {
            Value::String(s) => {
                target_owned = serde_json::from_str::<Value>(s)
                    .map_err(|e| o.err("target", format!("not a JSON object in a string: {e}")))?;
                &target_owned
            }
            v => v,
        };
        let Value::Object(tmap) = target_v else {
            return Err(o.err(
                "target",
                format!("expected an object, found {}", type_name(target_v)),
            ));
        };
        let t = Obj {
            loc: o.loc,
            map: tmap,
            prefix: "target.".into(),
        };
        let mut children = Vec::new();
        if t.get("instruction_id_list").is_some() {
            let tree = id_list_tree(&t)?;
            check_tree(o.loc, "target", &tree, catalog).map_err(|e| match e {
                DataError::Field { loc, field, msg } => DataError::Field {
                    loc,
                    field: rename_tree_path(&field),
                    msg,
                },
                other => other,
            })?;
            if let Constraint::And { children: c } = tree {
                children.extend(c);
            }
        }
        if t.get("scoring_questions").is_some() {
            for (i, q) in t.str_list("scoring_questions")?.into_iter().enumerate() {
                if q.trim().is_empty() {
                    return Err(t.err(&format!("scoring_questions[{i}]"), "empty question"));
                }
                children.push(Constraint::Judge { question: q });
            }
        }
        if children.is_empty() {
            return Err(o.err(
                "target",
                "needs `instruction_id_list` (with `kwargs`) or `scoring_questions`",
            ));
        }
        let task = o.opt_str("task")?;
        let id = match o.get("id") {
            Some(_) => o.str_or_num("id")?,
            None => format!("raif-rl-{}", n + 1),
        };
        let mut r = Record::new(
            id,
            source::RAIF_RL,
            Split::Train,
            messages,
            Constraint::And { children },
        );
        if let Some(task) = task {
            r.meta
                .insert("task".into(), Value::String(task.to_string()));
        }
        if o.get("fast_score").is_some() {
            let f = o.object("fast_score")?;
            let satisfied = f.u64("satisfied")?;
            let total = f.u64("total")?;
            if satisfied > total {
                return Err(f.err("satisfied", format!("{satisfied} exceeds total {total}")));
            }
            r.fast_score = Some(FastScore {
                satisfied: satisfied.min(u64::from(u32::MAX)) as u32,
                total: total.min(u64::from(u32::MAX)) as u32,
            });
        }
        out.push((l.loc.clone(), r));
    }
    Ok(out)
}

/// [`load_raif_rl_located`] without the locations.
pub fn load_raif_rl(path: &Path, catalog: &dyn IdCatalog) -> Result<Vec<Record>> {
    Ok(load_raif_rl_located(path, catalog)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

/// `target.children[i].kwargs.x` → `target.kwargs[i].x`, `target.children[i].id` →
/// `target.instruction_id_list[i]`.
fn rename_tree_path(field: &str) -> String {
    let Some(rest) = field.strip_prefix("target.children[") else {
        return field.to_string();
    };
    let Some((idx, tail)) = rest.split_once(']') else {
        return field.to_string();
    };
    if tail == ".id" {
        format!("target.instruction_id_list[{idx}]")
    } else if let Some(k) = tail.strip_prefix(".kwargs.") {
        format!("target.kwargs[{idx}].{k}")
    } else {
        field.to_string()
    }
}

/// Reads a RAIF expert file: every answer must be in think format. The records have no
/// constraints (an empty And); they are demonstrations, matched to prompts by their text.
pub fn load_raif_expert_located(path: &Path) -> Result<Vec<(Loc, Record)>> {
    let mut out = Vec::new();
    for (n, l) in read_jsonl(path)?.into_iter().enumerate() {
        let o = Obj::new(&l.loc, &l.value)?;
        let messages = prompt_field(&o, "question")?;
        let answer = o.str("answer")?;
        let expert = Expert::parse_think(answer).map_err(|m| o.err("answer", m))?;
        let id = match o.get("id") {
            Some(_) => o.str_or_num("id")?,
            None => format!("raif-expert-{}", n + 1),
        };
        let mut r = Record::new(
            id,
            source::RAIF_EXPERT,
            Split::Train,
            messages,
            Constraint::And { children: vec![] },
        );
        r.expert = Some(expert);
        out.push((l.loc.clone(), r));
    }
    Ok(out)
}

/// [`load_raif_expert_located`] without the locations.
pub fn load_raif_expert(path: &Path) -> Result<Vec<Record>> {
    Ok(load_raif_expert_located(path)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}
