//! The heap graph of a session: its roots ([`crate::runtime::roots`]) and what marking from
//! them reaches ([`super::mark`]), the reachable objects' types ([`super::objtypes`], from
//! typed globals and the typed roots of [`super::roottypes`]) and their histogram, computed
//! once per session ([`Session::heap_graph`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::histogram::Histogram;
use super::mark::{IndexInput, MarkInput, Reach};
use super::objtypes::{self, ObjectTypes};
use super::progress::{Phase, Progress};
use super::roottypes::{self, RootTypeInput};
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
    /// (index in `roots.list`, names of the DWARF variables typed in that stack root), by
    /// index ([`HeapGraph::root_variables`]).
    pub root_vars: Vec<(usize, Vec<Arc<str>>)>,
    /// Wall time of the phases after the heap walk and goroutines: enumerating and typing
    /// the roots (the marking index is built alongside); marking, objects typed as they are
    /// marked; typing before and after marking (the typed globals' and roots' targets, the
    /// final table). They add up to the graph's time.
    pub roots_time: Duration,
    pub mark_time: Duration,
    pub types_time: Duration,
    /// Part of `roots_time` spent finding the typed stack slots and finalizer objects.
    pub typed_roots_time: Duration,
}

impl HeapGraph {
    /// The names of the DWARF variables typed in root `i` of `roots.list` (a stack root).
    pub fn root_variables(&self, i: usize) -> &[Arc<str>] {
        match self.root_vars.binary_search_by_key(&i, |v| v.0) {
            Ok(k) => &self.root_vars[k].1,
            Err(_) => &[],
        }
    }

    /// Enumerate the roots of `s` and mark from them, telling `progress` each phase.
    pub fn compute(s: &Session, progress: Progress<'_>) -> Result<HeapGraph, SessionError> {
        let rt_err = |source: RuntimeError| SessionError::Runtime {
            path: s.core.path().to_path_buf(),
            source,
        };
        progress(Phase::Heap);
        // The heap walk and the goroutines' stacks do not depend on each other.
        let (heap, goroutines) = rayon::join(|| s.heap(), || s.goroutines());
        let (heap, goroutines) = (heap?, goroutines?);
        let objects = s.objects()?;
        let dwarf = s
            .exe
            .dwarf
            .as_ref()
            .ok_or_else(|| rt_err(LayoutError::NoDwarf.into()))?;
        let layouts = RootLayouts::resolve(dwarf, s.rt.version).map_err(|e| rt_err(e.into()))?;
        progress(Phase::Roots);
        let t0 = Instant::now();
        let tr = objects.types(s.memory());
        let index_input = IndexInput {
            mem: s.memory(),
            rt: &s.rt,
            heap: &heap,
            objects: &objects.layouts,
            layouts: &layouts,
        };
        // The roots and their types do not depend on the marking index: both at once.
        let (found, prepared) = rayon::join(
            || -> Result<_, SessionError> {
                let mut roots = Roots::enumerate(&RootInput {
                    mem: s.memory(),
                    exe: &s.exe,
                    rt: &s.rt,
                    layouts: &layouts,
                    objects: &objects.layouts,
                    heap: &heap,
                    goroutines: &goroutines,
                })
                .map_err(rt_err)?;
                // Typing starts from the typed globals and roots, before marking.
                let globals = typed_globals(dwarf, s.rt.bias, &roots);
                let t3 = Instant::now();
                let mut typed_roots = roottypes::compute(&RootTypeInput {
                    mem: s.memory(),
                    dwarf,
                    types: &tr,
                    bias: s.rt.bias,
                    goroutines: &goroutines,
                    roots: &roots,
                });
                let typed_roots_time = t3.elapsed();
                roots.problems.append(&mut typed_roots.problems);
                Ok((roots, globals, typed_roots, typed_roots_time))
            },
            || objtypes::prepare(&index_input),
        );
        let (roots, globals, typed_roots, typed_roots_time) = found?;
        let containers = ContainerLayouts::resolve(dwarf, s.rt.version);
        let roots_time = t0.elapsed();
        progress(Phase::Mark);
        let t2 = Instant::now();
        let (reach, types, mark_time) = objtypes::mark_and_type(
            prepared,
            MarkInput {
                index: index_input,
                types: tr,
                roots: &roots,
            },
            &objects.layouts.consts,
            &globals,
            &typed_roots.roots,
            &objtypes::Followers {
                containers: Some(&containers),
                pclntab: s.exe.pclntab(),
                dwarf: Some(dwarf),
                bias: s.rt.bias,
                // Where closures are made is read from amd64 code only.
                text: if s.exe.machine == object::elf::EM_X86_64.0 {
                    objects.module.text
                } else {
                    (0, 0)
                },
            },
        );
        let types_time = t2.elapsed().saturating_sub(mark_time);
        let histogram = Histogram::compute(&reach, &types);
        Ok(HeapGraph {
            roots,
            reach,
            types,
            histogram,
            root_vars: typed_roots.names,
            roots_time,
            mark_time,
            types_time,
            typed_roots_time,
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
