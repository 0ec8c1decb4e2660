//! `x`: examine memory, in gdb's spelling (`x/16xg ADDR`: count, format letter, unit size) and
//! Delve's (`x -fmt hex -count 16 -size 8 ADDR`). Lines start with the address and, inside a
//! symbol, `<symbol+offset>`.

use std::fmt::Write as _;

use serde_json::{json, Value};

use inspector_core::analysis::region;
use inspector_core::Session;

use crate::args::Args;
use crate::context::Context;
use crate::object_cmds::{hex, parse_address};
use crate::output::{CmdError, Output};

/// Most bytes one `x` reads.
const MAX_BYTES: u64 = 1 << 20;
/// Longest string `x/s` reads.
const MAX_STRING: usize = 4096;

/// How to show each unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    Hex,
    ZeroHex,
    Signed,
    Unsigned,
    Octal,
    Binary,
    Char,
    Address,
    Float,
    Str,
}

impl Fmt {
    fn letter(self) -> char {
        match self {
            Fmt::Hex => 'x',
            Fmt::ZeroHex => 'z',
            Fmt::Signed => 'd',
            Fmt::Unsigned => 'u',
            Fmt::Octal => 'o',
            Fmt::Binary => 't',
            Fmt::Char => 'c',
            Fmt::Address => 'a',
            Fmt::Float => 'f',
            Fmt::Str => 's',
        }
    }
}

/// A parsed examine request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub count: u64,
    pub fmt: Fmt,
    pub size: u64,
}

fn usage(msg: String) -> CmdError {
    CmdError::usage(format!("{msg} (see 'help x')"))
}

/// Parse gdb's `/FMT` (`16xg`, `s`, `4dw`): count, then format and size letters in any order.
pub fn parse_gdb(suffix: &str) -> Result<Spec, CmdError> {
    let digits: String = suffix.chars().take_while(char::is_ascii_digit).collect();
    let count = if digits.is_empty() {
        1
    } else {
        digits
            .parse::<u64>()
            .map_err(|_| usage(format!("x/{suffix}: bad count")))?
    };
    let (mut fmt, mut size) = (None, None);
    for c in suffix[digits.len()..].chars() {
        match c {
            'b' => size = Some(1),
            'h' => size = Some(2),
            'w' => size = Some(4),
            'g' => size = Some(8),
            'x' => fmt = Some(Fmt::Hex),
            'z' => fmt = Some(Fmt::ZeroHex),
            'd' => fmt = Some(Fmt::Signed),
            'u' => fmt = Some(Fmt::Unsigned),
            'o' => fmt = Some(Fmt::Octal),
            't' => fmt = Some(Fmt::Binary),
            'c' => fmt = Some(Fmt::Char),
            'a' => fmt = Some(Fmt::Address),
            'f' => fmt = Some(Fmt::Float),
            's' => fmt = Some(Fmt::Str),
            'i' => {
                return Err(usage(
                    "x/i: goheap does not disassemble (use `symbol ADDR` or `whoalloc ADDR` \
                     for code addresses)"
                        .into(),
                ))
            }
            _ => {
                return Err(usage(format!(
                    "x/{suffix}: unknown letter {c:?} (formats x z d u o t c a f s, sizes b h w g)"
                )))
            }
        }
    }
    let fmt = fmt.unwrap_or(Fmt::Hex);
    let size = size.unwrap_or(match fmt {
        Fmt::Address => 8,
        Fmt::Char | Fmt::Str => 1,
        Fmt::Float => 8,
        _ => 4,
    });
    Ok(Spec { count, fmt, size })
}

/// Apply Delve's flags (`-fmt`, `-count`, `-size`) over `base`.
pub fn apply_delve(args: &Args, base: Spec) -> Result<Spec, CmdError> {
    let mut s = base;
    if let Some(f) = args.flag_str("fmt") {
        s.fmt = match f {
            "hex" | "x" => Fmt::Hex,
            "dec" | "d" => Fmt::Signed,
            "oct" | "o" => Fmt::Octal,
            "bin" | "t" => Fmt::Binary,
            _ => unreachable!("choices are checked while parsing"),
        };
    }
    if let Some(c) = args.flag_u64("count")? {
        s.count = c;
    }
    if let Some(z) = args.flag_u64("size")? {
        if ![1, 2, 4, 8].contains(&z) {
            return Err(usage(format!("x: -size {z}: sizes are 1, 2, 4 and 8")));
        }
        s.size = z;
    }
    Ok(s)
}

/// `<sym+off>` for an address inside a function or global.
fn sym_label(s: &Session, addr: u64) -> String {
    if let Some(t) = region::text_at(s, addr) {
        return format!(" <{}+{}>", t.func, addr - t.entry);
    }
    if let Some(g) = region::symbol_at(s, addr) {
        return if g.offset == 0 {
            format!(" <{}>", g.name)
        } else {
            format!(" <{}+{}>", g.name, g.offset)
        };
    }
    String::new()
}

/// One unit formatted.
fn render(s: &Session, fmt: Fmt, size: u64, b: &[u8]) -> String {
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    let v = u64::from_le_bytes(w);
    let bits = 8 * size as u32;
    let signed = if bits == 64 {
        v as i64
    } else {
        ((v << (64 - bits)) as i64) >> (64 - bits)
    };
    match fmt {
        Fmt::Hex => format!("{v:#0width$x}", width = 2 + 2 * size as usize),
        Fmt::ZeroHex => format!("{v:#0width$x}", width = 2 + 2 * size as usize),
        Fmt::Signed => signed.to_string(),
        Fmt::Unsigned => v.to_string(),
        Fmt::Octal => {
            if v == 0 {
                "0".into()
            } else {
                format!("0{v:o}")
            }
        }
        Fmt::Binary => format!("{v:0width$b}", width = bits as usize),
        Fmt::Char => {
            let c = v as u8;
            let shown = match c {
                b'\'' => "\\'".to_string(),
                b'\\' => "\\\\".to_string(),
                0x20..=0x7e => (c as char).to_string(),
                b'\n' => "\\n".into(),
                b'\t' => "\\t".into(),
                0 => "\\000".into(),
                _ => format!("\\{c:03o}"),
            };
            format!("{signed} '{shown}'")
        }
        Fmt::Address => format!("{v:#x}{}", sym_label(s, v)),
        Fmt::Float => match size {
            4 => f32::from_bits(v as u32).to_string(),
            8 => f64::from_bits(v).to_string(),
            _ => format!("{v:#x}"),
        },
        Fmt::Str => unreachable!(),
    }
}

/// `x/FMT ADDR` or `x -fmt F -count N -size N ADDR`.
pub fn examine(ctx: &mut Context, args: &Args) -> Result<Output, CmdError> {
    // `x/16xg ADDR`, or with a space, `x /16xg ADDR` (gdb accepts both).
    let mut pos = args.positionals();
    let mut suffix = args.format_suffix();
    if let (None, Some(f)) = (suffix, pos.first().and_then(|w| w.strip_prefix('/'))) {
        suffix = Some(f);
        pos = &pos[1..];
    }
    if pos.len() > 1 {
        return Err(usage(format!("x: unexpected argument {:?}", pos[1])));
    }
    let base = match suffix {
        Some(f) => parse_gdb(f)?,
        // Delve's defaults.
        None => Spec {
            count: 1,
            fmt: Fmt::Hex,
            size: 1,
        },
    };
    let spec = apply_delve(args, base)?;
    let word = pos
        .first()
        .ok_or_else(|| usage("x needs an argument ADDR".into()))?
        .to_string();
    if spec.count == 0 {
        return Err(usage("x: the count must be at least 1".into()));
    }
    if spec.fmt != Fmt::Str && spec.count.saturating_mul(spec.size) > MAX_BYTES {
        return Err(usage(format!(
            "x: {} units of {} bytes is more than {MAX_BYTES} bytes",
            spec.count, spec.size
        )));
    }
    let s = ctx.session()?;
    let addr = parse_address(s, &word, "x")?;
    let mem = s.memory();
    let mut t = String::new();
    let mut values: Vec<Value> = Vec::new();
    let mut raw = Vec::new();
    let mut stopped = None;
    if spec.fmt == Fmt::Str {
        let mut a = addr;
        for _ in 0..spec.count.min(1 << 16) {
            let mut bytes = Vec::new();
            let mut err = None;
            while bytes.len() < MAX_STRING {
                match mem.bytes(a.wrapping_add(bytes.len() as u64), 1) {
                    Ok(b) if b[0] == 0 => break,
                    Ok(b) => bytes.push(b[0]),
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
            if err.is_some() && bytes.is_empty() {
                stopped = err;
                break;
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let _ = writeln!(t, "{a:#x}{}:\t{text:?}", sym_label(s, a));
            values.push(json!({"address": hex(a), "string": text}));
            a = a.wrapping_add(bytes.len() as u64 + 1);
            if err.is_some() {
                stopped = err;
                break;
            }
        }
    } else {
        let per_line = match spec.size {
            1 | 2 => 8,
            4 => 4,
            _ => 2,
        };
        let per_line = if spec.fmt == Fmt::Address {
            2
        } else {
            per_line
        };
        for i in 0..spec.count {
            let a = addr.wrapping_add(i * spec.size);
            let b = match mem.bytes(a, spec.size as usize) {
                Ok(b) => b.into_owned(),
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            };
            if i % per_line == 0 {
                if i > 0 {
                    t.push('\n');
                }
                let _ = write!(t, "{a:#x}{}:", sym_label(s, a));
            }
            let v = render(s, spec.fmt, spec.size, &b);
            let _ = write!(t, "\t{v}");
            values.push(json!(v));
            raw.extend_from_slice(&b);
        }
        if !values.is_empty() {
            t.push('\n');
        }
    }
    if let Some(e) = &stopped {
        if values.is_empty() {
            return Err(CmdError::failed(anyhow::anyhow!(
                "cannot access memory at address {word}: {e}"
            )));
        }
        let _ = writeln!(t, "cannot access memory past here: {e}");
    }
    let data = json!({
        "address": hex(addr),
        "count": spec.count,
        "format": spec.fmt.letter().to_string(),
        "size": spec.size,
        "values": values,
        "bytes": raw.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "error": stopped.map(|e| e.to_string()),
    });
    Ok(Output::new(t, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdb_suffixes() {
        let s = parse_gdb("16xg").unwrap();
        assert_eq!((s.count, s.fmt, s.size), (16, Fmt::Hex, 8));
        let s = parse_gdb("gx").unwrap();
        assert_eq!((s.count, s.fmt, s.size), (1, Fmt::Hex, 8));
        let s = parse_gdb("4dw").unwrap();
        assert_eq!((s.count, s.fmt, s.size), (4, Fmt::Signed, 4));
        let s = parse_gdb("s").unwrap();
        assert_eq!((s.fmt, s.size), (Fmt::Str, 1));
        let s = parse_gdb("a").unwrap();
        assert_eq!((s.fmt, s.size), (Fmt::Address, 8));
        let s = parse_gdb("8").unwrap();
        assert_eq!((s.count, s.fmt, s.size), (8, Fmt::Hex, 4));
        assert!(matches!(parse_gdb("3i"), Err(CmdError::Usage(_))));
        assert!(matches!(parse_gdb("3q"), Err(CmdError::Usage(_))));
        assert!(matches!(
            parse_gdb("99999999999999999999x"),
            Err(CmdError::Usage(_))
        ));
    }
}
