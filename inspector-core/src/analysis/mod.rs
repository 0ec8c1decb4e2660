//! Views built on the runtime layer: span summaries and filters ([`spans`]), the walk reconciled
//! with the runtime's counters ([`overview`]).

pub mod overview;
pub mod spans;
