//! Span listings and the per-size-class summary: where heap memory sits and how fragmented
//! each size class is.

use serde::Serialize;

use crate::runtime::heap::{Heap, Span, SpanState};

/// Which spans to list.
#[derive(Debug, Clone, Default)]
pub struct SpanFilter {
    pub class: Option<u8>,
    pub state: Option<SpanState>,
    /// Keep spans with at least this percentage of free slots.
    pub min_free_pct: Option<f64>,
    /// Keep the N spans wasting most bytes.
    pub top: Option<usize>,
}

/// Bytes of a span not holding an allocated object (free slots and the tail no slot fits in).
pub fn wasted_bytes(s: &Span, page_size: u64) -> u64 {
    match s.state {
        SpanState::InUse => s.bytes(page_size).saturating_sub(s.allocated_bytes()),
        SpanState::Free => s.bytes(page_size),
        SpanState::Manual => 0,
    }
}

fn free_pct(s: &Span) -> f64 {
    if s.nelems == 0 {
        0.0
    } else {
        100.0 * s.free_slots() as f64 / s.nelems as f64
    }
}

/// The spans selected by `f`, in address order (or by wasted bytes with `top`).
pub fn select<'a>(heap: &'a Heap, f: &SpanFilter) -> Vec<&'a Span> {
    let mut v: Vec<&Span> = heap
        .spans
        .iter()
        .filter(|s| f.state.is_none_or(|st| s.state == st))
        .filter(|s| {
            f.class
                .is_none_or(|c| s.state == SpanState::InUse && s.size_class() == c)
        })
        .filter(|s| {
            f.min_free_pct
                .is_none_or(|p| s.state == SpanState::InUse && free_pct(s) >= p)
        })
        .collect();
    if let Some(n) = f.top {
        v.sort_by_key(|s| std::cmp::Reverse(wasted_bytes(s, heap.page_size)));
        v.truncate(n);
    }
    v
}

/// One size class of the summary.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ClassSummary {
    pub class: u8,
    pub elemsize: u64,
    pub spans: u64,
    pub objects: u64,
    /// Bytes of allocated objects.
    pub bytes: u64,
    pub free_slots: u64,
    /// Bytes of the spans' pages.
    pub span_bytes: u64,
    /// Share of the spans' bytes not holding objects, in percent.
    pub fragmentation_pct: f64,
    pub scan_objects: u64,
    pub noscan_objects: u64,
}

/// Large objects (size class 0, one object per span).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LargeSummary {
    pub spans: u64,
    pub objects: u64,
    pub bytes: u64,
}

/// Totals over the whole heap.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Totals {
    pub inuse_spans: u64,
    pub objects: u64,
    /// Bytes of allocated objects (the walk's HeapAlloc).
    pub bytes: u64,
    /// Bytes of in-use spans (the walk's HeapInuse).
    pub inuse_bytes: u64,
    pub free_slots: u64,
    pub manual_spans: u64,
    pub manual_bytes: u64,
    /// Free pages (the walk's HeapIdle) and the part returned to the OS (HeapReleased).
    pub free_bytes: u64,
    pub released_bytes: u64,
    pub fragmentation_pct: f64,
}

/// `spans -summary`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SpanSummary {
    pub classes: Vec<ClassSummary>,
    pub large: LargeSummary,
    pub total: Totals,
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (1000.0 * part as f64 / whole as f64).round() / 10.0
    }
}

/// Summarise the heap by size class.
pub fn summarize(heap: &Heap) -> SpanSummary {
    let ps = heap.page_size;
    let mut classes: Vec<ClassSummary> = heap
        .class_sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| ClassSummary {
            class: i as u8,
            elemsize: size,
            ..Default::default()
        })
        .collect();
    let mut out = SpanSummary::default();
    for s in &heap.spans {
        match s.state {
            SpanState::InUse => {
                out.total.inuse_spans += 1;
                out.total.inuse_bytes += s.bytes(ps);
                out.total.objects += s.allocated as u64;
                out.total.bytes += s.allocated_bytes();
                if s.is_large() {
                    out.large.spans += 1;
                    out.large.objects += s.allocated as u64;
                    out.large.bytes += s.allocated_bytes();
                    continue;
                }
                out.total.free_slots += s.free_slots() as u64;
                let Some(c) = classes.get_mut(s.size_class() as usize) else {
                    continue;
                };
                c.spans += 1;
                c.objects += s.allocated as u64;
                c.bytes += s.allocated_bytes();
                c.free_slots += s.free_slots() as u64;
                c.span_bytes += s.bytes(ps);
                if s.noscan() {
                    c.noscan_objects += s.allocated as u64;
                } else {
                    c.scan_objects += s.allocated as u64;
                }
            }
            SpanState::Manual => {
                out.total.manual_spans += 1;
                out.total.manual_bytes += s.bytes(ps);
            }
            SpanState::Free => {
                out.total.free_bytes += s.bytes(ps);
                out.total.released_bytes += s.released_pages * ps;
            }
        }
    }
    for c in &mut classes {
        c.fragmentation_pct = pct(c.span_bytes - c.bytes.min(c.span_bytes), c.span_bytes);
    }
    out.total.fragmentation_pct = pct(
        out.total.inuse_bytes - out.total.bytes.min(out.total.inuse_bytes),
        out.total.inuse_bytes,
    );
    out.classes = classes
        .into_iter()
        .filter(|c| c.class > 0 && c.spans > 0)
        .collect();
    out
}
