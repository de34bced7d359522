//! `raif data stats`: what a record file holds (every number measured from the records).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::record::Record;
use raif_verify::Constraint;

/// Min, median, mean and max of a list of counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub min: usize,
    pub median: usize,
    pub mean: f64,
    pub max: usize,
}

impl Summary {
    pub fn of(values: &[usize]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        let mut v = values.to_vec();
        v.sort_unstable();
        Summary {
            min: v[0],
            median: v[v.len() / 2],
            mean: v.iter().sum::<usize>() as f64 / v.len() as f64,
            max: v[v.len() - 1],
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "min {} · median {} · mean {:.1} · max {}",
            self.min, self.median, self.mean, self.max
        )
    }
}

/// What [`compute`] measures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub records: usize,
    pub by_source: BTreeMap<String, usize>,
    pub by_split: BTreeMap<String, usize>,
    /// Leaf kinds: each rule id, and `judge`.
    pub leaf_types: BTreeMap<String, usize>,
    /// Composition nodes: `and`, `chain`, `selection`.
    pub node_types: BTreeMap<String, usize>,
    /// Records per tree depth (a lone leaf is 0, an And of leaves 1).
    pub depth: BTreeMap<usize, usize>,
    pub leaves_per_record: Summary,
    pub prompt_chars: Summary,
    pub prompt_words: Summary,
    pub turns: Summary,
    pub with_expert: usize,
    pub with_fast_score: usize,
    pub expert_answer_chars: Summary,
}

fn count_nodes(
    c: &Constraint,
    leaves: &mut BTreeMap<String, usize>,
    nodes: &mut BTreeMap<String, usize>,
) {
    let bump = |m: &mut BTreeMap<String, usize>, k: &str| *m.entry(k.to_string()).or_default() += 1;
    match c {
        Constraint::Rule { id, .. } => bump(leaves, id),
        Constraint::Judge { .. } => bump(leaves, "judge"),
        Constraint::And { children } => {
            bump(nodes, "and");
            children.iter().for_each(|k| count_nodes(k, leaves, nodes));
        }
        Constraint::Chain { steps, .. } => {
            bump(nodes, "chain");
            steps.iter().for_each(|k| count_nodes(k, leaves, nodes));
        }
        Constraint::Selection {
            branches,
            otherwise,
        } => {
            bump(nodes, "selection");
            for b in branches {
                count_nodes(&b.when, leaves, nodes);
                count_nodes(&b.then, leaves, nodes);
            }
            if let Some(o) = otherwise {
                count_nodes(o, leaves, nodes);
            }
        }
    }
}

/// Measures a set of records.
pub fn compute(records: &[Record]) -> Stats {
    let mut s = Stats {
        records: records.len(),
        ..Stats::default()
    };
    let (mut leaves, mut chars, mut words, mut turns, mut expert_chars) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in records {
        *s.by_source.entry(r.source.clone()).or_default() += 1;
        *s.by_split.entry(r.split.to_string()).or_default() += 1;
        count_nodes(&r.constraints, &mut s.leaf_types, &mut s.node_types);
        *s.depth.entry(r.constraints.depth()).or_default() += 1;
        leaves.push(r.constraints.leaves().len());
        let p = r.prompt();
        chars.push(p.chars().count());
        words.push(p.split_whitespace().count());
        turns.push(r.messages.len());
        if let Some(e) = &r.expert {
            s.with_expert += 1;
            expert_chars.push(e.answer.chars().count());
        }
        if r.fast_score.is_some() {
            s.with_fast_score += 1;
        }
    }
    s.leaves_per_record = Summary::of(&leaves);
    s.prompt_chars = Summary::of(&chars);
    s.prompt_words = Summary::of(&words);
    s.turns = Summary::of(&turns);
    s.expert_answer_chars = Summary::of(&expert_chars);
    s
}

impl Stats {
    /// Distinct rule ids used (judge questions not counted).
    pub fn distinct_rule_ids(&self) -> usize {
        self.leaf_types
            .keys()
            .filter(|k| k.as_str() != "judge")
            .count()
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "records           {}", self.records)?;
        let join = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(f, "sources           {}", join(&self.by_source))?;
        writeln!(f, "splits            {}", join(&self.by_split))?;
        writeln!(f, "prompt chars      {}", self.prompt_chars)?;
        writeln!(f, "prompt words      {}", self.prompt_words)?;
        writeln!(f, "turns             {}", self.turns)?;
        writeln!(f, "leaves/record     {}", self.leaves_per_record)?;
        writeln!(
            f,
            "depth             {}",
            self.depth
                .iter()
                .map(|(d, n)| format!("{d}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        writeln!(f, "composition       {}", join(&self.node_types))?;
        writeln!(
            f,
            "with expert       {} (answer chars {})",
            self.with_expert, self.expert_answer_chars
        )?;
        writeln!(f, "with fast score   {}", self.with_fast_score)?;
        writeln!(
            f,
            "constraint types  {} distinct rule ids{}",
            self.distinct_rule_ids(),
            if self.leaf_types.contains_key("judge") {
                " + judge"
            } else {
                ""
            }
        )?;
        let mut types: Vec<_> = self.leaf_types.iter().collect();
        types.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let total: usize = types.iter().map(|(_, n)| **n).sum();
        let width = types.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let top = types.first().map(|(_, n)| **n).unwrap_or(1).max(1);
        for (k, n) in types {
            let bar = "█".repeat((n * 30).div_ceil(top));
            writeln!(
                f,
                "  {k:<width$}  {n:>6}  {:>5.1}%  {bar}",
                100.0 * *n as f64 / total.max(1) as f64
            )?;
        }
        Ok(())
    }
}
