//! Bounded time series (after bottom): a metric keeps at most `cap` buckets however long the
//! run; when full, neighbouring buckets merge and each covers twice as many steps.

/// Steps `lo..=hi` summarised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub lo: u64,
    pub hi: u64,
    pub sum: f64,
    pub n: u32,
    pub min: f64,
    pub max: f64,
    pub last: f64,
}

impl Bucket {
    pub fn mean(&self) -> f64 {
        self.sum / f64::from(self.n.max(1))
    }
    /// The middle step, for plotting.
    pub fn x(&self) -> f64 {
        (self.lo as f64 + self.hi as f64) / 2.0
    }
    fn merge(&mut self, o: &Bucket) {
        self.lo = self.lo.min(o.lo);
        self.hi = self.hi.max(o.hi);
        self.sum += o.sum;
        self.n += o.n;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.last = o.last;
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    buckets: Vec<Bucket>,
    /// Steps per bucket (a power of two).
    width: u64,
    cap: usize,
}

/// Buckets kept per metric by default.
pub const DEFAULT_BUCKETS: usize = 512;

impl Default for Series {
    fn default() -> Self {
        Series::new(DEFAULT_BUCKETS)
    }
}

impl Series {
    pub fn new(cap: usize) -> Self {
        Series {
            buckets: Vec::new(),
            width: 1,
            cap: cap.max(4),
        }
    }

    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    pub fn width(&self) -> u64 {
        self.width
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Record a value; non-finite values are ignored.
    pub fn push(&mut self, step: u64, v: f64) {
        if !v.is_finite() {
            return;
        }
        let b = Bucket {
            lo: step,
            hi: step,
            sum: v,
            n: 1,
            min: v,
            max: v,
            last: v,
        };
        let key = step / self.width;
        match self
            .buckets
            .binary_search_by(|x| (x.lo / self.width).cmp(&key))
        {
            Ok(i) => self.buckets[i].merge(&b),
            Err(i) => self.buckets.insert(i, b),
        }
        while self.buckets.len() > self.cap {
            self.width *= 2;
            let mut out: Vec<Bucket> = Vec::with_capacity(self.buckets.len() / 2 + 1);
            for b in self.buckets.drain(..) {
                match out.last_mut() {
                    Some(l) if l.lo / self.width == b.lo / self.width => l.merge(&b),
                    _ => out.push(b),
                }
            }
            self.buckets = out;
        }
    }

    pub fn last(&self) -> Option<f64> {
        self.buckets.last().map(|b| b.last)
    }

    /// Steps covered.
    pub fn range(&self) -> Option<(u64, u64)> {
        Some((self.buckets.first()?.lo, self.buckets.last()?.hi))
    }

    /// Buckets inside `lo..=hi`.
    pub fn window(&self, lo: u64, hi: u64) -> &[Bucket] {
        let a = self.buckets.partition_point(|b| b.hi < lo);
        let z = self.buckets.partition_point(|b| b.lo <= hi);
        &self.buckets[a..z.max(a)]
    }
}

/// Exponential moving average of `ys` (alpha = weight of the past, 0 = none), like
/// TensorBoard's smoothing slider, debiased at the start.
pub fn ema(ys: &[f64], alpha: f64) -> Vec<f64> {
    if alpha <= 0.0 {
        return ys.to_vec();
    }
    let mut out = Vec::with_capacity(ys.len());
    let mut acc = 0.0;
    let mut w = 0.0;
    for &y in ys {
        acc = alpha * acc + (1.0 - alpha) * y;
        w = alpha * w + (1.0 - alpha);
        out.push(acc / w);
    }
    out
}

/// An axis range that shows `lo..=hi` with a margin; a flat series (or one point) gets a band
/// around its value, so that its labels read the value it has.
pub fn axis_range(lo: f64, hi: f64) -> (f64, f64) {
    let span = hi - lo;
    if span <= 1e-12 * lo.abs().max(1.0) {
        let pad = (lo.abs() * 0.1).max(0.5);
        (lo - pad, hi + pad)
    } else {
        (lo - span * 0.05, hi + span * 0.05)
    }
}

/// A value as the charts label it: four significant decimals, trailing zeros dropped.
pub fn fmt_value(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-3 {
        format!("{v:.2e}")
    } else {
        format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_bounded_and_summaries_exact() {
        let mut s = Series::new(16);
        for step in 1..=10_000u64 {
            s.push(step, step as f64);
        }
        assert!(s.buckets().len() <= 16);
        let n: u32 = s.buckets().iter().map(|b| b.n).sum();
        assert_eq!(n, 10_000);
        assert_eq!(s.buckets()[0].min, 1.0);
        assert_eq!(s.buckets().last().map(|b| b.max), Some(10_000.0));
        assert_eq!(s.range(), Some((1, 10_000)));
        let total: f64 = s.buckets().iter().map(|b| b.sum).sum();
        assert_eq!(total, 10_000.0 * 10_001.0 / 2.0);
    }

    #[test]
    fn out_of_order_and_nan() {
        let mut s = Series::new(8);
        s.push(3, 1.0);
        s.push(1, 2.0);
        s.push(2, f64::NAN);
        assert_eq!(
            s.buckets().iter().map(|b| b.lo).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(s.window(2, 3).len(), 1);
    }

    #[test]
    fn ema_smooths() {
        let e = ema(&[0.0, 10.0, 10.0], 0.5);
        assert_eq!(e[0], 0.0);
        assert!(e[1] > 5.0 && e[1] < 10.0);
        assert_eq!(ema(&[1.0, 2.0], 0.0), vec![1.0, 2.0]);
    }

    #[test]
    fn a_flat_or_single_value_gets_a_band_around_it() {
        assert_eq!(axis_range(-2.0, -2.0), (-2.5, -1.5));
        let (lo, hi) = axis_range(40.0, 40.0);
        assert!(lo < 40.0 && hi > 40.0 && (hi - lo - 8.0).abs() < 1e-9);
        let (lo, hi) = axis_range(0.0, 1.0);
        assert!((lo + 0.05).abs() < 1e-12 && (hi - 1.05).abs() < 1e-12);
    }
}
