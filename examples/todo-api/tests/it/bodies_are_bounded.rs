//! Request bodies are bounded: a body larger than 16 KiB is refused with 413
//! (as JSON, like every error), and the server keeps serving.

use crate::support::{http, spawn};
use crate::todo_api;

#[test]
fn a_body_over_the_limit_is_refused_with_413() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    let app = spawn(todo_api(), &[], &[("DATABASE_URL", &url), ("PORT", "0")]);
    let addr = app.listening();

    let big = format!(r#"{{"title": "{}"}}"#, "x".repeat(20 * 1024));
    for (method, path) in [("POST", "/todos"), ("PATCH", "/todos/1")] {
        let answer = http(addr, method, path, Some(&big)).expect("an answer");
        assert_eq!(answer.status, 413, "{method} {path}: {}", answer.body);
        assert!(answer.json()["error"].is_string(), "{}", answer.body);
    }
    // Just under the limit, the title check answers instead.
    let near = format!(r#"{{"title": "{}"}}"#, "x".repeat(16 * 1024 - 32));
    let answer = http(addr, "POST", "/todos", Some(&near)).expect("an answer");
    assert_eq!(answer.status, 422, "{}", answer.body);
    let ok = http(addr, "POST", "/todos", Some(r#"{"title": "small"}"#)).expect("an answer");
    assert_eq!(ok.status, 201, "{}", ok.body);
}
