//! The command table: the single list of REPL commands, and dispatch of one command line.
//!
//! To add a command, add one [`CommandSpec`] entry to [`COMMANDS`] and write its `run`
//! function (in the module of its group, such as `heap_cmds.rs`). Parsing, `help`, completion,
//! `--json` and `docs/commands.md` all come from this table.

use crate::args::{split_command_word, tokenize, Args, FlagSpec};
use crate::context::Context;
use crate::output::{CmdError, Output};
use crate::{builtin_cmds, examine_cmds, goroutine_cmds, graph_cmds, heap_cmds, object_cmds};

/// The signature of every command implementation.
pub type RunFn = fn(&mut Context, &Args) -> Result<Output, CmdError>;

/// Headings under which `help` lists commands, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Heap,
    Objects,
    Goroutines,
    Session,
}

impl Group {
    /// All groups in display order.
    pub const ALL: &'static [Group] = &[
        Group::Heap,
        Group::Objects,
        Group::Goroutines,
        Group::Session,
    ];

    /// The heading shown by `help`.
    pub fn title(self) -> &'static str {
        match self {
            Group::Heap => "Heap",
            Group::Objects => "Objects and memory",
            Group::Goroutines => "Goroutines",
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
        name: "heapgraph",
        aliases: &["reach"],
        group: Group::Heap,
        usage: "heapgraph [-roots] [ADDR...]",
        summary: "Mark the heap from its roots: live objects and garbage, per size class.",
        help: "Enumerates the roots the runtime's garbage collector scans (globals by the data \
               and bss pointer masks, every goroutine's stack frames by their stack maps, \
               finalizers, cleanups, weak handles, queued finalizers and cleanups, each P's \
               tiny block) and marks every heap object reachable from them, following the \
               pointer words the runtime would. Prints the roots by kind, then allocated, \
               reachable and garbage (allocated but unreachable: the next GC frees it) objects \
               and bytes, in total and per size class. With addresses, says for each whether \
               the heap object holding it is reachable or garbage.",
        flags: &[FlagSpec::switch(
            "roots",
            "List every root: kind, name, address range and pointer words.",
        )],
        max_positional: None,
        format_suffix: false,
        run: heap_cmds::heapgraph,
    },
    CommandSpec {
        name: "histogram",
        aliases: &["histo"],
        group: Group::Heap,
        usage: "histogram [-top N] [-sort bytes|count] [-type REGEX] [-pprof FILE]",
        summary: "Every allocated object grouped by type: count, bytes, average, % of live.",
        help: "Marks the heap (as `heapgraph` does), types the reachable objects and groups \
               them by type: count, bytes, average size and share of the live heap, largest \
               first. Types come from the runtime (Go 1.22+: malloc headers and largeType of \
               scan objects) and from globals typed by DWARF, and are propagated along typed \
               pointers, slices, strings and interfaces; objects still of unknown type are \
               grouped by size class and scan/noscan, and garbage (allocated but unreachable) \
               is one row, so that the rows add up to the heap. Go 1.21 stores no types: only \
               what typed globals reach is typed there. Bytes are slot bytes (the size class). \
               -type keeps the rows whose name a regular expression matches anywhere (Rust \
               regex syntax: `main\\.`, `^\\[\\]`, `unknown \\(class 5,`); an invalid one fails \
               the command.\n\n\
               -pprof FILE writes the complete live heap (every reachable object, unsampled; \
               garbage left out) as a gzipped profile.proto with sample types inuse_objects \
               and inuse_space for `go tool pprof`. Each object's stack is its type, then its \
               allocation stack where the runtime's memory profile recorded one (label \
               stack=allocation), else its ancestors' types up to the root that reaches it \
               (label stack=path; repeats of one type folded into one frame, at most 16 \
               frames, the middle of longer paths shown as `…`). -type, -top and -sort do \
               not combine with -pprof.",
        flags: &[
            FlagSpec::value("top", "N", "Only the first N rows."),
            FlagSpec::value("sort", "KEY", "Order rows by bytes (default) or count.")
                .choices(&["bytes", "count"]),
            FlagSpec::value(
                "type",
                "REGEX",
                "Only rows whose type name matches REGEX (a regular expression, unanchored).",
            ),
            FlagSpec::value(
                "pprof",
                "FILE",
                "Write every reachable object as a heap profile (gzipped profile.proto) to FILE.",
            ),
        ],
        max_positional: Some(0),
        format_suffix: false,
        run: heap_cmds::histogram,
    },
    CommandSpec {
        name: "objects",
        aliases: &[],
        group: Group::Heap,
        usage: "objects [-type REGEX] [-top N] [-garbage]",
        summary: "The objects of the types a regular expression selects, largest first.",
        help: "Lists the reachable objects whose type, named as `histogram` names it, matches \
               -type REGEX (a regular expression, unanchored; all reachable objects without \
               it): address, slot bytes, how the type was learned (header, large, global, \
               field, slice, string, iface, stack, finalizer, map, chan, closure; `-` for \
               unknown) and type, \
               largest first, then by address, followed by how many objects and bytes match. \
               Objects of unknown type are selected by their histogram row name \
               (`objects -type 'unknown \\(class 5,'`). The address is where Go pointers to \
               the object point (past the 8-byte malloc header of Go 1.22+ scan objects over \
               512 B). -garbage lists the garbage objects (allocated, unreachable) instead.",
        flags: &[
            FlagSpec::value(
                "type",
                "REGEX",
                "Only objects whose type name matches REGEX (a regular expression, unanchored).",
            ),
            FlagSpec::value("top", "N", "Show N objects (default 20; 0: only the totals)."),
            FlagSpec::switch(
                "garbage",
                "List garbage objects (allocated but unreachable) instead of reachable ones.",
            ),
        ],
        max_positional: Some(0),
        format_suffix: false,
        run: heap_cmds::objects,
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
            FlagSpec::value("top", "N", "Only the N spans wasting the most bytes (free slots and unused tail), largest first."),
        ],
        max_positional: Some(0),
        format_suffix: false,
        run: heap_cmds::spans,
    },
    CommandSpec {
        name: "goroutines",
        aliases: &["grs"],
        group: Group::Goroutines,
        usage: "goroutines [-t] [DEPTH] [-group] [stack|reason|start|creator|userloc] \
                [-status STATUS] [-reason TEXT] [-with FUNC_OR_FILE] [-min-wait DURATION] [-user] \
                [-pprof FILE]",
        summary: "List, filter and group every goroutine, or write a goroutine profile.",
        help:
            "Lists the live goroutines of the core (runtime.allgs), one line each: id, status or \
               wait reason, how long it has been waiting, the top user frame (the innermost \
               frame outside the Go standard library) and the creator. gdb spells it \
               `info goroutines`.\n\n\
               Wait times come from g.waitsince, which the runtime sets only when a GC scans a \
               blocked goroutine's stack, relative to the newest runtime clock reading in the \
               core (a core has no timestamp): they are lower bounds.\n\n\
               -t adds every goroutine's backtrace (DEPTH frames at most when a number \
               follows it). -group puts \
               goroutines into groups with counts, largest first, each with one \
               representative backtrace; by default goroutines with identical stacks are \
               grouped, as pprof's goroutine profile does: the view that finds a leak among \
               100 k goroutines. -pprof writes a gzipped goroutine profile (the shape of \
               /debug/pprof/goroutine) that `go tool pprof` opens.",
        flags: &[
            FlagSpec::switch(
                "t",
                "Add backtraces; an optional DEPTH after it limits them.",
            ),
            FlagSpec::switch(
                "group",
                "Group goroutines (by identical stack unless a grouping follows).",
            ),
            FlagSpec::value(
                "status",
                "STATUS",
                "Only goroutines in this state (waiting, running, runnable, syscall, ...).",
            ),
            FlagSpec::value(
                "reason",
                "TEXT",
                "Only goroutines whose wait reason contains TEXT (chan receive, select, ...).",
            ),
            FlagSpec::value(
                "with",
                "FUNC_OR_FILE",
                "Only goroutines with a frame whose function or file contains this text.",
            ),
            FlagSpec::value(
                "min-wait",
                "DURATION",
                "Only goroutines known to have waited at least this long (90s, 5m, 1h30m).",
            ),
            FlagSpec::switch(
                "user",
                "Leave out the runtime's own goroutines (GC workers, finalizers, ...).",
            ),
            FlagSpec::value(
                "pprof",
                "FILE",
                "Write a goroutine profile (gzipped profile.proto) to FILE.",
            ),
        ],
        max_positional: Some(2),
        format_suffix: false,
        run: goroutine_cmds::goroutines,
    },
    CommandSpec {
        name: "goroutine",
        aliases: &["gr"],
        group: Group::Goroutines,
        usage: "goroutine ID [bt] [DEPTH]",
        summary: "Show one goroutine and its full backtrace.",
        help: "Prints goroutine ID: status, wait reason and time, g address, stack bounds and \
               size, thread, start function, creator, pprof labels, and its backtrace with \
               every frame (inlined calls included) as function, file:line and pc.",
        flags: &[],
        max_positional: Some(3),
        format_suffix: false,
        run: goroutine_cmds::goroutine,
    },
    CommandSpec {
        name: "bt",
        aliases: &["backtrace", "stack", "where"],
        group: Group::Goroutines,
        usage: "bt [DEPTH]",
        summary: "Show the backtrace of the current goroutine (the one that crashed).",
        help: "The current goroutine is the one running on the thread that dumped the core \
               (the first thread of the core), else the lowest-numbered goroutine running on \
               a thread, else goroutine 1. Use `goroutine ID bt` for any other goroutine.",
        flags: &[],
        max_positional: Some(1),
        format_suffix: false,
        run: goroutine_cmds::bt,
    },
    CommandSpec {
        name: "threads",
        aliases: &[],
        group: Group::Goroutines,
        usage: "threads",
        summary: "List the OS threads with their pc, sp, M and goroutine.",
        help: "One line per thread of the core (NT_PRSTATUS): thread id, the runtime's M on it \
               (matched by m.procid), the registers' pc and sp, whether it was executing on a \
               goroutine stack, the scheduler stack (g0) or the signal stack (gsignal), the \
               goroutine it runs (m.curg) and the function at pc. gdb spells it `info threads`.",
        flags: &[],
        max_positional: Some(0),
        format_suffix: false,
        run: goroutine_cmds::threads,
    },
    CommandSpec {
        name: "info",
        aliases: &[],
        group: Group::Session,
        usage: "info goroutines|threads|symbol [ARGS...]",
        summary: "gdb spellings: `info goroutines`, `info threads`, `info symbol ADDR`.",
        help: "`info goroutines ARGS` runs `goroutines ARGS`; `info threads` runs `threads`; \
               `info symbol ADDR` runs `symbol ADDR`.",
        flags: &[],
        max_positional: None,
        format_suffix: false,
        run: goroutine_cmds::info,
    },
    CommandSpec {
        name: "whoalloc",
        aliases: &[],
        group: Group::Objects,
        usage: "whoalloc [-nograph] ADDR",
        summary: "What is at an address: the object, its type, and the stack that allocated it.",
        help: "For an address in the Go heap: the object holding it (span, slot, base and size, \
               size class, offset, allocated or free, scan or noscan, tiny block), its type \
               where the runtime stores one (Go 1.22+: the malloc header of pointer-holding \
               objects over 512 B, the span's largeType for large objects; smaller objects and \
               Go 1.21 carry none), the allocation stack from the memory profile's record (or \
               why there is none: not sampled at the MemProfileRate, profiling off, a tiny \
               sub-object), finalizers, cleanups, weak handles and pins, then a field-by-field \
               view when the type is known and a hex dump of the first bytes.\n\n\
               Other addresses are placed too: a goroutine stack (goroutine and frame), a \
               global variable (symbol and offset), runtime metadata, code (function and \
               file:line), or memory the core does not hold. ADDR is hex (0x...), decimal, or \
               a symbol with an optional offset (main.table+8). Looks the address up through \
               the arena map: no heap walk.\n\n\
               For an allocated heap object it also says what the heap graph knows: reachable \
               or garbage, the type the graph learned (also for objects whose type the \
               runtime does not store: from typed globals, pointers, slices, interfaces) and \
               how, and its first referrers (as `referrers` lists them). The graph and the \
               reverse index are built on the first such `whoalloc` of the session (about a \
               second each on a 2 GB core) and reused after; -nograph skips them.",
        flags: &[FlagSpec::switch(
            "nograph",
            "Skip the heap graph (reachability, graph type, referrers): no marking.",
        )],
        max_positional: Some(1),
        format_suffix: false,
        run: object_cmds::whoalloc,
    },
    CommandSpec {
        name: "paths",
        aliases: &["reachable"],
        group: Group::Objects,
        usage: "paths [-all N] ADDR",
        summary: "Why an object is alive: the shortest path from a root to it, each step named.",
        help: "Marks the heap (as `heapgraph` does) and searches breadth-first from every root \
               at once, so the path shown has the fewest hops: the root (kind and name: a \
               global with its symbol, a goroutine's frame, a finalizer, ...), then each heap \
               object from the first one the root points at down to the object holding ADDR, \
               with its address, its type (as `histogram` names it; `unknown (class N, S B)` \
               when not known) and the field of the word pointing at the next step (`.next`, \
               `[500]`, `[3].p`, or `+0x18` when the type is not known). Among equally short \
               paths the one through the lowest root, then the lowest addresses, is shown.\n\n\
               -all N shows up to N shortest paths, each through a different referrer of the \
               object (a referrer's own shortest path plus one hop), shortest first. For a \
               garbage object (allocated but unreachable) it says so and shows no path; an \
               address outside every allocated heap object is an error. The parent tree \
               (and, for -all, the reverse index of `referrers`) is built on first use and \
               kept for the session.",
        flags: &[FlagSpec::value(
            "all",
            "N",
            "Up to N shortest paths through distinct referrers.",
        )],
        max_positional: Some(1),
        format_suffix: false,
        run: graph_cmds::paths,
    },
    CommandSpec {
        name: "referrers",
        aliases: &[],
        group: Group::Objects,
        usage: "referrers [-top N] ADDR",
        summary: "Who points at an object: heap objects (with field), globals, goroutine frames.",
        help: "Every pointer word that marking follows into the object holding ADDR (a \
               pointer into its middle counts too): heap objects with their address, type and \
               the field holding the pointer (offset from the object's base), and roots: \
               globals (symbol and offset), goroutine frames (goroutine, frame and function), \
               finalizers and the other roots `heapgraph -roots` lists. Objects come first by \
               address, then roots; the first 20 are shown (-top N for more), then how many \
               more there are. The reverse index is built on first use (two parallel passes \
               over every reachable object) and kept for the session. A garbage object has no \
               reachable referrer; an address outside every allocated heap object is an error.",
        flags: &[FlagSpec::value(
            "top",
            "N",
            "Show up to N referrer words (default 20).",
        )],
        max_positional: Some(1),
        format_suffix: false,
        run: graph_cmds::referrers,
    },
    CommandSpec {
        name: "x",
        aliases: &[],
        group: Group::Objects,
        usage: "x [/FMT] [-fmt hex|oct|dec|bin] [-count N] [-size N] ADDR",
        summary: "Examine memory (gdb x/FMT or Delve x -fmt -count -size).",
        help: "gdb spelling: x/NFU ADDR, with count N, format F (x hex, z zero-padded hex, d \
               signed, u unsigned, o octal, t binary, c char, a address with symbol, f float, \
               s string) and unit size U (b 1, h 2, w 4, g 8 bytes); missing parts default to \
               1, x and w. Delve spelling: x -fmt hex -count 16 -size 8 ADDR (defaults: hex, 1 \
               unit of 1 byte). Each line starts with the address and <symbol+offset> when \
               the address is in a function or global. Reading stops at the first byte the \
               core does not hold.",
        flags: &[
            FlagSpec::value("fmt", "FMT", "Delve's format.").choices(&["hex", "oct", "dec", "bin"]),
            FlagSpec::value("count", "N", "Number of units to show."),
            FlagSpec::value("size", "N", "Unit size in bytes: 1, 2, 4 or 8."),
        ],
        max_positional: Some(2),
        format_suffix: true,
        run: examine_cmds::examine,
    },
    CommandSpec {
        name: "profile",
        aliases: &[],
        group: Group::Objects,
        usage: "profile [-o FILE] [-alloc] [-inuse]",
        summary: "Write the runtime's memory profile from the core as a pprof file.",
        help: "Reads every memory-profile bucket (runtime.mbuckets) with its allocation stack \
               and counts, as runtime.MemProfile would have returned them at the moment of the \
               core, and writes a gzipped profile.proto with the sample types of Go's heap \
               profile (alloc_objects, alloc_space, inuse_objects, inuse_space), scaled for \
               the MemProfileRate the way runtime/pprof does: `go tool pprof -top FILE` prints \
               what /debug/pprof/heap would have served. -o is required. -inuse (the default) \
               makes inuse_space the default sample type, -alloc makes it alloc_space (the \
               allocs profile).",
        flags: &[
            FlagSpec::value("o", "FILE", "Write the profile to FILE (required)."),
            FlagSpec::switch(
                "alloc",
                "Default sample type alloc_space (the allocs profile).",
            ),
            FlagSpec::switch(
                "inuse",
                "Default sample type inuse_space (the heap profile; the default).",
            ),
        ],
        max_positional: Some(0),
        format_suffix: false,
        run: object_cmds::profile,
    },
    CommandSpec {
        name: "symbol",
        aliases: &[],
        group: Group::Objects,
        usage: "symbol ADDR",
        summary: "Which function or global an address is in (gdb's info symbol).",
        help: "Prints `NAME + OFFSET in section SECTION` for an address inside a function (with \
               its file:line) or a global variable or other symbol of the executable, or `No \
               symbol matches ADDR.`. gdb spells it `info symbol ADDR`. For heap addresses use \
               whoalloc.",
        flags: &[],
        max_positional: Some(1),
        format_suffix: false,
        run: object_cmds::symbol,
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
    // gdb's two-word `info TOPIC ...` runs the command TOPIC.
    if let (None, Some(topic)) = (suffix, info_topic(name, &words)) {
        let spec = lookup(topic).ok_or_else(|| CmdError::usage("unreachable"))?;
        let args = Args::parse(spec, &words[2..], None)?;
        return Ok(Some((spec, args)));
    }
    let spec = lookup(name).ok_or_else(|| {
        CmdError::usage(format!(
            "unknown command {name:?} (type 'help' for a list of commands)"
        ))
    })?;
    let args = Args::parse(spec, &words[1..], suffix)?;
    Ok(Some((spec, args)))
}

/// The gdb `info` topics that are goheap commands: `info threads` is `threads`.
pub const INFO_TOPICS: &[&str] = &["goroutines", "threads", "symbol"];

fn info_topic<'a>(name: &str, words: &'a [String]) -> Option<&'a str> {
    let topic = words.get(1)?.as_str();
    (name == "info" && INFO_TOPICS.contains(&topic)).then_some(topic)
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
