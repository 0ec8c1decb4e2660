//! goheap's command line and REPL: parsing, dispatch and rendering. No analysis happens here;
//! commands call `inspector_core` and turn its results into [`Output`].
//!
//! - [`argv`]: parsing the `goheap` command line; [`cli`]: the top-level flow and exit codes.
//! - [`commands`]: the command table and dispatch; [`args`]: words and flags.
//! - [`output`]: [`Output`], [`CmdError`] and the text / `--json` printer.
//! - [`driver`]: runs lines and scripts; [`repl`]: the interactive prompt.
//! - [`help`]: `help` text and `docs/commands.md`; [`script`]: `-ex`/`-x`.
//! - Command implementations: [`builtin_cmds`] (`help`, `quit`), [`heap_cmds`].

pub mod args;
pub mod argv;
pub mod builtin_cmds;
pub mod cli;
pub mod commands;
pub mod context;
pub mod driver;
pub mod examine_cmds;
pub mod goroutine_cmds;
pub mod graph_cmds;
pub mod heap_cmds;
pub mod help;
pub mod object_cmds;
pub mod output;
pub mod progress;
pub mod repl;
pub mod script;

pub use args::Args;
pub use commands::{CommandSpec, COMMANDS};
pub use context::Context;
pub use output::{CmdError, Output};

/// Exit status: success.
pub const EXIT_SUCCESS: u8 = 0;
/// Exit status: the target could not be opened, or a command failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: usage error (bad option, unknown command or flag).
pub const EXIT_USAGE: u8 = 2;
