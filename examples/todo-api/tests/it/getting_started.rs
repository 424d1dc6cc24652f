//! The getting-started guide is executed: every shell block it marks
//! `<!-- walk: NAME -->` runs against the real `todo-api` binary, on SQLite and
//! (where `TEST_POSTGRES_URL` is set, always under CI) on PostgreSQL, and its
//! output must be what the guide shows. The guide and this test are one
//! source: a change to either that makes them disagree fails here.
//!
//! A walked block is a `console` block: `$ command` lines, each followed by
//! the output it must give. In the output, `[..]` stands for any text within
//! a line (an id, a time) and a line `...` for any number of lines. Each block
//! runs in a fresh `bash` (so it can be pasted as it stands), in an empty
//! directory, with stderr joined to stdout. The test substitutes what differs
//! from a reader's machine, and nothing else: the binary for
//! `cargo run -q -p example-todo-api` (cargo's own progress lines are not part
//! of the walk) and the test server's port for `localhost:8080`.
//!
//! Why a harness of our own rather than trycmd: trycmd runs one program per
//! case with no shell, so it cannot keep a server running beside the calls,
//! nor pipe `curl` into `sed` as a reader does; this one is a parser of fenced
//! blocks and a line matcher, about 150 lines.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support;

/// A walked block: its name and its commands, each with the output it must give.
struct Block {
    name: String,
    line: usize,
    steps: Vec<(String, Vec<String>)>,
}

fn guide() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/getting-started.md")
}

fn blocks() -> Vec<Block> {
    let text = std::fs::read_to_string(guide()).expect("docs/getting-started.md");
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(name) = lines[i]
            .trim()
            .strip_prefix("<!-- walk:")
            .and_then(|rest| rest.strip_suffix("-->"))
        else {
            i += 1;
            continue;
        };
        assert_eq!(
            lines.get(i + 1).map(|l| l.trim()),
            Some("```console"),
            "getting-started.md:{}: a walk marker must stand just above a ```console block",
            i + 1
        );
        let mut block = Block {
            name: name.trim().to_owned(),
            line: i + 2,
            steps: Vec::new(),
        };
        i += 2;
        while i < lines.len() && lines[i].trim() != "```" {
            if let Some(command) = lines[i].strip_prefix("$ ") {
                block.steps.push((command.to_owned(), Vec::new()));
            } else {
                let step = block.steps.last_mut().unwrap_or_else(|| {
                    panic!("getting-started.md:{}: output before any command", i + 1)
                });
                step.1.push(lines[i].to_owned());
            }
            i += 1;
        }
        out.push(block);
    }
    out
}

/// Whether `line` matches `pattern`, where `[..]` stands for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (n, part) in parts.iter().enumerate() {
        if n + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether `lines` match `expected`, where a line `...` stands for any lines.
fn output_matches(expected: &[String], lines: &[&str]) -> bool {
    match expected.split_first() {
        None => lines.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=lines.len()).any(|skip| output_matches(rest, &lines[skip..]))
        }
        Some((first, rest)) => lines
            .split_first()
            .is_some_and(|(line, more)| line_matches(first, line) && output_matches(rest, more)),
    }
}

/// Runs `block` in a fresh bash with `env`, the test server on `port`.
fn run(block: &Block, port: Option<u16>, env: &[(&str, &str)]) {
    const SEPARATOR: &str = "\u{1e}walk-step\u{1e}";
    let binary = env!("CARGO_BIN_EXE_todo-api");
    let mut script = String::new();
    for (command, _) in &block.steps {
        let mut command = command
            .replace("cargo run -q -p example-todo-api --", binary)
            .replace("cargo run -q -p example-todo-api", binary);
        if let Some(port) = port {
            command = command.replace("localhost:8080", &format!("localhost:{port}"));
        }
        // The separator keeps `$?` for the next command (`echo $?`).
        script.push_str(&format!(
            "walk_status=$?; printf '%s\\n' '{SEPARATOR}'; (exit $walk_status)\n{command}\n"
        ));
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(format!("exec 2>&1\n{script}"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in env {
        bash.env(k, v);
    }
    let out = bash.output().expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let outputs: Vec<&str> = stdout.split(&format!("{SEPARATOR}\n")).skip(1).collect();
    assert_eq!(
        outputs.len(),
        block.steps.len(),
        "getting-started.md:{} ({}): the block stopped early:\n{stdout}",
        block.line,
        block.name
    );
    for ((command, expected), got) in block.steps.iter().zip(outputs) {
        let got_lines: Vec<&str> = got.lines().map(str::trim_end).collect();
        let expected: Vec<String> = expected.iter().map(|l| l.trim_end().to_owned()).collect();
        assert!(
            output_matches(&expected, &got_lines),
            "getting-started.md:{} ({}): `$ {command}` gave\n{got}\nwhere the guide shows\n{}",
            block.line,
            block.name,
            expected.join("\n")
        );
    }
}

fn walk(name: &str, port: Option<u16>, env: &[(&str, &str)]) -> usize {
    let blocks: Vec<Block> = blocks().into_iter().filter(|b| b.name == name).collect();
    for block in &blocks {
        run(block, port, env);
    }
    blocks.len()
}

/// A server on `url`, on a free port, as `cargo run -p example-todo-api` starts it.
fn server(url: &str, env: &[(&str, &str)]) -> (support::Proc, u16) {
    let mut all = vec![("DATABASE_URL", url), ("PORT", "0")];
    all.extend_from_slice(env);
    let app = support::spawn(Path::new(env!("CARGO_BIN_EXE_todo-api")), &[], &all);
    let port = app.listening().port();
    (app, port)
}

#[test]
fn the_guide_walks_on_sqlite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    let (mut app, port) = server(&url, &[]);
    assert!(walk("api", Some(port), &[]) >= 2, "no api block walked");
    assert_eq!(walk("config-error", None, &[]), 1);
    // Once more, on a database that already holds todos: the guide works from any state.
    assert!(walk("api", Some(port), &[]) >= 2);
    app.signal("TERM");
    assert!(app.wait_exit(std::time::Duration::from_secs(30)).success());
}

#[test]
fn the_guide_walks_on_postgres() {
    let Some(base) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let url = support::runtime().block_on(dozen_testkit::fresh_postgres(&base, "guide_walk"));
    assert_eq!(
        walk("postgres-migrate", None, &[("DATABASE_URL", &url)]),
        1,
        "the migrate block"
    );
    let (mut app, port) = server(&url, &[]);
    assert!(walk("api", Some(port), &[]) >= 2, "no api block walked");
    app.signal("TERM");
    assert!(app.wait_exit(std::time::Duration::from_secs(30)).success());
}

#[test]
fn the_matcher_tells_a_difference() {
    let lines = |s: &[&str]| s.iter().map(|&l| l.to_owned()).collect::<Vec<_>>();
    assert!(line_matches(
        r#"{"id":[..],"done":false}"#,
        r#"{"id":17,"done":false}"#
    ));
    assert!(!line_matches(
        r#"{"id":[..],"done":false}"#,
        r#"{"id":17,"done":true}"#
    ));
    assert!(line_matches("applied V1 ([..]s)", "applied V1 (0.012s)"));
    assert!(!line_matches("exit 0", "exit 0 and more"));
    assert!(output_matches(
        &lines(&["a", "...", "z"]),
        &["a", "b", "c", "z"]
    ));
    assert!(!output_matches(&lines(&["a", "z"]), &["a", "b", "z"]));
    assert!(!output_matches(&lines(&["a"]), &[]));
}
