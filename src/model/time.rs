//! Simulated times as kubectl prints ages: `45s`, `2m30s`, `1h2m`. Views
//! built in the core (`describe`) and the renderers share this one spelling.

/// Seconds as a short duration: `45s`, `2m30s`, `1h2m`, `654h5m20s`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => match s % 60 {
            0 => format!("{}m", s / 60),
            r => format!("{}m{r}s", s / 60),
        },
        // Past an hour the seconds are kept (kubectl's ages drop them; a
        // simulated clock is read to the second).
        s => match ((s % 3600) / 60, s % 60) {
            (0, 0) => format!("{}h", s / 3600),
            (m, 0) => format!("{}h{m}m", s / 3600),
            (m, r) => format!("{}h{m}m{r}s", s / 3600),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_kubectl_ages() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(60), "1m");
        assert_eq!(duration(150), "2m30s");
        assert_eq!(duration(3600), "1h");
        assert_eq!(duration(3720), "1h2m");
        assert_eq!(duration(3605), "1h0m5s");
        assert_eq!(duration(654 * 3600 + 5 * 60 + 20), "654h5m20s");
    }
}
