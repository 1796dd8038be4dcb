//! Regions and the latency between them: a measured round-trip matrix plus access delay and
//! jitter.
//!
//! The default matrix is `data/region_rtt_ms.csv`: monthly median RTTs between Azure regions
//! (Microsoft Learn, "Azure network round-trip latency statistics", 30 days ending 2026-07-30),
//! each cell the mean of both directions. One-way latency is half the RTT. Backbone RTTs leave out
//! the user's last mile, so every end of a hop that is a user device adds `access_delay`, and every
//! hop adds exponential jitter with mean `jitter`.

use rand_distr::{Distribution, Exp};

use crate::engine::rng::SimRng;
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

/// Why a latency matrix could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MatrixError {
    /// The header row is missing or does not start with `region`.
    #[error("line {line}: expected a header row `region,<name>,<name>,...`")]
    BadHeader { line: usize },
    /// A row names a region not in the header, or rows are out of order.
    #[error("line {line}: row `{found}` does not match header column `{expected}`")]
    RowMismatch { line: usize, found: String, expected: String },
    /// A cell is not a non-negative number, or is empty off the diagonal.
    #[error("line {line}, column {column}: `{cell}` is not a round-trip time in ms")]
    BadCell { line: usize, column: usize, cell: String },
    /// Fewer rows than header columns.
    #[error("the matrix has {rows} rows for {columns} regions")]
    NotSquare { rows: usize, columns: usize },
}

impl Regions {
    /// Parses a CSV matrix of round-trip times in ms (`#` lines are comments). An empty diagonal
    /// cell is filled with `empty_diagonal_ms`, an empty cell elsewhere is an error.
    pub fn from_csv(text: &str, empty_diagonal_ms: f64) -> Result<Regions, MatrixError> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        let (hline, header) = lines.next().ok_or(MatrixError::BadHeader { line: 1 })?;
        let mut cols = header.split(',').map(str::trim);
        if cols.next() != Some("region") {
            return Err(MatrixError::BadHeader { line: hline + 1 });
        }
        let names: Vec<String> = cols.map(str::to_owned).collect();
        let n = names.len();
        if n == 0 || n > RegionId::MAX as usize {
            return Err(MatrixError::BadHeader { line: hline + 1 });
        }
        let mut one_way_us = vec![0u64; n * n];
        let mut rows = 0;
        for (i, (lno, line)) in lines.enumerate() {
            let mut cells = line.split(',').map(str::trim);
            let row_name = cells.next().unwrap_or_default();
            let expected = names.get(i).cloned().unwrap_or_default();
            if row_name != expected {
                return Err(MatrixError::RowMismatch { line: lno + 1, found: row_name.into(), expected });
            }
            for j in 0..n {
                let cell = cells.next().unwrap_or("");
                let rtt = if cell.is_empty() && i == j {
                    empty_diagonal_ms
                } else {
                    match cell.parse::<f64>() {
                        Ok(v) if v.is_finite() && v >= 0.0 => v,
                        _ => return Err(MatrixError::BadCell { line: lno + 1, column: j + 2, cell: cell.into() }),
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
        assert!(matches!(Regions::from_csv("x,a\n", 1.0), Err(MatrixError::BadHeader { line: 1 })));
        assert!(matches!(
            Regions::from_csv("region,a,b\na,1,2\nb,,3\n", 1.0),
            Err(MatrixError::BadCell { line: 3, column: 2, .. })
        ));
        assert!(matches!(Regions::from_csv("region,a,b\na,1,2\n", 1.0), Err(MatrixError::NotSquare { .. })));
    }
}
