//! One `log`-group event, `N` times, for counting instructions per event under valgrind:
//! `bash benches/log-masking.sh` runs it with 0 and N events and takes the difference, so
//! set-up cancels. MODE is `none` (nothing registered), `five` (5 secrets registered, none
//! in the line) or `hit` (a 6th that the line contains).
//!
//! Usage: `log-masking MODE N`

use std::hint::black_box;
use std::io;

use tracing_subscriber::prelude::*;

/// Secrets shaped like real ones: a password, a GitHub token, an AWS key id, a
/// passphrase, a JWT.
const SECRETS: [&str; 5] = [
    "s3cr3t-db-password",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "AKIAIOSFODNN7EXAMPLE",
    "correct horse battery staple",
    "eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: log-masking none|five|hit N");
        std::process::exit(2);
    };
    if mode != "none" {
        for secret in SECRETS {
            dozen_redact::register(secret);
        }
    }
    if mode == "hit" {
        dozen_redact::register("/orders/42");
    }
    let subscriber =
        tracing_subscriber::registry().with(dozen_log::json_layer().with_writer(io::sink));
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!(
            "request",
            method = "GET",
            path = "/orders/42",
            user_id = 42u64
        );
        let _entered = span.enter();
        for _ in 0..n {
            tracing::info!(
                status = 200u16,
                latency_ms = black_box(12.5f64),
                cache = "hit",
                "request finished"
            );
        }
    });
}
