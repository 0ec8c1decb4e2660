//! Typed roots besides globals, for [`super::objtypes`]: the objects of finalizer specials
//! (the special's `ot` is `*T`: the object is a `T`) and the live pointer slots of goroutine
//! stack frames, typed by the DWARF variables located there.
//!
//! For each physical frame a stack map scans (frames scanned word by word are skipped), the
//! function's DWARF variables ([`crate::binary::dwarf::locals`], parsed once per function)
//! are located at the pc the stack maps use (the return address − 1, unless at the entry),
//! the CFA being the frame's `fp` (the caller's sp; `argp` in [`crate::runtime::stackscan`]).
//! A variable's type is cut into its pointer-holding leaves (pointers, slices, strings,
//! interfaces, maps, channels, functions; structs by field, arrays by element) and each leaf
//! whose words are on the stack together and whose pointer word a stack root marks live (the
//! locals or arguments map, or a live stack object) becomes a [`TypedRoot::Value`]: a dead
//! slot may hold a stale pointer to reused memory and is never typed. The names of the
//! variables typed in each stack root are kept for display.

use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use super::objtypes::{TypeSource, TypedRoot};
use crate::binary::dwarf::locals::{FrameVariable, Piece};
use crate::binary::dwarf::{DwarfIndex, VariableType};
use crate::runtime::goroutines::{Goroutine, Goroutines};
use crate::runtime::roots::{RootKind, RootMask, Roots};
use crate::runtime::types::TypeReader;
use crate::target::{Memory, MemoryExt};

/// What typing the roots reads.
pub struct RootTypeInput<'a> {
    pub mem: &'a dyn Memory,
    pub dwarf: &'a DwarfIndex,
    pub types: &'a TypeReader<'a>,
    /// Load bias (target address − link-time address).
    pub bias: u64,
    pub goroutines: &'a Goroutines,
    pub roots: &'a Roots,
}

/// The typed roots found, and the names of the variables in each stack root.
#[derive(Debug, Default)]
pub struct TypedRoots {
    pub roots: Vec<TypedRoot>,
    /// (index in [`Roots::list`], names of the variables typed in that root), by index.
    pub names: Vec<(usize, Vec<Arc<str>>)>,
    /// Functions whose DWARF could not be read (their frames are not typed).
    pub problems: Vec<String>,
}

/// Typed roots of finalizer specials and goroutine stacks.
pub fn compute(inp: &RootTypeInput<'_>) -> TypedRoots {
    let mut out = TypedRoots::default();
    finalizer_objects(inp, &mut out.roots);
    stack_values(inp, &mut out);
    out
}

/// `TypedRoot::Object` for each finalizer special whose `ot` is a pointer type.
fn finalizer_objects(inp: &RootTypeInput<'_>, out: &mut Vec<TypedRoot>) {
    let tr = inp.types;
    for &(obj, ot) in &inp.roots.finalizer_types {
        let Ok(t) = tr.read(ot) else { continue };
        if t.kind != "ptr" {
            continue;
        }
        if let Ok(elem) = tr.elem(&t) {
            out.push(TypedRoot::Object {
                ptr: obj,
                elem,
                how: TypeSource::Finalizer,
            });
        }
    }
}

/// How a leaf's words are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeafKind {
    /// One pointer word (pointer, map, channel, function, unsafe.Pointer); also a slice,
    /// whose pointer word is all typing reads.
    Word,
    /// A string: the pointer word live, the length beside it.
    Str,
    /// An interface: type (or itab) word and data word; stack maps mark only the data word.
    Iface,
    /// A slice whose DWARF type names only its element's runtime type: the object its pointer
    /// points at holds elements of `typ`.
    SliceOf,
}

/// A pointer-holding part of a variable: its offset in the variable and its type descriptor.
#[derive(Debug, Clone, Copy)]
struct Leaf {
    off: u64,
    typ: u64,
    kind: LeafKind,
}

/// A variable and its leaves.
struct PlanVar {
    var: FrameVariable,
    leaves: Vec<Leaf>,
}

/// Bound on the leaves of one variable (a huge array is cut).
const MAX_LEAVES: usize = 1024;
/// Bound on struct/array nesting followed.
const MAX_DEPTH: u32 = 32;

/// The pointer-holding leaves of a value of the type at `addr`, at `base` in the variable.
fn flatten(tr: &TypeReader<'_>, addr: u64, base: u64, depth: u32, out: &mut Vec<Leaf>) {
    if depth > MAX_DEPTH || out.len() >= MAX_LEAVES {
        return;
    }
    let Ok(t) = tr.read(addr) else { return };
    if t.ptr_bytes == 0 {
        return;
    }
    let leaf = |kind| Leaf {
        off: base,
        typ: addr,
        kind,
    };
    match t.kind {
        "struct" => {
            for f in tr.struct_fields(&t).unwrap_or_default() {
                flatten(tr, f.typ, base.saturating_add(f.offset), depth + 1, out);
            }
        }
        "array" => {
            let Ok((elem, len)) = tr.array(&t) else {
                return;
            };
            let Ok(et) = tr.read(elem) else { return };
            if et.ptr_bytes == 0 || et.size == 0 {
                return;
            }
            for i in 0..len.min(MAX_LEAVES as u64) {
                if out.len() >= MAX_LEAVES {
                    return;
                }
                let at = base.saturating_add(i.saturating_mul(et.size));
                flatten(tr, elem, at, depth + 1, out);
            }
        }
        "string" => out.push(leaf(LeafKind::Str)),
        "interface" => out.push(leaf(LeafKind::Iface)),
        _ => out.push(leaf(LeafKind::Word)),
    }
}

/// A function's variables with their leaves (read once per function).
fn plan(inp: &RootTypeInput<'_>, f: usize, func: &str) -> Result<Vec<PlanVar>, String> {
    let base = inp.types.types_base();
    let vars = inp
        .dwarf
        .function_variables(f)
        .map_err(|e| format!("DWARF of {func}: {e}"))?;
    Ok(vars
        .into_iter()
        .filter_map(|var| {
            let mut leaves = Vec::new();
            match var.typ {
                VariableType::Type(off) => flatten(inp.types, base + off, 0, 0, &mut leaves),
                VariableType::SliceOf(off) => leaves.push(Leaf {
                    off: 0,
                    typ: base + off,
                    kind: LeafKind::SliceOf,
                }),
            }
            (!leaves.is_empty()).then_some(PlanVar { var, leaves })
        })
        .collect())
}

/// The CFA offset of the 8-byte word at byte `off` of a variable located by `pieces`.
fn word_at(pieces: &[Piece], off: u64) -> Option<i64> {
    let mut start = 0u64;
    for p in pieces {
        let Some(size) = p.size else {
            return p.cfa_offset.map(|o| o.wrapping_add(off as i64));
        };
        let end = start.saturating_add(size);
        if start <= off && off.saturating_add(8) <= end {
            return p.cfa_offset.map(|o| o.wrapping_add((off - start) as i64));
        }
        start = end;
    }
    None
}

/// The stack address of `words` consecutive words at byte `off` of a variable, if they lie
/// together on the stack.
fn place(pieces: &[Piece], cfa: u64, off: u64, words: u64) -> Option<u64> {
    let first = word_at(pieces, off)?;
    for w in 1..words {
        if word_at(pieces, off.saturating_add(8 * w))? != first.wrapping_add(8 * w as i64) {
            return None;
        }
    }
    Some(cfa.wrapping_add(first as u64))
}

/// A goroutine's live pointer words: its stack roots with stack-map masks (locals, arguments,
/// live stack objects), sorted by address.
struct LiveWords<'a> {
    /// (start, end, root index), sorted by start.
    spans: Vec<(u64, u64, usize)>,
    /// Longest span (bounds the backward search).
    longest: u64,
    roots: &'a Roots,
}

impl LiveWords<'_> {
    /// The root marking the word at `addr` as a live pointer.
    fn root_of(&self, addr: u64) -> Option<usize> {
        if !addr.is_multiple_of(8) {
            return None;
        }
        let end = self.spans.partition_point(|s| s.0 <= addr);
        for &(start, stop, i) in self.spans[..end].iter().rev() {
            if start.saturating_add(self.longest) <= addr {
                break;
            }
            if addr < stop && self.roots.list[i].mask.word((addr - start) / 8) {
                return Some(i);
            }
        }
        None
    }
}

/// Typed roots of every live goroutine's stack frames.
fn stack_values(inp: &RootTypeInput<'_>, out: &mut TypedRoots) {
    // Stack roots scanned by stack maps come in one run per goroutine (as enumerated):
    // (goid, first root index, end), sorted by goroutine.
    let list = &inp.roots.list;
    let mapped = |i: usize| {
        let r = &list[i];
        (r.kind == RootKind::Stack && matches!(r.mask, RootMask::Bits(_)))
            .then_some(r.goid)
            .flatten()
    };
    let mut runs: Vec<(u64, usize, usize)> = Vec::new();
    for i in 0..list.len() {
        let Some(goid) = mapped(i) else { continue };
        match runs.last_mut() {
            Some(run) if run.0 == goid => run.2 = i + 1,
            _ => runs.push((goid, i, i + 1)),
        }
    }
    runs.sort_unstable();
    let plans: Vec<OnceLock<Result<Vec<PlanVar>, String>>> = (0..inp.dwarf.function_count())
        .map(|_| OnceLock::new())
        .collect();
    type PerG = (Vec<TypedRoot>, Vec<(usize, VarRef)>);
    let per_g: Vec<PerG> = inp
        .goroutines
        .list
        .par_iter()
        .filter(|g| !g.is_dead())
        .map(|g| {
            let lo = runs.partition_point(|e| e.0 < g.id);
            let hi = runs.partition_point(|e| e.0 <= g.id);
            let roots: Vec<usize> = runs[lo..hi]
                .iter()
                .flat_map(|&(_, a, b)| a..b)
                .filter(|&i| mapped(i) == Some(g.id))
                .collect();
            goroutine_values(inp, &plans, g, &roots)
        })
        .collect();
    let mut names: Vec<(usize, VarRef)> = Vec::new();
    for (r, n) in per_g {
        out.roots.extend(r);
        names.extend(n);
    }
    names.sort_unstable();
    names.dedup();
    let name = |(f, v): VarRef| -> Option<Arc<str>> {
        let vars = plans.get(f as usize)?.get()?.as_ref().ok()?;
        Some(vars.get(v as usize)?.var.name.clone())
    };
    for (i, var) in names {
        let Some(n) = name(var) else { continue };
        match out.names.last_mut() {
            Some((j, v)) if *j == i => {
                if !v.contains(&n) {
                    v.push(n)
                }
            }
            _ => out.names.push((i, vec![n])),
        }
    }
    for p in plans.into_iter().filter_map(OnceLock::into_inner) {
        if let Err(e) = p {
            out.problems
                .push(format!("{e}; its frames' variables are not typed"));
        }
    }
}

/// A variable of a function's plan: (function index, variable index).
type VarRef = (u32, u32);

/// A located, live leaf of a frame's variable.
#[derive(Debug, Clone, Copy)]
struct Cand {
    addr: u64,
    words: u64,
    typ: u64,
    kind: LeafKind,
    /// The stack root marking it live.
    root: usize,
    var: VarRef,
}

/// Drop the candidates of one frame that overlap a candidate of another type or place:
/// variables sharing a slot (Go 1.23+ merges the stack slots of locals whose lifetimes do not
/// overlap) cannot say which of them is there. Candidates with the same place and type are
/// one: the kept candidates are left sorted by place, duplicates (other names) next to each
/// other.
fn unambiguous(cands: &mut Vec<Cand>) {
    cands.sort_unstable_by_key(|c| (c.addr, c.typ, c.words));
    let mut keep = vec![true; cands.len()];
    let mut i = 0;
    while i < cands.len() {
        // A run of candidates overlapping one another.
        let mut end = cands[i].addr + 8 * cands[i].words;
        let mut j = i + 1;
        while j < cands.len() && cands[j].addr < end {
            end = end.max(cands[j].addr + 8 * cands[j].words);
            j += 1;
        }
        let first = cands[i];
        let same = cands[i..j].iter().all(|c| {
            (c.addr, c.typ, c.words, c.kind) == (first.addr, first.typ, first.words, first.kind)
        });
        if !same {
            keep[i..j].iter_mut().for_each(|k| *k = false);
        }
        i = j;
    }
    let mut k = keep.iter();
    cands.retain(|_| *k.next().unwrap_or(&false));
}

/// The typed stack values of one goroutine, and the variables named in each root;
/// `stack_roots`: the indices of its stack roots with stack-map masks.
fn goroutine_values(
    inp: &RootTypeInput<'_>,
    plans: &[OnceLock<Result<Vec<PlanVar>, String>>],
    g: &Goroutine,
    stack_roots: &[usize],
) -> (Vec<TypedRoot>, Vec<(usize, VarRef)>) {
    let mut values = Vec::new();
    let mut names = Vec::new();
    if stack_roots.is_empty() {
        return (values, names);
    }
    let mut spans: Vec<(u64, u64, usize)> = stack_roots
        .iter()
        .map(|&i| {
            let r = &inp.roots.list[i];
            (r.addr, r.addr.saturating_add(r.size), i)
        })
        .collect();
    spans.sort_unstable();
    let longest = spans.iter().map(|s| s.1 - s.0).max().unwrap_or(0);
    let live = LiveWords {
        spans,
        longest,
        roots: inp.roots,
    };
    let on_stack =
        |a: u64, words: u64| a >= g.stack_lo && a.saturating_add(8 * words) <= g.stack_hi;
    let mut cands: Vec<Cand> = Vec::new();
    for fr in g.backtrace.frames.iter().filter(|f| !f.inlined) {
        let link = fr.pc.wrapping_sub(inp.bias);
        let pc = if fr.pc == fr.entry {
            link
        } else {
            link.wrapping_sub(1)
        };
        let Some(f) = inp.dwarf.function_at(pc) else {
            continue;
        };
        let Ok(vars) = plans[f].get_or_init(|| plan(inp, f, &fr.func)) else {
            continue;
        };
        cands.clear();
        for (vi, pv) in vars.iter().enumerate() {
            let Some(pieces) = pv.var.location_at(pc) else {
                continue;
            };
            for leaf in &pv.leaves {
                let (words, live_word) = match leaf.kind {
                    LeafKind::Word | LeafKind::SliceOf => (1, 0),
                    LeafKind::Str => (2, 0),
                    LeafKind::Iface => (2, 1),
                };
                let Some(addr) = place(pieces, fr.fp, leaf.off, words) else {
                    continue;
                };
                if !on_stack(addr, words) {
                    continue;
                }
                if let Some(root) = live.root_of(addr + 8 * live_word) {
                    cands.push(Cand {
                        addr,
                        words,
                        typ: leaf.typ,
                        kind: leaf.kind,
                        root,
                        var: (f as u32, vi as u32),
                    });
                }
            }
        }
        unambiguous(&mut cands);
        let mut prev = None;
        for c in &cands {
            if prev.replace(c.addr) == Some(c.addr) {
                continue;
            }
            let v = if c.kind == LeafKind::SliceOf {
                match inp.mem.read_ptr(c.addr) {
                    Ok(p) if p != 0 => TypedRoot::Object {
                        ptr: p,
                        elem: c.typ,
                        how: TypeSource::Stack,
                    },
                    _ => continue,
                }
            } else {
                TypedRoot::Value {
                    addr: c.addr,
                    typ: c.typ,
                    how: TypeSource::Stack,
                }
            };
            values.push(v);
        }
        names.extend(cands.iter().map(|c| (c.root, c.var)));
    }
    (values, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(size: Option<u64>, off: Option<i64>) -> Piece {
        Piece {
            size,
            cfa_offset: off,
        }
    }

    #[test]
    fn words_of_a_whole_value() {
        let p = [piece(None, Some(-40))];
        assert_eq!(word_at(&p, 0), Some(-40));
        assert_eq!(word_at(&p, 8), Some(-32));
        assert_eq!(place(&p, 0x1000, 0, 2), Some(0x1000 - 40));
        assert_eq!(place(&[piece(None, None)], 0x1000, 0, 1), None);
    }

    #[test]
    fn words_of_pieces() {
        // A string split: pointer at CFA+0, length at CFA+8 (together on the stack).
        let s = [piece(Some(8), Some(0)), piece(Some(8), Some(8))];
        assert_eq!(place(&s, 0x2000, 0, 2), Some(0x2000));
        // Pointer on the stack, length in a register: the pointer word alone is placed.
        let r = [piece(Some(8), Some(-16)), piece(Some(8), None)];
        assert_eq!(place(&r, 0x2000, 0, 1), Some(0x2000 - 16));
        assert_eq!(place(&r, 0x2000, 0, 2), None);
        // Pieces on the stack but not next to each other.
        let apart = [piece(Some(8), Some(-16)), piece(Some(8), Some(-48))];
        assert_eq!(place(&apart, 0x2000, 0, 2), None);
        assert_eq!(place(&apart, 0x2000, 8, 1), Some(0x2000 - 48));
        // A word across two pieces, or past the last one, has no place.
        let odd = [piece(Some(4), Some(0)), piece(Some(12), Some(4))];
        assert_eq!(word_at(&odd, 0), None);
        assert_eq!(word_at(&odd, 8), Some(8));
        assert_eq!(word_at(&odd, 16), None);
    }

    #[test]
    fn slots_shared_by_variables_of_other_types_are_dropped() {
        let cand = |addr, words, typ, var| Cand {
            addr,
            words,
            typ,
            kind: LeafKind::Word,
            root: 0,
            var: (0, var),
        };
        // Two variables in one *T slot: kept, both; a slot claimed as *T and *U: dropped.
        let mut v = vec![
            cand(0x130, 1, 0x900, 2),
            cand(0x100, 1, 0x700, 0),
            cand(0x100, 1, 0x700, 1),
            cand(0x120, 1, 0x800, 0),
            cand(0x120, 1, 0x900, 1),
        ];
        unambiguous(&mut v);
        let kept: Vec<(u64, u32)> = v.iter().map(|c| (c.addr, c.var.1)).collect();
        assert_eq!(kept, [(0x100, 0), (0x100, 1), (0x130, 2)]);
        // A two-word value overlapping a one-word one of another place: both dropped.
        let mut v = vec![cand(0x200, 2, 0x700, 0), cand(0x208, 1, 0x700, 1)];
        unambiguous(&mut v);
        assert!(v.is_empty());
    }
}
