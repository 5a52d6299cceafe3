//! STUB
pub mod de;
pub mod tree;
use crate::model::pod::PodSpec;
use crate::model::workload::Desired;
use crate::sources::Source;
pub struct ParseOptions {
    pub strict: bool,
}
pub struct Loaded {
    pub desired: Desired,
    pub notices: Vec<String>,
}
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub message: String,
}
impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.field, self.message
        )
    }
}
pub fn parse(_sources: &[Source], _options: &ParseOptions) -> Result<Loaded, Vec<Diagnostic>> {
    Ok(Loaded {
        desired: Desired::default(),
        notices: vec![],
    })
}
pub fn pod_spec_from_template(
    namespace: &str,
    _t: &serde_json::Value,
) -> Result<PodSpec, Vec<Diagnostic>> {
    Ok(PodSpec {
        namespace: namespace.into(),
        ..PodSpec::default()
    })
}
