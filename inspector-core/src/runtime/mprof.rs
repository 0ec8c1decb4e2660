//! The runtime's memory profile (mprof.go): every memory-profile `bucket` on `runtime.mbuckets`
//! with its allocation stack and `memRecord` counts, read the way `runtime.MemProfile` reads
//! them at that moment (`memProfileInternal`): the published `active` cycle plus the current
//! cycle's `future` slot; if no cycle was ever published, every cycle.
//!
//! Stacks are return PCs of logical frames (inlining already expanded by the runtime's
//! `tracebackPCs`), so each PC is symbolized to one frame at `pc-1`, as `runtime.CallersFrames`
//! does; [`first_shown`] drops the allocator's own leading frames as `runtime/pprof` does.

use super::layout::ObjectLayouts;
use super::{GoRuntime, RuntimeError};
use crate::binary::Pclntab;
use crate::target::{Memory, MemoryExt};

/// Most buckets followed on `mbuckets` (a cycle or garbage stops here).
const MAX_BUCKETS: usize = 50_000_000;
/// Deepest stack read from a bucket (`debug.profstackdepth` is at most 1024).
const MAX_STACK: u64 = 1024 + 8;

/// One `memRecordCycle`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cycle {
    pub allocs: u64,
    pub frees: u64,
    pub alloc_bytes: u64,
    pub free_bytes: u64,
}

impl Cycle {
    fn add(&mut self, o: &Cycle) {
        self.allocs += o.allocs;
        self.frees += o.frees;
        self.alloc_bytes += o.alloc_bytes;
        self.free_bytes += o.free_bytes;
    }
    fn is_zero(&self) -> bool {
        self.allocs == 0 && self.frees == 0
    }
}

/// One memory-profile bucket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub addr: u64,
    /// The allocation size recorded (the slot size from Go 1.22; 16 for a tiny block).
    pub size: u64,
    /// Return PCs of the allocation stack, innermost first.
    pub stack: Vec<u64>,
    pub active: Cycle,
    pub future: [Cycle; 3],
}

/// One record as `runtime.MemProfile(p, true)` would return it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRecord {
    pub bucket: u64,
    pub size: u64,
    pub stack: Vec<u64>,
    pub alloc_objects: u64,
    pub alloc_bytes: u64,
    pub free_objects: u64,
    pub free_bytes: u64,
}

impl ProfileRecord {
    pub fn inuse_objects(&self) -> u64 {
        self.alloc_objects.saturating_sub(self.free_objects)
    }
    pub fn inuse_bytes(&self) -> u64 {
        self.alloc_bytes.saturating_sub(self.free_bytes)
    }
}

/// Where the profiler's globals are, and what they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfilingState {
    /// `runtime.MemProfileRate` now.
    pub rate: i64,
    /// `runtime.disableMemoryProfiling`: the linker found nothing that reads the profile.
    pub disabled_by_linker: bool,
}

/// The whole memory profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemProfile {
    pub state: ProfilingState,
    /// `mProfCycle` (the heap-profile cycle, advanced at each GC's mark termination).
    pub cycle: u32,
    /// Records in `mbuckets` order (newest bucket first), zero-count ones included.
    pub records: Vec<ProfileRecord>,
}

/// Addresses (load bias applied) of the profiler's globals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MprofSymbols {
    pub mbuckets: u64,
    pub cycle: u64,
    pub rate: u64,
    pub disable: Option<u64>,
}

impl MprofSymbols {
    /// Locate the globals in `rt`'s executable symbols.
    pub fn find(exe: &crate::binary::Executable, rt: &GoRuntime) -> Result<Self, RuntimeError> {
        let sym = |n: &str| exe.symbol(n).map(|s| s.addr + rt.bias);
        let need = |n: &str| {
            sym(n).ok_or_else(|| {
                RuntimeError::Layout(super::layout::LayoutError::MissingSymbol {
                    name: n.into(),
                    version: rt.version.to_string(),
                })
            })
        };
        Ok(MprofSymbols {
            mbuckets: need("runtime.mbuckets")?,
            cycle: need("runtime.mProfCycle")?,
            rate: need("runtime.MemProfileRate")?,
            disable: sym("runtime.disableMemoryProfiling"),
        })
    }

    /// `MemProfileRate` and the linker's switch.
    pub fn state(&self, mem: &dyn Memory) -> Result<ProfilingState, RuntimeError> {
        let rate = mem
            .read_u64(self.rate)
            .map_err(RuntimeError::read("runtime.MemProfileRate"))? as i64;
        let disabled_by_linker = match self.disable {
            Some(a) => {
                mem.read_u8(a)
                    .map_err(RuntimeError::read("runtime.disableMemoryProfiling"))?
                    != 0
            }
            None => false,
        };
        Ok(ProfilingState {
            rate,
            disabled_by_linker,
        })
    }
}

/// Read the bucket at `addr`.
pub fn read_bucket(mem: &dyn Memory, l: &ObjectLayouts, addr: u64) -> Result<Bucket, RuntimeError> {
    read_bucket_next(mem, l, addr).map(|(b, _)| b)
}

/// Read the bucket at `addr` and its `allnext` link.
fn read_bucket_next(
    mem: &dyn Memory,
    l: &ObjectLayouts,
    addr: u64,
) -> Result<(Bucket, u64), RuntimeError> {
    let m = &l.mprof;
    let err = || RuntimeError::read(format!("profile bucket at {addr:#x}"));
    let hdr = mem.bytes(addr, m.bucket_size as usize).map_err(err())?;
    let size = m.size.get(&hdr);
    let nstk = m.nstk.get(&hdr);
    let next = m.allnext.get(&hdr);
    if nstk > MAX_STACK {
        return Err(RuntimeError::Corrupt(format!(
            "profile bucket at {addr:#x} has {nstk} stack entries"
        )));
    }
    // The stack and then the memRecord follow the header.
    let body = mem
        .bytes(addr + m.bucket_size, (nstk * 8 + m.record_size) as usize)
        .map_err(err())?;
    let (raw, rec) = body.split_at((nstk * 8) as usize);
    let stack = raw
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().unwrap()))
        .collect();
    let cycle = |off: u64| {
        let b = &rec[off as usize..];
        let allocs = m.allocs.get(b);
        let frees = m.frees.get(b);
        Cycle {
            allocs,
            frees,
            // Go 1.27 keeps counts only: bytes are counts × the bucket's size.
            alloc_bytes: m.alloc_bytes.map_or(allocs * size, |f| f.get(b)),
            free_bytes: m.free_bytes.map_or(frees * size, |f| f.get(b)),
        }
    };
    let f = m.future.offset;
    let bucket = Bucket {
        addr,
        size,
        stack,
        active: cycle(m.active.offset),
        future: [
            cycle(f),
            cycle(f + m.cycle_size),
            cycle(f + 2 * m.cycle_size),
        ],
    };
    Ok((bucket, next))
}

/// Every memory-profile bucket on `runtime.mbuckets`.
pub fn buckets(
    mem: &dyn Memory,
    l: &ObjectLayouts,
    syms: &MprofSymbols,
) -> Result<Vec<Bucket>, RuntimeError> {
    let mut p = mem
        .read_ptr(syms.mbuckets)
        .map_err(RuntimeError::read("runtime.mbuckets"))?;
    let mut out = Vec::new();
    while p != 0 {
        if out.len() >= MAX_BUCKETS {
            return Err(RuntimeError::Corrupt(
                "runtime.mbuckets list does not end".into(),
            ));
        }
        let (b, next) = read_bucket_next(mem, l, p)?;
        out.push(b);
        p = next;
    }
    Ok(out)
}

/// The memory profile as `runtime.MemProfile(p, true)` would return it at the moment of the
/// core: `active` plus `future[cycle % 3]` (the flush `memProfileInternal` does first); if that
/// leaves every record empty (no GC has published a cycle yet), all cycles summed.
pub fn mem_profile(
    mem: &dyn Memory,
    l: &ObjectLayouts,
    syms: &MprofSymbols,
) -> Result<MemProfile, RuntimeError> {
    let state = syms.state(mem)?;
    let value = mem
        .read_u32(syms.cycle + l.mprof.cycle_value.offset)
        .map_err(RuntimeError::read("runtime.mProfCycle"))?;
    let cycle = value >> 1;
    let idx = (cycle % 3) as usize;
    let all = buckets(mem, l, syms)?;
    let mut sums: Vec<Cycle> = all
        .iter()
        .map(|b| {
            let mut c = b.active;
            c.add(&b.future[idx]);
            c
        })
        .collect();
    if sums.iter().all(Cycle::is_zero) {
        for (s, b) in sums.iter_mut().zip(&all) {
            *s = b.active;
            for f in &b.future {
                s.add(f);
            }
        }
    }
    let records = all
        .into_iter()
        .zip(sums)
        .map(|(b, c)| ProfileRecord {
            bucket: b.addr,
            size: b.size,
            stack: b.stack,
            alloc_objects: c.allocs,
            alloc_bytes: c.alloc_bytes,
            free_objects: c.frees,
            free_bytes: c.free_bytes,
        })
        .collect();
    Ok(MemProfile {
        state,
        cycle,
        records,
    })
}

/// One frame of an allocation stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocFrame {
    /// The PC looked up: the stored return PC minus one, as `runtime.CallersFrames` reports.
    pub pc: u64,
    pub func: String,
    pub file: String,
    pub line: u32,
    /// The function was inlined into the frame that follows.
    pub inlined: bool,
    /// Entry PC (target address) of the physical function holding `pc`.
    pub entry: u64,
    pub start_line: i32,
}

/// The logical frame of one stored return PC (`runtime.CallersFrames`: look up `pc-1` unless
/// `pc` is a function entry, keep the innermost inlined function). `None` outside Go text.
pub fn frame_for_pc(pcln: &Pclntab, bias: u64, pc: u64) -> Option<AllocFrame> {
    let link = pc.checked_sub(bias)?;
    let f = pcln.find_func(link)?;
    let at = if link > f.entry { link - 1 } else { link };
    let fr = *pcln.frames_in(&f, at).first()?;
    Some(AllocFrame {
        pc: at + bias,
        func: fr.func.to_string(),
        file: fr.file.to_string(),
        line: fr.line,
        inlined: fr.inlined,
        entry: f.entry + bias,
        start_line: fr.start_line,
    })
}

/// The name `runtime.FuncForPC(pc)` gives: the innermost function at `pc` itself.
fn func_for_pc(pcln: &Pclntab, bias: u64, pc: u64) -> Option<&str> {
    let link = pc.checked_sub(bias)?;
    pcln.frames_for_pc(link).first().map(|f| f.func)
}

/// Index of the first PC `runtime/pprof` keeps: leading frames of the runtime itself
/// (`runtime.`, and from Go 1.24 `internal/runtime/`) are hidden; a stack made only of them is
/// kept whole.
pub fn first_shown(pcln: &Pclntab, bias: u64, stack: &[u64], go_minor: u32) -> usize {
    stack
        .iter()
        .position(|&pc| !is_hidden(pcln, bias, pc, go_minor))
        .unwrap_or(0)
}

/// Whether `runtime/pprof` hides a leading frame at this return PC: `runtime.FuncForPC(pc)`
/// is in package runtime (or, from Go 1.24, under `internal/runtime/`).
pub fn is_hidden(pcln: &Pclntab, bias: u64, pc: u64, go_minor: u32) -> bool {
    func_for_pc(pcln, bias, pc).is_some_and(|name| {
        name.starts_with("runtime.") || (go_minor >= 24 && name.starts_with("internal/runtime/"))
    })
}

/// The allocation stack as shown: runtime allocator frames dropped, one frame per PC,
/// `runtime.goexit` left out.
pub fn shown_frames(pcln: &Pclntab, bias: u64, stack: &[u64], go_minor: u32) -> Vec<AllocFrame> {
    let from = first_shown(pcln, bias, stack, go_minor);
    stack[from..]
        .iter()
        .filter_map(|&pc| frame_for_pc(pcln, bias, pc))
        .filter(|f| f.func != "runtime.goexit")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::objects::test_layouts;
    use crate::target::VecMemory;

    /// A 1.24-style bucket: header, stack, memRecord {active, future[3]} of 4 words each.
    fn bucket(next: u64, size: u64, stack: &[u64], cycles: [[u64; 4]; 4]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [0, next, 1, 0, size, stack.len() as u64] {
            v.extend(w.to_le_bytes());
        }
        for w in stack.iter().chain(cycles.iter().flatten()) {
            v.extend(w.to_le_bytes());
        }
        v
    }

    fn syms() -> MprofSymbols {
        MprofSymbols {
            mbuckets: 0x100,
            cycle: 0x108,
            rate: 0x110,
            disable: Some(0x118),
        }
    }

    fn globals(head: u64, cycle_value: u32, rate: u64) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(head.to_le_bytes());
        v.extend((cycle_value as u64).to_le_bytes());
        v.extend(rate.to_le_bytes());
        v.extend(0u64.to_le_bytes());
        v
    }

    #[test]
    fn mem_profile_reads_as_memprofile_does() {
        let l = test_layouts();
        let mut mem = VecMemory::new();
        // cycle 4 (value 4 << 1): MemProfile flushes future[4 % 3 = 1] into active.
        mem.add(0x100, globals(0x1000, 4 << 1, 1));
        let z = [0; 4];
        mem.add(
            0x1000,
            bucket(
                0x2000,
                16,
                &[0x401000, 0x402000],
                [[3, 1, 48, 16], [9, 9, 9, 9], [2, 0, 32, 0], z],
            ),
        );
        mem.add(
            0x2000,
            bucket(0, 1024, &[0x403000], [z, z, z, [5, 0, 5120, 0]]),
        );
        let p = mem_profile(&mem, &l, &syms()).unwrap();
        assert_eq!((p.cycle, p.state.rate), (4, 1));
        assert_eq!(p.records.len(), 2);
        let r = &p.records[0];
        assert_eq!(r.stack, [0x401000, 0x402000]);
        assert_eq!(
            (r.alloc_objects, r.free_objects, r.alloc_bytes, r.free_bytes),
            (5, 1, 80, 16)
        );
        assert_eq!((r.inuse_objects(), r.inuse_bytes()), (4, 64));
        // Only in a future cycle not yet due: not part of MemProfile's answer.
        assert_eq!(p.records[1].alloc_objects, 0);

        // No cycle published at all: every cycle counts.
        let mut mem = VecMemory::new();
        mem.add(0x100, globals(0x1000, 4 << 1, 512 * 1024));
        mem.add(
            0x1000,
            bucket(0, 64, &[0x401000], [z, [1, 0, 64, 0], z, [2, 1, 128, 64]]),
        );
        let p = mem_profile(&mem, &l, &syms()).unwrap();
        let r = &p.records[0];
        assert_eq!(
            (r.alloc_objects, r.free_objects, r.alloc_bytes),
            (3, 1, 192)
        );
        assert_eq!(p.state.rate, 512 * 1024);
    }

    #[test]
    fn corrupt_buckets_are_errors() {
        let l = test_layouts();
        let mut mem = VecMemory::new();
        mem.add(0x100, globals(0x1000, 0, 1));
        let mut b = bucket(0, 16, &[], [[0; 4]; 4]);
        b[40..48].copy_from_slice(&(1u64 << 40).to_le_bytes()); // nstk
        mem.add(0x1000, b);
        let e = mem_profile(&mem, &l, &syms()).unwrap_err().to_string();
        assert!(e.contains("stack entries"), "{e}");
        // A dangling allnext is a read error naming the address.
        let mut mem = VecMemory::new();
        mem.add(0x100, globals(0x1000, 0, 1));
        mem.add(0x1000, bucket(0xdead_0000, 16, &[], [[0; 4]; 4]));
        let e = mem_profile(&mem, &l, &syms()).unwrap_err().to_string();
        assert!(e.contains("0xdead0000"), "{e}");
    }

    #[test]
    fn cycle_sum_and_zero() {
        let mut a = Cycle {
            allocs: 1,
            frees: 0,
            alloc_bytes: 16,
            free_bytes: 0,
        };
        assert!(!a.is_zero());
        a.add(&Cycle {
            allocs: 2,
            frees: 1,
            alloc_bytes: 32,
            free_bytes: 16,
        });
        assert_eq!(
            (a.allocs, a.frees, a.alloc_bytes, a.free_bytes),
            (3, 1, 48, 16)
        );
        assert!(Cycle::default().is_zero());
        let r = ProfileRecord {
            bucket: 0,
            size: 16,
            stack: vec![],
            alloc_objects: 3,
            alloc_bytes: 48,
            free_objects: 1,
            free_bytes: 16,
        };
        assert_eq!((r.inuse_objects(), r.inuse_bytes()), (2, 32));
    }
}
