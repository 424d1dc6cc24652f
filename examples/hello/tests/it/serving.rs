//! Serving: the health routes and the route answer, each request is logged
//! with a trace of its own (the probes' requests are not: a probe every few
//! seconds would drown the log), and SIGTERM ends the process with 0 after a
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

/// The request-log lines (`httpRequest`) of `logged` whose URL ends with
/// `path`.
fn request_lines<'a>(logged: &'a [serde_json::Value], path: &str) -> Vec<&'a serde_json::Value> {
    logged
        .iter()
        .filter(|l| {
            l["httpRequest"]["requestUrl"]
                .as_str()
                .is_some_and(|url| url.ends_with(path))
        })
        .collect()
}

#[test]
fn health_probes_are_not_request_logged_on_either_port() {
    for env in [&[][..], &[("MANAGEMENT_PORT", "0")][..]] {
        let hello = serve(env);
        let addr = hello.addr();
        let health = match hello.line("listening")["management_addr"].as_str() {
            Some(management) => {
                let management: std::net::SocketAddr = management.parse().expect("an address");
                std::net::SocketAddr::from(([127, 0, 0, 1], management.port()))
            }
            None => addr,
        };
        probe_until(health, "/readyz", 200);
        for _ in 0..20 {
            assert_eq!(get(health, "/livez").0, 200);
            assert_eq!(get(health, "/readyz").0, 200);
        }
        // An application route after the probes: once its line is there,
        // a probe's line would be too.
        assert_eq!(get(addr, "/").0, 200);
        let request = hello.line("GET http://hello/ 200");
        assert_eq!(request["httpRequest"]["status"], 200, "{env:?}: {request}");
        let logged = hello.logged();
        for path in ["/livez", "/readyz"] {
            let lines = request_lines(&logged, path);
            assert!(
                lines.is_empty(),
                "{env:?}: {path} request-logged: {lines:#?}"
            );
        }
        assert_eq!(request_lines(&logged, "/").len(), 1, "{env:?}: {logged:#?}");
        hello.terminate();
        assert_eq!(hello.exit().0.code(), Some(0), "{env:?}");
    }
}
