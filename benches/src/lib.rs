//! Criterion benches of the Mailward hot paths live in `benches/`; this library holds the
//! deterministic generators of their inputs.
pub mod realmail;
pub mod reportmail;
