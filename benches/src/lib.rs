//! Criterion benches of the Mailward hot paths live in `benches/`; this library is empty.
pub mod reportmail;
