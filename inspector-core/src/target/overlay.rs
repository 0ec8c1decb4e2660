//! The memory of a core-file target: the core's dumped PT_LOAD bytes on top, the executable's
//! file-backed segment bytes (relocated by the load bias) underneath. Linux cores leave
//! read-only file-backed mappings (text, rodata, pclntab) undumped, so those bytes come from
//! the executable. Also: the PIE load bias, and checking that an executable matches a core.
//!
//! The address space is flattened once into sorted, non-overlapping [`Region`]s, so a read is
//! a binary search and, within one region, a borrowed slice of a mapping: no allocation, no
//! locks.

use std::borrow::Cow;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use memmap2::Mmap;

use super::core_file::CoreFile;
use super::elf_image::{self, LoadSegment};
use super::notes::{self, BuildIds};
use super::{Memory, ReadError, TargetError};

/// `AT_ENTRY`: the program's entry point, as loaded.
pub const AT_ENTRY: u64 = 9;

/// The executable's file-backed segments, as mapped in the target.
#[derive(Clone)]
pub struct ExeImage {
    pub map: Arc<Mmap>,
    /// The executable's PT_LOAD segments at link-time addresses.
    pub segments: Vec<LoadSegment>,
    /// Load address minus link address (0 for a non-PIE executable).
    pub bias: u64,
}

impl std::fmt::Debug for ExeImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExeImage")
            .field("len", &self.map.len())
            .field("segments", &self.segments)
            .field("bias", &format_args!("{:#x}", self.bias))
            .finish()
    }
}

impl ExeImage {
    /// Parse the executable's PT_LOAD segments from its mapping.
    pub fn new(map: Arc<Mmap>, bias: u64) -> Result<ExeImage, String> {
        let segments = elf_image::load_segments(&map)?;
        Ok(ExeImage {
            map,
            segments,
            bias,
        })
    }
}

/// The load bias of the executable in the core: 0 unless `is_pie`; for a PIE, the core's
/// `AT_ENTRY` minus the link-time entry point. A PIE core without `AT_ENTRY` gets 0.
pub fn load_bias(core: &CoreFile, exe_entry: u64, is_pie: bool) -> u64 {
    if !is_pie {
        return 0;
    }
    core.auxv(AT_ENTRY)
        .map(|e| e.wrapping_sub(exe_entry))
        .unwrap_or(0)
}

/// Where a region's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionSource {
    /// Dumped into the core file; `offset` is into the core.
    Core,
    /// From the executable's file; `offset` is into the executable.
    Exe,
    /// Mapped in the target, but its contents are in neither file.
    NotDumped,
}

/// A maximal address range `[start, end)` whose bytes come from one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start: u64,
    pub end: u64,
    pub source: RegionSource,
    /// Offset of `start`'s byte in the source file (0 for `NotDumped`).
    pub offset: u64,
}

/// A core file's memory with the executable underneath.
///
/// Read rule, per byte: the core's dumped bytes (within a PT_LOAD's p_filesz) win; else the
/// executable's file bytes (within its PT_LOAD's p_filesz, relocated by the bias); else, if a
/// core or executable segment maps the address (p_memsz), [`ReadError::NotDumped`]; else
/// [`ReadError::Unmapped`]. Reads may span adjacent regions; [`Memory::bytes`] borrows
/// whenever the range lies in one region.
pub struct CoreMemory {
    core: Arc<CoreFile>,
    exe: Option<ExeImage>,
    /// Sorted by `start`, non-overlapping.
    regions: Vec<Region>,
    /// The region the last search found: reads come in runs within one region (the heap's
    /// arenas), and checking it first saves a branchy binary search per read.
    hint: AtomicUsize,
}

impl std::fmt::Debug for CoreMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreMemory")
            .field("core", &self.core.path())
            .field("exe", &self.exe)
            .field("regions", &self.regions.len())
            .finish()
    }
}

impl CoreMemory {
    pub fn new(core: Arc<CoreFile>, exe: Option<ExeImage>) -> CoreMemory {
        let mut layers: [Vec<Region>; 3] = Default::default();
        for s in core.segments() {
            let dumped = s.filesz.min(s.memsz);
            push(
                &mut layers[0],
                s.vaddr,
                dumped,
                RegionSource::Core,
                s.file_offset,
            );
            push(&mut layers[2], s.vaddr, s.memsz, RegionSource::NotDumped, 0);
        }
        if let Some(exe) = &exe {
            let len = exe.map.len() as u64;
            for s in &exe.segments {
                let va = s.vaddr.wrapping_add(exe.bias);
                // Only the part of the file that exists; .bss (filesz..memsz) is not known.
                let filesz = s.filesz.min(len.saturating_sub(s.file_offset));
                push(&mut layers[1], va, filesz, RegionSource::Exe, s.file_offset);
                push(&mut layers[2], va, s.memsz, RegionSource::NotDumped, 0);
            }
        }
        CoreMemory {
            regions: flatten(layers),
            hint: AtomicUsize::new(0),
            core,
            exe,
        }
    }

    pub fn core(&self) -> &Arc<CoreFile> {
        &self.core
    }
    pub fn exe(&self) -> Option<&ExeImage> {
        self.exe.as_ref()
    }
    /// The flattened address space, sorted by address.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// Index of the region containing `addr`.
    #[inline]
    fn find(&self, addr: u64) -> Option<usize> {
        let h = self.hint.load(Ordering::Relaxed);
        if let Some(r) = self.regions.get(h) {
            if r.start <= addr && addr < r.end {
                return Some(h);
            }
        }
        let i = self.regions.partition_point(|r| r.start <= addr);
        let i = i.checked_sub(1)?;
        (addr < self.regions[i].end).then(|| {
            self.hint.store(i, Ordering::Relaxed);
            i
        })
    }

    /// The bytes of `r` from `addr` to `addr + len` (which must lie in `r`).
    #[inline]
    fn region_bytes(&self, r: &Region, addr: u64, len: usize) -> Result<&[u8], ReadError> {
        let file: &[u8] = match r.source {
            RegionSource::Core => self.core.data(),
            RegionSource::Exe => match &self.exe {
                Some(e) => &e.map,
                None => return Err(ReadError::NotDumped { addr }),
            },
            RegionSource::NotDumped => return Err(ReadError::NotDumped { addr }),
        };
        let off = r.offset + (addr - r.start);
        usize::try_from(off)
            .ok()
            .and_then(|o| file.get(o..o.checked_add(len)?))
            .ok_or(ReadError::NotDumped { addr })
    }
}

fn push(layer: &mut Vec<Region>, start: u64, len: u64, source: RegionSource, offset: u64) {
    // A segment reaching past the top of the address space is cut there.
    let end = start.saturating_add(len);
    if end > start {
        layer.push(Region {
            start,
            end,
            source,
            offset,
        });
    }
}

/// Paint layers in priority order (first wins) into sorted, non-overlapping regions, then
/// merge neighbours that continue each other.
fn flatten(layers: [Vec<Region>; 3]) -> Vec<Region> {
    let mut covered: Vec<Region> = Vec::new();
    for mut layer in layers {
        layer.sort_by_key(|r| r.start);
        let mut fresh = Vec::new();
        let mut floor = 0u64; // within a layer, earlier starts win overlaps
        for r in layer {
            let start = r.start.max(floor);
            if start >= r.end {
                continue;
            }
            floor = r.end;
            let piece = |s: u64, e: u64| Region {
                start: s,
                end: e,
                source: r.source,
                offset: if r.source == RegionSource::NotDumped {
                    0
                } else {
                    r.offset + (s - r.start)
                },
            };
            let mut cur = start;
            let mut i = covered.partition_point(|c| c.end <= cur);
            while cur < r.end && i < covered.len() && covered[i].start < r.end {
                if covered[i].start > cur {
                    fresh.push(piece(cur, covered[i].start));
                }
                cur = cur.max(covered[i].end);
                i += 1;
            }
            if cur < r.end {
                fresh.push(piece(cur, r.end));
            }
        }
        covered.extend(fresh);
        covered.sort_by_key(|r| r.start);
    }
    let mut out: Vec<Region> = Vec::with_capacity(covered.len());
    for r in covered {
        if let Some(p) = out.last_mut() {
            let continues = p.end == r.start
                && p.source == r.source
                && (r.source == RegionSource::NotDumped
                    || p.offset + (p.end - p.start) == r.offset);
            if continues {
                p.end = r.end;
                continue;
            }
        }
        out.push(r);
    }
    out
}

impl Memory for CoreMemory {
    fn read_at(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let len = buf.len() as u64;
        addr.checked_add(len)
            .ok_or(ReadError::Overflow { addr, len })?;
        if buf.is_empty() {
            return Ok(());
        }
        let mut i = self.find(addr).ok_or(ReadError::Unmapped { addr })?;
        let mut cur = addr;
        let mut done = 0usize;
        loop {
            let r = &self.regions[i];
            let n = ((r.end - cur).min((buf.len() - done) as u64)) as usize;
            buf[done..done + n].copy_from_slice(self.region_bytes(r, cur, n)?);
            done += n;
            if done == buf.len() {
                return Ok(());
            }
            cur += n as u64;
            i += 1;
            if self.regions.get(i).is_none_or(|r| r.start != cur) {
                return Err(ReadError::Unmapped { addr: cur });
            }
        }
    }

    fn bytes(&self, addr: u64, len: usize) -> Result<Cow<'_, [u8]>, ReadError> {
        let end = addr.checked_add(len as u64).ok_or(ReadError::Overflow {
            addr,
            len: len as u64,
        })?;
        if len == 0 {
            return Ok(Cow::Borrowed(&[]));
        }
        let i = self.find(addr).ok_or(ReadError::Unmapped { addr })?;
        let r = &self.regions[i];
        if end <= r.end {
            return self.region_bytes(r, addr, len).map(Cow::Borrowed);
        }
        let mut v = vec![0u8; len];
        self.read_at(addr, &mut v)?;
        Ok(Cow::Owned(v))
    }

    fn mapped(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let end = addr.checked_add(len as u64)?;
        let r = &self.regions[self.find(addr)?];
        (end <= r.end)
            .then(|| self.region_bytes(r, addr, len).ok())
            .flatten()
    }
}

/// How far [`check_exe_matches`] could confirm that an executable produced a core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExeCheck {
    /// The core's dump of the executable's first page holds the same build ID (or, for an
    /// executable without notes, the same ELF headers).
    Verified,
    /// The core lacks that page, but its NT_FILE list maps a file with the executable's name
    /// (the path given).
    NameMatches(String),
    /// Nothing in the core confirms or contradicts the executable; the reason, for a warning.
    NotVerifiable(String),
}

/// `AT_PHDR`: the address of the main executable's program headers, as loaded.
pub const AT_PHDR: u64 = 3;

/// The main executable's build IDs as the core recorded them: the kernel dumps the first page
/// of every ELF file mapping, and `AT_PHDR` says which mapping is the executable's. None if
/// the core lacks that page.
pub fn core_build_ids(core: &CoreFile) -> Option<BuildIds> {
    let phdr = core.auxv(AT_PHDR)?;
    let header = core
        .mapped_files()
        .iter()
        .find(|f| f.start <= phdr && phdr < f.end)
        .map(|f| f.start.wrapping_sub(f.file_offset))
        .unwrap_or(phdr & !0xfff);
    let page = core.dumped_from(header)?;
    let segs = elf_image::note_segments(page).ok()?;
    let mut ids = BuildIds::default();
    for n in segs {
        let found = notes::build_ids(&notes::iter_notes(n.data, n.align).unwrap_or_default());
        ids.go = ids.go.or(found.go);
        ids.gnu = ids.gnu.or(found.gnu);
    }
    (ids.go.is_some() || ids.gnu.is_some()).then_some(ids)
}

/// Check that `exe_data` (the executable at `exe_path`, loaded with `bias`) produced `core`.
///
/// In order: compare the build IDs in the core's dump of the executable's first page (found
/// through `AT_PHDR`) with the executable's; else compare the executable's PT_NOTE bytes with
/// the core's dumped bytes at the same (relocated) addresses; for an executable without notes,
/// its ELF and program headers. A difference is [`TargetError::ExeMismatch`]. If the core holds
/// none of these, fall back to the NT_FILE names.
pub fn check_exe_matches(
    core: &CoreFile,
    exe_path: &Path,
    exe_data: &[u8],
    bias: u64,
) -> Result<ExeCheck, TargetError> {
    let note_segs = elf_image::note_segments(exe_data).unwrap_or_default();
    let mut exe_ids = BuildIds::default();
    for n in &note_segs {
        let found = notes::build_ids(&notes::iter_notes(n.data, n.align).unwrap_or_default());
        exe_ids.go = exe_ids.go.or(found.go);
        exe_ids.gnu = exe_ids.gnu.or(found.gnu);
    }
    let core_ids = core_build_ids(core);
    let mismatch = |c: Option<BuildIds>| {
        let c = c.or_else(|| core_ids.clone()).unwrap_or_default();
        let none = || "none".to_string();
        let (id_kind, core_id, exe_id) = if c.go.is_some() || exe_ids.go.is_some() {
            ("Go build ID", c.go, exe_ids.go.clone())
        } else if c.gnu.is_some() || exe_ids.gnu.is_some() {
            ("GNU build ID", c.gnu, exe_ids.gnu.clone())
        } else {
            (
                "ELF headers",
                Some("different".into()),
                Some("different".into()),
            )
        };
        TargetError::ExeMismatch {
            core: core.path().to_path_buf(),
            exe: exe_path.to_path_buf(),
            id_kind,
            core_id: core_id.unwrap_or_else(none),
            exe_id: exe_id.unwrap_or_else(none),
        }
    };

    // 1. Build IDs from the core's own copy of the executable's first page.
    if let Some(c) = &core_ids {
        for (a, b) in [(&c.go, &exe_ids.go), (&c.gnu, &exe_ids.gnu)] {
            if let (Some(a), Some(b)) = (a, b) {
                return if a == b {
                    Ok(ExeCheck::Verified)
                } else {
                    Err(mismatch(None))
                };
            }
        }
    }
    // 2. The executable's notes against the core's bytes at the relocated addresses.
    let mut compared = false;
    for n in note_segs
        .iter()
        .filter(|n| n.vaddr != 0 && !n.data.is_empty())
    {
        let Some(dumped) = core.dumped_bytes(n.vaddr.wrapping_add(bias), n.data.len()) else {
            continue;
        };
        if dumped != n.data {
            let found = notes::build_ids(&notes::iter_notes(dumped, n.align).unwrap_or_default());
            let found = (found != BuildIds::default()).then_some(found);
            return Err(mismatch(found));
        }
        compared = true;
    }
    // 3. No notes: the ELF header and program headers.
    if note_segs.is_empty() {
        match compare_headers(core, exe_data, bias) {
            Some(true) => compared = true,
            Some(false) => return Err(mismatch(None)),
            None => {}
        }
    }
    if compared {
        return Ok(ExeCheck::Verified);
    }
    Ok(by_file_name(core, exe_path))
}

/// Compare the executable's ELF header and program headers with the core's dump of its first
/// page. None if the core does not hold them.
fn compare_headers(core: &CoreFile, exe_data: &[u8], bias: u64) -> Option<bool> {
    let h = elf_image::header(exe_data).ok()?;
    let len = usize::try_from(h.phdrs_end()?).ok()?;
    let first = elf_image::load_segments(exe_data)
        .ok()?
        .into_iter()
        .find(|s| s.file_offset == 0 && s.filesz as usize >= len)?;
    let dumped = core.dumped_bytes(first.vaddr.wrapping_add(bias), len)?;
    Some(dumped == exe_data.get(..len)?)
}

fn by_file_name(core: &CoreFile, exe_path: &Path) -> ExeCheck {
    let Some(name) = exe_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return ExeCheck::NotVerifiable(format!("{} has no file name", exe_path.display()));
    };
    if core.mapped_files().is_empty() {
        return ExeCheck::NotVerifiable(format!(
            "core {} holds neither the executable's build ID nor a list of mapped files",
            core.path().display()
        ));
    }
    let base = |p: &str| {
        let p = p.strip_suffix(" (deleted)").unwrap_or(p);
        p.rsplit('/').next().unwrap_or(p).to_string()
    };
    match core.mapped_files().iter().find(|f| base(&f.path) == name) {
        Some(f) => ExeCheck::NameMatches(f.path.clone()),
        None => ExeCheck::NotVerifiable(format!(
            "core {} does not hold the executable's build ID, and none of its mapped files is named {name}",
            core.path().display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::core_file::tests::{regs, sample_core, AT_ENTRY as AT_E};
    use super::super::elf_image::test_writer::*;
    use super::super::MemoryExt;
    use super::*;

    fn anon(bytes: &[u8]) -> Arc<Mmap> {
        let mut m = memmap2::MmapMut::map_anon(bytes.len()).unwrap();
        m.copy_from_slice(bytes);
        Arc::new(m.make_read_only().unwrap())
    }

    /// The executable of `sample_core`: text at 0x400000 (header page + 0x2000 of 0xee),
    /// rodata at 0x600000 (0x800 of 0x77 in a 0x1000 segment: 0x800.. is .bss-like).
    fn sample_exe(go_id: &str) -> Vec<u8> {
        TestElf::exe(0x401000)
            .note(b"Go", 4, go_id.as_bytes().to_vec())
            .load(Seg::new(0x400000, 0, PF_R | PF_X, vec![0xee; 0x2000]))
            .load(Seg::new(0x600000, 0x1000, PF_R, vec![0x77; 0x800]))
            .build()
    }

    /// sample_core, but its first text page is the executable's header page.
    fn core_with_exe_page(exe: &[u8]) -> CoreFile {
        let mut t = sample_core();
        seg_mut(&mut t, 0x400000).data = exe[..0x1000].to_vec();
        CoreFile::from_bytes(Path::new("/x/core"), &t.build()).unwrap()
    }

    fn seg_mut(t: &mut TestElf, vaddr: u64) -> &mut Seg {
        t.loads.iter_mut().find(|s| s.vaddr == vaddr).unwrap()
    }

    fn memory(exe: &[u8]) -> CoreMemory {
        let core = Arc::new(core_with_exe_page(exe));
        let img = ExeImage::new(anon(exe), 0).unwrap();
        CoreMemory::new(core, Some(img))
    }

    #[test]
    fn core_over_exe() {
        let exe = sample_exe("a/b");
        let m = memory(&exe);
        // Dumped first page: from the core (which equals the exe here).
        assert_eq!(&m.bytes(0x400000, 4).unwrap()[..], b"\x7fELF");
        // Beyond the core's p_filesz: the executable's text.
        assert_eq!(m.read_u64(0x401000).unwrap(), 0xeeee_eeee_eeee_eeee);
        assert_eq!(m.read_u8(0x402fff).unwrap(), 0xee);
        // The core's segment ends at 0x403000; beyond it, nothing.
        assert_eq!(
            m.read_u8(0x403000),
            Err(ReadError::Unmapped { addr: 0x403000 })
        );
        // Segment with filesz = 0 in the core: all from the exe, then .bss-like NotDumped.
        assert_eq!(m.read_u8(0x6007ff).unwrap(), 0x77);
        assert_eq!(
            m.read_u8(0x600800),
            Err(ReadError::NotDumped { addr: 0x600800 })
        );
        assert_eq!(
            m.read_u64(0x6007fc),
            Err(ReadError::NotDumped { addr: 0x600800 })
        );
        // Data only in the core.
        assert_eq!(m.read_u32(0xc000000000).unwrap(), 0x1111_1111);
        // Unmapped.
        assert_eq!(m.read_u8(0x10), Err(ReadError::Unmapped { addr: 0x10 }));
        assert_eq!(
            m.read_u8(0xc000003000),
            Err(ReadError::Unmapped { addr: 0xc000003000 })
        );
        // Overflow.
        assert!(matches!(
            m.bytes(u64::MAX, 2),
            Err(ReadError::Overflow { .. })
        ));
        assert_eq!(&m.bytes(0x10, 0).unwrap()[..], b"");
    }

    #[test]
    fn core_bytes_win_over_exe() {
        let exe = sample_exe("a/b");
        // A core whose dumped text page differs from the executable (e.g. a breakpoint).
        let mut t = sample_core();
        let mut page = exe[..0x1000].to_vec();
        page[0x800] = 0xcc;
        seg_mut(&mut t, 0x400000).data = page;
        let core = Arc::new(CoreFile::from_bytes(Path::new("/x/core"), &t.build()).unwrap());
        let m = CoreMemory::new(core, Some(ExeImage::new(anon(&exe), 0).unwrap()));
        assert_eq!(m.read_u8(0x400800).unwrap(), 0xcc);
    }

    #[test]
    fn without_exe() {
        let core =
            Arc::new(CoreFile::from_bytes(Path::new("/x/core"), &sample_core().build()).unwrap());
        let m = CoreMemory::new(core, None);
        assert_eq!(m.read_u8(0x400fff).unwrap(), 0xaa);
        assert_eq!(
            m.read_u8(0x401000),
            Err(ReadError::NotDumped { addr: 0x401000 })
        );
        assert_eq!(
            m.read_u8(0x600000),
            Err(ReadError::NotDumped { addr: 0x600000 })
        );
    }

    #[test]
    fn cross_segment_reads_and_borrowing() {
        let m = memory(&sample_exe("a/b"));
        // Within one region: borrowed.
        assert!(matches!(
            m.bytes(0xc000000100, 64).unwrap(),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            m.bytes(0x401000, 0x1000).unwrap(),
            Cow::Borrowed(_)
        ));
        // Adjacent core segments, contiguous in the file: merged, still borrowed.
        let b = m.bytes(0xc000001ffc, 8).unwrap();
        assert_eq!(&b[..], &[0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22]);
        assert!(matches!(b, Cow::Borrowed(_)));
        assert_eq!(m.read_u64(0xc000001ffc).unwrap(), 0x2222_2222_1111_1111);
        // Core page to exe text: spans two sources, copied.
        let b = m.bytes(0x400ffe, 4).unwrap();
        assert!(matches!(b, Cow::Owned(_)));
        assert_eq!(b[2..], [0xee, 0xee]);
        assert_eq!(b[..2], exe_tail(&sample_exe("a/b")));
        // `mapped` borrows what `bytes` borrows and nothing else.
        assert_eq!(
            m.mapped(0xc000001ffc, 8),
            Some(&[0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22][..])
        );
        assert_eq!(m.mapped(0x400ffe, 4), None);
        assert_eq!(m.mapped(0xc000002ffc, 8), None);
        assert_eq!(m.mapped(u64::MAX, 2), None);
        // Running off the end of mapped memory.
        assert_eq!(
            m.read_u64(0xc000002ffc),
            Err(ReadError::Unmapped { addr: 0xc000003000 })
        );
    }

    fn exe_tail(exe: &[u8]) -> [u8; 2] {
        [exe[0xffe], exe[0xfff]]
    }

    #[test]
    fn regions_are_flat_and_sorted() {
        let m = memory(&sample_exe("a/b"));
        let r = m.regions();
        assert!(r.windows(2).all(|w| w[0].end <= w[1].start));
        let kinds: Vec<(u64, RegionSource)> = r.iter().map(|r| (r.start, r.source)).collect();
        assert_eq!(
            kinds,
            [
                (0x400000, RegionSource::Core),
                (0x401000, RegionSource::Exe),
                (0x600000, RegionSource::Exe),
                (0x600800, RegionSource::NotDumped),
                (0xc000000000, RegionSource::Core),
            ]
        );
        assert_eq!(r[1].end, 0x403000);
        assert_eq!(r.last().unwrap().end, 0xc000003000);
    }

    #[test]
    fn pie_bias() {
        // A PIE linked at 0 with entry 0x1000, loaded at 0x555555554000.
        let load = 0x5555_5555_4000u64;
        let exe = TestElf {
            e_type: ET_DYN,
            ..TestElf::exe(0x1000)
        }
        .note(b"Go", 4, b"pie/id".to_vec())
        .load(Seg::new(0, 0, PF_R | PF_X, vec![0x5a; 0x1000]))
        .build();
        let core = TestElf::core()
            .note(b"CORE", 1, prstatus(1, &regs(0)))
            .note(b"CORE", 6, auxv(&[(AT_E, load + 0x1000)]))
            .load(Seg::new(load, 0x2000, PF_R | PF_X, exe[..0x1000].to_vec()))
            .build();
        let core = Arc::new(CoreFile::from_bytes(Path::new("/x/core"), &core).unwrap());
        let bias = load_bias(&core, 0x1000, true);
        assert_eq!(bias, load);
        assert_eq!(load_bias(&core, 0x1000, false), 0);
        let m = CoreMemory::new(core.clone(), Some(ExeImage::new(anon(&exe), bias).unwrap()));
        assert_eq!(m.read_u8(load + 0x1000).unwrap(), 0x5a);
        assert_eq!(m.read_u8(0x1000), Err(ReadError::Unmapped { addr: 0x1000 }));
        let ok = check_exe_matches(&core, Path::new("/y/app"), &exe, bias).unwrap();
        assert_eq!(ok, ExeCheck::Verified);
        // With a wrong bias the notes are not where the core has dumped bytes.
        let r = check_exe_matches(&core, Path::new("/y/app"), &exe, 0).unwrap();
        assert!(matches!(r, ExeCheck::NotVerifiable(_)));
    }

    #[test]
    fn build_id_match_and_mismatch() {
        let exe = sample_exe("good/id");
        let core = core_with_exe_page(&exe);
        assert_eq!(
            check_exe_matches(&core, Path::new("/y/app"), &exe, 0).unwrap(),
            ExeCheck::Verified
        );
        let other = sample_exe("evil/id");
        let e = check_exe_matches(&core, Path::new("/y/app"), &other, 0).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, TargetError::ExeMismatch { .. }));
        assert!(msg.contains("/x/core") && msg.contains("/y/app"), "{msg}");
        assert!(
            msg.contains("good/id in the core") && msg.contains("evil/id in the executable"),
            "{msg}"
        );
    }

    #[test]
    fn build_ids_by_bytes_without_at_phdr() {
        let exe = sample_exe("good/id");
        let mut t = sample_core();
        seg_mut(&mut t, 0x400000).data = exe[..0x1000].to_vec();
        t.notes.retain(|n| n.1 != 6); // no NT_AUXV: no AT_PHDR
        let core = CoreFile::from_bytes(Path::new("/x/core"), &t.build()).unwrap();
        assert!(core_build_ids(&core).is_none());
        assert_eq!(
            check_exe_matches(&core, Path::new("/y/app"), &exe, 0).unwrap(),
            ExeCheck::Verified
        );
        let e = check_exe_matches(&core, Path::new("/y/app"), &sample_exe("bad/id"), 0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("good/id in the core, bad/id in the executable"),
            "{e}"
        );
    }

    #[test]
    fn build_ids_via_at_phdr_ignore_bias() {
        let exe = sample_exe("good/id");
        let core = core_with_exe_page(&exe);
        assert_eq!(
            core_build_ids(&core).unwrap().go.as_deref(),
            Some("good/id")
        );
        // A wrong bias does not matter: the IDs come from the core's own page.
        assert_eq!(
            check_exe_matches(&core, Path::new("/y/app"), &exe, 0x1000_0000).unwrap(),
            ExeCheck::Verified
        );
        let e = check_exe_matches(&core, Path::new("/y/app"), &sample_exe("x"), 0x1000_0000);
        assert!(matches!(e, Err(TargetError::ExeMismatch { .. })));
    }

    #[test]
    fn gnu_build_id_and_header_fallbacks() {
        let exe = TestElf::exe(0x401000)
            .note(b"GNU", 3, vec![1, 2, 3, 4])
            .load(Seg::new(0x400000, 0, PF_R | PF_X, vec![0xee; 0x2000]))
            .build();
        let core = core_with_exe_page(&exe);
        let other = TestElf::exe(0x401000)
            .note(b"GNU", 3, vec![1, 2, 3, 5])
            .load(Seg::new(0x400000, 0, PF_R | PF_X, vec![0xee; 0x2000]))
            .build();
        let e = check_exe_matches(&core, Path::new("/y/app"), &other, 0).unwrap_err();
        assert!(
            e.to_string().contains("GNU build ID 01020304 in the core"),
            "{e}"
        );
        // No notes at all: the ELF headers are compared.
        let bare = TestElf::exe(0x401000)
            .load(Seg::new(0x400000, 0, PF_R | PF_X, vec![0xee; 0x2000]))
            .build();
        let core = core_with_exe_page(&bare);
        assert_eq!(
            check_exe_matches(&core, Path::new("/y/app"), &bare, 0).unwrap(),
            ExeCheck::Verified
        );
        let bare2 = TestElf::exe(0x402000)
            .load(Seg::new(0x400000, 0, PF_R | PF_X, vec![0xee; 0x2000]))
            .build();
        assert!(check_exe_matches(&core, Path::new("/y/app"), &bare2, 0).is_err());
    }

    #[test]
    fn not_verifiable_falls_back_to_file_names() {
        // sample_core's text page is not the exe's header page: nothing to compare.
        let core = CoreFile::from_bytes(Path::new("/x/core"), &sample_core().build()).unwrap();
        let mut no_page = sample_core();
        seg_mut(&mut no_page, 0x400000).data.clear();
        let core2 = CoreFile::from_bytes(Path::new("/x/core"), &no_page.build()).unwrap();
        let exe = sample_exe("a/b");
        // The core holds 0xaa bytes where the notes should be: that is a mismatch.
        assert!(check_exe_matches(&core, Path::new("/y/app"), &exe, 0).is_err());
        assert_eq!(
            check_exe_matches(&core2, Path::new("/y/app"), &exe, 0).unwrap(),
            ExeCheck::NameMatches("/bin/app".into())
        );
        let r = check_exe_matches(&core2, Path::new("/y/other"), &exe, 0).unwrap();
        match r {
            ExeCheck::NotVerifiable(why) => assert!(why.contains("other"), "{why}"),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn concurrent_reads() {
        let m = memory(&sample_exe("a/b"));
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..1000u64 {
                        assert_eq!(m.read_u8(0x401000 + i).unwrap(), 0xee);
                    }
                });
            }
        });
    }
}
