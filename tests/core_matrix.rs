//! The core matrix: real Go programs (testdata/heapshape, testdata/tiny) built with every
//! supported Go release and experiment, crashed into kernel cores by scripts/make-cores.sh.
//! Each program wrote what `runtime.ReadMemStats` told it just before the crash (sidecar.json);
//! goheap's heap walk must reproduce those numbers exactly, and reconcile exactly with the
//! runtime counters it reads from the core.
//!
//! Cores live in `$GOHEAP_CORES` (default `~/.cache/goheap/cores`). Without them this test
//! prints why and passes only when `GOHEAP_REQUIRE_CORES` is unset; scripts/test.sh (and so CI)
//! sets it, so the matrix is never skipped there.

mod common;

use common::{check_case, cores_dir, VARIANTS};

/// Program/mode directories in each variant.
const CASES: &[&str] = &["heapshape-flushed", "heapshape-unflushed", "tiny-flushed"];

#[test]
fn core_matrix_matches_the_programs_own_memstats() {
    let Some(root) = cores_dir() else { return };
    let mut checked = Vec::new();
    let mut missing = Vec::new();
    for v in VARIANTS {
        for case in CASES {
            let dir = root.join(v).join(case);
            if !dir.join("core").is_file() {
                missing.push(dir.display().to_string());
                continue;
            }
            checked.push(check_case(v, case, &dir));
        }
    }
    assert!(
        missing.is_empty(),
        "core matrix incomplete, missing: {missing:?}"
    );
    eprintln!(
        "core matrix: {} cores checked: {}",
        checked.len(),
        checked
            .iter()
            .map(|c| c.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
}
