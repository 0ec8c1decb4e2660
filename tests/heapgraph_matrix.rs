//! The heap graph on every core of `testdata/heapgraph` (every Go release and experiment):
//! marking from the roots must split the allocated objects exactly into reachable and
//! garbage; the garbage must be exactly what the program dropped after its last GC; objects
//! kept only by globals, by one goroutine's stack or by a finalizer must be reachable, and a
//! dropped object garbage.
//!
//! Why the garbage can be exact: after `runtime.GC()` returns, sweeping is done, so every
//! allocated slot was marked by that GC. From then on the program allocates nothing but the
//! finalizer-only object and its children (reachable) and the dropped garbage, and the
//! runtime allocates nothing (`testdata/sidecar` warms it up; the only exception, Go 1.21's
//! panic `_defer` record, is reachable from its goroutine). No object the last GC marked
//! became unreachable afterwards: the stack-held list stays live (`runtime.KeepAlive`).

mod common;

use common::{cores_dir, goheap_json, read_json, u, VARIANTS};

#[test]
fn heapgraph_matrix() {
    let Some(dir) = cores_dir() else { return };
    let mut checked = 0;
    let mut failures = Vec::new();
    for variant in VARIANTS {
        let case = dir.join(variant).join("heapgraph-flushed");
        if !case.join("core").is_file() {
            failures.push(format!(
                "{variant}: no heapgraph core (run scripts/make-cores.sh)"
            ));
            continue;
        }
        let side = read_json(&case.join("sidecar.json"));
        let h = &side["heapgraph"];
        let names = [
            "global_addr",
            "list_tail_addr",
            "stack_head_addr",
            "stack_tail_addr",
            "final_addr",
            "final_child_addr",
            "garbage_addr",
            "garbage_large_addr",
        ];
        let cmd = format!(
            "heapgraph -roots {}",
            names
                .iter()
                .map(|n| format!("{:#x}", u(&h[*n])))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let out = goheap_json(&case.join("exe"), &case.join("core"), &["overview", &cmd]);
        let ov = &out[0]["data"];
        let g = &out[1]["data"];
        let mut fail = |m: String| failures.push(format!("{variant}: {m}"));
        let allocated = u(&g["allocated_objects"]);
        let heap_objects = common::counter(ov, "HeapObjects").0;
        if allocated != heap_objects {
            fail(format!(
                "marked over {allocated} objects, the heap walk has {heap_objects}"
            ));
        }
        let (ro, go) = (u(&g["reachable_objects"]), u(&g["garbage_objects"]));
        let (rb, gb) = (u(&g["reachable_bytes"]), u(&g["garbage_bytes"]));
        if ro + go != allocated || rb + gb != u(&g["allocated_bytes"]) {
            fail(format!(
                "reachable {ro}/{rb} + garbage {go}/{gb} != allocated"
            ));
        }
        let heap_alloc = common::counter(ov, "HeapAlloc").0;
        if rb + gb != heap_alloc {
            fail(format!(
                "reachable + garbage bytes {} != HeapAlloc {heap_alloc}",
                rb + gb
            ));
        }
        let (want_o, want_b) = (u(&h["garbage_objects"]), u(&h["garbage_bytes"]));
        if (go, gb) != (want_o, want_b) {
            fail(format!(
                "garbage {go} objects / {gb} bytes, the program dropped {want_o} / {want_b}"
            ));
        }
        for (i, n) in names.iter().enumerate() {
            let state = g["addresses"][i]["state"].as_str().unwrap_or("?");
            let want = if n.starts_with("garbage") {
                "garbage"
            } else {
                "reachable"
            };
            if state != want {
                fail(format!("{n} {:#x} is {state}, want {want}", u(&h[*n])));
            }
        }
        // Named roots: the globals, the holder's frame, the finalizer.
        let roots = g["root_list"].as_array().cloned().unwrap_or_default();
        let has = |kind: &str, pred: &dyn Fn(&str) -> bool| {
            roots
                .iter()
                .any(|r| r["kind"] == kind && pred(r["name"].as_str().unwrap_or("")))
        };
        for global in ["main.globalList", "main.globalNodes"] {
            if !has("bss", &|n| n == global) {
                fail(format!("no bss root named {global}"));
            }
        }
        if !has("stack", &|n| n.ends_with(": main.stackHolder")) {
            fail("no stack root for main.stackHolder's frame".into());
        }
        let fin = format!("finalizer of {:#x}", u(&h["final_addr"]));
        if !has("finalizer", &|n| n == fin) {
            fail(format!("no root named {fin:?}"));
        }
        if g["conservative_objects"] != 0 {
            fail(format!(
                "{} objects scanned word by word",
                g["conservative_objects"]
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, VARIANTS.len());
}
