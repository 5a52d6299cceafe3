//! The terminal a command prints to: how wide tables may be (`COLUMNS`, or
//! the terminal's own width when stdout is one), and whether progress may be
//! drawn on stderr.

use super::Context;
use crate::render::Format;
use std::io::IsTerminal;

/// The width `-o table` output must fit in: `COLUMNS` when set, else the
/// terminal's width when stdout is a terminal; none for other formats or a
/// pipe (a script reading the table gets every character).
pub fn table_width(format: Format) -> Option<usize> {
    if format != Format::Table {
        return None;
    }
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return Some(columns);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_columns()
}

#[cfg(target_os = "linux")]
fn terminal_columns() -> Option<usize> {
    rustix::termios::tcgetwinsize(std::io::stdout())
        .ok()
        .map(|size| usize::from(size.ws_col))
        .filter(|&c| c > 0)
}

#[cfg(not(target_os = "linux"))]
fn terminal_columns() -> Option<usize> {
    None
}

/// Progress may be drawn: stderr is a terminal, the output is for people,
/// and `-q` was not given.
pub fn shows_progress(context: &Context) -> bool {
    !context.quiet
        && matches!(context.output, Format::Table | Format::Wide)
        && std::io::stderr().is_terminal()
}

/// A spinner on stderr with `message` and the time elapsed, while something
/// runs; hidden unless `shows_progress`. Cleared with `finish_and_clear`.
pub fn spinner(context: &Context, message: &str) -> indicatif::ProgressBar {
    if !shows_progress(context) {
        return indicatif::ProgressBar::hidden();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A bar counting `len` things done (scenarios, probes); hidden unless
/// `shows_progress`.
pub fn counter(context: &Context, len: u64, message: &str) -> indicatif::ProgressBar {
    if !shows_progress(context) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
