//! Splitting a command line into words and parsing a command's flags.
//!
//! Flags follow Delve's single-dash spelling (`-class 3`, `-summary`); `--class 3`,
//! `-class=3` and `--class=3` mean the same. `--` ends the flags. Words are split like a shell:
//! whitespace separates, `'…'` is literal, `"…"` allows `\"` and `\\`, and a backslash outside
//! quotes escapes the next character.
//!
//! A gdb format suffix stays attached to the command word while splitting (`x/16xg 0x1000` gives
//! the words `x/16xg` and `0x1000`); [`split_command_word`] then separates it and [`Args`]
//! carries it as [`Args::format_suffix`].

use crate::commands::CommandSpec;
use crate::output::CmdError;

/// One flag of a command, as declared in the command table.
#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    /// Name without dashes: `class` for `-class`.
    pub name: &'static str,
    /// `Some(value name)` if the flag takes a value (`N` in `-class N`), `None` for a switch.
    pub value: Option<&'static str>,
    /// If not empty, the only values accepted (checked while parsing, offered in completion).
    pub choices: &'static [&'static str],
    /// One-line help.
    pub help: &'static str,
}

impl FlagSpec {
    /// A switch: present or absent, no value.
    pub const fn switch(name: &'static str, help: &'static str) -> FlagSpec {
        FlagSpec {
            name,
            value: None,
            choices: &[],
            help,
        }
    }

    /// A flag taking a value named `value_name` in help.
    pub const fn value(
        name: &'static str,
        value_name: &'static str,
        help: &'static str,
    ) -> FlagSpec {
        FlagSpec {
            name,
            value: Some(value_name),
            choices: &[],
            help,
        }
    }

    /// Restrict the values to `choices`.
    pub const fn choices(mut self, choices: &'static [&'static str]) -> FlagSpec {
        self.choices = choices;
        self
    }

    /// `-name` or `-name VALUE`, as shown in usage and help.
    pub fn synopsis(&self) -> String {
        match (self.value, self.choices.is_empty()) {
            (None, _) => format!("-{}", self.name),
            (Some(v), true) => format!("-{} {v}", self.name),
            (Some(_), false) => format!("-{} {}", self.name, self.choices.join("|")),
        }
    }
}

/// Split a command line into words, shell style. Errors on an unterminated quote or a
/// trailing backslash.
pub fn tokenize(line: &str) -> Result<Vec<String>, CmdError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(CmdError::usage("unterminated ' quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(CmdError::usage("unterminated \" quote")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(CmdError::usage("unterminated \" quote")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => {
                    in_word = true;
                    cur.push(c);
                }
                None => return Err(CmdError::usage("trailing backslash")),
            },
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Join words into a line that [`tokenize`] splits back into the same words.
pub fn quote_join<S: AsRef<str>>(words: &[S]) -> String {
    let quote = |w: &str| -> String {
        let plain = !w.is_empty()
            && !w
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '\\'));
        if plain {
            w.to_string()
        } else {
            format!("'{}'", w.replace('\'', r"'\''"))
        }
    };
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Split `x/16xg` into `("x", Some("16xg"))`; a word without `/` has no suffix.
pub fn split_command_word(word: &str) -> (&str, Option<&str>) {
    match word.split_once('/') {
        Some((name, fmt)) => (name, Some(fmt)),
        None => (word, None),
    }
}

/// The parsed arguments of one command invocation.
#[derive(Debug, Clone, Default)]
pub struct Args {
    command: &'static str,
    flags: Vec<(&'static str, Option<String>)>,
    positionals: Vec<String>,
    format_suffix: Option<String>,
}

impl Args {
    /// Parse `words` (the words after the command word) against `spec`.
    pub fn parse(
        spec: &'static CommandSpec,
        words: &[String],
        format_suffix: Option<&str>,
    ) -> Result<Args, CmdError> {
        let cmd = spec.name;
        if let Some(fmt) = format_suffix {
            if !spec.format_suffix {
                return Err(usage(
                    cmd,
                    format!("{cmd} does not take a /{fmt} format suffix"),
                ));
            }
        }
        let mut args = Args {
            command: cmd,
            format_suffix: format_suffix.map(str::to_string),
            ..Args::default()
        };
        let mut it = words.iter();
        while let Some(word) = it.next() {
            if word == "--" {
                args.positionals.extend(it.by_ref().cloned());
                break;
            }
            let Some(body) = flag_body(word) else {
                args.positionals.push(word.clone());
                continue;
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let Some(flag) = spec.flags.iter().find(|f| f.name == name) else {
                return Err(usage(cmd, format!("unknown flag {word} for {cmd}")));
            };
            let value = match (flag.value, inline) {
                (None, Some(_)) => {
                    return Err(usage(cmd, format!("flag -{name} of {cmd} takes no value")));
                }
                (None, None) => None,
                (Some(_), Some(v)) => Some(v),
                (Some(vname), None) => match it.next() {
                    Some(v) => Some(v.clone()),
                    None => {
                        return Err(usage(
                            cmd,
                            format!("flag -{name} of {cmd} needs a value {vname}"),
                        ));
                    }
                },
            };
            if let Some(v) = &value {
                if !flag.choices.is_empty() && !flag.choices.contains(&v.as_str()) {
                    return Err(usage(
                        cmd,
                        format!(
                            "invalid value {v:?} for -{name} of {cmd}: expected one of {}",
                            flag.choices.join(", ")
                        ),
                    ));
                }
            }
            args.flags.push((flag.name, value));
        }
        if let Some(max) = spec.max_positional {
            if let Some(extra) = args.positionals.get(max) {
                return Err(usage(
                    cmd,
                    format!("unexpected argument {extra:?} for {cmd}"),
                ));
            }
        }
        Ok(args)
    }

    /// The canonical name of the command these arguments are for.
    pub fn command(&self) -> &'static str {
        self.command
    }

    /// Whether the switch (or value flag) `name` was given.
    pub fn flag_bool(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| *n == name)
    }

    /// The value of flag `name`; if given several times, the last one.
    pub fn flag_str(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Flag `name` as an unsigned integer (decimal or `0x` hex).
    pub fn flag_u64(&self, name: &str) -> Result<Option<u64>, CmdError> {
        self.flag_str(name)
            .map(|v| parse_u64(v).ok_or_else(|| self.bad_value(name, v, "an unsigned integer")))
            .transpose()
    }

    /// Flag `name` as a finite floating-point number.
    pub fn flag_f64(&self, name: &str) -> Result<Option<f64>, CmdError> {
        self.flag_str(name)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| self.bad_value(name, v, "a number"))
            })
            .transpose()
    }

    /// Positional argument `index`, required; `what` names it in the error (`ADDR`).
    pub fn positional(&self, index: usize, what: &str) -> Result<&str, CmdError> {
        self.positionals
            .get(index)
            .map(String::as_str)
            .ok_or_else(|| {
                usage(
                    self.command,
                    format!("{} needs an argument {what}", self.command),
                )
            })
    }

    /// Positional argument `index`, if present.
    pub fn positional_opt(&self, index: usize) -> Option<&str> {
        self.positionals.get(index).map(String::as_str)
    }

    /// All positional arguments.
    pub fn positionals(&self) -> &[String] {
        &self.positionals
    }

    /// The gdb format suffix of the command word (`16xg` for `x/16xg`).
    pub fn format_suffix(&self) -> Option<&str> {
        self.format_suffix.as_deref()
    }

    fn bad_value(&self, name: &str, value: &str, expected: &str) -> CmdError {
        let cmd = self.command;
        usage(
            cmd,
            format!("invalid value {value:?} for -{name} of {cmd}: expected {expected}"),
        )
    }
}

/// The flag name part of `-name`, `--name`, `-name=v`; `None` for positionals (`-` included).
fn flag_body(word: &str) -> Option<&str> {
    let body = word.strip_prefix("--").or_else(|| word.strip_prefix('-'))?;
    (!body.is_empty()).then_some(body)
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A usage error for `cmd`, pointing at its help.
fn usage(cmd: &str, msg: String) -> CmdError {
    CmdError::usage(format!("{msg} (see 'help {cmd}')"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::lookup;

    fn words(line: &str) -> Vec<String> {
        tokenize(line).unwrap()
    }

    fn spans(line: &str) -> Result<Args, CmdError> {
        Args::parse(lookup("spans").unwrap(), &words(line), None)
    }

    fn usage_msg(r: Result<Args, CmdError>) -> String {
        match r {
            Err(CmdError::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn tokenize_splits_on_whitespace() {
        assert_eq!(
            words("  spans  -top 5\t-summary "),
            ["spans", "-top", "5", "-summary"]
        );
        assert!(words("").is_empty());
        assert!(words("   ").is_empty());
    }

    #[test]
    fn tokenize_handles_quotes_and_escapes() {
        assert_eq!(words(r#"p "a b" 'c d'"#), ["p", "a b", "c d"]);
        assert_eq!(words(r#""a\"b\\c\n""#), [r#"a"b\c\n"#]);
        assert_eq!(words(r"'a\b'"), [r"a\b"]);
        assert_eq!(words(r"a\ b"), ["a b"]);
        assert_eq!(words(r#"x"y"'z'"#), ["xyz"]);
        assert_eq!(words(r#"'' """#), ["", ""]);
    }

    #[test]
    fn tokenize_rejects_unterminated_quotes() {
        for bad in ["'abc", "\"abc", "abc\\", "\"a\\"] {
            assert!(matches!(tokenize(bad), Err(CmdError::Usage(_))), "{bad}");
        }
    }

    #[test]
    fn tokenize_keeps_format_suffix_on_command_word() {
        let w = words("x/16xg 0xc000010000");
        assert_eq!(w, ["x/16xg", "0xc000010000"]);
        assert_eq!(split_command_word(&w[0]), ("x", Some("16xg")));
        assert_eq!(split_command_word("spans"), ("spans", None));
        assert_eq!(split_command_word("x/"), ("x", Some("")));
    }

    #[test]
    fn quote_join_round_trips() {
        let cases: &[&[&str]] = &[
            &["spans", "-summary"],
            &["p", "a b", "it's", r#"q"uote"#, r"back\slash", ""],
        ];
        for &case in cases {
            assert_eq!(tokenize(&quote_join(case)).unwrap(), case);
        }
        assert_eq!(quote_join(&["spans", "-top", "5"]), "spans -top 5");
    }

    #[test]
    fn flag_spellings_are_equivalent() {
        for line in ["-class 3", "--class 3", "-class=3", "--class=3"] {
            let a = spans(line).unwrap();
            assert_eq!(a.flag_u64("class").unwrap(), Some(3), "{line}");
        }
        for line in ["-summary", "--summary"] {
            assert!(spans(line).unwrap().flag_bool("summary"), "{line}");
        }
        let a = spans("").unwrap();
        assert!(!a.flag_bool("summary"));
        assert_eq!(a.flag_u64("class").unwrap(), None);
        assert_eq!(a.command(), "spans");
    }

    #[test]
    fn typed_getters() {
        let a = spans("-top 0x10 -min-free 12.5 -state free").unwrap();
        assert_eq!(a.flag_u64("top").unwrap(), Some(16));
        assert_eq!(a.flag_f64("min-free").unwrap(), Some(12.5));
        assert_eq!(a.flag_str("state"), Some("free"));
        // The last occurrence wins.
        assert_eq!(
            spans("-top 1 -top 2").unwrap().flag_u64("top").unwrap(),
            Some(2)
        );
    }

    #[test]
    fn bad_values_name_flag_and_command() {
        let a = spans("-class x -min-free nan").unwrap();
        let m = a.flag_u64("class").unwrap_err().to_string();
        assert!(
            m.contains("-class") && m.contains("spans") && m.contains("\"x\""),
            "{m}"
        );
        let m = a.flag_f64("min-free").unwrap_err().to_string();
        assert!(m.contains("-min-free") && m.contains("spans"), "{m}");
        let m = spans("-top -1")
            .unwrap()
            .flag_u64("top")
            .unwrap_err()
            .to_string();
        assert!(m.contains("-top"), "{m}");
    }

    #[test]
    fn unknown_flag_names_command_and_help() {
        let m = usage_msg(spans("-summary -bogus"));
        assert!(
            m.contains("-bogus") && m.contains("spans") && m.contains("help spans"),
            "{m}"
        );
        let m = usage_msg(spans("--bogus=1"));
        assert!(m.contains("--bogus=1"), "{m}");
    }

    #[test]
    fn value_errors() {
        let m = usage_msg(spans("-class"));
        assert!(m.contains("-class") && m.contains("needs a value N"), "{m}");
        let m = usage_msg(spans("-summary=yes"));
        assert!(
            m.contains("-summary") && m.contains("takes no value"),
            "{m}"
        );
        let m = usage_msg(spans("-state used"));
        assert!(
            m.contains("inuse, manual, free") && m.contains("\"used\""),
            "{m}"
        );
    }

    #[test]
    fn value_may_start_with_dash() {
        // Like Go's flag package, a value flag takes the next word whatever it is.
        assert_eq!(
            spans("-top -summary").unwrap().flag_str("top"),
            Some("-summary")
        );
    }

    #[test]
    fn positionals_and_double_dash() {
        let help = lookup("help").unwrap();
        let a = Args::parse(help, &words("spans"), None).unwrap();
        assert_eq!(a.positional(0, "COMMAND").unwrap(), "spans");
        assert_eq!(a.positional_opt(1), None);
        let m = a.positional(1, "THING").unwrap_err().to_string();
        assert!(m.contains("help needs an argument THING"), "{m}");
        let a = Args::parse(help, &words("-- -x"), None).unwrap();
        assert_eq!(a.positionals(), ["-x"]);
        let a = Args::parse(help, &words("-"), None).unwrap();
        assert_eq!(a.positionals(), ["-"]);
    }

    #[test]
    fn too_many_positionals() {
        let m = usage_msg(spans("extra"));
        assert!(
            m.contains("unexpected argument \"extra\"") && m.contains("help spans"),
            "{m}"
        );
        let help = lookup("help").unwrap();
        assert!(Args::parse(help, &words("a b"), None).is_err());
    }

    /// A command like gdb's `x`, which takes a `/FMT` suffix.
    static EXAMINE: CommandSpec = CommandSpec {
        name: "x",
        aliases: &[],
        group: crate::commands::Group::Session,
        usage: "x[/FMT] ADDR",
        summary: "Test command.",
        help: "Test command.",
        flags: &[],
        max_positional: Some(1),
        format_suffix: true,
        run: crate::builtin_cmds::quit,
    };

    #[test]
    fn format_suffix_reaches_args() {
        let w = words("x/16xg 0xc000010000");
        let (name, fmt) = split_command_word(&w[0]);
        assert_eq!(name, "x");
        let a = Args::parse(&EXAMINE, &w[1..], fmt).unwrap();
        assert_eq!(a.format_suffix(), Some("16xg"));
        assert_eq!(a.positional(0, "ADDR").unwrap(), "0xc000010000");
        let a = Args::parse(&EXAMINE, &w[1..], None).unwrap();
        assert_eq!(a.format_suffix(), None);
    }

    #[test]
    fn format_suffix_only_where_declared() {
        let m = usage_msg(Args::parse(lookup("spans").unwrap(), &[], Some("16xg")));
        assert!(m.contains("/16xg") && m.contains("spans"), "{m}");
    }

    #[test]
    fn synopsis() {
        let spec = lookup("spans").unwrap();
        let s: Vec<_> = spec.flags.iter().map(FlagSpec::synopsis).collect();
        assert!(s.contains(&"-summary".to_string()));
        assert!(s.contains(&"-class N".to_string()));
        assert!(s.contains(&"-state inuse|manual|free".to_string()));
    }
}
