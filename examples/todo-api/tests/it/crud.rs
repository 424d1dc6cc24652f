//! CRUD over HTTP on every database the app supports, the same binary each
//! time, only `DATABASE_URL` changed (factors IV and X).

use std::time::Duration;

use serde_json::json;

use crate::support::{http, targets};
use crate::{serve, todo_api};

#[test]
fn crud_over_http_on_every_database() {
    for target in targets("todo_crud") {
        let mut app = serve(&target.url, &[]);
        let addr = app.listening();
        let name = target.name;
        let call = |method: &str, path: &str, body: Option<&str>| {
            http(addr, method, path, body)
                .unwrap_or_else(|e| panic!("{name}: {method} {path}: {e}"))
        };

        let created = call("POST", "/todos", Some(r#"{"title": "  buy milk "}"#));
        assert_eq!(created.status, 201, "{name}: {}", created.body);
        let todo = created.json();
        assert_eq!(todo["title"], "buy milk", "{name}");
        assert_eq!(todo["done"], false, "{name}");
        let id = todo["id"].as_i64().expect("an integer id");
        let second = call("POST", "/todos", Some(r#"{"title": "write docs"}"#)).json();

        let list = call("GET", "/todos", None);
        assert_eq!(list.status, 200, "{name}");
        assert_eq!(list.json(), json!([todo, second]), "{name}");

        let one = call("GET", &format!("/todos/{id}"), None);
        assert_eq!((one.status, one.json()), (200, todo.clone()), "{name}");

        let patched = call("PATCH", &format!("/todos/{id}"), Some(r#"{"done": true}"#));
        assert_eq!(patched.status, 200, "{name}");
        assert_eq!(
            patched.json(),
            json!({"id": id, "title": "buy milk", "done": true}),
            "{name}"
        );
        let renamed = call(
            "PATCH",
            &format!("/todos/{id}"),
            Some(r#"{"title": "buy oat milk"}"#),
        );
        assert_eq!(
            renamed.json(),
            json!({"id": id, "title": "buy oat milk", "done": true}),
            "{name}"
        );
        assert_eq!(
            call("GET", &format!("/todos/{id}"), None).json(),
            renamed.json(),
            "{name}"
        );

        // Client errors are JSON with a 4xx status; nothing is created.
        for (method, path, body, status) in [
            ("POST", "/todos".to_owned(), "{", 400),
            ("POST", "/todos".to_owned(), r#"{"titel": "x"}"#, 422),
            ("POST", "/todos".to_owned(), r#"{"title": "   "}"#, 422),
            ("POST", "/todos".to_owned(), r#"{"title": 5}"#, 422),
            ("PATCH", format!("/todos/{id}"), r#"{"done": "yes"}"#, 422),
            (
                "PATCH",
                "/todos/999999".to_owned(),
                r#"{"done": true}"#,
                404,
            ),
            ("GET", "/todos/999999".to_owned(), "", 404),
            ("GET", "/todos/abc".to_owned(), "", 400),
        ] {
            let response = call(method, &path, Some(body));
            assert_eq!(
                response.status, status,
                "{name}: {method} {path} {body}: {}",
                response.body
            );
            assert!(
                response.json()["error"].is_string(),
                "{name}: {method} {path}: {}",
                response.body
            );
        }

        assert_eq!(
            call("DELETE", &format!("/todos/{id}"), None).status,
            204,
            "{name}"
        );
        assert_eq!(
            call("DELETE", &format!("/todos/{id}"), None).status,
            404,
            "{name}"
        );
        assert_eq!(
            call("GET", &format!("/todos/{id}"), None).status,
            404,
            "{name}"
        );
        assert_eq!(
            call("GET", "/todos", None).json(),
            json!([second]),
            "{name}"
        );

        // Ready: a readiness check that timed out (1 s) on a machine loaded by
        // the other tests runs again 5 s later, so ask for a while.
        let since = std::time::Instant::now();
        let mut ready = call("GET", "/readyz", None);
        while ready.status != 200 && since.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(200));
            ready = call("GET", "/readyz", None);
        }
        assert_eq!(ready.status, 200, "{name}: {}", ready.body);
        assert_eq!(call("GET", "/livez", None).status, 200, "{name}");

        app.signal("TERM");
        let status = app.wait_exit(Duration::from_secs(20));
        assert_eq!(status.code(), Some(0), "{name}: a graceful stop exits 0");
        // One request line per API call, with the request's method and status.
        let logged = app.logged();
        assert!(
            logged
                .iter()
                .any(|l| l["httpRequest"]["requestMethod"] == "PATCH"
                    && l["httpRequest"]["status"] == 200
                    && l["httpRequest"]["remoteIp"] == "127.0.0.1"),
            "{name}: no request log line for PATCH from 127.0.0.1"
        );
    }
}

#[test]
fn a_bad_configuration_lists_every_problem_and_exits_78() {
    let output = std::process::Command::new(todo_api())
        .env_clear()
        .env("PORT", "eighty")
        .env("DATABASE_URL", "postgres://app:hunter2@db:port/app")
        .env("SHUTDOWN_TIMEOUT", "soon")
        .output()
        .expect("todo-api runs");
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for var in ["PORT", "DATABASE_URL", "SHUTDOWN_TIMEOUT"] {
        assert!(stderr.contains(var), "{var} is not named in:\n{stderr}");
    }
    for value in ["eighty", "hunter2", "soon"] {
        assert!(!stderr.contains(value), "{value} leaked into:\n{stderr}");
    }
    assert!(output.stdout.is_empty(), "nothing is served or logged");
}

/// Help and usage errors of `migrate` need no configuration: an invalid one
/// does not turn them into exit 78, and no log line comes first.
#[test]
fn migrate_reads_its_arguments_before_its_configuration() {
    for (args, code) in [
        (&["migrate", "--help"][..], 0),
        (&["migrate", "sideways"][..], 2),
        (&["migrate", "status", "--bogus"][..], 2),
        (&["migrate", "status"][..], 78),
    ] {
        let output = std::process::Command::new(todo_api())
            .env_clear()
            .env("DATABASE_URL", "postgres://app:hunter2@db:port/app")
            .env("MIGRATE_LOCK_TIMEOUT", "soon")
            .args(args)
            .output()
            .expect("todo-api runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("configuration loaded"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{args:?}: {stderr}");
        let named = stderr.contains("MIGRATE_LOCK_TIMEOUT") && stderr.contains("DATABASE_URL");
        assert_eq!(named, code == 78, "{args:?}: {stderr}");
    }
}

#[test]
fn migrate_reads_its_arguments_before_it_connects() {
    // Port 9 (discard) refuses connections: connecting would retry for 30 s.
    for (args, code) in [
        (&["migrate", "--help"][..], 0),
        (&["migrate", "sideways"][..], 2),
        // Above the 24 h maximum: a usage error naming the flag, no panic.
        (
            &["migrate", "wait", "--timeout", "18446744073709551615s"][..],
            2,
        ),
        (&["migrate", "--lock-timeout", "25h"][..], 2),
    ] {
        let started = std::time::Instant::now();
        let output = std::process::Command::new(todo_api())
            .env_clear()
            .env("DATABASE_URL", "postgres://app:hunter2@127.0.0.1:9/app")
            .env("DATABASE_CONNECT_TIMEOUT", "30s")
            .args(args)
            .output()
            .expect("todo-api runs");
        assert_eq!(output.status.code(), Some(code), "{args:?}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{args:?} tried to connect"
        );
        if let Some(flag) = args.iter().find(|a| a.starts_with("--") && **a != "--help") {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains(&format!("{flag}: too large (at most 24h)")),
                "{args:?}: {stderr}"
            );
        }
        let all = [output.stdout, output.stderr].concat();
        assert!(!String::from_utf8_lossy(&all).contains("hunter2"));
    }
}
