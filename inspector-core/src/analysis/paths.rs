//! Shortest paths from roots: a breadth-first search from every root at once over the pointer
//! words marking follows ([`super::mark`]), recording for each reachable slot the parent it
//! was first reached from ([`ParentTree`]: one `u32` per slot, no hash map). Following
//! parents from an object up to a root gives a path with the fewest hops; among equally short
//! ones the smallest parent (roots in their list order, then objects by address) is kept, so
//! the tree does not depend on thread scheduling.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::heapgraph::HeapGraph;
use super::mark::{root_words, Reach};
use crate::target::Memory;

/// No parent: not reachable (or not an allocated slot).
const NONE: u32 = u32::MAX;
/// A root parent: this bit set, the root's index below it.
const ROOT: u32 = 1 << 31;
/// Frontiers smaller than this are scanned on the calling thread.
const PAR_MIN: usize = 256;

/// The parent of a slot on a shortest path from the roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// A root: index into `HeapGraph.roots.list`.
    Root(u32),
    /// A heap object: its slot bit (a span's `bit` + slot, as in `Reach::index()`).
    Object(u64),
    /// Not reachable, or not an allocated slot.
    None,
}

/// Breadth-first parents of every reachable slot.
#[derive(Debug, Default)]
pub struct ParentTree {
    parent: Vec<u32>,
    /// Breadth-first levels (the longest shortest path, in objects).
    pub levels: u32,
    /// Why the tree is empty, if it is (too many slots or roots to index).
    pub problem: Option<String>,
    pub build_time: Duration,
}

impl ParentTree {
    /// Breadth-first search from every root of `graph`.
    pub fn build(graph: &HeapGraph, mem: &dyn Memory) -> ParentTree {
        let t0 = Instant::now();
        let reach = &graph.reach;
        let bits = reach.slot_bits();
        let roots = &graph.roots.list;
        if bits >= u64::from(ROOT) || roots.len() as u64 >= u64::from(ROOT) {
            return ParentTree {
                problem: Some(format!(
                    "{bits} slots and {} roots: too many to index",
                    roots.len()
                )),
                ..ParentTree::default()
            };
        }
        let parent: Vec<AtomicU32> = (0..bits).map(|_| AtomicU32::new(NONE)).collect();
        let mut done = vec![0u64; bits.div_ceil(64) as usize];
        // Level 1: what the roots point at.
        let mut frontier: Vec<u32> = roots
            .par_iter()
            .enumerate()
            .fold(Vec::new, |mut next, (i, r)| {
                root_words(mem, r, |_, v| {
                    visit(reach, &parent, &done, v, ROOT | i as u32, &mut next)
                });
                next
            })
            .reduce(Vec::new, concat);
        let mut levels = 0;
        while !frontier.is_empty() {
            levels += 1;
            for &b in &frontier {
                done[(b / 64) as usize] |= 1 << (b % 64);
            }
            let scan = |mut next: Vec<u32>, &b: &u32| {
                if let Some((si, slot)) = reach.span_of_bit(u64::from(b)) {
                    reach.object_words(mem, si, slot, |_, v| {
                        visit(reach, &parent, &done, v, b, &mut next)
                    });
                }
                next
            };
            frontier = if frontier.len() < PAR_MIN {
                frontier.iter().fold(Vec::new(), scan)
            } else {
                frontier
                    .par_iter()
                    .fold(Vec::new, scan)
                    .reduce(Vec::new, concat)
            };
        }
        ParentTree {
            parent: parent.into_iter().map(AtomicU32::into_inner).collect(),
            levels,
            problem: None,
            build_time: t0.elapsed(),
        }
    }

    /// The parent of slot bit `bit` on a shortest path from the roots.
    pub fn parent(&self, bit: u64) -> Parent {
        match self.parent.get(bit as usize).copied().unwrap_or(NONE) {
            NONE => Parent::None,
            p if p & ROOT != 0 => Parent::Root(p & !ROOT),
            p => Parent::Object(u64::from(p)),
        }
    }

    /// The shortest path to slot `bit`: the root's index and the slots from the first one the
    /// root points at down to `bit` (`None`: not reachable).
    pub fn path(&self, bit: u64) -> Option<(u32, Vec<u64>)> {
        let mut steps = vec![bit];
        let mut b = bit;
        loop {
            match self.parent(b) {
                Parent::None => return None,
                Parent::Root(r) => {
                    steps.reverse();
                    return Some((r, steps));
                }
                Parent::Object(p) => {
                    // A parent chain is at most as long as the tree is deep.
                    if steps.len() > self.levels as usize + 1 {
                        return None;
                    }
                    steps.push(p);
                    b = p;
                }
            }
        }
    }

    /// Hops from a root to slot `bit` (1: a root points at it), if reachable.
    pub fn depth(&self, bit: u64) -> Option<u32> {
        let mut d = 1;
        let mut b = bit;
        loop {
            match self.parent(b) {
                Parent::None => return None,
                Parent::Root(_) => return Some(d),
                Parent::Object(p) if d <= self.levels => {
                    d += 1;
                    b = p;
                }
                Parent::Object(_) => return None,
            }
        }
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.parent.capacity() * 4
    }
}

fn concat(mut a: Vec<u32>, mut b: Vec<u32>) -> Vec<u32> {
    if a.len() < b.len() {
        std::mem::swap(&mut a, &mut b);
    }
    a.extend(b);
    a
}

/// A pointer `v` found in `from`: give its slot `from` as parent if it was not reached at an
/// earlier level (the smallest parent of this level wins); a newly reached slot joins `next`.
#[inline]
fn visit(
    reach: &Reach,
    parent: &[AtomicU32],
    done: &[u64],
    v: u64,
    from: u32,
    next: &mut Vec<u32>,
) {
    let Some((_, _, b)) = reach.slot_of(v) else {
        return;
    };
    if done[(b / 64) as usize] >> (b % 64) & 1 == 1 {
        return;
    }
    let p = &parent[b as usize];
    let cur = p.load(Ordering::Relaxed);
    if cur <= from {
        return;
    }
    if p.fetch_min(from, Ordering::Relaxed) == NONE {
        next.push(b as u32);
    }
}

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
    /// From the object the root points at down to the target (the last step).
    pub steps: Vec<Step>,
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
}

impl Namer<'_> {
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
            },
            None => RootRef {
                index,
                kind: "?",
                name: "?".into(),
                addr: 0,
                goroutine: None,
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
        let Ok(gt) = self.types.read(info.addr) else {
            return hex();
        };
        let (prefix, rest) = if multi || d >= info.size {
            (format!("[{}]", d / info.size), d % info.size)
        } else {
            (String::new(), d)
        };
        match self.sub_field(&gt, rest, 0) {
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

    /// Name the path `root` → `slots` (the last slot is the target).
    pub fn named_path(&self, root: u32, slots: &[u64]) -> NamedPath {
        use super::referrers::Referrer;
        let root_offset = slots
            .first()
            .and_then(|&b| self.link(Referrer::Root(root), b))
            .unwrap_or(0);
        let steps = slots
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                let (field, offset) = match slots.get(i + 1) {
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
            root_offset,
            steps,
        }
    }
}

/// Up to `n` shortest paths from the roots to slot `bit`, shortest first: the breadth-first
/// tree's path, then paths through other referrers of the object (each referrer's own
/// shortest path plus one hop; roots pointing at it directly are one-hop paths), one per
/// distinct referrer, skipping paths that pass through the object itself.
pub fn shortest_paths(
    tree: &ParentTree,
    rev: Option<&super::referrers::ReverseIndex>,
    bit: u64,
    n: usize,
) -> Vec<(u32, Vec<u64>)> {
    use super::referrers::Referrer;
    let Some(first) = tree.path(bit) else {
        return Vec::new();
    };
    let (Some(rev), true) = (rev, n > 1) else {
        return vec![first];
    };
    let mut cands: Vec<(usize, u32, Vec<u64>)> = Vec::new();
    for r in rev.of(bit) {
        match r {
            Referrer::Root(i) => cands.push((1, i, vec![bit])),
            Referrer::Object(b) if b == bit => {}
            Referrer::Object(b) => {
                if let Some((root, mut p)) = tree.path(b) {
                    if p.contains(&bit) {
                        continue;
                    }
                    p.push(bit);
                    cands.push((p.len(), root, p));
                }
            }
        }
    }
    // The tree's own path first among the shortest ones.
    cands.sort_by(|a, b| {
        let fa = (a.1, &a.2) == (first.0, &first.1);
        let fb = (b.1, &b.2) == (first.0, &first.1);
        a.0.cmp(&b.0)
            .then(fb.cmp(&fa))
            .then(a.2.cmp(&b.2))
            .then(a.1.cmp(&b.1))
    });
    cands.into_iter().take(n).map(|(_, r, p)| (r, p)).collect()
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
