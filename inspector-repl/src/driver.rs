//! Runs command lines against a [`Context`] and prints their results: the loop shared by
//! scripts (`-ex`, `-x`, a trailing command, piped stdin) and the interactive REPL.

use std::io::{self, Write};

use crate::commands::{execute, is_blank};
use crate::context::Context;
use crate::output::Printer;

/// What happened to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStatus {
    /// The command succeeded (or the line was blank).
    Ok,
    /// The command failed; the exit status it maps to (1, or 2 for usage errors).
    Failed(u8),
    /// The command asked to stop (`quit`).
    Quit,
}

/// How a script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptEnd {
    /// Every line ran.
    Completed,
    /// A `quit` command stopped it.
    Quit,
    /// A command failed; the script stopped there. The exit status it maps to.
    Failed(u8),
}

/// A context plus the printer its results go to.
pub struct Driver<O: Write, E: Write> {
    ctx: Context,
    printer: Printer<O, E>,
}

impl<O: Write, E: Write> Driver<O, E> {
    /// A driver over `ctx` printing through `printer`.
    pub fn new(ctx: Context, printer: Printer<O, E>) -> Self {
        Driver { ctx, printer }
    }

    /// Run one line and print its result. Blank and `#` lines do nothing. An `Err` is a failed
    /// write to stdout (such as a broken pipe).
    pub fn run_line(&mut self, line: &str) -> io::Result<LineStatus> {
        if is_blank(line) {
            return Ok(LineStatus::Ok);
        }
        let line = line.trim();
        let result = execute(&mut self.ctx, line);
        self.printer.emit(line, &result)?;
        Ok(match result {
            Err(e) => LineStatus::Failed(e.exit_code()),
            Ok(_) if self.ctx.quit_requested() => LineStatus::Quit,
            Ok(_) => LineStatus::Ok,
        })
    }

    /// Run lines until one fails or quits. A read error (from stdin) counts as a failure and
    /// is reported as `goheap: <error>` on stderr.
    pub fn run_script<I>(&mut self, lines: I) -> io::Result<ScriptEnd>
    where
        I: IntoIterator<Item = io::Result<String>>,
    {
        for line in lines {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    self.printer.diagnostic(&format!("reading commands: {e}"));
                    return Ok(ScriptEnd::Failed(crate::EXIT_FAILURE));
                }
            };
            match self.run_line(&line)? {
                LineStatus::Ok => {}
                LineStatus::Failed(code) => return Ok(ScriptEnd::Failed(code)),
                LineStatus::Quit => return Ok(ScriptEnd::Quit),
            }
        }
        Ok(ScriptEnd::Completed)
    }

    /// The printer's writers (for tests).
    #[cfg(test)]
    pub fn into_printer(self) -> Printer<O, E> {
        self.printer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(json: bool) -> Driver<Vec<u8>, Vec<u8>> {
        Driver::new(
            Context::without_target(json),
            Printer::new(Vec::new(), Vec::new(), json),
        )
    }

    fn lines(v: &[&str]) -> Vec<io::Result<String>> {
        v.iter().map(|s| Ok(s.to_string())).collect()
    }

    fn outputs(d: Driver<Vec<u8>, Vec<u8>>) -> (String, String) {
        let (o, e) = d.into_printer().into_inner();
        (String::from_utf8(o).unwrap(), String::from_utf8(e).unwrap())
    }

    #[test]
    fn script_stops_at_first_failure_with_its_code() {
        let mut d = driver(false);
        let end = d.run_script(lines(&["help q", "bogus", "help"])).unwrap();
        assert_eq!(end, ScriptEnd::Failed(2));
        let (o, e) = outputs(d);
        assert!(o.contains("Usage: quit") && !o.contains("Heap:"), "{o}");
        assert_eq!(e.lines().count(), 1);
        assert!(e.starts_with("error: unknown command \"bogus\""), "{e}");

        let mut d = driver(false);
        assert_eq!(
            d.run_script(lines(&["overview", "help"])).unwrap(),
            ScriptEnd::Failed(1)
        );
    }

    #[test]
    fn script_stops_at_quit_and_skips_blank_lines() {
        let mut d = driver(false);
        let end = d
            .run_script(lines(&["", "  # c", "h", "q", "bogus"]))
            .unwrap();
        assert_eq!(end, ScriptEnd::Quit);
        let mut d = driver(false);
        assert_eq!(
            d.run_script(lines(&["help", ""])).unwrap(),
            ScriptEnd::Completed
        );
    }

    #[test]
    fn json_mode_prints_one_line_per_command() {
        let mut d = driver(true);
        let end = d
            .run_script(lines(&["  help spans ", "", "spans -x"]))
            .unwrap();
        assert_eq!(end, ScriptEnd::Failed(2));
        let (o, e) = outputs(d);
        assert_eq!(e, "");
        let v: Vec<serde_json::Value> = o
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0]["command"], "help spans");
        assert_eq!(v[0]["data"]["name"], "spans");
        assert_eq!(v[1]["command"], "spans -x");
        assert!(v[1]["error"].as_str().unwrap().contains("help spans"));
    }

    #[test]
    fn read_error_fails_the_script() {
        let mut d = driver(false);
        let input = vec![Ok("help".to_string()), Err(io::Error::other("bad input"))];
        assert_eq!(d.run_script(input).unwrap(), ScriptEnd::Failed(1));
        let (_, e) = outputs(d);
        assert_eq!(e, "goheap: reading commands: bad input\n");
    }
}
