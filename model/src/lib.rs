//! raif-model
