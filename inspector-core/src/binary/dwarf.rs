//! An index of the executable's DWARF: named types (with struct field layouts resolved on
//! demand), package-level constants (`DW_TAG_constant`, e.g. `runtime._PageShift`) and global
//! variables, and functions by pc with their local variables' locations ([`locals`]). Go
//! compresses its DWARF sections; `object` decompresses them once at load time. Go emits
//! DWARF 4 up to 1.24 and DWARF 5 from 1.25; gimli reads both.

pub mod locals;

use std::collections::HashMap;
use std::sync::Arc;

use gimli::{EndianArcSlice, LittleEndian, Reader as _, UnitOffset};
use object::{Object, ObjectSection};

type Reader = EndianArcSlice<LittleEndian>;

/// One field of a struct type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: String,
    pub offset: u64,
    /// Size of the field's type in bytes, when DWARF states it.
    pub size: Option<u64>,
    /// The field type's name (e.g. `uintptr`, `*runtime.mspan`, `[68]uint64`).
    pub type_name: String,
}

/// A struct type's size and fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructLayout {
    pub name: String,
    pub size: u64,
    pub fields: Vec<FieldInfo>,
}

impl StructLayout {
    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Where a DIE lives: unit index and offset in that unit.
#[derive(Debug, Clone, Copy)]
struct DieRef {
    unit: usize,
    offset: UnitOffset,
}

/// The index. Built once per executable.
pub struct DwarfIndex {
    dwarf: gimli::Dwarf<Reader>,
    units: Vec<gimli::Unit<Reader>>,
    types: HashMap<String, DieRef>,
    constants: HashMap<String, i64>,
    variables: HashMap<String, (u64, Option<DieRef>)>,
    /// `.debug_info` offset of each global variable's `DW_AT_type`, by variable name.
    variable_types: HashMap<String, usize>,
    /// `.debug_info` offset where each unit starts, parallel to `units`.
    unit_starts: Vec<usize>,
    /// Concrete subprograms' pc ranges (link-time `[lo, hi)`), sorted by `lo`.
    functions: Vec<(u64, u64, DieRef)>,
}

impl std::fmt::Debug for DwarfIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DwarfIndex")
            .field("units", &self.units.len())
            .field("types", &self.types.len())
            .field("constants", &self.constants.len())
            .finish()
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl DwarfIndex {
    /// Index the DWARF of `obj`. Returns `Ok(None)` when the binary has no DWARF
    /// (built with `-ldflags=-w`, or stripped).
    pub fn load(obj: &object::File) -> Result<Option<DwarfIndex>, String> {
        if obj.section_by_name(".debug_info").is_none()
            && obj.section_by_name(".zdebug_info").is_none()
        {
            return Ok(None);
        }
        let load = |id: gimli::SectionId| -> Result<Reader, String> {
            let data: Arc<[u8]> = match obj.section_by_name(id.name()) {
                Some(sec) => Arc::from(&*sec.uncompressed_data().map_err(err)?),
                None => Arc::from(&[][..]),
            };
            Ok(EndianArcSlice::new(data, LittleEndian))
        };
        let dwarf = gimli::Dwarf::load(load)?;
        let mut index = DwarfIndex {
            dwarf,
            units: Vec::new(),
            types: HashMap::new(),
            constants: HashMap::new(),
            variables: HashMap::new(),
            variable_types: HashMap::new(),
            unit_starts: Vec::new(),
            functions: Vec::new(),
        };
        index.build().map_err(err)?;
        index.functions.sort_by_key(|f| (f.0, f.1));
        Ok(Some(index))
    }

    fn build(&mut self) -> gimli::Result<()> {
        let mut headers = self.dwarf.units();
        while let Some(header) = headers.next()? {
            let start = header.offset().0;
            let unit = self.dwarf.unit(header)?;
            let ui = self.units.len();
            let mut cursor = unit.entries();
            while let Some(entry) = cursor.next_dfs()? {
                if entry.depth() != 1 {
                    continue;
                }
                if entry.tag() == gimli::DW_TAG_subprogram {
                    self.add_function(&unit, ui, entry);
                    continue;
                }
                let Some(name) = self.name_of(&unit, entry)? else {
                    continue;
                };
                let here = DieRef {
                    unit: ui,
                    offset: entry.offset(),
                };
                match entry.tag() {
                    gimli::DW_TAG_constant => {
                        if let Some(v) = const_value(entry)? {
                            self.constants.insert(name, v);
                        }
                    }
                    gimli::DW_TAG_variable => {
                        let addr = variable_addr(&unit, entry)?;
                        if let Some(addr) = addr {
                            let ty = match entry.attr_value(gimli::DW_AT_type) {
                                Some(gimli::AttributeValue::UnitRef(o)) => Some(start + o.0),
                                Some(gimli::AttributeValue::DebugInfoRef(o)) => Some(o.0),
                                _ => None,
                            };
                            if let Some(ty) = ty {
                                self.variable_types.insert(name.clone(), ty);
                            }
                            self.variables.insert(name, (addr, None));
                        }
                    }
                    gimli::DW_TAG_structure_type
                    | gimli::DW_TAG_base_type
                    | gimli::DW_TAG_pointer_type
                    | gimli::DW_TAG_array_type
                    | gimli::DW_TAG_typedef => {
                        // A typedef and its struct share a name in Go's DWARF; keep the struct.
                        let is_struct = entry.tag() == gimli::DW_TAG_structure_type;
                        if is_struct || !self.types.contains_key(&name) {
                            self.types.insert(name, here);
                        }
                    }
                    _ => {}
                }
            }
            self.units.push(unit);
            self.unit_starts.push(start);
        }
        Ok(())
    }

    /// Index a subprogram with code (not an abstract, inlined-only one) by its pc ranges; one
    /// whose ranges cannot be read is left out (its frames are then not typed).
    fn add_function(
        &mut self,
        unit: &gimli::Unit<Reader>,
        ui: usize,
        entry: &gimli::DebuggingInformationEntry<Reader>,
    ) {
        let die = DieRef {
            unit: ui,
            offset: entry.offset(),
        };
        let Ok(mut ranges) = self.dwarf.die_ranges(unit, entry) else {
            return;
        };
        while let Ok(Some(r)) = ranges.next() {
            if r.begin < r.end {
                self.functions.push((r.begin, r.end, die));
            }
        }
    }

    fn name_of(
        &self,
        unit: &gimli::Unit<Reader>,
        entry: &gimli::DebuggingInformationEntry<Reader>,
    ) -> gimli::Result<Option<String>> {
        match entry.attr_value(gimli::DW_AT_name) {
            Some(v) => {
                let s = self.dwarf.attr_string(unit, v)?;
                Ok(Some(s.to_string_lossy()?.into_owned()))
            }
            None => Ok(None),
        }
    }

    /// The value of a package-level constant, e.g. `runtime._PageShift`.
    pub fn constant(&self, name: &str) -> Option<i64> {
        self.constants.get(name).copied()
    }

    /// All constants whose name starts with `prefix` (e.g. `runtime.waitReason`).
    pub fn constants_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, i64)> + 'a {
        self.constants
            .iter()
            .filter(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), *v))
    }

    /// Link-time address of a global variable.
    pub fn variable_addr(&self, name: &str) -> Option<u64> {
        self.variables.get(name).map(|v| v.0)
    }

    /// Every global variable whose DWARF type names its runtime type descriptor
    /// (`DW_AT_go_runtime_type`, following typedefs): name, link-time address and the type,
    /// sorted by address.
    pub fn typed_variables(&self) -> Vec<(String, u64, VariableType)> {
        let mut out: Vec<(String, u64, VariableType)> = self
            .variable_types
            .iter()
            .filter_map(|(name, &off)| {
                let addr = self.variables.get(name)?.0;
                Some((name.clone(), addr, self.type_at(off)?))
            })
            .collect();
        out.sort_by_key(|v| v.1);
        out
    }

    /// The runtime type of the global variable `name`, as [`DwarfIndex::typed_variables`]
    /// gives it.
    pub fn variable_runtime_type(&self, name: &str) -> Option<VariableType> {
        self.type_at(*self.variable_types.get(name)?)
    }

    /// The runtime type of the DWARF type at `.debug_info` offset `off`.
    fn type_at(&self, off: usize) -> Option<VariableType> {
        let i = self
            .unit_starts
            .partition_point(|&start| start <= off)
            .checked_sub(1)?;
        let offset = gimli::DebugInfoOffset(off).to_unit_offset(&self.units[i].header)?;
        self.variable_type(DieRef { unit: i, offset })
    }

    /// The runtime type of the type at `r`, through typedefs; a slice type without one by its
    /// element (`DW_AT_go_elem`).
    fn variable_type(&self, r: DieRef) -> Option<VariableType> {
        let mut r = r;
        for _ in 0..8 {
            let unit = &self.units[r.unit];
            let entry = unit.entry(r.offset).ok()?;
            if let Some(off) = runtime_type_attr(&entry) {
                return Some(VariableType::Type(off));
            }
            let kind = entry
                .attr_value(DW_AT_GO_KIND)
                .and_then(|v| v.udata_value());
            if kind == Some(GO_KIND_SLICE) {
                let elem = self.type_ref(r.unit, entry.attr_value(DW_AT_GO_ELEM))?;
                return match self.variable_type(elem)? {
                    VariableType::Type(off) => Some(VariableType::SliceOf(off)),
                    VariableType::SliceOf(_) => None,
                };
            }
            r = self.type_ref(r.unit, entry.attr_value(gimli::DW_AT_type))?;
        }
        None
    }

    /// The captured variables of every closure function (Go 1.23+ emits
    /// `DW_AT_go_closure_offset` on them): (link-time entry PC, offset in the closure object,
    /// type), sorted by entry PC then offset. A variable captured by reference is stored as a
    /// pointer and named `&x` with a pointer type, so the type is always the slot's own.
    pub fn closure_vars(&self) -> Vec<(u64, u64, VariableType)> {
        let mut out = Vec::new();
        for (ui, unit) in self.units.iter().enumerate() {
            let mut cursor = unit.entries();
            let mut func: Option<u64> = None;
            while let Ok(Some(entry)) = cursor.next_dfs() {
                match (entry.depth(), entry.tag()) {
                    (1, gimli::DW_TAG_subprogram) => {
                        // DWARF 5 (Go 1.25+) gives an index into .debug_addr.
                        func = entry
                            .attr_value(gimli::DW_AT_low_pc)
                            .and_then(|v| self.dwarf.attr_address(unit, v).ok().flatten());
                    }
                    (1, _) => func = None,
                    (_, gimli::DW_TAG_variable | gimli::DW_TAG_formal_parameter) => {
                        let (Some(pc), Some(off)) = (
                            func,
                            entry
                                .attr_value(DW_AT_GO_CLOSURE_OFFSET)
                                .and_then(|v| v.udata_value()),
                        ) else {
                            continue;
                        };
                        let ty = self
                            .type_ref(ui, entry.attr_value(gimli::DW_AT_type))
                            .and_then(|r| self.variable_type(r));
                        if let Some(t) = ty {
                            out.push((pc, off, t));
                        }
                    }
                    _ => {}
                }
            }
        }
        out.sort_by_key(|v| (v.0, v.1));
        out.dedup_by_key(|v| (v.0, v.1));
        out
    }

    /// True if a type of this name exists.
    pub fn has_type(&self, name: &str) -> bool {
        self.types.contains_key(name)
    }

    /// Size in bytes of a named type.
    pub fn type_size(&self, name: &str) -> Option<u64> {
        let r = *self.types.get(name)?;
        self.size_of(r).ok().flatten()
    }

    /// The layout of a named struct type, e.g. `runtime.mspan`.
    pub fn struct_layout(&self, name: &str) -> Option<StructLayout> {
        let r = *self.types.get(name)?;
        self.struct_at(r, name).ok().flatten()
    }

    fn struct_at(&self, r: DieRef, name: &str) -> gimli::Result<Option<StructLayout>> {
        let unit = &self.units[r.unit];
        let mut tree = unit.entries_tree(Some(r.offset))?;
        let root = tree.root()?;
        let entry = root.entry();
        let r = match entry.tag() {
            gimli::DW_TAG_structure_type => r,
            gimli::DW_TAG_typedef => {
                return match self.type_ref(r.unit, entry.attr_value(gimli::DW_AT_type)) {
                    Some(t) => self.struct_at(t, name),
                    None => Ok(None),
                }
            }
            _ => return Ok(None),
        };
        let size = entry.attr_value(gimli::DW_AT_byte_size);
        let size = size.and_then(|v| v.udata_value()).unwrap_or(0);
        let mut fields = Vec::new();
        let mut children = root.children();
        while let Some(child) = children.next()? {
            let e = child.entry();
            if e.tag() != gimli::DW_TAG_member {
                continue;
            }
            let fname = self.name_of(unit, e)?.unwrap_or_default();
            let offset = match e.attr_value(gimli::DW_AT_data_member_location) {
                Some(v) => v.udata_value().unwrap_or(0),
                None => 0,
            };
            let (type_name, fsize) = match self.type_ref(r.unit, e.attr_value(gimli::DW_AT_type)) {
                Some(tr) => (
                    self.type_name_at(tr)?.unwrap_or_default(),
                    self.size_of(tr)?,
                ),
                None => (String::new(), None),
            };
            fields.push(FieldInfo {
                name: fname,
                offset,
                size: fsize,
                type_name,
            });
        }
        Ok(Some(StructLayout {
            name: name.to_string(),
            size,
            fields,
        }))
    }

    /// Resolve a `DW_AT_type` value: a unit-local reference or, as Go emits for types defined
    /// in another compile unit, a section-wide `DW_FORM_ref_addr`.
    fn type_ref(&self, unit: usize, v: Option<gimli::AttributeValue<Reader>>) -> Option<DieRef> {
        match v? {
            gimli::AttributeValue::UnitRef(o) => Some(DieRef { unit, offset: o }),
            gimli::AttributeValue::DebugInfoRef(o) => {
                let i = self
                    .unit_starts
                    .partition_point(|&start| start <= o.0)
                    .checked_sub(1)?;
                let off = o.to_unit_offset(&self.units[i].header)?;
                Some(DieRef {
                    unit: i,
                    offset: off,
                })
            }
            _ => None,
        }
    }

    fn type_name_at(&self, r: DieRef) -> gimli::Result<Option<String>> {
        let unit = &self.units[r.unit];
        let entry = unit.entry(r.offset)?;
        self.name_of(unit, &entry)
    }

    /// Size of the type at `r`, following typedefs; arrays without a byte size are computed
    /// from their element size and count.
    fn size_of(&self, r: DieRef) -> gimli::Result<Option<u64>> {
        let mut r = r;
        for _ in 0..16 {
            let unit = &self.units[r.unit];
            let entry = unit.entry(r.offset)?;
            if let Some(v) = entry.attr_value(gimli::DW_AT_byte_size) {
                return Ok(v.udata_value());
            }
            if entry.tag() == gimli::DW_TAG_pointer_type {
                return Ok(Some(8));
            }
            match self.type_ref(r.unit, entry.attr_value(gimli::DW_AT_type)) {
                Some(next) => r = next,
                None => return Ok(None),
            }
        }
        Ok(None)
    }
}

/// Go's `DW_AT_go_runtime_type`: a type's runtime descriptor, as an offset from the module's
/// type-descriptor base (`moduledata.types`); 0 when absent.
const DW_AT_GO_RUNTIME_TYPE: gimli::DwAt = gimli::DwAt(0x2904);
/// Go's `DW_AT_go_kind` and `DW_AT_go_elem`, and the slice kind.
const DW_AT_GO_KIND: gimli::DwAt = gimli::DwAt(0x2900);
const DW_AT_GO_ELEM: gimli::DwAt = gimli::DwAt(0x2902);
const GO_KIND_SLICE: u64 = 23;
/// Go 1.23+'s `DW_AT_go_closure_offset`: a captured variable's offset in its closure object.
const DW_AT_GO_CLOSURE_OFFSET: gimli::DwAt = gimli::DwAt(0x2907);

/// The type of a global variable, as offsets from the module's type-descriptor base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableType {
    /// The variable's own runtime type.
    Type(u64),
    /// A slice whose DWARF names only its element's runtime type.
    SliceOf(u64),
}

fn runtime_type_attr(entry: &gimli::DebuggingInformationEntry<Reader>) -> Option<u64> {
    match entry.attr_value(DW_AT_GO_RUNTIME_TYPE)? {
        gimli::AttributeValue::Addr(a) => Some(a),
        v => v.udata_value(),
    }
    .filter(|&v| v != 0)
}

fn const_value(entry: &gimli::DebuggingInformationEntry<Reader>) -> gimli::Result<Option<i64>> {
    Ok(match entry.attr_value(gimli::DW_AT_const_value) {
        Some(gimli::AttributeValue::Sdata(v)) => Some(v),
        Some(gimli::AttributeValue::Udata(v)) => Some(v as i64),
        Some(gimli::AttributeValue::Data1(v)) => Some(v as i64),
        Some(gimli::AttributeValue::Data2(v)) => Some(v as i64),
        Some(gimli::AttributeValue::Data4(v)) => Some(v as i64),
        Some(gimli::AttributeValue::Data8(v)) => Some(v as i64),
        _ => None,
    })
}

fn variable_addr(
    unit: &gimli::Unit<Reader>,
    entry: &gimli::DebuggingInformationEntry<Reader>,
) -> gimli::Result<Option<u64>> {
    let Some(gimli::AttributeValue::Exprloc(expr)) = entry.attr_value(gimli::DW_AT_location) else {
        return Ok(None);
    };
    let mut ops = expr.operations(unit.encoding());
    if let Some(gimli::Operation::Address { address }) = ops.next()? {
        return Ok(Some(address));
    }
    Ok(None)
}
