//! The I/O edge of manifest reading: turns `-f` arguments (files,
//! directories, `-` for stdin) into named texts for the pure parser.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest manifest file read, to fail clearly instead of exhausting memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as given (or found under a given directory), or `<stdin>`.
    pub name: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: no such file or directory")]
    Missing { path: String },
    #[error("{path}: cannot read: {error}")]
    Unreadable { path: String, error: std::io::Error },
    #[error("{path}: not UTF-8 text (invalid byte at offset {offset}); manifests must be UTF-8")]
    NotUtf8 { path: String, offset: usize },
    #[error("{path}: no manifests found (looked for *.yaml, *.yml, *.json)")]
    Empty { path: String },
    #[error("{path}: larger than {} MiB; refusing to read it", MAX_FILE_BYTES / 1024 / 1024)]
    TooLarge { path: String },
    #[error("-: stdin can be given only once")]
    StdinTwice,
    #[error(
        "{path}: symlink loop (leads back to {target}); orch follows directory symlinks but not in circles"
    )]
    Loop { path: String, target: String },
}

/// Every source named by `args`, in order; directories recursively, sorted by path.
pub fn collect(args: &[String]) -> Result<Vec<Source>, SourceError> {
    let mut sources = Vec::new();
    let mut stdin_used = false;
    for arg in args {
        if arg == "-" {
            if stdin_used {
                return Err(SourceError::StdinTwice);
            }
            stdin_used = true;
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|error| SourceError::Unreadable {
                    path: "<stdin>".into(),
                    error,
                })?;
            if bytes.len() as u64 > MAX_FILE_BYTES {
                return Err(SourceError::TooLarge {
                    path: "<stdin>".into(),
                });
            }
            sources.push(Source {
                name: "<stdin>".into(),
                text: utf8("<stdin>", bytes)?,
            });
            continue;
        }
        let path = Path::new(arg);
        let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => SourceError::Missing { path: arg.clone() },
            _ => SourceError::Unreadable {
                path: arg.clone(),
                error,
            },
        })?;
        if metadata.is_dir() {
            let mut files = Vec::new();
            let mut visited = HashSet::new();
            walk(path, &mut files, &mut visited, &mut Vec::new())?;
            if files.is_empty() {
                return Err(SourceError::Empty { path: arg.clone() });
            }
            files.sort();
            for file in files {
                sources.push(read(&file)?);
            }
        } else {
            sources.push(read(path)?);
        }
    }
    Ok(sources)
}

fn walk(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
    ancestors: &mut Vec<PathBuf>,
) -> Result<(), SourceError> {
    let unreadable = |error| SourceError::Unreadable {
        path: dir.display().to_string(),
        error,
    };
    // A directory that leads back to one being walked is a loop; one reached
    // twice by different links is read once.
    let canonical = dir.canonicalize().map_err(unreadable)?;
    if ancestors.contains(&canonical) {
        return Err(SourceError::Loop {
            path: dir.display().to_string(),
            target: canonical.display().to_string(),
        });
    }
    if !visited.insert(canonical.clone()) {
        return Ok(());
    }
    ancestors.push(canonical);
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue; // a dangling symlink
        };
        if metadata.is_dir() {
            walk(&path, files, visited, ancestors)?;
        } else if metadata.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            files.push(path);
        }
    }
    ancestors.pop();
    Ok(())
}

fn read(path: &Path) -> Result<Source, SourceError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| SourceError::Unreadable {
        path: name.clone(),
        error,
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| SourceError::Unreadable {
            path: name.clone(),
            error,
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(SourceError::TooLarge { path: name });
    }
    let text = utf8(&name, bytes)?;
    Ok(Source { name, text })
}

fn utf8(name: &str, bytes: Vec<u8>) -> Result<String, SourceError> {
    String::from_utf8(bytes).map_err(|e| SourceError::NotUtf8 {
        path: name.to_string(),
        offset: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn arg(path: &Path) -> String {
        path.display().to_string()
    }

    #[test]
    fn directories_are_read_recursively_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("b/c")).unwrap();
        fs::write(dir.path().join("b/c/z.yml"), "z").unwrap();
        fs::write(dir.path().join("b/a.json"), "a").unwrap();
        fs::write(dir.path().join("0.yaml"), "0").unwrap();
        fs::write(dir.path().join("notes.txt"), "skip").unwrap();
        let texts: Vec<String> = collect(&[arg(dir.path())])
            .unwrap()
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(texts, ["0", "a", "z"]);
    }

    #[test]
    fn odd_inputs_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = arg(&dir.path().join("nope.yaml"));
        assert!(matches!(
            collect(std::slice::from_ref(&missing)),
            Err(SourceError::Missing { .. })
        ));
        fs::create_dir(dir.path().join("empty")).unwrap();
        assert!(matches!(
            collect(&[arg(&dir.path().join("empty"))]),
            Err(SourceError::Empty { .. })
        ));
        fs::write(dir.path().join("bad.yaml"), b"ok\xff").unwrap();
        match collect(&[arg(&dir.path().join("bad.yaml"))]) {
            Err(SourceError::NotUtf8 { offset, .. }) => assert_eq!(offset, 2),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            collect(&["-".into(), "-".into()]),
            Err(SourceError::StdinTwice)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("d")).unwrap();
        fs::write(dir.path().join("d/x.yaml"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("d/loop")).unwrap();
        match collect(&[arg(dir.path())]) {
            Err(SourceError::Loop { .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_once_and_dangling_ones_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("shared.yaml"), "shared").unwrap();
        fs::create_dir(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("a/x.yaml"), "x").unwrap();
        // Two links to one directory: read once. A dangling link: skipped.
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("b")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("c")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("d.yaml")).unwrap();
        let texts: Vec<String> = collect(&[arg(dir.path())])
            .unwrap()
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(texts, ["x", "shared"]);
    }
}
