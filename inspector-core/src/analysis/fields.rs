//! A field-by-field view of an object whose type the runtime stores: structs are expanded
//! field by field, arrays element by element (cut after a few), and scalars, strings, slices
//! and pointers are read and formatted. An object holding several elements of its type (a
//! slice's backing array: the header records the element type) shows its first elements.

use crate::runtime::types::{GoType, TypeReader};
use crate::target::{Memory, MemoryExt};

/// Elements of an array (or of a multi-element object) shown before cutting.
const MAX_ELEMS: u64 = 4;
/// Bytes of a string's contents shown.
const MAX_STRING: usize = 48;
/// Nesting depth followed.
const MAX_DEPTH: u32 = 8;

/// One line of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLine {
    /// `items[0].name`, `[1].p`, ...
    pub path: String,
    /// Offset from the object's base.
    pub offset: u64,
    pub type_name: String,
    /// The formatted value, or a note (`… 17 more elements`).
    pub value: String,
}

/// The view of the object at `base` with `avail` bytes, typed `t`; at most `max_lines` lines.
pub fn field_view(
    mem: &dyn Memory,
    tr: &TypeReader,
    t: &GoType,
    base: u64,
    avail: u64,
    max_lines: usize,
) -> Vec<FieldLine> {
    let mut v = Viewer {
        mem,
        tr,
        base,
        out: Vec::new(),
        max_lines,
    };
    if t.size > 0 && avail >= 2 * t.size {
        let n = avail / t.size;
        for i in 0..n.min(MAX_ELEMS) {
            v.visit(t, base + i * t.size, &format!("[{i}]"), 0);
        }
        if n > MAX_ELEMS {
            v.note(
                base + MAX_ELEMS * t.size,
                &format!("[{MAX_ELEMS}:]"),
                format!("… up to {} more element(s)", n - MAX_ELEMS),
            );
        }
    } else {
        v.visit(t, base, "", 0);
    }
    v.out
}

struct Viewer<'a> {
    mem: &'a dyn Memory,
    tr: &'a TypeReader<'a>,
    base: u64,
    out: Vec<FieldLine>,
    max_lines: usize,
}

fn type_label(t: &GoType) -> String {
    t.name.clone().unwrap_or_else(|| t.kind.to_string())
}

impl Viewer<'_> {
    fn full(&self) -> bool {
        self.out.len() >= self.max_lines
    }

    fn note(&mut self, addr: u64, path: &str, value: String) {
        if self.full() {
            return;
        }
        self.out.push(FieldLine {
            path: path.to_string(),
            offset: addr - self.base,
            type_name: String::new(),
            value,
        });
    }

    fn line(&mut self, t: &GoType, addr: u64, path: &str, value: String) {
        if self.full() {
            return;
        }
        self.out.push(FieldLine {
            path: if path.is_empty() {
                "(value)".into()
            } else {
                path.to_string()
            },
            offset: addr - self.base,
            type_name: type_label(t),
            value,
        });
    }

    fn visit(&mut self, t: &GoType, addr: u64, path: &str, depth: u32) {
        if self.full() {
            return;
        }
        if depth > MAX_DEPTH {
            self.line(t, addr, path, "…".into());
            return;
        }
        match t.kind {
            "struct" => match self.tr.struct_fields(t) {
                Ok(fields) => {
                    for f in fields {
                        let sub = if path.is_empty() {
                            f.name.clone()
                        } else {
                            format!("{path}.{}", f.name)
                        };
                        match self.tr.read(f.typ) {
                            Ok(ft) => self.visit(&ft, addr + f.offset, &sub, depth + 1),
                            Err(e) => self.note(addr + f.offset, &sub, format!("<{e}>")),
                        }
                    }
                }
                Err(e) => self.line(t, addr, path, format!("<{e}>")),
            },
            "array" => match self
                .tr
                .array(t)
                .and_then(|(e, n)| Ok((self.tr.read(e)?, n)))
            {
                Ok((et, n)) => {
                    for i in 0..n.min(MAX_ELEMS) {
                        self.visit(&et, addr + i * et.size, &format!("{path}[{i}]"), depth + 1);
                    }
                    if n > MAX_ELEMS {
                        self.note(
                            addr + MAX_ELEMS * et.size,
                            &format!("{path}[{MAX_ELEMS}:]"),
                            format!("… {} more element(s)", n - MAX_ELEMS),
                        );
                    }
                }
                Err(e) => self.line(t, addr, path, format!("<{e}>")),
            },
            _ => {
                let v = self.scalar(t, addr);
                self.line(t, addr, path, v);
            }
        }
    }

    fn scalar(&self, t: &GoType, addr: u64) -> String {
        let m = self.mem;
        let r = |n: u64| m.read_uint(addr, n);
        let res = match t.kind {
            "bool" => r(1).map(|v| (v != 0).to_string()),
            "int" | "int64" => r(8).map(|v| (v as i64).to_string()),
            "int32" => r(4).map(|v| (v as u32 as i32).to_string()),
            "int16" => r(2).map(|v| (v as u16 as i16).to_string()),
            "int8" => r(1).map(|v| (v as u8 as i8).to_string()),
            "uint" | "uint64" | "uint32" | "uint16" | "uint8" => r(t.size).map(|v| v.to_string()),
            "uintptr" => r(8).map(|v| format!("{v:#x}")),
            "float64" => r(8).map(|v| f64::from_bits(v).to_string()),
            "float32" => r(4).map(|v| f32::from_bits(v as u32).to_string()),
            "complex64" => r(8).map(|v| {
                let (re, im) = (f32::from_bits(v as u32), f32::from_bits((v >> 32) as u32));
                format!("({re}{im:+}i)")
            }),
            "complex128" => r(8).and_then(|re| {
                let im = m.read_u64(addr + 8)?;
                Ok(format!("({}{:+}i)", f64::from_bits(re), f64::from_bits(im)))
            }),
            "string" => self.string(addr),
            "slice" => (|| {
                let (p, len, cap) = (
                    m.read_ptr(addr)?,
                    m.read_u64(addr + 8)?,
                    m.read_u64(addr + 16)?,
                );
                Ok(format!("{{ptr {p:#x}, len {len}, cap {cap}}}"))
            })(),
            "interface" => (|| {
                let (tab, data) = (m.read_ptr(addr)?, m.read_ptr(addr + 8)?);
                Ok(if tab == 0 {
                    "nil".to_string()
                } else {
                    format!("{{type/itab {tab:#x}, data {data:#x}}}")
                })
            })(),
            _ => r(8.min(t.size.max(1))).map(|v| {
                if v == 0 && matches!(t.kind, "ptr" | "unsafe.Pointer" | "chan" | "map" | "func") {
                    "nil".to_string()
                } else {
                    format!("{v:#x}")
                }
            }),
        };
        res.unwrap_or_else(|e| format!("<{e}>"))
    }

    fn string(&self, addr: u64) -> Result<String, crate::target::ReadError> {
        let p = self.mem.read_ptr(addr)?;
        let len = self.mem.read_u64(addr + 8)?;
        if len == 0 {
            return Ok("\"\"".into());
        }
        let n = (len as usize).min(MAX_STRING);
        let body = match self.mem.bytes(p, n) {
            Ok(b) => format!("{:?}", String::from_utf8_lossy(&b)),
            Err(_) => "<unreadable>".into(),
        };
        let more = if len as usize > n { "…" } else { "" };
        Ok(format!("{body}{more} (len {len}, at {p:#x})"))
    }
}
