//! The whoalloc matrix: testdata/whoalloc built with every supported Go release and
//! experiment, run with `runtime.MemProfileRate` 1 (profiled), the default (sampled) and 0
//! (off), and crashed into kernel cores by scripts/make-cores.sh. The program recorded each
//! object's address, requested size, the type the runtime stores for it, its allocating
//! function, the addresses of a stack variable, globals and a function, and what
//! `runtime.MemProfile` returned just before the crash (sidecar.json). For every core:
//!
//! - `whoalloc` gives the right base and size for every object, the right type wherever the
//!   runtime stores one (Go 1.22+ scan objects over 512 B and large ones; the GC-program
//!   stand-in on 1.22-1.23) and none elsewhere, an allocation stack containing the recorded
//!   function or the right reason for having none, the expected specials and pins; interior
//!   pointers resolve to the same object;
//! - stack, global, text, runtime-metadata and unmapped addresses resolve to the right
//!   goroutine and frame, symbol, function, structure or "not in the core";
//! - `profile -o` writes a profile whose samples (stacks and the four values, scaled as
//!   runtime/pprof scales them) equal the `runtime.MemProfile` records, and `go tool pprof`
//!   reads it.
//!
//! Like the core matrix, without cores this test passes only when `GOHEAP_REQUIRE_CORES` is
//! unset.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use inspector_core::export::heap_profile::scale_heap_sample;
use inspector_core::export::pprof::read_profile;
use serde_json::Value;

use common::{cores_dir, goheap_json, read_json, sample_types, VARIANTS};

const MODES: &[&str] = &["profiled", "sampled", "off"];

/// The runtime's object size per size class (identical in Go 1.21-1.27).
const SIZE_CLASSES: [u64; 68] = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320,
    352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
    2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728,
    10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672,
    32768,
];

fn minor(variant: &str) -> u32 {
    variant
        .trim_start_matches("go1.")
        .split(['.', '-'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn class_size(n: u64) -> u64 {
    *SIZE_CLASSES.iter().find(|&&c| c >= n).unwrap()
}

/// (object size whoalloc must report, whether the runtime stores its type).
fn expected_size(req: u64, ptrs: bool, minor: u32) -> (u64, bool) {
    let header = minor >= 22 && ptrs && req > 512;
    if header && req + 8 <= 32768 {
        return (class_size(req + 8) - 8, true);
    }
    if req > 32768 || (header && req + 8 > 32768) {
        return (req.div_ceil(8192) * 8192, minor >= 22 && ptrs);
    }
    if !ptrs && req < 16 {
        return (16, false);
    }
    (class_size(req), false)
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn hexnum(v: &Value) -> u64 {
    u64::from_str_radix(s(v).trim_start_matches("0x"), 16).unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn stack_has(w: &Value, func: &str) -> bool {
    w["alloc_stack"]
        .as_array()
        .is_some_and(|fs| fs.iter().any(|f| f["func"] == func))
}

fn check_object(label: &str, mode: &str, minor: u32, o: &Value, w: &Value) {
    let name = s(&o["name"]);
    let l = format!("{label} {name}");
    let addr = u(&o["addr"]);
    assert_eq!(w["region"], "heap", "{l}: {w}");
    assert_eq!(w["allocated"], true, "{l}");
    let ptrs = o["ptrs"] == true;
    assert_eq!(w["noscan"], !ptrs, "{l}: scan/noscan");
    let tiny = o["tiny"] == true;
    let req = u(&o["size"]);
    let (want_size, typed) = expected_size(req, ptrs, minor);
    if tiny {
        assert_eq!(hexnum(&w["base"]), addr & !15, "{l}: tiny block base");
        assert_eq!(u(&w["size"]), 16, "{l}: tiny block size");
        assert_eq!(w["tiny_block"], true, "{l}");
        assert_eq!(u(&w["offset"]), addr & 15, "{l}");
    } else {
        assert_eq!(hexnum(&w["base"]), addr, "{l}: base");
        assert_eq!(u(&w["offset"]), 0, "{l}: offset");
        if req > 0 {
            assert_eq!(u(&w["size"]), want_size, "{l}: size of a {req}-byte object");
            if want_size > 32768 {
                assert_eq!(u(&w["size_class"]), 0, "{l}");
                assert_eq!(u(&w["requested_size"]), req, "{l}: requested size");
            }
        }
    }

    // Type: stored exactly where the runtime stores one.
    let want_type = s(&o["type"]);
    if typed {
        assert!(
            !want_type.is_empty(),
            "{l}: the program must name the stored type"
        );
        let gc_prog = want_type == "main.Huge" || want_type == "main.HugeLate";
        if gc_prog && (22..=23).contains(&minor) {
            assert_eq!(w["type_source"], "gc_program_standin", "{l}: {w}");
            assert!(w["type"]["name"].is_null(), "{l}");
            assert!(u(&w["type"]["ptr_bytes"]) >= 160000, "{l}: {}", w["type"]);
        } else {
            assert_eq!(w["type"]["name"], want_type, "{l}: type {}", w["type"]);
            let src = if want_size > 32768 {
                "span_large_type"
            } else {
                "malloc_header"
            };
            assert_eq!(w["type_source"], src, "{l}");
            assert!(
                w["type"]["ptr_mask"]
                    .as_str()
                    .is_some_and(|m| m.contains('1')),
                "{l}: pointer mask {}",
                w["type"]
            );
            // Go 1.24+ build big types' masks on demand (from 1.27 any mask over 16 bytes):
            // objects the GC scanned have it built, the ones allocated after the last GC not.
            let on_demand = match want_type {
                "main.Huge" | "main.HugeLate" => minor >= 24,
                "main.Big" | "main.BigLate" => minor >= 27,
                _ => w["type"]["mask_on_demand"] == true,
            };
            assert_eq!(w["type"]["mask_on_demand"], on_demand, "{l}: {}", w["type"]);
            let src = match (on_demand, o["late"] == true) {
                (false, _) => "gcdata",
                (true, false) => "built_on_demand",
                (true, true) => "derived_from_type",
            };
            assert_eq!(w["type"]["mask_source"], src, "{l}: {}", w["type"]);
        }
        let mask = s(&o["mask"]);
        assert!(
            s(&w["type"]["ptr_mask"]).starts_with(mask),
            "{l}: pointer mask should start {mask}: {}",
            w["type"]
        );
    } else {
        assert!(
            w["type"].is_null(),
            "{l}: no type expected, got {}",
            w["type"]
        );
        assert_eq!(w["type_source"], "none", "{l}");
        assert!(
            s(&w["type_note"]).contains("the runtime stores no type"),
            "{l}: {}",
            w["type_note"]
        );
    }

    // Allocation stack or the reason for none.
    let func = s(&o["func"]);
    let reason = &w["no_stack_reason"]["code"];
    let sub = tiny && !addr.is_multiple_of(16);
    match mode {
        "profiled" if sub => assert_eq!(reason, "tiny_sub_object", "{l}: {w}"),
        "profiled" => assert!(stack_has(w, func), "{l}: stack lacks {func}: {w}"),
        "sampled" => assert!(
            stack_has(w, func)
                || (reason == "not_sampled" && w["no_stack_reason"]["rate"] == 524288)
                || (sub && reason == "tiny_sub_object"),
            "{l}: {w}"
        ),
        // The first allocation on a P after the rate changes may still be recorded (Go 1.24+
        // compare the rate the mcache last saw).
        _ => assert!(reason == "profiling_off" || stack_has(w, func), "{l}: {w}"),
    }
    if w["alloc_stack"].is_array() {
        assert!(w["no_stack_reason"].is_null(), "{l}");
        let first = &w["alloc_stack"][0];
        assert!(
            !s(&first["func"]).starts_with("runtime."),
            "{l}: allocator frames are dropped: {first}"
        );
    }

    // Specials and pins.
    let kinds: Vec<&str> = w["specials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(&x["kind"]))
        .collect();
    for want in s(&o["specials"]).split(',').filter(|k| !k.is_empty()) {
        assert!(
            kinds.contains(&want),
            "{l}: special {want} missing: {kinds:?}"
        );
        let sp = w["specials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == want)
            .unwrap();
        match want {
            "finalizer" => assert_eq!(sp["func"], "main.finalizerFunc", "{l}: {sp}"),
            "weak_handle" => assert_eq!(hexnum(&sp["handle_value"]), addr, "{l}: {sp}"),
            "pin_counter" => assert_eq!(u(&sp["count"]), 1, "{l}: {sp}"),
            "cleanup" => {
                assert!(sp["id"].is_u64(), "{l}: {sp}");
                assert_eq!(sp["func"], "main.cleanupFunc", "{l}: {sp}");
            }
            _ => {}
        }
    }
    let pin = s(&o["pin"]);
    assert_eq!(w["pinned"], !pin.is_empty(), "{l}: pinned");
    assert_eq!(w["multi_pinned"], pin == "multi", "{l}: multi-pinned");
}

/// A function name as Go prints it (`runtime.funcNameForPrint`): type arguments become
/// `[...]`. `runtime.Frame.Function` uses it; profiles keep the symbol name.
fn print_name(name: &str) -> String {
    match (name.find('['), name.rfind(']')) {
        (Some(a), Some(b)) if a < b => format!("{}[...]{}", &name[..a], &name[b + 1..]),
        _ => name.to_string(),
    }
}

/// A profile sample's stack as (function, line) per line of each location.
fn sample_key(p: &inspector_core::export::pprof::Profile, locs: &[u64]) -> Vec<(String, i64)> {
    let mut k = Vec::new();
    for id in locs {
        let loc = &p.location[*id as usize - 1];
        assert_eq!(loc.id, *id);
        for line in &loc.line {
            let f = &p.function[line.function_id as usize - 1];
            k.push((print_name(&p.string_table[f.name as usize]), line.line));
        }
    }
    k
}

/// The stack runtime/pprof would show for a MemProfile record from the sidecar.
fn record_key(r: &Value, minor: u32) -> Vec<(String, i64)> {
    let pcs = r["stack"].as_array().unwrap();
    let hidden =
        |n: &str| n.starts_with("runtime.") || (minor >= 24 && n.starts_with("internal/runtime/"));
    let from = pcs
        .iter()
        .position(|pc| !hidden(s(&pc["funcforpc"])))
        .unwrap_or(0);
    pcs[from..]
        .iter()
        .filter(|pc| pc["func"] != "runtime.goexit")
        .map(|pc| (print_name(s(&pc["func"])), u(&pc["line"]) as i64))
        .collect()
}

type Samples = BTreeMap<(Vec<(String, i64)>, [i64; 4]), usize>;

fn check_profile(label: &str, side: &Value, minor: u32, file: &Path) {
    let data = std::fs::read(file).unwrap();
    let p = read_profile(&data).unwrap_or_else(|e| panic!("{label}: decoding profile: {e}"));
    let st = |i: i64| p.string_table[i as usize].as_str();
    let types = sample_types(&p);
    assert_eq!(
        types,
        [
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes")
        ],
        "{label}"
    );
    let rate = u(&side["mem_profile_rate"]) as i64;
    assert_eq!(p.period, rate, "{label}: period");
    let pt = p.period_type.as_ref().unwrap();
    assert_eq!((st(pt.r#type), st(pt.unit)), ("space", "bytes"), "{label}");

    let mut got = Samples::new();
    for smp in &p.sample {
        let v: [i64; 4] = smp.value.clone().try_into().unwrap();
        if v != [0; 4] {
            *got.entry((sample_key(&p, &smp.location_id), v))
                .or_default() += 1;
        }
    }
    let mut want = Samples::new();
    for r in side["profile"].as_array().unwrap() {
        let (ao, ab, fo, fb) = (
            u(&r["alloc_objects"]) as i64,
            u(&r["alloc_bytes"]) as i64,
            u(&r["free_objects"]) as i64,
            u(&r["free_bytes"]) as i64,
        );
        let size = if ao > 0 { ab / ao } else { 0 };
        let (a0, a1) = scale_heap_sample(ao, size, rate);
        let (i0, i1) = scale_heap_sample(ao - fo, size, rate);
        let _ = fb;
        let v = [a0, a1, i0, i1];
        if v != [0; 4] {
            *want.entry((record_key(r, minor), v)).or_default() += 1;
        }
    }
    if got != want {
        let only_got: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
        let only_want: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        panic!(
            "{label}: exported profile differs from runtime.MemProfile:\n only in the export: {only_got:#?}\n only in MemProfile: {only_want:#?}"
        );
    }
    if rate == 1 {
        assert!(
            got.keys()
                .any(|(k, _)| k.iter().any(|(f, _)| f == "main.newBig")),
            "{label}: profiled mode records main.newBig"
        );
    }
}

/// `go tool pprof -top` reads the profile: with each toolchain that ships pprof prebuilt
/// (Go 1.21-1.24), and with the newest one (which builds the tool once into its cache).
fn pprof_reads(label: &str, variant: &str, file: &Path) {
    let v = variant.trim_start_matches("go");
    let v = v.split('-').next().unwrap();
    let cache = std::env::var_os("GOHEAP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/goheap"));
    let goroot = cache.join("go").join(v).join("go");
    let go = goroot.join("bin/go");
    let prebuilt = goroot.join("pkg/tool/linux_amd64/pprof").is_file();
    if !prebuilt && variant != VARIANTS[VARIANTS.len() - 1] {
        return;
    }
    if !go.is_file() {
        assert!(
            std::env::var_os("GOHEAP_REQUIRE_CORES").is_none(),
            "{label}: no Go toolchain at {}",
            go.display()
        );
        return;
    }
    let out = Command::new(&go)
        .args(["tool", "pprof", "-top", "-sample_index=alloc_space"])
        .arg(file)
        .env("GOROOT", &goroot)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOCACHE", cache.join("gocache").join(v))
        .env("PPROF_TMPDIR", std::env::temp_dir())
        .output()
        .expect("run go tool pprof");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("main.newHuge"),
        "{label}: go tool pprof -top failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_case(variant: &str, mode: &str, dir: &Path, tmp: &Path) -> usize {
    let label = format!("{variant}/whoalloc-{mode}");
    let minor = minor(variant);
    let side = read_json(&dir.join("sidecar.json"));
    assert_eq!(side["mode"], mode, "{label}");
    let objs = side["objects"].as_array().unwrap();
    let prof = tmp.join(format!("{variant}-{mode}.pb.gz"));
    let mut cmds: Vec<String> = Vec::new();
    for o in objs {
        cmds.push(format!("whoalloc {:#x}", u(&o["addr"])));
    }
    let interiors: Vec<&Value> = objs.iter().filter(|o| u(&o["interior"]) > 0).collect();
    for o in &interiors {
        cmds.push(format!("whoalloc {:#x}", u(&o["addr"]) + u(&o["interior"])));
    }
    let globals = side["globals"].as_array().unwrap();
    for g in globals {
        cmds.push(format!("whoalloc {}", u(&g["addr"])));
    }
    let stack = &side["stack"];
    let text = &side["text"];
    cmds.push(format!("whoalloc {:#x}", u(&stack["addr"])));
    cmds.push(format!("whoalloc {:#x}", u(&text["addr"])));
    cmds.push(format!("info symbol {:#x}", u(&text["addr"])));
    cmds.push(format!("info symbol {:#x}", u(&globals[1]["addr"])));
    cmds.push(format!("x/2xg {:#x}", u(&globals[2]["addr"])));
    cmds.push("whoalloc 0x10".into());
    cmds.push(format!("profile -o {}", prof.display()));
    let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
    let out = goheap_json(&dir.join("exe"), &dir.join("core"), &refs);
    assert_eq!(out.len(), cmds.len(), "{label}: one JSON line per command");
    for (c, line) in cmds.iter().zip(&out) {
        assert!(line.get("error").is_none(), "{label}: {c}: {line}");
    }
    let data: Vec<&Value> = out.iter().map(|l| &l["data"]).collect();
    let mut k = 0;
    for o in objs {
        check_object(&label, mode, minor, o, data[k]);
        k += 1;
    }
    for o in &interiors {
        let l = format!("{label} {} + {}", s(&o["name"]), u(&o["interior"]));
        let whole = data[objs.iter().position(|x| x == *o).unwrap()];
        let w = data[k];
        k += 1;
        assert_eq!(w["region"], "heap", "{l}: {w}");
        assert_eq!(
            w["base"], whole["base"],
            "{l}: interior pointer, same object"
        );
        assert_eq!(w["size"], whole["size"], "{l}");
        assert_eq!(u(&w["offset"]), u(&o["interior"]), "{l}: offset");
        assert_eq!(w["alloc_stack"], whole["alloc_stack"], "{l}: same stack");
    }
    for g in globals {
        let w = data[k];
        k += 1;
        assert_eq!(w["region"], "global", "{label}: {g}: {w}");
        assert_eq!(w["symbol"]["name"], g["symbol"], "{label}: {w}");
        assert_eq!(w["symbol"]["offset"], g["offset"], "{label}: {w}");
    }
    let w = data[k];
    k += 1;
    assert_eq!(
        w["region"], "goroutine_stack",
        "{label}: stack address: {w}"
    );
    assert_eq!(w["goroutine"]["id"], stack["goroutine"], "{label}: {w}");
    assert_eq!(
        w["goroutine"]["frame"]["func"], stack["func"],
        "{label}: {w}"
    );
    let w = data[k];
    k += 1;
    assert_eq!(w["region"], "text", "{label}: {w}");
    assert_eq!(w["text"]["func"], text["func"], "{label}: {w}");
    assert_eq!(u(&w["text"]["offset"]), 4, "{label}: {w}");
    let w = data[k];
    k += 1;
    assert_eq!(w["symbol"], text["func"], "{label}: info symbol {w}");
    assert_eq!(w["section"], ".text", "{label}: {w}");
    let w = data[k];
    k += 1;
    assert_eq!(w["symbol"], "main.globalTable", "{label}: info symbol {w}");
    assert_eq!(u(&w["offset"]), 24, "{label}: {w}");
    let w = data[k];
    k += 1;
    // globalData = [4]int{1, 2, 3, 4}; the address is &globalData[1].
    assert_eq!(
        w["values"],
        serde_json::json!(["0x0000000000000002", "0x0000000000000003"]),
        "{label}: x/2xg {w}"
    );
    let w = data[k];
    k += 1;
    assert_eq!(w["region"], "not_in_core", "{label}: {w}");
    let w = data[k];
    assert!(u(&w["samples"]) > 0 || mode != "profiled", "{label}: {w}");

    // A span descriptor is runtime metadata.
    let desc = s(&data[0]["span"]["mspan"]).to_string();
    let m = goheap_json(
        &dir.join("exe"),
        &dir.join("core"),
        &[&format!("whoalloc {desc}")],
    );
    assert_eq!(
        m[0]["data"]["region"], "runtime_metadata",
        "{label}: {}",
        m[0]
    );
    assert!(
        s(&m[0]["data"]["metadata"]["what"]).contains("mspan"),
        "{label}: {}",
        m[0]
    );

    check_profile(&label, &side, minor, &prof);
    if mode == "profiled" {
        pprof_reads(&label, variant, &prof);
    }
    objs.len()
}

#[test]
fn whoalloc_matrix_matches_what_the_programs_recorded() {
    let Some(root) = cores_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = Vec::new();
    let mut missing = Vec::new();
    for v in VARIANTS {
        for mode in MODES {
            let dir = root.join(v).join(format!("whoalloc-{mode}"));
            if !dir.join("core").is_file() {
                missing.push(dir.display().to_string());
                continue;
            }
            let n = check_case(v, mode, &dir, tmp.path());
            checked.push(format!("{v}/{mode} ({n} objects)"));
        }
    }
    assert!(
        missing.is_empty(),
        "whoalloc matrix incomplete, missing: {missing:?} (run scripts/make-cores.sh)"
    );
    eprintln!(
        "whoalloc matrix: {} cores: {}",
        checked.len(),
        checked.join(", ")
    );
}
