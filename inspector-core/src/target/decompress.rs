//! Opening a core file that may be gzip- or zstd-compressed. A compressed file is decompressed
//! once, streaming, into an anonymous temporary file (never into memory), which is then
//! mapped; an uncompressed file is mapped directly.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, Write};
use std::path::Path;

use memmap2::Mmap;

use super::TargetError;

/// How the core file on disk was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Detect from the first bytes of a file.
    pub fn detect(magic: &[u8]) -> Compression {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// A compression format goheap recognises but does not decompress: (name, command to run).
pub fn unsupported_compression(magic: &[u8]) -> Option<(&'static str, &'static str)> {
    if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(("xz", "xz -d"))
    } else if magic.starts_with(b"BZh") {
        Some(("bzip2", "bzip2 -d"))
    } else if magic.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        Some(("lz4", "lz4 -d"))
    } else {
        None
    }
}

/// Map `path`, decompressing it first if it is gzip or zstd.
pub fn open(path: &Path) -> Result<(Mmap, Compression), TargetError> {
    let io = |source: std::io::Error| TargetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => TargetError::Missing {
            path: path.to_path_buf(),
        },
        _ => io(e),
    })?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(TargetError::NotElf {
            path: path.to_path_buf(),
            detail: "it is a directory".into(),
        });
    }
    if meta.len() == 0 {
        return Err(TargetError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut file, &mut magic).map_err(io)?;
    let compression = Compression::detect(&magic[..n]);
    let map = match compression {
        Compression::None => map_file(&file).map_err(io)?,
        Compression::Gzip | Compression::Zstd => {
            file.rewind().map_err(io)?;
            let tmp = decompress_to_temp(path, file, compression)?;
            map_file(&tmp).map_err(io)?
        }
    };
    if map.is_empty() {
        return Err(TargetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok((map, compression))
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn map_file(file: &File) -> std::io::Result<Mmap> {
    if file.metadata()?.len() == 0 {
        // Mapping zero bytes fails on Linux; an empty anonymous map stands for "empty".
        return memmap2::MmapMut::map_anon(0)?.make_read_only();
    }
    // SAFETY: the map is read-only and goheap never writes through it. It is either the
    // user's core file or our own unlinked temporary file; another process truncating or
    // rewriting the user's file while we run is outside our contract (as for any mmap reader).
    unsafe { Mmap::map(file) }
}

/// Stream-decompress `file` into an anonymous temporary file.
fn decompress_to_temp(path: &Path, file: File, c: Compression) -> Result<File, TargetError> {
    let format = c.name();
    let err = |detail: String| TargetError::Decompress {
        path: path.to_path_buf(),
        format,
        detail,
    };
    let read_err = |e: std::io::Error| {
        err(format!(
            "{e}; the compressed file may be cut short or damaged (check it with `{format} -t`), \
             or decompress it by hand and pass the result"
        ))
    };
    let tmpdir = std::env::temp_dir();
    let write_err = |e: std::io::Error| {
        err(format!(
            "cannot write the decompressed copy to {}: {e}; set TMPDIR to a directory with \
             enough free space, or decompress it by hand and pass the result",
            tmpdir.display()
        ))
    };
    let input = BufReader::with_capacity(1 << 20, file);
    let mut reader: Box<dyn Read> = match c {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(input).map_err(read_err)?)
        }
        Compression::None => Box::new(input),
    };
    let mut out = SparseWriter {
        file: tempfile::tempfile().map_err(write_err)?,
        len: 0,
        cursor: 0,
    };
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        };
        out.write(&buf[..n]).map_err(write_err)?;
    }
    out.finish().map_err(write_err)
}

/// Writes a file, leaving holes for zero blocks: cores are mostly zero pages, and a hole
/// costs neither disk space nor write time (reads of it through the map return zeros).
struct SparseWriter {
    file: File,
    /// Logical length written so far.
    len: u64,
    /// The file's seek position.
    cursor: u64,
}

impl SparseWriter {
    const BLOCK: usize = 4096;

    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        let mut run: Option<usize> = None; // start of a run of non-zero blocks
        let mut i = 0;
        while i < data.len() {
            let end = (i + Self::BLOCK).min(data.len());
            let zero = data[i..end].iter().all(|&b| b == 0);
            match (zero, run) {
                (false, None) => run = Some(i),
                (true, Some(s)) => {
                    self.put(s, &data[s..i])?;
                    run = None;
                }
                _ => {}
            }
            i = end;
        }
        if let Some(s) = run {
            self.put(s, &data[s..])?;
        }
        self.len += data.len() as u64;
        Ok(())
    }

    /// Write `bytes` found at offset `at` of the current chunk.
    fn put(&mut self, at: usize, bytes: &[u8]) -> std::io::Result<()> {
        let pos = self.len + at as u64;
        if self.cursor != pos {
            self.file.seek(std::io::SeekFrom::Start(pos))?;
        }
        self.file.write_all(bytes)?;
        self.cursor = pos + bytes.len() as u64;
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<File> {
        self.file.set_len(self.len)?;
        self.file.flush()?;
        Ok(self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn write(dir: &Path, name: &str, data: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    fn sample() -> Vec<u8> {
        (0..300_000u32)
            .flat_map(|i| (i * 7).to_le_bytes())
            .collect()
    }

    #[test]
    fn plain_gzip_zstd_identical() {
        let dir = tempfile::tempdir().unwrap();
        let data = sample();
        let p = write(dir.path(), "plain", &data);
        let g = write(dir.path(), "c.gz", &gzip(&data));
        let z = write(
            dir.path(),
            "c.zst",
            &zstd::encode_all(&data[..], 1).unwrap(),
        );
        let (m, c) = open(&p).unwrap();
        assert_eq!((&m[..], c), (&data[..], Compression::None));
        let (m, c) = open(&g).unwrap();
        assert_eq!((&m[..], c), (&data[..], Compression::Gzip));
        let (m, c) = open(&z).unwrap();
        assert_eq!((&m[..], c), (&data[..], Compression::Zstd));
    }

    #[test]
    fn concatenated_gzip_members() {
        let dir = tempfile::tempdir().unwrap();
        let mut two = gzip(b"hello ");
        two.extend(gzip(b"world"));
        let (m, _) = open(&write(dir.path(), "two.gz", &two)).unwrap();
        assert_eq!(&m[..], b"hello world");
    }

    #[test]
    fn errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(matches!(open(&missing), Err(TargetError::Missing { .. })));
        let empty = write(dir.path(), "empty", b"");
        assert!(matches!(open(&empty), Err(TargetError::Empty { .. })));
        assert!(matches!(open(dir.path()), Err(TargetError::NotElf { .. })));
        // Truncated gzip and zstd streams.
        let gz = gzip(&sample());
        let p = write(dir.path(), "cut.gz", &gz[..gz.len() / 2]);
        let e = open(&p).unwrap_err();
        assert!(
            matches!(e, TargetError::Decompress { format: "gzip", .. }),
            "{e}"
        );
        assert!(e.to_string().contains("cut.gz"));
        let zs = zstd::encode_all(&sample()[..], 1).unwrap();
        let p = write(dir.path(), "cut.zst", &zs[..zs.len() / 2]);
        assert!(matches!(
            open(&p),
            Err(TargetError::Decompress { format: "zstd", .. })
        ));
        // Garbage after a gzip magic.
        let p = write(dir.path(), "bad.gz", &[0x1f, 0x8b, 0, 0, 1, 2, 3]);
        assert!(matches!(open(&p), Err(TargetError::Decompress { .. })));
        // A gzip file that decompresses to nothing.
        let p = write(dir.path(), "nothing.gz", &gzip(b""));
        assert!(matches!(open(&p), Err(TargetError::Empty { .. })));
        // Tiny uncompressed files are mapped as they are.
        let p = write(dir.path(), "one", b"x");
        assert_eq!(&open(&p).unwrap().0[..], b"x");
    }

    #[test]
    fn sparse_writer_keeps_every_byte() {
        let mut data = vec![0u8; 3 * 4096 + 100];
        data[5000] = 1;
        data[3 * 4096 + 99] = 2;
        let mut w = SparseWriter {
            file: tempfile::tempfile().unwrap(),
            len: 0,
            cursor: 0,
        };
        for chunk in data.chunks(3000) {
            w.write(chunk).unwrap();
        }
        w.write(&[0; 10]).unwrap(); // trailing zeros still count
        let f = w.finish().unwrap();
        let m = map_file(&f).unwrap();
        assert_eq!(m.len(), data.len() + 10);
        assert_eq!(&m[..data.len()], &data[..]);
        assert!(m[data.len()..].iter().all(|&b| b == 0));
    }

    #[test]
    fn recognises_unsupported_formats() {
        assert_eq!(
            unsupported_compression(&[0xfd, b'7', b'z', b'X', b'Z', 0, 1])
                .unwrap()
                .0,
            "xz"
        );
        assert!(unsupported_compression(b"\x7fELF").is_none());
    }
}
