//! "Did you mean …?": the known names closest to a mistyped one, for field
//! names, kinds and the names given to commands. Pure.

/// The candidates nearest to `input` (all equally near, sorted, duplicates
/// removed), or nothing when none is near enough to be a plausible typo.
///
/// Distance is the Damerau–Levenshtein edit distance, ignoring case (a swap
/// of two neighbouring letters counts once). A candidate is near enough when
/// the distance is at most a third of the typed name's length (at least 1),
/// so `apy` finds `api` and `replicaz` finds `replicas`, while `Pod` does not
/// become `Node`.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let typed = input.to_lowercase();
    let limit = (typed.chars().count() / 3).max(1);
    let mut best: Option<usize> = None;
    let mut found: Vec<&'a str> = Vec::new();
    for candidate in candidates {
        if candidate == input || found.contains(&candidate) {
            continue;
        }
        let distance = strsim::damerau_levenshtein(&typed, &candidate.to_lowercase());
        if distance > limit {
            continue;
        }
        match best {
            Some(b) if distance > b => {}
            Some(b) if distance == b => found.push(candidate),
            _ => {
                best = Some(distance);
                found = vec![candidate];
            }
        }
    }
    found.sort_unstable();
    found
}

/// `did you mean `api`?`, `did you mean `node-a1`, `node-b1` or `node-c1`?`;
/// `None` when nothing is close.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    /// More than this many equally close names is no help.
    const MAX: usize = 5;
    let names: Vec<String> = closest(input, candidates)
        .into_iter()
        .take(MAX)
        .map(|name| format!("`{name}`"))
        .collect();
    let list = match names.as_slice() {
        [] => return None,
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    Some(format!("did you mean {list}?"))
}

#[cfg(test)]
mod tests {
    use super::{closest, did_you_mean};

    #[test]
    fn a_typo_finds_the_intended_name() {
        let fields = ["replicas", "selector", "template", "strategy"];
        assert_eq!(closest("replicaz", fields), vec!["replicas"]);
        assert_eq!(closest("stratgey", fields), vec!["strategy"]);
        assert_eq!(
            closest("Deploymnet", ["Deployment", "DaemonSet", "Node"]),
            vec!["Deployment"]
        );
        assert_eq!(closest("deployment", ["Deployment"]), vec!["Deployment"]);
        assert_eq!(closest("apy", ["db", "api", "worker"]), vec!["api"]);
    }

    #[test]
    fn unrelated_names_find_nothing() {
        let kinds = ["Deployment", "DaemonSet", "Node", "PodDisruptionBudget"];
        for other in ["Pod", "Job", "Role", "Service", "ConfigMap", "ReplicaSet"] {
            assert!(closest(other, kinds).is_empty(), "{other}");
        }
        assert!(closest("x", ["api"]).is_empty());
        assert!(
            closest("api", ["api"]).is_empty(),
            "the exact name is no suggestion"
        );
    }

    #[test]
    fn equally_close_names_are_all_offered_in_order() {
        let nodes = ["gpu-c2", "highmem-b2", "node-a1", "node-b1", "node-c1"];
        assert_eq!(
            did_you_mean("node-x", nodes).unwrap(),
            "did you mean `node-a1`, `node-b1` or `node-c1`?"
        );
        assert_eq!(
            did_you_mean("node-a2", nodes).unwrap(),
            "did you mean `node-a1`?"
        );
        assert_eq!(did_you_mean("zzz", nodes), None);
    }
}
