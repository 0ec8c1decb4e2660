//! What an address outside the Go heap's objects is: text (function and file:line, inlined
//! frames expanded), a global variable (symbol and offset, with the field name for the
//! runtime's big globals), runtime metadata kept off the heap (span descriptors, arena
//! metadata, profile buckets, per-P caches), a goroutine stack (goroutine and frame), an OS
//! thread's stack, a mapped file, or nothing the core holds. Each check costs a few reads or a
//! scan of one runtime list; nothing here walks the heap.

use crate::runtime::goroutines::Goroutine;
use crate::runtime::objects::ObjectRuntime;
use crate::runtime::spanof::SpanRef;
use crate::session::Session;
use crate::target::{MemoryExt, ReadError};

/// A PC inside Go text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRef {
    /// The physical function and its entry (target address).
    pub func: String,
    pub entry: u64,
    /// Logical frames at the address, innermost first (inlined calls, then the function).
    pub frames: Vec<TextFrame>,
}

/// One logical frame at a PC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFrame {
    pub func: String,
    pub file: String,
    pub line: u32,
    pub inlined: bool,
}

/// A symbol of the executable (a global variable, or read-only data such as a type descriptor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolRef {
    pub name: String,
    /// Target address of the symbol.
    pub addr: u64,
    pub size: u64,
    pub offset: u64,
    /// ELF section (`.data`, `.bss`, `.noptrdata`, `.noptrbss`, `.rodata`, ...).
    pub section: String,
    /// For the runtime's struct-typed globals: the field at the offset (`allspans`).
    pub field: Option<String>,
}

/// Runtime bookkeeping that lives outside the heap's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRef {
    /// What structure: "runtime.mspan (span descriptor)", "runtime.bucket (memory-profile
    /// bucket)", ...
    pub what: String,
    /// Start and size of the structure.
    pub base: u64,
    pub size: u64,
    /// Extra detail (the span it describes, the arena it covers).
    pub detail: String,
}

/// A goroutine stack and, if the goroutine could be unwound, the frame holding the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackRef {
    pub goroutine: u64,
    pub g: u64,
    pub status: String,
    pub stack_lo: u64,
    pub stack_hi: u64,
    pub frame: Option<StackFrameRef>,
    /// Why no frame: below the innermost frame (unused stack), or not unwound.
    pub note: String,
}

/// The frame whose stack space holds the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFrameRef {
    /// 0 = innermost.
    pub index: usize,
    pub func: String,
    pub file: String,
    pub line: u32,
    /// The frame's SP (its lowest address) and its caller's SP (one past its highest).
    pub sp: u64,
    pub caller_sp: u64,
}

/// Text at `addr`, if any.
pub fn text_at(s: &Session, addr: u64) -> Option<TextRef> {
    let pcln = s.exe.pclntab()?;
    let link = addr.checked_sub(s.rt.bias)?;
    let f = pcln.find_func(link)?;
    let frames = pcln
        .frames_in(&f, link)
        .iter()
        .map(|fr| TextFrame {
            func: fr.func.to_string(),
            file: fr.file.to_string(),
            line: fr.line,
            inlined: fr.inlined,
        })
        .collect();
    Some(TextRef {
        func: pcln.func_name(&f).to_string(),
        entry: f.entry + s.rt.bias,
        frames,
    })
}

/// The runtime globals whose DWARF struct type names the field at an offset.
const RUNTIME_GLOBAL_TYPES: &[(&str, &str)] = &[
    ("runtime.mheap_", "runtime.mheap"),
    ("runtime.memstats", "runtime.mstats"),
    ("runtime.gcController", "runtime.gcControllerState"),
    ("runtime.sched", "runtime.schedt"),
    ("runtime.m0", "runtime.m"),
    ("runtime.g0", "runtime.g"),
    ("runtime.firstmoduledata", "runtime.moduledata"),
    ("runtime.mProfCycle", "runtime.mProfCycleHolder"),
];

/// The executable symbol (data or read-only data, not text) holding `addr`.
pub fn symbol_at(s: &Session, addr: u64) -> Option<SymbolRef> {
    let link = addr.checked_sub(s.rt.bias)?;
    let sym = s.exe.symbol_at(link)?;
    if sym.is_text {
        return None;
    }
    let offset = link - sym.addr;
    let section = s.exe.section_at(link).unwrap_or_default().to_string();
    let field = RUNTIME_GLOBAL_TYPES
        .iter()
        .find(|(n, _)| *n == sym.name)
        .and_then(|(_, ty)| field_at(s, ty, offset));
    Some(SymbolRef {
        name: sym.name.clone(),
        addr: sym.addr + s.rt.bias,
        size: sym.size,
        offset,
        section,
        field,
    })
}

/// The field of struct type `ty` containing `offset` (one level, with the array index).
fn field_at(s: &Session, ty: &str, offset: u64) -> Option<String> {
    let layout = s.exe.dwarf.as_ref()?.struct_layout(ty)?;
    let f = layout
        .fields
        .iter()
        .rfind(|f| f.offset <= offset && offset < f.offset + f.size.unwrap_or(0).max(1))?;
    Some(format!(
        "{}+{} ({})",
        f.name,
        offset - f.offset,
        f.type_name
    ))
}

/// Runtime metadata outside the heap's objects at `addr`: span descriptors (`mheap_.allspans`),
/// `heapArena` structs and the arena index, memory-profile buckets and their hash table,
/// per-P `mcache`s.
pub fn runtime_metadata(s: &Session, o: &ObjectRuntime, addr: u64) -> Option<MetadataRef> {
    let mem = s.memory();
    let rt = &s.rt;
    let l = &rt.layouts;
    let dwarf = s.exe.dwarf.as_ref();
    let hit = |base: u64, size: u64| base <= addr && addr - base < size;
    // The arena index (L2 map) and the heapArena structs.
    let l2 = mem.read_ptr(rt.syms.mheap + l.mheap.arenas.offset).ok()?;
    let l2_size = 8u64 << l.consts.arena_l2_bits;
    if l2 != 0 && hit(l2, l2_size) {
        let i = (addr - l2) / 8;
        let base = (i << l.consts.heap_arena_bytes.trailing_zeros())
            .wrapping_add(l.consts.arena_base_offset);
        return Some(MetadataRef {
            what: "mheap_.arenas[0] (the arena index: arena → heapArena)".into(),
            base: l2,
            size: l2_size,
            detail: format!("entry {i} (arena {base:#x})"),
        });
    }
    let ha_size = dwarf.and_then(|d| d.type_size("runtime.heapArena"));
    if let (Some(ha_size), Ok((list, n))) = (
        ha_size,
        rt.read_slice(mem, rt.syms.mheap + l.mheap.arena_list.offset, "arena list"),
    ) {
        for k in 0..n.min(1 << 22) {
            let Ok(ai) = mem.read_u64(list + 8 * k) else {
                break;
            };
            let Ok(ha) = mem.read_ptr(l2 + 8 * ai) else {
                continue;
            };
            if ha != 0 && hit(ha, ha_size) {
                let base = (ai << l.consts.heap_arena_bytes.trailing_zeros())
                    .wrapping_add(l.consts.arena_base_offset);
                return Some(MetadataRef {
                    what: "runtime.heapArena (arena metadata: page→span map, bitmaps)".into(),
                    base: ha,
                    size: ha_size,
                    detail: format!("for arena {base:#x}"),
                });
            }
        }
    }
    // Span descriptors.
    if let Ok((spans, n)) = rt.read_slice(
        mem,
        rt.syms.mheap + l.mheap.allspans.offset,
        "mheap_.allspans",
    ) {
        let n = n.min(1 << 30);
        if hit(spans, n * 8) {
            return Some(MetadataRef {
                what: "mheap_.allspans (array of every span descriptor)".into(),
                base: spans,
                size: n * 8,
                detail: String::new(),
            });
        }
        let sz = l.mspan.size;
        // In chunks: a corrupt length must not make one huge read.
        const CHUNK: u64 = 1 << 16;
        let mut at = 0;
        while at < n {
            let k = CHUNK.min(n - at);
            let Ok(ptrs) = mem.bytes(spans + at * 8, (k * 8) as usize) else {
                break;
            };
            for w in ptrs.chunks_exact(8) {
                let d = u64::from_le_bytes(w.try_into().unwrap());
                if hit(d, sz) {
                    let base = mem.read_u64(d + l.mspan.start_addr.offset).unwrap_or(0);
                    return Some(MetadataRef {
                        what: "runtime.mspan (span descriptor)".into(),
                        base: d,
                        size: sz,
                        detail: format!("describes the span at {base:#x}"),
                    });
                }
            }
            at += k;
        }
    }
    // Per-P mcaches.
    if let (Some(mc_size), Ok((allp, np))) = (
        dwarf.and_then(|d| d.type_size("runtime.mcache")),
        rt.read_slice(mem, rt.syms.allp, "runtime.allp"),
    ) {
        for i in 0..np.min(1 << 16) {
            let Ok(p) = mem.read_ptr(allp + 8 * i) else {
                break;
            };
            let Ok(mc) = mem.read_ptr(p + l.mcache.p_mcache.offset) else {
                continue;
            };
            if mc != 0 && hit(mc, mc_size) {
                return Some(MetadataRef {
                    what: "runtime.mcache (per-P allocation cache)".into(),
                    base: mc,
                    size: mc_size,
                    detail: format!("of P {i}"),
                });
            }
        }
    }
    // Memory-profile buckets and their hash table.
    profile_bucket_at(s, o, addr)
}

fn profile_bucket_at(s: &Session, o: &ObjectRuntime, addr: u64) -> Option<MetadataRef> {
    let mem = s.memory();
    let m = &o.layouts.mprof;
    if let (Some(sym), Some(n)) = (
        s.exe.symbol("runtime.buckhash"),
        s.exe
            .dwarf
            .as_ref()
            .and_then(|d| d.constant("runtime.buckHashSize")),
    ) {
        let table = mem.read_ptr(sym.addr + s.rt.bias).unwrap_or(0);
        let size = n as u64 * 8;
        if table != 0 && table <= addr && addr - table < size {
            return Some(MetadataRef {
                what: "runtime.buckhash (profile bucket hash table)".into(),
                base: table,
                size,
                detail: String::new(),
            });
        }
    }
    for head in ["runtime.mbuckets", "runtime.bbuckets", "runtime.xbuckets"] {
        let Some(sym) = s.exe.symbol(head) else {
            continue;
        };
        let mut p = mem.read_ptr(sym.addr + s.rt.bias).unwrap_or(0);
        let mut n = 0;
        while p != 0 && n < 50_000_000 {
            let nstk = mem.read_u64(p + m.nstk.offset).unwrap_or(0).min(4096);
            let mut size = m.bucket_size + nstk * 8;
            if head == "runtime.mbuckets" {
                size += m.record_size;
            }
            if p <= addr && addr - p < size {
                let kind = match head {
                    "runtime.mbuckets" => "memory",
                    "runtime.bbuckets" => "block",
                    _ => "mutex",
                };
                return Some(MetadataRef {
                    what: format!("runtime.bucket ({kind}-profile bucket)"),
                    base: p,
                    size,
                    detail: format!("{nstk} stack PCs"),
                });
            }
            p = mem.read_ptr(p + m.allnext.offset).unwrap_or(0);
            n += 1;
        }
    }
    None
}

/// The goroutine stack holding `addr` (in a manual span), with its frame.
pub fn stack_ref(g: &Goroutine, addr: u64) -> StackRef {
    let frames = &g.backtrace.frames;
    let mut frame = None;
    // Physical frames only: inlined frames share their caller's SP.
    let phys: Vec<(usize, &crate::runtime::goroutines::StackFrame)> = frames
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.inlined)
        .collect();
    for (k, (i, f)) in phys.iter().enumerate() {
        let caller_sp = phys.get(k + 1).map_or(g.stack_hi, |(_, c)| c.sp);
        if f.sp <= addr && addr < caller_sp {
            frame = Some(StackFrameRef {
                index: *i,
                func: f.func.to_string(),
                file: f.file.to_string(),
                line: f.line,
                sp: f.sp,
                caller_sp,
            });
            break;
        }
    }
    let note = if frame.is_some() {
        String::new()
    } else if frames.is_empty() {
        "the goroutine's stack was not unwound".into()
    } else if phys.first().is_some_and(|(_, f)| addr < f.sp) {
        "below the innermost frame (unused stack space)".into()
    } else {
        "not inside any unwound frame".into()
    };
    StackRef {
        goroutine: g.id,
        g: g.addr,
        status: g.status.name.to_string(),
        stack_lo: g.stack_lo,
        stack_hi: g.stack_hi,
        frame,
        note,
    }
}

/// An OS thread whose stack (the core segment holding its SP) contains `addr`.
pub fn thread_stack(s: &Session, addr: u64) -> Option<u32> {
    let seg = s.core.segment_at(addr)?;
    s.core
        .threads()
        .iter()
        .find(|t| {
            let sp = t.regs.sp();
            seg.vaddr <= sp && sp < seg.end()
        })
        .map(|t| t.tid)
}

/// The file mapped at `addr` (NT_FILE), with the offset in it.
pub fn mapped_file(s: &Session, addr: u64) -> Option<(String, u64)> {
    s.core
        .mapped_files()
        .iter()
        .find(|m| m.start <= addr && addr < m.end)
        .map(|m| (m.path.clone(), m.file_offset + (addr - m.start)))
}

/// Whether the core has the byte at `addr`: `Ok`, or why not.
pub fn readable(s: &Session, addr: u64) -> Result<(), ReadError> {
    s.memory().read_u8(addr).map(|_| ())
}

/// A manual span's role when no goroutine owns it.
pub fn manual_span_note(span: &SpanRef, page_size: u64) -> String {
    format!(
        "manual span {:#x}-{:#x} ({} page(s)): goroutine stacks, GC work buffers or unrolled \
         GC-program bitmaps; no live goroutine's stack covers the address",
        span.base,
        span.end(page_size),
        span.npages
    )
}

/// The system stack (an M's `g0` or `gsignal` stack) holding an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemStackRef {
    /// `m.id` and its OS thread (`m.procid`).
    pub m_id: i64,
    pub tid: u64,
    /// "g0" (scheduler and runtime system calls) or "gsignal" (signal handlers).
    pub which: &'static str,
    pub stack_lo: u64,
    pub stack_hi: u64,
}

/// Walk `runtime.allm` for an M whose `g0` or `gsignal` stack holds `addr`.
pub fn system_stack(s: &Session, addr: u64) -> Option<SystemStackRef> {
    use crate::runtime::layout::GoroutineLayouts;
    let dwarf = s.exe.dwarf.as_ref()?;
    let gl = GoroutineLayouts::resolve(dwarf, s.rt.version).ok()?;
    let mem = s.memory();
    let allm = s.exe.symbol("runtime.allm")?.addr + s.rt.bias;
    let mut m = mem.read_ptr(allm).ok()?;
    let mut n = 0;
    while m != 0 && n < 1 << 20 {
        for (which, f) in [("g0", gl.m.g0), ("gsignal", gl.m.gsignal)] {
            let Ok(g) = mem.read_ptr(m + f.offset) else {
                continue;
            };
            if g == 0 {
                continue;
            }
            let st = g + gl.g.stack.offset;
            let lo = mem.read_u64(st + gl.g.stack_lo.offset).unwrap_or(0);
            let hi = mem.read_u64(st + gl.g.stack_hi.offset).unwrap_or(0);
            if lo <= addr && addr < hi {
                return Some(SystemStackRef {
                    m_id: mem.read_u64(m + gl.m.id.offset).unwrap_or(0) as i64,
                    tid: mem.read_u64(m + gl.m.procid.offset).unwrap_or(0),
                    which,
                    stack_lo: lo,
                    stack_hi: hi,
                });
            }
        }
        m = mem.read_ptr(m + gl.m.alllink.offset).unwrap_or(0);
        n += 1;
    }
    None
}
