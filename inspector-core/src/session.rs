//! A session: one executable and one target (a core file now, a live process later), with the
//! Go runtime model built on them. Expensive results (the heap walk) are computed once, on
//! first use, and shared.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::analysis::heapgraph::HeapGraph;
use crate::analysis::paths::ParentTree;
use crate::analysis::referrers::ReverseIndex;
use crate::binary::{BinaryError, Executable};
use crate::runtime::goroutine_read::ReadInput;
use crate::runtime::goroutines::Goroutines;
use crate::runtime::heap::Heap;
use crate::runtime::memstats::RuntimeCounters;
use crate::runtime::objects::ObjectRuntime;
use crate::runtime::{GoRuntime, RuntimeError};
use crate::target::TargetError;
use crate::target::{
    check_exe_matches, load_bias, CoreFile, CoreMemory, ExeCheck, ExeImage, Memory,
};

/// Why a session could not be opened, or a question about it not answered.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Binary(#[from] BinaryError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{path}: {source}")]
    Runtime {
        path: PathBuf,
        #[source]
        source: RuntimeError,
    },
    #[error("{0} has architecture {1}, goheap reads amd64 (x86-64) only for now")]
    Arch(PathBuf, u16),
}

/// An open executable + core pair.
pub struct Session {
    pub exe: Executable,
    pub core: Arc<CoreFile>,
    mem: CoreMemory,
    pub rt: GoRuntime,
    /// How the executable was matched to the core.
    pub exe_check: ExeCheck,
    heap: Mutex<Option<Arc<Heap>>>,
    goroutines: Mutex<Option<Arc<Goroutines>>>,
    objects: Mutex<Option<Arc<ObjectRuntime>>>,
    heap_graph: Mutex<Option<Arc<HeapGraph>>>,
    parent_tree: Mutex<Option<Arc<ParentTree>>>,
    reverse_index: Mutex<Option<Arc<ReverseIndex>>>,
}

impl Session {
    /// Open `exe` and the core it produced.
    pub fn open_core(exe_path: &Path, core_path: &Path) -> Result<Session, SessionError> {
        let exe = Executable::open(exe_path)?;
        if exe.machine != crate::target::arch::EM_X86_64 {
            return Err(SessionError::Arch(exe_path.to_path_buf(), exe.machine));
        }
        let core = Arc::new(CoreFile::open(core_path)?);
        let bias = load_bias(&core, exe.entry, exe.is_pie);
        let exe_check = check_exe_matches(&core, exe_path, exe.data(), bias)?;
        let rt = GoRuntime::load(&exe, bias).map_err(|source| SessionError::Runtime {
            path: exe_path.to_path_buf(),
            source,
        })?;
        let image = ExeImage::new(exe.mapping(), bias).map_err(|detail| {
            SessionError::Binary(BinaryError::NotElf {
                path: exe_path.to_path_buf(),
                detail,
            })
        })?;
        let mem = CoreMemory::new(core.clone(), Some(image));
        Ok(Session {
            exe,
            core,
            mem,
            rt,
            exe_check,
            heap: Mutex::new(None),
            goroutines: Mutex::new(None),
            objects: Mutex::new(None),
            heap_graph: Mutex::new(None),
            parent_tree: Mutex::new(None),
            reverse_index: Mutex::new(None),
        })
    }

    /// The target's memory.
    pub fn memory(&self) -> &dyn Memory {
        &self.mem
    }

    fn runtime_err(&self, source: RuntimeError) -> SessionError {
        SessionError::Runtime {
            path: self.core.path().to_path_buf(),
            source,
        }
    }

    /// The heap walk (computed on first use).
    pub fn heap(&self) -> Result<Arc<Heap>, SessionError> {
        let mut slot = self.heap.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = slot.as_ref() {
            return Ok(h.clone());
        }
        let h = Arc::new(Heap::walk(&self.mem, &self.rt).map_err(|e| self.runtime_err(e))?);
        *slot = Some(h.clone());
        Ok(h)
    }

    /// Every goroutine with its backtrace (computed on first use; see
    /// [`crate::runtime::goroutines`]).
    pub fn goroutines(&self) -> Result<Arc<Goroutines>, SessionError> {
        let mut slot = self.goroutines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(g) = slot.as_ref() {
            return Ok(g.clone());
        }
        let input = ReadInput {
            mem: &self.mem,
            exe: &self.exe,
            rt: &self.rt,
            threads: self.core.threads(),
        };
        let g = Arc::new(Goroutines::read(&input).map_err(|e| self.runtime_err(e))?);
        *slot = Some(g.clone());
        Ok(g)
    }

    /// Object-inspection layouts, profiler symbols and module ranges (resolved on first use,
    /// separately from the heap's, so heap commands work even if these cannot be resolved).
    pub fn objects(&self) -> Result<Arc<ObjectRuntime>, SessionError> {
        let mut slot = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(o) = slot.as_ref() {
            return Ok(o.clone());
        }
        let o = ObjectRuntime::load(&self.exe, &self.rt, &self.mem);
        let o = Arc::new(o.map_err(|e| self.runtime_err(e))?);
        *slot = Some(o.clone());
        Ok(o)
    }

    /// Roots and reachability of every heap object (computed on first use; see
    /// [`crate::analysis::heapgraph`]).
    pub fn heap_graph(&self) -> Result<Arc<HeapGraph>, SessionError> {
        self.heap_graph_with(&crate::analysis::progress::quiet)
    }

    /// [`Session::heap_graph`], telling `progress` each phase when it is computed.
    pub fn heap_graph_with(
        &self,
        progress: crate::analysis::progress::Progress<'_>,
    ) -> Result<Arc<HeapGraph>, SessionError> {
        let mut slot = self.heap_graph.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(g) = slot.as_ref() {
            return Ok(g.clone());
        }
        let g = Arc::new(HeapGraph::compute(self, progress)?);
        *slot = Some(g.clone());
        Ok(g)
    }

    /// Shortest-path parents of every reachable object (built on first use, after the heap
    /// graph; see [`crate::analysis::paths`]).
    pub fn parent_tree(&self) -> Result<Arc<ParentTree>, SessionError> {
        let g = self.heap_graph()?;
        let mut slot = self.parent_tree.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = slot.as_ref() {
            return Ok(t.clone());
        }
        let t = Arc::new(ParentTree::build(&g, self.memory()));
        *slot = Some(t.clone());
        Ok(t)
    }

    /// Who points at every reachable object (built on first use, after the heap graph; see
    /// [`crate::analysis::referrers`]).
    pub fn reverse_index(&self) -> Result<Arc<ReverseIndex>, SessionError> {
        let g = self.heap_graph()?;
        let mut slot = self.reverse_index.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = slot.as_ref() {
            return Ok(r.clone());
        }
        let r = Arc::new(ReverseIndex::build(&g, self.memory()));
        *slot = Some(r.clone());
        Ok(r)
    }

    /// The runtime's own counters, as ReadMemStats would report them now.
    pub fn runtime_counters(&self) -> Result<RuntimeCounters, SessionError> {
        RuntimeCounters::read(&self.mem, &self.rt).map_err(|e| self.runtime_err(e))
    }
}
