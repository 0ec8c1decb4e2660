//! The state commands run against: the open session and REPL-wide settings.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use inspector_core::Session;

use crate::output::CmdError;

/// What every command receives. Holds the engine [`Session`] (absent only in tests of the
/// command layer, which run without a target).
pub struct Context {
    session: Option<Session>,
    exe: PathBuf,
    core: PathBuf,
    json: bool,
    quit: bool,
    progress: bool,
}

impl Context {
    /// A context on an open session.
    pub fn new(session: Session, exe: &Path, core: &Path, json: bool) -> Context {
        Context {
            session: Some(session),
            exe: exe.to_path_buf(),
            core: core.to_path_buf(),
            json,
            quit: false,
            progress: false,
        }
    }

    /// A context with no target, for tests of parsing, dispatch and help.
    pub fn without_target(json: bool) -> Context {
        Context {
            session: None,
            exe: PathBuf::new(),
            core: PathBuf::new(),
            json,
            quit: false,
            progress: false,
        }
    }

    /// The engine session, or a failure if no target is loaded.
    pub fn session(&mut self) -> Result<&mut Session, CmdError> {
        self.session
            .as_mut()
            .ok_or_else(|| CmdError::failed(anyhow!("no target is loaded")))
    }

    /// The executable path as given on the command line.
    pub fn exe(&self) -> &Path {
        &self.exe
    }

    /// The core file path as given on the command line.
    pub fn core(&self) -> &Path {
        &self.core
    }

    /// Whether output is `--json` (commands build both renderings anyway; this is for
    /// commands that want to skip expensive text formatting).
    pub fn json(&self) -> bool {
        self.json
    }

    /// Show a progress indicator on stderr during long computations (interactive use only:
    /// see [`crate::progress::show_progress`]).
    pub fn set_progress(&mut self, on: bool) {
        self.progress = on;
    }

    /// Whether to show a progress indicator.
    pub fn progress(&self) -> bool {
        self.progress
    }

    /// Ask the driver to stop after this command (the `quit` command).
    pub fn request_quit(&mut self) {
        self.quit = true;
    }

    /// Whether a command asked to stop.
    pub fn quit_requested(&self) -> bool {
        self.quit
    }
}
