//! Exact marking: from every root ([`crate::runtime::roots`]), every heap object the runtime's
//! next GC would mark, following exactly the pointer words the runtime would scan:
//!
//! - Go 1.21 (and 1.22 with `noallocheaders`): the arena's pointer bitmap (`heapArena.bitmap`,
//!   one bit per heap word);
//! - Go 1.22+: objects of 512 B or less carry one bit per word at the end of their span
//!   (before Green Tea's inline mark bits), larger ones an 8-byte malloc header with their
//!   type, large objects `mspan.largeType`; a type's mask repeats over the whole object
//!   (arrays, slices' backing stores);
//! - noscan spans hold no pointers.
//!
//! Objects are indexed by span and slot: the in-use spans in address order, one bit per slot
//! in a global bit vector at each span's offset, and a page→span table (no hash maps on the
//! hot path). A pointer anywhere inside an allocated slot marks that slot (a tiny
//! block is one object). Roots are scanned in parallel (rayon), each worker with its own work
//! list; mark bits are set atomically so each object is scanned once. Allocated slots left
//! unmarked are garbage the next GC would free, counted apart from the live figures.
//!
//! A [`Visitor`] sees each object as marking reaches it; one that types objects may ask for
//! some pointer words as edges ([`Visitor::edge`]): marking then hands it the target it
//! looked up, so that typing the target and marking it take one lookup.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::runtime::heap::{Heap, SpanState};
use crate::runtime::layout::{ObjectLayouts, RootLayouts};
use crate::runtime::roots::{Root, RootKind, RootMask, Roots};
use crate::runtime::types::TypeReader;
use crate::runtime::GoRuntime;
use crate::target::{Memory, MemoryExt};

/// Per-span facts the marker needs, read once.
#[derive(Debug, Clone)]
pub(crate) struct SpanMeta {
    pub(crate) base: u64,
    pub(crate) elemsize: u64,
    pub(crate) nelems: u32,
    pub(crate) npages: u64,
    pub(crate) spanclass: u8,
    /// Offset of the span's first slot in the global bit vectors.
    pub(crate) bit: u64,
    /// Go 1.22+: `mspan.largeType`.
    pub(crate) large_type: u64,
    /// The runtime's `divMul` for small size classes (`^uint32(0)/elemsize + 1`: the slot of
    /// an offset inside the span is `offset * divMul >> 32`, exact for every offset in the
    /// span, as `mspan.divideByElemSize` relies on); 0: divide.
    pub(crate) div_mul: u32,
}

impl SpanMeta {
    /// The runtime's `divMul` for a span of objects of `elemsize` bytes (0 for large spans).
    pub(crate) fn div_mul_for(spanclass: u8, elemsize: u64) -> u32 {
        if spanclass >> 1 == 0 || elemsize == 0 || elemsize > u64::from(u32::MAX) {
            0
        } else {
            u32::MAX / elemsize as u32 + 1
        }
    }

    /// The slot holding the byte at `off` from the span's base (`off` inside the span).
    #[inline]
    pub(crate) fn slot_of(&self, off: u64) -> u64 {
        if self.div_mul != 0 && off <= u64::from(u32::MAX) {
            (off * u64::from(self.div_mul)) >> 32
        } else {
            off / self.elemsize.max(1)
        }
    }
}

/// Whether bit `b` of the bit vector `v` (allocation or mark bits, by global slot bit) is set.
pub(crate) fn bit(v: &[u64], b: u64) -> bool {
    v[(b / 64) as usize] >> (b % 64) & 1 == 1
}

/// Number of slot bits of `spans` (in address order, each with its `bit`).
pub(crate) fn slot_bits(spans: &[SpanMeta]) -> u64 {
    spans.last().map_or(0, |s| s.bit + u64::from(s.nelems))
}

/// Live and garbage figures of one size class (0: large objects).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClassReach {
    pub class: u8,
    pub size: u64,
    pub allocated_objects: u64,
    pub reachable_objects: u64,
    pub reachable_bytes: u64,
    pub garbage_objects: u64,
    pub garbage_bytes: u64,
}

/// The result of marking.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub allocated_objects: u64,
    pub allocated_bytes: u64,
    pub reachable_objects: u64,
    pub reachable_bytes: u64,
    pub garbage_objects: u64,
    pub garbage_bytes: u64,
    /// Size classes with any allocated object.
    pub by_class: Vec<ClassReach>,
    /// Roots of each kind: (kind, roots, bytes, objects marked first from them).
    pub roots_by_kind: Vec<(RootKind, u64, u64)>,
    /// Which pointer-map mechanism was used.
    pub mechanism: &'static str,
    /// Objects whose pointer map could not be read (scanned word by word instead).
    pub conservative_objects: u64,
    pub problems: Vec<String>,
    spans: Arc<Vec<SpanMeta>>,
    lookup: Arc<SpanLookup>,
    marks: Arc<Vec<u64>>,
    alloc: Arc<Vec<u64>>,
    /// How objects' pointer words are found, kept to find them again after marking.
    scan: Arc<ScanRules>,
    /// Every element mask marking resolved, by type address (sorted; `None`: unreadable,
    /// scanned word by word).
    masks: Arc<Vec<(u64, Option<Arc<ElemMask>>)>>,
}

impl Reach {
    /// The in-use spans in address order, the allocation bits and the mark bits (one bit per
    /// slot, each span's slots from its `bit`).
    pub(crate) fn index(&self) -> (&[SpanMeta], &[u64], &[u64]) {
        (&self.spans, &self.alloc, &self.marks)
    }

    /// The address → span lookup over [`Reach::index`]'s spans.
    #[cfg(test)]
    pub(crate) fn lookup(&self) -> &SpanLookup {
        &self.lookup
    }

    /// Whether the runtime stores object types (malloc headers, `largeType`).
    pub fn types_stored(&self) -> bool {
        self.mechanism == "span_bits_headers_large_type"
    }

    /// The allocated slot holding `addr`: (span index, slot, global bit).
    pub(crate) fn slot_of(&self, addr: u64) -> Option<(usize, u64, u64)> {
        let si = self.lookup.span(addr)?;
        let s = &self.spans[si];
        let slot = (addr - s.base) / s.elemsize.max(1);
        if slot >= u64::from(s.nelems) {
            return None;
        }
        let b = s.bit + slot;
        (self.alloc[(b / 64) as usize] >> (b % 64) & 1 == 1).then_some((si, slot, b))
    }

    /// The span index and slot of global bit `bit`.
    pub(crate) fn span_of_bit(&self, bit: u64) -> Option<(usize, u64)> {
        let si = self
            .spans
            .partition_point(|s| s.bit <= bit)
            .checked_sub(1)?;
        let slot = bit - self.spans[si].bit;
        (slot < u64::from(self.spans[si].nelems)).then_some((si, slot))
    }

    /// Whether global bit `bit` is marked.
    pub fn marked(&self, bit: u64) -> bool {
        self.marks
            .get((bit / 64) as usize)
            .is_some_and(|w| w >> (bit % 64) & 1 == 1)
    }

    /// Number of slot bits (every in-use span's slots).
    pub fn slot_bits(&self) -> u64 {
        slot_bits(&self.spans)
    }

    /// Bytes before the typed data of the slots of span `si` (the malloc header, if any).
    pub fn data_offset(&self, si: usize) -> u64 {
        let s = &self.spans[si];
        let r = &self.scan;
        match r.mechanism {
            Mechanism::Headers
                if s.spanclass & 1 == 0 && s.spanclass >> 1 != 0 && s.elemsize > r.header_min =>
            {
                r.header_size
            }
            _ => 0,
        }
    }

    /// Each pointer word of the object in slot `slot` of span `si`, exactly as marking
    /// follows them: `f(offset from the slot's start, value)`. Noscan objects have none.
    pub fn object_words(&self, mem: &dyn Memory, si: usize, slot: u64, f: impl FnMut(u64, u64)) {
        let Some(s) = self.spans.get(si) else {
            return;
        };
        if s.spanclass & 1 != 0 || slot >= u64::from(s.nelems) {
            return;
        }
        let mut sink = TableSink {
            masks: &self.masks,
            f,
        };
        scan_object(
            &self.scan,
            self.lookup.arenas(),
            mem,
            &[],
            si as u32,
            s,
            slot,
            &mut sink,
        );
    }
}

/// Each pointer word of root `r` as marking follows it: `f(offset from the root's address,
/// value)`; a [`RootMask::Object`] root points at its object (offset 0).
pub fn root_words(mem: &dyn Memory, r: &Root, mut f: impl FnMut(u64, u64)) {
    match &r.mask {
        RootMask::Object => f(0, r.addr),
        m => {
            let Ok(b) = mem.bytes(r.addr, r.size as usize) else {
                return;
            };
            for (i, w) in b.chunks_exact(8).enumerate() {
                if m.word(i as u64) {
                    f(8 * i as u64, u64::from_le_bytes(w.try_into().unwrap()));
                }
            }
        }
    }
}

/// Pointer words of objects outside marking: masks from the table marking filled.
struct TableSink<'m, F> {
    masks: &'m [(u64, Option<Arc<ElemMask>>)],
    f: F,
}

impl<F: FnMut(u64, u64)> WordSink for TableSink<'_, F> {
    fn mask(&mut self, typ: u64) -> Option<Arc<ElemMask>> {
        let i = self.masks.binary_search_by_key(&typ, |e| e.0).ok()?;
        self.masks[i].1.clone()
    }
    fn conservative(&mut self) {}
    #[inline]
    fn word(&mut self, off: u64, v: u64) {
        (self.f)(off, v)
    }
}

impl Reach {
    /// Whether the object containing `addr` is reachable (`None`: not an allocated heap slot).
    pub fn is_reachable(&self, addr: u64) -> Option<bool> {
        let s = &self.spans[self.lookup.span(addr)?];
        let slot = (addr - s.base) / s.elemsize.max(1);
        if slot >= s.nelems as u64 {
            return None;
        }
        let b = s.bit + slot;
        bit(&self.alloc, b).then(|| bit(&self.marks, b))
    }
}

#[cfg(test)]
impl Reach {
    /// A synthetic index for unit tests elsewhere: `spans` (their `bit`s set), every allocated
    /// slot (`alloc`) marked, Go 1.22+ stored types.
    pub(crate) fn synthetic(
        spans: Vec<SpanMeta>,
        arenas: Vec<u64>,
        c: &crate::runtime::layout::Consts,
        alloc: Vec<u64>,
    ) -> Reach {
        Reach {
            mechanism: "span_bits_headers_large_type",
            lookup: Arc::new(SpanLookup::new(&spans, arenas, c)),
            spans: Arc::new(spans),
            marks: Arc::new(alloc.clone()),
            alloc: Arc::new(alloc),
            ..Reach::default()
        }
    }
}

/// How object pointer maps are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mechanism {
    /// `heapArena.bitmap` (Go 1.21, 1.22 noallocheaders).
    ArenaBitmap { field: u64 },
    /// Span heap bits, malloc headers and `largeType` (Go 1.22+).
    #[default]
    Headers,
}

/// Address → in-use span, without a search: the runtime's arena index, its position among the
/// heap's arenas, then that arena's page → span table. Built once by marking and shared with
/// everything that follows pointers afterwards (types, reachability queries).
#[derive(Debug, Default)]
pub(crate) struct SpanLookup {
    /// Sorted arena bases.
    arenas: Vec<u64>,
    /// Page → span index + 1 (0: none): from `dense_base` page by page, or per arena (in
    /// `arenas` order) `pages_per_arena` entries.
    pages: Vec<u32>,
    pages_per_arena: usize,
    arena_bytes: u64,
    /// The lowest arena's base, when `pages` covers every page from there to the highest
    /// arena's end.
    dense_base: Option<u64>,
    /// Arena index → position in `arenas` (u32::MAX: none), for indices from `arena_first`
    /// (empty: the indices span too wide a range, `arenas` is searched instead).
    arena_first: u64,
    arena_pos: Vec<u32>,
    arena_shift: u32,
    arena_base_offset: u64,
    page_shift: u32,
}

impl SpanLookup {
    fn new(spans: &[SpanMeta], arenas: Vec<u64>, c: &crate::runtime::layout::Consts) -> Self {
        let per = c.pages_per_arena as usize;
        // Arenas close together (the usual heap): one table over their whole range, indexed
        // by page from the lowest arena; else a table per arena.
        let lo = arenas.first().copied().unwrap_or(0);
        let range = arenas
            .last()
            .map_or(0, |&hi| (hi - lo) / c.heap_arena_bytes.max(1) + 1);
        let dense = range <= 2 * arenas.len() as u64 + 16;
        let mut pages = vec![0u32; per * if dense { range as usize } else { arenas.len() }];
        for (i, s) in spans.iter().enumerate() {
            for p in 0..s.npages {
                let a = s.base + p * c.page_size;
                let at = if dense {
                    a.checked_sub(lo).map(|o| (o / c.page_size) as usize)
                } else {
                    let ai = arenas.partition_point(|&b| b <= a).wrapping_sub(1);
                    (ai < arenas.len())
                        .then(|| ai * per + ((a - arenas[ai]) / c.page_size) as usize)
                };
                if let Some(e) = at.and_then(|at| pages.get_mut(at)) {
                    *e = i as u32 + 1;
                }
            }
        }
        let shift = c.heap_arena_bytes.trailing_zeros();
        let raw: Vec<u64> = arenas
            .iter()
            .map(|&b| b.wrapping_sub(c.arena_base_offset) >> shift)
            .collect();
        let arena_first = raw.iter().copied().min().unwrap_or(0);
        let span = raw.iter().map(|r| r - arena_first + 1).max().unwrap_or(0);
        // The runtime's arena indices of one heap are close together; a table over their range.
        let mut arena_pos = if !dense && span <= 1 << 22 {
            vec![u32::MAX; span as usize]
        } else {
            Vec::new()
        };
        for (i, r) in raw.iter().enumerate() {
            if let Some(p) = arena_pos.get_mut((r - arena_first) as usize) {
                *p = i as u32;
            }
        }
        SpanLookup {
            arenas,
            pages,
            pages_per_arena: per,
            arena_bytes: c.heap_arena_bytes,
            dense_base: dense.then_some(lo),
            arena_first,
            arena_pos,
            arena_shift: shift,
            arena_base_offset: c.arena_base_offset,
            page_shift: c.page_size.trailing_zeros(),
        }
    }

    /// Index of the in-use span whose pages hold `v`.
    #[inline]
    pub(crate) fn span(&self, v: u64) -> Option<usize> {
        let si = if let Some(lo) = self.dense_base {
            *self
                .pages
                .get((v.wrapping_sub(lo) >> self.page_shift) as usize)?
        } else {
            self.sparse(v)?
        };
        (si != 0).then(|| si as usize - 1)
    }

    /// [`SpanLookup::span`]'s page table entry for arenas far apart.
    fn sparse(&self, v: u64) -> Option<u32> {
        // Arena index as the runtime computes it, then its position in `arenas`.
        let pos = if self.arena_pos.is_empty() {
            // Arena indices too far apart for a table: binary search.
            self.arenas.partition_point(|&b| b <= v).checked_sub(1)? as u32
        } else {
            let raw = v.wrapping_sub(self.arena_base_offset) >> self.arena_shift;
            *self
                .arena_pos
                .get(raw.wrapping_sub(self.arena_first) as usize)?
        };
        let base = *self.arenas.get(pos as usize)?;
        let off = v.wrapping_sub(base);
        if off >= self.arena_bytes {
            return None;
        }
        self.pages
            .get(pos as usize * self.pages_per_arena + (off >> self.page_shift) as usize)
            .copied()
    }

    /// Arena bases, in address order.
    fn arenas(&self) -> &[u64] {
        &self.arenas
    }
}

/// The state of 64 consecutive slots (global slot bits `64 * i ..`), kept together so that
/// one cache line answers every question asked about a slot on the hot path.
#[derive(Debug, Default)]
#[repr(align(32))]
pub(crate) struct SlotBits {
    /// Allocated (fixed before marking).
    pub(crate) alloc: u64,
    pub(crate) marked: AtomicU64,
    /// For a [`Visitor`] that types objects: the slot has a type.
    pub(crate) typed: AtomicU64,
    /// For a [`Visitor`] that types objects: the slot's typed words are followed (claimed).
    pub(crate) scanned: AtomicU64,
}

impl SlotBits {
    /// 64 slots with these allocation and mark bits, the rest clear.
    pub(crate) fn new(alloc: u64, marked: u64) -> SlotBits {
        SlotBits {
            alloc,
            marked: AtomicU64::new(marked),
            ..SlotBits::default()
        }
    }
}

/// The span/slot index marking fills: spans, address lookup, allocation and mark bits, and
/// how objects' pointer words are found. Built before marking ([`Index::build`]) so that a
/// [`Visitor`] can read it while marking runs.
pub(crate) struct Index<'a> {
    mem: &'a dyn Memory,
    spans: Vec<SpanMeta>,
    lookup: SpanLookup,
    /// Allocation and mark bits (and a visitor's), by 64 slots.
    bits: Vec<SlotBits>,
    /// Each span's bytes where the target maps them (empty where it copies).
    data: Vec<&'a [u8]>,
    scan: ScanRules,
    problems: Vec<String>,
}

impl Index<'_> {
    /// The in-use spans in address order.
    pub(crate) fn spans(&self) -> &[SpanMeta] {
        &self.spans
    }

    pub(crate) fn lookup(&self) -> &SpanLookup {
        &self.lookup
    }

    /// The slots' state bits (each span's slots from its `bit`); mark bits are set while
    /// marking runs.
    pub(crate) fn bits(&self) -> &[SlotBits] {
        &self.bits
    }

    /// Whether the runtime stores object types (malloc headers, `largeType`).
    pub(crate) fn types_stored(&self) -> bool {
        self.scan.mechanism == Mechanism::Headers
    }
}

/// Where an object's pointer words are (kept by [`Reach`] after marking).
#[derive(Debug, Clone, Default)]
pub(crate) struct ScanRules {
    mechanism: Mechanism,
    /// The heapArena of each arena of the lookup, in the same order.
    heap_arenas: Vec<u64>,
    page_size: u64,
    header_min: u64,
    header_size: u64,
    inline_mark_bits: u64,
}

impl ScanRules {
    /// For a small scan object with its pointer bits at its span's end (Go 1.22+, 512 B or
    /// less: `spanHeapBitsRange`, before Green Tea's inline mark bits for objects of 16 B or
    /// more): the offset in the span of the byte holding its first word's bit.
    #[inline]
    fn small_bits_at(&self, s: &SpanMeta, slot: u32) -> Option<u64> {
        if self.mechanism != Mechanism::Headers
            || s.spanclass >> 1 == 0
            || s.elemsize > self.header_min
        {
            return None;
        }
        let span_bytes = s.npages * self.page_size;
        let mut bm = span_bytes - span_bytes / 64;
        if s.elemsize >= 16 {
            bm -= self.inline_mark_bits;
        }
        Some(bm + u64::from(slot) * s.elemsize / 64)
    }
}

/// Everything marking reads.
pub struct MarkInput<'a> {
    /// The heap, as the index is built from it.
    pub index: IndexInput<'a>,
    pub types: TypeReader<'a>,
    pub roots: &'a Roots,
}

/// What building the [`Index`] reads (the heap without its roots).
pub struct IndexInput<'a> {
    pub mem: &'a dyn Memory,
    pub rt: &'a GoRuntime,
    pub heap: &'a Heap,
    pub objects: &'a ObjectLayouts,
    pub layouts: &'a RootLayouts,
}

/// Mark from `roots` and count live and garbage objects.
pub fn mark(inp: MarkInput<'_>) -> Reach {
    let ix = Index::build(&inp.index);
    let marked = run(&inp, &ix, &NoVisit);
    tally(inp, ix, marked)
}

/// How marking finds an object's pointer words ([`Visitor::object`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ptrs {
    /// Bit `i`: word `i` of a small object (its span's heap bits).
    Small(u64),
    /// Values of a type of this many words from the start of the object's data (its
    /// header's or `largeType`'s type), by the type's pointer mask.
    Values(u64),
    /// Otherwise (the 1.21 arena bitmap, scanning word by word, unreadable heap bits).
    Other,
}

/// A work item's slot with this bit set: the object was typed after it was marked, and only
/// its typed words are left to follow ([`Visitor::retype`]).
pub(crate) const RETYPE: u32 = 1 << 31;

/// Work done on objects as marking reaches them (typing, `objtypes`). Each call may add work
/// items (span index, slot) to `work`, [`RETYPE`] items included; each worker has its own
/// `Local`.
pub(crate) trait Visitor: Sync {
    type Local;
    fn local(&self) -> Self::Local;
    /// The scan object in `slot` of span `si`, just before marking scans it, its pointer
    /// words found as `ptrs` says. Returns the pointer words whose targets the visitor wants
    /// to see through [`Visitor::edge`] as marking looks them up (it follows its other typed
    /// words itself): for [`Ptrs::Small`], bit `i` for word `i` of the object; for
    /// [`Ptrs::Values`], bit `i` for word `i` of each whole value.
    fn object(
        &self,
        l: &mut Self::Local,
        si: u32,
        slot: u32,
        ptrs: Ptrs,
        work: &mut Vec<(u32, u32)>,
    ) -> u64;
    /// Word `i` (as [`Visitor::object`] returned it) of the object last given to it holds
    /// `v`, a pointer into the allocated slot `b` (its state bit `m` of `bits`) of span
    /// `si`; called before marking marks it.
    #[allow(clippy::too_many_arguments)]
    fn edge(
        &self,
        l: &mut Self::Local,
        i: u32,
        v: u64,
        si: u32,
        b: u64,
        bits: &SlotBits,
        m: u64,
        work: &mut Vec<(u32, u32)>,
    );
    /// The noscan object in `slot` of span `si` (its state bit `m` of `bits`), just marked.
    fn noscan(
        &self,
        l: &mut Self::Local,
        si: u32,
        slot: u32,
        bit: (&SlotBits, u64),
        work: &mut Vec<(u32, u32)>,
    );
    /// A [`RETYPE`] item (its bit cleared).
    fn retype(&self, l: &mut Self::Local, si: u32, slot: u32, work: &mut Vec<(u32, u32)>);
    /// The worker is done.
    fn finish(&self, l: &mut Self::Local);
    /// Work item (span index, slot) will be visited soon.
    #[inline]
    fn prefetch(&self, _si: u32, _slot: u32) {}
}

/// Marking alone.
pub(crate) struct NoVisit;

impl Visitor for NoVisit {
    type Local = ();
    fn local(&self) {}
    fn object(&self, _: &mut (), _: u32, _: u32, _: Ptrs, _: &mut Vec<(u32, u32)>) -> u64 {
        0
    }
    fn edge(
        &self,
        _: &mut (),
        _: u32,
        _: u64,
        _: u32,
        _: u64,
        _: &SlotBits,
        _: u64,
        _: &mut Vec<(u32, u32)>,
    ) {
    }
    fn noscan(&self, _: &mut (), _: u32, _: u32, _: (&SlotBits, u64), _: &mut Vec<(u32, u32)>) {}
    fn retype(&self, _: &mut (), _: u32, _: u32, _: &mut Vec<(u32, u32)>) {}
    fn finish(&self, _: &mut ()) {}
}

/// What marking found besides the mark bits.
pub(crate) struct Marked {
    conservative: u64,
    masks: MaskTable,
}

/// Mark from `inp.roots` into `ix`, telling `visit` of the objects reached.
pub(crate) fn run<V: Visitor>(inp: &MarkInput<'_>, ix: &Index<'_>, visit: &V) -> Marked {
    let conservative = AtomicU64::new(0);
    let all_masks = Mutex::new(Vec::new());
    let shared = Shared {
        ix,
        types: &inp.types,
        conservative: &conservative,
        all_masks: &all_masks,
        visit,
    };
    // Roots in parallel chunks; a worker whose work list grows hands half of it to a new
    // task, so that one root reaching most of the heap still keeps every core busy. Spawned
    // last to first: a worker runs its own tasks newest first, so the globals (first in the
    // list, typed by DWARF) are marked before the stacks' untyped words reach the same
    // objects (an object marked before it is typed has its typed words followed again, and
    // along a linked list that repeats for every node).
    rayon::scope(|sc| {
        for chunk in inp.roots.list.chunks(ROOTS_PER_TASK).rev() {
            let shared = &shared;
            sc.spawn(move |sc| {
                let mut w = shared.worker(Vec::new());
                for r in chunk {
                    match &r.mask {
                        RootMask::Object => w.pointer(r.addr),
                        m => w.scan_words(r.addr, r.size, |i| m.word(i)),
                    }
                    w.drain(sc);
                }
            });
        }
    });
    let mut masks = all_masks.into_inner().unwrap_or_else(|p| p.into_inner());
    masks.sort_unstable_by_key(|e: &(u64, _)| e.0);
    masks.dedup_by_key(|e| e.0);
    Marked {
        conservative: conservative.into_inner(),
        masks,
    }
}

impl<'a> Index<'a> {
    /// Each span's bytes where the target maps them (empty where it copies).
    pub(crate) fn data(&self) -> &[&'a [u8]] {
        &self.data
    }

    /// The index of `inp`'s heap, nothing marked yet.
    pub(crate) fn build(inp: &IndexInput<'a>) -> Index<'a> {
        let mut problems = Vec::new();
        let mut ix = build_index(inp, &mut problems);
        ix.problems = problems;
        ix
    }
}

fn build_index<'a>(inp: &IndexInput<'a>, problems: &mut Vec<String>) -> Index<'a> {
    let mem = inp.mem;
    let rt = inp.rt;
    let sl = &rt.layouts.mspan;
    let heap = inp.heap;
    let in_use: Vec<_> = heap
        .spans
        .iter()
        .filter(|s| s.state == SpanState::InUse && s.elemsize > 0)
        .collect();
    let mut bit = 0u64;
    let mut spans = Vec::with_capacity(in_use.len());
    for s in &in_use {
        spans.push(SpanMeta {
            base: s.base,
            elemsize: s.elemsize,
            nelems: s.nelems,
            npages: s.npages,
            spanclass: s.spanclass,
            bit,
            large_type: 0,
            div_mul: SpanMeta::div_mul_for(s.spanclass, s.elemsize),
        });
        bit += s.nelems as u64;
    }
    let words = bit.div_ceil(64) as usize;
    // Allocation bits: i < freeindex, or allocBits set (the heap walk's rule). Each span
    // builds its own bits, merged into the global vector at the span's offset.
    let alloc_parts: Vec<(Vec<u64>, u64, Option<String>)> = in_use
        .par_iter()
        .map(|s| {
            let n = s.nelems as u64;
            let mut local = vec![0u64; n.div_ceil(64) as usize];
            let lt = sl
                .large_type
                .filter(|_| s.size_class() == 0)
                .and_then(|f| mem.read_ptr(s.desc + f.offset).ok())
                .unwrap_or(0);
            let bytes = mem
                .read_ptr(s.desc + sl.alloc_bits.offset)
                .and_then(|ab| mem.bytes(ab, n.div_ceil(8) as usize));
            let problem = match &bytes {
                Ok(b) => {
                    for (i, &byte) in b.iter().enumerate() {
                        local[i / 8] |= u64::from(byte) << (8 * (i % 8));
                    }
                    None
                }
                Err(e) => Some(format!("span {:#x}: allocBits: {e}", s.base)),
            };
            // Below freeindex every slot is allocated; nothing past nelems is.
            let fi = u64::from(s.freeindex).min(n);
            for w in 0..fi / 64 {
                local[w as usize] = u64::MAX;
            }
            if !fi.is_multiple_of(64) {
                local[(fi / 64) as usize] |= (1u64 << (fi % 64)) - 1;
            }
            if !n.is_multiple_of(64) {
                if let Some(last) = local.last_mut() {
                    *last &= (1u64 << (n % 64)) - 1;
                }
            }
            (local, lt, problem)
        })
        .collect();
    let mut alloc = vec![0u64; words];
    for (m, (local, lt, p)) in spans.iter_mut().zip(alloc_parts) {
        merge_bits(&mut alloc, m.bit, &local);
        m.large_type = lt;
        problems.extend(p);
    }
    let c = &rt.layouts.consts;
    let lookup = SpanLookup::new(&spans, heap.arenas.clone(), c);
    let mechanism = match inp.layouts.heap_arena_bitmap {
        Some(f)
            if inp.objects.consts.min_size_for_malloc_header.is_none() || rt.version.minor < 22 =>
        {
            Mechanism::ArenaBitmap { field: f.offset }
        }
        _ => Mechanism::Headers,
    };
    let heap_arenas = heap_arena_ptrs(mem, rt, lookup.arenas(), problems);
    let data = spans
        .par_iter()
        .map(|s| {
            mem.mapped(s.base, (s.npages * c.page_size) as usize)
                .unwrap_or(&[])
        })
        .collect();
    Index {
        mem,
        spans,
        lookup,
        data,
        bits: alloc.into_iter().map(|a| SlotBits::new(a, 0)).collect(),
        scan: ScanRules {
            mechanism,
            heap_arenas,
            page_size: c.page_size,
            header_min: inp
                .objects
                .consts
                .min_size_for_malloc_header
                .unwrap_or(u64::MAX),
            header_size: inp.objects.consts.malloc_header_size,
            inline_mark_bits: if rt.layouts.green_tea {
                inp.layouts.inline_mark_bits
            } else {
                0
            },
        },
        problems: Vec::new(),
    }
}

/// The bits set in the words of `a` (and in `and`, if given) from bit `lo` over `n` bits
/// (`runtime::heap::count_bits` counts a byte string's).
pub(crate) fn count_word_bits(a: &[u64], and: Option<&[u64]>, lo: u64, n: u64) -> u64 {
    let hi = lo + n;
    let mut total = 0;
    let mut b = lo;
    while b < hi {
        let w = (b / 64) as usize;
        let from = b % 64;
        let to = (hi - 64 * w as u64).min(64);
        let mut m = u64::MAX << from;
        if to < 64 {
            m &= (1u64 << to) - 1;
        }
        let v = a.get(w).copied().unwrap_or(0)
            & and.map_or(u64::MAX, |x| x.get(w).copied().unwrap_or(0));
        total += u64::from((v & m).count_ones());
        b = 64 * (w as u64 + 1);
    }
    total
}

/// OR the bit vector `local` into `global` starting at bit `offset`.
fn merge_bits(global: &mut [u64], offset: u64, local: &[u64]) {
    for (k, &v) in local.iter().enumerate() {
        if v == 0 {
            continue;
        }
        let o = offset + 64 * k as u64;
        let (w, sh) = ((o / 64) as usize, o % 64);
        global[w] |= v << sh;
        if sh != 0 && v >> (64 - sh) != 0 {
            global[w + 1] |= v >> (64 - sh);
        }
    }
}

/// The `heapArena` of each arena (`mheap_.arenas[0][index]`).
fn heap_arena_ptrs(
    mem: &dyn Memory,
    rt: &GoRuntime,
    arenas: &[u64],
    problems: &mut Vec<String>,
) -> Vec<u64> {
    let c = &rt.layouts.consts;
    let l2 = mem
        .read_ptr(rt.syms.mheap + rt.layouts.mheap.arenas.offset)
        .unwrap_or(0);
    arenas
        .iter()
        .map(|&base| {
            let ai = base.wrapping_sub(c.arena_base_offset) >> c.heap_arena_bytes.trailing_zeros();
            mem.read_ptr(l2 + ai * 8).unwrap_or_else(|e| {
                problems.push(format!("heapArena of {base:#x}: {e}"));
                0
            })
        })
        .collect()
}

/// A type's pointer word offsets within one element, and the element's size in words.
pub(crate) type ElemMask = (Vec<u32>, u64);

/// Masks resolved by type address.
type MaskTable = Vec<(u64, Option<Arc<ElemMask>>)>;

/// Roots scanned by one task.
const ROOTS_PER_TASK: usize = 64;
/// Work items whose first reads are asked for before the oldest of them is visited.
const AHEAD: usize = 8;
/// A work list this long is split in two.
const SPLIT_AT: usize = 2048;

/// What every marking task shares.
struct Shared<'i, 'a, V> {
    ix: &'i Index<'a>,
    types: &'i TypeReader<'a>,
    conservative: &'i AtomicU64,
    /// Every worker's resolved masks, gathered when it ends (kept by [`Reach`]).
    all_masks: &'i Mutex<MaskTable>,
    visit: &'i V,
}

impl<V> Clone for Shared<'_, '_, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Shared<'_, '_, V> {}

impl<'i, 'a, V: Visitor> Shared<'i, 'a, V> {
    fn worker(self, work: Vec<(u32, u32)>) -> Worker<'i, 'a, V> {
        Worker {
            sh: self,
            work,
            masks: HashMap::new(),
            local: self.visit.local(),
        }
    }
}

struct Worker<'i, 'a, V: Visitor> {
    sh: Shared<'i, 'a, V>,
    work: Vec<(u32, u32)>,
    /// Pointer word offsets within one element, and the element's size in words, by type
    /// address.
    masks: HashMap<u64, Option<Arc<ElemMask>>>,
    local: V::Local,
}

impl<V: Visitor> Drop for Worker<'_, '_, V> {
    fn drop(&mut self) {
        self.sh.visit.finish(&mut self.local);
        if !self.masks.is_empty() {
            let mut all = self.sh.all_masks.lock().unwrap_or_else(|p| p.into_inner());
            all.extend(self.masks.drain());
        }
    }
}

/// What scanning an object reports: the element mask of a type, objects scanned word by
/// word, and each pointer word (offset from the slot's start, value).
trait WordSink {
    fn mask(&mut self, typ: u64) -> Option<Arc<ElemMask>>;
    fn conservative(&mut self);
    fn word(&mut self, off: u64, v: u64);
    /// The object in `slot` of span `si` is about to be scanned: returns the words to report
    /// through [`WordSink::edge`] instead of [`WordSink::word`] (see [`Visitor::object`]).
    #[inline]
    fn object(&mut self, _si: u32, _slot: u32, _ptrs: Ptrs) -> u64 {
        0
    }
    /// Pointer word `i` of the object, one of those [`WordSink::object`] returned.
    #[inline]
    fn edge(&mut self, i: u32, v: u64) {
        self.word(u64::from(i) * 8, v)
    }
}

impl<V: Visitor> WordSink for Worker<'_, '_, V> {
    fn mask(&mut self, typ: u64) -> Option<Arc<ElemMask>> {
        let types = self.sh.types;
        self.masks
            .entry(typ)
            .or_insert_with(|| {
                types.read(typ).ok().and_then(|t| {
                    let words = (t.ptr_bytes / 8) as usize;
                    let m = types.ptr_mask(&t, words).ok().flatten()?;
                    let m = mask_with_stride(m, t.size);
                    let offsets: Vec<u32> =
                        (0..m.len() as u32).filter(|&i| m[i as usize]).collect();
                    Some(Arc::new((offsets, m.len() as u64)))
                })
            })
            .clone()
    }
    fn conservative(&mut self) {
        self.sh.conservative.fetch_add(1, Ordering::Relaxed);
    }
    #[inline]
    fn word(&mut self, _off: u64, v: u64) {
        self.pointer(v)
    }
    #[inline]
    fn object(&mut self, si: u32, slot: u32, ptrs: Ptrs) -> u64 {
        self.sh
            .visit
            .object(&mut self.local, si, slot, ptrs, &mut self.work)
    }
    /// [`Worker::pointer`] with the visitor told of the target (one lookup for both).
    #[inline(always)]
    fn edge(&mut self, i: u32, v: u64) {
        let Some((si, slot, b, bits, m)) = self.target(v) else {
            return;
        };
        if bits.alloc & m == 0 {
            return;
        }
        self.sh
            .visit
            .edge(&mut self.local, i, v, si as u32, b, bits, m, &mut self.work);
        if bits.marked.load(Ordering::Relaxed) & m == 0 {
            self.mark_slot(si, slot, bits, m);
        }
    }
}

impl<'i, 'a, V: Visitor> Worker<'i, 'a, V> {
    /// Scan `size` bytes at `addr`, following the words `is_ptr` selects.
    fn scan_words(&mut self, addr: u64, size: u64, is_ptr: impl Fn(u64) -> bool) {
        let Ok(b) = self.sh.ix.mem.bytes(addr, size as usize) else {
            return;
        };
        for (i, w) in b.chunks_exact(8).enumerate() {
            if is_ptr(i as u64) {
                self.pointer(u64::from_le_bytes(w.try_into().unwrap()));
            }
        }
    }

    /// The slot pointer `v` points into, if any: (span index, slot, slot bit, the state of
    /// its 64 slots, its bit there).
    #[inline(always)]
    fn target(&self, v: u64) -> Option<(usize, u64, u64, &'i SlotBits, u64)> {
        let ix = self.sh.ix;
        let si = ix.lookup.span(v)?;
        let s = &ix.spans[si];
        let slot = s.slot_of(v - s.base);
        if slot >= s.nelems as u64 {
            return None;
        }
        let b = s.bit + slot;
        Some((si, slot, b, &ix.bits[(b / 64) as usize], 1u64 << (b % 64)))
    }

    /// A pointer value: mark the allocated slot it points into, if any.
    #[inline(always)]
    fn pointer(&mut self, v: u64) {
        let Some((si, slot, _, bits, m)) = self.target(v) else {
            return;
        };
        // Plain loads first: most pointers lead to marked objects, which need no atomic write.
        if bits.alloc & m != 0 && bits.marked.load(Ordering::Relaxed) & m == 0 {
            self.mark_slot(si, slot, bits, m);
        }
    }

    /// Mark the allocated slot `slot` of span `si` (bit `m` of `bits`), unmarked when last
    /// seen, and queue it (a scan object) or tell the visitor (a noscan one).
    #[inline(never)]
    fn mark_slot(&mut self, si: usize, slot: u64, bits: &SlotBits, m: u64) {
        // Sequentially consistent: a visitor typing objects concurrently checks the mark
        // after setting a type, and marking checks the type after setting the mark.
        if bits.marked.fetch_or(m, Ordering::SeqCst) & m == 0 {
            if self.sh.ix.spans[si].spanclass & 1 == 0 {
                self.work.push((si as u32, slot as u32));
            } else {
                self.sh.visit.noscan(
                    &mut self.local,
                    si as u32,
                    slot as u32,
                    (bits, m),
                    &mut self.work,
                );
            }
        }
    }

    fn drain<'s>(&mut self, sc: &rayon::Scope<'s>)
    where
        'i: 's,
        'a: 's,
        V: 's,
    {
        let mut ring = [(0u32, 0u32); AHEAD];
        let (mut head, mut n) = (0usize, 0usize);
        loop {
            while n < AHEAD {
                let Some(item) = self.work.pop() else { break };
                self.prefetch(item);
                ring[(head + n) % AHEAD] = item;
                n += 1;
            }
            if n == 0 {
                break;
            }
            let (si, slot) = ring[head];
            head = (head + 1) % AHEAD;
            n -= 1;
            let sh = self.sh;
            if slot & RETYPE != 0 {
                sh.visit
                    .retype(&mut self.local, si, slot & !RETYPE, &mut self.work);
            } else {
                let ix = sh.ix;
                scan_object(
                    &ix.scan,
                    ix.lookup.arenas(),
                    ix.mem,
                    ix.data.get(si as usize).copied().unwrap_or(&[]),
                    si,
                    &ix.spans[si as usize],
                    u64::from(slot),
                    self,
                );
            }
            if self.work.len() >= SPLIT_AT {
                let half = self.work.split_off(self.work.len() / 2);
                sc.spawn(move |sc| sh.worker(half).drain(sc));
            }
        }
    }

    /// Ask the cache for what visiting work item `(si, slot)` reads first. A hint only:
    /// nothing is read, and an item of an unmapped span asks for nothing.
    #[inline]
    fn prefetch(&self, (si, slot): (u32, u32)) {
        let ix = self.sh.ix;
        let slot = slot & !RETYPE;
        if let (Some(s), Some(d)) = (ix.spans.get(si as usize), ix.data.get(si as usize)) {
            let at = u64::from(slot) * s.elemsize;
            if at < d.len() as u64 {
                prefetch_index::prefetch_index(d, at as usize);
            }
            if let Some(at) = ix
                .scan
                .small_bits_at(s, slot)
                .filter(|&a| a < d.len() as u64)
            {
                prefetch_index::prefetch_index(d, at as usize);
            }
        }
        self.sh.visit.prefetch(si, slot);
    }
}

/// Report the words of `obj` (`first` bytes into its slot) whose bits are set in `bits`,
/// starting at bit `sh`.
#[inline]
fn scan_bits<S: WordSink>(obj: &[u8], first: u64, bits: &[u8], sh: u64, sink: &mut S) {
    let n = (obj.len() / 8) as u64;
    for (k, &byte) in bits.iter().enumerate() {
        let mut b = byte;
        while b != 0 {
            let j = 8 * k as u64 + u64::from(b.trailing_zeros());
            b &= b - 1;
            let Some(i) = j.checked_sub(sh).filter(|&i| i < n) else {
                continue;
            };
            let at = (i * 8) as usize;
            sink.word(
                first + i * 8,
                u64::from_le_bytes(obj[at..at + 8].try_into().unwrap()),
            );
        }
    }
}

/// `len` bytes at `addr` of the span at `base` whose mapped bytes are `data` (empty: read
/// them from `mem`).
#[inline]
pub(crate) fn span_bytes<'d>(
    mem: &'d dyn Memory,
    data: &'d [u8],
    base: u64,
    addr: u64,
    len: u64,
) -> Option<Cow<'d, [u8]>> {
    let o = addr.checked_sub(base)? as usize;
    match data.get(o..o.checked_add(len as usize)?) {
        Some(b) => Some(Cow::Borrowed(b)),
        None => mem.bytes(addr, len as usize).ok(),
    }
}

/// Scan the scan object in slot `slot` of `s` by the runtime's pointer map for it, reporting
/// each pointer word to `sink` (`arenas`: the lookup's arena bases; `data`: the span's mapped
/// bytes, or empty).
#[inline]
#[allow(clippy::too_many_arguments)]
fn scan_object<S: WordSink>(
    r: &ScanRules,
    arenas: &[u64],
    mem: &dyn Memory,
    data: &[u8],
    si: u32,
    s: &SpanMeta,
    slot: u64,
    sink: &mut S,
) {
    let start = s.base + slot * s.elemsize;
    if let Some(ptrs) = small_ptrs(r, mem, data, s, slot) {
        let fused = sink.object(si, slot as u32, ptrs.map_or(Ptrs::Other, Ptrs::Small));
        if let Some(ptrs) = ptrs {
            if let Some(obj) = span_bytes(mem, data, s.base, start, s.elemsize) {
                scan_small(&obj, ptrs, fused, sink);
            }
        }
        return;
    }
    let Some(obj) = span_bytes(mem, data, s.base, start, s.elemsize) else {
        sink.object(si, slot as u32, Ptrs::Other);
        return;
    };
    let slot = slot as u32;
    match r.mechanism {
        Mechanism::ArenaBitmap { field } => {
            sink.object(si, slot, Ptrs::Other);
            let ai = arenas.partition_point(|&b| b <= start).wrapping_sub(1);
            let Some(&ha) = r.heap_arenas.get(ai) else {
                return;
            };
            let w0 = (start - arenas[ai]) / 8;
            let n = s.elemsize / 8;
            let Ok(bits) = mem.bytes(ha + field + w0 / 8, ((w0 % 8) + n).div_ceil(8) as usize)
            else {
                return;
            };
            scan_bits(&obj, 0, &bits, w0 % 8, sink);
        }
        Mechanism::Headers if s.spanclass >> 1 == 0 => {
            typed(&obj, 0, s.large_type, (si, slot), sink);
        }
        Mechanism::Headers if s.elemsize > r.header_min => {
            let h = r.header_size as usize;
            let t = obj
                .get(..8)
                .map_or(0, |t| u64::from_le_bytes(t.try_into().unwrap()));
            typed(
                obj.get(h..).unwrap_or(&[]),
                r.header_size,
                t,
                (si, slot),
                sink,
            );
        }
        // Small objects: `small_ptrs` above, unless their heap bits are out of reach.
        Mechanism::Headers => {
            sink.object(si, slot, Ptrs::Other);
        }
    }
}

/// For a small scan object whose pointer words the span's heap bits give (Go 1.22+, 512 B or
/// less): `Some(its pointer words)`, bit `i` for word `i` (`Some(None)`: the bits are
/// unreadable); `None` for every other object.
#[inline]
fn small_ptrs(
    r: &ScanRules,
    mem: &dyn Memory,
    data: &[u8],
    s: &SpanMeta,
    slot: u64,
) -> Option<Option<u64>> {
    let at = r.small_bits_at(s, slot as u32)?;
    let n = s.elemsize / 8;
    if n > 64 {
        return None;
    }
    let w0 = slot * n;
    // The (at most 9) bytes holding the bits, read as 16 where the span's bytes allow.
    let all = match data.get(at as usize..at as usize + 16) {
        Some(b) => u128::from_le_bytes(b.try_into().unwrap()),
        None => {
            let len = ((w0 % 8) + n).div_ceil(8);
            let Some(bits) = span_bytes(mem, data, s.base, s.base + at, len) else {
                return Some(None);
            };
            let mut buf = [0u8; 16];
            buf[..bits.len()].copy_from_slice(&bits);
            u128::from_le_bytes(buf)
        }
    };
    let all = (all >> (w0 % 8)) as u64;
    Some(Some(if n == 64 { all } else { all & ((1 << n) - 1) }))
}

/// Report the pointer words `ptrs` of the small object `obj`, those in `fused` as edges.
#[inline]
fn scan_small<S: WordSink>(obj: &[u8], ptrs: u64, fused: u64, sink: &mut S) {
    let mut p = ptrs;
    while p != 0 {
        let i = p.trailing_zeros();
        p &= p - 1;
        let at = i as usize * 8;
        let Some(w) = obj.get(at..at + 8) else {
            return;
        };
        let v = u64::from_le_bytes(w.try_into().unwrap());
        if fused >> i & 1 != 0 {
            sink.edge(i, v);
        } else {
            sink.word(u64::from(i) * 8, v);
        }
    }
}

/// The object bytes `obj` (`first` bytes into its slot) holding elements of the type at `typ`
/// (0: not published yet, nothing to scan), the type's mask repeated every `typ.size` bytes;
/// `(si, slot)`: the object's span and slot, for [`WordSink::object`].
#[inline]
fn typed<S: WordSink>(obj: &[u8], first: u64, typ: u64, (si, slot): (u32, u32), sink: &mut S) {
    if typ == 0 {
        sink.object(si, slot, Ptrs::Other);
        return;
    }
    let words = (obj.len() / 8) as u64;
    let mask = sink.mask(typ);
    let ptrs = match &mask {
        Some(m) if !m.0.is_empty() && m.1 > 0 => Ptrs::Values(m.1),
        _ => Ptrs::Other,
    };
    let fused = sink.object(si, slot, ptrs);
    match mask {
        Some(m) if m.0.is_empty() || m.1 == 0 => {}
        Some(m) if fused != 0 => {
            // Words of whole values in `fused` are edges.
            let (offsets, stride) = (&m.0, m.1);
            let mut base = 0u64;
            while base < words {
                let whole = base + stride <= words;
                for &o in offsets {
                    let i = base + u64::from(o);
                    if i >= words {
                        break;
                    }
                    let at = (i * 8) as usize;
                    let v = u64::from_le_bytes(obj[at..at + 8].try_into().unwrap());
                    if whole && o < 64 && fused >> o & 1 != 0 {
                        sink.edge(o, v);
                    } else {
                        sink.word(first + i * 8, v);
                    }
                }
                base += stride;
            }
        }
        Some(m) => {
            let (offsets, stride) = (&m.0, m.1);
            let mut base = 0u64;
            while base < words {
                for &o in offsets {
                    let i = base + u64::from(o);
                    if i >= words {
                        break;
                    }
                    let at = (i * 8) as usize;
                    sink.word(
                        first + i * 8,
                        u64::from_le_bytes(obj[at..at + 8].try_into().unwrap()),
                    );
                }
                base += stride;
            }
        }
        None => {
            sink.conservative();
            for (i, w) in obj.chunks_exact(8).enumerate() {
                sink.word(
                    first + 8 * i as u64,
                    u64::from_le_bytes(w.try_into().unwrap()),
                );
            }
        }
    }
}

/// A type's pointer mask padded with scalar words to the type's size: the pattern that
/// repeats over an object holding several elements.
fn mask_with_stride(mut m: Vec<bool>, size: u64) -> Vec<bool> {
    if !m.iter().any(|&p| p) {
        return Vec::new();
    }
    let stride = (size / 8) as usize;
    m.resize(stride.max(m.len()), false);
    m
}

/// The figures of a marked index.
pub(crate) fn tally(inp: MarkInput<'_>, ix: Index<'_>, marked: Marked) -> Reach {
    let Marked {
        conservative,
        masks,
    } = marked;
    let (alloc, marks): (Vec<u64>, Vec<u64>) = ix
        .bits
        .into_iter()
        .map(|b| (b.alloc, b.marked.into_inner()))
        .unzip();
    let classes = inp.index.heap.class_sizes.len().max(1);
    let mut by: Vec<ClassReach> = (0..classes)
        .map(|c| ClassReach {
            class: c as u8,
            size: inp.index.heap.class_sizes.get(c).copied().unwrap_or(0),
            ..ClassReach::default()
        })
        .collect();
    // Per span: allocated and reachable slots by popcount; spans in parallel chunks.
    let counts: Vec<(u64, u64)> = ix
        .spans
        .par_iter()
        .map(|s| {
            let n = u64::from(s.nelems);
            let allocated = count_word_bits(&alloc, None, s.bit, n);
            (allocated, count_word_bits(&alloc, Some(&marks), s.bit, n))
        })
        .collect();
    for (s, (allocated, reachable)) in ix.spans.iter().zip(counts) {
        let cr = &mut by[((s.spanclass >> 1) as usize).min(classes - 1)];
        cr.allocated_objects += allocated;
        cr.reachable_objects += reachable;
        cr.reachable_bytes += reachable * s.elemsize;
        cr.garbage_objects += allocated - reachable;
        cr.garbage_bytes += (allocated - reachable) * s.elemsize;
    }
    let mut r = Reach {
        mechanism: match ix.scan.mechanism {
            Mechanism::ArenaBitmap { .. } => "arena_bitmap",
            Mechanism::Headers => "span_bits_headers_large_type",
        },
        conservative_objects: conservative,
        problems: ix.problems,
        roots_by_kind: inp.roots.by_kind(),
        ..Reach::default()
    };
    for c in &by {
        r.allocated_objects += c.allocated_objects;
        r.allocated_bytes += c.reachable_bytes + c.garbage_bytes;
        r.reachable_objects += c.reachable_objects;
        r.reachable_bytes += c.reachable_bytes;
        r.garbage_objects += c.garbage_objects;
        r.garbage_bytes += c.garbage_bytes;
    }
    r.by_class = by.into_iter().filter(|c| c.allocated_objects > 0).collect();
    r.spans = Arc::new(ix.spans);
    r.lookup = Arc::new(ix.lookup);
    r.marks = Arc::new(marks);
    r.alloc = Arc::new(alloc);
    r.scan = Arc::new(ix.scan);
    r.masks = Arc::new(masks);
    r
}

/// The amd64 layout constants of every Go release, for tests on synthetic heaps.
#[cfg(test)]
pub(crate) fn test_consts() -> crate::runtime::layout::Consts {
    crate::runtime::layout::Consts {
        page_shift: 13,
        page_size: 8192,
        heap_arena_bytes: 1 << 26,
        arena_base_offset: 0xffff_8000_0000_0000,
        arena_l2_bits: 22,
        pages_per_arena: 8192,
        num_size_classes: 68,
        palloc_chunk_pages: 512,
        palloc_chunks_l2_bits: 13,
        span_dead: 0,
        span_in_use: 1,
        span_manual: 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's size classes (internal/runtime/gc/sizeclasses.go: sizes, pages per span).
    const SIZES: [u64; 67] = [
        8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320,
        352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
        2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472,
        9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264,
        28672, 32768,
    ];
    const NPAGES: [u64; 67] = [
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9,
        7, 5, 8, 3, 10, 7, 4,
    ];

    #[test]
    fn slot_by_div_mul_equals_division_over_every_class_and_offset() {
        for (i, (&size, &np)) in SIZES.iter().zip(NPAGES.iter()).enumerate() {
            let class = (i as u8 + 1) << 1;
            let s = SpanMeta {
                base: 0xc000000000,
                elemsize: size,
                nelems: (np * 8192 / size) as u32,
                npages: np,
                spanclass: class,
                bit: 0,
                large_type: 0,
                div_mul: SpanMeta::div_mul_for(class, size),
            };
            assert_ne!(s.div_mul, 0);
            for off in 0..=np * 8192 {
                assert_eq!(s.slot_of(off), off / size, "size {size} offset {off}");
            }
        }
        // Large spans divide.
        assert_eq!(SpanMeta::div_mul_for(0, 40960), 0);
    }

    #[test]
    fn span_lookup_finds_spans_across_arenas() {
        let c = test_consts();
        let span = |base: u64, npages: u64| SpanMeta {
            base,
            elemsize: 8192,
            nelems: npages as u32,
            npages,
            spanclass: 0,
            bit: 0,
            large_type: 0,
            div_mul: 0,
        };
        let a0 = 0xc000000000u64;
        // A second arena close by (one table over both) and far away (a table per arena).
        for (gap, dense) in [(3u64, true), (100, false)] {
            let a1 = a0 + gap * (1 << 26);
            let spans = vec![span(a0, 2), span(a0 + 0x6000, 1), span(a1 + 0x2000, 3)];
            let l = SpanLookup::new(&spans, vec![a0, a1], &c);
            assert_eq!(l.dense_base.is_some(), dense, "gap {gap}");
            assert_eq!(l.span(a0), Some(0));
            assert_eq!(l.span(a0 + 0x3fff), Some(0));
            assert_eq!(l.span(a0 + 0x4000), None);
            assert_eq!(l.span(a0 + 0x6008), Some(1));
            assert_eq!(l.span(a0 + (1 << 26)), None, "between arenas");
            assert_eq!(l.span(a1 + 0x7fff), Some(2));
            assert_eq!(l.span(a1 + 0x8000), None);
            assert_eq!(l.span(a1 + (1 << 26)), None, "above the heap");
            assert_eq!(l.span(a0 - 8), None, "below the heap");
        }
    }

    #[test]
    fn count_word_bits_over_unaligned_ranges() {
        let a = [u64::MAX, 0b1011, u64::MAX];
        let m = [0b1, u64::MAX, 1 << 63];
        assert_eq!(count_word_bits(&a, None, 0, 192), 64 + 3 + 64);
        assert_eq!(count_word_bits(&a, None, 60, 8), 4 + 3);
        assert_eq!(count_word_bits(&a, None, 65, 1), 1);
        assert_eq!(count_word_bits(&a, None, 66, 1), 0);
        assert_eq!(count_word_bits(&a, Some(&m), 0, 192), 1 + 3 + 1);
        assert_eq!(count_word_bits(&a, Some(&m), 1, 190), 3);
        assert_eq!(count_word_bits(&a, None, 10, 0), 0);
    }

    #[test]
    fn merge_bits_at_unaligned_offsets() {
        let mut g = vec![0u64; 3];
        merge_bits(&mut g, 60, &[0b1_1111, 1]);
        // Bits 60..65 and 124.
        assert_eq!(g[0], 0xf << 60);
        assert_eq!(g[1], 1 | 1 << 60);
        assert_eq!(g[2], 0);
        let mut g = vec![0u64; 2];
        merge_bits(&mut g, 64, &[u64::MAX]);
        assert_eq!(g, vec![0, u64::MAX]);
    }

    #[test]
    fn type_mask_repeats_with_the_type_size() {
        // A 24-byte element with a pointer in its first word: 1,0,0 per element.
        assert_eq!(mask_with_stride(vec![true], 24), vec![true, false, false]);
        // No pointer at all: nothing to scan.
        assert!(mask_with_stride(vec![false, false], 16).is_empty());
        // A mask longer than the size (never in practice) is kept whole.
        assert_eq!(mask_with_stride(vec![true, true], 8), vec![true, true]);
    }

    #[test]
    fn root_masks_select_words() {
        let m = RootMask::Bits(vec![0b101, 0b1]);
        let sel: Vec<u64> = (0..16).filter(|&i| m.word(i)).collect();
        assert_eq!(sel, vec![0, 2, 8]);
        assert!(RootMask::AllWords.word(1000));
    }
}
