//! The state as orch writes it, read at JSON speed.
//!
//! A YAML state is block YAML as serde-saphyr's serializer lays it out:
//! indented mappings and `- ` sequences of one-line scalars. This module
//! rewrites exactly that subset into JSON text for serde_json, about ten
//! times faster than a general YAML parser on a 150,000-replica state. It
//! answers only where the answer is certain to be what serde-saphyr would
//! read: anything else — comments after values, anchors, tags, block or
//! multi-line scalars, flow collections, plain scalars that YAML might read
//! as a number, boolean or null in another spelling, duplicate keys, tabs —
//! gives `None`, and the caller parses the whole document with serde-saphyr
//! (which also produces every error message). A property test holds the two
//! paths equal wherever this one answers.

/// One non-blank, non-comment line: its indentation, its text after the
/// indentation (right-trimmed).
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
    out: String,
}

/// Gives up on the fast path.
struct Bail;

type Step = Result<(), Bail>;

/// The JSON text of a YAML document in the layout orch writes, or `None`.
pub fn to_json(text: &str) -> Option<String> {
    if text.contains(['\t', '\r']) {
        return None;
    }
    let mut lines = Vec::with_capacity(text.len() / 40);
    for raw in text.split('\n') {
        let content = raw.trim_start_matches(' ');
        let content = content.trim_end_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        if indent == 0
            && (content.starts_with("---")
                || content.starts_with("...")
                || content.starts_with('%'))
        {
            return None;
        }
        lines.push(Line {
            indent,
            text: content,
        });
    }
    let first = lines.first()?;
    if first.indent != 0 {
        return None;
    }
    let mut reader = Reader {
        lines,
        at: 0,
        out: String::with_capacity(text.len() + text.len() / 4),
    };
    reader.node(0).ok()?;
    (reader.at == reader.lines.len()).then_some(reader.out)
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<&Line<'a>> {
        self.lines.get(self.at)
    }

    /// The block node whose first line is the current one, at `indent`.
    fn node(&mut self, indent: usize) -> Step {
        let line = self.peek().ok_or(Bail)?;
        if line.indent != indent {
            return Err(Bail);
        }
        if is_item(line.text) {
            self.sequence(indent)
        } else {
            self.mapping(indent, None)
        }
    }

    fn sequence(&mut self, indent: usize) -> Step {
        self.out.push('[');
        let mut first = true;
        while let Some(line) = self.peek() {
            if line.indent != indent || !is_item(line.text) {
                break;
            }
            let text = line.text;
            self.at += 1;
            if !first {
                self.out.push(',');
            }
            first = false;
            if text == "-" {
                self.nested(indent)?;
                continue;
            }
            let rest = &text[2..];
            if rest.starts_with(' ') || is_item(rest) {
                return Err(Bail);
            }
            if split_key(rest)?.is_some() {
                // `- key: value`: a mapping whose entries line up after the dash.
                self.mapping(indent + 2, Some(rest))?;
            } else {
                scalar(rest, &mut self.out)?;
            }
        }
        self.out.push(']');
        Ok(())
    }

    /// A mapping at `indent`; `first` is its first entry's text when that
    /// entry sits on a sequence item's line.
    fn mapping(&mut self, indent: usize, first: Option<&'a str>) -> Step {
        self.out.push('{');
        let mut keys: Vec<std::borrow::Cow<'a, str>> = Vec::new();
        let mut pending = first;
        loop {
            let text = match pending.take() {
                Some(text) => text,
                None => match self.peek() {
                    Some(line) if line.indent == indent && !is_item(line.text) => {
                        let text = line.text;
                        self.at += 1;
                        text
                    }
                    _ => break,
                },
            };
            let Some((key, value)) = split_key(text)? else {
                return Err(Bail);
            };
            if keys.contains(&key) {
                return Err(Bail);
            }
            if !keys.is_empty() {
                self.out.push(',');
            }
            push_json_string(&key, &mut self.out);
            keys.push(key);
            self.out.push(':');
            if value.is_empty() {
                self.nested_under_key(indent)?;
            } else {
                scalar(value, &mut self.out)?;
            }
        }
        self.out.push('}');
        Ok(())
    }

    /// The value of a `key:` with nothing after the colon: a deeper node, a
    /// sequence at the key's own indentation, or null.
    fn nested_under_key(&mut self, indent: usize) -> Step {
        match self.peek() {
            Some(line) if line.indent > indent => self.node(line.indent),
            Some(line) if line.indent == indent && is_item(line.text) => self.sequence(indent),
            _ => {
                self.out.push_str("null");
                Ok(())
            }
        }
    }

    /// The value of a bare `-`: a deeper node or null.
    fn nested(&mut self, indent: usize) -> Step {
        match self.peek() {
            Some(line) if line.indent > indent => self.node(line.indent),
            _ => {
                self.out.push_str("null");
                Ok(())
            }
        }
    }
}

/// `key: value` or `key:` split into the key's text and the value's text
/// (empty when the value is on the following lines); `None` when the text is
/// no mapping entry.
fn split_key(text: &str) -> Result<Option<(std::borrow::Cow<'_, str>, &str)>, Bail> {
    if text.starts_with('"') {
        let Some(end) = quoted_end(text) else {
            return Err(Bail);
        };
        let after = &text[end..];
        return match after.strip_prefix(':') {
            Some("") => Ok(Some((unquote_double(&text[..end])?, ""))),
            Some(rest) if rest.starts_with(' ') => Ok(Some((
                unquote_double(&text[..end])?,
                rest.trim_start_matches(' '),
            ))),
            _ if after.is_empty() => Ok(None),
            _ => Err(Bail),
        };
    }
    if text.starts_with(['\'', '?', '[', '{', '&', '*', '!', '|', '>', '%', '@', '`']) {
        // Single-quoted keys, complex keys, flow, anchors, tags: not ours.
        return match text.find(": ").or_else(|| text.ends_with(':').then_some(0)) {
            Some(_) => Err(Bail),
            None => Ok(None),
        };
    }
    let (key, value) = if let Some(at) = text.find(": ") {
        (&text[..at], text[at + 2..].trim_start_matches(' '))
    } else if let Some(key) = text.strip_suffix(':') {
        (key, "")
    } else {
        return Ok(None);
    };
    if !is_plain_string(key) || key.contains(" #") || key.ends_with(':') {
        return Err(Bail);
    }
    Ok(Some((std::borrow::Cow::Borrowed(key), value)))
}

/// The byte after the closing quote of a double-quoted scalar at the start of `text`.
fn quoted_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The text of a double-quoted scalar whose escapes JSON shares.
fn unquote_double(quoted: &str) -> Result<std::borrow::Cow<'_, str>, Bail> {
    check_double(quoted)?;
    if !quoted.contains('\\') {
        return Ok(std::borrow::Cow::Borrowed(&quoted[1..quoted.len() - 1]));
    }
    serde_json::from_str::<String>(quoted)
        .map(std::borrow::Cow::Owned)
        .map_err(|_| Bail)
}

/// A double-quoted scalar (quotes included) that reads the same as a JSON string.
fn check_double(quoted: &str) -> Step {
    let bytes = quoted.as_bytes();
    let inner = &bytes[1..bytes.len() - 1];
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'\\' => {
                match inner.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        let hex = inner.get(i + 2..i + 6).ok_or(Bail)?;
                        let hex = std::str::from_utf8(hex).map_err(|_| Bail)?;
                        let code = u16::from_str_radix(hex, 16).map_err(|_| Bail)?;
                        // Surrogate pairs are JSON's, not YAML's.
                        if (0xD800..0xE000).contains(&code) || hex.starts_with(['+', '-']) {
                            return Err(Bail);
                        }
                        i += 6;
                    }
                    _ => return Err(Bail),
                }
            }
            b'"' => return Err(Bail),
            byte if byte < 0x20 || byte == 0x7f => return Err(Bail),
            _ => i += 1,
        }
    }
    Ok(())
}

/// A one-line scalar (the whole value text) as JSON.
fn scalar(text: &str, out: &mut String) -> Step {
    if text.contains(" #") {
        return Err(Bail);
    }
    match text.as_bytes()[0] {
        b'"' => {
            if quoted_end(text) != Some(text.len()) {
                return Err(Bail);
            }
            check_double(text)?;
            out.push_str(text);
        }
        b'\'' => {
            let inner = text
                .strip_prefix('\'')
                .and_then(|t| t.strip_suffix('\''))
                .ok_or(Bail)?;
            if inner.replace("''", "").contains('\'')
                || inner.bytes().any(|b| b < 0x20 || b == 0x7f)
            {
                return Err(Bail);
            }
            push_json_string(&inner.replace("''", "'"), out);
        }
        _ if text == "[]" || text == "{}" => out.push_str(text),
        _ => plain(text, out)?,
    }
    Ok(())
}

/// A plain scalar: `null`, `true`, `false`, a decimal integer, or a string
/// that no YAML rule could read as anything else.
fn plain(text: &str, out: &mut String) -> Step {
    match text {
        "null" | "true" | "false" => {
            out.push_str(text);
            return Ok(());
        }
        _ => {}
    }
    if is_decimal_integer(text) {
        out.push_str(text);
        return Ok(());
    }
    if !is_plain_string(text) {
        return Err(Bail);
    }
    push_json_string(text, out);
    Ok(())
}

fn is_decimal_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = match digits.as_bytes() {
        [b'0'] => !text.starts_with('-'),
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    canonical
        && if text.starts_with('-') {
            text.parse::<i64>().is_ok()
        } else {
            text.parse::<u64>().is_ok()
        }
}

/// A plain scalar YAML can only read as this string: no indicator first, no
/// `: ` or ` #` inside, no spelling of null, a boolean, infinity or NaN, and
/// not made only of characters numbers are written with.
fn is_plain_string(text: &str) -> bool {
    let Some(first) = text.bytes().next() else {
        return false;
    };
    if matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b'.'
            | b'+'
            | b'~'
            | b' '
    ) {
        return false;
    }
    if text.contains(": ") || text.contains(" #") || text.ends_with(':') {
        return false;
    }
    if text.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "null" | "true" | "false" | "yes" | "no" | "y" | "n" | "on" | "off"
    ) || lower.contains("inf")
        || lower.contains("nan")
    {
        return false;
    }
    !maybe_number(text)
}

/// Whether some YAML rule could read `text` as a number: a radix prefix, a
/// sexagesimal colon, what Rust reads as a float or an integer (underscores
/// dropped), or nothing but digits, points, signs and exponent letters.
fn maybe_number(text: &str) -> bool {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    let unsigned = text.trim_start_matches(['+', '-']);
    if unsigned.len() > 1
        && unsigned.starts_with('0')
        && matches!(
            unsigned.as_bytes()[1],
            b'x' | b'X' | b'o' | b'O' | b'b' | b'B'
        )
    {
        return true;
    }
    if text.contains(':')
        && text.split(':').all(|part| {
            part.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'_' || b == b'+' || b == b'-')
        })
    {
        return true;
    }
    let bare = text.replace('_', "");
    bare.parse::<f64>().is_ok()
        || bare.parse::<i128>().is_ok()
        || bare.parse::<u128>().is_ok()
        || text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'+' | b'-' | b'e' | b'E'))
}

fn push_json_string(text: &str, out: &mut String) {
    if text
        .bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b != 0x7f)
    {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        // serde_json cannot fail on a string.
        out.push_str(&serde_json::to_string(text).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests;
