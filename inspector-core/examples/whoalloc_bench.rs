//! Benchmark of `whoalloc` and of the memory-profile export on one core:
//! `cargo run --release --example whoalloc_bench -- EXE CORE [N]`.
//!
//! Opens the session (timed), walks the heap once (untimed) only to pick N addresses spread
//! over the in-use spans (a pseudo-random slot, and an interior pointer into it, of N
//! pseudo-randomly chosen spans), then times `whoalloc` for each address (the first call also
//! resolves the object layouts), and the profile export: read every bucket, build and gzip the
//! profile.proto. Prints min / median / p99 / max. With `WHOALLOC_BENCH_ADDRS=FILE` it also
//! writes the addresses to FILE, one per line (bench/whoalloc.sh times them through the CLI).

use std::time::Instant;

use inspector_core::analysis::whoalloc::{self, Region};
use inspector_core::export::heap_profile::{heap_profile, DefaultSample, ProfileSource};
use inspector_core::export::pprof::write_gzipped;
use inspector_core::runtime::mprof;
use inspector_core::Session;

#[path = "support/bench.rs"]
mod bench;
use bench::{ms, summary};

fn main() {
    let (exe, core, n) = bench::args("whoalloc_bench", 1000);
    let t = Instant::now();
    let s = Session::open_core(&exe, &core).expect("open");
    println!("open: {:.1} ms", ms(t.elapsed()));

    let heap = s.heap().expect("heap walk");
    let mut slots = bench::Slots::new(&heap);
    let mut addrs = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let (slot, size) = slots.slot();
        addrs.push(slot);
        addrs.push(slot + (slots.next() % size.max(1)));
    }
    if let Some(f) = std::env::var_os("WHOALLOC_BENCH_ADDRS") {
        let list: String = addrs.iter().map(|a| format!("{a:#x}\n")).collect();
        std::fs::write(f, list).expect("write the address list");
    }
    println!(
        "picked {} addresses in {} of {} in-use spans",
        addrs.len(),
        n,
        slots.spans.len()
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
