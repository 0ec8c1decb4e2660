//! The heap graph's roots, each named: what the runtime's marker (`mgcmark.go`, `markroot*`)
//! scans before it follows heap pointers. Globals from the module's data and bss pointer masks
//! (`moduledata.gcdatamask`/`gcbssmask`), one root per symbol; every goroutine's stack frames
//! by the functions' stack maps ([`super::stackscan`]); finalizer, cleanup and weak-handle
//! specials; the queued finalizers and cleanups; each P's current tiny block; `g.sched.ctxt`.
//! A root without type information is still a root, scanned by its pointer mask.

use std::sync::Arc;

use rayon::prelude::*;

use super::goroutines::Goroutines;
use super::heap::{Heap, SpanState};
use super::layout::{Field, ObjectLayouts, RootLayouts};
use super::specials::{span_specials, SpecialKind};
use super::{GoRuntime, RuntimeError};
use crate::binary::Executable;
use crate::target::{Memory, MemoryExt};

/// What kind of root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RootKind {
    /// A global in `.data`.
    Data,
    /// A global in `.bss`.
    Bss,
    /// A goroutine's stack frame (locals, arguments, live stack objects).
    Stack,
    /// `g.sched.ctxt` of a goroutine.
    SchedCtxt,
    /// An object with a finalizer (it survives the next GC: its finalizer is queued then) and
    /// the finalizer's function value.
    Finalizer,
    /// A cleanup's function value (`runtime.AddCleanup`; the object itself is not kept).
    Cleanup,
    /// A weak handle (the handle object, not what it points to).
    WeakHandle,
    /// Finalizers queued to run (`runtime.allfin` blocks).
    FinalizerQueue,
    /// Cleanups queued to run (`gcCleanups` blocks, Go 1.25+).
    CleanupQueue,
    /// A P's current tiny-allocator block (`mcache.tiny`), marked at the start of each GC.
    TinyBlock,
}

impl RootKind {
    pub fn name(self) -> &'static str {
        match self {
            RootKind::Data => "data",
            RootKind::Bss => "bss",
            RootKind::Stack => "stack",
            RootKind::SchedCtxt => "sched_ctxt",
            RootKind::Finalizer => "finalizer",
            RootKind::Cleanup => "cleanup",
            RootKind::WeakHandle => "weak_handle",
            RootKind::FinalizerQueue => "finalizer_queue",
            RootKind::CleanupQueue => "cleanup_queue",
            RootKind::TinyBlock => "tiny_block",
        }
    }
    pub const ALL: [RootKind; 10] = [
        RootKind::Data,
        RootKind::Bss,
        RootKind::Stack,
        RootKind::SchedCtxt,
        RootKind::Finalizer,
        RootKind::Cleanup,
        RootKind::WeakHandle,
        RootKind::FinalizerQueue,
        RootKind::CleanupQueue,
        RootKind::TinyBlock,
    ];
}

/// Which words of a root hold pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootMask {
    /// One bit per word, little-endian (bit i of byte i/8 is word i).
    Bits(Vec<u8>),
    /// Every word (the runtime scans conservatively here, or the layout is not known).
    AllWords,
    /// The heap object containing `addr` is itself marked (and scanned by its own layout).
    Object,
}

impl RootMask {
    /// Whether word `i` may hold a pointer.
    pub fn word(&self, i: u64) -> bool {
        match self {
            RootMask::Bits(b) => b
                .get((i / 8) as usize)
                .is_some_and(|byte| byte >> (i % 8) & 1 == 1),
            RootMask::AllWords | RootMask::Object => true,
        }
    }
}

/// One root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub kind: RootKind,
    /// Symbol, `goroutine N: func`, `finalizer of 0x...`, ...
    pub name: Arc<str>,
    pub addr: u64,
    /// Bytes covered (for [`RootMask::Object`], 1: the object is found from `addr`).
    pub size: u64,
    pub mask: RootMask,
    /// The goroutine, for stack roots.
    pub goid: Option<u64>,
}

/// Every root of a core.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    pub list: Vec<Root>,
    /// What could not be read (the roots found are still used).
    pub problems: Vec<String>,
    /// (object, `ot`): each finalizer special's object and the descriptor of its pointer
    /// type (`*T`, the object being a `T`), for typing ([`crate::analysis::roottypes`]).
    pub finalizer_types: Vec<(u64, u64)>,
}

/// Everything root enumeration reads.
pub struct RootInput<'a> {
    pub mem: &'a dyn Memory,
    pub exe: &'a Executable,
    pub rt: &'a GoRuntime,
    pub layouts: &'a RootLayouts,
    pub objects: &'a ObjectLayouts,
    pub heap: &'a Heap,
    pub goroutines: &'a Goroutines,
}

impl Roots {
    /// Enumerate every root.
    pub fn enumerate(inp: &RootInput<'_>) -> Result<Roots, RuntimeError> {
        let mut roots = Roots::default();
        let md = inp
            .exe
            .symbol("runtime.firstmoduledata")
            .map(|s| s.addr + inp.rt.bias)
            .ok_or_else(|| RuntimeError::Corrupt("no runtime.firstmoduledata symbol".into()))?;
        let m = &inp.objects.module;
        let l = inp.layouts;
        let rd = |a: u64, what: &str| inp.mem.read_u64(a).map_err(RuntimeError::read(what));
        let data = (
            rd(md + m.data.offset, "moduledata.data")?,
            rd(md + m.edata.offset, "moduledata.edata")?,
        );
        let bss = (
            rd(md + m.bss.offset, "moduledata.bss")?,
            rd(md + m.ebss.offset, "moduledata.ebss")?,
        );
        for (kind, range, mask_field) in [
            (RootKind::Data, data, &l.md_gcdatamask),
            (RootKind::Bss, bss, &l.md_gcbssmask),
        ] {
            match globals(inp, kind, range, md + mask_field.offset) {
                Ok(mut v) => roots.list.append(&mut v),
                Err(e) => roots.problems.push(format!("{} roots: {e}", kind.name())),
            }
        }
        let rodata = rd(md + l.md_rodata.offset, "moduledata.rodata")?;
        let stacks = super::stackscan::stack_roots(inp, rodata);
        roots.list.extend(stacks.roots);
        roots.problems.extend(stacks.problems);
        specials_roots(inp, &mut roots);
        queues(inp, &mut roots);
        tiny_blocks(inp, &mut roots);
        Ok(roots)
    }

    /// Number of roots and bytes of each kind.
    pub fn by_kind(&self) -> Vec<(RootKind, u64, u64)> {
        RootKind::ALL
            .iter()
            .map(|&k| {
                let (n, b) = self
                    .list
                    .iter()
                    .filter(|r| r.kind == k)
                    .fold((0, 0), |(n, b), r| (n + 1, b + r.size));
                (k, n, b)
            })
            .collect()
    }
}

/// One root per symbol of `[lo, hi)` that holds a pointer word; parts no symbol covers are
/// named `section+offset`.
fn globals(
    inp: &RootInput<'_>,
    kind: RootKind,
    (lo, hi): (u64, u64),
    bitvector: u64,
) -> Result<Vec<Root>, RuntimeError> {
    let l = inp.layouts;
    let what = format!("the {} pointer mask", kind.name());
    let n = inp
        .mem
        .read_u32(bitvector + l.bitvector_n.offset)
        .map_err(RuntimeError::read(what.clone()))? as u64;
    let bytes_ptr = inp
        .mem
        .read_ptr(bitvector + l.bitvector_bytedata.offset)
        .map_err(RuntimeError::read(what.clone()))?;
    let words = ((hi - lo) / 8).min(n);
    let mask = inp
        .mem
        .bytes(bytes_ptr, words.div_ceil(8) as usize)
        .map_err(RuntimeError::read(what))?;
    let bit = |w: u64| mask[(w / 8) as usize] >> (w % 8) & 1 == 1;
    let section = if kind == RootKind::Data {
        ".data"
    } else {
        ".bss"
    };
    // Boundaries: symbol starts and ends, clipped to the range.
    let bias = inp.rt.bias;
    let syms = inp.exe.symbols_in(lo - bias, hi - bias);
    let mut pieces: Vec<(u64, u64, Option<&str>)> = Vec::new();
    let mut at = lo;
    for s in syms {
        let (a, e) = (s.addr + bias, (s.addr + bias + s.size).min(hi));
        if a < at || s.size == 0 {
            continue;
        }
        if a > at {
            pieces.push((at, a, None));
        }
        pieces.push((a, e, Some(s.name.as_str())));
        at = e;
    }
    if at < hi {
        pieces.push((at, hi, None));
    }
    let end_word = words;
    let mut out = Vec::new();
    for (a, e, name) in pieces {
        let (w0, w1) = ((a - lo) / 8, ((e - lo).div_ceil(8)).min(end_word));
        if w0 >= w1 || !(w0..w1).any(bit) {
            continue;
        }
        let mut m = vec![0u8; (w1 - w0).div_ceil(8) as usize];
        for w in w0..w1 {
            if bit(w) {
                let i = w - w0;
                m[(i / 8) as usize] |= 1 << (i % 8);
            }
        }
        let name: Arc<str> = match name {
            Some(n) => n.into(),
            None => format!("{section}+{:#x}", a - lo).into(),
        };
        out.push(Root {
            kind,
            name,
            addr: lo + w0 * 8,
            size: (w1 - w0) * 8,
            mask: RootMask::Bits(m),
            goid: None,
        });
    }
    Ok(out)
}

/// Finalizer, cleanup and weak-handle specials of every in-use span (`markrootSpans`).
fn specials_roots(inp: &RootInput<'_>, roots: &mut Roots) {
    let ol = inp.objects;
    let sl = &ol.special;
    type Found = (Vec<Root>, Vec<String>, Vec<(u64, u64)>);
    let found: Vec<Found> = inp
        .heap
        .spans
        .par_iter()
        .filter(|s| s.state == SpanState::InUse)
        .filter_map(|s| {
            let head = inp.mem.read_ptr(s.desc + ol.span_specials.offset).ok()?;
            if head == 0 {
                return None;
            }
            let mut out = Vec::new();
            let mut problems = Vec::new();
            let mut typed = Vec::new();
            match span_specials(inp.mem, ol, head) {
                Ok(list) => {
                    for sp in list {
                        let obj = s.base + sp.offset / s.elemsize.max(1) * s.elemsize;
                        let one = |kind, name: String, addr| Root {
                            kind,
                            name: name.into(),
                            addr,
                            size: 8,
                            mask: RootMask::AllWords,
                            goid: None,
                        };
                        match sp.kind {
                            SpecialKind::Finalizer { ot, .. } => {
                                if ot != 0 {
                                    typed.push((obj, ot));
                                }
                                out.push(Root {
                                    size: 1,
                                    mask: RootMask::Object,
                                    ..one(
                                        RootKind::Finalizer,
                                        format!("finalizer of {obj:#x}"),
                                        obj,
                                    )
                                });
                                out.push(one(
                                    RootKind::Finalizer,
                                    format!("finalizer function of {obj:#x}"),
                                    sp.addr + sl.finalizer_fn.offset,
                                ));
                            }
                            SpecialKind::Cleanup { .. } => {
                                if let Some(f) = sl.cleanup_fn {
                                    out.push(one(
                                        RootKind::Cleanup,
                                        format!("cleanup function of {obj:#x}"),
                                        sp.addr + f.offset,
                                    ));
                                }
                            }
                            SpecialKind::WeakHandle { .. } => {
                                if let Some(f) = sl.weak_handle {
                                    out.push(one(
                                        RootKind::WeakHandle,
                                        format!("weak handle of {obj:#x}"),
                                        sp.addr + f.offset,
                                    ));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Err(e) => problems.push(format!("specials of span {:#x}: {e}", s.base)),
            }
            Some((out, problems, typed))
        })
        .collect();
    for (r, p, t) in found {
        roots.list.extend(r);
        roots.problems.extend(p);
        roots.finalizer_types.extend(t);
    }
}

/// Queued finalizers (`allfin`) and, from Go 1.25, queued cleanups (`gcCleanups.all`).
fn queues(inp: &RootInput<'_>, roots: &mut Roots) {
    let l = inp.layouts;
    let bias = inp.rt.bias;
    if let Some(s) = inp.exe.symbol("runtime.allfin") {
        let first = inp.mem.read_ptr(s.addr + bias).unwrap_or(0);
        match &l.finblocks {
            Some(fl) => block_list(
                inp,
                roots,
                BlockList {
                    first,
                    count: fl.cnt,
                    items: fl.fin,
                    item_size: fl.finalizer_size,
                    next: fl.alllink,
                    kind: RootKind::FinalizerQueue,
                    what: "finalizer block",
                    list: "runtime.allfin",
                },
            ),
            None if first != 0 => roots
                .problems
                .push("queued finalizers not scanned: runtime.finblock is not in DWARF".into()),
            None => {}
        }
    }
    if let (Some(c), Some(s)) = (&l.cleanups, inp.exe.symbol("runtime.gcCleanups")) {
        let first = inp
            .mem
            .read_ptr(s.addr + bias + c.queue_all.offset)
            .unwrap_or(0);
        block_list(
            inp,
            roots,
            BlockList {
                first,
                count: c.n,
                items: c.cleanups,
                item_size: c.cleanup_fn_size,
                next: c.alllink,
                kind: RootKind::CleanupQueue,
                what: "cleanup block",
                list: "gcCleanups",
            },
        );
    }
}

/// A runtime list of blocks, each holding `count` items of `item_size` bytes at `items` and
/// linked through `next` (`finBlock`, `cleanupBlock`).
struct BlockList {
    first: u64,
    count: Field,
    items: Field,
    item_size: u64,
    next: Field,
    kind: RootKind,
    what: &'static str,
    list: &'static str,
}

/// Every non-empty block of `b` as a root scanned word by word.
fn block_list(inp: &RootInput<'_>, roots: &mut Roots, b: BlockList) {
    const MAX_BLOCKS: usize = 1 << 20;
    let mut blk = b.first;
    let mut i = 0;
    while blk != 0 && i < MAX_BLOCKS {
        let n = inp.mem.read_u32(blk + b.count.offset).unwrap_or(0) as u64;
        if n > 0 {
            roots.list.push(Root {
                kind: b.kind,
                name: format!("{} {blk:#x}", b.what).into(),
                addr: blk + b.items.offset,
                size: n * b.item_size,
                mask: RootMask::AllWords,
                goid: None,
            });
        }
        blk = match inp.mem.read_ptr(blk + b.next.offset) {
            Ok(p) => p,
            Err(e) => {
                roots.problems.push(format!("{}: {e}", b.list));
                0
            }
        };
        i += 1;
    }
}

/// Each P's current tiny block (`gcMarkTinyAllocs`).
fn tiny_blocks(inp: &RootInput<'_>, roots: &mut Roots) {
    let l = &inp.rt.layouts.mcache;
    let (allp, n) = match inp.rt.read_slice(inp.mem, inp.rt.syms.allp, "runtime.allp") {
        Ok(v) => v,
        Err(e) => {
            roots.problems.push(format!("tiny blocks: {e}"));
            return;
        }
    };
    for i in 0..n.min(1 << 16) {
        let tiny = inp
            .mem
            .read_ptr(allp + 8 * i)
            .and_then(|p| inp.mem.read_ptr(p + l.p_mcache.offset))
            .and_then(|c| {
                if c == 0 {
                    Ok(0)
                } else {
                    inp.mem.read_ptr(c + l.tiny.offset)
                }
            });
        match tiny {
            Ok(0) => {}
            Ok(t) => roots.list.push(Root {
                kind: RootKind::TinyBlock,
                name: format!("tiny block of P {i}").into(),
                addr: t,
                size: 1,
                mask: RootMask::Object,
                goid: None,
            }),
            Err(e) => roots.problems.push(format!("tiny block of P {i}: {e}")),
        }
    }
}
