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
    #[error(
        "{path}: symlink to {target}, which does not exist; refusing to go on without what it held (restore the target or remove the link)"
    )]
    Dangling { path: String, target: String },
    #[error(
        "{path}: symlink loop (too many levels of symbolic links); refusing to go on without what it held"
    )]
    LinkLoop { path: String },
    #[error(
        "<stdin>: nothing was read (stdin is closed, empty or /dev/null); refusing to treat it as an empty manifest set"
    )]
    StdinEmpty,
    #[error(
        "{path}: a Helm chart (Chart.yaml); orch reads the manifests it renders: helm template RELEASE {path} > rendered.yaml, then orch … -f rendered.yaml"
    )]
    HelmChart { path: String },
    #[error(
        "{path}: a kustomization ({file}); orch reads the manifests it builds: kubectl kustomize {path} > rendered.yaml, then orch … -f rendered.yaml"
    )]
    Kustomization { path: String, file: String },
}

/// The files that make a directory a Helm chart or a kustomization.
const KUSTOMIZATIONS: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A Helm chart or kustomization at `dir` is rendered by its tool, never
/// read as manifests (its templates are not Kubernetes objects yet).
fn rendered_by_a_tool(dir: &Path) -> Result<(), SourceError> {
    let path = dir.display().to_string();
    if dir.join("Chart.yaml").is_file() {
        return Err(SourceError::HelmChart { path });
    }
    match KUSTOMIZATIONS.iter().find(|name| dir.join(name).is_file()) {
        Some(file) => Err(SourceError::Kustomization {
            path,
            file: file.to_string(),
        }),
        None => Ok(()),
    }
}

/// An entry of a walked directory that was passed over, and why; callers say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    /// What the entry is: `a FIFO`, `a socket`, `a device`.
    pub what: &'static str,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: skipped, {} is not a regular file",
            self.path, self.what
        )
    }
}

/// Every source named by `args`, in order; directories recursively, sorted by
/// path. Each entry of a directory passed over is said on stderr.
pub fn collect(args: &[String]) -> Result<Vec<Source>, SourceError> {
    collect_noting(args, &mut |skipped| eprintln!("notice: {skipped}"))
}

/// `collect`, handing each directory entry passed over to `skipped`.
pub fn collect_noting(
    args: &[String],
    skipped: &mut dyn FnMut(Skipped),
) -> Result<Vec<Source>, SourceError> {
    if args.iter().filter(|arg| *arg == "-").count() > 1 {
        return Err(SourceError::StdinTwice);
    }
    let mut sources = Vec::new();
    for arg in args {
        if arg == "-" {
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
            // A closed stdin reads as /dev/null: nothing at all is never a
            // manifest set meant to prune everything.
            if bytes.is_empty() {
                return Err(SourceError::StdinEmpty);
            }
            sources.push(Source {
                name: "<stdin>".into(),
                text: utf8("<stdin>", bytes)?,
            });
            continue;
        }
        let path = Path::new(arg);
        let metadata = std::fs::metadata(path).map_err(|error| {
            match (error.kind(), std::fs::symlink_metadata(path).is_ok()) {
                (std::io::ErrorKind::NotFound, false) => SourceError::Missing { path: arg.clone() },
                _ => unfollowable(path, error),
            }
        })?;
        if metadata.is_dir() {
            let mut files = Vec::new();
            let mut visited = HashSet::new();
            walk(path, &mut files, &mut visited, &mut Vec::new(), skipped)?;
            if files.is_empty() {
                return Err(SourceError::Empty { path: arg.clone() });
            }
            files.sort();
            for file in files {
                sources.push(read(&file)?);
            }
        } else {
            // `-f chart/Chart.yaml` or `-f overlay/kustomization.yaml`: the directory is meant.
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name == "Chart.yaml" || KUSTOMIZATIONS.contains(&name) {
                let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
                rendered_by_a_tool(dir.unwrap_or(Path::new(".")))?;
            }
            sources.push(read(path)?);
        }
    }
    Ok(sources)
}

/// Why `path`, which exists as a name, cannot be followed: a dangling
/// symlink, a loop of them, or an I/O error such as permission denied.
fn unfollowable(path: &Path, error: std::io::Error) -> SourceError {
    let name = path.display().to_string();
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link && error.kind() == std::io::ErrorKind::NotFound {
        let target =
            std::fs::read_link(path).map_or_else(|_| "?".into(), |t| t.display().to_string());
        return SourceError::Dangling { path: name, target };
    }
    if is_link && is_loop(&error) {
        return SourceError::LinkLoop { path: name };
    }
    SourceError::Unreadable { path: name, error }
}

/// ELOOP, "too many levels of symbolic links" (`ErrorKind::FilesystemLoop`
/// is not stable yet).
fn is_loop(error: &std::io::Error) -> bool {
    let eloop = if cfg!(target_os = "linux") { 40 } else { 62 };
    error.raw_os_error() == Some(eloop)
}

/// What a special file is, to say why it was skipped.
fn special_kind(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    let _ = metadata;
    "a special file"
}

fn walk(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
    ancestors: &mut Vec<PathBuf>,
    skipped: &mut dyn FnMut(Skipped),
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
    rendered_by_a_tool(dir)?;
    ancestors.push(canonical);
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        // An entry that cannot be followed may have held manifests (a link
        // to a directory that is gone): going on without it would prune
        // what it held, so it is an error whatever its name.
        let metadata = std::fs::metadata(&path).map_err(|e| unfollowable(&path, e))?;
        let manifest_name = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e));
        if metadata.is_dir() {
            walk(&path, files, visited, ancestors, skipped)?;
        } else if metadata.is_file() {
            if manifest_name {
                files.push(path);
            }
        } else {
            skipped(Skipped {
                path: path.display().to_string(),
                what: special_kind(&metadata),
            });
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
    fn symlinks_are_followed_once() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("shared.yaml"), "shared").unwrap();
        fs::create_dir(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("a/x.yaml"), "x").unwrap();
        // Two links to one directory: read once.
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("b")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("c")).unwrap();
        let texts: Vec<String> = collect(&[arg(dir.path())])
            .unwrap()
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(texts, ["x", "shared"]);
    }

    #[cfg(unix)]
    #[test]
    fn entries_that_cannot_be_followed_are_errors_naming_them() {
        use std::os::unix::fs::symlink;
        let case = |make: &dyn Fn(&Path)| {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join("x.yaml"), "x").unwrap();
            make(dir.path());
            (collect(&[arg(dir.path())]), dir)
        };
        // A link to a directory that is gone, whatever its name: what it held
        // would otherwise be pruned.
        let (result, dir) = case(&|d| symlink(d.join("gone"), d.join("apps")).unwrap());
        match result {
            Err(SourceError::Dangling { path, target }) => {
                assert_eq!(path, arg(&dir.path().join("apps")));
                assert_eq!(target, arg(&dir.path().join("gone")));
            }
            other => panic!("{other:?}"),
        }
        let (result, dir) = case(&|d| {
            symlink(d.join("b.yaml"), d.join("a.yaml")).unwrap();
            symlink(d.join("a.yaml"), d.join("b.yaml")).unwrap();
        });
        match result {
            Err(SourceError::LinkLoop { path }) => {
                assert!(path.starts_with(&arg(dir.path())), "{path}")
            }
            other => panic!("{other:?}"),
        }
        // The only file a loop: named, not "no manifests found".
        let dir = tempfile::tempdir().unwrap();
        symlink(dir.path().join("self.yaml"), dir.path().join("self.yaml")).unwrap();
        let message = collect(&[arg(dir.path())]).unwrap_err().to_string();
        assert!(message.contains("self.yaml: symlink loop"), "{message}");
        // Given directly: the same errors.
        let message = collect(&[arg(&dir.path().join("self.yaml"))])
            .unwrap_err()
            .to_string();
        assert!(message.contains("self.yaml: symlink loop"), "{message}");
        symlink(dir.path().join("gone"), dir.path().join("d.yaml")).unwrap();
        let message = collect(&[arg(&dir.path().join("d.yaml"))])
            .unwrap_err()
            .to_string();
        assert!(message.contains("d.yaml: symlink to"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_entries_are_errors_naming_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("private")).unwrap();
        fs::write(dir.path().join("private/x.yaml"), "x").unwrap();
        fs::set_permissions(
            dir.path().join("private"),
            fs::Permissions::from_mode(0o000),
        )
        .unwrap();
        let result = collect(&[arg(dir.path())]);
        fs::set_permissions(
            dir.path().join("private"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        if fs::read_dir(dir.path().join("private")).is_ok() && running_as_root() {
            return; // root reads through permissions; nothing to check
        }
        match result {
            Err(SourceError::Unreadable { path, .. }) => {
                assert!(path.ends_with("private"), "{path}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    fn running_as_root() -> bool {
        use std::os::unix::fs::MetadataExt;
        let probe = tempfile::NamedTempFile::new().unwrap();
        probe.as_file().metadata().unwrap().uid() == 0
    }
}
