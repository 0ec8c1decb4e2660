//! Every Go runtime struct field and constant the engine reads, declared in this one file with
//! the Go versions where it exists, and resolved from the executable's DWARF at load time.
//! Walking code uses the resolved [`Field`]s and never hard-codes an offset. A field that is
//! missing where it should exist is a [`LayoutError`] naming the field and the Go version.

use crate::binary::buildinfo::GoVersion;
use crate::binary::DwarfIndex;

/// Where a field sits in its struct, and how wide it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub offset: u64,
    pub size: u64,
}

impl Field {
    /// Read this field (an unsigned integer or pointer) out of the struct's bytes.
    pub fn get(&self, bytes: &[u8]) -> u64 {
        let o = self.offset as usize;
        let s = (self.size as usize).min(8);
        let mut b = [0u8; 8];
        if let Some(src) = bytes.get(o..o + s) {
            b[..s].copy_from_slice(src);
        }
        u64::from_le_bytes(b)
    }
}

/// A runtime layout item that the binary's DWARF does not have.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LayoutError {
    #[error("the executable has no DWARF debug info: goheap needs it for now (rebuild without -ldflags=-w or -s); support for stripped binaries is coming")]
    NoDwarf,
    #[error("runtime type {ty} is missing from the DWARF of this Go {version} binary")]
    MissingType { ty: String, version: String },
    #[error("field {ty}.{field} is missing from the DWARF of this Go {version} binary (the runtime layout changed; goheap does not know this version's layout)")]
    MissingField {
        ty: String,
        field: String,
        version: String,
    },
    #[error("constant {name} is missing from the DWARF of this Go {version} binary")]
    MissingConstant { name: String, version: String },
    #[error("symbol {name} is missing from this Go {version} binary")]
    MissingSymbol { name: String, version: String },
}

/// Resolves declarations against one binary's DWARF.
pub struct Resolver<'a> {
    dwarf: &'a DwarfIndex,
    version: GoVersion,
}

impl<'a> Resolver<'a> {
    pub fn new(dwarf: &'a DwarfIndex, version: GoVersion) -> Self {
        Resolver { dwarf, version }
    }

    fn since(&self, minor: u32) -> bool {
        self.version.minor >= minor
    }

    /// Size of a type.
    pub fn size(&self, ty: &str) -> Result<u64, LayoutError> {
        self.dwarf
            .type_size(ty)
            .ok_or_else(|| LayoutError::MissingType {
                ty: ty.into(),
                version: self.version.to_string(),
            })
    }

    /// A field that exists in every supported version.
    pub fn field(&self, ty: &str, name: &str) -> Result<Field, LayoutError> {
        self.field_any(ty, &[name])
    }

    /// A field that was renamed: the first of `names` found.
    pub fn field_any(&self, ty: &str, names: &[&str]) -> Result<Field, LayoutError> {
        let layout = self
            .dwarf
            .struct_layout(ty)
            .ok_or_else(|| LayoutError::MissingType {
                ty: ty.into(),
                version: self.version.to_string(),
            })?;
        for n in names {
            if let Some(f) = layout.field(n) {
                return Ok(Field {
                    offset: f.offset,
                    size: f.size.unwrap_or(8),
                });
            }
        }
        Err(LayoutError::MissingField {
            ty: ty.into(),
            field: names.join("|"),
            version: self.version.to_string(),
        })
    }

    /// A field that exists from Go 1.`minor` on: `None` before, required after.
    pub fn field_since(
        &self,
        minor: u32,
        ty: &str,
        name: &str,
    ) -> Result<Option<Field>, LayoutError> {
        if self.since(minor) {
            self.field(ty, name).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A field that may or may not exist (experiments, optional fields).
    pub fn field_opt(&self, ty: &str, name: &str) -> Option<Field> {
        self.field(ty, name).ok()
    }

    /// A package-level constant.
    pub fn constant(&self, name: &str) -> Result<i64, LayoutError> {
        self.dwarf
            .constant(name)
            .ok_or_else(|| LayoutError::MissingConstant {
                name: name.into(),
                version: self.version.to_string(),
            })
    }

    /// The first of several spellings of a constant (they moved packages across versions).
    pub fn constant_any(&self, names: &[&str]) -> Result<i64, LayoutError> {
        names
            .iter()
            .find_map(|n| self.dwarf.constant(n))
            .ok_or_else(|| LayoutError::MissingConstant {
                name: names.join("|"),
                version: self.version.to_string(),
            })
    }
}

/// `runtime.mheap`.
#[derive(Debug, Clone)]
pub struct MheapLayout {
    pub allspans: Field,
    pub arenas: Field,
    /// `allArenas` up to 1.24, `heapArenas` from 1.25.
    pub arena_list: Field,
    pub sweepgen: Field,
    pub pages: Field,
}

/// `runtime.pageAlloc` and the page bitmaps it points at.
#[derive(Debug, Clone)]
pub struct PageAllocLayout {
    pub chunks: Field,
    /// `pageAlloc.inUse` (an `addrRanges`), whose `ranges` is a slice of `addrRange`.
    pub in_use: Field,
    pub ranges: Field,
    pub addr_range_size: u64,
    pub addr_range_base: Field,
    pub addr_range_limit: Field,
    pub palloc_bits: Field,
    pub scavenged: Field,
    pub palloc_data_size: u64,
    /// `p.pcache`, a `pageCache {base, cache, scav}`: free pages a P took out of the bitmap.
    pub p_pcache: Field,
    pub pcache_base: Field,
    pub pcache_cache: Field,
    pub pcache_scav: Field,
}

/// `runtime.heapArena`.
#[derive(Debug, Clone)]
pub struct HeapArenaLayout {
    pub spans: Field,
}

/// `runtime.mspan`.
#[derive(Debug, Clone)]
pub struct MspanLayout {
    pub size: u64,
    pub start_addr: Field,
    pub npages: Field,
    /// `uintptr` in 1.21, `uint16` from 1.22.
    pub freeindex: Field,
    pub nelems: Field,
    pub alloc_count: Field,
    pub alloc_count_before_cache: Field,
    pub spanclass: Field,
    pub state: Field,
    pub alloc_bits: Field,
    pub gcmark_bits: Field,
    pub elemsize: Field,
    pub limit: Field,
    pub sweepgen: Field,
    pub free_index_for_scan: Field,
    pub is_user_arena_chunk: Field,
    /// Go 1.22+: the type of a large object.
    pub large_type: Option<Field>,
}

/// `runtime.mcache` and `runtime.p`.
#[derive(Debug, Clone)]
pub struct McacheLayout {
    pub alloc: Field,
    pub tiny: Field,
    pub tinyoffset: Field,
    pub tiny_allocs: Field,
    pub p_mcache: Field,
}

/// `runtime.gcControllerState`: the runtime's heap counters.
#[derive(Debug, Clone)]
pub struct GcControllerLayout {
    pub heap_in_use: Field,
    pub heap_free: Field,
    pub heap_released: Field,
    pub total_alloc: Field,
    pub total_free: Field,
}

/// `runtime.mstats.heapStats` (a `consistentHeapStats`) and `runtime.heapStatsDelta`.
#[derive(Debug, Clone)]
pub struct HeapStatsLayout {
    /// Offset of `consistentHeapStats.stats` ([3]heapStatsDelta) inside `runtime.memstats`.
    pub stats: u64,
    pub delta_size: u64,
    pub in_heap: Field,
    pub in_stacks: Field,
    pub in_work_bufs: Field,
    /// Present while GC programs were unrolled into manual spans (1.21–1.23).
    pub in_ptr_scalar_bits: Option<Field>,
    pub committed: Field,
    pub released: Field,
    pub tiny_alloc_count: Field,
    pub large_alloc: Field,
    pub large_alloc_count: Field,
    pub small_alloc_count: Field,
    pub large_free: Field,
    pub large_free_count: Field,
    pub small_free_count: Field,
    pub numgc: Field,
}

/// Runtime constants (`DW_TAG_constant`).
#[derive(Debug, Clone)]
pub struct Consts {
    pub page_shift: u64,
    pub page_size: u64,
    pub heap_arena_bytes: u64,
    pub arena_base_offset: u64,
    pub arena_l2_bits: u64,
    pub pages_per_arena: u64,
    pub num_size_classes: u64,
    pub palloc_chunk_pages: u64,
    pub palloc_chunks_l2_bits: u64,
    pub span_dead: u64,
    pub span_in_use: u64,
    pub span_manual: u64,
}

/// Everything the heap layer reads, resolved for one binary.
#[derive(Debug, Clone)]
pub struct Layouts {
    pub mheap: MheapLayout,
    pub page_alloc: PageAllocLayout,
    pub heap_arena: HeapArenaLayout,
    pub mspan: MspanLayout,
    pub mcache: McacheLayout,
    pub gc_controller: GcControllerLayout,
    pub heap_stats: HeapStatsLayout,
    pub consts: Consts,
    /// Green Tea GC (inline mark bits at the end of small spans): `runtime.spanInlineMarkBits`
    /// exists in DWARF only when the experiment is on.
    pub green_tea: bool,
}

impl Layouts {
    /// Resolve every declaration against `dwarf`.
    pub fn resolve(dwarf: &DwarfIndex, version: GoVersion) -> Result<Layouts, LayoutError> {
        let r = Resolver::new(dwarf, version);
        const MHEAP: &str = "runtime.mheap";
        const SPAN: &str = "runtime.mspan";
        const PA: &str = "runtime.pageAlloc";
        const HS: &str = "runtime.heapStatsDelta";
        const GCC: &str = "runtime.gcControllerState";

        let mheap = MheapLayout {
            allspans: r.field(MHEAP, "allspans")?,
            arenas: r.field(MHEAP, "arenas")?,
            arena_list: r.field_any(MHEAP, &["heapArenas", "allArenas"])?,
            sweepgen: r.field(MHEAP, "sweepgen")?,
            pages: r.field(MHEAP, "pages")?,
        };
        let page_alloc = PageAllocLayout {
            chunks: r.field(PA, "chunks")?,
            in_use: r.field(PA, "inUse")?,
            ranges: r.field("runtime.addrRanges", "ranges")?,
            addr_range_size: r.size("runtime.addrRange")?,
            addr_range_base: r.field("runtime.addrRange", "base")?,
            addr_range_limit: r.field("runtime.addrRange", "limit")?,
            palloc_bits: r.field("runtime.pallocData", "pallocBits")?,
            scavenged: r.field("runtime.pallocData", "scavenged")?,
            palloc_data_size: r.size("runtime.pallocData")?,
            p_pcache: r.field("runtime.p", "pcache")?,
            pcache_base: r.field("runtime.pageCache", "base")?,
            pcache_cache: r.field("runtime.pageCache", "cache")?,
            pcache_scav: r.field("runtime.pageCache", "scav")?,
        };
        let heap_arena = HeapArenaLayout {
            spans: r.field("runtime.heapArena", "spans")?,
        };
        let mspan = MspanLayout {
            size: r.size(SPAN)?,
            start_addr: r.field(SPAN, "startAddr")?,
            npages: r.field(SPAN, "npages")?,
            freeindex: r.field(SPAN, "freeindex")?,
            nelems: r.field(SPAN, "nelems")?,
            alloc_count: r.field(SPAN, "allocCount")?,
            alloc_count_before_cache: r.field(SPAN, "allocCountBeforeCache")?,
            spanclass: r.field(SPAN, "spanclass")?,
            state: r.field(SPAN, "state")?,
            alloc_bits: r.field(SPAN, "allocBits")?,
            gcmark_bits: r.field(SPAN, "gcmarkBits")?,
            elemsize: r.field(SPAN, "elemsize")?,
            limit: r.field(SPAN, "limit")?,
            sweepgen: r.field(SPAN, "sweepgen")?,
            free_index_for_scan: r.field(SPAN, "freeIndexForScan")?,
            is_user_arena_chunk: r.field(SPAN, "isUserArenaChunk")?,
            large_type: r.field_since(22, SPAN, "largeType")?,
        };
        let mcache = McacheLayout {
            alloc: r.field("runtime.mcache", "alloc")?,
            tiny: r.field("runtime.mcache", "tiny")?,
            tinyoffset: r.field("runtime.mcache", "tinyoffset")?,
            tiny_allocs: r.field("runtime.mcache", "tinyAllocs")?,
            p_mcache: r.field("runtime.p", "mcache")?,
        };
        let gc_controller = GcControllerLayout {
            heap_in_use: r.field(GCC, "heapInUse")?,
            heap_free: r.field(GCC, "heapFree")?,
            heap_released: r.field(GCC, "heapReleased")?,
            total_alloc: r.field(GCC, "totalAlloc")?,
            total_free: r.field(GCC, "totalFree")?,
        };
        let heap_stats = HeapStatsLayout {
            stats: r.field("runtime.mstats", "heapStats")?.offset
                + r.field("runtime.consistentHeapStats", "stats")?.offset,
            delta_size: r.size(HS)?,
            in_heap: r.field(HS, "inHeap")?,
            in_stacks: r.field(HS, "inStacks")?,
            in_work_bufs: r.field(HS, "inWorkBufs")?,
            in_ptr_scalar_bits: r.field_opt(HS, "inPtrScalarBits"),
            committed: r.field(HS, "committed")?,
            released: r.field(HS, "released")?,
            tiny_alloc_count: r.field(HS, "tinyAllocCount")?,
            large_alloc: r.field(HS, "largeAlloc")?,
            large_alloc_count: r.field(HS, "largeAllocCount")?,
            small_alloc_count: r.field(HS, "smallAllocCount")?,
            large_free: r.field(HS, "largeFree")?,
            large_free_count: r.field(HS, "largeFreeCount")?,
            small_free_count: r.field(HS, "smallFreeCount")?,
            numgc: r.field("runtime.mstats", "numgc")?,
        };
        let page_shift =
            r.constant_any(&["runtime._PageShift", "internal/runtime/gc.PageShift"])? as u64;
        let consts = Consts {
            page_shift,
            page_size: 1 << page_shift,
            heap_arena_bytes: r.constant("runtime.heapArenaBytes")? as u64,
            // amd64: 0xffff800000000000, stored as a negative or unsigned 64-bit constant.
            arena_base_offset: r.constant("runtime.arenaBaseOffsetUintptr")? as u64,
            arena_l2_bits: r.constant("runtime.arenaL2Bits")? as u64,
            pages_per_arena: r.constant("runtime.pagesPerArena")? as u64,
            num_size_classes: r.constant_any(&[
                "runtime._NumSizeClasses",
                "internal/runtime/gc.NumSizeClasses",
            ])? as u64,
            palloc_chunk_pages: r.constant("runtime.pallocChunkPages")? as u64,
            palloc_chunks_l2_bits: r.constant("runtime.pallocChunksL2Bits")? as u64,
            span_dead: r.constant("runtime.mSpanDead")? as u64,
            span_in_use: r.constant("runtime.mSpanInUse")? as u64,
            span_manual: r.constant("runtime.mSpanManual")? as u64,
        };
        Ok(Layouts {
            mheap,
            page_alloc,
            heap_arena,
            mspan,
            mcache,
            gc_controller,
            heap_stats,
            consts,
            green_tea: dwarf.has_type("runtime.spanInlineMarkBits"),
        })
    }
}
