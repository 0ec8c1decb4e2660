//! inspector-core: the goheap engine.
//!
//! Layers, from the bottom up:
//! - [`target`]: where bytes and threads come from (core files; live processes later).
//!   Nothing in it knows about Go.
//! - [`binary`]: the executable: ELF, DWARF, symbols, Go build info, pclntab.
//! - [`runtime`]: the Go runtime's own structures, resolved from DWARF at load time.
//! - [`analysis`]: span summaries and other views built on the runtime layer.
//! - [`export`]: pprof profiles.
//!
//! [`session::Session`] ties an executable and a target together.

pub mod analysis;
pub mod binary;
pub mod export;
pub mod runtime;
pub mod session;
pub mod target;

pub use session::{Session, SessionError};
