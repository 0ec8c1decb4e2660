//! Output formats other tools read: pprof profiles ([`pprof`]).

pub mod goroutine_profile;
pub mod heap_profile;
pub mod histogram_profile;
pub mod pprof;
