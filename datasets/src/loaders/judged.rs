//! The judge-scored and CELLO benchmarks, as laid out in the RAIF evaluation bundle.

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::error::{DataError, Loc, Result};
use crate::fields::{type_name, Obj};
use crate::jsonfile::{read_json_array, read_jsonl, read_jsonl_python, read_records_any};
use crate::record::{parse_messages, source, Message, Record, Role, Split};
use raif_verify::Constraint;

fn judge(q: &str) -> Constraint {
    Constraint::Judge {
        question: q.trim().to_string(),
    }
}

// ---------------------------------------------------------------- CELLO

/// The CELLO criteria fields and the scorer id each one feeds.
const CELLO_FIELDS: [(&str, &str); 4] = [
    ("Answer_format", "cello:answer_format"),
    ("Input_depdent_query", "cello:input_dependent_query"),
    ("Task_prescribed_phrases", "cello:task_prescribed_phrases"),
    ("Count_limit", "cello:count_limit"),
];

/// CELLO (`cello_combined.jsonl`, 523 records, Chinese). Each of the four rule scorers with at
/// least one criterion becomes a rule leaf `cello:<scorer>` whose kwargs hold the criteria
/// (`[{criterion, limit}]`) and what the scorer needs besides the answer (`lang`, and
/// `input_text` for the input-dependent query); the conversation (with its history turns) is
/// the record's messages.
pub fn load_cello_located(path: &Path) -> Result<Vec<(Loc, Record)>> {
    let mut out = Vec::new();
    for l in read_jsonl_python(path)? {
        let o = Obj::new(&l.loc, &l.value)?;
        let id = o.str("Instruction_id")?;
        let lang = o.str("lang")?;
        let category = o.str("task_category")?;
        let messages = parse_messages(&o, "conversations", o.req("conversations")?)?;
        if messages.last().map(|m| m.role) != Some(Role::User) {
            return Err(o.err("conversations", "the last turn must be the user's"));
        }
        let input_text = o.opt_str("input_text")?.unwrap_or("");
        let mut children = Vec::new();
        for (field, scorer) in CELLO_FIELDS {
            let mut criteria = Vec::new();
            for (i, c) in o.array(field)?.iter().enumerate() {
                let Value::Object(m) = c else {
                    return Err(o.err(
                        &format!("{field}[{i}]"),
                        format!("expected an object, found {}", type_name(c)),
                    ));
                };
                let crit = match m.get("criterion") {
                    Some(Value::String(s)) => s.as_str(),
                    _ => {
                        return Err(o.err(
                            &format!("{field}[{i}].criterion"),
                            "missing or not a string",
                        ))
                    }
                };
                if !m.contains_key("limit") {
                    return Err(o.err(&format!("{field}[{i}].limit"), "missing"));
                }
                if crit != "NULL" {
                    criteria.push(c.clone());
                }
            }
            if criteria.is_empty() {
                continue;
            }
            let mut kwargs = Map::new();
            kwargs.insert("criteria".into(), Value::Array(criteria));
            kwargs.insert("lang".into(), Value::String(lang.to_string()));
            if scorer == "cello:input_dependent_query" {
                kwargs.insert("input_text".into(), Value::String(input_text.to_string()));
            }
            children.push(Constraint::rule(scorer, kwargs));
        }
        let mut r = Record::new(
            format!("cello-{id}"),
            source::CELLO,
            Split::Test,
            messages,
            Constraint::And { children },
        );
        r.meta.insert("task_category".into(), json!(category));
        r.meta.insert("lang".into(), json!(lang));
        if let Some(s) = o.opt_str("source")? {
            r.meta.insert("file".into(), json!(s));
        }
        out.push((l.loc.clone(), r));
    }
    Ok(out)
}

/// [`load_cello_located`] without the locations.
pub fn load_cello(path: &Path) -> Result<Vec<Record>> {
    Ok(load_cello_located(path)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

// ---------------------------------------------------------------- FollowBench

/// FollowBench's six constraint categories, in the order of its files.
pub const FOLLOWBENCH_CATEGORIES: [&str; 6] = [
    "content",
    "situation",
    "style",
    "format",
    "example",
    "mixed",
];

/// Which language of FollowBench.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
    /// The inference folder of the bundle: `data_infer` (820 records) or `data_infer_zh` (590).
    pub fn infer_dir(self) -> &'static str {
        match self {
            Lang::En => "data_infer",
            Lang::Zh => "data_infer_zh",
        }
    }
}

/// One FollowBench inference file (`data_infer*/<category>_constraint.jsonl`): `prompt_new`
/// plus `raw` {example_id, category, source, level, instruction, target}. Level L means the
/// base task with L added constraints. The record is judge-scored with one question that
/// names the level; `meta` keeps level, category, example id and the rule target (if any).
pub fn load_followbench_file_located(path: &Path, lang: Lang) -> Result<Vec<(Loc, Record)>> {
    let file_cat = path
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| s.trim_end_matches("_constraint").to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    for l in read_jsonl(path)? {
        let o = Obj::new(&l.loc, &l.value)?;
        let prompt = o.str("prompt_new")?;
        let raw = o.object("raw")?;
        let example_id = raw.u64("example_id")?;
        let level = raw.u64("level")?;
        if !(1..=5).contains(&level) {
            return Err(raw.err("level", format!("level {level} outside 1..=5")));
        }
        let category = raw.str("category")?;
        let q = format!(
            "Does the generated text follow the instruction completely, satisfying the base task \
             and every one of the {level} constraint{} added to it ({category})?",
            if level == 1 { "" } else { "s" }
        );
        let mut r = Record::new(
            format!(
                "followbench-{}-{file_cat}-{example_id}-L{level}",
                lang.tag()
            ),
            source::FOLLOWBENCH,
            Split::Test,
            vec![Message::user(prompt)],
            Constraint::And {
                children: vec![judge(&q)],
            },
        );
        r.meta.insert("lang".into(), json!(lang.tag()));
        r.meta.insert("level".into(), json!(level));
        r.meta.insert("category".into(), json!(category));
        r.meta.insert("file_category".into(), json!(file_cat));
        r.meta.insert("example_id".into(), json!(example_id));
        if let Some(src) = raw.opt_str("source")? {
            r.meta.insert("origin".into(), json!(src));
        }
        if let Some(t) = raw.opt_str("target")?.filter(|t| !t.is_empty()) {
            r.meta.insert("target".into(), json!(t));
        }
        out.push((l.loc.clone(), r));
    }
    Ok(out)
}

/// [`load_followbench_file_located`] without the locations.
pub fn load_followbench_file(path: &Path, lang: Lang) -> Result<Vec<Record>> {
    Ok(load_followbench_file_located(path, lang)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

/// The level-0 (base) instruction of every example, and the expected answer of each
/// (example, level) where FollowBench gives one (its rule-scored example category), from the
/// raw `data{,_zh}/<category>_constraints.json` file.
type BaseInfo = (
    std::collections::HashMap<u64, String>,
    std::collections::HashMap<(u64, u64), String>,
);

fn followbench_base(path: &Path) -> Result<BaseInfo> {
    let mut base = std::collections::HashMap::new();
    let mut answers = std::collections::HashMap::new();
    for l in read_json_array(path)? {
        let o = Obj::new(&l.loc, &l.value)?;
        let id = o.u64("example_id")?;
        let level = o.u64("level")?;
        if level == 0 {
            base.insert(id, o.str("instruction")?.to_string());
        }
        if let Some(a) = o.opt_str("answer")? {
            answers.insert((id, level), a.to_string());
        }
    }
    Ok((base, answers))
}

/// All FollowBench inference files of one language under the benchmark folder. When the raw
/// `data{,_zh}/` files are there too, `meta.base_instruction` (the level-0 task the
/// constraints were added to) and `meta.answer` (the rule-scored example category's expected
/// answer) are filled in.
pub fn load_followbench_located(dir: &Path, lang: Lang) -> Result<Vec<(Loc, Record)>> {
    let sub = dir.join(lang.infer_dir());
    let raw_dir = dir.join(match lang {
        Lang::En => "data",
        Lang::Zh => "data_zh",
    });
    let mut out = Vec::new();
    let mut found = 0;
    for cat in FOLLOWBENCH_CATEGORIES {
        let f = sub.join(format!("{cat}_constraint.jsonl"));
        if f.exists() {
            found += 1;
            let mut recs = load_followbench_file_located(&f, lang)?;
            let raw = raw_dir.join(format!("{cat}_constraints.json"));
            if raw.exists() {
                let (base, answers) = followbench_base(&raw)?;
                for (_, r) in recs.iter_mut() {
                    let id = r
                        .meta
                        .get("example_id")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    let level = r.meta.get("level").and_then(Value::as_u64).unwrap_or(0);
                    if let Some(b) = base.get(&id) {
                        r.meta.insert("base_instruction".into(), json!(b));
                    }
                    if let Some(a) = answers.get(&(id, level)) {
                        r.meta.insert("answer".into(), json!(a));
                    }
                }
            }
            out.extend(recs);
        }
    }
    if found == 0 {
        return Err(DataError::File {
            file: sub,
            msg: "no <category>_constraint.jsonl files".into(),
        });
    }
    Ok(out)
}

/// [`load_followbench_located`] without the locations.
pub fn load_followbench(dir: &Path, lang: Lang) -> Result<Vec<Record>> {
    Ok(load_followbench_located(dir, lang)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

// ---------------------------------------------------------------- InfoBench

/// InfoBench (`InfoBench.jsonl`, or `InfoBench.json`, which is JSON Lines too): one judge
/// question per decomposed question. The prompt is `prompt` when present, else the
/// instruction followed by the input.
pub fn load_infobench_located(path: &Path) -> Result<Vec<(Loc, Record)>> {
    let mut out = Vec::new();
    for l in read_records_any(path)? {
        let o = Obj::new(&l.loc, &l.value)?;
        let id = o.str("id")?;
        let prompt = match o.opt_str("prompt")? {
            Some(p) => p.to_string(),
            None => {
                let ins = o.str("instruction")?;
                let input = o.opt_str("input")?.unwrap_or("");
                if input.trim().is_empty() {
                    ins.to_string()
                } else {
                    format!("{ins}\n\n{input}")
                }
            }
        };
        let qs = o.str_list("decomposed_questions")?;
        if qs.is_empty() {
            return Err(o.err("decomposed_questions", "no questions"));
        }
        let mut r = Record::new(
            format!("infobench-{id}"),
            source::INFOBENCH,
            Split::Test,
            vec![Message::user(prompt)],
            Constraint::And {
                children: qs.iter().map(|q| judge(q)).collect(),
            },
        );
        for k in ["subset", "category"] {
            if let Some(v) = o.opt_str(k)? {
                r.meta.insert(k.into(), json!(v));
            }
        }
        if let Some(v) = o.get("question_label") {
            r.meta.insert("question_label".into(), v.clone());
        }
        out.push((l.loc.clone(), r));
    }
    Ok(out)
}

/// [`load_infobench_located`] without the locations.
pub fn load_infobench(path: &Path) -> Result<Vec<Record>> {
    Ok(load_infobench_located(path)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

// ---------------------------------------------------------------- CFBench

/// CFBench (`cfbench_data_infer.jsonl` or `cfbench_data.json`): each criterion
/// `[question, priority, type, subtype]` becomes a judge question; `meta.priorities` lists
/// `primary` (主需) or `secondary` (次需) per question, in leaf order, and `meta.types` the
/// constraint types.
pub fn load_cfbench_located(path: &Path) -> Result<Vec<(Loc, Record)>> {
    let mut out = Vec::new();
    for l in read_records_any(path)? {
        let o = Obj::new(&l.loc, &l.value)?;
        let idx = o.str_or_num("idx")?;
        let prompt = o.str("prompt")?;
        let mut children = Vec::new();
        let mut priorities = Vec::new();
        let mut types = Vec::new();
        for (i, c) in o.array("criteria")?.iter().enumerate() {
            let field = format!("criteria[{i}]");
            let Some(items) = c.as_array() else {
                return Err(o.err(&field, format!("expected an array, found {}", type_name(c))));
            };
            let s = |k: usize| items.get(k).and_then(Value::as_str);
            let (Some(q), Some(p)) = (s(0), s(1)) else {
                return Err(o.err(
                    &field,
                    "expected [question, priority, type, subtype] strings",
                ));
            };
            let pr = match p {
                "主需" => "primary",
                "次需" => "secondary",
                other => {
                    return Err(o.err(
                        &format!("{field}[1]"),
                        format!("unknown priority `{other}` (主需 or 次需)"),
                    ))
                }
            };
            children.push(judge(q));
            priorities.push(json!(pr));
            types.push(json!([s(2).unwrap_or(""), s(3).unwrap_or("")]));
        }
        if children.is_empty() {
            return Err(o.err("criteria", "no criteria"));
        }
        let mut r = Record::new(
            format!("cfbench-{idx}"),
            source::CFBENCH,
            Split::Test,
            vec![Message::user(prompt)],
            Constraint::And { children },
        );
        r.meta.insert("priorities".into(), Value::Array(priorities));
        r.meta.insert("types".into(), Value::Array(types));
        for (k, name) in [
            ("split", "difficulty"),
            ("doamin", "domain"),
            ("scenario", "scenario"),
        ] {
            if let Some(v) = o.opt_str(k)? {
                r.meta.insert(name.into(), json!(v));
            }
        }
        out.push((l.loc.clone(), r));
    }
    Ok(out)
}

/// [`load_cfbench_located`] without the locations.
pub fn load_cfbench(path: &Path) -> Result<Vec<Record>> {
    Ok(load_cfbench_located(path)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

// ---------------------------------------------------------------- FB-Bench

/// FB-Bench (`fb_bench_dataset.json`, a JSON array of 734): the conversation is the user query,
/// the model's first response and the user's feedback; the checklist becomes judge questions
/// with `meta.weights` in leaf order. Items are `[question, weight]`, or a bare question (the
/// "Response Maintenance" items), whose weight is null (equal weights).
pub fn load_fbbench_located(path: &Path) -> Result<Vec<(Loc, Record)>> {
    let mut out = Vec::new();
    for (n, l) in read_json_array(path)?.into_iter().enumerate() {
        let o = Obj::new(&l.loc, &l.value)?;
        let messages = vec![
            Message::user(o.str("user_query")?),
            Message::assistant(o.str("origin_first_response")?),
            Message::user(o.str("feedback")?),
        ];
        let mut children = Vec::new();
        let mut weights = Vec::new();
        for (i, c) in o.array("checklist")?.iter().enumerate() {
            let field = format!("checklist[{i}]");
            let items = c.as_array().map(Vec::as_slice).unwrap_or(&[]);
            match (c, items) {
                (_, [Value::String(q), Value::Number(w)]) => {
                    children.push(judge(q));
                    weights.push(Value::Number(w.clone()));
                }
                (Value::String(q), _) => {
                    children.push(judge(q));
                    weights.push(Value::Null);
                }
                _ => return Err(o.err(&field, "expected [question, weight] or a question")),
            }
        }
        if children.is_empty() {
            return Err(o.err("checklist", "empty checklist"));
        }
        let mut r = Record::new(
            format!("fb-bench-{}", n + 1),
            source::FBBENCH,
            Split::Test,
            messages,
            Constraint::And { children },
        );
        r.meta.insert("weights".into(), Value::Array(weights));
        for k in [
            "bench_type",
            "task_type",
            "sub_task_type",
            "reference_second_response",
        ] {
            if let Some(v) = o.opt_str(k)? {
                r.meta.insert(k.into(), json!(v));
            }
        }
        for k in ["error_type", "feedback_type"] {
            if let Some(v) = o.get(k) {
                r.meta.insert(k.into(), v.clone());
            }
        }
        out.push((l.loc.clone(), r));
    }
    Ok(out)
}

/// [`load_fbbench_located`] without the locations.
pub fn load_fbbench(path: &Path) -> Result<Vec<Record>> {
    Ok(load_fbbench_located(path)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}
