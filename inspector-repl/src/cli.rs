//! The top-level flow of `goheap`: parse the command line, open the target, run the
//! `-ex`/`-x`/trailing commands, then the REPL or piped stdin.
//!
//! Exit status: 0 success; 1 the target could not be opened or a command failed; 2 usage
//! error (bad option, unknown command or flag). Scripts stop at the first failing command.

use std::ffi::OsString;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;

use crate::args::quote_join;
use crate::argv::{parse, CliExit, Invocation, Mode};
use crate::context::Context;
use crate::driver::{Driver, ScriptEnd};
use crate::output::{io_message, is_broken_pipe, Printer};
use crate::script;
use crate::{help, repl, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};

/// Check that `path` names a readable, non-empty regular file before handing it to the engine.
fn check_input(path: &Path, what: &str) -> Result<(), String> {
    let fail = |msg: String| format!("cannot open {what} {}: {msg}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| fail(io_message(&e)))?;
    if meta.is_dir() {
        return Err(fail("is a directory".into()));
    }
    std::fs::File::open(path).map_err(|e| fail(io_message(&e)))?;
    if meta.is_file() && meta.len() == 0 {
        return Err(fail("file is empty".into()));
    }
    Ok(())
}

/// Print `goheap: <msg>` on stderr, ignoring failures.
fn fatal(msg: &str) {
    let _ = writeln!(io::stderr(), "goheap: {msg}");
}

/// Run goheap with `argv` (without the program name); returns the exit status.
pub fn main(argv: &[OsString]) -> u8 {
    let inv = match parse(argv) {
        Ok(inv) => inv,
        Err(CliExit::Info(mut text)) => {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            // A closed stdout is not an error here either.
            let _ = io::stdout().write_all(text.as_bytes());
            return EXIT_SUCCESS;
        }
        Err(CliExit::Usage(msg)) => {
            fatal(&msg);
            return EXIT_USAGE;
        }
    };
    match run(inv) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => EXIT_SUCCESS,
        Err(e) => {
            fatal(&format!("writing output: {}", io_message(&e)));
            EXIT_FAILURE
        }
    }
}

fn run(inv: Invocation) -> io::Result<u8> {
    let (exe, core, command) = match inv.mode {
        Mode::HelpMarkdown => {
            let mut out = io::stdout().lock();
            out.write_all(help::markdown().as_bytes())?;
            out.flush()?;
            return Ok(EXIT_SUCCESS);
        }
        Mode::Core { exe, core, command } => (exe, core, command),
    };
    let mut lines = match script::expand(&inv.script) {
        Ok(lines) => lines,
        Err(msg) => {
            fatal(&msg);
            return Ok(EXIT_FAILURE);
        }
    };
    let one_shot = !command.is_empty();
    if one_shot {
        lines.push(quote_join(&command));
    }
    let then = Then::choose(inv.batch, one_shot, io::stdin().is_terminal());
    let mut printer = Printer::stdio(inv.json);
    if then == Then::Prompt && !inv.quiet && !inv.json {
        printer.line(&banner())?;
    }

    let session = check_input(&exe, "executable")
        .and_then(|()| check_input(&core, "core file"))
        .and_then(|()| {
            inspector_core::Session::open_core(&exe, &core)
                .map_err(|e| crate::output::CmdError::failed(e).message())
        });
    let session = match session {
        Ok(s) => s,
        Err(msg) => {
            fatal(&msg);
            return Ok(EXIT_FAILURE);
        }
    };
    let mut ctx = Context::new(session, &exe, &core, inv.json);
    ctx.set_progress(crate::progress::show_progress(
        inv.batch,
        inv.json,
        io::stderr().is_terminal(),
    ));
    let mut driver = Driver::new(ctx, printer);

    let end = driver.run_script(lines.into_iter().map(Ok))?;
    if let Some(code) = then.exit_after_script(end) {
        // The session's tables (hundreds of megabytes after a large heap's graph) are left
        // to the operating system: freeing them piece by piece only delays the exit. Output
        // is flushed after every command.
        std::mem::forget(driver);
        return Ok(code);
    }
    if then == Then::Prompt {
        return repl::run(&mut driver).map(|()| EXIT_SUCCESS);
    }
    match driver.run_script(io::stdin().lock().lines())? {
        ScriptEnd::Failed(code) => Ok(code),
        ScriptEnd::Completed | ScriptEnd::Quit => Ok(EXIT_SUCCESS),
    }
}

/// What comes after the up-front commands (`-ex`, `-x`, the trailing command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// `--batch` or a trailing command: exit.
    Exit,
    /// stdin is a terminal: the interactive prompt.
    Prompt,
    /// stdin is not a terminal: read more commands from it as a script.
    Stdin,
}

impl Then {
    fn choose(batch: bool, one_shot: bool, stdin_tty: bool) -> Then {
        match (batch || one_shot, stdin_tty) {
            (true, _) => Then::Exit,
            (false, true) => Then::Prompt,
            (false, false) => Then::Stdin,
        }
    }

    /// The exit status once the up-front commands ended as `end`, or `None` to go on. A
    /// failure stops everything except the interactive prompt (gdb starts it anyway).
    fn exit_after_script(self, end: ScriptEnd) -> Option<u8> {
        match (end, self) {
            (ScriptEnd::Quit, _) => Some(EXIT_SUCCESS),
            (ScriptEnd::Failed(_), Then::Prompt) => None,
            (ScriptEnd::Failed(code), _) => Some(code),
            (ScriptEnd::Completed, Then::Exit) => Some(EXIT_SUCCESS),
            (ScriptEnd::Completed, _) => None,
        }
    }
}

fn banner() -> String {
    format!(
        "goheap {}: a heap inspector for Go core files.\nType 'help' for a list of commands.",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_follows_the_script() {
        assert_eq!(Then::choose(true, false, true), Then::Exit);
        assert_eq!(Then::choose(false, true, true), Then::Exit);
        assert_eq!(Then::choose(false, false, true), Then::Prompt);
        assert_eq!(Then::choose(false, false, false), Then::Stdin);

        use ScriptEnd::*;
        let cases = [
            (Then::Exit, Completed, Some(0)),
            (Then::Exit, Quit, Some(0)),
            (Then::Exit, Failed(1), Some(1)),
            (Then::Exit, Failed(2), Some(2)),
            (Then::Stdin, Completed, None),
            (Then::Stdin, Quit, Some(0)),
            (Then::Stdin, Failed(2), Some(2)),
            (Then::Prompt, Completed, None),
            (Then::Prompt, Quit, Some(0)),
            (Then::Prompt, Failed(1), None),
        ];
        for (then, end, want) in cases {
            assert_eq!(then.exit_after_script(end), want, "{then:?} {end:?}");
        }
    }

    #[test]
    fn check_input_names_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let m = check_input(&missing, "core file").unwrap_err();
        assert!(
            m.starts_with("cannot open core file ") && m.contains("No such file"),
            "{m}"
        );
        assert!(!m.contains("os error"), "{m}");
        let m = check_input(dir.path(), "executable").unwrap_err();
        assert!(m.ends_with("is a directory"), "{m}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        assert!(check_input(&empty, "core file")
            .unwrap_err()
            .ends_with("file is empty"));
        std::fs::write(&empty, "x").unwrap();
        assert!(check_input(&empty, "core file").is_ok());
    }
}
