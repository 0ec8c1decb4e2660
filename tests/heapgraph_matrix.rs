//! The heap graph on every core of `testdata/heapgraph` (every Go release and experiment):
//! marking from the roots must split the allocated objects exactly into reachable and
//! garbage; the garbage must be exactly what the program dropped after its last GC; objects
//! kept only by globals, by one goroutine's stack or by a finalizer must be reachable, and a
//! dropped object garbage.
//!
//! `histogram` on the same cores: its rows (typed, unknown per size class, garbage) add up to
//! the heap walk's HeapObjects and HeapAlloc, the garbage row is the dropped garbage, and the
//! program's own typed objects have exactly the counts it recorded, each recorded object the
//! right type and source. What is expected per version, and why:
//!
//! - Go 1.22+ store the type of scan objects above 512 B in a malloc header: the backing
//!   arrays `[]*main.tnode`, `[]main.rec`, `[]*main.gnode` and `[]interface {}` are typed by
//!   it (`header`). The head of `globalList` is typed by the global's DWARF type (`global`).
//!   From them, by propagation: every `main.gnode` (`globalCount` + `listCount`),
//!   `main.tnode` and `main.tleaf` (pointer fields), `main.tbox` (the interfaces' type words).
//! - Go 1.21 stores no types: only the globals' DWARF types start propagation. The globals
//!   are slices and pointers, so the same counts are expected, but the backing arrays are
//!   typed from the slice globals (`global`), not by a header.
//! - Containers, on every version: the keys and values of `ptrMap` (`main.mkey`, `main.mval`:
//!   through the map's buckets before Go 1.24, its Swiss groups from 1.24), `smallMap`'s
//!   values (`main.msmall`, one Swiss group), `bigMap`'s indirectly stored elements
//!   (`main.mbig`, over 128 bytes), the pointers buffered in `ptrChan` (`main.cval`), what the
//!   closures capture (`main.cclo`), `shapes`' `*main.tshape` (an itab's type) and the
//!   `holders` and the one `main.tshared` they share.
//! - A large object (`largeRecs`, a `[]main.lrec` backing array over 32 KiB): typed by
//!   `mspan.largeType` on Go 1.22+ (`large`), by the slice global on 1.21; every element's
//!   `main.lleaf` through its pointer (the whole array is followed, not its first element).
//! - Objects reached only from a goroutine's stack or a finalizer: the stack-held list's
//!   head is typed by `main.stackHolder`'s local `head` (DWARF), the rest of it through
//!   `snode.next`; the finalizer-only `main.fnode` by its finalizer special's pointer type,
//!   its children through `fnode.child`: `main.snode` = stack_count + final_children.
//!
//! Why the garbage can be exact: after `runtime.GC()` returns, sweeping is done, so every
//! allocated slot was marked by that GC. From then on the program allocates nothing but the
//! finalizer-only object and its children (reachable) and the dropped garbage, and the
//! runtime allocates nothing (`testdata/sidecar` warms it up; the only exception, Go 1.21's
//! panic `_defer` record, is reachable from its goroutine). No object the last GC marked
//! became unreachable afterwards: the stack-held list stays live (`runtime.KeepAlive`).

mod common;

use common::{cases_with_sidecar, cores_dir, goheap_json, roots_cmd, u, VARIANTS};

#[test]
fn heapgraph_matrix() {
    let Some(dir) = cores_dir() else { return };
    let mut checked = 0;
    let mut failures = Vec::new();
    for (variant, case, side) in cases_with_sidecar(&dir, "heapgraph-flushed", &mut failures) {
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
            "tnode_addr",
            "tleaf_addr",
            "recs_addr",
            "box_addr",
            "mkey_addr",
            "mval_addr",
            "msmall_addr",
            "cval_addr",
            "cclo_addr",
            "shape_addr",
            "shared_addr",
            "large_recs_addr",
            "lleaf_addr",
        ];
        let cmd = roots_cmd(h, &names);
        let out = goheap_json(
            &case.join("exe"),
            &case.join("core"),
            &[
                "overview",
                &cmd,
                "histogram",
                "histo -top 3 -sort count -type main.",
            ],
        );
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
        // The program's types are unambiguous and every closure it makes is typed.
        for k in ["type_conflicts", "types_skipped", "closures_uncaptured"] {
            if g[k] != 0 {
                fail(format!("{k} is {}, want 0", g[k]));
            }
        }
        if g["conservative_objects"] != 0 {
            fail(format!(
                "{} objects scanned word by word",
                g["conservative_objects"]
            ));
        }
        check_histogram(variant, &out[2]["data"], g, h, ov, &names, &mut fail);
        // The alias and the flags: 3 rows, names containing "main.", by count.
        let sel = out[3]["data"]["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let counts: Vec<u64> = sel.iter().map(|r| u(&r["count"])).collect();
        if sel.len() != 3
            || sel
                .iter()
                .any(|r| !r["type"].as_str().unwrap_or("").contains("main."))
            || counts.windows(2).any(|w| w[0] < w[1])
        {
            fail(format!("histo -top 3 -sort count -type main.: {sel:?}"));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, VARIANTS.len());
}

/// The histogram of one core (see the module comment for what is expected per version).
fn check_histogram(
    variant: &str,
    hist: &serde_json::Value,
    g: &serde_json::Value,
    h: &serde_json::Value,
    ov: &serde_json::Value,
    names: &[&str],
    fail: &mut dyn FnMut(String),
) {
    let rows = hist["rows"].as_array().cloned().unwrap_or_default();
    if rows.len() as u64 != u(&hist["total_rows"]) {
        fail(format!(
            "histogram shows {} of {} rows without -top",
            rows.len(),
            hist["total_rows"]
        ));
    }
    for r in &rows {
        if !(r["type"].is_string() && r["count"].is_u64() && r["bytes"].is_u64()) {
            fail(format!("histogram row without type, count and bytes: {r}"));
        }
    }
    let (objects, bytes) = rows
        .iter()
        .fold((0, 0), |(o, b), r| (o + u(&r["count"]), b + u(&r["bytes"])));
    let heap_objects = common::counter(ov, "HeapObjects").0;
    let heap_alloc = common::counter(ov, "HeapAlloc").0;
    if (objects, bytes) != (heap_objects, heap_alloc) {
        fail(format!(
            "histogram rows add up to {objects} objects / {bytes} bytes, the heap walk has \
             {heap_objects} / {heap_alloc}"
        ));
    }
    if (u(&hist["total_objects"]), u(&hist["total_bytes"])) != (objects, bytes) {
        fail("histogram totals differ from the sum of its rows".into());
    }
    let row = |name: &str| rows.iter().find(|r| r["type"] == name);
    let garbage = row("garbage").map_or((0, 0), |r| (u(&r["count"]), u(&r["bytes"])));
    if garbage != (u(&g["garbage_objects"]), u(&g["garbage_bytes"])) {
        fail(format!(
            "histogram garbage row {garbage:?} differs from heapgraph's"
        ));
    }
    let unknown_and_typed: u64 = rows
        .iter()
        .filter(|r| r["kind"] != "garbage")
        .map(|r| u(&r["count"]))
        .sum();
    if unknown_and_typed != u(&g["reachable_objects"]) {
        fail(format!(
            "typed + unknown rows count {unknown_and_typed}, reachable objects are {}",
            g["reachable_objects"]
        ));
    }
    let count = |name: &str| row(name).map_or(0, |r| u(&r["count"]));
    let types_stored = !variant.starts_with("go1.21");
    if hist["types_stored"] != types_stored {
        fail(format!("types_stored is {}", hist["types_stored"]));
    }
    let (tc, rc, bc) = (u(&h["typed_count"]), u(&h["rec_count"]), u(&h["box_count"]));
    let gnodes = u(&h["global_count"]) + u(&h["list_count"]);
    let c = |n: &str| u(&h[n]);
    let want: Vec<(&str, u64)> = vec![
        ("main.tnode", tc),
        ("main.tleaf", tc + rc),
        ("main.tbox", bc),
        ("main.gnode", gnodes),
        ("[]*main.tnode", 1),
        ("[]*main.gnode", 1),
        ("[]main.rec", 1),
        ("[]interface {}", 1),
        ("main.mkey", c("map_count")),
        ("main.mval", c("map_count")),
        ("main.msmall", c("small_map_count")),
        ("main.mbig", c("big_map_count")),
        ("main.cval", c("chan_count")),
        ("main.cclo", c("closure_count")),
        ("main.tshape", c("shape_count")),
        ("main.holder", c("holder_count")),
        ("main.tshared", 1),
        ("main.snode", c("stack_count") + c("final_children")),
        ("main.fnode", 1),
        ("[]main.lrec", 1),
        ("main.lleaf", c("large_rec_count")),
    ];
    for (name, n) in want {
        if count(name) != n {
            fail(format!(
                "histogram: {} {name}, the program keeps {n}",
                count(name)
            ));
        }
    }
    // Each recorded object's type and how it was learned (None: any source; containers
    // name their own sources).
    let want_types = [
        ("global_addr", "main.gnode", Some("field")),
        ("list_tail_addr", "main.gnode", Some("field")),
        ("tnode_addr", "main.tnode", Some("field")),
        ("tleaf_addr", "main.tleaf", Some("field")),
        (
            "recs_addr",
            "[]main.rec",
            Some(if types_stored { "header" } else { "global" }),
        ),
        ("box_addr", "main.tbox", Some("iface")),
        ("shape_addr", "main.tshape", Some("iface")),
        ("shared_addr", "main.tshared", Some("field")),
        ("stack_head_addr", "main.snode", Some("stack")),
        ("stack_tail_addr", "main.snode", Some("field")),
        ("final_addr", "main.fnode", Some("finalizer")),
        ("final_child_addr", "main.snode", Some("field")),
        ("mkey_addr", "main.mkey", None),
        ("mval_addr", "main.mval", None),
        ("msmall_addr", "main.msmall", None),
        ("cval_addr", "main.cval", None),
        ("cclo_addr", "main.cclo", None),
        (
            "large_recs_addr",
            "[]main.lrec",
            Some(if types_stored { "large" } else { "global" }),
        ),
        ("lleaf_addr", "main.lleaf", Some("field")),
    ];
    for (addr, ty, how) in want_types {
        let i = names.iter().position(|n| *n == addr).unwrap();
        let a = &g["addresses"][i];
        let source_ok = how.is_none_or(|how| a["type_source"] == how);
        if a["type"] != ty || !source_ok {
            fail(format!(
                "{addr} has type {} from {}, want {ty} from {}",
                a["type"],
                a["type_source"],
                how.unwrap_or("any source")
            ));
        }
    }
}
