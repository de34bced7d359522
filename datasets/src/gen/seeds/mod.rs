//! The generator's seed tasks: written for this project (not taken from any benchmark).
//! Each seed is a request and the topic its answer talks about; the requests themselves are in
//! `tasks_a` (email, explain, plan, summarise, code, story) and `tasks_b` (list, compare, advice,
//! describe, persuade, speech).

mod tasks_a;
mod tasks_b;

use tasks_a::{CODE, EMAIL, EXPLAIN, PLAN, STORY, SUMMARISE};
use tasks_b::{ADVICE, COMPARE, DESCRIBE, LIST, PERSUADE, SPEECH};

/// What kind of task a seed is; it picks the answer's sentence templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Email,
    Explain,
    Plan,
    Summarise,
    Code,
    Story,
    List,
    Compare,
    Advice,
    Describe,
    Persuade,
    Speech,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Explain => "explain",
            Kind::Plan => "plan",
            Kind::Summarise => "summarise",
            Kind::Code => "code",
            Kind::Story => "story",
            Kind::List => "list",
            Kind::Compare => "compare",
            Kind::Advice => "advice",
            Kind::Describe => "describe",
            Kind::Persuade => "persuade",
            Kind::Speech => "speech",
        }
    }
}

/// One seed task.
#[derive(Clone, Debug)]
pub struct Seed {
    pub kind: Kind,
    /// The request as the user writes it.
    pub request: String,
    /// A short noun phrase the answer is about.
    pub topic: &'static str,
}

/// Every seed, in a fixed order.
pub fn all() -> Vec<Seed> {
    let groups: [(Kind, &[(&str, &str)]); 12] = [
        (Kind::Email, EMAIL),
        (Kind::Explain, EXPLAIN),
        (Kind::Plan, PLAN),
        (Kind::Summarise, SUMMARISE),
        (Kind::Code, CODE),
        (Kind::Story, STORY),
        (Kind::List, LIST),
        (Kind::Compare, COMPARE),
        (Kind::Advice, ADVICE),
        (Kind::Describe, DESCRIBE),
        (Kind::Persuade, PERSUADE),
        (Kind::Speech, SPEECH),
    ];
    let mut out = Vec::new();
    for (kind, items) in groups {
        for (request, topic) in items {
            let mut request = request.to_string();
            if !request.ends_with('.') {
                request.push('.');
            }
            out.push(Seed {
                kind,
                request,
                topic,
            });
        }
    }
    out
}
