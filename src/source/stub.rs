//! TEMPORARY: the registry's API until the engine lands (replaced on merge).

use std::sync::Arc;

use super::{HttpSource, PriceSource, Timeouts};

#[derive(Debug, Clone, Default)]
pub struct Declarations {}

impl Declarations {
    pub fn builtin() -> Declarations {
        Declarations {}
    }
    pub fn parse(_text: &str, _origin: &str) -> anyhow::Result<Declarations> {
        Ok(Declarations {})
    }
    pub fn merge(&mut self, _other: Declarations) -> anyhow::Result<()> {
        Ok(())
    }
    pub fn names(&self) -> Vec<String> {
        vec!["cryptodb".into()]
    }
    pub fn is_builtin(&self, _name: &str) -> bool {
        true
    }
    pub fn text(&self, _name: &str) -> Option<String> {
        None
    }
}

#[derive(Debug)]
pub enum OpenError {
    Unknown { name: String, known: Vec<String> },
    MissingSecret { source: String, variable: String },
    Invalid(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for OpenError {}

pub fn open(
    name: &str,
    server: Option<&str>,
    _decls: &Declarations,
    timeouts: Timeouts,
    connections: usize,
) -> Result<Arc<dyn PriceSource>, OpenError> {
    match name {
        "cryptodb" => Ok(Arc::new(HttpSource::new(server.unwrap_or("http://localhost:8080"), timeouts, connections))),
        _ => Err(OpenError::Unknown { name: name.into(), known: vec!["cryptodb".into()] }),
    }
}
