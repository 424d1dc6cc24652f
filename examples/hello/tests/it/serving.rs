//! Serving: the health routes and the route answer, each request is logged
//! with a trace of its own, and SIGTERM ends the process with 0 after a
//! final, flushed log line.

use crate::support::{get, probe_until, serve};

#[test]
fn serves_then_stops_cleanly_on_sigterm() {
    let hello = serve(&[("GREETING", "bonjour")]);
    let addr = hello.addr();
    assert_eq!(
        get(addr, "/livez"),
        (200, r#"{"status":"live"}"#.to_owned())
    );
    assert_eq!(probe_until(addr, "/readyz", 200), r#"{"status":"ready"}"#);
    assert_eq!(get(addr, "/"), (200, "bonjour".to_owned()));
    assert_eq!(get(addr, "/nowhere").0, 404);

    let request = hello.line("GET http://hello/ 200");
    let trace = request["logging.googleapis.com/trace"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(trace.len(), 32, "a fresh trace id: {request}");
    assert!(trace.bytes().all(|b| b.is_ascii_hexdigit()), "{request}");
    assert_eq!(
        request["logging.googleapis.com/spanId"]
            .as_str()
            .map(str::len),
        Some(16)
    );
    assert_eq!(request["httpRequest"]["status"], 200);
    let logged = hello.logged();
    assert!(
        !logged
            .iter()
            .any(|l| l["message"].as_str().is_some_and(|m| m.contains("/readyz"))),
        "probes are not request-logged"
    );
    let loaded = &logged[0];
    assert_eq!(loaded["message"], "configuration loaded", "the first line");
    assert_eq!(loaded["process"], "web");

    hello.terminate();
    let (status, logged) = hello.exit();
    assert_eq!(status.code(), Some(0), "{logged:#?}");
    let last = logged.last().expect("lines");
    assert_eq!(
        last["message"], "shutdown finished",
        "flushed last: {logged:#?}"
    );
    assert_eq!(last["code"], 0);
}

#[test]
fn management_port_serves_health_apart_from_the_routes() {
    let hello = serve(&[("MANAGEMENT_PORT", "0")]);
    let addr = hello.addr();
    let management = hello.management_addr();
    assert_ne!(management.port(), addr.port());
    assert_eq!(
        probe_until(management, "/readyz", 200),
        r#"{"status":"ready"}"#
    );
    assert_eq!(get(management, "/livez").0, 200);
    assert_eq!(get(management, "/").0, 404, "no application route there");
    assert_eq!(get(addr, "/"), (200, "hello".to_owned()));
    assert_eq!(get(addr, "/readyz").0, 404, "no health route on PORT");
    hello.terminate();
    assert_eq!(hello.exit().0.code(), Some(0));
}
