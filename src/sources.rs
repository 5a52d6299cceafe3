//! STUB
pub struct Source {
    pub name: String,
    pub text: String,
}
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(String);
pub fn collect(args: &[String]) -> Result<Vec<Source>, SourceError> {
    args.iter()
        .map(|a| {
            std::fs::read_to_string(a)
                .map(|text| Source {
                    name: a.clone(),
                    text,
                })
                .map_err(|e| SourceError(format!("{a}: {e}")))
        })
        .collect()
}
