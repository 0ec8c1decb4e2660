//! Benchmark of `paths` and `referrers` on one core:
//! `cargo run --release --example paths_bench -- EXE CORE [N]`.
//!
//! Opens the session and builds the heap graph (roots, marking, types; timed), then the
//! breadth-first parent tree and the reverse index (each timed, with its size), picks N
//! reachable objects (a pseudo-random slot of a pseudo-random in-use span, kept if reachable),
//! and times for each the shortest path (named, as `paths` prints it), up to 3 paths through
//! distinct referrers (`paths -all 3`) and its first 20 referrers (`referrers`). Prints
//! min / median / p99 / max.

use std::time::Instant;

use inspector_core::analysis::paths::{self, Namer};
use inspector_core::analysis::referrers::slot_bit;
use inspector_core::Session;

#[path = "support/bench.rs"]
mod bench;
use bench::{ms, summary};

fn main() {
    let (exe, core, n) = bench::args("paths_bench", 200);
    let s = Session::open_core(&exe, &core).expect("open");
    let t = Instant::now();
    let g = s.heap_graph().expect("heap graph");
    println!(
        "heap graph: {:.0} ms (roots {:.0}, mark {:.0}, types {:.0}; heap walk and goroutines included); {} reachable objects",
        ms(t.elapsed()),
        ms(g.roots_time),
        ms(g.mark_time),
        ms(g.types_time),
        g.reach.reachable_objects
    );
    let t = Instant::now();
    let tree = s.parent_tree().expect("parent tree");
    println!(
        "parent tree: {:.0} ms, {} levels, {} objects reached, {:.1} MB",
        ms(t.elapsed()),
        tree.levels,
        tree.reached,
        tree.heap_bytes() as f64 / 1e6
    );
    let t = Instant::now();
    let rev = s.reverse_index().expect("reverse index");
    println!(
        "reverse index: {:.0} ms, {} pointers, {:.1} MB",
        ms(t.elapsed()),
        rev.edges(),
        rev.heap_bytes() as f64 / 1e6
    );

    let heap = s.heap().expect("heap walk");
    let mut slots = bench::Slots::new(&heap);
    let mut addrs = Vec::with_capacity(n);
    for _ in 0..100 * n {
        if addrs.len() == n {
            break;
        }
        let (a, _) = slots.slot();
        if g.reach.is_reachable(a) == Some(true) {
            addrs.push(a);
        }
    }
    if let Some(a) = addrs.first() {
        println!("sample object: {a:#x}");
    }
    let o = s.objects().expect("object layouts");
    let namer = Namer::new(&g, s.memory(), o.types(s.memory()));
    let (mut one, mut three, mut refs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut hops, mut referrers) = (0usize, 0u64);
    for &a in &addrs {
        let bit = slot_bit(&g.reach, a).expect("slot");
        let t = Instant::now();
        let p = paths::shortest_paths(&tree, Some(&rev), bit, 1, paths::PATH_ENDS);
        let named: Vec<_> = p.iter().map(|p| namer.named_path(p)).collect();
        one.push(ms(t.elapsed()));
        hops += named.first().map_or(0, |p| p.length);
        let t = Instant::now();
        let p = paths::shortest_paths(&tree, Some(&rev), bit, 3, paths::PATH_ENDS);
        let _named: Vec<_> = p.iter().map(|p| namer.named_path(p)).collect();
        three.push(ms(t.elapsed()));
        let t = Instant::now();
        let r = paths::referrers(&namer, &rev, bit, 20);
        refs.push(ms(t.elapsed()));
        referrers += r.total;
    }
    println!(
        "{} reachable objects queried: {:.1} steps and {:.1} referrers on average",
        addrs.len(),
        hops as f64 / addrs.len().max(1) as f64,
        referrers as f64 / addrs.len().max(1) as f64
    );
    // The object with the most pointers to it: `paths -all 3` walks its referrers' chains.
    let (hub, hub_n) = (0..g.reach.slot_bits())
        .map(|b| (b, rev.count(b)))
        .max_by_key(|&(b, c)| (c, std::cmp::Reverse(b)))
        .unwrap_or((0, 0));
    let hub_obj = namer.object(hub);
    let t = Instant::now();
    let p = paths::shortest_paths(&tree, Some(&rev), hub, 3, paths::PATH_ENDS);
    let named: Vec<_> = p.iter().map(|p| namer.named_path(p)).collect();
    let d3 = ms(t.elapsed());
    let t = Instant::now();
    let r = paths::referrers(&namer, &rev, hub, 20);
    println!(
        "most referred-to object {:#x} ({}): {hub_n} pointers; paths -all 3: {d3:.3} ms ({} paths of {:?} steps); referrers: {:.3} ms ({} shown)",
        hub_obj.addr,
        hub_obj.type_name,
        named.len(),
        named.iter().map(|p| p.length).collect::<Vec<_>>(),
        ms(t.elapsed()),
        r.entries.len()
    );
    summary("paths", one);
    summary("paths -all 3", three);
    summary("referrers", refs);
}
