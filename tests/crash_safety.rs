//! The state file survives anything: `orch apply` killed with SIGKILL at
//! random moments always leaves a state that parses, and the next apply ends
//! exactly where an uninterrupted one does. Concurrent writers never lose an
//! update: one waits (`--wait-lock`) or is refused with the holder's pid, and
//! a killed holder's lock is released by the operating system.

use crate::common::{Cluster, deployment, node};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fleet big enough that an apply takes many persisted steps: 24 nodes
/// in three zones, 16 Deployments of 6 to 10 replicas that become ready
/// after 2 to 8 seconds.
fn fleet() -> String {
    let mut text = String::new();
    for i in 0..24 {
        let zone = format!("z{}", i % 3);
        let node = node(&format!("n{i:02}"))
            .cpu("8")
            .memory("32Gi")
            .zone(&zone);
        text.push_str(&node.yaml());
    }
    for w in 0..16 {
        let deployment = deployment(&format!("w{w:02}"))
            .replicas(6 + w % 5)
            .image(&format!("app:{w}"))
            .cpu("200m")
            .memory("256Mi")
            .pod_annotation("orch.dev/ready-after", &format!("{}s", 2 + w % 7))
            .spread_preferred("topology.kubernetes.io/zone", 1);
        text.push_str(&deployment.yaml());
    }
    text
}

fn orch(cluster: &Cluster, args: &[&str]) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("orch"));
    command
        .current_dir(cluster.path(""))
        .env("ORCH_STATE", cluster.state())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn wait(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("no exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A tiny deterministic generator (the test is seeded, not random).
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

fn generation_of(state: &str) -> u64 {
    state
        .lines()
        .find_map(|line| line.strip_prefix("generation: "))
        .and_then(|g| g.trim().parse().ok())
        .expect("the state records its generation")
}

/// The state an uninterrupted apply has persisted after its first `steps` steps.
fn state_after_steps(steps: u64) -> Vec<u8> {
    let cluster = Cluster::new();
    cluster.write("fleet.yaml", &fleet());
    orch(
        &cluster,
        &[
            "apply",
            "-f",
            "fleet.yaml",
            "--max-steps",
            &steps.to_string(),
        ],
    )
    .status()
    .unwrap();
    cluster.state_bytes()
}

#[test]
fn sigkill_at_any_moment_never_corrupts_the_state() {
    let reference = Cluster::new();
    reference.write("fleet.yaml", &fleet());
    let started = Instant::now();
    assert!(
        orch(&reference, &["apply", "-f", "fleet.yaml"])
            .status()
            .unwrap()
            .success()
    );
    let full = started.elapsed();
    let expected = reference.state_bytes();

    let iterations: u64 = std::env::var("ORCH_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let final_generation = generation_of(std::str::from_utf8(&expected).unwrap());
    let mut states_after = std::collections::HashMap::new();
    let mut killed_mid_run = 0;
    let mut seed = Seeded(0x5eed);
    let window = full.as_millis() as u64 + 20;
    for iteration in 0..iterations {
        let cluster = Cluster::new();
        cluster.write("fleet.yaml", &fleet());
        let child = orch(&cluster, &["apply", "-f", "fleet.yaml"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(seed.below(window)));
        let mut child = child;
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if cluster.state().exists() {
            let state = std::fs::read_to_string(cluster.state()).unwrap();
            assert!(
                orch(&cluster, &["get", "nodes"])
                    .status()
                    .unwrap()
                    .success(),
                "iteration {iteration}: the state does not load:\n{}",
                &state[..state.len().min(400)]
            );
            // Exactly the state an uninterrupted apply persists after some step.
            let generation = generation_of(&state);
            let after_step = states_after
                .entry(generation)
                .or_insert_with(|| state_after_steps(generation));
            assert!(
                *after_step == state.as_bytes()
                    || (generation == final_generation && state.as_bytes() == expected),
                "iteration {iteration}: the state at generation {generation} is not the one persisted after step {generation}"
            );
            killed_mid_run += usize::from(generation < final_generation);
        }
        assert!(
            orch(&cluster, &["apply", "-f", "fleet.yaml"])
                .status()
                .unwrap()
                .success(),
            "iteration {iteration}: resume failed"
        );
        assert!(
            cluster.state_bytes() == expected,
            "iteration {iteration}: resumed state differs from the uninterrupted one"
        );
        let leftovers: Vec<String> = std::fs::read_dir(cluster.path(""))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "iteration {iteration}: temporary files left: {leftovers:?}"
        );
    }
    assert!(
        killed_mid_run * 4 >= iterations as usize,
        "only {killed_mid_run} of {iterations} kills landed mid-run; the test is not exercising crashes"
    );
}

#[test]
fn concurrent_writers_wait_or_are_refused_and_lose_nothing() {
    let cluster = Cluster::new();
    cluster.write("fleet.yaml", &fleet());
    cluster.write("extra.yaml", &node("extra").cpu("2").memory("4Gi").yaml());
    let first = orch(&cluster, &["apply", "-f", "fleet.yaml"])
        .spawn()
        .unwrap();
    // Wait until the first apply holds the lock and has written something.
    let started = Instant::now();
    while !cluster.state().exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let refused = orch(
        &cluster,
        &["node", "add", "x1", "--cpu", "1", "--memory", "1Gi"],
    )
    .stderr(Stdio::piped())
    .output()
    .unwrap();
    let waited = orch(
        &cluster,
        &[
            "node",
            "add",
            "x2",
            "--cpu",
            "1",
            "--memory",
            "1Gi",
            "--wait-lock",
        ],
    )
    .spawn()
    .unwrap();
    assert!(wait(first, Duration::from_secs(60)).success());
    assert!(wait(waited, Duration::from_secs(60)).success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    if refused.status.code() == Some(1) {
        assert!(stderr.contains("is locked by pid"), "{stderr}");
    }
    // Nothing lost: the fleet converged and the waiting writer's node is there.
    let nodes = cluster.json(&["get", "nodes"]);
    let names: Vec<&str> = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"x2") && names.contains(&"n00"), "{names:?}");
    assert!(
        orch(
            &cluster,
            &[
                "plan",
                "-f",
                "fleet.yaml",
                "--no-prune",
                "--detailed-exitcode"
            ]
        )
        .status()
        .unwrap()
        .code()
            == Some(0)
    );
}

#[test]
fn a_killed_holder_does_not_block_the_next_writer() {
    let cluster = Cluster::new();
    cluster.write("fleet.yaml", &fleet());
    let mut child = orch(&cluster, &["apply", "-f", "fleet.yaml"])
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !cluster.state().exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The lock file remains, but the OS released the lock with the process.
    assert!(cluster.path("orch.state.yaml.lock").exists());
    assert!(
        orch(
            &cluster,
            &["node", "add", "x1", "--cpu", "1", "--memory", "1Gi"]
        )
        .status()
        .unwrap()
        .success()
    );
    assert!(
        orch(&cluster, &["apply", "-f", "fleet.yaml", "--no-prune"])
            .status()
            .unwrap()
            .success()
    );
}

/// Issue 25, findings 4, 5 and 9: a state that is a symlink is written
/// through (the link stays, the target changes) and locked as its target; a
/// FIFO or device as the state is refused at once instead of blocking with
/// the lock held; the lock file is private.
#[cfg(unix)]
#[test]
fn a_symlinked_state_is_written_through_and_a_fifo_is_refused_at_once() {
    use std::os::unix::fs::PermissionsExt;
    let cluster = Cluster::new();
    cluster.write(
        "n.yaml",
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {cpu: \"2\", memory: 4Gi}}\n",
    );
    std::fs::create_dir(cluster.path("shared")).unwrap();
    let real = cluster.path("shared/orch.state.yaml");
    std::os::unix::fs::symlink(&real, cluster.state()).unwrap();
    assert!(
        orch(&cluster, &["apply", "-f", "n.yaml"])
            .status()
            .unwrap()
            .success()
    );
    let link = std::fs::symlink_metadata(cluster.state()).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert!(std::fs::read_to_string(&real).unwrap().contains("name: n1"));
    let lock = cluster.path("shared/orch.state.yaml.lock");
    assert_eq!(
        std::fs::metadata(&lock).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!cluster.path("orch.state.yaml.lock").exists());

    // A FIFO, a device: exit 1 at once, naming what it is.
    let fifo = cluster.path("fifo.yaml");
    if !Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        return;
    }
    for (state, what) in [
        (fifo.as_path(), "a FIFO"),
        (std::path::Path::new("/dev/zero"), "a device"),
    ] {
        for args in [
            &["apply", "-f", "n.yaml"][..],
            &["plan", "-f", "n.yaml"],
            &["get", "nodes"],
        ] {
            let child = orch(&cluster, args)
                .env("ORCH_STATE", state)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let output = wait_output(child, Duration::from_secs(10));
            assert_eq!(output.0.code(), Some(1), "{args:?} on {what}");
            assert!(
                output.1.contains(&format!("{what}, not a regular file")),
                "{args:?}: {}",
                output.1
            );
        }
    }
}

/// `wait`, then the child's stderr.
fn wait_output(mut child: Child, limit: Duration) -> (std::process::ExitStatus, String) {
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let status = wait(child, limit);
    (status, reader.join().unwrap())
}

/// `apply PLAN` is exactly the plan or nothing, even killed: SIGKILL at
/// seeded random moments leaves no state file (as before) or exactly the
/// state an uninterrupted `apply PLAN` writes, and the next `apply PLAN`
/// completes it. 20 kills (`ORCH_CRASH_ITERATIONS` for more).
#[test]
fn sigkill_during_apply_plan_leaves_all_or_nothing() {
    let reference = Cluster::new();
    reference.write("fleet.yaml", &fleet());
    assert!(
        orch(
            &reference,
            &["plan", "-f", "fleet.yaml", "--out", "plan.json"]
        )
        .status()
        .unwrap()
        .success()
    );
    let plan = std::fs::read(reference.path("plan.json")).unwrap();
    let started = Instant::now();
    assert!(
        orch(&reference, &["apply", "plan.json"])
            .status()
            .unwrap()
            .success()
    );
    let window = started.elapsed().as_millis() as u64 + 20;
    let expected = reference.state_bytes();
    let iterations: u64 = std::env::var("ORCH_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(20, |n: u64| n.min(100));
    let mut seed = Seeded(0x91a7);
    let mut before_the_write = 0;
    for iteration in 0..iterations {
        let cluster = Cluster::new();
        std::fs::write(cluster.path("plan.json"), &plan).unwrap();
        let mut child = orch(&cluster, &["apply", "plan.json"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(seed.below(window)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if cluster.state().exists() {
            assert!(
                cluster.state_bytes() == expected,
                "iteration {iteration}: a killed apply PLAN left a state that is not the plan's"
            );
            continue;
        }
        before_the_write += 1;
        assert!(
            orch(&cluster, &["apply", "plan.json"])
                .status()
                .unwrap()
                .success(),
            "iteration {iteration}: the plan no longer applies"
        );
        assert!(cluster.state_bytes() == expected, "iteration {iteration}");
    }
    assert!(
        before_the_write > 0,
        "no kill landed before the write; the test is not exercising crashes"
    );
}

/// `import --force` killed at seeded random moments leaves the state it
/// replaces or exactly the imported one, never a mix, and no temporary file
/// once the next writer has run.
#[test]
fn sigkill_during_import_leaves_the_old_state_or_the_new() {
    let export = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/cluster.yaml")
        .display()
        .to_string();
    let reference = Cluster::new();
    reference.write("fleet.yaml", &fleet());
    assert!(
        orch(
            &reference,
            &["apply", "-f", "fleet.yaml", "--max-steps", "1"]
        )
        .status()
        .unwrap()
        .code()
            == Some(3)
    );
    let old = reference.state_bytes();
    let started = Instant::now();
    assert!(
        orch(&reference, &["import", "-f", &export, "--force"])
            .status()
            .unwrap()
            .success()
    );
    let window = started.elapsed().as_millis() as u64 + 5;
    let new = reference.state_bytes();
    let mut seed = Seeded(0x1a9047);
    for iteration in 0..20 {
        let cluster = Cluster::new();
        std::fs::write(cluster.state(), &old).unwrap();
        let mut child = orch(&cluster, &["import", "-f", &export, "--force"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(seed.below(window)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let state = cluster.state_bytes();
        assert!(
            state == old || state == new,
            "iteration {iteration}: a killed import left neither the old state nor the new"
        );
        assert!(
            orch(&cluster, &["import", "-f", &export, "--force"])
                .status()
                .unwrap()
                .success()
        );
        assert!(cluster.state_bytes() == new, "iteration {iteration}");
        let leftovers = std::fs::read_dir(cluster.path(""))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            })
            .count();
        assert_eq!(leftovers, 0, "iteration {iteration}: temporary files left");
    }
}

/// How many kills a crash test makes: 20, or `ORCH_CRASH_ITERATIONS`.
fn kills() -> u64 {
    std::env::var("ORCH_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

fn no_temporary_files(cluster: &Cluster, iteration: u64) {
    let leftovers: Vec<String> = std::fs::read_dir(cluster.path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "iteration {iteration}: temporary files left: {leftovers:?}"
    );
}

/// `node drain` killed at seeded random moments leaves a state that loads,
/// and running the same drain again ends byte for byte where one
/// uninterrupted drain does: marking an already-draining node is no change.
#[test]
fn sigkill_during_node_drain_resumes_to_the_same_state() {
    let reference = Cluster::new();
    reference.write("fleet.yaml", &fleet());
    assert!(
        orch(&reference, &["apply", "-f", "fleet.yaml"])
            .status()
            .unwrap()
            .success()
    );
    let applied = reference.state_bytes();
    let started = Instant::now();
    assert!(
        orch(&reference, &["node", "drain", "n00"])
            .status()
            .unwrap()
            .success()
    );
    let window = started.elapsed().as_millis() as u64 + 10;
    let drained = reference.state_bytes();
    assert!(drained != applied, "the drain changed nothing");
    let mut seed = Seeded(0xd2a1);
    let mut interrupted = 0;
    for iteration in 0..kills() {
        let cluster = Cluster::new();
        std::fs::write(cluster.state(), &applied).unwrap();
        let mut child = orch(&cluster, &["node", "drain", "n00"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(seed.below(window)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let state = cluster.state_bytes();
        interrupted += usize::from(state != drained);
        assert!(
            orch(&cluster, &["get", "nodes"])
                .status()
                .unwrap()
                .success(),
            "iteration {iteration}: the state does not load"
        );
        assert!(
            orch(&cluster, &["node", "drain", "n00"])
                .status()
                .unwrap()
                .success(),
            "iteration {iteration}: the drain run again failed"
        );
        assert!(
            cluster.state_bytes() == drained,
            "iteration {iteration}: the resumed drain differs from the uninterrupted one"
        );
        no_temporary_files(&cluster, iteration);
    }
    assert!(
        interrupted > 0,
        "no kill landed before the drain finished; the test is not exercising crashes"
    );
}

/// `orch watch` killed at seeded random moments (it never ends by itself)
/// leaves a state that loads, and an apply of the same manifests from there
/// converges to the same workloads and counts as one from scratch.
#[test]
fn sigkill_during_watch_leaves_a_state_an_apply_resumes() {
    let reference = Cluster::new();
    reference.write("fleet.yaml", &fleet());
    assert!(
        orch(&reference, &["apply", "-f", "fleet.yaml"])
            .status()
            .unwrap()
            .success()
    );
    let expected = reference.json(&["get", "workloads"]);
    let mut seed = Seeded(0x3a7c);
    let mut written = 0;
    for iteration in 0..kills() {
        let cluster = Cluster::new();
        cluster.write("fleet.yaml", &fleet());
        let mut child = orch(
            &cluster,
            &[
                "watch",
                "-f",
                "fleet.yaml",
                "--speed",
                "50",
                "--resync",
                "1s",
            ],
        )
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(50 + seed.below(400)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if cluster.state().exists() {
            written += 1;
            assert!(
                orch(&cluster, &["get", "nodes"])
                    .status()
                    .unwrap()
                    .success(),
                "iteration {iteration}: the state does not load"
            );
        }
        assert!(
            orch(&cluster, &["apply", "-f", "fleet.yaml"])
                .status()
                .unwrap()
                .success(),
            "iteration {iteration}: the apply after the watch failed"
        );
        assert_eq!(
            cluster.json(&["get", "workloads"])["items"],
            expected["items"],
            "iteration {iteration}"
        );
        no_temporary_files(&cluster, iteration);
    }
    assert!(
        written > 0,
        "no watch wrote a state before its kill; the test is not exercising crashes"
    );
}
