//! `raif data` (owned by the datasets issue; being written).
use anyhow::{bail, Result};

use crate::home::Home;

#[derive(clap::Args, Debug)]
pub struct DataArgs {}

pub fn run(_home: &Home, _args: DataArgs) -> Result<()> {
    bail!("raif data is not built yet")
}
