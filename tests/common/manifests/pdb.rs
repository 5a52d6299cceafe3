//! `pdb(NAME)`: a PodDisruptionBudget over the pods labelled `app: NAME`.

use super::flow_map;

pub struct PodDisruptionBudget {
    name: String,
    app: String,
    bound: String,
}

/// A budget over the pods labelled `app: NAME`; set one bound.
pub fn pdb(name: &str) -> PodDisruptionBudget {
    PodDisruptionBudget {
        name: name.to_string(),
        app: name.to_string(),
        bound: String::new(),
    }
}

impl PodDisruptionBudget {
    /// Select `app: APP` instead of the budget's own name.
    pub fn app(mut self, app: &str) -> PodDisruptionBudget {
        self.app = app.to_string();
        self
    }

    /// A count (`"3"`) or a percentage (`"50%"`).
    pub fn min_available(mut self, bound: &str) -> PodDisruptionBudget {
        self.bound = format!("minAvailable: {bound}");
        self
    }

    /// A count (`"1"`) or a percentage (`"25%"`).
    pub fn max_unavailable(mut self, bound: &str) -> PodDisruptionBudget {
        self.bound = format!("maxUnavailable: {bound}");
        self
    }

    pub fn yaml(&self) -> String {
        assert!(
            !self.bound.is_empty(),
            "pdb({:?}): set min_available or max_unavailable",
            self.name
        );
        format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {}}}\nspec:\n  {}\n  selector: {{matchLabels: {}}}\n---\n",
            self.name,
            self.bound,
            flow_map(&[("app", &self.app)])
        )
    }
}
