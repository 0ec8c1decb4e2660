//! What commands return and how it reaches the user.
//!
//! A command builds an [`Output`] holding both renderings: `text` for people and `json` for
//! `--json`. It never prints by itself. [`Printer`] chooses one rendering per command:
//! - text mode: `text` on stdout, errors as one `error: <message>` line on stderr;
//! - JSON mode: exactly one line per command on stdout,
//!   `{"command":"<line>","data":<json>}` or `{"command":"<line>","error":"<message>"}`.
//!
//! Every write returns `io::Result` so that callers can treat a closed pipe as a quiet exit.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

/// The result of a successful command, in both renderings.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Human-readable text. A trailing newline is added when missing.
    pub text: String,
    /// The `data` member of the `--json` envelope.
    pub json: Value,
}

impl Output {
    /// An output with both renderings given.
    pub fn new(text: impl Into<String>, json: Value) -> Output {
        Output {
            text: text.into(),
            json,
        }
    }

    /// An output whose JSON rendering is `data` serialized with serde.
    pub fn with_data<T: Serialize>(text: impl Into<String>, data: &T) -> Result<Output, CmdError> {
        let json = serde_json::to_value(data)
            .map_err(|e| CmdError::failed(anyhow::Error::new(e).context("encoding JSON")))?;
        Ok(Output::new(text, json))
    }

    /// An output with no text and `null` data (commands run only for their effect).
    pub fn empty() -> Output {
        Output::new(String::new(), Value::Null)
    }
}

/// Why a command did not produce an [`Output`].
#[derive(Debug)]
pub enum CmdError {
    /// The command line was wrong: unknown command or flag, bad or missing value.
    /// Exit status 2 in batch mode.
    Usage(String),
    /// The command was well formed but could not be carried out. Exit status 1 in batch mode.
    Failed(anyhow::Error),
}

impl CmdError {
    /// A usage error with this message.
    pub fn usage(msg: impl Into<String>) -> CmdError {
        CmdError::Usage(msg.into())
    }

    /// A failure caused by `err` (anything convertible to `anyhow::Error`).
    pub fn failed(err: impl Into<anyhow::Error>) -> CmdError {
        CmdError::Failed(err.into())
    }

    /// The process exit status this error maps to in batch mode.
    pub fn exit_code(&self) -> u8 {
        match self {
            CmdError::Usage(_) => crate::EXIT_USAGE,
            CmdError::Failed(_) => crate::EXIT_FAILURE,
        }
    }

    /// The message on a single line (an error chain is joined with `: `).
    pub fn message(&self) -> String {
        let msg = match self {
            CmdError::Usage(m) => m.clone(),
            CmdError::Failed(e) => chain_message(e.chain()),
        };
        one_line(&msg)
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl From<anyhow::Error> for CmdError {
    fn from(err: anyhow::Error) -> CmdError {
        CmdError::Failed(err)
    }
}

/// An error and its causes joined with `: `, leaving out a cause whose message the text
/// already contains (errors that print their source themselves would otherwise repeat it).
pub fn chain_message<'a>(
    chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> String {
    let mut msg = String::new();
    for err in chain {
        let part = err.to_string();
        if msg.is_empty() {
            msg = part;
        } else if !part.is_empty() && !msg.contains(&part) {
            msg.push_str(": ");
            msg.push_str(&part);
        }
    }
    msg
}

/// Collapse line breaks so that a message always fits on one line.
fn one_line(msg: &str) -> String {
    msg.trim()
        .split(['\r', '\n'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `--json` envelope of one command.
#[derive(Serialize)]
struct Envelope<'a> {
    command: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The single JSON line (without newline) for `line` and its result.
pub fn json_line(line: &str, result: &Result<Output, CmdError>) -> String {
    let env = match result {
        Ok(out) => Envelope {
            command: line,
            data: Some(&out.json),
            error: None,
        },
        Err(err) => Envelope {
            command: line,
            data: None,
            error: Some(err.message()),
        },
    };
    serde_json::to_string(&env).expect("a JSON envelope always serializes")
}

/// Writes command results to stdout/stderr in the selected mode.
pub struct Printer<O: Write, E: Write> {
    out: O,
    err: E,
    json: bool,
}

impl Printer<io::Stdout, io::Stderr> {
    /// A printer on the process's stdout and stderr.
    pub fn stdio(json: bool) -> Self {
        Printer::new(io::stdout(), io::stderr(), json)
    }
}

impl<O: Write, E: Write> Printer<O, E> {
    /// A printer on the given writers.
    pub fn new(out: O, err: E, json: bool) -> Self {
        Printer { out, err, json }
    }

    /// Whether `--json` is on.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Render the result of running `line`. Only stdout errors are returned: a failed write to
    /// stderr is ignored, like a failed diagnostic anywhere else.
    pub fn emit(&mut self, line: &str, result: &Result<Output, CmdError>) -> io::Result<()> {
        if self.json {
            let mut s = json_line(line, result);
            s.push('\n');
            self.out.write_all(s.as_bytes())?;
            return self.out.flush();
        }
        match result {
            Ok(out) => {
                if !out.text.is_empty() {
                    self.out.write_all(out.text.as_bytes())?;
                    if !out.text.ends_with('\n') {
                        self.out.write_all(b"\n")?;
                    }
                }
                self.out.flush()
            }
            Err(err) => {
                // Flush data first so that the error appears after it on a shared terminal.
                self.out.flush()?;
                let _ = writeln!(self.err, "error: {}", err.message());
                Ok(())
            }
        }
    }

    /// Write `goheap: <msg>` to stderr (a problem outside any command), ignoring failures.
    pub fn diagnostic(&mut self, msg: &str) {
        let _ = writeln!(self.err, "goheap: {}", one_line(msg));
    }

    /// Write plain text to stdout (banner and similar), adding a newline.
    pub fn line(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.out, "{text}")?;
        self.out.flush()
    }

    /// The underlying writers (for tests).
    #[cfg(test)]
    pub fn into_inner(self) -> (O, E) {
        (self.out, self.err)
    }
}

/// An I/O error's message without the `(os error N)` suffix.
pub fn io_message(err: &io::Error) -> String {
    let s = err.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Whether an I/O error means stdout was closed by the reader (`| head -1`).
pub fn is_broken_pipe(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::anyhow;
    use serde_json::json;

    fn run(json: bool, line: &str, result: Result<Output, CmdError>) -> (String, String) {
        let mut p = Printer::new(Vec::new(), Vec::new(), json);
        p.emit(line, &result).unwrap();
        let (o, e) = p.into_inner();
        (String::from_utf8(o).unwrap(), String::from_utf8(e).unwrap())
    }

    #[test]
    fn json_envelope_success() {
        let out = Output::new("ignored", json!({"total": {"spans": 3}}));
        let (o, e) = run(true, "spans -summary", Ok(out));
        assert_eq!(
            o,
            "{\"command\":\"spans -summary\",\"data\":{\"total\":{\"spans\":3}}}\n"
        );
        assert_eq!(e, "");
    }

    #[test]
    fn json_envelope_error_goes_to_stdout_on_one_line() {
        let err = CmdError::failed(anyhow!("inner\nsecond line").context("outer"));
        let (o, e) = run(true, "overview", Err(err));
        assert_eq!(
            o,
            "{\"command\":\"overview\",\"error\":\"outer: inner second line\"}\n"
        );
        assert_eq!(e, "");
    }

    #[test]
    fn json_envelope_escapes_the_command_line() {
        let line = r#"print "a\b""#;
        let s = json_line(line, &Ok(Output::empty()));
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["command"], line);
        assert_eq!(v["data"], Value::Null);
        assert!(!s.contains('\n'));
    }

    #[test]
    fn json_null_data_is_kept() {
        let (o, _) = run(true, "quit", Ok(Output::empty()));
        assert_eq!(o, "{\"command\":\"quit\",\"data\":null}\n");
    }

    #[test]
    fn text_mode_adds_missing_newline_and_prints_errors_to_stderr() {
        let (o, e) = run(false, "x", Ok(Output::new("hello", Value::Null)));
        assert_eq!((o.as_str(), e.as_str()), ("hello\n", ""));
        let (o, e) = run(false, "x", Ok(Output::empty()));
        assert_eq!((o.as_str(), e.as_str()), ("", ""));
        let (o, e) = run(false, "x", Err(CmdError::usage("bad flag")));
        assert_eq!((o.as_str(), e.as_str()), ("", "error: bad flag\n"));
    }

    #[test]
    fn chain_does_not_repeat_causes_already_in_the_message() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "core.1: {}", self.0)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = CmdError::failed(Outer(std::io::Error::other("truncated")));
        assert_eq!(err.message(), "core.1: truncated");
        let err = CmdError::failed(anyhow!("inner").context("outer"));
        assert_eq!(err.message(), "outer: inner");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(CmdError::usage("u").exit_code(), 2);
        assert_eq!(CmdError::failed(anyhow!("f")).exit_code(), 1);
    }
}
