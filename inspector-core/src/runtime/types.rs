//! The runtime's type descriptors (`internal/abi.Type`, `_type` in the runtime): name through
//! its name offset, size, kind, pointer data and mask, and for structs and arrays their
//! fields and elements. Field offsets, flag bits and kind numbers come from the binary's DWARF
//! ([`ObjectLayouts`]).
//!
//! Two kinds of descriptors are not real types: Go 1.22–1.23 give a large object whose type
//! has a GC program an unnamed stand-in (`TFlagUnrolledBitmap`, only size, pointer bytes and an
//! unrolled bitmap are set), and Go 1.24+ mark big types `TFlagGCMaskOnDemand` (`GCData` points
//! at a slot the runtime fills with the mask on first use, possibly still nil): the mask is
//! then built from the type's structure as the runtime's `buildGCMask` does.

use super::layout::ObjectLayouts;
use super::RuntimeError;
use crate::target::{Memory, MemoryExt};

/// Longest type or field name read (longer names are cut).
const MAX_NAME: u64 = 4096;
/// Bound on struct fields read from one descriptor.
const MAX_FIELDS: u64 = 1 << 16;

/// One type descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoType {
    /// Address of the descriptor in the target.
    pub addr: u64,
    /// The type's string (`main.node`, `[]*int64`, `map[string]int`); `None` for a GC-program
    /// stand-in or a name that cannot be resolved (a type made at run time by reflect).
    pub name: Option<String>,
    pub size: u64,
    pub ptr_bytes: u64,
    /// Kind name (`struct`, `ptr`, `slice`, ...; `invalid` for 0).
    pub kind: &'static str,
    pub kind_raw: u8,
    pub tflag: u8,
    pub gcdata: u64,
    /// Go ≤1.23: `GCData` is a GC program, not a mask.
    pub gc_prog: bool,
    /// Go 1.22–1.23: the runtime's unnamed stand-in for a GC-program type.
    pub standin: bool,
    /// Go 1.24+: the mask is built on demand (`TFlagGCMaskOnDemand`).
    pub mask_on_demand: bool,
}

/// One field of a struct type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeField {
    pub name: String,
    pub offset: u64,
    pub embedded: bool,
    /// Address of the field's type descriptor.
    pub typ: u64,
}

/// Reads type descriptors from a target.
pub struct TypeReader<'a> {
    mem: &'a dyn Memory,
    l: &'a ObjectLayouts,
    /// `moduledata.types` / `etypes`: the module's type-descriptor range, base of name offsets.
    types: u64,
    etypes: u64,
    /// `&runtime.inProgress`, the on-demand mask slot's "being built" sentinel (0 if unknown).
    in_progress: u64,
}

impl<'a> TypeReader<'a> {
    pub fn new(
        mem: &'a dyn Memory,
        l: &'a ObjectLayouts,
        types: u64,
        etypes: u64,
        in_progress: u64,
    ) -> TypeReader<'a> {
        TypeReader {
            mem,
            l,
            types,
            etypes,
            in_progress,
        }
    }

    /// `moduledata.types`: the base of type-descriptor offsets (DWARF's
    /// `DW_AT_go_runtime_type`, name offsets).
    pub fn types_base(&self) -> u64 {
        self.types
    }

    /// Whether `addr` lies in the module's type-descriptor range.
    pub fn in_module(&self, addr: u64) -> bool {
        self.types <= addr && addr < self.etypes
    }

    /// The name of a kind number.
    pub fn kind_name(&self, kind: u8) -> &'static str {
        self.l
            .consts
            .kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or("invalid", |(_, n)| n)
    }

    /// Read the descriptor at `addr`.
    pub fn read(&self, addr: u64) -> Result<GoType, RuntimeError> {
        let t = &self.l.abi_type;
        let c = &self.l.consts;
        let b = self
            .mem
            .bytes(addr, t.size as usize)
            .map_err(RuntimeError::read(format!("type descriptor at {addr:#x}")))?;
        let b: &[u8] = &b;
        let size = t.size_.get(b);
        let ptr_bytes = t.ptr_bytes.get(b);
        let tflag = t.tflag.get(b) as u8;
        let kind_byte = t.kind.get(b) as u8;
        if size > 1 << 48 || ptr_bytes > size {
            return Err(RuntimeError::Corrupt(format!(
                "type descriptor at {addr:#x}: size {size}, pointer bytes {ptr_bytes}"
            )));
        }
        let kind_raw = kind_byte & c.kind_mask;
        let standin = c.tflag_unrolled_bitmap.is_some_and(|f| tflag & f != 0);
        let str_off = t.str_.get(b) as u32 as i32;
        let name = if standin {
            None
        } else {
            self.resolve_name(addr, str_off).map(|n| {
                if tflag & c.tflag_extra_star != 0 {
                    n.strip_prefix('*').map(str::to_string).unwrap_or(n)
                } else {
                    n
                }
            })
        };
        Ok(GoType {
            addr,
            name,
            size,
            ptr_bytes,
            kind: if standin {
                "invalid"
            } else {
                self.kind_name(kind_raw)
            },
            kind_raw,
            tflag,
            gcdata: t.gcdata.get(b),
            gc_prog: c.kind_gc_prog.is_some_and(|f| kind_byte & f != 0),
            standin,
            mask_on_demand: c.tflag_gc_mask_on_demand.is_some_and(|f| tflag & f != 0),
        })
    }

    /// `resolveNameOff`: names of types in the module are at `types + off`.
    fn resolve_name(&self, typ: u64, off: i32) -> Option<String> {
        if off <= 0 || !self.in_module(typ) {
            return None;
        }
        let a = self.types.checked_add(off as u64)?;
        (a < self.etypes).then_some(())?;
        self.name_at(a).ok().map(|(n, _)| n)
    }

    /// An `abi.Name` at `addr`: flags byte, uvarint length, bytes. Returns the name and flags.
    pub fn name_at(&self, addr: u64) -> Result<(String, u8), RuntimeError> {
        let rd = |a: u64| {
            self.mem
                .read_u8(a)
                .map_err(RuntimeError::read(format!("name at {addr:#x}")))
        };
        let flags = rd(addr)?;
        let (mut len, mut shift, mut i) = (0u64, 0u32, 1u64);
        loop {
            if i > 10 {
                return Err(RuntimeError::Corrupt(format!(
                    "name at {addr:#x}: bad length varint"
                )));
            }
            let byte = rd(addr + i)?;
            len |= u64::from(byte & 0x7f) << shift;
            i += 1;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let n = len.min(MAX_NAME) as usize;
        let bytes = self
            .mem
            .bytes(addr + i, n)
            .map_err(RuntimeError::read(format!("name at {addr:#x}")))?;
        Ok((String::from_utf8_lossy(&bytes).into_owned(), flags))
    }

    /// The fields of a struct type.
    pub fn struct_fields(&self, t: &GoType) -> Result<Vec<TypeField>, RuntimeError> {
        let a = &self.l.abi_type;
        let sl = t.addr + a.struct_fields.offset;
        let err = || RuntimeError::read(format!("fields of type at {:#x}", t.addr));
        let ptr = self.mem.read_ptr(sl).map_err(err())?;
        let len = self.mem.read_u64(sl + 8).map_err(err())?;
        if len > MAX_FIELDS {
            return Err(RuntimeError::Corrupt(format!(
                "struct type at {:#x} has {len} fields",
                t.addr
            )));
        }
        let fs = a.struct_field_size;
        let raw = self.mem.bytes(ptr, (len * fs) as usize).map_err(err())?;
        let mut out = Vec::with_capacity(len as usize);
        for rec in raw.chunks_exact(fs as usize) {
            let name_ptr = a.field_name.get(rec);
            let (name, flags) = if name_ptr == 0 {
                (String::new(), 0)
            } else {
                self.name_at(name_ptr)?
            };
            out.push(TypeField {
                name,
                offset: a.field_offset.get(rec),
                // abi.Name: bit 3 of the flags byte marks an embedded field.
                embedded: flags & (1 << 3) != 0,
                typ: a.field_typ.get(rec),
            });
        }
        Ok(out)
    }

    /// Element type and length of an array type.
    pub fn array(&self, t: &GoType) -> Result<(u64, u64), RuntimeError> {
        let a = &self.l.abi_type;
        let err = || RuntimeError::read(format!("array type at {:#x}", t.addr));
        let elem = self
            .mem
            .read_ptr(t.addr + a.array_elem.offset)
            .map_err(err())?;
        let len = self
            .mem
            .read_u64(t.addr + a.array_len.offset)
            .map_err(err())?;
        Ok((elem, len))
    }

    /// Whether an interface type has methods (its values start with an itab, not a type).
    pub fn iface_has_methods(&self, t: &GoType) -> Result<bool, RuntimeError> {
        let a = &self.l.abi_type;
        self.mem
            .read_u64(t.addr + a.iface_methods.offset + 8)
            .map(|n| n > 0)
            .map_err(RuntimeError::read(format!(
                "methods of interface type at {:#x}",
                t.addr
            )))
    }

    /// Element type of a pointer or slice type.
    pub fn elem(&self, t: &GoType) -> Result<u64, RuntimeError> {
        let a = &self.l.abi_type;
        let off = if t.kind == "slice" {
            a.slice_elem.offset
        } else {
            a.ptr_elem.offset
        };
        self.mem
            .read_ptr(t.addr + off)
            .map_err(RuntimeError::read(format!(
                "element of type at {:#x}",
                t.addr
            )))
    }

    /// The pointer mask of `t`: one bool per word of its first `ptr_bytes`, at most
    /// `max_words` of them. `None` when the type's `GCData` is a GC program (Go ≤1.23).
    pub fn ptr_mask(
        &self,
        t: &GoType,
        max_words: usize,
    ) -> Result<Option<Vec<bool>>, RuntimeError> {
        let words = ((t.ptr_bytes / 8) as usize).min(max_words);
        if words == 0 {
            return Ok(Some(Vec::new()));
        }
        if t.gc_prog {
            return Ok(None);
        }
        let mut mask = vec![false; words];
        self.build_mask(t, &mut mask, 0, 0)?;
        Ok(Some(mask))
    }

    fn build_mask(
        &self,
        t: &GoType,
        mask: &mut [bool],
        word: usize,
        depth: u32,
    ) -> Result<(), RuntimeError> {
        // Only the part of the mask that is wanted.
        let words = ((t.ptr_bytes / 8) as usize).min(mask.len().saturating_sub(word));
        if words == 0 {
            return Ok(());
        }
        if depth > 64 {
            return Err(RuntimeError::Corrupt(format!(
                "type at {:#x}: nesting too deep",
                t.addr
            )));
        }
        let mut src = t.gcdata;
        if t.mask_on_demand {
            // A slot the runtime fills on first use: nil or &inProgress while not built.
            let slot = self
                .mem
                .read_ptr(t.gcdata)
                .map_err(RuntimeError::read("on-demand GC mask slot"))?;
            src = if slot == 0 || slot == self.in_progress {
                0
            } else {
                slot
            };
        }
        if src != 0 && !t.gc_prog {
            let bytes = self
                .mem
                .bytes(src, words.div_ceil(8))
                .map_err(RuntimeError::read(format!(
                    "GC mask of type at {:#x}",
                    t.addr
                )))?;
            for (i, m) in mask.iter_mut().skip(word).take(words).enumerate() {
                *m |= bytes[i / 8] >> (i % 8) & 1 == 1;
            }
            return Ok(());
        }
        // buildGCMask: arrays repeat the element's mask, structs place their fields'.
        match t.kind {
            "array" => {
                let (elem, len) = self.array(t)?;
                let e = self.read(elem)?;
                let ew = (e.size / 8) as usize;
                for i in 0..len as usize {
                    let at = word + i * ew;
                    if at >= mask.len() {
                        break;
                    }
                    self.build_mask(&e, mask, at, depth + 1)?;
                }
            }
            "struct" => {
                for f in self.struct_fields(t)? {
                    let ft = self.read(f.typ)?;
                    if ft.ptr_bytes > 0 {
                        self.build_mask(&ft, mask, word + (f.offset / 8) as usize, depth + 1)?;
                    }
                }
            }
            _ => {
                return Err(RuntimeError::Corrupt(format!(
                    "type at {:#x} ({}) has no GC mask",
                    t.addr, t.kind
                )))
            }
        }
        Ok(())
    }
}

/// Where a type's pointer mask comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskSource {
    /// `GCData` is the mask.
    GcData,
    /// `TFlagGCMaskOnDemand`, and the runtime has built the mask into its slot.
    OnDemandBuilt,
    /// `TFlagGCMaskOnDemand`, slot still empty: derived here from the type's structure.
    Derived,
    /// `GCData` is a GC program (Go ≤1.23): no mask.
    GcProgram,
}

impl MaskSource {
    pub fn name(self) -> &'static str {
        match self {
            MaskSource::GcData => "gcdata",
            MaskSource::OnDemandBuilt => "built_on_demand",
            MaskSource::Derived => "derived_from_type",
            MaskSource::GcProgram => "gc_program",
        }
    }
}

impl TypeReader<'_> {
    /// Where [`TypeReader::ptr_mask`] takes `t`'s mask from.
    pub fn mask_source(&self, t: &GoType) -> MaskSource {
        if t.gc_prog {
            return MaskSource::GcProgram;
        }
        if !t.mask_on_demand {
            return MaskSource::GcData;
        }
        match self.mem.read_ptr(t.gcdata) {
            Ok(slot) if slot != 0 && slot != self.in_progress => MaskSource::OnDemandBuilt,
            _ => MaskSource::Derived,
        }
    }
}

/// Render a pointer mask as `1` (pointer) and `0` (scalar) per word, cut at `max` words.
pub fn mask_string(mask: &[bool], max: usize) -> String {
    let mut s: String = mask
        .iter()
        .take(max)
        .map(|&p| if p { '1' } else { '0' })
        .collect();
    if mask.len() > max {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::objects::test_layouts;
    use crate::target::VecMemory;

    /// An `abi.Type` (48 bytes) plus `extra` words (kind-specific fields).
    fn ty(
        size: u64,
        ptr: u64,
        tflag: u8,
        kind: u8,
        gcdata: u64,
        name_off: u32,
        extra: &[u64],
    ) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(size.to_le_bytes());
        v.extend(ptr.to_le_bytes());
        v.extend([0, 0, 0, 0, tflag, 8, 8, kind]);
        v.extend(0u64.to_le_bytes());
        v.extend(gcdata.to_le_bytes());
        v.extend(name_off.to_le_bytes());
        v.extend(0u32.to_le_bytes());
        for w in extra {
            v.extend(w.to_le_bytes());
        }
        v
    }

    fn name(flags: u8, s: &str) -> Vec<u8> {
        let mut v = vec![flags, s.len() as u8];
        v.extend(s.as_bytes());
        v
    }

    /// types at 0x10000..0x20000; names at 0x10000 + offset.
    fn mem() -> VecMemory {
        let mut m = VecMemory::new();
        m.add(0x10100, name(0, "*main.T"));
        m.add(0x10200, name(0, "int"));
        m.add(0x10300, name(0, "*int"));
        m.add(0x10400, name(0, "[3]*int"));
        m.add(0x10500, name(1, "a"));
        m.add(0x10600, name(1 | 8, "b"));
        // int, *int, [3]*int.
        m.add(0x11000, ty(8, 0, 4, 2, 0, 0x200, &[]));
        m.add(0x11100, ty(8, 8, 0, 22, 0x18000, 0x300, &[0x11000]));
        m.add(0x11200, ty(24, 24, 0, 17, 0x18010, 0x400, &[0x11100, 0, 3]));
        // struct T { a int; b [3]*int } with an on-demand mask whose slot is nil.
        m.add(
            0x11300,
            ty(32, 32, 2 | 4 | 16, 25, 0x18020, 0x100, &[0, 0x12000, 2, 2]),
        );
        m.add(
            0x12000,
            [0x10500u64, 0x11000, 0, 0x10600, 0x11200, 8]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect(),
        );
        m.add(0x18000, vec![0b1, 0, 0, 0, 0, 0, 0, 0]);
        m.add(0x18010, vec![0b111, 0, 0, 0, 0, 0, 0, 0]);
        m.add(0x18020, vec![0; 8]);
        m
    }

    #[test]
    fn reads_names_fields_and_masks() {
        let l = test_layouts();
        let m = mem();
        let tr = TypeReader::new(&m, &l, 0x10000, 0x20000, 0);
        let t = tr.read(0x11300).unwrap();
        assert_eq!(
            t.name.as_deref(),
            Some("main.T"),
            "ExtraStar strips the '*'"
        );
        assert_eq!((t.kind, t.size, t.ptr_bytes), ("struct", 32, 32));
        assert!(t.mask_on_demand && !t.standin && !t.gc_prog);
        let fields = tr.struct_fields(&t).unwrap();
        let names: Vec<_> = fields
            .iter()
            .map(|f| (f.name.as_str(), f.offset, f.embedded))
            .collect();
        assert_eq!(names, [("a", 0, false), ("b", 8, true)]);
        // The slot is nil: the mask is derived from the fields (buildGCMask).
        assert_eq!(tr.mask_source(&t), MaskSource::Derived);
        let mask = tr.ptr_mask(&t, 64).unwrap().unwrap();
        assert_eq!(mask_string(&mask, 64), "0111");
        assert_eq!(mask_string(&tr.ptr_mask(&t, 2).unwrap().unwrap(), 64), "01");
        let a = tr.read(0x11200).unwrap();
        assert_eq!(a.name.as_deref(), Some("[3]*int"));
        assert_eq!(tr.array(&a).unwrap(), (0x11100, 3));
        assert_eq!(tr.elem(&tr.read(0x11100).unwrap()).unwrap(), 0x11000);
        assert_eq!(tr.mask_source(&a), MaskSource::GcData);
        // Outside the module, names do not resolve; unreadable descriptors are errors.
        let tr2 = TypeReader::new(&m, &l, 0x30000, 0x40000, 0);
        assert_eq!(tr2.read(0x11000).unwrap().name, None);
        assert!(tr.read(0x9_0000).is_err());
    }

    #[test]
    fn mask_string_cuts() {
        assert_eq!(mask_string(&[true, false, true], 8), "101");
        assert_eq!(mask_string(&[true, false, true], 2), "10…");
    }
}
