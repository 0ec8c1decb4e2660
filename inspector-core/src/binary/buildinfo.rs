//! TODO (helper): Go build info parser.
/// The Go build info from `.go.buildinfo`.
#[derive(Debug, Clone, Default)]
pub struct BuildInfo {
    pub go_version: String,
    pub mod_info: String,
}
pub fn parse(_section: &[u8]) -> Result<BuildInfo, String> {
    Err("unimplemented".into())
}
