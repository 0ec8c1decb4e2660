//! Where closures are made, read from amd64 machine code (for Go 1.21–1.22, which emit no
//! DWARF closure offsets). The compiler allocates an escaping closure as
//! `struct { F uintptr; captured... }` with the struct's type descriptor, then stores the
//! closure function's entry in word 0:
//!
//! ```text
//! lea  type(%rip), %rax     ; 48 8d 05 disp32: the closure struct's descriptor
//! call runtime.newobject    ; (Go 1.27: a size-specialised runtime.mallocgc…)
//! lea  F(%rip), %rcx        ; the closure function's entry
//! mov  %rcx, (%rax)
//! ```
//!
//! This module only finds byte patterns: RIP-relative `lea`s with a REX.W prefix
//! (`48`/`4c 8d`, ModRM mod 00 rm 101, then disp32: target = next instruction + disp32), and
//! for a site the type `lea`s before it that are followed by a `call rel32` to an allocator.
//! A pattern can match inside another instruction: the caller validates each candidate
//! descriptor strictly (see `follow`).

/// Length of a RIP-relative `lea` with a REX prefix.
const LEA_LEN: usize = 7;
/// Length of `call rel32`.
const CALL_LEN: usize = 5;
/// How far before a closure entry's `lea` its descriptor's `lea` is looked for.
pub(super) const WINDOW: usize = 64;

/// The target of a RIP-relative REX.W `lea` at `code[i..]` (`code` starts at `base`).
pub(super) fn lea_at(code: &[u8], i: usize, base: u64) -> Option<u64> {
    let b = code.get(i..i + LEA_LEN)?;
    if (b[0] == 0x48 || b[0] == 0x4c) && b[1] == 0x8d && b[2] & 0xc7 == 0x05 {
        let d = i32::from_le_bytes([b[3], b[4], b[5], b[6]]);
        let next = base.wrapping_add((i + LEA_LEN) as u64);
        Some(next.wrapping_add(i64::from(d) as u64))
    } else {
        None
    }
}

/// Every RIP-relative `lea` in `code` (at `base`) whose target lies in `[lo, hi)`:
/// (target, address of the `lea`), sorted.
pub(super) fn leas_into(code: &[u8], base: u64, lo: u64, hi: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for i in 0..code.len().saturating_sub(LEA_LEN - 1) {
        // Cheapest test first: the opcode byte.
        if code[i + 1] != 0x8d {
            continue;
        }
        if let Some(t) = lea_at(code, i, base) {
            if lo <= t && t < hi {
                out.push((t, base + i as u64));
            }
        }
    }
    out.sort_unstable();
    out
}

/// The targets of the RIP-relative `lea`s in `code` (at `base`, ending where the closure
/// entry's `lea` starts) that `is_type` accepts and that a `call rel32` to a function
/// `is_alloc` accepts follows before the end: nearest first.
pub(super) fn type_leas_before(
    code: &[u8],
    base: u64,
    is_type: impl Fn(u64) -> bool,
    is_alloc: impl Fn(u64) -> bool,
) -> Vec<u64> {
    let mut out = Vec::new();
    let end = code.len();
    for p in (0..end.saturating_sub(LEA_LEN - 1)).rev() {
        let Some(t) = lea_at(code, p, base) else {
            continue;
        };
        if !is_type(t) {
            continue;
        }
        let calls = (p + LEA_LEN..end.saturating_sub(CALL_LEN - 1)).any(|c| {
            code[c] == 0xe8 && {
                let r = i32::from_le_bytes([code[c + 1], code[c + 2], code[c + 3], code[c + 4]]);
                let next = base.wrapping_add((c + CALL_LEN) as u64);
                is_alloc(next.wrapping_add(i64::from(r) as u64))
            }
        });
        if calls {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `makeClosure` of the Go 1.21 test program at 0x465553: `lea type; call newobject;
    /// lea func1; mov %rcx,(%rax)`.
    fn make_closure() -> Vec<u8> {
        let mut c = vec![0x48, 0x89, 0x44, 0x24, 0x20]; // mov %rax,0x20(%rsp)
        c.extend([0x48, 0x8d, 0x05, 0x66, 0xc5, 0x00, 0x00]); // lea 0xc566(%rip),%rax
        c.extend([0xe8, 0x01, 0x58, 0xfa, 0xff]); // call 40ad60
        c.extend([0x48, 0x8d, 0x0d, 0x5a, 0x00, 0x00, 0x00]); // lea 0x5a(%rip),%rcx
        c.extend([0x48, 0x89, 0x08]); // mov %rcx,(%rax)
        c
    }

    #[test]
    fn finds_rip_relative_leas_and_their_targets() {
        let base = 0x46554e;
        let c = make_closure();
        assert_eq!(lea_at(&c, 5, base), Some(0x471ac0));
        assert_eq!(lea_at(&c, 17, base), Some(0x4655c0));
        assert_eq!(lea_at(&c, 0, base), None);
        // Into text only: the closure entry.
        assert_eq!(
            leas_into(&c, base, 0x400000, 0x470000),
            vec![(0x4655c0, base + 17)]
        );
        assert_eq!(leas_into(&c[..23], base, 0x400000, 0x470000), vec![]);
        // The descriptor before the entry's lea, followed by a call to newobject.
        let ty = |t: u64| (0x471000..0x480000).contains(&t);
        assert_eq!(
            type_leas_before(&c[..17], base, ty, |f| f == 0x40ad60),
            vec![0x471ac0]
        );
        // No allocator call between: nothing.
        assert_eq!(
            type_leas_before(&c[..17], base, ty, |f| f == 0x40ad61),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn misaligned_matches_are_candidates_left_to_validation() {
        // `mov $0x058d4800, %eax`'s immediate holds `48 8d 05`, the next instruction's bytes
        // make a disp32: a false lea inside other instructions.
        let base = 0x1000;
        let mut c = vec![0xb8, 0x00, 0x48, 0x8d, 0x05]; // mov $0x058d4800,%eax
        c.extend([0x10, 0x00, 0x00, 0x00]); // adc %al,(%rax); add %al,(%rax)
        c.extend([0x48, 0x8d, 0x05, 0x20, 0x00, 0x00, 0x00]); // lea 0x20(%rip),%rax
        c.extend([0xe8, 0xeb, 0xff, 0xff, 0xff]); // call 0x1000
        let any = |_: u64| true;
        // Nearest first: the true lea (0x1010 + 0x20), then the false one (0x1009 + 0x10).
        assert_eq!(
            type_leas_before(&c, base, any, |f| f == 0x1000),
            vec![0x1030, 0x1019]
        );
        // Validation of the descriptor (here: a range check) rejects the false target.
        let ty = |t: u64| t == 0x1030;
        assert_eq!(
            type_leas_before(&c, base, ty, |f| f == 0x1000),
            vec![0x1030]
        );
    }
}
