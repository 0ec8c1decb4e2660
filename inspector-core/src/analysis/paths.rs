//! Shortest paths from roots: a breadth-first search from every root at once over the pointer
//! words marking follows ([`super::mark`]), recording for each reachable slot the parent it
//! was first reached from ([`ParentTree`]: one `u32` per slot, no hash map). Following
//! parents from an object up to a root gives a path with the fewest hops; among equally short
//! ones the smallest parent (roots in their list order, then objects by address) is kept, so
//! the tree does not depend on thread scheduling.

use std::sync::atomic::{AtomicU32, Ordering};

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
}

impl ParentTree {
    /// Breadth-first search from every root of `graph`.
    pub fn build(graph: &HeapGraph, mem: &dyn Memory) -> ParentTree {
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
