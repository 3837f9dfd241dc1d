//! A text table as one model: a title, headers and already formatted
//! cells. Drawn with Caliper's bordered ASCII style for benchmark reports
//! ([`Table::render_ascii`], also fed to the HTML page) and as plain aligned
//! columns for command output such as `status` ([`Table::render_plain`]),
//! so no command pads columns by hand.

use serde::Serialize;

/// A titled table of formatted cells, ready to draw as ASCII or HTML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Heading shown above the table.
    pub title: String,
    /// Column names.
    pub headers: Vec<String>,
    /// One entry per row, each as long as `headers`.
    pub rows: Vec<Vec<String>>,
    /// A line shown under the table, if any.
    pub note: Option<String>,
}

impl Table {
    /// Draws the table as the npm `table` package does with the `ramac`
    /// border Caliper uses: `+---+` top and bottom, `|` between cells, a
    /// `|---|` rule under the header and between rows, cells left-aligned
    /// with one space of padding.
    pub(crate) fn render_ascii(&self) -> String {
        let cols = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(width(cell));
            }
        }
        let rule = |corner: char, join: char| {
            let mut s = String::new();
            s.push(corner);
            for (i, w) in widths.iter().enumerate() {
                if i > 0 {
                    s.push(join);
                }
                s.push_str(&"-".repeat(w + 2));
            }
            s.push(corner);
            s.push('\n');
            s
        };
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (i, w) in widths.iter().enumerate() {
                let cell = cells.get(i).map(|c| clean(c)).unwrap_or_default();
                s.push(' ');
                s.push_str(&cell);
                s.push_str(&" ".repeat(w - width(&cell) + 1));
                s.push('|');
            }
            s.push('\n');
            s
        };

        let mut out = rule('+', '+');
        out.push_str(&line(&self.headers));
        for row in &self.rows {
            out.push_str(&rule('|', '|'));
            out.push_str(&line(row));
        }
        out.push_str(&rule('+', '+'));
        if let Some(note) = &self.note {
            out.push_str(note);
            out.push('\n');
        }
        out
    }

    /// Draws the rows as plain columns, each as wide as its widest cell
    /// and separated by two spaces, headers first; columns listed in
    /// `right` are right-aligned (numbers). No title, no borders: the form
    /// of `status` and `device provision` output. The last column is not
    /// padded, so lines carry no trailing spaces.
    pub(crate) fn render_plain(&self, right: &[usize]) -> String {
        let cols = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(width(&clean(cell)));
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, w) in widths.iter().enumerate() {
                let cell = cells.get(i).map(|c| clean(c)).unwrap_or_default();
                let pad = " ".repeat(w - width(&cell));
                if i > 0 {
                    s.push_str("  ");
                }
                if right.contains(&i) {
                    s.push_str(&pad);
                    s.push_str(&cell);
                } else {
                    s.push_str(&cell);
                    if i + 1 < cols {
                        s.push_str(&pad);
                    }
                }
            }
            s.truncate(s.trim_end().len());
            s.push('\n');
            s
        };
        let mut out = line(&self.headers);
        for row in &self.rows {
            out.push_str(&line(row));
        }
        if let Some(note) = &self.note {
            out.push_str(note);
            out.push('\n');
        }
        out
    }
}

/// Display width of a cell: characters, control characters counted as the
/// space they are drawn as.
fn width(s: &str) -> usize {
    s.chars().count()
}

/// A cell drawn on one line: control characters (newlines, tabs, escapes)
/// become spaces so a label cannot break the table or the terminal.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_columns_align_left_and_right_without_trailing_space() {
        let t = Table {
            title: String::new(),
            headers: vec!["NODE".into(), "BLOCK".into(), "RPC".into()],
            rows: vec![
                vec!["a-sealer-0".into(), "7".into(), "http://x".into()],
                vec!["b".into(), "1234".into(), "-".into()],
            ],
            note: None,
        };
        assert_eq!(
            t.render_plain(&[1]),
            "NODE        BLOCK  RPC\na-sealer-0      7  http://x\nb            1234  -\n"
        );
    }
}
