//! The workspace directory (`--home` / `RAIF_HOME`): where the model cache, the benchmark
//! data and the store live.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `--home` / `RAIF_HOME` if given, else `<data dir>/raif`, else `./.raif`.
    pub fn resolve(given: Option<PathBuf>) -> Self {
        let root = given.unwrap_or_else(|| {
            dirs::data_dir()
                .map(|d| d.join("raif"))
                .unwrap_or_else(|| PathBuf::from(".raif"))
        });
        Home { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The model cache: `<home>/models`.
    pub fn models(&self) -> PathBuf {
        self.root.join("models")
    }

    /// Benchmark copies and generated datasets: `<home>/data`.
    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }
}
