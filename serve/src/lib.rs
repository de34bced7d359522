//! `raif serve-reward`: the RAIF reward (ALGORITHM.md §1–2, rule verifiers of `raif-verify`)
//! over HTTP, so that cluster engines (OpenRLHF, verl) train with our verifiers.
//!
//! Endpoints:
//! - `POST /get_reward` — OpenRLHF's remote reward-model protocol (see [`api`]): `{"query":
//!   [...], "prompts": [...], "labels": [...]}` → `{"rewards": [...], "scores": [...],
//!   "extra_logs": {...}}`.
//! - `POST /v1/score` — our own: every item's reward with the per-constraint breakdown.
//! - `GET /health`, `GET /metrics` (Prometheus text).
//!
//! Limits: a request body limit (413), a per-request scoring deadline (503, the scoring stops),
//! malformed JSON (400), a wrong shape, an unknown instruction id, a bad kwarg or a judge leaf
//! (422); every error body is `{"error": "<reason>"}`.

pub mod api;
pub mod label;
pub mod metrics;
pub mod score;
pub mod synth;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use raif_verify::reward::TagStyle;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;

pub use metrics::Metrics;
pub use score::{PrefillMode, DEFAULT_EOS};

/// The default request body limit, in MiB: a batch of 1,024 responses of 4,000 tokens with
/// their prompts (OpenRLHF's query strings) is about 20 MB.
pub const DEFAULT_BODY_LIMIT_MIB: usize = 32;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    /// How answers are marked in responses.
    pub style: TagStyle,
    /// What the generation prompts ended with (`Auto`: read off each prompt).
    pub prefill: PrefillMode,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Deadline for scoring one request.
    pub timeout: Duration,
    /// Most responses in one request.
    pub max_batch: usize,
    /// Strings stripped from the end of each response (end-of-sequence and padding tokens).
    pub eos: Vec<String>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
            style: TagStyle::ThinkAnswer,
            prefill: PrefillMode::Auto,
            body_limit: DEFAULT_BODY_LIMIT_MIB * 1024 * 1024,
            // OpenRLHF's client gives up after 180 s.
            timeout: Duration::from_secs(170),
            max_batch: 100_000,
            eos: DEFAULT_EOS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// What the handlers share.
pub struct AppState {
    pub opts: ServeOptions,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(opts: ServeOptions) -> Arc<AppState> {
        Arc::new(AppState {
            opts,
            metrics: Metrics::default(),
        })
    }
}

/// The application: routes, body limit, timeout and metrics.
pub fn router(state: Arc<AppState>) -> Router {
    let backstop = state.opts.timeout + Duration::from_secs(10);
    Router::new()
        .route("/get_reward", post(api::get_reward))
        .route("/v1/score", post(api::score))
        .route("/health", get(api::health))
        .route("/metrics", get(api::metrics))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(state.opts.body_limit))
        // a backstop for slow uploads; scoring has its own deadline with a reason
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            backstop,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

async fn track(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let t = Instant::now();
    state.metrics.start();
    let resp = next.run(req).await;
    state
        .metrics
        .finish(&endpoint, resp.status().as_u16(), t.elapsed());
    resp
}

/// Serve on an already bound listener until `shutdown` completes (then finish the requests in
/// flight and return).
pub async fn serve_listener(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .context("the reward server failed")
}

/// Bind `opts.addr` and serve until `shutdown` completes.
pub async fn serve(
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let listener = TcpListener::bind(opts.addr)
        .await
        .with_context(|| format!("cannot listen on {}", opts.addr))?;
    let addr = listener.local_addr().unwrap_or(opts.addr);
    eprintln!(
        "raif serve-reward: listening on http://{addr} (POST /get_reward, POST /v1/score, GET /health, GET /metrics; style {:?}, prefill {:?})",
        opts.style, opts.prefill
    );
    serve_listener(listener, AppState::new(opts), shutdown).await
}

/// `raif serve-reward` options.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on (use 0.0.0.0:PORT to serve a cluster).
    #[arg(long, default_value = "127.0.0.1:5000")]
    pub addr: SocketAddr,
    /// How answers are marked in the responses.
    #[arg(long, value_enum, default_value_t = TagStyle::ThinkAnswer)]
    pub style: TagStyle,
    /// What the generation prompts end with (auto: `<think>` → open think, an empty closed
    /// think block → no-think, else none).
    #[arg(long, value_enum, default_value_t = PrefillMode::Auto)]
    pub prefill: PrefillMode,
    /// Largest request body, in MiB; a larger one is answered 413 as soon as the limit is
    /// crossed, without buffering more of it.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT_MIB)]
    pub body_limit_mib: usize,
    /// Scoring deadline of one request, in seconds (OpenRLHF's client waits 180 s).
    #[arg(long, default_value_t = 170.0)]
    pub timeout_secs: f64,
    /// Most responses in one request.
    #[arg(long, default_value_t = 100_000)]
    pub max_batch: usize,
    /// Another end-of-sequence string to strip from responses (repeatable; common ones are
    /// stripped already).
    #[arg(long = "eos")]
    pub eos: Vec<String>,
    /// Scoring threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

impl ServeArgs {
    /// The server options these arguments describe.
    pub fn options(&self) -> Result<ServeOptions> {
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0) {
            anyhow::bail!("--timeout-secs must be a positive number of seconds");
        }
        let mut eos: Vec<String> = DEFAULT_EOS.iter().map(|s| s.to_string()).collect();
        eos.extend(self.eos.iter().filter(|e| !e.is_empty()).cloned());
        Ok(ServeOptions {
            addr: self.addr,
            style: self.style,
            prefill: self.prefill,
            body_limit: self.body_limit_mib.saturating_mul(1024 * 1024),
            timeout: Duration::from_secs_f64(self.timeout_secs),
            max_batch: self.max_batch.max(1),
            eos,
        })
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    eprintln!("raif serve-reward: shutting down (finishing requests in flight)");
}

/// Run the server on its own tokio runtime until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> Result<()> {
    let opts = args.options()?;
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot configure the scoring threads")?;
    }
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.build().context("cannot start the tokio runtime")?;
    rt.block_on(serve(opts, shutdown_signal()))
}
