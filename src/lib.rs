//! orch — a declarative cluster reconciler.
//!
//! Data flow, one pass of the control loop:
//!
//! ```text
//!   manifests (-f) ──manifest::load──▶ Desired ─┐
//!                                               ├─▶ reconcile::reconcile(desired, observed, now) ─▶ Plan
//!   state file ──state_store::load──▶ State ────┘         │ uses scheduler (filter → score → place)
//!                                                         ▼
//!                          executor::execute(plan, &mut State) ─▶ new State ──state_store::save
//!                                                         │
//!                                      render (tables, JSON, YAML) ─▶ stdout / stderr
//! ```
//!
//! `analysis` asks the same loop hypothetical questions (a failed zone, a
//! bigger Deployment, the room left for one more replica) on copies of the state.
//! `import` reads a live cluster export (`kubectl get … -o yaml`) into a State
//! instead; `drain` marks a node and runs the loop that evicts from it, or
//! previews that run in memory.
//!
//! `model`, `manifest`, `scheduler`, `reconcile` and `executor` are pure: they
//! never touch the disk, the clock or the terminal. `state_store`, `cli` and
//! `render` are the edges. `plan` is exactly `apply` without persisting.
//!
//! `outcome` says how a run ended and maps that to the exit code every
//! command returns.
//!
//! After the loop, `audit` (pure) checks the final state for what the loop
//! does not correct (topology spread skewed by a rollout). `explain` and
//! `describe` (pure) build the views of one object from the state. `saved_plan` is
//! the edge that writes `plan --out` files and reads them back for
//! `apply PLAN`, which re-runs the loop and checks it against the record.

pub mod analysis;
pub mod audit;
pub mod autoscale;
pub mod bench;
pub mod cli;
pub mod describe;
pub mod drain;
pub mod executor;
pub mod explain;
pub mod import;
pub mod manifest;
pub mod model;
pub mod outcome;
pub mod reconcile;
pub mod render;
pub mod rollout;
pub mod saved_plan;
pub mod scheduler;
pub mod sources;
pub mod state_store;
pub mod suggest;
