//! One `log`-group event, `N` times, for counting instructions per event under valgrind:
//! `bash benches/log-masking.sh` runs it with 0 and N events and takes the difference, so
//! set-up cancels. MODE is `none` (nothing registered), `five` (5 secrets registered, none
//! in the line) or `hit` (a 6th that the line contains).
//!
//! Usage: `log-masking MODE N`

use std::io;

use tracing_subscriber::prelude::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: log-masking none|five|hit N");
        std::process::exit(2);
    };
    if mode != "none" {
        for secret in dozen_benches::LOG_SECRETS {
            dozen_redact::register(secret);
        }
    }
    if mode == "hit" {
        dozen_redact::register("/orders/42");
    }
    // Build the searcher now, in set-up, which the 0-event run counts too: the first line
    // would build it otherwise, and a build spread over N events is no per-event cost.
    let _ = dozen_redact::secrets();
    let subscriber =
        tracing_subscriber::registry().with(dozen_log::json_layer().with_writer(io::sink));
    tracing::subscriber::with_default(subscriber, || {
        let span = dozen_benches::log_span();
        let _entered = span.enter();
        for _ in 0..n {
            dozen_benches::log_event!();
        }
    });
}
