//! Probability distributions of positive quantities (durations, sizes), parameterised the way
//! people state them: by their mean (or median) and a shape, not by library internals.
//!
//! Scenario files name a family and its parameters; the scenario layer checks them and builds a
//! [`Dist`] here, which precomputes the sampler so that a draw costs no allocation and no setup.

use rand_distr::{Distribution, Exp, LogNormal, Weibull};

use crate::time::SimDuration;

/// A distribution over non-negative reals, in the unit of whatever it models (seconds, bytes).
#[derive(Clone, Debug)]
pub enum Dist {
    /// Always the same value.
    Constant(f64),
    /// Exponential with the given mean (memoryless).
    Exponential { mean: f64, sampler: Exp<f64> },
    /// Weibull with shape `k`; shape below 1 gives the heavy tail measured for P2P sessions.
    Weibull { mean: f64, shape: f64, sampler: Weibull<f64> },
    /// Log-normal with log-space standard deviation `sigma`.
    LogNormal { mean: f64, sigma: f64, sampler: LogNormal<f64> },
    /// Uniform on `[low, high]`.
    Uniform { low: f64, high: f64 },
}

/// Why a distribution could not be built from its parameters.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DistError {
    /// A mean, median, or bound was negative, zero where it must be positive, or not finite.
    #[error("{0} must be a positive finite number")]
    NotPositive(&'static str),
    /// The uniform bounds are in the wrong order.
    #[error("low must not exceed high")]
    BoundsReversed,
}

impl Dist {
    /// A constant; `value` must be finite and non-negative.
    pub fn constant(value: f64) -> Result<Dist, DistError> {
        if !value.is_finite() || value < 0.0 {
            return Err(DistError::NotPositive("value"));
        }
        Ok(Dist::Constant(value))
    }

    /// Exponential with the given mean.
    pub fn exponential(mean: f64) -> Result<Dist, DistError> {
        positive("mean", mean)?;
        let sampler = Exp::new(1.0 / mean).map_err(|_| DistError::NotPositive("mean"))?;
        Ok(Dist::Exponential { mean, sampler })
    }

    /// Weibull with the given mean and shape: scale = mean / Γ(1 + 1/shape).
    pub fn weibull(mean: f64, shape: f64) -> Result<Dist, DistError> {
        positive("mean", mean)?;
        positive("shape", shape)?;
        let scale = mean / libm::tgamma(1.0 + 1.0 / shape);
        positive("scale", scale)?;
        let sampler = Weibull::new(scale, shape).map_err(|_| DistError::NotPositive("shape"))?;
        Ok(Dist::Weibull { mean, shape, sampler })
    }

    /// Log-normal with the given mean and log-space sigma: mu = ln(mean) - sigma²/2.
    pub fn lognormal_mean(mean: f64, sigma: f64) -> Result<Dist, DistError> {
        positive("mean", mean)?;
        if !sigma.is_finite() || sigma < 0.0 {
            return Err(DistError::NotPositive("sigma"));
        }
        let mu = mean.ln() - sigma * sigma / 2.0;
        let sampler = LogNormal::new(mu, sigma).map_err(|_| DistError::NotPositive("sigma"))?;
        Ok(Dist::LogNormal { mean, sigma, sampler })
    }

    /// Log-normal with the given median and log-space sigma.
    pub fn lognormal_median(median: f64, sigma: f64) -> Result<Dist, DistError> {
        positive("median", median)?;
        let mean = median * (sigma * sigma / 2.0).exp();
        Dist::lognormal_mean(mean, sigma)
    }

    /// Uniform on `[low, high]`.
    pub fn uniform(low: f64, high: f64) -> Result<Dist, DistError> {
        if !low.is_finite() || low < 0.0 {
            return Err(DistError::NotPositive("low"));
        }
        if !high.is_finite() {
            return Err(DistError::NotPositive("high"));
        }
        if low > high {
            return Err(DistError::BoundsReversed);
        }
        Ok(Dist::Uniform { low, high })
    }

    /// The distribution's mean, exactly.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean, .. } | Dist::Weibull { mean, .. } | Dist::LogNormal { mean, .. } => *mean,
            Dist::Uniform { low, high } => (low + high) / 2.0,
        }
    }

    /// One draw.
    #[inline]
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { sampler, .. } => sampler.sample(rng),
            Dist::Weibull { sampler, .. } => sampler.sample(rng),
            Dist::LogNormal { sampler, .. } => sampler.sample(rng),
            Dist::Uniform { low, high } => {
                let u: f64 = rand::RngExt::random(rng);
                low + (high - low) * u
            }
        }
    }

    /// One draw read as seconds, rounded to whole microseconds.
    #[inline]
    pub fn sample_duration<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        SimDuration::from_secs_f64(self.sample(rng))
    }

    /// Whether every draw is the same value (lets models skip a draw and keep streams aligned).
    pub fn is_constant(&self) -> bool {
        matches!(self, Dist::Constant(_))
    }
}

fn positive(what: &'static str, v: f64) -> Result<(), DistError> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(DistError::NotPositive(what)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    /// Sample mean against the exact mean, within 5 standard errors of the sample mean
    /// (false-alarm probability below 1e-6 under the central limit theorem).
    fn check_mean(d: &Dist, sd: f64) {
        let n = 200_000;
        let mut rng = stream(42, Purpose::Model, 0);
        let sum: f64 = (0..n).map(|_| d.sample(&mut rng)).sum();
        let got = sum / n as f64;
        let tol = 5.0 * sd / (n as f64).sqrt();
        assert!((got - d.mean()).abs() < tol, "{d:?}: mean {got} vs {} (tol {tol})", d.mean());
    }

    #[test]
    fn sample_means_match_parameters() {
        check_mean(&Dist::exponential(2.0).unwrap(), 2.0);
        // Weibull shape 2: sd = mean * sqrt(Γ(2)/Γ(1.5)² - 1) ≈ 0.5227 * mean.
        check_mean(&Dist::weibull(3.0, 2.0).unwrap(), 3.0 * 0.5227);
        // Log-normal sigma 0.5: sd = mean * sqrt(e^{0.25} - 1) ≈ 0.5329 * mean.
        check_mean(&Dist::lognormal_mean(1.0, 0.5).unwrap(), 0.5329);
        check_mean(&Dist::uniform(1.0, 3.0).unwrap(), 2.0 / 12f64.sqrt());
    }

    #[test]
    fn rejects_impossible_parameters() {
        assert!(Dist::exponential(-1.0).is_err());
        assert!(Dist::exponential(0.0).is_err());
        assert!(Dist::weibull(1.0, 0.0).is_err());
        assert!(Dist::uniform(3.0, 1.0).is_err());
        assert!(Dist::constant(f64::INFINITY).is_err());
    }
}
