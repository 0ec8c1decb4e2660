//! Types for the reachable heap objects, in a table indexed like the mark bits (one entry per
//! span slot).
//!
//! Sources, most authoritative first:
//!
//! - `header`, `large`: Go 1.22+ store the type of every scan object above 512 B in an 8-byte
//!   malloc header, and of every large scan object in `mspan.largeType` (Go 1.21 and
//!   `noallocheaders` store none);
//! - `global`: the typed words of global variables, their types from DWARF
//!   (`DW_AT_go_runtime_type`), type the objects they point at, by the rules below;
//! - then propagation along typed pointer words until nothing more is learned: `field` (a `*T`
//!   word of a typed object pointing at an object's start: the object is a `T`), `slice` (the
//!   backing array of a `[]E` holds `E`s; the pointer may be into it at an element boundary),
//!   `string` (a string's bytes: "string data"), `iface` (an interface's type word, or its
//!   itab's type, gives the type of the value its data word points to), `map`, `chan`,
//!   `closure` (the runtime's map and channel structures and closure objects, named by
//!   pseudo-types: see the `follow` submodule).
//!
//! An object is never re-typed, and a propagated type is only taken when it is consistent with
//! the slot: it fits, the span's scan/noscan class matches whether the type has pointers (not
//! for pseudo-types), the slot is not a tiny block (the tiny span class packs several small
//! noscan objects in one 16-byte block; a 16-byte type pointed at from the slot's start fills
//! it, so it is taken) nor a header-carrying slot (its header is the truth). Stack frames are
//! not followed here (typed roots come in through [`TypedRoot`]).
//! Objects holding several elements of a real type are named `[]T`.

use std::borrow::Cow;

use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod closure_sites;
mod follow;
mod registry;

use registry::Registry;

pub use follow::Followers;

use super::mark::{self, IndexInput, MarkInput, Reach, SlotBits, SpanLookup, SpanMeta};
use crate::binary::dwarf::VariableType;
use crate::runtime::layout::ObjectConsts;
use crate::runtime::types::TypeReader;
use crate::target::{Memory, MemoryExt};

/// How an object's type was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeSource {
    Header,
    Large,
    Field,
    Slice,
    String,
    Iface,
    /// A typed word of a global variable (typed by DWARF).
    Global,
    /// A typed word of a goroutine's stack frame (a local or argument typed by DWARF).
    Stack,
    /// The object of a finalizer special (the special's pointer type).
    Finalizer,
    /// A map's runtime structures (header, bucket or group arrays, directory, tables,
    /// overflow buckets), from a map-typed word.
    Map,
    /// A channel's `hchan` and its buffer, from a chan-typed word.
    Chan,
    /// A closure object, from a func-typed word.
    Closure,
}

impl TypeSource {
    pub const ALL: [TypeSource; 12] = [
        TypeSource::Header,
        TypeSource::Large,
        TypeSource::Field,
        TypeSource::Slice,
        TypeSource::String,
        TypeSource::Iface,
        TypeSource::Global,
        TypeSource::Stack,
        TypeSource::Finalizer,
        TypeSource::Map,
        TypeSource::Chan,
        TypeSource::Closure,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TypeSource::Header => "header",
            TypeSource::Large => "large",
            TypeSource::Field => "field",
            TypeSource::Slice => "slice",
            TypeSource::String => "string",
            TypeSource::Iface => "iface",
            TypeSource::Global => "global",
            TypeSource::Stack => "stack",
            TypeSource::Finalizer => "finalizer",
            TypeSource::Map => "map",
            TypeSource::Chan => "chan",
            TypeSource::Closure => "closure",
        }
    }
}

/// One type objects were found to have.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    /// Descriptor address (0: a pseudo-type, see [`Pseudo`]).
    pub addr: u64,
    pub name: String,
    pub size: u64,
    pub ptr_bytes: u64,
    pub pseudo: Pseudo,
}

/// Whether a type is a real descriptor or one goheap names itself: string bytes and the
/// runtime's own structures that have no descriptor in the binary (map headers, directories
/// and tables, channel headers, closures). A pseudo-type's object is never named `[]T`, and
/// its span's scan/noscan class is not checked (a channel of pointer-free elements shares a
/// noscan allocation with its buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pseudo {
    /// A real type descriptor.
    No,
    /// One object whose words are read once (`size` covers the words read).
    One,
    /// An array object: `size` bytes repeated over the whole object.
    Each,
}

/// The name of the pseudo-type of string bytes.
pub const STRING_DATA: &str = "string data";

/// The index of the "string data" pseudo-type in [`ObjectTypes::types`].
const STRING_DATA_INDEX: u32 = 0;

/// Per-slot types of the reachable objects.
#[derive(Debug, Clone, Default)]
pub struct ObjectTypes {
    /// Index 0 is the "string data" pseudo-type.
    pub types: Vec<TypeInfo>,
    /// Per slot (the mark bits' index): [`packed`] type and source, 0 when unknown.
    slot_type: Vec<u32>,
    /// Objects typed from each source (in [`TypeSource::ALL`] order).
    pub by_source: [u64; 12],
    /// Maps, channels and closures seen whose layout could not be read (their objects stay
    /// unknown).
    pub skipped: u64,
    /// Untyped objects that typed words of two different types pointed at (the first to
    /// arrive typed it; see [`compute`]).
    pub conflicts: u64,
    /// Closure functions whose captured variables stay unknown (no DWARF offsets and no
    /// creation site in the code validates, or two disagree; see the `follow` submodule).
    pub closures_uncaptured: u64,
}

/// In a slot's source byte: the slot holds several elements.
const MULTI: u8 = 0x80;
/// The type index bits of a slot's entry.
const TYPE_BITS: u32 = 24;
const TYPE_MASK: u32 = (1 << TYPE_BITS) - 1;

/// A slot's entry: type index + 1 in the low [`TYPE_BITS`] bits, the source ([`TypeSource`]
/// as u8, [`MULTI`] set for several elements) above, so that one word (one compare-and-swap)
/// holds both. `None` when the index does not fit.
fn packed(ti: u32, how: u8) -> Option<u32> {
    (ti < TYPE_MASK).then(|| u32::from(how) << TYPE_BITS | (ti + 1))
}

impl ObjectTypes {
    /// The type of the slot with global index `bit`: (index in `types`, how learned,
    /// several elements).
    pub fn slot(&self, bit: u64) -> Option<(usize, TypeSource, bool)> {
        let v = *self.slot_type.get(bit as usize)?;
        let t = v & TYPE_MASK;
        if t == 0 {
            return None;
        }
        let h = (v >> TYPE_BITS) as u8;
        Some((
            t as usize - 1,
            TypeSource::ALL[(h & !MULTI) as usize],
            h & MULTI != 0,
        ))
    }

    /// The type of the reachable object holding `addr`, named as `histogram` names it.
    pub fn type_of(&self, reach: &Reach, addr: u64) -> Option<(String, TypeSource)> {
        let (spans, _, _) = reach.index();
        let i = spans.partition_point(|s| s.base <= addr).checked_sub(1)?;
        let s = &spans[i];
        let slot = (addr - s.base) / s.elemsize.max(1);
        (slot < u64::from(s.nelems)).then_some(())?;
        let (t, how, multi) = self.slot(s.bit + slot)?;
        Some((display_name(&self.types[t], multi), how))
    }
}

/// `T`, or `[]T` for a slot holding several `T`s.
pub fn display_name(t: &TypeInfo, multi: bool) -> String {
    if multi {
        format!("[]{}", t.name)
    } else {
        t.name.clone()
    }
}

/// A typed place outside the heap that starts propagation (besides globals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedRoot {
    /// A value of the type whose descriptor is at `typ`, stored at `addr` (a stack slot
    /// typed by DWARF): its typed words type what they point at.
    Value {
        addr: u64,
        typ: u64,
        how: TypeSource,
    },
    /// `ptr` points at a `T` (`elem`: T's descriptor): the object it points at is a `T`.
    Object {
        ptr: u64,
        elem: u64,
        how: TypeSource,
    },
}

/// A typed pointer-holding word of a type, at an offset.
#[derive(Debug, Clone, Copy)]
enum Edge {
    /// `*T`: the element type.
    Ptr(u64),
    /// `[]E`: the element type.
    Slice(u64),
    Str,
    /// An interface; `true` when it has methods (its first word is an itab).
    Iface(bool),
    /// A map: the map type.
    Map(u64),
    /// A channel: the chan type.
    Chan(u64),
    /// A func value (a closure object, or a funcval in read-only data).
    Func,
}

/// Edges of one value of a type (offsets within it).
/// Edges with their types resolved to type indices (`None`: unreadable type).
type Edges = Arc<Vec<(u64, Resolved)>>;

/// An [`Edge`] whose element type is a type index.
#[derive(Debug, Clone, Copy)]
enum Resolved {
    Ptr(Option<u32>),
    Slice(Option<u32>),
    Str,
    Iface(bool),
    /// A pointer to the start of an object of a (pseudo-)type, learned as `how`.
    To(Option<u32>, TypeSource),
    /// A Swiss map's `dirPtr`: one group when the `dirLen` word (at `len_at` in the value) is
    /// 0, else the directory.
    SwissDir {
        len_at: u64,
        group: Option<u32>,
        dir: Option<u32>,
    },
    Func,
}

/// Bound on the edges collected for one type (a huge array of structs is cut).
const MAX_EDGES: usize = 1 << 14;
/// Bound on struct/array nesting followed.
const MAX_DEPTH: u32 = 32;

/// What every worker reads, and the per-slot table they fill.
struct Shared<'a> {
    lookup: &'a SpanLookup,
    mem: &'a dyn Memory,
    tr: &'a TypeReader<'a>,
    spans: &'a [SpanMeta],
    /// Each span's mapped bytes (empty: read from `mem`).
    data: &'a [&'a [u8]],
    /// Allocation, mark, typed and scanned bits. Mark bits are set by marking as it runs
    /// (typing while marking), or all before (typing a marked heap). `typed` is set once a
    /// slot's type is: most pointers lead to typed objects, and the bit shares its cache line
    /// with the others where `slot_type` would be a miss. `scanned` is claimed by whoever
    /// follows the typed words of the object: marking when it reaches an object typed already,
    /// or the worker that types a marked object.
    bits: &'a [SlotBits],
    header_min: u64,
    header_size: u64,
    types_stored: bool,
    tiny_class: u8,
    followers: Followers<'a>,
    /// Per slot: its [`packed`] type and source (0: unknown), set once (compare-and-swap).
    slot_type: Vec<AtomicU32>,
    reg: Mutex<Registry<'a>>,
    /// (objects typed per source, skipped) of finished workers.
    totals: Mutex<([u64; 12], u64)>,
    /// A slot two workers found two different types for (the first stays).
    conflicts: AtomicU64,
}

/// What a worker needs of a type on the hot path.
#[derive(Debug, Clone, Copy)]
struct Meta {
    size: u64,
    ptr_bytes: u64,
    pseudo: Pseudo,
    addr: u64,
}

/// One task's view: its copies of the registry's data, its counts and the objects it typed
/// after they were marked (work items for marking, [`mark::RETYPE`] set).
struct Worker<'s, 'a> {
    sh: &'s Shared<'a>,
    metas: Vec<Option<Meta>>,
    edges: Vec<Option<Edges>>,
    by_source: [u64; 12],
    skipped: u64,
    work: Vec<(u32, u32)>,
    /// The stored type last looked up: (descriptor, type index).
    last_stored: (u64, Option<u32>),
    /// How marking follows the typed words of each type with it ([`Fused`]), by type index.
    fused: Vec<Option<Box<Fused>>>,
    /// The type of the object whose words marking reports as edges.
    current: u32,
}

/// How the typed words of objects of a type are followed with marking: the words that name
/// their target's type outright (`*T`, `[]T`, a runtime structure's pointer) are reported by
/// marking as it looks them up ([`mark::Visitor::edge`]), one lookup serving both; the others
/// are followed as usual. For small objects (by their heap bits) and objects whose header or
/// `largeType` gives their type.
struct Fused {
    /// Whether the type qualifies: whole words, at most 64 of them.
    ok: bool,
    /// Words per value.
    words: u64,
    /// Bit `i`: word `i` of an object holding values from its start, the value repeated
    /// over 64 words, is such a word.
    repeated: u64,
    /// Word `i` (as in `repeated`) → index in `targets`.
    at: [u8; 64],
    /// (type index, how learned, whether only an object's start) of each such word.
    targets: Vec<(u32, TypeSource, bool)>,
    /// The other edges.
    rest: Edges,
    /// The object size last asked for and its words ([`Fused::words_of`]).
    last: (u64, u64),
}

impl Fused {
    /// How the typed words of values of a type of facts `m` and `edges` are followed.
    fn new(m: Meta, edges: &[(u64, Resolved)]) -> Fused {
        let mut f = Fused {
            ok: false,
            words: 1,
            repeated: 0,
            at: [0; 64],
            targets: Vec::new(),
            rest: Arc::new(Vec::new()),
            last: (u64::MAX, 0),
        };
        if m.ptr_bytes == 0 || (m.addr == 0 && m.pseudo == Pseudo::No) {
            // Nothing is followed.
            f.ok = true;
            return f;
        }
        if m.size == 0 || !m.size.is_multiple_of(8) || m.size > 64 * 8 {
            return f;
        }
        let words = m.size / 8;
        let (mut one, mut at, mut rest) = (0u64, [0u8; 64], Vec::new());
        for &(off, e) in edges {
            let target = match e {
                Resolved::Ptr(Some(t)) => Some((t, TypeSource::Field, true)),
                Resolved::Slice(Some(t)) => Some((t, TypeSource::Slice, false)),
                Resolved::To(Some(t), how) => Some((t, how, true)),
                // Nothing to follow.
                Resolved::Ptr(None) | Resolved::Slice(None) => continue,
                _ => None,
            };
            let w = off / 8;
            match target {
                Some(t)
                    if off.is_multiple_of(8)
                        && w < words
                        && one >> w & 1 == 0
                        && f.targets.len() < 255 =>
                {
                    one |= 1 << w;
                    at[w as usize] = f.targets.len() as u8;
                    f.targets.push(t);
                }
                _ => rest.push((off, e)),
            }
        }
        for i in 0..64 {
            let k = i % words as usize;
            if one >> k & 1 != 0 {
                f.repeated |= 1 << i;
                f.at[i] = at[k];
            }
        }
        f.words = words;
        f.rest = Arc::new(rest);
        f.ok = true;
        f
    }

    /// The words of one value that marking reports as edges.
    fn value_words(&self) -> u64 {
        if self.words >= 64 {
            self.repeated
        } else {
            self.repeated & ((1 << self.words) - 1)
        }
    }

    /// The words of `repeated` inside an object of `size` bytes holding values from its
    /// start (a runtime structure's pseudo-type: one value), as `follow` reads them.
    #[inline]
    fn words_of(&mut self, size: u64, one: bool) -> u64 {
        if self.last.0 != size {
            let n = if one { 1 } else { size / (self.words * 8) };
            let w = (n * self.words).min(64);
            let m = if w == 64 { !0 } else { (1u64 << w) - 1 };
            self.last = (size, self.repeated & m);
        }
        self.last.1
    }
}

/// Mark the heap from `inp.roots` and type every reachable object that can be typed, in one
/// pass. `globals`: (address, size, DWARF type) of each global variable typed by DWARF;
/// `roots`: other typed places (stack slots, finalizer specials); maps, channels and closures
/// are followed as far as `followers` allows (the default follows none). Returns the marking,
/// the types and the time spent marking (typing included; the rest is typing's).
///
/// The typed globals and roots first type the objects they point at. Then marking runs
/// ([`mark::run`]), and as it reaches each object it follows the object's typed words (header
/// and `largeType` types are read there), typing what each points at before marking reaches
/// it, so most objects are read once; most typed words (those naming their target's type
/// outright, [`Fused`]) are followed as marking scans them, with its lookup of the target.
/// An object typed after it was marked is queued
/// for its typed words alone. A slot is typed once (compare-and-swap); the result does not
/// depend on the schedule except where two typed words disagree about an untyped object
/// (counted in [`ObjectTypes::conflicts`]; zero on the test cores), where the first to arrive
/// wins. Objects typed but never marked (a typed word the runtime would not follow) lose their
/// type at the end.
pub fn mark_and_type(
    prepared: Prepared<'_>,
    inp: MarkInput<'_>,
    consts: &ObjectConsts,
    globals: &[(u64, u64, VariableType)],
    roots: &[TypedRoot],
    followers: &Followers<'_>,
) -> (Reach, ObjectTypes, Duration) {
    let Prepared { ix, slot_type } = prepared;
    let sh = Shared::new(
        inp.index.mem,
        &inp.types,
        consts,
        (ix.spans(), ix.data(), ix.lookup(), ix.bits()),
        ix.types_stored(),
        followers,
        slot_type,
    );
    let mut w = Worker::new(&sh);
    w.seed(globals, roots);
    // Nothing is marked yet, so nothing is queued.
    debug_assert!(w.work.is_empty());
    w.add_totals();
    drop(w);
    let t = Instant::now();
    let marked = mark::run(&inp, &ix, &&sh);
    let mark_time = t.elapsed();
    let types = sh.into_types();
    (mark::tally(inp, ix, marked), types, mark_time)
}

/// What [`mark_and_type`] starts from: the span/slot index and an empty type table, built
/// from the heap alone ([`prepare`]), so that it can be built while the roots are enumerated.
pub struct Prepared<'a> {
    ix: mark::Index<'a>,
    slot_type: Vec<AtomicU32>,
}

/// The index of `inp`'s heap and its empty type table (one entry per slot).
pub fn prepare<'a>(inp: &IndexInput<'a>) -> Prepared<'a> {
    let ix = mark::Index::build(inp);
    let slots = mark::slot_bits(ix.spans()) as usize;
    Prepared {
        ix,
        // Tens of megabytes on a large heap, first touched here: in parallel.
        slot_type: (0..slots)
            .into_par_iter()
            .map(|_| AtomicU32::new(0))
            .collect(),
    }
}

/// Type the reachable objects of a heap already marked (`reach`), as [`mark_and_type`]
/// would.
#[cfg(test)]
fn compute(
    mem: &dyn Memory,
    tr: &TypeReader<'_>,
    consts: &ObjectConsts,
    reach: &Reach,
    globals: &[(u64, u64, VariableType)],
    roots: &[TypedRoot],
    followers: &Followers<'_>,
) -> ObjectTypes {
    let (spans, alloc, marks) = reach.index();
    let bits: Vec<SlotBits> = alloc
        .iter()
        .zip(marks)
        .map(|(&a, &m)| SlotBits::new(a, m))
        .collect();
    let sh = Shared::new(
        mem,
        tr,
        consts,
        (spans, &[], reach.lookup(), &bits),
        reach.types_stored(),
        followers,
        (0..reach.slot_bits()).map(|_| AtomicU32::new(0)).collect(),
    );
    let mut w = Worker::new(&sh);
    for (si, s) in spans.iter().enumerate() {
        if w.has_stored_type(s) {
            for slot in 0..s.nelems {
                if w.is_marked(s.bit + u64::from(slot)) {
                    w.stored(si, slot, mark::Ptrs::Other);
                }
            }
        }
    }
    w.seed(globals, roots);
    while let Some((si, slot)) = w.work.pop() {
        w.retype(si as usize, slot & !mark::RETYPE);
    }
    w.add_totals();
    drop(w);
    sh.into_types()
}

impl<'s, 'a> mark::Visitor for &'s Shared<'a> {
    type Local = Worker<'s, 'a>;
    fn local(&self) -> Worker<'s, 'a> {
        Worker::new(self)
    }
    fn object(
        &self,
        w: &mut Worker<'s, 'a>,
        si: u32,
        slot: u32,
        ptrs: mark::Ptrs,
        work: &mut Vec<(u32, u32)>,
    ) -> u64 {
        let fused = w.object(si as usize, slot, ptrs);
        w.hand_over(work);
        fused
    }
    #[inline]
    fn edge(
        &self,
        w: &mut Worker<'s, 'a>,
        i: u32,
        v: u64,
        si: u32,
        b: u64,
        bits: &SlotBits,
        m: u64,
        work: &mut Vec<(u32, u32)>,
    ) {
        // Most pointers lead to objects typed already.
        if bits.typed.load(Ordering::Relaxed) & m == 0 {
            w.edge(i, v, si as usize, b);
            w.hand_over(work);
        }
    }
    #[inline]
    fn noscan(
        &self,
        w: &mut Worker<'s, 'a>,
        si: u32,
        slot: u32,
        (bits, m): (&SlotBits, u64),
        work: &mut Vec<(u32, u32)>,
    ) {
        // Sequentially consistent with typing's setting the type, then reading the mark.
        if bits.typed.load(Ordering::SeqCst) & m != 0 {
            w.noscan(si as usize, slot);
            w.hand_over(work);
        }
    }
    fn retype(&self, w: &mut Worker<'s, 'a>, si: u32, slot: u32, work: &mut Vec<(u32, u32)>) {
        w.retype(si as usize, slot);
        w.hand_over(work);
    }
    fn finish(&self, w: &mut Worker<'s, 'a>) {
        w.add_totals();
    }

    #[inline]
    fn prefetch(&self, si: u32, slot: u32) {
        if let Some(s) = self.spans.get(si as usize) {
            prefetch_index::prefetch_index(&self.slot_type, (s.bit + u64::from(slot)) as usize);
        }
    }
}

impl<'a> Shared<'a> {
    fn new(
        mem: &'a dyn Memory,
        tr: &'a TypeReader<'a>,
        consts: &ObjectConsts,
        (spans, data, lookup, bits): (
            &'a [SpanMeta],
            &'a [&'a [u8]],
            &'a SpanLookup,
            &'a [SlotBits],
        ),
        types_stored: bool,
        followers: &Followers<'a>,
        slot_type: Vec<AtomicU32>,
    ) -> Self {
        let string_data = TypeInfo {
            addr: 0,
            name: STRING_DATA.to_string(),
            size: 1,
            ptr_bytes: 0,
            pseudo: Pseudo::One,
        };
        Shared {
            lookup,
            mem,
            tr,
            spans,
            data,
            bits,
            header_min: consts.min_size_for_malloc_header.unwrap_or(u64::MAX),
            header_size: consts.malloc_header_size,
            types_stored,
            tiny_class: consts.tiny_span_class,
            followers: *followers,
            slot_type,
            reg: Mutex::new(Registry::new(
                mem,
                tr,
                vec![string_data],
                follow::State::new(followers),
            )),
            totals: Mutex::new(([0; 12], 0)),
            conflicts: AtomicU64::new(0),
        }
    }

    /// The table, without the types of objects left unmarked (every worker has finished).
    fn into_types(self) -> ObjectTypes {
        let reg = self.reg.into_inner().unwrap_or_else(|e| e.into_inner());
        let (mut by_source, skipped) = self.totals.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut slot_type: Vec<u32> = self
            .slot_type
            .into_iter()
            .map(AtomicU32::into_inner)
            .collect();
        for (k, w) in self.bits.iter().enumerate() {
            let mut stray = w.typed.load(Ordering::Relaxed) & !w.marked.load(Ordering::Relaxed);
            while stray != 0 {
                let b = 64 * k + stray.trailing_zeros() as usize;
                stray &= stray - 1;
                let how = (slot_type[b] >> TYPE_BITS) as u8 & !MULTI;
                by_source[how as usize] -= 1;
                slot_type[b] = 0;
            }
        }
        ObjectTypes {
            types: reg.types,
            slot_type,
            by_source,
            skipped,
            conflicts: self.conflicts.into_inner(),
            closures_uncaptured: reg.follow.uncaptured,
        }
    }
}

/// Whether a struct type is a bucket map's bucket (`map.bucket[K]V`, `noalg.map.bucket[K]V`).
fn is_bucket_name(n: &str) -> bool {
    n.starts_with("map.bucket[") || n.starts_with("noalg.map.bucket[")
}

impl<'s, 'a> Worker<'s, 'a> {
    fn new(sh: &'s Shared<'a>) -> Self {
        Worker {
            sh,
            metas: Vec::new(),
            edges: Vec::new(),
            by_source: [0; 12],
            skipped: 0,
            work: Vec::new(),
            last_stored: (0, None),
            fused: Vec::new(),
            current: 0,
        }
    }

    /// The `size` bytes at `data`: sliced from the mapped bytes of its span (`si`, else
    /// looked up) where the core maps them, else read.
    fn object_bytes(&self, si: Option<usize>, data: u64, size: u64) -> Option<Cow<'a, [u8]>> {
        let sh = self.sh;
        match si.or_else(|| sh.lookup.span(data)) {
            Some(i) => mark::span_bytes(
                sh.mem,
                sh.data.get(i).copied().unwrap_or(&[]),
                sh.spans[i].base,
                data,
                size,
            ),
            None => sh.mem.bytes(data, size as usize).ok(),
        }
    }

    /// Move the work items this worker queued to marking's list `work`.
    #[inline]
    fn hand_over(&mut self, work: &mut Vec<(u32, u32)>) {
        if !self.work.is_empty() {
            work.append(&mut self.work);
        }
    }

    /// The registry (a worker that panicked while holding it left it usable).
    fn reg(&self) -> std::sync::MutexGuard<'s, Registry<'a>> {
        self.sh.reg.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Add this worker's counts to the totals (and zero them).
    fn add_totals(&mut self) {
        let mut t = self.sh.totals.lock().unwrap_or_else(|e| e.into_inner());
        for (a, b) in t.0.iter_mut().zip(std::mem::take(&mut self.by_source)) {
            *a += b;
        }
        t.1 += std::mem::take(&mut self.skipped);
    }

    /// The typed globals and roots: what their typed words point at.
    fn seed(&mut self, globals: &[(u64, u64, VariableType)], roots: &[TypedRoot]) {
        for &(addr, size, typ) in globals {
            self.global(addr, size, typ);
        }
        for &r in roots {
            self.typed_root(r);
        }
    }

    /// The state bits of slot `b`'s 64, and `b`'s bit.
    fn bits(&self, b: u64) -> (&'a SlotBits, u64) {
        (&self.sh.bits[(b / 64) as usize], 1 << (b % 64))
    }

    /// Whether slot `b` has a type.
    fn is_typed(&self, b: u64) -> bool {
        let (w, m) = self.bits(b);
        w.typed.load(Ordering::SeqCst) & m != 0
    }

    /// Whether slot `b` is marked.
    fn is_marked(&self, b: u64) -> bool {
        let (w, m) = self.bits(b);
        w.marked.load(Ordering::SeqCst) & m != 0
    }

    /// Claim the following of slot `b`'s typed words: whether this caller does it.
    fn claim(&self, b: u64) -> bool {
        let (w, m) = self.bits(b);
        let o = w.scanned.load(Ordering::Relaxed);
        w.scanned.store(o | m, Ordering::Relaxed);
        o & m == 0
    }

    /// Marking is about to scan the object in `slot` of span `si`: its stored type, or the
    /// type it was given, types what its typed words point at (before marking reaches them).
    /// `ptrs`: the object's pointer words, when marking can report them as edges; returns
    /// those it is to report ([`mark::Visitor::object`]).
    fn object(&mut self, si: usize, slot: u32, ptrs: mark::Ptrs) -> u64 {
        let s = &self.sh.spans[si];
        if self.has_stored_type(s) {
            return self.stored(si, slot, ptrs);
        }
        let b = s.bit + u64::from(slot);
        if !(self.is_typed(b) && self.claim(b)) {
            return 0;
        }
        let t = self.sh.slot_type[b as usize].load(Ordering::SeqCst) & TYPE_MASK;
        if t == 0 {
            return 0;
        }
        if let mark::Ptrs::Small(ptrs) = ptrs {
            let start = s.base + u64::from(slot) * s.elemsize;
            if let Some(words) = self.fuse(si, start, s.elemsize, t - 1, ptrs) {
                return words;
            }
        }
        self.retype(si, slot);
        0
    }

    /// Follow the typed words of the small object in span `si` holding values of type `ti`
    /// over `size` bytes from `data` with marking, when the type allows: those of its
    /// pointer words `ptrs` (bit `i`: word `i`) that the type names a target type for are
    /// reported by marking; returns them (see [`mark::Visitor::object`]). The other typed
    /// words are followed here (a word the type names but the heap bits do not: a slice's
    /// slot beyond its capacity, zero, or the type is not the runtime's).
    fn fuse(&mut self, si: usize, data: u64, size: u64, ti: u32, ptrs: u64) -> Option<u64> {
        let m = self.meta(ti);
        let mut f = self.take_fused(ti);
        let words = f.words_of(size, m.pseudo == Pseudo::One);
        let ok = f.ok;
        self.fuse_rest(ok, &f, si, data, size, m);
        let extra = words & !ptrs;
        if ok && extra != 0 {
            if let Some(obj) = self.object_bytes(Some(si), data, size) {
                let mut p = extra;
                while p != 0 {
                    let i = p.trailing_zeros() as usize;
                    p &= p - 1;
                    let v = obj
                        .get(i * 8..i * 8 + 8)
                        .map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap()));
                    if v != 0 {
                        if let Some(&(t, how, exact)) = f.targets.get(f.at[i] as usize) {
                            self.assign(v, t, how, exact);
                        }
                    }
                }
            }
        }
        self.fused[ti as usize] = Some(f);
        self.current = ti;
        ok.then_some(words & ptrs)
    }

    /// [`Worker::fuse`] for an object whose values marking scans by a pointer mask of
    /// `stride` words (its header's or `largeType`'s type, the one typing follows).
    fn fuse_values(&mut self, si: usize, data: u64, size: u64, ti: u32, stride: u64) -> bool {
        let m = self.meta(ti);
        let f = self.take_fused(ti);
        let ok = f.ok && (f.repeated == 0 || (f.words == stride && m.pseudo == Pseudo::No));
        self.fuse_rest(ok, &f, si, data, size, m);
        self.fused[ti as usize] = Some(f);
        self.current = ti;
        ok
    }

    /// When `ok`: follow the edges of `f` that marking does not report.
    fn fuse_rest(&mut self, ok: bool, f: &Fused, si: usize, data: u64, size: u64, m: Meta) {
        if ok && !f.rest.is_empty() {
            if let Some(obj) = self.object_bytes(Some(si), data, size) {
                self.follow(&obj, &f.rest, m, size, None);
            }
        }
    }

    /// Word `i` of the object [`Worker::fuse`] last followed points into slot `b` of span
    /// `si`, allocated and without the typed bit: typed by the word's type.
    #[inline(never)]
    fn edge(&mut self, i: u32, v: u64, si: usize, b: u64) {
        let Some(f) = self
            .fused
            .get(self.current as usize)
            .and_then(Option::as_ref)
        else {
            return;
        };
        let Some(&(t, how, exact)) = f.targets.get(f.at[i as usize & 63] as usize) else {
            return;
        };
        if self.sh.slot_type[b as usize].load(Ordering::Relaxed) != 0 {
            return;
        }
        self.assign_slot(v, si, b, t, how, exact);
    }

    /// Type `ti`'s [`Fused`], taken out of the worker's cache (put back by the caller).
    fn take_fused(&mut self, ti: u32) -> Box<Fused> {
        if let Some(f) = self.fused.get_mut(ti as usize).and_then(Option::take) {
            return f;
        }
        if self.fused.len() <= ti as usize {
            self.fused.resize_with(ti as usize + 1, || None);
        }
        self.load_fused(ti)
    }

    /// Build type `ti`'s [`Fused`].
    #[cold]
    fn load_fused(&mut self, ti: u32) -> Box<Fused> {
        let m = self.meta(ti);
        let edges = self.take_edges(ti);
        let f = Box::new(Fused::new(m, &edges));
        self.put_edges(ti, edges);
        f
    }

    /// Marking has just marked the noscan object in `slot` of span `si`, which has a type: a
    /// pseudo-type with typed words (a map's buckets of pointer-free keys and values) is
    /// queued to follow them.
    #[inline(never)]
    fn noscan(&mut self, si: usize, slot: u32) {
        let b = self.sh.spans[si].bit + u64::from(slot);
        let t = self.sh.slot_type[b as usize].load(Ordering::SeqCst) & TYPE_MASK;
        if t != 0 && self.meta(t - 1).ptr_bytes > 0 && self.claim(b) {
            self.work.push((si as u32, slot | mark::RETYPE));
        }
    }

    /// Follow the typed words of the object in `slot` of span `si` by the type it was given.
    fn retype(&mut self, si: usize, slot: u32) {
        let s = &self.sh.spans[si];
        let b = s.bit + u64::from(slot);
        let t = self.sh.slot_type[b as usize].load(Ordering::SeqCst) & TYPE_MASK;
        if t != 0 {
            let start = s.base + u64::from(slot) * s.elemsize;
            self.scan_in(Some(si), start, s.elemsize, t - 1, None);
        }
    }

    /// The hot-path facts of type `ti`.
    #[inline]
    fn meta(&mut self, ti: u32) -> Meta {
        match self.metas.get(ti as usize) {
            Some(Some(m)) => *m,
            _ => self.load_meta(ti),
        }
    }

    /// [`Worker::meta`], from the registry.
    #[cold]
    fn load_meta(&mut self, ti: u32) -> Meta {
        let i = ti as usize;
        let reg = self.reg();
        let t = &reg.types[i];
        let m = Meta {
            size: t.size,
            ptr_bytes: t.ptr_bytes,
            pseudo: t.pseudo,
            addr: t.addr,
        };
        drop(reg);
        if self.metas.len() <= i {
            self.metas.resize(i + 1, None);
        }
        self.metas[i] = Some(m);
        m
    }

    /// The edges of type `ti`, taken out of the worker's cache ([`Worker::put_edges`] puts
    /// them back): no reference count is touched per scanned object (an atomic add is a
    /// barrier to the loads around it).
    #[inline]
    fn take_edges(&mut self, ti: u32) -> Edges {
        match self.edges.get_mut(ti as usize).and_then(Option::take) {
            Some(e) => e,
            None => self.load_edges(ti),
        }
    }

    /// A private copy of the edges of type `ti` (the registry's shared `Arc`, bumped per
    /// scanned object by both threads, would bounce its cache line between the cores).
    #[cold]
    fn load_edges(&mut self, ti: u32) -> Edges {
        Arc::new(self.reg().edges_of(ti).as_ref().clone())
    }

    /// Put back what [`Worker::take_edges`] took.
    #[inline]
    fn put_edges(&mut self, ti: u32, e: Edges) {
        let i = ti as usize;
        if self.edges.len() <= i {
            self.edges.resize(i + 1, None);
        }
        self.edges[i] = Some(e);
    }

    fn type_index(&mut self, addr: u64) -> Option<u32> {
        self.reg().type_index(addr)
    }

    /// Whether the slot's type is in its malloc header or `largeType`.
    fn has_stored_type(&self, s: &SpanMeta) -> bool {
        self.sh.types_stored
            && s.spanclass & 1 == 0
            && (s.spanclass >> 1 == 0 || s.elemsize > self.sh.header_min)
    }

    /// The marked object in `slot` of span `si`, whose type is in its malloc header or the
    /// span's `largeType`: typed so, then its typed words followed (with marking, if `ptrs`
    /// allows: the words marking is to report as edges, see [`mark::Visitor::object`]).
    fn stored(&mut self, si: usize, slot: u32, ptrs: mark::Ptrs) -> u64 {
        let sh = self.sh;
        let s = &sh.spans[si];
        let start = s.base + u64::from(slot) * s.elemsize;
        let (typ, data, how) = if s.spanclass >> 1 == 0 {
            (s.large_type, start, TypeSource::Large)
        } else {
            let h = self
                .object_bytes(Some(si), start, 8)
                .map_or(0, |b| u64::from_le_bytes(b[..8].try_into().unwrap()));
            (h, start + sh.header_size, TypeSource::Header)
        };
        if typ == 0 {
            return 0;
        }
        // Consecutive objects mostly share their type.
        if self.last_stored.0 != typ {
            self.last_stored = (typ, self.type_index(typ));
        }
        let Some(ti) = self.last_stored.1 else {
            return 0;
        };
        let size = s.elemsize - (data - start);
        if !self.set(s.bit + u64::from(slot), ti, how, size) {
            return 0;
        }
        if let mark::Ptrs::Values(stride) = ptrs {
            if self.fuse_values(si, data, size, ti, stride) {
                return self.fused[ti as usize]
                    .as_ref()
                    .map_or(0, |f| f.value_words());
            }
        }
        self.scan_in(Some(si), data, size, ti, None);
        0
    }

    /// A global of `size` bytes at `addr`: its typed words type what they point at.
    fn global(&mut self, addr: u64, size: u64, typ: VariableType) {
        let base = self.sh.tr.types_base();
        match typ {
            VariableType::Type(off) => {
                let Some(ti) = self.type_index(base + off) else {
                    return;
                };
                // A global whose symbol size disagrees with its type is skipped.
                if self.meta(ti).size == size {
                    self.scan(addr, size, ti, Some(TypeSource::Global));
                }
            }
            VariableType::SliceOf(off) => {
                if size == 24 {
                    if let Ok(p) = self.sh.mem.read_ptr(addr) {
                        if let Some(ti) = self.type_index(base + off).filter(|_| p != 0) {
                            self.assign(p, ti, TypeSource::Global, false);
                        }
                    }
                }
            }
        }
    }

    /// A typed stack slot or finalizer object.
    fn typed_root(&mut self, r: TypedRoot) {
        match r {
            TypedRoot::Value { addr, typ, how } => {
                if let Some(ti) = self.type_index(typ) {
                    let size = self.meta(ti).size;
                    self.scan(addr, size, ti, Some(how));
                }
            }
            TypedRoot::Object { ptr, elem, how } => {
                if let Some(ti) = self.type_index(elem) {
                    self.assign(ptr, ti, how, true);
                }
            }
        }
    }

    /// Give slot `b` type `ti` unless it has one: whether it was taken.
    fn set(&mut self, b: u64, ti: u32, how: TypeSource, data_size: u64) -> bool {
        let m = self.meta(ti);
        self.set_meta(b, ti, m, how, data_size)
    }

    /// [`Worker::set`], `m` being type `ti`'s facts.
    #[inline]
    fn set_meta(&mut self, b: u64, ti: u32, m: Meta, how: TypeSource, data_size: u64) -> bool {
        // String bytes and other pseudo-objects are one object whatever their length.
        let multi = if m.pseudo == Pseudo::No && data_size >= 2 * m.size.max(1) {
            MULTI
        } else {
            0
        };
        let Some(entry) = packed(ti, how as u8 | multi) else {
            return false;
        };
        let slot = &self.sh.slot_type[b as usize];
        // Sequentially consistent with the mark bits (see `assign`).
        if let Err(old) = slot.compare_exchange(0, entry, Ordering::SeqCst, Ordering::Relaxed) {
            if old & TYPE_MASK != ti + 1 {
                self.sh.conflicts.fetch_add(1, Ordering::Relaxed);
            }
            return false;
        }
        let (w, m) = self.bits(b);
        w.typed.fetch_or(m, Ordering::SeqCst);
        self.by_source[how as usize] += 1;
        true
    }

    /// Follow the typed words of an object (or global: `via`) holding `T`s from `data` over
    /// `size` bytes.
    fn scan(&mut self, data: u64, size: u64, ti: u32, via: Option<TypeSource>) {
        self.scan_in(None, data, size, ti, via)
    }

    /// [`Worker::scan`] of an object in span `si`, if known.
    fn scan_in(
        &mut self,
        si: Option<usize>,
        data: u64,
        size: u64,
        ti: u32,
        via: Option<TypeSource>,
    ) {
        let m = self.meta(ti);
        if m.ptr_bytes == 0 || (m.addr == 0 && m.pseudo == Pseudo::No) {
            return;
        }
        let edges = self.take_edges(ti);
        if !edges.is_empty() {
            if let Some(obj) = self.object_bytes(si, data, size) {
                self.follow(&obj, &edges, m, size, via);
            }
        }
        self.put_edges(ti, edges);
    }

    /// Follow `edges` over the `size` bytes `obj` holding values of a type of facts `m`.
    fn follow(
        &mut self,
        obj: &[u8],
        edges: &[(u64, Resolved)],
        m: Meta,
        size: u64,
        via: Option<TypeSource>,
    ) {
        let word = |o: u64| -> Option<u64> {
            let o = o as usize;
            obj.get(o..o + 8)
                .map(|w| u64::from_le_bytes(w.try_into().unwrap()))
        };
        let tsize = m.size;
        let n = if m.pseudo == Pseudo::One {
            1
        } else {
            size / tsize
        };
        for e in 0..n {
            for &(off, edge) in edges.iter() {
                let at = e * tsize + off;
                let Some(v) = word(at) else { continue };
                if v == 0 {
                    continue;
                }
                match edge {
                    Resolved::Ptr(Some(t)) => {
                        self.assign(v, t, via.unwrap_or(TypeSource::Field), true)
                    }
                    Resolved::Ptr(None) | Resolved::Slice(None) => {}
                    Resolved::Slice(Some(t)) => {
                        self.assign(v, t, via.unwrap_or(TypeSource::Slice), false)
                    }
                    Resolved::Str => {
                        if word(at + 8).unwrap_or(0) > 0 {
                            self.assign(
                                v,
                                STRING_DATA_INDEX,
                                via.unwrap_or(TypeSource::String),
                                false,
                            );
                        }
                    }
                    Resolved::Iface(methods) => {
                        let data_word = word(at + 8).unwrap_or(0);
                        if let Some(t) = self.iface_type(v, methods) {
                            self.iface_value(t, data_word, via.unwrap_or(TypeSource::Iface));
                        }
                    }
                    Resolved::To(Some(t), how) => self.assign(v, t, via.unwrap_or(how), true),
                    Resolved::To(None, _) => self.skipped += 1,
                    Resolved::SwissDir { len_at, group, dir } => {
                        let len = word(e * tsize + len_at).unwrap_or(0);
                        match if len == 0 { group } else { dir } {
                            // A directory above 512 B carries its own (header) type: its
                            // tables are still followed as this map's.
                            Some(t) if len > 0 && self.stored_slot(v).is_some() => {
                                // At most the rest of the slot (`dirLen` is read from the core).
                                let room = self.stored_slot(v).unwrap_or(0);
                                let n = len.saturating_mul(8).min(room);
                                self.scan(v, n, t, Some(TypeSource::Map))
                            }
                            Some(t) => self.assign(v, t, via.unwrap_or(TypeSource::Map), true),
                            None => self.skipped += 1,
                        }
                    }
                    Resolved::Func => self.func_value(v, via.unwrap_or(TypeSource::Closure)),
                }
            }
        }
    }

    /// The dynamic type of an interface from its first word: a type (`interface {}`) or an
    /// itab (an interface with methods; itabs may lie among the type descriptors).
    fn iface_type(&self, w0: u64, methods: bool) -> Option<u64> {
        let tr = self.sh.tr;
        if !methods {
            return tr.in_module(w0).then_some(w0);
        }
        let t = self.sh.mem.read_ptr(w0.checked_add(8)?).ok()?;
        tr.in_module(t).then_some(t)
    }

    /// An interface's data word, the dynamic type being `typ`: what it types, resolved under
    /// the registry's lock, then assigned.
    fn iface_value(&mut self, typ: u64, data: u64, how: TypeSource) {
        if self.untyped_slot(data).is_none() {
            return;
        }
        let tr = self.sh.tr;
        let Ok(t) = tr.read(typ) else { return };
        let target = match t.kind {
            // Stored directly in the data word: a pointer to its element.
            "ptr" => tr
                .elem(&t)
                .ok()
                .and_then(|e| self.type_index(e))
                .map(|e| (e, how)),
            // Maps, channels and funcs are stored directly: the word is the pointer.
            "map" => match self.reg().map_edge(typ) {
                Resolved::To(Some(t), _) => Some((t, TypeSource::Map)),
                _ => None,
            },
            "chan" => self.reg().chan_header(typ).map(|t| (t, TypeSource::Chan)),
            "func" => {
                self.func_value(data, TypeSource::Closure);
                None
            }
            "unsafe.Pointer" => None,
            // A one-pointer struct or array is stored directly too: ambiguous, skipped.
            "struct" | "array" if t.size == 8 && t.ptr_bytes == 8 => None,
            _ => self.type_index(typ).map(|t| (t, how)),
        };
        if let Some((t, how)) = target {
            self.assign(data, t, how, true);
        }
    }

    /// When `v` points into a slot whose type the runtime stores: the bytes from `v` to the
    /// slot's end.
    fn stored_slot(&self, v: u64) -> Option<u64> {
        let sh = self.sh;
        let s = &sh.spans[sh.lookup.span(v)?];
        if !self.has_stored_type(s) {
            return None;
        }
        let slot = s.slot_of(v.checked_sub(s.base)?);
        (slot < u64::from(s.nelems)).then(|| s.base + (slot + 1) * s.elemsize - v)
    }

    /// The span index and slot bit of the allocated, not yet typed object `v` points into.
    #[inline(always)]
    fn untyped_slot(&self, v: u64) -> Option<(usize, u64)> {
        let sh = self.sh;
        let i = sh.lookup.span(v)?;
        let s = &sh.spans[i];
        let slot = s.slot_of(v.checked_sub(s.base)?);
        if slot >= u64::from(s.nelems) {
            return None;
        }
        // Most pointers lead to objects typed already: that is checked first.
        let b = s.bit + slot;
        let (w, m) = self.bits(b);
        let typed = w.typed.load(Ordering::Relaxed) & m != 0;
        (!typed && w.alloc & m != 0 && sh.slot_type[b as usize].load(Ordering::Relaxed) == 0)
            .then_some((i, b))
    }

    /// Type the reachable object `v` points into as the type with index `ti`
    /// ([`STRING_DATA_INDEX`]: string data), when that is consistent with the slot and the
    /// object has no type yet.
    #[inline]
    fn assign(&mut self, v: u64, ti: u32, how: TypeSource, exact: bool) {
        if let Some((i, b)) = self.untyped_slot(v) {
            self.assign_slot(v, i, b, ti, how, exact);
        }
    }

    /// [`Worker::assign`] to the untyped slot `b` of span `i`.
    #[inline(never)]
    fn assign_slot(&mut self, v: u64, i: usize, b: u64, ti: u32, how: TypeSource, exact: bool) {
        let s = &self.sh.spans[i];
        if self.has_stored_type(s) {
            return;
        }
        let slot = b - s.bit;
        let start = s.base + slot * s.elemsize;
        let info = self.meta(ti);
        // The tiny span class packs several small noscan objects in one block, but an object
        // that fills the slot from its start is alone in it (tiny allocations are smaller).
        let fills = info.size == s.elemsize && v == start;
        if s.spanclass == self.sh.tiny_class && !fills {
            return;
        }
        let scan = s.spanclass & 1 == 0;
        if info.size > s.elemsize || (info.pseudo == Pseudo::No && (info.ptr_bytes > 0) != scan) {
            return;
        }
        let off = v - start;
        if if exact {
            off != 0
        } else {
            !off.is_multiple_of(info.size)
        } {
            return;
        }
        // Typed before marking reaches it: marking follows its typed words then. Typed after:
        // queued for them. The type is set, then the mark read; marking sets the mark, then
        // reads the type: one of the two sees the other (and `claim` picks one if both do).
        if self.set_meta(b, ti, info, how, s.elemsize)
            && info.ptr_bytes > 0
            && self.is_marked(b)
            && self.claim(b)
        {
            self.work.push((i as u32, slot as u32 | mark::RETYPE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_single_and_multi_element_objects() {
        let t = TypeInfo {
            addr: 1,
            name: "main.node".into(),
            size: 48,
            ptr_bytes: 8,
            pseudo: Pseudo::No,
        };
        assert_eq!(display_name(&t, false), "main.node");
        assert_eq!(display_name(&t, true), "[]main.node");
    }

    #[test]
    fn fused_words_repeat_over_values_and_stop_at_the_last_whole_one() {
        let m = Meta {
            size: 24,
            ptr_bytes: 24,
            pseudo: Pseudo::No,
            addr: 1,
        };
        // A 3-word struct: a `*T` (type 7), a string, a `[]U` (type 9).
        let edges = [
            (0, Resolved::Ptr(Some(7))),
            (8, Resolved::Str),
            (16, Resolved::Slice(Some(9))),
        ];
        let mut f = Fused::new(m, &edges);
        assert!(f.ok);
        assert_eq!(f.words, 3);
        assert_eq!(f.value_words(), 0b101);
        assert_eq!(f.rest.len(), 1);
        // Two whole values in a 64-byte slot (the third is cut): words 0, 2, 3, 5.
        assert_eq!(f.words_of(64, false), 0b101101);
        // One value only, as for a runtime structure's pseudo-type.
        assert_eq!(f.words_of(72, true), 0b101);
        assert_eq!(f.targets[f.at[3] as usize], (7, TypeSource::Field, true));
        assert_eq!(f.targets[f.at[5] as usize], (9, TypeSource::Slice, false));
        // A value above 64 words, or of no whole words, is followed the usual way.
        let big = Meta { size: 65 * 8, ..m };
        assert!(!Fused::new(big, &edges).ok);
        // Nothing to follow: nothing to report.
        let scalar = Meta { ptr_bytes: 0, ..m };
        let mut f = Fused::new(scalar, &[]);
        assert!(f.ok);
        assert_eq!(f.words_of(64, false), 0);
    }

    #[test]
    fn source_names_follow_their_order() {
        for (i, s) in TypeSource::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
        assert_eq!(TypeSource::Iface.name(), "iface");
    }
}
