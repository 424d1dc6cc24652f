//! [`Health`]: `/livez`, `/readyz`, and the readiness checks registered with
//! it, each run on its own schedule so that a probe reads a cached result.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dozen_shutdown::{Readiness, Shutdown};
use tokio::sync::Notify;

use super::body::json;
use super::step::panicked;

/// The default time a check may take before it counts as failing: 1 s.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(1);
/// The default time between two runs of a check: 5 s.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(5);

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A readiness check: a name, an async function, a timeout and an interval.
///
/// Once [added](Health::add), it runs at once and then every interval until
/// the service stops; `/readyz` answers from its last result, so a probe
/// never waits on it and a burst of probes never multiplies it. A check that
/// fails (returns `Err`, panics, or takes longer than its timeout) turns
/// `/readyz` to 503 and names the check in the body; the next run that passes
/// turns it back: a panic ends that run, not the process. The error is logged
/// when the check starts failing, not on every run, and never put in the body
/// (it may name a host or a user).
///
/// ```
/// use std::time::Duration;
/// use dozen::service::Check;
///
/// let check = Check::new("cache", || async { Ok::<(), std::io::Error>(()) })
///     .with_timeout(Duration::from_millis(500))
///     .with_interval(Duration::from_secs(2));
/// assert_eq!(check.name(), "cache");
/// ```
#[must_use]
pub struct Check {
    name: Cow<'static, str>,
    run: Arc<dyn Fn() -> CheckFuture + Send + Sync>,
    timeout: Duration,
    interval: Duration,
    /// Runs the check at once, not at the end of the interval.
    wake: Option<Arc<Notify>>,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl Check {
    /// A check named `name` (shown in `/readyz` and the logs) that runs
    /// `check`; [`DEFAULT_CHECK_TIMEOUT`] and [`DEFAULT_CHECK_INTERVAL`].
    pub fn new<F, Fut, E>(name: impl Into<Cow<'static, str>>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        let run = move || -> CheckFuture {
            let future = check();
            Box::pin(async move { future.await.map_err(|error| error.to_string()) })
        };
        Self {
            name: name.into(),
            run: Arc::new(run),
            timeout: DEFAULT_CHECK_TIMEOUT,
            interval: DEFAULT_CHECK_INTERVAL,
            wake: None,
        }
    }

    /// Runs the check again at once each time `wake` is notified (a
    /// resource that has just attached), not only every interval.
    #[cfg_attr(
        not(dozen_database),
        allow(dead_code, reason = "used by the database's checks")
    )]
    pub(crate) fn with_wake(mut self, wake: Arc<Notify>) -> Self {
        self.wake = Some(wake);
        self
    }

    /// How long one run may take before it counts as failing.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time between the end of one run and the start of the next (at
    /// least 10 ms).
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(10));
        self
    }

    /// The name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The error of a check whose resource is not attached yet: it counts as
/// failing and is not logged.
pub(crate) const NOT_YET: &str = "not attached yet";

/// Not yet run: counts as failing.
const PENDING: u8 = 0;
const PASSING: u8 = 1;
const FAILING: u8 = 2;

/// A check's name and its last result.
struct Status {
    name: Cow<'static, str>,
    state: AtomicU8,
    /// The check's timeout.
    timeout: Duration,
    /// Where its times are counted from.
    base: Instant,
    /// When the run in progress must end, in milliseconds from `base`; 0 between runs.
    due_ms: AtomicU64,
}

impl Status {
    fn new(check: &Check) -> Self {
        Self {
            name: check.name.clone(),
            state: AtomicU8::new(PENDING),
            timeout: check.timeout,
            base: Instant::now(),
            due_ms: AtomicU64::new(0),
        }
    }

    /// Milliseconds since `base`, from 1 (0 means no run is in progress).
    fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    /// A run has started: it must end within the timeout.
    fn started(&self) {
        let timeout = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
        self.due_ms
            .store(self.now_ms().saturating_add(timeout), Ordering::Release);
    }

    fn ended(&self) {
        self.due_ms.store(0, Ordering::Release);
    }

    /// Whether the check passes: its last run passed, and the run in progress, if any,
    /// is not past its timeout. A check that blocks its thread (a synchronous call that
    /// hangs) cannot be timed out by the runtime; `/readyz` does not answer from its
    /// last result meanwhile.
    fn passes(&self) -> bool {
        if self.state.load(Ordering::Acquire) != PASSING {
            return false;
        }
        let due = self.due_ms.load(Ordering::Acquire);
        due == 0 || self.now_ms() <= due
    }
}

/// The health of a process, as `/livez` and `/readyz` report it: the
/// readiness of its [`Shutdown`] (`Starting → Ready → Draining →
/// Stopping`) and the last results of its readiness [`Check`]s. Cheap to
/// clone.
///
/// | route | answers |
/// |---|---|
/// | `GET /livez` | `200 {"status":"live"}` whenever the process can serve a request |
/// | `GET /readyz` | `200 {"status":"ready"}` once start-up is done and every check passes; otherwise 503 with `{"status":"starting"}`, `{"status":"failing"}`, `{"status":"draining"}` or `{"status":"stopping"}`, and `"failing":["name",...]`, the checks that fail or have not passed yet (or whose run in progress is past its timeout: a check that blocks its thread cannot be timed out, and its last result is not used meanwhile) |
#[derive(Clone)]
pub struct Health {
    shutdown: Shutdown,
    checks: Arc<Mutex<Vec<Arc<Status>>>>,
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Health")
            .field("readiness", &self.shutdown.readiness())
            .field("failing", &self.failing())
            .finish()
    }
}

impl Health {
    /// The health of the process that `shutdown` drives, with no check yet.
    #[must_use]
    pub fn new(shutdown: &Shutdown) -> Self {
        Self {
            shutdown: shutdown.clone(),
            checks: Arc::default(),
        }
    }

    /// Registers `check` and starts running it, as a tracked task of the
    /// [`Shutdown`] that ends when the service stops accepting.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn add(&self, check: Check) {
        let status = Arc::new(Status::new(&check));
        self.checks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&status));
        let stopping = self.shutdown.stopping();
        let task = format!("readiness check {}", check.name);
        self.shutdown.spawn(task, async move {
            tokio::select! {
                () = stopping => {}
                () = run(&check, &status) => {}
            }
        });
    }

    /// The names of the checks that fail or have not passed yet.
    #[must_use]
    pub fn failing(&self) -> Vec<String> {
        self.checks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|status| !status.passes())
            .map(|status| status.name.to_string())
            .collect()
    }

    /// Whether `/readyz` answers 200: start-up is done, shutdown has not
    /// begun, and every check passes.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.shutdown.readiness() == Readiness::Ready && self.failing().is_empty()
    }

    /// A router with `GET /livez` and `GET /readyz`.
    pub fn routes<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route("/livez", get(livez))
            .route("/readyz", get(readyz))
            .with_state(self.clone())
    }

    /// The body and status of `/readyz`.
    fn readyz(&self) -> (StatusCode, String) {
        let failing = self.failing();
        let status = match self.shutdown.readiness() {
            Readiness::Ready if failing.is_empty() => return (StatusCode::OK, json("ready", &[])),
            Readiness::Ready => "failing",
            other => other.as_str(),
        };
        (StatusCode::SERVICE_UNAVAILABLE, json(status, &failing))
    }
}

/// Runs `check` forever: at once, then every interval, keeping its last
/// result in `status` and logging each change.
async fn run(check: &Check, status: &Status) {
    loop {
        status.started();
        let result = match tokio::time::timeout(check.timeout, run_once(check)).await {
            Ok(result) => result,
            Err(_) => Err(format!("timed out after {}ms", check.timeout.as_millis())),
        };
        status.ended();
        let new = match &result {
            Ok(()) => PASSING,
            // What the check runs on is not there yet: failing, but nothing
            // to report.
            Err(error) if error == NOT_YET => PENDING,
            Err(_) => FAILING,
        };
        let old = status.state.swap(new, Ordering::AcqRel);
        match result {
            Err(error) if new == FAILING && old != FAILING => {
                tracing::warn!(check = %check.name, %error, "readiness check failing");
            }
            Ok(()) if old == FAILING => {
                tracing::info!(check = %check.name, "readiness check passing again");
            }
            _ => {}
        }
        match &check.wake {
            Some(wake) => {
                tokio::select! {
                    () = tokio::time::sleep(check.interval) => {}
                    () = wake.notified() => {}
                }
            }
            None => tokio::time::sleep(check.interval).await,
        }
    }
}

/// One run of `check`. A panic, in the check's function or in its future,
/// is a failure of this run (`panicked: <message>`): the process goes on
/// and the next run may pass.
async fn run_once(check: &Check) -> Result<(), String> {
    let mut running: Option<CheckFuture> = None;
    std::future::poll_fn(|cx| {
        let polled = catch_unwind(AssertUnwindSafe(|| {
            running
                .get_or_insert_with(|| (check.run)())
                .as_mut()
                .poll(cx)
        }));
        polled.unwrap_or_else(|payload| Poll::Ready(Err(panicked(&*payload))))
    })
    .await
}

async fn livez() -> Response {
    respond(StatusCode::OK, json("live", &[]))
}

async fn readyz(State(health): State<Health>) -> Response {
    let (status, body) = health.readyz();
    respond(status, body)
}

fn respond(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
