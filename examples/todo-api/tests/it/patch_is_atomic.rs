//! PATCH is one atomic change: 100 concurrent PATCHes to one todo, on every
//! database, lose nothing and never answer 5xx.
//!
//! Half of them set `done`, half set `title` (all to the same new title), so
//! in any order they run the todo ends renamed and done. Each answer is the
//! row right after that PATCH, so the answers must fit one order: a PATCH of
//! `done` that saw the old title ran before every rename, and a rename that
//! saw `done: false` ran before every PATCH of `done`; both cannot happen. A
//! read-then-write PATCH breaks that (and the final state), and on SQLite
//! fails with "database is locked" when two transactions upgrade at once.

use std::sync::{Arc, Barrier};

use crate::serve;
use crate::support::{Response, http, http_held, targets};

#[test]
fn a_hundred_concurrent_patches_lose_nothing_on_every_database() {
    for target in targets("todo_patch") {
        let name = target.name;
        // Many transactions at once: more chances for a read-then-write
        // PATCH to act on a stale row.
        let app = serve(&target.url, &[("DATABASE_MAX_CONNECTIONS", "32")]);
        let addr = app.listening();
        let created = http(addr, "POST", "/todos", Some(r#"{"title": "start"}"#))
            .unwrap_or_else(|e| panic!("{name}: POST: {e}"));
        assert_eq!(created.status, 201, "{name}: {}", created.body);
        let id = created.json()["id"].as_i64().expect("an id");
        let path = Arc::new(format!("/todos/{id}"));

        // A first burst of reads opens the pool's connections (opening them
        // would otherwise spread the PATCHes out in time).
        for answer in burst(addr, &path, |_| ("GET", None)) {
            let answer = answer.unwrap_or_else(|e| panic!("{name}: GET: {e}"));
            assert_eq!(answer.status, 200, "{name}: {}", answer.body);
        }
        let answers = burst(addr, &path, |i| {
            if i % 2 == 0 {
                ("PATCH", Some(r#"{"done": true}"#))
            } else {
                ("PATCH", Some(r#"{"title": "renamed"}"#))
            }
        })
        .into_iter()
        .enumerate()
        .map(|(i, answer)| (i % 2 == 0, answer));

        let mut done_saw_old_title = 0;
        let mut rename_saw_not_done = 0;
        for (sets_done, answer) in answers {
            let answer = answer.unwrap_or_else(|e| panic!("{name}: PATCH: {e}"));
            assert_eq!(answer.status, 200, "{name}: {}", answer.body);
            let todo = answer.json();
            if sets_done {
                assert_eq!(todo["done"], true, "{name}: {todo}");
                done_saw_old_title += usize::from(todo["title"] == "start");
            } else {
                assert_eq!(todo["title"], "renamed", "{name}: {todo}");
                rename_saw_not_done += usize::from(todo["done"] == false);
            }
        }
        assert!(
            done_saw_old_title == 0 || rename_saw_not_done == 0,
            "{name}: {done_saw_old_title} PATCHes of done ran before every rename and \
             {rename_saw_not_done} renames before every PATCH of done: updates were lost"
        );
        let end = http(addr, "GET", &path, None).expect("GET").json();
        assert_eq!(
            (&end["title"], &end["done"]),
            (&"renamed".into(), &true.into()),
            "{name}: a PATCH was lost: {end}"
        );
    }
}

/// 100 requests to `path` (`request` gives the method and body of the i-th),
/// each sent but its last byte, then all last bytes at once; the answers in
/// order.
fn burst(
    addr: std::net::SocketAddr,
    path: &Arc<String>,
    request: impl Fn(usize) -> (&'static str, Option<&'static str>),
) -> Vec<std::io::Result<Response>> {
    let barrier = Arc::new(Barrier::new(100));
    let clients: Vec<_> = (0..100)
        .map(|i| {
            let (path, barrier) = (Arc::clone(path), Arc::clone(&barrier));
            let (method, body) = request(i);
            std::thread::spawn(move || {
                http_held(addr, method, &path, body, || {
                    barrier.wait();
                })
            })
        })
        .collect();
    clients
        .into_iter()
        .map(|t| t.join().expect("a client thread"))
        .collect()
}
