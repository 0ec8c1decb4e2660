//! One address → its heap arena and `mspan`, the way the runtime's `spanOf` does it:
//! `mheap_.arenas[0][arenaIndex(p)]` → `heapArena.spans[page]` → the `mspan`, validated by its
//! state and address range. No heap walk: a handful of reads per address.

use super::layout::ObjectLayouts;
use super::{GoRuntime, RuntimeError};
use crate::target::{Memory, MemoryExt};

/// What the arena map says about an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanLookup {
    /// Not inside any heap arena.
    NotHeap,
    /// Inside a heap arena, on pages that belong to no in-use or manual span (free or never
    /// used heap pages). `arena` is the arena's base address.
    FreePages { arena: u64 },
    /// Inside a span.
    Span(Box<SpanRef>),
}

/// The state of an `mspan` found for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// `mSpanInUse`: heap objects.
    InUse,
    /// `mSpanManual`: goroutine stacks, GC work buffers, unrolled GC-program bitmaps.
    Manual,
}

/// The fields of one `mspan` that object inspection needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRef {
    /// Address of the `mspan` descriptor.
    pub desc: u64,
    pub base: u64,
    pub npages: u64,
    pub kind: SpanKind,
    pub spanclass: u8,
    pub elemsize: u64,
    pub nelems: u32,
    pub freeindex: u32,
    pub free_index_for_scan: u32,
    pub alloc_count: u32,
    pub alloc_bits: u64,
    pub sweepgen: u32,
    /// `mspan.limit`: end of object data.
    pub limit: u64,
    /// Head of the specials list (0 if none).
    pub specials: u64,
    /// Go 1.22+: the large object's type (0 if none or not yet published).
    pub large_type: u64,
    /// `pinnerBits` (0 if nothing in the span was ever pinned).
    pub pinner_bits: u64,
}

impl SpanRef {
    pub fn size_class(&self) -> u8 {
        self.spanclass >> 1
    }
    pub fn noscan(&self) -> bool {
        self.spanclass & 1 == 1
    }
    pub fn is_large(&self) -> bool {
        self.kind == SpanKind::InUse && self.size_class() == 0
    }
    /// End of the span's pages.
    pub fn end(&self, page_size: u64) -> u64 {
        self.base + self.npages * page_size
    }
    /// Index of the slot holding `addr`, if `addr` is inside one of the span's slots.
    pub fn slot_index(&self, addr: u64) -> Option<u32> {
        if self.elemsize == 0 || addr < self.base {
            return None;
        }
        let i = (addr - self.base) / self.elemsize;
        (i < self.nelems as u64).then_some(i as u32)
    }
    /// Whether slot `i` is allocated, by the runtime's rule (`i < freeindex` or its allocBits
    /// bit set).
    pub fn is_allocated(&self, mem: &dyn Memory, i: u32) -> Result<bool, RuntimeError> {
        if i < self.freeindex {
            return Ok(true);
        }
        if self.alloc_bits == 0 {
            return Err(RuntimeError::Corrupt(format!(
                "span {:#x} (mspan {:#x}): allocBits is nil",
                self.base, self.desc
            )));
        }
        let b = mem
            .read_u8(self.alloc_bits + (i / 8) as u64)
            .map_err(RuntimeError::read("the span's allocBits"))?;
        Ok((b >> (i % 8)) & 1 == 1)
    }
    /// Pin state of slot `i`: (pinned, multi-pinned), from `pinnerBits`.
    pub fn pin_state(&self, mem: &dyn Memory, i: u32) -> Result<(bool, bool), RuntimeError> {
        if self.pinner_bits == 0 {
            return Ok((false, false));
        }
        let bit = 2 * i as u64;
        let b = mem
            .read_u8(self.pinner_bits + bit / 8)
            .map_err(RuntimeError::read("the span's pinnerBits"))?;
        let mask = 1u8 << (bit % 8);
        Ok((b & mask != 0, b & (mask << 1) != 0))
    }
}

/// Look `addr` up in the arena map (the runtime's `spanOf`).
pub fn span_of(
    mem: &dyn Memory,
    rt: &GoRuntime,
    ol: &ObjectLayouts,
    addr: u64,
) -> Result<SpanLookup, RuntimeError> {
    let l = &rt.layouts;
    let c = &l.consts;
    let shift = c.heap_arena_bytes.trailing_zeros();
    let ai = addr.wrapping_sub(c.arena_base_offset) >> shift;
    if ai >= 1u64 << c.arena_l2_bits {
        return Ok(SpanLookup::NotHeap);
    }
    // arenaL1Bits is 0 on linux/amd64: mheap_.arenas is [1]*[1<<arenaL2Bits]*heapArena.
    let l2 = mem
        .read_ptr(rt.syms.mheap + l.mheap.arenas.offset)
        .map_err(RuntimeError::read("mheap_.arenas[0]"))?;
    if l2 == 0 {
        return Ok(SpanLookup::NotHeap);
    }
    // The L2 map is a sparse reservation: entries that are not in the core are nil.
    let ha = mem.read_ptr(l2 + ai * 8).unwrap_or_default();
    if ha == 0 {
        return Ok(SpanLookup::NotHeap);
    }
    let arena = (ai << shift).wrapping_add(c.arena_base_offset);
    let page = (addr / c.page_size) % c.pages_per_arena;
    let desc = mem
        .read_ptr(ha + l.heap_arena.spans.offset + page * 8)
        .map_err(RuntimeError::read("heapArena.spans"))?;
    if desc == 0 {
        return Ok(SpanLookup::FreePages { arena });
    }
    let ms = &l.mspan;
    let b = mem
        .bytes(desc, ms.size as usize)
        .map_err(RuntimeError::read(format!("mspan at {desc:#x}")))?;
    let b: &[u8] = &b;
    let base = ms.start_addr.get(b);
    let npages = ms.npages.get(b);
    let state = ms.state.get(b);
    let kind = if state == c.span_in_use {
        SpanKind::InUse
    } else if state == c.span_manual {
        SpanKind::Manual
    } else {
        // Dead descriptors: interior pages of free spans map to arbitrary ones.
        return Ok(SpanLookup::FreePages { arena });
    };
    let end = npages
        .checked_mul(c.page_size)
        .and_then(|n| base.checked_add(n));
    if !end.is_some_and(|end| base <= addr && addr < end) {
        return Ok(SpanLookup::FreePages { arena });
    }
    let s = SpanRef {
        desc,
        base,
        npages,
        kind,
        spanclass: ms.spanclass.get(b) as u8,
        elemsize: ms.elemsize.get(b),
        nelems: ms.nelems.get(b) as u32,
        freeindex: ms.freeindex.get(b) as u32,
        free_index_for_scan: ms.free_index_for_scan.get(b) as u32,
        alloc_count: ms.alloc_count.get(b) as u32,
        alloc_bits: ms.alloc_bits.get(b),
        sweepgen: ms.sweepgen.get(b) as u32,
        limit: ms.limit.get(b),
        specials: ol.span_specials.get(b),
        large_type: ms.large_type.map_or(0, |f| f.get(b)),
        pinner_bits: ol.span_pinner_bits.get(b),
    };
    if s.kind == SpanKind::InUse {
        let span_bytes = npages * c.page_size;
        let bad = s.elemsize == 0
            || s.nelems == 0
            || (s.nelems as u64).saturating_mul(s.elemsize) > span_bytes;
        if bad {
            return Err(RuntimeError::Corrupt(format!(
                "mspan {desc:#x} (span {base:#x}): {} slots of {} bytes do not fit its {npages} page(s)",
                s.nelems, s.elemsize
            )));
        }
    }
    Ok(SpanLookup::Span(Box::new(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(freeindex: u32) -> SpanRef {
        SpanRef {
            desc: 0x1000,
            base: 0xc000000000,
            npages: 1,
            kind: SpanKind::InUse,
            spanclass: 5 << 1,
            elemsize: 48,
            nelems: 170,
            freeindex,
            free_index_for_scan: freeindex,
            alloc_count: 0,
            alloc_bits: 0x2000,
            sweepgen: 0,
            limit: 0,
            specials: 0,
            large_type: 0,
            pinner_bits: 0x3000,
        }
    }

    #[test]
    fn slots_allocation_and_pins() {
        let mut mem = crate::target::VecMemory::new();
        mem.add(0x2000, vec![0b0000_0100, 0, 0, 0]);
        // Slot 1 pinned, slot 2 pinned and multi-pinned.
        mem.add(0x3000, vec![0b0011_0100, 0]);
        let s = span(1);
        assert_eq!(s.slot_index(0xc000000000 + 47), Some(0));
        assert_eq!(s.slot_index(0xc000000000 + 48 * 170), None);
        assert!(s.is_allocated(&mem, 0).unwrap(), "below freeindex");
        assert!(!s.is_allocated(&mem, 1).unwrap());
        assert!(s.is_allocated(&mem, 2).unwrap(), "allocBits");
        assert_eq!(s.pin_state(&mem, 0).unwrap(), (false, false));
        assert_eq!(s.pin_state(&mem, 1).unwrap(), (true, false));
        assert_eq!(s.pin_state(&mem, 2).unwrap(), (true, true));
        assert_eq!(s.size_class(), 5);
        assert!(!s.noscan());
    }
}
