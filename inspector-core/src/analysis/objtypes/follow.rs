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
//! | `func F` | a closure object of function `F` (pclntab name) | DWARF closure offsets |
//!
//! Keys and values are typed through the real bucket and group descriptors (indirect keys and
//! elements are `*K`/`*V` slots there). A bucket's `overflow` word types the next bucket.
//!
//! Closures: the object is `struct { F uintptr; captured... }`, each captured variable by value
//! (`T`) or by reference (`*T`), laid out by the compiler's `ClosureStructIter`. Go 1.23+ give
//! each captured variable of the closure function a `DW_AT_go_closure_offset`, with the slot's
//! type (a variable captured by reference is the `&x` of pointer type). Go 1.21–1.22 emit no
//! offsets: their closures are named but what they capture stays unknown (no guessing).
//! Method values (`-fm`) are named the same way; func values in read-only data (top-level
//! functions) are not heap objects and are skipped.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Edge, Pseudo, Resolved, TypeInfo, TypeSource, Typer};
use crate::binary::dwarf::{DwarfIndex, VariableType};
use crate::binary::pclntab::Pclntab;
use crate::runtime::layout::{ContainerLayouts, MapLayout};
use crate::runtime::types::GoType;
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
}

/// Pseudo-types made so far.
pub(super) struct State<'a> {
    f: Followers<'a>,
    /// By map type descriptor: the header's pseudo-type (`None`: layout unknown).
    maps: HashMap<u64, Option<u32>>,
    /// By chan type descriptor.
    chans: HashMap<u64, Option<u32>>,
    /// By function entry (link-time).
    closures: HashMap<u64, Option<u32>>,
    /// Captured variables by closure entry (link-time), read from DWARF on first use.
    closure_vars: Option<HashMap<u64, Vec<(u64, VariableType)>>>,
}

impl<'a> State<'a> {
    pub(super) fn new(f: &Followers<'a>) -> State<'a> {
        State {
            f: *f,
            maps: HashMap::new(),
            chans: HashMap::new(),
            closures: HashMap::new(),
            closure_vars: None,
        }
    }
}

/// `[K]V` of `map[K]V`.
fn map_kv(name: &str) -> Option<&str> {
    name.strip_prefix("map").filter(|r| r.starts_with('['))
}

impl Typer<'_> {
    /// Add a pseudo-type with its edges.
    fn pseudo(
        &mut self,
        name: String,
        size: u64,
        kind: Pseudo,
        edges: Vec<(u64, Resolved)>,
    ) -> u32 {
        let ti = self.out.types.len() as u32;
        self.out.types.push(TypeInfo {
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

    /// Whether the interface type `t` has no methods (`None`: layout unknown).
    pub(super) fn iface_empty(&self, t: &GoType) -> Option<bool> {
        let m = self.follow.f.containers?.iface_methods?;
        let len = self.mem.read_u64(t.addr + m.offset + 8).ok()?;
        Some(len == 0)
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
                Some(e) if self.out.types[e as usize].ptr_bytes > 0 => {
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

    /// A func value `v`: when it points at a reachable untyped heap object, that object is a
    /// closure (or method value) of the function its first word points into.
    pub(super) fn func_value(&mut self, v: u64, how: TypeSource) {
        if self.untyped_slot(v).is_none() {
            return;
        }
        let Some(tab) = self.follow.f.pclntab else {
            self.out.skipped += 1;
            return;
        };
        let Ok(pc) = self.mem.read_ptr(v) else { return };
        let Some(f) = pc
            .checked_sub(self.follow.f.bias)
            .and_then(|pc| tab.find_func(pc))
            .filter(|f| f.entry == pc - self.follow.f.bias)
        else {
            return;
        };
        let t = match self.follow.closures.get(&f.entry) {
            Some(&t) => t,
            None => {
                let name = format!("func {}", tab.func_name(&f));
                let t = self.closure_type(f.entry, name);
                self.follow.closures.insert(f.entry, t);
                t
            }
        };
        if let Some(t) = t {
            self.assign(v, t, how, true);
        }
    }

    /// The pseudo-type of closures of the function at `entry` (link-time).
    fn closure_type(&mut self, entry: u64, name: String) -> Option<u32> {
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
        let base = self.tr.types_base();
        let mut raw = Vec::new();
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
        Some(self.pseudo(name, size, Pseudo::One, edges))
    }
}
