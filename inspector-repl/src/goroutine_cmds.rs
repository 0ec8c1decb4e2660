//! Goroutine commands: `goroutines` (list, filter, group, `-pprof`), `goroutine <id> [bt]`,
//! `bt` and `threads`. The engine reads and unwinds every goroutine once per session
//! (`Session::goroutines`); these functions filter, group and render. Only the rendering that
//! will be printed is built (text, or the `--json` data), so that listing 100 k goroutines
//! with their stacks stays fast.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, Context as _};
use serde_json::{json, Value};

use inspector_core::analysis::goroutine_view::{
    self as view, format_duration, parse_duration, status_text, user_frame, GoroutineFilter,
    GroupBy, StdlibRoot,
};
use inspector_core::export::goroutine_profile::{write_goroutine_profile, MainMapping};
use inspector_core::runtime::goroutines::{
    Backtrace, BacktraceEnd, Goroutine, Goroutines, StackFrame,
};

use crate::args::Args;
use crate::context::Context;
use crate::output::{CmdError, Output};

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// The last two components of a path (`testdata/prog/main.go` → `prog/main.go`).
fn short(file: &str) -> &str {
    let mut it = file.rmatch_indices('/');
    match (it.next(), it.next()) {
        (Some(_), Some((i, _))) => &file[i + 1..],
        _ => file,
    }
}

fn frame_json(f: &StackFrame) -> Value {
    json!({
        "func": &*f.func,
        "file": &*f.file,
        "line": f.line,
        "pc": hex(f.pc),
        "sp": hex(f.sp),
        "inlined": f.inlined,
    })
}

fn end_text(b: &Backtrace) -> Option<String> {
    match &b.end {
        BacktraceEnd::Complete | BacktraceEnd::NotUnwound => None,
        BacktraceEnd::Broken { reason } => Some(format!("backtrace broken: {reason}")),
        BacktraceEnd::Stopped { reason } => Some(format!("backtrace stopped: {reason}")),
        BacktraceEnd::TooDeep => Some("backtrace truncated: too many frames".into()),
    }
}

fn end_json(b: &Backtrace) -> Value {
    match &b.end {
        BacktraceEnd::Complete => json!("complete"),
        BacktraceEnd::NotUnwound => json!("not_unwound"),
        BacktraceEnd::TooDeep => json!("too_deep"),
        BacktraceEnd::Broken { reason } => json!({"broken": reason}),
        BacktraceEnd::Stopped { reason } => json!({"stopped": reason}),
    }
}

/// The `--json` object of one goroutine (documented in docs/json.md).
fn goroutine_json(g: &Goroutine, depth: Option<usize>) -> Value {
    let frames = &g.backtrace.frames;
    let n = depth.map_or(frames.len(), |d| d.min(frames.len()));
    json!({
        "id": g.id,
        "addr": hex(g.addr),
        "status": &*g.status.name,
        "state": view::kind_name(g.status.kind),
        "wait_reason": g.wait_reason.as_deref(),
        "wait_ns": g.wait_ns,
        "created_by": (g.created_by != 0).then_some(g.created_by),
        "created_at": g.created_at.as_ref().map(|c| json!({
            "func": &*c.func, "file": &*c.file, "line": c.line, "pc": hex(c.pc),
        })),
        "start_func": g.start_func.as_deref(),
        "stack_lo": hex(g.stack_lo),
        "stack_hi": hex(g.stack_hi),
        "stack_size": g.stack_size(),
        "thread": g.thread,
        "m": g.m_id,
        "locked_to_thread": g.locked_to_thread,
        "system": g.system,
        "labels": g.labels.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "frames": frames[..n].iter().map(frame_json).collect::<Vec<_>>(),
        "backtrace": end_json(&g.backtrace),
        "unwound_from": g.backtrace.start,
        "fp_mismatch": g.backtrace.fp_mismatch,
    })
}

/// `0x` and 16 zero-padded hex digits.
fn push_hex18(w: &mut String, v: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    w.push_str("0x");
    for i in (0..16).rev() {
        w.push(DIGITS[((v >> (i * 4)) & 0xf) as usize] as char);
    }
}

/// Write a backtrace, Delve style: `N  0xPC in FUNC` / `   at FILE:LINE`. Built with
/// `push_str` rather than `write!`: `goroutines -t` writes hundreds of thousands of lines.
fn write_stack(w: &mut String, g: &Goroutine, depth: Option<usize>, indent: &str) {
    let frames = &g.backtrace.frames;
    let n = depth.map_or(frames.len(), |d| d.min(frames.len()));
    let mut num = String::new();
    for (i, f) in frames[..n].iter().enumerate() {
        num.clear();
        let _ = write!(num, "{i:>3}");
        w.push_str(indent);
        w.push_str(&num);
        w.push_str("  ");
        push_hex18(w, f.pc);
        w.push_str(" in ");
        w.push_str(&f.func);
        if f.inlined {
            w.push_str(" (inlined)");
        }
        w.push('\n');
        w.push_str(indent);
        w.push_str("       at ");
        w.push_str(&f.file);
        w.push(':');
        num.clear();
        let _ = write!(num, "{}", f.line);
        w.push_str(&num);
        w.push('\n');
    }
    if let Some(i) = g.backtrace.fp_mismatch.filter(|&i| i < n) {
        let _ = writeln!(
            w,
            "{indent}     (warning: the frame-pointer chain disagrees with this backtrace at frame {i})"
        );
    }
    if n < frames.len() {
        let _ = writeln!(w, "{indent}     ...{} more frames", frames.len() - n);
    } else if let Some(e) = end_text(&g.backtrace) {
        let _ = writeln!(w, "{indent}     ({e})");
    }
}

fn creator_text(g: &Goroutine) -> String {
    match (&g.created_at, g.created_by) {
        (Some(c), 0) => format!("{} {}:{}", c.func, short(&c.file), c.line),
        (Some(c), p) => format!("{} {}:{} in goroutine {p}", c.func, short(&c.file), c.line),
        (None, 0) => "-".into(),
        (None, p) => format!("goroutine {p}"),
    }
}

fn wait_text(g: &Goroutine) -> String {
    g.wait_ns.map_or_else(|| "-".to_string(), format_duration)
}

fn user_loc(g: &Goroutine, std: &StdlibRoot) -> String {
    match user_frame(g, std) {
        Some(f) => format!("{} {}:{}", f.func, short(&f.file), f.line),
        None => "(no frames)".into(),
    }
}

/// One line of the `goroutines` list.
fn list_line(w: &mut String, g: &Goroutine, std: &StdlibRoot) {
    let mut status = status_text(g);
    if g.locked_to_thread {
        status.push_str(", locked");
    }
    let _ = writeln!(
        w,
        "{:>8}  {:<24} {:>8}  {:<50}  {}",
        g.id,
        status,
        wait_text(g),
        user_loc(g, std),
        creator_text(g)
    );
}

fn goroutines_of(ctx: &mut Context) -> Result<std::sync::Arc<Goroutines>, CmdError> {
    let s = ctx.session()?;
    s.goroutines().map_err(CmdError::failed)
}

/// `-t [DEPTH]` and `-group [KEY]` take optional values; they arrive as positionals.
struct ListArgs {
    stacks: bool,
    depth: Option<usize>,
    group: Option<GroupBy>,
}

fn list_args(args: &Args) -> Result<ListArgs, CmdError> {
    let mut out = ListArgs {
        stacks: args.flag_bool("t"),
        depth: None,
        group: args.flag_bool("group").then_some(GroupBy::Stack),
    };
    for p in args.positionals() {
        if let (Some(_), Some(g)) = (out.group, GroupBy::parse(p)) {
            out.group = Some(g);
        } else if let (true, Ok(d)) = (out.stacks, p.parse::<usize>()) {
            out.depth = Some(d);
        } else {
            return Err(CmdError::usage(format!(
                "goroutines: unexpected argument {p:?} (a depth goes after -t, a grouping \
                 ({}) after -group)",
                GroupBy::NAMES.join("|")
            )));
        }
    }
    Ok(out)
}

fn filter_of(args: &Args) -> Result<GoroutineFilter, CmdError> {
    let min_wait_ns = args
        .flag_str("min-wait")
        .map(|s| {
            parse_duration(s).ok_or_else(|| {
                CmdError::usage(format!(
                    "goroutines: invalid -min-wait {s:?}: expected a duration such as 90s, 5m or 1h30m"
                ))
            })
        })
        .transpose()?;
    Ok(GoroutineFilter {
        status: args.flag_str("status").map(str::to_string),
        reason: args.flag_str("reason").map(str::to_string),
        with: args.flag_str("with").map(str::to_string),
        min_wait_ns,
        dead: false,
    })
}

/// `goroutines`: list, filter, group or export every goroutine.
pub fn goroutines(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let la = list_args(args)?;
    let filter = filter_of(args)?;
    let user_only = args.flag_bool("user");
    let pprof = args.flag_str("pprof").map(str::to_string);
    let json_mode = ctx.json();
    let gs = goroutines_of(ctx)?;
    let idx: Vec<usize> = gs
        .list
        .iter()
        .enumerate()
        .filter(|(_, g)| filter.matches(g) && !(user_only && g.system))
        .map(|(i, _)| i)
        .collect();
    if let Some(path) = pprof {
        return write_pprof(&gs, Path::new(&path), ctx);
    }
    let std = StdlibRoot::detect(&gs);
    let live = gs.live().count();
    if let Some(by) = la.group {
        let groups = view::group(&gs, &idx, by, &std);
        if json_mode {
            let data: Vec<Value> = groups
                .iter()
                .map(|gr| {
                    json!({
                        "key": gr.key,
                        "count": gr.members.len(),
                        "ids": gr.members.iter().map(|&i| gs.list[i].id).collect::<Vec<_>>(),
                        "representative": goroutine_json(&gs.list[gr.members[0]], la.depth),
                    })
                })
                .collect();
            return Ok(Output::new(String::new(), Value::Array(data)));
        }
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{} goroutine(s) in {} group(s) by {}, largest first ({live} live in all)",
            idx.len(),
            groups.len(),
            by.name()
        );
        for gr in &groups {
            let g = &gs.list[gr.members[0]];
            let _ = writeln!(t);
            let _ = writeln!(t, "{} goroutine(s): {}", gr.members.len(), gr.key);
            let ids: Vec<String> = gr
                .members
                .iter()
                .take(10)
                .map(|&i| gs.list[i].id.to_string())
                .collect();
            let more = gr.members.len().saturating_sub(10);
            let _ = writeln!(
                t,
                "  ids {}{}; e.g. goroutine {} [{}], created by {}",
                ids.join(" "),
                if more > 0 {
                    format!(" ... (+{more})")
                } else {
                    String::new()
                },
                g.id,
                status_text(g),
                creator_text(g)
            );
            write_stack(&mut t, g, la.depth, "  ");
        }
        return Ok(Output::new(t, Value::Null));
    }
    if json_mode {
        let data: Vec<Value> = idx
            .iter()
            .map(|&i| goroutine_json(&gs.list[i], la.depth))
            .collect();
        return Ok(Output::new(String::new(), Value::Array(data)));
    }
    let mut t = String::with_capacity(idx.len() * if la.stacks { 600 } else { 120 });
    let _ = writeln!(
        t,
        "{} goroutine(s) shown, {live} live; wait times relative to {} (a lower bound, see docs/goroutines.md)",
        idx.len(),
        gs.core_time.source
    );
    let _ = writeln!(
        t,
        "{:>8}  {:<24} {:>8}  {:<50}  CREATED BY",
        "ID", "STATUS", "WAIT", "USER FRAME"
    );
    for &i in &idx {
        let g = &gs.list[i];
        list_line(&mut t, g, &std);
        if la.stacks {
            write_stack(&mut t, g, la.depth, "    ");
        }
    }
    for p in &gs.problems {
        let _ = writeln!(t, "problem: {p}");
    }
    let _ = writeln!(t, "Time of the core: {}.", gs.core_time.explanation);
    Ok(Output::new(t, Value::Null))
}

fn write_pprof(gs: &Goroutines, path: &Path, ctx: &mut Context) -> Result<Output, CmdError> {
    let comment = format!("goheap goroutine profile of {}", ctx.core().display());
    let exe = ctx.exe().display().to_string();
    let s = ctx.session()?;
    let bias = s.rt.bias;
    let main = s.exe.pclntab().map(|t| MainMapping {
        start: t.min_pc() + bias,
        limit: t.max_pc() + bias,
        file: exe,
    });
    let mut f = std::fs::File::create(path)
        .with_context(|| format!("cannot create {}", path.display()))
        .map_err(CmdError::failed)?;
    let n = write_goroutine_profile(gs, &comment, main.as_ref(), &mut f)
        .with_context(|| format!("writing {}", path.display()))
        .map_err(CmdError::failed)?;
    let text = format!(
        "wrote a goroutine profile of {n} goroutine(s) to {} (go tool pprof {})",
        path.display(),
        path.display()
    );
    Ok(Output::new(
        text,
        json!({"file": path.display().to_string(), "goroutines": n}),
    ))
}

fn parse_id(s: &str) -> Result<u64, CmdError> {
    s.parse::<u64>()
        .map_err(|_| CmdError::usage(format!("goroutine: {s:?} is not a goroutine id")))
}

/// The full description of one goroutine and its backtrace.
fn describe(g: &Goroutine, gs: &Goroutines, depth: Option<usize>, json_mode: bool) -> Output {
    if json_mode {
        return Output::new(String::new(), goroutine_json(g, depth));
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Goroutine {} [{}]{}{}",
        g.id,
        status_text(g),
        g.wait_ns
            .map(|n| format!(
                ", waiting {} (relative to {})",
                format_duration(n),
                gs.core_time.source
            ))
            .unwrap_or_default(),
        if g.locked_to_thread {
            ", locked to thread"
        } else {
            ""
        }
    );
    let _ = writeln!(t, "  g          {}", hex(g.addr));
    let _ = writeln!(
        t,
        "  stack      [{}, {}) {} bytes",
        hex(g.stack_lo),
        hex(g.stack_hi),
        g.stack_size()
    );
    if let Some(tid) = g.thread {
        let _ = writeln!(
            t,
            "  thread     {tid} (M{})",
            g.m_id.map_or("?".into(), |m| m.to_string())
        );
    }
    if let Some(f) = &g.start_func {
        let _ = writeln!(t, "  start      {f}");
    }
    let _ = writeln!(t, "  created by {}", creator_text(g));
    if !g.labels.is_empty() {
        let l: Vec<String> = g.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(t, "  labels     {}", l.join(" "));
    }
    write_stack(&mut t, g, depth, "");
    Output::new(t, Value::Null)
}

/// `goroutine <id> [bt] [DEPTH]`.
pub fn goroutine(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let id = parse_id(args.positional(0, "ID")?)?;
    let mut depth = None;
    for p in &args.positionals()[1..] {
        match (p.as_str(), p.parse::<usize>()) {
            ("bt" | "stack", _) => {}
            (_, Ok(d)) => depth = Some(d),
            _ => {
                return Err(CmdError::usage(format!(
                    "goroutine: unexpected argument {p:?} (goroutine <id> [bt] [DEPTH])"
                )))
            }
        }
    }
    let json_mode = ctx.json();
    let gs = goroutines_of(ctx)?;
    let g = gs
        .by_id(id)
        .ok_or_else(|| CmdError::failed(anyhow!("no goroutine {id} in this core")))?;
    Ok(describe(g, &gs, depth, json_mode))
}

/// The goroutine `bt` shows: the one running on the core's first thread (the thread that
/// crashed), else the lowest-numbered running one, else goroutine 1.
fn current(gs: &Goroutines) -> Option<&Goroutine> {
    gs.threads
        .first()
        .and_then(|t| t.curg)
        .and_then(|id| gs.by_id(id))
        .or_else(|| {
            gs.live()
                .filter(|g| g.thread.is_some())
                .min_by_key(|g| g.id)
        })
        .or_else(|| gs.by_id(1))
}

/// `bt [DEPTH]`: the current goroutine's backtrace.
pub fn bt(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let depth = args
        .positional_opt(0)
        .map(|d| {
            d.parse::<usize>()
                .map_err(|_| CmdError::usage(format!("bt: {d:?} is not a depth")))
        })
        .transpose()?;
    let json_mode = ctx.json();
    let gs = goroutines_of(ctx)?;
    let g = current(&gs).ok_or_else(|| CmdError::failed(anyhow!("no goroutine to show")))?;
    Ok(describe(g, &gs, depth, json_mode))
}

/// `threads`: OS threads with pc/sp, M and goroutine.
pub fn threads(ctx: &mut Context, _args: &Args) -> Result<Output, CmdError> {
    let gs = goroutines_of(ctx)?;
    let s = ctx.session()?;
    let tab = s.exe.pclntab();
    let bias = s.rt.bias;
    let func_at = |pc: u64| -> String {
        tab.and_then(|t| {
            t.find_func(pc.wrapping_sub(bias))
                .map(|f| t.func_name(&f).to_string())
        })
        .unwrap_or_else(|| "?".into())
    };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "  {:>8}  {:>5}  {:>18}  {:>18}  {:<8}  {:>9}  FUNCTION",
        "TID", "M", "PC", "SP", "ON", "GOROUTINE"
    );
    let mut rows = Vec::new();
    for (i, th) in gs.threads.iter().enumerate() {
        let func = func_at(th.pc);
        let _ = writeln!(
            t,
            "{} {:>8}  {:>5}  {:#018x}  {:#018x}  {:<8}  {:>9}  {}",
            if i == 0 { "*" } else { " " },
            th.tid,
            th.m_id.map_or("-".into(), |m| m.to_string()),
            th.pc,
            th.sp,
            th.on,
            th.curg.map_or("-".into(), |g| g.to_string()),
            func
        );
        rows.push(json!({
            "tid": th.tid,
            "m": th.m_id,
            "pc": hex(th.pc),
            "sp": hex(th.sp),
            "on": th.on,
            "goroutine": th.curg,
            "function": func,
            "crashed": i == 0,
        }));
    }
    let _ = writeln!(t, "(* the thread that dumped the core)");
    Ok(Output::new(t, Value::Array(rows)))
}

/// `info` without a known topic (known topics are rewritten by the parser).
pub fn info(_ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let topics = crate::commands::INFO_TOPICS.join(", ");
    Err(CmdError::usage(match args.positional_opt(0) {
        Some(t) => format!("info: unknown topic {t:?} (known: {topics})"),
        None => format!("info needs a topic: {topics}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{execute, parse_line};

    #[test]
    fn info_topics_run_their_commands() {
        let (spec, args) = parse_line("info goroutines -t 5").unwrap().unwrap();
        assert_eq!(spec.name, "goroutines");
        assert!(args.flag_bool("t"));
        assert_eq!(args.positionals(), ["5"]);
        let (spec, _) = parse_line("info threads").unwrap().unwrap();
        assert_eq!(spec.name, "threads");
        let mut ctx = Context::without_target(false);
        for line in ["info", "info frobs"] {
            let err = execute(&mut ctx, line).unwrap_err();
            assert!(matches!(err, CmdError::Usage(_)), "{line}: {err:?}");
        }
    }

    #[test]
    fn optional_depth_and_grouping() {
        let (_, args) = parse_line("goroutines -group reason -t 3")
            .unwrap()
            .unwrap();
        let la = list_args(&args).unwrap();
        assert_eq!(la.group, Some(GroupBy::Reason));
        assert_eq!(la.depth, Some(3));
        let (_, args) = parse_line("grs -group").unwrap().unwrap();
        assert_eq!(list_args(&args).unwrap().group, Some(GroupBy::Stack));
        let (_, args) = parse_line("goroutines 7").unwrap().unwrap();
        assert!(matches!(list_args(&args), Err(CmdError::Usage(_))));
        let (_, args) = parse_line("goroutines -min-wait 5x").unwrap().unwrap();
        assert!(matches!(filter_of(&args), Err(CmdError::Usage(_))));
    }

    #[test]
    fn goroutine_commands_fail_cleanly_without_a_target() {
        let mut ctx = Context::without_target(false);
        for line in [
            "goroutines",
            "goroutines -t",
            "goroutine 1",
            "bt",
            "threads",
        ] {
            let err = execute(&mut ctx, line).unwrap_err();
            assert!(matches!(err, CmdError::Failed(_)), "{line}: {err:?}");
        }
        let err = execute(&mut ctx, "goroutine x").unwrap_err();
        assert!(matches!(err, CmdError::Usage(_)), "{err:?}");
    }

    #[test]
    fn short_paths() {
        assert_eq!(short("/a/b/c/main.go"), "c/main.go");
        assert_eq!(short("main.go"), "main.go");
        assert_eq!(short("/main.go"), "/main.go");
    }
}
