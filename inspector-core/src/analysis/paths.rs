//! Shortest paths from roots and referrers, named: the `paths` and `referrers` commands
//! answers, built on the breadth-first [`ParentTree`] ([`super::parent_tree`]) and the
//! [`super::referrers::ReverseIndex`].

use super::heapgraph::HeapGraph;
pub use super::parent_tree::{Parent, ParentTree, SlotPath};
use crate::target::Memory;

// ---- Named paths and referrers (the `paths` and `referrers` commands) ----

/// A heap object on a path or referring to one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectRef {
    /// The object's base address.
    pub addr: u64,
    /// Slot bytes.
    pub size: u64,
    /// Type name as `histogram` names it; unknown: `unknown (class N, S B)`.
    #[serde(rename = "type")]
    pub type_name: String,
}

/// A root on a path or referring to an object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RootRef {
    /// Index in `HeapGraph.roots.list`.
    #[serde(skip)]
    pub index: u32,
    pub kind: &'static str,
    pub name: String,
    pub addr: u64,
    /// The goroutine, for stack roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goroutine: Option<u64>,
    /// Stack roots: the names of the frame's DWARF variables typed in this root.
    pub variables: Vec<String>,
}

/// One heap object of a path, and the word of it that points at the next step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    #[serde(flatten)]
    pub object: ObjectRef,
    /// Field path of the word pointing at the next step (`.next`, `[3].p`, `+0x18`); empty
    /// for the target.
    pub field: String,
    /// Offset of that word from the object's base (`None` for the target).
    pub offset: Option<u64>,
}

/// A path from a root to the target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NamedPath {
    pub root: RootRef,
    /// The root's word pointing at the first step: offset from the root's address.
    #[serde(skip)]
    pub root_offset: u64,
    /// The field path of that word in the root (as [`Namer::root_field`] names it).
    pub root_field: String,
    /// From the object the root points at down to the target (the last step).
    pub steps: Vec<Step>,
    /// Steps of the whole path.
    pub length: usize,
    /// Steps left out after the first [`PATH_ENDS`] (a path longer than twice that).
    pub elided: Option<usize>,
}

/// What an address is, for the heap graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// A reachable object: its slot bit.
    Reachable(u64, ObjectRef),
    /// Allocated but unreachable.
    Garbage(ObjectRef),
    /// Not in an allocated heap slot.
    NotHeap,
}

/// One referrer word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferrerEntry {
    Object {
        object: ObjectRef,
        field: String,
        offset: u64,
    },
    Root {
        root: RootRef,
        field: String,
        offset: u64,
    },
}

/// The referrers of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrersAnswer {
    pub object: ObjectRef,
    /// Up to the limit asked, objects first (by address), then roots (in root order).
    pub entries: Vec<ReferrerEntry>,
    /// Every pointer word into the object.
    pub total: u64,
}

/// Names objects and fields of a heap graph.
pub struct Namer<'a> {
    pub graph: &'a HeapGraph,
    pub mem: &'a dyn Memory,
    pub types: crate::runtime::types::TypeReader<'a>,
    /// Field paths named so far: (type index, offset in the element) → path (a path's steps
    /// share a few types; searched linearly, bounded).
    fields: std::cell::RefCell<Vec<(u32, u64, String)>>,
    /// DWARF and the load bias, to name the fields of typed globals.
    dwarf: Option<(&'a crate::binary::dwarf::DwarfIndex, u64)>,
}

/// Field paths a [`Namer`] remembers.
const FIELD_CACHE: usize = 256;

/// Steps of a path shown at each end when it is longer than twice this.
pub const PATH_ENDS: usize = 1000;

impl<'a> Namer<'a> {
    pub fn new(
        graph: &'a HeapGraph,
        mem: &'a dyn Memory,
        types: crate::runtime::types::TypeReader<'a>,
    ) -> Namer<'a> {
        Namer {
            graph,
            mem,
            types,
            fields: std::cell::RefCell::new(Vec::new()),
            dwarf: None,
        }
    }

    /// Name the words of globals by their DWARF types (`bias`: the load bias).
    pub fn with_dwarf(
        mut self,
        dwarf: Option<&'a crate::binary::dwarf::DwarfIndex>,
        bias: u64,
    ) -> Namer<'a> {
        self.dwarf = dwarf.map(|d| (d, bias));
        self
    }

    /// The field path of the word at `off` bytes into root `index`: for a global typed by
    /// DWARF, from its type (`[2592]`, `.next`; `""` for the pointer of a slice or the
    /// pointer itself); else `+0x…` (`""` at offset 0).
    pub fn root_field(&self, index: u32, off: u64) -> String {
        use crate::binary::dwarf::VariableType;
        use crate::runtime::roots::RootKind;
        let hex = || {
            if off == 0 {
                String::new()
            } else {
                format!("+{off:#x}")
            }
        };
        let (Some(r), Some((dwarf, bias))) =
            (self.graph.roots.list.get(index as usize), self.dwarf)
        else {
            return hex();
        };
        if !matches!(r.kind, RootKind::Data | RootKind::Bss)
            || dwarf.variable_addr(&r.name).map(|a| a.wrapping_add(bias)) != Some(r.addr)
        {
            return hex();
        }
        match dwarf.variable_runtime_type(&r.name) {
            Some(VariableType::Type(t)) => match self.types.read(self.types.types_base() + t) {
                Ok(gt) if off < gt.size => self.sub_field(&gt, off, 0).unwrap_or_else(hex),
                _ => hex(),
            },
            _ => hex(),
        }
    }

    /// Where `addr` is.
    pub fn locate(&self, addr: u64) -> Located {
        let reach = &self.graph.reach;
        let Some((_, _, b)) = reach.slot_of(addr) else {
            return Located::NotHeap;
        };
        let o = self.object(b);
        if reach.marked(b) {
            Located::Reachable(b, o)
        } else {
            Located::Garbage(o)
        }
    }

    /// Base, size and type name of slot `bit`.
    pub fn object(&self, bit: u64) -> ObjectRef {
        let reach = &self.graph.reach;
        let (spans, _, _) = reach.index();
        let Some((si, slot)) = reach.span_of_bit(bit) else {
            return ObjectRef {
                addr: 0,
                size: 0,
                type_name: "?".into(),
            };
        };
        let s = &spans[si];
        let hdr = reach.data_offset(si);
        let type_name = match self.graph.types.slot(bit) {
            Some((t, _, multi)) => super::objtypes::display_name(&self.graph.types.types[t], multi),
            None if s.spanclass >> 1 == 0 => format!("unknown (large, {} B)", s.elemsize),
            None => format!("unknown (class {}, {} B)", s.spanclass >> 1, s.elemsize),
        };
        ObjectRef {
            addr: s.base + slot * s.elemsize + hdr,
            size: s.elemsize - hdr,
            type_name,
        }
    }

    /// Bytes of slot `bit` before the object as the program sees it (its malloc header).
    pub fn header(&self, bit: u64) -> u64 {
        let reach = &self.graph.reach;
        reach
            .span_of_bit(bit)
            .map_or(0, |(si, _)| reach.data_offset(si))
    }

    /// The root at `index`.
    pub fn root(&self, index: u32) -> RootRef {
        match self.graph.roots.list.get(index as usize) {
            Some(r) => RootRef {
                index,
                kind: r.kind.name(),
                name: r.name.to_string(),
                addr: r.addr,
                goroutine: r.goid,
                variables: self
                    .graph
                    .root_variables(index as usize)
                    .iter()
                    .map(|v| v.to_string())
                    .collect(),
            },
            None => RootRef {
                index,
                kind: "?",
                name: "?".into(),
                addr: 0,
                goroutine: None,
                variables: Vec::new(),
            },
        }
    }

    /// The field path of the word at `off` bytes into the object of slot `bit` (from the
    /// object's address, after any malloc header; from its type when known, else `+0x…`).
    pub fn field(&self, bit: u64, off: u64) -> String {
        let hex = || format!("+{off:#x}");
        let Some((t, _, multi)) = self.graph.types.slot(bit) else {
            return hex();
        };
        let info = &self.graph.types.types[t];
        let d = off;
        if info.addr == 0 || info.size == 0 {
            return hex();
        }
        let (prefix, rest) = if multi || d >= info.size {
            (format!("[{}]", d / info.size), d % info.size)
        } else {
            (String::new(), d)
        };
        let cached = self
            .fields
            .borrow()
            .iter()
            .find(|(ti, o, _)| *ti == t as u32 && *o == rest)
            .map(|e| e.2.clone());
        let sub = match cached {
            Some(p) => Some(p),
            None => {
                let Ok(gt) = self.types.read(info.addr) else {
                    return hex();
                };
                let p = self.sub_field(&gt, rest, 0);
                if let Some(p) = &p {
                    let mut c = self.fields.borrow_mut();
                    if c.len() >= FIELD_CACHE {
                        c.clear();
                    }
                    c.push((t as u32, rest, p.clone()));
                }
                p
            }
        };
        match sub {
            Some(p) if p.is_empty() && prefix.is_empty() => hex(),
            Some(p) => format!("{prefix}{p}"),
            None => hex(),
        }
    }

    /// The path of offset `off` inside a value of type `t`.
    fn sub_field(&self, t: &crate::runtime::types::GoType, off: u64, depth: u32) -> Option<String> {
        if depth > 16 {
            return None;
        }
        match t.kind {
            "struct" => {
                let fields = self.types.struct_fields(t).ok()?;
                for f in fields.iter().rev() {
                    if f.offset <= off {
                        let ft = self.types.read(f.typ).ok()?;
                        if off >= f.offset + ft.size.max(1) {
                            return None;
                        }
                        let sub = self.sub_field(&ft, off - f.offset, depth + 1)?;
                        return Some(format!(".{}{sub}", f.name));
                    }
                }
                None
            }
            "array" => {
                let (e, n) = self.types.array(t).ok()?;
                let et = self.types.read(e).ok()?;
                if et.size == 0 || off / et.size >= n {
                    return None;
                }
                let sub = self.sub_field(&et, off % et.size, depth + 1)?;
                Some(format!("[{}]{sub}", off / et.size))
            }
            "interface" => Some(match off {
                0 => ".type".into(),
                8 => ".data".into(),
                _ => format!("+{off:#x}"),
            }),
            "string" | "slice" if off == 8 || off == 16 => Some(format!("+{off:#x}")),
            _ if off == 0 => Some(String::new()),
            _ => Some(format!("+{off:#x}")),
        }
    }

    /// The first word of `from` pointing into slot `to`: its offset from the object's address
    /// (or the root's).
    fn link(&self, from: super::referrers::Referrer, to: u64) -> Option<u64> {
        self.offsets(from, to).first().copied()
    }

    /// The words of `from` pointing into slot `to`: offsets from the object's address (after
    /// any malloc header) or the root's.
    pub fn offsets(&self, from: super::referrers::Referrer, to: u64) -> Vec<u64> {
        use super::referrers::Referrer;
        let hdr = match from {
            Referrer::Object(b) => self.header(b),
            Referrer::Root(_) => 0,
        };
        super::referrers::reference(self.graph, self.mem, from, to)
            .offsets
            .into_iter()
            .map(|o| o.saturating_sub(hdr))
            .collect()
    }

    /// Name the path `p` (its last slot is the target). A path longer than 2 × [`PATH_ENDS`]
    /// steps comes from [`ParentTree::path_ends`] with its first and last [`PATH_ENDS`] steps.
    pub fn named_path(&self, p: &SlotPath) -> NamedPath {
        use super::referrers::Referrer;
        let root = p.root;
        let root_offset = p
            .head
            .first()
            .and_then(|&b| self.link(Referrer::Root(root), b))
            .unwrap_or(0);
        let heads = p.head.len();
        let steps = p
            .kept()
            .enumerate()
            .map(|(i, b)| {
                let next = if i + 1 < heads {
                    p.head.get(i + 1)
                } else if i + 1 == heads {
                    p.after_head.as_ref()
                } else {
                    p.tail.get(i + 1 - heads)
                };
                let (field, offset) = match next {
                    Some(&next) => match self.link(Referrer::Object(b), next) {
                        Some(o) => (self.field(b, o), Some(o)),
                        None => ("?".into(), None),
                    },
                    None => (String::new(), None),
                };
                Step {
                    object: self.object(b),
                    field,
                    offset,
                }
            })
            .collect();
        NamedPath {
            root: self.root(root),
            root_field: self.root_field(root, root_offset),
            root_offset,
            steps,
            length: p.length,
            elided: Some(p.elided()).filter(|&e| e > 0),
        }
    }
}

/// Up to `n` shortest paths from the roots to slot `bit`, shortest first, each keeping at most
/// `ends` slots at each end ([`ParentTree::path_ends`]): the breadth-first tree's path, then
/// paths through other referrers of the object (each referrer's own shortest path plus one
/// hop; roots pointing at it directly are one-hop paths), one per distinct referrer, skipping
/// paths that pass through the object itself.
///
/// The referrers' parent chains are climbed in lockstep, one hop per round, each until it
/// reaches a root or a checkpoint (whose depth is known): at most [`super::parent_tree::
/// CHECK_EVERY`] rounds, and fewer when `n` paths are known to be the shortest first. An
/// object with thousands of referrers costs their number times that, not times the length of
/// their paths.
pub fn shortest_paths(
    tree: &ParentTree,
    rev: Option<&super::referrers::ReverseIndex>,
    bit: u64,
    n: usize,
    ends: usize,
) -> Vec<SlotPath> {
    use super::referrers::Referrer;
    let Some(first) = tree.path_ends(bit, ends) else {
        return Vec::new();
    };
    let (Some(rev), true) = (rev, n > 1) else {
        return vec![first];
    };
    let tree_parent = match tree.parent(bit) {
        Parent::Object(p) => Referrer::Object(p),
        Parent::Root(r) => Referrer::Root(r),
        Parent::None => return vec![first],
    };
    let depth = first.length;
    /// A path found: its length, whether it is the tree's path, the referrer, and (for one
    /// found at a checkpoint deeper than the target) the checkpoint, below which the chain
    /// was seen not to pass through the target.
    struct Found {
        length: usize,
        first: bool,
        referrer: Referrer,
        unsure: Option<u64>,
    }
    let found = |length, referrer, unsure| Found {
        length,
        first: false,
        referrer,
        unsure,
    };
    let mut done = vec![Found {
        length: depth,
        first: true,
        referrer: tree_parent,
        unsure: None,
    }];
    // (referrer, the slot its chain is at).
    let mut walkers: Vec<(Referrer, u64)> = Vec::new();
    for r in rev.of(bit) {
        match r {
            _ if r == tree_parent => {}
            Referrer::Root(_) => done.push(found(1, r, None)),
            Referrer::Object(b) if b == bit => {}
            Referrer::Object(b) => walkers.push((r, b)),
        }
    }
    // Round k: every walker has climbed k - 1 slots. One at a checkpoint of depth c has a
    // path of k - 1 + c + 1 steps; one whose slot's parent is a root, k + 1.
    let mut k = 1usize;
    while !walkers.is_empty() {
        walkers.retain_mut(|(r, cur)| {
            if let Some(c) = tree.checkpoint_depth(*cur) {
                let c = c as usize;
                // Deeper than the target: the target may be above the checkpoint.
                let unsure = (c > depth).then_some(*cur);
                done.push(found(k + c, *r, unsure));
                return false;
            }
            match tree.parent(*cur) {
                Parent::Root(_) => {
                    done.push(found(k + 1, *r, None));
                    false
                }
                Parent::Object(p) if p != bit => {
                    *cur = p;
                    true
                }
                _ => false,
            }
        });
        let known = done
            .iter()
            .filter(|d| d.length <= k + 1 && d.unsure.is_none())
            .count();
        if known >= n {
            break;
        }
        k += 1;
    }
    done.sort_by(|a, b| {
        (a.length.cmp(&b.length))
            .then(b.first.cmp(&a.first))
            .then(a.referrer.cmp(&b.referrer))
    });
    let through_target = |c: u64| tree.ancestor_at(c, depth as u32) == Some(bit);
    done.into_iter()
        .filter(|d| !d.unsure.is_some_and(through_target))
        .take(n)
        .filter_map(|d| match d.referrer {
            _ if d.first => Some(first.clone()),
            Referrer::Root(i) => Some(SlotPath::whole(i, vec![bit])),
            Referrer::Object(b) => {
                let mut p = tree.path_ends(b, ends)?;
                p.push(bit, ends);
                Some(p)
            }
        })
        .collect()
}

/// The referrers of slot `bit`, up to `limit` entries (one per pointer word).
pub fn referrers(
    namer: &Namer<'_>,
    rev: &super::referrers::ReverseIndex,
    bit: u64,
    limit: usize,
) -> ReferrersAnswer {
    use super::referrers::Referrer;
    let mut entries = Vec::new();
    for r in rev.of(bit) {
        if entries.len() >= limit {
            break;
        }
        for off in namer.offsets(r, bit) {
            if entries.len() >= limit {
                break;
            }
            entries.push(match r {
                Referrer::Object(b) => ReferrerEntry::Object {
                    object: namer.object(b),
                    field: namer.field(b, off),
                    offset: off,
                },
                Referrer::Root(i) => ReferrerEntry::Root {
                    root: namer.root(i),
                    field: namer.root_field(i, off),
                    offset: off,
                },
            });
        }
    }
    ReferrersAnswer {
        object: namer.object(bit),
        entries,
        total: rev.count(bit),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parent_tree::{NONE, ROOT};
    use super::super::referrers::{Referrer, ReverseIndex};
    use super::*;

    /// A tree from (slot, parent) pairs over `n` slots, checkpoints every `every` levels.
    fn tree(n: usize, parents: &[(usize, Parent)], every: u32) -> ParentTree {
        let mut parent = vec![NONE; n];
        for &(b, p) in parents {
            parent[b] = match p {
                Parent::Root(r) => ROOT | r,
                Parent::Object(o) => o as u32,
                Parent::None => NONE,
            };
        }
        ParentTree::from_parents(parent, every)
    }

    /// A reverse index from (from, to) pointers (`from`: an object slot or `ROOT | root`).
    fn reverse(n: usize, edges: &[(u32, usize)]) -> ReverseIndex {
        let (mut ends, mut src) = (Vec::new(), Vec::new());
        for to in 0..n {
            src.extend(edges.iter().filter(|e| e.1 == to).map(|e| e.0));
            ends.push(src.len() as u32);
        }
        ReverseIndex::from_parts(ends, src)
    }

    fn whole(root: u32, slots: &[u64]) -> SlotPath {
        SlotPath::whole(root, slots.to_vec())
    }

    #[test]
    fn paths_follow_parents_up_to_a_root() {
        let t = tree(
            4,
            &[
                (0, Parent::Root(2)),
                (1, Parent::Object(0)),
                (2, Parent::Object(1)),
            ],
            2,
        );
        assert_eq!(t.path(2), Some((2, vec![0, 1, 2])));
        assert_eq!(t.depth(2), Some(3));
        assert_eq!(t.parent(3), Parent::None);
        assert_eq!(t.path(3), None, "unreachable");
        assert_eq!(t.parent(100), Parent::None);
    }

    #[test]
    fn all_paths_through_distinct_referrers_shortest_first() {
        // Target 5: tree path 0 → 1 → 5 (root 0). Other referrers: 2 (0 → 2 → 5, as short),
        // 3 (0 → 2 → 3 → 5, one longer), 4 (reached through the target itself: skipped).
        // Target 7: pointed at by roots 0 (its tree parent) and 1.
        for every in [0, 1, 2, 3] {
            let t = tree(
                8,
                &[
                    (0, Parent::Root(0)),
                    (1, Parent::Object(0)),
                    (2, Parent::Object(0)),
                    (3, Parent::Object(2)),
                    (5, Parent::Object(1)),
                    (4, Parent::Object(5)),
                    (7, Parent::Root(0)),
                ],
                every,
            );
            let rev = ReverseIndex::from_parts(
                vec![0, 0, 0, 0, 0, 4, 4, 6],
                vec![4, 3, 2, 1, ROOT, ROOT | 1],
            );
            let sp = |bit, n| shortest_paths(&t, Some(&rev), bit, n, PATH_ENDS);
            assert_eq!(
                sp(5, 5),
                vec![
                    whole(0, &[0, 1, 5]),
                    whole(0, &[0, 2, 5]),
                    whole(0, &[0, 2, 3, 5])
                ],
                "every {every}"
            );
            assert_eq!(sp(5, 2), vec![whole(0, &[0, 1, 5]), whole(0, &[0, 2, 5])]);
            assert_eq!(sp(5, 1), vec![whole(0, &[0, 1, 5])]);
            assert_eq!(
                shortest_paths(&t, None, 5, 3, PATH_ENDS),
                vec![whole(0, &[0, 1, 5])]
            );
            assert_eq!(sp(7, 3), vec![whole(0, &[7]), whole(1, &[7])]);
            assert!(sp(6, 3).is_empty(), "unreachable");
        }
    }

    /// The paths of `shortest_paths` by walking every referrer's whole chain.
    fn naive_paths(
        t: &ParentTree,
        rev: &ReverseIndex,
        bit: u64,
        n: usize,
        ends: usize,
    ) -> Vec<SlotPath> {
        let cut = |root: u32, slots: Vec<u64>| {
            let mut p = SlotPath::whole(root, Vec::new());
            for s in slots {
                p.push(s, ends);
            }
            p
        };
        let Some((root, first)) = t.path(bit) else {
            return Vec::new();
        };
        let tree_parent = match t.parent(bit) {
            Parent::Object(p) => Referrer::Object(p),
            Parent::Root(r) => Referrer::Root(r),
            Parent::None => unreachable!(),
        };
        let mut all = vec![(first.len(), false, tree_parent, root, first)];
        for r in rev.of(bit) {
            match r {
                _ if r == tree_parent => {}
                Referrer::Root(i) => all.push((1, true, r, i, vec![bit])),
                Referrer::Object(b) => {
                    let Some((root, mut p)) = t.path(b) else {
                        continue;
                    };
                    if p.contains(&bit) {
                        continue;
                    }
                    p.push(bit);
                    all.push((p.len(), true, r, root, p));
                }
            }
        }
        all.sort_by_key(|a| (a.0, a.1, a.2));
        all.into_iter()
            .take(n)
            .map(|(_, _, _, root, p)| cut(root, p))
            .collect()
    }

    #[test]
    fn long_paths_and_referrers_match_a_walk_of_every_chain() {
        // Pointers: a chain of 300 slots under root 0 (slot i to i + 1), a second chain of
        // 120 under root 1 (slots 300..420), and pointers from deep slots back up (passing
        // through their targets), across the chains, and from roots. The tree is their
        // breadth-first search.
        let mut edges: Vec<(u32, usize)> = vec![(ROOT, 0), (ROOT | 1, 300)];
        edges.extend((1..300).map(|i| (i as u32 - 1, i)));
        edges.extend((301..420).map(|i| (i as u32 - 1, i)));
        for i in (0..300).step_by(7) {
            edges.push(((i + 150) as u32 % 300, i)); // from below or above
            edges.push((399 + (i as u32 % 20), i)); // from deep in the other chain
            edges.push((299, i)); // from the deepest slot
        }
        edges.push((ROOT | 2, 250));
        edges.push((419, 5));
        edges.push((200, 419));
        let mut parent = vec![NONE; 421];
        let mut frontier: Vec<u32> = Vec::new();
        for &(from, to) in &edges {
            if from & ROOT != 0 && from < parent[to] {
                parent[to] = from;
                frontier.push(to as u32);
            }
        }
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for &(from, to) in &edges {
                if !frontier.contains(&from) {
                    continue;
                }
                if parent[to] == NONE {
                    parent[to] = from;
                    next.push(to as u32);
                } else if next.contains(&(to as u32)) {
                    parent[to] = parent[to].min(from);
                }
            }
            frontier = next;
        }
        let parents: Vec<(usize, Parent)> = (0..421)
            .map(|b| match parent[b] {
                NONE => (b, Parent::None),
                p if p & ROOT != 0 => (b, Parent::Root(p & !ROOT)),
                p => (b, Parent::Object(u64::from(p))),
            })
            .collect();
        assert!(parents[..420].iter().all(|p| p.1 != Parent::None));
        assert_eq!(parents[420].1, Parent::None);
        let rev = reverse(421, &edges);
        for every in [0, 1, 5, 16, 64] {
            let t = tree(421, &parents, every);
            for bit in (0..421).step_by(3) {
                for (n, ends) in [(1, 1000), (3, 1000), (3, 10), (10, 50), (2, 1)] {
                    assert_eq!(
                        shortest_paths(&t, Some(&rev), bit, n, ends),
                        naive_paths(&t, &rev, bit, n, ends),
                        "every {every}, target {bit}, n {n}, ends {ends}"
                    );
                }
            }
        }
    }
}
