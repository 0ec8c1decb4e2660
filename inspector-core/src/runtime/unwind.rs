//! The goroutine stack unwinder: physical frames from the pclntab's pcsp tables, without
//! DWARF, as the runtime's own `unwinder` (traceback.go `initAt`, `resolveInternal`, `next`)
//! does on amd64:
//!
//! - frame size: `fp = sp + pcsp(pc) + 8`; the return address is at `fp - 8`; the caller's
//!   sp is `fp`;
//! - stop at a function flagged TOPFRAME (`goexit`, `mstart`, `rt0_go`, `sigtramp`, ...), at an
//!   SPWRITE function (it moved SP arbitrarily: `mcall`, `morestack`, ...) as the runtime's
//!   printer does, or at a function without a pcsp table;
//! - the symbolic pc of a frame is `pc - 1` (the CALL instruction), except for the innermost
//!   frame of a trapped thread and for the frame below an injected call (`sigpanic`,
//!   `asyncPreempt`, `debugCallV2`), whose pc is where execution stopped;
//! - a signal frame: the innermost frames of a thread on its signal stack end at
//!   `runtime.sigtramp`; the interrupted registers are in the kernel's `ucontext` just above
//!   `sigtramp`'s frame ([`signal_context`]).
//!
//! A step that fails (unreadable stack, a return pc outside Go code, no pcsp value) ends the
//! backtrace with [`Step::Broken`]; the frames before it stand.
//!
//! The code table is a trait ([`CodeTable`]) so the unwinder can be unit-tested on hand-made
//! functions and stacks.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::binary::pclntab::{FuncId, FuncInfo, PcTable, Pclntab};
use crate::target::{Memory, MemoryExt};

/// Bound on physical frames per backtrace (a 1 GB stack of minimal frames is ~67 M frames;
/// real stacks stop long before this).
pub const MAX_FRAMES: usize = 1 << 20;

/// Offset of `uc_mcontext` in the amd64 Linux `ucontext_t` (uc_flags, uc_link, uc_stack).
pub const UCONTEXT_MCONTEXT: u64 = 40;
/// Indices (in 8-byte words) of rbp, rsp and rip in the amd64 `mcontext_t` gregs
/// (r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip).
pub const MCONTEXT_RBP: u64 = 10;
pub const MCONTEXT_RSP: u64 = 15;
pub const MCONTEXT_RIP: u64 = 16;

/// The facts the unwinder needs about one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeFunc {
    /// Index in the function table (for symbolization).
    pub index: usize,
    /// Entry (link-time address).
    pub entry: u64,
    pub kind: FuncId,
    pub top_frame: bool,
    pub spwrite: bool,
    /// The function has a pcsp table.
    pub has_pcsp: bool,
    /// `runtime.sigtramp`: the kernel's signal frame is right above it.
    pub sigtramp: bool,
    /// Written in assembly (may not keep a frame pointer).
    pub asm: bool,
}

/// The code table the unwinder reads (the pclntab; a fake one in unit tests). Addresses are
/// link-time addresses.
pub trait CodeTable {
    fn func(&self, pc: u64) -> Option<CodeFunc>;
    /// pcsp at `pc` in `f`: how far SP is below its value at entry.
    fn sp_delta(&self, f: &CodeFunc, pc: u64) -> Option<i32>;
}

/// The pclntab as a [`CodeTable`], with `runtime.sigtramp` located once.
pub struct PclnCode<'a> {
    pub tab: &'a Pclntab,
    sigtramp: Option<u64>,
}

impl<'a> PclnCode<'a> {
    pub fn new(tab: &'a Pclntab) -> PclnCode<'a> {
        let sigtramp = tab.find_func_by_name("runtime.sigtramp").map(|f| f.entry);
        PclnCode { tab, sigtramp }
    }
    fn info(&self, f: &CodeFunc) -> Option<FuncInfo> {
        self.tab.func_at(f.index)
    }
}

impl CodeTable for PclnCode<'_> {
    fn func(&self, pc: u64) -> Option<CodeFunc> {
        let f = self.tab.find_func(pc)?;
        Some(CodeFunc {
            index: f.index,
            entry: f.entry,
            kind: self.tab.func_kind(&f),
            top_frame: f.is_top_frame(),
            spwrite: f.is_spwrite(),
            has_pcsp: self.tab.pc_values(&f, PcTable::Sp).is_some(),
            sigtramp: Some(f.entry) == self.sigtramp,
            asm: f.is_asm(),
        })
    }
    fn sp_delta(&self, f: &CodeFunc, pc: u64) -> Option<i32> {
        let info = self.info(f)?;
        self.tab.pc_value(&info, PcTable::Sp, pc)
    }
}

/// A [`CodeTable`] that remembers each pc's function and frame size. Goroutines share most
/// of their pcs, so one cache per worker thread (not per goroutine) saves most lookups and
/// pcsp decoding.
pub struct CachedCode<'a> {
    inner: &'a dyn CodeTable,
    funcs: RefCell<HashMap<u64, Option<CodeFunc>, PcHash>>,
    deltas: RefCell<HashMap<u64, Option<i32>, PcHash>>,
}

/// A multiplicative hash for pc keys (program counters need no DoS-resistant hashing).
#[derive(Default, Clone, Copy)]
pub struct PcHash;

/// The hasher of [`PcHash`].
#[derive(Default)]
pub struct PcHasher(u64);

impl std::hash::BuildHasher for PcHash {
    type Hasher = PcHasher;
    fn build_hasher(&self) -> PcHasher {
        PcHasher(0)
    }
}

impl std::hash::Hasher for PcHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(26);
    }
}

impl<'a> CachedCode<'a> {
    pub fn new(inner: &'a dyn CodeTable) -> CachedCode<'a> {
        CachedCode {
            inner,
            funcs: RefCell::new(HashMap::with_hasher(PcHash)),
            deltas: RefCell::new(HashMap::with_hasher(PcHash)),
        }
    }
}

impl CodeTable for CachedCode<'_> {
    fn func(&self, pc: u64) -> Option<CodeFunc> {
        *self
            .funcs
            .borrow_mut()
            .entry(pc)
            .or_insert_with(|| self.inner.func(pc))
    }
    fn sp_delta(&self, f: &CodeFunc, pc: u64) -> Option<i32> {
        *self
            .deltas
            .borrow_mut()
            .entry(pc)
            .or_insert_with(|| self.inner.sp_delta(f, pc))
    }
}

/// Where to start: registers of a parked goroutine, a syscall, or a trapped thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartRegs {
    /// Target addresses (load bias applied).
    pub pc: u64,
    pub sp: u64,
    /// The pc is where execution stopped (a thread's registers or a signal context), not a
    /// return address: the innermost frame is symbolized at `pc`, not `pc - 1`.
    pub trap: bool,
    /// Started from `g.syscallpc/sp`: the innermost frame may be SPWRITE.
    pub syscall: bool,
    /// The stack's bounds `[lo, hi)`, if known: reads inside them come from one borrowed
    /// slice of the core instead of one lookup per word. `(0, 0)` if unknown.
    pub stack: (u64, u64),
}

/// One physical frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysFrame {
    /// Target address: a return address, or where execution stopped (innermost trapped
    /// frame, frame below an injected call).
    pub pc: u64,
    /// The pc to symbolize (link-time address): `pc - 1` for return addresses.
    pub sym_pc: u64,
    pub sp: u64,
    pub fp: u64,
    /// The frame size at pc (pcsp): `fp - sp - 8`.
    pub size: i32,
    /// The pc is where execution stopped (innermost frame of a trapped thread).
    pub trapped: bool,
    /// The word at `fp - 16`, where a function with a frame saves its caller's frame pointer
    /// (read only for frames with a size).
    pub saved_bp: Option<u64>,
    pub func: CodeFunc,
}

/// Largest stack borrowed whole (Go's maximum stack is 1 GB).
const MAX_WINDOW: u64 = 1 << 30;

/// Word reads from a stack: from one borrowed slice when inside it, else from memory.
struct StackWindow<'m> {
    mem: &'m dyn Memory,
    lo: u64,
    bytes: std::borrow::Cow<'m, [u8]>,
}

impl<'m> StackWindow<'m> {
    fn new(mem: &'m dyn Memory, (lo, hi): (u64, u64)) -> StackWindow<'m> {
        let bytes = (lo < hi && hi - lo <= MAX_WINDOW)
            .then(|| mem.bytes(lo, (hi - lo) as usize).ok())
            .flatten()
            .unwrap_or(std::borrow::Cow::Borrowed(&[]));
        StackWindow { mem, lo, bytes }
    }

    fn word(&self, addr: u64) -> Result<u64, crate::target::ReadError> {
        let off = addr.wrapping_sub(self.lo);
        match usize::try_from(off)
            .ok()
            .and_then(|o| self.bytes.get(o..o.checked_add(8)?))
        {
            Some(b) => Ok(u64::from_le_bytes(b.try_into().unwrap_or_default())),
            None => self.mem.read_ptr(addr),
        }
    }
}

/// Why the walk stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// At a TOPFRAME function: the stack is complete.
    Top,
    /// At an SPWRITE function or a function without pcsp, as the runtime stops too.
    Stopped(String),
    /// A step failed.
    Broken(String),
    /// [`MAX_FRAMES`] reached.
    TooDeep,
}

/// Unwind physical frames from `start`. `bias` is the load bias (target = link + bias).
pub fn unwind(
    mem: &dyn Memory,
    code: &dyn CodeTable,
    bias: u64,
    start: StartRegs,
    frames: &mut Vec<PhysFrame>,
) -> Step {
    let (mut pc, mut sp) = (start.pc, start.sp);
    let stack = StackWindow::new(mem, start.stack);
    if pc == 0 {
        // As initAt: a zero pc means the return address is on top of the stack.
        match stack.word(sp) {
            Ok(v) => {
                pc = v;
                sp += 8;
            }
            Err(e) => return Step::Broken(format!("pc is 0 and the stack is unreadable: {e}")),
        }
    }
    let Some(mut f) = code.func(pc.wrapping_sub(bias)) else {
        return Step::Broken(format!("pc {pc:#x} is not in Go code"));
    };
    let mut trap = start.trap;
    let mut innermost = true;
    loop {
        if frames.len() >= MAX_FRAMES {
            return Step::TooDeep;
        }
        let lpc = pc.wrapping_sub(bias);
        if !f.has_pcsp {
            return Step::Stopped(format!(
                "function at {:#x} has no frame-size table",
                f.entry + bias
            ));
        }
        let mut spwrite = f.spwrite;
        if f.kind == FuncId::Cgocallback || (innermost && start.syscall) {
            spwrite = false;
        }
        let Some(delta) = code.sp_delta(&f, lpc) else {
            return Step::Broken(format!("no frame size at pc {pc:#x}"));
        };
        let fp = sp.wrapping_add(delta as i64 as u64).wrapping_add(8);
        let (lo, hi) = start.stack;
        if lo < hi && !(lo <= sp && fp <= hi) {
            return Step::Broken(format!(
                "frame [{sp:#x}, {fp:#x}) is outside the stack [{lo:#x}, {hi:#x})"
            ));
        }
        let sym_pc = if !trap && lpc > f.entry { lpc - 1 } else { lpc };
        let saved_bp = (delta > 0)
            .then(|| stack.word(fp.wrapping_sub(16)).ok())
            .flatten();
        frames.push(PhysFrame {
            pc,
            sym_pc,
            sp,
            fp,
            size: delta,
            trapped: innermost && start.trap,
            saved_bp,
            func: f,
        });
        if f.top_frame {
            return Step::Top;
        }
        if spwrite {
            return Step::Stopped("stopped at a function that switches stacks (SPWRITE), as the runtime's unwinder does".into());
        }
        let lr = match stack.word(fp.wrapping_sub(8)) {
            Ok(v) => v,
            Err(e) => return Step::Broken(format!("return address unreadable: {e}")),
        };
        let Some(caller) = code.func(lr.wrapping_sub(bias)) else {
            return Step::Broken(format!("unexpected return pc {lr:#x}"));
        };
        if pc == lr && sp == fp {
            return Step::Broken(format!("unwinding is stuck at pc {pc:#x} sp {sp:#x}"));
        }
        trap = matches!(
            f.kind,
            FuncId::Sigpanic | FuncId::AsyncPreempt | FuncId::DebugCallV2
        );
        f = caller;
        pc = lr;
        sp = fp;
        innermost = false;
    }
}

/// Cross-check a pcsp unwind with the frame-pointer chain: a Go function with a frame saves
/// its caller's frame pointer (`caller.fp - 16`) right below its return address, at
/// `fp - 16`. Returns the index of the first frame whose saved frame pointer disagrees.
/// Frames without a frame, assembly functions (which may keep none) and a trapped innermost
/// frame (possibly in its prologue) are not checked.
pub fn frame_pointer_mismatch(frames: &[PhysFrame]) -> Option<usize> {
    frames.windows(2).position(|w| {
        let (callee, caller) = (&w[0], &w[1]);
        let checkable = callee.size > 0
            && caller.size > 0
            && !callee.trapped
            && !callee.func.asm
            && !caller.func.asm;
        checkable
            && callee
                .saved_bp
                .is_some_and(|bp| bp != caller.fp.wrapping_sub(16))
    })
}

/// The interrupted registers (pc, sp, bp) saved by the kernel for a signal handled on this
/// stack: `frames` must end at `runtime.sigtramp`, whose frame address is the `ucontext`
/// (sigtramp's entry SP holds the restorer's return address, followed by the ucontext).
pub fn signal_context(mem: &dyn Memory, frames: &[PhysFrame]) -> Option<(u64, u64, u64)> {
    let last = frames.last().filter(|f| f.func.sigtramp)?;
    let mc = last.fp.checked_add(UCONTEXT_MCONTEXT)?;
    let rip = mem.read_u64(mc + 8 * MCONTEXT_RIP).ok()?;
    let rsp = mem.read_u64(mc + 8 * MCONTEXT_RSP).ok()?;
    let rbp = mem.read_u64(mc + 8 * MCONTEXT_RBP).ok()?;
    Some((rip, rsp, rbp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::VecMemory;

    /// A fake code table: functions as (entry, end, kind, flags, frame size after prologue).
    struct Fake(Vec<(u64, u64, FuncId, bool, bool, i32, bool)>);

    impl CodeTable for Fake {
        fn func(&self, pc: u64) -> Option<CodeFunc> {
            self.0.iter().enumerate().find_map(|(i, f)| {
                (f.0 <= pc && pc < f.1).then_some(CodeFunc {
                    index: i,
                    entry: f.0,
                    kind: f.2,
                    top_frame: f.3,
                    spwrite: f.4,
                    has_pcsp: true,
                    sigtramp: f.6,
                    asm: false,
                })
            })
        }
        fn sp_delta(&self, f: &CodeFunc, pc: u64) -> Option<i32> {
            // No frame at the entry instruction, the full frame after it.
            Some(if pc == f.entry { 0 } else { self.0[f.index].5 })
        }
    }

    const GOEXIT: u64 = 0x1000;
    const MAIN: u64 = 0x2000;
    const LEAF: u64 = 0x3000;
    const SIGPANIC: u64 = 0x4000;
    const SIGTRAMP: u64 = 0x5000;
    const HANDLER: u64 = 0x6000;

    fn table() -> Fake {
        Fake(vec![
            (GOEXIT, GOEXIT + 0x10, FuncId::Goexit, true, false, 0, false),
            (
                MAIN,
                MAIN + 0x100,
                FuncId::Normal,
                false,
                false,
                0x20,
                false,
            ),
            (
                LEAF,
                LEAF + 0x100,
                FuncId::Normal,
                false,
                false,
                0x10,
                false,
            ),
            (
                SIGPANIC,
                SIGPANIC + 0x100,
                FuncId::Sigpanic,
                false,
                false,
                0x8,
                false,
            ),
            (
                SIGTRAMP,
                SIGTRAMP + 0x100,
                FuncId::Normal,
                true,
                false,
                0x18,
                true,
            ),
            (
                HANDLER,
                HANDLER + 0x100,
                FuncId::Normal,
                false,
                false,
                0x8,
                false,
            ),
        ])
    }

    /// A stack of 8-byte words at `base`.
    fn stack(base: u64, words: &[u64]) -> VecMemory {
        let mut m = VecMemory::new();
        m.add(base, words.iter().flat_map(|w| w.to_le_bytes()).collect());
        m
    }

    #[test]
    fn parked_goroutine_unwinds_to_goexit() {
        // LEAF frame 0x10 at sp=0x8000: return address at 0x8010 → MAIN+0x40; MAIN frame
        // 0x20 at 0x8018: return address at 0x8038 → GOEXIT+1.
        let mut w = vec![0u64; 8];
        w[2] = MAIN + 0x40;
        w[7] = GOEXIT + 1;
        let mem = stack(0x8000, &w);
        let mut frames = Vec::new();
        let start = StartRegs {
            pc: LEAF + 0x30,
            sp: 0x8000,
            trap: false,
            syscall: false,
            stack: (0, 0),
        };
        let end = unwind(&mem, &table(), 0, start, &mut frames);
        assert_eq!(end, Step::Top);
        let got: Vec<(u64, u64, u64)> = frames.iter().map(|f| (f.pc, f.sym_pc, f.sp)).collect();
        assert_eq!(
            got,
            vec![
                (LEAF + 0x30, LEAF + 0x2f, 0x8000),
                (MAIN + 0x40, MAIN + 0x3f, 0x8018),
                (GOEXIT + 1, GOEXIT, 0x8040),
            ]
        );
        assert_eq!(frames[0].fp, 0x8018);
        // No saved frame pointers on this stack (zeros): the chain disagrees at frame 0.
        assert_eq!(frame_pointer_mismatch(&frames), Some(0));
    }

    #[test]
    fn frame_pointer_chain_confirms_the_pcsp_unwind() {
        // As above, with LEAF saving MAIN's frame pointer (MAIN's fp - 16 = 0x8030) at
        // LEAF's fp - 16 = 0x8008; MAIN's caller (goexit) has no frame: not checked.
        let mut w = vec![0u64; 8];
        w[1] = 0x8030;
        w[2] = MAIN + 0x40;
        w[7] = GOEXIT + 1;
        let mem = stack(0x8000, &w);
        let mut frames = Vec::new();
        let start = StartRegs {
            pc: LEAF + 0x30,
            sp: 0x8000,
            trap: false,
            syscall: false,
            stack: (0, 0),
        };
        assert_eq!(unwind(&mem, &table(), 0, start, &mut frames), Step::Top);
        assert_eq!(frame_pointer_mismatch(&frames), None);
    }

    #[test]
    fn trapped_pc_and_frame_below_sigpanic_are_not_backed_up() {
        // SIGPANIC (frame 8) called "by" LEAF at LEAF+0x20 (the faulting instruction).
        let mut w = vec![0u64; 8];
        w[1] = LEAF + 0x20; // sigpanic's return address: fp=0x8010, at 0x8008
        w[4] = MAIN + 0x40; // LEAF frame at 0x8010 (0x10), ret at 0x8020+... fp=0x8028, at 0x8020
        let mem = stack(0x8000, &w);
        let mut frames = Vec::new();
        let start = StartRegs {
            pc: SIGPANIC + 0x10,
            sp: 0x8000,
            trap: true,
            syscall: false,
            stack: (0, 0),
        };
        let end = unwind(&mem, &table(), 0, start, &mut frames);
        // MAIN's return address (at 0x8028 + 0x20 = 0x8048) is outside the stack.
        assert!(matches!(end, Step::Broken(_)), "{end:?}");
        assert_eq!(frames[0].sym_pc, SIGPANIC + 0x10);
        assert_eq!(frames[1].pc, LEAF + 0x20);
        assert_eq!(frames[1].sym_pc, LEAF + 0x20);
        assert_eq!(frames[2].sym_pc, MAIN + 0x3f);
    }

    #[test]
    fn bad_return_address_is_a_visible_break() {
        let mut w = vec![0u64; 4];
        w[2] = 0xdead_beef;
        let mem = stack(0x8000, &w);
        let mut frames = Vec::new();
        let start = StartRegs {
            pc: LEAF + 0x30,
            sp: 0x8000,
            trap: false,
            syscall: false,
            stack: (0, 0),
        };
        let end = unwind(&mem, &table(), 0, start, &mut frames);
        assert_eq!(end, Step::Broken("unexpected return pc 0xdeadbeef".into()));
        assert_eq!(frames.len(), 1);
    }

    #[test]
    fn zero_pc_takes_the_return_address_from_the_stack() {
        let mut w = vec![0u64; 8];
        w[0] = MAIN + 0x40;
        w[5] = GOEXIT + 1; // MAIN at sp 0x8008, fp 0x8030
        let mem = stack(0x8000, &w);
        let mut frames = Vec::new();
        let start = StartRegs {
            pc: 0,
            sp: 0x8000,
            trap: false,
            syscall: false,
            stack: (0, 0),
        };
        assert_eq!(unwind(&mem, &table(), 0, start, &mut frames), Step::Top);
        assert_eq!(frames[0].pc, MAIN + 0x40);
        assert_eq!(frames[0].sp, 0x8008);
    }

    #[test]
    fn load_bias_is_applied() {
        let bias = 0x5555_0000_0000;
        let mut w = vec![0u64; 8];
        w[2] = bias + GOEXIT + 1;
        let mem = stack(0x8000, &w);
        let mut frames = Vec::new();
        let start = StartRegs {
            pc: bias + LEAF + 0x30,
            sp: 0x8000,
            trap: false,
            syscall: false,
            stack: (0, 0),
        };
        assert_eq!(unwind(&mem, &table(), bias, start, &mut frames), Step::Top);
        assert_eq!(frames[1].pc, bias + GOEXIT + 1);
        assert_eq!(frames[1].sym_pc, GOEXIT);
    }

    #[test]
    fn signal_frame_gives_the_interrupted_registers() {
        // HANDLER (frame 8) at 0x9000 returns into SIGTRAMP (frame 0x18, top frame) at
        // 0x9010; sigtramp's fp is 0x9030, where the ucontext starts.
        let mut w = vec![0u64; 64];
        w[1] = SIGTRAMP + 0x20;
        let uc = (0x9030 - 0x9000) / 8;
        let mc = uc + (UCONTEXT_MCONTEXT / 8) as usize;
        w[mc + MCONTEXT_RIP as usize] = LEAF + 0x44;
        w[mc + MCONTEXT_RSP as usize] = 0x7000;
        w[mc + MCONTEXT_RBP as usize] = 0x7100;
        let mem = stack(0x9000, &w);
        let mut frames = Vec::new();
        let start = StartRegs {
            pc: HANDLER + 0x10,
            sp: 0x9000,
            trap: true,
            syscall: false,
            stack: (0, 0),
        };
        assert_eq!(unwind(&mem, &table(), 0, start, &mut frames), Step::Top);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].fp, 0x9030);
        assert_eq!(
            signal_context(&mem, &frames),
            Some((LEAF + 0x44, 0x7000, 0x7100))
        );
        // Not ending at sigtramp: no signal context.
        assert_eq!(signal_context(&mem, &frames[..1]), None);
    }

    #[test]
    fn a_frame_outside_the_stack_is_a_break() {
        let mut w = vec![0u64; 8];
        w[2] = MAIN + 0x40;
        w[7] = GOEXIT + 1;
        let mem = stack(0x8000, &w);
        let mut frames = Vec::new();
        // The stack ends before MAIN's frame does.
        let start = StartRegs {
            pc: LEAF + 0x30,
            sp: 0x8000,
            trap: false,
            syscall: false,
            stack: (0x8000, 0x8030),
        };
        let end = unwind(&mem, &table(), 0, start, &mut frames);
        assert!(
            matches!(&end, Step::Broken(m) if m.contains("outside the stack")),
            "{end:?}"
        );
        assert_eq!(frames.len(), 1);
    }

    #[test]
    fn unknown_start_pc_is_broken_not_a_panic() {
        let mem = VecMemory::new();
        let mut frames = Vec::new();
        let start = StartRegs {
            pc: 0x42,
            sp: 0x8000,
            trap: false,
            syscall: false,
            stack: (0, 0),
        };
        assert!(matches!(
            unwind(&mem, &table(), 0, start, &mut frames),
            Step::Broken(_)
        ));
        let start = StartRegs { pc: 0, ..start };
        assert!(matches!(
            unwind(&mem, &table(), 0, start, &mut frames),
            Step::Broken(_)
        ));
        assert!(frames.is_empty());
    }
}
