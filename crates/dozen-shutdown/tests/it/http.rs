//! A load balancer sees start-up and shutdown: `/readyz` answers 503 while
//! starting and again once draining starts, while `/livez` stays 200.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dozen_shutdown::Shutdown;
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_starting_and_draining_and_livez_stays_200() {
    let shutdown = Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(Duration::from_millis(100))
        .with_timeout(Duration::from_secs(5))
        .with_starting(true)
        .build()
        .unwrap();
    let app: axum::Router = dozen_shutdown::axum::health_routes(&shutdown);
    async fn get(app: &axum::Router, path: &str) -> (StatusCode, String) {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }
    let check = async |path: &str, status: StatusCode, body: &str| {
        assert_eq!(get(&app, path).await, (status, body.to_owned()), "{path}");
    };
    check("/readyz", StatusCode::SERVICE_UNAVAILABLE, "starting").await;
    check("/livez", StatusCode::OK, "live").await;
    shutdown.mark_ready();
    check("/readyz", StatusCode::OK, "ready").await;
    check("/livez", StatusCode::OK, "live").await;
    shutdown.trigger();
    check("/readyz", StatusCode::SERVICE_UNAVAILABLE, "draining").await;
    check("/livez", StatusCode::OK, "live").await;
    shutdown.stopping().await;
    check("/readyz", StatusCode::SERVICE_UNAVAILABLE, "stopping").await;
    check("/livez", StatusCode::OK, "live").await;
}

/// An upgraded connection (a WebSocket: hyper hands its socket to the app) is still a
/// connection: it keeps its place under `HTTP_MAX_CONNECTIONS` and its tracked task until
/// its socket closes, so that a flood of upgrades cannot pass the limit and the drain waits
/// for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_connection_keeps_its_place_until_its_socket_closes() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let shutdown = Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(Duration::ZERO)
        .with_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let upgrade = |mut req: axum::extract::Request| async move {
        let on_upgrade = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>();
        tokio::spawn(async move {
            // Echo until the client closes: the app owns the socket now.
            if let Some(Ok(upgraded)) = match on_upgrade {
                Some(on) => Some(on.await),
                None => None,
            } {
                let mut io = hyper_util::rt::TokioIo::new(upgraded);
                let mut buffer = [0; 64];
                while let Ok(n @ 1..) = io.read(&mut buffer).await {
                    if io.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
            }
        });
        axum::response::Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("connection", "upgrade")
            .header("upgrade", "echo")
            .body(Body::empty())
            .unwrap()
    };
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "ok" }))
        .route("/echo", axum::routing::get(upgrade));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    shutdown.spawn(
        "http server",
        dozen_shutdown::axum::serve(listener, app, shutdown.clone()).with_max_connections(1),
    );
    // A plain request: whether this connection was served.
    let served = async || {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let _ = stream
            .write_all(b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
            .await;
        let mut response = Vec::new();
        let _ =
            tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await;
        String::from_utf8_lossy(&response).starts_with("HTTP/1.1 200")
    };
    let connections = || {
        shutdown
            .running_tasks()
            .into_iter()
            .filter(|t| t.starts_with("http connection from"))
            .count()
    };
    assert!(served().await, "the limit leaves room for one");

    let mut upgraded = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    upgraded
        .write_all(b"GET /echo HTTP/1.1\r\nhost: t\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0; 1];
        assert_eq!(upgraded.read(&mut byte).await.unwrap(), 1, "{head:?}");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    upgraded.write_all(b"ping").await.unwrap();
    let mut echoed = [0; 4];
    upgraded.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"ping");

    // The upgraded socket holds the only place, and its task is tracked.
    assert!(
        !served().await,
        "a second connection beside the upgraded one was served"
    );
    assert_eq!(connections(), 1, "{:?}", shutdown.running_tasks());

    // Closed, it frees both.
    drop(upgraded);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while connections() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            shutdown.running_tasks()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        served().await,
        "the place of the closed socket is free again"
    );
    shutdown.trigger();
    assert_eq!(shutdown.wait().await, dozen_shutdown::Outcome::Clean);
}
