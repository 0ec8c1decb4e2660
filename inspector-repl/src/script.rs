//! Commands given up front: `-ex CMD` and `-x FILE`, kept in the order they were given.

use std::path::{Path, PathBuf};

/// One `-ex` or `-x` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptItem {
    /// `-ex CMD`: one command line.
    Ex(String),
    /// `-x FILE`: a file of commands.
    File(PathBuf),
}

/// The command lines of a command file: one per line, with blank lines and lines whose first
/// non-blank character is `#` left out, and surrounding whitespace trimmed.
pub fn parse_command_file(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !crate::commands::is_blank(l))
        .map(str::to_string)
        .collect()
}

/// Expand the items into command lines, reading `-x` files. The error names the file.
pub fn expand(items: &[ScriptItem]) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for item in items {
        match item {
            ScriptItem::Ex(cmd) => lines.push(cmd.clone()),
            ScriptItem::File(path) => lines.extend(parse_command_file(&read(path)?)),
        }
    }
    Ok(lines)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read command file {}: {}",
            path.display(),
            crate::output::io_message(&e)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_file_skips_comments_and_blank_lines() {
        let text =
            "# setup\n\noverview\r\n   \n  spans -summary  \n\t# indented comment\nspans # kept\n";
        assert_eq!(
            parse_command_file(text),
            ["overview", "spans -summary", "spans # kept"]
        );
        assert!(parse_command_file("").is_empty());
    }

    #[test]
    fn expand_keeps_order_and_reads_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("cmds");
        std::fs::write(&f, "spans\n# c\nhelp spans\n").unwrap();
        let items = [
            ScriptItem::Ex("overview".into()),
            ScriptItem::File(f.clone()),
            ScriptItem::Ex("quit".into()),
        ];
        assert_eq!(
            expand(&items).unwrap(),
            ["overview", "spans", "help spans", "quit"]
        );
    }

    #[test]
    fn expand_names_a_missing_file() {
        let err = expand(&[ScriptItem::File("/nonexistent/goheap-cmds".into())]).unwrap_err();
        assert!(err.contains("/nonexistent/goheap-cmds"), "{err}");
        assert!(!err.contains('\n'));
    }
}
