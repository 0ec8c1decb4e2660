//! Benchmark of `whoalloc` and of the memory-profile export on one core:
//! `cargo run --release --example whoalloc_bench -- EXE CORE [N]`.
//!
//! Opens the session (timed), walks the heap once (untimed) only to pick N addresses spread
//! over the in-use spans (a pseudo-random slot, and an interior pointer into it, of N
//! pseudo-randomly chosen spans), then times `whoalloc` for each address (the first call also
//! resolves the object layouts), and the profile export: read every bucket, build and gzip the
//! profile.proto. Prints min / median / p99 / max. With `WHOALLOC_BENCH_ADDRS=FILE` it also
//! writes the addresses to FILE, one per line (bench/whoalloc.sh times them through the CLI).

use std::path::Path;
use std::time::Instant;

use inspector_core::analysis::whoalloc::{self, Region};
use inspector_core::export::heap_profile::{heap_profile, DefaultSample, ProfileSource};
use inspector_core::export::pprof::write_gzipped;
use inspector_core::runtime::heap::SpanState;
use inspector_core::runtime::mprof;
use inspector_core::Session;

#[path = "support/timing.rs"]
mod timing;
use timing::{ms, summary};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: whoalloc_bench EXE CORE [N]");
        std::process::exit(2);
    }
    let n: usize = args.get(2).map_or(1000, |s| s.parse().expect("N"));
    let t = Instant::now();
    let s = Session::open_core(Path::new(&args[0]), Path::new(&args[1])).expect("open");
    println!("open: {:.1} ms", ms(t.elapsed()));

    let heap = s.heap().expect("heap walk");
    let spans: Vec<_> = heap
        .spans
        .iter()
        .filter(|sp| sp.state == SpanState::InUse && sp.allocated > 0)
        .collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut addrs = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let sp = spans[(next() % spans.len() as u64) as usize];
        let slot = sp.base + (next() % sp.nelems.max(1) as u64) * sp.elemsize;
        addrs.push(slot);
        addrs.push(slot + (next() % sp.elemsize.max(1)));
    }
    if let Some(f) = std::env::var_os("WHOALLOC_BENCH_ADDRS") {
        let list: String = addrs.iter().map(|a| format!("{a:#x}\n")).collect();
        std::fs::write(f, list).expect("write the address list");
    }
    println!(
        "picked {} addresses in {} of {} in-use spans",
        addrs.len(),
        n,
        spans.len()
    );

    let mut times = Vec::with_capacity(addrs.len());
    let mut heap_hits = 0;
    let mut stacks = 0;
    for (i, &a) in addrs.iter().enumerate() {
        let t = Instant::now();
        let w = whoalloc::whoalloc(&s, a).expect("whoalloc");
        let d = ms(t.elapsed());
        if i == 0 {
            println!("first whoalloc (resolves the object layouts too): {d:.3} ms");
        } else {
            times.push(d);
        }
        if let Region::Heap(o) = &w.region {
            heap_hits += 1;
            stacks += matches!(o.alloc, whoalloc::Alloc::Stack(_)) as usize;
        }
    }
    summary("whoalloc", times);
    println!("{heap_hits} heap objects, {stacks} with an allocation stack");

    let o = s.objects().expect("object layouts");
    let pcln = s.exe.pclntab().expect("pclntab");
    let mut runs = Vec::new();
    let mut info = String::new();
    let mut parts = [0.0f64; 3];
    for _ in 0..5 {
        let t = Instant::now();
        let p = mprof::mem_profile(s.memory(), &o.layouts, &o.mprof).expect("profile");
        let t_read = t.elapsed();
        let prof = heap_profile(
            &p,
            pcln,
            s.rt.bias,
            s.rt.version.minor,
            DefaultSample::Inuse,
            &ProfileSource::default(),
        );
        let t_build = t.elapsed();
        let mut buf = Vec::new();
        write_gzipped(&prof, &mut buf).expect("gzip");
        runs.push(ms(t.elapsed()));
        parts = [ms(t_read), ms(t_build - t_read), ms(t.elapsed() - t_build)];
        info = format!(
            "{} buckets, {} samples, {} locations, {} bytes gzipped",
            p.records.len(),
            prof.sample.len(),
            prof.location.len(),
            buf.len()
        );
    }
    println!("profile: {info}");
    println!(
        "last run: read buckets {:.1} ms, build profile {:.1} ms, encode + gzip {:.1} ms",
        parts[0], parts[1], parts[2]
    );
    summary("profile export", runs);
}
