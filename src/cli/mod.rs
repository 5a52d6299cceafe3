//! Command-line front end: parses arguments, runs one command, prints its
//! error once, and returns the command's exit code (an error is 1; every
//! other code comes from `outcome`'s one mapping, SPEC §1).

mod apply;
mod bench;
mod capacity;
mod ci;
mod completions;
mod describe;
mod get;
mod graph;
mod import;
mod init;
mod node;
mod persister;
mod replica;
mod report;
mod rollout;
mod shared;
mod terminal;
mod validate;
mod wakeup;
mod watch;
mod what_if;

use crate::render::Format;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub use crate::outcome::Exit;

#[derive(Debug, Parser)]
#[command(
    name = "orch",
    version,
    about = "Declarative cluster reconciler: plan, apply and explain what an orchestrator would do"
)]
pub struct Cli {
    /// State file (`.json` extension → JSON, otherwise YAML).
    #[arg(
        long,
        global = true,
        env = "ORCH_STATE",
        default_value = "orch.state.yaml"
    )]
    pub state: PathBuf,
    /// Output format.
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value_t
    )]
    pub output: Format,
    /// Never colour output (also honoured: NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Print only errors and the requested document.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More detail on stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write an example manifests/ directory and an empty state.
    Init(init::InitArgs),
    /// A live cluster (`kubectl get nodes,pods,deployments,daemonsets,replicasets,pdb -A -o yaml`) as the state.
    Import(import::ImportArgs),
    /// Parse and check manifests; every error with file:line:col.
    Validate(validate::ValidateArgs),
    /// Dry run: the step-by-step plan to convergence, simulated in memory.
    Plan(apply::PlanArgs),
    /// Run the control loop until converged, blocked or out of time; persists every step.
    Apply(apply::ApplyArgs),
    /// Continuous reconciliation: on manifest and state changes, due events and a resync interval.
    Watch(watch::WatchArgs),
    /// List nodes, workloads, replicas or events.
    Get(get::GetArgs),
    /// Full detail of one node, workload or replica, as kubectl describes it, with its events;
    /// for a replica also every node's filter verdicts and scores.
    Describe(describe::DescribeArgs),
    /// Why a replica is pending, or why it runs where it does.
    Explain(describe::ExplainArgs),
    /// Fault injection on one replica: delete, crash.
    #[command(subcommand)]
    Replica(replica::ReplicaCommand),
    /// Rollouts: status, history, undo, pause, resume.
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),
    /// The order workloads start in (`orch.dev/depends-on`), as text or DOT.
    Graph(graph::GraphArgs),
    /// Node lifecycle and faults: add, remove, drain, cordon, uncordon, fail, recover.
    #[command(subcommand)]
    Node(node::NodeCommand),
    /// Simulate a failed node or zone, an added node or a scaled Deployment on a copy of the state.
    WhatIf(what_if::WhatIfArgs),
    /// How many more replicas of each workload fit, and what runs out first.
    Capacity(capacity::CapacityArgs),
    /// Synthetic fleets and whole-process benchmarks: generate, run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Print the shell completion script: bash, zsh, fish, powershell or elvish.
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff), or write one page per command with --dir.
    Man(completions::ManArgs),
}

pub struct Context {
    pub state: PathBuf,
    pub output: Format,
    pub quiet: bool,
    pub verbose: u8,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and succeed; a usage error is an error
        // (exit 1), never mistaken for "changes pending" (2).
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                Exit::Error
            } else {
                Exit::Success
            });
        }
    };
    if cli.no_color {
        anstream::ColorChoice::Never.write_global();
    }
    let context = Context {
        state: cli.state,
        output: cli.output,
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    crate::render::fit::set_width(terminal::table_width(context.output));
    let result = if context.output == Format::Github
        && !matches!(
            cli.command,
            Command::Validate(_) | Command::Plan(_) | Command::Apply(_)
        ) {
        Err(anyhow::anyhow!(
            "`-o github` (GitHub Actions annotations) is for validate, plan and apply"
        ))
    } else {
        run(&context, cli.command)
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(error) => {
            shared::print_error(&error);
            Exit::Error
        }
    };
    ExitCode::from(exit)
}

fn run(context: &Context, command: Command) -> anyhow::Result<Exit> {
    match command {
        Command::Init(args) => init::run(context, args),
        Command::Import(args) => import::run(context, args),
        Command::Validate(args) => validate::run(context, args),
        Command::Plan(args) => apply::plan(context, args),
        Command::Apply(args) => apply::apply(context, args),
        Command::Watch(args) => watch::run(context, args),
        Command::Get(args) => get::run(context, args),
        Command::Describe(args) => describe::describe(context, args),
        Command::Explain(args) => describe::run(context, args),
        Command::Node(command) => node::run(context, command),
        Command::Rollout(command) => rollout::run(context, command),
        Command::Replica(command) => replica::run(context, command),
        Command::Graph(args) => graph::run(context, args),
        Command::WhatIf(args) => what_if::run(context, args),
        Command::Capacity(args) => capacity::run(context, args),
        Command::Bench(command) => bench::run(context, command),
        Command::Completions(args) => completions::completions(context, args),
        Command::Man(args) => completions::man(context, args),
    }
}
