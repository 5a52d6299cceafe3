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
