//! The phases, in order, once shutdown has started: draining (the
//! propagation delay), stopping (the drain within its budget), teardown, and
//! the outcome.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::duration::{self, millis};
use crate::state::Inner;
use crate::{Outcome, Readiness};

/// Waits for shutdown to start, then runs the phases and publishes the
/// outcome.
pub(crate) async fn drive(inner: Arc<Inner>) {
    inner.draining.wait().await;
    let start = inner.triggered.get().map_or_else(Instant::now, |t| t.at);
    if let Some(triggered) = inner.triggered.get() {
        tracing::info!(
            phase = "draining",
            elapsed_ms = millis(start.elapsed()),
            tasks = inner.tasks.in_flight(),
            cause = %triggered.cause,
            delay_ms = millis(inner.delay),
            timeout_ms = millis(inner.timeout),
            "{}",
            match (inner.serves, inner.delay.is_zero()) {
                (true, true) => "shutdown started: not ready, no propagation delay",
                (true, false) =>
                    "shutdown started: not ready, still accepting during the propagation delay",
                (false, true) => "shutdown started: no propagation delay",
                (false, false) => "shutdown started: still working during the propagation delay",
            }
        );
    }
    let deadline = duration::after(start, inner.timeout);

    tokio::time::sleep_until(duration::after(start, inner.delay).into()).await;
    inner.readiness.send_replace(Readiness::Stopping);
    inner.tasks.close();
    inner.stopping.set();
    tracing::info!(
        phase = "stopping",
        elapsed_ms = millis(start.elapsed()),
        tasks = inner.tasks.in_flight(),
        "{}",
        if inner.serves {
            "stopping accepting; waiting for tasks and in-flight requests"
        } else {
            "taking no new jobs; waiting for the jobs in hand and other tasks"
        }
    );

    let teardown = inner.hooks.take();
    let drain_deadline = deadline
        .checked_sub(teardown.reserve())
        .map_or(Instant::now(), |at| at.max(Instant::now()));
    let mut overran = false;
    if tokio::time::timeout_at(drain_deadline.into(), inner.tasks.wait())
        .await
        .is_err()
    {
        overran = true;
        let running = inner.tasks.running();
        tracing::warn!(
            phase = "drain",
            elapsed_ms = millis(start.elapsed()),
            tasks = running.len(),
            running = ?running,
            "drain budget ran out; aborting the tasks still running"
        );
        inner.tasks.abort_all();
    }

    tracing::info!(
        phase = "teardown",
        elapsed_ms = millis(start.elapsed()),
        tasks = inner.tasks.in_flight(),
        hooks = teardown.len(),
        "running teardown hooks in reverse order of registration"
    );
    let ran = teardown.run(deadline).await;
    if ran.panicked {
        inner.failed.store(true, Ordering::SeqCst);
    }

    let outcome = if overran || ran.overran {
        Outcome::DeadlineExceeded
    } else if inner.failed.load(Ordering::SeqCst) {
        Outcome::TaskFailed
    } else {
        Outcome::Clean
    };
    tracing::info!(
        phase = "exit",
        elapsed_ms = millis(start.elapsed()),
        tasks = inner.tasks.in_flight(),
        %outcome,
        code = outcome.code(),
        "shutdown finished"
    );
    inner.outcome.send_replace(Some(outcome));
}
