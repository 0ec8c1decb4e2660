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

/// `runtime.special` and the records hung off `mspan.specials` (finalizers, profile records,
/// weak handles, cleanups, pin counters, ...). Kind numbers are the binary's `_KindSpecial*`
/// constants (absent kinds are `None`). Payload structs that an optimised binary leaves out of
/// its DWARF (`specialWeakHandle`, `specialPinCounter`, `specialCleanup`, `specialBubble`
/// before the program uses them) fall back to "payload right after the `special` header",
/// which is how every version lays them out (go-runtime-layout.md, Appendix A).
#[derive(Debug, Clone)]
pub struct SpecialLayout {
    /// Size of the `special` header (16 up to 1.23, 24 from 1.24).
    pub size: u64,
    pub next: Field,
    /// `uint16` up to 1.23, `uintptr` from 1.24.
    pub offset: Field,
    pub kind: Field,
    /// `specialprofile.b` (`*bucket`).
    pub profile_bucket: Field,
    pub finalizer_fn: Field,
    pub finalizer_nret: Field,
    pub finalizer_fint: Field,
    pub finalizer_ot: Field,
    /// Go 1.23+: `specialWeakHandle.handle`.
    pub weak_handle: Option<Field>,
    pub pin_counter: Field,
    /// Go 1.24+: the cleanup's `*funcval` (`specialCleanup.fn`, or `.cleanup.fn` from 1.26).
    pub cleanup_fn: Option<Field>,
    /// Go 1.24+: `specialCleanup.id`.
    pub cleanup_id: Option<Field>,
    /// Go 1.25+: `specialBubble.bubbleid`.
    pub bubble_id: Option<Field>,
    pub kinds: SpecialKinds,
}

/// `runtime._KindSpecial*`, as numbered in this binary.
#[derive(Debug, Clone, Default)]
pub struct SpecialKinds {
    pub tiny_block: Option<u8>,
    pub finalizer: Option<u8>,
    pub weak_handle: Option<u8>,
    pub profile: Option<u8>,
    pub reachable: Option<u8>,
    pub pin_counter: Option<u8>,
    pub cleanup: Option<u8>,
    pub check_finalizer: Option<u8>,
    pub bubble: Option<u8>,
    pub secret: Option<u8>,
}

/// `runtime.bucket` and `runtime.memRecord`: the memory profile (mprof.go).
#[derive(Debug, Clone)]
pub struct MprofLayout {
    /// Size of `bucket`; the stack (`nstk` PCs) follows it, then the `memRecord`.
    pub bucket_size: u64,
    pub allnext: Field,
    pub typ: Field,
    pub size: Field,
    pub nstk: Field,
    pub record_size: u64,
    pub active: Field,
    /// `future [3]memRecordCycle`.
    pub future: Field,
    pub cycle_size: u64,
    pub allocs: Field,
    pub frees: Field,
    /// Absent from 1.27 (bytes are counts × `bucket.size`).
    pub alloc_bytes: Option<Field>,
    pub free_bytes: Option<Field>,
    /// `mProfCycleHolder.value`: `cycle << 1 | flushed`.
    pub cycle_value: Field,
    /// `runtime.memProfile`, the `bucketType` of memory-profile buckets.
    pub mem_profile_type: u64,
}

/// `internal/abi.Type` and the kind-specific types that follow it.
#[derive(Debug, Clone)]
pub struct AbiTypeLayout {
    pub size: u64,
    pub size_: Field,
    pub ptr_bytes: Field,
    pub tflag: Field,
    pub kind: Field,
    pub gcdata: Field,
    pub str_: Field,
    /// `StructType.Fields` (a slice of `StructField`).
    pub struct_fields: Field,
    pub struct_field_size: u64,
    pub field_name: Field,
    pub field_typ: Field,
    pub field_offset: Field,
    pub array_elem: Field,
    pub array_len: Field,
    pub ptr_elem: Field,
    pub slice_elem: Field,
    /// `InterfaceType.Methods` (a slice): empty for `interface {}`, whose values hold a type
    /// word; otherwise the first word is an itab.
    pub iface_methods: Field,
}

/// `runtime.moduledata`: where type descriptors, text and data live.
#[derive(Debug, Clone)]
pub struct ModuleLayout {
    pub types: Field,
    pub etypes: Field,
    pub text: Field,
    pub etext: Field,
    pub noptrdata: Field,
    pub enoptrdata: Field,
    pub data: Field,
    pub edata: Field,
    pub bss: Field,
    pub ebss: Field,
    pub noptrbss: Field,
    pub enoptrbss: Field,
}

/// Type flags, kinds and allocator constants that object inspection needs.
#[derive(Debug, Clone)]
pub struct ObjectConsts {
    /// `abi.KindMask` up to 1.25; from 1.26 `Kind_` holds only the kind (0xff).
    pub kind_mask: u8,
    /// `abi.KindGCProg` (up to 1.23).
    pub kind_gc_prog: Option<u8>,
    pub tflag_extra_star: u8,
    pub tflag_named: u8,
    /// `abi.TFlagUnrolledBitmap` (1.22–1.23): the stand-in type of a GC-program object.
    pub tflag_unrolled_bitmap: Option<u8>,
    /// `abi.TFlagGCMaskOnDemand` (1.24+): `GCData` points at a slot holding the mask.
    pub tflag_gc_mask_on_demand: Option<u8>,
    /// Kind numbers and their Go names (`internal/abi.Bool` = 1, ...).
    pub kinds: Vec<(u8, &'static str)>,
    /// Go 1.22+: objects with pointers larger than this carry an 8-byte type header (`None`:
    /// the runtime stores no types, as in Go 1.21 or with `GOEXPERIMENT=noallocheaders`).
    pub min_size_for_malloc_header: Option<u64>,
    pub malloc_header_size: u64,
    /// `tinySpanClass`: the spans the tiny allocator carves 16-byte blocks from.
    pub tiny_span_class: u8,
    pub max_tiny_size: u64,
}

/// Everything object inspection (`whoalloc`, the memory profile) reads, resolved separately
/// from [`Layouts`] so that heap commands keep working if one of these is missing.
#[derive(Debug, Clone)]
pub struct ObjectLayouts {
    /// `mspan.specials`.
    pub span_specials: Field,
    /// `mspan.pinnerBits` (2 bits per object: pinned, multi-pinned).
    pub span_pinner_bits: Field,
    pub special: SpecialLayout,
    pub mprof: MprofLayout,
    pub abi_type: AbiTypeLayout,
    pub module: ModuleLayout,
    pub consts: ObjectConsts,
}

/// Go's reflect kinds by name: their numbers are read from `internal/abi.<Name>` constants.
const KIND_NAMES: &[(&str, &str)] = &[
    ("Bool", "bool"),
    ("Int", "int"),
    ("Int8", "int8"),
    ("Int16", "int16"),
    ("Int32", "int32"),
    ("Int64", "int64"),
    ("Uint", "uint"),
    ("Uint8", "uint8"),
    ("Uint16", "uint16"),
    ("Uint32", "uint32"),
    ("Uint64", "uint64"),
    ("Uintptr", "uintptr"),
    ("Float32", "float32"),
    ("Float64", "float64"),
    ("Complex64", "complex64"),
    ("Complex128", "complex128"),
    ("Array", "array"),
    ("Chan", "chan"),
    ("Func", "func"),
    ("Interface", "interface"),
    ("Map", "map"),
    ("Pointer", "ptr"),
    ("Slice", "slice"),
    ("String", "string"),
    ("Struct", "struct"),
    ("UnsafePointer", "unsafe.Pointer"),
];

impl ObjectLayouts {
    /// Resolve the object-inspection declarations against `dwarf`.
    pub fn resolve(dwarf: &DwarfIndex, version: GoVersion) -> Result<ObjectLayouts, LayoutError> {
        let r = Resolver::new(dwarf, version);
        let minor = version.minor;
        const SP: &str = "runtime.special";
        const TY: &str = "internal/abi.Type";
        const MD: &str = "runtime.moduledata";
        let hdr = r.size(SP)?;
        // A payload field, or (type absent from DWARF) `extra` bytes after the header.
        let payload = |ty: &str, name: &str, extra: u64| {
            r.field_opt(ty, name).unwrap_or(Field {
                offset: hdr + extra,
                size: 8,
            })
        };
        let kind = |name: &str| r.constant(name).ok().map(|v| v as u8);
        let kinds = SpecialKinds {
            tiny_block: kind("runtime._KindSpecialTinyBlock"),
            finalizer: kind("runtime._KindSpecialFinalizer"),
            weak_handle: kind("runtime._KindSpecialWeakHandle"),
            profile: Some(r.constant("runtime._KindSpecialProfile")? as u8),
            reachable: kind("runtime._KindSpecialReachable"),
            pin_counter: kind("runtime._KindSpecialPinCounter"),
            cleanup: kind("runtime._KindSpecialCleanup"),
            check_finalizer: kind("runtime._KindSpecialCheckFinalizer"),
            bubble: kind("runtime._KindSpecialBubble"),
            secret: kind("runtime._KindSpecialSecret"),
        };
        let (cleanup_fn, cleanup_id) = match minor {
            ..=23 => (None, None),
            24 | 25 => (
                Some(payload("runtime.specialCleanup", "fn", 0)),
                Some(payload("runtime.specialCleanup", "id", 8)),
            ),
            _ => {
                // `cleanup cleanupFn{call, fn, arg}`, then `id`.
                let c = payload("runtime.specialCleanup", "cleanup", 0);
                let fn_off = r
                    .field_opt("runtime.cleanupFn", "fn")
                    .map_or(8, |f| f.offset);
                (
                    Some(Field {
                        offset: c.offset + fn_off,
                        size: 8,
                    }),
                    Some(payload("runtime.specialCleanup", "id", 24)),
                )
            }
        };
        let special = SpecialLayout {
            size: hdr,
            next: r.field(SP, "next")?,
            offset: r.field(SP, "offset")?,
            kind: r.field(SP, "kind")?,
            profile_bucket: r.field("runtime.specialprofile", "b")?,
            finalizer_fn: r.field("runtime.specialfinalizer", "fn")?,
            finalizer_nret: r.field("runtime.specialfinalizer", "nret")?,
            finalizer_fint: r.field("runtime.specialfinalizer", "fint")?,
            finalizer_ot: r.field("runtime.specialfinalizer", "ot")?,
            weak_handle: (minor >= 23).then(|| payload("runtime.specialWeakHandle", "handle", 0)),
            pin_counter: payload("runtime.specialPinCounter", "counter", 0),
            cleanup_fn,
            cleanup_id,
            bubble_id: (minor >= 25).then(|| payload("runtime.specialBubble", "bubbleid", 0)),
            kinds,
        };
        const B: &str = "runtime.bucket";
        const MR: &str = "runtime.memRecordCycle";
        let mprof = MprofLayout {
            bucket_size: r.size(B)?,
            allnext: r.field(B, "allnext")?,
            typ: r.field(B, "typ")?,
            size: r.field(B, "size")?,
            nstk: r.field(B, "nstk")?,
            record_size: r.size("runtime.memRecord")?,
            active: r.field("runtime.memRecord", "active")?,
            future: r.field("runtime.memRecord", "future")?,
            cycle_size: r.size(MR)?,
            allocs: r.field(MR, "allocs")?,
            frees: r.field(MR, "frees")?,
            alloc_bytes: r.field_opt(MR, "alloc_bytes"),
            free_bytes: r.field_opt(MR, "free_bytes"),
            cycle_value: r.field("runtime.mProfCycleHolder", "value")?,
            mem_profile_type: r.constant("runtime.memProfile")? as u64,
        };
        let abi_type = AbiTypeLayout {
            size: r.size(TY)?,
            size_: r.field(TY, "Size_")?,
            ptr_bytes: r.field(TY, "PtrBytes")?,
            tflag: r.field(TY, "TFlag")?,
            kind: r.field(TY, "Kind_")?,
            gcdata: r.field(TY, "GCData")?,
            str_: r.field(TY, "Str")?,
            struct_fields: r.field("internal/abi.StructType", "Fields")?,
            struct_field_size: r.size("internal/abi.StructField")?,
            field_name: r.field("internal/abi.StructField", "Name")?,
            field_typ: r.field("internal/abi.StructField", "Typ")?,
            field_offset: r.field("internal/abi.StructField", "Offset")?,
            array_elem: r.field("internal/abi.ArrayType", "Elem")?,
            array_len: r.field("internal/abi.ArrayType", "Len")?,
            ptr_elem: r.field("internal/abi.PtrType", "Elem")?,
            slice_elem: r.field("internal/abi.SliceType", "Elem")?,
            iface_methods: r.field("internal/abi.InterfaceType", "Methods")?,
        };
        let module = ModuleLayout {
            types: r.field(MD, "types")?,
            etypes: r.field(MD, "etypes")?,
            text: r.field(MD, "text")?,
            etext: r.field(MD, "etext")?,
            noptrdata: r.field(MD, "noptrdata")?,
            enoptrdata: r.field(MD, "enoptrdata")?,
            data: r.field(MD, "data")?,
            edata: r.field(MD, "edata")?,
            bss: r.field(MD, "bss")?,
            ebss: r.field(MD, "ebss")?,
            noptrbss: r.field(MD, "noptrbss")?,
            enoptrbss: r.field(MD, "enoptrbss")?,
        };
        let abi = |name: &str| r.constant(&format!("internal/abi.{name}"));
        let mut kind_names = Vec::new();
        for (i, (c, go)) in KIND_NAMES.iter().enumerate() {
            // Fallback: reflect's numbering (Bool = 1, ...), unchanged since Go 1.0.
            let v = abi(c).map_or(i as u8 + 1, |v| v as u8);
            kind_names.push((v, *go));
        }
        let since = |m: u32, names: &[&str]| -> Result<Option<u64>, LayoutError> {
            if minor >= m {
                r.constant_any(names).map(|v| Some(v as u64))
            } else {
                Ok(None)
            }
        };
        let no_alloc_headers = r
            .field_opt("runtime.heapArenaPtrScalar", "bitmap")
            .is_some();
        let consts = ObjectConsts {
            kind_mask: if minor <= 25 {
                abi("KindMask")? as u8
            } else {
                0xff
            },
            kind_gc_prog: if minor <= 23 {
                Some(abi("KindGCProg")? as u8)
            } else {
                None
            },
            tflag_extra_star: abi("TFlagExtraStar")? as u8,
            tflag_named: abi("TFlagNamed")? as u8,
            tflag_unrolled_bitmap: if (22..=23).contains(&minor) {
                Some(abi("TFlagUnrolledBitmap")? as u8)
            } else {
                None
            },
            tflag_gc_mask_on_demand: if minor >= 24 {
                Some(abi("TFlagGCMaskOnDemand")? as u8)
            } else {
                None
            },
            kinds: kind_names,
            // Go 1.22 built with GOEXPERIMENT=noallocheaders keeps the 1.21 heap bitmap
            // (`heapArenaPtrScalar.bitmap`) and writes no headers.
            min_size_for_malloc_header: if no_alloc_headers {
                None
            } else {
                since(
                    22,
                    &[
                        "internal/runtime/gc.MinSizeForMallocHeader",
                        "runtime.minSizeForMallocHeader",
                    ],
                )?
            },
            malloc_header_size: since(
                22,
                &[
                    "internal/runtime/gc.MallocHeaderSize",
                    "runtime.mallocHeaderSize",
                ],
            )?
            .unwrap_or(0),
            tiny_span_class: r.constant("runtime.tinySpanClass")? as u8,
            max_tiny_size: r.constant_any(&["runtime.maxTinySize", "runtime._TinySize"])? as u64,
        };
        Ok(ObjectLayouts {
            span_specials: r.field("runtime.mspan", "specials")?,
            span_pinner_bits: r.field("runtime.mspan", "pinnerBits")?,
            special,
            mprof,
            abi_type,
            module,
            consts,
        })
    }
}

/// `runtime.gobuf` (`g.sched`): where a goroutine resumes.
#[derive(Debug, Clone)]
pub struct GobufLayout {
    pub sp: Field,
    pub pc: Field,
    pub lr: Field,
    pub bp: Field,
}

/// `runtime.g`: the goroutine fields the goroutine view reads.
#[derive(Debug, Clone)]
pub struct GLayout {
    pub size: u64,
    /// `g.stack` (`runtime.stack{lo, hi}`) and its `lo`/`hi`.
    pub stack: Field,
    pub stack_lo: Field,
    pub stack_hi: Field,
    pub m: Field,
    /// Offset of `g.sched` (a `gobuf`).
    pub sched: Field,
    pub syscallsp: Field,
    pub syscallpc: Field,
    /// Go 1.23+.
    pub syscallbp: Option<Field>,
    /// `atomicstatus` (an `atomic.Uint32` whose value is at offset 0).
    pub atomicstatus: Field,
    pub goid: Field,
    pub waitsince: Field,
    pub waitreason: Field,
    pub lockedm: Field,
    pub parent_goid: Field,
    pub gopc: Field,
    pub startpc: Field,
    pub labels: Field,
}

/// `runtime.m`: the M fields that tie threads to goroutines.
#[derive(Debug, Clone)]
pub struct MLayout {
    pub g0: Field,
    pub procid: Field,
    pub gsignal: Field,
    pub curg: Field,
    pub id: Field,
    pub alllink: Field,
    pub vdso_sp: Field,
    pub vdso_pc: Field,
}

/// `runtime._G*` status constants (compare `atomicstatus &^ scan`).
#[derive(Debug, Clone)]
pub struct GStatusConsts {
    pub idle: u32,
    pub runnable: u32,
    pub running: u32,
    pub syscall: u32,
    pub waiting: u32,
    pub dead: u32,
    pub copystack: u32,
    pub preempted: u32,
    /// Go 1.26+.
    pub leaked: Option<u32>,
    /// Go 1.26+.
    pub deadextra: Option<u32>,
    pub scan: u32,
}

/// Everything the goroutine view reads, resolved separately from [`Layouts`] so that heap
/// commands keep working if one of these is missing.
#[derive(Debug, Clone)]
pub struct GoroutineLayouts {
    pub g: GLayout,
    pub gobuf: GobufLayout,
    pub m: MLayout,
    pub status: GStatusConsts,
    /// `runtime.schedt.lastpoll` (an `atomic.Int64`), one of the clocks the core's time is
    /// taken from; optional.
    pub sched_lastpoll: Option<Field>,
    /// `runtime.mstats.last_gc_nanotime`; optional.
    pub last_gc_nanotime: Option<Field>,
    /// How `g.labels` (a `*runtime/pprof.labelMap`) is laid out; `None` when the binary does
    /// not use pprof labels.
    pub labels: Option<LabelsLayout>,
}

/// The pprof label set `g.labels` points at.
#[derive(Debug, Clone)]
pub enum LabelsLayout {
    /// Go ≤ 1.23: `labelMap` is a `map[string]string`: the pointer targets the `*hmap`; the
    /// buckets are `bucket<string,string>`.
    Map {
        hmap_count: Field,
        hmap_b: Field,
        hmap_buckets: Field,
        bucket_size: u64,
        tophash: Field,
        keys: Field,
        values: Field,
        overflow: Field,
    },
    /// Go 1.24+: `labelMap{LabelSet{list []label{key, value string}}}` (1.26+:
    /// `label.Set{List []label.Label{Key, Value}}`): `list` is the offset of the slice in the
    /// pointed-to value.
    List {
        list: u64,
        elem_size: u64,
        key: Field,
        value: Field,
    },
}

impl LabelsLayout {
    fn resolve(r: &Resolver<'_>, dwarf: &DwarfIndex) -> Option<LabelsLayout> {
        const BUCKET: &str = "bucket<string,string>";
        if dwarf.has_type("runtime/pprof.labelMap")
            && dwarf.struct_layout("runtime/pprof.labelMap").is_some()
        {
            // 1.24+: a struct embedding the set.
            let (set_ty, list_name, elem_ty, k, v) =
                if dwarf.has_type("internal/runtime/pprof/label.Set") {
                    (
                        "internal/runtime/pprof/label.Set",
                        "List",
                        "internal/runtime/pprof/label.Label",
                        "Key",
                        "Value",
                    )
                } else {
                    (
                        "runtime/pprof.LabelSet",
                        "list",
                        "runtime/pprof.label",
                        "key",
                        "value",
                    )
                };
            let embed = r
                .field_any("runtime/pprof.labelMap", &["Set", "LabelSet"])
                .ok()?;
            let list = r.field(set_ty, list_name).ok()?;
            return Some(LabelsLayout::List {
                list: embed.offset + list.offset,
                elem_size: r.size(elem_ty).ok()?,
                key: r.field(elem_ty, k).ok()?,
                value: r.field(elem_ty, v).ok()?,
            });
        }
        if dwarf.has_type(BUCKET) {
            return Some(LabelsLayout::Map {
                hmap_count: r.field("runtime.hmap", "count").ok()?,
                hmap_b: r.field("runtime.hmap", "B").ok()?,
                hmap_buckets: r.field("runtime.hmap", "buckets").ok()?,
                bucket_size: r.size(BUCKET).ok()?,
                tophash: r.field(BUCKET, "tophash").ok()?,
                keys: r.field(BUCKET, "keys").ok()?,
                values: r.field(BUCKET, "values").ok()?,
                overflow: r.field(BUCKET, "overflow").ok()?,
            });
        }
        None
    }
}

impl GoroutineLayouts {
    /// Resolve the goroutine declarations against `dwarf`.
    pub fn resolve(
        dwarf: &DwarfIndex,
        version: GoVersion,
    ) -> Result<GoroutineLayouts, LayoutError> {
        let r = Resolver::new(dwarf, version);
        const G: &str = "runtime.g";
        const M: &str = "runtime.m";
        const BUF: &str = "runtime.gobuf";
        let stack = r.field(G, "stack")?;
        let g = GLayout {
            size: r.size(G)?,
            stack,
            stack_lo: r.field("runtime.stack", "lo")?,
            stack_hi: r.field("runtime.stack", "hi")?,
            m: r.field(G, "m")?,
            sched: r.field(G, "sched")?,
            syscallsp: r.field(G, "syscallsp")?,
            syscallpc: r.field(G, "syscallpc")?,
            syscallbp: r.field_since(23, G, "syscallbp")?,
            atomicstatus: Field {
                size: 4,
                ..r.field(G, "atomicstatus")?
            },
            goid: r.field(G, "goid")?,
            waitsince: r.field(G, "waitsince")?,
            waitreason: r.field(G, "waitreason")?,
            lockedm: r.field(G, "lockedm")?,
            parent_goid: r.field(G, "parentGoid")?,
            gopc: r.field(G, "gopc")?,
            startpc: r.field(G, "startpc")?,
            labels: r.field(G, "labels")?,
        };
        let gobuf = GobufLayout {
            sp: r.field(BUF, "sp")?,
            pc: r.field(BUF, "pc")?,
            lr: r.field(BUF, "lr")?,
            bp: r.field(BUF, "bp")?,
        };
        let m = MLayout {
            g0: r.field(M, "g0")?,
            procid: r.field(M, "procid")?,
            gsignal: r.field(M, "gsignal")?,
            curg: r.field(M, "curg")?,
            id: r.field(M, "id")?,
            alllink: r.field(M, "alllink")?,
            vdso_sp: r.field(M, "vdsoSP")?,
            vdso_pc: r.field(M, "vdsoPC")?,
        };
        let c = |name: &str| r.constant(name).map(|v| v as u32);
        let since26 = |name: &str| -> Result<Option<u32>, LayoutError> {
            if version.minor >= 26 {
                c(name).map(Some)
            } else {
                Ok(None)
            }
        };
        let status = GStatusConsts {
            idle: c("runtime._Gidle")?,
            runnable: c("runtime._Grunnable")?,
            running: c("runtime._Grunning")?,
            syscall: c("runtime._Gsyscall")?,
            waiting: c("runtime._Gwaiting")?,
            dead: c("runtime._Gdead")?,
            copystack: c("runtime._Gcopystack")?,
            preempted: c("runtime._Gpreempted")?,
            leaked: since26("runtime._Gleaked")?,
            deadextra: since26("runtime._Gdeadextra")?,
            scan: c("runtime._Gscan")?,
        };
        let sched_lastpoll = r.field_opt("runtime.schedt", "lastpoll");
        let last_gc_nanotime = r.field_opt("runtime.mstats", "last_gc_nanotime");
        let labels = LabelsLayout::resolve(&r, dwarf);
        Ok(GoroutineLayouts {
            g,
            gobuf,
            m,
            status,
            sched_lastpoll,
            last_gc_nanotime,
            labels,
        })
    }
}

/// What the heap graph's roots need (globals' pointer masks, the arena bitmap of Go 1.21,
/// finalizer and cleanup queues, stack objects), resolved separately so that the other
/// commands work even if one of these were missing.
#[derive(Debug, Clone)]
pub struct RootLayouts {
    /// `moduledata.gcdatamask` and `gcbssmask` (`runtime.bitvector`).
    pub md_gcdatamask: Field,
    pub md_gcbssmask: Field,
    pub bitvector_n: Field,
    pub bitvector_bytedata: Field,
    /// `moduledata.rodata` (stack objects' GC masks are offsets from it).
    pub md_rodata: Field,
    /// Go 1.21 (and 1.22 with `noallocheaders`): `heapArena.bitmap`, one bit per heap word.
    pub heap_arena_bitmap: Option<Field>,
    /// `runtime.finblock`: the queued-finalizer blocks on `runtime.allfin` (`None` when the
    /// linker dropped the type from DWARF).
    pub finblocks: Option<FinblockLayout>,
    /// Go 1.25+: `gcCleanups.all` → `cleanupBlock` (alllink, n, cleanups), `cleanupFn` size.
    pub cleanups: Option<CleanupLayout>,
    /// `gobuf.ctxt` (a closure context the GC scans for every goroutine).
    pub gobuf_ctxt: Field,
    pub g_sched: Field,
    /// `g._defer`, `g._panic` and `runtime._defer`'s `fn`, `link`, `heap` (scanned
    /// explicitly by `scanstack`: defer records may be on the stack).
    pub g_defer: Field,
    pub g_panic: Field,
    pub defer_fn: Field,
    pub defer_link: Field,
    pub defer_heap: Field,
    /// `runtime.stackObjectRecord`.
    pub sor_size: u64,
    pub sor_off: Field,
    pub sor_size_field: Field,
    pub sor_ptr_bytes: Field,
    pub sor_gcdataoff: Field,
    /// Bytes of `runtime.spanInlineMarkBits` (Green Tea: stored before a small span's heap
    /// bits; 0 without Green Tea).
    pub inline_mark_bits: u64,
}

/// `runtime.finblock` and the size of `runtime.finalizer`.
#[derive(Debug, Clone)]
pub struct FinblockLayout {
    pub alllink: Field,
    pub cnt: Field,
    pub fin: Field,
    pub finalizer_size: u64,
}

/// The cleanup queue's blocks (Go 1.25+).
#[derive(Debug, Clone)]
pub struct CleanupLayout {
    pub queue_all: Field,
    pub alllink: Field,
    pub n: Field,
    pub cleanups: Field,
    pub cleanup_fn_size: u64,
}

impl RootLayouts {
    /// Resolve the root declarations against `dwarf`.
    pub fn resolve(dwarf: &DwarfIndex, version: GoVersion) -> Result<RootLayouts, LayoutError> {
        let r = Resolver::new(dwarf, version);
        const MD: &str = "runtime.moduledata";
        const FB: &str = "runtime.finblock";
        const SOR: &str = "runtime.stackObjectRecord";
        let cleanups = (|| {
            Some(CleanupLayout {
                queue_all: r.field_opt("runtime.cleanupQueue", "all")?,
                alllink: r.field_opt("runtime.cleanupBlockHeader", "alllink")?,
                n: r.field_opt("runtime.cleanupBlockHeader", "n")?,
                cleanups: r.field_opt("runtime.cleanupBlock", "cleanups")?,
                cleanup_fn_size: r.size("runtime.cleanupFn").ok()?,
            })
        })();
        // `runtime.finblock`, renamed `finBlock` in Go 1.26.
        let fb = [FB, "runtime.finBlock"]
            .into_iter()
            .find(|t| dwarf.has_type(t))
            .unwrap_or(FB);
        let finblocks = (|| {
            Some(FinblockLayout {
                alllink: r.field_opt(fb, "alllink")?,
                cnt: r.field_opt(fb, "cnt")?,
                fin: r.field_opt(fb, "fin")?,
                finalizer_size: r.size("runtime.finalizer").ok()?,
            })
        })();
        Ok(RootLayouts {
            md_gcdatamask: r.field(MD, "gcdatamask")?,
            md_gcbssmask: r.field(MD, "gcbssmask")?,
            bitvector_n: r.field("runtime.bitvector", "n")?,
            bitvector_bytedata: r.field("runtime.bitvector", "bytedata")?,
            md_rodata: r.field(MD, "rodata")?,
            heap_arena_bitmap: r.field_opt("runtime.heapArena", "bitmap"),
            finblocks,
            cleanups,
            gobuf_ctxt: r.field("runtime.gobuf", "ctxt")?,
            g_sched: r.field("runtime.g", "sched")?,
            g_defer: r.field("runtime.g", "_defer")?,
            g_panic: r.field("runtime.g", "_panic")?,
            defer_fn: r.field("runtime._defer", "fn")?,
            defer_link: r.field("runtime._defer", "link")?,
            defer_heap: r.field("runtime._defer", "heap")?,
            sor_size: r.size(SOR)?,
            sor_off: r.field(SOR, "off")?,
            sor_size_field: r.field(SOR, "size")?,
            sor_ptr_bytes: r.field_any(SOR, &["ptrBytes", "_ptrdata", "ptrdata"])?,
            sor_gcdataoff: r.field(SOR, "gcdataoff")?,
            inline_mark_bits: dwarf.type_size("runtime.spanInlineMarkBits").unwrap_or(0),
        })
    }
}

/// How a map value is laid out: the map type descriptor's field leading to its bucket or group
/// type, and the runtime structures a map word points at.
#[derive(Debug, Clone)]
pub enum MapLayout {
    /// Bucket maps (Go ≤ 1.23; 1.24–1.25 with `GOEXPERIMENT=noswissmap`): `runtime.hmap`,
    /// `runtime.mapextra`; the map type is `abi.MapType` (≤ 1.23) or `abi.OldMapType`.
    Buckets {
        /// `MapType.Bucket`: the bucket type (`map.bucket[K]V`).
        maptype_bucket: Field,
        hmap_size: u64,
        buckets: Field,
        oldbuckets: Field,
        extra: Field,
        mapextra_size: u64,
        overflow: Field,
        oldoverflow: Field,
    },
    /// Swiss tables (Go 1.24+): `internal/runtime/maps.Map`, `.table`, `.groupsReference`;
    /// the map type is `abi.SwissMapType` (1.24–1.25) or `abi.MapType` (1.26+).
    Swiss {
        /// `MapType.Group`: the group type (`map.group[K]V`).
        maptype_group: Field,
        map_size: u64,
        dir_ptr: Field,
        dir_len: Field,
        table_size: u64,
        /// `table.groups.data`, from the start of the table.
        groups_data: Field,
    },
}

/// `runtime.hchan` and `abi.ChanType`.
#[derive(Debug, Clone)]
pub struct ChanLayout {
    pub chantype_elem: Field,
    pub hchan_size: u64,
    pub buf: Field,
}

/// What type propagation reads to follow maps and channels; each part is `None` when the
/// binary's DWARF lacks one of its items (such maps or channels are then not followed).
#[derive(Debug, Clone, Default)]
pub struct ContainerLayouts {
    pub map: Option<MapLayout>,
    pub chan: Option<ChanLayout>,
}

impl ContainerLayouts {
    /// Resolve against `dwarf`: bucket maps when `runtime.hmap` is present, else Swiss
    /// tables when `internal/runtime/maps.Map` is.
    pub fn resolve(dwarf: &DwarfIndex, version: GoVersion) -> ContainerLayouts {
        let r = Resolver::new(dwarf, version);
        // The map type descriptor: the one of these names that has the wanted field.
        let maptype = |field: &str| {
            [
                "internal/abi.MapType",
                "internal/abi.OldMapType",
                "internal/abi.SwissMapType",
            ]
            .into_iter()
            .find_map(|t| r.field_opt(t, field))
        };
        let buckets = || -> Option<MapLayout> {
            const H: &str = "runtime.hmap";
            const X: &str = "runtime.mapextra";
            Some(MapLayout::Buckets {
                maptype_bucket: maptype("Bucket")?,
                hmap_size: r.size(H).ok()?,
                buckets: r.field_opt(H, "buckets")?,
                oldbuckets: r.field_opt(H, "oldbuckets")?,
                extra: r.field_opt(H, "extra")?,
                mapextra_size: r.size(X).ok()?,
                overflow: r.field_opt(X, "overflow")?,
                oldoverflow: r.field_opt(X, "oldoverflow")?,
            })
        };
        let swiss = || -> Option<MapLayout> {
            const M: &str = "internal/runtime/maps.Map";
            const T: &str = "internal/runtime/maps.table";
            let groups = r.field_opt(T, "groups")?;
            let data = r.field_opt("internal/runtime/maps.groupsReference", "data")?;
            Some(MapLayout::Swiss {
                maptype_group: maptype("Group")?,
                map_size: r.size(M).ok()?,
                dir_ptr: r.field_opt(M, "dirPtr")?,
                dir_len: r.field_opt(M, "dirLen")?,
                table_size: r.size(T).ok()?,
                groups_data: Field {
                    offset: groups.offset + data.offset,
                    size: 8,
                },
            })
        };
        let map = if dwarf.has_type("runtime.hmap") {
            buckets()
        } else {
            swiss()
        };
        let chan = (|| {
            Some(ChanLayout {
                chantype_elem: r.field_opt("internal/abi.ChanType", "Elem")?,
                hchan_size: r.size("runtime.hchan").ok()?,
                buf: r.field_opt("runtime.hchan", "buf")?,
            })
        })();
        ContainerLayouts { map, chan }
    }
}
