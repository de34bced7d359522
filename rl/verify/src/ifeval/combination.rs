//! `combination:*`: two responses, repeat the prompt.
use crate::checker::{verdict, BuildError, CheckFn, Kw};
use crate::py;

pub fn build(kw: &Kw) -> Result<CheckFn, BuildError> {
    match kw.id {
        "combination:two_responses" => Ok(Box::new(|value| {
            let parts: Vec<&str> = value.split("******").collect();
            let mut valid = Vec::new();
            for (i, r) in parts.iter().enumerate() {
                if py::strip(r).is_empty() {
                    if i != 0 && i != parts.len() - 1 {
                        return verdict(
                            false,
                            format!("response {} between ****** is empty", i + 1),
                        );
                    }
                } else {
                    valid.push(*r);
                }
            }
            if valid.len() != 2 {
                return verdict(
                    false,
                    format!(
                        "{} non-empty responses separated by ****** (needs 2)",
                        valid.len()
                    ),
                );
            }
            let same = py::strip(valid[0]) == py::strip(valid[1]);
            verdict(
                !same,
                if same {
                    "the two responses are identical"
                } else {
                    "two different responses"
                },
            )
        })),
        "combination:repeat_prompt" => {
            let p = kw.nonempty_str("prompt_to_repeat")?;
            let want = py::lower(py::strip(&p));
            Ok(Box::new(move |value| {
                let ok = py::lower(py::strip(value)).starts_with(&want);
                verdict(
                    ok,
                    if ok {
                        "starts with the prompt"
                    } else {
                        "does not start with the prompt, word for word"
                    },
                )
            }))
        }
        _ => Err(BuildError::UnknownId(kw.id.into())),
    }
}
