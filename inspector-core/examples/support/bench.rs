//! Helpers shared by the benchmark examples (`whoalloc_bench`, `paths_bench`): their arguments,
//! random heap slots to query and timing summaries. Included with `#[path]` (this folder has no `main.rs`, so cargo does
//! not build it as an example).

/// The arguments `EXE CORE [N]` (`N` defaults to `default_n`); exits with a usage line naming
/// `name` when they are missing.
pub fn args(name: &str, default_n: usize) -> (std::path::PathBuf, std::path::PathBuf, usize) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: {name} EXE CORE [N]");
        std::process::exit(2);
    }
    let n = args.get(2).map_or(default_n, |s| s.parse().expect("N"));
    (args[0].clone().into(), args[1].clone().into(), n)
}

/// A duration in milliseconds.
pub fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One line: count, min, median, p99 and max of `v` (milliseconds).
pub fn summary(name: &str, mut v: Vec<f64>) {
    if v.is_empty() {
        println!("{name}: no sample");
        return;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name}: n={} min {:.3} ms, median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        v.len(),
        v[0],
        at(0.5),
        at(0.99),
        v[v.len() - 1]
    );
}

/// Random slots of the in-use spans of a heap holding objects (a deterministic xorshift, so
/// every run queries the same addresses).
pub struct Slots<'h> {
    pub spans: Vec<&'h inspector_core::runtime::heap::Span>,
    x: u64,
}

impl<'h> Slots<'h> {
    pub fn new(heap: &'h inspector_core::runtime::heap::Heap) -> Self {
        use inspector_core::runtime::heap::SpanState;
        Slots {
            spans: heap
                .spans
                .iter()
                .filter(|sp| sp.state == SpanState::InUse && sp.allocated > 0)
                .collect(),
            x: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// The next pseudo-random number.
    pub fn next(&mut self) -> u64 {
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        self.x
    }

    /// A random slot of a random span: its address and the span's element size.
    pub fn slot(&mut self) -> (u64, u64) {
        let i = (self.next() % self.spans.len() as u64) as usize;
        let sp = self.spans[i];
        let slot = sp.base + (self.next() % sp.nelems.max(1) as u64) * sp.elemsize;
        (slot, sp.elemsize)
    }
}
