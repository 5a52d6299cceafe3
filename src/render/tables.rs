//! kubectl-style tables: upper-case headers, columns separated by spaces, no borders.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets::NOTHING};

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table
        .load_style(NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().map(|h| h.to_string()));
    for row in rows {
        table.add_row(row);
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

#[cfg(test)]
mod tests {
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
}
