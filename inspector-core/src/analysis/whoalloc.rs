//! `whoalloc`: what is at an address. For a heap address: the object (span, slot, base and
//! size, size class, offset, allocated or free, scan or noscan, tiny block), its type where
//! the runtime stores one (Go 1.22+: the malloc header of scan objects over 512 B,
//! `mspan.largeType` of large ones), its allocation stack from the memory profile's special
//! record (or why there is none), and the other specials attached to it. Other addresses are
//! classified by [`super::region`]. One address costs an arena-map lookup and the span's
//! specials list: the heap is never walked. [`graph_facts`] adds what the heap graph knows
//! (reachable or garbage, the type it learned); it builds the graph on first use.

use crate::analysis::region::{self, MetadataRef, StackRef, SymbolRef, SystemStackRef, TextRef};
use crate::runtime::mprof::{self, AllocFrame, Bucket, ProfilingState};
use crate::runtime::objects::ObjectRuntime;
use crate::runtime::spanof::{self, SpanKind, SpanLookup, SpanRef};
use crate::runtime::specials::{self, Special, SpecialKind};
use crate::runtime::types::{GoType, MaskSource};
use crate::runtime::RuntimeError;
use crate::session::{Session, SessionError};
use crate::target::{MemoryExt, ReadError};

/// Pointer-mask words computed for an object's type (the rest is not shown anywhere).
pub const MASK_WORDS: usize = 4096;

/// What the address is.
#[derive(Debug, Clone)]
pub enum Region {
    /// Inside a heap object's slot (allocated or free).
    Heap(Box<HeapObject>),
    /// Inside a heap arena on pages no span holds (free or never used).
    FreeHeap { arena: u64 },
    /// Inside a goroutine's stack.
    Stack(Box<StackRef>),
    /// Inside an M's system stack (`g0` or `gsignal`).
    SystemStack(SystemStackRef),
    /// Inside a manual span no live goroutine's or M's stack covers.
    ManualSpan { span: Box<SpanRef>, note: String },
    /// Go code.
    Text(TextRef),
    /// A global variable or read-only data of the executable.
    Global(SymbolRef),
    /// Runtime bookkeeping outside the heap's objects.
    Metadata(MetadataRef),
    /// An OS thread's stack (outside the Go heap: a g0 or cgo stack).
    ThreadStack { tid: u32 },
    /// In the core, not managed by Go: a mapped file, or anonymous memory (C heap, ...).
    Other { file: Option<(String, u64)> },
    /// The core does not hold the address: unmapped, or mapped but not dumped.
    NotInCore { error: ReadError },
}

impl Region {
    /// Short name, as used in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Region::Heap(_) => "heap",
            Region::FreeHeap { .. } => "free_heap_pages",
            Region::Stack(_) => "goroutine_stack",
            Region::SystemStack(_) => "system_stack",
            Region::ManualSpan { .. } => "manual_span",
            Region::Text(_) => "text",
            Region::Global(_) => "global",
            Region::Metadata(_) => "runtime_metadata",
            Region::ThreadStack { .. } => "thread_stack",
            Region::Other { .. } => "other",
            Region::NotInCore { .. } => "not_in_core",
        }
    }
}

/// Where an object's type came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeSource {
    /// The 8-byte malloc header in front of a scan object over 512 B (Go 1.22+).
    MallocHeader,
    /// `mspan.largeType` of a large scan object (Go 1.22+).
    LargeType,
    /// Go 1.22–1.23: `largeType` is the runtime's unnamed stand-in for a type with a GC
    /// program (only size, pointer bytes and an unrolled bitmap survive).
    GcProgramStandin,
    /// No type: why.
    None(NoType),
}

impl TypeSource {
    pub fn name(&self) -> &'static str {
        match self {
            TypeSource::MallocHeader => "malloc_header",
            TypeSource::LargeType => "span_large_type",
            TypeSource::GcProgramStandin => "gc_program_standin",
            TypeSource::None(_) => "none",
        }
    }
}

/// Why the runtime has no type for an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoType {
    /// Go 1.21 (and Go 1.22 with `GOEXPERIMENT=noallocheaders`) record pointer bits only.
    Go121,
    /// Objects of 512 B or less carry pointer bits in their span, not a type.
    Small,
    /// Pointer-free objects carry nothing.
    Noscan,
    /// The header or `largeType` is nil: the allocation was in progress.
    NotWritten,
    /// The slot is free.
    FreeSlot,
    /// The descriptor could not be read.
    Unreadable(String),
}

impl NoType {
    pub fn message(&self) -> String {
        const GRAPH: &str = "the runtime stores no type (the heap graph learns it by reachability)";
        match self {
            NoType::Go121 => format!(
                "{GRAPH}: this runtime stores no object types, only pointer bits (Go 1.21, or \
                 Go 1.22 built with GOEXPERIMENT=noallocheaders)"
            ),
            NoType::Small => {
                format!("{GRAPH}: objects of 512 B or less carry only pointer bits, no type")
            }
            NoType::Noscan => {
                format!("{GRAPH}: a pointer-free (noscan) object carries no type")
            }
            NoType::NotWritten => "the type was not written yet (allocation in progress)".into(),
            NoType::FreeSlot => "free slot: no object".into(),
            NoType::Unreadable(e) => format!("type descriptor unreadable: {e}"),
        }
    }
}

/// The allocation stack of an object, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alloc {
    Stack(AllocStack),
    None(NoStack),
}

/// A memory-profile record of the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocStack {
    pub bucket: u64,
    /// The size the profile recorded for the allocation.
    pub size: u64,
    /// Frames shown (allocator frames dropped, as pprof does), innermost first.
    pub frames: Vec<AllocFrame>,
    /// Leading runtime frames dropped.
    pub hidden: usize,
}

/// Why an object has no allocation stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoStack {
    FreeSlot,
    /// `runtime.disableMemoryProfiling`: nothing in the program reads the profile.
    DisabledByLinker,
    /// `MemProfileRate` is 0.
    ProfilingOff,
    /// Not sampled at this `MemProfileRate`.
    NotSampled {
        rate: i64,
    },
    /// A sub-object in a tiny-allocator block: only the allocation that started the block
    /// (at `record_offset` in it) was recorded.
    TinySubObject {
        record_offset: u64,
        block_stack: Option<AllocStack>,
    },
    /// The record could not be read.
    Unreadable(String),
}

impl NoStack {
    pub fn code(&self) -> &'static str {
        match self {
            NoStack::FreeSlot => "free_slot",
            NoStack::DisabledByLinker => "profiling_disabled",
            NoStack::ProfilingOff => "profiling_off",
            NoStack::NotSampled { .. } => "not_sampled",
            NoStack::TinySubObject { .. } => "tiny_sub_object",
            NoStack::Unreadable(_) => "unreadable",
        }
    }
    pub fn message(&self) -> String {
        match self {
            NoStack::FreeSlot => "the slot is free".into(),
            NoStack::DisabledByLinker => "memory profiling is off: nothing in the program reads \
                the memory profile, so the linker disabled it (runtime.disableMemoryProfiling)"
                .into(),
            NoStack::ProfilingOff => "memory profiling is off (runtime.MemProfileRate = 0)".into(),
            NoStack::NotSampled { rate } if *rate == 1 => "not recorded although \
                runtime.MemProfileRate is 1: allocated before the rate was set (package \
                initializers run before init functions) or while its thread had no profiling \
                stack"
                .into(),
            NoStack::NotSampled { rate } => format!(
                "not sampled: runtime.MemProfileRate is {rate} (about one sample per {rate} \
                 bytes allocated)"
            ),
            NoStack::TinySubObject {
                block_stack: None, ..
            } => "tiny sub-object inside a shared 16-byte block: allocations packed into a \
                  block that already exists are never sampled (and the block's first \
                  allocation was not sampled either)"
                .into(),
            NoStack::TinySubObject {
                record_offset,
                block_stack: Some(st),
            } => {
                let by = st
                    .frames
                    .first()
                    .map(|f| format!(", by {}", f.func))
                    .unwrap_or_default();
                format!(
                    "tiny sub-object inside a shared 16-byte block: only the allocation that \
                     started the block was recorded (offset {record_offset}{by}); later \
                     allocations packed into the block are never sampled"
                )
            }
            NoStack::Unreadable(e) => format!("the profile record could not be read: {e}"),
        }
    }
}

/// A special record with its names resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialInfo {
    pub special: Special,
    /// Finalizer or cleanup function.
    pub func: Option<String>,
    /// Finalizer argument type and object pointer type.
    pub fint: Option<String>,
    pub ot: Option<String>,
    /// Weak handle: the address the handle holds now.
    pub handle_value: Option<u64>,
}

/// A heap object (or free slot).
#[derive(Debug, Clone)]
pub struct HeapObject {
    pub span: SpanRef,
    pub slot_index: u32,
    pub slot: u64,
    /// The object as the program sees it (after the malloc header, if any).
    pub base: u64,
    pub size: u64,
    /// Large objects: the size requested (`mspan.limit - base`).
    pub requested_size: Option<u64>,
    /// `address - base` (negative inside the malloc header).
    pub offset: i64,
    pub allocated: bool,
    pub has_header: bool,
    /// The slot is in a tiny-allocator span class (16-byte noscan): a tiny block or a 16-byte
    /// pointer-free object.
    pub tiny_class: bool,
    /// Slot at or after `freeIndexForScan`: its type information may not be published yet.
    pub type_unpublished: bool,
    pub typ: Option<GoType>,
    pub type_source: TypeSource,
    /// The object holds this many elements of `typ` (a slice's backing array), if more than one.
    pub elements: Option<u64>,
    /// Pointer mask of `typ` (`None`: a GC program, or no type), and where it came from.
    pub ptr_mask: Option<Vec<bool>>,
    pub mask_source: Option<MaskSource>,
    pub alloc: Alloc,
    pub specials: Vec<SpecialInfo>,
    pub pinned: bool,
    pub multi_pinned: bool,
}

/// The answer for one address.
#[derive(Debug, Clone)]
pub struct WhoAlloc {
    pub address: u64,
    pub region: Region,
    /// Notes on things that could not be read (the answer is still given).
    pub problems: Vec<String>,
}

fn rt_err(s: &Session, e: RuntimeError) -> SessionError {
    SessionError::Runtime {
        path: s.core.path().to_path_buf(),
        source: e,
    }
}

/// Answer `whoalloc` for `addr`.
pub fn whoalloc(s: &Session, addr: u64) -> Result<WhoAlloc, SessionError> {
    let o = s.objects()?;
    let mut problems = Vec::new();
    let lookup = spanof::span_of(s.memory(), &s.rt, &o.layouts, addr).map_err(|e| rt_err(s, e))?;
    let region = match lookup {
        SpanLookup::Span(span)
            if span.kind == SpanKind::InUse && span.slot_index(addr).is_none() =>
        {
            span_tail(s, &span)
        }
        SpanLookup::Span(span) if span.kind == SpanKind::InUse => Region::Heap(Box::new(
            heap_object(s, &o, *span, addr, &mut problems).map_err(|e| rt_err(s, e))?,
        )),
        SpanLookup::Span(span) => manual_span(s, *span, addr, &mut problems),
        SpanLookup::FreePages { arena } => Region::FreeHeap { arena },
        SpanLookup::NotHeap => classify_other(s, &o, addr),
    };
    Ok(WhoAlloc {
        address: addr,
        region,
        problems,
    })
}

/// A manual span: a goroutine's stack, an M's system stack, or other manual memory.
fn manual_span(s: &Session, span: SpanRef, addr: u64, problems: &mut Vec<String>) -> Region {
    match s.goroutines() {
        Ok(gs) => {
            if let Some(g) = gs.stack_owner(addr) {
                return Region::Stack(Box::new(region::stack_ref(g, addr)));
            }
        }
        Err(e) => problems.push(format!("goroutines could not be read: {e}")),
    }
    if let Some(st) = region::system_stack(s, addr) {
        return Region::SystemStack(st);
    }
    Region::ManualSpan {
        note: region::manual_span_note(&span, s.rt.layouts.consts.page_size),
        span: Box::new(span),
    }
}

/// Past the last slot of a span: the pointer bitmap of small scan spans (Go 1.22+) and the
/// inline mark bits of Green Tea spans live there, else it is unused.
fn span_tail(s: &Session, span: &SpanRef) -> Region {
    let end = span.end(s.rt.layouts.consts.page_size);
    let base = span.base + span.nelems as u64 * span.elemsize;
    let what = if span.npages == 1 && span.elemsize <= 512 && s.rt.version.minor >= 22 {
        "end of a small-object span: reserved for its pointer bitmap (scan spans) and, with \
         Green Tea GC, its inline mark bits; any rest is unused"
    } else {
        "end of a span past its last slot: unused"
    };
    Region::Metadata(MetadataRef {
        what: what.into(),
        base,
        size: end - base,
        detail: format!(
            "span {:#x}-{end:#x} (mspan {:#x}) holds {} slots of {} bytes",
            span.base, span.desc, span.nelems, span.elemsize
        ),
    })
}

/// Addresses outside the heap arenas.
fn classify_other(s: &Session, o: &ObjectRuntime, addr: u64) -> Region {
    if let Some(t) = region::text_at(s, addr) {
        return Region::Text(t);
    }
    if let Err(error) = region::readable(s, addr) {
        if matches!(error, ReadError::Unmapped { .. }) {
            return Region::NotInCore { error };
        }
    }
    if let Some(sym) = region::symbol_at(s, addr) {
        return Region::Global(sym);
    }
    if let Some(m) = region::runtime_metadata(s, o, addr) {
        return Region::Metadata(m);
    }
    if let Err(error) = region::readable(s, addr) {
        return Region::NotInCore { error };
    }
    if let Some(tid) = region::thread_stack(s, addr) {
        return Region::ThreadStack { tid };
    }
    Region::Other {
        file: region::mapped_file(s, addr),
    }
}

fn heap_object(
    s: &Session,
    o: &ObjectRuntime,
    span: SpanRef,
    addr: u64,
    problems: &mut Vec<String>,
) -> Result<HeapObject, RuntimeError> {
    let mem = s.memory();
    let c = &o.layouts.consts;
    let minor = s.rt.version.minor;
    let page = s.rt.layouts.consts.page_size;
    let idx = span.slot_index(addr).ok_or_else(|| {
        RuntimeError::Corrupt(format!(
            "address {addr:#x} is past the last slot of span {:#x} ({} slots of {} bytes): \
             the span's tail holds no object",
            span.base, span.nelems, span.elemsize
        ))
    })?;
    let slot = span.base + idx as u64 * span.elemsize;
    let allocated = span.is_allocated(mem, idx)?;
    let large = span.is_large();
    let has_header = !span.noscan()
        && !large
        && c.min_size_for_malloc_header
            .is_some_and(|min| span.elemsize > min);
    let hdr = if has_header { c.malloc_header_size } else { 0 };
    let base = slot + hdr;
    let size = if large {
        span.npages * page
    } else {
        span.elemsize - hdr
    };
    let requested_size = (large && span.limit > span.base).then(|| span.limit - span.base);
    let tiny_class = span.spanclass == c.tiny_span_class;
    // Allocated since the last sweep (below freeindex) but not yet published to the GC.
    let type_unpublished = allocated && idx >= span.free_index_for_scan && idx < span.freeindex;
    let tr = o.types(mem);

    // Type.
    let mut typ = None;
    let type_source = if !allocated {
        TypeSource::None(NoType::FreeSlot)
    } else if minor < 22 || c.min_size_for_malloc_header.is_none() {
        TypeSource::None(NoType::Go121)
    } else if span.noscan() {
        TypeSource::None(NoType::Noscan)
    } else if !large && !has_header {
        TypeSource::None(NoType::Small)
    } else {
        let (tp, src) = if large {
            (span.large_type, TypeSource::LargeType)
        } else {
            (mem.read_ptr(slot).unwrap_or(0), TypeSource::MallocHeader)
        };
        if tp == 0 {
            TypeSource::None(NoType::NotWritten)
        } else {
            match tr.read(tp) {
                Ok(t) => {
                    let src = if t.standin {
                        TypeSource::GcProgramStandin
                    } else {
                        src
                    };
                    typ = Some(t);
                    src
                }
                Err(e) => TypeSource::None(NoType::Unreadable(e.to_string())),
            }
        }
    };
    let elements = typ
        .as_ref()
        .filter(|t| t.size > 0)
        .map(|t| requested_size.unwrap_or(size) / t.size)
        .filter(|&n| n > 1);
    let mask_source = typ.as_ref().map(|t| tr.mask_source(t));
    let ptr_mask = match &typ {
        Some(t) => match tr.ptr_mask(t, MASK_WORDS) {
            Ok(m) => m,
            Err(e) => {
                problems.push(format!("pointer mask: {e}"));
                None
            }
        },
        None => None,
    };

    // Specials of this slot (the sweeper's rule: offset / elemsize).
    let all = specials::span_specials(mem, &o.layouts, span.specials).unwrap_or_else(|e| {
        problems.push(format!("the span's specials: {e}"));
        Vec::new()
    });
    let mine: Vec<Special> = all
        .into_iter()
        .filter(|sp| sp.offset / span.elemsize == idx as u64)
        .collect();
    let alloc = match o.mprof.state(mem) {
        Ok(state) => alloc_info(s, o, &span, slot, addr, allocated, tiny_class, &mine, state),
        Err(e) => Alloc::None(NoStack::Unreadable(e.to_string())),
    };
    let (pinned, multi_pinned) = span.pin_state(mem, idx).unwrap_or_else(|e| {
        problems.push(format!("pin bits: {e}"));
        (false, false)
    });
    let specials = mine.into_iter().map(|sp| special_info(s, o, sp)).collect();
    Ok(HeapObject {
        slot_index: idx,
        slot,
        base,
        size,
        requested_size,
        offset: addr.wrapping_sub(base) as i64,
        allocated,
        has_header,
        tiny_class,
        type_unpublished,
        typ,
        type_source,
        elements,
        ptr_mask,
        mask_source,
        alloc,
        specials,
        pinned,
        multi_pinned,
        span,
    })
}

#[allow(clippy::too_many_arguments)]
fn alloc_info(
    s: &Session,
    o: &ObjectRuntime,
    span: &SpanRef,
    slot: u64,
    addr: u64,
    allocated: bool,
    tiny_class: bool,
    mine: &[Special],
    state: ProfilingState,
) -> Alloc {
    if !allocated {
        return Alloc::None(NoStack::FreeSlot);
    }
    let profile = mine
        .iter()
        .find(|sp| matches!(sp.kind, SpecialKind::Profile { .. }));
    if let Some(sp) = profile {
        let SpecialKind::Profile { bucket } = sp.kind else {
            unreachable!()
        };
        let st = match stack_of(s, o, bucket) {
            Ok(st) => st,
            Err(e) => return Alloc::None(NoStack::Unreadable(e.to_string())),
        };
        let rec_off = span.base + sp.offset - slot;
        let addr_off = addr - slot;
        // In a tiny block the record belongs to the allocation that started the block; an
        // address past it in the block is (most likely) a later sub-object.
        if tiny_class && addr_off > rec_off {
            return Alloc::None(NoStack::TinySubObject {
                record_offset: rec_off,
                block_stack: Some(st),
            });
        }
        return Alloc::Stack(st);
    }
    if state.disabled_by_linker && state.rate == 0 {
        return Alloc::None(NoStack::DisabledByLinker);
    }
    if state.rate == 0 {
        return Alloc::None(NoStack::ProfilingOff);
    }
    if tiny_class && addr > slot {
        return Alloc::None(NoStack::TinySubObject {
            record_offset: 0,
            block_stack: None,
        });
    }
    Alloc::None(NoStack::NotSampled { rate: state.rate })
}

/// The shown allocation stack of a bucket.
pub fn stack_of(s: &Session, o: &ObjectRuntime, bucket: u64) -> Result<AllocStack, RuntimeError> {
    let b: Bucket = mprof::read_bucket(s.memory(), &o.layouts, bucket)?;
    let minor = s.rt.version.minor;
    let (frames, hidden) = match s.exe.pclntab() {
        Some(p) => {
            let hidden = mprof::first_shown(p, s.rt.bias, &b.stack, minor);
            (mprof::shown_frames(p, s.rt.bias, &b.stack, minor), hidden)
        }
        None => (Vec::new(), 0),
    };
    Ok(AllocStack {
        bucket,
        size: b.size,
        frames,
        hidden,
    })
}

fn func_name(s: &Session, pc: u64) -> Option<String> {
    let p = s.exe.pclntab()?;
    let f = p.find_func(pc.checked_sub(s.rt.bias)?)?;
    Some(p.func_name(&f).to_string())
}

fn special_info(s: &Session, o: &ObjectRuntime, sp: Special) -> SpecialInfo {
    let mem = s.memory();
    let tr = o.types(mem);
    let tname = |a: u64| {
        (a != 0)
            .then(|| tr.read(a).ok().and_then(|t| t.name))
            .flatten()
    };
    let mut info = SpecialInfo {
        special: sp.clone(),
        func: None,
        fint: None,
        ot: None,
        handle_value: None,
    };
    match sp.kind {
        SpecialKind::Finalizer {
            fn_pc, fint, ot, ..
        } => {
            info.func = func_name(s, fn_pc);
            info.fint = tname(fint);
            info.ot = tname(ot);
        }
        SpecialKind::Cleanup { funcval, fn_pc, .. } => {
            info.func = func_name(s, fn_pc);
            // Go 1.24-1.25 store AddCleanup's wrapper closure `func() { cleanup(arg) }`: its
            // first captured word is the user's cleanup funcval (1.24) or the address of the
            // variable holding it (1.25, captured by reference).
            let wrapper = info
                .func
                .as_deref()
                .is_some_and(|n| n.starts_with("runtime.AddCleanup[") && n.ends_with(".func1"));
            if wrapper {
                let w1 = mem.read_ptr(funcval + 8).unwrap_or(0);
                let code = |fv: u64| mem.read_ptr(fv).ok().and_then(|pc| func_name(s, pc));
                let user = code(w1).or_else(|| code(mem.read_ptr(w1).ok()?));
                if let Some(u) = user {
                    info.func = Some(u);
                }
            }
        }
        SpecialKind::WeakHandle { handle } if handle != 0 => {
            info.handle_value = mem.read_u64(handle).ok();
        }
        _ => {}
    }
    info
}

/// The first `n` bytes of an object (fewer if it is smaller or unreadable).
pub fn object_bytes(s: &Session, obj: &HeapObject, n: u64) -> Vec<u8> {
    let n = n.min(obj.requested_size.unwrap_or(obj.size));
    s.memory()
        .bytes(obj.base, n as usize)
        .map(|b| b.into_owned())
        .unwrap_or_default()
}

/// What the heap graph ([`crate::analysis::heapgraph`]) says about a heap object: whether it is
/// reachable, and its type as the graph learned it (for objects whose type the runtime does
/// not store: propagated from typed globals, pointers, slices, interfaces, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphFacts {
    pub reachable: bool,
    /// Type name as `histogram` names it, and how it was learned.
    pub type_name: Option<String>,
    pub type_source: Option<crate::analysis::objtypes::TypeSource>,
}

/// The heap graph's facts about the allocated object holding `addr` (`None`: not an
/// allocated heap object). Computes the heap graph on first use in the session (about a
/// second on a 2 GB core); later calls only look the slot up.
pub fn graph_facts(s: &Session, addr: u64) -> Result<Option<GraphFacts>, SessionError> {
    let g = s.heap_graph()?;
    let Some(reachable) = g.reach.is_reachable(addr) else {
        return Ok(None);
    };
    let (type_name, type_source) = match g.types.type_of(&g.reach, addr) {
        Some((t, how)) if reachable => (Some(t), Some(how)),
        _ => (None, None),
    };
    Ok(Some(GraphFacts {
        reachable,
        type_name,
        type_source,
    }))
}
