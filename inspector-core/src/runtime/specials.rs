//! Special records (`mspan.specials`, mheap.go `type special`): the finalizers, memory-profile
//! records, weak handles, cleanups and pin counters the runtime attaches to heap objects. The
//! list is sorted by offset; a record belongs to slot `offset / elemsize`, as the sweeper
//! maps it. Kind numbers differ by version and come from the binary ([`SpecialKinds`]).
//!
//! [`SpecialKinds`]: super::layout::SpecialKinds

use super::layout::ObjectLayouts;
use super::RuntimeError;
use crate::target::{Memory, MemoryExt};

/// Longest specials list followed (a cycle or garbage stops here).
const MAX_SPECIALS: usize = 1 << 20;

/// What a special record is, with its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecialKind {
    /// `runtime.SetFinalizer`: the finalizer's `funcval`, its code pointer, result size, and
    /// the descriptors of its argument type and of the object's pointer type.
    Finalizer {
        funcval: u64,
        fn_pc: u64,
        nret: u64,
        fint: u64,
        ot: u64,
    },
    /// A memory-profile record: the bucket with the allocation stack.
    Profile { bucket: u64 },
    /// `weak.Make` (and `unique`): the handle, a heap word holding the object's address.
    WeakHandle { handle: u64 },
    /// `runtime.AddCleanup`: the cleanup's `funcval`, its code pointer, and its id.
    Cleanup { funcval: u64, fn_pc: u64, id: u64 },
    /// The object is pinned by more than one `runtime.Pinner`: how many pins.
    PinCounter { count: u64 },
    /// Used by the runtime's tests (`runtime.reachable`).
    Reachable,
    /// `GODEBUG=checkfinalizers`: marks a tiny block.
    TinyBlock,
    /// `GODEBUG=checkfinalizers`: where a finalizer or cleanup was set.
    CheckFinalizer,
    /// `testing/synctest`: the bubble the object belongs to.
    Bubble { id: u64 },
    /// `runtime/secret`.
    Secret,
    /// A kind number this binary's constants do not name.
    Unknown(u8),
}

impl SpecialKind {
    /// Short name, as used in JSON (`finalizer`, `profile`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            SpecialKind::Finalizer { .. } => "finalizer",
            SpecialKind::Profile { .. } => "profile",
            SpecialKind::WeakHandle { .. } => "weak_handle",
            SpecialKind::Cleanup { .. } => "cleanup",
            SpecialKind::PinCounter { .. } => "pin_counter",
            SpecialKind::Reachable => "reachable",
            SpecialKind::TinyBlock => "tiny_block",
            SpecialKind::CheckFinalizer => "check_finalizer",
            SpecialKind::Bubble { .. } => "bubble",
            SpecialKind::Secret => "secret",
            SpecialKind::Unknown(_) => "unknown",
        }
    }
}

/// One special record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Special {
    /// Address of the record.
    pub addr: u64,
    /// Offset from the span base of the pointer it was attached to.
    pub offset: u64,
    pub kind_raw: u8,
    pub kind: SpecialKind,
}

/// Every special record of a span, in list order (sorted by offset, then kind).
pub fn span_specials(
    mem: &dyn Memory,
    l: &ObjectLayouts,
    head: u64,
) -> Result<Vec<Special>, RuntimeError> {
    let sl = &l.special;
    let mut out = Vec::new();
    let mut p = head;
    while p != 0 {
        if out.len() >= MAX_SPECIALS {
            return Err(RuntimeError::Corrupt(format!(
                "specials list at {head:#x} does not end"
            )));
        }
        let b = mem
            .bytes(p, sl.size as usize)
            .map_err(RuntimeError::read(format!("special record at {p:#x}")))?;
        let next = sl.next.get(&b);
        let offset = sl.offset.get(&b);
        let kind_raw = sl.kind.get(&b) as u8;
        let kind = decode(mem, l, p, kind_raw)?;
        out.push(Special {
            addr: p,
            offset,
            kind_raw,
            kind,
        });
        p = next;
    }
    Ok(out)
}

fn decode(
    mem: &dyn Memory,
    l: &ObjectLayouts,
    p: u64,
    kind: u8,
) -> Result<SpecialKind, RuntimeError> {
    let sl = &l.special;
    let k = &sl.kinds;
    let rd = |f: &super::layout::Field| {
        mem.read_uint(p + f.offset, f.size)
            .map_err(RuntimeError::read(format!("special record at {p:#x}")))
    };
    // A funcval's first word is its code pointer.
    let code = |fv: u64| {
        if fv == 0 {
            0
        } else {
            mem.read_ptr(fv).unwrap_or(0)
        }
    };
    let is = |c: Option<u8>| c == Some(kind);
    Ok(if is(k.profile) {
        SpecialKind::Profile {
            bucket: rd(&sl.profile_bucket)?,
        }
    } else if is(k.finalizer) {
        let funcval = rd(&sl.finalizer_fn)?;
        SpecialKind::Finalizer {
            funcval,
            fn_pc: code(funcval),
            nret: rd(&sl.finalizer_nret)?,
            fint: rd(&sl.finalizer_fint)?,
            ot: rd(&sl.finalizer_ot)?,
        }
    } else if is(k.weak_handle) {
        SpecialKind::WeakHandle {
            handle: sl.weak_handle.as_ref().map_or(Ok(0), rd)?,
        }
    } else if is(k.cleanup) {
        let funcval = sl.cleanup_fn.as_ref().map_or(Ok(0), rd)?;
        SpecialKind::Cleanup {
            funcval,
            fn_pc: code(funcval),
            id: sl.cleanup_id.as_ref().map_or(Ok(0), rd)?,
        }
    } else if is(k.pin_counter) {
        SpecialKind::PinCounter {
            count: rd(&sl.pin_counter)?,
        }
    } else if is(k.reachable) {
        SpecialKind::Reachable
    } else if is(k.tiny_block) {
        SpecialKind::TinyBlock
    } else if is(k.check_finalizer) {
        SpecialKind::CheckFinalizer
    } else if is(k.bubble) {
        SpecialKind::Bubble {
            id: sl.bubble_id.as_ref().map_or(Ok(0), rd)?,
        }
    } else if is(k.secret) {
        SpecialKind::Secret
    } else {
        SpecialKind::Unknown(kind)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::objects::test_layouts;
    use crate::target::VecMemory;

    /// A 1.24-style special record: next, offset, kind, then an 8-byte payload.
    fn rec(next: u64, offset: u64, kind: u8, payload: &[u64]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(next.to_le_bytes());
        v.extend(offset.to_le_bytes());
        v.extend([kind, 0, 0, 0, 0, 0, 0, 0]);
        for p in payload {
            v.extend(p.to_le_bytes());
        }
        v
    }

    #[test]
    fn decodes_a_specials_list() {
        let l = test_layouts();
        let mut mem = VecMemory::new();
        mem.add(0x1000, rec(0x2000, 48, 3, &[0xb0b]));
        mem.add(0x2000, rec(0x3000, 48, 1, &[0x5000, 8, 0x7000, 0x7100]));
        mem.add(0x3000, rec(0x4000, 96, 5, &[2]));
        mem.add(0x4000, rec(0, 96, 42, &[]));
        mem.add(0x5000, 0x401234u64.to_le_bytes().to_vec());
        let sp = span_specials(&mem, &l, 0x1000).unwrap();
        let kinds: Vec<_> = sp.iter().map(|s| (s.offset, s.kind.name())).collect();
        assert_eq!(
            kinds,
            [
                (48, "profile"),
                (48, "finalizer"),
                (96, "pin_counter"),
                (96, "unknown")
            ]
        );
        assert_eq!(sp[0].kind, SpecialKind::Profile { bucket: 0xb0b });
        assert_eq!(
            sp[1].kind,
            SpecialKind::Finalizer {
                funcval: 0x5000,
                fn_pc: 0x401234,
                nret: 8,
                fint: 0x7000,
                ot: 0x7100
            }
        );
        assert_eq!(sp[2].kind, SpecialKind::PinCounter { count: 2 });
        assert_eq!(sp[3].kind, SpecialKind::Unknown(42));
        // An unreadable record is an error naming its address, not a panic.
        mem.add(0x6000, rec(0x9999_0000, 0, 3, &[1]));
        let e = span_specials(&mem, &l, 0x6000).unwrap_err().to_string();
        assert!(e.contains("0x99990000"), "{e}");
    }
}
