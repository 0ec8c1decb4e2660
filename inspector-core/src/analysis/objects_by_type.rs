//! `objects`: the individual objects of the types a regular expression selects, largest first,
//! and the per-slot type keys that name each reachable object the way `histogram` does
//! ([`TypeKeys`], shared with the `histogram -pprof` export).
//!
//! Slots are visited span by span through the mark index (no hash map per object); the
//! selection keeps only the best `top` rows (a bounded heap per rayon task), so a pattern
//! matching millions of objects costs no memory per object.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use regex::Regex;

use super::histogram::unknown_name;
use super::mark::{bit, Reach, SpanMeta};
use super::objtypes::{display_name, ObjectTypes, TypeSource};

/// The names `histogram` gives reachable objects, by key: `2 * type index + multi` for typed
/// objects (`multi`: the slot holds several elements, `[]T`), then one key per span class for
/// objects of unknown type.
#[derive(Debug, Clone)]
pub struct TypeKeys {
    names: Vec<String>,
    typed: usize,
}

impl TypeKeys {
    /// Names for every key of `types` over the spans of `reach`.
    pub fn new(reach: &Reach, types: &ObjectTypes) -> TypeKeys {
        let (spans, _, _) = reach.index();
        let typed = types.types.len() * 2;
        let mut names = Vec::with_capacity(typed + 256);
        for (i, t) in types.types.iter().enumerate() {
            names.push(display_name(t, false));
            debug_assert_eq!(names.len(), 2 * i + 1);
            names.push(display_name(t, true));
        }
        // Unknown rows are named with their class's slot size, as histogram names them.
        let mut class_size = [None::<u64>; 256];
        for s in spans {
            class_size[s.spanclass as usize].get_or_insert(s.elemsize);
        }
        for (sc, size) in class_size.iter().enumerate() {
            names.push(unknown_name(sc as u8, size.unwrap_or(0)));
        }
        TypeKeys { names, typed }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no keys (never: the unknown keys always exist).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of key `k`.
    pub fn name(&self, k: u32) -> &str {
        &self.names[k as usize]
    }

    /// The key of the reachable slot `b` of span `s`, and how its type was learned (`None`
    /// for unknown).
    pub(crate) fn key(
        &self,
        types: &ObjectTypes,
        s: &SpanMeta,
        b: u64,
    ) -> (u32, Option<TypeSource>) {
        match types.slot(b) {
            Some((ti, how, multi)) => ((ti * 2 + usize::from(multi)) as u32, Some(how)),
            None => ((self.typed + s.spanclass as usize) as u32, None),
        }
    }

    /// Per key, whether `re` matches its name.
    pub fn matching(&self, re: Option<&Regex>) -> Vec<bool> {
        self.names
            .iter()
            .map(|n| re.is_none_or(|re| re.is_match(n)))
            .collect()
    }
}

/// Where a slot's object starts: past its 8-byte malloc header when it has one (Go 1.22+ scan
/// objects above 512 B, not large), as Go pointers to it point.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderRule {
    /// Objects of more than this many bytes carry a header (`None`: no headers: Go 1.21,
    /// `noallocheaders`).
    pub min_size: Option<u64>,
    pub header_size: u64,
}

impl HeaderRule {
    fn offset(&self, s: &SpanMeta) -> u64 {
        match self.min_size {
            Some(min) if s.spanclass & 1 == 0 && s.spanclass >> 1 != 0 && s.elemsize > min => {
                self.header_size
            }
            _ => 0,
        }
    }
}

/// Which objects `objects` lists.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// Reachable objects whose type name (as `histogram` names it) the pattern matches (all
    /// reachable objects for `None`).
    Reachable(Option<&'a Regex>),
    /// Garbage: allocated objects nothing reaches (the next GC frees them); they have no type.
    Garbage,
}

/// One object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectRow {
    /// The object's address (past its malloc header, if any).
    pub addr: u64,
    /// Slot bytes (the size class, or the large object's span bytes), as `histogram` counts.
    pub size: u64,
    #[serde(rename = "type")]
    pub type_name: String,
    /// How the type was learned (`None`: unknown type, or garbage).
    pub source: Option<TypeSource>,
}

/// The selected objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Objects {
    /// The first `top` objects, largest first, then by address.
    pub rows: Vec<ObjectRow>,
    /// Every object that matched, and their bytes.
    pub total_objects: u64,
    pub total_bytes: u64,
}

/// A candidate: larger size first, then lower address; the heap keeps the worst on top.
type Cand = Reverse<(u64, Reverse<u64>, u64)>;

#[derive(Default)]
struct Acc {
    best: BinaryHeap<Cand>,
    objects: u64,
    bytes: u64,
}

impl Acc {
    fn offer(&mut self, top: usize, size: u64, addr: u64, b: u64) {
        self.objects += 1;
        self.bytes += size;
        if top == 0 {
            return;
        }
        let c = Reverse((size, Reverse(addr), b));
        if self.best.len() < top {
            self.best.push(c);
        } else if self.best.peek().is_some_and(|w| c < *w) {
            self.best.pop();
            self.best.push(c);
        }
    }

    fn merge(mut self, o: Acc, top: usize) -> Acc {
        self.objects += o.objects;
        self.bytes += o.bytes;
        for c in o.best {
            let Reverse((size, Reverse(addr), b)) = c;
            // Re-offer without counting again.
            self.objects -= 1;
            self.bytes -= size;
            self.offer(top, size, addr, b);
        }
        self
    }
}

/// The objects `which` selects, at most `top` rows.
pub fn select(
    reach: &Reach,
    types: &ObjectTypes,
    keys: &TypeKeys,
    which: Which<'_>,
    top: usize,
    header: HeaderRule,
) -> Objects {
    let (spans, alloc, marks) = reach.index();
    let wanted = match which {
        Which::Reachable(re) => keys.matching(re),
        Which::Garbage => Vec::new(),
    };
    let garbage = matches!(which, Which::Garbage);
    let acc = spans
        .par_iter()
        .fold(Acc::default, |mut acc, s| {
            let off = header.offset(s);
            for slot in 0..u64::from(s.nelems) {
                let b = s.bit + slot;
                if !bit(alloc, b) || bit(marks, b) == garbage {
                    continue;
                }
                if !garbage && !wanted[keys.key(types, s, b).0 as usize] {
                    continue;
                }
                acc.offer(top, s.elemsize, s.base + slot * s.elemsize + off, b);
            }
            acc
        })
        .reduce(Acc::default, |a, b| a.merge(b, top));
    let mut best = acc.best.into_vec();
    best.sort();
    let rows = best
        .into_iter()
        .map(|Reverse((size, Reverse(addr), b))| {
            let (type_name, source) = if garbage {
                ("garbage".to_string(), None)
            } else {
                let i = spans.partition_point(|s| s.bit <= b) - 1;
                let (k, how) = keys.key(types, &spans[i], b);
                (keys.name(k).to_string(), how)
            };
            ObjectRow {
                addr,
                size,
                type_name,
                source,
            }
        })
        .collect();
    Objects {
        rows,
        total_objects: acc.objects,
        total_bytes: acc.bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_largest_then_lowest_addresses() {
        let mut a = Acc::default();
        for (size, addr) in [(16, 0x30), (64, 0x50), (16, 0x10), (64, 0x40), (32, 0x20)] {
            a.offer(3, size, addr, addr);
        }
        let mut b = Acc::default();
        b.offer(3, 64, 0x08, 0x08);
        b.offer(3, 8, 0x01, 0x01);
        let a = a.merge(b, 3);
        assert_eq!((a.objects, a.bytes), (7, 16 + 64 + 16 + 64 + 32 + 64 + 8));
        let mut v = a.best.into_vec();
        v.sort();
        let got: Vec<(u64, u64)> = v
            .into_iter()
            .map(|Reverse((s, Reverse(a), _))| (s, a))
            .collect();
        assert_eq!(got, [(64, 0x08), (64, 0x40), (64, 0x50)]);
        // top 0 counts only.
        let mut z = Acc::default();
        z.offer(0, 8, 1, 1);
        assert_eq!((z.objects, z.bytes, z.best.len()), (1, 8, 0));
    }

    #[test]
    fn header_rule() {
        let span = |spanclass: u8, elemsize: u64| SpanMeta {
            base: 0,
            elemsize,
            nelems: 1,
            npages: 1,
            spanclass,
            bit: 0,
            large_type: 0,
            div_mul: 0,
        };
        let h = HeaderRule {
            min_size: Some(512),
            header_size: 8,
        };
        assert_eq!(h.offset(&span(40, 1024)), 8, "scan, above 512 B");
        assert_eq!(h.offset(&span(41, 1024)), 0, "noscan");
        assert_eq!(h.offset(&span(20, 512)), 0, "512 B: heap bits");
        assert_eq!(h.offset(&span(0, 40960)), 0, "large: largeType");
        assert_eq!(HeaderRule::default().offset(&span(40, 1024)), 0, "Go 1.21");
    }
}
