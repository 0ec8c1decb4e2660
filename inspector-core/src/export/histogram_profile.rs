//! `histogram -pprof`: the complete (unsampled) live heap as a pprof profile: sample types
//! `inuse_objects`/count and `inuse_space`/bytes, every reachable object counted once with its
//! slot bytes (no scaling), so the totals are the heap graph's reachable objects and bytes.
//! Garbage is left out. Each object's stack, leaf first:
//!
//! - its type (as `histogram` names it), then its allocation stack, where the runtime's
//!   memory profile recorded one (a profile special on the object; label `stack=allocation`);
//! - otherwise its type, then its ancestors' types on a shortest path from a root, then the
//!   root (`bss main.cache`, `stack main.worker`, `finalizer`, ...; label `stack=path`).
//!   Consecutive repeats of one type fold into one frame (a linked list is `main.node` once),
//!   and a path longer than [`MAX_FRAMES`] keeps its root-most frames, then `…`, then the leaf.
//!
//! Paths are interned in a tree of frames ([`Trie`]) and memoized per span slot, parent
//! first, so the whole heap costs O(objects); the profiled objects are a list sorted by slot
//! read once from the spans' specials.

use rayon::prelude::*;

use super::heap_profile::ProfileSource;
use super::pprof::{FrameRef, Profile, ProfileBuilder};
use crate::analysis::mark::{bit, Reach, SpanMeta};
use crate::analysis::objects_by_type::TypeKeys;
use crate::analysis::objtypes::ObjectTypes;
use crate::analysis::paths::Parent;
use crate::binary::Pclntab;
use crate::runtime::heap::{Heap, SpanState};
use crate::runtime::layout::ObjectLayouts;
use crate::runtime::mprof;
use crate::runtime::roots::{Root, RootKind, Roots};
use crate::runtime::specials::{span_specials, SpecialKind};
use crate::target::{Memory, MemoryExt};

/// Most frames of a root → type path (root and leaf included).
pub const MAX_FRAMES: usize = 16;
/// The frame standing for the middle of a path cut at [`MAX_FRAMES`].
pub const ELLIPSIS: &str = "…";
/// The frame below the leaf of an object no path reaches (no parent known).
pub const NO_PATH: &str = "no path known";

const NONE: u32 = u32::MAX;

/// One frame of an interned stack, with its parent frame (towards the root).
#[derive(Debug, Clone)]
struct Node {
    loc: u64,
    parent: u32,
    depth: u32,
    /// The root-most ancestor at depth `MAX_FRAMES - 2` (a cut path continues from it).
    trunk: u32,
    /// Whether the stack is an allocation stack.
    alloc: bool,
    /// Children by location id, sorted.
    children: Vec<(u64, u32)>,
}

/// Interned stacks: each node is one frame and the stack of its parent.
#[derive(Debug, Default)]
struct Trie {
    nodes: Vec<Node>,
    tops: Vec<(u64, u32)>,
}

impl Trie {
    /// The node for frame `loc` on top of `parent` (`NONE`: a root-most frame).
    fn child(&mut self, parent: u32, loc: u64, alloc: bool) -> u32 {
        let list = match parent {
            NONE => &self.tops,
            p => &self.nodes[p as usize].children,
        };
        let pos = match list.binary_search_by_key(&loc, |&(l, _)| l) {
            Ok(i) => return list[i].1,
            Err(i) => i,
        };
        let id = self.nodes.len() as u32;
        let depth = match parent {
            NONE => 1,
            p => self.nodes[p as usize].depth + 1,
        };
        let cut = MAX_FRAMES as u32 - 2;
        let trunk = if depth == cut {
            id
        } else if depth > cut {
            self.nodes[parent as usize].trunk
        } else {
            NONE
        };
        self.nodes.push(Node {
            loc,
            parent,
            depth,
            trunk,
            alloc,
            children: Vec::new(),
        });
        match parent {
            NONE => self.tops.insert(pos, (loc, id)),
            p => self.nodes[p as usize].children.insert(pos, (loc, id)),
        }
        id
    }

    /// The path node of an object whose type frame is `loc`, reached from the path `parent`:
    /// a repeat of the parent's frame folds into it; past [`MAX_FRAMES`] the middle is `…`.
    fn type_child(&mut self, parent: u32, loc: u64, ellipsis: u64) -> u32 {
        let p = &self.nodes[parent as usize];
        if p.loc == loc {
            return parent;
        }
        if p.depth as usize >= MAX_FRAMES {
            let e = self.child(p.trunk, ellipsis, false);
            return self.child(e, loc, false);
        }
        self.child(parent, loc, false)
    }

    /// The location ids of a node's stack, leaf first.
    fn stack(&self, mut n: u32) -> Vec<u64> {
        let mut v = Vec::with_capacity(self.nodes[n as usize].depth as usize);
        while n != NONE {
            let node = &self.nodes[n as usize];
            v.push(node.loc);
            n = node.parent;
        }
        v
    }
}

/// The profiled objects: (slot bit, dense bucket index) sorted by slot, and the buckets.
#[derive(Debug, Clone, Default)]
pub struct ProfiledSlots {
    pub slots: Vec<(u64, u32)>,
    pub buckets: Vec<u64>,
    /// Specials lists that could not be read.
    pub problems: Vec<String>,
}

/// Read every in-use span's specials and keep the memory-profile records of allocated slots.
pub fn profiled_slots(
    mem: &dyn Memory,
    heap: &Heap,
    layouts: &ObjectLayouts,
    reach: &Reach,
) -> ProfiledSlots {
    let (spans, _, _) = reach.index();
    // Per span with specials: (bucket, slot bit, offset) of its profile records, or why the
    // list could not be read.
    type Found = (Vec<(u64, u64, u64)>, Option<String>);
    let found: Vec<Found> = heap
        .spans
        .par_iter()
        .filter(|s| s.state == SpanState::InUse && s.elemsize > 0)
        .filter_map(|s| {
            let head = mem.read_ptr(s.desc + layouts.span_specials.offset).ok()?;
            if head == 0 {
                return None;
            }
            let i = spans.partition_point(|m| m.base < s.base);
            let m = spans.get(i).filter(|m| m.base == s.base)?;
            match span_specials(mem, layouts, head) {
                Ok(list) => {
                    let v = list
                        .into_iter()
                        .filter_map(|sp| match sp.kind {
                            SpecialKind::Profile { bucket } => {
                                let slot = sp.offset / m.elemsize;
                                (slot < u64::from(m.nelems)).then_some((
                                    bucket,
                                    m.bit + slot,
                                    sp.offset,
                                ))
                            }
                            _ => None,
                        })
                        .collect();
                    Some((v, None))
                }
                Err(e) => Some((
                    Vec::new(),
                    Some(format!("specials of span {:#x}: {e}", s.base)),
                )),
            }
        })
        .collect();
    let mut out = ProfiledSlots::default();
    let mut pairs: Vec<(u64, u64, u64)> = Vec::new();
    for (v, p) in found {
        pairs.extend(v);
        out.problems.extend(p);
    }
    // Dense bucket indices by sorting (no map per object), then by slot.
    pairs.sort_unstable();
    let mut slots = Vec::with_capacity(pairs.len());
    for (bucket, b, off) in pairs {
        if out.buckets.last() != Some(&bucket) {
            out.buckets.push(bucket);
        }
        slots.push((b, off, out.buckets.len() as u32 - 1));
    }
    // One record per slot (a tiny block may hold several sampled allocations: the one at the
    // lowest offset).
    slots.sort_unstable();
    slots.dedup_by_key(|e| e.0);
    out.slots = slots.into_iter().map(|(b, _, k)| (b, k)).collect();
    out
}

/// Allocation stacks of the profiled buckets, as shown frames (innermost first).
pub struct AllocStacks<'a> {
    pub mem: &'a dyn Memory,
    pub layouts: &'a ObjectLayouts,
    pub pcln: Option<&'a Pclntab>,
    pub bias: u64,
    pub go_minor: u32,
}

/// Everything the export reads.
pub struct HistogramProfileInput<'a> {
    pub reach: &'a Reach,
    pub types: &'a ObjectTypes,
    pub keys: &'a TypeKeys,
    pub roots: &'a Roots,
    /// Each reachable slot's parent on a shortest path from the roots
    /// ([`crate::analysis::paths::ParentTree::parent`]).
    pub parent: &'a dyn Fn(u64) -> Parent,
    pub profiled: &'a ProfiledSlots,
    pub stacks: AllocStacks<'a>,
    pub src: &'a ProfileSource,
}

/// The profile and its figures.
#[derive(Debug, Clone)]
pub struct HistogramProfile {
    pub profile: Profile,
    /// Reachable objects and bytes in the profile (the sums of its sample values).
    pub objects: u64,
    pub bytes: u64,
    /// Objects whose stack is an allocation stack.
    pub alloc_objects: u64,
    pub alloc_bytes: u64,
    /// Garbage left out.
    pub garbage_objects: u64,
    pub garbage_bytes: u64,
    /// Objects with no path (no parent known).
    pub no_path_objects: u64,
    pub problems: Vec<String>,
}

fn frame(name: &str) -> FrameRef {
    FrameRef {
        func: name.to_string(),
        file: String::new(),
        line: 0,
        start_line: 0,
    }
}

/// The frame naming a root: kind and symbol for globals (`bss main.cache`), kind and function
/// for stack frames (`stack main.worker`: goroutine ids left out so that goroutines running
/// the same code share a frame), the kind alone for the others (their names hold addresses).
pub fn root_frame(r: &Root) -> String {
    match r.kind {
        RootKind::Data | RootKind::Bss => format!("{} {}", r.kind.name(), r.name),
        RootKind::Stack | RootKind::SchedCtxt => {
            let n = &*r.name;
            let f = n
                .strip_prefix("goroutine ")
                .and_then(|rest| rest.split_once(": "))
                .map_or(n, |(_, f)| f);
            format!("{} {f}", r.kind.name())
        }
        k => k.name().to_string(),
    }
}

/// Slot bit → span without a search over every span: per 64-bit word of the slot bit
/// vectors, the span holding the word's first bit; a bit's span is then found among the few
/// spans starting inside its word.
struct WordSpans(Vec<u32>);

impl WordSpans {
    fn new(spans: &[SpanMeta], slots: u64) -> WordSpans {
        let words = slots.div_ceil(64) as usize;
        let mut v = Vec::with_capacity(words + 1);
        let mut i = 0usize;
        for w in 0..=words as u64 {
            while i + 1 < spans.len() && spans[i + 1].bit <= w * 64 {
                i += 1;
            }
            v.push(i as u32);
        }
        WordSpans(v)
    }

    /// The index of the span holding slot bit `b` (which must be a slot of some span).
    fn span(&self, spans: &[SpanMeta], b: u64) -> usize {
        let w = (b / 64) as usize;
        let lo = self.0[w] as usize;
        let hi = self.0.get(w + 1).map_or(spans.len(), |&h| h as usize + 1);
        lo + spans[lo..hi].partition_point(|m| m.bit <= b) - 1
    }
}

const UNSET: u32 = u32::MAX;
const BUSY: u32 = u32::MAX - 1;

/// Build the profile.
pub fn build(inp: &HistogramProfileInput<'_>) -> HistogramProfile {
    let (spans, alloc, marks) = inp.reach.index();
    let slots = inp.reach.slot_bits() as usize;
    let mut b = ProfileBuilder::new(&[("inuse_objects", "count"), ("inuse_space", "bytes")]);
    if inp.src.text_end > inp.src.text_start {
        b.add_main_mapping(
            inp.src.text_start,
            inp.src.text_end,
            &inp.src.exe,
            &inp.src.build_id,
        );
    }
    b.set_time_nanos(inp.src.time_nanos);
    if !inp.src.comment.is_empty() {
        b.add_comment(&inp.src.comment);
    }
    let mut trie = Trie::default();
    let ellipsis = b.synthetic_location(&[frame(ELLIPSIS)]);
    let no_path_loc = b.synthetic_location(&[frame(NO_PATH)]);
    let no_path = trie.child(NONE, no_path_loc, false);
    // Per type key and per root: the location / node, made on first use.
    let mut type_loc = vec![0u64; inp.keys.len()];
    let mut root_node = vec![NONE; inp.roots.list.len()];
    let mut root_names: std::collections::HashMap<String, u32> = Default::default();
    let mut bucket_node = vec![NONE; inp.profiled.buckets.len()];
    let mut problems = Vec::new();
    // Per slot: the node of its root → type path (UNSET until computed).
    let mut memo = vec![UNSET; slots];
    let mut chain: Vec<(u64, u64)> = Vec::new();
    let mut counts: Vec<[u64; 2]> = Vec::new();
    let mut out = HistogramProfile {
        profile: Profile::default(),
        objects: 0,
        bytes: 0,
        alloc_objects: 0,
        alloc_bytes: 0,
        garbage_objects: 0,
        garbage_bytes: 0,
        no_path_objects: 0,
        problems: Vec::new(),
    };
    let mut loc_of = |b: &mut ProfileBuilder, key: u32| {
        let l = &mut type_loc[key as usize];
        if *l == 0 {
            *l = b.synthetic_location(&[frame(inp.keys.name(key))]);
        }
        *l
    };
    let mut prof_cursor = 0usize;
    let mut pcs = PcCache::default();
    let word_span = WordSpans::new(spans, slots as u64);
    for s in spans {
        for slot in 0..u64::from(s.nelems) {
            let bt = s.bit + slot;
            if !bit(alloc, bt) {
                continue;
            }
            if !bit(marks, bt) {
                out.garbage_objects += 1;
                out.garbage_bytes += s.elemsize;
                continue;
            }
            out.objects += 1;
            out.bytes += s.elemsize;
            let (key, _) = inp.keys.key(inp.types, s, bt);
            let leaf = loc_of(&mut b, key);
            // An allocation stack?
            let ps = &inp.profiled.slots;
            while prof_cursor < ps.len() && ps[prof_cursor].0 < bt {
                prof_cursor += 1;
            }
            let node = if prof_cursor < ps.len() && ps[prof_cursor].0 == bt {
                let bi = ps[prof_cursor].1 as usize;
                if bucket_node[bi] == NONE {
                    bucket_node[bi] = alloc_node(
                        &mut trie,
                        &mut b,
                        &inp.stacks,
                        &mut pcs,
                        inp.profiled.buckets[bi],
                        &mut problems,
                    );
                }
                out.alloc_objects += 1;
                out.alloc_bytes += s.elemsize;
                trie.child(bucket_node[bi], leaf, true)
            } else {
                // The root → type path, ancestors first (memoized per slot).
                if memo[bt as usize] == UNSET {
                    chain.clear();
                    chain.push((bt, leaf));
                    memo[bt as usize] = BUSY;
                    let mut cur = bt;
                    let base = loop {
                        match (inp.parent)(cur) {
                            Parent::Root(r) => {
                                let r = r as usize;
                                let Some(root) = inp.roots.list.get(r) else {
                                    break no_path;
                                };
                                if root_node[r] == NONE {
                                    let name = root_frame(root);
                                    let n = match root_names.get(&name) {
                                        Some(&n) => n,
                                        None => {
                                            let l = b.synthetic_location(&[frame(&name)]);
                                            let n = trie.child(NONE, l, false);
                                            root_names.insert(name, n);
                                            n
                                        }
                                    };
                                    root_node[r] = n;
                                }
                                break root_node[r];
                            }
                            Parent::Object(p) if (p as usize) < slots => {
                                match memo[p as usize] {
                                    UNSET => {}
                                    // A cycle: the parent tree is broken here.
                                    BUSY => break no_path,
                                    n => break n,
                                }
                                let i = word_span.span(spans, p);
                                let (k, _) = inp.keys.key(inp.types, &spans[i], p);
                                let l = loc_of(&mut b, k);
                                memo[p as usize] = BUSY;
                                chain.push((p, l));
                                cur = p;
                            }
                            _ => break no_path,
                        }
                    };
                    let mut n = base;
                    for &(o, l) in chain.iter().rev() {
                        n = trie.type_child(n, l, ellipsis);
                        memo[o as usize] = n;
                    }
                }
                memo[bt as usize]
            };
            if node as usize >= counts.len() {
                counts.resize(trie.nodes.len().max(node as usize + 1), [0, 0]);
            }
            counts[node as usize][0] += 1;
            counts[node as usize][1] += s.elemsize;
        }
    }
    for (n, c) in counts.iter().enumerate() {
        if c[0] == 0 {
            continue;
        }
        let stack = trie.stack(n as u32);
        let kind = if trie.nodes[n].alloc {
            "allocation"
        } else {
            if stack.get(1) == Some(&no_path_loc) {
                out.no_path_objects += c[0];
            }
            "path"
        };
        b.add_sample(
            stack,
            vec![c[0] as i64, c[1] as i64],
            &[("stack", kind)],
            &[],
        );
    }
    out.profile = b.finish();
    out.problems = problems;
    out
}

/// Per return PC of allocation stacks: its location (`None`: outside Go text or
/// `runtime.goexit`, no frame) and whether `runtime/pprof` hides it as a leading allocator
/// frame. Profiles repeat the same PCs in many stacks: each is symbolized once.
#[derive(Default)]
struct PcCache {
    pcs: std::collections::HashMap<u64, (Option<u64>, bool)>,
}

impl PcCache {
    fn get(
        &mut self,
        b: &mut ProfileBuilder,
        st: &AllocStacks<'_>,
        pc: u64,
    ) -> (Option<u64>, bool) {
        let Some(pcln) = st.pcln else {
            return (None, false);
        };
        *self.pcs.entry(pc).or_insert_with(|| {
            let hidden = mprof::is_hidden(pcln, st.bias, pc, st.go_minor);
            let loc = mprof::frame_for_pc(pcln, st.bias, pc)
                .filter(|f| f.func != "runtime.goexit")
                .map(|f| {
                    b.location(
                        f.pc,
                        &[FrameRef {
                            func: f.func,
                            file: f.file,
                            line: i64::from(f.line),
                            start_line: i64::from(f.start_line),
                        }],
                    )
                });
            (loc, hidden)
        })
    }
}

/// The node of a bucket's allocation stack (outermost frame at the top of the trie), with
/// the allocator's leading frames dropped as `runtime/pprof` drops them
/// ([`mprof::shown_frames`]).
fn alloc_node(
    trie: &mut Trie,
    b: &mut ProfileBuilder,
    st: &AllocStacks<'_>,
    cache: &mut PcCache,
    bucket: u64,
    problems: &mut Vec<String>,
) -> u32 {
    let stack = match mprof::read_bucket(st.mem, st.layouts, bucket) {
        Ok(bk) => bk.stack,
        Err(e) => {
            problems.push(format!("profile bucket {bucket:#x}: {e}"));
            Vec::new()
        }
    };
    let infos: Vec<(Option<u64>, bool)> = stack.iter().map(|&pc| cache.get(b, st, pc)).collect();
    let from = infos.iter().position(|i| !i.1).unwrap_or(0);
    let mut n = NONE;
    for l in infos[from..].iter().rev().filter_map(|i| i.0) {
        n = trie.child(n, l, true);
    }
    if n == NONE {
        let l =
            b.synthetic_location(&[frame(&format!("allocation stack unreadable ({bucket:#x})"))]);
        n = trie.child(NONE, l, true);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_fold_and_long_paths_are_cut() {
        let mut t = Trie::default();
        let root = t.child(NONE, 1, false);
        // root → A → A → A → B: A once.
        let a1 = t.type_child(root, 10, 99);
        let a2 = t.type_child(a1, 10, 99);
        assert_eq!(a1, a2);
        let b = t.type_child(a2, 11, 99);
        assert_eq!(t.stack(b), [11, 10, 1]);
        // Interned: the same path gives the same node.
        assert_eq!(t.type_child(root, 10, 99), a1);
        // A chain of distinct types, 40 deep: at most MAX_FRAMES frames, the root-most ones
        // kept, then the ellipsis, then the leaf.
        let mut n = root;
        for i in 0..40 {
            n = t.type_child(n, 100 + i, 99);
            let s = t.stack(n);
            assert!(s.len() <= MAX_FRAMES, "{}", s.len());
            assert_eq!(s[0], 100 + i, "leaf is the type");
            assert_eq!(*s.last().unwrap(), 1, "root-most frame is the root");
        }
        let s = t.stack(n);
        assert_eq!(s.len(), MAX_FRAMES);
        assert_eq!(s[1], 99, "the cut is marked");
        let kept: Vec<u64> = (100..100 + MAX_FRAMES as u64 - 3).rev().collect();
        assert_eq!(s[2..MAX_FRAMES - 1], kept[..], "the root-most types kept");
        // Below a cut node, a repeat still folds.
        assert_eq!(t.type_child(n, 139, 99), n);
    }

    #[test]
    fn word_spans_find_every_slot() {
        // Spans of 3, 200, 1, 1, 0, 70 slots (one with none).
        let mut spans = Vec::new();
        let mut bit = 0;
        for n in [3u32, 200, 1, 1, 0, 70] {
            spans.push(SpanMeta {
                base: 0x1000 * (spans.len() as u64 + 1),
                elemsize: 8,
                nelems: n,
                npages: 1,
                spanclass: 2,
                bit,
                large_type: 0,
                div_mul: 0,
            });
            bit += u64::from(n);
        }
        let ws = WordSpans::new(&spans, bit);
        for b in 0..bit {
            let want = spans.partition_point(|m| m.bit <= b) - 1;
            let got = ws.span(&spans, b);
            assert_eq!(got, want, "bit {b}");
            let s = &spans[got];
            assert!(s.bit <= b && b < s.bit + u64::from(s.nelems), "bit {b}");
        }
    }

    #[test]
    fn root_frames_leave_out_goroutine_ids_and_addresses() {
        let r = |kind, name: &str| Root {
            kind,
            name: name.into(),
            addr: 0,
            size: 8,
            mask: crate::runtime::roots::RootMask::AllWords,
            goid: None,
        };
        assert_eq!(
            root_frame(&r(RootKind::Bss, "main.cache")),
            "bss main.cache"
        );
        assert_eq!(
            root_frame(&r(RootKind::Stack, "goroutine 7: main.worker")),
            "stack main.worker"
        );
        assert_eq!(
            root_frame(&r(RootKind::Finalizer, "finalizer of 0xc000010000")),
            "finalizer"
        );
    }
}
