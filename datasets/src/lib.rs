//! The RAIF record schema, benchmark loaders and the complex-instruction generator.
//!
//! - [`record`]: [`Record`] (messages, constraint tree, fast score, expert, source, split,
//!   format version) and its JSON Lines form.
//! - [`loaders`]: IFEval, IFBench, RAIF RL / expert, CELLO, FollowBench, InfoBench, CFBench,
//!   FB-Bench, each with file-, line- and field-named errors.
//! - [`catalog`]: the official rule ids and their kwargs; loaders take an [`IdCatalog`].
//! - [`stats`] and [`validate`]: `raif data stats` / `raif data validate`.

pub mod catalog;
pub mod commands;
pub mod error;
pub mod expert;
pub mod fetch;
pub mod fields;
pub mod gen;
pub mod jsonfile;
pub mod loaders;
pub mod record;
pub mod stats;
pub mod validate;

pub use catalog::{IdCatalog, OfficialIds};
pub use error::{DataError, Loc};
pub use raif_verify::{Branch, Constraint};
pub use record::{Expert, FastScore, Message, Record, Role, Split, FORMAT_VERSION};
