//! Output formats other tools read: pprof profiles ([`pprof`]).

pub mod pprof;
