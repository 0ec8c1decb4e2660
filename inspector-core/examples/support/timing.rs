//! Timing helpers shared by the benchmark examples (`whoalloc_bench`, `paths_bench`), included
//! with `#[path]` (this folder has no `main.rs`, so cargo does not build it as an example).

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
