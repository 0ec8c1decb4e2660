//! `histogram`: every allocated heap object grouped by type ([`super::objtypes`]). Reachable
//! objects of a known type give one row per type name; reachable objects of unknown type one
//! row per size class and scan/noscan (large objects: one per scan/noscan); garbage one row.
//! The rows therefore add up to the heap walk's allocated objects and bytes. Bytes are slot
//! bytes (the size class, or the large object's span bytes), as the heap walk counts them.
//! Rows are selected by a regular expression over their names ([`type_regex`]).

use rayon::prelude::*;
use regex::Regex;

use super::mark::{bit, Reach};
use super::objtypes::{display_name, ObjectTypes, TypeSource};

/// What a row groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Typed,
    Unknown,
    Garbage,
}

/// One histogram row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistoRow {
    #[serde(rename = "type")]
    pub type_name: String,
    pub kind: RowKind,
    pub count: u64,
    pub bytes: u64,
    /// Objects of the row by how their type was learned (typed rows only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<(TypeSource, u64)>,
}

impl HistoRow {
    pub fn average(&self) -> u64 {
        self.bytes.checked_div(self.count).unwrap_or(0)
    }
}

/// The whole histogram.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Every row, by bytes (largest first), then name.
    pub rows: Vec<HistoRow>,
    pub live_bytes: u64,
    pub total_objects: u64,
    pub total_bytes: u64,
    pub typed_objects: u64,
    pub typed_bytes: u64,
}

/// Row order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Bytes,
    Count,
}

impl Histogram {
    /// Group every allocated object.
    pub fn compute(reach: &Reach, types: &ObjectTypes) -> Histogram {
        let (spans, alloc, marks) = reach.index();
        // Typed: per type index, single and multi-element; unknown: per span class. Spans in
        // parallel chunks, each with its own counts.
        #[derive(Clone)]
        struct Counts {
            typed: Vec<[u64; 2 + TypeSource::ALL.len()]>,
            unknown: Vec<[u64; 2]>,
            garbage: [u64; 2],
        }
        let empty = || Counts {
            typed: vec![[0u64; 2 + TypeSource::ALL.len()]; types.types.len() * 2],
            unknown: vec![[0u64; 2]; 256],
            garbage: [0; 2],
        };
        let Counts {
            typed,
            unknown,
            garbage,
        } = spans
            .par_chunks(1024)
            .fold(empty, |mut c, chunk| {
                for s in chunk {
                    for slot in 0..u64::from(s.nelems) {
                        let b = s.bit + slot;
                        if !bit(alloc, b) {
                            continue;
                        }
                        if !bit(marks, b) {
                            c.garbage[0] += 1;
                            c.garbage[1] += s.elemsize;
                            continue;
                        }
                        match types.slot(b) {
                            Some((ti, how, multi)) => {
                                let r = &mut c.typed[ti * 2 + usize::from(multi)];
                                r[0] += 1;
                                r[1] += s.elemsize;
                                r[2 + how as usize] += 1;
                            }
                            None => {
                                let r = &mut c.unknown[s.spanclass as usize];
                                r[0] += 1;
                                r[1] += s.elemsize;
                            }
                        }
                    }
                }
                c
            })
            .reduce(empty, |mut a, b| {
                for (x, y) in a.typed.iter_mut().zip(&b.typed) {
                    for (p, q) in x.iter_mut().zip(y) {
                        *p += q;
                    }
                }
                for (x, y) in a.unknown.iter_mut().zip(&b.unknown) {
                    x[0] += y[0];
                    x[1] += y[1];
                }
                a.garbage[0] += b.garbage[0];
                a.garbage[1] += b.garbage[1];
                a
            });
        let mut h = Histogram {
            live_bytes: reach.reachable_bytes,
            ..Histogram::default()
        };
        // Rows by display name (two type descriptors may share a name).
        let mut by_name: std::collections::BTreeMap<String, HistoRow> = Default::default();
        for (k, r) in typed.iter().enumerate() {
            if r[0] == 0 {
                continue;
            }
            let name = display_name(&types.types[k / 2], k % 2 == 1);
            let row = by_name.entry(name.clone()).or_insert_with(|| HistoRow {
                type_name: name,
                kind: RowKind::Typed,
                count: 0,
                bytes: 0,
                sources: Vec::new(),
            });
            row.count += r[0];
            row.bytes += r[1];
            for (i, src) in TypeSource::ALL.iter().enumerate() {
                let n = r[2 + i];
                if n == 0 {
                    continue;
                }
                match row.sources.iter_mut().find(|(s, _)| s == src) {
                    Some(e) => e.1 += n,
                    None => row.sources.push((*src, n)),
                }
            }
            h.typed_objects += r[0];
            h.typed_bytes += r[1];
        }
        h.rows.extend(by_name.into_values());
        let class_size = |sc: usize| {
            spans
                .iter()
                .find(|s| s.spanclass as usize == sc)
                .map_or(0, |s| s.elemsize)
        };
        for (sc, r) in unknown.iter().enumerate() {
            if r[0] == 0 {
                continue;
            }
            h.rows.push(HistoRow {
                type_name: unknown_name(sc as u8, class_size(sc)),
                kind: RowKind::Unknown,
                count: r[0],
                bytes: r[1],
                sources: Vec::new(),
            });
        }
        if garbage[0] > 0 {
            h.rows.push(HistoRow {
                type_name: "garbage".into(),
                kind: RowKind::Garbage,
                count: garbage[0],
                bytes: garbage[1],
                sources: Vec::new(),
            });
        }
        h.total_objects = h.rows.iter().map(|r| r.count).sum();
        h.total_bytes = h.rows.iter().map(|r| r.bytes).sum();
        h.sort(SortBy::Bytes);
        h
    }

    /// Sort the rows, largest first (ties by name).
    pub fn sort(&mut self, by: SortBy) {
        self.rows.sort_by(|a, b| {
            let (x, y) = match by {
                SortBy::Bytes => (a.bytes, b.bytes),
                SortBy::Count => (a.count, b.count),
            };
            y.cmp(&x).then_with(|| a.type_name.cmp(&b.type_name))
        });
    }

    /// The rows whose name `filter` matches (anywhere in the name, as `grep` does; all rows if
    /// `None`), at most `top` of them.
    pub fn select(&self, filter: Option<&Regex>, top: Option<usize>) -> Vec<&HistoRow> {
        self.rows
            .iter()
            .filter(|r| filter.is_none_or(|re| re.is_match(&r.type_name)))
            .take(top.unwrap_or(usize::MAX))
            .collect()
    }

    /// A row's share of the live heap, in percent (`None` for the garbage row).
    pub fn percent_of_live(&self, r: &HistoRow) -> Option<f64> {
        (r.kind != RowKind::Garbage && self.live_bytes > 0)
            .then(|| r.bytes as f64 * 100.0 / self.live_bytes as f64)
    }
}

/// The name of the row of reachable objects of unknown type in span class `spanclass` (size
/// class and noscan bit) whose slots are `elemsize` bytes: `unknown (class 5, 48 B, scan)`,
/// `unknown (large, noscan)`.
pub fn unknown_name(spanclass: u8, elemsize: u64) -> String {
    let scan = if spanclass & 1 == 0 { "scan" } else { "noscan" };
    if spanclass >> 1 == 0 {
        format!("unknown (large, {scan})")
    } else {
        format!("unknown (class {}, {elemsize} B, {scan})", spanclass >> 1)
    }
}

/// A `-type` pattern that is not a regular expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("-type {pattern:?} is not a regular expression: {reason}")]
pub struct BadTypeRegex {
    pub pattern: String,
    pub reason: String,
}

/// Compile a `-type` pattern (the `regex` crate's syntax, unanchored: `main\.` matches every
/// type of package main, `^\[\]` every slice backing array). The error is one line.
pub fn type_regex(pattern: &str) -> Result<Regex, BadTypeRegex> {
    Regex::new(pattern).map_err(|e| {
        // regex's syntax errors span several lines (the pattern, a caret, `error: ...`):
        // keep the reason.
        let text = e.to_string();
        let reason = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("error: "))
            .unwrap_or_else(|| text.lines().last().unwrap_or("invalid"))
            .trim()
            .to_string();
        BadTypeRegex {
            pattern: pattern.to_string(),
            reason,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, count: u64, bytes: u64) -> HistoRow {
        HistoRow {
            type_name: name.into(),
            kind: RowKind::Typed,
            count,
            bytes,
            sources: Vec::new(),
        }
    }

    #[test]
    fn sort_select_and_percent() {
        let mut h = Histogram {
            rows: vec![row("a", 10, 100), row("b", 1, 400), row("ab", 5, 100)],
            live_bytes: 600,
            ..Histogram::default()
        };
        h.sort(SortBy::Bytes);
        let names: Vec<_> = h.rows.iter().map(|r| r.type_name.as_str()).collect();
        assert_eq!(names, ["b", "a", "ab"]);
        h.sort(SortBy::Count);
        let names: Vec<_> = h.rows.iter().map(|r| r.type_name.as_str()).collect();
        assert_eq!(names, ["a", "ab", "b"]);
        let a = type_regex("a").unwrap();
        assert_eq!(h.select(Some(&a), Some(1)).len(), 1);
        assert_eq!(h.select(Some(&a), None).len(), 2);
        // A regular expression, not a substring: anchors and alternations work.
        let names = |re: &str| {
            let re = type_regex(re).unwrap();
            let mut v: Vec<_> = h
                .select(Some(&re), None)
                .iter()
                .map(|r| r.type_name.clone())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names("^a$"), ["a"]);
        assert_eq!(names("^(a|b)$"), ["a", "b"]);
        assert_eq!(names("b$"), ["ab", "b"]);
        assert!(names("^x").is_empty());
        assert_eq!(h.select(None, None).len(), 3);
        assert_eq!(h.percent_of_live(&h.rows[2]), Some(400.0 * 100.0 / 600.0));
        assert_eq!(h.rows[0].average(), 10);
    }

    #[test]
    fn bad_regex_is_one_line() {
        let e = type_regex("main.(").unwrap_err();
        assert_eq!(e.pattern, "main.(");
        let m = e.to_string();
        assert!(!m.contains('\n'), "{m}");
        assert!(m.contains("unclosed group"), "{m}");
        let e = type_regex("[z-a]").unwrap_err().to_string();
        assert!(!e.contains('\n') && e.contains("invalid"), "{e}");
        assert!(type_regex(r"unknown \(class 5,").is_ok());
    }

    #[test]
    fn unknown_row_names() {
        assert_eq!(unknown_name(10, 48), "unknown (class 5, 48 B, scan)");
        assert_eq!(unknown_name(11, 48), "unknown (class 5, 48 B, noscan)");
        assert_eq!(unknown_name(0, 0), "unknown (large, scan)");
        assert_eq!(unknown_name(1, 8192), "unknown (large, noscan)");
    }
}
