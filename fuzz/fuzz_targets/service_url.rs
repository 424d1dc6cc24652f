//! `dozen_backing::ServiceUrl::parse` on arbitrary text: it never panics; on success neither
//! `Display` nor `Debug` shows the password, a NATS token or the value of a secret query
//! parameter (`dozen_redact::is_secret_param`) of the input; on failure neither does the
//! error's `Display` or `Debug`.
//!
//! Secrets are read from the input three ways (the `url` crate's parse of the input, its
//! parse of `expose()`, and a plain reading of the text), each in every spelling (as written,
//! serialized, percent-decoded). A secret is checked when it is at least `MIN_LEN` bytes long
//! and its presence in the output cannot be legitimate: it is skipped when the input or the
//! exposed URL holds it more often than the secrets themselves do (a password equal to the
//! host name), or when the output still shows it once every occurrence in the input has been
//! replaced by filler (it comes from fixed text). A SQLite URL is a file path to sqlx, so its
//! "user info" is part of a file name and not checked; its query is.
#![no_main]

use dozen_backing::{Kind, ServiceUrl};
use dozen_fuzz::{blank, candidates, filler, secret_spans, shows, slots_at, url_secrets};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let parsed = ServiceUrl::parse(input);
    let trimmed = input.trim();
    let scheme = trimmed.split_once(':').map_or("", |(s, _)| s);
    let kind = Kind::from_scheme(scheme);
    let userinfo = kind != Kind::Sqlite;
    let nats = kind == Kind::Nats;
    let sqlite = kind == Kind::Sqlite;

    // The secrets, from every reading; and the texts with the secrets' own places blanked.
    let spans = secret_spans(trimmed, userinfo, nats, sqlite);
    let mut slots = slots_at(trimmed, &spans);
    let mut elsewhere = vec![blank(trimmed, &spans)];
    if let Ok(url) = url::Url::parse(trimmed) {
        slots.extend(url_secrets(&url, userinfo, nats));
        let text = url.as_str();
        elsewhere.push(blank(text, &secret_spans(text, userinfo, nats, sqlite)));
    }
    if let Ok(u) = &parsed {
        let exposed = u.expose();
        let spans = secret_spans(&exposed, userinfo, nats, sqlite);
        slots.extend(slots_at(&exposed, &spans));
        elsewhere.push(blank(&exposed, &spans));
        if let Ok(url) = url::Url::parse(&exposed) {
            slots.extend(url_secrets(&url, userinfo, nats));
        }
    }

    let (display, debug) = match &parsed {
        Ok(u) => (u.to_string(), format!("{u:?}")),
        Err(e) => (e.to_string(), format!("{e:?}")),
    };
    for s in candidates(&slots) {
        if !shows(&display, &s) && !shows(&debug, &s) {
            continue;
        }
        // Written somewhere that is not secret (a password equal to the host name).
        if elsewhere.iter().any(|t| t.contains(s.as_str())) {
            continue;
        }
        // Shown even with the secret gone from the input: fixed text, not the secret.
        let neutral = trimmed.replace(&s, &filler(&s));
        let still = match ServiceUrl::parse(&neutral) {
            Ok(u) => shows(&u.to_string(), &s) || shows(&format!("{u:?}"), &s),
            Err(e) => shows(&e.to_string(), &s) || shows(&format!("{e:?}"), &s),
        };
        if still {
            continue;
        }
        panic!("secret {s:?} shown\n input: {input:?}\n display: {display}\n debug: {debug}");
    }
    // A parsed URL also answers every question about its parts without panicking, and what
    // it exposes parses back to the same kind.
    if let Ok(u) = &parsed {
        let _ = (u.kind(), u.scheme(), u.host(), u.port(), u.username());
        let _ = (u.database(), u.socket(), u.has_password());
        if let Ok(again) = ServiceUrl::parse(&u.expose()) {
            assert_eq!(
                again.kind(),
                u.kind(),
                "kind changed through expose(): {input:?}"
            );
        }
    }
});
