//! Reading every goroutine of a core: `runtime.allgs[:allglen]`, each `g` decoded with the
//! [`GoroutineLayouts`] resolved from DWARF, the Ms (`runtime.allm`) matched to the core's
//! threads by `m.procid`, the status and wait-reason strings read from the binary, the time of
//! the core, and every backtrace ([`super::unwind`]), unwound and symbolized in parallel.
//!
//! Where each backtrace starts (traceback.go `traceback1`, `initAt`):
//! - `_Gsyscall`: `g.syscallpc/syscallsp`;
//! - `_Grunning` with its thread's SP on the goroutine's stack: the thread's registers
//!   (NT_PRSTATUS, thread matched to `m.procid`); with the thread on its signal stack: the
//!   registers the kernel saved in the signal frame, if they are on the goroutine's stack;
//!   otherwise (thread on g0, e.g. inside `systemstack`) `g.sched`;
//! - anything else: `g.sched`;
//! - and, as the runtime does, `m.vdsoPC/vdsoSP` when the goroutine's M is inside a VDSO call.

use std::sync::Arc;

use rayon::prelude::*;

use super::goroutines::{
    Backtrace, BacktraceEnd, CoreTime, GStatus, Goroutine, Goroutines, SourceLoc, StackFrame,
    StatusKind, ThreadInfo, UnwindStart,
};
use super::labels::read_labels;
use super::layout::{GoroutineLayouts, LayoutError};
use super::unwind::{self, CachedCode, CodeTable, PclnCode, PhysFrame, StartRegs, Step};
use super::{GoRuntime, RuntimeError};
use crate::binary::pclntab::{FuncId, Pclntab};
use crate::binary::Executable;
use crate::target::{Memory, MemoryExt, Thread};

/// Bound on the `allm` list (it only grows; real programs have at most thousands).
const MAX_MS: usize = 100_000;
/// Bound on `allglen` (guards against a corrupt length).
const MAX_GS: u64 = 50_000_000;

/// One M of `runtime.allm`.
#[derive(Debug, Clone, Default)]
struct MInfo {
    addr: u64,
    id: i64,
    procid: u64,
    curg: u64,
    g0_stack: (u64, u64),
    gsignal_stack: (u64, u64),
    vdso_sp: u64,
    vdso_pc: u64,
}

/// A `g` as read, before unwinding.
#[derive(Debug, Clone)]
struct RawG {
    addr: u64,
    id: u64,
    raw_status: u32,
    wait_reason: u8,
    wait_since: i64,
    parent: u64,
    gopc: u64,
    startpc: u64,
    stack: (u64, u64),
    m: u64,
    lockedm: u64,
    labels_ptr: u64,
    sched_pc: u64,
    sched_sp: u64,
    syscall_pc: u64,
    syscall_sp: u64,
}

/// What the reader needs from the session.
pub struct ReadInput<'a> {
    pub mem: &'a dyn Memory,
    pub exe: &'a Executable,
    pub rt: &'a GoRuntime,
    pub threads: &'a [Thread],
}

fn layout_err(e: LayoutError) -> RuntimeError {
    RuntimeError::Layout(e)
}

impl Goroutines {
    /// Read every goroutine of the target.
    pub fn read(input: &ReadInput<'_>) -> Result<Goroutines, RuntimeError> {
        let ReadInput {
            mem,
            exe,
            rt,
            threads,
        } = *input;
        let dwarf = exe.dwarf.as_ref().ok_or(LayoutError::NoDwarf)?;
        let lay = GoroutineLayouts::resolve(dwarf, rt.version).map_err(layout_err)?;
        let sym = |name: &str| exe.symbol(name).map(|s| (s.addr + rt.bias, s.size));
        let missing = |name: &str| {
            RuntimeError::Layout(LayoutError::MissingSymbol {
                name: name.into(),
                version: rt.version.to_string(),
            })
        };
        let mut problems = Vec::new();

        let statuses = string_table(mem, sym("runtime.gStatusStrings"));
        let reasons = string_table(mem, sym("runtime.waitReasonStrings"));
        if reasons.is_empty() {
            problems.push(
                "runtime.waitReasonStrings is missing or unreadable: wait reasons are shown as numbers"
                    .to_string(),
            );
        }

        // allgs[:allglen]
        let (allgs, _) = sym("runtime.allgs").ok_or_else(|| missing("runtime.allgs"))?;
        let (gptr, glen) = rt.read_slice(mem, allgs, "runtime.allgs")?;
        let glen = match sym("runtime.allglen") {
            Some((a, _)) => mem.read_u64(a).map_or(glen, |n| n.min(glen)),
            None => glen,
        };
        if glen > MAX_GS {
            return Err(RuntimeError::Corrupt(format!(
                "runtime.allgs has {glen} entries"
            )));
        }
        let gaddrs: Vec<u64> = match mem.bytes(gptr, (glen * 8) as usize) {
            Ok(b) => b
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
            Err(e) => {
                return Err(RuntimeError::Read {
                    what: "the runtime.allgs array".into(),
                    source: e,
                })
            }
        };

        let ms = read_ms(mem, &lay, sym("runtime.allm").map(|s| s.0), &mut problems);

        let raws: Vec<Result<RawG, String>> =
            gaddrs.par_iter().map(|&a| read_g(mem, &lay, a)).collect();
        let mut gs = Vec::with_capacity(raws.len());
        for r in raws {
            match r {
                Ok(g) => gs.push(g),
                Err(p) => problems.push(p),
            }
        }

        let core_time = core_time(mem, &lay, &sym, &gs);

        let tab = exe.pclntab();
        let code = tab.map(PclnCode::new);
        let ctx = UnwindCtx {
            mem,
            bias: rt.bias,
            lay: &lay,
            ms: &ms,
            threads,
        };
        let phys: Vec<(Vec<PhysFrame>, BacktraceEnd, UnwindStart)> = gs
            .par_iter()
            .map_init(
                || code.as_ref().map(|c| CachedCode::new(c)),
                |cache, g| ctx.backtrace(g, cache.as_ref().map(|c| c as &dyn CodeTable)),
            )
            .collect();

        // Symbolize each distinct pc once.
        let syms = match tab {
            Some(tab) => Symbolizer::build(tab, rt.bias, &gs, &phys),
            None => Symbolizer::default(),
        };

        // Sequential: the frames share Arc'd names, and cloning them from several threads
        // at once is slower than from one.
        let list: Vec<Goroutine> = gs
            .iter()
            .zip(phys)
            .map(|(g, (frames, end, start))| {
                build(
                    g,
                    frames,
                    end,
                    start,
                    &BuildCtx {
                        lay: &lay,
                        statuses: &statuses,
                        reasons: &reasons,
                        ms: &ms,
                        threads,
                        syms: &syms,
                        now: core_time.nanotime,
                        mem,
                        rt,
                    },
                )
            })
            .collect();

        let thread_info = thread_infos(threads, &ms, &gs);
        Ok(Goroutines {
            list,
            threads: thread_info,
            core_time,
            problems,
        })
    }
}

/// A `[N]string` table (N from the symbol's size), or empty if unreadable.
fn string_table(mem: &dyn Memory, sym: Option<(u64, u64)>) -> Vec<Arc<str>> {
    let Some((addr, size)) = sym else {
        return Vec::new();
    };
    let n = (size / 16).min(4096);
    (0..n)
        .map(|i| {
            mem.read_go_string(addr + 16 * i, 256)
                .map(Arc::from)
                .unwrap_or_else(|_| Arc::from("???"))
        })
        .collect()
}

fn read_g(mem: &dyn Memory, lay: &GoroutineLayouts, addr: u64) -> Result<RawG, String> {
    if addr == 0 {
        return Err("runtime.allgs holds a nil g".into());
    }
    let b = mem
        .bytes(addr, lay.g.size as usize)
        .map_err(|e| format!("g at {addr:#x} is unreadable: {e}"))?;
    let g = &lay.g;
    let sched = g.sched.offset;
    let at = |f: super::layout::Field, base: u64| super::layout::Field {
        offset: f.offset + base,
        ..f
    };
    Ok(RawG {
        addr,
        id: g.goid.get(&b),
        raw_status: g.atomicstatus.get(&b) as u32,
        wait_reason: g.waitreason.get(&b) as u8,
        wait_since: g.waitsince.get(&b) as i64,
        parent: g.parent_goid.get(&b),
        gopc: g.gopc.get(&b),
        startpc: g.startpc.get(&b),
        stack: (
            at(g.stack_lo, g.stack.offset).get(&b),
            at(g.stack_hi, g.stack.offset).get(&b),
        ),
        m: g.m.get(&b),
        lockedm: g.lockedm.get(&b),
        labels_ptr: g.labels.get(&b),
        sched_pc: at(lay.gobuf.pc, sched).get(&b),
        sched_sp: at(lay.gobuf.sp, sched).get(&b),
        syscall_pc: g.syscallpc.get(&b),
        syscall_sp: g.syscallsp.get(&b),
    })
}

/// The stack bounds of the g at `addr`.
fn g_stack(mem: &dyn Memory, lay: &GoroutineLayouts, addr: u64) -> (u64, u64) {
    if addr == 0 {
        return (0, 0);
    }
    let base = addr + lay.g.stack.offset;
    let lo = mem.read_u64(base + lay.g.stack_lo.offset).unwrap_or(0);
    let hi = mem.read_u64(base + lay.g.stack_hi.offset).unwrap_or(0);
    (lo, hi)
}

fn read_ms(
    mem: &dyn Memory,
    lay: &GoroutineLayouts,
    allm: Option<u64>,
    problems: &mut Vec<String>,
) -> Vec<MInfo> {
    let mut out = Vec::new();
    let Some(allm) = allm else {
        problems.push("runtime.allm is missing: threads are not matched to goroutines".into());
        return out;
    };
    let mut m = mem.read_ptr(allm).unwrap_or(0);
    let l = &lay.m;
    let rd = |a: u64, f: super::layout::Field| mem.read_uint(a + f.offset, f.size);
    while m != 0 && out.len() < MAX_MS {
        let info = (|| -> Result<MInfo, crate::target::ReadError> {
            let g0 = rd(m, l.g0)?;
            let gsignal = rd(m, l.gsignal)?;
            Ok(MInfo {
                addr: m,
                id: rd(m, l.id)? as i64,
                procid: rd(m, l.procid)?,
                curg: rd(m, l.curg)?,
                g0_stack: g_stack(mem, lay, g0),
                gsignal_stack: g_stack(mem, lay, gsignal),
                vdso_sp: rd(m, l.vdso_sp)?,
                vdso_pc: rd(m, l.vdso_pc)?,
            })
        })();
        match info {
            Ok(i) => out.push(i),
            Err(e) => {
                problems.push(format!(
                    "m at {m:#x} is unreadable ({e}); the M list ends there"
                ));
                break;
            }
        }
        m = rd(m, l.alllink).unwrap_or(0);
    }
    out
}

/// The time of the core: the newest `nanotime()` stamp found in it (see [`CoreTime`]).
fn core_time(
    mem: &dyn Memory,
    lay: &GoroutineLayouts,
    sym: &dyn Fn(&str) -> Option<(u64, u64)>,
    gs: &[RawG],
) -> CoreTime {
    let mut cands: Vec<(i64, &str)> = Vec::new();
    if let (Some(f), Some((sched, _))) = (lay.sched_lastpoll, sym("runtime.sched")) {
        if let Ok(v) = mem.read_u64(sched + f.offset) {
            cands.push((v as i64, "sched.lastpoll"));
        }
    }
    if let (Some(f), Some((ms, _))) = (lay.last_gc_nanotime, sym("runtime.memstats")) {
        if let Ok(v) = mem.read_u64(ms + f.offset) {
            cands.push((v as i64, "memstats.last_gc_nanotime"));
        }
    }
    if let Some(w) = gs.iter().map(|g| g.wait_since).max() {
        cands.push((w, "the newest g.waitsince"));
    }
    let best = cands
        .iter()
        .filter(|(v, _)| *v > 0)
        .max_by_key(|(v, _)| *v)
        .copied();
    match best {
        Some((v, src)) => CoreTime {
            nanotime: Some(v),
            source: src.to_string(),
            explanation: format!(
                "a core has no timestamp: \"now\" is the newest runtime clock reading in it ({src}; \
                 candidates: sched.lastpoll, memstats.last_gc_nanotime, every g.waitsince). \
                 Each was taken at or before the crash, so wait times are lower bounds: they are \
                 short by the time between that reading and the crash (at most about 10 ms while \
                 the network poller and sysmon run; unbounded if the program was idle)"
            ),
        },
        None => CoreTime {
            nanotime: None,
            source: "none".into(),
            explanation: "a core has no timestamp and no runtime clock reading was found in it: \
                          wait times are unknown"
                .into(),
        },
    }
}

struct UnwindCtx<'a> {
    mem: &'a dyn Memory,
    bias: u64,
    lay: &'a GoroutineLayouts,
    ms: &'a [MInfo],
    threads: &'a [Thread],
}

fn in_range(x: u64, r: (u64, u64)) -> bool {
    r.0 <= x && x < r.1
}

impl UnwindCtx<'_> {
    fn kind(&self, raw: u32) -> StatusKind {
        status_kind(self.lay, raw)
    }

    fn backtrace(
        &self,
        g: &RawG,
        code: Option<&dyn CodeTable>,
    ) -> (Vec<PhysFrame>, BacktraceEnd, UnwindStart) {
        let mut frames = Vec::new();
        let kind = self.kind(g.raw_status);
        if matches!(
            kind,
            StatusKind::Dead | StatusKind::DeadExtra | StatusKind::Idle
        ) {
            return (frames, BacktraceEnd::NotUnwound, UnwindStart::None);
        }
        let Some(code) = code else {
            return (
                frames,
                BacktraceEnd::Broken {
                    reason: "the executable has no pclntab".into(),
                },
                UnwindStart::None,
            );
        };
        let m = self.ms.iter().find(|m| m.addr == g.m && g.m != 0);
        let (mut start, mut how) = (
            StartRegs {
                pc: g.sched_pc,
                sp: g.sched_sp,
                trap: false,
                syscall: false,
                stack: g.stack,
            },
            UnwindStart::Sched,
        );
        if kind == StatusKind::Syscall {
            start = StartRegs {
                pc: g.syscall_pc,
                sp: g.syscall_sp,
                trap: false,
                syscall: true,
                stack: g.stack,
            };
            how = UnwindStart::Syscall;
        } else if kind == StatusKind::Running {
            if let Some(r) = m.and_then(|m| self.thread_start(code, g, m)) {
                start = r;
                how = UnwindStart::Thread;
            }
        }
        if let Some(m) = m.filter(|m| m.vdso_sp != 0) {
            start = StartRegs {
                pc: m.vdso_pc,
                sp: m.vdso_sp,
                trap: false,
                syscall: false,
                stack: g.stack,
            };
            how = UnwindStart::Vdso;
        }
        let step = unwind::unwind(self.mem, code, self.bias, start, &mut frames);
        let end = match step {
            Step::Top => BacktraceEnd::Complete,
            Step::Stopped(reason) => BacktraceEnd::Stopped { reason },
            Step::Broken(reason) => BacktraceEnd::Broken { reason },
            Step::TooDeep => BacktraceEnd::TooDeep,
        };
        (frames, end, how)
    }

    /// Registers of the thread running `g`, if they are on `g`'s stack, directly or through a
    /// signal frame on the thread's signal stack.
    fn thread_start(&self, code: &dyn CodeTable, g: &RawG, m: &MInfo) -> Option<StartRegs> {
        let t = self.threads.iter().find(|t| u64::from(t.tid) == m.procid)?;
        let (pc, sp) = (t.regs.pc(), t.regs.sp());
        if in_range(sp, g.stack) {
            return Some(StartRegs {
                pc,
                sp,
                trap: true,
                syscall: false,
                stack: g.stack,
            });
        }
        if in_range(sp, m.gsignal_stack) {
            let mut frames = Vec::new();
            let start = StartRegs {
                pc,
                sp,
                trap: true,
                syscall: false,
                stack: m.gsignal_stack,
            };
            unwind::unwind(self.mem, code, self.bias, start, &mut frames);
            let (rip, rsp, _) = unwind::signal_context(self.mem, &frames)?;
            if in_range(rsp, g.stack) {
                return Some(StartRegs {
                    pc: rip,
                    sp: rsp,
                    trap: true,
                    syscall: false,
                    stack: g.stack,
                });
            }
        }
        None
    }
}

pub(crate) fn status_kind(lay: &GoroutineLayouts, raw: u32) -> StatusKind {
    let c = &lay.status;
    let s = raw & !c.scan;
    match s {
        _ if s == c.idle => StatusKind::Idle,
        _ if s == c.runnable => StatusKind::Runnable,
        _ if s == c.running => StatusKind::Running,
        _ if s == c.syscall => StatusKind::Syscall,
        _ if s == c.waiting => StatusKind::Waiting,
        _ if s == c.dead => StatusKind::Dead,
        _ if s == c.copystack => StatusKind::Copystack,
        _ if s == c.preempted => StatusKind::Preempted,
        _ if Some(s) == c.leaked => StatusKind::Leaked,
        _ if Some(s) == c.deadextra => StatusKind::DeadExtra,
        _ => StatusKind::Unknown,
    }
}

/// One symbolized logical frame.
#[derive(Debug, Clone)]
struct Sym {
    func: Arc<str>,
    file: Arc<str>,
    line: u32,
    inlined: bool,
    kind: FuncId,
}

/// A physical function name with a file and line.
type Loc = (Arc<str>, Arc<str>, u32);

/// Distinct pcs, sorted, each with its logical frames; and the names of functions by entry.
#[derive(Default)]
struct Symbolizer {
    pcs: Vec<u64>,
    frames: Vec<Vec<Sym>>,
    /// (link-time pc, physical function name, innermost file, line) for `gopc` and `startpc`.
    locs: Vec<u64>,
    loc_syms: Vec<Option<Loc>>,
}

impl Symbolizer {
    fn build(
        tab: &Pclntab,
        bias: u64,
        gs: &[RawG],
        phys: &[(Vec<PhysFrame>, BacktraceEnd, UnwindStart)],
    ) -> Symbolizer {
        let mut pcs: Vec<u64> = phys
            .iter()
            .flat_map(|(f, _, _)| f.iter().map(|f| f.sym_pc))
            .collect();
        pcs.par_sort_unstable();
        pcs.dedup();
        let frames: Vec<Vec<Sym>> = pcs
            .par_iter()
            .map(|&pc| {
                tab.frames_for_pc(pc)
                    .into_iter()
                    .map(|f| Sym {
                        func: Arc::from(f.func),
                        file: Arc::from(f.file),
                        line: f.line,
                        inlined: f.inlined,
                        kind: tab.func_kind_of(f.func_id),
                    })
                    .collect()
            })
            .collect();
        // gopc (physical function, line of gopc-1) and startpc (function name).
        let mut locs: Vec<u64> = gs
            .iter()
            .flat_map(|g| [g.gopc.wrapping_sub(bias), g.startpc.wrapping_sub(bias)])
            .filter(|&pc| pc != 0u64.wrapping_sub(bias))
            .collect();
        locs.par_sort_unstable();
        locs.dedup();
        let loc_syms = locs
            .par_iter()
            .map(|&pc| {
                let f = tab.find_func(pc)?;
                let name: Arc<str> = Arc::from(tab.func_name(&f));
                let tracepc = if pc > f.entry { pc - 1 } else { pc };
                let (file, line) = tab.file_line(&f, tracepc).unwrap_or(("?", 0));
                Some((name, Arc::from(file), line))
            })
            .collect();
        Symbolizer {
            pcs,
            frames,
            locs,
            loc_syms,
        }
    }

    fn frames(&self, sym_pc: u64) -> &[Sym] {
        match self.pcs.binary_search(&sym_pc) {
            Ok(i) => &self.frames[i],
            Err(_) => &[],
        }
    }

    fn loc(&self, pc: u64) -> Option<&Loc> {
        let i = self.locs.binary_search(&pc).ok()?;
        self.loc_syms[i].as_ref()
    }
}

struct BuildCtx<'a> {
    lay: &'a GoroutineLayouts,
    statuses: &'a [Arc<str>],
    reasons: &'a [Arc<str>],
    ms: &'a [MInfo],
    threads: &'a [Thread],
    syms: &'a Symbolizer,
    now: Option<i64>,
    mem: &'a dyn Memory,
    rt: &'a GoRuntime,
}

fn build(
    g: &RawG,
    phys: Vec<PhysFrame>,
    end: BacktraceEnd,
    start: UnwindStart,
    cx: &BuildCtx<'_>,
) -> Goroutine {
    let lay = cx.lay;
    let kind = status_kind(lay, g.raw_status);
    let base = g.raw_status & !lay.status.scan;
    let name = cx
        .statuses
        .get(base as usize)
        .cloned()
        .unwrap_or_else(|| Arc::from("???"));
    let status = GStatus {
        raw: g.raw_status,
        kind,
        scan: g.raw_status & lay.status.scan != 0,
        name,
    };
    let wait_reason = (matches!(kind, StatusKind::Waiting | StatusKind::Leaked)
        && g.wait_reason != 0)
        .then(|| {
            cx.reasons
                .get(usize::from(g.wait_reason))
                .cloned()
                .unwrap_or_else(|| Arc::from(format!("wait reason {}", g.wait_reason)))
        });
    let wait_ns = match (kind, cx.now) {
        (StatusKind::Waiting | StatusKind::Syscall, Some(now)) if g.wait_since != 0 => {
            Some(now.saturating_sub(g.wait_since).max(0) as u64)
        }
        _ => None,
    };
    let m = cx.ms.iter().find(|m| m.addr == g.m && g.m != 0);
    let thread = m.and_then(|m| {
        cx.threads
            .iter()
            .find(|t| u64::from(t.tid) == m.procid)
            .map(|t| t.tid)
    });
    let bias = cx.rt.bias;
    let fp_phys = unwind::frame_pointer_mismatch(&phys);
    let mut fp_mismatch = None;
    let n: usize = phys.iter().map(|p| cx.syms.frames(p.sym_pc).len()).sum();
    let mut frames = Vec::with_capacity(n);
    for (i, p) in phys.iter().enumerate() {
        if fp_phys == Some(i) {
            fp_mismatch = Some(frames.len());
        }
        for s in cx.syms.frames(p.sym_pc) {
            frames.push(StackFrame {
                pc: p.pc,
                sp: p.sp,
                fp: p.fp,
                entry: p.func.entry + bias,
                func: s.func.clone(),
                file: s.file.clone(),
                line: s.line,
                inlined: s.inlined,
                func_id: s.kind,
            });
        }
    }
    // As the runtime's printcreatedby: nothing for the main goroutine (id 1).
    let created_at = (g.gopc != 0 && g.id != 1)
        .then(|| cx.syms.loc(g.gopc.wrapping_sub(bias)))
        .flatten()
        .map(|(func, file, line)| SourceLoc {
            pc: g.gopc,
            func: func.clone(),
            file: file.clone(),
            line: *line,
        });
    let start_func = (g.startpc != 0)
        .then(|| cx.syms.loc(g.startpc.wrapping_sub(bias)))
        .flatten()
        .map(|(f, _, _)| f.clone());
    let system = start_func.as_deref().is_some_and(is_system_start);
    let labels = match (&lay.labels, g.labels_ptr) {
        (Some(l), p) if p != 0 => read_labels(cx.mem, l, p),
        _ => Vec::new(),
    };
    Goroutine {
        id: g.id,
        addr: g.addr,
        status,
        wait_reason_code: g.wait_reason,
        wait_reason,
        wait_since: g.wait_since,
        wait_ns,
        created_by: g.parent,
        gopc: g.gopc,
        startpc: g.startpc,
        start_func,
        created_at,
        stack_lo: g.stack.0,
        stack_hi: g.stack.1,
        m: g.m,
        m_id: m.map(|m| m.id),
        thread,
        locked_to_thread: g.lockedm != 0,
        labels,
        system,
        backtrace: Backtrace {
            frames,
            end,
            start,
            fp_mismatch,
        },
    }
}

/// `isSystemGoroutine` by the start function's name: package runtime, except `runtime.main`
/// and the coroutine/async-event starters. (The finalizer and cleanup goroutines count as
/// system goroutines here even while they run user code.)
fn is_system_start(name: &str) -> bool {
    name.starts_with("runtime.")
        && !matches!(
            name,
            "runtime.main" | "runtime.corostart" | "runtime.handleAsyncEvent"
        )
}

fn thread_infos(threads: &[Thread], ms: &[MInfo], gs: &[RawG]) -> Vec<ThreadInfo> {
    threads
        .iter()
        .map(|t| {
            let (pc, sp) = (t.regs.pc(), t.regs.sp());
            let m = ms.iter().find(|m| m.procid == u64::from(t.tid));
            let curg = m
                .filter(|m| m.curg != 0)
                .and_then(|m| gs.iter().find(|g| g.addr == m.curg));
            let on = match (m, curg) {
                (_, Some(g)) if in_range(sp, g.stack) => "goroutine",
                (Some(m), _) if in_range(sp, m.g0_stack) => "g0",
                (Some(m), _) if in_range(sp, m.gsignal_stack) => "gsignal",
                (None, _) => "no M",
                _ => "unknown",
            };
            ThreadInfo {
                tid: t.tid,
                pc,
                sp,
                m_id: m.map(|m| m.id),
                m: m.map_or(0, |m| m.addr),
                curg: curg.map(|g| g.id),
                on,
            }
        })
        .collect()
}
