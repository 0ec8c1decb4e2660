//! What object inspection needs besides the heap layouts, resolved once per session: the
//! [`ObjectLayouts`], the profiler's globals, and the module's address ranges (type
//! descriptors, text, data and bss) from `runtime.firstmoduledata`.

use super::layout::{LayoutError, ObjectLayouts};
use super::mprof::MprofSymbols;
use super::types::TypeReader;
use super::{GoRuntime, RuntimeError};
use crate::binary::Executable;
use crate::target::{Memory, MemoryExt};

/// The first module's address ranges (target addresses), `[start, end)` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModuleRanges {
    pub types: (u64, u64),
    pub text: (u64, u64),
    pub noptrdata: (u64, u64),
    pub data: (u64, u64),
    pub bss: (u64, u64),
    pub noptrbss: (u64, u64),
}

impl ModuleRanges {
    /// The data section (`noptrdata`, `data`, `bss`, `noptrbss`) holding `addr`, by name.
    pub fn data_section(&self, addr: u64) -> Option<&'static str> {
        [
            (".noptrdata", self.noptrdata),
            (".data", self.data),
            (".bss", self.bss),
            (".noptrbss", self.noptrbss),
        ]
        .into_iter()
        .find(|(_, (s, e))| *s <= addr && addr < *e)
        .map(|(n, _)| n)
    }
}

/// Object-inspection state of one session.
#[derive(Debug, Clone)]
pub struct ObjectRuntime {
    pub layouts: ObjectLayouts,
    pub mprof: MprofSymbols,
    pub module: ModuleRanges,
    /// `&runtime.inProgress` (Go 1.24+; 0 if absent).
    pub in_progress: u64,
}

impl ObjectRuntime {
    /// Resolve layouts and symbols and read the module ranges.
    pub fn load(
        exe: &Executable,
        rt: &GoRuntime,
        mem: &dyn Memory,
    ) -> Result<ObjectRuntime, RuntimeError> {
        let dwarf = exe.dwarf.as_ref().ok_or(LayoutError::NoDwarf)?;
        let layouts = ObjectLayouts::resolve(dwarf, rt.version)?;
        let mprof = MprofSymbols::find(exe, rt)?;
        let md = exe
            .symbol("runtime.firstmoduledata")
            .map(|s| s.addr + rt.bias)
            .ok_or_else(|| LayoutError::MissingSymbol {
                name: "runtime.firstmoduledata".into(),
                version: rt.version.to_string(),
            })?;
        let m = &layouts.module;
        let rd = |f: &super::layout::Field| {
            mem.read_u64(md + f.offset)
                .map_err(RuntimeError::read("runtime.firstmoduledata"))
        };
        let module = ModuleRanges {
            types: (rd(&m.types)?, rd(&m.etypes)?),
            text: (rd(&m.text)?, rd(&m.etext)?),
            noptrdata: (rd(&m.noptrdata)?, rd(&m.enoptrdata)?),
            data: (rd(&m.data)?, rd(&m.edata)?),
            bss: (rd(&m.bss)?, rd(&m.ebss)?),
            noptrbss: (rd(&m.noptrbss)?, rd(&m.enoptrbss)?),
        };
        let in_progress = exe
            .symbol("runtime.inProgress")
            .map_or(0, |s| s.addr + rt.bias);
        Ok(ObjectRuntime {
            layouts,
            mprof,
            module,
            in_progress,
        })
    }

    /// A type reader over `mem`.
    pub fn types<'a>(&'a self, mem: &'a dyn Memory) -> TypeReader<'a> {
        TypeReader::new(
            mem,
            &self.layouts,
            self.module.types.0,
            self.module.types.1,
            self.in_progress,
        )
    }
}

/// Object layouts of a Go 1.24+ amd64 binary (offsets as its DWARF gives them), for unit tests
/// that build runtime structures by hand in a `VecMemory`.
#[cfg(test)]
pub(crate) fn test_layouts() -> ObjectLayouts {
    use super::layout::*;
    let f = |offset, size| Field { offset, size };
    ObjectLayouts {
        span_specials: f(128, 8),
        span_pinner_bits: f(80, 8),
        special: SpecialLayout {
            size: 24,
            next: f(0, 8),
            offset: f(8, 8),
            kind: f(16, 1),
            profile_bucket: f(24, 8),
            finalizer_fn: f(24, 8),
            finalizer_nret: f(32, 8),
            finalizer_fint: f(40, 8),
            finalizer_ot: f(48, 8),
            weak_handle: Some(f(24, 8)),
            pin_counter: f(24, 8),
            cleanup_fn: Some(f(24, 8)),
            cleanup_id: Some(f(32, 8)),
            bubble_id: None,
            kinds: SpecialKinds {
                finalizer: Some(1),
                weak_handle: Some(2),
                profile: Some(3),
                reachable: Some(4),
                pin_counter: Some(5),
                cleanup: Some(6),
                ..SpecialKinds::default()
            },
        },
        mprof: MprofLayout {
            bucket_size: 48,
            allnext: f(8, 8),
            typ: f(16, 8),
            size: f(32, 8),
            nstk: f(40, 8),
            record_size: 128,
            active: f(0, 32),
            future: f(32, 96),
            cycle_size: 32,
            allocs: f(0, 8),
            frees: f(8, 8),
            alloc_bytes: Some(f(16, 8)),
            free_bytes: Some(f(24, 8)),
            cycle_value: f(0, 4),
            mem_profile_type: 1,
        },
        abi_type: AbiTypeLayout {
            size: 48,
            size_: f(0, 8),
            ptr_bytes: f(8, 8),
            tflag: f(20, 1),
            kind: f(23, 1),
            gcdata: f(32, 8),
            str_: f(40, 4),
            struct_fields: f(56, 24),
            struct_field_size: 24,
            field_name: f(0, 8),
            field_typ: f(8, 8),
            field_offset: f(16, 8),
            array_elem: f(48, 8),
            array_len: f(64, 8),
            ptr_elem: f(48, 8),
            slice_elem: f(48, 8),
            iface_methods: f(56, 24),
        },
        module: ModuleLayout {
            types: f(296, 8),
            etypes: f(312, 8),
            text: f(176, 8),
            etext: f(184, 8),
            noptrdata: f(192, 8),
            enoptrdata: f(200, 8),
            data: f(208, 8),
            edata: f(216, 8),
            bss: f(224, 8),
            ebss: f(232, 8),
            noptrbss: f(240, 8),
            enoptrbss: f(248, 8),
        },
        consts: ObjectConsts {
            kind_mask: 31,
            kind_gc_prog: None,
            tflag_extra_star: 2,
            tflag_named: 4,
            tflag_unrolled_bitmap: None,
            tflag_gc_mask_on_demand: Some(16),
            kinds: vec![(2, "int"), (17, "array"), (22, "ptr"), (25, "struct")],
            min_size_for_malloc_header: Some(512),
            malloc_header_size: 8,
            tiny_span_class: 5,
            max_tiny_size: 16,
        },
    }
}
