//! `cargo run -p raif-datasets --example gen -- N SEED OUT.jsonl [DEPTH]`: writes generated
//! records (for inspection and for checking them against the official checkers).

use std::path::PathBuf;

use raif_datasets::gen::{generate, GenConfig};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(100);
    let seed: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let out = PathBuf::from(args.get(3).cloned().unwrap_or_else(|| "gen.jsonl".into()));
    let depth: Option<u8> = args.get(4).map(|s| s.parse()).transpose()?;
    let (records, report) = generate(&GenConfig { n, seed, depth }, None);
    raif_datasets::record::write_records(&out, &records)?;
    eprintln!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
