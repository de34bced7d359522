//! The handlers.
//!
//! ## OpenRLHF's remote reward protocol (`POST /get_reward`)
//!
//! Read in OpenRLHF's code (`openrlhf/utils/remote_rm_utils.py`, the `OpenRLHF/OpenRLHF`
//! repository): the trainer posts, per reward server,
//!
//! ```text
//! remote_rm_fn_ray(api_url, queries, prompts, labels):
//!     request_api_wrapper(api_url, {"query": queries, "prompts": prompts, "labels": labels})
//! ```
//!
//! with `requests.post(url, json=data, timeout=180)`, `raise_for_status()` and up to five
//! tries; the whole JSON answer is handed to `update_samples_with_rewards`
//! (`openrlhf/trainer/ppo_utils/experience_maker.py`), which reads `info["rewards"]` (required),
//! `info["scores"]` if present ("Reward values in range [0,1] used for dynamic filtering", per
//! `examples/python/reward_func.py`; otherwise the rewards are used) and `info["extra_logs"]` if
//! present (a dict of per-sample lists, concatenated with `torch.cat` and logged). `query` is
//! prompt + response decoded with `skip_special_tokens=False`; `prompts` is the templated prompt;
//! `labels` is the dataset's `--label_key` value. Some forks add `metas`; extra fields are
//! ignored here. Older servers (`openrlhf/cli/serve_rm.py`) answered `{"rewards": [...]}` only.
//!
//! We answer `{"rewards": [r], "scores": [s], "extra_logs": {"answer_score": [...],
//! "format_score": [...], "satisfied_fraction": [...]}}` with r the RAIF reward in [−3, 3] and s
//! the fraction of constraints satisfied (0 when the answer is not scorable).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use raif_verify::reward::{Prefill, Reward, TagStyle};
use raif_verify::{registry, Constraint};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::label::parse_label;
use crate::score::{
    response_of, score_batch, strip_eos, unit_score, Item, PrefillMode, ScoreError,
};
use crate::AppState;

/// An error answer: a status and `{"error": reason}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: String,
}

impl ApiError {
    fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        ApiError {
            status,
            reason: reason.into(),
        }
    }
    fn unprocessable(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, reason)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.reason }))).into_response()
    }
}

/// The body, or 413 / 400 with a reason.
fn body(state: &AppState, b: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    b.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body larger than the limit of {} bytes (raise --body-limit-mib or send smaller batches)",
                    state.opts.body_limit
                ),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, format!("cannot read the request body: {}", r.body_text()))
        }
    })
}

/// Parse JSON: syntax errors are 400, a wrong shape 422.
fn parse<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}"))
            }
            Category::Data => ApiError::unprocessable(format!("unexpected JSON shape: {e}")),
        }
    })
}

/// Parse labels once per distinct label (the samples of a group share theirs).
struct LabelCache(HashMap<String, Constraint>);

impl LabelCache {
    fn get(&mut self, field: &str, i: usize, v: &Value) -> Result<Constraint, ApiError> {
        let key = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let Some(t) = self.0.get(&key) {
            return Ok(t.clone());
        }
        let t =
            parse_label(v).map_err(|e| ApiError::unprocessable(format!("{field}[{i}]: {e}")))?;
        self.0.insert(key, t.clone());
        Ok(t)
    }
}

/// Score in a blocking thread, under the per-request deadline.
async fn run_scoring<T: Send + 'static>(
    state: &Arc<AppState>,
    work: impl FnOnce(Instant, &AtomicBool) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let timeout = state.opts.timeout;
    let deadline = Instant::now() + timeout;
    let cancel = Arc::new(AtomicBool::new(false));
    let c2 = cancel.clone();
    let handle = tokio::task::spawn_blocking(move || work(deadline, &c2));
    match tokio::time::timeout(timeout, handle).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("scoring failed: {e}"),
        )),
        Err(_) => {
            cancel.store(true, Ordering::Relaxed);
            Err(timeout_error(timeout))
        }
    }
}

fn timeout_error(t: std::time::Duration) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "scoring took longer than the per-request timeout of {:.1} s (send smaller batches or raise --timeout-secs)",
            t.as_secs_f64()
        ),
    )
}

fn score_error(e: ScoreError, timeout: std::time::Duration) -> ApiError {
    match e {
        ScoreError::Timeout => timeout_error(timeout),
        ScoreError::Item { index, reason } => {
            ApiError::unprocessable(format!("item {index}: {reason}"))
        }
    }
}

/// OpenRLHF's request.
#[derive(Deserialize)]
pub struct GetRewardRequest {
    pub query: Vec<String>,
    #[serde(default)]
    pub prompts: Option<Vec<String>>,
    #[serde(default)]
    pub labels: Option<Vec<Value>>,
}

/// OpenRLHF's response.
#[derive(Serialize, Deserialize, Debug)]
pub struct GetRewardResponse {
    pub rewards: Vec<f64>,
    pub scores: Vec<f64>,
    pub extra_logs: HashMap<String, Vec<f64>>,
}

/// `POST /get_reward`.
pub async fn get_reward(
    State(state): State<Arc<AppState>>,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<GetRewardResponse>, ApiError> {
    let bytes = body(&state, b)?;
    let st = state.clone();
    let out = run_scoring(&state, move |deadline, cancel| {
        let req: GetRewardRequest = parse(&bytes)?;
        drop(bytes);
        let n = req.query.len();
        if n > st.opts.max_batch {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{n} queries in one request (at most {})", st.opts.max_batch),
            ));
        }
        let labels = req.labels.ok_or_else(|| {
            ApiError::unprocessable(
                "field `labels` is missing: each query needs its record's constraints \
                 (OpenRLHF: --label_key with the constraints column)",
            )
        })?;
        if labels.len() != n {
            return Err(ApiError::unprocessable(format!(
                "`labels` has {} entries for {n} queries",
                labels.len()
            )));
        }
        if let Some(p) = &req.prompts {
            if p.len() != n {
                return Err(ApiError::unprocessable(format!(
                    "`prompts` has {} entries for {n} queries",
                    p.len()
                )));
            }
        }
        let mut cache = LabelCache(HashMap::new());
        let mut items = Vec::with_capacity(n);
        for (i, (query, label)) in req.query.iter().zip(&labels).enumerate() {
            let tree = cache.get("labels", i, label)?;
            let prompt = req.prompts.as_ref().map(|p| p[i].as_str()).unwrap_or("");
            let response = response_of(query, prompt).ok_or_else(|| {
                ApiError::unprocessable(format!(
                    "query[{i}] does not contain prompts[{i}] (the response is the query after the prompt)"
                ))
            })?;
            items.push(Item {
                prompt: prompt.to_string(),
                response: strip_eos(response, &st.opts.eos).to_string(),
                tree,
                prefill: st.opts.prefill.resolve(prompt),
            });
        }
        let rewards = score_batch(&items, st.opts.style, deadline, cancel)
            .map_err(|e| score_error(e, st.opts.timeout))?;
        st.metrics.scored(rewards.len());
        let mut logs: HashMap<String, Vec<f64>> = HashMap::new();
        for r in &rewards {
            logs.entry("answer_score".into())
                .or_default()
                .push(r.answer_score);
            logs.entry("format_score".into())
                .or_default()
                .push(r.format_score);
            logs.entry("satisfied_fraction".into())
                .or_default()
                .push(unit_score(r));
        }
        Ok(GetRewardResponse {
            rewards: rewards.iter().map(|r| r.reward).collect(),
            scores: rewards.iter().map(unit_score).collect(),
            extra_logs: logs,
        })
    })
    .await?;
    Ok(Json(out))
}

/// One item of `POST /v1/score`.
#[derive(Deserialize)]
pub struct ScoreItem {
    /// The prompt (checked by Selection guards; its end tells the prefill in `auto` mode).
    #[serde(default)]
    pub prompt: String,
    /// The response (what the model generated after the prompt).
    #[serde(default)]
    pub response: Option<String>,
    /// Or prompt + response, as OpenRLHF sends it.
    #[serde(default)]
    pub query: Option<String>,
    /// The constraints, in any label form (see [`crate::label`]).
    #[serde(alias = "label")]
    pub constraints: Value,
}

/// `POST /v1/score`'s request.
#[derive(Deserialize)]
pub struct ScoreRequest {
    pub items: Vec<ScoreItem>,
    /// Overrides the server's tag style.
    #[serde(default)]
    pub style: Option<TagStyle>,
    /// Overrides the server's prefill mode.
    #[serde(default)]
    pub prefill: Option<PrefillMode>,
}

/// One item's result: the reward with its parts and every leaf's verdict.
#[derive(Serialize, Deserialize, Debug)]
pub struct ScoreResult {
    #[serde(flatten)]
    pub reward: Reward,
    /// Fraction of constraints satisfied (0 when not scorable), OpenRLHF's `scores`.
    pub score: f64,
    /// The prefill the response was read with.
    pub prefill: Prefill,
}

/// `POST /v1/score`'s response.
#[derive(Serialize, Deserialize, Debug)]
pub struct ScoreResponse {
    pub results: Vec<ScoreResult>,
}

/// `POST /v1/score`.
pub async fn score(
    State(state): State<Arc<AppState>>,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<ScoreResponse>, ApiError> {
    let bytes = body(&state, b)?;
    let st = state.clone();
    let out = run_scoring(&state, move |deadline, cancel| {
        let req: ScoreRequest = parse(&bytes)?;
        drop(bytes);
        if req.items.len() > st.opts.max_batch {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "{} items in one request (at most {})",
                    req.items.len(),
                    st.opts.max_batch
                ),
            ));
        }
        let style = req.style.unwrap_or(st.opts.style);
        let mode = req.prefill.unwrap_or(st.opts.prefill);
        let mut cache = LabelCache(HashMap::new());
        let mut items = Vec::with_capacity(req.items.len());
        for (i, it) in req.items.iter().enumerate() {
            let tree = cache.get("items", i, &it.constraints)?;
            let response = match (&it.response, &it.query) {
                (Some(r), _) => r.as_str(),
                (None, Some(q)) => response_of(q, &it.prompt).ok_or_else(|| {
                    ApiError::unprocessable(format!(
                        "items[{i}]: `query` does not contain `prompt`"
                    ))
                })?,
                (None, None) => {
                    return Err(ApiError::unprocessable(format!(
                        "items[{i}]: needs `response` (or `query`)"
                    )))
                }
            };
            items.push(Item {
                prompt: it.prompt.clone(),
                response: strip_eos(response, &st.opts.eos).to_string(),
                tree,
                prefill: mode.resolve(&it.prompt),
            });
        }
        let rewards = score_batch(&items, style, deadline, cancel)
            .map_err(|e| score_error(e, st.opts.timeout))?;
        st.metrics.scored(rewards.len());
        Ok(ScoreResponse {
            results: rewards
                .into_iter()
                .zip(&items)
                .map(|(r, it)| ScoreResult {
                    score: unit_score(&r),
                    reward: r,
                    prefill: it.prefill,
                })
                .collect(),
        })
    })
    .await?;
    Ok(Json(out))
}

/// `GET /health`.
pub async fn health(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "instruction_ids": registry::all_ids().len(),
        "responses_scored": state.metrics.responses_scored(),
    }))
}

/// `GET /metrics` (Prometheus text format 0.0.4).
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// Anything else.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint (POST /get_reward, POST /v1/score, GET /health, GET /metrics)",
    )
}
