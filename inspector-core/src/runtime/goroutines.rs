//! Goroutines: every `g` of `runtime.allgs` with its id, status, wait reason and wait time,
//! creator, start function, stack bounds, thread, labels and a backtrace.
//!
//! The public data API (`Goroutines`, `Goroutine`, `Backtrace`, `StackFrame`) is shared with
//! other analyses (e.g. attributing addresses to goroutine stacks) and kept stable; it is only
//! extended. Status names and wait-reason strings are read from the binary
//! (`runtime.gStatusStrings` / `runtime._G*` constants, `runtime.waitReasonStrings`), never from
//! a built-in table. Backtraces come from [`super::unwind`].

use std::sync::Arc;

/// What kind of status a goroutine is in, decoded with the binary's own `runtime._G*`
/// constants (the numbering is the same 1.21–1.27 but is never assumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    Idle,
    Runnable,
    Running,
    Syscall,
    Waiting,
    Dead,
    Copystack,
    Preempted,
    /// Go 1.26+: found by the goroutine-leak detector.
    Leaked,
    /// Go 1.26+: a dead g parked on a cgo extra M.
    DeadExtra,
    /// A value the binary's constants do not name.
    Unknown,
}

/// A goroutine's `atomicstatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GStatus {
    /// The raw value, `_Gscan` bit included.
    pub raw: u32,
    pub kind: StatusKind,
    /// The `_Gscan` bit was set (a stack scan was in progress).
    pub scan: bool,
    /// The runtime's name for it (`gStatusStrings`, e.g. "waiting"), or "???".
    pub name: Arc<str>,
}

/// Where the unwinder took the goroutine's first pc/sp from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnwindStart {
    /// `g.sched` (parked, runnable, preempted; or running but its thread is on g0/gsignal).
    Sched,
    /// `g.syscallpc/syscallsp` (in a system call).
    Syscall,
    /// `m.vdsoPC/vdsoSP` (in a VDSO call).
    Vdso,
    /// The registers of the OS thread running it (NT_PRSTATUS).
    Thread,
    /// Dead or idle: not unwound.
    None,
}

/// One logical frame (inlined calls are frames of their own, `inlined: true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFrame {
    /// The frame's pc in the target (load bias applied): a return address for callers, the
    /// current instruction for the innermost frame of a trapped or running thread. All
    /// logical frames of one physical frame share it.
    pub pc: u64,
    /// The physical frame's stack pointer.
    pub sp: u64,
    /// The physical frame's frame address (caller's sp; `fp` in the runtime's traceback).
    pub fp: u64,
    /// Entry of the physical function (target address).
    pub entry: u64,
    pub func: Arc<str>,
    pub file: Arc<str>,
    pub line: u32,
    /// Inlined into the next frame.
    pub inlined: bool,
    /// The function's kind (goexit, mstart, sigpanic, ...), for printers and filters.
    pub func_id: crate::binary::pclntab::FuncId,
}

/// A code location: a pc with its function and file:line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLoc {
    /// Target address.
    pub pc: u64,
    pub func: Arc<str>,
    pub file: Arc<str>,
    pub line: u32,
}

/// How a backtrace ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BacktraceEnd {
    /// Reached the outermost frame (`goexit`, `mstart`, `rt0_go`, `runtime.main`'s caller).
    Complete,
    /// An unwind step failed: the frames before it are good; `reason` says why.
    Broken { reason: String },
    /// Stopped where the runtime's own unwinder stops too (a function that switches stacks,
    /// or has no frame-size table) before reaching the outermost frame.
    Stopped { reason: String },
    /// The goroutine is dead or idle and has no stack to unwind.
    NotUnwound,
    /// Stopped after [`super::unwind::MAX_FRAMES`] physical frames.
    TooDeep,
}

/// A goroutine's backtrace, innermost frame first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backtrace {
    pub frames: Vec<StackFrame>,
    pub end: BacktraceEnd,
    pub start: UnwindStart,
    /// The frame-pointer chain, checked against the pcsp unwind, disagrees at this frame
    /// (index into `frames`); `None` when it agrees everywhere it can be checked.
    pub fp_mismatch: Option<usize>,
}

impl Backtrace {
    /// An empty backtrace for a goroutine that is not unwound.
    pub fn not_unwound() -> Backtrace {
        Backtrace {
            frames: Vec::new(),
            end: BacktraceEnd::NotUnwound,
            start: UnwindStart::None,
            fp_mismatch: None,
        }
    }
}

/// One goroutine.
#[derive(Debug, Clone)]
pub struct Goroutine {
    /// `g.goid`.
    pub id: u64,
    /// Address of the `g`.
    pub addr: u64,
    pub status: GStatus,
    /// Raw `g.waitreason`.
    pub wait_reason_code: u8,
    /// The runtime's text for the wait reason (`waitReasonStrings`), when the goroutine is
    /// waiting (or leaked) with a non-zero reason: what the runtime's traceback prints.
    pub wait_reason: Option<Arc<str>>,
    /// `g.waitsince` (a `nanotime()` stamp; 0 if unset: the runtime sets it only during a GC
    /// stack scan of a blocked goroutine).
    pub wait_since: i64,
    /// How long it has been waiting, relative to [`CoreTime`]: `None` when `waitsince` is 0,
    /// the status is not waiting/syscall, or the core's time is unknown.
    pub wait_ns: Option<u64>,
    /// `g.parentGoid` (0 for goroutines the runtime started before main).
    pub created_by: u64,
    /// `g.gopc`: return pc of the `go` statement (target address; 0 if none).
    pub gopc: u64,
    /// `g.startpc`: entry of the goroutine's function (target address).
    pub startpc: u64,
    /// The function at `startpc` (e.g. `main.worker`, `main.main.gowrap1`).
    pub start_func: Option<Arc<str>>,
    /// Where the `go` statement is (`gopc`), as the runtime's "created by" line shows it:
    /// the physical function containing `gopc` and the file:line of `gopc - 1`. `None` for
    /// the main goroutine (id 1), which the runtime also prints no creator for.
    pub created_at: Option<SourceLoc>,
    /// `g.stack.lo`, `g.stack.hi` (`[lo, hi)`; 0 when a dead goroutine's stack was freed).
    pub stack_lo: u64,
    pub stack_hi: u64,
    /// `g.m`, 0 if none.
    pub m: u64,
    /// `m.id` of `g.m`.
    pub m_id: Option<i64>,
    /// OS thread id (`m.procid`) running it, if any.
    pub thread: Option<u32>,
    /// `g.lockedm != 0` (runtime.LockOSThread).
    pub locked_to_thread: bool,
    /// pprof labels (`runtime/pprof.Do`), in the runtime's order.
    pub labels: Vec<(String, String)>,
    /// A runtime-internal goroutine (`isSystemGoroutine`: started in package runtime, other
    /// than `runtime.main`, or the finalizer/cleanup goroutine while running user code).
    pub system: bool,
    pub backtrace: Backtrace,
}

impl Goroutine {
    /// Stack size in bytes (`stack_hi - stack_lo`).
    pub fn stack_size(&self) -> u64 {
        self.stack_hi.saturating_sub(self.stack_lo)
    }
    /// `addr` lies on this goroutine's stack.
    pub fn stack_contains(&self, addr: u64) -> bool {
        self.stack_lo <= addr && addr < self.stack_hi
    }
    /// Dead or idle: listed in `allgs` but not a live goroutine.
    pub fn is_dead(&self) -> bool {
        matches!(
            self.status.kind,
            StatusKind::Dead | StatusKind::DeadExtra | StatusKind::Idle
        )
    }
}

/// How the "now" of the core was established (a core has no timestamp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreTime {
    /// A `nanotime()` value at (or just before) the moment of the core, if any was found.
    pub nanotime: Option<i64>,
    /// Which runtime value it came from, e.g. "sched.lastpoll".
    pub source: String,
    /// A human explanation with the error bound, for `overview`-style output and docs.
    pub explanation: String,
}

/// An OS thread of the core and the runtime's M on it.
#[derive(Debug, Clone)]
pub struct ThreadInfo {
    pub tid: u32,
    pub pc: u64,
    pub sp: u64,
    /// `m.id`, when an M with `procid == tid` exists.
    pub m_id: Option<i64>,
    pub m: u64,
    /// Goroutine id of `m.curg`, if any.
    pub curg: Option<u64>,
    /// What the thread is executing on: "goroutine", "g0" (scheduler/system stack),
    /// "gsignal" (signal handler) or "unknown".
    pub on: &'static str,
}

/// Every goroutine of a core, computed once per session.
#[derive(Debug, Clone)]
pub struct Goroutines {
    /// In `allgs` order (the order of the runtime's traceback), dead goroutines included.
    pub list: Vec<Goroutine>,
    pub threads: Vec<ThreadInfo>,
    pub core_time: CoreTime,
    /// Goroutines whose data could not be read or made no sense; the walk went on.
    pub problems: Vec<String>,
}

impl Goroutines {
    /// The goroutine with this id (live ones preferred over dead ones reusing the id).
    pub fn by_id(&self, id: u64) -> Option<&Goroutine> {
        let mut found = None;
        for g in self.list.iter().filter(|g| g.id == id) {
            if !g.is_dead() {
                return Some(g);
            }
            found.get_or_insert(g);
        }
        found
    }
    /// Live goroutines (not dead or idle).
    pub fn live(&self) -> impl Iterator<Item = &Goroutine> {
        self.list.iter().filter(|g| !g.is_dead())
    }
    /// The goroutine whose stack contains `addr`.
    pub fn stack_owner(&self, addr: u64) -> Option<&Goroutine> {
        self.list
            .iter()
            .find(|g| !g.is_dead() && g.stack_contains(addr))
    }
}
