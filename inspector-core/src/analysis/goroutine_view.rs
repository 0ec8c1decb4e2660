//! Views over [`Goroutines`]: which frame is the "user" frame, filters (`-status`,
//! `-reason`, `-with`, `-min-wait`), grouping (identical stacks, wait reason, start function,
//! creator, user location) and durations in Go's notation.
//!
//! Grouping sorts goroutine indices by their key and counts runs: no hash map per goroutine.

use crate::runtime::goroutines::{Goroutine, Goroutines, StackFrame, StatusKind};

/// Where the Go standard library's sources are in this binary's file table (the GOROOT the
/// program was built with, e.g. `/usr/local/go/src/`, or `$GOROOT/src/` with -trimpath).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdlibRoot(String);

impl StdlibRoot {
    /// Found from a runtime frame's file (every live program has `runtime.goexit` at the
    /// bottom of its goroutines, in `<GOROOT>/src/runtime/asm_amd64.s`).
    pub fn detect(gs: &Goroutines) -> StdlibRoot {
        let root = gs
            .list
            .iter()
            .flat_map(|g| g.backtrace.frames.iter())
            .find_map(|f| {
                let i = f.file.rfind("/src/runtime/")?;
                f.func
                    .starts_with("runtime.")
                    .then(|| f.file[..i + "/src/".len()].to_string())
            })
            .unwrap_or_else(|| "$GOROOT/src/".to_string());
        StdlibRoot(root)
    }

    /// The frame's source is in the standard library (or generated code without a file).
    pub fn is_std(&self, f: &StackFrame) -> bool {
        f.file.starts_with(&self.0) || f.file.starts_with('<') || f.file.as_ref() == "?"
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The innermost frame outside the standard library, else the innermost frame.
pub fn user_frame<'a>(g: &'a Goroutine, std: &StdlibRoot) -> Option<&'a StackFrame> {
    let frames = &g.backtrace.frames;
    frames
        .iter()
        .find(|f| !std.is_std(f))
        .or_else(|| frames.first())
}

/// The status as shown in lists: the wait reason when waiting, else the status name.
pub fn status_text(g: &Goroutine) -> String {
    let mut s = match &g.wait_reason {
        Some(r) => r.to_string(),
        None => g.status.name.to_string(),
    };
    if g.status.kind == StatusKind::Leaked {
        s.push_str(" (leaked)");
    }
    if g.status.scan {
        s.push_str(" (scan)");
    }
    s
}

/// The snake-case name of a status kind (`waiting`, `running`, `dead_extra`, ...).
pub fn kind_name(k: StatusKind) -> &'static str {
    match k {
        StatusKind::Idle => "idle",
        StatusKind::Runnable => "runnable",
        StatusKind::Running => "running",
        StatusKind::Syscall => "syscall",
        StatusKind::Waiting => "waiting",
        StatusKind::Dead => "dead",
        StatusKind::Copystack => "copystack",
        StatusKind::Preempted => "preempted",
        StatusKind::Leaked => "leaked",
        StatusKind::DeadExtra => "deadextra",
        StatusKind::Unknown => "unknown",
    }
}

/// Filters of the `goroutines` command. Every given filter must match.
#[derive(Debug, Clone, Default)]
pub struct GoroutineFilter {
    /// Status kind or runtime status name (`waiting`, `running`, `syscall`, ...),
    /// case-insensitive.
    pub status: Option<String>,
    /// Substring of the wait reason (case-insensitive).
    pub reason: Option<String>,
    /// Substring of any frame's function or file.
    pub with: Option<String>,
    /// Waiting at least this long (nanoseconds); goroutines without a known wait time fail.
    pub min_wait_ns: Option<u64>,
    /// Include dead goroutines (never by default).
    pub dead: bool,
}

impl GoroutineFilter {
    pub fn matches(&self, g: &Goroutine) -> bool {
        if g.is_dead() && !self.dead {
            return false;
        }
        if let Some(s) = &self.status {
            let s = s.to_ascii_lowercase();
            if kind_name(g.status.kind) != s && g.status.name.to_ascii_lowercase() != s {
                return false;
            }
        }
        if let Some(r) = &self.reason {
            let r = r.to_ascii_lowercase();
            if !g
                .wait_reason
                .as_deref()
                .is_some_and(|w| w.to_ascii_lowercase().contains(&r))
            {
                return false;
            }
        }
        if let Some(w) = &self.with {
            let w = w.as_str();
            if !g
                .backtrace
                .frames
                .iter()
                .any(|f| f.func.contains(w) || f.file.contains(w))
            {
                return false;
            }
        }
        if let Some(min) = self.min_wait_ns {
            if g.wait_ns.is_none_or(|n| n < min) {
                return false;
            }
        }
        true
    }
}

/// What `goroutines -group` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Identical stacks (the same pcs), as pprof's goroutine profile does.
    Stack,
    /// Status or wait reason.
    Reason,
    /// Start function.
    Start,
    /// Creator location (`go` statement).
    Creator,
    /// Top user frame (function and file:line).
    UserLoc,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "stack" => GroupBy::Stack,
            "reason" => GroupBy::Reason,
            "start" => GroupBy::Start,
            "creator" => GroupBy::Creator,
            "userloc" => GroupBy::UserLoc,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Stack => "stack",
            GroupBy::Reason => "reason",
            GroupBy::Start => "start",
            GroupBy::Creator => "creator",
            GroupBy::UserLoc => "userloc",
        }
    }
    pub const NAMES: &'static [&'static str] = &["stack", "reason", "start", "creator", "userloc"];
}

/// One group: its key, and the goroutines in it (indices into `Goroutines::list`, the first
/// being the representative).
#[derive(Debug, Clone)]
pub struct GoroutineGroup {
    /// Human key: the wait reason, the function, the location; for stacks, the
    /// representative's status and top user frame.
    pub key: String,
    pub members: Vec<usize>,
}

/// Sort key of one goroutine.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Pcs(Vec<u64>),
    Text(String),
}

fn loc(f: Option<&StackFrame>) -> String {
    match f {
        Some(f) => format!("{} {}:{}", f.func, f.file, f.line),
        None => "(no frames)".into(),
    }
}

/// Group the goroutines at `indices` (into `gs.list`): largest group first, ties by key.
pub fn group(
    gs: &Goroutines,
    indices: &[usize],
    by: GroupBy,
    std: &StdlibRoot,
) -> Vec<GoroutineGroup> {
    let key = |g: &Goroutine| -> Key {
        match by {
            GroupBy::Stack => Key::Pcs(g.backtrace.frames.iter().map(|f| f.pc).collect()),
            GroupBy::Reason => Key::Text(status_text(g)),
            GroupBy::Start => Key::Text(g.start_func.as_deref().unwrap_or("?").to_string()),
            GroupBy::Creator => Key::Text(match &g.created_at {
                Some(c) => format!("{} {}:{}", c.func, c.file, c.line),
                None => "(no creator)".into(),
            }),
            GroupBy::UserLoc => Key::Text(loc(user_frame(g, std))),
        }
    };
    let mut keyed: Vec<(Key, usize)> = indices.iter().map(|&i| (key(&gs.list[i]), i)).collect();
    keyed.sort();
    let mut groups: Vec<(Key, Vec<usize>)> = Vec::new();
    for (k, i) in keyed {
        match groups.last_mut() {
            Some((last, members)) if *last == k => members.push(i),
            _ => groups.push((k, vec![i])),
        }
    }
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    groups
        .into_iter()
        .map(|(k, members)| GoroutineGroup {
            key: match k {
                Key::Text(t) => t,
                Key::Pcs(_) => {
                    let g = &gs.list[members[0]];
                    format!("[{}] {}", status_text(g), loc(user_frame(g, std)))
                }
            },
            members,
        })
        .collect()
}

/// Parse a Go-style duration: `300ms`, `1.5s`, `2m30s`, `1h`, plain seconds `90`.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(secs) = s.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then_some((secs * 1e9) as u64);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&n| n > 0)?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * unit;
        rest = &rest[u..];
    }
    Some(total as u64)
}

/// A duration for people: `450ms`, `12.3s`, `3m12s`, `2h5m`.
pub fn format_duration(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    match ns {
        n if n < 1_000_000 => format!("{}µs", n / 1000),
        n if n < 1_000_000_000 => format!("{}ms", n / 1_000_000),
        n if n < 60_000_000_000 => format!("{:.1}s", n as f64 / 1e9),
        _ if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration("2m30s"), Some(150_000_000_000));
        assert_eq!(parse_duration("1h"), Some(3_600_000_000_000));
        assert_eq!(parse_duration("90"), Some(90_000_000_000));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("-1"), None);
    }

    #[test]
    fn durations_format_for_people() {
        assert_eq!(format_duration(450_000_000), "450ms");
        assert_eq!(format_duration(12_340_000_000), "12.3s");
        assert_eq!(format_duration(192_000_000_000), "3m12s");
        assert_eq!(format_duration(7_500_000_000_000), "2h5m");
        assert_eq!(format_duration(5_000), "5µs");
    }

    #[test]
    fn group_names_round_trip() {
        for n in GroupBy::NAMES {
            assert_eq!(GroupBy::parse(n).unwrap().name(), *n);
        }
        assert!(GroupBy::parse("nope").is_none());
    }
}
