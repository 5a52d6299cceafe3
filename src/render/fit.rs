//! Tables that fit the terminal: the width comes from `COLUMNS` or the
//! terminal (set once by the command line, for `-o table` only), and a table
//! wider than that has its widest columns narrowed, long cells cut — a list
//! (`a, b, c`) at an item with `… and N more`, any other text with `…`. `-o
//! wide`, the documents and output to a pipe without `COLUMNS` are never cut.

use std::sync::atomic::{AtomicUsize, Ordering};
use unicode_width::UnicodeWidthChar;

/// The width tables must fit in; 0 when they may be as wide as they are.
static WIDTH: AtomicUsize = AtomicUsize::new(0);

/// Fit every table rendered from now on in `width` columns (`None`: never cut).
pub fn set_width(width: Option<usize>) {
    WIDTH.store(width.unwrap_or(0), Ordering::Relaxed);
}

/// The width tables must fit in, if any.
pub fn width() -> Option<usize> {
    match WIDTH.load(Ordering::Relaxed) {
        0 => None,
        width => Some(width),
    }
}

/// The narrowest a column is cut to: its header, at least this wide.
const NARROWEST: usize = 6;

/// Column widths whose sum (with `gap` between columns) fits in `width`:
/// the widest columns are narrowed first, none below its header or
/// `NARROWEST` (so a table of many columns may still be too wide; its lines
/// are then cut whole).
pub fn column_widths(natural: &[usize], headers: &[usize], gap: usize, width: usize) -> Vec<usize> {
    let padding = gap * natural.len().saturating_sub(1);
    let total: usize = natural.iter().sum::<usize>() + padding;
    if total <= width {
        return natural.to_vec();
    }
    let floors: Vec<usize> = natural
        .iter()
        .zip(headers)
        .map(|(&n, &h)| n.min(h.max(NARROWEST)))
        .collect();
    let fits = |cap: usize| {
        natural
            .iter()
            .zip(&floors)
            .map(|(&n, &f)| n.min(cap).max(f))
            .sum::<usize>()
            + padding
            <= width
    };
    // The largest cap that fits, by bisection over 0..=widest.
    let (mut low, mut high) = (0, natural.iter().copied().max().unwrap_or(0));
    while low < high {
        let middle = (low + high).div_ceil(2);
        if fits(middle) {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    natural
        .iter()
        .zip(&floors)
        .map(|(&n, &f)| n.min(low).max(f))
        .collect()
}

/// `text` cut to at most `width` display columns: a list of `, `-separated
/// items keeps whole items and says how many more there are; other text ends
/// in `…`.
pub fn cut(text: &str, width: usize) -> String {
    if display_width(text) <= width {
        return text.to_string();
    }
    let items: Vec<&str> = text.split(", ").collect();
    if items.len() > 1 {
        // The most leading items that fit with the count of the rest.
        let mut best = None;
        let mut kept = String::new();
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                kept.push_str(", ");
            }
            kept.push_str(item);
            let rest = items.len() - index - 1;
            if rest == 0 {
                break;
            }
            let candidate = format!("{kept} … and {rest} more");
            if display_width(&candidate) > width {
                break;
            }
            best = Some(candidate);
        }
        if let Some(best) = best {
            return best;
        }
    }
    truncate(text, width)
}

/// `text` cut to `width` display columns, the last being `…`.
pub fn truncate(text: &str, width: usize) -> String {
    if display_width(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// Prose around the tables, wrapped at spaces to the width tables fit in
/// (unchanged when there is none): each line too wide is broken before the
/// word that would overflow, its continuation lines indented by `indent`; a
/// word wider than a whole line is cut.
pub fn wrap(text: &str, indent: &str) -> String {
    let Some(width) = width() else {
        return text.to_string();
    };
    wrap_to(text, indent, width)
}

fn wrap_to(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if display_width(line) <= width {
            out.push_str(line);
            continue;
        }
        let mut current = String::new();
        for word in line.split(' ') {
            let candidate = if current.is_empty() || current == indent {
                format!("{current}{word}")
            } else {
                format!("{current} {word}")
            };
            if display_width(&candidate) <= width || current.is_empty() || current == indent {
                current = candidate;
                if display_width(&current) > width {
                    current = truncate(&current, width);
                }
                continue;
            }
            out.push_str(&current);
            out.push('\n');
            current = truncate(&format!("{indent}{word}"), width);
        }
        out.push_str(&current);
    }
    out
}

/// A long list for a table cell in `-o table`: its first `keep` items and how
/// many more there are (`-o wide` and the documents carry them all).
pub fn first_of(items: &[String], keep: usize) -> String {
    if items.len() <= keep {
        return items.join(", ");
    }
    format!(
        "{} … and {} more",
        items[..keep].join(", "),
        items.len() - keep
    )
}

/// A cell of one line per item, at most `keep` lines, the last saying how
/// many more there are.
pub fn first_lines(items: &[String], keep: usize) -> String {
    if items.len() <= keep {
        return items.join("\n");
    }
    let mut lines = items[..keep].to_vec();
    lines.push(format!("… and {} more", items.len() - keep));
    lines.join("\n")
}

fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lists_are_cut_at_an_item_and_say_how_many_more() {
        let text = "node-1, node-2, node-3, node-4, node-5";
        assert_eq!(cut(text, 100), text);
        assert_eq!(cut(text, 30), "node-1, node-2 … and 3 more");
        assert_eq!(cut(text, 20), "node-1 … and 4 more");
        assert_eq!(cut(text, 10), "node-1, n…");
        assert_eq!(truncate("abcdef", 4), "abc…");
        // An empty first item is an item too (found by `a_cut_cell_fits`).
        let text = ", é0,aa,é0,aé,é00 0";
        assert!(display_width(&cut(text, 17)) <= 17);
    }

    #[test]
    fn the_widest_columns_give_way_first() {
        assert_eq!(column_widths(&[10, 50, 8], &[4, 5, 6], 3, 100), [10, 50, 8]);
        assert_eq!(column_widths(&[10, 50, 8], &[4, 5, 6], 3, 40), [10, 16, 8]);
        // Never below the header.
        assert_eq!(column_widths(&[10, 50], &[10, 9], 3, 5), [10, 9]);
    }

    #[test]
    fn long_lists_keep_their_first_items() {
        let items: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
        assert_eq!(first_of(&items, 2), "n1, n2 … and 3 more");
        assert_eq!(first_of(&items, 5), "n1, n2, n3, n4, n5");
        assert_eq!(first_lines(&items, 2), "n1\nn2\n… and 3 more");
    }

    #[test]
    fn prose_wraps_at_spaces_with_its_indent() {
        let text = "alpha beta gamma delta\nshort";
        assert_eq!(
            wrap_to(text, "  ", 11),
            "alpha beta\n  gamma\n  delta\nshort"
        );
        assert_eq!(wrap_to("abcdefghijkl mn", "", 5), "abcd…\nmn");
        assert_eq!(wrap_to(text, "  ", 100), text);
    }

    proptest! {
        #[test]
        fn wrapped_prose_fits(text in "[a-z0-9 é日\n]{0,80}", width in 4usize..40) {
            for line in wrap_to(&text, "  ", width).lines() {
                prop_assert!(display_width(line) <= width, "{line:?}");
            }
        }

        #[test]
        fn a_cut_cell_fits(text in "[a-z0-9, é日]{0,60}", width in 1usize..40) {
            prop_assert!(display_width(&cut(&text, width)) <= width);
        }
    }
}
