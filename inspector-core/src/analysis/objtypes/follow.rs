//! Following maps, channels and closures during type propagation. The runtime's own
//! structures have no type descriptor a map or chan word leads to, so they get pseudo-types
//! ([`Pseudo`]) named after the map or channel type (`K`, `V`, `E` are Go type names):
//!
//! | name | object | layout from |
//! |---|---|---|
//! | `map.hdr[K]V` | `runtime.hmap` (≤ 1.23), `internal/runtime/maps.Map` (1.24+) | DWARF |
//! | `map.bucket[K]V` (`[]…` for an array) | buckets, real descriptor `MapType.Bucket` | the descriptor |
//! | `map.extra[K]V`, `map.overflow[K]V`, `[]*map.bucket[K]V` | `mapextra`, its `*[]*bmap`, the slice's array (pointer-free buckets' overflow) | DWARF |
//! | `map.group[K]V` (`[]…` for an array) | a small map's group, a table's groups, real descriptor `MapType.Group` | the descriptor |
//! | `map.dir[K]V`, `map.table[K]V` | the directory (`dirLen` `*table`s), `maps.table` | DWARF |
//! | `chan.hdr[E]` | `runtime.hchan` (its `buf`, when a separate object, holds `E`s) | DWARF |
//! | `func F` | a closure object of function `F` (pclntab name) | DWARF closure offsets, else the descriptor the code allocates it with (amd64) |
//!
//! Keys and values are typed through the real bucket and group descriptors (indirect keys and
//! elements are `*K`/`*V` slots there). A bucket's `overflow` word types the next bucket.
//!
//! Closures: the object is `struct { F uintptr; captured... }`, each captured variable by value
//! (`T`) or by reference (`*T`), laid out by the compiler's `ClosureStructIter`. Go 1.23+ give
//! each captured variable of the closure function a `DW_AT_go_closure_offset`, with the slot's
//! type (a variable captured by reference is the `&x` of pointer type). Where DWARF gives a
//! closure function no offsets (all of Go 1.21–1.22), its closures are typed by the struct's
//! own descriptor, found in the amd64 code that makes them ([`closure_sites`]): each
//! RIP-relative `lea` of the function's entry (the text is scanned once, on the first such
//! closure met) is a candidate site; the nearest RIP-relative `lea` within 64 bytes before it that
//! targets the module's type range and is followed by a call to `runtime.newobject` (or a
//! `runtime.mallocgc…` variant) names the descriptor. It must be a struct of first field
//! `F uintptr` at offset 0 (misaligned matches fail this); every site must agree on it (none
//! validating, or two descriptors, leave the captures unknown, counted in
//! [`ObjectTypes::closures_uncaptured`](super::ObjectTypes)); each object must fit its
//! slot and its span's scan/noscan class must match the descriptor's pointers. The object is
//! still named `func F`; its words are typed by the descriptor's fields. On the Go 1.23–1.27
//! test cores the descriptors agree with DWARF on every slot DWARF describes and add one it
//! omits (a generic closure's dictionary pointer, into read-only data); DWARF stays first
//! where it has offsets. Method values
//! (`-fm`, `struct { F uintptr; R T }`) are named and typed the same way; func values in
//! read-only data (top-level functions) are not heap objects and are skipped.

use std::collections::HashMap;
use std::sync::Arc;

use super::closure_sites;
use super::registry::Registry;
use super::{Edge, Pseudo, Resolved, TypeInfo, TypeSource, Worker};
use crate::binary::dwarf::{DwarfIndex, VariableType};
use crate::binary::pclntab::Pclntab;
use crate::runtime::layout::{ContainerLayouts, MapLayout};
use crate::runtime::types::TypeReader;
use crate::target::MemoryExt;

/// What following maps, channels and closures needs; a missing part leaves those objects
/// unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Followers<'a> {
    pub containers: Option<&'a ContainerLayouts>,
    /// Names closures by their function.
    pub pclntab: Option<&'a Pclntab>,
    /// Closure variables' offsets and types (Go 1.23+).
    pub dwarf: Option<&'a DwarfIndex>,
    /// Load bias: runtime address − link-time address (PIE).
    pub bias: u64,
    /// The module's text (runtime addresses), scanned for where closures are made when DWARF
    /// has no closure offsets; amd64 only (empty: not scanned).
    pub text: (u64, u64),
}

/// A closure function's pseudo-type, and whether its captures came from a descriptor with
/// (`Some(true)`) or without pointers: its objects' span class must match.
type ClosureType = Option<(u32, Option<bool>)>;

/// Pseudo-types made so far.
pub(super) struct State<'a> {
    f: Followers<'a>,
    /// By map type descriptor: the header's pseudo-type (`None`: layout unknown).
    maps: HashMap<u64, Option<u32>>,
    /// By chan type descriptor.
    chans: HashMap<u64, Option<u32>>,
    /// By function entry (link-time).
    closures: HashMap<u64, ClosureType>,
    /// Captured variables by closure entry (link-time), read from DWARF on first use.
    closure_vars: Option<HashMap<u64, Vec<(u64, VariableType)>>>,
    /// RIP-relative `lea`s into the text: (target, address), scanned on first use.
    text_leas: Option<Vec<(u64, u64)>>,
    /// Closure functions whose captures stay unknown.
    pub(super) uncaptured: u64,
}

impl<'a> State<'a> {
    pub(super) fn new(f: &Followers<'a>) -> State<'a> {
        State {
            f: *f,
            maps: HashMap::new(),
            chans: HashMap::new(),
            closures: HashMap::new(),
            closure_vars: None,
            text_leas: None,
            uncaptured: 0,
        }
    }
}

/// `[K]V` of `map[K]V`.
fn map_kv(name: &str) -> Option<&str> {
    name.strip_prefix("map").filter(|r| r.starts_with('['))
}

impl Registry<'_> {
    /// Add a pseudo-type with its edges.
    fn pseudo(
        &mut self,
        name: String,
        size: u64,
        kind: Pseudo,
        edges: Vec<(u64, Resolved)>,
    ) -> u32 {
        let ti = self.types.len() as u32;
        self.types.push(TypeInfo {
            addr: 0,
            name,
            size: size.max(1),
            ptr_bytes: if edges.is_empty() { 0 } else { size.max(1) },
            pseudo: kind,
        });
        let i = ti as usize;
        if self.edges.len() <= i {
            self.edges.resize(i + 1, None);
        }
        self.edges[i] = Some(Arc::new(edges));
        ti
    }

    /// The edge of a map word of the map type at `mt`: its header's pseudo-type.
    pub(super) fn map_edge(&mut self, mt: u64) -> Resolved {
        if let Some(&t) = self.follow.maps.get(&mt) {
            return Resolved::To(t, TypeSource::Map);
        }
        let t = self.map_header(mt);
        self.follow.maps.insert(mt, t);
        Resolved::To(t, TypeSource::Map)
    }

    fn map_header(&mut self, mt: u64) -> Option<u32> {
        let l = self.follow.f.containers?.map.clone()?;
        let name = self.tr.read(mt).ok()?.name?;
        let kv = map_kv(&name)?.to_string();
        let to = |t: u32| Resolved::To(Some(t), TypeSource::Map);
        match l {
            MapLayout::Buckets {
                maptype_bucket,
                hmap_size,
                buckets,
                oldbuckets,
                extra,
                mapextra_size,
                overflow,
                oldoverflow,
            } => {
                let b = self.mem.read_ptr(mt + maptype_bucket.offset).ok()?;
                let bucket = self.type_index(b)?;
                let arr = self.pseudo(
                    format!("[]*map.bucket{kv}"),
                    8,
                    Pseudo::Each,
                    vec![(0, to(bucket))],
                );
                let ovf = self.pseudo(
                    format!("map.overflow{kv}"),
                    24,
                    Pseudo::One,
                    vec![(0, to(arr))],
                );
                let ext = self.pseudo(
                    format!("map.extra{kv}"),
                    mapextra_size,
                    Pseudo::One,
                    vec![(overflow.offset, to(ovf)), (oldoverflow.offset, to(ovf))],
                );
                Some(self.pseudo(
                    format!("map.hdr{kv}"),
                    hmap_size,
                    Pseudo::One,
                    vec![
                        (buckets.offset, to(bucket)),
                        (oldbuckets.offset, to(bucket)),
                        (extra.offset, to(ext)),
                    ],
                ))
            }
            MapLayout::Swiss {
                maptype_group,
                map_size,
                dir_ptr,
                dir_len,
                table_size,
                groups_data,
            } => {
                let g = self.mem.read_ptr(mt + maptype_group.offset).ok()?;
                let group = self.type_index(g)?;
                let table = self.pseudo(
                    format!("map.table{kv}"),
                    table_size,
                    Pseudo::One,
                    vec![(groups_data.offset, to(group))],
                );
                let dir = self.pseudo(
                    format!("map.dir{kv}"),
                    8,
                    Pseudo::Each,
                    vec![(0, to(table))],
                );
                Some(self.pseudo(
                    format!("map.hdr{kv}"),
                    map_size,
                    Pseudo::One,
                    vec![(
                        dir_ptr.offset,
                        Resolved::SwissDir {
                            len_at: dir_len.offset,
                            group: Some(group),
                            dir: Some(dir),
                        },
                    )],
                ))
            }
        }
    }

    /// The `hchan` pseudo-type of the chan type at `ct`.
    pub(super) fn chan_header(&mut self, ct: u64) -> Option<u32> {
        if let Some(&t) = self.follow.chans.get(&ct) {
            return t;
        }
        let t = (|| {
            let l = self.follow.f.containers?.chan.clone()?;
            let elem = self.mem.read_ptr(ct + l.chantype_elem.offset).ok()?;
            let ename = self.tr.read(elem).ok()?.name?;
            let edges = match self.type_index(elem) {
                Some(e) if self.types[e as usize].ptr_bytes > 0 => {
                    vec![(l.buf.offset, Resolved::To(Some(e), TypeSource::Chan))]
                }
                _ => Vec::new(),
            };
            Some(self.pseudo(
                format!("chan.hdr[{ename}]"),
                l.hchan_size,
                Pseudo::One,
                edges,
            ))
        })();
        self.follow.chans.insert(ct, t);
        t
    }

    /// The closure pseudo-type of the function at `entry` (link-time), named `name()`.
    pub(super) fn closure(&mut self, entry: u64, name: impl FnOnce() -> String) -> ClosureType {
        if let Some(&t) = self.follow.closures.get(&entry) {
            return t;
        }
        let t = self.closure_type(entry, name());
        self.follow.closures.insert(entry, t);
        t
    }

    /// The pseudo-type of closures of the function at `entry` (link-time): captures from
    /// DWARF, else from the descriptor the code making them allocates them with.
    fn closure_type(&mut self, entry: u64, name: String) -> ClosureType {
        if self.follow.closure_vars.is_none() {
            let mut m: HashMap<u64, Vec<(u64, VariableType)>> = HashMap::new();
            if let Some(d) = self.follow.f.dwarf {
                for (pc, off, t) in d.closure_vars() {
                    m.entry(pc).or_default().push((off, t));
                }
            }
            self.follow.closure_vars = Some(m);
        }
        let vars = self
            .follow
            .closure_vars
            .as_ref()
            .and_then(|m| m.get(&entry))
            .cloned()
            .unwrap_or_default();
        let mut raw = Vec::new();
        if vars.is_empty() {
            let Some(d) = self.closure_struct(entry) else {
                self.follow.uncaptured += 1;
                return Some((self.pseudo(name, 8, Pseudo::One, Vec::new()), None));
            };
            let g = self.tr.read(d).ok()?;
            self.collect(d, 0, 0, &mut raw);
            let edges = self.resolve_edges(raw);
            let t = self.pseudo(name, g.size, Pseudo::One, edges);
            return Some((t, Some(g.ptr_bytes > 0)));
        }
        let base = self.tr.types_base();
        let mut size = 8;
        for (off, t) in vars {
            match t {
                VariableType::Type(t) => {
                    let Ok(g) = self.tr.read(base + t) else {
                        continue;
                    };
                    size = size.max(off + g.size);
                    self.collect(base + t, off, 0, &mut raw);
                }
                VariableType::SliceOf(e) => {
                    size = size.max(off + 24);
                    raw.push((off, Edge::Slice(base + e)));
                }
            }
        }
        let edges = self.resolve_edges(raw);
        Some((self.pseudo(name, size, Pseudo::One, edges), None))
    }

    /// The descriptor (runtime address) the closures of the function at `entry` (link-time)
    /// are allocated with, when every site making them that validates names the same one.
    fn closure_struct(&mut self, entry: u64) -> Option<u64> {
        let f = self.follow.f;
        let (lo, hi) = f.text;
        if lo >= hi {
            return None;
        }
        let mem = self.mem;
        let leas = self.follow.text_leas.get_or_insert_with(|| {
            mem.bytes(lo, (hi - lo) as usize)
                .map(|code| closure_sites::leas_into(&code, lo, lo, hi))
                .unwrap_or_default()
        });
        let target = entry.wrapping_add(f.bias);
        let first = leas.partition_point(|&(t, _)| t < target);
        let sites: Vec<u64> = leas[first..]
            .iter()
            .take_while(|&&(t, _)| t == target)
            .map(|&(_, at)| at)
            .collect();
        let tr = self.tr;
        let is_alloc = |a: u64| {
            f.pclntab.is_some_and(|tab| {
                a.checked_sub(f.bias)
                    .and_then(|pc| tab.find_func(pc).filter(|func| func.entry == pc))
                    .is_some_and(|func| {
                        let n = tab.func_name(&func);
                        n == "runtime.newobject" || n.starts_with("runtime.mallocgc")
                    })
            })
        };
        let mut found = None;
        for at in sites {
            let start = at.saturating_sub(closure_sites::WINDOW as u64).max(lo);
            let Ok(code) = mem.bytes(start, (at - start) as usize) else {
                continue;
            };
            let cands =
                closure_sites::type_leas_before(&code, start, |t| tr.in_module(t), is_alloc);
            let Some(d) = cands.into_iter().find(|&d| is_closure_struct(tr, d)) else {
                continue;
            };
            match found {
                Some(o) if o != d => return None,
                _ => found = Some(d),
            }
        }
        found
    }
}

/// Whether the descriptor at `d` is a closure's: a struct whose first field is `F uintptr`
/// at offset 0, every field within its size.
fn is_closure_struct(tr: &TypeReader<'_>, d: u64) -> bool {
    let Ok(g) = tr.read(d) else { return false };
    if g.kind != "struct" || g.size < 8 {
        return false;
    }
    let Ok(fields) = tr.struct_fields(&g) else {
        return false;
    };
    let Some(f0) = fields.first() else {
        return false;
    };
    f0.name == "F"
        && f0.offset == 0
        && tr.read(f0.typ).is_ok_and(|t| t.kind == "uintptr")
        && fields.iter().all(|f| {
            f.offset < g.size
                && tr
                    .read(f.typ)
                    .is_ok_and(|t| f.offset.saturating_add(t.size) <= g.size)
        })
}

impl Worker<'_, '_> {
    /// A func value `v`: when it points at a reachable untyped heap object, that object is a
    /// closure (or method value) of the function its first word enters.
    pub(super) fn func_value(&mut self, v: u64, how: TypeSource) {
        let Some((span, _)) = self.untyped_slot(v) else {
            return;
        };
        let f = self.sh.followers;
        let Some(tab) = f.pclntab else {
            self.skipped += 1;
            return;
        };
        let Ok(pc) = self.sh.mem.read_ptr(v) else {
            return;
        };
        let Some(func) = pc
            .checked_sub(f.bias)
            .and_then(|pc| tab.find_func(pc).filter(|func| func.entry == pc))
        else {
            return;
        };
        let t = self
            .reg()
            .closure(func.entry, || format!("func {}", tab.func_name(&func)));
        let Some((t, ptrs)) = t else { return };
        // Captures typed by a descriptor: the span's scan/noscan class must agree.
        if ptrs.is_some_and(|p| p != (self.sh.spans[span].spanclass & 1 == 0)) {
            self.skipped += 1;
            return;
        }
        self.assign(v, t, how, true);
    }
}

#[cfg(test)]
mod tests_support {
    pub(super) fn words(w: &[u64]) -> Vec<u8> {
        w.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// An `abi.Type` (48 bytes, as in `types.rs`' tests) plus kind-specific words.
    pub(super) fn ty(size: u64, ptr: u64, kind: u8, name_off: u32, extra: &[u64]) -> Vec<u8> {
        let mut v = words(&[size, ptr]);
        v.extend([0, 0, 0, 0, 0, 8, 8, kind]);
        v.extend(words(&[0, 0]));
        v.extend(name_off.to_le_bytes());
        v.extend(0u32.to_le_bytes());
        v.extend(words(extra));
        v
    }

    pub(super) fn name(s: &str) -> Vec<u8> {
        let mut v = vec![0, s.len() as u8];
        v.extend(s.as_bytes());
        v
    }

    pub(super) const A0: u64 = 0xc0_0000_0000;

    /// A one-page span of `nelems` slots of `elemsize` bytes, its first slot at `bit`.
    pub(super) fn span(
        base: u64,
        elemsize: u64,
        nelems: u32,
        class: u8,
        bit: u64,
    ) -> crate::analysis::mark::SpanMeta {
        crate::analysis::mark::SpanMeta {
            base,
            elemsize,
            nelems,
            npages: 1,
            spanclass: class,
            bit,
            large_type: 0,
            div_mul: 0,
        }
    }

    pub(super) fn consts() -> crate::runtime::layout::Consts {
        crate::analysis::mark::test_consts()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{compute, ObjectTypes};
    use super::tests_support::*;
    use super::*;
    use crate::analysis::mark::Reach;
    use crate::runtime::layout::{ChanLayout, Field};
    use crate::runtime::objects::test_layouts;
    use crate::runtime::types::TypeReader;
    use crate::target::VecMemory;

    /// Types at 0x10000 (names at 0x10000 + offset); a Swiss small map, a Swiss map with a
    /// one-table directory and a channel, held by three globals at 0x40000; heap at `A0`.
    fn target() -> (VecMemory, Reach) {
        let mut m = VecMemory::new();
        let (int, k, pk, g, mt, ct) = (0x11000, 0x11100, 0x11200, 0x11300, 0x11400, 0x11500);
        for (at, n) in [
            (0x100, "int"),
            (0x200, "main.K"),
            (0x300, "*main.K"),
            (0x400, "map.group[*main.K]*main.K"),
            (0x500, "map[*main.K]*main.K"),
            (0x600, "chan *main.K"),
            (0x700, "ctrl"),
            (0x800, "key"),
            (0x900, "elem"),
        ] {
            m.add(0x10000 + at, name(n));
        }
        m.add(int, ty(8, 0, 2, 0x100, &[]));
        m.add(k, ty(16, 0, 25, 0x200, &[0, 0, 0, 0]));
        m.add(pk, ty(8, 8, 22, 0x300, &[k]));
        // group { ctrl int; key *K; elem *K }.
        m.add(g, ty(24, 24, 25, 0x400, &[0, 0x12000, 3, 3]));
        m.add(
            0x12000,
            words(&[0x10700, int, 0, 0x10800, pk, 8, 0x10900, pk, 16]),
        );
        // MapType { Type; Key; Elem; Group }, ChanType { Type; Elem }.
        m.add(mt, ty(8, 8, 21, 0x500, &[pk, pk, g]));
        m.add(ct, ty(8, 8, 18, 0x600, &[pk]));
        let (s0, s1, s2, s3, s4) = (A0, A0 + 0x2000, A0 + 0x4000, A0 + 0x6000, A0 + 0x8000);
        m.add(0x40000, words(&[s0, s0 + 2 * 48, s3]));
        // Headers (used, seed, dirPtr, dirLen, ...), the directory, the table.
        let mut s0b = words(&[0, 0, s1, 0, 0, 0]);
        s0b.extend(vec![0; 48]);
        s0b.extend(words(&[0, 0, s0 + 3 * 48, 1, 0, 0]));
        s0b.extend(words(&[s0 + 4 * 48, 0, 0, 0, 0, 0]));
        s0b.extend(words(&[0, 0, s1 + 24, 0, 0, 0]));
        s0b.resize(8 * 48, 0);
        m.add(s0, s0b);
        // Groups: the small map's (K0 → K1), the table's (K2 → nil).
        m.add(s1, words(&[0, s2, s2 + 16, 0, s2 + 32, 0, 0, 0, 0]));
        m.add(s2, vec![0; 8 * 16]);
        // hchan: buf at 16 → a buffer of two *K (K3, nil).
        let mut hc = words(&[1, 2, s4]);
        hc.resize(2 * 96, 0);
        m.add(s3, hc);
        m.add(s4, words(&[s2 + 48, 0, 0, 0, 0, 0, 0, 0]));
        let spans = vec![
            span(s0, 48, 8, 10, 0),
            span(s1, 24, 8, 6, 8),
            span(s2, 16, 8, 5, 16),
            span(s3, 96, 2, 18, 24),
            span(s4, 16, 8, 4, 26),
        ];
        let alloc = [0, 1, 2, 3, 4, 8, 9, 16, 17, 18, 19, 24, 26]
            .iter()
            .fold(0u64, |a, b| a | 1 << b);
        let c = consts();
        (m, Reach::synthetic(spans, vec![A0], &c, vec![alloc]))
    }

    fn types(followers: bool) -> (ObjectTypes, Reach) {
        let (m, reach) = target();
        let mut l = test_layouts();
        l.consts
            .kinds
            .extend([(21, "map"), (18, "chan"), (19, "func")]);
        let tr = TypeReader::new(&m, &l, 0x10000, 0x20000, 0);
        let f = |offset| Field { offset, size: 8 };
        let cl = ContainerLayouts {
            map: Some(MapLayout::Swiss {
                maptype_group: f(64),
                map_size: 48,
                dir_ptr: f(16),
                dir_len: f(24),
                table_size: 32,
                groups_data: f(16),
            }),
            chan: Some(ChanLayout {
                chantype_elem: f(48),
                hchan_size: 96,
                buf: f(16),
            }),
        };
        let globals = [
            (0x40000, 8, VariableType::Type(0x1400)),
            (0x40008, 8, VariableType::Type(0x1400)),
            (0x40010, 8, VariableType::Type(0x1500)),
        ];
        let fl = Followers {
            containers: followers.then_some(&cl),
            ..Followers::default()
        };
        let t = compute(&m, &tr, &l.consts, &reach, &globals, &[], &fl);
        (t, reach)
    }

    #[test]
    fn swiss_maps_and_channels_type_their_objects() {
        let (t, reach) = types(true);
        let name = |a: u64| t.type_of(&reach, a).map(|(n, h)| (n, h.name()));
        let n = |s: &str, h: &'static str| Some((s.to_string(), h));
        let kv = "[*main.K]*main.K";
        assert_eq!(name(A0), n(&format!("map.hdr{kv}"), "global"));
        assert_eq!(name(A0 + 0x2000), n(&format!("map.group{kv}"), "map"));
        assert_eq!(name(A0 + 96), n(&format!("map.hdr{kv}"), "global"));
        assert_eq!(name(A0 + 144), n(&format!("map.dir{kv}"), "map"));
        assert_eq!(name(A0 + 192), n(&format!("map.table{kv}"), "map"));
        assert_eq!(name(A0 + 0x2000 + 24), n(&format!("map.group{kv}"), "map"));
        // Keys and values: 16-byte objects filling tiny-class slots.
        for i in 0..3 {
            assert_eq!(name(A0 + 0x4000 + 16 * i), n("main.K", "field"), "K{i}");
        }
        assert_eq!(name(A0 + 0x6000), n("chan.hdr[*main.K]", "global"));
        assert_eq!(name(A0 + 0x8000), n("[]*main.K", "chan"));
        assert_eq!(name(A0 + 0x4000 + 48), n("main.K", "field"));
        assert_eq!(t.skipped, 0);
        assert_eq!(t.by_source[TypeSource::Map as usize], 4);
    }

    #[test]
    fn without_layouts_maps_and_channels_stay_unknown() {
        let (t, reach) = types(false);
        for a in [A0, A0 + 0x2000, A0 + 0x4000, A0 + 0x6000, A0 + 0x8000] {
            assert_eq!(t.type_of(&reach, a), None, "{a:#x}");
        }
        assert_eq!(t.skipped, 3, "two maps and a channel skipped");
    }
}

#[cfg(test)]
mod bucket_tests {
    use super::super::compute;
    use super::tests_support::*;
    use super::*;
    use crate::analysis::mark::Reach;
    use crate::runtime::layout::Field;
    use crate::runtime::objects::test_layouts;
    use crate::runtime::types::TypeReader;
    use crate::target::VecMemory;

    /// A bucket map: header → an array of two buckets, the first chained to an overflow
    /// bucket; `extra.overflow` → slice header → array → another bucket.
    #[test]
    fn bucket_maps_type_buckets_overflow_and_extra() {
        let mut m = VecMemory::new();
        let (int, k, pk, b, mt, up) = (0x11000, 0x11100, 0x11200, 0x11300, 0x11400, 0x11600);
        for (at, n) in [
            (0x100, "int"),
            (0x200, "main.K"),
            (0x300, "*main.K"),
            (0x400, "map.bucket[*main.K]*main.K"),
            (0x500, "map[*main.K]*main.K"),
            (0x600, "unsafe.Pointer"),
            (0x700, "topbits"),
            (0x800, "keys"),
            (0x900, "elems"),
            (0xa00, "overflow"),
        ] {
            m.add(0x10000 + at, name(n));
        }
        m.add(int, ty(8, 0, 2, 0x100, &[]));
        m.add(k, ty(16, 0, 25, 0x200, &[0, 0, 0, 0]));
        m.add(pk, ty(8, 8, 22, 0x300, &[k]));
        m.add(up, ty(8, 8, 26, 0x600, &[]));
        // bucket { topbits int; keys *K; elems *K; overflow unsafe.Pointer }.
        m.add(b, ty(32, 32, 25, 0x400, &[0, 0x12000, 4, 4]));
        m.add(
            0x12000,
            words(&[
                0x10700, int, 0, 0x10800, pk, 8, 0x10900, pk, 16, 0x10a00, up, 24,
            ]),
        );
        // MapType { Type; Key; Elem; Bucket }.
        m.add(mt, ty(8, 8, 21, 0x500, &[pk, pk, b]));
        let (s0, s1, s2, s3, s4) = (A0, A0 + 0x2000, A0 + 0x4000, A0 + 0x6000, A0 + 0x8000);
        m.add(0x40000, words(&[s0]));
        // s0 (48 B): hmap {count, flags.., hash0, buckets, oldbuckets, nevacuate, extra};
        // mapextra {overflow, oldoverflow, nextOverflow}; the *[]*bmap slice header.
        let mut s0b = words(&[1, 0, s1, 0, 0, s0 + 48]);
        s0b.extend(words(&[s0 + 96, 0, 0, 0, 0, 0]));
        s0b.extend(words(&[s3, 1, 1, 0, 0, 0]));
        m.add(s0, s0b);
        // s1 (64 B): two buckets, the first → K0, K1, overflow → s4.
        m.add(s1, words(&[0, s2 + 0x100, s2 + 0x110, s4, 0, 0, 0, 0]));
        // s2 (16 B): keys at s2 + 0x100...; s4 (32 B): buckets.
        m.add(s2, vec![0; 0x1000]);
        m.add(s4, vec![0; 0x100]);
        // s3 (16 B): the overflow slice's array → the second bucket of s4.
        m.add(s3, words(&[s4 + 0x20, 0]));
        let spans = vec![
            span(s0, 48, 8, 10, 0),
            span(s1, 64, 8, 12, 8),
            span(s2, 16, 256, 5, 16),
            span(s3, 16, 8, 4, 272),
            span(s4, 32, 8, 8, 280),
        ];
        let mut alloc = vec![0u64; 5];
        for b in [0, 1, 2, 8, 16 + 16, 16 + 17, 272, 280, 281] {
            alloc[b / 64] |= 1 << (b % 64);
        }
        let reach = Reach::synthetic(spans, vec![A0], &consts(), alloc);
        let mut l = test_layouts();
        l.consts.kinds.extend([(21, "map"), (26, "unsafe.Pointer")]);
        let tr = TypeReader::new(&m, &l, 0x10000, 0x20000, 0);
        let f = |offset| Field { offset, size: 8 };
        let cl = ContainerLayouts {
            map: Some(MapLayout::Buckets {
                maptype_bucket: f(64),
                hmap_size: 48,
                buckets: f(16),
                oldbuckets: f(24),
                extra: f(40),
                mapextra_size: 24,
                overflow: f(0),
                oldoverflow: f(8),
            }),
            chan: None,
        };
        let fl = Followers {
            containers: Some(&cl),
            ..Followers::default()
        };
        let globals = [(0x40000, 8, VariableType::Type(0x1400))];
        let t = compute(&m, &tr, &l.consts, &reach, &globals, &[], &fl);
        let name = |a: u64| t.type_of(&reach, a).map(|(n, h)| (n, h.name()));
        let n = |s: &str, h: &'static str| Some((s.to_string(), h));
        let kv = "[*main.K]*main.K";
        assert_eq!(name(s0), n(&format!("map.hdr{kv}"), "global"));
        assert_eq!(name(s1), n(&format!("[]map.bucket{kv}"), "map"));
        assert_eq!(name(s4), n(&format!("map.bucket{kv}"), "field"));
        assert_eq!(name(s0 + 48), n(&format!("map.extra{kv}"), "map"));
        assert_eq!(name(s0 + 96), n(&format!("map.overflow{kv}"), "map"));
        assert_eq!(name(s3), n(&format!("[]*map.bucket{kv}"), "map"));
        assert_eq!(name(s4 + 0x20), n(&format!("map.bucket{kv}"), "map"));
        assert_eq!(name(s2 + 0x100), n("main.K", "field"));
        assert_eq!(name(s2 + 0x110), n("main.K", "field"));
    }
}

#[cfg(test)]
mod closure_tests {
    use super::super::closure_sites::type_leas_before;
    use super::is_closure_struct;
    use super::tests_support::*;
    use crate::runtime::objects::test_layouts;
    use crate::runtime::types::TypeReader;
    use crate::target::VecMemory;

    /// Code at 0x1037 making a closure: the true `lea` of its descriptor, then an instruction
    /// whose bytes hold a misaligned `lea` (nearer the site) of another struct's descriptor,
    /// then the allocator call; the closure entry's `lea` would follow.
    #[test]
    fn the_nearest_validating_descriptor_is_taken() {
        let mut m = VecMemory::new();
        let (uptr, k, pk, clo) = (0x11000, 0x11100, 0x11200, 0x11700);
        for (at, n) in [
            (0x100, "uintptr"),
            (0x200, "main.K"),
            (0x300, "*main.K"),
            (0x400, "struct { F uintptr; X0 *main.K }"),
            (0x500, "F"),
            (0x600, "X0"),
            (0x700, "a"),
        ] {
            m.add(0x10000 + at, name(n));
        }
        m.add(uptr, ty(8, 0, 12, 0x100, &[]));
        // main.K { a uintptr; b uintptr }: a struct, but not a closure's.
        m.add(k, ty(16, 0, 25, 0x200, &[0, 0x12000, 2, 2]));
        m.add(0x12000, words(&[0x10700, uptr, 0, 0x10700, uptr, 8]));
        m.add(pk, ty(8, 8, 22, 0x300, &[k]));
        m.add(clo, ty(16, 16, 25, 0x400, &[0, 0x12100, 2, 2]));
        m.add(0x12100, words(&[0x10500, uptr, 0, 0x10600, pk, 8]));
        let mut l = test_layouts();
        l.consts.kinds.push((12, "uintptr"));
        let tr = TypeReader::new(&m, &l, 0x10000, 0x20000, 0);

        let base = 0x1037;
        let mut code = vec![0x48, 0x8d, 0x05, 0xc2, 0x06, 0x01, 0x00]; // lea clo(%rip),%rax
        code.extend([0xb8, 0x00, 0x48, 0x8d, 0x05]); // mov $0x58d4800,%eax
        code.extend([0xb9, 0x00, 0x01, 0x00, 0x00]); // mov $0x100,%ecx
        code.extend([0xe8, 0xb3, 0x0f, 0x00, 0x00]); // call 0x2000 (the allocator)
        let cands = type_leas_before(&code, base, |t| tr.in_module(t), |f| f == 0x2000);
        // Nearest first: the misaligned match (main.K at 0x11100), then the true lea.
        assert_eq!(cands, vec![k, clo]);
        assert!(!is_closure_struct(&tr, k), "main.K's first field is not F");
        assert!(!is_closure_struct(&tr, pk), "not a struct");
        assert!(is_closure_struct(&tr, clo));
        assert_eq!(
            cands.into_iter().find(|&d| is_closure_struct(&tr, d)),
            Some(clo)
        );
    }
}
