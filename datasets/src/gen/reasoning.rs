//! The expert's reasoning: the standard trace (names, decomposes and plans every constraint)
//! and the short profile's one plan line per constraint.

use super::family::{Fam, Leaf};
use super::seeds::Seed;
use super::tree::{leaf_ids, when_text, Node};

/// The structure lines: chains, and for a selection which branch applies and why.
fn describe(n: &Node, arena: &[Leaf], out: &mut Vec<String>) {
    match n {
        Node::Chain { sep, steps } => {
            out.push(format!(
                "Structure: a chain of {} parts separated by a line with only {sep}; each part is checked on its own text, so every part must meet its own constraints.",
                steps.len()
            ));
            for st in steps {
                describe(st, arena, out);
            }
        }
        Node::Sel {
            branches,
            otherwise,
            chosen,
        } => {
            let mut parts = Vec::new();
            for (i, (w, _)) in branches.iter().enumerate() {
                let holds = *chosen == Some(i);
                parts.push(format!(
                    "the condition that my request {} is {}",
                    when_text(w),
                    if holds { "true" } else { "false" }
                ));
            }
            let pick = match chosen {
                Some(i) => format!("so branch {} applies", i + 1),
                None if otherwise.is_some() => "so the fallback branch applies".to_string(),
                None => "so no branch applies".to_string(),
            };
            out.push(format!(
                "Structure: a selection. Checking the request: {}; {pick}, and only that branch's constraints count.",
                parts.join("; ")
            ));
            let mut skipped = Vec::new();
            for (i, (_, t)) in branches.iter().enumerate() {
                if *chosen != Some(i) {
                    skipped.push((format!("branch {}", i + 1), t));
                }
            }
            if chosen.is_some() {
                if let Some(o) = otherwise {
                    skipped.push(("the fallback branch".to_string(), o));
                }
            }
            for (label, t) in skipped {
                let names: Vec<String> = leaf_ids(t)
                    .iter()
                    .map(|i| format!("{} ({})", arena[*i].fam.name(), arena[*i].fam.id()))
                    .collect();
                out.push(format!(
                    "Not applicable here: {label}, which would ask for {}.",
                    names.join(", ")
                ));
            }
            if let Some(i) = chosen {
                if let Some((_, t)) = branches.get(*i) {
                    describe(t, arena, out);
                }
            } else if let Some(o) = otherwise {
                describe(o, arena, out);
            }
        }
        Node::And(kids) => {
            for k in kids {
                describe(k, arena, out);
            }
        }
        Node::Leaf(_) => {}
    }
}

/// The reasoning trace: names and decomposes every constraint and plans how to meet it.
pub fn reasoning(
    seed: &Seed,
    root: &Node,
    arena: &[Leaf],
    segs: &[Vec<usize>],
    sep: &Option<String>,
) -> String {
    let mut out = Vec::new();
    out.push(format!("The task: {}", seed.request));
    let all = leaf_ids(root);
    out.push(format!(
        "The request carries {} constraint{} on the answer; I will list them and decide how to satisfy each before writing.",
        all.len(),
        if all.len() == 1 { "" } else { "s" }
    ));
    describe(root, arena, &mut out);
    for (si, seg) in segs.iter().enumerate() {
        if segs.len() > 1 {
            out.push(format!("Part {}:", si + 1));
        } else {
            out.push("Constraints that apply to the answer:".to_string());
        }
        for (j, i) in seg.iter().enumerate() {
            let l = &arena[*i];
            out.push(format!(
                "{}. {} ({}): {}.",
                j + 1,
                l.fam.name(),
                l.fam.id(),
                l.plan()
            ));
        }
        let order: Vec<&str> = last_steps(seg.iter().map(|i| arena[*i].fam))
            .iter()
            .map(|f| f.name())
            .collect();
        if !order.is_empty() {
            out.push(format!(
                "Order of work: write the content and place every required element first, then apply {} last so nothing undoes it.",
                order.join(", then ")
            ));
        }
    }
    if let Some(s) = sep {
        out.push(format!(
            "I will join the parts with a line holding only {s}."
        ));
    }
    out.push(format!(
        "Content: the answer stays on topic ({}), and after drafting I re-count every number-bearing constraint before finishing.",
        seed.topic
    ));
    out.join("\n")
}

/// The short reasoning: one plan line per constraint, in the order of work.
pub fn short_reasoning(leaves: &[Leaf]) -> String {
    let mut order: Vec<&Leaf> = leaves.iter().collect();
    // Content first, then the whole-text rewrites in the order the answer applies them (the
    // JSON wrapper, then a case change, which applies to the JSON key too, then outer quotes).
    order.sort_by_key(|l| {
        let t = l.fam.traits();
        if t.finishes {
            t.order
        } else {
            0
        }
    });
    order
        .iter()
        .map(|l| {
            let plan = l.plan_short();
            // A plan that ends on a marker such as "P.S." needs no second period.
            let stop = if plan.ends_with('.') { "" } else { "." };
            format!("Plan: {} — {plan}{stop}", l.fam.name())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The whole-text rewrites among `fams`, as the standard trace's order of work names them: a
/// case change, then the JSON wrapper, then outer quotes. (The answer applies the wrapper before
/// the case change; both orders give the same text, and this wording is the pinned one.)
fn last_steps(fams: impl Iterator<Item = Fam>) -> Vec<Fam> {
    let mut v: Vec<Fam> = fams.filter(|f| f.traits().finishes).collect();
    v.sort_by_key(|f| (!f.traits().case, f.traits().order));
    v.dedup();
    v
}
