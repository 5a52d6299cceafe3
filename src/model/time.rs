//! Simulated times as kubectl prints ages: `45s`, `2m30s`, `1h2m`. Views
//! built in the core (`describe`) and the renderers share this one spelling.

/// Seconds as a short duration: `45s`, `2m30s`, `1h2m`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => match s % 60 {
            0 => format!("{}m", s / 60),
            r => format!("{}m{r}s", s / 60),
        },
        s => match (s % 3600) / 60 {
            0 => format!("{}h", s / 3600),
            m => format!("{}h{m}m", s / 3600),
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
    }
}
