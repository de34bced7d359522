//! The constraint tree of a record: rule leaves, judge questions and the RAIF composition
//! nodes (And / Chain / Selection). This crate owns the type because it is what the verifiers
//! evaluate; `raif-datasets` stores it inside its records.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One node of a constraint tree.
///
/// JSON form (tagged by `type`):
/// - `{"type":"rule","id":"keywords:existence","kwargs":{"keywords":["a"]}}`
/// - `{"type":"judge","question":"Is the answer written for children?"}`
/// - `{"type":"and","children":[...]}`
/// - `{"type":"chain","separator":"***","steps":[...]}`
/// - `{"type":"selection","branches":[{"when":{...},"then":{...}}],"otherwise":{...}}`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Constraint {
    /// A rule verifier, by its official instruction id, with its kwargs as the benchmarks
    /// write them (null kwargs are ignored, like the official evaluation).
    Rule {
        id: String,
        #[serde(default)]
        kwargs: Map<String, Value>,
    },
    /// A yes/no question for the LLM judge (ALGORITHM §2).
    Judge { question: String },
    /// Every child must hold.
    And { children: Vec<Constraint> },
    /// Sequential steps. With a separator, the answer is split on it and step k is checked on
    /// part k (a missing part fails that step); without one, every step sees the whole answer.
    Chain {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        separator: Option<String>,
        steps: Vec<Constraint>,
    },
    /// Branches guarded by a condition checked on the *prompt* (the input the instruction is
    /// about): the first branch whose `when` holds is the one whose `then` is checked on the
    /// answer; if none holds, `otherwise` (if any) is checked. Only the chosen branch counts.
    Selection {
        branches: Vec<Branch>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        otherwise: Option<Box<Constraint>>,
    },
}

/// One guarded branch of a [`Constraint::Selection`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// Checked on the prompt text, not on the answer.
    pub when: Constraint,
    pub then: Constraint,
}

impl Constraint {
    /// A rule leaf from an id and kwargs.
    pub fn rule(id: impl Into<String>, kwargs: Map<String, Value>) -> Self {
        Constraint::Rule {
            id: id.into(),
            kwargs,
        }
    }

    /// An And of IFEval-style parallel lists (`instruction_id_list`, `kwargs`).
    pub fn from_id_list(ids: &[String], kwargs: &[Map<String, Value>]) -> Self {
        Constraint::And {
            children: ids
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    Constraint::rule(id.clone(), kwargs.get(i).cloned().unwrap_or_default())
                })
                .collect(),
        }
    }

    /// Nesting depth: a leaf is 0, a composition node is 1 + its deepest child.
    pub fn depth(&self) -> usize {
        match self {
            Constraint::Rule { .. } | Constraint::Judge { .. } => 0,
            Constraint::And { children } => 1 + children.iter().map(Self::depth).max().unwrap_or(0),
            Constraint::Chain { steps, .. } => 1 + steps.iter().map(Self::depth).max().unwrap_or(0),
            Constraint::Selection {
                branches,
                otherwise,
            } => {
                let b = branches
                    .iter()
                    .map(|b| b.when.depth().max(b.then.depth()))
                    .max()
                    .unwrap_or(0);
                1 + b.max(otherwise.as_ref().map(|o| o.depth()).unwrap_or(0))
            }
        }
    }

    /// Every leaf (rule or judge) in document order, with the selection guards included.
    pub fn leaves(&self) -> Vec<&Constraint> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'a>(&'a self, out: &mut Vec<&'a Constraint>) {
        match self {
            Constraint::Rule { .. } | Constraint::Judge { .. } => out.push(self),
            Constraint::And { children } => children.iter().for_each(|c| c.collect_leaves(out)),
            Constraint::Chain { steps, .. } => steps.iter().for_each(|c| c.collect_leaves(out)),
            Constraint::Selection {
                branches,
                otherwise,
            } => {
                for b in branches {
                    b.when.collect_leaves(out);
                    b.then.collect_leaves(out);
                }
                if let Some(o) = otherwise {
                    o.collect_leaves(out);
                }
            }
        }
    }
}
