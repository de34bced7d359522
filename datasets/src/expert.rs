//! Expert demonstrations by rejection sampling (ALGORITHM §5, issue item 5b): ask a stronger
//! model for several responses per record and keep the first one that is in think format and
//! whose answer passes every constraint. The model is behind [`ResponseSource`] so that this
//! crate does not depend on `raif-model`; the binary supplies one.

use anyhow::Result;
use serde::Serialize;

use crate::record::{Expert, Record};
use raif_verify::reward::{evaluate_tree, Judge};

/// Something that writes responses to a record's prompt (a local model, a file of samples…).
pub trait ResponseSource {
    /// Up to `n` responses to `record`'s conversation.
    fn sample(&mut self, record: &Record, n: usize) -> Result<Vec<String>>;
}

/// What a rejection-sampling pass did (counted, per response unless said).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RejectionReport {
    pub records: usize,
    /// Records that got an expert answer.
    pub kept: usize,
    pub responses: usize,
    /// Responses not in think format (or with an empty reasoning / answer).
    pub bad_format: usize,
    /// Responses in format whose answer failed at least one constraint.
    pub failed_constraints: usize,
    /// Records skipped because they have judge questions and no judge was given.
    pub skipped_need_judge: usize,
}

/// Gives each record the first sampled response that is in think format and satisfies all of
/// its constraints; records for which none does are left out of the result.
pub fn rejection_sample(
    records: &[Record],
    source: &mut dyn ResponseSource,
    samples_per_record: usize,
    judge: Option<&dyn Judge>,
) -> Result<(Vec<Record>, RejectionReport)> {
    let mut rep = RejectionReport {
        records: records.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for r in records {
        let needs_judge = r
            .constraints
            .leaves()
            .iter()
            .any(|l| matches!(l, raif_verify::Constraint::Judge { .. }));
        if needs_judge && judge.is_none() {
            rep.skipped_need_judge += 1;
            continue;
        }
        for resp in source.sample(r, samples_per_record)? {
            rep.responses += 1;
            let Ok(e) = Expert::parse_think(&resp) else {
                rep.bad_format += 1;
                continue;
            };
            let b = evaluate_tree(&r.constraints, &e.answer, r.prompt(), judge)?;
            if b.pass && b.satisfied == b.total {
                let mut kept = r.clone();
                kept.expert = Some(e);
                out.push(kept);
                rep.kept += 1;
                break;
            }
            rep.failed_constraints += 1;
        }
    }
    Ok((out, rep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Message, Split};
    use raif_verify::Constraint;

    struct Canned(Vec<String>);
    impl ResponseSource for Canned {
        fn sample(&mut self, _r: &Record, n: usize) -> Result<Vec<String>> {
            Ok(self.0.iter().take(n).cloned().collect())
        }
    }

    #[test]
    fn keeps_the_first_passing_think_response() {
        let rec = Record::new(
            "r1",
            "test",
            Split::Train,
            vec![Message::user("Write a line.")],
            Constraint::And {
                children: vec![Constraint::rule("punctuation:no_comma", Default::default())],
            },
        );
        let mut src = Canned(vec![
            "no think tags, here".into(),
            "<think>plan</think><answer>one, two</answer>".into(),
            "<think>avoid commas</think><answer>one and two</answer>".into(),
        ]);
        let (kept, rep) = rejection_sample(std::slice::from_ref(&rec), &mut src, 3, None).unwrap();
        assert_eq!(
            (rep.bad_format, rep.failed_constraints, rep.kept),
            (1, 1, 1)
        );
        assert_eq!(kept[0].expert.as_ref().unwrap().answer, "one and two");
        let mut none = Canned(vec!["<think>x</think><answer>a, b</answer>".into()]);
        let (kept, rep) = rejection_sample(&[rec], &mut none, 3, None).unwrap();
        assert!(kept.is_empty());
        assert_eq!(rep.failed_constraints, 1);
    }
}
