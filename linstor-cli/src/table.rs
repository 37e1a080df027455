//! Tables laid out as LINSTOR's client lays them out: a frame of box-drawing characters (or
//! ASCII with `--no-utf8`), a header row, a double rule, one row per object; every column as
//! wide as its widest cell. Cells may carry a colour, used only when colours are on (a
//! terminal without `--no-color`).

use std::fmt::Write as _;

/// A cell's colour (ANSI), for states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// Good (Online, UpToDate, Ok).
    Green,
    /// In between (Connecting, SyncTarget, Inconsistent).
    Yellow,
    /// Bad (OFFLINE, Failed, Diskless where a disk is wanted).
    Red,
}

impl Color {
    fn code(self) -> &'static str {
        match self {
            Color::Green => "\x1b[1;32m",
            Color::Yellow => "\x1b[1;33m",
            Color::Red => "\x1b[1;31m",
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    text: String,
    color: Option<Color>,
}

impl<S: Into<String>> From<S> for Cell {
    fn from(s: S) -> Self {
        Cell {
            text: s.into(),
            color: None,
        }
    }
}

impl Cell {
    /// A coloured cell.
    pub fn colored(text: impl Into<String>, color: Option<Color>) -> Cell {
        Cell {
            text: text.into(),
            color,
        }
    }
}

/// How tables are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Box-drawing characters (else ASCII).
    pub utf8: bool,
    /// ANSI colours on coloured cells.
    pub color: bool,
}

/// A table under construction.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<Cell>>,
}

struct Frame {
    tl: char,
    tr: char,
    bl: char,
    br: char,
    ml: char,
    mr: char,
    line: char,
    rule: char,
    pipe: char,
}

const UTF8: Frame = Frame {
    tl: '╭',
    tr: '╮',
    bl: '╰',
    br: '╯',
    ml: '╞',
    mr: '╡',
    line: '─',
    rule: '═',
    pipe: '┊',
};

const ASCII: Frame = Frame {
    tl: '+',
    tr: '+',
    bl: '+',
    br: '+',
    ml: '|',
    mr: '|',
    line: '-',
    rule: '=',
    pipe: '|',
};

impl Table {
    /// A table with these column headers.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            right: vec![false; header.len()],
            rows: Vec::new(),
        }
    }

    /// Right-aligns the named columns (numbers, sizes and states, as LINSTOR's client does).
    #[must_use]
    pub fn right(mut self, columns: &[&str]) -> Table {
        for (i, h) in self.header.iter().enumerate() {
            if columns.contains(&h.as_str()) {
                self.right[i] = true;
            }
        }
        self
    }

    /// Adds a row (as many cells as headers).
    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows.push(cells);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn widths(&self) -> Vec<usize> {
        self.header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                self.rows
                    .iter()
                    .flat_map(|r| r[i].text.lines().map(|l| l.chars().count()))
                    .chain(std::iter::once(h.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// The table as text (ends with a newline).
    pub fn render(&self, style: Style) -> String {
        let f = if style.utf8 { &UTF8 } else { &ASCII };
        let widths = self.widths();
        // "┊ a ┊ b ┊": one space either side of every cell, pipes between.
        let inner: usize = widths.iter().map(|w| w + 3).sum::<usize>() - 1;
        let mut out = String::new();
        let hline = |l: char, fill: char, r: char| {
            let mut s = String::new();
            s.push(l);
            s.extend(std::iter::repeat_n(fill, inner));
            s.push(r);
            s.push('\n');
            s
        };
        out.push_str(&hline(f.tl, f.line, f.tr));
        let header: Vec<Cell> = self.header.iter().map(|h| Cell::from(h.as_str())).collect();
        let left = vec![false; widths.len()];
        out.push_str(&render_row(&header, &widths, &left, f.pipe, style.color));
        out.push_str(&hline(f.ml, f.rule, f.mr));
        // Rows of several lines get a thin rule between them, so they read apart.
        let multi = self.rows.iter().flatten().any(|c| c.text.contains('\n'));
        for (i, r) in self.rows.iter().enumerate() {
            if multi && i > 0 {
                out.push_str(&hline(f.ml, f.line, f.mr));
            }
            out.push_str(&render_row(r, &widths, &self.right, f.pipe, style.color));
        }
        out.push_str(&hline(f.bl, f.line, f.br));
        out
    }
}

fn render_row(cells: &[Cell], widths: &[usize], right: &[bool], pipe: char, color: bool) -> String {
    let height = cells
        .iter()
        .map(|c| c.text.lines().count().max(1))
        .max()
        .unwrap_or(1);
    let mut s = String::new();
    for line in 0..height {
        s.push(pipe);
        for ((c, w), r) in cells.iter().zip(widths).zip(right) {
            let text = c.text.lines().nth(line).unwrap_or_default();
            let pad = " ".repeat(w - text.chars().count());
            let body = match c.color.filter(|_| color && !text.is_empty()) {
                Some(col) => format!("{}{text}\x1b[0m", col.code()),
                None => text.to_owned(),
            };
            if *r {
                let _ = write!(s, " {pad}{body} ");
            } else {
                let _ = write!(s, " {body}{pad} ");
            }
            s.push(pipe);
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&["Node", "NodeType", "State"]);
        t.row(vec![
            "alpha".into(),
            "SATELLITE".into(),
            Cell::colored("Online", Some(Color::Green)),
        ]);
        t.row(vec![
            "b".into(),
            "COMBINED".into(),
            Cell::colored("OFFLINE", Some(Color::Red)),
        ]);
        t
    }

    #[test]
    fn utf8_ascii_and_colors() {
        let t = sample();
        insta::assert_snapshot!(
            "utf8",
            t.render(Style {
                utf8: true,
                color: false
            })
        );
        insta::assert_snapshot!(
            "ascii",
            t.render(Style {
                utf8: false,
                color: false
            })
        );
        let colored = t.render(Style {
            utf8: false,
            color: true,
        });
        assert!(colored.contains("\x1b[1;32mOnline\x1b[0m"), "{colored}");
        // Colour codes do not count towards the width.
        assert_eq!(
            colored
                .lines()
                .nth(3)
                .map(|l| l.replace("\x1b[1;32m", "").replace("\x1b[0m", "")),
            t.render(Style {
                utf8: false,
                color: false
            })
            .lines()
            .nth(3)
            .map(str::to_owned)
        );
    }

    #[test]
    fn right_alignment_and_rows_of_several_lines() {
        let mut t = Table::new(&["Name", "Filter", "Size"]).right(&["Size"]);
        t.row(vec![
            "a".into(),
            "PlaceCount: 3\nStoragePool(s): p".into(),
            "1 GiB".into(),
        ]);
        t.row(vec!["bb".into(), "".into(), "10.50 MiB".into()]);
        insta::assert_snapshot!(t.render(Style {
            utf8: false,
            color: false
        }));
    }

    #[test]
    fn an_empty_table_still_has_its_header() {
        let t = Table::new(&["Key", "Value"]);
        assert!(t.is_empty());
        let text = t.render(Style {
            utf8: false,
            color: false,
        });
        assert_eq!(text.lines().count(), 4, "{text}");
    }
}
