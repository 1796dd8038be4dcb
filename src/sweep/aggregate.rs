//! `aggregate.csv`: for each point × architecture × metric, the mean over replicates and a 95%
//! confidence interval that respects the metric's range ([`crate::output::names::kind`]):
//!
//! - a **share** (every value in [0, 1]) gets a Wilson score interval (Wilson 1927; Agresti &
//!   Coull 1998) whose sample size is the *effective* one the replicates show,
//!   n_eff = p̂(1 − p̂) / (s² / n) (Kish's effective sample size: replicates vary more than one
//!   binomial sample when the worlds differ), with t(0.975, n−1) for z; when the replicates agree
//!   exactly (s = 0) and the share's count basis is known (copies created), n_eff is that count.
//!   The interval lies in [0, 1] by construction and, when p̂(1 − p̂)/n_eff = s²/n, has the t
//!   interval's width near p̂ = ½;
//! - a **positive** quantity (latency, count, bytes, rate) gets the t interval of the logs,
//!   exp(mean(ln x) ± t · sd(ln x) / √n): positive by construction, exact for log-normal
//!   replicates, and an interval for the geometric mean (the median of a log-normal), which is
//!   within a few per cent of the arithmetic `mean` column when replicates vary by a few per
//!   cent. With a zero among the values the log is undefined: the plain t interval is used with
//!   its lower end clamped at 0 (no possible value was cut, so coverage is unchanged);
//! - a value outside its kind's range (a share above 1, a negative count: not written by netarch,
//!   but possible in an edited file) falls back to the plain t interval.
//!
//! The `interval` column names the method used (`wilson`, `log-t`, `t-clamped`, `t`).
//! Replicates are independent runs, so Student's t applies (with 5 replicates t = 2.776, not the
//! normal 1.96).
//!
//! Replicates whose value is undefined (null) are left out of that metric's n; with n < 2 the
//! standard deviation and interval are undefined (empty cells). The quantile is computed, not
//! looked up, from the regularised incomplete beta function with the pure-Rust `libm`, so the
//! file is byte-identical on every machine.

use std::collections::BTreeMap;

use super::plan::Plan;
use super::tidy::{RunFigures, cell, key_cells};
use crate::output::names::{MetricKind, count_basis, kind};

/// How an interval was computed (the `interval` column of `aggregate.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// mean ± t · s / √n.
    T,
    /// The t interval of the logs, back-transformed.
    LogT,
    /// The t interval with its lower end clamped at 0 (a zero among positive values).
    TClamped,
    /// The Wilson score interval at the effective sample size.
    Wilson,
}

impl Method {
    /// Its name in `aggregate.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Method::T => "t",
            Method::LogT => "log-t",
            Method::TClamped => "t-clamped",
            Method::Wilson => "wilson",
        }
    }
}

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
    /// How the interval was computed (`None` when there is none).
    pub method: Option<Method>,
}

impl Stats {
    /// The statistics of `values`, summed in the order given.
    pub fn of(values: &[f64]) -> Stats {
        let n = values.len();
        if n == 0 {
            return Stats { n: 0, mean: None, sd: None, ci_low: None, ci_high: None, method: None };
        }
        let (mean, sd) = mean_sd(values);
        if n < 2 {
            return Stats { n: 1, mean: Some(mean), sd: None, ci_low: None, ci_high: None, method: None };
        }
        let half = t975(n as u32 - 1) * sd / (n as f64).sqrt();
        Stats {
            n: n as u32,
            mean: Some(mean),
            sd: Some(sd),
            ci_low: Some(mean - half),
            ci_high: Some(mean + half),
            method: Some(Method::T),
        }
    }

    /// The statistics of a metric's `values`, with the interval its kind calls for (see the
    /// module's documentation); `basis` is the total count a share is a proportion of, when known.
    pub fn for_metric(metric: &str, values: &[f64], basis: Option<f64>) -> Stats {
        let plain = Stats::of(values);
        if values.len() < 2 {
            return plain;
        }
        match kind(metric) {
            MetricKind::Share if values.iter().all(|v| (0.0..=1.0).contains(v)) => {
                let p = plain.mean.expect("n ≥ 2");
                let sd = plain.sd.expect("n ≥ 2");
                let (lo, hi) = wilson_effective(p, sd, values.len(), basis);
                Stats { ci_low: Some(lo), ci_high: Some(hi), method: Some(Method::Wilson), ..plain }
            }
            MetricKind::Positive if values.iter().all(|v| *v > 0.0 && v.is_finite()) => {
                let logs: Vec<f64> = values.iter().map(|v| libm::log(*v)).collect();
                let (m, s) = mean_sd(&logs);
                let half = t975(values.len() as u32 - 1) * s / (values.len() as f64).sqrt();
                Stats {
                    ci_low: Some(libm::exp(m - half)),
                    ci_high: Some(libm::exp(m + half)),
                    method: Some(Method::LogT),
                    ..plain
                }
            }
            MetricKind::Positive if values.iter().all(|v| *v >= 0.0) => {
                Stats { ci_low: plain.ci_low.map(|l| l.max(0.0)), method: Some(Method::TClamped), ..plain }
            }
            _ => plain,
        }
    }
}

/// Mean and sample standard deviation (n − 1; 0 for one value), summed in the order given.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// The Wilson score interval of a share `p` (the mean of `n` replicates with standard deviation
/// `sd`) at the effective sample size the replicates show, with t(0.975, n−1) for z; `basis` (the
/// count the share is a proportion of, summed over replicates) sets the size when the replicates
/// agree exactly. Without either, the interval is the point itself.
pub fn wilson_effective(p: f64, sd: f64, n: usize, basis: Option<f64>) -> (f64, f64) {
    let z = t975(n as u32 - 1);
    let var_mean = sd * sd / n as f64;
    let spread = p * (1.0 - p);
    let m = if var_mean > 0.0 && spread > 0.0 {
        spread / var_mean
    } else {
        match basis.filter(|b| *b > 0.0) {
            Some(b) => b,
            None => return (p, p),
        }
    };
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * m)) / (1.0 + z2 / m);
    let half = z / (1.0 + z2 / m) * (spread / m + z2 / (4.0 * m * m)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
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
            let total = |m: &str| by_metric.get(m).map(|v| v.iter().sum::<f64>());
            for (metric, values) in &by_metric {
                let basis = count_basis(metric).and_then(total);
                let stats = Stats::for_metric(metric, values, basis);
                out.push(Aggregate { point, arch, metric: (*metric).to_owned(), stats });
            }
        }
        i = end;
    }
    out
}

/// `aggregate.csv`: point, the varied keys (a duration also in seconds, `<key>_s`), arch, kind,
/// metric, n, mean, sd, ci95_low, ci95_high, interval.
pub fn aggregate_csv(plan: &Plan, rows: &[Aggregate]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let keys = super::tidy::key_columns(plan);
    let header: Vec<&str> = std::iter::once("point")
        .chain(keys.iter().map(String::as_str))
        .chain(["arch", "kind", "metric", "n", "mean", "sd", "ci95_low", "ci95_high", "interval"])
        .collect();
    w.write_record(&header).expect("writing to memory cannot fail");
    for a in rows {
        let mut row = vec![a.point.to_string()];
        row.extend(key_cells(plan, a.point));
        row.extend([
            plan.archs[a.arch].clone(),
            plan.kinds[a.arch].clone(),
            a.metric.clone(),
            a.stats.n.to_string(),
            cell(a.stats.mean),
            cell(a.stats.sd),
            cell(a.stats.ci_low),
            cell(a.stats.ci_high),
            a.stats.method.map(Method::name).unwrap_or_default().to_owned(),
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
        assert_eq!(
            Stats::of(&[7.0]),
            Stats { n: 1, mean: Some(7.0), sd: None, ci_low: None, ci_high: None, method: None }
        );
        assert_eq!(Stats::of(&[]).mean, None);
    }

    /// A deterministic generator for the simulations below (SplitMix64; Steele et al. 2014).
    struct Gen(u64);
    impl Gen {
        fn unit(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
        /// A standard normal draw (Box–Muller).
        fn normal(&mut self) -> f64 {
            let u = 1.0 - self.unit();
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
        }
        /// A binomial(m, p) share.
        fn share(&mut self, m: u32, p: f64) -> f64 {
            (0..m).filter(|_| self.unit() < p).count() as f64 / m as f64
        }
    }

    /// The tolerance of an estimated coverage from `trials` simulated intervals: four binomial
    /// standard deviations of the estimate around the nominal 95% (a false failure about once in
    /// 16,000 runs of the test; the generator is seeded, so the result does not change between runs).
    fn tolerance(trials: usize) -> f64 {
        4.0 * (0.95f64 * 0.05 / trials as f64).sqrt()
    }

    #[test]
    fn positive_metrics_never_get_a_negative_lower_bound() {
        // The issue's own example: p50 latencies so spread that mean − t·s/√n is negative.
        let v = [1500.0, 41_000.0, 2_000.0, 20_000.0, 5_400.0];
        let t = Stats::of(&v);
        assert!(t.ci_low.unwrap() < 0.0, "the plain t interval goes below 0 here");
        let s = Stats::for_metric("latency.p50_ms", &v, None);
        assert_eq!(s.method, Some(Method::LogT));
        assert!(s.ci_low.unwrap() > 0.0 && s.ci_high.unwrap() > s.ci_low.unwrap());
        // With a zero the logs are undefined: the t interval, clamped.
        let z = Stats::for_metric("in_flight", &[0.0, 1.0, 7.0, 0.0, 2.0], None);
        assert_eq!((z.method, z.ci_low), (Some(Method::TClamped), Some(0.0)));
        assert_eq!(z.mean, Stats::of(&[0.0, 1.0, 7.0, 0.0, 2.0]).mean, "the mean is unchanged");
    }

    #[test]
    fn shares_stay_in_zero_one() {
        let mut g = Gen(7);
        for trial in 0..2000 {
            let n = 2 + trial % 9;
            let p = [0.0, 0.001, 0.02, 0.5, 0.97, 0.999, 1.0][trial % 7];
            let v: Vec<f64> = (0..n).map(|_| g.share(20, p)).collect();
            for basis in [None, Some(20.0 * n as f64)] {
                let s = Stats::for_metric("delivery_ratio", &v, basis);
                let (lo, hi) = (s.ci_low.unwrap(), s.ci_high.unwrap());
                assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi) && lo <= hi, "{v:?}: [{lo}, {hi}]");
                assert_eq!(s.method, Some(Method::Wilson));
            }
        }
        // Replicates that agree on 100%: with the count basis, Wilson's interval below 1.
        let s = Stats::for_metric("delivery_ratio", &[1.0; 5], Some(5000.0));
        assert!(s.ci_low.unwrap() < 1.0 && s.ci_low.unwrap() > 0.99 && s.ci_high == Some(1.0), "{s:?}");
        // A share above 1 (an edited file) falls back to the t interval.
        assert_eq!(Stats::for_metric("delivery_ratio", &[1.5, 0.5], None).method, Some(Method::T));
    }

    #[test]
    fn log_t_intervals_cover_the_geometric_mean_95_percent_of_the_time() {
        // Log-normal replicates, μ = ln 5000 ms, σ = 0.8: the interval is exact for exp(μ).
        let (trials, mu) = (4000, 5000f64.ln());
        let mut g = Gen(11);
        for n in [3, 5, 10] {
            let covered = (0..trials)
                .filter(|_| {
                    let v: Vec<f64> = (0..n).map(|_| (mu + 0.8 * g.normal()).exp()).collect();
                    let s = Stats::for_metric("latency.p95_ms", &v, None);
                    s.ci_low.unwrap() <= mu.exp() && mu.exp() <= s.ci_high.unwrap()
                })
                .count();
            let c = covered as f64 / trials as f64;
            assert!((c - 0.95).abs() < tolerance(trials), "n = {n}: coverage {c}");
        }
    }

    #[test]
    fn wilson_intervals_cover_the_share_95_percent_of_the_time() {
        // Each replicate a binomial share of 400 copies; the interval is for p.
        let trials = 3000;
        let mut g = Gen(13);
        for (n, p) in [(5, 0.3), (10, 0.8)] {
            let covered = (0..trials)
                .filter(|_| {
                    let v: Vec<f64> = (0..n).map(|_| g.share(400, p)).collect();
                    let s = Stats::for_metric("delivery_ratio", &v, Some(400.0 * n as f64));
                    s.ci_low.unwrap() <= p && p <= s.ci_high.unwrap()
                })
                .count();
            let c = covered as f64 / trials as f64;
            assert!((c - 0.95).abs() < tolerance(trials), "n = {n}, p = {p}: coverage {c}");
        }
    }
}
