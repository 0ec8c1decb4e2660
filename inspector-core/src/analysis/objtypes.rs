//! Types for the reachable heap objects, in a table indexed like the mark bits (one entry per
//! span slot).
//!
//! Sources, most authoritative first:
//!
//! - `header`, `large`: Go 1.22+ store the type of every scan object above 512 B in an 8-byte
//!   malloc header, and of every large scan object in `mspan.largeType` (Go 1.21 and
//!   `noallocheaders` store none);
//! - `global`: the typed words of global variables, their types from DWARF
//!   (`DW_AT_go_runtime_type`), type the objects they point at, by the rules below;
//! - then propagation along typed pointer words until nothing more is learned: `field` (a `*T`
//!   word of a typed object pointing at an object's start: the object is a `T`), `slice` (the
//!   backing array of a `[]E` holds `E`s; the pointer may be into it at an element boundary),
//!   `string` (a string's bytes: "string data"), `iface` (an interface's type word, or its
//!   itab's type, gives the type of the value its data word points to), `map`, `chan`,
//!   `closure` (the runtime's map and channel structures and closure objects, named by
//!   pseudo-types: see the `follow` submodule).
//!
//! An object is never re-typed, and a propagated type is only taken when it is consistent with
//! the slot: it fits, the span's scan/noscan class matches whether the type has pointers (not
//! for pseudo-types), the slot is not a tiny block (the tiny span class packs several small
//! noscan objects in one 16-byte block; a 16-byte type pointed at from the slot's start fills
//! it, so it is taken) nor a header-carrying slot (its header is the truth). Stack frames are
//! not followed here (typed roots come in through [`TypedRoot`]).
//! Objects holding several elements of a real type are named `[]T`.

use std::collections::HashMap;
use std::sync::Arc;

mod follow;

pub use follow::Followers;

use super::mark::{Reach, SpanLookup, SpanMeta};
use crate::binary::dwarf::VariableType;
use crate::runtime::layout::ObjectConsts;
use crate::runtime::types::{GoType, TypeReader};
use crate::target::{Memory, MemoryExt};

/// How an object's type was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeSource {
    Header,
    Large,
    Field,
    Slice,
    String,
    Iface,
    /// A typed word of a global variable (typed by DWARF).
    Global,
    /// A typed word of a goroutine's stack frame (a local or argument typed by DWARF).
    Stack,
    /// The object of a finalizer special (the special's pointer type).
    Finalizer,
    /// A map's runtime structures (header, bucket or group arrays, directory, tables,
    /// overflow buckets), from a map-typed word.
    Map,
    /// A channel's `hchan` and its buffer, from a chan-typed word.
    Chan,
    /// A closure object, from a func-typed word.
    Closure,
}

impl TypeSource {
    pub const ALL: [TypeSource; 12] = [
        TypeSource::Header,
        TypeSource::Large,
        TypeSource::Field,
        TypeSource::Slice,
        TypeSource::String,
        TypeSource::Iface,
        TypeSource::Global,
        TypeSource::Stack,
        TypeSource::Finalizer,
        TypeSource::Map,
        TypeSource::Chan,
        TypeSource::Closure,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TypeSource::Header => "header",
            TypeSource::Large => "large",
            TypeSource::Field => "field",
            TypeSource::Slice => "slice",
            TypeSource::String => "string",
            TypeSource::Iface => "iface",
            TypeSource::Global => "global",
            TypeSource::Stack => "stack",
            TypeSource::Finalizer => "finalizer",
            TypeSource::Map => "map",
            TypeSource::Chan => "chan",
            TypeSource::Closure => "closure",
        }
    }
}

/// One type objects were found to have.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    /// Descriptor address (0: a pseudo-type, see [`Pseudo`]).
    pub addr: u64,
    pub name: String,
    pub size: u64,
    pub ptr_bytes: u64,
    pub pseudo: Pseudo,
}

/// Whether a type is a real descriptor or one goheap names itself: string bytes and the
/// runtime's own structures that have no descriptor in the binary (map headers, directories
/// and tables, channel headers, closures). A pseudo-type's object is never named `[]T`, and
/// its span's scan/noscan class is not checked (a channel of pointer-free elements shares a
/// noscan allocation with its buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pseudo {
    /// A real type descriptor.
    No,
    /// One object whose words are read once (`size` covers the words read).
    One,
    /// An array object: `size` bytes repeated over the whole object.
    Each,
}

/// The name of the pseudo-type of string bytes.
pub const STRING_DATA: &str = "string data";

/// The index of the "string data" pseudo-type in [`ObjectTypes::types`].
const STRING_DATA_INDEX: u32 = 0;

/// Per-slot types of the reachable objects.
#[derive(Debug, Clone, Default)]
pub struct ObjectTypes {
    /// Index 0 is the "string data" pseudo-type.
    pub types: Vec<TypeInfo>,
    /// Per slot (the mark bits' index): type index + 1, 0 when unknown.
    slot_type: Vec<u32>,
    /// Per slot: [`TypeSource`] as u8, bit 7 set when the slot holds several elements.
    slot_how: Vec<u8>,
    /// Objects typed from each source (in [`TypeSource::ALL`] order).
    pub by_source: [u64; 12],
    /// Maps, channels and closures seen whose layout could not be read (their objects stay
    /// unknown).
    pub skipped: u64,
}

const MULTI: u8 = 0x80;

impl ObjectTypes {
    /// The type of the slot with global index `bit`: (index in `types`, how learned,
    /// several elements).
    pub fn slot(&self, bit: u64) -> Option<(usize, TypeSource, bool)> {
        let t = *self.slot_type.get(bit as usize)?;
        if t == 0 {
            return None;
        }
        let h = self.slot_how[bit as usize];
        Some((
            t as usize - 1,
            TypeSource::ALL[(h & !MULTI) as usize],
            h & MULTI != 0,
        ))
    }

    /// The type of the reachable object holding `addr`, named as `histogram` names it.
    pub fn type_of(&self, reach: &Reach, addr: u64) -> Option<(String, TypeSource)> {
        let (spans, _, _) = reach.index();
        let i = spans.partition_point(|s| s.base <= addr).checked_sub(1)?;
        let s = &spans[i];
        let slot = (addr - s.base) / s.elemsize.max(1);
        (slot < u64::from(s.nelems)).then_some(())?;
        let (t, how, multi) = self.slot(s.bit + slot)?;
        Some((display_name(&self.types[t], multi), how))
    }
}

/// `T`, or `[]T` for a slot holding several `T`s.
pub fn display_name(t: &TypeInfo, multi: bool) -> String {
    if multi {
        format!("[]{}", t.name)
    } else {
        t.name.clone()
    }
}

/// A typed place outside the heap that starts propagation (besides globals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedRoot {
    /// A value of the type whose descriptor is at `typ`, stored at `addr` (a stack slot
    /// typed by DWARF): its typed words type what they point at.
    Value {
        addr: u64,
        typ: u64,
        how: TypeSource,
    },
    /// `ptr` points at a `T` (`elem`: T's descriptor): the object it points at is a `T`.
    Object {
        ptr: u64,
        elem: u64,
        how: TypeSource,
    },
}

/// A typed pointer-holding word of a type, at an offset.
#[derive(Debug, Clone, Copy)]
enum Edge {
    /// `*T`: the element type.
    Ptr(u64),
    /// `[]E`: the element type.
    Slice(u64),
    Str,
    /// An interface; `Some(true)`: empty (the first word is a type), `Some(false)`: with
    /// methods (an itab), `None`: unknown (guessed from the word).
    Iface(Option<bool>),
    /// A map: the map type.
    Map(u64),
    /// A channel: the chan type.
    Chan(u64),
    /// A func value (a closure object, or a funcval in read-only data).
    Func,
}

/// Edges of one value of a type (offsets within it).
/// Edges with their types resolved to type indices (`None`: unreadable type).
type Edges = Arc<Vec<(u64, Resolved)>>;

/// An [`Edge`] whose element type is a type index.
#[derive(Debug, Clone, Copy)]
enum Resolved {
    Ptr(Option<u32>),
    Slice(Option<u32>),
    Str,
    Iface(Option<bool>),
    /// A pointer to the start of an object of a (pseudo-)type, learned as `how`.
    To(Option<u32>, TypeSource),
    /// A Swiss map's `dirPtr`: one group when the `dirLen` word (at `len_at` in the value) is
    /// 0, else the directory.
    SwissDir {
        len_at: u64,
        group: Option<u32>,
        dir: Option<u32>,
    },
    Func,
}

/// Bound on the edges collected for one type (a huge array of structs is cut).
const MAX_EDGES: usize = 1 << 14;
/// Bound on struct/array nesting followed.
const MAX_DEPTH: u32 = 32;

struct Typer<'a> {
    lookup: &'a SpanLookup,
    mem: &'a dyn Memory,
    tr: &'a TypeReader<'a>,
    spans: &'a [SpanMeta],
    alloc: &'a [u64],
    marks: &'a [u64],
    header_min: u64,
    header_size: u64,
    types_stored: bool,
    tiny_class: u8,
    out: ObjectTypes,
    /// Type descriptor address → index in `out.types` (`None`: unreadable or unnamed).
    index: HashMap<u64, Option<u32>>,
    /// Edges by type index (filled on first use).
    edges: Vec<Option<Edges>>,
    /// Typed objects still to scan: (data start, data bytes, type index).
    work: Vec<(u64, u64, u32)>,
    follow: follow::State<'a>,
}

/// Type every reachable object that can be typed. `globals`: (address, size, DWARF type) of
/// each global variable typed by DWARF; `roots`: other typed places (stack slots, finalizer
/// specials). Maps, channels and closures are not followed (see [`compute_with`]).
pub fn compute(
    mem: &dyn Memory,
    tr: &TypeReader<'_>,
    consts: &ObjectConsts,
    reach: &Reach,
    globals: &[(u64, u64, VariableType)],
    roots: &[TypedRoot],
) -> ObjectTypes {
    compute_with(
        mem,
        tr,
        consts,
        reach,
        globals,
        roots,
        &Followers::default(),
    )
}

/// [`compute`], following maps, channels and closures as far as `followers` allows.
pub fn compute_with(
    mem: &dyn Memory,
    tr: &TypeReader<'_>,
    consts: &ObjectConsts,
    reach: &Reach,
    globals: &[(u64, u64, VariableType)],
    roots: &[TypedRoot],
    followers: &Followers<'_>,
) -> ObjectTypes {
    let (spans, alloc, marks) = reach.index();
    let slots = spans.last().map_or(0, |s| s.bit + u64::from(s.nelems)) as usize;
    let mut t = Typer {
        lookup: reach.lookup(),
        mem,
        tr,
        spans,
        alloc,
        marks,
        header_min: consts.min_size_for_malloc_header.unwrap_or(u64::MAX),
        header_size: consts.malloc_header_size,
        types_stored: reach.types_stored(),
        tiny_class: consts.tiny_span_class,
        out: ObjectTypes {
            types: vec![TypeInfo {
                addr: 0,
                name: STRING_DATA.to_string(),
                size: 1,
                ptr_bytes: 0,
                pseudo: Pseudo::One,
            }],
            slot_type: vec![0; slots],
            slot_how: vec![0; slots],
            by_source: [0; 12],
            skipped: 0,
        },
        index: HashMap::new(),
        edges: Vec::new(),
        work: Vec::new(),
        follow: follow::State::new(followers),
    };
    t.stored_types();
    for &(addr, size, typ) in globals {
        t.global(addr, size, typ);
    }
    for &r in roots {
        t.typed_root(r);
    }
    while let Some((data, size, ti)) = t.work.pop() {
        t.scan(data, size, ti, None);
    }
    t.out
}

/// Whether a struct type is a bucket map's bucket (`map.bucket[K]V`, `noalg.map.bucket[K]V`).
fn is_bucket_name(n: &str) -> bool {
    n.starts_with("map.bucket[") || n.starts_with("noalg.map.bucket[")
}

fn bit(v: &[u64], b: u64) -> bool {
    v[(b / 64) as usize] >> (b % 64) & 1 == 1
}

impl<'a> Typer<'a> {
    /// Whether the slot's type is in its malloc header or `largeType`.
    fn has_stored_type(&self, s: &SpanMeta) -> bool {
        self.types_stored
            && s.spanclass & 1 == 0
            && (s.spanclass >> 1 == 0 || s.elemsize > self.header_min)
    }

    /// Header and `largeType` types of every reachable scan object.
    fn stored_types(&mut self) {
        if !self.types_stored {
            return;
        }
        // Consecutive objects mostly share their type: the last header's index is kept.
        let mut last: (u64, Option<u32>) = (0, None);
        for si in 0..self.spans.len() {
            let s = self.spans[si].clone();
            if !self.has_stored_type(&s) {
                continue;
            }
            for slot in 0..u64::from(s.nelems) {
                let b = s.bit + slot;
                if !bit(self.alloc, b) || !bit(self.marks, b) {
                    continue;
                }
                let start = s.base + slot * s.elemsize;
                let (typ, data, how) = if s.spanclass >> 1 == 0 {
                    (s.large_type, start, TypeSource::Large)
                } else {
                    let h = self.mem.read_ptr(start).unwrap_or(0);
                    (h, start + self.header_size, TypeSource::Header)
                };
                if typ == 0 {
                    continue;
                }
                if last.0 != typ {
                    last = (typ, self.type_index(typ));
                }
                let Some(ti) = last.1 else {
                    continue;
                };
                let size = s.elemsize - (data - start);
                self.set(b, ti, how, size);
                self.work.push((data, size, ti));
            }
        }
    }

    /// A global of `size` bytes at `addr`: its typed words type what they point at.
    fn global(&mut self, addr: u64, size: u64, typ: VariableType) {
        let base = self.tr.types_base();
        match typ {
            VariableType::Type(off) => {
                let Some(ti) = self.type_index(base + off) else {
                    return;
                };
                // A global whose symbol size disagrees with its type is skipped.
                if self.out.types[ti as usize].size == size {
                    self.scan(addr, size, ti, Some(TypeSource::Global));
                }
            }
            VariableType::SliceOf(off) => {
                if size == 24 {
                    if let Ok(p) = self.mem.read_ptr(addr) {
                        if let Some(ti) = self.type_index(base + off).filter(|_| p != 0) {
                            self.assign(p, ti, TypeSource::Global, false);
                        }
                    }
                }
            }
        }
    }

    /// A typed stack slot or finalizer object.
    fn typed_root(&mut self, r: TypedRoot) {
        match r {
            TypedRoot::Value { addr, typ, how } => {
                if let Some(ti) = self.type_index(typ) {
                    let size = self.out.types[ti as usize].size;
                    self.scan(addr, size, ti, Some(how));
                }
            }
            TypedRoot::Object { ptr, elem, how } => {
                if let Some(ti) = self.type_index(elem) {
                    self.assign(ptr, ti, how, true);
                }
            }
        }
    }

    /// Index of the type at `addr` in the output table (read once).
    fn type_index(&mut self, addr: u64) -> Option<u32> {
        if let Some(&i) = self.index.get(&addr) {
            return i;
        }
        let i = self.tr.read(addr).ok().and_then(|g: GoType| {
            let name = g.name?;
            (g.size > 0).then_some(())?;
            self.out.types.push(TypeInfo {
                addr,
                name,
                size: g.size,
                ptr_bytes: g.ptr_bytes,
                pseudo: Pseudo::No,
            });
            Some(self.out.types.len() as u32 - 1)
        });
        self.index.insert(addr, i);
        i
    }

    fn set(&mut self, b: u64, ti: u32, how: TypeSource, data_size: u64) {
        let size = self.out.types[ti as usize].size.max(1);
        self.out.slot_type[b as usize] = ti + 1;
        // String bytes and other pseudo-objects are one object whatever their length.
        let multi = if self.out.types[ti as usize].pseudo == Pseudo::No && data_size / size >= 2 {
            MULTI
        } else {
            0
        };
        self.out.slot_how[b as usize] = how as u8 | multi;
        self.out.by_source[how as usize] += 1;
    }

    /// The typed edges of one value of the type at `addr`.
    fn edges_of(&mut self, ti: u32) -> Edges {
        let i = ti as usize;
        if let Some(Some(e)) = self.edges.get(i) {
            return e.clone();
        }
        let mut raw = Vec::new();
        self.collect(self.out.types[i].addr, 0, 0, &mut raw);
        let e = Arc::new(self.resolve_edges(raw));
        if self.edges.len() <= i {
            self.edges.resize(i + 1, None);
        }
        self.edges[i] = Some(e.clone());
        e
    }

    /// Edges with their element types made type indices.
    fn resolve_edges(&mut self, raw: Vec<(u64, Edge)>) -> Vec<(u64, Resolved)> {
        raw.into_iter()
            .map(|(off, e)| {
                let r = match e {
                    Edge::Ptr(t) => Resolved::Ptr(self.type_index(t)),
                    Edge::Slice(t) => Resolved::Slice(self.type_index(t)),
                    Edge::Str => Resolved::Str,
                    Edge::Iface(e) => Resolved::Iface(e),
                    Edge::Map(t) => self.map_edge(t),
                    Edge::Chan(t) => Resolved::To(self.chan_header(t), TypeSource::Chan),
                    Edge::Func => Resolved::Func,
                };
                (off, r)
            })
            .collect()
    }

    fn collect(&self, addr: u64, base: u64, depth: u32, out: &mut Vec<(u64, Edge)>) {
        if depth > MAX_DEPTH || out.len() >= MAX_EDGES {
            return;
        }
        let Ok(t) = self.tr.read(addr) else { return };
        if t.ptr_bytes == 0 {
            return;
        }
        match t.kind {
            "ptr" => {
                if let Ok(e) = self.tr.elem(&t) {
                    out.push((base, Edge::Ptr(e)));
                }
            }
            "slice" => {
                if let Ok(e) = self.tr.elem(&t) {
                    out.push((base, Edge::Slice(e)));
                }
            }
            "string" => out.push((base, Edge::Str)),
            "interface" => out.push((base, Edge::Iface(self.iface_empty(&t)))),
            "struct" => {
                // A bucket's `overflow` (an unsafe.Pointer when the bucket has pointers) points
                // at the next bucket of the chain.
                let bucket = t.name.as_deref().is_some_and(is_bucket_name);
                for f in self.tr.struct_fields(&t).unwrap_or_default() {
                    if bucket && f.name == "overflow" {
                        out.push((base + f.offset, Edge::Ptr(addr)));
                        continue;
                    }
                    self.collect(f.typ, base + f.offset, depth + 1, out);
                }
            }
            "array" => {
                let Ok((elem, len)) = self.tr.array(&t) else {
                    return;
                };
                let Ok(et) = self.tr.read(elem) else { return };
                if et.ptr_bytes == 0 || et.size == 0 {
                    return;
                }
                for i in 0..len {
                    if out.len() >= MAX_EDGES {
                        return;
                    }
                    self.collect(elem, base + i * et.size, depth + 1, out);
                }
            }
            "map" => out.push((base, Edge::Map(addr))),
            "chan" => out.push((base, Edge::Chan(addr))),
            "func" => out.push((base, Edge::Func)),
            // Unsafe pointers: not followed.
            _ => {}
        }
    }

    /// Follow the typed words of an object (or global: `via`) holding `T`s from `data` over
    /// `size` bytes.
    fn scan(&mut self, data: u64, size: u64, ti: u32, via: Option<TypeSource>) {
        let info = &self.out.types[ti as usize];
        let (tsize, ptr_bytes, pseudo) = (info.size, info.ptr_bytes, info.pseudo);
        if ptr_bytes == 0 || (info.addr == 0 && pseudo == Pseudo::No) {
            return;
        }
        let edges = self.edges_of(ti);
        if edges.is_empty() {
            return;
        }
        let mem = self.mem;
        let Ok(obj) = mem.bytes(data, size as usize) else {
            return;
        };
        let word = |o: u64| -> Option<u64> {
            let o = o as usize;
            obj.get(o..o + 8)
                .map(|w| u64::from_le_bytes(w.try_into().unwrap()))
        };
        let n = if pseudo == Pseudo::One {
            1
        } else {
            size / tsize
        };
        for e in 0..n {
            for &(off, edge) in edges.iter() {
                let at = e * tsize + off;
                let Some(v) = word(at) else { continue };
                if v == 0 {
                    continue;
                }
                match edge {
                    Resolved::Ptr(Some(t)) => {
                        self.assign(v, t, via.unwrap_or(TypeSource::Field), true)
                    }
                    Resolved::Ptr(None) | Resolved::Slice(None) => {}
                    Resolved::Slice(Some(t)) => {
                        self.assign(v, t, via.unwrap_or(TypeSource::Slice), false)
                    }
                    Resolved::Str => {
                        if word(at + 8).unwrap_or(0) > 0 {
                            self.assign(
                                v,
                                STRING_DATA_INDEX,
                                via.unwrap_or(TypeSource::String),
                                false,
                            );
                        }
                    }
                    Resolved::Iface(empty) => {
                        let data_word = word(at + 8).unwrap_or(0);
                        if let Some(t) = self.iface_type(v, empty) {
                            self.iface_value(t, data_word, via.unwrap_or(TypeSource::Iface));
                        }
                    }
                    Resolved::To(Some(t), how) => self.assign(v, t, via.unwrap_or(how), true),
                    Resolved::To(None, _) => self.out.skipped += 1,
                    Resolved::SwissDir { len_at, group, dir } => {
                        let len = word(e * tsize + len_at).unwrap_or(0);
                        match if len == 0 { group } else { dir } {
                            Some(t) => self.assign(v, t, via.unwrap_or(TypeSource::Map), true),
                            None => self.out.skipped += 1,
                        }
                    }
                    Resolved::Func => self.func_value(v, via.unwrap_or(TypeSource::Closure)),
                }
            }
        }
    }

    /// The dynamic type of an interface from its first word: a type (eface) or an itab. Not
    /// knowing which (`empty`: `None`), a word in the type range is taken for a type (itabs
    /// may lie there too from Go 1.22 on).
    fn iface_type(&self, w0: u64, empty: Option<bool>) -> Option<u64> {
        if empty.unwrap_or_else(|| self.tr.in_module(w0)) {
            return self.tr.in_module(w0).then_some(w0);
        }
        let t = self.mem.read_ptr(w0.checked_add(8)?).ok()?;
        self.tr.in_module(t).then_some(t)
    }

    /// An interface's data word, the dynamic type being `typ`.
    fn iface_value(&mut self, typ: u64, data: u64, how: TypeSource) {
        let Ok(t) = self.tr.read(typ) else { return };
        match t.kind {
            // Stored directly in the data word: a pointer to its element.
            "ptr" => {
                if let Some(e) = self.tr.elem(&t).ok().and_then(|e| self.type_index(e)) {
                    self.assign(data, e, how, true);
                }
            }
            // Maps, channels and funcs are stored directly: the word is the pointer.
            "map" => {
                if let Resolved::To(Some(t), _) = self.map_edge(typ) {
                    self.assign(data, t, TypeSource::Map, true);
                }
            }
            "chan" => {
                if let Some(t) = self.chan_header(typ) {
                    self.assign(data, t, TypeSource::Chan, true);
                }
            }
            "func" => self.func_value(data, TypeSource::Closure),
            "unsafe.Pointer" => {}
            // A one-pointer struct or array is stored directly too: ambiguous, skipped.
            "struct" | "array" if t.size == 8 && t.ptr_bytes == 8 => {}
            _ => {
                if let Some(ti) = self.type_index(typ) {
                    self.assign(data, ti, how, true);
                }
            }
        }
    }

    /// The span index and slot bit of the reachable, not yet typed object `v` points into.
    fn untyped_slot(&self, v: u64) -> Option<(usize, u64)> {
        let i = self.lookup.span(v)?;
        let s = &self.spans[i];
        let slot = (v - s.base) / s.elemsize;
        if slot >= u64::from(s.nelems) {
            return None;
        }
        let b = s.bit + slot;
        (bit(self.alloc, b) && bit(self.marks, b) && self.out.slot_type[b as usize] == 0)
            .then_some((i, b))
    }

    /// Type the reachable object `v` points into as the type with index `ti`
    /// ([`STRING_DATA_INDEX`]: string data), when that is consistent with the slot and the
    /// object has no type yet.
    fn assign(&mut self, v: u64, ti: u32, how: TypeSource, exact: bool) {
        let spans = self.spans;
        let Some((i, b)) = self.untyped_slot(v) else {
            return;
        };
        let s = &spans[i];
        let slot = b - s.bit;
        let start = s.base + slot * s.elemsize;
        let info = &self.out.types[ti as usize];
        // The tiny span class packs several small noscan objects in one block, but an object
        // that fills the slot from its start is alone in it (tiny allocations are smaller).
        let fills = info.size == s.elemsize && v == start;
        if (s.spanclass == self.tiny_class && !fills) || self.has_stored_type(s) {
            return;
        }
        let scan = s.spanclass & 1 == 0;
        if info.size > s.elemsize || (info.pseudo == Pseudo::No && (info.ptr_bytes > 0) != scan) {
            return;
        }
        let off = v - start;
        if (exact && off != 0) || !off.is_multiple_of(info.size) {
            return;
        }
        let (elemsize, has_ptrs) = (s.elemsize, info.ptr_bytes > 0);
        self.set(b, ti, how, elemsize);
        if has_ptrs {
            self.work.push((start, elemsize, ti));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_single_and_multi_element_objects() {
        let t = TypeInfo {
            addr: 1,
            name: "main.node".into(),
            size: 48,
            ptr_bytes: 8,
            pseudo: Pseudo::No,
        };
        assert_eq!(display_name(&t, false), "main.node");
        assert_eq!(display_name(&t, true), "[]main.node");
    }

    #[test]
    fn source_names_follow_their_order() {
        for (i, s) in TypeSource::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
        assert_eq!(TypeSource::Iface.name(), "iface");
    }
}
