//! Request counts by endpoint and status, a latency histogram per endpoint, and the number of
//! responses scored, rendered in Prometheus' text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram's buckets.
pub const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 120.0,
];

#[derive(Clone, Debug, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if self.counts.len() != BUCKETS.len() {
            self.counts = vec![0; BUCKETS.len()];
        }
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    responses_scored: AtomicU64,
    in_flight: AtomicI64,
}

impl Metrics {
    /// A request began.
    pub fn start(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request ended with `status` after `elapsed`.
    pub fn finish(&self, endpoint: &str, status: u16, elapsed: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g.requests
            .entry((endpoint.to_string(), status))
            .or_insert(0) += 1;
        g.latency
            .entry(endpoint.to_string())
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// `n` responses were scored.
    pub fn scored(&self, n: usize) {
        self.responses_scored.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Responses scored so far.
    pub fn responses_scored(&self) -> u64 {
        self.responses_scored.load(Ordering::Relaxed)
    }

    /// Requests being handled now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Prometheus text format.
    pub fn render(&self) -> String {
        let g = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP raif_http_requests_total HTTP requests by endpoint and status code."
        );
        let _ = writeln!(out, "# TYPE raif_http_requests_total counter");
        for ((ep, status), n) in &g.requests {
            let _ = writeln!(
                out,
                "raif_http_requests_total{{endpoint=\"{}\",status=\"{status}\"}} {n}",
                esc(ep)
            );
        }
        let _ = writeln!(
            out,
            "# HELP raif_http_request_duration_seconds Time from request to response, by endpoint."
        );
        let _ = writeln!(out, "# TYPE raif_http_request_duration_seconds histogram");
        for (ep, h) in &g.latency {
            let ep = esc(ep);
            for (i, le) in BUCKETS.iter().enumerate() {
                let c = h.counts.get(i).copied().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "raif_http_request_duration_seconds_bucket{{endpoint=\"{ep}\",le=\"{le}\"}} {c}"
                );
            }
            let _ = writeln!(
                out,
                "raif_http_request_duration_seconds_bucket{{endpoint=\"{ep}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "raif_http_request_duration_seconds_sum{{endpoint=\"{ep}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "raif_http_request_duration_seconds_count{{endpoint=\"{ep}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP raif_responses_scored_total Responses scored with the RAIF reward."
        );
        let _ = writeln!(out, "# TYPE raif_responses_scored_total counter");
        let _ = writeln!(
            out,
            "raif_responses_scored_total {}",
            self.responses_scored.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP raif_http_requests_in_flight Requests being handled now."
        );
        let _ = writeln!(out, "# TYPE raif_http_requests_in_flight gauge");
        let _ = writeln!(
            out,
            "raif_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_buckets() {
        let m = Metrics::default();
        m.start();
        m.finish("/get_reward", 200, Duration::from_millis(3));
        m.start();
        m.finish("/get_reward", 422, Duration::from_secs(200));
        m.scored(5);
        let t = m.render();
        assert!(t.contains("raif_http_requests_total{endpoint=\"/get_reward\",status=\"200\"} 1"));
        assert!(t.contains("raif_http_requests_total{endpoint=\"/get_reward\",status=\"422\"} 1"));
        assert!(t.contains(
            "raif_http_request_duration_seconds_bucket{endpoint=\"/get_reward\",le=\"0.005\"} 1"
        ));
        assert!(t.contains(
            "raif_http_request_duration_seconds_bucket{endpoint=\"/get_reward\",le=\"+Inf\"} 2"
        ));
        assert!(t.contains("raif_responses_scored_total 5"));
        assert!(t.contains("raif_http_requests_in_flight 0"));
    }
}
