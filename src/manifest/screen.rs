//! Diagnostics as a person reads them: at most one screen. Past the first
//! `SCREEN` lines, the rest are counted by kind (field and message head),
//! so 100,000 copies of one mistake print as twenty lines and a count.

use super::Diagnostic;
use std::collections::BTreeMap;

/// Diagnostics shown in full before the rest are counted.
pub const SCREEN: usize = 20;

/// The lines to print for `diagnostics`: every one when they fit on a
/// screen, else the first `SCREEN` and one line counting the rest.
pub fn one_screen(diagnostics: &[Diagnostic]) -> Vec<String> {
    let mut lines: Vec<String> = diagnostics
        .iter()
        .take(SCREEN)
        .map(ToString::to_string)
        .collect();
    let rest = diagnostics.get(SCREEN..).unwrap_or_default();
    if rest.is_empty() {
        return lines;
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for diagnostic in rest {
        *kinds.entry(kind(diagnostic)).or_default() += 1;
    }
    lines.push(if kinds.len() == 1 {
        let (kind, _) = kinds.into_iter().next().unwrap_or_default();
        format!("… and {} more of the same kind ({kind})", rest.len())
    } else {
        let mut counted: Vec<(usize, String)> = kinds.into_iter().map(|(k, n)| (n, k)).collect();
        counted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let shown: Vec<String> = counted
            .iter()
            .take(3)
            .map(|(n, kind)| format!("{n} × {kind}"))
            .collect();
        let others = counted.len().saturating_sub(3);
        let tail = if others > 0 {
            format!(", and {others} other kinds")
        } else {
            String::new()
        };
        format!("… and {} more: {}{tail}", rest.len(), shown.join(", "))
    });
    lines
}

/// What makes two diagnostics the same mistake: the field and the
/// message up to its first `:` (the value after it differs).
fn kind(diagnostic: &Diagnostic) -> String {
    let head = diagnostic
        .message
        .split(':')
        .next()
        .unwrap_or_default()
        .trim();
    if diagnostic.field.is_empty() {
        head.to_string()
    } else {
        format!("{}: {head}", diagnostic.field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostic(line: usize, field: &str, message: &str) -> Diagnostic {
        Diagnostic {
            file: "m.yaml".into(),
            line,
            column: 1,
            field: field.into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_screen_of_diagnostics_then_a_count_by_kind() {
        let few: Vec<_> = (1..=SCREEN)
            .map(|i| diagnostic(i, "metadata.name", "Duplicate value: \"web\""))
            .collect();
        assert_eq!(one_screen(&few).len(), SCREEN);
        let many: Vec<_> = (1..=100_000)
            .map(|i| diagnostic(i, "metadata.name", &format!("Duplicate value: \"web{i}\"")))
            .collect();
        let lines = one_screen(&many);
        assert_eq!(lines.len(), SCREEN + 1);
        assert_eq!(
            lines[0],
            "m.yaml:1:1: metadata.name: Duplicate value: \"web1\""
        );
        assert_eq!(
            lines[SCREEN],
            "… and 99980 more of the same kind (metadata.name: Duplicate value)"
        );
        let mut mixed = many[..SCREEN].to_vec();
        mixed.extend((0..3).map(|i| diagnostic(i, "spec.replicas", "Invalid value: -1")));
        mixed.push(diagnostic(9, "", "did not find expected key"));
        assert_eq!(
            one_screen(&mixed)[SCREEN],
            "… and 4 more: 3 × spec.replicas: Invalid value, 1 × did not find expected key"
        );
    }
}
