//! A session: one executable and one target (a core file now, a live process later), with the
//! Go runtime model built on them.

use std::path::Path;

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("not implemented yet")]
    Unimplemented,
}

/// An open executable + core pair.
pub struct Session {}

impl Session {
    /// Open `exe` and the core it produced.
    pub fn open_core(_exe: &Path, _core: &Path) -> Result<Session, SessionError> {
        Err(SessionError::Unimplemented)
    }
}
