//! Heap-graph query commands: `paths` (alias `reachable`: shortest paths from the roots to an
//! object) and `referrers` (who points at an object). They call
//! `inspector_core::analysis::{paths, referrers}` and only render.

use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::{json, Value};

use inspector_core::analysis::heapgraph::HeapGraph;
use inspector_core::analysis::paths::{
    self, Located, NamedPath, Namer, ObjectRef, ReferrerEntry, RootRef,
};
use inspector_core::runtime::objects::ObjectRuntime;
use inspector_core::Session;

use crate::args::Args;
use crate::context::Context;
use crate::object_cmds::{hex, parse_address};
use crate::output::{CmdError, Output};

/// Referrers listed when `-top` is not given.
const DEFAULT_REFERRERS: usize = 20;
/// Paths longer than this show their first and last steps in text.
const LONG_PATH: usize = 24;

/// The heap graph and the type reader's runtime (both computed on first use).
fn namer(s: &Session) -> Result<(Arc<HeapGraph>, Arc<ObjectRuntime>), CmdError> {
    let g = s.heap_graph().map_err(CmdError::failed)?;
    let o = s.objects().map_err(CmdError::failed)?;
    Ok((g, o))
}

/// The object holding `addr`: reachable (slot bit and object), or the one-line answer for
/// garbage (`Err(Ok(output))`), or the error for a non-heap address.
fn locate(
    n: &Namer<'_>,
    addr: u64,
    cmd: &str,
) -> Result<Result<(u64, ObjectRef), ObjectRef>, CmdError> {
    match n.locate(addr) {
        Located::Reachable(b, o) => Ok(Ok((b, o))),
        Located::Garbage(o) => Ok(Err(o)),
        Located::NotHeap => Err(CmdError::failed(anyhow::anyhow!(
            "{cmd}: {addr:#x} is not in an allocated heap object"
        ))),
    }
}

pub(crate) fn object_json(o: &ObjectRef) -> Value {
    json!({"addr": hex(o.addr), "size": o.size, "type": o.type_name})
}

fn root_json(r: &RootRef) -> Value {
    json!({"kind": r.kind, "name": r.name, "addr": hex(r.addr), "goroutine": r.goroutine,
        "variables": r.variables})
}

/// `main.globalList (bss)`, `main.recent[7] (bss)`, `goroutine 18: main.stackHolder+0x10
/// (stack, variables: head)`: the root, the field (or offset) of its word, the frame's
/// variables.
fn root_text(r: &RootRef, field: &str) -> String {
    format!("{}{field} ({}{})", r.name, r.kind, variables_text(r))
}

/// `, variables: head, next` (a stack root's typed variables), or nothing.
fn variables_text(r: &RootRef) -> String {
    if r.variables.is_empty() {
        String::new()
    } else {
        format!(", variables: {}", r.variables.join(", "))
    }
}

fn garbage_line(addr: u64, o: &ObjectRef) -> String {
    format!(
        "{addr:#x} is garbage: allocated but unreachable, the next GC frees it ({} {:#x}, {} B)",
        o.type_name, o.addr, o.size
    )
}

fn path_text(t: &mut String, p: &NamedPath) {
    let _ = writeln!(t, "  {}", root_text(&p.root, &p.root_field));
    let n = p.steps.len();
    for (i, st) in p.steps.iter().enumerate() {
        if n > LONG_PATH && i == 10 {
            let _ = writeln!(t, "    … {} more step(s) …", p.length - 20);
        }
        if n > LONG_PATH && (10..n - 10).contains(&i) {
            continue;
        }
        let field = if st.field.is_empty() {
            String::new()
        } else {
            format!(" {}", st.field)
        };
        let _ = writeln!(
            t,
            "    → {:#x} {}{field}",
            st.object.addr, st.object.type_name
        );
    }
}

fn path_json(p: &NamedPath) -> Value {
    json!({
        "root": root_json(&p.root),
        "root_offset": p.root_offset,
        "root_field": p.root_field,
        "length": p.length,
        "steps_elided": p.elided,
        "steps": p.steps.iter().map(|s| json!({
            "addr": hex(s.object.addr),
            "size": s.object.size,
            "type": s.object.type_name,
            "field": s.field,
            "offset": s.offset,
        })).collect::<Vec<_>>(),
    })
}

/// `paths ADDR [-all N]`.
pub fn paths(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let word = args.positional(0, "ADDR")?.to_string();
    let all = args.flag_u64("all")?.unwrap_or(1).max(1) as usize;
    let s = ctx.session()?;
    let addr = parse_address(s, &word, "paths")?;
    let (g, o) = namer(s)?;
    let n =
        Namer::new(&g, s.memory(), o.types(s.memory())).with_dwarf(s.exe.dwarf.as_ref(), s.rt.bias);
    let (bit, obj) = match locate(&n, addr, "paths")? {
        Ok(x) => x,
        Err(o) => {
            return Ok(Output::new(
                garbage_line(addr, &o),
                json!({"target": hex(addr), "object": object_json(&o), "reachable": false, "paths": []}),
            ))
        }
    };
    let tree = s.parent_tree().map_err(CmdError::failed)?;
    if let Some(p) = &tree.problem {
        return Err(CmdError::failed(anyhow::anyhow!("paths: {p}")));
    }
    let rev = if all > 1 {
        Some(s.reverse_index().map_err(CmdError::failed)?)
    } else {
        None
    };
    let found = paths::shortest_paths(&tree, rev.as_deref(), bit, all, paths::PATH_ENDS);
    let named: Vec<NamedPath> = found.iter().map(|p| n.named_path(p)).collect();
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{addr:#x}: {} {:#x} ({} B), reachable; {} shortest path(s):",
        obj.type_name,
        obj.addr,
        obj.size,
        named.len()
    );
    for (i, p) in named.iter().enumerate() {
        let _ = writeln!(t, "path {} ({} step(s)):", i + 1, p.length);
        path_text(&mut t, p);
    }
    Ok(Output::new(
        t,
        json!({
            "target": hex(addr),
            "object": object_json(&obj),
            "reachable": true,
            "paths": named.iter().map(path_json).collect::<Vec<_>>(),
        }),
    ))
}

/// One referrer line and its JSON.
fn referrer_line(e: &ReferrerEntry) -> (String, Value) {
    match e {
        ReferrerEntry::Object {
            object,
            field,
            offset,
        } => (
            format!(
                "  {:#x} {} {field} (offset {offset:#x})",
                object.addr, object.type_name
            ),
            json!({
                "kind": "object",
                "addr": hex(object.addr),
                "size": object.size,
                "type": object.type_name,
                "field": field,
                "offset": offset,
            }),
        ),
        ReferrerEntry::Root {
            root,
            field,
            offset,
        } => (
            format!(
                "  {}{field} ({} root{}, offset {offset:#x})",
                root.name,
                root.kind,
                variables_text(root)
            ),
            json!({
                "kind": "root",
                "addr": hex(root.addr),
                "root_kind": root.kind,
                "name": root.name,
                "goroutine": root.goroutine,
                "variables": root.variables,
                "field": field,
                "offset": offset,
            }),
        ),
    }
}

/// A reachable object, its first referrer words (a text line and JSON each) and how many
/// pointer words point at it in all.
pub(crate) type Referrers = (ObjectRef, Vec<(String, Value)>, u64);

/// The referrers of a reachable object, as text lines and JSON (for `referrers` and
/// `whoalloc`).
pub(crate) fn referrers_of(
    s: &Session,
    addr: u64,
    limit: usize,
) -> Result<Option<Referrers>, CmdError> {
    let (g, o) = namer(s)?;
    let n =
        Namer::new(&g, s.memory(), o.types(s.memory())).with_dwarf(s.exe.dwarf.as_ref(), s.rt.bias);
    let Located::Reachable(bit, _) = n.locate(addr) else {
        return Ok(None);
    };
    let rev = s.reverse_index().map_err(CmdError::failed)?;
    if let Some(p) = &rev.problem {
        return Err(CmdError::failed(anyhow::anyhow!("referrers: {p}")));
    }
    let a = paths::referrers(&n, &rev, bit, limit);
    Ok(Some((
        a.object,
        a.entries.iter().map(referrer_line).collect(),
        a.total,
    )))
}

/// `referrers ADDR [-top N]`.
pub fn referrers(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let word = args.positional(0, "ADDR")?.to_string();
    let top = args
        .flag_u64("top")?
        .map_or(DEFAULT_REFERRERS, |n| n as usize);
    let s = ctx.session()?;
    let addr = parse_address(s, &word, "referrers")?;
    let (g, o) = namer(s)?;
    let n =
        Namer::new(&g, s.memory(), o.types(s.memory())).with_dwarf(s.exe.dwarf.as_ref(), s.rt.bias);
    if let Err(o) = locate(&n, addr, "referrers")? {
        return Ok(Output::new(
            format!("{}: nothing reachable points at it", garbage_line(addr, &o)),
            json!({"target": hex(addr), "object": object_json(&o), "reachable": false, "referrers": [], "total": 0}),
        ));
    }
    let Some((obj, lines, total)) = referrers_of(s, addr, top)? else {
        return Err(CmdError::failed(anyhow::anyhow!(
            "referrers: {addr:#x} is not in a reachable heap object"
        )));
    };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{addr:#x}: {} {:#x} ({} B): {total} pointer(s) to it",
        obj.type_name, obj.addr, obj.size
    );
    for (l, _) in &lines {
        let _ = writeln!(t, "{l}");
    }
    if total > lines.len() as u64 {
        let _ = writeln!(t, "  … and {} more", total - lines.len() as u64);
    }
    Ok(Output::new(
        t,
        json!({
            "target": hex(addr),
            "object": object_json(&obj),
            "reachable": true,
            "referrers": lines.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
            "total": total,
        }),
    ))
}
