//! Regions and the latency between them: a measured round-trip matrix plus access delay and
//! jitter.
//!
//! The default matrix is `data/region_rtt_ms.csv`: monthly median RTTs between Azure regions
//! (Microsoft Learn, "Azure network round-trip latency statistics", 30 days ending 2026-07-30),
//! each cell the mean of both directions. One-way latency is half the RTT. Backbone RTTs leave out
//! the user's last mile, so every end of a hop that is a user device adds `access_delay`, and every
//! hop adds exponential jitter with mean `jitter`.

use rand_distr::{Distribution, Exp};

use crate::rng::SimRng;
use crate::time::SimDuration;

/// Index of a region in the matrix.
pub type RegionId = u8;

/// The default matrix, shipped with the crate.
pub const DEFAULT_MATRIX_CSV: &str = include_str!("../../data/region_rtt_ms.csv");

/// Round-trip time used for the South America diagonal, which the source leaves empty (Azure
/// has one South American region). ASSUMPTION: 30 ms, between the Europe (12.5 ms) and India/UAE
/// (32 ms) diagonals; no measured São Paulo to Buenos Aires/Santiago median was found.
pub const SOUTH_AMERICA_DIAGONAL_MS: f64 = 30.0;

/// ASSUMPTION: share of users per region in the default population, a rough picture of where
/// internet users live (Asia and India largest, Oceania smallest); not taken from a source.
pub const DEFAULT_REGION_WEIGHTS: [(&str, f64); 8] = [
    ("na_east", 0.09),
    ("na_west", 0.06),
    ("south_america", 0.09),
    ("europe_west", 0.16),
    ("africa", 0.10),
    ("middle_east_india", 0.22),
    ("east_asia", 0.25),
    ("oceania", 0.03),
];

/// Region names and their symmetric round-trip matrix.
#[derive(Clone, Debug)]
pub struct Regions {
    names: Vec<String>,
    /// One-way base latency in microseconds, row-major `from * n + to`.
    one_way_us: Vec<u64>,
}

/// Most regions a matrix may name: region ids are one byte.
pub const MAX_REGIONS: usize = RegionId::MAX as usize;

/// Why a latency matrix could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MatrixError {
    /// The file is not UTF-8 text.
    #[error("line {line}, column {column}: not UTF-8 text (byte 0x{byte:02x}); save the matrix as UTF-8")]
    NotUtf8 { line: usize, column: usize, byte: u8 },
    /// Nothing but comments and blank lines.
    #[error("the matrix is empty: expected a header row `region,<name>,<name>,...`")]
    Empty,
    /// The header row does not start with `region`.
    #[error("line {line}: expected a header row `region,<name>,<name>,...`, found `{found}`")]
    BadHeader { line: usize, found: String },
    /// The header names no region, or more than [`MAX_REGIONS`].
    #[error("line {line}: the header names {count} regions; a matrix has 1 to {MAX_REGIONS}")]
    RegionCount { line: usize, count: usize },
    /// A region name is empty, has a control character, or is not unique.
    #[error("line {line}, column {column}: {problem}")]
    BadName { line: usize, column: usize, problem: String },
    /// A cell is quoted in a way this reader does not take (a quote inside, a comma in quotes).
    #[error(
        "line {line}, column {column}: `{cell}`: a cell may be wrapped in double quotes, but holds neither a quote nor a comma"
    )]
    BadQuote { line: usize, column: usize, cell: String },
    /// A row names a region not in the header, or rows are out of order.
    #[error("line {line}: row `{found}` does not match header column `{expected}` (rows follow the header's order)")]
    RowMismatch { line: usize, found: String, expected: String },
    /// A row has more or fewer cells than the header.
    #[error("line {line}: row `{row}` has {found} cells after its name, the header {expected}{}", if *.found > *.expected { " (a trailing comma?)" } else { "" })]
    RowLength { line: usize, row: String, found: usize, expected: usize },
    /// More rows than regions.
    #[error("line {line}: a row beyond the {regions} regions of the header")]
    ExtraRow { line: usize, regions: usize },
    /// A cell is not a non-negative number, or is empty off the diagonal.
    #[error("line {line}, column {column}: `{cell}` is not a round-trip time in ms")]
    BadCell { line: usize, column: usize, cell: String },
    /// Fewer rows than header columns.
    #[error("the matrix has {rows} rows for {columns} regions")]
    NotSquare { rows: usize, columns: usize },
}

/// One cell of a CSV line, trimmed, without the double quotes that may wrap it.
fn unquote(cell: &str, line: usize, column: usize) -> Result<&str, MatrixError> {
    let bad = || MatrixError::BadQuote { line, column, cell: cell.to_owned() };
    let inner = match cell.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"').ok_or_else(bad)?,
        None => cell,
    };
    if inner.contains('"') {
        return Err(bad());
    }
    Ok(inner.trim())
}

/// The cells of a CSV line (1-based columns), each trimmed and unquoted.
fn cells(line: &str, lno: usize) -> Result<Vec<&str>, MatrixError> {
    line.split(',').enumerate().map(|(i, c)| unquote(c.trim(), lno, i + 1)).collect()
}

impl Regions {
    /// Parses a matrix file's bytes: [`Regions::from_csv`], after checking that they are UTF-8.
    pub fn from_csv_bytes(bytes: &[u8], empty_diagonal_ms: f64) -> Result<Regions, MatrixError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let good = e.valid_up_to();
            let valid = std::str::from_utf8(&bytes[..good]).expect("valid up to here");
            let (line, column) = crate::text::line_col(valid, good);
            MatrixError::NotUtf8 { line, column, byte: bytes[good] }
        })?;
        Regions::from_csv(text, empty_diagonal_ms)
    }

    /// Parses a CSV matrix of round-trip times in ms. The first row is `region,<name>,...` (1 to
    /// [`MAX_REGIONS`] distinct names without control characters), then one row per region in the
    /// header's order, its name and one cell per region. Lines starting with `#` and blank lines
    /// are skipped; a leading byte-order mark is ignored; a cell may be wrapped in double quotes
    /// (as spreadsheets write them) if it holds no quote or comma. An empty diagonal cell is
    /// filled with `empty_diagonal_ms`, an empty cell elsewhere is an error.
    pub fn from_csv(text: &str, empty_diagonal_ms: f64) -> Result<Regions, MatrixError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        let (hline, header) = lines.next().ok_or(MatrixError::Empty)?;
        let hline = hline + 1;
        let header_cells = cells(header, hline)?;
        if header_cells[0] != "region" {
            return Err(MatrixError::BadHeader { line: hline, found: header.chars().take(40).collect() });
        }
        let names: Vec<String> = header_cells[1..].iter().map(|c| c.to_string()).collect();
        let n = names.len();
        if n == 0 || n > MAX_REGIONS {
            return Err(MatrixError::RegionCount { line: hline, count: n });
        }
        for (i, name) in names.iter().enumerate() {
            let bad = |problem: String| MatrixError::BadName { line: hline, column: i + 2, problem };
            if name.is_empty() {
                return Err(bad("a region name is empty".into()));
            }
            if name.chars().any(char::is_control) {
                return Err(bad(format!("the region name `{}` has a control character", name.escape_default())));
            }
            if let Some(j) = names[..i].iter().position(|m| m == name) {
                return Err(bad(format!("the region `{name}` is named twice (also column {})", j + 2)));
            }
        }
        let mut one_way_us = vec![0u64; n * n];
        let mut rows = 0;
        for (i, (lno, line)) in lines.enumerate() {
            let lno = lno + 1;
            if i >= n {
                return Err(MatrixError::ExtraRow { line: lno, regions: n });
            }
            let row = cells(line, lno)?;
            let row_name = row[0];
            if row_name != names[i] {
                return Err(MatrixError::RowMismatch { line: lno, found: row_name.into(), expected: names[i].clone() });
            }
            if row.len() - 1 != n {
                return Err(MatrixError::RowLength {
                    line: lno,
                    row: row_name.into(),
                    found: row.len() - 1,
                    expected: n,
                });
            }
            for (j, &cell) in row[1..].iter().enumerate() {
                let rtt = if cell.is_empty() && i == j {
                    empty_diagonal_ms
                } else {
                    match cell.parse::<f64>() {
                        Ok(v) if v.is_finite() && v >= 0.0 => v,
                        _ => return Err(MatrixError::BadCell { line: lno, column: j + 2, cell: cell.into() }),
                    }
                };
                one_way_us[i * n + j] = (rtt * 500.0).round() as u64;
            }
            rows += 1;
        }
        if rows != n {
            return Err(MatrixError::NotSquare { rows, columns: n });
        }
        Ok(Regions { names, one_way_us })
    }

    /// The shipped default matrix.
    pub fn default_matrix() -> Regions {
        Regions::from_csv(DEFAULT_MATRIX_CSV, SOUTH_AMERICA_DIAGONAL_MS).expect("shipped matrix parses")
    }

    /// Number of regions.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no regions (never true for a parsed matrix).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Region names in matrix order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The id of a region by name.
    pub fn id(&self, name: &str) -> Option<RegionId> {
        self.names.iter().position(|n| n == name).map(|i| i as RegionId)
    }

    /// Half the round-trip time between two regions.
    #[inline]
    pub fn one_way(&self, from: RegionId, to: RegionId) -> SimDuration {
        SimDuration(self.one_way_us[from as usize * self.names.len() + to as usize])
    }
}

/// The per-hop delays added to the backbone latency.
#[derive(Clone, Debug)]
pub struct LinkDelays {
    /// Last-mile delay added at each end of a hop that is a user device.
    pub access_delay: SimDuration,
    /// Mean of the exponential jitter added to every hop; `None` when zero.
    pub jitter: Option<Exp<f64>>,
    /// The jitter mean as given, for reports.
    pub jitter_mean: SimDuration,
}

impl LinkDelays {
    /// Delays with the given access delay and mean jitter.
    pub fn new(access_delay: SimDuration, jitter_mean: SimDuration) -> LinkDelays {
        let jitter = (jitter_mean.0 > 0).then(|| Exp::new(1.0 / jitter_mean.as_secs_f64()).expect("positive mean"));
        LinkDelays { access_delay, jitter, jitter_mean }
    }

    /// One draw of a hop's delay between regions, with `device_ends` (0 to 2) user devices.
    #[inline]
    pub fn hop(
        &self,
        regions: &Regions,
        from: RegionId,
        to: RegionId,
        device_ends: u64,
        rng: &mut SimRng,
    ) -> SimDuration {
        let base = regions.one_way(from, to) + self.access_delay.saturating_mul(device_ends);
        match &self.jitter {
            Some(exp) => base + SimDuration::from_secs_f64(exp.sample(rng)),
            None => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matrix_loads_with_source_values() {
        let r = Regions::default_matrix();
        assert_eq!(r.len(), 8);
        let (e, w) = (r.id("na_east").unwrap(), r.id("europe_west").unwrap());
        // Virginia to the Netherlands: 84 ms RTT in the source, so 42 ms one way.
        assert_eq!(r.one_way(e, w), SimDuration::from_millis(42));
        assert_eq!(r.one_way(w, e), r.one_way(e, w));
        let sa = r.id("south_america").unwrap();
        assert_eq!(r.one_way(sa, sa), SimDuration::from_millis(15));
    }

    #[test]
    fn malformed_matrices_are_rejected_with_their_line() {
        assert!(matches!(Regions::from_csv("x,a\n", 1.0), Err(MatrixError::BadHeader { line: 1, .. })));
        assert!(matches!(
            Regions::from_csv("region,a,b\na,1,2\nb,,3\n", 1.0),
            Err(MatrixError::BadCell { line: 3, column: 2, .. })
        ));
        assert!(matches!(Regions::from_csv("region,a,b\na,1,2\n", 1.0), Err(MatrixError::NotSquare { .. })));
    }

    /// A matrix of `n` regions named r0, r1, ... with every cell `rtt`.
    fn square(n: usize, rtt: &str) -> String {
        let names: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
        let mut text = format!("region,{}\n", names.join(","));
        for name in &names {
            text.push_str(&format!("{name},{}\n", vec![rtt; n].join(",")));
        }
        text
    }

    #[test]
    fn matrix_limits_issue_9_255_regions_fit_and_256_are_refused() {
        let r = Regions::from_csv(&square(MAX_REGIONS, "10"), 1.0).expect("255 regions fit in a one-byte id");
        assert_eq!(r.len(), 255);
        assert_eq!(r.id("r254"), Some(254));
        assert_eq!(
            Regions::from_csv(&square(256, "10"), 1.0).unwrap_err(),
            MatrixError::RegionCount { line: 1, count: 256 }
        );
        assert_eq!(Regions::from_csv("region\n", 1.0).unwrap_err(), MatrixError::RegionCount { line: 1, count: 0 });
        assert_eq!(Regions::from_csv("# only a comment\n\n", 1.0).unwrap_err(), MatrixError::Empty);
    }

    #[test]
    fn matrix_limits_issue_9_duplicate_and_empty_names_are_refused_with_their_column() {
        let e = Regions::from_csv("region,a,b,a\na,1,2,3\nb,1,2,3\na,1,2,3\n", 1.0).unwrap_err();
        assert!(matches!(&e, MatrixError::BadName { line: 1, column: 4, problem } if problem.contains("twice")), "{e}");
        let e = Regions::from_csv("region,a,,b\n", 1.0).unwrap_err();
        assert!(matches!(&e, MatrixError::BadName { line: 1, column: 3, .. }), "{e}");
        let e = Regions::from_csv("region,a\u{1}\na\u{1},1\n", 1.0).unwrap_err();
        assert!(e.to_string().contains("control character"), "{e}");
    }

    #[test]
    fn matrix_limits_issue_9_rows_with_extra_or_missing_cells_or_beyond_the_header_are_refused() {
        let e = Regions::from_csv("region,a,b\na,1,2,\nb,2,1\n", 1.0).unwrap_err();
        assert_eq!(e, MatrixError::RowLength { line: 2, row: "a".into(), found: 3, expected: 2 });
        assert!(e.to_string().contains("trailing comma"), "{e}");
        let e = Regions::from_csv("region,a,b\na,1\nb,2,1\n", 1.0).unwrap_err();
        assert_eq!(e, MatrixError::RowLength { line: 2, row: "a".into(), found: 1, expected: 2 });
        let e = Regions::from_csv("region,a\na,1\nb,1\n", 1.0).unwrap_err();
        assert_eq!(e, MatrixError::ExtraRow { line: 3, regions: 1 });
    }

    #[test]
    fn matrix_limits_issue_9_a_bom_and_quoted_cells_read_as_plain_csv() {
        let plain = Regions::from_csv("region,a,b\na,2,40\nb,40,4\n", 1.0).unwrap();
        let excel = Regions::from_csv("\u{feff}\"region\",\"a\",\"b\"\r\n\"a\",2,\"40\"\r\nb,40,4\r\n", 1.0)
            .expect("a BOM, quotes and CRLF line ends are what spreadsheets write");
        assert_eq!(excel.names(), plain.names());
        assert_eq!(excel.one_way(0, 1), SimDuration::from_millis(20));
        assert_eq!(excel.one_way(1, 1), plain.one_way(1, 1));
        let e = Regions::from_csv("region,\"a,b\"\n", 1.0).unwrap_err();
        assert!(matches!(e, MatrixError::BadQuote { line: 1, .. }), "{e}");
        let e = Regions::from_csv("region,\"a\"\"x\"\n", 1.0).unwrap_err();
        assert!(matches!(e, MatrixError::BadQuote { line: 1, column: 2, .. }), "{e}");
    }

    #[test]
    fn matrix_bytes_issue_9_invalid_utf8_names_line_and_column() {
        let e = Regions::from_csv_bytes(b"region,a,b\na,1,2\nb,\xe9t\xff,1\n", 1.0).unwrap_err();
        // `b,` then a lone 0xE9 (Latin-1 `é`): the first bad byte is line 3, column 3.
        assert_eq!(e, MatrixError::NotUtf8 { line: 3, column: 3, byte: 0xe9 });
    }
}
