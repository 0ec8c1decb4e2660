//! TODO
#[derive(Debug, thiserror::Error)]
pub enum SessionError {}
pub struct Session;
