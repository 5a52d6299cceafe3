//! Random YAML streams for the property tests: trees of tricky scalars in
//! block and flow layouts, every scalar style, comments, document markers,
//! CRLF line ends, and sometimes a one-character edit that breaks or bends
//! the text. Only the two readings' agreement is checked, so the text need
//! not be valid YAML, though most of it is.

use super::super::super::budget;
use proptest::prelude::*;
use serde_saphyr::Budget;

/// Scalar spellings at the edges of serde-saphyr's typing.
const SPELLINGS: &[&str] = &[
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "nUll",
    "true",
    "True",
    "TRUE",
    "tRUE",
    "yes",
    "Yes",
    "NO",
    "n",
    "Y",
    "on",
    "Off",
    "0",
    "-0",
    "+0",
    "00",
    "007",
    "-007",
    "+007",
    "0x1F",
    "0X1F",
    "-0x1f",
    "+0x1f",
    "0o17",
    "0O17",
    "0b101",
    "0B101",
    "0x",
    "0b2",
    "0o8",
    "1_000",
    "_1",
    "1__0",
    "1_",
    "0x_1",
    "1.5",
    "1.",
    ".5",
    "-.5",
    "+1.5e3",
    "1e5",
    "1E-5",
    "1e999",
    "-1e999",
    ".inf",
    "-.inf",
    "+.INF",
    ".Inf",
    ".nan",
    ".NaN",
    "-.nan",
    "+.nan",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "infinity",
    "1_0.5",
    "1.5_0",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "<<",
    "=",
    "a b",
    "a  b",
    "x: y",
    "#x",
    "- x",
    "3:4",
    "12:30:00",
    "2001-12-14",
    "a#b",
    "a #b",
    "@x",
    "%x",
    "!x",
    "&x",
    "*x",
    "'q'",
    "\"q\"",
    "multi\nline",
    "tab\there",
    "trailing ",
    " leading",
    "é",
    "日本",
    "\\",
    "a\\nb",
    "100m",
    "1Gi",
    "0.5",
    "1e3",
    "-",
    "?",
    ":",
    "[x]",
    "{x}",
    "a,b",
    "q'uote",
    "d\"q",
    "\u{7f}",
    "\u{85}",
    "line\r\nbreak",
];

#[derive(Debug, Clone, Copy)]
pub(super) enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Folded,
}

#[derive(Debug, Clone)]
pub(super) struct Scalar {
    text: String,
    style: Style,
}

#[derive(Debug, Clone)]
pub(super) enum Tree {
    Scalar(Scalar),
    Seq(Vec<Tree>, bool),
    Map(Vec<(Scalar, Tree)>, bool),
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(SPELLINGS).prop_map(str::to_string),
        2 => "[a-z][a-z0-9./-]{0,8}",
        2 => "[-+]?[0-9_.xXoObBeEaAfF]{1,6}",
        1 => any::<i64>().prop_map(|i| i.to_string()),
        1 => (-1e4..1e4f64).prop_map(|f| f.to_string()),
        1 => any::<f64>().prop_map(|f| format!("{f:e}")),
        1 => "[ a-z:#'\"\\\\-]{0,6}",
    ]
}

pub(super) fn scalar() -> impl Strategy<Value = Scalar> {
    let style = prop_oneof![
        6 => Just(Style::Plain),
        2 => Just(Style::Single),
        2 => Just(Style::Double),
        1 => Just(Style::Literal),
        1 => Just(Style::Folded),
    ];
    (text(), style).prop_map(|(text, style)| Scalar { text, style })
}

pub(super) fn key() -> impl Strategy<Value = Scalar> {
    let style = prop_oneof![
        6 => Just(Style::Plain),
        1 => Just(Style::Single),
        1 => Just(Style::Double),
    ];
    let name = prop_oneof![
        6 => prop::sample::select(&["a", "b", "name", "x.y/z", "spec", "kind"][..])
            .prop_map(str::to_string),
        1 => prop::sample::select(&["1", "true", "~", "<<", "", "-a", ".b", "0X1F", "0X1f", "-0b1", ".5"][..])
            .prop_map(str::to_string),
        2 => "[a-z]{1,3}",
    ];
    (name, style).prop_map(|(text, style)| Scalar { text, style })
}

fn tree() -> impl Strategy<Value = Tree> {
    scalar()
        .prop_map(Tree::Scalar)
        .prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..5), any::<bool>())
                    .prop_map(|(items, flow)| Tree::Seq(items, flow)),
                (prop::collection::vec((key(), inner), 0..5), any::<bool>())
                    .prop_map(|(entries, flow)| Tree::Map(entries, flow)),
            ]
        })
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A scalar where it is written inline (a key, a flow item, or after `: `
/// when `block` is false); block styles need a block value position.
fn inline(out: &mut String, scalar: &Scalar, indent: usize, block: bool) {
    let text = &scalar.text;
    match scalar.style {
        Style::Plain if text.contains('\n') => {
            // A multi-line plain scalar: each break folds back to a space.
            for (i, line) in text.split('\n').enumerate() {
                if i > 0 {
                    out.push('\n');
                    pad(out, indent + 2);
                }
                out.push_str(line);
            }
        }
        Style::Plain => out.push_str(text),
        Style::Single if !text.contains(['\n', '\r']) => {
            out.push('\'');
            out.push_str(&text.replace('\'', "''"));
            out.push('\'');
        }
        Style::Literal | Style::Folded if block => {
            let chomp = match text.matches('\n').count() {
                0 => "-",
                1 if text.ends_with('\n') => "",
                _ => "+",
            };
            out.push(if matches!(scalar.style, Style::Literal) {
                '|'
            } else {
                '>'
            });
            out.push_str(chomp);
            for line in text.trim_end_matches('\n').split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    pad(out, indent + 2);
                    out.push_str(line);
                }
            }
        }
        _ => out.push_str(&quoted(text)),
    }
}

fn flow(out: &mut String, tree: &Tree) {
    match tree {
        Tree::Scalar(scalar) => inline(out, scalar, 0, false),
        Tree::Seq(items, _) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(out, item);
            }
            out.push(']');
        }
        Tree::Map(entries, _) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                inline(out, key, 0, false);
                out.push_str(": ");
                flow(out, value);
            }
            out.push('}');
        }
    }
}

/// `tree` as the value after `key:` or `-` written at `indent`.
fn block_value(out: &mut String, tree: &Tree, indent: usize, in_sequence: bool) {
    match tree {
        Tree::Map(entries, false) if !entries.is_empty() => {
            if in_sequence {
                out.push(' ');
                block_entries(out, entries, indent + 2, true);
            } else {
                out.push('\n');
                block_entries(out, entries, indent + 2, false);
            }
        }
        Tree::Seq(items, false) if !items.is_empty() => {
            if in_sequence {
                out.push(' ');
                block_items(out, items, indent + 2, true);
            } else {
                out.push('\n');
                block_items(out, items, indent, false);
            }
        }
        Tree::Scalar(scalar) => {
            out.push(' ');
            inline(out, scalar, indent, true);
        }
        other => {
            out.push(' ');
            flow(out, other);
        }
    }
}

fn block_entries(out: &mut String, entries: &[(Scalar, Tree)], indent: usize, first_inline: bool) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        inline(out, key, indent, false);
        out.push(':');
        block_value(out, value, indent, false);
        out.push('\n');
    }
    out.pop();
}

fn block_items(out: &mut String, items: &[Tree], indent: usize, first_inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !first_inline {
            pad(out, indent);
        }
        out.push('-');
        block_value(out, item, indent, true);
        out.push('\n');
    }
    out.pop();
}

pub(super) fn document(tree: &Tree) -> String {
    let mut out = String::new();
    match tree {
        Tree::Map(entries, false) if !entries.is_empty() => {
            block_entries(&mut out, entries, 0, false)
        }
        Tree::Seq(items, false) if !items.is_empty() => block_items(&mut out, items, 0, false),
        other => flow(&mut out, other),
    }
    out.push('\n');
    out
}

/// Documents joined with markers, comments sprinkled on line ends, then an
/// optional edit of one character (toward parser errors and odd shapes).
pub(super) fn stream() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((tree(), 0..4u8), 1..4),
        any::<prop::sample::Index>(),
        (0..6u8, any::<bool>()),
        prop::sample::select(
            &[
                ':', '-', '#', '&', '*', '!', '|', '>', '\'', '"', '{', '[', ',', '\n', '\t', '?',
                ' ',
            ][..],
        ),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(documents, comments, (edit, crlf), c, at)| {
            let mut out = String::new();
            for (i, (tree, marker)) in documents.iter().enumerate() {
                match marker {
                    0 if i == 0 => {}
                    1 => out.push_str("---\n# between\n"),
                    2 => out.push_str("...\n---\n"),
                    _ => out.push_str("---\n"),
                }
                let text = document(tree);
                for (n, line) in text.lines().enumerate() {
                    out.push_str(line);
                    if (n + comments.index(7)) % 5 == 0 && !line.ends_with(['|', '>', '-', '+']) {
                        out.push_str(" # note");
                    }
                    out.push_str(if crlf { "\r\n" } else { "\n" });
                }
            }
            if edit < 2 && !out.is_empty() {
                let mut i = at.index(out.len());
                while !out.is_char_boundary(i) {
                    i -= 1;
                }
                if edit == 0 {
                    out.insert(i, c);
                } else if let Some(ch) = out[i..].chars().next() {
                    out.replace_range(i..i + ch.len_utf8(), "");
                }
            }
            out
        })
}

/// Usually the real budget; sometimes a tiny one, so that counts cross their
/// limits in small inputs.
pub(super) fn budgets() -> impl Strategy<Value = Budget> {
    prop_oneof![
        3 => Just(budget()),
        1 => (1..16usize, 1..160usize, 1..400usize, 1..24usize, 1..600usize, 1..120usize).prop_map(
            |(depth, nodes, events, documents, scalar_bytes, comment_bytes)| {
                let mut b = budget();
                b.max_depth = depth;
                b.max_nodes = nodes;
                b.max_events = events;
                b.max_documents = documents;
                b.max_total_scalar_bytes = scalar_bytes;
                b.max_total_comment_bytes = comment_bytes;
                b
            }
        ),
    ]
}
