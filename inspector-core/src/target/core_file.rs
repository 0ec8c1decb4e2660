//! An ELF core file: validated, mapped (decompressed first if needed), with its PT_LOAD
//! segments sorted by address and its notes parsed into threads, file mappings, the
//! auxiliary vector and the process name. Reading memory through the executable is
//! [`super::overlay`]'s job; this module only knows what the core itself holds.

use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::arch::Arch;
use super::decompress::{self, Compression};
use super::elf_image::{self, LoadSegment, EHDR_SIZE, PHDR_SIZE};
use super::notes::{self, ProcessInfo};
use super::{MappedFile, TargetError, Thread};

const ELF_ET_CORE: u16 = 4;

/// A mapped, validated ELF core file.
pub struct CoreFile {
    path: PathBuf,
    map: Mmap,
    compression: Compression,
    arch: Arch,
    /// PT_LOAD segments sorted by `vaddr`.
    segments: Vec<LoadSegment>,
    threads: Vec<Thread>,
    mapped_files: Vec<MappedFile>,
    auxv: Vec<(u64, u64)>,
    process: Option<ProcessInfo>,
}

impl std::fmt::Debug for CoreFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreFile")
            .field("path", &self.path)
            .field("len", &self.map.len())
            .field("compression", &self.compression)
            .field("segments", &self.segments.len())
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl CoreFile {
    /// Open, decompress if needed, and validate a core file.
    pub fn open(path: &Path) -> Result<CoreFile, TargetError> {
        let (map, compression) = decompress::open(path)?;
        Self::from_map(path, map, compression)
    }

    /// A core file from bytes already in memory (copied into an anonymous map); `path` is only
    /// used in messages. For tests and tools that build cores.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<CoreFile, TargetError> {
        let io = |source| TargetError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut m = memmap2::MmapMut::map_anon(bytes.len()).map_err(io)?;
        m.copy_from_slice(bytes);
        Self::from_map(path, m.make_read_only().map_err(io)?, Compression::None)
    }

    fn from_map(path: &Path, map: Mmap, compression: Compression) -> Result<CoreFile, TargetError> {
        let v = validate(path, &map)?;
        let notes = elf_image::note_segments(&map).map_err(|detail| TargetError::Malformed {
            path: path.to_path_buf(),
            what: "program headers",
            detail,
        })?;
        let parsed =
            notes::parse_core_notes(&notes, v.arch).map_err(|detail| TargetError::BadNotes {
                path: path.to_path_buf(),
                detail,
            })?;
        Ok(CoreFile {
            path: path.to_path_buf(),
            compression,
            arch: v.arch,
            segments: v.segments,
            threads: parsed.threads,
            mapped_files: parsed.files,
            auxv: parsed.auxv,
            process: parsed.process,
            map,
        })
    }

    /// The path the core was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn arch(&self) -> Arch {
        self.arch
    }
    /// How the file on disk was compressed.
    pub fn compression(&self) -> Compression {
        self.compression
    }
    /// The whole (decompressed) core file.
    pub fn data(&self) -> &[u8] {
        &self.map
    }
    /// The threads, in note order: the first one received the fatal signal.
    pub fn threads(&self) -> &[Thread] {
        &self.threads
    }
    /// Files mapped into the process (NT_FILE), in note order.
    pub fn mapped_files(&self) -> &[MappedFile] {
        &self.mapped_files
    }
    /// The value of an auxiliary-vector entry (e.g. 9 = AT_ENTRY).
    pub fn auxv(&self, tag: u64) -> Option<u64> {
        self.auxv.iter().find(|(k, _)| *k == tag).map(|(_, v)| *v)
    }
    /// All auxiliary-vector entries, without the AT_NULL terminator.
    pub fn auxv_entries(&self) -> &[(u64, u64)] {
        &self.auxv
    }
    /// The process name from NT_PRPSINFO (at most 15 characters), if the core has one.
    pub fn process_name(&self) -> Option<&str> {
        self.process.as_ref().map(|p| p.name.as_str())
    }
    /// Pid, name and command-line start from NT_PRPSINFO.
    pub fn process_info(&self) -> Option<&ProcessInfo> {
        self.process.as_ref()
    }
    /// PT_LOAD segments sorted by address.
    pub fn segments(&self) -> &[LoadSegment] {
        &self.segments
    }

    /// The segment containing `addr`, if any.
    pub fn segment_at(&self, addr: u64) -> Option<&LoadSegment> {
        let i = self.segments.partition_point(|s| s.vaddr <= addr);
        let s = self.segments.get(i.checked_sub(1)?)?;
        s.contains(addr).then_some(s)
    }

    /// The bytes the core file holds from `addr` to the end of its segment's p_filesz.
    pub fn dumped_from(&self, addr: u64) -> Option<&[u8]> {
        let s = self.segment_at(addr)?;
        let len = s.file_backed_end().checked_sub(addr).filter(|&n| n > 0)?;
        self.dumped_bytes(addr, usize::try_from(len).ok()?)
    }

    /// `len` bytes at `addr` only if the core file itself holds all of them (within one
    /// segment's p_filesz). Used to compare the core with the executable.
    pub fn dumped_bytes(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let s = self.segment_at(addr)?;
        let end = addr.checked_add(len as u64)?;
        if end > s.file_backed_end() {
            return None;
        }
        let off = usize::try_from(s.file_offset + (addr - s.vaddr)).ok()?;
        self.map.get(off..off.checked_add(len)?)
    }
}

struct Validated {
    arch: Arch,
    segments: Vec<LoadSegment>,
}

/// Every check that turns a bad file into one clear error, in the order a user needs them.
fn validate(path: &Path, data: &[u8]) -> Result<Validated, TargetError> {
    let p = || path.to_path_buf();
    let has = data.len() as u64;
    if data.is_empty() {
        return Err(TargetError::Empty { path: p() });
    }
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        let detail = match decompress::unsupported_compression(data) {
            Some((name, cmd)) => {
                format!("it looks {name}-compressed, which goheap does not read: run `{cmd}` first")
            }
            None => format!(
                "no ELF magic; it starts with {}",
                data.iter()
                    .take(4)
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        };
        return Err(TargetError::NotElf { path: p(), detail });
    }
    if has < EHDR_SIZE {
        return Err(TargetError::Truncated {
            path: p(),
            what: "ELF header",
            has,
            needs: EHDR_SIZE,
        });
    }
    // e_type and e_machine sit at the same offsets in every ELF class; read them in the
    // file's own byte order so an executable or a foreign core gets the right message.
    let big = data[5] == 2;
    let u16_at = |o: usize| {
        let b = [data[o], data[o + 1]];
        if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let e_type = u16_at(16);
    if e_type != ELF_ET_CORE {
        let kind = match e_type {
            2 => "executable",
            3 => "shared object or position-independent executable",
            1 => "relocatable object",
            _ => "file of unknown type",
        };
        return Err(TargetError::NotCore { path: p(), kind });
    }
    let machine = u16_at(18);
    let arch = Arch::from_elf_machine(machine);
    if data[4] != 2 || data[5] != 1 || arch.is_none() {
        let mut m = elf_image::machine_name(machine);
        if data[4] == 1 {
            m = format!("32-bit {m}");
        }
        if big {
            m = format!("big-endian {m}");
        }
        return Err(TargetError::UnsupportedArch {
            path: p(),
            machine: m,
        });
    }
    let arch = arch.expect("checked above");
    let malformed = |what, detail| TargetError::Malformed {
        path: p(),
        what,
        detail,
    };
    let h = elf_image::header(data).map_err(|d| malformed("ELF header", d))?;
    if h.phnum > 0 && u64::from(h.phentsize) != PHDR_SIZE {
        return Err(malformed(
            "program headers",
            format!("entry size {} (expected {PHDR_SIZE})", h.phentsize),
        ));
    }
    let ph_end = h
        .phdrs_end()
        .ok_or_else(|| malformed("program headers", "table size overflows".into()))?;
    if ph_end > has {
        return Err(TargetError::Truncated {
            path: p(),
            what: "program headers",
            has,
            needs: ph_end,
        });
    }
    let needs = elf_image::required_len(data).map_err(|d| malformed("program headers", d))?;
    if needs > has {
        let notes_end = elf_image::note_segments(data).is_err();
        return Err(TargetError::Truncated {
            path: p(),
            what: if notes_end { "notes" } else { "segments" },
            has,
            needs,
        });
    }
    let mut segments =
        elf_image::load_segments(data).map_err(|d| malformed("program headers", d))?;
    segments.sort_by_key(|s| s.vaddr);
    Ok(Validated { arch, segments })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::elf_image::test_writer::*;
    use super::*;

    pub const AT_ENTRY: u64 = 9;
    pub const AT_PHDR: u64 = 3;

    pub fn regs(seed: u64) -> [u64; 27] {
        std::array::from_fn(|i| seed + i as u64)
    }

    /// A synthetic core: two threads, NT_FILE, NT_AUXV, NT_PRPSINFO, and segments
    /// - 0x400000: 0x1000 dumped of 0x3000 (filesz < memsz)
    /// - 0x600000: not dumped at all (filesz = 0)
    /// - 0xc000000000: 0x2000 of 0x11 bytes
    /// - 0xc000002000: adjacent (in memory and in the file), 0x1000 of 0x22 bytes
    pub fn sample_core() -> TestElf {
        TestElf::core()
            .note(b"CORE", 1, prstatus(100, &regs(0x1000)))
            .note(b"CORE", 3, prpsinfo(100, "app", "./app -x"))
            .note(
                b"CORE",
                6,
                auxv(&[(6, 4096), (AT_PHDR, 0x400040), (AT_ENTRY, 0x401000)]),
            )
            .note(
                b"CORE",
                0x4649_4c45,
                nt_file(
                    4096,
                    &[
                        (0x400000, 0x403000, 0, "/bin/app"),
                        (0x600000, 0x601000, 0x200, "/bin/app"),
                    ],
                ),
            )
            .note(b"CORE", 1, prstatus(101, &regs(0x2000)))
            // Deliberately out of address order.
            .load(Seg::new(
                0xc000000000,
                0x2000,
                PF_R | PF_W,
                vec![0x11; 0x2000],
            ))
            .load(Seg::new(
                0xc000002000,
                0x1000,
                PF_R | PF_W,
                vec![0x22; 0x1000],
            ))
            .load(Seg::new(0x400000, 0x3000, PF_R | PF_X, vec![0xaa; 0x1000]))
            .load(Seg::new(0x600000, 0x1000, PF_R, vec![]))
    }

    fn open_bytes(b: &[u8]) -> Result<CoreFile, TargetError> {
        CoreFile::from_bytes(Path::new("/x/core"), b)
    }

    #[test]
    fn parses_sample() {
        let c = open_bytes(&sample_core().build()).unwrap();
        assert_eq!(c.arch(), Arch::Amd64);
        assert_eq!(c.threads().len(), 2);
        assert_eq!(c.threads()[0].tid, 100);
        assert_eq!(c.threads()[1].regs.pc(), 0x2000 + 16);
        assert_eq!(c.mapped_files().len(), 2);
        assert_eq!(c.mapped_files()[1].file_offset, 0x200 * 4096);
        assert_eq!(c.auxv(AT_ENTRY), Some(0x401000));
        assert_eq!(c.auxv(12345), None);
        assert_eq!(c.process_name(), Some("app"));
        assert_eq!(c.process_info().unwrap().args, "./app -x");
        let v: Vec<u64> = c.segments().iter().map(|s| s.vaddr).collect();
        assert_eq!(v, [0x400000, 0x600000, 0xc000000000, 0xc000002000]);
        assert_eq!(c.compression(), Compression::None);
        assert_eq!(c.dumped_bytes(0x400ff8, 8), Some(&[0xaa; 8][..]));
        assert_eq!(c.dumped_bytes(0x400ff8, 9), None); // past p_filesz
        assert_eq!(c.dumped_bytes(0x600000, 1), None);
        assert_eq!(c.dumped_bytes(0xc000001fff, 2), None); // spans two segments
        assert_eq!(c.dumped_bytes(0x10, 1), None);
        assert_eq!(c.dumped_from(0x400ff0).map(|b| b.len()), Some(16));
        assert_eq!(c.dumped_from(0x401000), None);
        assert_eq!(c.dumped_from(0x600000), None);
        assert_eq!(c.segment_at(0x402fff).unwrap().vaddr, 0x400000);
        assert!(c.segment_at(0x403000).is_none());
    }

    #[test]
    fn compressed_cores_read_the_same() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let raw = sample_core().build();
        let plain = dir.path().join("core");
        std::fs::write(&plain, &raw).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).unwrap();
        let gzp = dir.path().join("core.gz");
        std::fs::write(&gzp, gz.finish().unwrap()).unwrap();
        let zp = dir.path().join("core.zst");
        std::fs::write(&zp, zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
        let a = CoreFile::open(&plain).unwrap();
        for (p, c) in [(gzp, Compression::Gzip), (zp, Compression::Zstd)] {
            let b = CoreFile::open(&p).unwrap();
            assert_eq!(b.compression(), c);
            assert_eq!(b.path(), p);
            assert_eq!(a.data(), b.data());
            assert_eq!(a.segments(), b.segments());
            assert_eq!(a.mapped_files(), b.mapped_files());
            assert_eq!(b.dumped_bytes(0xc000000000, 0x3000), None);
            assert_eq!(
                a.dumped_bytes(0xc000000010, 16),
                b.dumped_bytes(0xc000000010, 16)
            );
        }
    }

    fn err(b: &[u8]) -> TargetError {
        let e = open_bytes(b).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("/x/core"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        e
    }

    #[test]
    fn missing_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let e = CoreFile::open(&dir.path().join("absent")).unwrap_err();
        assert!(matches!(e, TargetError::Missing { .. }));
        assert!(e.to_string().contains("absent"));
        let p = dir.path().join("empty");
        std::fs::write(&p, b"").unwrap();
        assert!(matches!(CoreFile::open(&p), Err(TargetError::Empty { .. })));
        assert!(matches!(err(&[]), TargetError::Empty { .. }));
    }

    #[test]
    fn garbage_is_not_elf() {
        assert!(matches!(
            err(b"hello world, not a core"),
            TargetError::NotElf { .. }
        ));
        assert!(matches!(err(b"\x7fEL"), TargetError::NotElf { .. }));
        let e = err(&[0xfd, b'7', b'z', b'X', b'Z', 0, 0, 0]);
        assert!(e.to_string().contains("xz -d"), "{e}");
    }

    #[test]
    fn truncated_at_every_point() {
        let full = sample_core().build();
        let ph_end = 64 + 5 * 56;
        for cut in [
            4,
            10,
            63,
            64,
            100,
            ph_end - 1,
            ph_end + 10,
            full.len() / 2,
            full.len() - 1,
        ] {
            let e = err(&full[..cut]);
            match e {
                TargetError::Truncated { has, needs, .. } => {
                    assert_eq!(has, cut as u64);
                    assert!(needs > has);
                }
                other => panic!("cut at {cut}: {other}"),
            }
        }
        let e = err(&full[..full.len() - 1]);
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("it has {} bytes", full.len() - 1)),
            "{msg}"
        );
        assert!(msg.contains(&format!("needs {}", full.len())), "{msg}");
        assert!(msg.contains("ulimit -c unlimited"), "{msg}");
    }

    #[test]
    fn executable_passed_as_core() {
        let exe = TestElf::exe(0x401000)
            .load(Seg::new(0x400000, 0, PF_R | PF_X, vec![0x90; 16]))
            .build();
        let e = err(&exe);
        assert!(matches!(
            e,
            TargetError::NotCore {
                kind: "executable",
                ..
            }
        ));
        assert!(e.to_string().contains("core second"), "{e}");
        let mut pie = exe.clone();
        pie[16] = ET_DYN as u8;
        assert!(matches!(err(&pie), TargetError::NotCore { .. }));
    }

    #[test]
    fn wrong_machine() {
        let mut b = sample_core().build();
        b[18..20].copy_from_slice(&183u16.to_le_bytes());
        let e = err(&b);
        assert!(matches!(e, TargetError::UnsupportedArch { .. }));
        assert!(e.to_string().contains("arm64"), "{e}");
        let mut b = sample_core().build();
        b[4] = 1; // ELFCLASS32
        assert!(err(&b).to_string().contains("32-bit"));
        let mut b = sample_core().build();
        b[5] = 2; // big-endian
        b[16..18].copy_from_slice(&ET_CORE.to_be_bytes());
        b[18..20].copy_from_slice(&EM_X86_64.to_be_bytes());
        assert!(err(&b).to_string().contains("big-endian"));
    }

    #[test]
    fn malformed_headers_and_notes() {
        // Bad phentsize.
        let mut b = sample_core().build();
        b[54..56].copy_from_slice(&40u16.to_le_bytes());
        assert!(matches!(err(&b), TargetError::Malformed { .. }));
        // Bad ELF version.
        let mut b = sample_core().build();
        b[6] = 9;
        assert!(matches!(err(&b), TargetError::Malformed { .. }));
        // A short NT_PRSTATUS.
        let b = TestElf::core().note(b"CORE", 1, vec![0; 20]).build();
        assert!(matches!(err(&b), TargetError::BadNotes { .. }));
        // A bogus NT_FILE count.
        let mut f = nt_file(4096, &[(1, 2, 0, "a")]);
        f[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        let b = TestElf::core().note(b"CORE", 0x4649_4c45, f).build();
        assert!(matches!(err(&b), TargetError::BadNotes { .. }));
        // A note whose descsz runs past its segment: patch the first note's descsz.
        let mut b = sample_core().build();
        let note_off = 64 + 5 * 56;
        b[note_off + 4..note_off + 8].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        assert!(matches!(err(&b), TargetError::BadNotes { .. }));
        // Segment file range overflowing u64.
        let mut b = sample_core().build();
        let ph1 = 64 + 56; // first PT_LOAD
        b[ph1 + 8..ph1 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(err(&b), TargetError::Malformed { .. }));
    }

    #[test]
    fn no_panics_on_random_corruption() {
        let full = sample_core().build();
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut b = full.clone();
            let pos = (x % 1200) as usize;
            b[pos] = (x >> 32) as u8;
            let _ = open_bytes(&b);
        }
    }
}
