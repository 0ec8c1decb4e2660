//! The runtime's memory profile ([`MemProfile`]) as the `profile.proto` that `runtime/pprof`
//! writes for the `heap` and `allocs` profiles (`writeHeapProto`): sample types
//! `alloc_objects`, `alloc_space`, `inuse_objects`, `inuse_space`, period `space`/`bytes` =
//! `MemProfileRate`, values scaled for sampling (`scaleHeapSample`), leading runtime frames
//! hidden, and inlined frames folded into the location of their physical call site as pprof's
//! location "deck" does.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::pprof::{FrameRef, Profile, ProfileBuilder};
use crate::binary::Pclntab;
use crate::runtime::mprof::{frame_for_pc, is_hidden, AllocFrame, MemProfile, ProfileRecord};

/// Which sample type `go tool pprof` shows by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultSample {
    /// `inuse_space` (the `heap` profile; pprof's default, the last sample type).
    Inuse,
    /// `alloc_space` (the `allocs` profile).
    Alloc,
}

/// What the profile says about where it came from.
#[derive(Debug, Clone, Default)]
pub struct ProfileSource {
    /// Executable path and its text range (target addresses) for the mapping.
    pub exe: String,
    pub text_start: u64,
    pub text_end: u64,
    pub build_id: String,
    /// When the profile was taken (the core's time), nanoseconds since the epoch; 0 if unknown.
    pub time_nanos: i64,
    pub comment: String,
}

/// `scaleHeapSample`: undo the sampling bias of a (count, size) pair at `rate`.
pub fn scale_heap_sample(count: i64, avg_size: i64, rate: i64) -> (i64, i64) {
    if count == 0 || avg_size == 0 {
        return (0, 0);
    }
    if rate <= 1 {
        return (count, count * avg_size);
    }
    let scale = 1.0 / (1.0 - (-(avg_size as f64) / rate as f64).exp());
    (
        (count as f64 * scale) as i64,
        ((count * avg_size) as f64 * scale) as i64,
    )
}

/// Build the heap profile of `p`.
pub fn heap_profile(
    p: &MemProfile,
    pcln: &Pclntab,
    bias: u64,
    go_minor: u32,
    default: DefaultSample,
    src: &ProfileSource,
) -> Profile {
    let mut b = ProfileBuilder::new(&[
        ("alloc_objects", "count"),
        ("alloc_space", "bytes"),
        ("inuse_objects", "count"),
        ("inuse_space", "bytes"),
    ]);
    b.set_period("space", "bytes", p.state.rate);
    if src.text_end > src.text_start {
        b.add_main_mapping(src.text_start, src.text_end, &src.exe, &src.build_id);
    }
    b.set_time_nanos(src.time_nanos);
    if !src.comment.is_empty() {
        b.add_comment(&src.comment);
    }
    let mut sym = Symbolizer {
        pcln,
        bias,
        go_minor,
        frames: PcMap::default(),
        hidden: PcMap::default(),
        groups: PcMap::default(),
    };
    let rate = p.state.rate;
    for r in &p.records {
        let from = sym.first_shown(&r.stack);
        let mut locs = sym.locations(&mut b, &r.stack[from..]);
        if locs.is_empty() {
            locs = sym.locations(&mut b, &r.stack);
        }
        let size = r.size as i64;
        let (ao, ab) = scale_heap_sample(r.alloc_objects as i64, size, rate);
        let (io, ib) = scale_heap_sample(r.inuse_objects() as i64, size, rate);
        let nums: Vec<(&str, i64, &str)> = match block_size(r, go_minor) {
            Some(v) => vec![("bytes", v, "")],
            None => Vec::new(),
        };
        b.add_sample(locs, vec![ao, ab, io, ib], &[], &nums);
    }
    let mut prof = b.finish();
    if default == DefaultSample::Alloc {
        let i = prof
            .string_table
            .iter()
            .position(|s| s == "alloc_space")
            .unwrap_or(0) as i64;
        prof.default_sample_type = i;
    }
    prof
}

/// The `bytes` label: the record's object size (Go 1.27), or AllocBytes/AllocObjects when
/// non-zero (earlier versions).
fn block_size(r: &ProfileRecord, go_minor: u32) -> Option<i64> {
    if go_minor >= 27 {
        return Some(r.size as i64);
    }
    let v = r.alloc_bytes.checked_div(r.alloc_objects).unwrap_or(0) as i64;
    (v != 0).then_some(v)
}

fn frame_ref(f: &AllocFrame) -> FrameRef {
    FrameRef {
        func: f.func.clone(),
        file: f.file.clone(),
        line: f.line as i64,
        start_line: f.start_line as i64,
    }
}

/// Per-PC symbolization and location grouping, cached: profiles repeat the same PCs in many
/// stacks.
struct Symbolizer<'a> {
    pcln: &'a Pclntab,
    bias: u64,
    go_minor: u32,
    frames: PcMap<Option<AllocFrame>>,
    hidden: PcMap<bool>,
    /// First PC of a location → (location id, the PCs it covers).
    groups: PcMap<(u64, Vec<u64>)>,
}

/// A map keyed by PCs, with a cheap multiplicative hash (PCs are not attacker-chosen).
type PcMap<V> = HashMap<u64, V, BuildHasherDefault<PcHasher>>;

#[derive(Default)]
struct PcHasher(u64);

impl Hasher for PcHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

impl Symbolizer<'_> {
    fn frame(&mut self, pc: u64) -> Option<&AllocFrame> {
        let (pcln, bias) = (self.pcln, self.bias);
        self.frames
            .entry(pc)
            .or_insert_with(|| frame_for_pc(pcln, bias, pc))
            .as_ref()
    }

    /// [`first_shown`], one PC at a time and cached.
    fn first_shown(&mut self, stack: &[u64]) -> usize {
        let (pcln, bias, minor) = (self.pcln, self.bias, self.go_minor);
        stack
            .iter()
            .position(|&pc| {
                !*self
                    .hidden
                    .entry(pc)
                    .or_insert_with(|| is_hidden(pcln, bias, pc, minor))
            })
            .unwrap_or(0)
    }

    /// Location ids for a stack of return PCs: a run of inlined frames and the physical frame
    /// they were inlined into share one location (pprof's `pcDeck`); `runtime.goexit` gets no
    /// location; PCs outside Go text get an address-only location.
    fn locations(&mut self, b: &mut ProfileBuilder, stack: &[u64]) -> Vec<u64> {
        let mut locs = Vec::with_capacity(stack.len());
        let mut deck: Vec<(u64, AllocFrame)> = Vec::new();
        let mut i = 0;
        while i < stack.len() {
            let pc = stack[i];
            if deck.is_empty() {
                if let Some((id, pcs)) = self.groups.get(&pc) {
                    if pcs.len() == 1 || stack[i..].starts_with(pcs) {
                        locs.push(*id);
                        i += pcs.len();
                        continue;
                    }
                }
            }
            i += 1;
            let Some(f) = self.frame(pc).cloned() else {
                self.flush(b, &mut deck, &mut locs);
                locs.push(b.location(pc, &[]));
                continue;
            };
            if f.func == "runtime.goexit" {
                self.flush(b, &mut deck, &mut locs);
                continue;
            }
            let joins = deck.last().is_some_and(|(_, last)| {
                last.inlined && last.entry == f.entry && last.func != f.func
            });
            if !deck.is_empty() && !joins {
                self.flush(b, &mut deck, &mut locs);
            }
            deck.push((pc, f));
        }
        self.flush(b, &mut deck, &mut locs);
        locs
    }

    fn flush(
        &mut self,
        b: &mut ProfileBuilder,
        deck: &mut Vec<(u64, AllocFrame)>,
        locs: &mut Vec<u64>,
    ) {
        let Some((first_pc, first)) = deck.first() else {
            return;
        };
        let frames: Vec<FrameRef> = deck.iter().map(|(_, f)| frame_ref(f)).collect();
        let id = b.location(first.pc, &frames);
        let pcs = deck.iter().map(|(pc, _)| *pc).collect();
        self.groups.entry(*first_pc).or_insert((id, pcs));
        locs.push(id);
        deck.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_matches_pprof() {
        assert_eq!(scale_heap_sample(0, 16, 512 * 1024), (0, 0));
        assert_eq!(scale_heap_sample(3, 16, 1), (3, 48));
        assert_eq!(scale_heap_sample(3, 16, 0), (3, 48));
        // Values computed by Go's scaleHeapSample (runtime/pprof/protomem.go).
        assert_eq!(scale_heap_sample(10, 524288, 524288), (15, 8294114));
        assert_eq!(scale_heap_sample(1, 16, 524288), (32768, 524296));
        assert_eq!(scale_heap_sample(7, 1152, 524288), (3189, 3674049));
        assert_eq!(scale_heap_sample(3, 49152, 524288), (33, 1647743));
    }
}
