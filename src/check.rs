//! `raif check` (owned by the verifiers issue; being written).
use anyhow::{bail, Result};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// JSONL input: {"key", "instruction_id_list", "kwargs", "prompt", "response"} per line.
    #[arg(long)]
    pub input: std::path::PathBuf,
}

pub fn run(_args: CheckArgs) -> Result<()> {
    bail!("raif check is not built yet")
}
