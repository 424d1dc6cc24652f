//! Start-up: the port is bound and `/livez` answers before the app's
//! start-up is done, `/readyz` and the routes answer 503 until then, and a
//! SIGTERM during it ends the process with 0 where it stands: the app is
//! never served and never turns ready.

use crate::support::{get, serve};

#[test]
fn sigterm_during_start_up_stops_it_there() {
    let hello = serve(&[("WARM_UP", "1h")]);
    let addr = hello.addr();
    assert_eq!(get(addr, "/livez").0, 200);
    assert_eq!(
        get(addr, "/readyz"),
        (503, r#"{"status":"starting"}"#.to_owned())
    );
    assert_eq!(get(addr, "/"), (503, r#"{"status":"starting"}"#.to_owned()));

    hello.terminate();
    let (status, logged) = hello.exit();
    assert_eq!(status.code(), Some(0), "{logged:#?}");
    assert!(
        logged.iter().any(
            |l| l["message"] == "shutdown began during start-up; stopping there"
                && l["phase"] == "start"
        ),
        "{logged:#?}"
    );
    assert!(
        !logged.iter().any(|l| l["message"] == "ready"),
        "ready after SIGTERM: {logged:#?}"
    );
    assert_eq!(
        logged.last().map(|l| l["message"].clone()),
        Some("shutdown finished".into())
    );
}
