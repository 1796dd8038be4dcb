//! `aggregate.csv`: for each point × architecture × metric, the mean over replicates and its 95%
//! confidence interval, mean ± t(0.975, n−1) · s / √n, with Student's t quantile for n−1 degrees
//! of freedom (replicates are independent runs, so the usual t interval applies; with 5
//! replicates t = 2.776, not the normal 1.96).
//!
//! Replicates whose value is undefined (null) are left out of that metric's n; with n < 2 the
//! standard deviation and interval are undefined (empty cells). The quantile is computed, not
//! looked up, from the regularised incomplete beta function with the pure-Rust `libm`, so the
//! file is byte-identical on every machine.

use std::collections::BTreeMap;

use super::plan::Plan;
use super::tidy::{RunFigures, cell};

/// Mean and spread of one metric over a point's replicates.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Replicates with a defined value.
    pub n: u32,
    /// Their mean (`None` when n = 0).
    pub mean: Option<f64>,
    /// Their sample standard deviation (`None` when n < 2).
    pub sd: Option<f64>,
    /// Lower end of the 95% confidence interval of the mean (`None` when n < 2).
    pub ci_low: Option<f64>,
    /// Upper end (`None` when n < 2).
    pub ci_high: Option<f64>,
}

impl Stats {
    /// The statistics of `values`, summed in the order given.
    pub fn of(values: &[f64]) -> Stats {
        let n = values.len();
        if n == 0 {
            return Stats { n: 0, mean: None, sd: None, ci_low: None, ci_high: None };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Stats { n: 1, mean: Some(mean), sd: None, ci_low: None, ci_high: None };
        }
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        let half = t975(n as u32 - 1) * sd / (n as f64).sqrt();
        Stats { n: n as u32, mean: Some(mean), sd: Some(sd), ci_low: Some(mean - half), ci_high: Some(mean + half) }
    }
}

/// One row of `aggregate.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// The point.
    pub point: u64,
    /// The architecture's position in the plan.
    pub arch: usize,
    /// The metric.
    pub metric: String,
    /// Its statistics over the point's replicates.
    pub stats: Stats,
}

/// Aggregates runs (in run order) per point, architecture and metric, in that order (metrics by
/// name).
pub fn aggregate(plan: &Plan, runs: &[RunFigures]) -> Vec<Aggregate> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let point = runs[i].id.point;
        let end = i + runs[i..].iter().take_while(|r| r.id.point == point).count();
        for arch in 0..plan.archs.len() {
            let mut by_metric: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
            for run in &runs[i..end] {
                for (metric, value) in &run.archs[arch] {
                    let values = by_metric.entry(metric.as_str()).or_default();
                    if let Some(v) = value {
                        values.push(*v);
                    }
                }
            }
            for (metric, values) in by_metric {
                out.push(Aggregate { point, arch, metric: metric.to_owned(), stats: Stats::of(&values) });
            }
        }
        i = end;
    }
    out
}

/// `aggregate.csv`: point, the varied keys, arch, kind, metric, n, mean, sd, ci95_low, ci95_high.
pub fn aggregate_csv(plan: &Plan, rows: &[Aggregate]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = std::iter::once("point")
        .chain(plan.vary.iter().map(|v| v.key.as_str()))
        .chain(["arch", "kind", "metric", "n", "mean", "sd", "ci95_low", "ci95_high"])
        .collect();
    w.write_record(&header).expect("writing to memory cannot fail");
    for a in rows {
        let mut row = vec![a.point.to_string()];
        row.extend(plan.values_at(a.point).iter().map(|v| v.to_string()));
        row.extend([
            plan.archs[a.arch].clone(),
            plan.kinds[a.arch].clone(),
            a.metric.clone(),
            a.stats.n.to_string(),
            cell(a.stats.mean),
            cell(a.stats.sd),
            cell(a.stats.ci_low),
            cell(a.stats.ci_high),
        ]);
        w.write_record(&row).expect("writing to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV of UTF-8 fields is UTF-8")
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (the half-width factor of a
/// two-sided 95% interval): the t where the two tails beyond ±t hold 5%, found by bisection on
/// P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2).
pub fn t975(df: u32) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    let nu = df as f64;
    let tails = |t: f64| incomplete_beta(nu / 2.0, 0.5, nu / (nu + t * t));
    let (mut lo, mut hi) = (0.0f64, 1e4f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tails(mid) > 0.05 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The regularised incomplete beta function I_x(a, b).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        libm::exp(libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * libm::log(x) + b * libm::log(1.0 - x));
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of the incomplete beta function (modified Lentz's method).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=500 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_published_tables() {
        // t(0.975, df), e.g. NIST/SEMATECH e-Handbook table 1.3.6.7.2.
        for (df, t) in [
            (1, 12.706),
            (2, 4.303),
            (3, 3.182),
            (4, 2.776),
            (5, 2.571),
            (9, 2.262),
            (19, 2.093),
            (29, 2.045),
            (100, 1.984),
        ] {
            assert!((t975(df) - t).abs() < 5e-4, "df {df}: {} vs {t}", t975(df));
        }
        assert!((t975(1_000_000) - 1.95996).abs() < 1e-4, "tends to the normal quantile");
        assert!(t975(0).is_infinite());
    }

    #[test]
    fn stats_of_replicates() {
        let s = Stats::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(s.n, 5);
        assert_eq!(s.mean, Some(3.0));
        let sd = 2.5f64.sqrt();
        assert!((s.sd.unwrap() - sd).abs() < 1e-12);
        let half = t975(4) * sd / 5f64.sqrt();
        assert!((s.ci_high.unwrap() - 3.0 - half).abs() < 1e-12);
        assert!((3.0 - s.ci_low.unwrap() - half).abs() < 1e-12);
        assert_eq!(Stats::of(&[7.0]), Stats { n: 1, mean: Some(7.0), sd: None, ci_low: None, ci_high: None });
        assert_eq!(Stats::of(&[]).mean, None);
    }
}
