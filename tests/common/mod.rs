//! Shared helpers for the integration tests: finding the core matrix, running goheap in
//! batch JSON mode, and checking goheap's heap figures against what a test program recorded
//! about itself (its sidecar.json, written from runtime.ReadMemStats just before it crashed).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Every variant the core matrix must contain (scripts/lib.sh builds these).
pub const VARIANTS: &[&str] = &[
    "go1.21.13",
    "go1.22.10",
    "go1.23.9",
    "go1.24.11",
    "go1.24.11-pie",
    "go1.25.5",
    "go1.25.5-greenteagc",
    "go1.26.6",
    "go1.26.6-nogreenteagc",
    "go1.27.3",
];

/// MemStats.BySize covers the first 61 size classes only.
pub const BYSIZE_CLASSES: usize = 61;

/// Objects the crash itself may allocate after the program's last ReadMemStats, as (size
/// class, at most how many). The programs crash with `panic`:
/// - in Go 1.21 `gopanic` calls `addOneOpenDeferFrame`, which takes a 72-byte `_defer` record
///   (size class 7, 80 B) from `newdefer()` for `runtime.main`'s open-coded defer. The
///   programs fill every P's defer pool beforehand, but which P the crashing goroutine ends up
///   on is the scheduler's choice, so the record is reused (0 new objects) or allocated (1).
///   Go 1.22 rewrote panics to need no heap `_defer` there;
/// - from Go 1.22, `preprintpanics` type-switches the panic value against `error` and
///   `stringer`, and `runtime.interfaceSwitch` builds that switch's cache about one time in
///   1024 (`cheaprand()&1023 == 0`): the switch runs only for a fatal panic, so its cache is
///   the static empty one and the new one has two entries, `8 + 2*24` = 56 bytes (size class
///   6, 64 B), reachable from the `runtime..interfaceSwitch.0` global. Seen once in about
///   80 fresh cores; a program cannot warm it up (recovered panics skip `preprintpanics`).
pub fn crash_allocations(variant: &str) -> Vec<(u64, u64)> {
    if variant.starts_with("go1.21.") {
        vec![(80, 1)]
    } else {
        vec![(64, 1)]
    }
}

pub fn cores_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GOHEAP_CORES")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("GOHEAP_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/goheap"))
                })?;
            Some(cache.join("cores"))
        })?;
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "no core matrix at {} (run scripts/install-go.sh and scripts/make-cores.sh)",
        dir.display()
    );
    if std::env::var_os("GOHEAP_REQUIRE_CORES").is_some() {
        panic!("{msg}; GOHEAP_REQUIRE_CORES is set, so this is a failure");
    }
    eprintln!("skipping: {msg}");
    None
}

/// Every variant's core `case` (e.g. `heapgraph-flushed`) under `root`, with its sidecar. A
/// variant without that core is a failure, added to `failures`: the matrix must be complete.
pub fn cases_with_sidecar(
    root: &Path,
    case: &str,
    failures: &mut Vec<String>,
) -> Vec<(&'static str, PathBuf, Value)> {
    let mut out = Vec::new();
    for variant in VARIANTS {
        let dir = root.join(variant).join(case);
        if !dir.join("core").is_file() {
            failures.push(format!(
                "{variant}: no {case} core (run scripts/make-cores.sh)"
            ));
            continue;
        }
        let side = read_json(&dir.join("sidecar.json"));
        out.push((*variant, dir, side));
    }
    out
}

pub fn read_json(p: &Path) -> Value {
    let s = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Run goheap in batch JSON mode; one parsed line per command.
pub fn goheap_json(exe: &Path, core: &Path, cmds: &[&str]) -> Vec<Value> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_goheap"));
    c.arg("--batch").arg("--json");
    for cmd in cmds {
        c.arg("-ex").arg(cmd);
    }
    c.arg("core").arg(exe).arg(core);
    let out = c.output().expect("run goheap");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "goheap failed on {}: {}\n{}",
        core.display(),
        String::from_utf8_lossy(&out.stderr),
        &stdout[..stdout.len().min(2000)]
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// `heapgraph -roots` for the addresses the sidecar object `h` records under `names`.
pub fn roots_cmd(h: &Value, names: &[&str]) -> String {
    let addrs: Vec<String> = names.iter().map(|n| format!("{:#x}", u(&h[*n]))).collect();
    format!("heapgraph -roots {}", addrs.join(" "))
}

/// A decoded profile's sample types, as (type, unit) names.
pub fn sample_types(p: &inspector_core::export::pprof::Profile) -> Vec<(&str, &str)> {
    let st = |i: i64| p.string_table[i as usize].as_str();
    p.sample_type
        .iter()
        .map(|t| (st(t.r#type), st(t.unit)))
        .collect()
}

pub fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// The overview's walk/runtime figure for a counter.
pub fn counter(ov: &Value, name: &str) -> (u64, u64) {
    let row = ov["counters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no counter {name}"));
    (u(&row["walk"]), u(&row["runtime"]))
}

pub struct Checked {
    pub label: String,
}

/// Check one core of `variant` from the program/mode directory `dir`.
pub fn check_case(variant: &str, case: &str, dir: &Path) -> Checked {
    let side = read_json(&dir.join("sidecar.json"));
    let meta = read_json(&dir.join("meta.json"));
    let label = format!("{variant}/{case}");
    check_heap(
        variant,
        &label,
        &dir.join("exe"),
        &dir.join("core"),
        &side,
        &meta,
    )
}

/// Objects the runtime itself allocated after the program's last ReadMemStats, as
/// (object size, min count, max count): the crash (see [`crash_allocations`]) and OS threads
/// the scheduler started in between. Each new thread is a new M: `allocm` allocates one
/// `runtime.m` and `malg` two `runtime.g` (its g0 and gsignal). The program recorded how many
/// threads it had at ReadMemStats (`threads`, from /proc/self/status); the core has one
/// NT_PRSTATUS note per thread. Object sizes come from the binary's DWARF; Go 1.22+ adds an
/// 8-byte malloc header to pointer-carrying objects over 512 B before rounding to a class.
fn runtime_allocations(
    variant: &str,
    exe: &Path,
    side: &Value,
    core_threads: u64,
) -> Vec<(u64, u64, u64)> {
    let mut out: Vec<(u64, u64, u64)> = crash_allocations(variant)
        .into_iter()
        .map(|(size, max)| (size, 0, max))
        .collect();
    let Some(before) = side.get("threads").and_then(Value::as_u64) else {
        return out;
    };
    let new_threads = core_threads.saturating_sub(before);
    if new_threads == 0 {
        return out;
    }
    let exe = inspector_core::binary::Executable::open(exe).expect("open exe");
    let dwarf = exe.dwarf.as_ref().expect("DWARF");
    let headers = !variant.starts_with("go1.21.");
    let class_sizes: Vec<u64> = side["by_size"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| u(&e["size"]))
        .collect();
    let round = |ty: &str| {
        let size = dwarf
            .type_size(ty)
            .unwrap_or_else(|| panic!("no DWARF size for {ty}"));
        let size = if headers && size > 512 {
            size + 8
        } else {
            size
        };
        *class_sizes
            .iter()
            .find(|&&c| c >= size)
            .expect("size class")
    };
    out.push((round("runtime.m"), new_threads, new_threads));
    out.push((round("runtime.g"), 2 * new_threads, 2 * new_threads));
    out
}

/// Check goheap's `overview` and `spans -summary` on `core` against the program's sidecar.
pub fn check_heap(
    variant: &str,
    label: &str,
    exe: &Path,
    core: &Path,
    side: &Value,
    meta: &Value,
) -> Checked {
    let label = label.to_string();
    let out = goheap_json(exe, core, &["overview", "spans -summary"]);
    assert_eq!(out.len(), 2, "{label}: two JSON lines");
    for line in &out {
        assert!(line.get("error").is_none(), "{label}: {line}");
    }
    let ov = &out[0]["data"];
    let sum = &out[1]["data"];

    // The Go version goheap reports is the one the program ran with, and the toolchain's.
    assert_eq!(ov["go_version"], side["go_version"], "{label}: Go version");
    let toolchain = meta["go_version"].as_str().unwrap();
    assert!(
        ov["go_version"].as_str().unwrap().starts_with(toolchain),
        "{label}: {} is not toolchain {toolchain}",
        ov["go_version"]
    );
    assert_eq!(ov["goarch"], side["goarch"], "{label}: GOARCH");
    assert_eq!(
        ov["problems"].as_array().unwrap().len(),
        0,
        "{label}: walk reported problems: {}",
        ov["problems"]
    );
    let expect_green_tea = match variant {
        v if v.ends_with("-greenteagc") => true,
        v if v.ends_with("-nogreenteagc") => false,
        v => v >= "go1.26",
    };
    assert_eq!(
        ov["green_tea_gc"], expect_green_tea,
        "{label}: Green Tea GC"
    );

    // The walk reconciles exactly with the runtime's own counters in the core (these include
    // what per-P caches had not flushed).
    for row in ov["counters"].as_array().unwrap() {
        assert_eq!(
            row["walk"], row["runtime"],
            "{label}: {} walk vs runtime counters",
            row["name"]
        );
    }
    assert_eq!(
        ov["class_mismatches"].as_array().unwrap().len(),
        0,
        "{label}: per-class mismatches {}",
        ov["class_mismatches"]
    );

    // And with what the program itself recorded via ReadMemStats.
    let ms = &side["memstats"];
    let post_count = u(&side["post_alloc"]["count"]);
    let post_size = u(&side["post_alloc"]["size"]);
    let runtime_extra = runtime_allocations(variant, exe, side, u(&ov["threads"]));
    let mut walk_objects = vec![0u64; 68];
    for c in sum["classes"].as_array().unwrap() {
        walk_objects[u(&c["class"]) as usize] = u(&c["objects"]);
    }
    let by_size = side["by_size"].as_array().unwrap();
    assert_eq!(by_size.len(), BYSIZE_CLASSES, "{label}: BySize entries");
    // Per size class: exactly what ReadMemStats counted, plus what the program allocated
    // afterwards, plus the runtime's own allocations within their stated bounds. The extra
    // objects actually found are then required to account exactly for the totals.
    let mut runtime_count = 0u64;
    let mut runtime_bytes = 0u64;
    for (class, e) in by_size.iter().enumerate().skip(1) {
        let size = u(&e["size"]);
        let live = u(&e["mallocs"]) - u(&e["frees"]);
        let post = if post_count > 0 && size == post_size {
            post_count
        } else {
            0
        };
        let (lo, hi) = runtime_extra
            .iter()
            .filter(|(s, _, _)| *s == size)
            .fold((0, 0), |(lo, hi), (_, a, b)| (lo + a, hi + b));
        let found = walk_objects[class];
        assert!(
            found >= live + post + lo && found <= live + post + hi,
            "{label}: size class {class} ({size} B): walk {found} vs BySize Mallocs-Frees {live} \
             + {post} allocated by the program after ReadMemStats + {lo}..={hi} by the runtime"
        );
        runtime_count += found - live - post;
        runtime_bytes += (found - live - post) * size;
    }
    let (heap_alloc, _) = counter(ov, "HeapAlloc");
    let after = post_count * post_size + runtime_bytes;
    assert_eq!(
        heap_alloc,
        u(&ms["HeapAlloc"]) + after,
        "{label}: HeapAlloc"
    );
    let (objects, _) = counter(ov, "HeapObjects");
    assert_eq!(
        objects,
        u(&ms["HeapObjects"]) + post_count + runtime_count,
        "{label}: HeapObjects"
    );
    assert_eq!(
        u(&sum["total"]["bytes"]),
        heap_alloc,
        "{label}: spans -summary total bytes"
    );
    assert_eq!(
        u(&sum["total"]["objects"]),
        objects,
        "{label}: spans -summary total objects"
    );

    let (inuse, _) = counter(ov, "HeapInuse");
    let (idle, _) = counter(ov, "HeapIdle");
    let (released, _) = counter(ov, "HeapReleased");
    let ms_sys = u(&ms["HeapInuse"]) + u(&ms["HeapIdle"]);
    if post_count == 0 && runtime_count == 0 {
        assert_eq!(inuse, u(&ms["HeapInuse"]), "{label}: HeapInuse");
        assert_eq!(idle, u(&ms["HeapIdle"]), "{label}: HeapIdle");
        // The background scavenger may return free pages to the OS between ReadMemStats and
        // the crash (it needs no allocation), so HeapReleased can only have grown, within
        // HeapIdle. (Walk and runtime counters agree on it exactly, checked above.)
        assert!(
            released >= u(&ms["HeapReleased"]) && released <= idle,
            "{label}: HeapReleased {released} vs ReadMemStats {} (idle {idle})",
            ms["HeapReleased"]
        );
    } else {
        // Objects allocated after ReadMemStats may have taken fresh spans from the page heap,
        // which may in turn have grown the heap: in-use bytes grow by at most the pages those
        // objects need plus one partly used span, and HeapSys can only grow.
        let bound = after + 8192;
        assert!(
            inuse >= u(&ms["HeapInuse"]) && inuse <= u(&ms["HeapInuse"]) + bound,
            "{label}: HeapInuse {inuse} vs {} + at most {bound}",
            ms["HeapInuse"]
        );
        assert!(inuse + idle >= ms_sys, "{label}: HeapSys shrank");
        // Unflushed counts exist and were needed for the reconciliation above.
        assert!(
            u(&ov["unflushed_objects"]) >= 1,
            "{label}: expected unflushed mcache counts"
        );
    }
    Checked { label }
}
