//! The heap graph of a session: its roots ([`crate::runtime::roots`]) and what marking from
//! them reaches ([`super::mark`]), computed once per session ([`Session::heap_graph`]).

use std::time::{Duration, Instant};

use super::mark::{self, MarkInput, Reach};
use crate::runtime::layout::{LayoutError, RootLayouts};
use crate::runtime::roots::{RootInput, Roots};
use crate::runtime::RuntimeError;
use crate::session::{Session, SessionError};

/// Roots and reachability.
#[derive(Debug, Clone)]
pub struct HeapGraph {
    pub roots: Roots,
    pub reach: Reach,
    /// Time spent enumerating roots and marking (the heap walk and goroutines excluded).
    pub roots_time: Duration,
    pub mark_time: Duration,
}

impl HeapGraph {
    /// Enumerate the roots of `s` and mark from them.
    pub fn compute(s: &Session) -> Result<HeapGraph, SessionError> {
        let rt_err = |source: RuntimeError| SessionError::Runtime {
            path: s.core.path().to_path_buf(),
            source,
        };
        let heap = s.heap()?;
        let goroutines = s.goroutines()?;
        let objects = s.objects()?;
        let dwarf = s
            .exe
            .dwarf
            .as_ref()
            .ok_or_else(|| rt_err(LayoutError::NoDwarf.into()))?;
        let layouts = RootLayouts::resolve(dwarf, s.rt.version).map_err(|e| rt_err(e.into()))?;
        let t0 = Instant::now();
        let roots = Roots::enumerate(&RootInput {
            mem: s.memory(),
            exe: &s.exe,
            rt: &s.rt,
            layouts: &layouts,
            objects: &objects.layouts,
            heap: &heap,
            goroutines: &goroutines,
        })
        .map_err(rt_err)?;
        let roots_time = t0.elapsed();
        let t1 = Instant::now();
        let reach = mark::mark(MarkInput {
            mem: s.memory(),
            rt: &s.rt,
            heap: &heap,
            objects: &objects.layouts,
            layouts: &layouts,
            types: objects.types(s.memory()),
            roots: &roots,
        });
        Ok(HeapGraph {
            roots,
            reach,
            roots_time,
            mark_time: t1.elapsed(),
        })
    }
}
