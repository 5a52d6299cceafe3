//! kubectl-style tables: upper-case headers, columns separated by spaces, no borders.
//!
//! Cells are written into one growing buffer and the column widths kept as they
//! come, so a table of half a million rows (the timeline of a 150,000-replica
//! apply) costs two allocations and one pass to lay out. The layout is
//! comfy-table's with the `NOTHING` preset, left alignment, three spaces of
//! right padding and trailing blanks trimmed; a test holds the two equal.

use std::fmt::{self, Write};
use unicode_width::UnicodeWidthStr;

/// A table being filled row by row.
pub struct Tabular {
    columns: usize,
    /// Every cell's text, one after the other.
    text: String,
    /// Where each cell ends in `text`; cell `i` is `ends[i - 1]..ends[i]`.
    ends: Vec<usize>,
    widths: Vec<usize>,
}

impl Tabular {
    pub fn new(headers: &[&str]) -> Self {
        let mut table = Tabular {
            columns: headers.len(),
            text: String::new(),
            ends: Vec::new(),
            widths: vec![0; headers.len()],
        };
        table.row(headers);
        table
    }

    /// Appends one cell; a row is complete after as many cells as there are headers.
    pub fn cell(&mut self, value: impl fmt::Display) -> &mut Self {
        let start = self.text.len();
        // Writing into a String cannot fail.
        let _ = write!(self.text, "{value}");
        let column = self.ends.len() % self.columns;
        let width = self.text[start..]
            .split('\n')
            .map(display_width)
            .max()
            .unwrap_or(0);
        self.widths[column] = self.widths[column].max(width);
        self.ends.push(self.text.len());
        self
    }

    /// Appends a whole row; missing cells are left empty.
    pub fn row<T: fmt::Display>(&mut self, cells: &[T]) -> &mut Self {
        for cell in cells {
            self.cell(cell);
        }
        for _ in cells.len()..self.columns {
            self.cell("");
        }
        self
    }

    fn cells(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let cell = &self.text[start..end];
            start = end;
            cell
        })
    }

    pub fn render(&self) -> String {
        if let Some(width) = super::fit::width() {
            let natural = self.widths.iter().sum::<usize>() + 3 * self.columns.saturating_sub(1);
            if natural > width {
                return self.render_fitted(width);
            }
        }
        let mut out = String::with_capacity(self.text.len() + self.ends.len() * 4);
        let cells: Vec<&str> = self.cells().collect();
        for row in cells.chunks(self.columns) {
            if row.iter().any(|cell| cell.contains('\n')) {
                let lines: Vec<Vec<&str>> =
                    row.iter().map(|cell| cell.split('\n').collect()).collect();
                let height = lines.iter().map(Vec::len).max().unwrap_or(1);
                for index in 0..height {
                    let line: Vec<&str> = lines
                        .iter()
                        .map(|cell| cell.get(index).copied().unwrap_or(""))
                        .collect();
                    self.line(&mut out, &line);
                }
            } else {
                self.line(&mut out, row);
            }
        }
        out
    }

    fn line(&self, out: &mut String, cells: &[&str]) {
        let start = out.len();
        for (column, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            let pad = self.widths[column] - display_width(cell) + 3;
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.truncate(start + out[start..].trim_end().len());
        out.push('\n');
    }
}

impl Tabular {
    /// The table laid out in `width` columns (see `render::fit`).
    fn render_fitted(&self, width: usize) -> String {
        let cells: Vec<&str> = self.cells().collect();
        let headers: Vec<usize> = cells[..self.columns]
            .iter()
            .map(|h| display_width(h))
            .collect();
        let widths = super::fit::column_widths(&self.widths, &headers, 3, width);
        let fitted = Tabular {
            columns: self.columns,
            text: String::new(),
            ends: Vec::new(),
            widths: widths.clone(),
        };
        let mut out = String::with_capacity(self.text.len());
        for row in cells.chunks(self.columns) {
            let lines: Vec<Vec<String>> = row
                .iter()
                .zip(&widths)
                .map(|(cell, &w)| {
                    cell.split('\n')
                        .map(|line| super::fit::cut(line, w))
                        .collect()
                })
                .collect();
            let height = lines.iter().map(Vec::len).max().unwrap_or(1);
            for index in 0..height {
                let line: Vec<&str> = lines
                    .iter()
                    .map(|cell| cell.get(index).map_or("", String::as_str))
                    .collect();
                let start = out.len();
                fitted.line(&mut out, &line);
                // A table of more columns than fit, even narrowed, is cut whole.
                let written = out[start..].trim_end_matches('\n').to_string();
                if display_width(&written) > width {
                    out.truncate(start);
                    out.push_str(&super::fit::truncate(&written, width));
                    out.push('\n');
                }
            }
        }
        out
    }
}

fn display_width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.width()
    }
}

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Tabular::new(headers);
    for row in &rows {
        table.row(row);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    #[test]
    fn columns_line_up_without_borders() {
        let text = super::table(
            &["NAME", "READY"],
            vec![
                vec!["n1".into(), "true".into()],
                vec!["node-22".into(), "false".into()],
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME      READY");
        assert_eq!(lines[1], "n1        true");
        assert_eq!(lines[2], "node-22   false");
    }

    /// The layout orch's tables had when comfy-table drew them.
    fn comfy(headers: &[&str], rows: &[Vec<String>]) -> String {
        use comfy_table::{CellAlignment, ContentArrangement, Table, presets::NOTHING};
        let mut table = Table::new();
        table
            .load_style(NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(headers.iter().map(|h| h.to_string()));
        for row in rows {
            table.add_row(row.clone());
        }
        for column in table.column_iter_mut() {
            column.set_cell_alignment(CellAlignment::Left);
            column.set_padding((0, 3));
        }
        let mut text: String = table
            .lines()
            .map(|line| line.trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n");
        text.push('\n');
        text
    }

    proptest! {
        #[test]
        fn same_layout_as_comfy_table(
            rows in prop::collection::vec(
                prop::collection::vec("[a-z0-9 ./-]{0,12}|[a-zé日\n]{0,6}", 3),
                0..8,
            )
        ) {
            let headers = ["NAME", "A LONGER HEADER", "X"];
            prop_assert_eq!(super::table(&headers, rows.clone()), comfy(&headers, &rows));
        }
    }
}
