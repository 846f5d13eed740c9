//! The one definition of a percentile the benchmarks print: hdrhistogram's (the value at or
//! below which the given share of samples fall), in milliseconds, as the store's own timings.

use hdrhistogram::Histogram;
use std::time::Duration;

/// Samples of one measurement.
pub struct Samples {
    histogram: Histogram<u64>,
    total: Duration,
}

impl Samples {
    pub fn new() -> Samples {
        Samples {
            // Nanoseconds, three significant digits, auto-resizing for any range.
            histogram: Histogram::new(3).expect("three significant digits is a valid precision"),
            total: Duration::ZERO,
        }
    }

    pub fn of(durations: &[Duration]) -> Samples {
        let mut samples = Samples::new();
        for duration in durations {
            samples.record(*duration);
        }
        samples
    }

    pub fn record(&mut self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        // Auto-resizing histograms take any value; a failure would only lose one sample.
        let _ = self.histogram.record(nanos);
        self.total += duration;
    }

    pub fn len(&self) -> u64 {
        self.histogram.len()
    }

    /// The `p`th percentile (0–100) in milliseconds; 0 without samples.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        self.histogram.value_at_quantile(p / 100.0) as f64 / 1e6
    }

    pub fn mean_ms(&self) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        self.total.as_secs_f64() * 1000.0 / self.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_samples() {
        let durations: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let samples = Samples::of(&durations);
        assert!((samples.percentile_ms(50.0) - 50.0).abs() < 0.1);
        assert!((samples.percentile_ms(95.0) - 95.0).abs() < 0.1);
        assert!((samples.mean_ms() - 50.5).abs() < 0.01);
        assert_eq!(Samples::new().percentile_ms(99.0), 0.0);
    }
}
