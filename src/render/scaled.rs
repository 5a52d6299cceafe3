//! The human view of a large run on one screen or so: when the timeline of
//! a `plan`/`apply` has more rows than a person reads, actions are counted
//! per step, kind and workload (`+ 145 × create  Deployment/shop/svc-01848
//! on 145 nodes`), then per step and kind if that is still too many; the
//! per-step counts are added up over workloads; the workload table lists
//! those that did not converge and counts the rest. Every action stays in
//! `--verbose`, `-o wide` and `-o json`.

use super::plan::{sign, status_style, status_word, style_for, styled_rows};
use super::{duration, tables::Tabular};
use crate::executor::RunResult;
use crate::reconcile::Action;
use crate::reconcile::status::WorkloadReport;
use anstyle::Style;
use std::collections::{BTreeSet, HashMap};

/// The most timeline rows shown whole: a run with more is summarised.
pub const TIMELINE_ROWS: usize = 150;
/// The most rows of the per-step table and of the workload table.
pub const STEP_ROWS: usize = 80;
pub const WORKLOAD_ROWS: usize = 40;
/// The most "is blocked" lines.
pub const BLOCKED_LINES: usize = 20;

/// The timeline's rows: shown actions, status updates aside.
pub fn shown(action: &Action) -> bool {
    action.is_shown() && !matches!(action, Action::SetStatus { .. })
}

/// How many rows the whole timeline has.
pub fn timeline_rows(result: &RunResult) -> usize {
    result
        .steps
        .iter()
        .map(|s| s.actions.iter().filter(|a| shown(a)).count())
        .sum()
}

/// What of a run's human view fits whole.
pub struct Limits {
    pub timeline_fits: bool,
}

impl Limits {
    pub fn of(result: &RunResult) -> Limits {
        Limits {
            timeline_fits: timeline_rows(result) <= TIMELINE_ROWS,
        }
    }
}

/// Actions of one kind in one step, of one workload or of many.
struct Group<'a> {
    time: u64,
    sign: char,
    op: &'static str,
    objects: BTreeSet<String>,
    count: usize,
    nodes: BTreeSet<&'a str>,
    first_replica: Option<&'a str>,
    detail: String,
}

impl<'a> Group<'a> {
    fn new(time: u64, action: &'a Action) -> Self {
        Group {
            time,
            sign: sign(action),
            op: action.op(),
            objects: BTreeSet::new(),
            count: 0,
            nodes: BTreeSet::new(),
            first_replica: action.replica(),
            detail: detail(action),
        }
    }

    fn add(&mut self, action: &'a Action, object: String) {
        self.count += 1;
        // A detail shows only when every action of the group has it.
        if !self.detail.is_empty() && self.count > 1 && detail(action) != self.detail {
            self.detail.clear();
        }
        if let Some(node) = action.node() {
            self.nodes.insert(node);
        }
        self.objects.insert(object);
    }
}

fn detail(action: &Action) -> String {
    match action {
        Action::FailedScheduling { error, .. } => error.to_string(),
        Action::Delete { reason, .. } => reason.to_string(),
        Action::RecordRevision { revision, hash, .. } => format!("revision {revision} ({hash})"),
        Action::NodeGroup(decision) => decision.detail().unwrap_or_default(),
        _ => String::new(),
    }
}

/// `Node/a`, `Node/b` → `2 nodes`; workloads → `3 workloads`.
fn objects(objects: &BTreeSet<String>) -> String {
    match objects.len() {
        1 => objects.iter().next().cloned().unwrap_or_default(),
        n if objects.iter().all(|o| o.starts_with("Node/")) => format!("{n} nodes"),
        n => format!("{n} workloads"),
    }
}

/// Actions grouped per step and kind, and per workload when `per_object`,
/// in the order they first appear.
fn groups(result: &RunResult, per_object: bool) -> Vec<Group<'_>> {
    let mut groups = Vec::new();
    for step in &result.steps {
        let mut index: HashMap<(&'static str, String), usize> = HashMap::new();
        let first = groups.len();
        for action in step.actions.iter().filter(|a| shown(a)) {
            let object = action.object();
            let key = (
                action.op(),
                if per_object {
                    object.clone()
                } else {
                    String::new()
                },
            );
            let at = *index.entry(key).or_insert_with(|| {
                groups.push(Group::new(step.time, action));
                groups.len() - 1
            });
            groups[at].add(action, object);
        }
        debug_assert!(groups[first..].iter().all(|g| g.count > 0));
    }
    groups
}

/// The timeline summarised: one row per step, kind and workload, or per
/// step and kind when even that is more than `TIMELINE_ROWS`; then, if still
/// too many, the first and last rows with the count of those left out.
pub fn timeline(result: &RunResult) -> String {
    let mut rows = groups(result, true);
    if rows.len() > TIMELINE_ROWS {
        rows = groups(result, false);
    }
    let mut table = Tabular::new(&["TIME", "ACTION", "OBJECT", "REPLICAS", "NODES", "DETAIL"]);
    let mut styles = Vec::new();
    let (head, tail, left_out) = window(rows.len(), TIMELINE_ROWS);
    for (i, group) in rows.iter().enumerate() {
        if i == head && left_out > 0 {
            styles.push(Style::new());
            table.row(&["…", &format!("{left_out} more rows"), "", "", "", ""]);
        }
        if i >= head && i < tail {
            continue;
        }
        styles.push(style_for(group.sign));
        table
            .cell(duration(group.time))
            .cell(format_args!(
                "{} {} × {}",
                group.sign, group.count, group.op
            ))
            .cell(objects(&group.objects))
            .cell(match (group.first_replica, group.count) {
                (None, _) => String::new(),
                (Some(replica), 1) => replica.to_string(),
                // Replicas of many workloads: one name would stand for none of them.
                (Some(_), n) if group.objects.len() > 1 => format!("{n} replicas"),
                (Some(replica), n) => format!("{replica} … and {} more", n - 1),
            })
            .cell(match group.nodes.len() {
                0 => String::new(),
                1 => format!("on {}", group.nodes.iter().next().unwrap_or(&"")),
                n => format!("on {n} nodes"),
            })
            .cell(&group.detail);
    }
    let mut text = styled_rows(&table.render(), &styles);
    text.push_str(&format!(
        "({} actions in {} rows; every action: --verbose, -o wide or -o json)\n",
        timeline_rows(result),
        rows.len()
    ));
    text
}

/// Which of `len` rows to leave out so that at most `max` show: rows
/// `head..tail` (with `left_out` = their number).
fn window(len: usize, max: usize) -> (usize, usize, usize) {
    if len <= max {
        return (len, len, 0);
    }
    let head = max / 2;
    let tail = len - (max - head);
    (head, tail, tail - head)
}

/// The per-step counts added up over the workloads that changed in each
/// step (`N workloads`), when one row per step and workload is too many.
pub fn steps(result: &RunResult) -> String {
    let mut rows: Vec<[String; 7]> = Vec::new();
    for step in &result.steps {
        let mut per_object: HashMap<String, usize> = HashMap::new();
        for action in step.actions.iter().filter(|a| shown(a)) {
            *per_object.entry(action.object()).or_default() += 1;
        }
        let (mut workloads, mut sums, mut actions) = (0usize, [0i64; 4], 0usize);
        for status in &step.status {
            let Some(&count) = per_object.get(&status.object) else {
                continue;
            };
            workloads += 1;
            actions += count;
            for (sum, value) in sums.iter_mut().zip([
                status.current,
                status.ready,
                status.available,
                status.updated,
            ]) {
                *sum += i64::from(value);
            }
        }
        if workloads == 0 {
            continue;
        }
        rows.push([
            duration(step.time),
            format!(
                "{workloads} workload{}",
                if workloads == 1 { "" } else { "s" }
            ),
            sums[0].to_string(),
            sums[1].to_string(),
            sums[2].to_string(),
            sums[3].to_string(),
            actions.to_string(),
        ]);
    }
    let mut table = Tabular::new(&[
        "TIME",
        "WORKLOADS",
        "CURRENT",
        "READY",
        "AVAILABLE",
        "UPDATED",
        "ACTIONS",
    ]);
    let (head, tail, left_out) = window(rows.len(), STEP_ROWS);
    for (i, row) in rows.iter().enumerate() {
        if i == head && left_out > 0 {
            table.row(&["…", &format!("{left_out} more steps")]);
        }
        if i < head || i >= tail {
            table.row(row);
        }
    }
    table.render()
}

/// The workload table when it is long: the workloads that did not converge
/// first (at most `WORKLOAD_ROWS`), then a count of the rest by status.
pub fn workloads(reports: &[WorkloadReport]) -> String {
    let mut shown: Vec<&WorkloadReport> = reports.iter().filter(|r| !r.converged()).collect();
    shown.truncate(WORKLOAD_ROWS);
    if shown.len() < WORKLOAD_ROWS {
        let room = WORKLOAD_ROWS - shown.len();
        shown.extend(reports.iter().filter(|r| r.converged()).take(room));
    }
    let mut table = Tabular::new(&[
        "WORKLOAD",
        "DESIRED",
        "CURRENT",
        "READY",
        "AVAILABLE",
        "UPDATED",
        "STATUS",
    ]);
    for r in &shown {
        table.row(&[
            r.object.clone(),
            r.desired.to_string(),
            r.current.to_string(),
            r.ready.to_string(),
            r.available.to_string(),
            r.updated.to_string(),
            status_word(r),
        ]);
    }
    let styles: Vec<Style> = shown.iter().map(|r| status_style(r)).collect();
    let mut text = styled_rows(&table.render(), &styles);
    let rest = reports.len() - shown.len();
    if rest > 0 {
        let mut counts: Vec<(String, usize)> = Vec::new();
        let listed: BTreeSet<&str> = shown.iter().map(|r| r.object.as_str()).collect();
        for report in reports
            .iter()
            .filter(|r| !listed.contains(r.object.as_str()))
        {
            let word = status_word(report);
            match counts.iter_mut().find(|(w, _)| *w == word) {
                Some((_, n)) => *n += 1,
                None => counts.push((word, 1)),
            }
        }
        let counts: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {w}")).collect();
        text.push_str(&format!(
            "… and {rest} more workloads ({}); every workload: -o wide or -o json\n",
            counts.join(", ")
        ));
    }
    text
}

/// At most `BLOCKED_LINES` lines of `super::plan::blocked`, then a count.
pub fn blocked(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= BLOCKED_LINES {
        return text.to_string();
    }
    let mut out: String = lines[..BLOCKED_LINES]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    out.push_str(&format!(
        "… and {} more blocked workloads (every one: -o wide or -o json)\n",
        lines.len() - BLOCKED_LINES
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::{Outcome, Step};
    use crate::model::workload::{Kind, ObjectRef};

    fn workload(name: &str) -> ObjectRef {
        ObjectRef::new(Kind::Deployment, "shop", name)
    }

    fn result(steps: Vec<Step>) -> RunResult {
        RunResult {
            outcome: Outcome::Converged,
            rolled_back: Vec::new(),
            rolled_back_set: None,
            steps,
            start: 0,
            clock: 5,
            workloads: Vec::new(),
            warnings: Vec::new(),
            scheduling: Default::default(),
            autoscalers: Vec::new(),
            settled: None,
        }
    }

    /// `count` binds of `name`'s replicas, one per node `n0..`.
    fn binds(name: &str, count: usize) -> Vec<Action> {
        (0..count)
            .map(|i| Action::Bind {
                replica: format!("{name}-{i}").into(),
                workload: workload(name),
                node: format!("n{i}").into(),
            })
            .collect()
    }

    #[test]
    fn actions_are_counted_per_step_kind_and_workload() {
        let mut actions = binds("svc-01848", 145);
        actions.extend(binds("svc-00002", 2));
        let run = result(vec![Step {
            time: 3,
            nodes: None,
            actions,
            status: Vec::new(),
            autoscalers: Vec::new(),
        }]);
        let text = timeline(&run);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        // Rows are coloured as the whole timeline's are.
        assert!(
            lines[1].contains("3s     ~ 145 × bind   Deployment/shop/svc-01848   svc-01848-0 … and 144 more   on 145 nodes"),
            "{text}"
        );
        assert!(
            lines[2].contains("~ 2 × bind") && lines[2].contains("on 2 nodes"),
            "{text}"
        );
        assert!(lines[3].starts_with("(147 actions in 2 rows;"), "{text}");
    }

    #[test]
    fn too_many_groups_are_counted_per_step_and_kind_then_windowed() {
        // 400 workloads of one replica each: per workload would be 400 rows.
        let actions: Vec<Action> = (0..400)
            .flat_map(|i| binds(&format!("w{i:03}"), 1))
            .collect();
        let run = result(vec![Step {
            time: 0,
            nodes: None,
            actions,
            status: Vec::new(),
            autoscalers: Vec::new(),
        }]);
        let text = timeline(&run);
        assert!(text.contains("~ 400 × bind   400 workloads"), "{text}");
        // 300 steps of one action each: first and last rows, the rest counted.
        let steps = (0..300)
            .map(|t| Step {
                time: t,
                nodes: None,
                actions: binds("one", 1),
                status: Vec::new(),
                autoscalers: Vec::new(),
            })
            .collect();
        let text = timeline(&result(steps));
        assert_eq!(text.lines().count(), TIMELINE_ROWS + 3, "{text}");
        assert!(
            text.contains(&format!("{} more rows", 300 - TIMELINE_ROWS)),
            "{text}"
        );
        assert_eq!(window(10, 4), (2, 8, 6));
        assert_eq!(window(3, 4), (3, 3, 0));
    }
}
