//! Session commands that need no target: `help` and `quit`.

use serde_json::json;

use crate::args::Args;
use crate::commands::{lookup, COMMANDS};
use crate::context::Context;
use crate::help;
use crate::output::{CmdError, Output};

/// `help [COMMAND]`.
pub fn help(_ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    match args.positional_opt(0) {
        None => {
            let list: Vec<_> = COMMANDS.iter().map(help::command_json).collect();
            Ok(Output::new(help::list_text(), json!({ "commands": list })))
        }
        Some(name) => {
            let spec = lookup(name).ok_or_else(|| {
                CmdError::usage(format!(
                    "unknown command {name:?} (type 'help' for a list of commands)"
                ))
            })?;
            Ok(Output::new(
                help::command_text(spec),
                help::command_json(spec),
            ))
        }
    }
}

/// `quit`: ask the driver to stop.
pub fn quit(ctx: &mut Context, _args: &Args) -> Result<Output, CmdError> {
    ctx.request_quit();
    Ok(Output::empty())
}

#[cfg(test)]
mod tests {
    use crate::commands::execute;
    use crate::context::Context;
    use crate::output::CmdError;

    #[test]
    fn help_lists_every_command_grouped() {
        let mut ctx = Context::without_target(false);
        let out = execute(&mut ctx, "help").unwrap();
        for c in crate::commands::COMMANDS {
            assert!(out.text.contains(c.name), "{}", c.name);
            assert!(out.text.contains(c.summary), "{}", c.name);
        }
        assert!(out.text.contains("Heap:") && out.text.contains("Session:"));
        let names: Vec<_> = out.json["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), crate::commands::COMMANDS.len());
    }

    #[test]
    fn help_for_one_command_by_name_or_alias() {
        let mut ctx = Context::without_target(false);
        let out = execute(&mut ctx, "help spans").unwrap();
        assert!(
            out.text.starts_with("Usage: spans [-summary]"),
            "{}",
            out.text
        );
        assert!(out.text.contains("-min-free PCT"));
        assert!(out.text.contains("one row per size class"));
        assert!(
            out.text.contains("free slots.\n\nWith -summary"),
            "{}",
            out.text
        );
        assert_eq!(out.json["name"], "spans");
        assert_eq!(out.json["flags"][0]["name"], "summary");
        let out = execute(&mut ctx, "h q").unwrap();
        assert!(out.text.contains("Aliases: exit, q"), "{}", out.text);
    }

    #[test]
    fn help_for_unknown_command_is_a_usage_error() {
        let mut ctx = Context::without_target(false);
        let err = execute(&mut ctx, "help nope").unwrap_err();
        assert!(matches!(err, CmdError::Usage(_)));
    }
}
