//! What a person at a terminal gets besides the data: colour in `plan`
//! tables (and only there), shell completions and the manual page.

use crate::common::Cluster;
use std::process::Output;

const ESC: &str = "\x1b[";
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const MAGENTA: &str = "\x1b[35m";

/// `orch ARGS` with the given colour environment (NO_COLOR and
/// CLICOLOR_FORCE unset unless given).
fn run(cluster: &Cluster, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = cluster.orch();
    command.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    for (key, value) in env {
        command.env(key, value);
    }
    command.args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The text with every SGR sequence removed.
fn strip(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(ESC) {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find('m').expect("an SGR sequence ends with m");
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle} in:\n{text}"))
}

#[test]
fn plan_colours_creates_green_deletions_red_and_changes_yellow_when_forced() {
    let cluster = Cluster::example();
    let forced = run(
        &cluster,
        &[("CLICOLOR_FORCE", "1")],
        &["plan", "-f", "manifests/"],
    );
    assert_eq!(forced.status.code(), Some(0));
    let text = stdout(&forced);
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("TIME") && !header.contains(ESC),
        "{header}"
    );
    assert!(line_with(&text, "+ create ").starts_with(GREEN));
    assert!(line_with(&text, "+ add-node ").starts_with(GREEN));
    assert!(line_with(&text, "~ mark-ready ").starts_with(YELLOW));
    assert!(line_with(&text, "~ bind ").starts_with(YELLOW));
    assert!(line_with(&text, "~ record-revision ").starts_with(YELLOW));
    // The workload summary: converged rows green.
    assert!(
        line_with(&text, "Converged").starts_with(GREEN),
        "{}",
        line_with(&text, "Converged")
    );
    // Colour never changes the text: stripped, it is the plain output.
    let plain = run(&cluster, &[], &["plan", "-f", "manifests/"]);
    assert_eq!(strip(&text), stdout(&plain));

    // Deletions and a pending replica, after scaling the workers down and
    // asking for a third transcoder (there are two GPUs).
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let workers = std::fs::read_to_string(cluster.path("manifests/workers.yaml")).unwrap();
    let workers = set_replicas(&workers, "worker", 1);
    let workers = set_replicas(&workers, "transcoder", 3);
    cluster.write("manifests/workers.yaml", &workers);
    let forced = run(
        &cluster,
        &[("CLICOLOR_FORCE", "1")],
        &["plan", "-f", "manifests/"],
    );
    let text = stdout(&forced);
    assert!(line_with(&text, "- delete ").starts_with(RED), "{text}");
    assert!(
        line_with(&text, "! pending ").starts_with(MAGENTA),
        "{text}"
    );
    assert!(line_with(&text, "is blocked (Unschedulable)").starts_with(RED));
    assert!(line_with(&text, "Blocked (Unschedulable)").starts_with(RED));
}

/// `replicas:` of the named Deployment in a multi-document file set to `count`.
fn set_replicas(text: &str, name: &str, count: u32) -> String {
    text.split("\n---\n")
        .map(|doc| {
            if doc.contains(&format!("  name: {name}\n")) {
                let start = doc.find("  replicas: ").unwrap();
                let end = start + doc[start..].find('\n').unwrap();
                format!("{}  replicas: {count}{}", &doc[..start], &doc[end..])
            } else {
                doc.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[test]
fn no_colour_off_a_terminal_with_no_color_or_no_color_flag_and_in_documents() {
    let cluster = Cluster::example();
    let plan = ["plan", "-f", "manifests/"];
    // A pipe: plain by default.
    let piped = run(&cluster, &[], &plan);
    assert!(!stdout(&piped).contains(ESC));
    assert!(stdout(&piped).contains("+ create"));
    // NO_COLOR wins over CLICOLOR_FORCE (anstream's documented order), and so does --no-color.
    for (env, extra) in [
        (vec![("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], vec![]),
        (vec![("CLICOLOR_FORCE", "1")], vec!["--no-color"]),
        (vec![("CLICOLOR", "0")], vec![]),
    ] {
        let args: Vec<&str> = plan.iter().copied().chain(extra.iter().copied()).collect();
        let output = run(&cluster, &env, &args);
        assert!(
            !stdout(&output).contains(ESC),
            "{env:?} {extra:?} coloured the plan"
        );
        assert_eq!(stdout(&output), stdout(&piped));
    }
    // Documents are never coloured, even when colour is forced.
    for format in ["json", "yaml"] {
        let output = run(
            &cluster,
            &[("CLICOLOR_FORCE", "1")],
            &["plan", "-f", "manifests/", "-o", format],
        );
        let text = stdout(&output);
        assert!(
            text.contains("orch.dev/v1") && !text.contains(ESC),
            "{format}"
        );
    }
}

#[test]
fn completion_scripts_for_every_shell_name_the_commands() {
    let cluster = Cluster::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = run(&cluster, &[], &["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = stdout(&output);
        assert!(script.len() > 1000, "{shell}: {} bytes", script.len());
        for command in ["apply", "rollout", "describe", "drain", "completions"] {
            assert!(script.contains(command), "{shell} script lacks {command}");
        }
        assert!(
            script.contains("detailed-exitcode"),
            "{shell}: plan's flags"
        );
    }
    // The bash script is valid bash.
    let script = cluster.path("orch.bash");
    std::fs::write(
        &script,
        stdout(&run(&cluster, &[], &["completions", "bash"])),
    )
    .unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // An unknown shell is a usage error, exit 1.
    cluster
        .run(&["completions", "tcsh"])
        .code(1)
        .stderr(predicates::str::contains(
            "possible values: bash, elvish, fish, powershell, zsh",
        ));
}

#[test]
fn the_manual_page_is_roff_and_lists_the_commands() {
    let cluster = Cluster::new();
    let output = run(&cluster, &[], &["man"]);
    assert_eq!(output.status.code(), Some(0));
    let page = stdout(&output);
    assert!(page.contains(".TH orch 1"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"));
    for command in [
        "orch\\-apply",
        "orch\\-plan",
        "orch\\-rollout",
        "orch\\-completions",
    ] {
        assert!(page.contains(command), "the page lacks {command}");
    }
    // --dir writes one page per command, subcommands included.
    cluster
        .run(&["man", "--dir", "man1", "-q"])
        .success()
        .stdout("");
    for file in [
        "orch.1",
        "orch-apply.1",
        "orch-node-drain.1",
        "orch-rollout-undo.1",
    ] {
        let text = std::fs::read_to_string(cluster.path("man1").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(text.contains(".TH"), "{file}");
    }
    let drain = std::fs::read_to_string(cluster.path("man1/orch-node-drain.1")).unwrap();
    assert!(drain.contains("\\-\\-state"), "global flags on every page");
}
