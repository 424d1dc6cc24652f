//! Request bodies are bounded by the server's `HTTP_MAX_BODY_BYTES`, which the
//! manifests set to 16 KiB: a larger declared body is refused with 413 before
//! the API runs, a chunked one that grows past it is refused with the API's
//! JSON 413, a body just under it reaches the title check, and the server
//! keeps serving.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::support::{http, spawn};
use crate::todo_api;

/// The manifests' `HTTP_MAX_BODY_BYTES`.
const LIMIT: usize = 16 * 1024;

#[test]
fn a_body_over_the_limit_is_refused_with_413() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    let limit = LIMIT.to_string();
    let app = spawn(
        todo_api(),
        &[],
        &[
            ("DATABASE_URL", &url),
            ("PORT", "0"),
            ("HTTP_MAX_BODY_BYTES", &limit),
        ],
    );
    let addr = app.listening();

    let big = format!(r#"{{"title": "{}"}}"#, "x".repeat(20 * 1024));
    for (method, path) in [("POST", "/todos"), ("PATCH", "/todos/1")] {
        let answer = http(addr, method, path, Some(&big)).expect("an answer");
        assert_eq!(answer.status, 413, "{method} {path}: {}", answer.body);
    }
    // Without a declared length the API reads it, and answers in its format.
    let (status, body) = chunked_post(addr, &big);
    assert_eq!(status, 413, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
    assert!(error["error"].is_string(), "{body}");
    // Just under the limit, the title check answers instead.
    let near = format!(r#"{{"title": "{}"}}"#, "x".repeat(LIMIT - 32));
    let answer = http(addr, "POST", "/todos", Some(&near)).expect("an answer");
    assert_eq!(answer.status, 422, "{}", answer.body);
    let ok = http(addr, "POST", "/todos", Some(r#"{"title": "small"}"#)).expect("an answer");
    assert_eq!(ok.status, 201, "{}", ok.body);
}

/// `POST /todos` with `body` in 1 KiB chunks: the status and body of the
/// answer, read up to its `content-length` (the server closes the
/// connection without reading the rest).
fn chunked_post(addr: SocketAddr, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    let head = "POST /todos HTTP/1.1\r\nhost: todo\r\ncontent-type: application/json\r\n\
                transfer-encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).expect("sends");
    for chunk in body.as_bytes().chunks(1024) {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
        if stream.write_all(&framed).is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut read = Vec::new();
    let mut buffer = [0; 1024];
    loop {
        let text = String::from_utf8_lossy(&read).into_owned();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or_else(|| panic!("no content-length in {head}"));
            if rest.len() >= length {
                let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
                return (status.expect("a status"), rest[..length].to_owned());
            }
        }
        match stream.read(&mut buffer) {
            Ok(n) if n > 0 => read.extend_from_slice(&buffer[..n]),
            other => panic!("no whole answer ({other:?}): {text}"),
        }
    }
}
