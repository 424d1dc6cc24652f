//! Request logs: `httpRequest.requestUrl` and the message never carry user info or the value of a
//! secret query parameter (`dozen_redact::is_secret_param`), and every request gets exactly one
//! line, including one whose future is dropped before it answered (status 499, as nginx logs a
//! client that went away).

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};

use axum::Router;
use axum::routing::get;
use dozen_log::http::RequestLogLayer;
use tower_layer::Layer as _;
use tower_service::Service as _;
use tracing_subscriber::prelude::*;

use crate::{Capture, parse_strict};

/// Runs one request through the layer in front of `app`, polling its future once and then
/// either finishing it (`finish`) or dropping it, and returns the lines logged.
fn run(
    app: Router,
    request: http::Request<axum::body::Body>,
    finish: bool,
) -> Vec<serde_json::Value> {
    logged(|_| async move {
        let mut svc = RequestLogLayer::new().layer(app);
        std::future::poll_fn(|cx| {
            tower_service::Service::<http::Request<axum::body::Body>>::poll_ready(&mut svc, cx)
        })
        .await
        .unwrap();
        let fut = svc.call(request);
        if finish {
            let response: Result<_, Infallible> = fut.await;
            drop(response);
        } else {
            let mut fut = pin!(fut);
            let mut cx = Context::from_waker(Waker::noop());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
        }
    })
}

/// Runs `body` on a runtime under the JSON layer and returns the lines logged.
fn logged<F: Future<Output = ()>>(body: impl FnOnce(Capture) -> F) -> Vec<serde_json::Value> {
    let capture = Capture::default();
    let layer = dozen_log::json_layer().with_writer(capture.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        rt.block_on(body(capture.clone()));
    });
    capture
        .take()
        .lines()
        .map(|l| parse_strict(l).unwrap())
        .collect()
}

fn app() -> Router {
    Router::new()
        .route("/todos", get(|| async { "[]" }))
        .route("/proxy/{*rest}", get(|| async { "proxied" }))
        .route("/slow", get(std::future::pending::<&'static str>))
}

fn get_request(uri: &str) -> http::Request<axum::body::Body> {
    http::Request::get(uri)
        .header("host", "api.test")
        .body(axum::body::Body::empty())
        .unwrap()
}

#[test]
fn secret_query_parameters_and_user_info_never_reach_the_request_line() {
    fn check(uri: &str, expected_url: &str, hidden: &[&str]) {
        let lines = run(app(), get_request(uri), true);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["httpRequest"]["requestUrl"], expected_url, "{uri}");
        let text = line.to_string();
        for h in hidden {
            assert!(!text.contains(h), "{h} in {text}");
        }
        assert_eq!(line["message"], format!("GET {expected_url} 200"));
    }
    check(
        "/todos?page=2&access_token=tok-abcdef-123",
        "http://api.test/todos?page=2&access_token=***",
        &["tok-abcdef-123"],
    );
    check(
        "/todos?password=hunter22&api_key=K3y-value&sig=s1gnature&code=0a0a0a",
        "http://api.test/todos?password=***&api_key=***&sig=***&code=***",
        &["hunter22", "K3y-value", "s1gnature", "0a0a0a"],
    );
    check(
        "http://alice:pa55word@api.test/todos?Token=abc123xyz",
        "http://api.test/todos?Token=***",
        &["alice", "pa55word", "abc123xyz"],
    );
    check("/todos?page=2", "http://api.test/todos?page=2", &[]);
    // A URL inside the path or the query loses its user info in the message too.
    check(
        "/proxy/https://bob:pw-9Zq@evil.test/x",
        "http://api.test/proxy/https://***@evil.test/x",
        &["bob", "pw-9Zq"],
    );
    check(
        "/todos?next=https://carol:pw-8Yr@other.test/&password=p4ss",
        "http://api.test/todos?next=https://***@other.test/&password=***",
        &["carol", "pw-8Yr", "p4ss"],
    );
}

#[test]
fn the_referer_loses_its_secrets_too() {
    // An OAuth callback's code or token comes back in the next request's Referer.
    for (referer, expected, hidden) in [
        (
            "https://app.test/callback?code=0a0a0a0a&state=xyz",
            "https://app.test/callback?code=***&state=xyz",
            "0a0a0a0a",
        ),
        (
            "https://bob:pa55w0rd@app.test/x#access_token=frag-secret",
            "https://***@app.test/x#***",
            "pa55w0rd",
        ),
        // A lone user info in an https URL is often a token: it is hidden too.
        (
            "https://ghp_T0kenAsUserName1234@github.com/org/repo",
            "https://***@github.com/org/repo",
            "ghp_T0kenAsUserName1234",
        ),
        // So is a user name, and one in a URL inside the query.
        (
            "https://bob:pw1@app.test/?next=https://carol@other.test/",
            "https://***@app.test/?next=https://***@other.test/",
            "carol",
        ),
        (
            "/relative?access_token=rel-secret-1",
            "/relative?access_token=***",
            "rel-secret-1",
        ),
        (
            "https://app.test/page?x=1",
            "https://app.test/page?x=1",
            "\u{0}",
        ),
    ] {
        let request = http::Request::get("/todos")
            .header("host", "api.test")
            .header("referer", referer)
            .body(axum::body::Body::empty())
            .unwrap();
        let lines = run(app(), request, true);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["httpRequest"]["referer"], expected, "{referer}");
        assert!(
            !lines[0].to_string().contains(hidden),
            "{hidden} in {}",
            lines[0]
        );
    }
}

mod property {
    //! Secrets at random positions of random query strings never reach the request line.

    use proptest::prelude::*;

    use super::{app, get_request, run};

    fn name() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "password",
            "sslpassword",
            "pass",
            "pwd",
            "secret",
            "token",
            "access_token",
            "api_key",
            "key",
            "sig",
            "signature",
            "auth",
            "code",
            "Client_Secret",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn a_secret_query_value_never_reaches_the_line(
            before in prop::collection::vec(("[a-z]{1,8}", "[a-z0-9]{0,8}"), 0..4),
            after in prop::collection::vec(("[a-z]{1,8}", "[a-z0-9]{0,8}"), 0..4),
            secret_name in name(),
            secret in "[A-Za-z0-9_~.-]{8,24}",
        ) {
            let harmless = |pairs: &[(String, String)]| -> Vec<String> {
                pairs
                    .iter()
                    .filter(|(k, _)| !dozen_redact::is_secret_param(k))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect()
            };
            let mut params = harmless(&before);
            params.push(format!("{secret_name}={secret}"));
            params.extend(harmless(&after));
            let uri = format!("/todos?{}", params.join("&"));
            let lines = run(app(), get_request(&uri), true);
            prop_assert_eq!(lines.len(), 1);
            let text = lines[0].to_string();
            prop_assert!(
                !before.iter().chain(&after).any(|(_, v)| v.contains(&secret)),
                "the generator put the secret elsewhere"
            );
            prop_assert!(!text.contains(&secret), "{} in {}", secret, text);
        }
    }
}

#[test]
fn a_dropped_request_still_gets_one_line_with_status_499() {
    let lines = run(
        app(),
        get_request("/slow?access_token=tok-abcdef-123"),
        false,
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["httpRequest"]["status"], 499, "{line}");
    assert_eq!(line["severity"], "WARNING");
    assert_eq!(
        line["httpRequest"]["requestUrl"],
        "http://api.test/slow?access_token=***"
    );
}

#[test]
fn a_client_that_goes_away_before_the_response_gets_a_499_line() {
    let lines = logged(|capture| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app().layer(RequestLogLayer::new()))
                .await
                .unwrap();
        });
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(
            &mut stream,
            b"GET /slow HTTP/1.1\r\nHost: api.test\r\n\r\n",
        )
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        drop(stream);
        // The server notices the closed connection and drops the request's future.
        for _ in 0..500 {
            if capture.0.lock().unwrap().ends_with(b"\n") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["httpRequest"]["status"], 499);
    assert_eq!(
        lines[0]["httpRequest"]["requestUrl"],
        "http://api.test/slow"
    );
}
