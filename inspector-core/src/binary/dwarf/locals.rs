//! Functions by pc and their local variables and parameters (`DW_TAG_variable`,
//! `DW_TAG_formal_parameter` of a subprogram, its lexical blocks and inlined calls), each with
//! its runtime type and where it lives at each pc: the location expressions Go emits
//! (`DW_OP_call_frame_cfa`, `DW_OP_fbreg` with the frame base being the CFA, registers,
//! `DW_OP_piece`) decoded to stack offsets from the frame's CFA.

use std::sync::Arc;

use super::{DieRef, DwarfIndex, Reader, VariableType};

/// Where one piece of a variable lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Bytes of the value the piece holds; `None`: the whole value (no `DW_OP_piece`).
    pub size: Option<u64>,
    /// Offset from the frame's CFA of the piece's stack slot; `None` when it is in a register,
    /// optimized out, or anywhere else this decoder does not follow.
    pub cfa_offset: Option<i64>,
}

/// A variable's location over the link-time pcs `[lo, hi)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocRange {
    pub lo: u64,
    pub hi: u64,
    pub pieces: Vec<Piece>,
}

/// A local variable or parameter with a runtime type and at least one stack location.
#[derive(Debug, Clone)]
pub struct FrameVariable {
    pub name: Arc<str>,
    pub typ: VariableType,
    pub locs: Vec<LocRange>,
}

impl FrameVariable {
    /// The variable's pieces at link-time `pc`, if it has a location there.
    pub fn location_at(&self, pc: u64) -> Option<&[Piece]> {
        self.locs
            .iter()
            .find(|l| l.lo <= pc && pc < l.hi)
            .map(|l| &l.pieces[..])
    }
}

/// Bound on the nesting of lexical blocks and inlined calls followed.
const MAX_SCOPE_DEPTH: u32 = 64;

impl DwarfIndex {
    /// The subprogram whose code holds link-time `pc` (an index for
    /// [`DwarfIndex::function_variables`]).
    pub fn function_at(&self, pc: u64) -> Option<usize> {
        let i = self
            .functions
            .partition_point(|f| f.0 <= pc)
            .checked_sub(1)?;
        (pc < self.functions[i].1).then_some(i)
    }

    /// Number of indexed subprogram ranges (the bound of [`DwarfIndex::function_at`]).
    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    /// The typed variables of subprogram `f` that live on the stack somewhere: its own, its
    /// lexical blocks' and its inlined calls'. An error names what could not be read.
    pub fn function_variables(&self, f: usize) -> Result<Vec<FrameVariable>, String> {
        let &(lo, hi, die) = self
            .functions
            .get(f)
            .ok_or_else(|| format!("no function {f}"))?;
        let unit = &self.units[die.unit];
        let mut tree = unit
            .entries_tree(Some(die.offset))
            .map_err(|e| e.to_string())?;
        let root = tree.root().map_err(|e| e.to_string())?;
        let cfa_base = frame_base_is_cfa(unit, root.entry());
        let mut out = Vec::new();
        self.scope(unit, die.unit, root, &[(lo, hi)], cfa_base, 0, &mut out)
            .map_err(|e| format!("variables of the function at {lo:#x}: {e}"))?;
        Ok(out)
    }

    /// The variables under one scope DIE; `ranges`: where a single-expression location holds.
    #[allow(clippy::too_many_arguments)]
    fn scope(
        &self,
        unit: &gimli::Unit<Reader>,
        ui: usize,
        node: gimli::EntriesTreeNode<'_, '_, Reader>,
        ranges: &[(u64, u64)],
        cfa_base: bool,
        depth: u32,
        out: &mut Vec<FrameVariable>,
    ) -> gimli::Result<()> {
        if depth > MAX_SCOPE_DEPTH {
            return Ok(());
        }
        let mut children = node.children();
        while let Some(child) = children.next()? {
            let e = child.entry();
            match e.tag() {
                gimli::DW_TAG_variable | gimli::DW_TAG_formal_parameter => {
                    if let Some(v) = self.frame_variable(unit, ui, e, ranges, cfa_base)? {
                        out.push(v);
                    }
                }
                gimli::DW_TAG_lexical_block | gimli::DW_TAG_inlined_subroutine => {
                    let mut inner = Vec::new();
                    let mut rs = self.dwarf.die_ranges(unit, e)?;
                    while let Some(r) = rs.next()? {
                        inner.push((r.begin, r.end));
                    }
                    let inner = if inner.is_empty() { ranges } else { &inner };
                    self.scope(unit, ui, child, inner, cfa_base, depth + 1, out)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// One variable: its name and type (from its abstract origin for an inlined or
    /// out-of-line copy), and its locations. `None` when it has no runtime type or never lives
    /// on the stack.
    fn frame_variable(
        &self,
        unit: &gimli::Unit<Reader>,
        ui: usize,
        e: &gimli::DebuggingInformationEntry<Reader>,
        ranges: &[(u64, u64)],
        cfa_base: bool,
    ) -> gimli::Result<Option<FrameVariable>> {
        let Some(loc) = e.attr_value(gimli::DW_AT_location) else {
            return Ok(None);
        };
        let origin = self.type_ref(ui, e.attr_value(gimli::DW_AT_abstract_origin));
        let (name, ty) = match origin {
            Some(o) => {
                let ounit = &self.units[o.unit];
                let oe = ounit.entry(o.offset)?;
                let ty = self.type_ref(o.unit, oe.attr_value(gimli::DW_AT_type));
                (self.name_of(ounit, &oe)?, ty)
            }
            None => (
                self.name_of(unit, e)?,
                self.type_ref(ui, e.attr_value(gimli::DW_AT_type)),
            ),
        };
        let Some(typ) = ty.and_then(|t: DieRef| self.variable_type(t)) else {
            return Ok(None);
        };
        let enc = unit.encoding();
        let mut locs = Vec::new();
        if let gimli::AttributeValue::Exprloc(expr) = loc {
            let pieces = decode_location(expr, enc, cfa_base)?;
            for &(lo, hi) in ranges {
                locs.push(LocRange {
                    lo,
                    hi,
                    pieces: pieces.clone(),
                });
            }
        } else if let Some(mut list) = self.dwarf.attr_locations(unit, loc)? {
            while let Some(l) = list.next()? {
                if l.range.begin < l.range.end {
                    locs.push(LocRange {
                        lo: l.range.begin,
                        hi: l.range.end,
                        pieces: decode_location(l.data, enc, cfa_base)?,
                    });
                }
            }
        }
        locs.retain(|l| l.pieces.iter().any(|p| p.cfa_offset.is_some()));
        if locs.is_empty() {
            return Ok(None);
        }
        Ok(Some(FrameVariable {
            name: name.unwrap_or_default().into(),
            typ,
            locs,
        }))
    }
}

/// Whether a subprogram's `DW_AT_frame_base` is `DW_OP_call_frame_cfa` (what Go emits), so
/// that `DW_OP_fbreg N` is CFA + N.
fn frame_base_is_cfa(
    unit: &gimli::Unit<Reader>,
    e: &gimli::DebuggingInformationEntry<Reader>,
) -> bool {
    let Some(gimli::AttributeValue::Exprloc(expr)) = e.attr_value(gimli::DW_AT_frame_base) else {
        return false;
    };
    let mut ops = expr.operations(unit.encoding());
    matches!(ops.next(), Ok(Some(gimli::Operation::CallFrameCFA))) && matches!(ops.next(), Ok(None))
}

/// A value on the expression stack: the CFA plus an offset, a constant, or anything else.
#[derive(Debug, Clone, Copy)]
enum Val {
    Cfa(i64),
    Const(i64),
    Other,
}

/// Decode one location description into pieces. Stack slots are CFA + offset
/// (`DW_OP_call_frame_cfa`, `DW_OP_fbreg` when the frame base is the CFA, with constant
/// arithmetic); registers, global addresses, implicit values and every other operation give
/// a piece with no stack location. An unparsable expression is an error.
pub fn decode_location<R: gimli::Reader>(
    expr: gimli::Expression<R>,
    enc: gimli::Encoding,
    frame_base_is_cfa: bool,
) -> gimli::Result<Vec<Piece>> {
    use gimli::Operation as Op;
    let mut ops = expr.operations(enc);
    let mut stack: Vec<Val> = Vec::new();
    // The current piece is in a register or otherwise not a stack slot.
    let mut elsewhere = false;
    let mut pieces = Vec::new();
    let location = |stack: &[Val], elsewhere: bool| match stack.last() {
        Some(Val::Cfa(o)) if !elsewhere => Some(*o),
        _ => None,
    };
    while let Some(op) = ops.next()? {
        match op {
            Op::CallFrameCFA => stack.push(Val::Cfa(0)),
            Op::FrameOffset { offset } if frame_base_is_cfa => stack.push(Val::Cfa(offset)),
            Op::SignedConstant { value } => stack.push(Val::Const(value)),
            Op::UnsignedConstant { value } => stack.push(Val::Const(value as i64)),
            Op::PlusConstant { value } => {
                let v = match stack.pop() {
                    Some(Val::Cfa(o)) => Val::Cfa(o.wrapping_add(value as i64)),
                    Some(Val::Const(c)) => Val::Const(c.wrapping_add(value as i64)),
                    _ => Val::Other,
                };
                stack.push(v);
            }
            Op::Plus | Op::Minus => {
                let (b, a) = (stack.pop(), stack.pop());
                let minus = matches!(op, Op::Minus);
                let v = match (a, b) {
                    (Some(Val::Cfa(o)), Some(Val::Const(c))) => Val::Cfa(if minus {
                        o.wrapping_sub(c)
                    } else {
                        o.wrapping_add(c)
                    }),
                    (Some(Val::Const(c)), Some(Val::Cfa(o))) if !minus => {
                        Val::Cfa(o.wrapping_add(c))
                    }
                    (Some(Val::Const(x)), Some(Val::Const(y))) => Val::Const(if minus {
                        x.wrapping_sub(y)
                    } else {
                        x.wrapping_add(y)
                    }),
                    _ => Val::Other,
                };
                stack.push(v);
            }
            Op::Nop => {}
            Op::Piece {
                size_in_bits,
                bit_offset,
            } => {
                let whole_bytes = size_in_bits % 8 == 0 && bit_offset.is_none();
                pieces.push(Piece {
                    size: Some(size_in_bits / 8),
                    cfa_offset: location(&stack, elsewhere).filter(|_| whole_bytes),
                });
                stack.clear();
                elsewhere = false;
            }
            // Registers, addresses, stack and implicit values, dereferences, ...
            _ => elsewhere = true,
        }
    }
    if pieces.is_empty() {
        pieces.push(Piece {
            size: None,
            cfa_offset: location(&stack, elsewhere),
        });
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gimli::{EndianSlice, LittleEndian};

    const CFA: u8 = 0x9c;
    const FBREG: u8 = 0x91;
    const PIECE: u8 = 0x93;
    const REG0: u8 = 0x50;
    const REG3: u8 = 0x53;
    const CONSTS: u8 = 0x11;
    const PLUS: u8 = 0x22;
    const MINUS: u8 = 0x1c;
    const PLUS_UCONST: u8 = 0x23;
    const ADDR: u8 = 0x03;
    const STACK_VALUE: u8 = 0x9f;
    const BIT_PIECE: u8 = 0x9d;

    fn decode(bytes: &[u8], cfa_base: bool) -> gimli::Result<Vec<Piece>> {
        let enc = gimli::Encoding {
            format: gimli::Format::Dwarf32,
            version: 4,
            address_size: 8,
        };
        decode_location(
            gimli::Expression(EndianSlice::new(bytes, LittleEndian)),
            enc,
            cfa_base,
        )
    }

    fn whole(off: Option<i64>) -> Vec<Piece> {
        vec![Piece {
            size: None,
            cfa_offset: off,
        }]
    }

    fn piece(size: u64, off: Option<i64>) -> Piece {
        Piece {
            size: Some(size),
            cfa_offset: off,
        }
    }

    #[test]
    fn single_stack_slots() {
        assert_eq!(decode(&[CFA], true).unwrap(), whole(Some(0)));
        // DW_OP_fbreg -24 (sleb128 0x68).
        assert_eq!(decode(&[FBREG, 0x68], true).unwrap(), whole(Some(-24)));
        // The frame base is not known to be the CFA: fbreg is not a stack slot.
        assert_eq!(decode(&[FBREG, 0x68], false).unwrap(), whole(None));
        // CFA + consts -40 (sleb128 0x58), plus; and minus 16.
        assert_eq!(
            decode(&[CFA, CONSTS, 0x58, PLUS], true).unwrap(),
            whole(Some(-40))
        );
        assert_eq!(
            decode(&[CFA, CONSTS, 0x10, MINUS], true).unwrap(),
            whole(Some(-16))
        );
        assert_eq!(
            decode(&[CFA, PLUS_UCONST, 0x10], true).unwrap(),
            whole(Some(16))
        );
    }

    #[test]
    fn registers_addresses_and_values_are_not_stack_slots() {
        assert_eq!(decode(&[REG0], true).unwrap(), whole(None));
        let mut global = vec![ADDR];
        global.extend(0x53_6300u64.to_le_bytes());
        assert_eq!(decode(&global, true).unwrap(), whole(None));
        assert_eq!(
            decode(&[CONSTS, 0x05, STACK_VALUE], true).unwrap(),
            whole(None)
        );
        assert_eq!(decode(&[], true).unwrap(), whole(None));
    }

    #[test]
    fn pieces_of_a_multi_word_value() {
        // A string: pointer in RAX, length in RBX.
        assert_eq!(
            decode(&[REG0, PIECE, 8, REG3, PIECE, 8], true).unwrap(),
            [piece(8, None), piece(8, None)]
        );
        // Both on the stack: CFA+0 and fbreg +8.
        assert_eq!(
            decode(&[CFA, PIECE, 8, FBREG, 0x08, PIECE, 8], true).unwrap(),
            [piece(8, Some(0)), piece(8, Some(8))]
        );
        // A slice: pointer at fbreg -48, length optimized out, capacity in RAX.
        assert_eq!(
            decode(&[FBREG, 0x50, PIECE, 8, PIECE, 8, REG0, PIECE, 8], true).unwrap(),
            [piece(8, Some(-48)), piece(8, None), piece(8, None)]
        );
        // A bit piece is not a whole-byte stack slot.
        assert_eq!(
            decode(&[CFA, BIT_PIECE, 4, 0], true).unwrap(),
            [piece(0, None)]
        );
    }

    #[test]
    fn truncated_expressions_are_errors() {
        assert!(decode(&[FBREG], true).is_err());
        assert!(decode(&[CFA, PIECE], true).is_err());
        assert!(decode(&[ADDR, 1, 2], true).is_err());
    }
}
