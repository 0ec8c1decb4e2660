//! Time reading every goroutine of a core (best of N fresh sessions):
//! `cargo run --release --example goroutine_timing -- EXE CORE [N]`.
use std::time::{Duration, Instant};

use inspector_core::Session;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(5);
    let (mut open, mut read) = (Duration::MAX, Duration::MAX);
    let mut summary = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let s = Session::open_core(args[0].as_ref(), args[1].as_ref()).expect("open");
        open = open.min(t.elapsed());
        let t = Instant::now();
        let gs = s.goroutines().expect("goroutines");
        read = read.min(t.elapsed());
        let frames: usize = gs.list.iter().map(|g| g.backtrace.frames.len()).sum();
        summary = format!("{} goroutines, {frames} frames", gs.list.len());
    }
    println!("best of {runs}: open {open:?}, goroutines {read:?} ({summary})");
}
