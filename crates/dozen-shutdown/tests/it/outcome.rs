//! Every outcome has its own documented exit code, and `main` can return
//! it.

use std::process::ExitCode;

use dozen_shutdown::{Outcome, exit_code};

#[test]
fn exit_codes_are_documented_and_distinct() {
    let check = |outcome: Outcome, code: u8, shown: &str| {
        assert_eq!(outcome.code(), code, "{outcome:?}");
        assert_eq!(outcome.to_string(), shown);
        assert_eq!(ExitCode::from(outcome), ExitCode::from(code));
    };
    check(Outcome::Clean, 0, "clean");
    check(Outcome::TaskFailed, 70, "task failed");
    check(Outcome::DeadlineExceeded, 124, "deadline exceeded");
    let mut all = [
        exit_code::CLEAN,
        exit_code::TASK_FAILED,
        exit_code::DEADLINE_EXCEEDED,
        exit_code::FORCED_SIGINT,
        exit_code::FORCED_SIGQUIT,
        exit_code::FORCED_SIGTERM,
    ];
    assert_eq!(&all[3..], &[128 + 2, 128 + 3, 128 + 15]);
    all.sort_unstable();
    assert!(all.windows(2).all(|w| w[0] != w[1]), "{all:?}");
}
