//! `histogram -type REGEX`, `histogram -pprof FILE`, `objects` and the progress indicator, on
//! every core of `testdata/heapgraph` (every Go release and experiment):
//!
//! - the profile decodes, has the sample types `inuse_objects`/count and `inuse_space`/bytes,
//!   its values add up exactly to `heapgraph`'s reachable objects and bytes (garbage left out,
//!   and said so), every sample's stack is non-empty, its leaf names a `histogram` row, and per
//!   leaf the values add up to that row exactly;
//! - `objects -type '^ROW$'` finds exactly the objects and bytes of each histogram row, largest
//!   first then by address; `objects -garbage` exactly the garbage the program dropped;
//!   recorded objects are listed at the address Go pointers hold (past a malloc header);
//! - an invalid regular expression is one error line and exit status 1;
//! - `--batch` prints nothing on stderr, while a terminal (a pseudo-terminal from `script`)
//!   gets the progress indicator.
//!
//! Set `GOHEAP_REQUIRE_CORES=1` to fail instead of skipping when the cores are missing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{cases_with_sidecar, cores_dir, goheap_json, read_json, sample_types, u};
use inspector_core::export::pprof::{read_profile, Profile};
use serde_json::Value;

/// Every variant's heapgraph core; a missing one fails the test.
fn cases() -> Vec<(String, PathBuf)> {
    let Some(dir) = cores_dir() else {
        return Vec::new();
    };
    let mut failures = Vec::new();
    let cases = cases_with_sidecar(&dir, "heapgraph-flushed", &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    cases
        .into_iter()
        .map(|(v, case, _)| (v.to_string(), case))
        .collect()
}

/// The function names of a sample's stack, leaf first.
fn stack_names(p: &Profile, s: &inspector_core::export::pprof::Sample) -> Vec<String> {
    s.location_id
        .iter()
        .flat_map(|&id| {
            let loc = &p.location[id as usize - 1];
            assert_eq!(loc.id, id);
            loc.line.iter().map(|l| {
                let f = &p.function[l.function_id as usize - 1];
                p.string_table[f.name as usize].clone()
            })
        })
        .collect()
}

fn label(p: &Profile, s: &inspector_core::export::pprof::Sample, key: &str) -> Option<String> {
    s.label
        .iter()
        .find(|l| p.string_table[l.key as usize] == key)
        .map(|l| p.string_table[l.str as usize].clone())
}

#[test]
fn pprof_totals_and_leaves_match_the_histogram() {
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (variant, case) in cases() {
        let file = tmp.path().join(format!("{variant}.pb.gz"));
        let cmd = format!("histogram -pprof {}", file.display());
        let out = goheap_json(
            &case.join("exe"),
            &case.join("core"),
            &["heapgraph", "histogram", &cmd],
        );
        let (g, h, w) = (&out[0]["data"], &out[1]["data"], &out[2]["data"]);
        let mut fail = |m: String| failures.push(format!("{variant}: {m}"));
        let p = read_profile(&std::fs::read(&file).unwrap()).unwrap();
        let types = sample_types(&p);
        assert_eq!(
            types,
            [("inuse_objects", "count"), ("inuse_space", "bytes")],
            "{variant}"
        );
        // Totals: every reachable object, nothing else.
        let objects: i64 = p.sample.iter().map(|s| s.value[0]).sum();
        let bytes: i64 = p.sample.iter().map(|s| s.value[1]).sum();
        if (objects as u64, bytes as u64) != (u(&g["reachable_objects"]), u(&g["reachable_bytes"]))
        {
            fail(format!(
                "profile sums {objects} objects / {bytes} bytes, heapgraph reachable {} / {}",
                g["reachable_objects"], g["reachable_bytes"]
            ));
        }
        if (u(&w["objects"]), u(&w["bytes"])) != (objects as u64, bytes as u64) {
            fail(format!(
                "the command reports {} / {}",
                w["objects"], w["bytes"]
            ));
        }
        if (u(&w["garbage_objects"]), u(&w["garbage_bytes"]))
            != (u(&g["garbage_objects"]), u(&g["garbage_bytes"]))
        {
            fail(format!(
                "garbage left out {} / {}, heapgraph has {} / {}",
                w["garbage_objects"], w["garbage_bytes"], g["garbage_objects"], g["garbage_bytes"]
            ));
        }
        // Leaves: each names a histogram row, and per row the sums are the row's.
        let mut by_leaf: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut alloc_samples = 0;
        for s in &p.sample {
            let names = stack_names(&p, s);
            let Some(leaf) = names.first() else {
                fail("a sample with an empty stack".into());
                continue;
            };
            if names.len() < 2 {
                fail(format!("{leaf}: the stack has no frame below the type"));
            }
            if names.len() > 16 && label(&p, s, "stack").as_deref() == Some("path") {
                fail(format!("{leaf}: a path of {} frames", names.len()));
            }
            match label(&p, s, "stack").as_deref() {
                Some("allocation") => alloc_samples += 1,
                Some("path") => {}
                other => fail(format!("{leaf}: stack label {other:?}")),
            }
            let e = by_leaf.entry(leaf.clone()).or_default();
            e.0 += s.value[0] as u64;
            e.1 += s.value[1] as u64;
        }
        let rows: BTreeMap<String, (u64, u64)> = h["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] != "garbage")
            .map(|r| {
                (
                    r["type"].as_str().unwrap().to_string(),
                    (u(&r["count"]), u(&r["bytes"])),
                )
            })
            .collect();
        if by_leaf != rows {
            let diff: Vec<_> = rows
                .iter()
                .filter(|(k, v)| by_leaf.get(*k) != Some(v))
                .map(|(k, v)| format!("{k}: histogram {v:?}, profile {:?}", by_leaf.get(k)))
                .chain(
                    by_leaf
                        .keys()
                        .filter(|k| !rows.contains_key(*k))
                        .map(|k| format!("{k}: a leaf no histogram row has")),
                )
                .take(5)
                .collect();
            fail(format!("leaves differ from histogram rows: {diff:?}"));
        }
        // Paths: every reachable object has one (the parent tree covers the live heap), and
        // each path ends at a root frame; the program's roots are there.
        if u(&w["no_path_objects"]) != 0 {
            fail(format!("{} objects without a path", w["no_path_objects"]));
        }
        let kinds = [
            "data ",
            "bss ",
            "stack ",
            "sched_ctxt ",
            "finalizer",
            "cleanup",
            "weak_handle",
            "finalizer_queue",
            "cleanup_queue",
            "tiny_block",
        ];
        let mut root_frames = std::collections::BTreeSet::new();
        for s in &p.sample {
            if label(&p, s, "stack").as_deref() != Some("path") {
                continue;
            }
            let names = stack_names(&p, s);
            let root = names.last().cloned().unwrap_or_default();
            if !kinds.iter().any(|k| root.starts_with(k)) {
                fail(format!("a path ending at {root:?}, not a root"));
            }
            root_frames.insert(root);
        }
        for want in ["stack main.stackHolder", "finalizer"] {
            if !root_frames.contains(want) {
                fail(format!("no path from {want:?}: {root_frames:?}"));
            }
        }
        for global in [
            "main.ptrMap",
            "main.globalNodes",
            "main.closures",
            "main.holders",
        ] {
            if !root_frames
                .iter()
                .any(|r| r.ends_with(&format!(" {global}")))
            {
                fail(format!("no path from the global {global}: {root_frames:?}"));
            }
        }
        if u(&w["alloc_stack_objects"]) > 0 && alloc_samples == 0 {
            fail("objects with allocation stacks but no allocation sample".into());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `go tool pprof` opens the profile (when a Go toolchain is installed).
#[test]
fn go_tool_pprof_reads_the_profile() {
    let Some((variant, case)) = cases().pop() else {
        return;
    };
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap();
    let go = home.join(".cache/goheap/go/1.27.3/go/bin/go");
    if !go.is_file() {
        eprintln!("skipping: no Go toolchain at {}", go.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("h.pb.gz");
    let out = goheap_json(
        &case.join("exe"),
        &case.join("core"),
        &[&format!("histogram -pprof {}", file.display()), "histogram"],
    );
    let top_row = out[1]["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] != "garbage")
        .unwrap()["type"]
        .as_str()
        .unwrap()
        .to_string();
    let run = |args: &[&str]| {
        let o = Command::new(&go)
            .args(["tool", "pprof"])
            .args(args)
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{variant}: go tool pprof {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        text
    };
    let top = run(&["-top", "-sample_index=inuse_space"]);
    assert!(top.contains("Type: inuse_space"), "{top}");
    let first = top
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("flat"))
        .nth(1)
        .unwrap_or("");
    assert!(
        first.ends_with(&top_row),
        "{variant}: pprof's largest is {first:?}, histogram's {top_row:?}"
    );
    let traces = run(&["-traces"]);
    assert!(traces.contains("stack:"), "{traces}");
}

fn objects(case: &Path, cmds: &[&str]) -> Vec<Value> {
    goheap_json(&case.join("exe"), &case.join("core"), cmds)
        .into_iter()
        .map(|l| {
            assert!(l.get("error").is_none(), "{l}");
            l["data"].clone()
        })
        .collect()
}

fn hex(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn objects_match_histogram_rows_and_recorded_addresses() {
    let mut failures = Vec::new();
    for (variant, case) in cases() {
        let side = read_json(&case.join("sidecar.json"));
        let hs = &side["heapgraph"];
        let first = objects(&case, &["histogram", "heapgraph"]);
        let (h, g) = (&first[0], &first[1]);
        // The five largest rows of each kind, and the recorded types.
        let rows: Vec<&Value> = h["rows"].as_array().unwrap().iter().collect();
        let mut picked: Vec<&Value> = rows
            .iter()
            .filter(|r| r["kind"] == "typed")
            .take(5)
            .copied()
            .collect();
        picked.extend(rows.iter().filter(|r| r["kind"] == "unknown").take(2));
        let mut cmds: Vec<String> = picked
            .iter()
            .map(|r| {
                format!(
                    "objects -top 100000 -type '^{}$'",
                    regex::escape(r["type"].as_str().unwrap())
                )
            })
            .collect();
        cmds.push("objects -garbage -top 5".into());
        cmds.push("objects -top 0".into());
        cmds.push(r"objects -top 100000 -type '^main\.gnode$'".into());
        cmds.push(r"objects -top 100000 -type '^\[\]main\.rec$'".into());
        let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
        let out = objects(&case, &refs);
        let mut fail = |m: String| failures.push(format!("{variant}: {m}"));
        for (r, o) in picked.iter().zip(&out) {
            let name = r["type"].as_str().unwrap();
            if (u(&o["total_objects"]), u(&o["total_bytes"])) != (u(&r["count"]), u(&r["bytes"])) {
                fail(format!(
                    "objects {name}: {} / {}, histogram {} / {}",
                    o["total_objects"], o["total_bytes"], r["count"], r["bytes"]
                ));
            }
            let list = o["rows"].as_array().unwrap();
            if list.len() as u64 != u(&r["count"]) {
                fail(format!("objects {name}: {} rows", list.len()));
            }
            let keys: Vec<(u64, u64)> = list
                .iter()
                .map(|x| (u(&x["size"]), hex(&x["addr"])))
                .collect();
            let sorted = keys
                .windows(2)
                .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1));
            if !sorted {
                fail(format!(
                    "objects {name}: not largest first, then by address"
                ));
            }
            if list.iter().any(|x| x["type"] != name) {
                fail(format!("objects {name}: a row of another type"));
            }
        }
        let n = picked.len();
        let garbage = &out[n];
        if (u(&garbage["total_objects"]), u(&garbage["total_bytes"]))
            != (u(&hs["garbage_objects"]), u(&hs["garbage_bytes"]))
        {
            fail(format!(
                "objects -garbage: {} / {}, the program dropped {} / {}",
                garbage["total_objects"],
                garbage["total_bytes"],
                hs["garbage_objects"],
                hs["garbage_bytes"]
            ));
        }
        if garbage["rows"].as_array().unwrap().len() != 5 {
            fail("objects -garbage -top 5: not 5 rows".into());
        }
        let all = &out[n + 1];
        if (u(&all["total_objects"]), u(&all["total_bytes"]))
            != (u(&g["reachable_objects"]), u(&g["reachable_bytes"]))
            || !all["rows"].as_array().unwrap().is_empty()
        {
            fail(format!(
                "objects -top 0: {} / {} and {} rows, reachable {} / {}",
                all["total_objects"],
                all["total_bytes"],
                all["rows"].as_array().unwrap().len(),
                g["reachable_objects"],
                g["reachable_bytes"]
            ));
        }
        let addrs = |o: &Value| -> Vec<u64> {
            o["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| hex(&x["addr"]))
                .collect()
        };
        let gnodes = addrs(&out[n + 2]);
        for k in ["global_addr", "list_tail_addr"] {
            if !gnodes.contains(&u(&hs[k])) {
                fail(format!(
                    "{k} {:#x} is not among the main.gnode objects",
                    u(&hs[k])
                ));
            }
        }
        // A []main.rec backing array over 512 B: on Go 1.22+ its slot starts with a malloc
        // header, and the object is listed where the program's pointer points.
        let recs = addrs(&out[n + 3]);
        if !recs.contains(&u(&hs["recs_addr"])) {
            fail(format!(
                "recs_addr {:#x} not among the []main.rec objects {recs:x?}",
                u(&hs["recs_addr"])
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn goheap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_goheap"));
    let home = std::env::temp_dir().join("goheap-histogram-cli-home");
    c.env("HOME", &home)
        .env("XDG_STATE_HOME", home.join("state"));
    c
}

#[test]
fn invalid_regex_is_one_error_line_and_exit_1() {
    let Some((_, case)) = cases().pop() else {
        return;
    };
    for cmd in ["histogram -type main.(", "objects -type [z-a]"] {
        let out = goheap()
            .arg("--batch")
            .arg("-ex")
            .arg(cmd)
            .arg("core")
            .arg(case.join("exe"))
            .arg(case.join("core"))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains("not a regular expression"),
            "{cmd}: {err}"
        );
        assert!(out.stdout.is_empty(), "{cmd}");
    }
}

/// Phase names the progress indicator shows (any one of them).
const PHASES: &[&str] = &[
    "walking the heap",
    "enumerating and typing roots",
    "marking and typing",
];

#[test]
fn progress_only_on_a_terminal_and_never_in_batch() {
    let Some((_, case)) = cases().pop() else {
        return;
    };
    let (exe, core) = (case.join("exe"), case.join("core"));
    // --batch: nothing on stderr.
    let out = goheap()
        .args(["--batch", "-ex", "histogram -top 3", "core"])
        .arg(&exe)
        .arg(&core)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "--batch stderr");
    assert!(String::from_utf8_lossy(&out.stdout).contains("total"));

    // On a terminal (util-linux `script` gives the command a pseudo-terminal): the spinner
    // appears without --batch and not with it.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping the terminal half: no `script`");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_goheap");
    let on_tty = |batch: &str| {
        let line = format!(
            "{bin} {batch} core '{}' '{}' histogram -top 3",
            exe.display(),
            core.display()
        );
        let o = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("TERM", "xterm")
            .output()
            .unwrap();
        assert!(o.status.success(), "{line}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let tty = on_tty("");
    assert!(tty.contains("total"), "{tty}");
    assert!(
        PHASES.iter().any(|p| tty.contains(p)),
        "no progress on a terminal: {tty:?}"
    );
    let batch = on_tty("--batch");
    assert!(batch.contains("total"), "{batch}");
    assert!(
        !PHASES.iter().any(|p| batch.contains(p)),
        "progress in --batch: {batch:?}"
    );
}
