//! Opening a source by name: a built-in declaration (the reference API's
//! among them) or a declared one.

use std::sync::Arc;

use super::declare::Declarations;
use super::engine::DeclaredSource;
use super::template::Secrets;
use super::{PriceSource, Timeouts};

/// Why a source cannot be opened.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenError {
    /// No source has this name.
    Unknown { name: String, known: Vec<String> },
    /// The declaration needs an environment variable this process does not
    /// have: a worker without the secret leaves the source's tasks queued.
    MissingSecret { source: String, variable: String },
    /// The declaration cannot be used as it is.
    Invalid(String),
}

// By hand: thiserror would take the field `source` for the error's cause.
impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Unknown { name, known } => {
                let lower = name.to_lowercase();
                let closest = known
                    .iter()
                    .map(|k| (strsim::jaro_winkler(&lower, &k.to_lowercase()), k))
                    .filter(|(score, _)| *score > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, k)| format!(" Did you mean '{k}'?"))
                    .unwrap_or_default();
                write!(
                    f,
                    "no source is named {name:?}; the sources are {} (declare others in a sources file, \
                     --sources).{closest}",
                    known.join(", ")
                )
            }
            OpenError::MissingSecret { source, variable } => write!(
                f,
                "source {source} needs the environment variable {variable}, which is not set here: set it for this \
                 process, or run {source}'s tasks on a host that has it"
            ),
            OpenError::Invalid(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for OpenError {}

/// Opens the source `name`: at `server`, or its own default address.
pub fn open(
    name: &str,
    server: Option<&str>,
    decls: &Declarations,
    timeouts: Timeouts,
    connections: usize,
) -> Result<Arc<dyn PriceSource>, OpenError> {
    let Some(decl) = decls.get(name) else {
        return Err(OpenError::Unknown { name: name.to_string(), known: decls.names() });
    };
    let secrets = Secrets::from_env(&decls.variables_at(name, server))
        .map_err(|variable| OpenError::MissingSecret { source: name.to_string(), variable })?;
    let source = DeclaredSource::new(name, decl, server, timeouts, connections, secrets).map_err(OpenError::Invalid)?;
    Ok(Arc::new(source))
}
