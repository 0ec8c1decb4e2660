//! Generic ELF64 little-endian program-header parsing shared by core files and executables:
//! the file header, PT_LOAD segments and the bytes of PT_NOTE segments. Nothing here knows
//! about cores or Go; callers turn the `String` errors into their own error types.

use object::elf::{FileHeader64, ProgramHeader64, ELFCLASS64, ELFDATA2LSB, PT_LOAD, PT_NOTE};
use object::read::elf::{FileHeader, ProgramHeader};
use object::LittleEndian as LE;

/// Size of an ELF64 file header.
pub const EHDR_SIZE: u64 = 64;
/// Size of an ELF64 program header.
pub const PHDR_SIZE: u64 = 56;

/// A PT_LOAD program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    pub vaddr: u64,
    pub memsz: u64,
    pub file_offset: u64,
    pub filesz: u64,
    /// `PF_X | PF_W | PF_R` bits.
    pub flags: u32,
}

impl LoadSegment {
    /// One past the last mapped address (saturating at the top of the address space).
    pub fn end(&self) -> u64 {
        self.vaddr.saturating_add(self.memsz)
    }
    /// One past the last address whose bytes are in the file.
    pub fn file_backed_end(&self) -> u64 {
        self.vaddr.saturating_add(self.filesz)
    }
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.vaddr && addr < self.end()
    }
    pub fn is_readable(&self) -> bool {
        self.flags & object::elf::PF_R.0 != 0
    }
    pub fn is_writable(&self) -> bool {
        self.flags & object::elf::PF_W.0 != 0
    }
    pub fn is_executable(&self) -> bool {
        self.flags & object::elf::PF_X.0 != 0
    }
}

/// The ELF64 file-header fields the target layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfHeader {
    pub e_type: u16,
    pub machine: u16,
    /// Link-time entry point.
    pub entry: u64,
    pub phoff: u64,
    /// Number of program headers (extended numbering via section 0 resolved).
    pub phnum: u64,
    pub phentsize: u16,
}

impl ElfHeader {
    /// File offset one past the program-header table (None on overflow).
    pub fn phdrs_end(&self) -> Option<u64> {
        self.phnum
            .checked_mul(PHDR_SIZE)
            .and_then(|n| n.checked_add(self.phoff))
    }
}

/// A PT_NOTE segment and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct NoteSegment<'a> {
    /// Link-time address (0 in core files).
    pub vaddr: u64,
    pub file_offset: u64,
    /// `p_align` (4 or 8).
    pub align: u64,
    pub data: &'a [u8],
}

fn elf_header(data: &[u8]) -> Result<&FileHeader64<LE>, String> {
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        return Err("no ELF magic".into());
    }
    if data.len() < EHDR_SIZE as usize {
        return Err(format!(
            "ELF header needs 64 bytes, file has {}",
            data.len()
        ));
    }
    if data[4] != ELFCLASS64.0 || data[5] != ELFDATA2LSB.0 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    FileHeader64::<LE>::parse(data).map_err(|e| e.to_string())
}

/// Parse the ELF64 little-endian file header.
pub fn header(data: &[u8]) -> Result<ElfHeader, String> {
    let h = elf_header(data)?;
    let e = LE;
    let phnum = h.phnum(e, data).map_err(|e| e.to_string())?;
    Ok(ElfHeader {
        e_type: h.e_type(e).0,
        machine: h.e_machine(e).0,
        entry: h.e_entry(e),
        phoff: h.e_phoff(e),
        phnum: phnum.into(),
        phentsize: h.e_phentsize(e),
    })
}

/// All program headers, bounds-checked against the file.
fn program_headers(data: &[u8]) -> Result<&[ProgramHeader64<LE>], String> {
    let h = elf_header(data)?;
    h.program_headers(LE, data).map_err(|e| e.to_string())
}

/// The PT_LOAD segments, in file order.
pub fn load_segments(data: &[u8]) -> Result<Vec<LoadSegment>, String> {
    let e = LE;
    Ok(program_headers(data)?
        .iter()
        .filter(|p| p.p_type(e) == PT_LOAD)
        .map(|p| LoadSegment {
            vaddr: p.p_vaddr(e),
            memsz: p.p_memsz(e),
            file_offset: p.p_offset(e),
            filesz: p.p_filesz(e),
            flags: p.p_flags(e).0,
        })
        .collect())
}

/// The PT_NOTE segments with their bytes. Fails if one lies outside the file.
pub fn note_segments(data: &[u8]) -> Result<Vec<NoteSegment<'_>>, String> {
    let e = LE;
    program_headers(data)?
        .iter()
        .filter(|p| p.p_type(e) == PT_NOTE)
        .map(|p| {
            let bytes = p
                .data(e, data)
                .map_err(|()| "PT_NOTE segment lies outside the file".to_string())?;
            Ok(NoteSegment {
                vaddr: p.p_vaddr(e),
                file_offset: p.p_offset(e),
                align: p.p_align(e),
                data: bytes,
            })
        })
        .collect()
}

/// The file offset one past the end of every PT_LOAD and PT_NOTE segment's file range (the
/// size a complete file needs), or an error if a range overflows.
pub fn required_len(data: &[u8]) -> Result<u64, String> {
    let e = LE;
    let mut need = 0u64;
    for p in program_headers(data)? {
        let ty = p.p_type(e);
        if ty != PT_LOAD && ty != PT_NOTE {
            continue;
        }
        let end = p.p_offset(e).checked_add(p.p_filesz(e)).ok_or_else(|| {
            format!(
                "segment file range {:#x}+{:#x} overflows",
                p.p_offset(e),
                p.p_filesz(e)
            )
        })?;
        need = need.max(end);
    }
    Ok(need)
}

/// A human name for an ELF `e_machine` value.
pub fn machine_name(m: u16) -> String {
    use object::elf::*;
    let name = match m {
        x if x == EM_X86_64.0 => "x86-64",
        x if x == EM_386.0 => "i386",
        x if x == EM_AARCH64.0 => "arm64 (aarch64)",
        x if x == EM_ARM.0 => "32-bit arm",
        x if x == EM_RISCV.0 => "riscv",
        x if x == EM_PPC64.0 => "ppc64",
        x if x == EM_S390.0 => "s390x",
        x if x == EM_MIPS.0 => "mips",
        x if x == EM_LOONGARCH.0 => "loong64",
        _ => return format!("ELF machine {m}"),
    };
    name.to_string()
}

/// A tiny ELF64 little-endian writer for synthetic cores and executables in unit tests.
#[cfg(test)]
pub(crate) mod test_writer {
    use super::{EHDR_SIZE, PHDR_SIZE};

    pub const ET_EXEC: u16 = 2;
    pub const ET_DYN: u16 = 3;
    pub const ET_CORE: u16 = 4;
    pub const EM_X86_64: u16 = 62;
    pub const PF_R: u32 = 4;
    pub const PF_W: u32 = 2;
    pub const PF_X: u32 = 1;
    /// Size of the header page the executable layout puts at the start of its first segment.
    pub const HEADER_PAGE: u64 = 0x1000;

    /// A PT_LOAD: `data` is the file-backed part (p_filesz = data.len()).
    #[derive(Debug, Clone)]
    pub struct Seg {
        pub vaddr: u64,
        pub memsz: u64,
        pub flags: u32,
        pub data: Vec<u8>,
    }

    impl Seg {
        pub fn new(vaddr: u64, memsz: u64, flags: u32, data: Vec<u8>) -> Seg {
            Seg {
                vaddr,
                memsz,
                flags,
                data,
            }
        }
    }

    /// An ELF file under construction.
    #[derive(Debug, Clone)]
    pub struct TestElf {
        pub e_type: u16,
        pub machine: u16,
        pub entry: u64,
        /// (name without NUL, type, desc)
        pub notes: Vec<(Vec<u8>, u32, Vec<u8>)>,
        pub loads: Vec<Seg>,
        /// Executable layout: the first PT_LOAD maps file offset 0 (a header page holding the
        /// ELF header, program headers and notes) at `loads[0].vaddr`; its `data` follows at
        /// `vaddr + HEADER_PAGE`, and the PT_NOTE gets a matching vaddr.
        pub headers_in_first_load: bool,
    }

    impl TestElf {
        pub fn core() -> TestElf {
            TestElf {
                e_type: ET_CORE,
                machine: EM_X86_64,
                entry: 0,
                notes: vec![],
                loads: vec![],
                headers_in_first_load: false,
            }
        }
        pub fn exe(entry: u64) -> TestElf {
            TestElf {
                e_type: ET_EXEC,
                entry,
                headers_in_first_load: true,
                ..TestElf::core()
            }
        }
        pub fn note(mut self, name: &[u8], ty: u32, desc: Vec<u8>) -> Self {
            self.notes.push((name.to_vec(), ty, desc));
            self
        }
        pub fn load(mut self, seg: Seg) -> Self {
            self.loads.push(seg);
            self
        }

        fn note_blob(&self) -> Vec<u8> {
            let mut b = Vec::new();
            for (name, ty, desc) in &self.notes {
                let namesz = if name.is_empty() { 0 } else { name.len() + 1 };
                b.extend((namesz as u32).to_le_bytes());
                b.extend((desc.len() as u32).to_le_bytes());
                b.extend(ty.to_le_bytes());
                b.extend(name);
                if namesz > 0 {
                    b.push(0);
                }
                pad(&mut b, 4);
                b.extend(desc);
                pad(&mut b, 4);
            }
            b
        }

        pub fn build(&self) -> Vec<u8> {
            let has_notes = !self.notes.is_empty();
            let nph = self.loads.len() + usize::from(has_notes);
            let notes = self.note_blob();
            let note_off = EHDR_SIZE + nph as u64 * PHDR_SIZE;
            let mut off = note_off + notes.len() as u64;
            if self.headers_in_first_load {
                assert!(
                    off <= HEADER_PAGE,
                    "test headers do not fit the header page"
                );
                off = HEADER_PAGE;
            }
            // File offsets of each load's data.
            let mut data_offs = Vec::new();
            for s in &self.loads {
                off = off.next_multiple_of(8);
                data_offs.push(off);
                off += s.data.len() as u64;
            }
            let mut f = Vec::new();
            f.extend(b"\x7fELF");
            f.extend([2, 1, 1, 0]);
            f.extend([0u8; 8]);
            f.extend(self.e_type.to_le_bytes());
            f.extend(self.machine.to_le_bytes());
            f.extend(1u32.to_le_bytes());
            f.extend(self.entry.to_le_bytes());
            f.extend(EHDR_SIZE.to_le_bytes()); // e_phoff
            f.extend(0u64.to_le_bytes()); // e_shoff
            f.extend(0u32.to_le_bytes()); // e_flags
            f.extend(64u16.to_le_bytes());
            f.extend(56u16.to_le_bytes());
            f.extend((nph as u16).to_le_bytes());
            f.extend(64u16.to_le_bytes());
            f.extend(0u16.to_le_bytes());
            f.extend(0u16.to_le_bytes());
            assert_eq!(f.len() as u64, EHDR_SIZE);
            let phdr = |f: &mut Vec<u8>,
                        ty: u32,
                        flags: u32,
                        o: u64,
                        va: u64,
                        fs: u64,
                        ms: u64,
                        al: u64| {
                f.extend(ty.to_le_bytes());
                f.extend(flags.to_le_bytes());
                for v in [o, va, 0, fs, ms, al] {
                    f.extend(v.to_le_bytes());
                }
            };
            let base = self.loads.first().map(|s| s.vaddr).unwrap_or(0);
            if has_notes {
                let va = if self.headers_in_first_load {
                    base + note_off
                } else {
                    0
                };
                phdr(
                    &mut f,
                    4,
                    PF_R,
                    note_off,
                    va,
                    notes.len() as u64,
                    notes.len() as u64,
                    4,
                );
            }
            for (i, s) in self.loads.iter().enumerate() {
                let (o, va, fs) = if i == 0 && self.headers_in_first_load {
                    (0, s.vaddr, HEADER_PAGE + s.data.len() as u64)
                } else {
                    (data_offs[i], s.vaddr, s.data.len() as u64)
                };
                phdr(&mut f, 1, s.flags, o, va, fs, s.memsz.max(fs), 0x1000);
            }
            f.extend(&notes);
            for (i, s) in self.loads.iter().enumerate() {
                f.resize(data_offs[i] as usize, 0);
                f.extend(&s.data);
            }
            f
        }
    }

    fn pad(b: &mut Vec<u8>, a: usize) {
        while !b.len().is_multiple_of(a) {
            b.push(0);
        }
    }

    /// An amd64 NT_PRSTATUS desc (336 bytes) with `tid` and 27 register values.
    pub fn prstatus(tid: u32, regs: &[u64; 27]) -> Vec<u8> {
        let mut d = vec![0u8; 336];
        d[32..36].copy_from_slice(&tid.to_le_bytes());
        for (i, r) in regs.iter().enumerate() {
            d[112 + 8 * i..120 + 8 * i].copy_from_slice(&r.to_le_bytes());
        }
        d
    }

    /// An NT_FILE desc: (start, end, page offset, name) with the given page size.
    pub fn nt_file(page_size: u64, files: &[(u64, u64, u64, &str)]) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend((files.len() as u64).to_le_bytes());
        d.extend(page_size.to_le_bytes());
        for (s, e, o, _) in files {
            for v in [s, e, o] {
                d.extend(v.to_le_bytes());
            }
        }
        for (_, _, _, n) in files {
            d.extend(n.as_bytes());
            d.push(0);
        }
        d
    }

    /// An NT_AUXV desc, AT_NULL-terminated.
    pub fn auxv(pairs: &[(u64, u64)]) -> Vec<u8> {
        let mut d = Vec::new();
        for (k, v) in pairs.iter().chain(&[(0, 0)]) {
            d.extend(k.to_le_bytes());
            d.extend(v.to_le_bytes());
        }
        d
    }

    /// An amd64 NT_PRPSINFO desc (136 bytes).
    pub fn prpsinfo(pid: u32, fname: &str, args: &str) -> Vec<u8> {
        let mut d = vec![0u8; 136];
        d[24..28].copy_from_slice(&pid.to_le_bytes());
        let f = fname.as_bytes();
        d[40..40 + f.len().min(16)].copy_from_slice(&f[..f.len().min(16)]);
        let a = args.as_bytes();
        d[56..56 + a.len().min(80)].copy_from_slice(&a[..a.len().min(80)]);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::test_writer::*;
    use super::*;

    #[test]
    fn parses_loads_and_notes() {
        let f = TestElf::core()
            .note(b"CORE", 6, auxv(&[(9, 0x1234)]))
            .load(Seg::new(0x1000, 0x2000, PF_R | PF_W, vec![1; 16]))
            .load(Seg::new(0x5000, 0x1000, PF_R, vec![]))
            .build();
        let h = header(&f).unwrap();
        assert_eq!(h.e_type, ET_CORE);
        assert_eq!(h.machine, EM_X86_64);
        assert_eq!(h.phnum, 3);
        let l = load_segments(&f).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].vaddr, l[0].memsz, l[0].filesz), (0x1000, 0x2000, 16));
        assert!(l[0].is_writable() && l[0].is_readable() && !l[0].is_executable());
        assert_eq!(&f[l[0].file_offset as usize..][..16], &[1; 16]);
        assert_eq!(l[1].filesz, 0);
        let n = note_segments(&f).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].data.len(), 12 + 8 + 32);
        assert_eq!(required_len(&f).unwrap(), f.len() as u64);
    }

    #[test]
    fn exe_layout_maps_headers() {
        let f = TestElf::exe(0x401000)
            .note(b"Go", 4, b"abc".to_vec())
            .load(Seg::new(0x400000, 0, PF_R | PF_X, vec![7; 8]))
            .build();
        let l = load_segments(&f).unwrap();
        assert_eq!((l[0].file_offset, l[0].filesz), (0, HEADER_PAGE + 8));
        let n = note_segments(&f).unwrap();
        assert_eq!(n[0].vaddr, 0x400000 + n[0].file_offset);
        assert_eq!(header(&f).unwrap().entry, 0x401000);
    }

    #[test]
    fn rejects_garbage() {
        assert!(header(b"").is_err());
        assert!(header(b"\x7fELF").is_err());
        assert!(header(&[0u8; 100]).is_err());
        let mut f = TestElf::core().build();
        f[4] = 1; // ELFCLASS32
        assert!(header(&f).is_err());
        // Program headers past the end of the file.
        let f = TestElf::core()
            .load(Seg::new(0x1000, 0x1000, PF_R, vec![]))
            .build();
        assert!(load_segments(&f[..80]).is_err());
    }
}
