//! `paths` and `referrers` on every core of `testdata/heapgraph` (every Go release and
//! experiment), against what the program recorded about its own objects (`sidecar.json`,
//! member `heapgraph`):
//!
//! - `globalNodes[globalCount/2]` (`global_addr`): bss root `main.globalNodes`, then the
//!   `[]*main.gnode` backing array (field `[500]`), then the node: 2 steps; its only referrer
//!   is that array, at offset 500*8;
//! - the tail of `globalList` (`list_tail_addr`): bss root `main.globalList`, `list_count`
//!   `main.gnode` steps linked by `.next` (2500: the first and last 1000 are shown, the
//!   `steps_elided` 500 between are not, and `length` is the whole path's);
//! - the head and the tail of the list held only by `main.stackHolder`'s local variable: a
//!   stack root named `…: main.stackHolder` whose variables include `head`, 1 and
//!   `stack_count` steps, the same root;
//! - a child of the finalizer-only object (`final_child_addr`): a `finalizer` root, then the
//!   finalized object (`final_addr`), then the child: 2 steps;
//! - the `tshared` that 3 `holder`s point at (`shared_addr`): bss root `main.holders`, the
//!   `[]*main.holder` array, a `main.holder` (field `.p`), the object: 3 steps; `-all 3` gives
//!   3 paths, one through each holder; its referrers are exactly the 3 holders at offset 0;
//! - objects held in `ptrMap`, `smallMap`, `ptrChan`'s buffer, `closures` and `shapes`: the
//!   global is the root and the target has its type (a closure's captured object: reached
//!   through the closure, a `func …` object);
//! - a dropped object (`garbage_addr`): garbage, no path, no referrer (exit status 0: it is an
//!   answer); an address outside the heap is an error (exit status 1).
//!
//! Types of steps are asserted where `heapgraph_matrix` expects the histogram to know them.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use inspector_core::analysis::paths::PATH_ENDS;

use common::{cases_with_sidecar, cores_dir, goheap_json, u, VARIANTS};
use serde_json::Value;

fn hexu(v: &Value) -> u64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a hex string: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The first path of a `paths` answer: (root kind, root name, root addr, steps).
fn first_path(d: &Value) -> Option<(&str, &str, u64, &[Value])> {
    let p = d["paths"].as_array()?.first()?;
    Some((
        p["root"]["kind"].as_str()?,
        p["root"]["name"].as_str()?,
        hexu(&p["root"]["addr"]),
        p["steps"].as_array()?,
    ))
}

#[test]
fn paths_matrix() {
    let Some(dir) = cores_dir() else { return };
    let mut failures = Vec::new();
    let mut checked = 0;
    for (variant, case, side) in cases_with_sidecar(&dir, "heapgraph-flushed", &mut failures) {
        let h = &side["heapgraph"];
        if h.get("shared_addr").is_none() {
            failures.push(format!(
                "{variant}: sidecar has no shared_addr (regenerate the cores)"
            ));
            continue;
        }
        check_variant(variant, &case, h, &mut failures);
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, VARIANTS.len());
}

fn check_variant(variant: &str, case: &Path, h: &Value, failures: &mut Vec<String>) {
    let a = |n: &str| format!("{:#x}", u(&h[n]));
    let cmds = [
        format!("paths {}", a("global_addr")),
        format!("paths {}", a("list_tail_addr")),
        format!("paths {}", a("stack_head_addr")),
        format!("paths {}", a("stack_tail_addr")),
        format!("paths {}", a("final_child_addr")),
        format!("paths {}", a("shared_addr")),
        format!("paths -all 3 {}", a("shared_addr")),
        format!("referrers {}", a("shared_addr")),
        format!("referrers {}", a("global_addr")),
        format!("paths {}", a("garbage_addr")),
        format!("referrers {}", a("garbage_addr")),
        format!("paths {}", a("mkey_addr")),
        format!("paths {}", a("mval_addr")),
        format!("paths {}", a("msmall_addr")),
        format!("paths {}", a("cval_addr")),
        format!("paths {}", a("cclo_addr")),
        format!("paths {}", a("shape_addr")),
    ];
    let cmd_refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
    let out = goheap_json(&case.join("exe"), &case.join("core"), &cmd_refs);
    let mut fail = |m: String| failures.push(format!("{variant}: {m}"));
    let d = |i: usize| &out[i]["data"];
    let list_count = u(&h["list_count"]) as usize;
    let stack_count = u(&h["stack_count"]) as usize;
    let holders: BTreeSet<u64> = h["holder_addrs"]
        .as_array()
        .expect("holder_addrs")
        .iter()
        .map(u)
        .collect();

    // Each path: root kind, root name (exact, or a suffix for stacks), steps, and the
    // target as the last step.
    let expect = |i: usize, target: &str, kind: &str, name: &str, steps: usize| {
        let mut errs = Vec::new();
        let Some((k, n, _, st)) = first_path(d(i)) else {
            return vec![format!("{}: no path: {}", cmds[i], d(i))];
        };
        let name_ok = if kind == "stack" {
            n.ends_with(name)
        } else {
            n == name
        };
        if k != kind || !name_ok {
            errs.push(format!("{}: root {k} {n:?}, want {kind} {name:?}", cmds[i]));
        }
        // A path of more than 2 × PATH_ENDS steps keeps PATH_ENDS at each end.
        let p = &d(i)["paths"][0];
        let (shown, elided) = match steps.checked_sub(2 * PATH_ENDS) {
            Some(e) if e > 0 => (2 * PATH_ENDS, Value::from(e)),
            _ => (steps, Value::Null),
        };
        if st.len() != shown || p["length"] != steps || p["steps_elided"] != elided {
            errs.push(format!(
                "{}: {} steps shown of {} ({} elided), want {shown} of {steps} ({elided})",
                cmds[i],
                st.len(),
                p["length"],
                p["steps_elided"]
            ));
        }
        if st.last().map(|s| hexu(&s["addr"])) != Some(u(&h[target])) {
            errs.push(format!("{}: the last step is not the target", cmds[i]));
        }
        errs
    };
    let checks = [
        (0, "global_addr", "bss", "main.globalNodes", 2),
        (1, "list_tail_addr", "bss", "main.globalList", list_count),
        (2, "stack_head_addr", "stack", ": main.stackHolder", 1),
        (
            3,
            "stack_tail_addr",
            "stack",
            ": main.stackHolder",
            stack_count,
        ),
        (4, "final_child_addr", "finalizer", "", 2),
        (5, "shared_addr", "bss", "main.holders", 3),
    ];
    for (i, target, kind, name, steps) in checks {
        let errs = if kind == "finalizer" {
            // The finalizer root is named after its object: `finalizer of 0x…`.
            let want = format!("finalizer of {:#x}", u(&h["final_addr"]));
            expect(i, target, kind, &want, steps)
        } else {
            expect(i, target, kind, name, steps)
        };
        for e in errs {
            fail(e);
        }
    }
    let types = |i: usize| -> Vec<String> {
        first_path(d(i)).map_or_else(Vec::new, |(_, _, _, st)| {
            st.iter()
                .map(|s| s["type"].as_str().unwrap_or("").to_string())
                .collect()
        })
    };
    let fields = |i: usize| -> Vec<String> {
        first_path(d(i)).map_or_else(Vec::new, |(_, _, _, st)| {
            st.iter()
                .map(|s| s["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
    };
    // Types and fields where the histogram knows them (every version).
    if types(0) != ["[]*main.gnode", "main.gnode"] || fields(0) != ["[500]", ""] {
        fail(format!(
            "{}: types {:?} fields {:?}",
            cmds[0],
            types(0),
            fields(0)
        ));
    }
    if types(1).iter().any(|t| t != "main.gnode")
        || fields(1)[..fields(1).len().saturating_sub(1)]
            .iter()
            .any(|f| f != ".next")
    {
        fail(format!("{}: not a chain of main.gnode .next", cmds[1]));
    }
    if let Some((_, _, _, st)) = first_path(d(4)) {
        if hexu(&st[0]["addr"]) != u(&h["final_addr"]) {
            fail(format!("{}: first step is not final_addr", cmds[4]));
        }
    }
    // The stack-held list: head and tail from the same frame.
    let root_of = |i: usize| first_path(d(i)).map(|(k, n, a, _)| (k.to_string(), n.to_string(), a));
    if root_of(2).is_none() || root_of(2) != root_of(3) {
        fail(format!(
            "stack head and tail from different roots: {:?} {:?}",
            root_of(2),
            root_of(3)
        ));
    }
    // The frame's variable holding the list is named.
    let vars = &d(2)["paths"][0]["root"]["variables"];
    if !vars
        .as_array()
        .is_some_and(|v| v.iter().any(|n| n == "head"))
    {
        fail(format!("{}: root variables {vars}, want head", cmds[2]));
    }
    if types(5) != ["[]*main.holder", "main.holder", "main.tshared"] || fields(5)[1] != ".p" {
        fail(format!(
            "{}: types {:?} fields {:?}",
            cmds[5],
            types(5),
            fields(5)
        ));
    }
    // -all 3: three 3-step paths, one through each holder.
    let all = d(6)["paths"].as_array().cloned().unwrap_or_default();
    let via: BTreeSet<u64> = all
        .iter()
        .filter(|p| p["steps"].as_array().is_some_and(|s| s.len() == 3))
        .map(|p| hexu(&p["steps"][1]["addr"]))
        .collect();
    if all.len() != 3 || via != holders {
        fail(format!(
            "{}: {} paths through {via:x?}, want 3 through {holders:x?}",
            cmds[6],
            all.len()
        ));
    }
    // Referrers of the shared object: exactly the 3 holders, at offset 0.
    let refs = d(7)["referrers"].as_array().cloned().unwrap_or_default();
    let got: BTreeSet<u64> = refs.iter().map(|r| hexu(&r["addr"])).collect();
    if refs.len() != 3
        || u(&d(7)["total"]) != 3
        || got != holders
        || refs
            .iter()
            .any(|r| r["kind"] != "object" || u(&r["offset"]) != 0)
    {
        fail(format!("{}: {}", cmds[7], d(7)));
    }
    // Referrers of a global node: the []*main.gnode array, at element 500.
    let refs = d(8)["referrers"].as_array().cloned().unwrap_or_default();
    if refs.len() != 1
        || u(&d(8)["total"]) != 1
        || refs[0]["kind"] != "object"
        || refs[0]["type"] != "[]*main.gnode"
        || u(&refs[0]["offset"]) != 500 * 8
    {
        fail(format!("{}: {}", cmds[8], d(8)));
    }
    // Objects kept in maps, a channel's buffer, closures and interfaces: the global holding
    // the container is the root, the target typed as the histogram types it (the steps
    // between depend on the map implementation of the version).
    let held = [
        (11, "main.ptrMap", "main.mkey"),
        (12, "main.ptrMap", "main.mval"),
        (13, "main.smallMap", "main.msmall"),
        (14, "main.ptrChan", "main.cval"),
        (15, "main.closures", ""),
        (16, "main.shapes", "main.tshape"),
    ];
    for (i, root, ty) in held {
        let ok = first_path(d(i)).is_some_and(|(k, n, _, st)| {
            k == "bss" && n == root && (ty.is_empty() || st.last().is_some_and(|s| s["type"] == ty))
        });
        if !ok {
            fail(format!(
                "{}: want root bss {root}, target {ty}: {}",
                cmds[i],
                d(i)
            ));
        }
    }
    // A closure's captured pointer: through the closure object (its type is
    // heapgraph_matrix's to check).
    let via_closure = first_path(d(15)).is_some_and(|(_, _, _, st)| {
        st.len() == 3
            && st[1]["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("func "))
    });
    if !via_closure {
        fail(format!("{}: not through a closure: {}", cmds[15], d(15)));
    }
    // Stack- and finalizer-held objects are typed too (from the frame's variables, the
    // finalizer's pointer type).
    if types(2) != ["main.snode"] || types(4) != ["main.fnode", "main.snode"] {
        fail(format!(
            "stack/finalizer paths typed {:?} {:?}",
            types(2),
            types(4)
        ));
    }
    // Garbage: no path, no referrer.
    for i in [9, 10] {
        let empty = d(i)["paths"]
            .as_array()
            .or(d(i)["referrers"].as_array())
            .is_some_and(|v| v.is_empty());
        if d(i)["reachable"] != false || !empty {
            fail(format!("{}: {}", cmds[i], d(i)));
        }
    }
    // Not a heap object: an error, exit status 1.
    let st = Command::new(env!("CARGO_BIN_EXE_goheap"))
        .args(["--batch", "--json", "-ex", "paths 0x8", "core"])
        .arg(case.join("exe"))
        .arg(case.join("core"))
        .output()
        .expect("run goheap");
    let line = String::from_utf8_lossy(&st.stdout);
    if st.status.code() != Some(1) || !line.contains("not in an allocated heap object") {
        fail(format!(
            "paths 0x8: exit {:?}, output {line}",
            st.status.code()
        ));
    }
}
