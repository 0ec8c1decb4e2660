//! ELF note parsing: the core-file notes the target layer needs (NT_PRSTATUS threads, NT_FILE
//! mappings, NT_AUXV, NT_PRPSINFO) and build-ID notes of executables. Every parser is
//! defensive: a malformed note is an `Err(String)`, never a panic or an allocation sized by
//! untrusted counts.

use object::elf::{FileHeader64, NT_AUXV, NT_FILE, NT_PRPSINFO, NT_PRSTATUS};
use object::read::elf::NoteIterator;
use object::LittleEndian as LE;

use super::arch::{Arch, Registers, AMD64_REG_NAMES};
use super::elf_image::NoteSegment;
use super::{MappedFile, Thread};

/// Go's build-ID note type (name "Go").
pub const NT_GO_BUILD_ID: u32 = 4;
/// GNU build-ID note type (name "GNU").
pub const NT_GNU_BUILD_ID: u32 = 3;

/// One note: owner name (trailing NULs stripped), type and descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawNote<'a> {
    pub name: &'a [u8],
    pub n_type: u32,
    pub desc: &'a [u8],
}

/// Split a note segment's bytes into notes.
pub fn iter_notes(data: &[u8], align: u64) -> Result<Vec<RawNote<'_>>, String> {
    let it = NoteIterator::<FileHeader64<LE>>::new(LE, align, data).map_err(|e| e.to_string())?;
    it.map(|n| {
        let n = n.map_err(|e| e.to_string())?;
        Ok(RawNote {
            name: n.name(),
            n_type: n.n_type(LE).0,
            desc: n.desc(),
        })
    })
    .collect()
}

/// The process described by NT_PRPSINFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    /// `pr_fname`: the executable's base name, at most 15 characters.
    pub name: String,
    /// `pr_psargs`: the start of the command line, at most 80 characters.
    pub args: String,
}

/// Everything a core's notes tell the target layer.
#[derive(Debug, Clone, Default)]
pub struct CoreNotes {
    /// In note order: the first thread is the one that received the fatal signal.
    pub threads: Vec<Thread>,
    pub files: Vec<MappedFile>,
    pub auxv: Vec<(u64, u64)>,
    pub process: Option<ProcessInfo>,
}

/// Parse a core file's note segments for `arch`.
pub fn parse_core_notes(segments: &[NoteSegment<'_>], arch: Arch) -> Result<CoreNotes, String> {
    let mut out = CoreNotes::default();
    for seg in segments {
        for n in iter_notes(seg.data, seg.align)? {
            if n.name != b"CORE" {
                continue;
            }
            match n.n_type {
                t if t == NT_PRSTATUS.0 => out.threads.push(parse_prstatus(n.desc, arch)?),
                t if t == NT_FILE.0 && out.files.is_empty() => out.files = parse_nt_file(n.desc)?,
                t if t == NT_AUXV.0 && out.auxv.is_empty() => out.auxv = parse_auxv(n.desc)?,
                t if t == NT_PRPSINFO.0 && out.process.is_none() => {
                    out.process = Some(parse_prpsinfo(n.desc)?)
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

/// NUL-terminated string in a fixed-size field.
fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Offset of `pr_pid` in `struct elf_prstatus` (64-bit Linux).
const PR_PID: usize = 32;
/// Offset of `pr_reg` in `struct elf_prstatus` (64-bit Linux).
const PR_REG: usize = 112;

/// One NT_PRSTATUS note: the thread id and its general registers.
pub fn parse_prstatus(desc: &[u8], arch: Arch) -> Result<Thread, String> {
    let nregs = match arch {
        Arch::Amd64 => AMD64_REG_NAMES.len(),
    };
    let need = PR_REG + 8 * nregs;
    if desc.len() < need {
        return Err(format!(
            "NT_PRSTATUS is {} bytes, {} needs at least {need}",
            desc.len(),
            arch.goarch()
        ));
    }
    let tid = u32_at(desc, PR_PID).ok_or("NT_PRSTATUS too short for pr_pid")?;
    let values = (0..nregs)
        .map(|i| u64_at(desc, PR_REG + 8 * i).unwrap_or(0))
        .collect();
    Ok(Thread {
        tid,
        regs: Registers { arch, values },
    })
}

/// NT_FILE: `count`, `page_size`, `count` × (start, end, page offset), then `count`
/// NUL-terminated paths.
pub fn parse_nt_file(desc: &[u8]) -> Result<Vec<MappedFile>, String> {
    let count = u64_at(desc, 0).ok_or("NT_FILE is shorter than its header")?;
    let page_size = u64_at(desc, 8).ok_or("NT_FILE is shorter than its header")?;
    let table_end = count
        .checked_mul(24)
        .and_then(|n| n.checked_add(16))
        .filter(|&n| n <= desc.len() as u64)
        .ok_or_else(|| {
            format!(
                "NT_FILE claims {count} mappings but is only {} bytes",
                desc.len()
            )
        })? as usize;
    let count = count as usize; // bounded by desc.len() / 24 now
    let mut names = desc[table_end..].split(|&b| b == 0);
    let mut files = Vec::with_capacity(count);
    for i in 0..count {
        let o = 16 + 24 * i;
        let (start, end, pgoff) = (
            u64_at(desc, o).unwrap_or(0),
            u64_at(desc, o + 8).unwrap_or(0),
            u64_at(desc, o + 16).unwrap_or(0),
        );
        if start > end {
            return Err(format!(
                "NT_FILE mapping {i} ends ({end:#x}) before it starts ({start:#x})"
            ));
        }
        let file_offset = pgoff
            .checked_mul(page_size)
            .ok_or_else(|| format!("NT_FILE mapping {i} has an impossible file offset"))?;
        let name = names
            .next()
            .ok_or_else(|| format!("NT_FILE has {count} mappings but only {i} names"))?;
        files.push(MappedFile {
            start,
            end,
            file_offset,
            path: String::from_utf8_lossy(name).into_owned(),
        });
    }
    // A well-formed table ends with the last name's NUL: `split` then yields one empty tail.
    if count > 0 && desc[table_end..].iter().filter(|&&b| b == 0).count() < count {
        return Err("NT_FILE's last path is not NUL-terminated".into());
    }
    Ok(files)
}

/// NT_AUXV: (tag, value) u64 pairs up to AT_NULL (which is not returned).
pub fn parse_auxv(desc: &[u8]) -> Result<Vec<(u64, u64)>, String> {
    if !desc.len().is_multiple_of(16) {
        return Err(format!(
            "NT_AUXV is {} bytes, not a whole number of (tag, value) pairs",
            desc.len()
        ));
    }
    Ok(desc
        .chunks_exact(16)
        .map(|c| (u64_at(c, 0).unwrap_or(0), u64_at(c, 8).unwrap_or(0)))
        .take_while(|&(k, _)| k != 0)
        .collect())
}

/// NT_PRPSINFO (64-bit Linux `struct elf_prpsinfo`): pid, `pr_fname`, `pr_psargs`.
pub fn parse_prpsinfo(desc: &[u8]) -> Result<ProcessInfo, String> {
    const PID: usize = 24;
    const FNAME: usize = 40;
    const PSARGS: usize = 56;
    if desc.len() < PSARGS + 80 {
        return Err(format!(
            "NT_PRPSINFO is {} bytes, needs at least {}",
            desc.len(),
            PSARGS + 80
        ));
    }
    Ok(ProcessInfo {
        pid: u32_at(desc, PID).unwrap_or(0),
        name: c_str(&desc[FNAME..FNAME + 16]),
        args: c_str(&desc[PSARGS..PSARGS + 80]).trim_end().to_string(),
    })
}

/// Build IDs found in a set of notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildIds {
    /// The Go build ID (`.note.go.buildid`), as text.
    pub go: Option<String>,
    /// The GNU build ID (`.note.gnu.build-id`), in hex.
    pub gnu: Option<String>,
}

/// Extract build IDs from notes (any malformed tail is ignored).
pub fn build_ids(notes: &[RawNote<'_>]) -> BuildIds {
    let mut ids = BuildIds::default();
    for n in notes {
        if n.name == b"Go" && n.n_type == NT_GO_BUILD_ID && ids.go.is_none() {
            ids.go = Some(String::from_utf8_lossy(n.desc).into_owned());
        } else if n.name == b"GNU" && n.n_type == NT_GNU_BUILD_ID && ids.gnu.is_none() {
            ids.gnu = Some(n.desc.iter().map(|b| format!("{b:02x}")).collect());
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::super::elf_image::test_writer::*;
    use super::super::elf_image::{note_segments, NoteSegment};
    use super::*;

    fn seg(data: &[u8]) -> NoteSegment<'_> {
        NoteSegment {
            vaddr: 0,
            file_offset: 0,
            align: 4,
            data,
        }
    }

    fn regs() -> [u64; 27] {
        std::array::from_fn(|i| 0x1000 + i as u64)
    }

    #[test]
    fn prstatus_registers() {
        let t = parse_prstatus(&prstatus(4242, &regs()), Arch::Amd64).unwrap();
        assert_eq!(t.tid, 4242);
        assert_eq!(t.regs.pc(), 0x1000 + 16);
        assert_eq!(t.regs.sp(), 0x1000 + 19);
        assert_eq!(t.regs.bp(), 0x1000 + 4);
        assert_eq!(t.regs.tls_base(), 0x1000 + 21);
        assert_eq!(t.regs.values.len(), 27);
        assert!(parse_prstatus(&prstatus(1, &regs())[..300], Arch::Amd64).is_err());
        assert!(parse_prstatus(&[], Arch::Amd64).is_err());
    }

    #[test]
    fn nt_file_entries() {
        let d = nt_file(
            0x1000,
            &[
                (0x400000, 0x481000, 0, "/bin/app"),
                (0x481000, 0x524000, 0x81, "/bin/app"),
                (0x7f00_0000_0000, 0x7f00_0000_2000, 2, "/lib/x.so"),
            ],
        );
        let f = parse_nt_file(&d).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(
            f[1],
            MappedFile {
                start: 0x481000,
                end: 0x524000,
                file_offset: 0x81000,
                path: "/bin/app".into()
            }
        );
        assert_eq!(f[2].path, "/lib/x.so");
        assert_eq!(f[2].file_offset, 0x2000);
        assert!(parse_nt_file(&nt_file(0x1000, &[])).unwrap().is_empty());
    }

    #[test]
    fn nt_file_malformed() {
        // Absurd count: no huge allocation, an error.
        let mut d = nt_file(0x1000, &[(1, 2, 0, "a")]);
        d[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(parse_nt_file(&d).is_err());
        d[..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(parse_nt_file(&d).is_err());
        // Missing names.
        let mut d = nt_file(0x1000, &[(1, 2, 0, "a"), (3, 4, 0, "b")]);
        d.truncate(d.len() - 4);
        assert!(parse_nt_file(&d).is_err());
        // Last name not terminated.
        let mut d = nt_file(0x1000, &[(1, 2, 0, "abc")]);
        d.pop();
        assert!(parse_nt_file(&d).is_err());
        // start > end.
        assert!(parse_nt_file(&nt_file(0x1000, &[(5, 2, 0, "a")])).is_err());
        // Overflowing offset.
        assert!(parse_nt_file(&nt_file(u64::MAX, &[(1, 2, 3, "a")])).is_err());
        // Too short for the header.
        assert!(parse_nt_file(&[1, 2, 3]).is_err());
        assert!(parse_nt_file(&[]).is_err());
    }

    #[test]
    fn auxv_pairs() {
        let a = parse_auxv(&auxv(&[(6, 0x1000), (9, 0x401000)])).unwrap();
        assert_eq!(a, vec![(6, 0x1000), (9, 0x401000)]);
        assert!(parse_auxv(&[0; 15]).is_err());
        assert!(parse_auxv(&[]).unwrap().is_empty());
    }

    #[test]
    fn prpsinfo_fields() {
        let p = parse_prpsinfo(&prpsinfo(77, "myserver", "./myserver -port 80")).unwrap();
        assert_eq!(p.pid, 77);
        assert_eq!(p.name, "myserver");
        assert_eq!(p.args, "./myserver -port 80");
        // Full-width name without NUL.
        let p = parse_prpsinfo(&prpsinfo(1, "abcdefghijklmnopqrst", "")).unwrap();
        assert_eq!(p.name, "abcdefghijklmnop");
        assert!(parse_prpsinfo(&[0; 100]).is_err());
    }

    #[test]
    fn core_notes_from_segment() {
        let f = TestElf::core()
            .note(b"CORE", 1, prstatus(10, &regs()))
            .note(b"CORE", 3, prpsinfo(10, "app", "app"))
            .note(b"LINUX", 0x202, vec![0; 64])
            .note(b"CORE", 6, auxv(&[(9, 5)]))
            .note(b"CORE", 0x4649_4c45, nt_file(4096, &[(0, 4096, 0, "/app")]))
            .note(b"CORE", 1, prstatus(11, &regs()))
            .build();
        let segs = note_segments(&f).unwrap();
        let n = parse_core_notes(&segs, Arch::Amd64).unwrap();
        assert_eq!(
            n.threads.iter().map(|t| t.tid).collect::<Vec<_>>(),
            [10, 11]
        );
        assert_eq!(n.auxv, vec![(9, 5)]);
        assert_eq!(n.files.len(), 1);
        assert_eq!(n.process.unwrap().name, "app");
    }

    #[test]
    fn malformed_note_headers() {
        // descsz pointing past the segment.
        let mut b = Vec::new();
        b.extend(5u32.to_le_bytes());
        b.extend(0xffff_fff0u32.to_le_bytes());
        b.extend(1u32.to_le_bytes());
        b.extend(b"CORE\0\0\0\0");
        assert!(parse_core_notes(&[seg(&b)], Arch::Amd64).is_err());
        // Too short for a note header.
        assert!(parse_core_notes(&[seg(&[1, 2, 3])], Arch::Amd64).is_err());
        // A short NT_PRSTATUS inside a well-formed note.
        let f = TestElf::core().note(b"CORE", 1, vec![0; 40]).build();
        let segs = note_segments(&f).unwrap();
        assert!(parse_core_notes(&segs, Arch::Amd64).is_err());
        // Bad alignment value.
        let s = NoteSegment {
            align: 3000,
            ..seg(&b)
        };
        assert!(parse_core_notes(&[s], Arch::Amd64).is_err());
    }

    #[test]
    fn build_id_notes() {
        let f = TestElf::exe(0)
            .note(b"Go", 4, b"abc/def".to_vec())
            .note(b"GNU", 3, vec![0xde, 0xad])
            .load(Seg::new(0x400000, 0, PF_R, vec![]))
            .build();
        let segs = note_segments(&f).unwrap();
        let notes = iter_notes(segs[0].data, segs[0].align).unwrap();
        let ids = build_ids(&notes);
        assert_eq!(ids.go.as_deref(), Some("abc/def"));
        assert_eq!(ids.gnu.as_deref(), Some("dead"));
    }
}
