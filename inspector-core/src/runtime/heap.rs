//! The heap walk: `mheap_` → arena list → each arena's page→span map → every in-use and manual
//! mspan, with its allocated slots counted from `freeindex` and `allocBits` (the runtime's own
//! rule: slot i is allocated iff `i < freeindex` or its allocBits bit is set). Free page runs
//! come from the page allocator's bitmaps. Arenas are walked in parallel; a corrupt span is
//! reported in [`Heap::problems`] and the walk goes on.

use rayon::prelude::*;

use super::{GoRuntime, RuntimeError};
use crate::target::{Memory, MemoryExt};

/// The state of a run of heap pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpanState {
    /// An mspan holding heap objects (`mSpanInUse`).
    InUse,
    /// An mspan managed by hand: goroutine stacks, GC work buffers (`mSpanManual`).
    Manual,
    /// Free pages (no span), from the page allocator.
    Free,
}

impl SpanState {
    pub fn name(self) -> &'static str {
        match self {
            SpanState::InUse => "inuse",
            SpanState::Manual => "manual",
            SpanState::Free => "free",
        }
    }
    pub fn parse(s: &str) -> Option<SpanState> {
        match s {
            "inuse" | "in-use" | "in_use" => Some(SpanState::InUse),
            "manual" | "stack" => Some(SpanState::Manual),
            "free" | "idle" => Some(SpanState::Free),
            _ => None,
        }
    }
}

/// One span (or free page run) of the heap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Address of the `mspan` descriptor (0 for a free page run).
    pub desc: u64,
    pub base: u64,
    pub npages: u64,
    pub state: SpanState,
    /// `sizeclass << 1 | noscan`.
    pub spanclass: u8,
    /// Slot size; for a large object span, `npages * pageSize`.
    pub elemsize: u64,
    pub nelems: u32,
    /// Allocated slots by the runtime's rule.
    pub allocated: u32,
    /// The span's own `allocCount`.
    pub alloc_count: u32,
    pub freeindex: u32,
    pub sweepgen: u32,
    /// For free runs: pages returned to the OS (scavenged).
    pub released_pages: u64,
}

impl Span {
    pub fn size_class(&self) -> u8 {
        self.spanclass >> 1
    }
    pub fn noscan(&self) -> bool {
        self.spanclass & 1 == 1
    }
    pub fn is_large(&self) -> bool {
        self.state == SpanState::InUse && self.size_class() == 0
    }
    /// Bytes of pages the span covers.
    pub fn bytes(&self, page_size: u64) -> u64 {
        self.npages * page_size
    }
    /// Bytes of allocated slots.
    pub fn allocated_bytes(&self) -> u64 {
        self.allocated as u64 * self.elemsize
    }
    pub fn free_slots(&self) -> u32 {
        self.nelems.saturating_sub(self.allocated)
    }
    pub fn limit(&self, page_size: u64) -> u64 {
        self.base + self.bytes(page_size)
    }
}

/// The result of a heap walk.
#[derive(Debug, Clone, Default)]
pub struct Heap {
    /// In-use spans, manual spans and free page runs, sorted by base address.
    pub spans: Vec<Span>,
    /// Base addresses of the heap arenas.
    pub arenas: Vec<u64>,
    pub arena_bytes: u64,
    pub page_size: u64,
    /// `mheap_.sweepgen`.
    pub sweepgen: u32,
    /// Size of each size class (index = class).
    pub class_sizes: Vec<u64>,
    /// Corruption found (one line each); the walk skipped what it could not read.
    pub problems: Vec<String>,
}

impl Heap {
    /// Spans (and free runs) whose address range contains `addr`.
    pub fn span_containing(&self, addr: u64) -> Option<&Span> {
        let i = self.spans.partition_point(|s| s.base <= addr);
        let s = self.spans.get(i.checked_sub(1)?)?;
        (addr < s.limit(self.page_size)).then_some(s)
    }

    /// Walk the heap of `rt` in `mem`.
    pub fn walk(mem: &dyn Memory, rt: &GoRuntime) -> Result<Heap, RuntimeError> {
        let l = &rt.layouts;
        let c = &l.consts;
        let mheap = rt.syms.mheap;
        let class_sizes = rt.class_sizes(mem)?;
        let sweepgen = mem
            .read_u32(mheap + l.mheap.sweepgen.offset)
            .map_err(RuntimeError::read("mheap_.sweepgen"))?;
        let (list_ptr, list_len) =
            rt.read_slice(mem, mheap + l.mheap.arena_list.offset, "mheap_ arena list")?;
        let max_arenas = 1u64 << c.arena_l2_bits;
        if list_len > max_arenas {
            return Err(RuntimeError::Corrupt(format!(
                "mheap_ arena list has {list_len} entries (at most {max_arenas} exist)"
            )));
        }
        let idx_bytes = mem
            .bytes(list_ptr, (list_len * 8) as usize)
            .map_err(RuntimeError::read("mheap_ arena list"))?;
        let arena_idx: Vec<u64> = idx_bytes
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        // arenaL1Bits is 0 on linux/amd64: mheap_.arenas is [1]*[1<<arenaL2Bits]*heapArena.
        let l2 = mem
            .read_ptr(mheap + l.mheap.arenas.offset)
            .map_err(RuntimeError::read("mheap_.arenas[0]"))?;
        if l2 == 0 {
            return Err(RuntimeError::Corrupt("mheap_.arenas[0] is nil".into()));
        }

        let walker = SpanWalker {
            mem,
            rt,
            class_sizes: &class_sizes,
        };
        let results: Vec<(u64, Vec<Span>, Vec<String>)> = arena_idx
            .par_iter()
            .map(|&ai| {
                let base =
                    (ai << c.heap_arena_bytes.trailing_zeros()).wrapping_add(c.arena_base_offset);
                let mut problems = Vec::new();
                let spans = if ai >= max_arenas {
                    problems.push(format!("arena index {ai:#x} out of range"));
                    Vec::new()
                } else {
                    walker.arena(l2, ai, base, &mut problems)
                };
                (base, spans, problems)
            })
            .collect();

        let mut heap = Heap {
            page_size: c.page_size,
            arena_bytes: c.heap_arena_bytes,
            sweepgen,
            class_sizes,
            ..Heap::default()
        };
        for (base, spans, problems) in results {
            heap.arenas.push(base);
            heap.spans.extend(spans);
            heap.problems.extend(problems);
        }
        if let Err(e) = cross_check_allspans(mem, rt, &mut heap) {
            heap.problems.push(format!("mheap_.allspans: {e}"));
        }
        match free_runs(mem, rt) {
            Ok(free) => heap.spans.extend(free),
            Err(e) => heap.problems.push(format!("page allocator: {e}")),
        }
        heap.arenas.sort_unstable();
        heap.spans.sort_unstable_by_key(|s| s.base);
        Ok(heap)
    }
}

struct SpanWalker<'a> {
    mem: &'a dyn Memory,
    rt: &'a GoRuntime,
    class_sizes: &'a [u64],
}

impl SpanWalker<'_> {
    /// All in-use and manual spans that start in one arena.
    fn arena(&self, l2: u64, ai: u64, base: u64, problems: &mut Vec<String>) -> Vec<Span> {
        let c = &self.rt.layouts.consts;
        let ha = match self.mem.read_ptr(l2 + ai * 8) {
            Ok(0) => {
                problems.push(format!("arena {base:#x} is listed but has no heapArena"));
                return Vec::new();
            }
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("arena {base:#x}: heapArena pointer: {e}"));
                return Vec::new();
            }
        };
        let spans_off = ha + self.rt.layouts.heap_arena.spans.offset;
        let map = match self.mem.bytes(spans_off, (c.pages_per_arena * 8) as usize) {
            Ok(m) => m,
            Err(e) => {
                problems.push(format!("arena {base:#x}: page→span map: {e}"));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        let page_desc = |i: usize| u64::from_le_bytes(map[i * 8..i * 8 + 8].try_into().unwrap());
        let npages_here = c.pages_per_arena as usize;
        let mut page = 0usize;
        while page < npages_here {
            let desc = page_desc(page);
            if desc == 0 {
                page += 1;
                continue;
            }
            // Not deduplicated by descriptor: the last page of a free span maps to that free
            // span's descriptor, which may since have been recycled for the span starting at
            // the next page. Validity is decided by `startAddr` alone.
            let page_addr = base + page as u64 * c.page_size;
            match self.span(desc, page_addr) {
                Ok(Some(s)) => {
                    page += (s.npages as usize).max(1);
                    out.push(s);
                }
                Ok(None) => page += 1,
                Err(e) => {
                    problems.push(e);
                    page += 1;
                }
            }
        }
        out
    }

    /// The span described at `desc`, if it is an in-use or manual span starting at
    /// `page_addr` (pages of free spans map to dead or unrelated descriptors).
    fn span(&self, desc: u64, page_addr: u64) -> Result<Option<Span>, String> {
        let l = &self.rt.layouts.mspan;
        let c = &self.rt.layouts.consts;
        let b = self
            .mem
            .bytes(desc, l.size as usize)
            .map_err(|e| format!("mspan at {desc:#x}: {e}"))?;
        let b: &[u8] = &b;
        let start = l.start_addr.get(b);
        if start != page_addr {
            return Ok(None);
        }
        let state_raw = l.state.get(b);
        let state = if state_raw == c.span_in_use {
            SpanState::InUse
        } else if state_raw == c.span_manual {
            SpanState::Manual
        } else if state_raw == c.span_dead {
            return Ok(None);
        } else {
            return Err(format!(
                "mspan at {desc:#x} (base {start:#x}): unknown state {state_raw}"
            ));
        };
        let npages = l.npages.get(b);
        if npages == 0 || npages > (1 << 40) / c.page_size {
            return Err(format!(
                "mspan at {desc:#x} (base {start:#x}): npages {npages}"
            ));
        }
        let mut s = Span {
            desc,
            base: start,
            npages,
            state,
            spanclass: l.spanclass.get(b) as u8,
            elemsize: l.elemsize.get(b),
            nelems: l.nelems.get(b) as u32,
            allocated: 0,
            alloc_count: l.alloc_count.get(b) as u32,
            freeindex: l.freeindex.get(b) as u32,
            sweepgen: l.sweepgen.get(b) as u32,
            released_pages: 0,
        };
        if state == SpanState::Manual {
            s.spanclass = 0;
            s.elemsize = 0;
            s.nelems = 0;
            s.alloc_count = 0;
            s.freeindex = 0;
            return Ok(Some(s));
        }
        self.check_shape(&s)?;
        let alloc_bits = l.alloc_bits.get(b);
        s.allocated = self.count_allocated(&s, alloc_bits)?;
        Ok(Some(s))
    }

    fn check_shape(&self, s: &Span) -> Result<(), String> {
        let page_size = self.rt.layouts.consts.page_size;
        let class = s.size_class() as usize;
        let bad = |what: String| Err(format!("span {:#x} (mspan {:#x}): {what}", s.base, s.desc));
        if class >= self.class_sizes.len() {
            return bad(format!("size class {class} out of range"));
        }
        if class == 0 {
            if s.nelems != 1 {
                return bad(format!("large-object span has nelems {}", s.nelems));
            }
        } else {
            if s.elemsize != self.class_sizes[class] {
                return bad(format!(
                    "elemsize {} does not match size class {class} ({})",
                    s.elemsize, self.class_sizes[class]
                ));
            }
            if s.nelems == 0 || s.nelems as u64 * s.elemsize > s.npages * page_size {
                return bad(format!(
                    "nelems {} × elemsize {} exceeds its {} pages",
                    s.nelems, s.elemsize, s.npages
                ));
            }
        }
        Ok(())
    }

    /// Allocated slots: every index below `freeindex`, plus set allocBits above it.
    fn count_allocated(&self, s: &Span, alloc_bits: u64) -> Result<u32, String> {
        let n = s.nelems;
        let fi = s.freeindex.min(n);
        if fi >= n {
            return Ok(n);
        }
        if alloc_bits == 0 {
            return Err(format!(
                "span {:#x} (mspan {:#x}): allocBits is nil",
                s.base, s.desc
            ));
        }
        let bits = self
            .mem
            .bytes(alloc_bits, n.div_ceil(8) as usize)
            .map_err(|e| format!("span {:#x}: allocBits: {e}", s.base))?;
        Ok(fi + count_bits(&bits, fi, n))
    }
}

/// Every in-use or manual span listed in `mheap_.allspans` must have been found through the
/// arena map; one that was not is reported (the walk's figures would otherwise be silently
/// short). `allspans` also holds dead descriptors awaiting reuse, which are skipped.
fn cross_check_allspans(
    mem: &dyn Memory,
    rt: &GoRuntime,
    heap: &mut Heap,
) -> Result<(), RuntimeError> {
    let l = &rt.layouts;
    let (ptr, len) = rt.read_slice(
        mem,
        rt.syms.mheap + l.mheap.allspans.offset,
        "mheap_.allspans",
    )?;
    if len > 1 << 32 {
        return Err(RuntimeError::Corrupt(format!(
            "mheap_.allspans has {len} entries"
        )));
    }
    let ptrs = mem
        .bytes(ptr, (len * 8) as usize)
        .map_err(RuntimeError::read("mheap_.allspans"))?;
    let mut found: Vec<u64> = heap.spans.iter().map(|s| s.desc).collect();
    found.sort_unstable();
    let c = &l.consts;
    let missing: Vec<u64> = ptrs
        .par_chunks_exact(8)
        .filter_map(|w| {
            let desc = u64::from_le_bytes(w.try_into().unwrap());
            let b = mem.bytes(desc, l.mspan.size as usize).ok()?;
            let state = l.mspan.state.get(&b);
            let live = state == c.span_in_use || state == c.span_manual;
            (live && found.binary_search(&desc).is_err()).then_some(desc)
        })
        .collect();
    for desc in missing.iter().take(10) {
        heap.problems.push(format!(
            "mspan {desc:#x} is in use according to mheap_.allspans but no heap arena maps its first page to it; its objects are not counted"
        ));
    }
    if missing.len() > 10 {
        heap.problems
            .push(format!("... and {} more such spans", missing.len() - 10));
    }
    Ok(())
}

/// Number of set bits with index in `[from, to)` (bit i is byte i/8, mask 1<<(i%8)).
pub fn count_bits(bits: &[u8], from: u32, to: u32) -> u32 {
    let mut n = 0;
    let mut i = from;
    while i < to && !i.is_multiple_of(8) {
        n += ((bits[(i / 8) as usize] >> (i % 8)) & 1) as u32;
        i += 1;
    }
    while i + 64 <= to {
        let k = (i / 8) as usize;
        n += u64::from_le_bytes(bits[k..k + 8].try_into().unwrap()).count_ones();
        i += 64;
    }
    while i + 8 <= to {
        n += bits[(i / 8) as usize].count_ones();
        i += 8;
    }
    while i < to {
        n += ((bits[(i / 8) as usize] >> (i % 8)) & 1) as u32;
        i += 1;
    }
    n
}

/// Runs of idle pages, as the runtime counts HeapIdle (heapFree + heapReleased):
/// - pages free in the page allocator's chunk bitmaps (`pallocBits` bit clear), released when
///   their `scavenged` bit is set;
/// - pages marked allocated *and* scavenged: on 1.26+ the random padding in front of the
///   randomized heap base, which the runtime maps as released and never uses;
/// - free pages held in each P's page cache (`p.pcache`), taken out of the bitmap but still
///   counted as free.
fn free_runs(mem: &dyn Memory, rt: &GoRuntime) -> Result<Vec<Span>, RuntimeError> {
    let mut pages = bitmap_idle_pages(mem, rt)?;
    pages.extend(page_cache_pages(mem, rt)?);
    pages.sort_unstable();
    let page_size = rt.layouts.consts.page_size;
    let mut runs: Vec<Span> = Vec::new();
    for (addr, released) in pages {
        if let Some(last) = runs.last_mut() {
            if last.base + last.npages * page_size == addr {
                last.npages += 1;
                last.released_pages += released as u64;
                continue;
            }
        }
        runs.push(Span {
            desc: 0,
            base: addr,
            npages: 1,
            state: SpanState::Free,
            spanclass: 0,
            elemsize: 0,
            nelems: 0,
            allocated: 0,
            alloc_count: 0,
            freeindex: 0,
            sweepgen: 0,
            released_pages: released as u64,
        });
    }
    Ok(runs)
}

/// Idle pages (address, released) from the page allocator's bitmaps over its in-use ranges.
fn bitmap_idle_pages(mem: &dyn Memory, rt: &GoRuntime) -> Result<Vec<(u64, bool)>, RuntimeError> {
    let l = &rt.layouts;
    let pa = &l.page_alloc;
    let c = &l.consts;
    let pages = rt.syms.mheap + l.mheap.pages.offset;
    let (rptr, rlen) = rt.read_slice(
        mem,
        pages + pa.in_use.offset + pa.ranges.offset,
        "mheap_.pages.inUse.ranges",
    )?;
    if rlen > 1 << 20 {
        return Err(RuntimeError::Corrupt(format!(
            "mheap_.pages.inUse has {rlen} ranges"
        )));
    }
    let chunk_bytes = c.palloc_chunk_pages * c.page_size;
    let l2_mask = (1u64 << c.palloc_chunks_l2_bits) - 1;
    let mut out = Vec::new();
    for r in 0..rlen {
        let ra = rptr + r * pa.addr_range_size;
        let rd = |f: &super::layout::Field| {
            mem.read_u64(ra + f.offset)
                .map_err(RuntimeError::read("page allocator range"))
        };
        let (base, limit) = (rd(&pa.addr_range_base)?, rd(&pa.addr_range_limit)?);
        let mut addr = base;
        while addr < limit {
            let off = addr.wrapping_sub(c.arena_base_offset);
            let ci = off / chunk_bytes;
            let chunk_base = addr - off % chunk_bytes;
            let chunk_end = (chunk_base + chunk_bytes).min(limit);
            let l2p = mem
                .read_ptr(pages + pa.chunks.offset + (ci >> c.palloc_chunks_l2_bits) * 8)
                .map_err(RuntimeError::read("page allocator chunk index"))?;
            if l2p != 0 {
                let pd = mem
                    .bytes(
                        l2p + (ci & l2_mask) * pa.palloc_data_size,
                        pa.palloc_data_size as usize,
                    )
                    .map_err(RuntimeError::read("page allocator bitmap"))?;
                let alloc = &pd[pa.palloc_bits.offset as usize..];
                let scav = &pd[pa.scavenged.offset as usize..];
                let bit = |b: &[u8], i: usize| (b[i / 8] >> (i % 8)) & 1 == 1;
                let mut p = addr;
                while p < chunk_end {
                    let i = ((p - chunk_base) / c.page_size) as usize;
                    let released = bit(scav, i);
                    if !bit(alloc, i) || released {
                        out.push((p, released));
                    }
                    p += c.page_size;
                }
            }
            addr = chunk_end;
        }
    }
    Ok(out)
}

/// Free pages (address, released) held in the Ps' page caches.
fn page_cache_pages(mem: &dyn Memory, rt: &GoRuntime) -> Result<Vec<(u64, bool)>, RuntimeError> {
    let pa = &rt.layouts.page_alloc;
    let ps = rt.layouts.consts.page_size;
    let (allp, nprocs) = rt.read_slice(mem, rt.syms.allp, "runtime.allp")?;
    let mut out = Vec::new();
    for i in 0..nprocs.min(1 << 16) {
        let p = mem
            .read_ptr(allp + 8 * i)
            .map_err(RuntimeError::read("allp[i]"))?;
        if p == 0 {
            continue;
        }
        let pc = p + pa.p_pcache.offset;
        let rd = |f: &super::layout::Field| {
            mem.read_u64(pc + f.offset)
                .map_err(RuntimeError::read("p.pcache"))
        };
        let (base, cache, scav) = (
            rd(&pa.pcache_base)?,
            rd(&pa.pcache_cache)?,
            rd(&pa.pcache_scav)?,
        );
        for b in (0..64).filter(|b| cache >> b & 1 == 1) {
            out.push((base + b * ps, scav >> b & 1 == 1));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::count_bits;

    #[test]
    fn count_bits_matches_naive() {
        let bits: Vec<u8> = (0..200u32)
            .map(|i| (i.wrapping_mul(37) ^ 0x5a) as u8)
            .collect();
        for from in [0u32, 1, 7, 8, 9, 63, 64, 65, 100] {
            for to in [from, from + 1, 130, 511, 1024, 1600] {
                if to < from {
                    continue;
                }
                let naive = (from..to)
                    .filter(|i| (bits[(*i / 8) as usize] >> (i % 8)) & 1 == 1)
                    .count() as u32;
                assert_eq!(count_bits(&bits, from, to), naive, "{from}..{to}");
            }
        }
    }
}
