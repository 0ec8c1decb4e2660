//! The interactive prompt: rustyline with history and tab completion of command names,
//! aliases, flags and flag values. Errors are printed and the prompt continues; Ctrl-C cancels
//! the line, Ctrl-D (or `quit`) leaves.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor, Helper, Highlighter, Hinter, Validator};

use crate::args::split_command_word;
use crate::commands::{lookup, COMMANDS};
use crate::driver::{Driver, LineStatus};

/// The prompt, as in gdb/Delve.
pub const PROMPT: &str = "(goheap) ";

/// Most history entries kept.
const HISTORY_SIZE: usize = 1000;

/// Run the prompt until `quit` or end of input. Only a failed write to stdout is an error.
pub fn run<O: Write, E: Write>(driver: &mut Driver<O, E>) -> io::Result<()> {
    let mut rl = match editor() {
        Ok(rl) => rl,
        Err(e) => {
            let _ = writeln!(io::stderr(), "goheap: cannot start the prompt: {e}");
            return Ok(());
        }
    };
    let history = history_path(|var| std::env::var_os(var));
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.load_history(path);
    }
    loop {
        match rl.readline(PROMPT) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.trim());
                }
                if driver.run_line(&line)? == LineStatus::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            // rustyline has already moved to a new line.
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                let _ = writeln!(io::stderr(), "goheap: reading input: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        let _ = rl.append_history(path);
    }
    Ok(())
}

fn editor() -> rustyline::Result<Editor<ReplHelper, DefaultHistory>> {
    let config = Config::builder()
        .max_history_size(HISTORY_SIZE)?
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .completion_type(CompletionType::List)
        .build();
    let mut rl = Editor::with_config(config)?;
    rl.set_helper(Some(ReplHelper));
    Ok(rl)
}

/// `$XDG_STATE_HOME/goheap/history`, else `~/.local/state/goheap/history` (`env` looks up
/// environment variables; relative paths are ignored as the XDG spec asks).
fn history_path(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let from_env = |var: &str| env(var).map(PathBuf::from).filter(|p| p.is_absolute());
    let state = from_env("XDG_STATE_HOME")
        .or_else(|| from_env("HOME").map(|h| h.join(".local").join("state")))?;
    Some(state.join("goheap").join("history"))
}

#[derive(Helper, Hinter, Highlighter, Validator)]
struct ReplHelper;

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = complete(&line[..pos]);
        let pairs = words
            .into_iter()
            .map(|w| Pair {
                display: w.clone(),
                replacement: w,
            })
            .collect();
        Ok((start, pairs))
    }
}

/// Completions for the text before the cursor: the byte offset where the completed word
/// starts, and the candidates (sorted, deduplicated).
pub fn complete(before: &str) -> (usize, Vec<String>) {
    let start = before.rfind(char::is_whitespace).map_or(0, |i| {
        i + before[i..].chars().next().map_or(1, char::len_utf8)
    });
    let word = &before[start..];
    let previous: Vec<&str> = before[..start].split_whitespace().collect();
    let mut out: Vec<String> = match previous.first() {
        None => COMMANDS
            .iter()
            .flat_map(|c| c.names())
            .filter(|n| n.starts_with(word))
            .map(str::to_string)
            .collect(),
        Some(first) => {
            let Some(spec) = lookup(split_command_word(first).0) else {
                return (start, Vec::new());
            };
            let last = previous.last().copied().unwrap_or_default();
            let value_of = spec.flags.iter().find(|f| {
                f.value.is_some() && previous.len() > 1 && last.trim_start_matches('-') == f.name
            });
            if let Some(flag) = value_of {
                flag.choices
                    .iter()
                    .filter(|c| c.starts_with(word))
                    .map(|c| c.to_string())
                    .collect()
            } else if word.starts_with('-') {
                let dashes = if word.starts_with("--") { "--" } else { "-" };
                spec.flags
                    .iter()
                    .map(|f| format!("{dashes}{}", f.name))
                    .filter(|f| f.starts_with(word))
                    .collect()
            } else if spec.name == "help" && previous.len() == 1 {
                COMMANDS
                    .iter()
                    .flat_map(|c| c.names())
                    .filter(|n| n.starts_with(word))
                    .map(str::to_string)
                    .collect()
            } else {
                Vec::new()
            }
        }
    };
    out.sort();
    out.dedup();
    (start, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_command_names_and_aliases() {
        assert_eq!(complete(""), (0, all_names()));
        let (at, s) = complete("s");
        assert_eq!(at, 0);
        assert!(s.contains(&"spans".to_string()), "{s:?}");
        assert!(s.iter().all(|n| n.starts_with('s')), "{s:?}");
        assert_eq!(
            complete("  q"),
            (2, vec!["q".to_string(), "quit".to_string()])
        );
        assert_eq!(complete("e"), (0, vec!["exit".to_string()]));
        assert_eq!(complete("zz"), (0, vec![]));
    }

    fn all_names() -> Vec<String> {
        let mut v: Vec<String> = COMMANDS
            .iter()
            .flat_map(|c| c.names())
            .map(String::from)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn completes_flags_of_the_current_command() {
        assert_eq!(
            complete("spans -s"),
            (6, vec!["-state".into(), "-summary".into()])
        );
        assert_eq!(complete("spans -summary --t"), (15, vec!["--top".into()]));
        assert_eq!(complete("spans -").1.len(), 5);
        assert!(complete("nope -").1.is_empty());
        assert!(complete("overview -").1.is_empty());
    }

    #[test]
    fn completes_flag_choices_and_help_topics() {
        assert_eq!(
            complete("spans -state "),
            (13, vec!["free".into(), "inuse".into(), "manual".into()])
        );
        assert_eq!(complete("spans --state m"), (14, vec!["manual".into()]));
        assert!(complete("spans -top ").1.is_empty());
        assert_eq!(complete("help sp"), (5, vec!["spans".into()]));
        assert!(complete("help spans s").1.is_empty());
    }

    #[test]
    fn history_path_prefers_xdg_state_home() {
        let env = |xdg: Option<&'static str>| {
            move |var: &str| match var {
                "XDG_STATE_HOME" => xdg.map(OsString::from),
                "HOME" => Some(OsString::from("/home/u")),
                _ => None,
            }
        };
        let p = |xdg| history_path(env(xdg)).unwrap();
        assert_eq!(p(Some("/st")), PathBuf::from("/st/goheap/history"));
        assert_eq!(
            p(None),
            PathBuf::from("/home/u/.local/state/goheap/history")
        );
        assert_eq!(
            p(Some("rel")),
            PathBuf::from("/home/u/.local/state/goheap/history")
        );
        assert_eq!(
            p(Some("")),
            PathBuf::from("/home/u/.local/state/goheap/history")
        );
        assert_eq!(history_path(|_| None), None);
    }
}
