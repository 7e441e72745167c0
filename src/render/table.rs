//! The `table` and `object` helpers in their text and HTML flavours (templates.md §4),
//! byte for byte as upstream renders them.

use std::borrow::Cow;

use handlebars::Handlebars;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::helpers::{ValueRenderer, register_unary};
use super::{Flavour, LocalTime};

#[derive(Debug, Deserialize)]
struct Column {
    label: String,
    id: String,
    renderer: Option<ValueRenderer>,
}

#[derive(Debug, Deserialize)]
struct Schema {
    columns: Vec<Column>,
}

/// A table value: the schema is small and deserialised; rows are borrowed from the data,
/// which can be large.
struct Table<'a> {
    columns: Vec<Column>,
    rows: Vec<&'a Map<String, Value>>,
}

impl<'a> Table<'a> {
    fn parse(value: &'a Value) -> Result<Self, String> {
        let schema = value.get("schema").ok_or("table: missing field `schema`")?;
        let schema = Schema::deserialize(schema).map_err(|e| format!("table: schema: {e}"))?;
        let data = value
            .get("data")
            .ok_or("table: missing field `data`")?
            .as_array()
            .ok_or("table: `data` is not an array")?;
        let rows = data
            .iter()
            .map(|row| {
                row.as_object()
                    .ok_or("table: a row of `data` is not an object")
            })
            .collect::<Result<_, _>>()?;
        Ok(Table {
            columns: schema.columns,
            rows,
        })
    }

    /// A cell as shown: string cells without renderer are borrowed, so measuring and
    /// writing a large table allocates only for rendered and non-string cells.
    fn cell<'v>(
        &self,
        row: &'v Map<String, Value>,
        column: &Column,
        local_time: LocalTime,
    ) -> Cow<'v, str> {
        let value = row.get(&column.id).unwrap_or(&Value::Null);
        match column.renderer {
            Some(renderer) => Cow::Owned(renderer.render(value, local_time)),
            None => plain(value),
        }
    }

    /// Each column as wide as its longest cell or label in bytes, plus 4. Columns sharing
    /// a label share the width of the last of them (upstream keys widths by label).
    fn widths(&self, local_time: LocalTime) -> Vec<usize> {
        let own: Vec<usize> = self
            .columns
            .iter()
            .map(|column| {
                let longest = self
                    .rows
                    .iter()
                    .map(|row| self.cell(row, column, local_time).len())
                    .max()
                    .unwrap_or(0);
                longest.max(column.label.len()) + 4
            })
            .collect();
        self.columns
            .iter()
            .map(|column| {
                let last = self
                    .columns
                    .iter()
                    .rposition(|c| c.label == column.label)
                    .unwrap_or(0);
                own[last]
            })
            .collect()
    }

    /// Left-aligned cells padded to their column's width (in characters), a line per row.
    fn text(&self, local_time: LocalTime) -> String {
        let widths = self.widths(local_time);
        // exact for ASCII cells: every line is as long as the widths
        let line = widths.iter().sum::<usize>() + 1;
        let mut out = String::with_capacity(line * (self.rows.len() + 1));
        for (column, width) in self.columns.iter().zip(&widths) {
            pad(&mut out, &column.label, *width);
        }
        out.push('\n');
        for row in &self.rows {
            for (column, width) in self.columns.iter().zip(&widths) {
                pad(&mut out, &self.cell(row, column, local_time), *width);
            }
            out.push('\n');
        }
        out
    }

    fn html(&self, local_time: LocalTime) -> String {
        const OPEN_TABLE: &str = "<table style=\"border: 1px solid\";border-style=\"collapse\">\n";
        const OPEN_HEAD: &str = "    <th style=\"border: 1px solid\">";
        const CLOSE_HEAD: &str = "</th>\n";
        const OPEN_CELL: &str = "    <td style=\"border: 1px solid\">";
        const CLOSE_CELL: &str = "</td>\n";
        const OPEN_ROW: &str = "  <tr>\n";
        const CLOSE_ROW: &str = "  </tr>\n";
        const CLOSE_TABLE: &str = "</table>\n";
        // the markup, and 16 bytes a cell as a guess for the content
        let per_row = OPEN_ROW.len()
            + CLOSE_ROW.len()
            + self.columns.len() * (OPEN_CELL.len() + CLOSE_CELL.len() + 16);
        let mut out = String::with_capacity(OPEN_TABLE.len() + per_row * (self.rows.len() + 1));
        out.push_str(OPEN_TABLE);
        out.push_str(OPEN_ROW);
        for column in &self.columns {
            out.push_str(OPEN_HEAD);
            super::push_escaped(&mut out, &column.label);
            out.push_str(CLOSE_HEAD);
        }
        out.push_str(CLOSE_ROW);
        for row in &self.rows {
            out.push_str(OPEN_ROW);
            for column in &self.columns {
                out.push_str(OPEN_CELL);
                super::push_escaped(&mut out, &self.cell(row, column, local_time));
                out.push_str(CLOSE_CELL);
            }
            out.push_str(CLOSE_ROW);
        }
        out.push_str(CLOSE_TABLE);
        out
    }
}

/// `text` followed by spaces up to `width` characters.
fn pad(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    let chars = if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    };
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(chars)));
}

/// A cell without renderer: strings as they are, anything else as compact JSON.
fn plain(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// Renders a table value; used by the helper and by tests.
pub fn render_table(
    value: &Value,
    flavour: Flavour,
    local_time: LocalTime,
) -> Result<String, String> {
    let table = Table::parse(value)?;
    Ok(match flavour {
        Flavour::Text => table.text(local_time),
        Flavour::Html => table.html(local_time),
    })
}

/// Pretty JSON (2-space indent), not escaped even in HTML.
pub fn render_object(value: &Value, flavour: Flavour) -> String {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    match flavour {
        Flavour::Text => format!("\n{pretty}\n"),
        Flavour::Html => format!("\n<pre>{pretty}\n</pre>\n"),
    }
}

/// Registers `table` and `object` in the given flavour.
pub fn register(engine: &mut Handlebars<'_>, flavour: Flavour, local_time: LocalTime) {
    register_unary(engine, "table", move |value| {
        render_table(value, flavour, local_time)
    });
    register_unary(engine, "object", move |value| {
        Ok(render_object(value, flavour))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utc(epoch: i64) -> Option<String> {
        chrono::DateTime::from_timestamp(epoch, 0).map(|t| t.format("%F %H:%M:%S").to_string())
    }

    fn table() -> Value {
        json!({
            "schema": {"columns": [
                {"label": "VMID", "id": "vmid"},
                {"label": "Name", "id": "name"},
                {"label": "Size", "id": "size", "renderer": "human-bytes"},
                {"label": "Time", "id": "time", "renderer": "duration"},
            ]},
            "data": [
                {"vmid": 100, "name": "web", "size": 1536, "time": 61},
                {"vmid": 101, "name": "Größe<&>", "time": "x"},
                {"vmid": [1, 2], "name": {"a": 1}, "size": 0, "time": 0},
            ]
        })
    }

    #[test]
    fn text_table_pads_by_bytes_and_characters() {
        let text = render_table(&table(), Flavour::Text, utc).unwrap();
        let expected = concat!(
            "VMID     ",
            "Name          ",
            "Size       ",
            "Time     ",
            "\n",
            "100      ",
            "web           ",
            "1.5 KiB    ",
            "1m 1s    ",
            "\n",
            // 10 bytes but 8 characters: two more spaces than it looks.
            "101      ",
            "Größe<&>      ",
            "ERROR      ",
            "ERROR    ",
            "\n",
            "[1,2]    ",
            "{\"a\":1}       ",
            "0 B        ",
            "0s       ",
            "\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn missing_cell_without_renderer_is_null() {
        let value = json!({
            "schema": {"columns": [{"label": "A", "id": "a"}, {"label": "B", "id": "b"}]},
            "data": [{"a": "x"}]
        });
        assert_eq!(
            render_table(&value, Flavour::Text, utc).unwrap(),
            "A    B       \nx    null    \n"
        );
    }

    #[test]
    fn non_ascii_labels_and_the_timestamp_renderer() {
        let value = json!({
            "schema": {"columns": [
                {"label": "Größe", "id": "s"},
                {"label": "Zeit", "id": "t", "renderer": "timestamp"}
            ]},
            "data": [{"s": 1, "t": 86400}, {"s": 22}]
        });
        // "Größe" is 7 bytes: width 11, padded by characters to 11 characters.
        let expected = concat!(
            "Größe      ",
            "Zeit                   ",
            "\n",
            "1          ",
            "1970-01-02 00:00:00    ",
            "\n",
            "22         ",
            "ERROR                  ",
            "\n",
        );
        assert_eq!(render_table(&value, Flavour::Text, utc).unwrap(), expected);
    }

    #[test]
    fn html_table_escapes_cells() {
        let value = json!({
            "schema": {"columns": [{"label": "N<ame", "id": "n"}, {"label": "T", "id": "t", "renderer": "timestamp"}]},
            "data": [{"n": "<script>&\"'", "t": 0}]
        });
        assert_eq!(
            render_table(&value, Flavour::Html, utc).unwrap(),
            "<table style=\"border: 1px solid\";border-style=\"collapse\">\n  <tr>\n    \
             <th style=\"border: 1px solid\">N&lt;ame</th>\n    <th style=\"border: 1px solid\">T</th>\n  \
             </tr>\n  <tr>\n    <td style=\"border: 1px solid\">&lt;script&gt;&amp;&quot;&#x27;</td>\n    \
             <td style=\"border: 1px solid\">1970-01-01 00:00:00</td>\n  </tr>\n</table>\n"
        );
    }

    #[test]
    fn bad_tables_are_errors() {
        for bad in [
            json!(null),
            json!({"data": []}),
            json!({"schema": {"columns": []}}),
            json!({"schema": {"columns": [{"label": "a"}]}, "data": []}),
            json!({"schema": {"columns": [{"label": "a", "id": "a", "renderer": "bogus"}]}, "data": []}),
            json!({"schema": {"columns": []}, "data": [1]}),
        ] {
            assert!(render_table(&bad, Flavour::Text, utc).is_err(), "{bad}");
        }
        let empty = json!({"schema": {"columns": []}, "data": []});
        assert_eq!(render_table(&empty, Flavour::Text, utc).unwrap(), "\n");
    }

    #[test]
    fn object_in_both_flavours() {
        let value = json!({"b": [1], "a": "<x>"});
        assert_eq!(
            render_object(&value, Flavour::Text),
            "\n{\n  \"a\": \"<x>\",\n  \"b\": [\n    1\n  ]\n}\n"
        );
        assert_eq!(
            render_object(&json!("s"), Flavour::Html),
            "\n<pre>\"s\"\n</pre>\n"
        );
    }
}
