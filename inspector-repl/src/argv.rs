//! Parsing the `goheap` command line: gdb's single-dash long options are rewritten for clap,
//! the trailing command is set apart, and `-ex`/`-x` keep the order they were given in.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};

use crate::script::ScriptItem;

const USAGE: &str = "goheap [OPTIONS] core <EXE> <CORE> [COMMAND]...\n       \
                     goheap [OPTIONS] <EXE> <CORE> [COMMAND]...";

const AFTER_HELP: &str = "\
A COMMAND after the target runs once and goheap exits (like viewcore).
gdb spellings are accepted: -ex, -batch, -quiet, -silent, -eval-command=CMD, -command=FILE.
-ex and -x run in the order given; the first failing command stops them.
Type 'help' at the (goheap) prompt for the commands.

Exit status: 0 success, 1 target not opened or a command failed, 2 usage error.";

/// The options clap parses (after [`normalize_argv`]).
#[derive(Parser, Debug)]
#[command(
    name = "goheap",
    version,
    about = "Inspect the heap of a Go program from its core file.",
    override_usage = USAGE,
    after_help = AFTER_HELP,
    disable_help_subcommand = true
)]
struct Cli {
    /// Run CMD after loading the target (repeatable; gdb: -ex)
    #[arg(
        long = "ex",
        visible_alias = "eval-command",
        value_name = "CMD",
        action = ArgAction::Append,
        allow_hyphen_values = true
    )]
    ex: Vec<String>,

    /// Run the commands in FILE, one per line; '#' starts a comment (repeatable)
    #[arg(short = 'x', long = "command", value_name = "FILE", action = ArgAction::Append)]
    command_files: Vec<PathBuf>,

    /// Exit after running the -ex/-x commands instead of reading more
    #[arg(long)]
    batch: bool,

    /// Print one JSON object per command on stdout (JSON Lines)
    #[arg(long)]
    json: bool,

    /// Do not print the banner
    #[arg(short, long, visible_alias = "silent")]
    quiet: bool,

    /// The target and an optional command
    #[arg(value_name = "ARGS", hide = true)]
    positionals: Vec<String>,
}

/// What to do, from a parsed command line.
#[derive(Debug, PartialEq)]
pub enum Mode {
    /// Print the command table as markdown (hidden; generates docs/commands.md).
    HelpMarkdown,
    /// Open `exe` + `core` and run commands.
    Core {
        exe: PathBuf,
        core: PathBuf,
        /// The trailing command, as words.
        command: Vec<String>,
    },
}

/// A parsed command line.
#[derive(Debug, PartialEq)]
pub struct Invocation {
    pub mode: Mode,
    /// `-ex` and `-x` in the order given.
    pub script: Vec<ScriptItem>,
    pub batch: bool,
    pub json: bool,
    pub quiet: bool,
}

/// Why the command line was not accepted.
#[derive(Debug)]
pub enum CliExit {
    /// `--help` or `--version`: print this on stdout and exit 0.
    Info(String),
    /// A usage error: one line, without the `goheap: ` prefix.
    Usage(String),
}

/// gdb's single-dash long options, rewritten to `--name` for clap. The bool says whether the
/// option takes a value.
const LONG_OPTIONS: &[(&str, bool)] = &[
    ("ex", true),
    ("eval-command", true),
    ("command", true),
    ("batch", false),
    ("json", false),
    ("quiet", false),
    ("silent", false),
    ("version", false),
    ("help", false),
];

/// Short options that take a value.
const SHORT_WITH_VALUE: &[char] = &['x'];

/// Short switches (clap's `-h` and `-V` included).
const SHORT_SWITCHES: &[char] = &['q', 'h', 'V'];

/// Rewrite `argv` (without the program name) for clap: gdb's `-ex`, `-batch`, `-eval-command=C`
/// become `--ex`, `--batch`, `--eval-command=C`; option values are left alone; and once the
/// target words are complete (`core EXE CORE` or `EXE CORE`), the first non-option word starts
/// the trailing command, which is passed after `--` so that its own flags reach the command.
///
/// A single-dash word that is neither a gdb long option nor a cluster of short options is
/// an error here (clap would report only its first letter).
pub fn normalize_argv(argv: &[OsString]) -> Result<Vec<OsString>, String> {
    let mut out = Vec::with_capacity(argv.len() + 1);
    let mut positionals = 0usize;
    let mut target_words = usize::MAX;
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let Some(s) = arg.to_str() else {
            out.push(arg.clone());
            count_positional(&mut positionals, &mut target_words, "");
            continue;
        };
        if s == "--" {
            out.push(arg.clone());
            out.extend(it.by_ref().cloned());
            break;
        }
        if s.len() > 1 && s.starts_with('-') {
            let (rewritten, takes_next) = rewrite_option(s)?;
            out.push(rewritten.into());
            if takes_next {
                out.extend(it.next().cloned());
            }
            continue;
        }
        if positionals >= target_words {
            out.push("--".into());
            out.push(arg.clone());
            out.extend(it.by_ref().cloned());
            break;
        }
        out.push(arg.clone());
        count_positional(&mut positionals, &mut target_words, s);
    }
    Ok(out)
}

fn count_positional(positionals: &mut usize, target_words: &mut usize, word: &str) {
    if *positionals == 0 {
        *target_words = match word {
            "core" => 3,
            "help-markdown" => 1,
            _ => 2,
        };
    }
    *positionals += 1;
}

/// The clap spelling of option word `s`, and whether the next word is its value.
fn rewrite_option(s: &str) -> Result<(String, bool), String> {
    let double = s.starts_with("--");
    let body = s.trim_start_matches('-');
    let (name, has_value) = match body.split_once('=') {
        Some((n, _)) => (n, true),
        None => (body, false),
    };
    if let Some(&(_, takes_value)) = LONG_OPTIONS.iter().find(|(n, _)| *n == name) {
        return Ok((format!("--{body}"), takes_value && !has_value));
    }
    if double {
        return Ok((s.to_string(), false));
    }
    // A cluster of short options such as -q, -qx FILE or -xFILE.
    let value_at = body.find(SHORT_WITH_VALUE);
    let switches = &body[..value_at.unwrap_or(body.len())];
    if !switches.chars().all(|c| SHORT_SWITCHES.contains(&c)) {
        return Err(format!("unexpected argument '{s}' found"));
    }
    let takes_next = value_at.is_some_and(|i| i + 1 == body.len());
    Ok((s.to_string(), takes_next))
}

/// Parse the command line (without the program name).
pub fn parse(argv: &[OsString]) -> Result<Invocation, CliExit> {
    let mut full = vec![OsString::from("goheap")];
    full.extend(
        normalize_argv(argv).map_err(|m| CliExit::Usage(format!("{m} (see 'goheap --help')")))?,
    );
    let matches = Cli::command()
        .try_get_matches_from(full)
        .map_err(clap_exit)?;
    let cli = Cli::from_arg_matches(&matches).map_err(clap_exit)?;

    let mut items: Vec<(usize, ScriptItem)> = Vec::new();
    if let Some(idx) = matches.indices_of("ex") {
        items.extend(idx.zip(cli.ex.iter().map(|c| ScriptItem::Ex(c.clone()))));
    }
    if let Some(idx) = matches.indices_of("command_files") {
        items.extend(
            idx.zip(
                cli.command_files
                    .iter()
                    .map(|f| ScriptItem::File(f.clone())),
            ),
        );
    }
    items.sort_by_key(|(i, _)| *i);

    let mode = mode(&cli.positionals)?;
    if mode == Mode::HelpMarkdown && !items.is_empty() {
        return Err(CliExit::Usage("help-markdown takes no options".into()));
    }
    Ok(Invocation {
        mode,
        script: items.into_iter().map(|(_, item)| item).collect(),
        batch: cli.batch,
        json: cli.json,
        quiet: cli.quiet,
    })
}

fn mode(words: &[String]) -> Result<Mode, CliExit> {
    let missing = |what: &str| {
        CliExit::Usage(format!(
            "missing {what}: expected 'goheap core <EXE> <CORE>' (see 'goheap --help')"
        ))
    };
    let (target, command) = match words.first().map(String::as_str) {
        None => return Err(missing("<EXE> and <CORE>")),
        Some("help-markdown") if words.len() == 1 => return Ok(Mode::HelpMarkdown),
        Some("core") => (&words[1..words.len().min(3)], &words[words.len().min(3)..]),
        Some(_) => (&words[..words.len().min(2)], &words[words.len().min(2)..]),
    };
    match target {
        [] => Err(missing("<EXE> and <CORE>")),
        [_] => Err(missing("<CORE>")),
        [exe, core] => Ok(Mode::Core {
            exe: exe.into(),
            core: core.into(),
            command: command.to_vec(),
        }),
        _ => unreachable!("target slices hold at most two words"),
    }
}

/// Turn a clap error into `--help`/`--version` output or a one-line usage error.
fn clap_exit(err: clap::Error) -> CliExit {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => CliExit::Info(err.to_string()),
        _ => {
            let text = err.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let msg = first.strip_prefix("error: ").unwrap_or(first);
            CliExit::Usage(format!("{msg} (see 'goheap --help')"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn norm(args: &[&str]) -> Vec<String> {
        normalize_argv(&os(args))
            .unwrap()
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    fn ok(args: &[&str]) -> Invocation {
        parse(&os(args)).unwrap_or_else(|e| panic!("{args:?}: {e:?}"))
    }

    fn usage(args: &[&str]) -> String {
        match parse(&os(args)) {
            Err(CliExit::Usage(m)) => m,
            other => panic!("{args:?}: expected a usage error, got {other:?}"),
        }
    }

    fn core(exe: &str, core: &str, command: &[&str]) -> Mode {
        Mode::Core {
            exe: exe.into(),
            core: core.into(),
            command: command.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn normalize_rewrites_gdb_spellings_but_not_values() {
        assert_eq!(
            norm(&[
                "-batch",
                "-ex",
                "-batch",
                "-eval-command=help",
                "-quiet",
                "a",
                "b"
            ]),
            [
                "--batch",
                "--ex",
                "-batch",
                "--eval-command=help",
                "--quiet",
                "a",
                "b"
            ]
        );
        assert_eq!(
            norm(&["-x", "-f", "-qx", "g", "-xh", "a"]),
            ["-x", "-f", "-qx", "g", "-xh", "a"]
        );
        assert_eq!(norm(&["-q", "-h", "-V"]), ["-q", "-h", "-V"]);
        assert_eq!(
            norm(&["-command", "f", "-json", "-version"]),
            ["--command", "f", "--json", "--version"]
        );
    }

    #[test]
    fn normalize_passes_trailing_command_after_double_dash() {
        assert_eq!(
            norm(&["core", "e", "c", "--json", "spans", "-summary", "-ex", "x"]),
            ["core", "e", "c", "--json", "--", "spans", "-summary", "-ex", "x"]
        );
        assert_eq!(
            norm(&["e", "c", "spans", "-top", "3"]),
            ["e", "c", "--", "spans", "-top", "3"]
        );
        assert_eq!(norm(&["e", "c", "-q"]), ["e", "c", "-q"]);
        assert_eq!(norm(&["e", "--", "-c"]), ["e", "--", "-c"]);
    }

    #[test]
    fn parses_dlv_and_gdb_forms() {
        let inv = ok(&["core", "./app", "core.1"]);
        assert_eq!(inv.mode, core("./app", "core.1", &[]));
        assert!(!inv.batch && !inv.json && !inv.quiet && inv.script.is_empty());
        assert_eq!(ok(&["./app", "core.1"]).mode, core("./app", "core.1", &[]));
        assert_eq!(
            ok(&["-q", "core", "./app", "core.1", "spans", "-summary"]).mode,
            core("./app", "core.1", &["spans", "-summary"])
        );
        assert_eq!(
            ok(&["./app", "c", "help", "spans"]).mode,
            core("./app", "c", &["help", "spans"])
        );
        assert_eq!(ok(&["help-markdown"]).mode, Mode::HelpMarkdown);
    }

    #[test]
    fn options_anywhere_before_the_command() {
        let inv = ok(&["core", "a", "-batch", "b", "--json", "-silent", "overview"]);
        assert!(inv.batch && inv.json && inv.quiet);
        assert_eq!(inv.mode, core("a", "b", &["overview"]));
    }

    #[test]
    fn ex_and_x_keep_their_relative_order() {
        let inv = ok(&[
            "-x",
            "f1",
            "-ex",
            "help",
            "--eval-command",
            "spans -summary",
            "--command=f2",
            "-eval-command=quit",
            "core",
            "e",
            "c",
            "-x",
            "f3",
        ]);
        assert_eq!(
            inv.script,
            [
                ScriptItem::File("f1".into()),
                ScriptItem::Ex("help".into()),
                ScriptItem::Ex("spans -summary".into()),
                ScriptItem::File("f2".into()),
                ScriptItem::Ex("quit".into()),
                ScriptItem::File("f3".into()),
            ]
        );
    }

    #[test]
    fn usage_errors_are_one_line() {
        for (args, needle) in [
            (&["--frobnicate", "a", "b"][..], "--frobnicate"),
            (&["-frobnicate", "a", "b"][..], "'-frobnicate'"),
            (&["-qz", "a", "b"][..], "'-qz'"),
            (&[][..], "missing <EXE> and <CORE>"),
            (&["core"][..], "missing <EXE> and <CORE>"),
            (&["core", "a"][..], "missing <CORE>"),
            (&["a"][..], "missing <CORE>"),
            (&["a", "b", "-ex"][..], "--ex"),
            (&["-ex", "help", "help-markdown"][..], "help-markdown"),
        ] {
            let m = usage(args);
            assert!(m.contains(needle), "{args:?}: {m}");
            assert!(!m.contains('\n'), "{args:?}: {m}");
        }
    }

    #[test]
    fn help_and_version_are_info() {
        for args in [
            &["--help"][..],
            &["-h"],
            &["-help"],
            &["--version"],
            &["-V"],
            &["-version"],
        ] {
            assert!(
                matches!(parse(&os(args)), Err(CliExit::Info(_))),
                "{args:?}"
            );
        }
        let Err(CliExit::Info(v)) = parse(&os(&["--version"])) else {
            unreachable!()
        };
        assert_eq!(v.trim(), format!("goheap {}", env!("CARGO_PKG_VERSION")));
    }
}
