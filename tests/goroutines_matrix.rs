//! The goroutine matrix: every test core of every variant (testdata/goroutines, heapshape,
//! tiny; Go 1.21–1.27, experiments, PIE), compared with the program's own crash dump.
//!
//! `GOTRACEBACK=crash` makes the runtime print every goroutine before the core is written;
//! scripts/make-cores.sh keeps that output as traceback.txt beside each core. This test parses
//! it and requires goheap (`goroutines --json`) to report:
//! - the same set of goroutine ids;
//! - the same status or wait reason (and "locked to thread", and pprof labels where the
//!   runtime prints them: Go 1.27 by default);
//! - the same frames, in order: function, file and line of every logical frame (inlined
//!   calls included), and pc and sp of every physical frame (printed for non-inlined frames);
//! - the same creator (function, file:line, parent goroutine id);
//! - no wait time of a minute or more where the runtime printed none (goheap's "now" is never
//!   later than the runtime's, so its wait times are never longer);
//! - and, goheap's own cross-check, that the frame-pointer chain agrees with the pcsp unwind.
//!
//! The runtime's printer rules, mirrored exactly (traceback.go, `traceback1`, `traceback2`,
//! `tracebackothers`, `printcreatedby`, `goroutineheader`):
//! - GOTRACEBACK=crash is level 2: every frame is shown, runtime frames included, and every
//!   goroutine except dead ones (`_Gdead`, `_Gdeadextra`), system goroutines included.
//! - More than 100 logical frames: the first 50, a line `...N frames elided...`, the last 50.
//!   goheap shows them all; the test requires goheap's frame count to be 100 + N and compares
//!   the first and the last 50.
//! - The crashing goroutine (printed first) is traced from where `fatalpanic` was called (its
//!   `getcallerpc/sp`): the frames of the crash machinery itself (`fatalpanic`, `crash`,
//!   `dieFromSignal`, `raise`, ...) are not printed. goheap shows them; the test finds the
//!   runtime's first frame (same pc and sp) in goheap's backtrace and requires every frame
//!   before it to be in package runtime.
//! - A goroutine running on another thread is printed as "goroutine running on other thread;
//!   stack unavailable" (the runtime cannot trace a running goroutine). goheap unwinds it from
//!   its thread's registers; the test requires that backtrace to be complete (ending at
//!   `runtime.goexit`) and to contain the goroutine's start function.
//! - "created by" is printed for every goroutine but the main one (id 1), naming the
//!   physical function that holds the `go` statement and the file:line of `gopc - 1`.
//! - Function names go through `printFuncName`: `runtime.gopanic` is printed as `panic`, and
//!   the type arguments of a generic function as `[...]` (`main.f[go.shape.int]` →
//!   `main.f[...]`). The test renders goheap's names the same way before comparing.
//! - Cores taken with gdb's gcore (GOHEAP_CORE_METHOD=gcore) are written before the program
//!   is killed with SIGABRT; its traceback comes later, so goroutines that were running (and
//!   may have moved) are compared by set membership and creator only.
//!
//! Cores live in `$GOHEAP_CORES` (default `~/.cache/goheap/cores`). Without them this test
//! passes only when `GOHEAP_REQUIRE_CORES` is unset; scripts/test.sh sets it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;

use common::{cores_dir, goheap_json, VARIANTS};

/// Program/mode directories that must exist in every variant.
const REQUIRED: &[&str] = &["goroutines-flushed"];

/// The runtime prints this many inner and outer frames around an elision.
const INNER_FRAMES: usize = 50;
const OUTER_FRAMES: usize = 50;

/// One printed frame.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TFrame {
    func: String,
    file: String,
    line: u32,
    /// (pc, sp) for frames printed with `fp= sp= pc=` (physical frames).
    pc_sp: Option<(u64, u64)>,
}

/// One printed goroutine.
#[derive(Debug, Clone, Default)]
struct TGoroutine {
    id: u64,
    status: String,
    minutes: Option<u64>,
    locked: bool,
    labels: Option<Vec<(String, String)>>,
    inner: Vec<TFrame>,
    /// Frames after a `...N frames elided...` line, and N.
    elided: Option<(usize, Vec<TFrame>)>,
    unavailable: bool,
    created_by: Option<(String, Option<u64>, String, u32)>,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|_| panic!("hex {s}"))
}

/// `name(args)` → `name`: strip the final balanced parenthesis group.
fn func_name(line: &str) -> String {
    let line = line.trim_end();
    assert!(line.ends_with(')'), "frame line {line:?}");
    let mut depth = 0;
    for (i, c) in line.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    return line[..i].to_string();
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced frame line {line:?}")
}

/// `\t/path/file.go:123 +0x1f fp=0x.. sp=0x.. pc=0x..` → (file, line, pc/sp).
fn file_line(line: &str) -> (String, u32, Option<(u64, u64)>) {
    let l = line
        .strip_prefix('\t')
        .unwrap_or_else(|| panic!("bad file line {line:?}"));
    let mut parts = l.split(' ');
    let fl = parts.next().unwrap();
    let (file, ln) = fl
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("no line in {line:?}"));
    let (mut pc, mut sp) = (None, None);
    for p in parts {
        if let Some(v) = p.strip_prefix("pc=") {
            pc = Some(hex(v));
        } else if let Some(v) = p.strip_prefix("sp=") {
            sp = Some(hex(v));
        }
    }
    (
        file.to_string(),
        ln.parse()
            .unwrap_or_else(|_| panic!("bad line in {line:?}")),
        pc.zip(sp),
    )
}

fn parse_labels(s: &str) -> Vec<(String, String)> {
    let s = s.trim().trim_start_matches('{').trim_end_matches('}');
    s.split(", ")
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv
                .split_once(": ")
                .unwrap_or_else(|| panic!("label {kv:?}"));
            (
                k.trim_matches('"').to_string(),
                v.trim_matches('"').to_string(),
            )
        })
        .collect()
}

fn parse_header(line: &str) -> TGoroutine {
    // goroutine 7 gp=0x.. m=nil [chan receive, 2 minutes, locked to thread] {k: v}:
    let rest = line.strip_prefix("goroutine ").unwrap();
    let (id, rest) = rest.split_once(' ').unwrap();
    let open = rest.find('[').unwrap_or_else(|| panic!("header {line:?}"));
    let close = rest.rfind(']').unwrap();
    let inside = &rest[open + 1..close];
    let after = rest[close + 1..].trim_end_matches(':').trim();
    let mut g = TGoroutine {
        id: id.parse().unwrap(),
        ..TGoroutine::default()
    };
    let mut parts = inside.split(", ");
    g.status = parts.next().unwrap().to_string();
    for p in parts {
        if let Some(m) = p.strip_suffix(" minutes") {
            g.minutes = Some(m.parse().unwrap());
        } else if p == "locked to thread" {
            g.locked = true;
        }
    }
    if after.starts_with('{') {
        g.labels = Some(parse_labels(after));
    }
    g
}

/// Parse traceback.txt into its goroutines, in print order.
fn parse_traceback(text: &str) -> Vec<TGoroutine> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<TGoroutine> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with("goroutine ") && l.ends_with(':') && l.contains('[') {
            out.push(parse_header(l));
            i += 1;
            continue;
        }
        let Some(g) = out.last_mut() else {
            i += 1;
            continue;
        };
        if l.is_empty() {
            i += 1;
            continue;
        }
        if l == "\tgoroutine running on other thread; stack unavailable" {
            g.unavailable = true;
            i += 1;
        } else if let Some(n) = l
            .strip_prefix("...")
            .and_then(|r| r.strip_suffix(" frames elided..."))
        {
            g.elided = Some((n.parse().unwrap(), Vec::new()));
            i += 1;
        } else if let Some(c) = l.strip_prefix("created by ") {
            let (func, parent) = match c.split_once(" in goroutine ") {
                Some((f, p)) => (f.to_string(), Some(p.parse().unwrap())),
                None => (c.to_string(), None),
            };
            let (file, line, _) = file_line(lines[i + 1]);
            g.created_by = Some((func, parent, file, line));
            i += 2;
        } else if l.starts_with('\t') || l.starts_with("[originating") {
            i += 1; // ancestors and such: not used by the test programs
        } else if l.ends_with(')') && lines.get(i + 1).is_some_and(|n| n.starts_with('\t')) {
            let (file, line, pc_sp) = file_line(lines[i + 1]);
            let f = TFrame {
                func: func_name(l),
                file,
                line,
                pc_sp,
            };
            match &mut g.elided {
                Some((_, outer)) => outer.push(f),
                None => g.inner.push(f),
            }
            i += 2;
        } else {
            // Anything else ends the goroutine section (e.g. a "-----" relay marker).
            i += 1;
        }
    }
    out
}

/// goheap's frame as the runtime would print it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GFrame {
    func: String,
    file: String,
    line: u32,
    pc: u64,
    sp: u64,
    inlined: bool,
}

fn gframes(g: &Value) -> Vec<GFrame> {
    g["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| GFrame {
            func: f["func"].as_str().unwrap().to_string(),
            file: f["file"].as_str().unwrap().to_string(),
            line: f["line"].as_u64().unwrap() as u32,
            pc: hex(f["pc"].as_str().unwrap()),
            sp: hex(f["sp"].as_str().unwrap()),
            inlined: f["inlined"].as_bool().unwrap(),
        })
        .collect()
}

/// A function name as the runtime's `printFuncName` prints it.
fn print_name(name: &str) -> String {
    if name == "runtime.gopanic" {
        return "panic".into();
    }
    match (name.find('['), name.rfind(']')) {
        (Some(i), Some(j)) if j > i => format!("{}[...]{}", &name[..i], &name[j + 1..]),
        _ => name.to_string(),
    }
}

fn same_frame(g: &GFrame, t: &TFrame) -> Result<(), String> {
    if print_name(&g.func) != t.func || g.file != t.file || g.line != t.line {
        return Err(format!(
            "goheap {} {}:{} vs runtime {} {}:{}",
            g.func, g.file, g.line, t.func, t.file, t.line
        ));
    }
    // Non-inlined frames print their pc and sp; an inlined frame prints neither.
    match t.pc_sp {
        Some((pc, sp)) if g.inlined || g.pc != pc || g.sp != sp => Err(format!(
            "{}: goheap pc {:#x} sp {:#x} inlined {} vs runtime pc {pc:#x} sp {sp:#x}",
            g.func, g.pc, g.sp, g.inlined
        )),
        None if !g.inlined => Err(format!(
            "{}: the runtime printed no pc/sp (an inlined frame) but goheap's frame is physical",
            g.func
        )),
        _ => Ok(()),
    }
}

fn compare_frames(gf: &[GFrame], t: &[TFrame], what: &str) -> Result<(), String> {
    if gf.len() != t.len() {
        return Err(format!(
            "{what}: goheap has {} frames, the runtime printed {}:\n  goheap:  {:?}\n  runtime: {:?}",
            gf.len(),
            t.len(),
            gf.iter().map(|f| &f.func).collect::<Vec<_>>(),
            t.iter().map(|f| &f.func).collect::<Vec<_>>()
        ));
    }
    for (i, (g, t)) in gf.iter().zip(t).enumerate() {
        same_frame(g, t).map_err(|e| format!("{what}: frame {i}: {e}"))?;
    }
    Ok(())
}

struct CoreCase {
    dir: PathBuf,
    gcore: bool,
}

/// Compare one core; returns the problems found.
fn check_core(case: &CoreCase) -> (Vec<String>, usize) {
    let dir = &case.dir;
    let text = std::fs::read_to_string(dir.join("traceback.txt")).unwrap();
    let truth = parse_traceback(&text);
    assert!(
        !truth.is_empty(),
        "{}: no goroutines in traceback.txt",
        dir.display()
    );
    let out = goheap_json(&dir.join("exe"), &dir.join("core"), &["goroutines"]);
    let list = out[0]["data"]
        .as_array()
        .expect("goroutines data is a list");
    let ours: BTreeMap<u64, &Value> = list
        .iter()
        .map(|g| (g["id"].as_u64().unwrap(), g))
        .collect();
    let mut problems = Vec::new();
    let mut p = |s: String| problems.push(format!("{}: {s}", dir.display()));

    let tids: BTreeSet<u64> = truth.iter().map(|g| g.id).collect();
    let gids: BTreeSet<u64> = ours.keys().copied().collect();
    if tids != gids {
        p(format!(
            "goroutine ids differ: only in the traceback {:?}, only in goheap {:?}",
            tids.difference(&gids).take(20).collect::<Vec<_>>(),
            gids.difference(&tids).take(20).collect::<Vec<_>>()
        ));
    }
    let crashed = truth[0].id;
    for t in &truth {
        let Some(g) = ours.get(&t.id) else { continue };
        let id = t.id;
        // Status or wait reason.
        let status = g["wait_reason"]
            .as_str()
            .unwrap_or_else(|| g["status"].as_str().unwrap());
        let running = t.status == "running" || status == "running";
        let loose = case.gcore && running;
        if t.status != status && !loose {
            p(format!(
                "goroutine {id}: status {status:?}, runtime says {:?}",
                t.status
            ));
        }
        if g["locked_to_thread"].as_bool().unwrap() != t.locked {
            p(format!("goroutine {id}: locked to thread differs"));
        }
        if let Some(labels) = &t.labels {
            let ours: Vec<(String, String)> = g["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|kv| {
                    (
                        kv[0].as_str().unwrap().to_string(),
                        kv[1].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            if &ours != labels {
                p(format!(
                    "goroutine {id}: labels {ours:?}, runtime says {labels:?}"
                ));
            }
        }
        let wait_min = g["wait_ns"].as_u64().map(|n| n / 60_000_000_000);
        match (t.minutes, wait_min) {
            (None, Some(m)) if m >= 1 => p(format!(
                "goroutine {id}: goheap waited {m} min, the runtime printed none"
            )),
            (Some(tm), Some(m)) if m > tm => p(format!(
                "goroutine {id}: goheap waited {m} min, the runtime {tm} min"
            )),
            _ => {}
        }
        // Creator.
        let created = match (&g["created_at"], g["created_by"].as_u64()) {
            (Value::Null, _) => None,
            (c, parent) => Some((
                print_name(c["func"].as_str().unwrap()),
                parent,
                c["file"].as_str().unwrap().to_string(),
                c["line"].as_u64().unwrap() as u32,
            )),
        };
        if created != t.created_by {
            p(format!(
                "goroutine {id}: created by {created:?}, runtime says {:?}",
                t.created_by
            ));
        }
        // Frames.
        let gf = gframes(g);
        let complete = g["backtrace"] == "complete";
        if t.unavailable || loose {
            let start = g["start_func"].as_str().unwrap_or("?");
            if !complete
                || gf.last().map(|f| f.func.as_str()) != Some("runtime.goexit")
                || !gf.iter().any(|f| f.func == start)
            {
                p(format!(
                    "goroutine {id} (running on another thread): goheap's backtrace {:?} ({}) \
                     does not run from its thread to {start} and runtime.goexit",
                    gf.iter().map(|f| &f.func).collect::<Vec<_>>(),
                    g["backtrace"]
                ));
            }
            continue;
        }
        let mut gf = &gf[..];
        if id == crashed {
            // Skip the crash machinery above the runtime's first frame.
            let first = t.inner.iter().find_map(|f| f.pc_sp);
            match gf
                .iter()
                .position(|f| !f.inlined && Some((f.pc, f.sp)) == first)
            {
                Some(k) => {
                    if let Some(f) = gf[..k].iter().find(|f| !f.func.starts_with("runtime.")) {
                        p(format!(
                            "goroutine {id} (crashed): frame {} above the runtime's first frame is not in package runtime",
                            f.func
                        ));
                    }
                    // Inlined frames at the same pc belong to the first printed frame.
                    let mut k = k;
                    while k > 0 && gf[k - 1].inlined && gf[k - 1].pc == gf[k].pc {
                        k -= 1;
                    }
                    gf = &gf[k..];
                }
                None => {
                    p(format!(
                        "goroutine {id} (crashed): the runtime's first frame {:?} is not in goheap's backtrace {:?}",
                        t.inner.first(),
                        gf.iter().map(|f| (&f.func, f.pc, f.sp)).collect::<Vec<_>>()
                    ));
                    continue;
                }
            }
        }
        let res = match &t.elided {
            None => compare_frames(gf, &t.inner, &format!("goroutine {id}")),
            Some((n, outer)) => {
                if gf.len() != INNER_FRAMES + n + OUTER_FRAMES
                    || t.inner.len() != INNER_FRAMES
                    || outer.len() != OUTER_FRAMES
                {
                    Err(format!(
                        "goroutine {id}: goheap has {} frames; the runtime printed {} + {n} elided + {}",
                        gf.len(),
                        t.inner.len(),
                        outer.len()
                    ))
                } else {
                    compare_frames(
                        &gf[..INNER_FRAMES],
                        &t.inner,
                        &format!("goroutine {id} inner"),
                    )
                    .and_then(|_| {
                        compare_frames(
                            &gf[gf.len() - OUTER_FRAMES..],
                            outer,
                            &format!("goroutine {id} outer"),
                        )
                    })
                }
            }
        };
        if let Err(e) = res {
            p(e);
        }
        if !complete {
            p(format!(
                "goroutine {id}: backtrace did not complete: {}",
                g["backtrace"]
            ));
        }
        if !g["fp_mismatch"].is_null() {
            p(format!(
                "goroutine {id}: the frame-pointer chain disagrees at frame {}",
                g["fp_mismatch"]
            ));
        }
    }
    (problems, truth.len())
}

fn cases(root: &Path) -> Vec<CoreCase> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for v in VARIANTS {
        for r in REQUIRED {
            if !root.join(v).join(r).join("meta.json").is_file() {
                missing.push(format!("{v}/{r}"));
            }
        }
        let Ok(rd) = std::fs::read_dir(root.join(v)) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = rd.filter_map(|e| Some(e.ok()?.path())).collect();
        dirs.sort();
        for d in dirs {
            let Ok(meta) = std::fs::read_to_string(d.join("meta.json")) else {
                continue;
            };
            for f in ["exe", "core", "traceback.txt"] {
                assert!(d.join(f).is_file(), "{}: no {f}", d.display());
            }
            out.push(CoreCase {
                gcore: meta.contains("\"core_method\":\"gcore\""),
                dir: d,
            });
        }
    }
    if !missing.is_empty() {
        let msg = format!(
            "goroutine matrix cores missing in {}: {} (run scripts/make-cores.sh)",
            root.display(),
            missing.join(", ")
        );
        if std::env::var_os("GOHEAP_REQUIRE_CORES").is_some() {
            panic!("{msg}; GOHEAP_REQUIRE_CORES is set, so this is a failure");
        }
        eprintln!("{msg}");
    }
    out
}

#[test]
fn goroutines_match_the_runtime_traceback() {
    let Some(root) = cores_dir() else { return };
    let cases = cases(&root);
    let mut problems = Vec::new();
    let mut checked = 0;
    for c in &cases {
        let (p, n) = check_core(c);
        eprintln!(
            "{}: {n} goroutines, {} problem(s)",
            c.dir.strip_prefix(&root).unwrap_or(&c.dir).display(),
            p.len()
        );
        checked += n;
        problems.extend(p);
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in {} cores:\n{}",
        problems.len(),
        cases.len(),
        problems
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("{} cores, {checked} goroutines: all match", cases.len());
}

/// The leak stands out: grouping by stack puts the leaked goroutines first, and the pprof
/// export counts them.
#[test]
fn leak_is_the_largest_group_and_in_the_profile() {
    let Some(root) = cores_dir() else { return };
    for v in VARIANTS {
        let dir = root.join(v).join("goroutines-flushed");
        if !dir.join("meta.json").is_file() {
            continue; // reported by the other test
        }
        let prof = tempfile::NamedTempFile::new().unwrap();
        let pprof_cmd = format!("goroutines -pprof {}", prof.path().display());
        let out = goheap_json(
            &dir.join("exe"),
            &dir.join("core"),
            &[
                "goroutines -group",
                "goroutines -group userloc",
                "goroutines -reason 'chan send' -with main.leak",
                &pprof_cmd,
            ],
        );
        let groups = out[0]["data"].as_array().unwrap();
        let top = &groups[0];
        assert_eq!(top["count"], 10000, "{v}: largest stack group {top}");
        let funcs: Vec<&str> = top["representative"]["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["func"].as_str().unwrap())
            .collect();
        assert!(funcs.contains(&"main.leak"), "{v}: {funcs:?}");
        let key = out[1]["data"][0]["key"].as_str().unwrap();
        assert!(
            key.starts_with("main.leak "),
            "{v}: top user location {key}"
        );
        assert_eq!(out[2]["data"].as_array().unwrap().len(), 10000, "{v}");
        let data = std::fs::read(prof.path()).unwrap();
        let p = inspector_core::export::pprof::read_profile(&data).unwrap();
        let total: i64 = p.sample.iter().map(|s| s.value[0]).sum();
        assert_eq!(out[3]["data"]["goroutines"].as_i64(), Some(total), "{v}");
        assert!(p.sample.iter().any(|s| s.value[0] == 10000), "{v}");
        assert_eq!(
            p.string_table[p.sample_type[0].r#type as usize],
            "goroutine"
        );
    }
}

#[test]
fn traceback_parser_reads_headers_frames_elisions_and_creators() {
    let text = "panic: x\n\ngoroutine 1 gp=0xc0000061c0 m=0 mp=0x5d7040 [running]:\n\
        main.(*T).f(0x1, {0x2, 0x3})\n\t/a/main.go:10 +0x25 fp=0xc8 sp=0xc0 pc=0x401000\n\
        main.g(...)\n\t/a/main.go:20\n\
        ...7 frames elided...\n\
        runtime.goexit({})\n\t/go/src/runtime/asm_amd64.s:1695 +0x1 fp=0xd0 sp=0xc8 pc=0x402000\n\
        \n\
        goroutine 7 [chan receive, 3 minutes, locked to thread] {role: x, \"a b\": c}:\n\
        \tgoroutine running on other thread; stack unavailable\n\
        created by main.main in goroutine 1\n\t/a/main.go:30 +0x1a\n";
    let gs = parse_traceback(text);
    assert_eq!(gs.len(), 2);
    assert_eq!(gs[0].id, 1);
    assert_eq!(gs[0].status, "running");
    assert_eq!(gs[0].inner.len(), 2);
    assert_eq!(gs[0].inner[0].func, "main.(*T).f");
    assert_eq!(gs[0].inner[0].pc_sp, Some((0x401000, 0xc0)));
    assert_eq!(gs[0].inner[1].pc_sp, None);
    assert_eq!(gs[0].elided.as_ref().unwrap().0, 7);
    assert_eq!(gs[0].elided.as_ref().unwrap().1[0].line, 1695);
    assert_eq!(gs[1].status, "chan receive");
    assert_eq!(gs[1].minutes, Some(3));
    assert!(gs[1].locked && gs[1].unavailable);
    assert_eq!(
        gs[1].labels.as_deref(),
        Some(&[("role".into(), "x".into()), ("a b".into(), "c".into())][..])
    );
    assert_eq!(
        gs[1].created_by,
        Some(("main.main".into(), Some(1), "/a/main.go".into(), 30))
    );
}

/// Bad goroutine arguments give one clear line and the documented exit status.
#[test]
fn bad_goroutine_arguments_are_one_line_errors() {
    let Some(root) = cores_dir() else { return };
    let dir = root.join(VARIANTS[0]).join("goroutines-flushed");
    if !dir.join("meta.json").is_file() {
        return; // reported by the matrix test
    }
    for (cmd, status) in [
        ("goroutine 4000000000", 1),
        ("goroutine x", 2),
        ("goroutines -min-wait soon", 2),
        ("goroutines -group nope", 2),
        ("info nothing", 2),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_goheap"))
            .args(["--batch", "-ex", cmd, "core"])
            .arg(dir.join("exe"))
            .arg(dir.join("core"))
            .output()
            .expect("run goheap");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{cmd}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{cmd}: {err}");
        assert!(!err.contains("panicked"), "{cmd}: {err}");
    }
}
