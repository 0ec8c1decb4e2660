//! The Go runtime model: which Go version this is, where the runtime's globals live in the
//! target, and the layouts ([`layout`]) of the structures the engine reads. The heap walk is
//! in [`heap`], the runtime's own counters in [`memstats`].

pub mod goroutine_read;
pub mod goroutines;
pub mod heap;
pub mod labels;
pub mod layout;
pub mod memstats;
pub mod mprof;
pub mod objects;
pub mod roots;
pub mod spanof;
pub mod specials;
pub mod stackscan;
pub mod types;
pub mod unwind;

use crate::binary::buildinfo::GoVersion;
use crate::binary::Executable;
use crate::target::{Memory, MemoryExt, ReadError};
use layout::{LayoutError, Layouts};

/// The oldest and newest Go minor versions goheap knows.
pub const SUPPORTED_MINOR: std::ops::RangeInclusive<u32> = 21..=27;

/// Why the Go runtime of a target could not be modelled or read.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("cannot tell the Go version of this executable (build info says {0:?})")]
    NoVersion(String),
    #[error("Go {version} is not supported: goheap reads Go 1.21 through 1.27 (pass a binary built by one of those)")]
    Unsupported { version: String },
    #[error("reading {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: ReadError,
    },
    #[error("corrupted runtime metadata: {0}")]
    Corrupt(String),
}

impl RuntimeError {
    pub fn read(what: impl Into<String>) -> impl FnOnce(ReadError) -> RuntimeError {
        let what = what.into();
        move |source| RuntimeError::Read { what, source }
    }
}

/// Runtime addresses (load bias applied) of the globals the engine reads.
#[derive(Debug, Clone)]
pub struct RuntimeSymbols {
    pub mheap: u64,
    pub allp: u64,
    pub memstats: u64,
    pub gc_controller: u64,
    pub emptymspan: u64,
    /// `runtime.class_to_size` (≤1.24) or `internal/runtime/gc.SizeClassToSize` (1.25+).
    pub class_to_size: u64,
}

/// The runtime model of one executable, for a target loaded at `bias`.
#[derive(Debug, Clone)]
pub struct GoRuntime {
    pub version: GoVersion,
    pub layouts: Layouts,
    pub syms: RuntimeSymbols,
    pub bias: u64,
}

impl GoRuntime {
    /// Check the version, resolve layouts from DWARF and locate the runtime's globals.
    pub fn load(exe: &Executable, bias: u64) -> Result<GoRuntime, RuntimeError> {
        let version = exe
            .build_info
            .version()
            .ok_or_else(|| RuntimeError::NoVersion(exe.build_info.go_version.clone()))?;
        if version.major != 1 || !SUPPORTED_MINOR.contains(&version.minor) {
            return Err(RuntimeError::Unsupported {
                version: version.to_string(),
            });
        }
        let dwarf = exe.dwarf.as_ref().ok_or(LayoutError::NoDwarf)?;
        let layouts = Layouts::resolve(dwarf, version)?;
        let sym = |names: &[&str]| -> Result<u64, RuntimeError> {
            names
                .iter()
                .find_map(|n| exe.symbol(n).map(|s| s.addr + bias))
                .ok_or_else(|| {
                    RuntimeError::Layout(LayoutError::MissingSymbol {
                        name: names.join("|"),
                        version: version.to_string(),
                    })
                })
        };
        let syms = RuntimeSymbols {
            mheap: sym(&["runtime.mheap_"])?,
            allp: sym(&["runtime.allp"])?,
            memstats: sym(&["runtime.memstats"])?,
            gc_controller: sym(&["runtime.gcController"])?,
            emptymspan: sym(&["runtime.emptymspan"])?,
            class_to_size: sym(&[
                "internal/runtime/gc.SizeClassToSize",
                "runtime.class_to_size",
            ])?,
        };
        Ok(GoRuntime {
            version,
            layouts,
            syms,
            bias,
        })
    }

    /// The runtime's size-class table (`class_to_size`, 68 entries of uint16), read from the
    /// target and sanity-checked.
    pub fn class_sizes(&self, mem: &dyn Memory) -> Result<Vec<u64>, RuntimeError> {
        let n = self.layouts.consts.num_size_classes;
        let b = mem
            .bytes(self.syms.class_to_size, (n * 2) as usize)
            .map_err(RuntimeError::read("the size-class table"))?;
        let sizes: Vec<u64> = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) as u64)
            .collect();
        if sizes.first() != Some(&0) || sizes.get(1) != Some(&8) {
            return Err(RuntimeError::Corrupt(format!(
                "size-class table at {:#x} does not start 0, 8",
                self.syms.class_to_size
            )));
        }
        Ok(sizes)
    }

    /// Read a slice header `{ptr, len, cap}` at `addr`.
    pub fn read_slice(
        &self,
        mem: &dyn Memory,
        addr: u64,
        what: &str,
    ) -> Result<(u64, u64), RuntimeError> {
        let ptr = mem.read_ptr(addr).map_err(RuntimeError::read(what))?;
        let len = mem.read_u64(addr + 8).map_err(RuntimeError::read(what))?;
        Ok((ptr, len))
    }
}
