//! A panic while answering a request ends only that request: a handler's
//! panic is answered 500 on a connection that stays open, a response body
//! that panics while streaming ends its own connection, and the process keeps
//! serving and stops with 0 on SIGTERM. Before, the panic unwound through the
//! connection's tracked task, which started a failed shutdown (exit 70).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::process::{Child, Connection, client_runtime, serial};

/// The routes of the server child that panic: `/panic` in its handler,
/// `/panic-body` in its body, after a first chunk.
pub(crate) fn routes() -> Router {
    Router::new()
        .route(
            "/panic",
            get(|| async {
                let empty = std::hint::black_box(Vec::<u8>::new());
                empty[3].to_string()
            }),
        )
        .route(
            "/panic-body",
            get(|| async { Body::new(PanicsAfterOneChunk(0)) }),
        )
}

/// A streaming body that sends one chunk, waits a turn (so that the chunk
/// can be written), and panics on the next read.
struct PanicsAfterOneChunk(u8);

impl http_body::Body for PanicsAfterOneChunk {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0 += 1;
        match self.0 {
            1 => Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(
                b"first\n",
            ))))),
            2 => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            _ => panic!("the stream broke"),
        }
    }
}

#[test]
fn a_panic_in_a_request_ends_that_request_not_the_process() {
    let _serial = serial();
    let mut child = Child::server("0s", "5s");
    let port = child.port;
    client_runtime().block_on(async {
        // Three times on one keep-alive connection: each is answered 500, and
        // the connection stays open for the next request.
        let mut connection = Connection::open(port).await.unwrap();
        for _ in 0..3 {
            let response = connection.get("/panic").await.unwrap();
            assert_eq!(
                (response.status, response.close, response.body.as_str()),
                (500, false, ""),
                "{}",
                child.stderr()
            );
            let response = connection.get("/").await.unwrap();
            assert_eq!((response.status, response.body.as_str()), (200, "hello"));
        }
        // The body's status is sent before it panics: its connection ends
        // after the first chunk, and the next connection is served.
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        stream
            .write_all(b"GET /panic-body HTTP/1.1\r\nhost: test\r\n\r\n")
            .await
            .unwrap();
        let mut cut = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut cut)).await;
        let cut = String::from_utf8_lossy(&cut);
        assert!(read.is_ok(), "the connection is not closed: {cut:?}");
        assert!(
            cut.starts_with("HTTP/1.1 200") && cut.contains("first") && !cut.ends_with("0\r\n\r\n"),
            "a status, the first chunk, no end: {cut:?}"
        );
        let mut connection = Connection::open(port).await.unwrap();
        let response = connection.get("/").await.unwrap();
        assert_eq!((response.status, response.body.as_str()), (200, "hello"));
    });
    assert!(
        child.process.try_wait().unwrap().is_none(),
        "{}",
        child.stderr()
    );
    child.signal("TERM");
    let (status, _) = child.exit(Duration::from_secs(10));
    let stderr = child.stderr();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("tracked task failed"), "{stderr}");
    // The panic hook still reports each panic.
    assert_eq!(stderr.matches("the index is 3").count(), 3, "{stderr}");
    assert_eq!(stderr.matches("the stream broke").count(), 1, "{stderr}");
}
