//! Promise: `X_FILE` holds the path of a file whose content is the value of
//! `X` (one trailing newline removed), for any field; setting both, an
//! unreadable or non-UTF-8 file, and a file over 1 MiB are problems that
//! name `X_FILE` and never show the path.

use dozen_config::{ProblemKind, Secret, prefixed};
use serde::Deserialize;

use crate::{env, file};

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the password matters")]
struct Config {
    password: Secret<String>,
    #[serde(default)]
    token: Option<String>,
}

#[test]
fn file_content_with_one_trailing_newline_removed() {
    for (content, expected) in [
        (&b"hunter2"[..], "hunter2"),
        (b"hunter2\n", "hunter2"),
        (b"hunter2\r\n", "hunter2"),
        (b"hunter2\n\n", "hunter2\n"),
        (b" spaced \n", " spaced "),
        (b"", ""),
    ] {
        let f = file(content);
        let path = f.path().to_str().unwrap();
        let config: Config = prefixed("APP_")
            .from_iter(env(&[("APP_PASSWORD_FILE", path)]))
            .unwrap();
        assert_eq!(config.password.expose(), expected, "{content:?}");
    }
}

#[test]
fn file_problems() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let big = file(&vec![b'x'; 1024 * 1024 + 1]);
    let exactly = file(&vec![b'x'; 1024 * 1024]);
    let latin1 = file(b"caf\xe9");
    let check = |pairs: &[(&str, &str)], expected: &str| {
        let text = crate::error_text::<Config>(&prefixed("APP_"), pairs);
        assert_eq!(text, expected, "{pairs:?}");
    };
    check(
        &[("APP_PASSWORD_FILE", missing)],
        "APP_PASSWORD_FILE: cannot read the file it names, entity not found (a readable file of UTF-8 text)",
    );
    check(
        &[
            ("APP_PASSWORD", "x"),
            ("APP_PASSWORD_FILE", missing),
            ("APP_TOKEN", "t"),
            ("APP_TOKEN_FILE", missing),
        ],
        "APP_PASSWORD: both APP_PASSWORD and APP_PASSWORD_FILE are set (one of them)\n\
         APP_TOKEN: both APP_TOKEN and APP_TOKEN_FILE are set (one of them)",
    );
    let big_path = big.path().to_str().unwrap();
    check(
        &[("APP_PASSWORD_FILE", big_path)],
        "APP_PASSWORD_FILE: the file it names is too large (at most 1 MiB)",
    );
    // Endless files, whose metadata says 0 bytes: the limit is on what is read, so the load
    // stops after 1 MiB instead of reading forever or running out of memory.
    for endless in ["/dev/zero", "/dev/urandom"] {
        if std::path::Path::new(endless).exists() {
            check(
                &[("APP_PASSWORD_FILE", endless)],
                "APP_PASSWORD_FILE: the file it names is too large (at most 1 MiB)",
            );
        }
    }
    let latin1_path = latin1.path().to_str().unwrap();
    check(
        &[("APP_PASSWORD_FILE", latin1_path)],
        "APP_PASSWORD_FILE: cannot read the file it names, not valid UTF-8 (a readable file of UTF-8 text)",
    );
    let config: Config = prefixed("APP_")
        .from_iter(env(&[(
            "APP_PASSWORD_FILE",
            exactly.path().to_str().unwrap(),
        )]))
        .unwrap();
    assert_eq!(config.password.expose().len(), 1024 * 1024);

    let err = prefixed("APP_")
        .from_iter::<_, Config>(env(&[("APP_PASSWORD_FILE", missing)]))
        .unwrap_err();
    let problem = err.problems().next().unwrap();
    assert_eq!(problem.var(), "APP_PASSWORD_FILE");
    assert!(
        matches!(problem.kind(), ProblemKind::Unreadable { path, .. } if path.to_str() == Some(missing))
    );
    // The path is data for a program that chooses to show it, never text.
    assert!(!err.to_string().contains(missing), "{err}");
    assert!(!format!("{err:?}").contains(missing), "{err:?}");
}
