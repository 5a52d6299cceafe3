//! What the state store refuses or guards before anything is touched: the
//! state path (symlinks followed before locking and writing, one lock per
//! real file, special files refused at once, a private lock file) and
//! values out of range.

use super::*;

#[cfg(unix)]
#[test]
fn a_symlinked_state_is_written_through_and_locked_as_its_target() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("real")).unwrap();
    let real = dir.path().join("real/orch.state.yaml");
    let link = dir.path().join("orch.state.yaml");
    // A relative link to a state not created yet resolves to where it will be.
    symlink("real/orch.state.yaml", &link).unwrap();
    assert_eq!(resolve(&link).unwrap(), real);
    let held = lock(&link, false).unwrap();
    assert_eq!(held.path(), real);
    let state = State {
        generation: 7,
        ..State::default()
    };
    held.save(&state).unwrap();
    // The link is still a link; the target holds the state.
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(load(&real).unwrap().generation, 7);
    assert!(real.with_file_name("orch.state.yaml.lock").exists());
    assert!(!dir.path().join("orch.state.yaml.lock").exists());
    // Through the other name, the same lock.
    let error = lock(&real, false).unwrap_err();
    assert!(matches!(error, StateError::Locked { .. }), "{error}");
    drop(held);
    lock(&real, false).unwrap();
}

#[cfg(unix)]
#[test]
fn special_files_and_link_loops_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let message = |path: &Path| lock(path, false).unwrap_err().to_string();
    assert!(message(dir.path()).contains("a directory, not a regular file"));
    assert!(message(Path::new("/dev/null")).contains("a device, not a regular file"));
    assert!(
        read(Path::new("/dev/null"))
            .unwrap_err()
            .to_string()
            .contains("a device")
    );
    let looped = dir.path().join("loop.yaml");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    assert!(message(&looped).contains("symlink loop"));
}

#[cfg(unix)]
#[test]
fn the_lock_file_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orch.state.yaml");
    drop(lock(&path, false).unwrap());
    let mode = fs::metadata(dir.path().join("orch.state.yaml.lock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // One an older orch left world-readable is made private.
    let lock_file = dir.path().join("orch.state.yaml.lock");
    fs::set_permissions(&lock_file, fs::Permissions::from_mode(0o666)).unwrap();
    drop(lock(&path, false).unwrap());
    let mode = fs::metadata(&lock_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn values_out_of_range_are_located() {
    let error = |text: &str, name: &str| {
        parse(Path::new(name), text.as_bytes())
            .unwrap_err()
            .to_string()
    };
    let max = u64::MAX;
    assert_eq!(
        error(
            &format!("apiVersion: orch.dev/v1\nkind: State\ngeneration: {max}\nclock: 0\n"),
            "s.yaml"
        ),
        format!(
            "state s.yaml:3:13: generation: {max} is out of range (at most {MAX_VALUE}); refusing to touch it"
        )
    );
    let near = u64::MAX - 5;
    assert_eq!(
        error(
            &format!(
                "{{\"apiVersion\": \"orch.dev/v1\", \"kind\": \"State\",\n\"generation\": 1, \"clock\": {near}}}\n"
            ),
            "s.json"
        ),
        format!(
            "state s.json:2:27: clock: {near} is out of range (at most {MAX_VALUE}); refusing to touch it"
        )
    );
    let at_limit = format!(
        "apiVersion: orch.dev/v1\nkind: State\ngeneration: {MAX_VALUE}\nclock: {MAX_VALUE}\n"
    );
    assert!(parse(Path::new("s.yaml"), at_limit.as_bytes()).is_ok());
    let event = format!(
        "apiVersion: orch.dev/v1\nkind: State\ngeneration: 1\nclock: 0\nevents:\n- {{time: {max}, type: Normal, reason: Scheduled, object: O, message: M}}\n"
    );
    assert!(
        error(&event, "s.yaml")
            .starts_with(&format!("state s.yaml:6:10: time: {max} is out of range")),
        "{}",
        error(&event, "s.yaml")
    );
}

#[test]
fn a_document_that_is_not_a_mapping_is_named_so() {
    for (name, text, what) in [
        ("s.yaml", "- a\n- b\n", "a list"),
        ("s.json", "[1, 2]", "a list"),
        ("s.json", "\"text\"", "a scalar"),
    ] {
        let message = parse(Path::new(name), text.as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            format!(
                "state {name}: the document is {what}, not a State mapping; refusing to touch it"
            )
        );
    }
}
