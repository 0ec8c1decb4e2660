//! The heap graph of a session: its roots ([`crate::runtime::roots`]) and what marking from
//! them reaches ([`super::mark`]), the reachable objects' types ([`super::objtypes`]) and their
//! histogram, computed once per session ([`Session::heap_graph`]).

use std::time::{Duration, Instant};

use super::histogram::Histogram;
use super::mark::{self, MarkInput, Reach};
use super::objtypes::{self, ObjectTypes};
use crate::binary::dwarf::{DwarfIndex, VariableType};
use crate::runtime::layout::{ContainerLayouts, LayoutError, RootLayouts};
use crate::runtime::roots::{RootInput, RootKind, Roots};
use crate::runtime::RuntimeError;
use crate::session::{Session, SessionError};

/// Roots and reachability.
#[derive(Debug, Clone)]
pub struct HeapGraph {
    pub roots: Roots,
    pub reach: Reach,
    /// Types of the reachable objects ([`objtypes`]) and the histogram built from them.
    pub types: ObjectTypes,
    pub histogram: Histogram,
    /// Time spent enumerating roots and marking (the heap walk and goroutines excluded).
    pub roots_time: Duration,
    pub mark_time: Duration,
    pub types_time: Duration,
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
        let mark_time = t1.elapsed();
        let t2 = Instant::now();
        let globals = typed_globals(dwarf, s.rt.bias, &roots);
        let containers = ContainerLayouts::resolve(dwarf, s.rt.version);
        let types = objtypes::compute_with(
            s.memory(),
            &objects.types(s.memory()),
            &objects.layouts.consts,
            &reach,
            &globals,
            &[],
            &objtypes::Followers {
                containers: Some(&containers),
                pclntab: s.exe.pclntab(),
                dwarf: Some(dwarf),
                bias: s.rt.bias,
            },
        );
        let histogram = Histogram::compute(&reach, &types);
        Ok(HeapGraph {
            roots,
            reach,
            types,
            histogram,
            roots_time,
            mark_time,
            types_time: t2.elapsed(),
        })
    }
}

/// (address, size, type) of each global that is a `data`/`bss` root and whose DWARF type
/// names its runtime type; addresses with the load bias applied.
fn typed_globals(dwarf: &DwarfIndex, bias: u64, roots: &Roots) -> Vec<(u64, u64, VariableType)> {
    let by_name: std::collections::HashMap<&str, (u64, u64)> = roots
        .list
        .iter()
        .filter(|r| matches!(r.kind, RootKind::Data | RootKind::Bss))
        .map(|r| (&*r.name, (r.addr, r.size)))
        .collect();
    dwarf
        .typed_variables()
        .into_iter()
        .filter_map(|(name, addr, typ)| {
            let &(a, size) = by_name.get(name.as_str())?;
            (a == addr.wrapping_add(bias)).then_some((a, size, typ))
        })
        .collect()
}
