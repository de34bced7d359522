//! Loaders for every benchmark format the workbench evaluates on, and RAIF's own formats.
//! Every loader names file, line and field in its errors.

pub mod ifeval;
pub mod judged;
pub mod raif;

use std::fmt;
use std::path::{Path, PathBuf};

pub use ifeval::{load_ifbench, load_ifeval};
pub use judged::{
    load_cello, load_cfbench, load_fbbench, load_followbench, load_followbench_file,
    load_infobench, Lang,
};
pub use raif::{load_raif_expert, load_raif_rl, parse_chatml};

use crate::catalog::IdCatalog;
use crate::error::{Loc, Result};
use crate::record::{read_records_located, Record};

/// Every input format, for commands that take `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Our own record JSONL.
    Record,
    Ifeval,
    Ifbench,
    RaifRl,
    RaifExpert,
    Cello,
    /// A FollowBench folder (or one of its `data_infer*` files), English.
    FollowbenchEn,
    /// The same, Chinese.
    FollowbenchZh,
    Infobench,
    Cfbench,
    Fbbench,
}

impl Format {
    pub const ALL: [Format; 11] = [
        Format::Record,
        Format::Ifeval,
        Format::Ifbench,
        Format::RaifRl,
        Format::RaifExpert,
        Format::Cello,
        Format::FollowbenchEn,
        Format::FollowbenchZh,
        Format::Infobench,
        Format::Cfbench,
        Format::Fbbench,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Record => "record",
            Format::Ifeval => "ifeval",
            Format::Ifbench => "ifbench",
            Format::RaifRl => "raif-rl",
            Format::RaifExpert => "raif-expert",
            Format::Cello => "cello",
            Format::FollowbenchEn => "followbench",
            Format::FollowbenchZh => "followbench-zh",
            Format::Infobench => "infobench",
            Format::Cfbench => "cfbench",
            Format::Fbbench => "fb-bench",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == s)
    }

    /// Where the format's file lies under a data folder laid out like `../shared/data`.
    pub fn default_path(self, data_root: &Path) -> Option<PathBuf> {
        let b = data_root.join("benchmarks");
        Some(match self {
            Format::Ifeval => data_root.join("ifeval/input_data.jsonl"),
            Format::Ifbench => data_root.join("ifbench/IFBench_test.jsonl"),
            Format::Cello => b.join("CELLO/cello_combined.jsonl"),
            Format::FollowbenchEn | Format::FollowbenchZh => b.join("FollowBench"),
            Format::Infobench => b.join("InfoBench/InFoBench/InfoBench.jsonl"),
            Format::Cfbench => b.join("CFBench/data/cfbench_data_infer.jsonl"),
            Format::Fbbench => b.join("FB-Bench/data/feedback-benchmark/fb_bench_dataset.json"),
            Format::Record | Format::RaifRl | Format::RaifExpert => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Loads a file (or, for FollowBench, a folder or one file) of the given format, each record
/// with the file and line it came from.
pub fn load_located(
    format: Format,
    path: &Path,
    catalog: &dyn IdCatalog,
) -> Result<Vec<(Loc, Record)>> {
    match format {
        Format::Record => read_records_located(path, catalog),
        Format::Ifeval => ifeval::load_ifeval_located(path, catalog),
        Format::Ifbench => ifeval::load_ifbench_located(path, catalog),
        Format::RaifRl => raif::load_raif_rl_located(path, catalog),
        Format::RaifExpert => raif::load_raif_expert_located(path),
        Format::Cello => judged::load_cello_located(path),
        Format::FollowbenchEn | Format::FollowbenchZh => {
            let lang = if format == Format::FollowbenchEn {
                Lang::En
            } else {
                Lang::Zh
            };
            if path.is_dir() {
                judged::load_followbench_located(path, lang)
            } else {
                judged::load_followbench_file_located(path, lang)
            }
        }
        Format::Infobench => judged::load_infobench_located(path),
        Format::Cfbench => judged::load_cfbench_located(path),
        Format::Fbbench => judged::load_fbbench_located(path),
    }
}

/// Loads a file (or, for FollowBench, a folder or one file) of the given format.
pub fn load(format: Format, path: &Path, catalog: &dyn IdCatalog) -> Result<Vec<Record>> {
    Ok(load_located(format, path, catalog)?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}
