//! The RAIF record schema, benchmark loaders and the complex-instruction generator (filled by the datasets issue).
