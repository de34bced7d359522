//! A verl rollout dump for the import tests (shared with the workbench's replay test in
//! ui/tests/imported.rs, which includes this file by path): two prompts, four responses each,
//! two steps, one broken line and one file that is not a step.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde_json::json;

pub const P1: &str = "<|im_start|>user\nWrite a greeting without commas.<|im_end|>\n<|im_start|>assistant\n<think>\n";
pub const P2: &str =
    "<|im_start|>user\nAnswer in capital letters only.<|im_end|>\n<|im_start|>assistant\n<think>\n";

pub fn responses() -> Vec<&'static str> {
    vec![
        "greet\n</think>\n<answer>Hello there friend</answer>",
        "greet\n</think>\n<answer>Hello, friend</answer>",
        "no tags",
        "greet\n</think>\n<answer>Hi all</answer>",
    ]
}

/// Writes `1.jsonl` and `2.jsonl` (with a broken last line) and `notes.txt` into `dir`.
pub fn write_verl(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for step in [1u64, 2] {
        let mut f = File::create(dir.join(format!("{step}.jsonl"))).unwrap();
        for (prompt, gts) in [
            (
                P1,
                json!({"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]})
                    .to_string(),
            ),
            (
                P2,
                json!({"type": "rule", "id": "change_case:english_capital"}).to_string(),
            ),
        ] {
            for r in responses() {
                writeln!(
                    f,
                    "{}",
                    json!({"input": prompt, "output": r, "gts": gts, "score": 0.5, "step": step, "acc": true})
                )
                .unwrap();
            }
        }
        if step == 2 {
            writeln!(f, "{{\"input\": \"broken").unwrap();
        }
    }
    std::fs::write(dir.join("notes.txt"), "not a step file").unwrap();
}
