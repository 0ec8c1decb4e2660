//! TODO (helper): pclntab.
#[derive(Debug)]
pub struct Pclntab;
impl Pclntab {
    pub fn parse(_data: &[u8], _vaddr: u64, _text_start: u64) -> Result<Pclntab, String> {
        Err("unimplemented".into())
    }
}
