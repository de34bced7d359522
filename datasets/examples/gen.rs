//! `cargo run -p raif-datasets --example gen -- N SEED OUT.jsonl [DEPTH | short [CONSTRAINTS]]`:
//! writes generated records (for inspection and for checking them against the official
//! checkers). `short` picks the short profile, with 1 or 2 constraints per record (mixed when
//! left out).

use std::path::PathBuf;

use raif_datasets::gen::{generate, GenConfig, Profile};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(100);
    let seed: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let out = PathBuf::from(args.get(3).cloned().unwrap_or_else(|| "gen.jsonl".into()));
    let mut cfg = GenConfig {
        n,
        seed,
        ..GenConfig::default()
    };
    match args.get(4).map(String::as_str) {
        None => {}
        Some(p) if p.parse::<Profile>().is_ok() => {
            cfg.profile = p.parse::<Profile>().map_err(anyhow::Error::msg)?;
            cfg.constraints = args.get(5).map(|s| s.parse()).transpose()?;
        }
        Some(d) => cfg.depth = Some(d.parse()?),
    }
    let (records, report) = generate(&cfg, None);
    raif_datasets::record::write_records(&out, &records)?;
    eprintln!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
