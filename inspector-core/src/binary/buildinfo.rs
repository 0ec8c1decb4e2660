//! The Go build info: the `.go.buildinfo` section written by the linker
//! (Go source: `debug/buildinfo/buildinfo.go`, `runtime/debug/mod.go`).
//!
//! Layout (Go ≥ 1.18, the only layout supported here):
//!
//! ```text
//! +0  "\xff Go buildinf:"   14-byte magic
//! +14 ptrSize u8
//! +15 flags   u8             bit 0: big-endian, bit 1: strings are inline (always set since 1.18)
//! +32 uvarint len, Go version ("go1.22.10", "go1.25.5 X:greenteagc", ...)
//!     uvarint len, modinfo    (text framed by two 16-byte sentinels)
//! ```
//!
//! The modinfo text has one record per line: `path\t<pkg>`, `mod\t<path>\t<version>[\t<sum>]`,
//! `dep\t...`, `=>\t<replacement>` and `build\t<KEY>=<VALUE>` (`-buildmode`, `GOARCH`, `GOOS`,
//! `GOEXPERIMENT`, `CGO_ENABLED`, ...).

use std::fmt;

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_SIZE: usize = 32;
const ALIGN: usize = 16;
const FLAG_BIG_ENDIAN: u8 = 0x1;
const FLAG_VERSION_INLINE: u8 = 0x2;
/// Length of each sentinel framing the modinfo string (`cmd/go/internal/modload`).
const SENTINEL_LEN: usize = 16;

/// A module line of the modinfo (`mod`, `dep`, or the target of `=>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    /// The go.sum checksum ("h1:..."), empty when absent.
    pub sum: String,
    /// The replacement (`=>` line), if any.
    pub replace: Option<Box<Module>>,
}

/// The Go build info from `.go.buildinfo`.
#[derive(Debug, Clone, Default)]
pub struct BuildInfo {
    /// The toolchain version exactly as recorded, e.g. "go1.22.10" or "go1.25.5 X:greenteagc".
    pub go_version: String,
    /// The modinfo text without its sentinels (empty when the binary has none).
    pub mod_info: String,
    /// Pointer size of the target (8 on amd64/arm64).
    pub ptr_size: u8,
    /// The target is big-endian.
    pub big_endian: bool,
    /// Package path of the main package (`path` line).
    pub path: String,
    /// The main module (`mod` line), if recorded.
    pub main_module: Option<Module>,
    /// Dependency modules (`dep` lines), in file order.
    pub deps: Vec<Module>,
    /// Build settings (`build KEY=VALUE` lines), in file order, values unquoted.
    pub settings: Vec<(String, String)>,
}

impl BuildInfo {
    /// The value of a build setting, e.g. `setting("GOARCH") == Some("amd64")`,
    /// `setting("-buildmode") == Some("pie")`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The parsed toolchain version; `None` for development builds ("devel ...") and
    /// anything else that is not `go<major>.<minor>[.<patch>]` (see [`GoVersion::parse`]).
    pub fn version(&self) -> Option<GoVersion> {
        GoVersion::parse(&self.go_version)
    }

    /// The toolchain is a development build ("devel go1.27-abcdef ...").
    pub fn is_devel(&self) -> bool {
        self.go_version.starts_with("devel")
    }

    /// The experiments that differ from the toolchain's baseline, from the `GOEXPERIMENT`
    /// setting and the version's "X:" suffix (e.g. `["greenteagc"]`,
    /// `["nogreenteagc", "norandomizedheapbase64"]`). Empty when the build used the defaults.
    pub fn goexperiment(&self) -> Vec<&str> {
        let from_setting = self.setting("GOEXPERIMENT").unwrap_or("").split(',');
        let from_version = version_experiments(&self.go_version).split(',');
        let mut out: Vec<&str> = Vec::new();
        for e in from_setting.chain(from_version) {
            let e = e.trim();
            if !e.is_empty() && !out.contains(&e) {
                out.push(e);
            }
        }
        out
    }
}

/// The comma-separated experiment list after "X:" in a version string, or "".
fn version_experiments(version: &str) -> &str {
    version.find("X:").map_or("", |i| {
        let rest = &version[i + 2..];
        rest.split_whitespace().next().unwrap_or("")
    })
}

/// A Go release version, e.g. 1.22.10. Release candidates and betas ("go1.27rc1") parse as
/// the release they precede (1.27.0), which is what layout decisions need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl GoVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> GoVersion {
        GoVersion {
            major,
            minor,
            patch,
        }
    }

    /// Parse a toolchain version string: "go1.22.10", "go1.21" (= 1.21.0), "1.23.9",
    /// "go1.25.5 X:greenteagc", "go1.26.6-X:nogreenteagc", "go1.27rc1" (= 1.27.0),
    /// "go1.24beta2" (= 1.24.0). Returns `None` for "devel ..." and other unparsable strings.
    pub fn parse(s: &str) -> Option<GoVersion> {
        let s = s.trim();
        let s = s.strip_prefix("go").unwrap_or(s);
        let (major, rest) = leading_number(s)?;
        let rest = rest.strip_prefix('.')?;
        let (minor, rest) = leading_number(rest)?;
        let patch = match rest.strip_prefix('.') {
            Some(r) => leading_number(r)?.0,
            None => 0,
        };
        Some(GoVersion::new(major, minor, patch))
    }
}

/// Split a leading decimal number from `s`.
fn leading_number(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n = s[..end].parse().ok()?;
    Some((n, &s[end..]))
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Parse the contents of the `.go.buildinfo` section.
pub fn parse(section: &[u8]) -> Result<BuildInfo, String> {
    let start = find_header(section)?;
    let header = &section[start..start + HEADER_SIZE];
    let ptr_size = header[14];
    let flags = header[15];
    if flags & FLAG_VERSION_INLINE == 0 {
        return Err(format!(
            "build info stores pointers to its strings (flags {flags:#x}): \
             Go versions before 1.18 are not supported"
        ));
    }
    let mut pos = start + HEADER_SIZE;
    let go_version = read_bytes(section, &mut pos).map_err(|e| format!("Go version: {e}"))?;
    let go_version = std::str::from_utf8(go_version)
        .map_err(|_| "Go version string is not UTF-8".to_string())?;
    if go_version.is_empty() {
        return Err("empty Go version string".into());
    }
    let raw_mod = read_bytes(section, &mut pos).map_err(|e| format!("modinfo: {e}"))?;
    // The sentinels are binary; the text between them is UTF-8 in practice.
    let mod_info = String::from_utf8_lossy(strip_sentinels(raw_mod)).into_owned();
    let mut info = BuildInfo {
        go_version: go_version.to_string(),
        ptr_size,
        big_endian: flags & FLAG_BIG_ENDIAN != 0,
        ..BuildInfo::default()
    };
    parse_mod_info(&mod_info, &mut info);
    info.mod_info = mod_info;
    Ok(info)
}

/// Offset of the 16-byte-aligned header (normally 0: the section starts with it).
fn find_header(section: &[u8]) -> Result<usize, String> {
    (0..section.len())
        .step_by(ALIGN)
        .find(|&i| section[i..].starts_with(MAGIC))
        .filter(|&i| section.len() - i >= HEADER_SIZE)
        .ok_or_else(|| "no \"\\xff Go buildinf:\" header".to_string())
}

/// Read a uvarint-length-prefixed string at `*pos`, advancing `*pos`.
fn read_bytes<'a>(data: &'a [u8], pos: &mut usize) -> Result<&'a [u8], String> {
    let (len, n) = uvarint(data.get(*pos..).unwrap_or(&[])).ok_or("bad length varint")?;
    let begin = *pos + n;
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| begin.checked_add(l))
        .filter(|&e| e <= data.len())
        .ok_or_else(|| format!("string length {len} runs past the section end"))?;
    *pos = end;
    Ok(&data[begin..end])
}

/// Decode an unsigned LEB128 varint (Go's `binary.Uvarint`): (value, bytes read).
fn uvarint(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in data.iter().enumerate().take(10) {
        if i == 9 && b > 1 {
            return None; // overflows 64 bits
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Remove the 16-byte sentinels around the modinfo text, as `debug/buildinfo` does:
/// only when the text is long enough and ends with "\n" + sentinel; otherwise there is none.
fn strip_sentinels(raw: &[u8]) -> &[u8] {
    if raw.len() > 2 * SENTINEL_LEN && raw[raw.len() - SENTINEL_LEN - 1] == b'\n' {
        &raw[SENTINEL_LEN..raw.len() - SENTINEL_LEN]
    } else {
        &[]
    }
}

/// Fill `path`, `main_module`, `deps` and `settings` from the modinfo text. Malformed lines
/// are skipped: the build info is informational and must not make a binary unusable.
fn parse_mod_info(text: &str, info: &mut BuildInfo) {
    // Which module the next "=>" line replaces.
    enum Last {
        None,
        Main,
        Dep,
    }
    let mut last = Last::None;
    for line in text.lines() {
        let (kind, rest) = line.split_once('\t').unwrap_or((line, ""));
        match kind {
            "path" => info.path = rest.to_string(),
            "mod" => {
                info.main_module = parse_module(rest);
                last = Last::Main;
            }
            "dep" => {
                if let Some(m) = parse_module(rest) {
                    info.deps.push(m);
                    last = Last::Dep;
                }
            }
            "=>" => {
                let target = match last {
                    Last::Main => info.main_module.as_mut(),
                    Last::Dep => info.deps.last_mut(),
                    Last::None => None,
                };
                if let (Some(m), Some(r)) = (target, parse_module(rest)) {
                    m.replace = Some(Box::new(r));
                }
                last = Last::None;
            }
            "build" => info.settings.extend(parse_setting(rest)),
            _ => {}
        }
    }
}

/// `<path>\t<version>[\t<sum>]`.
fn parse_module(s: &str) -> Option<Module> {
    let mut cols = s.split('\t');
    let path = cols.next().filter(|p| !p.is_empty())?;
    Some(Module {
        path: path.to_string(),
        version: cols.next().unwrap_or("").to_string(),
        sum: cols.next().unwrap_or("").to_string(),
        replace: None,
    })
}

/// `KEY=VALUE`, where key and value may be Go-quoted (`"-ldflags"="-s -w"` style).
fn parse_setting(kv: &str) -> Option<(String, String)> {
    let (key, raw_value) = if kv.starts_with(['"', '`']) {
        let (key, rest) = unquote_prefix(kv)?;
        (key, rest.strip_prefix('=')?)
    } else {
        let (k, v) = kv.split_once('=')?;
        (k.to_string(), v)
    };
    if key.is_empty() {
        return None;
    }
    let value = if raw_value.starts_with(['"', '`']) {
        unquote_prefix(raw_value)?.0
    } else {
        raw_value.to_string()
    };
    Some((key, value))
}

/// Unquote the Go string literal at the start of `s` (`"..."` with escapes, or a raw
/// `` `...` `` string): (value, remainder after the closing quote).
fn unquote_prefix(s: &str) -> Option<(String, &str)> {
    if let Some(body) = s.strip_prefix('`') {
        let end = body.find('`')?;
        return Some((body[..end].to_string(), &body[end + 1..]));
    }
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => out.push(unescape(&mut chars)?),
            _ => out.push(c),
        }
    }
    None
}

/// Decode one escape sequence after a backslash (the subset `strconv.Quote` produces, plus
/// octal). Non-ASCII `\xNN` bytes are mapped to U+FFFD, as build settings are text.
fn unescape(chars: &mut std::str::CharIndices<'_>) -> Option<char> {
    fn hexn(chars: &mut std::str::CharIndices<'_>, n: usize) -> Option<u32> {
        (0..n).try_fold(0u32, |acc, _| {
            Some(acc * 16 + chars.next()?.1.to_digit(16)?)
        })
    }
    let c = match chars.next()?.1 {
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        c @ ('\\' | '"' | '\'') => c,
        'x' => char::from_u32(hexn(chars, 2)?)
            .filter(char::is_ascii)
            .unwrap_or('\u{fffd}'),
        'u' => char::from_u32(hexn(chars, 4)?)?,
        'U' => char::from_u32(hexn(chars, 8)?)?,
        d @ '0'..='7' => {
            let mut v = d.to_digit(8)?;
            for _ in 0..2 {
                v = v * 8 + chars.next()?.1.to_digit(8)?;
            }
            char::from_u32(v)
                .filter(char::is_ascii)
                .unwrap_or('\u{fffd}')
        }
        _ => return None,
    };
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a section the way the Go linker does: header, then two inline strings.
    fn section(version: &str, modinfo: &[u8]) -> Vec<u8> {
        let mut s = MAGIC.to_vec();
        s.push(8);
        s.push(FLAG_VERSION_INLINE);
        s.resize(HEADER_SIZE, 0);
        for text in [version.as_bytes(), modinfo] {
            let mut len = text.len();
            while len >= 0x80 {
                s.push((len as u8) | 0x80);
                len >>= 7;
            }
            s.push(len as u8);
            s.extend_from_slice(text);
        }
        s
    }

    /// Frame modinfo with binary sentinels, as cmd/go does.
    fn framed(text: &str) -> Vec<u8> {
        let sentinel = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
        [
            &sentinel[..],
            text.as_bytes(),
            b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2",
        ]
        .concat()
    }

    const MODINFO: &str = "path\texample.com/gh\n\
        mod\texample.com/gh\t(devel)\t\n\
        dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n\
        =>\t../sys\t(devel)\t\n\
        build\t-buildmode=exe\n\
        build\t-ldflags=\"-s -w\"\n\
        build\tCGO_ENABLED=0\n\
        build\tGOARCH=amd64\n\
        build\tGOEXPERIMENT=greenteagc,arenas\n\
        build\tGOOS=linux\n";

    #[test]
    fn parses_synthetic_section() {
        let bi = parse(&section("go1.25.5 X:greenteagc", &framed(MODINFO))).unwrap();
        assert_eq!(bi.go_version, "go1.25.5 X:greenteagc");
        assert_eq!(bi.version(), Some(GoVersion::new(1, 25, 5)));
        assert_eq!(bi.mod_info, MODINFO);
        assert_eq!(bi.path, "example.com/gh");
        let main = bi.main_module.as_ref().unwrap();
        assert_eq!(
            (main.path.as_str(), main.version.as_str()),
            ("example.com/gh", "(devel)")
        );
        assert_eq!(bi.deps.len(), 1);
        assert_eq!(bi.deps[0].sum, "h1:abc=");
        assert_eq!(bi.deps[0].replace.as_ref().unwrap().path, "../sys");
        assert_eq!(bi.setting("-buildmode"), Some("exe"));
        assert_eq!(bi.setting("-ldflags"), Some("-s -w"));
        assert_eq!(bi.setting("GOARCH"), Some("amd64"));
        assert_eq!(bi.setting("CGO_ENABLED"), Some("0"));
        assert_eq!(bi.setting("nope"), None);
        assert_eq!(bi.goexperiment(), vec!["greenteagc", "arenas"]);
        assert_eq!(bi.ptr_size, 8);
        assert!(!bi.big_endian);
    }

    #[test]
    fn modinfo_without_sentinels_is_empty() {
        let bi = parse(&section("go1.22.10", b"")).unwrap();
        assert_eq!(bi.mod_info, "");
        assert!(bi.settings.is_empty() && bi.main_module.is_none());
        assert!(bi.goexperiment().is_empty());
    }

    #[test]
    fn header_after_padding_is_found() {
        let mut s = vec![0u8; 32];
        s.extend(section("go1.21.13", &framed(MODINFO)));
        assert_eq!(parse(&s).unwrap().go_version, "go1.21.13");
    }

    #[test]
    fn pointer_format_is_rejected_clearly() {
        let mut s = section("go1.17", b"");
        s[15] = 0; // pointer-format flags of Go ≤ 1.17
        let err = parse(&s).unwrap_err();
        assert!(
            err.contains("Go versions before 1.18 are not supported"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(&[]).is_err());
        assert!(parse(b"\xff Go buildinf:").is_err());
        let mut s = section("go1.22.10", b"");
        s.truncate(HEADER_SIZE + 3);
        assert!(parse(&s).is_err());
        // Length varint claiming far more than the section holds.
        let mut s = MAGIC.to_vec();
        s.extend([8, 2]);
        s.resize(HEADER_SIZE, 0);
        s.extend([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert!(parse(&s).is_err());
        // Every truncation and a byte pattern sweep must not panic.
        let good = section("go1.26.6-X:nogreenteagc", &framed(MODINFO));
        for n in 0..good.len() {
            let _ = parse(&good[..n]);
        }
        for b in 0..=255u8 {
            let mut s = good.clone();
            for x in s.iter_mut().skip(HEADER_SIZE) {
                *x ^= b;
            }
            let _ = parse(&s);
        }
    }

    #[test]
    fn version_strings() {
        let v = |s| GoVersion::parse(s);
        assert_eq!(v("go1.22.10"), Some(GoVersion::new(1, 22, 10)));
        assert_eq!(v("go1.21.13"), Some(GoVersion::new(1, 21, 13)));
        assert_eq!(v("go1.25.5 X:greenteagc"), Some(GoVersion::new(1, 25, 5)));
        assert_eq!(v("go1.26.6-X:nogreenteagc"), Some(GoVersion::new(1, 26, 6)));
        assert_eq!(v("go1.27rc1"), Some(GoVersion::new(1, 27, 0)));
        assert_eq!(v("go1.24beta2"), Some(GoVersion::new(1, 24, 0)));
        assert_eq!(v("go1.21"), Some(GoVersion::new(1, 21, 0)));
        assert_eq!(v("1.23.9"), Some(GoVersion::new(1, 23, 9)));
        assert_eq!(v("devel go1.27-abcdef Tue Jan 1 00:00:00 2030 +0000"), None);
        assert_eq!(v("devel +abcdef"), None);
        assert_eq!(v(""), None);
        assert_eq!(v("go"), None);
        assert_eq!(v("go1"), None);
        assert_eq!(v("go99999999999.1"), None);
        assert_eq!(GoVersion::new(1, 22, 10).to_string(), "1.22.10");
        assert!(GoVersion::new(1, 22, 10) > GoVersion::new(1, 22, 9));
        assert!(GoVersion::new(1, 22, 0) > GoVersion::new(1, 21, 13));
        assert!(GoVersion::new(2, 0, 0) > GoVersion::new(1, 99, 99));
    }

    #[test]
    fn experiments_from_version_suffix() {
        let bi = |v: &str| BuildInfo {
            go_version: v.into(),
            ..BuildInfo::default()
        };
        assert_eq!(
            bi("go1.26.6-X:nogreenteagc,norandomizedheapbase64").goexperiment(),
            vec!["nogreenteagc", "norandomizedheapbase64"]
        );
        assert_eq!(
            bi("go1.25.5 X:greenteagc").goexperiment(),
            vec!["greenteagc"]
        );
        assert!(bi("go1.24.11").goexperiment().is_empty());
        assert!(bi("devel go1.27-abc").is_devel());
    }

    #[test]
    fn quoted_settings() {
        assert_eq!(
            parse_setting(r#""a b"="x\ty\"\u00e9\101""#),
            Some(("a b".into(), "x\ty\"éA".into()))
        );
        assert_eq!(
            parse_setting("k=`raw \\n`"),
            Some(("k".into(), "raw \\n".into()))
        );
        assert_eq!(parse_setting("k="), Some(("k".into(), String::new())));
        assert_eq!(parse_setting("=v"), None);
        assert_eq!(parse_setting("novalue"), None);
        assert_eq!(parse_setting(r#""unterminated=1"#), None);
        assert_eq!(parse_setting(r#"k="\q""#), None);
    }

    #[test]
    fn uvarint_decoding() {
        assert_eq!(uvarint(&[0]), Some((0, 1)));
        assert_eq!(uvarint(&[0x7f]), Some((127, 1)));
        assert_eq!(uvarint(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(uvarint(&[0xac, 0x02]), Some((300, 2)));
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(uvarint(&[]), None);
        assert_eq!(
            uvarint(&[0xff; 9].iter().copied().chain([1]).collect::<Vec<_>>()),
            Some((u64::MAX, 10))
        );
        assert_eq!(
            uvarint(&[0xff; 9].iter().copied().chain([2]).collect::<Vec<_>>()),
            None
        );
    }

    /// (a) Build info of real binaries equals `go version -m`.
    mod with_toolchain {
        use super::super::*;
        use crate::binary::pclntab::go_toolchain::{self, Build};

        fn check(version: &str, build: Build) {
            let Some(built) = go_toolchain::build(version, &build) else {
                return;
            };
            let obj_data = std::fs::read(&built.exe).unwrap();
            let section = go_toolchain::section_data(&obj_data, ".go.buildinfo")
                .expect(".go.buildinfo section");
            let bi = parse(section).unwrap();
            let truth = built.go(&["version", "-m", built.exe.to_str().unwrap()]);
            let mut lines = truth.lines();
            let first = lines.next().unwrap();
            let truth_version = first.split_once(": ").unwrap().1;
            assert_eq!(bi.go_version, truth_version, "{version}: {truth}");
            assert_eq!(
                bi.version().map(|v| v.to_string()),
                Some(version.to_string())
            );
            let mut settings = Vec::new();
            for line in lines {
                let cols: Vec<&str> = line.trim_start_matches('\t').split('\t').collect();
                match cols[0] {
                    "path" => assert_eq!(bi.path, cols[1]),
                    "mod" => {
                        let m = bi.main_module.as_ref().unwrap();
                        assert_eq!((m.path.as_str(), m.version.as_str()), (cols[1], cols[2]));
                    }
                    "build" => settings.push(parse_setting(cols[1]).unwrap()),
                    other => panic!("unexpected `go version -m` line {other:?}"),
                }
            }
            assert_eq!(bi.settings, settings, "{version}");
            assert_eq!(bi.setting("GOARCH"), Some(go_toolchain::GOARCH));
            assert_eq!(bi.setting("GOOS"), Some("linux"));
            assert_eq!(bi.setting("-buildmode"), Some(build.buildmode));
            let want_exp: Vec<&str> = build
                .goexperiment
                .split(',')
                .filter(|s| !s.is_empty())
                .collect();
            assert_eq!(bi.goexperiment(), want_exp, "{}", bi.go_version);
        }

        macro_rules! per_version {
            ($($name:ident => $v:literal),* $(,)?) => {$(
                #[test]
                fn $name() {
                    check($v, Build::default());
                }
            )*};
        }
        per_version! {
            go1_21 => "1.21.13", go1_22 => "1.22.10", go1_23 => "1.23.9", go1_24 => "1.24.11",
            go1_25 => "1.25.5", go1_26 => "1.26.6", go1_27 => "1.27.3",
        }

        #[test]
        fn go1_25_pie() {
            check(
                "1.25.5",
                Build {
                    buildmode: "pie",
                    ..Build::default()
                },
            );
        }

        #[test]
        fn go1_26_experiment_suffix() {
            check(
                "1.26.6",
                Build {
                    goexperiment: "nogreenteagc",
                    ..Build::default()
                },
            );
        }
    }
}
