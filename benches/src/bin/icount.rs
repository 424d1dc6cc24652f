//! One benchmark of the CPU-bound groups, `N` times, for counting instructions per operation
//! under valgrind: `bash benches/icount.sh` runs each with two loop lengths and takes the
//! difference, so set-up (the subscriber, the runtime, the process) cancels. The subjects are
//! the criterion groups' own (`dozen_benches::log_dispatch`, `request_subject`, `url_subject`).
//!
//! Usage: `icount GROUP ID N`, where GROUP is `log`, `log-pretty`, `request` or `url`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [group, id, n] = args.as_slice() else {
        usage();
    };
    let Ok(n) = n.parse::<u64>() else { usage() };
    match group.as_str() {
        "log" | "log-pretty" => {
            // Masking in the common case: five secrets registered, none in the line.
            let id = match id.strip_suffix("-5-secrets") {
                Some(base) => {
                    for secret in dozen_benches::LOG_SECRETS {
                        dozen_redact::register(secret);
                    }
                    base
                }
                None => id,
            };
            let Some(dispatch) = dozen_benches::log_dispatch(id) else {
                usage()
            };
            tracing::dispatcher::with_default(&dispatch, || {
                let span = dozen_benches::log_span();
                let _entered = span.enter();
                for _ in 0..n {
                    dozen_benches::log_event!();
                }
            });
        }
        "request" => {
            let Some((dispatch, mut one)) = dozen_benches::request_subject(id) else {
                usage()
            };
            tracing::dispatcher::with_default(&dispatch, || {
                for _ in 0..n {
                    one();
                }
            });
        }
        "url" => {
            let Some(run) = dozen_benches::url_subject(id) else {
                usage()
            };
            for _ in 0..n {
                run();
            }
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    #[allow(clippy::print_stderr, reason = "a usage line")]
    {
        eprintln!("usage: icount log|log-pretty|request|url ID N");
    }
    std::process::exit(2)
}
