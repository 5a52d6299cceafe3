//! STUB
use crate::model::state::State;
use std::path::{Path, PathBuf};
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StateError(String);
pub fn load(path: &Path) -> Result<State, StateError> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| StateError(e.to_string())),
        Err(_) => Ok(State::default()),
    }
}
pub struct StateLock(PathBuf);
pub fn lock(path: &Path, _wait: bool) -> Result<StateLock, StateError> {
    Ok(StateLock(path.to_path_buf()))
}
impl StateLock {
    pub fn load(&self) -> Result<State, StateError> {
        load(&self.0)
    }
    pub fn save(&self, s: &State) -> Result<(), StateError> {
        std::fs::write(&self.0, serde_json::to_string_pretty(s).unwrap())
            .map_err(|e| StateError(e.to_string()))
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}
