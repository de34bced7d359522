//! Rule-centric verifiers (IFEval, IFBench) and the RAIF reward.
//!
//! - [`registry`]: build a checker from an official instruction id and its kwargs, evaluate it
//!   strict and loose ([`registry::evaluate`]).
//! - [`ifeval`], [`ifbench`]: the checkers, one module per instruction family.
//! - [`py`], [`nltk`], [`langdetect`], [`text`], [`pyjson`]: ports of the Python library
//!   behaviour the official checkers depend on.
#[macro_use]
mod table;

pub mod cello;
pub mod check;
pub mod checker;
pub mod data;
pub mod ifbench;
pub mod ifeval;
pub mod langdetect;
pub mod nltk;
pub mod py;
pub mod pyjson;
pub mod registry;
pub mod reward;
pub mod scan;
pub mod text;
pub mod tree;
pub mod xml;

pub use checker::{BuildError, Verdict};
pub use registry::{evaluate, InstructionResult};
pub use tree::{Branch, Constraint};
