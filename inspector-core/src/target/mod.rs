//! Where bytes and threads come from: one memory-reader interface ([`Memory`]) and its
//! implementations. A core file is an overlay of the core's dumped segments over the
//! executable's file-backed ones ([`core_file`], [`overlay`]). Nothing here is Go-specific.

pub mod arch;
pub mod core_file;
pub mod decompress;
pub mod elf_image;
pub mod notes;
pub mod overlay;

use std::borrow::Cow;
use std::path::PathBuf;

pub use core_file::CoreFile;
pub use decompress::Compression;
pub use elf_image::LoadSegment;
pub use notes::ProcessInfo;
pub use overlay::{
    check_exe_matches, load_bias, CoreMemory, ExeCheck, ExeImage, Region, RegionSource,
};

/// An error reading target memory. Always names the address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("address {addr:#x} is not mapped in the target")]
    Unmapped { addr: u64 },
    #[error("address {addr:#x} is mapped but its contents were not dumped into the core")]
    NotDumped { addr: u64 },
    #[error("address range {addr:#x}+{len:#x} overflows the address space")]
    Overflow { addr: u64, len: u64 },
}

impl ReadError {
    /// The address the failed read was about.
    pub fn addr(&self) -> u64 {
        match *self {
            ReadError::Unmapped { addr }
            | ReadError::NotDumped { addr }
            | ReadError::Overflow { addr, .. } => addr,
        }
    }
}

/// Reads bytes of the target's address space. Implemented by core files (an mmap overlay)
/// and, later, by live processes. Implementations must be cheap to call from many threads.
pub trait Memory: Send + Sync {
    /// Fill `buf` with the bytes at `addr`. Fails if any byte is unavailable.
    fn read_at(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError>;

    /// `len` bytes at `addr`, borrowed without a copy when they lie in one mapped region
    /// (core files), otherwise copied.
    fn bytes(&self, addr: u64, len: usize) -> Result<Cow<'_, [u8]>, ReadError> {
        let mut v = vec![0u8; len];
        self.read_at(addr, &mut v)?;
        Ok(Cow::Owned(v))
    }

    /// `len` bytes at `addr` when they lie in one mapped region and can be borrowed without a
    /// copy (core files); `None` otherwise, nothing read.
    fn mapped(&self, _addr: u64, _len: usize) -> Option<&[u8]> {
        None
    }
}

/// Typed little-endian reads on top of [`Memory`]. amd64 and arm64 are both little-endian
/// with 8-byte pointers; a big-endian or 32-bit target would change this trait only.
pub trait MemoryExt: Memory {
    fn read_u8(&self, addr: u64) -> Result<u8, ReadError> {
        let mut b = [0u8; 1];
        self.read_at(addr, &mut b)?;
        Ok(b[0])
    }
    fn read_u16(&self, addr: u64) -> Result<u16, ReadError> {
        let mut b = [0u8; 2];
        self.read_at(addr, &mut b)?;
        Ok(u16::from_le_bytes(b))
    }
    fn read_u32(&self, addr: u64) -> Result<u32, ReadError> {
        let mut b = [0u8; 4];
        self.read_at(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn read_u64(&self, addr: u64) -> Result<u64, ReadError> {
        let mut b = [0u8; 8];
        self.read_at(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn read_ptr(&self, addr: u64) -> Result<u64, ReadError> {
        self.read_u64(addr)
    }
    /// An unsigned integer of `size` bytes (1, 2, 4 or 8), as DWARF describes a field.
    fn read_uint(&self, addr: u64, size: u64) -> Result<u64, ReadError> {
        Ok(match size {
            1 => self.read_u8(addr)? as u64,
            2 => self.read_u16(addr)? as u64,
            4 => self.read_u32(addr)? as u64,
            _ => self.read_u64(addr)?,
        })
    }
    /// A Go string header `{ptr, len}` at `addr`, its bytes read up to `max_len`.
    fn read_go_string(&self, addr: u64, max_len: usize) -> Result<String, ReadError> {
        let ptr = self.read_ptr(addr)?;
        let len = self.read_u64(addr + 8)?;
        let n = (len as usize).min(max_len);
        if n == 0 {
            return Ok(String::new());
        }
        let b = self.bytes(ptr, n)?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }
}

impl<T: Memory + ?Sized> MemoryExt for T {}

/// An OS thread of the target with its registers.
#[derive(Debug, Clone)]
pub struct Thread {
    pub tid: u32,
    pub regs: arch::Registers,
}

/// A file mapped into the target's address space (from the core's NT_FILE note).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedFile {
    pub start: u64,
    pub end: u64,
    /// Offset in the file, in bytes.
    pub file_offset: u64,
    pub path: String,
}

/// An in-memory [`Memory`] for unit tests: a list of (address, bytes) regions.
#[derive(Debug, Default, Clone)]
pub struct VecMemory {
    regions: Vec<(u64, Vec<u8>)>,
}

impl VecMemory {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, addr: u64, bytes: Vec<u8>) -> &mut Self {
        self.regions.push((addr, bytes));
        self
    }
}

impl Memory for VecMemory {
    fn read_at(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let len = buf.len() as u64;
        addr.checked_add(len)
            .ok_or(ReadError::Overflow { addr, len })?;
        for (base, data) in &self.regions {
            if addr >= *base && addr + len <= base + data.len() as u64 {
                let off = (addr - base) as usize;
                buf.copy_from_slice(&data[off..off + buf.len()]);
                return Ok(());
            }
        }
        Err(ReadError::Unmapped { addr })
    }
}

/// Why a core file (or a core/executable pair) cannot be used. Every message is one line that
/// names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot read core file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("core file {path} does not exist: check the path (goheap core <exe> <core>)")]
    Missing { path: PathBuf },
    #[error("core file {path} is empty: nothing was dumped; check `ulimit -c` and /proc/sys/kernel/core_pattern, then take the dump again")]
    Empty { path: PathBuf },
    #[error("{path} is not an ELF core file ({detail}): pass a core dump as the second argument (goheap core <exe> <core>)")]
    NotElf { path: PathBuf, detail: String },
    #[error("{path} is an ELF {kind}, not a core file: the executable comes first and the core second (goheap core <exe> <core>)")]
    NotCore { path: PathBuf, kind: &'static str },
    #[error(
        "core file {path} is for {machine}: goheap reads only x86-64 (amd64) little-endian cores"
    )]
    UnsupportedArch { path: PathBuf, machine: String },
    #[error("core file {path} is truncated: it has {has} bytes but needs {needs} for its {what}; the dump was cut short, take it again with enough disk space and `ulimit -c unlimited`")]
    Truncated {
        path: PathBuf,
        /// Which part of the file runs past its end ("ELF header", "program headers", "notes",
        /// "segments").
        what: &'static str,
        has: u64,
        needs: u64,
    },
    #[error(
        "core file {path} has malformed {what}: {detail}; the file is damaged, take the dump again"
    )]
    Malformed {
        path: PathBuf,
        what: &'static str,
        detail: String,
    },
    #[error(
        "core file {path} has malformed notes: {detail}; the file is damaged, take the dump again"
    )]
    BadNotes { path: PathBuf, detail: String },
    #[error("cannot decompress {path} ({format}): {detail}")]
    Decompress {
        path: PathBuf,
        format: &'static str,
        detail: String,
    },
    #[error("core {core} was not produced by {exe} ({id_kind} {core_id} in the core, {exe_id} in the executable): pass the executable that crashed")]
    ExeMismatch {
        core: PathBuf,
        exe: PathBuf,
        /// "Go build ID", "GNU build ID" or "ELF headers".
        id_kind: &'static str,
        core_id: String,
        exe_id: String,
    },
}
