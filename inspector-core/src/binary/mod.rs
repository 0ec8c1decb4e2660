//! The executable: ELF sections and symbols (`object`), DWARF ([`dwarf`]), the Go build info
//! ([`buildinfo`]) and the pclntab function table ([`pclntab`]). Addresses here are link-time
//! addresses; a position-independent executable's load bias is applied by the session.

pub mod buildinfo;
pub mod dwarf;
pub mod pclntab;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use object::{Object, ObjectSection, ObjectSymbol};

pub use buildinfo::BuildInfo;
pub use dwarf::DwarfIndex;
pub use pclntab::Pclntab;

/// Why an executable could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    #[error("cannot open executable {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is empty: pass the Go executable that produced the core")]
    Empty { path: PathBuf },
    #[error(
        "{path} is not an ELF executable ({detail}): pass the Go executable that produced the core"
    )]
    NotElf { path: PathBuf, detail: String },
    #[error("{path} is a core file (or a compressed file), not an executable: the executable comes first (goheap core <exe> <core>)")]
    IsCore { path: PathBuf },
    #[error("{path} is not a Go executable (no .go.buildinfo section): goheap inspects Go programs only")]
    NotGo { path: PathBuf },
    #[error("{path}: malformed Go build info: {detail}")]
    BadBuildInfo { path: PathBuf, detail: String },
    #[error("{path}: malformed pclntab: {detail}")]
    BadPclntab { path: PathBuf, detail: String },
    #[error("{path}: malformed DWARF: {detail}")]
    BadDwarf { path: PathBuf, detail: String },
}

/// An ELF symbol (function or data object).
#[derive(Debug, Clone)]
pub struct Symbol {
    pub name: String,
    pub addr: u64,
    pub size: u64,
    pub is_text: bool,
}

/// A memory-mapped Go executable.
pub struct Executable {
    pub path: PathBuf,
    map: Arc<Mmap>,
    /// ELF `e_type == ET_DYN` (built with -buildmode=pie).
    pub is_pie: bool,
    /// ELF entry point (link-time).
    pub entry: u64,
    /// ELF `e_machine`.
    pub machine: u16,
    pub build_info: BuildInfo,
    /// Symbols sorted by address.
    symbols: Vec<Symbol>,
    by_name: std::collections::HashMap<String, usize>,
    /// None when the binary was built without DWARF (-ldflags=-w) or stripped.
    pub dwarf: Option<DwarfIndex>,
    pclntab: Option<Pclntab>,
    sections: Vec<(String, u64, u64)>,
}

impl std::fmt::Debug for Executable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executable")
            .field("path", &self.path)
            .finish()
    }
}

impl Executable {
    /// Map and parse an executable. Fails with one clear line for anything that is not a
    /// Go ELF executable.
    pub fn open(path: &Path) -> Result<Executable, BinaryError> {
        let io = |source| BinaryError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len == 0 {
            return Err(BinaryError::Empty {
                path: path.to_path_buf(),
            });
        }
        // SAFETY: the executable is mapped read-only; goheap never writes through the map. As with
        // any file mapping, another process truncating the file while we run is outside our contract.
        let map = Arc::new(unsafe { Mmap::map(&file) }.map_err(io)?);
        Self::from_map(path, map)
    }

    fn from_map(path: &Path, map: Arc<Mmap>) -> Result<Executable, BinaryError> {
        let p = || path.to_path_buf();
        let data: &[u8] = &map;
        if data.starts_with(&[0x1f, 0x8b]) || data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            return Err(BinaryError::IsCore { path: p() });
        }
        if data.len() < 4 || &data[..4] != b"\x7fELF" {
            return Err(BinaryError::NotElf {
                path: p(),
                detail: "no ELF magic".into(),
            });
        }
        let obj = object::File::parse(data).map_err(|e| BinaryError::NotElf {
            path: p(),
            detail: e.to_string(),
        })?;
        let (is_pie, machine) = match &obj {
            object::File::Elf64(elf) => {
                let h = elf.elf_header();
                let e = elf.endian();
                let ty = h.e_type.get(e);
                if ty == object::elf::ET_CORE {
                    return Err(BinaryError::IsCore { path: p() });
                }
                (ty == object::elf::ET_DYN, h.e_machine.get(e).0)
            }
            _ => {
                return Err(BinaryError::NotElf {
                    path: p(),
                    detail: "not a 64-bit ELF file".into(),
                })
            }
        };
        let bi_sec = obj
            .section_by_name(".go.buildinfo")
            .ok_or(BinaryError::NotGo { path: p() })?;
        let bi_data = bi_sec.data().map_err(|e| BinaryError::BadBuildInfo {
            path: p(),
            detail: e.to_string(),
        })?;
        let build_info = buildinfo::parse(bi_data)
            .map_err(|detail| BinaryError::BadBuildInfo { path: p(), detail })?;

        let mut symbols: Vec<Symbol> = obj
            .symbols()
            .filter_map(|s| {
                let name = s.name().ok()?;
                if name.is_empty() || s.address() == 0 {
                    return None;
                }
                Some(Symbol {
                    name: name.to_string(),
                    addr: s.address(),
                    size: s.size(),
                    is_text: s.kind() == object::SymbolKind::Text,
                })
            })
            .collect();
        symbols.sort_by_key(|s| s.addr);
        let by_name = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let sections = obj
            .sections()
            .filter_map(|s| Some((s.name().ok()?.to_string(), s.address(), s.size())))
            .collect();

        let dwarf =
            DwarfIndex::load(&obj).map_err(|detail| BinaryError::BadDwarf { path: p(), detail })?;

        // Finds .gopclntab (.data.rel.ro.gopclntab in PIE ≤ 1.25), the text start
        // (runtime.text) and go:func.* for inline trees; see Pclntab::from_object.
        let pclntab = Pclntab::from_object(&obj)
            .map_err(|detail| BinaryError::BadPclntab { path: p(), detail })?;

        Ok(Executable {
            path: p(),
            is_pie,
            entry: obj.entry(),
            machine,
            build_info,
            symbols,
            by_name,
            dwarf,
            pclntab,
            sections,
            map: map.clone(),
        })
    }

    /// The whole mapped file.
    pub fn data(&self) -> &[u8] {
        &self.map
    }
    /// A shared handle to the mapping (the core overlay reads file-backed segments from it).
    pub fn mapping(&self) -> Arc<Mmap> {
        self.map.clone()
    }
    /// Link-time address of a symbol.
    pub fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.by_name.get(name).map(|&i| &self.symbols[i])
    }
    /// The symbol containing (or nearest below) a link-time address.
    pub fn symbol_at(&self, addr: u64) -> Option<&Symbol> {
        let i = self.symbols.partition_point(|s| s.addr <= addr);
        let s = self.symbols.get(i.checked_sub(1)?)?;
        (addr < s.addr + s.size.max(1)).then_some(s)
    }
    /// Symbols starting in the link-time range `[lo, hi)`, sorted by address.
    pub fn symbols_in(&self, lo: u64, hi: u64) -> &[Symbol] {
        let a = self.symbols.partition_point(|s| s.addr < lo);
        let b = self.symbols.partition_point(|s| s.addr < hi);
        &self.symbols[a..b.max(a)]
    }
    /// A section's link-time address range by name.
    pub fn section(&self, name: &str) -> Option<(u64, u64)> {
        self.sections
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, a, s)| (*a, *s))
    }
    /// The name of the allocated section holding a link-time address.
    pub fn section_at(&self, addr: u64) -> Option<&str> {
        self.sections
            .iter()
            .find(|(n, a, s)| !n.is_empty() && *a != 0 && *a <= addr && addr - a < *s)
            .map(|(n, _, _)| n.as_str())
    }
    pub fn pclntab(&self) -> Option<&Pclntab> {
        self.pclntab.as_ref()
    }
    /// The Go version, e.g. "go1.22.10".
    pub fn go_version(&self) -> &str {
        &self.build_info.go_version
    }
}
