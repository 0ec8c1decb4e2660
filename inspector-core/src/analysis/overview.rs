//! `overview`: what the target is, and the heap walk's figures next to the runtime's own
//! counters (what ReadMemStats would have reported), with every disagreement listed.

use serde::Serialize;

use super::spans::{summarize, SpanSummary};
use crate::runtime::memstats::RuntimeCounters;
use crate::session::{Session, SessionError};
use crate::target::ExeCheck;

/// One counter as the walk found it and as the runtime counts it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CounterRow {
    pub name: &'static str,
    pub walk: u64,
    pub runtime: u64,
}

impl CounterRow {
    pub fn agrees(&self) -> bool {
        self.walk == self.runtime
    }
}

/// A size class whose walked object count differs from the runtime's count.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClassMismatch {
    pub class: u8,
    pub size: u64,
    pub walk: u64,
    pub runtime: u64,
}

/// Everything `overview` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub go_version: String,
    pub goarch: String,
    pub executable: String,
    pub core: String,
    pub compression: String,
    pub pie: bool,
    pub load_bias: u64,
    pub exe_check: String,
    pub process: Option<String>,
    pub threads: usize,
    pub green_tea_gc: bool,
    pub arenas: usize,
    pub arena_bytes: u64,
    pub heap_min: u64,
    pub heap_max: u64,
    pub sweepgen: u32,
    pub num_gc: u32,
    pub spans_inuse: u64,
    pub spans_manual: u64,
    pub free_runs: u64,
    pub pages_inuse: u64,
    /// Walk vs runtime, for HeapAlloc, HeapObjects, HeapInuse, HeapIdle, HeapReleased, ...
    pub counters: Vec<CounterRow>,
    pub class_mismatches: Vec<ClassMismatch>,
    /// Counts still in per-P caches, included in the runtime figures.
    pub unflushed_objects: u64,
    pub unflushed_tiny_allocs: u64,
    pub tiny_allocs: u64,
    pub problems: Vec<String>,
    #[serde(skip)]
    pub summary: SpanSummary,
    #[serde(skip)]
    pub runtime: RuntimeCounters,
}

impl Overview {
    pub fn build(s: &Session) -> Result<Overview, SessionError> {
        let heap = s.heap()?;
        let rc = s.runtime_counters()?;
        let sum = summarize(&heap);
        let t = &sum.total;
        let ps = heap.page_size;

        let mut walk_by_class = vec![0u64; heap.class_sizes.len()];
        for c in &sum.classes {
            walk_by_class[c.class as usize] = c.objects;
        }
        let class_mismatches = rc
            .by_class
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(i, k)| walk_by_class[*i] != k.live())
            .map(|(i, k)| ClassMismatch {
                class: i as u8,
                size: k.size,
                walk: walk_by_class[i],
                runtime: k.live(),
            })
            .collect();
        let counters = vec![
            CounterRow {
                name: "HeapAlloc",
                walk: t.bytes,
                runtime: rc.heap_alloc,
            },
            CounterRow {
                name: "HeapObjects",
                walk: t.objects,
                runtime: rc.heap_objects,
            },
            CounterRow {
                name: "HeapInuse",
                walk: t.inuse_bytes,
                runtime: rc.heap_inuse,
            },
            CounterRow {
                name: "HeapIdle",
                walk: t.free_bytes,
                runtime: rc.heap_idle,
            },
            CounterRow {
                name: "HeapReleased",
                walk: t.released_bytes,
                runtime: rc.heap_released,
            },
            CounterRow {
                name: "LargeObjects",
                walk: sum.large.objects,
                runtime: rc.large_objects,
            },
            CounterRow {
                name: "LargeBytes",
                walk: sum.large.bytes,
                runtime: rc.large_bytes,
            },
            CounterRow {
                name: "ManualInuse",
                walk: t.manual_bytes,
                runtime: rc.manual_inuse,
            },
        ];
        let exe_check = match &s.exe_check {
            ExeCheck::Verified => "build ID matches".to_string(),
            ExeCheck::NameMatches(p) => {
                format!("not verified: core maps a file named like it ({p})")
            }
            ExeCheck::NotVerifiable(r) => format!("not verified: {r}"),
        };
        Ok(Overview {
            go_version: s.exe.go_version().to_string(),
            goarch: s.core.arch().goarch().to_string(),
            executable: s.exe.path.display().to_string(),
            core: s.core.path().display().to_string(),
            compression: format!("{:?}", s.core.compression()).to_lowercase(),
            pie: s.exe.is_pie,
            load_bias: s.rt.bias,
            exe_check,
            process: s.core.process_name().map(str::to_string),
            threads: s.core.threads().len(),
            green_tea_gc: s.rt.layouts.green_tea,
            arenas: heap.arenas.len(),
            arena_bytes: heap.arena_bytes,
            heap_min: heap.arenas.first().copied().unwrap_or(0),
            heap_max: heap.arenas.last().map_or(0, |a| a + heap.arena_bytes),
            sweepgen: heap.sweepgen,
            num_gc: rc.num_gc,
            spans_inuse: t.inuse_spans,
            spans_manual: t.manual_spans,
            free_runs: heap.spans.iter().filter(|s| s.desc == 0).count() as u64,
            pages_inuse: t.inuse_bytes / ps,
            counters,
            class_mismatches,
            unflushed_objects: rc.pending_objects,
            unflushed_tiny_allocs: rc.pending_tiny,
            tiny_allocs: rc.tiny_allocs + rc.pending_tiny,
            problems: heap.problems.clone(),
            summary: sum,
            runtime: rc,
        })
    }
}
