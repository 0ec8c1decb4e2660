//! Goroutine stacks as roots, the way the runtime's `scanstack` sees them: for each physical
//! frame, the locals and arguments pointer maps (`FUNCDATA_LocalsPointerMaps`,
//! `FUNCDATA_ArgsPointerMaps`) at the frame's `PCDATA_StackMapIndex` (`getStackMap`), and the
//! frame's stack objects (`FUNCDATA_StackObjects`), which are scanned only when a live pointer
//! on the same stack points into them. Frames the runtime scans conservatively (an
//! `asyncPreempt` frame and the one it interrupted) are scanned word by word, and so is the
//! innermost frame of a goroutine unwound from its thread's registers (it was not stopped at a
//! safe point). Also `g.sched.ctxt`.

use std::sync::Arc;

use rayon::prelude::*;

use super::goroutines::{BacktraceEnd, Goroutine, UnwindStart};
use super::layout::RootLayouts;
use super::roots::{Root, RootInput, RootKind, RootMask};
use crate::binary::pclntab::{
    FuncId, FuncInfo, Pclntab, ARGS_SIZE_UNKNOWN, FUNCDATA_ARGS_POINTER_MAPS,
    FUNCDATA_LOCALS_POINTER_MAPS, FUNCDATA_STACK_OBJECTS, PCDATA_STACK_MAP_INDEX,
};
use crate::target::{Memory, MemoryExt};

/// The stack roots of all goroutines.
pub struct StackRoots {
    pub roots: Vec<Root>,
    pub problems: Vec<String>,
}

/// A stack object of one frame: address, size, pointer mask (one bit per word).
struct StackObject {
    addr: u64,
    size: u64,
    mask: Vec<u8>,
    frame: Arc<str>,
}

/// Enumerate the stack roots of every live goroutine (in parallel).
pub fn stack_roots(inp: &RootInput<'_>, rodata: u64) -> StackRoots {
    let Some(tab) = inp.exe.pclntab() else {
        return StackRoots {
            roots: Vec::new(),
            problems: vec!["no pclntab: goroutine stacks are not roots".into()],
        };
    };
    let per_g: Vec<(Vec<Root>, Vec<String>)> = inp
        .goroutines
        .list
        .par_iter()
        .filter(|g| !g.is_dead())
        .map(|g| goroutine_roots(inp, tab, rodata, g))
        .collect();
    let mut out = StackRoots {
        roots: Vec::new(),
        problems: Vec::new(),
    };
    for (r, p) in per_g {
        out.roots.extend(r);
        out.problems.extend(p);
    }
    out
}

fn goroutine_roots(
    inp: &RootInput<'_>,
    tab: &Pclntab,
    rodata: u64,
    g: &Goroutine,
) -> (Vec<Root>, Vec<String>) {
    let mem = inp.mem;
    let bias = inp.rt.bias;
    let mut roots = Vec::new();
    let mut problems = Vec::new();
    let mut objects: Vec<StackObject> = Vec::new();
    let l = inp.layouts;
    roots.push(Root {
        kind: RootKind::SchedCtxt,
        name: format!("goroutine {}: g.sched.ctxt", g.id).into(),
        addr: g.addr + l.g_sched.offset + l.gobuf_ctxt.offset,
        size: 8,
        mask: RootMask::AllWords,
        goid: Some(g.id),
    });
    // Physical frames: the last logical frame of each run sharing an sp is the real function.
    let frames = &g.backtrace.frames;
    let mut conservative_next = false;
    let mut first = true;
    for fr in frames {
        // An inlined frame: its physical frame is the next non-inlined entry.
        if fr.inlined {
            continue;
        }
        let name: Arc<str> = format!("goroutine {}: {}", g.id, fr.func).into();
        let mk = |addr: u64, size: u64, mask: RootMask| Root {
            kind: RootKind::Stack,
            name: name.clone(),
            addr,
            size,
            mask,
            goid: Some(g.id),
        };
        let Some(f) = tab.find_func(fr.pc.wrapping_sub(bias)) else {
            problems.push(format!(
                "goroutine {}: no function at pc {:#x}",
                g.id, fr.pc
            ));
            continue;
        };
        let is_async = fr.func_id == FuncId::AsyncPreempt || fr.func_id == FuncId::DebugCallV2;
        let conservative =
            conservative_next || is_async || (first && g.backtrace.start == UnwindStart::Thread);
        first = false;
        conservative_next = is_async;
        if conservative {
            if fr.fp > fr.sp {
                roots.push(mk(fr.sp, fr.fp - fr.sp, RootMask::AllWords));
            }
            continue;
        }
        let frame = Frame {
            f: &f,
            pc: fr.pc,
            sp: fr.sp,
            fp: fr.fp,
            name: &name,
        };
        let ctx = MapCtx {
            mem,
            tab,
            bias,
            rodata,
            layouts: l,
        };
        ctx.frame_maps(
            &frame,
            &mut |r| roots.push(mk(r.0, r.1, r.2)),
            &mut objects,
            &mut problems,
        );
    }
    // An unwind that did not reach the outermost frame leaves the rest of the stack unscanned
    // by maps: scan it word by word, so that nothing it holds shows up as garbage.
    if !matches!(
        g.backtrace.end,
        BacktraceEnd::Complete | BacktraceEnd::NotUnwound
    ) {
        let from = frames.last().map_or(g.stack_lo, |f| f.fp.max(f.sp));
        if from < g.stack_hi && from >= g.stack_lo {
            roots.push(Root {
                kind: RootKind::Stack,
                name: format!(
                    "goroutine {}: rest of the stack (backtrace incomplete)",
                    g.id
                )
                .into(),
                addr: from,
                size: g.stack_hi - from,
                mask: RootMask::AllWords,
                goid: Some(g.id),
            });
            problems.push(format!(
                "goroutine {}: backtrace incomplete; {} bytes of its stack scanned word by word",
                g.id,
                g.stack_hi - from
            ));
        }
    }
    let panic = defer_roots(mem, l, g, &mut roots, &mut problems);
    live_stack_objects(mem, g, &mut roots, objects, panic);
    (roots, problems)
}

/// One physical frame.
struct Frame<'a> {
    f: &'a FuncInfo,
    pc: u64,
    sp: u64,
    fp: u64,
    name: &'a Arc<str>,
}

/// What reading a frame's maps needs.
struct MapCtx<'a> {
    mem: &'a dyn Memory,
    tab: &'a Pclntab,
    bias: u64,
    rodata: u64,
    layouts: &'a RootLayouts,
}

impl MapCtx<'_> {
    /// The runtime's `getStackMap` for one frame: locals and arguments bitmaps, and its stack
    /// objects (collected, scanned only if found live).
    fn frame_maps(
        &self,
        fr: &Frame<'_>,
        emit: &mut dyn FnMut((u64, u64, RootMask)),
        objects: &mut Vec<StackObject>,
        problems: &mut Vec<String>,
    ) {
        let (mem, tab, bias, rodata) = (self.mem, self.tab, self.bias, self.rodata);
        let (f, pc, sp, fp, name) = (fr.f, fr.pc, fr.sp, fr.fp, fr.name);
        let entry = f.entry;
        let link_pc = pc.wrapping_sub(bias);
        let mut idx = -1;
        if link_pc != entry {
            idx = tab
                .pcdata_value(f, PCDATA_STACK_MAP_INDEX, link_pc - 1)
                .unwrap_or(-1);
        }
        let idx = idx.max(0) as u64;
        // varp: fp - 8, and one more word for the saved frame pointer (amd64).
        let mut varp = fp.wrapping_sub(8);
        if varp > sp {
            varp -= 8;
        }
        let argp = fp;
        if varp > sp {
            match read_stackmap(mem, tab, bias, f, FUNCDATA_LOCALS_POINTER_MAPS, idx) {
                Some((nbit, bits)) if nbit > 0 => {
                    emit((varp - nbit * 8, nbit * 8, RootMask::Bits(bits)))
                }
                Some(_) => {}
                None => {
                    problems.push(format!(
                        "{name}: no locals pointer map at pc {pc:#x}; frame scanned word by word"
                    ));
                    emit((sp, varp - sp, RootMask::AllWords));
                }
            }
        }
        if f.args() == ARGS_SIZE_UNKNOWN {
            // reflect.makeFuncStub / methodValueCall: the runtime reads their argument map from
            // the frame (not implemented): scanned conservatively.
            problems.push(format!("{name}: argument map of a reflect frame not read"));
        } else if let Some((nbit, bits)) =
            read_stackmap(mem, tab, bias, f, FUNCDATA_ARGS_POINTER_MAPS, idx)
        {
            if nbit > 0 {
                emit((argp, nbit * 8, RootMask::Bits(bits)));
            }
        }
        // Stack objects: uintptr count, then records.
        if let Some(a) = tab.funcdata_addr(f, FUNCDATA_STACK_OBJECTS) {
            let a = a + bias;
            let n = mem.read_u64(a).unwrap_or(0).min(1 << 16);
            let l = self.layouts;
            for i in 0..n {
                let r = a + 8 + i * l.sor_size;
                let Ok(b) = mem.bytes(r, l.sor_size as usize) else {
                    break;
                };
                let b: &[u8] = &b;
                let off = l.sor_off.get(b) as u32 as i32 as i64;
                let size = l.sor_size_field.get(b) as u32 as u64;
                let ptr_bytes = l.sor_ptr_bytes.get(b) as u32 as u64;
                let gcdataoff = l.sor_gcdataoff.get(b) as u32 as u64;
                let addr = if off < 0 {
                    varp.wrapping_add(off as u64)
                } else {
                    argp + off as u64
                };
                let words = ptr_bytes / 8;
                let mask = mem
                    .bytes(rodata + gcdataoff, words.div_ceil(8) as usize)
                    .map(|m| m.to_vec())
                    .unwrap_or_default();
                objects.push(StackObject {
                    addr,
                    size,
                    mask,
                    frame: name.clone(),
                });
            }
        }
    }
}

/// A `runtime.stackmap` entry: `{n int32, nbit int32, bytedata [...]uint8}`; entry `idx`.
fn read_stackmap(
    mem: &dyn Memory,
    tab: &Pclntab,
    bias: u64,
    f: &FuncInfo,
    which: u8,
    idx: u64,
) -> Option<(u64, Vec<u8>)> {
    let a = tab.funcdata_addr(f, which)? + bias;
    let n = mem.read_u32(a).ok()? as i32;
    let nbit = mem.read_u32(a + 4).ok()? as i32;
    if n <= 0 || nbit < 0 {
        return None;
    }
    let nbit = nbit as u64;
    let bytes = nbit.div_ceil(8);
    let idx = idx.min(n as u64 - 1);
    let b = mem.bytes(a + 8 + idx * bytes, bytes as usize).ok()?;
    Some((nbit, b.to_vec()))
}

/// `scanstack`'s defer and panic records: each record's `fn` and `link` words, heap records
/// themselves, and the (stack-allocated) `g._panic`, returned to be found as a stack object.
fn defer_roots(
    mem: &dyn Memory,
    l: &RootLayouts,
    g: &Goroutine,
    roots: &mut Vec<Root>,
    problems: &mut Vec<String>,
) -> Option<u64> {
    const MAX_DEFERS: usize = 1 << 20;
    let name: Arc<str> = format!("goroutine {}: defer record", g.id).into();
    let word = |addr: u64, mask: RootMask, size: u64| Root {
        kind: RootKind::Stack,
        name: name.clone(),
        addr,
        size,
        mask,
        goid: Some(g.id),
    };
    let mut d = mem.read_ptr(g.addr + l.g_defer.offset).unwrap_or(0);
    let mut n = 0;
    while d != 0 && n < MAX_DEFERS {
        let (Ok(f), Ok(link), Ok(heap)) = (
            mem.read_ptr(d + l.defer_fn.offset),
            mem.read_ptr(d + l.defer_link.offset),
            mem.read_u8(d + l.defer_heap.offset),
        ) else {
            problems.push(format!(
                "goroutine {}: defer record {d:#x} unreadable",
                g.id
            ));
            break;
        };
        if f != 0 {
            roots.push(word(d + l.defer_fn.offset, RootMask::AllWords, 8));
        }
        if link != 0 {
            roots.push(word(d + l.defer_link.offset, RootMask::AllWords, 8));
        }
        if heap != 0 {
            roots.push(word(d, RootMask::Object, 1));
        }
        d = link;
        n += 1;
    }
    mem.read_ptr(g.addr + l.g_panic.offset)
        .ok()
        .filter(|&p| p != 0)
}

/// Stack objects reached from the stack's roots (or from other reached stack objects) become
/// roots, as the runtime's `scanstack` finds them.
fn live_stack_objects(
    mem: &dyn Memory,
    g: &Goroutine,
    roots: &mut Vec<Root>,
    mut objects: Vec<StackObject>,
    panic: Option<u64>,
) {
    if objects.is_empty() {
        return;
    }
    objects.sort_by_key(|o| o.addr);
    let mut live = vec![false; objects.len()];
    let mut work: Vec<(u64, u64, RootMask)> = roots
        .iter()
        .filter(|r| r.kind == RootKind::Stack && r.mask != RootMask::Object)
        .map(|r| (r.addr, r.size, r.mask.clone()))
        .collect();
    // `g._panic` is a pointer into the stack the runtime follows like a stack slot's.
    let mut pending: Vec<u64> = panic.into_iter().collect();
    loop {
        for v in pending.drain(..) {
            if v < g.stack_lo || v >= g.stack_hi {
                continue;
            }
            let i = objects.partition_point(|o| o.addr <= v);
            let Some(i) = i.checked_sub(1) else { continue };
            let o = &objects[i];
            if v < o.addr + o.size && !live[i] {
                live[i] = true;
                work.push((o.addr, o.size, RootMask::Bits(o.mask.clone())));
            }
        }
        let Some((addr, size, mask)) = work.pop() else {
            break;
        };
        let Ok(b) = mem.bytes(addr, size as usize) else {
            continue;
        };
        for (w, chunk) in b.chunks_exact(8).enumerate() {
            if mask.word(w as u64) {
                pending.push(u64::from_le_bytes(chunk.try_into().unwrap()));
            }
        }
    }
    for (o, l) in objects.into_iter().zip(live) {
        if l && !o.mask.is_empty() {
            roots.push(Root {
                kind: RootKind::Stack,
                name: format!("{} (stack object)", o.frame).into(),
                addr: o.addr,
                size: o.size,
                mask: RootMask::Bits(o.mask),
                goid: Some(g.id),
            });
        }
    }
}
