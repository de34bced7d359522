//! Rule-centric verifiers (IFEval, IFBench) and the RAIF reward.
pub mod tree;
pub use tree::{Branch, Constraint};
