//! The document tree built straight from the YAML parser's events.
//!
//! serde-saphyr reads YAML with granit-parser and hands every node through
//! serde's visitor machinery (`Spanned`, `deserialize_any`, map access), which
//! costs several times the scanning itself on a large fleet. Here the same
//! parser, with the options serde-saphyr gives it, feeds a small stack
//! machine that builds the same `Node`s at the same locations and types plain
//! scalars by serde-saphyr's own rules (YAML 1.1 booleans, 1.2 numbers).
//!
//! It answers only for the plain subset manifests use: block and flow
//! collections, plain, quoted and block scalars, comments, any number of
//! documents. Everything serde-saphyr treats specially or may refuse gives
//! `None` — anchors, aliases, tags, directives, merge keys, complex keys,
//! keys that may be numbers, booleans or null, duplicate keys, non-finite
//! floats, parser errors, and inputs near a budget limit — and the caller
//! parses the text with serde-saphyr, which also produces every error
//! message. A property test holds the two equal wherever this one answers.

use super::{Node, Value};
use granit_parser::{Event, Parser, ScalarStyle, Span, StrInput};
use rustc_hash::FxHashSet;
use serde_saphyr::Budget;

/// Gives up on the direct path.
struct Bail;

type Step = Result<(), Bail>;

/// Counts kept this far below a budget's limit: an input near one is left to
/// serde-saphyr, which enforces it.
const MARGIN: usize = 8;

/// A map's keys are compared one by one up to this many, then hashed.
const LINEAR_KEYS: usize = 16;

/// The documents of `text` as serde-saphyr would read them under `budget`,
/// or `None` when the input is outside the subset answered here.
pub(super) fn parse_documents(text: &str, budget: &Budget) -> Option<Vec<Node>> {
    let mut builder = Builder::new(budget);
    for item in Parser::with_options(StrInput::new(text), parser_options(budget)) {
        let (event, span) = item.ok()?;
        builder.event(event, &span).ok()?;
    }
    builder.finish()
}

/// The parser options serde-saphyr derives from the same budget.
fn parser_options(budget: &Budget) -> granit_parser::Options {
    let mut options = granit_parser::Options::default();
    options.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    options.flow_nesting_limit = budget.flow_nesting_limit;
    options.block_nesting_limit = options
        .block_nesting_limit
        .max(budget.max_depth.saturating_add(1));
    options.emit_comments = true;
    options.max_buffered_comment_events = budget.max_buffered_comment_events;
    options.strict_indentation = false;
    options.bom_inside_document_as_content = false;
    options
}

enum Frame {
    Sequence {
        at: (u32, u32),
        items: Vec<Node>,
    },
    Mapping {
        at: (u32, u32),
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// Every key so far, once the map has more than `LINEAR_KEYS`.
        seen: Option<FxHashSet<Box<str>>>,
    },
}

struct Builder<'b> {
    budget: &'b Budget,
    stack: Vec<Frame>,
    documents: Vec<Node>,
    events: usize,
    nodes: usize,
    document_starts: usize,
    scalar_bytes: usize,
    comment_bytes: usize,
}

/// Whether `count` stays clear of `limit`.
fn within(count: usize, limit: usize) -> Step {
    if count.saturating_add(MARGIN) < limit {
        Ok(())
    } else {
        Err(Bail)
    }
}

impl<'b> Builder<'b> {
    fn new(budget: &'b Budget) -> Self {
        Builder {
            budget,
            stack: Vec::with_capacity(16),
            documents: Vec::new(),
            events: 0,
            nodes: 0,
            document_starts: 0,
            scalar_bytes: 0,
            comment_bytes: 0,
        }
    }

    fn event(&mut self, event: Event<'_>, span: &Span) -> Step {
        self.events += 1;
        within(self.events, self.budget.max_events)?;
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(_, None) => {
                self.document_starts += 1;
                within(self.document_starts, self.budget.max_documents)
            }
            Event::Comment(text, _) => {
                self.comment_bytes += text.len();
                within(self.comment_bytes, self.budget.max_total_comment_bytes)
            }
            Event::Scalar(text, style, 0, None) => {
                self.count_node()?;
                self.scalar_bytes += text.len();
                within(self.scalar_bytes, self.budget.max_total_scalar_bytes)?;
                let value = scalar(text.into_owned(), style)?;
                if let Some(Frame::Mapping {
                    entries,
                    key: None,
                    seen,
                    ..
                }) = self.stack.last_mut()
                {
                    check_key(&value, style, entries, seen)?;
                }
                let (line, column) = location(span)?;
                self.place(Node {
                    value,
                    line,
                    column,
                })
            }
            Event::MappingStart(_, 0, None) => {
                let at = self.open(span)?;
                self.stack.push(Frame::Mapping {
                    at,
                    entries: Vec::new(),
                    key: None,
                    seen: None,
                });
                Ok(())
            }
            Event::SequenceStart(_, 0, None) => {
                let at = self.open(span)?;
                self.stack.push(Frame::Sequence {
                    at,
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingEnd | Event::SequenceEnd => self.close(),
            // Anchors, aliases, tags, directives.
            _ => Err(Bail),
        }
    }

    fn count_node(&mut self) -> Step {
        self.nodes += 1;
        within(self.nodes, self.budget.max_nodes)
    }

    /// A collection starts: its location, unless it is a key or too deep.
    fn open(&mut self, span: &Span) -> Result<(u32, u32), Bail> {
        self.count_node()?;
        within(self.stack.len() + 1, self.budget.max_depth)?;
        if matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. })) {
            return Err(Bail);
        }
        location(span)
    }

    fn close(&mut self) -> Step {
        let ((line, column), value) = match self.stack.pop().ok_or(Bail)? {
            Frame::Sequence { at, items } => (at, Value::Seq(items)),
            Frame::Mapping {
                at,
                entries,
                key: None,
                ..
            } => (at, Value::Map(entries)),
            Frame::Mapping { key: Some(_), .. } => return Err(Bail),
        };
        self.place(Node {
            value,
            line,
            column,
        })
    }

    /// A finished node goes to its parent, or is a document (null ones are
    /// skipped, as serde-saphyr skips empty documents).
    fn place(&mut self, node: Node) -> Step {
        match self.stack.last_mut() {
            None if node.value == Value::Null => {}
            None => self.documents.push(node),
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }

    fn finish(self) -> Option<Vec<Node>> {
        self.stack.is_empty().then_some(self.documents)
    }
}

/// Where serde-saphyr locates a node: the line and 1-based column of its
/// event's start (kept in 32 bits there).
fn location(span: &Span) -> Result<(u32, u32), Bail> {
    let line = u32::try_from(span.start.line()).map_err(|_| Bail)?;
    let column = u32::try_from(span.start.col() + 1).map_err(|_| Bail)?;
    Ok((line, column))
}

/// A key answered here is a string, not `<<` (a merge), that serde-saphyr's
/// key comparison cannot take for an integer (`0X1F` is a string value but
/// the integer key 31), and new to its map: serde-saphyr then compares it by
/// its text alone, as this does.
fn check_key(
    key: &Value,
    style: ScalarStyle,
    entries: &[(Node, Node)],
    seen: &mut Option<FxHashSet<Box<str>>>,
) -> Step {
    let Value::Str(key) = key else {
        return Err(Bail);
    };
    let trimmed = trim(key);
    let unsigned = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if key == "<<"
        || (style == ScalarStyle::Plain && unsigned.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Err(Bail);
    }
    let duplicate = if entries.len() < LINEAR_KEYS {
        entries.iter().any(|(k, _)| k.as_str() == Some(key))
    } else {
        let seen = seen.get_or_insert_with(|| {
            entries
                .iter()
                .filter_map(|(k, _)| k.as_str().map(Box::from))
                .collect()
        });
        !seen.insert(Box::from(key.as_str()))
    };
    if duplicate { Err(Bail) } else { Ok(()) }
}

/// An untagged scalar's value as serde-saphyr's `deserialize_any` types it:
/// quoted and block scalars are strings; a plain one is null, a YAML 1.1
/// boolean, an integer, a finite float, or else a string. A non-finite float
/// is an error there, so it is not answered here.
fn scalar(text: String, style: ScalarStyle) -> Result<Value, Bail> {
    if style != ScalarStyle::Plain {
        return Ok(Value::Str(text));
    }
    if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    let t = trim(&text);
    if let Some(b) = yaml11_bool(t) {
        return Ok(Value::Bool(b));
    }
    // Letters and most punctuation start no number: the common case.
    if !may_be_number(t) {
        return Ok(Value::Str(text));
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..]) || is_signed_nan(t) {
        return Ok(Value::Str(text));
    }
    if let Some(rest) = t.strip_prefix('-') {
        if !leading_zero_decimal(t)
            && let Some(magnitude) = integer_magnitude(rest)
            && magnitude <= 1u128 << 63
        {
            return Ok(Value::Int((magnitude as i128).wrapping_neg() as i64));
        }
    } else if let Some(magnitude) = integer_magnitude(t.strip_prefix('+').unwrap_or(t))
        && let Ok(v) = u64::try_from(magnitude)
    {
        return Ok(i64::try_from(v).map_or(Value::UInt(v), Value::Int));
    }
    match float(t) {
        Some(v) if v.is_finite() => Ok(Value::Float(v)),
        Some(_) => Err(Bail),
        None => Ok(Value::Str(text)),
    }
}

/// Whether trimmed text starts as a number, `.inf` or `.nan` might.
fn may_be_number(t: &str) -> bool {
    t.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
}

/// The padding serde-saphyr trims before reading a scalar.
fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

fn yaml11_bool(t: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["true", "yes", "y", "on"];
    const FALSE: [&str; 4] = ["false", "no", "n", "off"];
    if t.len() > 5 {
        None
    } else if TRUE.iter().any(|w| t.eq_ignore_ascii_case(w)) {
        Some(true)
    } else if FALSE.iter().any(|w| t.eq_ignore_ascii_case(w)) {
        Some(false)
    } else {
        None
    }
}

fn is_signed_nan(t: &str) -> bool {
    t.strip_prefix(['+', '-'])
        .is_some_and(|unsigned| matches!(unsigned, ".nan" | ".NaN" | ".NAN"))
}

/// `0127`, `+0127`, `-0127`: decimal digits with a redundant leading zero.
fn leading_zero_decimal(t: &str) -> bool {
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The magnitude of an unsigned integer spelling: `0x`/`0o`/`0b` or decimal
/// digits (no redundant leading zero), single underscores between digits.
fn integer_magnitude(rest: &str) -> Option<u128> {
    let (radix, digits) = if let Some(d) = rest.strip_prefix("0x").or(rest.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = rest.strip_prefix("0o").or(rest.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = rest.strip_prefix("0b").or(rest.strip_prefix("0B")) {
        (2, d)
    } else {
        if rest.starts_with('0') && rest != "0" {
            return None;
        }
        (10, rest)
    };
    let bytes = digits.as_bytes();
    let mut value: u128 = 0;
    let mut saw_digit = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            if i == 0 || bytes[i - 1] == b'_' || bytes.get(i + 1).is_none_or(|&n| n == b'_') {
                return None;
            }
            continue;
        }
        let digit = (b as char).to_digit(radix)?;
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(digit))?;
        saw_digit = true;
    }
    saw_digit.then_some(value)
}

/// serde-saphyr's float reading for untyped values: the YAML 1.2 `.inf` and
/// `.nan` spellings, then Rust's float syntax when finite, then a numeral
/// that overflows to infinity.
fn float(t: &str) -> Option<f64> {
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" if negative => return Some(f64::NEG_INFINITY),
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        Ok(v) if v.is_infinite() && unsigned.starts_with(|c: char| c.is_ascii_digit()) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
