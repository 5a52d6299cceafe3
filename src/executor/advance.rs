//! `--advance`: simulated time running on after a run would stop, with every
//! controller active (CronJobs firing, Jobs finishing, TTLs passing), up to
//! a fixed instant. The loop's other ways out do not apply: it ends at that
//! instant, whatever the state, and the caller judges the outcome there.

use super::autoscale::Autoscaling;
use super::{Step, Steps, execute};
use crate::model::state::State;
use crate::model::workload::Desired;
use crate::reconcile::Plan;

/// Persists a step (judged against the set the controllers work towards)
/// and returns it with its counts, or declines it.
pub(super) type Record<'a, E> =
    dyn FnMut(&Desired, &State, Option<&Step>) -> Result<Option<Step>, E> + 'a;

/// Run passes from `state.clock` until `end`: act while there is something
/// to do now, else move the clock to the next event (or to `end` when the
/// next one is later). `record` persists a step and returns it with its
/// counts, or declines it; steps are appended to `steps`, at most `budget`
/// in all. `pass` syncs the HPAs that are due and reconciles; every HPA
/// sync is an event the clock stops at.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_on<E>(
    pass: &dyn Fn(&mut Autoscaling, &mut State) -> Plan,
    declared: &Desired,
    autoscaling: &mut Autoscaling,
    state: &mut State,
    end: u64,
    budget: usize,
    steps: &mut Steps,
    scheduling: &mut crate::scheduler::batch::Stats,
    record: &mut Record<'_, E>,
) -> Result<(), E> {
    loop {
        let plan = pass(autoscaling, state);
        scheduling.merge(&plan.scheduling);
        if !plan.actions.is_empty() {
            if steps.taken >= budget {
                return Ok(());
            }
            execute(state, &plan.actions);
            autoscaling.refresh(state);
            state.generation += 1;
            let step = Step {
                time: state.clock,
                actions: plan.actions,
                status: Vec::new(),
                nodes: None,
                autoscalers: Vec::new(),
            };
            if let Some(step) = record(autoscaling.desired(declared), state, Some(&step))? {
                steps.push(step);
            }
            continue;
        }
        let next = super::autoscale::earliest(
            plan.next_event(),
            autoscaling.next_sync(declared, state, true),
        );
        match next {
            Some(at) if at <= end && state.clock < end => {
                state.clock = at.max(state.clock + 1);
            }
            _ => {
                state.clock = state.clock.max(end);
                return Ok(());
            }
        }
    }
}
