//! The command table: the single list of REPL commands, and dispatch of one command line.
//!
//! To add a command, add one [`CommandSpec`] entry to [`COMMANDS`] and write its `run`
//! function (in the module of its group, such as `heap_cmds.rs`). Parsing, `help`, completion,
//! `--json` and `docs/commands.md` all come from this table.

use crate::args::{split_command_word, tokenize, Args, FlagSpec};
use crate::context::Context;
use crate::output::{CmdError, Output};
use crate::{builtin_cmds, heap_cmds};

/// The signature of every command implementation.
pub type RunFn = fn(&mut Context, &Args) -> Result<Output, CmdError>;

/// Headings under which `help` lists commands, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Heap,
    Session,
}

impl Group {
    /// All groups in display order.
    pub const ALL: &'static [Group] = &[Group::Heap, Group::Session];

    /// The heading shown by `help`.
    pub fn title(self) -> &'static str {
        match self {
            Group::Heap => "Heap",
            Group::Session => "Session",
        }
    }
}

/// One command.
#[derive(Debug)]
pub struct CommandSpec {
    /// Canonical name.
    pub name: &'static str,
    /// Other names accepted (`h` for `help`).
    pub aliases: &'static [&'static str],
    /// Heading in `help`.
    pub group: Group,
    /// Usage line, starting with the name: `spans [-summary] [-class N]`.
    pub usage: &'static str,
    /// One line for the `help` list.
    pub summary: &'static str,
    /// Longer help for `help <command>`: paragraphs separated by blank lines.
    pub help: &'static str,
    /// Accepted flags.
    pub flags: &'static [FlagSpec],
    /// Most positional arguments accepted; `None` for no limit.
    pub max_positional: Option<usize>,
    /// Whether the command word may carry a gdb `/FMT` suffix (`x/16xg`).
    pub format_suffix: bool,
    /// The implementation.
    pub run: RunFn,
}

impl CommandSpec {
    /// The canonical name followed by the aliases.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

/// Every command, in `help` order within each group.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "overview",
        aliases: &[],
        group: Group::Heap,
        usage: "overview",
        summary: "Summarize the target: Go version, threads, heap shape and totals.",
        help: "Prints the target (Go version, executable, core file, threads), the shape of the \
               heap (arenas, in-use, manual and free spans) and the totals found by walking the \
               heap next to the runtime's own counters, flagging any that differ.",
        flags: &[],
        max_positional: Some(0),
        format_suffix: false,
        run: heap_cmds::overview,
    },
    CommandSpec {
        name: "spans",
        aliases: &[],
        group: Group::Heap,
        usage: "spans [-summary] [-class N] [-state inuse|manual|free] [-min-free PCT] [-top N]",
        summary: "List heap spans, or summarize them per size class.",
        help: "Lists the spans of the Go heap (runtime.mspan): address range, state, size class, \
               element size, allocated and free slots.\n\n\
               With -summary, prints one row per size class (spans, objects, bytes, free slots), \
               a row for large objects and a total.",
        flags: &[
            FlagSpec::switch(
                "summary",
                "One row per size class instead of one row per span.",
            ),
            FlagSpec::value(
                "class",
                "N",
                "Only spans of size class N (0 means large objects).",
            ),
            FlagSpec::value("state", "STATE", "Only spans in this state.")
                .choices(&["inuse", "manual", "free"]),
            FlagSpec::value(
                "min-free",
                "PCT",
                "Only spans with at least PCT percent of their slots free.",
            ),
            FlagSpec::value("top", "N", "Print only the first N rows."),
        ],
        max_positional: Some(0),
        format_suffix: false,
        run: heap_cmds::spans,
    },
    CommandSpec {
        name: "help",
        aliases: &["h"],
        group: Group::Session,
        usage: "help [COMMAND]",
        summary: "List commands, or show the help of one command.",
        help: "Without an argument, lists all commands with a one-line summary. With a command \
               name or alias, prints its usage, flags and help.",
        flags: &[],
        max_positional: Some(1),
        format_suffix: false,
        run: builtin_cmds::help,
    },
    CommandSpec {
        name: "quit",
        aliases: &["exit", "q"],
        group: Group::Session,
        usage: "quit",
        summary: "Exit goheap.",
        help: "Stops reading commands and exits. In a script (-ex, -x, piped input) the \
               remaining commands are not run.",
        flags: &[],
        max_positional: Some(0),
        format_suffix: false,
        run: builtin_cmds::quit,
    },
];

/// The command called `name` (canonical name or alias).
pub fn lookup(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.names().any(|n| n == name))
}

/// Whether `line` holds no command: blank, or a `#` comment.
pub fn is_blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// Parse a command line into its command and arguments; `Ok(None)` for a line with no words.
pub fn parse_line(line: &str) -> Result<Option<(&'static CommandSpec, Args)>, CmdError> {
    let words = tokenize(line)?;
    let Some(first) = words.first() else {
        return Ok(None);
    };
    let (name, suffix) = split_command_word(first);
    let spec = lookup(name).ok_or_else(|| {
        CmdError::usage(format!(
            "unknown command {name:?} (type 'help' for a list of commands)"
        ))
    })?;
    let args = Args::parse(spec, &words[1..], suffix)?;
    Ok(Some((spec, args)))
}

/// Parse and run one command line. A line with no words gives an empty output.
pub fn execute(ctx: &mut Context, line: &str) -> Result<Output, CmdError> {
    match parse_line(line)? {
        Some((spec, args)) => (spec.run)(ctx, &args),
        None => Ok(Output::empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_aliases_are_unique() {
        let mut seen = HashSet::new();
        for c in COMMANDS {
            for n in c.names() {
                assert!(seen.insert(n), "duplicate command name {n}");
                assert!(
                    !n.is_empty() && !n.contains(['/', ' ', '-']),
                    "bad name {n:?}"
                );
            }
        }
    }

    #[test]
    fn every_command_is_documented() {
        for c in COMMANDS {
            assert!(
                c.usage == c.name || c.usage.starts_with(&format!("{} ", c.name)),
                "{}: usage must start with the name",
                c.name
            );
            assert!(
                !c.summary.is_empty() && !c.summary.contains('\n'),
                "{}",
                c.name
            );
            assert!(
                c.summary.ends_with('.'),
                "{}: summary ends with a period",
                c.name
            );
            assert!(!c.help.trim().is_empty(), "{}: no help", c.name);
            assert!(Group::ALL.contains(&c.group));
        }
    }

    #[test]
    fn flags_are_unique_documented_and_in_usage() {
        for c in COMMANDS {
            let mut seen = HashSet::new();
            for f in c.flags {
                assert!(
                    seen.insert(f.name),
                    "{}: duplicate flag -{}",
                    c.name,
                    f.name
                );
                assert!(!f.help.is_empty(), "{}: -{} has no help", c.name, f.name);
                assert!(!f.name.starts_with('-'), "{}: -{}", c.name, f.name);
                assert!(
                    f.choices.is_empty() || f.value.is_some(),
                    "{}: choices on a switch",
                    c.name
                );
                assert!(
                    c.usage.contains(&format!("[{}]", f.synopsis())),
                    "{}: usage does not show {}",
                    c.name,
                    f.synopsis()
                );
            }
        }
    }

    #[test]
    fn required_commands_exist() {
        for n in ["overview", "spans", "help", "h", "quit", "exit", "q"] {
            assert!(lookup(n).is_some(), "{n}");
        }
        assert_eq!(lookup("h").unwrap().name, "help");
        assert_eq!(lookup("q").unwrap().name, "quit");
        assert_eq!(lookup("exit").unwrap().name, "quit");
        assert!(lookup("nope").is_none());
    }

    #[test]
    fn parse_line_resolves_aliases_and_flags() {
        let (spec, args) = parse_line("h spans").unwrap().unwrap();
        assert_eq!(spec.name, "help");
        assert_eq!(args.positionals(), ["spans"]);
        let (spec, args) = parse_line("spans --top=3 -summary").unwrap().unwrap();
        assert_eq!(spec.name, "spans");
        assert!(args.flag_bool("summary"));
        assert_eq!(args.flag_u64("top").unwrap(), Some(3));
        assert!(parse_line("   ").unwrap().is_none());
    }

    #[test]
    fn unknown_command_is_a_usage_error() {
        let err = parse_line("frobnicate -x").unwrap_err();
        assert!(matches!(err, CmdError::Usage(_)));
        let m = err.to_string();
        assert!(m.contains("\"frobnicate\"") && m.contains("help"), "{m}");
        // A format suffix does not hide the name.
        let m = parse_line("zz/4x 1").unwrap_err().to_string();
        assert!(m.contains("\"zz\""), "{m}");
    }

    #[test]
    fn execute_parses_before_running() {
        let mut ctx = Context::without_target(false);
        let err = execute(&mut ctx, "spans -nope").unwrap_err();
        assert!(matches!(err, CmdError::Usage(_)), "{err:?}");
        let err = execute(&mut ctx, "overview extra").unwrap_err();
        assert!(matches!(err, CmdError::Usage(_)), "{err:?}");
        let err = execute(&mut ctx, "spans 'unterminated").unwrap_err();
        assert!(matches!(err, CmdError::Usage(_)), "{err:?}");
        assert_eq!(execute(&mut ctx, "").unwrap(), Output::empty());
    }

    #[test]
    fn heap_commands_fail_without_panicking_when_no_target() {
        let mut ctx = Context::without_target(false);
        for line in ["overview", "spans", "spans -summary"] {
            let err = execute(&mut ctx, line).unwrap_err();
            assert!(matches!(err, CmdError::Failed(_)), "{line}: {err:?}");
        }
    }

    #[test]
    fn quit_and_aliases_request_quit() {
        for line in ["quit", "exit", "q"] {
            let mut ctx = Context::without_target(false);
            execute(&mut ctx, line).unwrap();
            assert!(ctx.quit_requested(), "{line}");
        }
    }

    #[test]
    fn blank_lines_and_comments() {
        assert!(is_blank(""));
        assert!(is_blank("   \t"));
        assert!(is_blank("  # a comment"));
        assert!(!is_blank("spans # not a comment"));
    }
}
