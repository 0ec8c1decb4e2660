//! pprof labels of a goroutine (`g.labels`, set by `runtime/pprof.Do` / `SetGoroutineLabels`):
//! a `map[string]string` up to Go 1.23, a list of key/value pairs from 1.24 (see
//! [`LabelsLayout`]). Unreadable or implausible label data gives no labels, never an error.

use super::layout::LabelsLayout;
use crate::target::{Memory, MemoryExt};

/// Bounds that keep a corrupt label set from running away.
const MAX_LABELS: u64 = 1024;
const MAX_STRING: usize = 4096;
/// Map buckets hold 8 entries; tophash values below 5 mark empty or evacuated slots.
const BUCKET_ENTRIES: u64 = 8;
const MIN_TOP_HASH: u8 = 5;

/// The labels at `ptr` (a `*labelMap`), in the runtime's order (sorted by key for maps, whose
/// order is random anyway).
pub fn read_labels(mem: &dyn Memory, lay: &LabelsLayout, ptr: u64) -> Vec<(String, String)> {
    let s = |a: u64| mem.read_go_string(a, MAX_STRING).ok();
    match lay {
        LabelsLayout::List {
            list,
            elem_size,
            key,
            value,
        } => {
            let (Ok(base), Ok(len)) = (mem.read_ptr(ptr + list), mem.read_u64(ptr + list + 8))
            else {
                return Vec::new();
            };
            (0..len.min(MAX_LABELS))
                .map_while(|i| {
                    let e = base + i * elem_size;
                    Some((s(e + key.offset)?, s(e + value.offset)?))
                })
                .collect()
        }
        LabelsLayout::Map {
            hmap_count,
            hmap_b,
            hmap_buckets,
            bucket_size,
            tophash,
            keys,
            values,
            overflow,
        } => {
            let Ok(h) = mem.read_ptr(ptr) else {
                return Vec::new();
            };
            let rd = |a: u64, f: &super::layout::Field| mem.read_uint(a + f.offset, f.size).ok();
            let (Some(count), Some(b), Some(buckets)) =
                (rd(h, hmap_count), rd(h, hmap_b), rd(h, hmap_buckets))
            else {
                return Vec::new();
            };
            if count > MAX_LABELS || b > 16 || buckets == 0 {
                return Vec::new();
            }
            let mut out = Vec::new();
            for bi in 0..(1u64 << b) {
                let mut bucket = buckets + bi * bucket_size;
                let mut chain = 0;
                while bucket != 0 && chain < 64 && (out.len() as u64) < count {
                    for i in 0..BUCKET_ENTRIES {
                        let top = mem.read_u8(bucket + tophash.offset + i).unwrap_or(0);
                        if top < MIN_TOP_HASH {
                            continue;
                        }
                        let k = s(bucket + keys.offset + 16 * i);
                        let v = s(bucket + values.offset + 16 * i);
                        if let (Some(k), Some(v)) = (k, v) {
                            out.push((k, v));
                        }
                    }
                    bucket = rd(bucket, overflow).unwrap_or(0);
                    chain += 1;
                }
            }
            out.sort();
            out
        }
    }
}
