//! A goroutine profile in pprof's format, the same shape as the runtime's
//! `/debug/pprof/goroutine` (debug=0): sample type `goroutine/count`, one sample per distinct
//! stack (and label set) with the number of goroutines in it, locations with their inlined
//! frames. Like the runtime's profile it leaves out dead goroutines and the runtime's own
//! (system) goroutines.

use std::io::Write;

use super::pprof::{write_gzipped, FrameRef, Profile, ProfileBuilder};
use crate::runtime::goroutines::{Goroutine, Goroutines};

/// The executable's text as pprof's main mapping: `[start, limit)` (target addresses) and
/// the file name, so that `go tool pprof` names the binary.
#[derive(Debug, Clone)]
pub struct MainMapping {
    pub start: u64,
    pub limit: u64,
    pub file: String,
}

/// Build the profile of the live, non-system goroutines of `gs`.
pub fn goroutine_profile(gs: &Goroutines, comment: &str, main: Option<&MainMapping>) -> Profile {
    let mut b = ProfileBuilder::new(&[("goroutine", "count")]);
    b.set_period("goroutine", "count", 1);
    if let Some(m) = main {
        b.add_main_mapping(m.start, m.limit, &m.file, "");
    }
    if !comment.is_empty() {
        b.add_comment(comment);
    }
    let mut gs_sorted: Vec<&Goroutine> = gs.live().filter(|g| !g.system).collect();
    // Identical stacks and labels next to each other.
    let key = |g: &Goroutine| {
        (
            g.backtrace
                .frames
                .iter()
                .map(|f| f.pc)
                .collect::<Vec<u64>>(),
            g.labels.clone(),
        )
    };
    gs_sorted.sort_by_cached_key(|g| key(g));
    let mut i = 0;
    while i < gs_sorted.len() {
        let k = key(gs_sorted[i]);
        let mut j = i + 1;
        while j < gs_sorted.len() && key(gs_sorted[j]) == k {
            j += 1;
        }
        let g = gs_sorted[i];
        let mut locs = Vec::new();
        let frames = &g.backtrace.frames;
        let mut f = 0;
        while f < frames.len() {
            // The logical frames of one physical frame share its pc and sp.
            let (pc, sp) = (frames[f].pc, frames[f].sp);
            let mut refs = Vec::new();
            while f < frames.len() && frames[f].pc == pc && frames[f].sp == sp {
                let fr = &frames[f];
                refs.push(FrameRef {
                    func: fr.func.to_string(),
                    file: fr.file.to_string(),
                    line: i64::from(fr.line),
                    start_line: 0,
                });
                f += 1;
            }
            locs.push(b.location(pc, &refs));
        }
        let labels: Vec<(&str, &str)> = g
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        b.add_sample(locs, vec![(j - i) as i64], &labels, &[]);
        i = j;
    }
    b.finish()
}

/// Write the profile gzipped, as `go tool pprof` reads it.
pub fn write_goroutine_profile(
    gs: &Goroutines,
    comment: &str,
    main: Option<&MainMapping>,
    out: &mut impl Write,
) -> std::io::Result<usize> {
    let p = goroutine_profile(gs, comment, main);
    let n = p.sample.iter().map(|s| s.value[0] as usize).sum();
    write_gzipped(&p, out)?;
    Ok(n)
}
