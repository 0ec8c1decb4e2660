//! The `goheap` binary; everything happens in [`inspector_repl::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<_> = std::env::args_os().skip(1).collect();
    ExitCode::from(inspector_repl::cli::main(&argv))
}
