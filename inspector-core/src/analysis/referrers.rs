//! The reverse index of the heap graph: for each reachable slot, who points at it (heap
//! objects and roots), built on demand in two parallel passes over the pointer words marking
//! follows ([`super::mark`]): count the pointers into each slot (atomic counters), then fill one
//! flat array in CSR layout (each slot's referrers contiguous, no hash map). A pointer into
//! the middle of an object counts for that object. Only the referrer is stored (4 bytes per
//! pointer); the words of a referrer that point at the object are found again when asked.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::heapgraph::HeapGraph;
use super::mark::{root_words, Reach};
use crate::target::Memory;

/// A root referrer: this bit set, the root's index below it.
const ROOT: u32 = 1 << 31;

/// Who points at an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Referrer {
    /// A heap object: its slot bit.
    Object(u64),
    /// A root: index into `HeapGraph.roots.list`.
    Root(u32),
}

/// One referrer with the offsets of its words pointing into the object (from the referrer's
/// slot start, or the root's address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub from: Referrer,
    pub offsets: Vec<u64>,
}

/// Per reachable slot, its referrers.
#[derive(Debug, Default)]
pub struct ReverseIndex {
    /// Per slot bit, the end of its referrers in `src` (the start is the previous slot's end).
    ends: Vec<u32>,
    /// Referrers: an object's slot bit, or [`ROOT`] | root index.
    src: Vec<u32>,
    pub build_time: Duration,
    /// Why the index is empty, if it is.
    pub problem: Option<String>,
}

impl ReverseIndex {
    /// Build the index of `graph`.
    pub fn build(graph: &HeapGraph, mem: &dyn Memory) -> ReverseIndex {
        let t0 = Instant::now();
        let reach = &graph.reach;
        let bits = reach.slot_bits();
        let roots = &graph.roots.list;
        if bits >= u64::from(ROOT) || roots.len() as u64 >= u64::from(ROOT) {
            return ReverseIndex {
                problem: Some(format!(
                    "{bits} slots and {} roots: too many to index",
                    roots.len()
                )),
                ..ReverseIndex::default()
            };
        }
        let mut cursor: Vec<AtomicU32> = (0..bits).map(|_| AtomicU32::new(0)).collect();
        // Pass 1: count the pointers into each slot.
        let overflow = std::sync::atomic::AtomicBool::new(false);
        for_each_edge(graph, mem, |_, b| {
            if cursor[b as usize].fetch_add(1, Ordering::Relaxed) == u32::MAX {
                overflow.store(true, Ordering::Relaxed);
            }
        });
        // Exclusive prefix sums: each slot's first position.
        let mut total = 0u64;
        for c in cursor.iter_mut() {
            let n = *c.get_mut();
            *c.get_mut() = total as u32;
            total += u64::from(n);
            if total >= u64::from(u32::MAX) {
                overflow.store(true, Ordering::Relaxed);
                break;
            }
        }
        if overflow.into_inner() {
            return ReverseIndex {
                problem: Some(format!(
                    "more than {} pointers: too many to index",
                    u32::MAX
                )),
                ..ReverseIndex::default()
            };
        }
        // Pass 2: fill; each cursor ends at its slot's end.
        let src: Vec<AtomicU32> = (0..total).map(|_| AtomicU32::new(0)).collect();
        for_each_edge(graph, mem, |from, b| {
            let at = cursor[b as usize].fetch_add(1, Ordering::Relaxed);
            src[at as usize].store(from, Ordering::Relaxed);
        });
        ReverseIndex {
            ends: cursor.into_iter().map(AtomicU32::into_inner).collect(),
            src: src.into_iter().map(AtomicU32::into_inner).collect(),
            build_time: t0.elapsed(),
            problem: None,
        }
    }

    /// The referrers of slot `bit`, each once, objects first (by slot), then roots.
    pub fn of(&self, bit: u64) -> Vec<Referrer> {
        let Some(&end) = self.ends.get(bit as usize) else {
            return Vec::new();
        };
        let start = match bit {
            0 => 0,
            _ => self.ends[bit as usize - 1],
        };
        let mut v: Vec<Referrer> = self.src[start as usize..end as usize]
            .iter()
            .map(|&s| decode(s))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Pointers into slot `bit` (a referrer pointing twice counts twice).
    pub fn count(&self, bit: u64) -> u64 {
        let Some(&end) = self.ends.get(bit as usize) else {
            return 0;
        };
        let start = if bit == 0 {
            0
        } else {
            self.ends[bit as usize - 1]
        };
        u64::from(end - start)
    }

    /// Pointers indexed.
    pub fn edges(&self) -> u64 {
        self.src.len() as u64
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        (self.ends.capacity() + self.src.capacity()) * 4
    }
}

fn decode(s: u32) -> Referrer {
    if s & ROOT != 0 {
        Referrer::Root(s & !ROOT)
    } else {
        Referrer::Object(u64::from(s))
    }
}

/// Every pointer from a root or a reachable object into an allocated slot: `f(referrer,
/// target slot bit)`, in parallel (roots, then spans).
fn for_each_edge(graph: &HeapGraph, mem: &dyn Memory, f: impl Fn(u32, u64) + Sync) {
    let reach = &graph.reach;
    graph.roots.list.par_iter().enumerate().for_each(|(i, r)| {
        root_words(mem, r, |_, v| {
            if let Some((_, _, b)) = reach.slot_of(v) {
                f(ROOT | i as u32, b);
            }
        })
    });
    let (spans, _, _) = reach.index();
    spans.par_iter().enumerate().for_each(|(si, s)| {
        if s.spanclass & 1 != 0 {
            return;
        }
        for slot in 0..u64::from(s.nelems) {
            let from = s.bit + slot;
            if !reach.marked(from) {
                continue;
            }
            reach.object_words(mem, si, slot, |_, v| {
                if let Some((_, _, b)) = reach.slot_of(v) {
                    f(from as u32, b);
                }
            });
        }
    });
}

/// The references of `from` into slot `bit`: the offsets of its words pointing there.
pub fn reference(graph: &HeapGraph, mem: &dyn Memory, from: Referrer, bit: u64) -> Reference {
    let reach = &graph.reach;
    let mut offsets = Vec::new();
    let mut hit = |off: u64, v: u64| {
        if reach.slot_of(v).is_some_and(|(_, _, b)| b == bit) {
            offsets.push(off);
        }
    };
    match from {
        Referrer::Root(i) => {
            if let Some(r) = graph.roots.list.get(i as usize) {
                root_words(mem, r, &mut hit);
            }
        }
        Referrer::Object(b) => {
            if let Some((si, slot)) = reach.span_of_bit(b) {
                reach.object_words(mem, si, slot, &mut hit);
            }
        }
    }
    Reference { from, offsets }
}

/// The slot bit of the allocated heap object holding `addr`, if any.
pub fn slot_bit(reach: &Reach, addr: u64) -> Option<u64> {
    reach.slot_of(addr).map(|(_, _, b)| b)
}
