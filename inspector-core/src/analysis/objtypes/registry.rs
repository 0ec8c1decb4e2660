//! The type table shared by the propagation workers: type descriptors read once and given an
//! index, the typed edges of each type, and goheap's pseudo-types. Behind a mutex: workers
//! keep copies of what they need on the hot path (sizes, edges) and come here on a miss.

use std::collections::HashMap;
use std::sync::Arc;

use super::follow;
use super::{
    is_bucket_name, Edge, Edges, Pseudo, Resolved, TypeInfo, TypeSource, MAX_DEPTH, MAX_EDGES,
};
use crate::runtime::types::{GoType, TypeReader};
use crate::target::Memory;

/// Runtime map structures a typed pointer may lead to (a directory's `[]*maps.table` array
/// above 512 B carries its type in a malloc header; `*bmap` slices of overflow buckets).
const MAP_INTERNALS: [&str; 3] = [
    "internal/runtime/maps.table",
    "runtime.bmap",
    "runtime.hmap",
];

pub(super) struct Registry<'a> {
    pub(super) mem: &'a dyn Memory,
    pub(super) tr: &'a TypeReader<'a>,
    pub(super) types: Vec<TypeInfo>,
    /// Type descriptor address → index in `types` (`None`: unreadable or unnamed).
    index: HashMap<u64, Option<u32>>,
    /// Edges by type index (filled on first use).
    pub(super) edges: Vec<Option<Edges>>,
    pub(super) follow: follow::State<'a>,
}

impl<'a> Registry<'a> {
    pub(super) fn new(
        mem: &'a dyn Memory,
        tr: &'a TypeReader<'a>,
        types: Vec<TypeInfo>,
        follow: follow::State<'a>,
    ) -> Registry<'a> {
        Registry {
            mem,
            tr,
            types,
            index: HashMap::new(),
            edges: Vec::new(),
            follow,
        }
    }

    /// Index of the type at `addr` in the output table (read once).
    pub(super) fn type_index(&mut self, addr: u64) -> Option<u32> {
        if let Some(&i) = self.index.get(&addr) {
            return i;
        }
        let i = self.tr.read(addr).ok().and_then(|g: GoType| {
            let name = g.name?;
            (g.size > 0).then_some(())?;
            self.types.push(TypeInfo {
                addr,
                name,
                size: g.size,
                ptr_bytes: g.ptr_bytes,
                pseudo: Pseudo::No,
            });
            Some(self.types.len() as u32 - 1)
        });
        self.index.insert(addr, i);
        i
    }

    /// The typed edges of one value of the type at `addr`.
    pub(super) fn edges_of(&mut self, ti: u32) -> Edges {
        let i = ti as usize;
        if let Some(Some(e)) = self.edges.get(i) {
            return e.clone();
        }
        let mut raw = Vec::new();
        self.collect(self.types[i].addr, 0, 0, &mut raw);
        let e = Arc::new(self.resolve_edges(raw));
        if self.edges.len() <= i {
            self.edges.resize(i + 1, None);
        }
        self.edges[i] = Some(e.clone());
        e
    }

    /// Edges with their element types made type indices.
    pub(super) fn resolve_edges(&mut self, raw: Vec<(u64, Edge)>) -> Vec<(u64, Resolved)> {
        raw.into_iter()
            .map(|(off, e)| {
                let r = match e {
                    // Pointers to a map's runtime internals: typed through the map's header,
                    // which knows `K` and `V`.
                    Edge::Ptr(t) => Resolved::Ptr(self.type_index(t).filter(|&i| {
                        !MAP_INTERNALS.contains(&self.types[i as usize].name.as_str())
                    })),
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

    pub(super) fn collect(&self, addr: u64, base: u64, depth: u32, out: &mut Vec<(u64, Edge)>) {
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
            "interface" => {
                if let Ok(m) = self.tr.iface_has_methods(&t) {
                    out.push((base, Edge::Iface(m)));
                }
            }
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
}
