//! Rendering the command table as help: the `help` list, `help <command>`, their JSON, and
//! the markdown of `docs/commands.md` (`goheap help-markdown`).

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::commands::{CommandSpec, Group, COMMANDS};

/// Width that long help is wrapped to in text mode.
const WRAP: usize = 80;

/// How `docs/commands.md` is regenerated; printed in the file and by the test that checks it.
pub const REGENERATE: &str = "cargo run -q -p inspector-repl -- help-markdown > docs/commands.md";

/// `name (alias, alias)`.
fn names(spec: &CommandSpec) -> String {
    if spec.aliases.is_empty() {
        spec.name.to_string()
    } else {
        format!("{} ({})", spec.name, spec.aliases.join(", "))
    }
}

/// The `help` list: commands grouped, one line each.
pub fn list_text() -> String {
    let width = COMMANDS.iter().map(|c| names(c).len()).max().unwrap_or(0);
    let mut s = String::new();
    for &group in Group::ALL {
        let _ = writeln!(s, "{}:", group.title());
        for c in COMMANDS.iter().filter(|c| c.group == group) {
            let _ = writeln!(s, "  {:width$}  {}", names(c), c.summary);
        }
        s.push('\n');
    }
    s.push_str("Type 'help <command>' for its flags and details.\n");
    s
}

/// `help <command>`: usage, help, flags, aliases.
pub fn command_text(spec: &CommandSpec) -> String {
    let mut s = format!("Usage: {}\n\n", spec.usage);
    let paras: Vec<String> = spec.help.split("\n\n").map(|p| wrap(p, WRAP)).collect();
    s.push_str(&paras.join("\n\n"));
    s.push('\n');
    if !spec.flags.is_empty() {
        s.push_str("\nFlags:\n");
        let width = spec
            .flags
            .iter()
            .map(|f| f.synopsis().len())
            .max()
            .unwrap_or(0);
        for f in spec.flags {
            let _ = writeln!(s, "  {:width$}  {}", f.synopsis(), f.help);
        }
    }
    if !spec.aliases.is_empty() {
        let _ = writeln!(s, "\nAliases: {}", spec.aliases.join(", "));
    }
    s
}

/// The JSON form of one command's help.
pub fn command_json(spec: &CommandSpec) -> Value {
    let flags: Vec<Value> = spec
        .flags
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "value": f.value,
                "choices": f.choices,
                "help": f.help,
            })
        })
        .collect();
    json!({
        "name": spec.name,
        "aliases": spec.aliases,
        "group": spec.group.title(),
        "usage": spec.usage,
        "summary": spec.summary,
        "help": spec.help,
        "flags": flags,
    })
}

/// The whole command table as markdown: the content of `docs/commands.md`.
pub fn markdown() -> String {
    let mut s = String::from("# goheap commands\n\n");
    let _ = writeln!(
        s,
        "<!-- Generated from inspector-repl/src/commands.rs; do not edit. Regenerate with:\n     {REGENERATE} -->\n"
    );
    s.push_str(
        "Commands are typed at the `(goheap)` prompt, given with `-ex`/`-x`, or appended to the \
         command line (`goheap core ./app core.1 spans -summary`). Flags use Delve's single-dash \
         spelling; `--flag`, `-flag=value` and `--flag=value` are accepted too, and `--` ends the \
         flags. Words are split like a shell: quote arguments that contain spaces. \
         See [json.md](json.md) for `--json` output and exit codes.\n\n",
    );
    for &group in Group::ALL {
        let _ = writeln!(s, "## {}\n", group.title());
        for c in COMMANDS.iter().filter(|c| c.group == group) {
            command_markdown(&mut s, c);
        }
    }
    while s.ends_with("\n\n") {
        s.pop();
    }
    s
}

/// One `### name` section.
fn command_markdown(s: &mut String, c: &CommandSpec) {
    let _ = writeln!(s, "### {}\n", c.name);
    let _ = writeln!(s, "{}\n", c.summary);
    let _ = writeln!(s, "```\n{}\n```\n", c.usage);
    for para in c.help.split("\n\n") {
        let _ = writeln!(s, "{para}\n");
    }
    if !c.flags.is_empty() {
        s.push_str("| Flag | Description |\n|---|---|\n");
        for f in c.flags {
            let _ = writeln!(s, "| `{}` | {} |", f.synopsis().replace('|', "\\|"), f.help);
        }
        s.push('\n');
    }
    if !c.aliases.is_empty() {
        let aliases: Vec<_> = c.aliases.iter().map(|a| format!("`{a}`")).collect();
        let _ = writeln!(s, "Aliases: {}\n", aliases.join(", "));
    }
}

/// Greedy word wrap of one paragraph to `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut col = 0;
    for word in text.split_whitespace() {
        if col > 0 && col + 1 + word.len() > width {
            out.push('\n');
            col = 0;
        } else if col > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += word.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn wrap_keeps_words_and_width() {
        let text = "a ".repeat(100) + "averyveryverylongwordthatdoesnotfit";
        let w = wrap(&text, 20);
        assert!(w.lines().all(|l| l.len() <= 35));
        assert_eq!(
            w.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn markdown_covers_every_command_and_flag() {
        let md = markdown();
        for c in COMMANDS {
            assert!(md.contains(&format!("### {}\n", c.name)), "{}", c.name);
            for f in c.flags {
                assert!(md.contains(&format!("`-{}", f.name)), "-{}", f.name);
            }
        }
        assert!(md.ends_with('\n') && !md.ends_with("\n\n"));
    }

    #[test]
    fn docs_commands_md_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/commands.md");
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == markdown(),
            "docs/commands.md is out of date with the command table; regenerate it from the \
             workspace root with:\n    {REGENERATE}"
        );
    }
}
