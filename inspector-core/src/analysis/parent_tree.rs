//! The breadth-first parent tree behind `paths`: a search from every root at once over the
//! pointer words marking follows ([`super::mark`]), recording for each reachable slot the
//! parent it was first reached from (one `u32` per slot, no hash map). Following parents from
//! an object up to a root gives a path with the fewest hops; among equally short ones the
//! smallest parent (roots in their list order, then objects by address) is kept, so the tree
//! does not depend on thread scheduling.
//!
//! A heap made of long linked lists has paths of millions of hops, and walking one costs a
//! cache miss per hop. So every [`CHECK_EVERY`] levels the level's slots are kept as
//! checkpoints, each with its depth and the checkpoint [`CHECK_EVERY`] levels above it: the
//! depth of a slot, or its ancestor at a given depth, costs at most [`CHECK_EVERY`] hops plus
//! one jump per [`CHECK_EVERY`] levels, and a long path is returned as its two ends
//! ([`SlotPath`]) without walking its middle.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::heapgraph::HeapGraph;
use super::mark::{root_words, Reach};
use crate::target::Memory;

/// No parent: not reachable (or not an allocated slot).
pub(crate) const NONE: u32 = u32::MAX;
/// A root parent: this bit set, the root's index below it.
pub(crate) const ROOT: u32 = 1 << 31;
/// Frontiers smaller than this are scanned on the calling thread.
const PAR_MIN: usize = 256;
/// Levels between checkpoints.
pub const CHECK_EVERY: u32 = 64;

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

/// A path from a root as slot bits; a long one keeps only its two ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotPath {
    /// The root's index in `HeapGraph.roots.list`.
    pub root: u32,
    /// The first slots, from the one the root points at; the whole path when nothing is left
    /// out.
    pub head: Vec<u64>,
    /// The slot after the head, when the middle is left out (its first link is named).
    pub after_head: Option<u64>,
    /// The last slots, down to the target; empty when nothing is left out.
    pub tail: Vec<u64>,
    /// Slots of the whole path.
    pub length: usize,
}

impl SlotPath {
    /// A whole path.
    pub fn whole(root: u32, slots: Vec<u64>) -> SlotPath {
        SlotPath {
            root,
            length: slots.len(),
            head: slots,
            after_head: None,
            tail: Vec::new(),
        }
    }

    /// Slots left out between the head and the tail.
    pub fn elided(&self) -> usize {
        self.length - self.head.len() - self.tail.len()
    }

    /// The slots kept, in path order (the head, then the tail).
    pub fn kept(&self) -> impl Iterator<Item = u64> + '_ {
        self.head.iter().chain(&self.tail).copied()
    }

    /// Append `slot` as the new target, keeping at most `ends` slots at each end of a path
    /// longer than `2 * ends`.
    pub fn push(&mut self, slot: u64, ends: usize) {
        self.length += 1;
        if self.after_head.is_none() {
            self.head.push(slot);
            if ends > 0 && self.head.len() > 2 * ends {
                let rest = self.head.split_off(ends);
                self.after_head = Some(rest[0]);
                self.tail = rest[rest.len() - ends..].to_vec();
            }
        } else {
            self.tail.remove(0);
            self.tail.push(slot);
        }
    }
}

/// Slots kept every [`CHECK_EVERY`] levels, sorted by slot.
#[derive(Debug, Default)]
struct Checkpoints {
    /// Levels between checkpoints (0: none kept).
    every: u32,
    slots: Vec<u32>,
    /// Each checkpoint's depth (a multiple of `every`).
    depth: Vec<u32>,
    /// Index of the checkpoint `every` levels above each one (`NONE` at the first level).
    up: Vec<u32>,
    /// A bit per slot: set for checkpoints.
    is: Vec<u64>,
}

impl Checkpoints {
    /// Index checkpoints `slots` at depths `depth` (multiples of `every`; 0: none) of the
    /// tree whose parents are `parent`.
    fn index(parent: &[u32], slots: Vec<u32>, depth: Vec<u32>, every: u32) -> Checkpoints {
        if every == 0 {
            return Checkpoints::default();
        }
        // The checkpoint `every` hops above each one: walked in chunks, a hop of every
        // chain of a chunk per round so that the cache misses overlap.
        let above: Vec<u32> = slots
            .par_chunks(64)
            .zip(depth.par_chunks(64))
            .flat_map_iter(|(s, d)| {
                let mut cur: Vec<u32> = s
                    .iter()
                    .zip(d)
                    .map(|(&s, &d)| if d > every { s } else { NONE })
                    .collect();
                for _ in 0..every {
                    for c in &mut cur {
                        if *c != NONE {
                            let p = parent.get(*c as usize).copied().unwrap_or(NONE);
                            *c = if p & ROOT != 0 { NONE } else { p };
                        }
                    }
                }
                cur
            })
            .collect();
        let mut order: Vec<u32> = (0..slots.len() as u32).collect();
        order.par_sort_unstable_by_key(|&i| slots[i as usize]);
        let sorted: Vec<u32> = order.iter().map(|&i| slots[i as usize]).collect();
        let up = order
            .par_iter()
            .map(|&i| match above[i as usize] {
                NONE => NONE,
                a => sorted.binary_search(&a).map_or(NONE, |j| j as u32),
            })
            .collect();
        let depth = order.iter().map(|&i| depth[i as usize]).collect();
        let mut is = vec![0u64; parent.len().div_ceil(64)];
        for &s in &sorted {
            is[(s / 64) as usize] |= 1 << (s % 64);
        }
        Checkpoints {
            every,
            slots: sorted,
            depth,
            up,
            is,
        }
    }

    /// The checkpoint index of slot `b`, if it is one.
    fn find(&self, b: u64) -> Option<usize> {
        let w = self.is.get((b / 64) as usize)?;
        if w >> (b % 64) & 1 == 0 {
            return None;
        }
        self.slots.binary_search(&(b as u32)).ok()
    }

    fn bytes(&self) -> usize {
        (self.slots.capacity() + self.depth.capacity() + self.up.capacity()) * 4
            + self.is.capacity() * 8
    }
}

/// Where a climb from a slot stopped: at a checkpoint, or at a slot a root points at.
enum Anchor {
    /// The checkpoint's index.
    Check(usize),
    Top,
}

/// Breadth-first parents of every reachable slot.
#[derive(Debug, Default)]
pub struct ParentTree {
    parent: Vec<u32>,
    checks: Checkpoints,
    /// Breadth-first levels (the longest shortest path, in objects).
    pub levels: u32,
    /// Slots reached (equal to the reachable objects: the search follows what marking
    /// follows).
    pub reached: u64,
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
        let mut reached = 0u64;
        let (mut check_slots, mut check_depth) = (Vec::new(), Vec::new());
        while !frontier.is_empty() {
            // `frontier`: the slots at depth `levels`, their parents final.
            levels += 1;
            reached += frontier.len() as u64;
            if levels % CHECK_EVERY == 0 {
                check_slots.extend_from_slice(&frontier);
                check_depth.resize(check_slots.len(), levels);
            }
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
        drop(done);
        let parent: Vec<u32> = parent.into_iter().map(AtomicU32::into_inner).collect();
        let checks = Checkpoints::index(&parent, check_slots, check_depth, CHECK_EVERY);
        ParentTree {
            parent,
            checks,
            levels,
            reached,
            problem: None,
            build_time: t0.elapsed(),
        }
    }

    /// A tree from its parents (`NONE`, `ROOT | root` or a slot), its checkpoints every
    /// `every` levels found by walking each slot's chain (for tests: quadratic).
    #[cfg(test)]
    pub(crate) fn from_parents(parent: Vec<u32>, every: u32) -> ParentTree {
        let mut tree = ParentTree {
            parent,
            levels: u32::MAX - 1,
            ..ParentTree::default()
        };
        let depths: Vec<Option<u32>> = (0..tree.parent.len() as u64)
            .map(|b| tree.depth(b))
            .collect();
        tree.levels = depths.iter().flatten().copied().max().unwrap_or(0);
        tree.reached = depths.iter().flatten().count() as u64;
        let (mut slots, mut depth) = (Vec::new(), Vec::new());
        for (b, d) in depths.iter().enumerate() {
            match d {
                Some(d) if every > 0 && d % every == 0 => {
                    slots.push(b as u32);
                    depth.push(*d);
                }
                _ => {}
            }
        }
        tree.checks = Checkpoints::index(&tree.parent, slots, depth, every);
        tree
    }

    /// The parent of slot bit `bit` on a shortest path from the roots.
    pub fn parent(&self, bit: u64) -> Parent {
        match self.parent.get(bit as usize).copied().unwrap_or(NONE) {
            NONE => Parent::None,
            p if p & ROOT != 0 => Parent::Root(p & !ROOT),
            p => Parent::Object(u64::from(p)),
        }
    }

    /// The most hops a climb may take before it reaches a checkpoint or a root (more: a
    /// cycle in corrupted parents).
    fn climb_limit(&self) -> u32 {
        if self.checks.every > 0 && !self.checks.slots.is_empty() {
            self.checks.every
        } else {
            self.levels
        }
    }

    /// Climb from `bit` to the nearest checkpoint or slot a root points at: that slot, the
    /// hops climbed, and which it is.
    fn anchor(&self, bit: u64) -> Option<(u64, u32, Anchor)> {
        let limit = self.climb_limit();
        let (mut b, mut hops) = (bit, 0);
        loop {
            if let Some(c) = self.checks.find(b) {
                return Some((b, hops, Anchor::Check(c)));
            }
            match self.parent(b) {
                Parent::None => return None,
                Parent::Root(_) => return Some((b, hops, Anchor::Top)),
                Parent::Object(p) if hops < limit => {
                    hops += 1;
                    b = p;
                }
                Parent::Object(_) => return None,
            }
        }
    }

    /// The depth of slot `bit` if it is a checkpoint (known without a climb).
    pub fn checkpoint_depth(&self, bit: u64) -> Option<u32> {
        self.checks.find(bit).map(|c| self.checks.depth[c])
    }

    /// Hops from a root to slot `bit` (1: a root points at it), if reachable.
    pub fn depth(&self, bit: u64) -> Option<u32> {
        let (_, hops, a) = self.anchor(bit)?;
        Some(match a {
            Anchor::Check(c) => self.checks.depth[c] + hops,
            Anchor::Top => hops + 1,
        })
    }

    /// The ancestor of slot `bit` at depth `want` (`bit` itself at its own depth; `None`:
    /// unreachable, or `want` is 0 or deeper than `bit`).
    pub fn ancestor_at(&self, bit: u64, want: u32) -> Option<u64> {
        let mut d = self.depth(bit)?;
        if want == 0 || want > d {
            return None;
        }
        let mut b = bit;
        while d > want {
            if let Some(mut c) = self.checks.find(b) {
                // Jump up whole checkpoint levels while that stays at or below `want`.
                let every = self.checks.every;
                while self.checks.depth[c] >= want + every && self.checks.up[c] != NONE {
                    c = self.checks.up[c] as usize;
                }
                b = u64::from(self.checks.slots[c]);
                d = self.checks.depth[c];
                if d == want {
                    break;
                }
            }
            match self.parent(b) {
                Parent::Object(p) => b = p,
                _ => return None,
            }
            d -= 1;
        }
        Some(b)
    }

    /// The shortest path to slot `bit`: the root's index and the slots from the first one the
    /// root points at down to `bit` (`None`: not reachable). Walks every hop: see
    /// [`ParentTree::path_ends`] for long paths.
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

    /// The shortest path to slot `bit`, keeping at most `ends` slots at each end of a path
    /// longer than `2 * ends` (`ends` ≥ 1): O(`ends` + depth / [`CHECK_EVERY`]) hops.
    pub fn path_ends(&self, bit: u64, ends: usize) -> Option<SlotPath> {
        let d = self.depth(bit)? as usize;
        let ends = ends.max(1);
        if d <= 2 * ends {
            let (root, slots) = self.path(bit)?;
            return (slots.len() == d).then(|| SlotPath::whole(root, slots));
        }
        let mut tail = Vec::with_capacity(ends);
        let mut b = bit;
        for _ in 0..ends {
            tail.push(b);
            b = match self.parent(b) {
                Parent::Object(p) => p,
                _ => return None,
            };
        }
        tail.reverse();
        let top = self.ancestor_at(bit, ends as u32 + 1)?;
        let (root, mut head) = self.path(top)?;
        if head.len() != ends + 1 {
            return None;
        }
        let after_head = head.pop();
        Some(SlotPath {
            root,
            head,
            after_head,
            tail,
            length: d,
        })
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.parent.capacity() * 4 + self.checks.bytes()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Parents of a forest: chains hanging off roots, with branches, and an unreachable
    /// slot. Slot i of `chain` has parent i - 1; slot 0 is root 0's. Branch slots hang off
    /// chain slots.
    fn forest(chain: usize, branches: &[(usize, usize)]) -> Vec<u32> {
        let mut p = vec![NONE; chain + branches.iter().map(|b| b.1).sum::<usize>() + 1];
        p[0] = ROOT;
        for (i, v) in p.iter_mut().enumerate().take(chain).skip(1) {
            *v = i as u32 - 1;
        }
        let mut next = chain;
        for &(at, len) in branches {
            let mut up = at as u32;
            for _ in 0..len {
                p[next] = up;
                up = next as u32;
                next += 1;
            }
        }
        p
    }

    /// Depth and ancestors by walking every hop.
    fn naive_depth(p: &[u32], b: usize) -> Option<u32> {
        let (mut b, mut d) = (b, 1);
        loop {
            match p[b] {
                NONE => return None,
                x if x & ROOT != 0 => return Some(d),
                x => {
                    b = x as usize;
                    d += 1;
                }
            }
        }
    }

    #[test]
    fn checkpoints_give_the_depths_and_ancestors_of_a_walk() {
        let p = forest(200, &[(5, 30), (64, 70), (130, 3), (199, 50)]);
        let unreachable = p.len() - 1;
        for every in [0, 1, 2, 7, 64] {
            let t = ParentTree::from_parents(p.clone(), every);
            assert_eq!(t.levels, 250, "every {every}");
            for b in 0..p.len() {
                let d = naive_depth(&p, b);
                assert_eq!(t.depth(b as u64), d, "every {every}: depth of {b}");
                let Some(d) = d else { continue };
                let (_, walk) = t.path(b as u64).unwrap();
                for want in 1..=d {
                    assert_eq!(
                        t.ancestor_at(b as u64, want),
                        Some(walk[want as usize - 1]),
                        "every {every}: ancestor of {b} at {want}"
                    );
                }
                assert_eq!(t.ancestor_at(b as u64, 0), None);
                assert_eq!(t.ancestor_at(b as u64, d + 1), None);
            }
            assert_eq!(t.depth(unreachable as u64), None);
            assert_eq!(t.ancestor_at(unreachable as u64, 1), None);
        }
    }

    #[test]
    fn long_paths_keep_their_ends() {
        let p = forest(200, &[(149, 100)]);
        let t = ParentTree::from_parents(p, 16);
        // Slot 299: the branch's end, 250 deep; its whole path by a walk.
        let (_, walk) = t.path(299).unwrap();
        assert_eq!(walk.len(), 250);
        let e = t.path_ends(299, 10).unwrap();
        assert_eq!(e.root, 0);
        assert_eq!(e.length, 250);
        assert_eq!(e.head, walk[..10]);
        assert_eq!(e.after_head, Some(walk[10]));
        assert_eq!(e.tail, walk[240..]);
        assert_eq!(e.elided(), 230);
        // Short enough: whole.
        assert_eq!(
            t.path_ends(299, 125),
            Some(SlotPath::whole(0, walk.clone()))
        );
        let e = t.path_ends(299, 124).unwrap();
        assert_eq!((e.head.len(), e.tail.len(), e.elided()), (124, 124, 2));
        assert_eq!(t.path_ends(1000, 10), None);
        // Pushing a slot onto a path: the same as the path of a slot one deeper.
        for (from, to) in [(297, 298), (298, 299)] {
            for ends in [1, 10, 124, 125, 200] {
                let mut pushed = t.path_ends(from, ends).unwrap();
                pushed.push(to, ends);
                assert_eq!(
                    Some(pushed),
                    t.path_ends(to, ends),
                    "{from} + {to}, ends {ends}"
                );
            }
        }
        let (_, w) = t.path(298).unwrap();
        let mut whole = SlotPath::whole(0, w);
        whole.push(299, 0);
        assert_eq!(whole, SlotPath::whole(0, walk));
    }

    #[test]
    fn corrupted_parents_end_a_climb() {
        // A cycle 1 → 2 → 1 below nothing: no root, no answer, no hang.
        let mut p = vec![NONE; 4];
        p[0] = ROOT;
        p[1] = 2;
        p[2] = 1;
        p[3] = 0;
        let t = ParentTree {
            parent: p,
            levels: 10,
            ..ParentTree::default()
        };
        assert_eq!(t.depth(1), None);
        assert_eq!(t.path_ends(1, 5), None);
        assert_eq!(t.depth(3), Some(2));
    }
}
