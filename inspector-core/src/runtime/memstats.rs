//! The runtime's own heap counters, reconstructed the way `runtime.ReadMemStats` computes them
//! (`readmemstats_m`): the consistent stats `memstats.heapStats` (three `heapStatsDelta`s, summed)
//! and `gcController`'s heap counters, plus the counts each P's `mcache` has not flushed yet
//! (`allocCount - allocCountBeforeCache` of every cached span, and `tinyAllocs`), which
//! ReadMemStats would flush first. These are the numbers the heap walk must reconcile with.

use super::{GoRuntime, RuntimeError};
use crate::target::{Memory, MemoryExt};

/// Live objects of one size class as the runtime counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassCounter {
    pub size: u64,
    /// `smallAllocCount` plus what mcaches hold unflushed.
    pub mallocs: u64,
    pub frees: u64,
    /// The unflushed part of `mallocs`.
    pub pending: u64,
}

impl ClassCounter {
    pub fn live(&self) -> u64 {
        self.mallocs.saturating_sub(self.frees)
    }
}

/// What `runtime.ReadMemStats` would report at the moment of the core (heap part).
#[derive(Debug, Clone, Default)]
pub struct RuntimeCounters {
    pub heap_alloc: u64,
    pub heap_inuse: u64,
    pub heap_idle: u64,
    pub heap_released: u64,
    pub heap_sys: u64,
    pub heap_objects: u64,
    pub mallocs: u64,
    pub frees: u64,
    pub total_alloc: u64,
    pub stack_inuse: u64,
    /// Bytes of manual spans: stacks + GC work buffers (+ unrolled GC-program bits ≤1.23).
    pub manual_inuse: u64,
    pub tiny_allocs: u64,
    pub large_objects: u64,
    pub large_bytes: u64,
    /// Index = size class.
    pub by_class: Vec<ClassCounter>,
    /// Objects counted by mcaches but not yet flushed (all classes), and tiny allocations.
    pub pending_objects: u64,
    pub pending_tiny: u64,
    pub num_gc: u32,
    /// Number of Ps whose mcache was read.
    pub procs: u64,
}

impl RuntimeCounters {
    /// Read the counters from the target.
    pub fn read(mem: &dyn Memory, rt: &GoRuntime) -> Result<RuntimeCounters, RuntimeError> {
        let l = &rt.layouts;
        let hs = &l.heap_stats;
        let sizes = rt.class_sizes(mem)?;
        let nclass = sizes.len();
        let base = rt.syms.memstats + hs.stats;
        let mut c = RuntimeCounters {
            by_class: sizes
                .iter()
                .map(|&size| ClassCounter {
                    size,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let mut large_alloc = 0u64;
        let mut large_free = 0u64;
        let mut large_alloc_count = 0u64;
        let mut large_free_count = 0u64;
        let mut in_stacks = 0i64;
        let mut manual = 0i64;
        for gen in 0..3 {
            let d = mem
                .bytes(base + gen * hs.delta_size, hs.delta_size as usize)
                .map_err(RuntimeError::read("memstats.heapStats"))?;
            let d: &[u8] = &d;
            let arr = |f: &super::layout::Field, i: usize| {
                super::layout::Field {
                    offset: f.offset + 8 * i as u64,
                    size: 8,
                }
                .get(d)
            };
            for i in 0..nclass {
                c.by_class[i].mallocs += arr(&hs.small_alloc_count, i);
                c.by_class[i].frees += arr(&hs.small_free_count, i);
            }
            c.tiny_allocs += hs.tiny_alloc_count.get(d);
            large_alloc += hs.large_alloc.get(d);
            large_free += hs.large_free.get(d);
            large_alloc_count += hs.large_alloc_count.get(d);
            large_free_count += hs.large_free_count.get(d);
            let stacks = hs.in_stacks.get(d) as i64;
            in_stacks += stacks;
            manual += stacks + hs.in_work_bufs.get(d) as i64;
            if let Some(f) = &hs.in_ptr_scalar_bits {
                manual += f.get(d) as i64;
            }
        }
        c.num_gc = mem
            .read_u32(rt.syms.memstats + hs.numgc.offset)
            .map_err(RuntimeError::read("memstats.numgc"))?;
        c.add_pending(mem, rt)?;

        let gcc = rt.syms.gc_controller;
        let g = &l.gc_controller;
        let rd = |f: &super::layout::Field, what: &str| {
            mem.read_u64(gcc + f.offset)
                .map_err(RuntimeError::read(what))
        };
        c.heap_inuse = rd(&g.heap_in_use, "gcController.heapInUse")?;
        let heap_free = rd(&g.heap_free, "gcController.heapFree")?;
        c.heap_released = rd(&g.heap_released, "gcController.heapReleased")?;
        c.heap_idle = heap_free + c.heap_released;
        c.heap_sys = c.heap_inuse + c.heap_idle;
        c.stack_inuse = in_stacks.max(0) as u64;
        c.manual_inuse = manual.max(0) as u64;

        c.large_objects = large_alloc_count.saturating_sub(large_free_count);
        c.large_bytes = large_alloc.saturating_sub(large_free);
        let small_alloc: u64 = c.by_class.iter().map(|k| k.mallocs * k.size).sum();
        let small_free: u64 = c.by_class.iter().map(|k| k.frees * k.size).sum();
        c.total_alloc = small_alloc + large_alloc;
        c.heap_alloc = c.total_alloc.saturating_sub(small_free + large_free);
        // MemStats counts tiny allocations in both Mallocs and Frees (readmemstats_m).
        let tiny = c.tiny_allocs + c.pending_tiny;
        c.mallocs = c.by_class.iter().map(|k| k.mallocs).sum::<u64>() + large_alloc_count + tiny;
        c.frees = c.by_class.iter().map(|k| k.frees).sum::<u64>() + large_free_count + tiny;
        c.heap_objects = c.mallocs.saturating_sub(c.frees);
        Ok(c)
    }

    /// Add what each P's mcache has allocated but not flushed into the consistent stats.
    fn add_pending(&mut self, mem: &dyn Memory, rt: &GoRuntime) -> Result<(), RuntimeError> {
        let l = &rt.layouts;
        let (allp, nprocs) = rt.read_slice(mem, rt.syms.allp, "runtime.allp")?;
        if nprocs > 1 << 16 {
            return Err(RuntimeError::Corrupt(format!(
                "runtime.allp has {nprocs} Ps"
            )));
        }
        let nspc = 2 * self.by_class.len() as u64;
        for i in 0..nprocs {
            let p = mem
                .read_ptr(allp + 8 * i)
                .map_err(RuntimeError::read("allp[i]"))?;
            if p == 0 {
                continue;
            }
            let mc = mem
                .read_ptr(p + l.mcache.p_mcache.offset)
                .map_err(RuntimeError::read("p.mcache"))?;
            if mc == 0 {
                continue;
            }
            self.procs += 1;
            self.pending_tiny += mem
                .read_u64(mc + l.mcache.tiny_allocs.offset)
                .map_err(RuntimeError::read("mcache.tinyAllocs"))?;
            let alloc = mem
                .bytes(mc + l.mcache.alloc.offset, (nspc * 8) as usize)
                .map_err(RuntimeError::read("mcache.alloc"))?;
            for (spc, w) in alloc.chunks_exact(8).enumerate() {
                let s = u64::from_le_bytes(w.try_into().unwrap());
                if s == 0 || s == rt.syms.emptymspan {
                    continue;
                }
                let ms = &l.mspan;
                let b = mem
                    .bytes(s, ms.size as usize)
                    .map_err(RuntimeError::read("cached mspan"))?;
                let used = ms
                    .alloc_count
                    .get(&b)
                    .saturating_sub(ms.alloc_count_before_cache.get(&b));
                let class = spc >> 1;
                self.by_class[class].mallocs += used;
                self.by_class[class].pending += used;
                self.pending_objects += used;
            }
        }
        Ok(())
    }
}
