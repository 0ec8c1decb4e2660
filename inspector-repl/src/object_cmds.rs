//! Object commands: `whoalloc` (what is at an address, its type, who allocated it),
//! `profile` (the runtime's memory profile as a pprof file) and `symbol` (gdb's
//! `info symbol`). They call `inspector_core::analysis::whoalloc` and the memory-profile
//! reader and only render.

use std::fmt::Write as _;

use anyhow::Context as _;
use serde_json::{json, Value};

use inspector_core::analysis::fields::{field_view, FieldLine};
use inspector_core::analysis::region;
use inspector_core::analysis::whoalloc::{
    self, Alloc, AllocStack, HeapObject, NoStack, Region, SpecialInfo, TypeSource, WhoAlloc,
};
use inspector_core::export::heap_profile::{heap_profile, DefaultSample, ProfileSource};
use inspector_core::export::pprof::write_gzipped;
use inspector_core::runtime::mprof::{self, AllocFrame};
use inspector_core::runtime::specials::SpecialKind;
use inspector_core::runtime::types::{mask_string, MaskSource};
use inspector_core::Session;

use crate::args::Args;
use crate::context::Context;
use crate::output::{CmdError, Output};

/// Bytes of an object shown in the hex dump.
const DUMP_BYTES: u64 = 64;
/// Lines of the field-by-field view.
const FIELD_LINES: usize = 40;
/// Pointer-mask words shown.
const MASK_WORDS: usize = 64;

pub(crate) fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// Parse an address: `0x…` hex, decimal, or a symbol with an optional `+N`/`-N` offset
/// (`runtime.mheap_+8`, `main.table`); a leading `&` or `*` is ignored.
pub(crate) fn parse_address(s: &Session, text: &str, cmd: &str) -> Result<u64, CmdError> {
    let t = text.trim().trim_start_matches(['&', '*']);
    let bad = || {
        CmdError::usage(format!(
            "{cmd}: {text:?} is not an address (give 0x… hex, a decimal number or a symbol \
             such as main.table+8) (see 'help {cmd}')"
        ))
    };
    if let Some(v) = number(t) {
        return Ok(v);
    }
    let (name, off) = match t.rfind(['+', '-']).filter(|&i| i > 0) {
        Some(i) => {
            let n = number(&t[i + 1..]).ok_or_else(bad)?;
            (
                &t[..i],
                if &t[i..i + 1] == "-" {
                    n.wrapping_neg()
                } else {
                    n
                },
            )
        }
        None => (t, 0),
    };
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad());
    }
    let sym = s.exe.symbol(name).ok_or_else(|| {
        CmdError::usage(format!(
            "{cmd}: no symbol {name:?} in the executable (see 'help {cmd}')"
        ))
    })?;
    Ok((sym.addr + s.rt.bias).wrapping_add(off))
}

fn number(t: &str) -> Option<u64> {
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) if !h.is_empty() => u64::from_str_radix(&h.replace('_', ""), 16).ok(),
        Some(_) => None,
        None if t.starts_with(|c: char| c.is_ascii_digit()) => t.replace('_', "").parse().ok(),
        None => None,
    }
}

fn frames_json(frames: &[AllocFrame]) -> Value {
    json!(frames
        .iter()
        .map(|f| json!({"func": f.func, "file": f.file, "line": f.line, "pc": hex(f.pc)}))
        .collect::<Vec<_>>())
}

fn write_frames(t: &mut String, frames: &[AllocFrame], indent: &str) {
    for f in frames {
        let _ = writeln!(t, "{indent}{}", f.func);
        let _ = writeln!(t, "{indent}    {}:{}", f.file, f.line);
    }
}

fn no_stack_json(r: &NoStack) -> Value {
    let mut v = json!({"code": r.code(), "message": r.message()});
    match r {
        NoStack::NotSampled { rate } => v["rate"] = json!(rate),
        NoStack::TinySubObject {
            record_offset,
            block_stack,
        } => {
            v["record_offset"] = match block_stack {
                Some(_) => json!(record_offset),
                None => Value::Null,
            };
            v["block_alloc_stack"] = block_stack
                .as_ref()
                .map_or(Value::Null, |s| frames_json(&s.frames));
        }
        _ => {}
    }
    v
}

fn special_text(sp: &SpecialInfo) -> String {
    let or = |o: &Option<String>| o.clone().unwrap_or_else(|| "?".into());
    match &sp.special.kind {
        SpecialKind::Finalizer { nret, .. } => format!(
            "finalizer {} (argument {}, object {}, {nret} result bytes)",
            or(&sp.func),
            or(&sp.fint),
            or(&sp.ot)
        ),
        SpecialKind::Profile { bucket } => format!("memory-profile record (bucket {bucket:#x})"),
        SpecialKind::WeakHandle { handle } => format!(
            "weak handle at {handle:#x} (holds {})",
            sp.handle_value.map_or("?".into(), hex)
        ),
        SpecialKind::Cleanup { id, .. } => format!("cleanup {} (id {id})", or(&sp.func)),
        SpecialKind::PinCounter { count } => format!("pin counter: {count} extra pin(s)"),
        SpecialKind::Bubble { id } => format!("synctest bubble {id}"),
        SpecialKind::Unknown(k) => format!("special of kind {k}"),
        k => k.name().replace('_', " "),
    }
}

fn special_json(sp: &SpecialInfo) -> Value {
    let mut v = json!({
        "kind": sp.special.kind.name(),
        "kind_number": sp.special.kind_raw,
        "record": hex(sp.special.addr),
        "offset": sp.special.offset,
    });
    match &sp.special.kind {
        SpecialKind::Finalizer { funcval, nret, .. } => {
            v["func"] = json!(sp.func);
            v["funcval"] = json!(hex(*funcval));
            v["arg_type"] = json!(sp.fint);
            v["object_type"] = json!(sp.ot);
            v["nret"] = json!(nret);
        }
        SpecialKind::Cleanup { funcval, id, .. } => {
            v["func"] = json!(sp.func);
            v["funcval"] = json!(hex(*funcval));
            v["id"] = json!(id);
        }
        SpecialKind::Profile { bucket } => v["bucket"] = json!(hex(*bucket)),
        SpecialKind::WeakHandle { handle } => {
            v["handle"] = json!(hex(*handle));
            v["handle_value"] = json!(sp.handle_value.map(hex));
        }
        SpecialKind::PinCounter { count } => v["count"] = json!(count),
        SpecialKind::Bubble { id } => v["bubble"] = json!(id),
        _ => {}
    }
    v
}

/// A hex and ASCII dump, 16 bytes a line.
pub(crate) fn hexdump(t: &mut String, addr: u64, bytes: &[u8]) {
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let mut hexpart = String::new();
        for (j, b) in chunk.iter().enumerate() {
            let _ = write!(hexpart, "{b:02x}{}", if j == 7 { "  " } else { " " });
        }
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(
            t,
            "  {:#014x}  {hexpart:<49} |{ascii}|",
            addr + 16 * i as u64
        );
    }
}

fn fields_json(lines: &[FieldLine]) -> Value {
    json!(lines
        .iter()
        .map(|l| json!({"path": l.path, "offset": l.offset, "type": l.type_name, "value": l.value}))
        .collect::<Vec<_>>())
}

/// `whoalloc ADDR`.
pub fn whoalloc(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let word = args.positional(0, "ADDR")?.to_string();
    let s = ctx.session()?;
    let addr = parse_address(s, &word, "whoalloc")?;
    let w = whoalloc::whoalloc(s, addr).map_err(CmdError::failed)?;
    let mut t = String::new();
    let mut data = json!({
        "address": hex(addr),
        "region": w.region.name(),
        "base": Value::Null,
        "size": Value::Null,
        "size_class": Value::Null,
        "span": Value::Null,
        "type": Value::Null,
        "type_source": Value::Null,
        "alloc_stack": Value::Null,
        "no_stack_reason": Value::Null,
        "specials": [],
    });
    match &w.region {
        Region::Heap(o) => {
            let graph = !args.flag_bool("nograph");
            heap_text_json(s, &w, o, graph, &mut t, &mut data)
        }
        other => other_text_json(addr, other, &mut t, &mut data),
    }
    for p in &w.problems {
        let _ = writeln!(t, "note: {p}");
    }
    data["problems"] = json!(w.problems);
    Ok(Output::new(t, data))
}

fn heap_text_json(
    s: &Session,
    w: &WhoAlloc,
    o: &HeapObject,
    graph: bool,
    t: &mut String,
    data: &mut Value,
) {
    let page = s.rt.layouts.consts.page_size;
    let sp = &o.span;
    let class = if sp.size_class() == 0 {
        "large object".to_string()
    } else {
        format!("size class {} ({} B)", sp.size_class(), sp.elemsize)
    };
    let scan = if sp.noscan() { "noscan" } else { "scan" };
    let state = if o.allocated {
        "allocated object"
    } else {
        "FREE slot (no object)"
    };
    let tiny = if o.tiny_class {
        ", tiny-allocator class (16-byte blocks shared by small pointer-free objects)"
    } else {
        ""
    };
    let _ = writeln!(
        t,
        "{:#x} is in the heap: {state} {:#x}, {} bytes{}",
        w.address,
        o.base,
        o.size,
        if o.offset == 0 {
            ", at its start".to_string()
        } else if o.offset < 0 {
            format!(", in its {}-byte type header", -o.offset)
        } else {
            format!(", at offset {}", o.offset)
        }
    );
    let _ = writeln!(
        t,
        "  span      {:#x}-{:#x} (mspan {:#x}): {class}, {scan}, {} page(s), {} slot(s){tiny}",
        sp.base,
        sp.end(page),
        sp.desc,
        sp.npages,
        sp.nelems
    );
    let mut slot = format!("slot {} at {:#x}", o.slot_index, o.slot);
    if o.has_header {
        slot.push_str(", after an 8-byte malloc header");
    }
    if let Some(r) = o.requested_size {
        let _ = write!(slot, ", {r} bytes requested");
    }
    let _ = writeln!(t, "  object    {slot}");
    let type_note = match &o.type_source {
        TypeSource::None(why) => why.message(),
        TypeSource::GcProgramStandin => "the runtime's stand-in for a type with a GC program \
            (Go 1.22-1.23): the type's name is not recorded, only its size and pointer bitmap"
            .to_string(),
        TypeSource::MallocHeader => "from the object's malloc header".to_string(),
        TypeSource::LargeType => "from the span's largeType".to_string(),
    };
    match &o.typ {
        Some(ty) => {
            let name = ty.name.clone().unwrap_or_else(|| "<unnamed>".into());
            let elems = o
                .elements
                .map(|n| format!(", up to {n} elements of it"))
                .unwrap_or_default();
            let _ = writeln!(
                t,
                "  type      {name} ({} B{elems}; kind {}, {} pointer bytes) — {type_note}",
                ty.size, ty.kind, ty.ptr_bytes
            );
            if let Some(m) = &o.ptr_mask {
                let _ = writeln!(
                    t,
                    "  pointers  {}{}",
                    mask_string(m, MASK_WORDS),
                    match o.mask_source {
                        Some(MaskSource::OnDemandBuilt) => " (built on demand by the runtime)",
                        Some(MaskSource::Derived) => {
                            " (not built by the runtime yet: derived from the type)"
                        }
                        _ => "",
                    }
                );
            }
            if o.type_unpublished {
                let _ = writeln!(
                    t,
                    "  warning   the slot is past freeIndexForScan: its type may not be published yet"
                );
            }
            data["type"] = json!({
                "name": ty.name,
                "addr": hex(ty.addr),
                "size": ty.size,
                "kind": ty.kind,
                "ptr_bytes": ty.ptr_bytes,
                "elements": o.elements,
                "ptr_mask": o.ptr_mask.as_ref().map(|m| mask_string(m, 1024)),
                "mask_on_demand": ty.mask_on_demand,
                "mask_source": o.mask_source.map(MaskSource::name),
            });
        }
        None => {
            let _ = writeln!(t, "  type      unknown: {type_note}");
        }
    }
    data["type_source"] = json!(o.type_source.name());
    data["type_note"] = json!(type_note);
    let rate = rate_note(s);
    match &o.alloc {
        Alloc::Stack(st) => {
            let _ = writeln!(
                t,
                "  allocated by (memory-profile record, bucket {:#x}, recorded size {} B{rate}):",
                st.bucket, st.size
            );
            write_frames(t, &st.frames, "      ");
            data["alloc_stack"] = frames_json(&st.frames);
            data["alloc_bucket"] = json!(hex(st.bucket));
            data["alloc_hidden_frames"] = json!(st.hidden);
        }
        Alloc::None(r) => {
            let _ = writeln!(t, "  allocated by: no stack: {}", r.message());
            if let NoStack::TinySubObject {
                block_stack: Some(AllocStack { frames, .. }),
                ..
            } = r
            {
                let _ = writeln!(t, "    the block's record:");
                write_frames(t, frames, "      ");
            }
            data["no_stack_reason"] = no_stack_json(r);
        }
    }
    let others: Vec<&SpecialInfo> = o
        .specials
        .iter()
        .filter(|x| !matches!(x.special.kind, SpecialKind::Profile { .. }))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(t, "  specials");
        for sp in &others {
            let _ = writeln!(t, "    {}", special_text(sp));
        }
    }
    if o.pinned {
        let _ = writeln!(
            t,
            "  pinned    yes{}",
            if o.multi_pinned {
                " (by more than one runtime.Pinner)"
            } else {
                ""
            }
        );
    }
    data["specials"] = json!(o.specials.iter().map(special_json).collect::<Vec<_>>());
    data["base"] = json!(hex(o.base));
    data["size"] = json!(o.size);
    data["size_class"] = json!(sp.size_class());
    data["offset"] = json!(o.offset);
    data["slot"] = json!(hex(o.slot));
    data["slot_index"] = json!(o.slot_index);
    data["allocated"] = json!(o.allocated);
    data["noscan"] = json!(sp.noscan());
    data["has_header"] = json!(o.has_header);
    data["tiny_block"] = json!(o.tiny_class);
    data["requested_size"] = json!(o.requested_size);
    data["pinned"] = json!(o.pinned);
    data["multi_pinned"] = json!(o.multi_pinned);
    data["span"] = json!({
        "mspan": hex(sp.desc),
        "base": hex(sp.base),
        "limit": hex(sp.end(page)),
        "pages": sp.npages,
        "spanclass": sp.spanclass,
        "elemsize": sp.elemsize,
        "nelems": sp.nelems,
        "noscan": sp.noscan(),
    });

    data["graph"] = Value::Null;
    if graph && o.allocated {
        graph_text_json(s, w.address, t, data);
    }

    // Field-by-field view and the first bytes.
    if let (Some(ty), true, Ok(objs)) = (&o.typ, o.allocated, s.objects()) {
        if !ty.standin {
            let tr = objs.types(s.memory());
            let avail = o.requested_size.unwrap_or(o.size);
            let lines = field_view(s.memory(), &tr, ty, o.base, avail, FIELD_LINES);
            if !lines.is_empty() {
                let _ = writeln!(t, "fields");
                let w = lines
                    .iter()
                    .map(|l| l.path.len())
                    .max()
                    .unwrap_or(0)
                    .min(32);
                for l in &lines {
                    let _ = writeln!(
                        t,
                        "  +{:<6} {:<w$}  {:<20} {}",
                        l.offset, l.path, l.type_name, l.value
                    );
                }
            }
            data["fields"] = fields_json(&lines);
        }
    }
    let bytes = whoalloc::object_bytes(s, o, DUMP_BYTES);
    let total = o.requested_size.unwrap_or(o.size);
    let _ = writeln!(t, "bytes (first {} of {total})", bytes.len());
    hexdump(t, o.base, &bytes);
    data["bytes"] = json!(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
}

/// Referrers shown by `whoalloc`.
const WHOALLOC_REFERRERS: usize = 5;

/// What the heap graph knows about the object (built on first use in the session):
/// reachable or garbage, its type as the graph learned it, its first referrers.
fn graph_text_json(s: &Session, addr: u64, t: &mut String, data: &mut Value) {
    let facts = match whoalloc::graph_facts(s, addr) {
        Ok(Some(f)) => f,
        Ok(None) => return,
        Err(e) => {
            let _ = writeln!(t, "  graph     not available: {e}");
            return;
        }
    };
    if !facts.reachable {
        let _ = writeln!(
            t,
            "  graph     garbage: allocated but unreachable, the next GC frees it"
        );
        data["graph"] = json!({"reachable": false, "type": null, "type_source": null,
            "referrers": [], "referrers_total": 0});
        return;
    }
    let ty = match (&facts.type_name, facts.type_source) {
        (Some(n), Some(how)) => format!("; type {n} (learned from: {})", how.name()),
        _ => "; type unknown to the heap graph".to_string(),
    };
    let _ = writeln!(t, "  graph     reachable{ty}");
    let mut g = json!({
        "reachable": true,
        "type": facts.type_name,
        "type_source": facts.type_source.map(|h| h.name()),
        "referrers": [],
        "referrers_total": null,
    });
    match crate::graph_cmds::referrers_of(s, addr, WHOALLOC_REFERRERS) {
        Ok(Some((_, lines, total))) => {
            let _ = writeln!(t, "  referrers {total} pointer(s) to it");
            for (l, _) in &lines {
                let _ = writeln!(t, "  {l}");
            }
            if total > lines.len() as u64 {
                let _ = writeln!(
                    t,
                    "    … and {} more (referrers {addr:#x})",
                    total - lines.len() as u64
                );
            }
            g["referrers"] = json!(lines.into_iter().map(|(_, v)| v).collect::<Vec<_>>());
            g["referrers_total"] = json!(total);
        }
        Ok(None) => {}
        Err(e) => {
            let _ = writeln!(t, "  referrers not available: {}", e.message());
        }
    }
    data["graph"] = g;
}

/// "; MemProfileRate N now" for the allocation line.
fn rate_note(s: &Session) -> String {
    s.objects()
        .ok()
        .and_then(|o| o.mprof.state(s.memory()).ok())
        .map(|st| format!("; MemProfileRate {} now", st.rate))
        .unwrap_or_default()
}

fn other_text_json(addr: u64, r: &Region, t: &mut String, data: &mut Value) {
    match r {
        Region::FreeHeap { arena } => {
            let _ = writeln!(
                t,
                "{addr:#x} is in heap arena {arena:#x} on pages no span holds (free or never used heap memory)"
            );
            data["arena"] = json!(hex(*arena));
        }
        Region::Stack(st) => {
            let _ = writeln!(
                t,
                "{addr:#x} is on the stack of goroutine {} ({}), stack {:#x}-{:#x}",
                st.goroutine, st.status, st.stack_lo, st.stack_hi
            );
            match &st.frame {
                Some(f) => {
                    let _ = writeln!(
                        t,
                        "  frame #{} {} ({}:{}), frame {:#x}-{:#x}, offset {} from its SP",
                        f.index,
                        f.func,
                        f.file,
                        f.line,
                        f.sp,
                        f.caller_sp,
                        addr - f.sp
                    );
                }
                None => {
                    let _ = writeln!(t, "  {}", st.note);
                }
            }
            data["goroutine"] = json!({
                "id": st.goroutine,
                "g": hex(st.g),
                "status": st.status,
                "stack_lo": hex(st.stack_lo),
                "stack_hi": hex(st.stack_hi),
                "frame": st.frame.as_ref().map(|f| json!({
                    "index": f.index, "func": f.func, "file": f.file, "line": f.line,
                    "sp": hex(f.sp), "caller_sp": hex(f.caller_sp),
                })),
                "note": st.note,
            });
        }
        Region::SystemStack(st) => {
            let _ = writeln!(
                t,
                "{addr:#x} is on the {} stack of M {} (thread {}), stack {:#x}-{:#x}: a system stack, not a goroutine's",
                st.which, st.m_id, st.tid, st.stack_lo, st.stack_hi
            );
            data["system_stack"] = json!({
                "m": st.m_id, "thread": st.tid, "which": st.which,
                "stack_lo": hex(st.stack_lo), "stack_hi": hex(st.stack_hi),
            });
        }
        Region::ManualSpan { span, note } => {
            let _ = writeln!(t, "{addr:#x} is in a {note}");
            data["span"] =
                json!({"mspan": hex(span.desc), "base": hex(span.base), "pages": span.npages});
        }
        Region::Text(tx) => {
            let _ = writeln!(
                t,
                "{addr:#x} is in the code of {} (entry {:#x}, offset {})",
                tx.func,
                tx.entry,
                addr - tx.entry
            );
            for f in &tx.frames {
                let _ = writeln!(
                    t,
                    "  {}{} {}:{}",
                    f.func,
                    if f.inlined { " (inlined)" } else { "" },
                    f.file,
                    f.line
                );
            }
            data["text"] = json!({
                "func": tx.func,
                "entry": hex(tx.entry),
                "offset": addr - tx.entry,
                "frames": tx.frames.iter().map(|f| json!({
                    "func": f.func, "file": f.file, "line": f.line, "inlined": f.inlined,
                })).collect::<Vec<_>>(),
            });
        }
        Region::Global(g) => {
            let field = g
                .field
                .as_ref()
                .map(|f| format!(", field {f}"))
                .unwrap_or_default();
            let _ = writeln!(
                t,
                "{addr:#x} is global {} + {} ({} bytes at {:#x}, section {}){field}",
                g.name, g.offset, g.size, g.addr, g.section
            );
            data["symbol"] = json!({
                "name": g.name, "addr": hex(g.addr), "size": g.size, "offset": g.offset,
                "section": g.section, "field": g.field,
            });
        }
        Region::Metadata(m) => {
            let _ = writeln!(
                t,
                "{addr:#x} is runtime metadata: {} at {:#x} ({} bytes), offset {}{}",
                m.what,
                m.base,
                m.size,
                addr - m.base,
                if m.detail.is_empty() {
                    String::new()
                } else {
                    format!(", {}", m.detail)
                }
            );
            data["metadata"] = json!({
                "what": m.what, "base": hex(m.base), "size": m.size, "detail": m.detail,
            });
        }
        Region::ThreadStack { tid } => {
            let _ = writeln!(
                t,
                "{addr:#x} is on the stack of OS thread {tid} (not a goroutine stack: a g0/system or C stack)"
            );
            data["thread"] = json!(tid);
        }
        Region::Other { file } => {
            match file {
                Some((path, off)) => {
                    let _ = writeln!(
                        t,
                        "{addr:#x} is in the core but not managed by Go: file {path} at offset {off:#x}"
                    );
                }
                None => {
                    let _ = writeln!(
                        t,
                        "{addr:#x} is in the core but not managed by Go (anonymous memory: C heap, mmap, ...)"
                    );
                }
            }
            data["file"] = json!(file.as_ref().map(|(p, o)| json!({"path": p, "offset": o})));
        }
        Region::NotInCore { error } => {
            let _ = writeln!(t, "{addr:#x} is not in the core: {error}");
            data["error"] = json!(error.to_string());
        }
        Region::Heap(_) => {}
    }
}

/// `profile -o FILE [-alloc|-inuse]`.
pub fn profile(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let file = args
        .flag_str("o")
        .ok_or_else(|| CmdError::usage("profile needs -o FILE (see 'help profile')"))?
        .to_string();
    if args.flag_bool("alloc") && args.flag_bool("inuse") {
        return Err(CmdError::usage(
            "profile: -alloc and -inuse exclude each other (see 'help profile')",
        ));
    }
    let default = if args.flag_bool("alloc") {
        DefaultSample::Alloc
    } else {
        DefaultSample::Inuse
    };
    let core_path = ctx.core().display().to_string();
    let s = ctx.session()?;
    let o = s.objects().map_err(CmdError::failed)?;
    let p = mprof::mem_profile(s.memory(), &o.layouts, &o.mprof)
        .map_err(|e| CmdError::failed(anyhow::anyhow!("{}: {e}", s.core.path().display())))?;
    let pcln = s.exe.pclntab().ok_or_else(|| {
        CmdError::failed(anyhow::anyhow!(
            "{} has no pclntab: cannot symbolize the profile",
            s.exe.path.display()
        ))
    })?;
    let src = profile_source(
        s,
        &o,
        format!("goheap: the runtime's memory profile read from core {core_path}"),
    );
    let prof = heap_profile(&p, pcln, s.rt.bias, s.rt.version.minor, default, &src);
    let mut buf = Vec::new();
    write_gzipped(&prof, &mut buf).map_err(CmdError::failed)?;
    std::fs::write(&file, &buf)
        .with_context(|| format!("cannot write {file}"))
        .map_err(CmdError::failed)?;
    let sum = |f: fn(&mprof::ProfileRecord) -> u64| p.records.iter().map(f).sum::<u64>();
    let (ao, ab, io, ib) = (
        sum(|r| r.alloc_objects),
        sum(|r| r.alloc_bytes),
        sum(|r| r.inuse_objects()),
        sum(|r| r.inuse_bytes()),
    );
    let mut t = String::new();
    let _ = writeln!(
        t,
        "wrote {} sample(s) to {file} ({} bytes, gzipped profile.proto; `go tool pprof -top {file}`)",
        prof.sample.len(),
        buf.len()
    );
    let state = if p.state.disabled_by_linker {
        " (memory profiling disabled by the linker: nothing in the program reads the profile)"
    } else if p.state.rate == 0 {
        " (memory profiling is off)"
    } else {
        ""
    };
    let _ = writeln!(
        t,
        "MemProfileRate {}{state}; profile cycle {}; as recorded (before scaling): in use {io} object(s), {ib} bytes; allocated {ao} object(s), {ab} bytes",
        p.state.rate, p.cycle
    );
    let data = json!({
        "file": file,
        "bytes": buf.len(),
        "samples": prof.sample.len(),
        "buckets": p.records.len(),
        "rate": p.state.rate,
        "disabled_by_linker": p.state.disabled_by_linker,
        "cycle": p.cycle,
        "default_sample_type": match default { DefaultSample::Alloc => "alloc_space", DefaultSample::Inuse => "inuse_space" },
        "recorded": {"alloc_objects": ao, "alloc_bytes": ab, "inuse_objects": io, "inuse_bytes": ib},
    });
    Ok(Output::new(t, data))
}

/// `symbol ADDR` (gdb's `info symbol`).
pub fn symbol(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    let word = args.positional(0, "ADDR")?.to_string();
    let s = ctx.session()?;
    let addr = parse_address(s, &word, "symbol")?;
    if let Some(tx) = region::text_at(s, addr) {
        let line = tx.frames.first();
        let t = format!(
            "{} + {} in section .text{}\n",
            tx.func,
            addr - tx.entry,
            line.map(|f| format!(" ({}:{})", f.file, f.line))
                .unwrap_or_default()
        );
        let data = json!({
            "address": hex(addr), "symbol": tx.func, "offset": addr - tx.entry,
            "section": ".text", "kind": "text",
            "file": line.map(|f| f.file.clone()), "line": line.map(|f| f.line),
        });
        return Ok(Output::new(t, data));
    }
    if let Some(g) = region::symbol_at(s, addr) {
        let t = format!("{} + {} in section {}\n", g.name, g.offset, g.section);
        let data = json!({
            "address": hex(addr), "symbol": g.name, "offset": g.offset,
            "section": g.section, "kind": "data",
        });
        return Ok(Output::new(t, data));
    }
    let t = format!("No symbol matches {word}.\n");
    Ok(Output::new(
        t,
        json!({"address": hex(addr), "symbol": Value::Null}),
    ))
}

/// What a pprof export says of its source: the executable and its text, the core's time (its
/// modification time), a comment.
pub(crate) fn profile_source(
    s: &inspector_core::session::Session,
    o: &inspector_core::runtime::objects::ObjectRuntime,
    comment: String,
) -> ProfileSource {
    let time_nanos = std::fs::metadata(s.core.path())
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    ProfileSource {
        exe: s.exe.path.display().to_string(),
        text_start: o.module.text.0,
        text_end: o.module.text.1,
        build_id: String::new(),
        time_nanos,
        comment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse() {
        assert_eq!(number("0x10"), Some(16));
        assert_eq!(number("0XfF"), Some(255));
        assert_eq!(number("42"), Some(42));
        assert_eq!(number("0x"), None);
        assert_eq!(number("main.x"), None);
        assert_eq!(number("0xzz"), None);
    }

    #[test]
    fn commands_fail_cleanly_without_a_target() {
        use crate::commands::execute;
        let mut ctx = Context::without_target(false);
        for line in [
            "whoalloc 0x10",
            "x/4xg 0x10",
            "x -fmt hex -count 4 0x10",
            "profile -o /nonexistent/p.pb.gz",
            "symbol 0x10",
            "info symbol 0x10",
        ] {
            let err = execute(&mut ctx, line).unwrap_err();
            assert!(matches!(err, CmdError::Failed(_)), "{line}: {err:?}");
        }
        for line in [
            "whoalloc",
            "whoalloc 1 2",
            "profile",
            "profile -o f -alloc -inuse",
            "x/4q 0x10",
            "x/4i 0x10",
            "x -size 3 0x10",
            "x -fmt nope 0x10",
            "x/0x 0x10",
        ] {
            let err = execute(&mut ctx, line).unwrap_err();
            assert!(matches!(err, CmdError::Usage(_)), "{line}: {err:?}");
            assert!(!err.message().contains('\n'), "{line}: one line");
        }
    }

    #[test]
    fn hexdump_lines() {
        let mut t = String::new();
        hexdump(&mut t, 0x1000, b"hello, world\x00\x01\x02\x03tail");
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("0x000000001000"), "{t}");
        assert!(lines[0].ends_with("|hello, world....|"), "{t}");
        assert!(lines[1].ends_with("|tail|"), "{t}");
    }
}
