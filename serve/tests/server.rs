//! The reward server on an ephemeral loopback port: OpenRLHF's request/response shapes, the
//! breakdown endpoint, the 4xx paths, metrics, and agreement with `raif check` / `raif_reward`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use raif_serve::api::{GetRewardResponse, ScoreResponse};
use raif_serve::{synth, AppState, ServeOptions};
use raif_verify::reward::{raif_reward, Prefill, RewardConfig, TagStyle};
use raif_verify::Constraint;
use serde_json::{json, Value};
use tokio::sync::oneshot;

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

struct Server {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    client: HttpClient,
}

impl Server {
    async fn start(opts: ServeOptions) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(opts);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(raif_serve::serve_listener(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Server {
            addr,
            state,
            stop: Some(tx),
            task,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn request(&self, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let req = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let resp = self.client.request(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, bytes.to_vec())
    }

    async fn post(&self, path: &str, v: &Value) -> (StatusCode, Value) {
        let (s, b) = self
            .request(Method::POST, path, serde_json::to_vec(v).unwrap())
            .await;
        let v = serde_json::from_slice(&b)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&b).into()));
        (s, v)
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.await.unwrap().unwrap();
    }
}

const PROMPT: &str = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nSay hello without commas.<|im_end|>\n<|im_start|>assistant\n<think>\n";

fn ifeval_label(ids: &[&str], kwargs: Value) -> Value {
    json!({"instruction_id_list": ids, "kwargs": kwargs})
}

#[tokio::test]
async fn openrlhf_get_reward_shapes_and_values() {
    let srv = Server::start(ServeOptions::default()).await;
    let label = ifeval_label(
        &["punctuation:no_comma", "length_constraints:number_words"],
        json!([{}, {"relation": "at least", "num_words": 3}]),
    )
    .to_string();
    let responses = [
        "plan\n</think>\n<answer>Hello there my friend</answer><|im_end|>", // all hold: 2 + 1
        "plan\n</think>\n<answer>Hello, friend</answer><|im_end|>",         // none: −2 + 1
        "plan\n</think>\n<answer>Hello, there my friend</answer>",          // 1 of 2: 0.5 + 1
        "no tags at all",                                                   // bad format: −2 − 1
    ];
    let query: Vec<String> = responses.iter().map(|r| format!("{PROMPT}{r}")).collect();
    let body = json!({
        "query": query,
        "prompts": vec![PROMPT; responses.len()],
        "labels": vec![label.clone(); responses.len()],
        "metas": [{}, {}, {}, {}],
    });
    let (status, v) = srv.post("/get_reward", &body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r: GetRewardResponse = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(r.rewards, vec![3.0, -1.0, 1.5, -3.0]);
    assert_eq!(r.scores, vec![1.0, 0.0, 0.5, 0.0]);
    for k in ["answer_score", "format_score", "satisfied_fraction"] {
        assert_eq!(r.extra_logs[k].len(), 4, "{k}");
    }
    assert_eq!(r.extra_logs["format_score"], vec![1.0, 1.0, 1.0, -1.0]);

    // the same numbers as raif_reward on the response part, with the prompt's prefill
    let tree: Constraint = raif_serve::label::parse_label(&Value::String(label)).unwrap();
    let cfg = RewardConfig {
        style: TagStyle::ThinkAnswer,
        prefill: Prefill::OpenThink,
    };
    for (i, resp) in responses.iter().enumerate() {
        let resp = resp.trim_end_matches("<|im_end|>");
        let direct = raif_reward(resp, PROMPT, &tree, &cfg, None).unwrap();
        assert_eq!(r.rewards[i], direct.reward, "response {i}");
    }

    // the old protocol without prompts: the whole query is the response
    let body = json!({"query": ["<think>r</think><answer>Hi</answer>"], "labels": [{"type":"rule","id":"punctuation:no_comma"}]});
    let (status, v) = srv.post("/get_reward", &body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["rewards"], json!([3.0]));
    srv.stop().await;
}

#[tokio::test]
async fn breakdown_endpoint() {
    let srv = Server::start(ServeOptions::default()).await;
    let tree = json!({"type":"chain","separator":"***","steps":[
        {"type":"rule","id":"keywords:existence","kwargs":{"keywords":["hello"]}},
        {"type":"rule","id":"punctuation:no_comma"}
    ]});
    let body = json!({"items": [
        {"prompt": "Two parts.", "response": "<think>two parts</think><answer>hello there *** a, b</answer>", "constraints": tree},
        {"prompt": "Two parts.", "response": "<think>reasoning process here</think><answer>x</answer>", "label": tree.to_string()},
    ]});
    let (status, v) = srv.post("/v1/score", &body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r: ScoreResponse = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(r.results.len(), 2);
    let first = &r.results[0];
    let b = first.reward.breakdown.as_ref().expect("scored");
    assert_eq!((b.satisfied, b.total), (1, 2));
    assert_eq!(b.leaves.len(), 2);
    assert!(b.leaves[0].pass && !b.leaves[1].pass);
    assert!(
        b.leaves[1].reason.contains("comma"),
        "{}",
        b.leaves[1].reason
    );
    assert_eq!(first.reward.reward, 1.5);
    assert_eq!(first.score, 0.5);
    assert_eq!(
        v["results"][0]["breakdown"]["leaves"][1]["what"],
        "rule:punctuation:no_comma"
    );
    let second = &r.results[1];
    assert!(second.reward.breakdown.is_none());
    assert!(!second.reward.extracted.scorable);
    assert_eq!(second.reward.reward, -1.0);

    // style override: plain text is the answer
    let body = json!({"style": "plain", "items": [
        {"response": "HELLO", "constraints": {"type":"rule","id":"keywords:existence","kwargs":{"keywords":["hello"]}}}]});
    let (status, v) = srv.post("/v1/score", &body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["results"][0]["answer_score"], json!(2.0));
    srv.stop().await;
}

#[tokio::test]
async fn client_errors_are_4xx_with_a_reason() {
    let srv = Server::start(ServeOptions {
        body_limit: 4096,
        ..ServeOptions::default()
    })
    .await;
    let reason = |v: &Value| v["error"].as_str().unwrap_or_default().to_string();

    // oversized body
    let big = json!({"query": ["x".repeat(10_000)], "labels": [{"type":"rule","id":"punctuation:no_comma"}]});
    let (s, v) = srv.post("/get_reward", &big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(reason(&v).contains("4096"), "{v}");

    // malformed JSON
    let (s, b) = srv
        .request(Method::POST, "/get_reward", b"{\"query\": [".to_vec())
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert!(reason(&v).contains("malformed JSON"), "{v}");
    let (s, _) = srv
        .request(Method::POST, "/v1/score", b"not json".to_vec())
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // unknown instruction id, in a label and in a breakdown item
    let body = json!({"query": ["a"], "prompts": [""], "labels": [ifeval_label(&["no_such:id"], json!([{}])).to_string()]});
    let (s, v) = srv.post("/get_reward", &body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        reason(&v).contains("labels[0]") && reason(&v).contains("unknown instruction id"),
        "{v}"
    );
    let body = json!({"items": [{"response": "a", "constraints": {"type":"rule","id":"nope"}}]});
    let (s, v) = srv.post("/v1/score", &body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(reason(&v).contains("unknown instruction id"), "{v}");

    // missing kwarg, judge leaf, shape errors
    let cases = [
        (
            json!({"query": ["a"], "labels": [ifeval_label(&["length_constraints:number_words"], json!([{}]))]}),
            "missing",
        ),
        (
            json!({"query": ["a"], "labels": [{"type":"judge","question":"ok?"}]}),
            "judge",
        ),
        (json!({"query": ["a"]}), "labels"),
        (
            json!({"query": ["a", "b"], "labels": [{"type":"rule","id":"punctuation:no_comma"}]}),
            "1 entries for 2",
        ),
        (
            json!({"query": ["a"], "prompts": ["zzz"], "labels": [{"type":"rule","id":"punctuation:no_comma"}]}),
            "does not contain",
        ),
        (json!({"query": "a", "labels": []}), "shape"),
    ];
    for (body, needle) in cases {
        let (s, v) = srv.post("/get_reward", &body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {v}");
        assert!(reason(&v).contains(needle), "{body} → {v}");
    }

    // unknown endpoint
    let (s, v) = srv.post("/nope", &json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!reason(&v).is_empty());

    // the counts show up in /metrics
    let (s, b) = srv.request(Method::GET, "/metrics", Vec::new()).await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(b).unwrap();
    assert!(
        text.contains("raif_http_requests_total{endpoint=\"/get_reward\",status=\"413\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("raif_http_requests_total{endpoint=\"/get_reward\",status=\"422\"}"),
        "{text}"
    );
    assert!(
        text.contains(
            "raif_http_request_duration_seconds_bucket{endpoint=\"/get_reward\",le=\"+Inf\"}"
        ),
        "{text}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn timeout_answers_503_with_a_reason() {
    let srv = Server::start(ServeOptions {
        timeout: std::time::Duration::from_millis(1),
        ..ServeOptions::default()
    })
    .await;
    let mut rng = synth::Rng::new(7);
    let n = 2000;
    let query: Vec<String> = (0..n).map(|_| synth::answer(&mut rng)).collect();
    let label = ifeval_label(
        &[
            "detectable_content:postscript",
            "length_constraints:number_sentences",
        ],
        json!([{"postscript_marker": "P.S."}, {"relation": "at least", "num_sentences": 5}]),
    );
    let body = json!({"query": query, "labels": vec![label; n]});
    let (s, v) = srv.post("/get_reward", &body).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        v["error"].as_str().unwrap_or_default().contains("timeout"),
        "{v}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn health_and_metrics() {
    let srv = Server::start(ServeOptions::default()).await;
    let (s, b) = srv.request(Method::GET, "/health", Vec::new()).await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["status"], "ok");
    assert!(v["instruction_ids"].as_u64().unwrap() >= 83);
    let body = json!({"query": ["<think>r</think><answer>Hi</answer>"], "labels": [{"type":"rule","id":"punctuation:no_comma"}]});
    let (s, _) = srv.post("/get_reward", &body).await;
    assert_eq!(s, StatusCode::OK);
    let (_, b) = srv.request(Method::GET, "/metrics", Vec::new()).await;
    let text = String::from_utf8(b).unwrap();
    assert!(
        text.contains("raif_http_requests_total{endpoint=\"/get_reward\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("raif_http_requests_total{endpoint=\"/health\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("raif_responses_scored_total 1"), "{text}");
    assert_eq!(srv.state.metrics.responses_scored(), 1);
    srv.stop().await;
}

fn ifeval_input() -> PathBuf {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ifeval/input_data.jsonl");
    assert!(
        p.exists(),
        "{} is absent: this test reads the real IFEval prompts from the shared data folder \
         beside the checkout",
        p.display()
    );
    p
}

/// On the real IFEval prompts with synthetic responses, the server's per-instruction verdicts
/// equal `raif check`'s strict verdicts, and its rewards equal `raif_reward`.
#[tokio::test]
async fn verdicts_equal_raif_check_on_ifeval_prompts() {
    let path = ifeval_input();
    let srv = Server::start(ServeOptions::default()).await;
    let mut rng = synth::Rng::new(42);
    let rows: Vec<Value> = BufReader::new(std::fs::File::open(&path).unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let rows = &rows[..rows.len().min(200)];
    let mut check_input = String::new();
    let mut items = Vec::new();
    for row in rows {
        let answer = synth::answer(&mut rng);
        let mut r = row.clone();
        r["response"] = Value::String(answer.clone());
        check_input.push_str(&r.to_string());
        check_input.push('\n');
        items.push(json!({
            "prompt": row["prompt"],
            "response": answer,
            "constraints": {"instruction_id_list": row["instruction_id_list"], "kwargs": row["kwargs"]},
        }));
    }
    let (s, v) = srv
        .post("/v1/score", &json!({"style": "plain", "items": items}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got: ScoreResponse = serde_json::from_value(v).unwrap();

    let mut out = Vec::new();
    raif_verify::check::check_stream("ifeval", check_input.as_bytes(), &mut out, None).unwrap();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows.len());
    let mut compared = 0;
    for (i, (line, res)) in lines.iter().zip(&got.results).enumerate() {
        let strict: Vec<bool> = serde_json::from_value(line["strict"].clone()).unwrap();
        let b = res
            .reward
            .breakdown
            .as_ref()
            .expect("plain answers are scorable");
        let leaves: Vec<bool> = b.leaves.iter().map(|l| l.pass).collect();
        assert_eq!(leaves, strict, "row {i}: {line}");
        let cfg = RewardConfig {
            style: TagStyle::Plain,
            prefill: Prefill::None,
        };
        let tree = raif_serve::label::parse_label(&items[i]["constraints"]).unwrap();
        let direct = raif_reward(
            items[i]["response"].as_str().unwrap(),
            rows[i]["prompt"].as_str().unwrap(),
            &tree,
            &cfg,
            None,
        )
        .unwrap();
        assert_eq!(res.reward.reward, direct.reward, "row {i}");
        compared += strict.len();
    }
    eprintln!(
        "compared {compared} instruction verdicts on {} IFEval prompts",
        rows.len()
    );
    srv.stop().await;
}

/// Requests in flight when the shutdown signal comes are answered; then `serve` returns.
#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let srv = Server::start(ServeOptions::default()).await;
    let mut rng = synth::Rng::new(3);
    let n = 300;
    let query: Vec<String> = (0..n).map(|_| synth::answer(&mut rng)).collect();
    let label = json!({"type":"rule","id":"detectable_format:number_bullet_lists","kwargs":{"num_bullets":2}});
    let body = serde_json::to_vec(&json!({"query": query, "labels": vec![label; n]})).unwrap();
    let addr = srv.addr;
    let client = srv.client.clone();
    let inflight = tokio::spawn(async move {
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("http://{addr}/get_reward"))
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let resp = client.request(req).await.unwrap();
        let s = resp.status();
        let b = resp.into_body().collect().await.unwrap().to_bytes();
        (s, b)
    });
    let t = std::time::Instant::now();
    while srv.state.metrics.in_flight() < 1 && t.elapsed().as_secs() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    srv.stop().await;
    let (s, b) = inflight.await.unwrap();
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["rewards"].as_array().unwrap().len(), n);
}

/// `integrations/verl_reward.py` (verl's custom_reward_function) against the server.
#[tokio::test]
async fn verl_reward_function_talks_to_the_server() {
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output();
    assert!(
        python.map(|o| o.status.success()).unwrap_or(false),
        "python3 is not installed: this test runs integrations/verl_reward.py (.ci/run installs it)"
    );
    let srv = Server::start(ServeOptions::default()).await;
    let url = format!("http://{}", srv.addr);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../integrations");
    let script = r#"
import json, sys
import verl_reward as v
gt = json.dumps({"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]})
ok = v.compute_score("ifeval", "<think>plan</think><answer>Hello world</answer>", gt)
bad = v.compute_score("ifeval", "<think>plan</think><answer>Hello, world</answer>", {"type": "rule", "id": "punctuation:no_comma"})
try:
    v.compute_score("ifeval", "x", json.dumps({"instruction_id_list": ["no:such"]}))
    refused = None
except v.RaifRewardError as e:
    refused = str(e)
print(json.dumps({"ok": ok, "bad": bad, "refused": refused}))
"#;
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .env("RAIF_REWARD_URL", url)
            .env("RAIF_REWARD_RETRIES", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"]["score"], json!(3.0), "{v}");
    assert_eq!(v["ok"]["satisfied"], json!(1));
    assert_eq!(v["bad"]["score"], json!(-1.0), "{v}");
    let refused = v["refused"].as_str().unwrap_or_default();
    assert!(
        refused.contains("422") && refused.contains("unknown instruction id"),
        "{v}"
    );
    srv.stop().await;
}
