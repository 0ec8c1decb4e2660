//! Heap commands: `overview`, `spans`, `heapgraph`, `histogram` (and `-pprof`) and `objects`.
//! They ask inspector-core for the figures and only render them, as text tables or as the
//! `--json` data; the heap graph is computed through [`heap_graph`], which shows progress in
//! interactive use.

use std::fmt::Write as _;
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::{json, Value};

use inspector_core::analysis::heapgraph::HeapGraph;
use inspector_core::analysis::histogram::{type_regex, HistoRow, SortBy};
use inspector_core::analysis::objects_by_type::{self, HeaderRule, TypeKeys, Which};
use inspector_core::analysis::overview::Overview;
use inspector_core::analysis::progress::Phase;
use inspector_core::analysis::spans::{self, SpanFilter};
use inspector_core::runtime::heap::{Span, SpanState};

use crate::args::Args;
use crate::context::Context;
use crate::output::{CmdError, Output};
use crate::progress::Spinner;

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// `12345678` → `12,345,678`.
fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Bytes in binary units: `12.3 MiB`.
fn human(v: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < UNITS.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v} B")
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}

/// `overview`: the target, the heap's shape, and the walk against the runtime's counters.
pub fn overview(ctx: &mut Context, _args: &Args) -> Result<Output, CmdError> {
    let s = ctx.session()?;
    let o = Overview::build(s).map_err(CmdError::failed)?;
    let mut t = String::new();
    let w = &mut t;
    let _ = writeln!(w, "Go version    {} ({})", o.go_version, o.goarch);
    let _ = writeln!(
        w,
        "Executable    {}{} ({})",
        o.executable,
        if o.pie {
            format!(" [PIE, loaded at +{:#x}]", o.load_bias)
        } else {
            String::new()
        },
        o.exe_check
    );
    let _ = writeln!(
        w,
        "Core          {}{}",
        o.core,
        if o.compression == "none" {
            String::new()
        } else {
            format!(" ({} compressed)", o.compression)
        }
    );
    let _ = writeln!(
        w,
        "Process       {} thread(s){}",
        o.threads,
        o.process
            .as_ref()
            .map(|p| format!(", command {p}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        w,
        "GC            {} cycle(s), sweepgen {}, Green Tea GC {}",
        o.num_gc,
        o.sweepgen,
        if o.green_tea_gc { "on" } else { "off" }
    );
    let _ = writeln!(
        w,
        "Heap arenas   {} × {} in {:#x}–{:#x}",
        o.arenas,
        human(o.arena_bytes),
        o.heap_min,
        o.heap_max
    );
    let _ = writeln!(
        w,
        "Spans         {} in use ({} pages), {} manual (stacks, GC buffers), {} free page runs",
        thousands(o.spans_inuse),
        thousands(o.pages_inuse),
        thousands(o.spans_manual),
        thousands(o.free_runs)
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "{:<14} {:>22} {:>22}  ",
        "counter", "heap walk", "runtime counters"
    );
    for r in &o.counters {
        let fmt = |v: u64| {
            if r.name.ends_with("Objects") {
                thousands(v)
            } else {
                format!("{} ({})", thousands(v), human(v))
            }
        };
        let _ = writeln!(
            w,
            "{:<14} {:>22} {:>22}  {}",
            r.name,
            fmt(r.walk),
            fmt(r.runtime),
            if r.agrees() { "=" } else { "DIFFERS" }
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Runtime counters include {} object(s) and {} tiny allocation(s) still unflushed in per-P caches.",
        thousands(o.unflushed_objects),
        thousands(o.unflushed_tiny_allocs)
    );
    if o.class_mismatches.is_empty() {
        let _ = writeln!(
            w,
            "Live objects per size class: walk and runtime agree for every class."
        );
    } else {
        let _ = writeln!(w, "Size classes where walk and runtime differ:");
        for m in &o.class_mismatches {
            let _ = writeln!(
                w,
                "  class {:>2} ({:>5} B): walk {} runtime {}",
                m.class,
                m.size,
                thousands(m.walk),
                thousands(m.runtime)
            );
        }
    }
    if o.problems.is_empty() {
        let _ = writeln!(w, "No corrupt runtime metadata found.");
    } else {
        let _ = writeln!(w, "{} problem(s) in runtime metadata:", o.problems.len());
        for p in &o.problems {
            let _ = writeln!(w, "  {p}");
        }
    }
    let mut data = serde_json::to_value(&o).map_err(|e| CmdError::failed(anyhow::Error::new(e)))?;
    data["load_bias"] = json!(hex(o.load_bias));
    data["heap_min"] = json!(hex(o.heap_min));
    data["heap_max"] = json!(hex(o.heap_max));
    Ok(Output::new(t, data))
}

fn span_json(s: &Span, page_size: u64) -> Value {
    json!({
        "base": hex(s.base),
        "limit": hex(s.limit(page_size)),
        "state": s.state.name(),
        "class": s.size_class(),
        "noscan": s.noscan(),
        "elemsize": s.elemsize,
        "nelems": s.nelems,
        "allocated": s.allocated,
        "free": s.free_slots(),
        "pages": s.npages,
        "released_pages": s.released_pages,
        "wasted_bytes": spans::wasted_bytes(s, page_size),
        "mspan": if s.desc == 0 { Value::Null } else { json!(hex(s.desc)) },
    })
}

/// `spans`: one line per span, or `-summary` per size class.
pub fn spans(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let filter = SpanFilter {
        class: args
            .flag_u64("class")?
            .map(|c| {
                u8::try_from(c).ok().filter(|c| *c < 68).ok_or_else(|| {
                    CmdError::usage(format!("spans: -class {c}: size classes are 0 to 67"))
                })
            })
            .transpose()?,
        state: args
            .flag_str("state")
            .map(|v| {
                SpanState::parse(v).ok_or_else(|| {
                    CmdError::usage(format!("spans: -state {v}: expected inuse, manual or free"))
                })
            })
            .transpose()?,
        min_free_pct: args.flag_f64("min-free")?,
        top: args.flag_u64("top")?.map(|n| n as usize),
    };
    let summary = args.flag_bool("summary");
    let s = ctx.session()?;
    let heap = s.heap().map_err(CmdError::failed)?;
    if summary {
        let sum = spans::summarize(&heap);
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{:>5} {:>8} {:>8} {:>12} {:>16} {:>12} {:>7}",
            "class", "elemsize", "spans", "objects", "bytes", "free slots", "frag%"
        );
        for c in &sum.classes {
            let _ = writeln!(
                t,
                "{:>5} {:>8} {:>8} {:>12} {:>16} {:>12} {:>6.1}%",
                c.class,
                c.elemsize,
                thousands(c.spans),
                thousands(c.objects),
                thousands(c.bytes),
                thousands(c.free_slots),
                c.fragmentation_pct
            );
        }
        let _ = writeln!(
            t,
            "{:>5} {:>8} {:>8} {:>12} {:>16}",
            "large",
            "",
            thousands(sum.large.spans),
            thousands(sum.large.objects),
            thousands(sum.large.bytes)
        );
        let tot = &sum.total;
        let _ = writeln!(
            t,
            "{:>5} {:>8} {:>8} {:>12} {:>16} {:>12} {:>6.1}%",
            "total",
            "",
            thousands(tot.inuse_spans),
            thousands(tot.objects),
            thousands(tot.bytes),
            thousands(tot.free_slots),
            tot.fragmentation_pct
        );
        let _ = writeln!(
            t,
            "in-use spans hold {} of objects in {} of pages; manual spans {}; free pages {} ({} released to the OS)",
            human(tot.bytes),
            human(tot.inuse_bytes),
            human(tot.manual_bytes),
            human(tot.free_bytes),
            human(tot.released_bytes)
        );
        return Output::with_data(t, &sum);
    }
    let sel = spans::select(&heap, &filter);
    let ps = heap.page_size;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<31} {:<6} {:>5} {:>8} {:>6} {:>6} {:>6} {:>6}",
        "address range", "state", "class", "elemsize", "nelems", "alloc", "free", "pages"
    );
    for s in &sel {
        let class = match s.state {
            SpanState::InUse => format!("{}{}", s.size_class(), if s.noscan() { "n" } else { "" }),
            _ => "-".into(),
        };
        let _ = writeln!(
            t,
            "{:#014x}-{:#014x} {:<6} {:>5} {:>8} {:>6} {:>6} {:>6} {:>6}",
            s.base,
            s.limit(ps),
            s.state.name(),
            class,
            s.elemsize,
            s.nelems,
            s.allocated,
            s.free_slots(),
            s.npages
        );
    }
    let _ = writeln!(t, "{} span(s)", sel.len());
    let data = json!({ "spans": sel.iter().map(|s| span_json(s, ps)).collect::<Vec<_>>() });
    Ok(Output::new(t, data))
}

/// `heapgraph`: roots by kind, and live against garbage objects (in total and per size class).
pub fn heapgraph(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let s = ctx.session()?;
    let addrs = args
        .positionals()
        .iter()
        .map(|a| crate::object_cmds::parse_address(s, a, "heapgraph"))
        .collect::<Result<Vec<u64>, _>>()?;
    let g = heap_graph(ctx)?;
    let r = &g.reach;
    let mut t = String::new();
    let w = &mut t;
    let state = |v: Option<bool>| match v {
        Some(true) => "reachable",
        Some(false) => "garbage",
        None => "not_allocated_heap_object",
    };
    let list_roots = args.flag_bool("roots");
    if list_roots {
        for (i, root) in g.roots.list.iter().enumerate() {
            let vars = g.root_variables(i);
            let vars = if vars.is_empty() {
                String::new()
            } else {
                format!(" (variables {})", vars.join(", "))
            };
            let _ = writeln!(
                w,
                "{:<16} {:#x}-{:#x} {:>6} ptr words  {}{vars}",
                root.kind.name(),
                root.addr,
                root.addr + root.size,
                root_ptr_words(root),
                root.name
            );
        }
        let _ = writeln!(w);
    }
    for &a in &addrs {
        let ty = g.types.type_of(r, a).map_or_else(String::new, |(t, how)| {
            format!(" ({t}, from {})", how.name())
        });
        let _ = writeln!(w, "{a:#x}: {}{ty}", state(r.is_reachable(a)));
    }
    if !addrs.is_empty() {
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "Roots ({} in all)", thousands(g.roots.list.len() as u64));
    for (k, n, b) in &r.roots_by_kind {
        if *n > 0 {
            let _ = writeln!(
                w,
                "  {:<16} {:>10} root(s) {:>12}",
                k.name(),
                thousands(*n),
                human(*b)
            );
        }
    }
    let row = |w: &mut String, what: &str, n: u64, b: u64| {
        let _ = writeln!(
            w,
            "{what:<14} {:>14} objects {:>14} bytes ({})",
            thousands(n),
            thousands(b),
            human(b)
        );
    };
    row(w, "Allocated", r.allocated_objects, r.allocated_bytes);
    row(w, "Reachable", r.reachable_objects, r.reachable_bytes);
    row(w, "Garbage", r.garbage_objects, r.garbage_bytes);
    let _ = writeln!(
        w,
        "\n{:>5} {:>6} {:>12} {:>12} {:>14} {:>12} {:>14}",
        "class", "size", "allocated", "reachable", "reachable B", "garbage", "garbage B"
    );
    for c in &r.by_class {
        let _ = writeln!(
            w,
            "{:>5} {:>6} {:>12} {:>12} {:>14} {:>12} {:>14}",
            c.class,
            if c.class == 0 {
                "large".to_string()
            } else {
                c.size.to_string()
            },
            thousands(c.allocated_objects),
            thousands(c.reachable_objects),
            thousands(c.reachable_bytes),
            thousands(c.garbage_objects),
            thousands(c.garbage_bytes)
        );
    }
    let _ = writeln!(
        w,
        "\npointer maps: {}; roots {:.0} ms, marking {:.0} ms, types {:.0} ms",
        r.mechanism,
        g.roots_time.as_secs_f64() * 1e3,
        g.mark_time.as_secs_f64() * 1e3,
        g.types_time.as_secs_f64() * 1e3
    );
    if r.conservative_objects > 0 {
        let _ = writeln!(
            w,
            "{} object(s) scanned word by word (type unreadable)",
            r.conservative_objects
        );
    }
    let problems: Vec<&String> = g.roots.problems.iter().chain(&r.problems).collect();
    for p in problems.iter().take(20) {
        let _ = writeln!(w, "problem: {p}");
    }
    if problems.len() > 20 {
        let _ = writeln!(w, "problem: ... and {} more", problems.len() - 20);
    }
    let data = json!({
        "roots": r.roots_by_kind.iter().map(|(k, n, b)| json!({"kind": k.name(), "count": n, "bytes": b})).collect::<Vec<_>>(),
        "allocated_objects": r.allocated_objects,
        "allocated_bytes": r.allocated_bytes,
        "reachable_objects": r.reachable_objects,
        "reachable_bytes": r.reachable_bytes,
        "garbage_objects": r.garbage_objects,
        "garbage_bytes": r.garbage_bytes,
        "by_class": r.by_class,
        "mechanism": r.mechanism,
        "conservative_objects": r.conservative_objects,
        "problems": problems,
        "addresses": addrs.iter().map(|&a| {
            let t = g.types.type_of(r, a);
            json!({
                "address": a,
                "state": state(r.is_reachable(a)),
                "type": t.as_ref().map(|t| &t.0),
                "type_source": t.map(|t| t.1.name()),
            })
        }).collect::<Vec<_>>(),
        "root_list": if list_roots {
            Value::Array(g.roots.list.iter().enumerate().map(|(i, root)| json!({
                "kind": root.kind.name(),
                "name": &*root.name,
                "variables": g.root_variables(i).iter().map(|v| &**v).collect::<Vec<_>>(),
                "address": root.addr,
                "size": root.size,
                "pointer_words": root_ptr_words(root),
                "goroutine": root.goid,
            })).collect())
        } else {
            Value::Null
        },
        "roots_ms": g.roots_time.as_secs_f64() * 1e3,
        "mark_ms": g.mark_time.as_secs_f64() * 1e3,
        "types_ms": g.types_time.as_secs_f64() * 1e3,
        "typed_roots_ms": g.typed_roots_time.as_secs_f64() * 1e3,
        "type_conflicts": g.types.conflicts,
        "types_skipped": g.types.skipped,
        "closures_uncaptured": g.types.closures_uncaptured,
    });
    Ok(Output::new(t, data))
}

/// Pointer words of a root: set mask bits, every word, or `1` for an object root.
fn root_ptr_words(root: &inspector_core::runtime::roots::Root) -> u64 {
    use inspector_core::runtime::roots::RootMask;
    match &root.mask {
        RootMask::Bits(b) => b.iter().map(|x| u64::from(x.count_ones())).sum(),
        RootMask::AllWords => root.size / 8,
        RootMask::Object => 1,
    }
}

/// The session's heap graph, computed on first use with a progress indicator in interactive
/// use (see [`crate::progress`]).
pub fn heap_graph(ctx: &mut Context) -> Result<Arc<HeapGraph>, CmdError> {
    let spinner = Spinner::new(ctx.progress());
    heap_graph_showing(ctx, &spinner)
}

/// [`heap_graph`], its phases shown on `spinner`.
fn heap_graph_showing(ctx: &mut Context, spinner: &Spinner) -> Result<Arc<HeapGraph>, CmdError> {
    let s = ctx.session()?;
    s.heap_graph_with(&|p| spinner.phase(p))
        .map_err(CmdError::failed)
}

/// The `-type` flag of `cmd` as a regular expression (an invalid one fails the command).
fn type_flag(args: &Args, cmd: &str) -> Result<Option<regex::Regex>, CmdError> {
    args.flag_str("type")
        .map(|p| type_regex(p).map_err(|e| CmdError::failed(anyhow::anyhow!("{cmd}: {e}"))))
        .transpose()
}

/// `histogram`: the reachable objects by type, unknown groups and garbage (rows add up to the
/// heap walk's allocated objects and bytes); `-pprof FILE` writes the live heap as a profile.
pub fn histogram(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let sort = match args.flag_str("sort") {
        None | Some("bytes") => SortBy::Bytes,
        Some("count") => SortBy::Count,
        Some(v) => {
            return Err(CmdError::usage(format!(
                "histogram: -sort {v}: expected bytes or count"
            )))
        }
    };
    let top = args.flag_u64("top")?.map(|n| n as usize);
    let filter = type_flag(args, "histogram")?;
    if let Some(file) = args.flag_str("pprof") {
        if filter.is_some() || top.is_some() || args.flag_str("sort").is_some() {
            return Err(CmdError::usage(
                "histogram: -pprof writes every reachable object: -type, -top and -sort do not \
                 apply to it",
            ));
        }
        return histogram_pprof(ctx, file);
    }
    let g = heap_graph(ctx)?;
    let mut h = g.histogram.clone();
    h.sort(sort);
    let rows = h.select(filter.as_ref(), top);
    let mut t = String::new();
    let w = &mut t;
    let _ = writeln!(
        w,
        "{:>12} {:>16} {:>10} {:>7}  type",
        "count", "bytes", "average", "% live"
    );
    for r in &rows {
        let pct = h
            .percent_of_live(r)
            .map_or_else(|| "-".to_string(), |p| format!("{p:.2}"));
        let _ = writeln!(
            w,
            "{:>12} {:>16} {:>10} {:>7}  {}",
            thousands(r.count),
            thousands(r.bytes),
            thousands(r.average()),
            pct,
            r.type_name
        );
    }
    if rows.len() < h.rows.len() {
        let _ = writeln!(w, "({} of {} rows shown)", rows.len(), h.rows.len());
    }
    let _ = writeln!(
        w,
        "{:>12} {:>16} {:>10} {:>7}  total (allocated heap; live {} bytes, typed {} objects / {} bytes)",
        thousands(h.total_objects),
        thousands(h.total_bytes),
        thousands(h.total_bytes.checked_div(h.total_objects).unwrap_or(0)),
        "",
        thousands(h.live_bytes),
        thousands(h.typed_objects),
        thousands(h.typed_bytes)
    );
    let row_json = |r: &HistoRow| {
        json!({
            "type": r.type_name,
            "kind": r.kind,
            "count": r.count,
            "bytes": r.bytes,
            "average": r.average(),
            "percent_of_live": h.percent_of_live(r),
            "sources": r.sources.iter().map(|(src, n)| json!({"source": src.name(), "count": n})).collect::<Vec<_>>(),
        })
    };
    let data = json!({
        "rows": rows.iter().map(|r| row_json(r)).collect::<Vec<_>>(),
        "total_rows": h.rows.len(),
        "total_objects": h.total_objects,
        "total_bytes": h.total_bytes,
        "live_bytes": h.live_bytes,
        "typed_objects": h.typed_objects,
        "typed_bytes": h.typed_bytes,
        "types_stored": g.reach.types_stored(),
    });
    Ok(Output::new(t, data))
}

/// `histogram -pprof FILE`.
fn histogram_pprof(ctx: &mut Context, file: &str) -> Result<Output, CmdError> {
    use inspector_core::export::histogram_profile as hp;
    use inspector_core::export::pprof::write_gzipped;

    let spinner = Spinner::new(ctx.progress());
    let g = heap_graph_showing(ctx, &spinner)?;
    let core_path = ctx.core().display().to_string();
    let s = ctx.session()?;
    spinner.phase(Phase::Paths);
    let t0 = std::time::Instant::now();
    let tree = s.parent_tree().map_err(CmdError::failed)?;
    let paths_time = t0.elapsed();
    spinner.phase(Phase::Profile);
    let t1 = std::time::Instant::now();
    let heap = s.heap().map_err(CmdError::failed)?;
    let o = s.objects().map_err(CmdError::failed)?;
    let keys = TypeKeys::new(&g.reach, &g.types);
    let profiled = hp::profiled_slots(s.memory(), &heap, &o.layouts, &g.reach);
    let src = crate::object_cmds::profile_source(
        s,
        &o,
        format!("goheap: every reachable object of core {core_path} (unsampled; garbage left out)"),
    );
    let parent = |b: u64| tree.parent(b);
    let p = hp::build(&hp::HistogramProfileInput {
        reach: &g.reach,
        types: &g.types,
        keys: &keys,
        roots: &g.roots,
        parent: &parent,
        profiled: &profiled,
        stacks: hp::AllocStacks {
            mem: s.memory(),
            layouts: &o.layouts,
            pcln: s.exe.pclntab(),
            bias: s.rt.bias,
            go_minor: s.rt.version.minor,
        },
        src: &src,
    });
    let mut buf = Vec::new();
    write_gzipped(&p.profile, &mut buf).map_err(CmdError::failed)?;
    std::fs::write(file, &buf)
        .with_context(|| format!("histogram: cannot write {file}"))
        .map_err(CmdError::failed)?;
    let profile_time = t1.elapsed();
    drop(spinner);
    let mut t = String::new();
    let _ = writeln!(
        t,
        "wrote {} sample(s) to {file} ({} bytes, gzipped profile.proto; `go tool pprof -top {file}`)",
        thousands(p.profile.sample.len() as u64),
        thousands(buf.len() as u64)
    );
    let _ = writeln!(
        t,
        "{} reachable objects, {} bytes ({}): {} with their allocation stack, the others by \
         their path from a root",
        thousands(p.objects),
        thousands(p.bytes),
        human(p.bytes),
        thousands(p.alloc_objects)
    );
    if p.no_path_objects > 0 {
        let _ = writeln!(
            t,
            "{} object(s) with no known path (frame {})",
            thousands(p.no_path_objects),
            hp::NO_PATH
        );
    }
    let _ = writeln!(
        t,
        "{} garbage objects, {} bytes not included",
        thousands(p.garbage_objects),
        thousands(p.garbage_bytes)
    );
    let problems: Vec<&String> = profiled
        .problems
        .iter()
        .chain(&p.problems)
        .chain(&tree.problem)
        .collect();
    for m in &problems {
        let _ = writeln!(t, "problem: {m}");
    }
    let data = json!({
        "file": file,
        "samples": p.profile.sample.len(),
        "file_bytes": buf.len(),
        "objects": p.objects,
        "bytes": p.bytes,
        "alloc_stack_objects": p.alloc_objects,
        "alloc_stack_bytes": p.alloc_bytes,
        "no_path_objects": p.no_path_objects,
        "garbage_objects": p.garbage_objects,
        "garbage_bytes": p.garbage_bytes,
        "problems": problems,
        "paths_ms": paths_time.as_secs_f64() * 1e3,
        "profile_ms": profile_time.as_secs_f64() * 1e3,
    });
    Ok(Output::new(t, data))
}

/// Rows `objects` shows unless `-top` says otherwise.
const OBJECTS_TOP: usize = 20;

/// `objects`: the objects of the types a regular expression selects, largest first.
pub fn objects(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let filter = type_flag(args, "objects")?;
    let garbage = args.flag_bool("garbage");
    if garbage && filter.is_some() {
        return Err(CmdError::usage(
            "objects: -garbage lists the garbage objects, which have no type: -type does not \
             apply",
        ));
    }
    let top = args
        .flag_u64("top")?
        .map_or(OBJECTS_TOP, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let g = heap_graph(ctx)?;
    let s = ctx.session()?;
    let o = s.objects().map_err(CmdError::failed)?;
    let header = HeaderRule {
        min_size: o
            .layouts
            .consts
            .min_size_for_malloc_header
            .filter(|_| g.reach.types_stored()),
        header_size: o.layouts.consts.malloc_header_size,
    };
    let keys = TypeKeys::new(&g.reach, &g.types);
    let which = if garbage {
        Which::Garbage
    } else {
        Which::Reachable(filter.as_ref())
    };
    let sel = objects_by_type::select(&g.reach, &g.types, &keys, which, top, header);
    let mut t = String::new();
    let w = &mut t;
    let _ = writeln!(w, "{:<16} {:>14} {:<7}  type", "address", "size", "source");
    for r in &sel.rows {
        let _ = writeln!(
            w,
            "{:<16} {:>14} {:<7}  {}",
            hex(r.addr),
            thousands(r.size),
            r.source.map_or("-", |s| s.name()),
            r.type_name
        );
    }
    if (sel.rows.len() as u64) < sel.total_objects {
        let _ = writeln!(
            w,
            "({} of {} shown)",
            thousands(sel.rows.len() as u64),
            thousands(sel.total_objects)
        );
    }
    let _ = writeln!(
        w,
        "{} objects, {} bytes ({}) match",
        thousands(sel.total_objects),
        thousands(sel.total_bytes),
        human(sel.total_bytes)
    );
    let data = json!({
        "rows": sel.rows.iter().map(|r| json!({
            "addr": hex(r.addr),
            "size": r.size,
            "type": r.type_name,
            "source": r.source.map(|s| s.name()),
        })).collect::<Vec<_>>(),
        "total_objects": sel.total_objects,
        "total_bytes": sel.total_bytes,
    });
    Ok(Output::new(t, data))
}
