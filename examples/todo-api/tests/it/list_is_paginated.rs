//! `GET /todos` never loads the whole table: a page holds 50 todos unless
//! `?limit=` asks for 1 to 200, `?after=` continues after an id, and a full
//! page links to the next one. A limit out of range is a 400 that names the
//! parameter.

use crate::support::{Proc, http, spawn};
use crate::todo_api;

fn app(dir: &tempfile::TempDir) -> Proc {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    spawn(todo_api(), &[], &[("DATABASE_URL", &url), ("PORT", "0")])
}

#[test]
fn pages_have_a_default_and_a_maximum_size_and_follow_on() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let app = app(&dir);
    let addr = app.listening();
    for i in 0..260 {
        let body = format!(r#"{{"title": "todo {i}"}}"#);
        let created = http(addr, "POST", "/todos", Some(&body)).expect("POST");
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let ids = |path: &str| -> (Vec<i64>, String) {
        let answer = http(addr, "GET", path, None).expect("GET");
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        let ids = answer
            .json()
            .as_array()
            .expect("an array")
            .iter()
            .map(|t| t["id"].as_i64().expect("an id"))
            .collect();
        (ids, answer.head)
    };

    let (first, head) = ids("/todos");
    assert_eq!(
        first,
        (1..=50).collect::<Vec<_>>(),
        "the default page is 50"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("link: </todos?after=50&limit=50>; rel=\"next\""),
        "{head}"
    );
    let (largest, _) = ids("/todos?limit=200");
    assert_eq!(largest.len(), 200, "200 is the maximum page");
    let (next, _) = ids("/todos?after=200&limit=200");
    assert_eq!(next, (201..=260).collect::<Vec<_>>());
    let (last, head) = ids("/todos?after=255&limit=10");
    assert_eq!(last, (256..=260).collect::<Vec<_>>());
    assert!(
        !head.to_ascii_lowercase().contains("link:"),
        "the last page has no next link: {head}"
    );

    for (query, param) in [
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("after=abc", "after"),
    ] {
        let answer = http(addr, "GET", &format!("/todos?{query}"), None).expect("GET");
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        let error = answer.json()["error"]
            .as_str()
            .expect("an error")
            .to_owned();
        assert!(error.starts_with(&format!("{param}: ")), "{query}: {error}");
        let value = query.split_once('=').expect("a pair").1;
        assert!(
            value.len() < 2 || !error.contains(value),
            "{query}: the value is echoed: {error}"
        );
    }
}
