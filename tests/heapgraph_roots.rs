//! Typed roots on every core of `testdata/heapgraph`: objects reached only from a goroutine's
//! stack or only from a finalizer get their types from the frame's DWARF variables and from
//! the finalizer special's pointer type (`analysis/roottypes.rs`).
//!
//! The program keeps a list of `stack_count` `main.snode`s in the local `head` of
//! `main.stackHolder` (a goroutine blocked on a channel) and one `main.fnode` held only by its
//! finalizer, pointing at a list of `final_children` `main.snode`s. Expected on every version:
//! the list head typed from the stack (`stack`), the rest of both lists through the `next`
//! and `child` fields (`field`), the fnode from its finalizer (`finalizer`); so exactly
//! `stack_count + final_children` snodes and one fnode; the holder's frame root names `head`;
//! no function's DWARF unreadable.

mod common;

use common::{cases_with_sidecar, cores_dir, goheap_json, roots_cmd, u, VARIANTS};
use serde_json::Value;

#[test]
fn heapgraph_typed_roots() {
    let Some(dir) = cores_dir() else { return };
    let mut failures = Vec::new();
    let mut checked = 0;
    for (variant, case, side) in cases_with_sidecar(&dir, "heapgraph-flushed", &mut failures) {
        let h = &side["heapgraph"];
        let addrs = ["stack_head_addr", "stack_tail_addr", "final_addr"];
        let cmd = roots_cmd(h, &addrs);
        let out = goheap_json(
            &case.join("exe"),
            &case.join("core"),
            &["histogram -type main.", &cmd],
        );
        let mut fail = |m: String| failures.push(format!("{variant}: {m}"));
        let rows = out[0]["data"]["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let row = |t: &str| rows.iter().find(|r| r["type"] == t).cloned();
        let sources = |r: &Value| -> Vec<(String, u64)> {
            r["sources"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .map(|s| {
                            (
                                s["source"].as_str().unwrap_or("").to_string(),
                                u(&s["count"]),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let want_snodes = u(&h["stack_count"]) + u(&h["final_children"]);
        match row("main.snode") {
            Some(r) if u(&r["count"]) == want_snodes => {
                let s = sources(&r);
                if !s.iter().any(|(k, n)| k == "stack" && *n >= 1) {
                    fail(format!("no main.snode typed from the stack: {s:?}"));
                }
            }
            r => fail(format!("main.snode row {r:?}, want {want_snodes} objects")),
        }
        match row("main.fnode") {
            Some(r) if u(&r["count"]) == 1 => {
                if sources(&r) != [("finalizer".to_string(), 1)] {
                    fail(format!("main.fnode sources {:?}", sources(&r)));
                }
            }
            r => fail(format!("main.fnode row {r:?}, want 1 object")),
        }
        let g = &out[1]["data"];
        let want = [
            ("main.snode", "stack"),
            ("main.snode", "field"),
            ("main.fnode", "finalizer"),
        ];
        for (i, (name, (t, how))) in addrs.iter().zip(want).enumerate() {
            let a = &g["addresses"][i];
            if a["type"] != t || a["type_source"] != how {
                fail(format!(
                    "{name}: type {} from {}, want {t} from {how}",
                    a["type"], a["type_source"]
                ));
            }
        }
        let roots = g["root_list"].as_array().cloned().unwrap_or_default();
        let holder = roots.iter().any(|r| {
            r["kind"] == "stack"
                && r["name"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with(": main.stackHolder")
                && r["variables"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|n| n == "head"))
        });
        if !holder {
            fail("no main.stackHolder stack root with the variable head".into());
        }
        let dwarf_problems: Vec<&Value> = g["problems"]
            .as_array()
            .map(|p| {
                p.iter()
                    .filter(|p| p.as_str().unwrap_or("").starts_with("DWARF"))
                    .collect()
            })
            .unwrap_or_default();
        if !dwarf_problems.is_empty() {
            fail(format!("DWARF problems: {dwarf_problems:?}"));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, VARIANTS.len());
}
