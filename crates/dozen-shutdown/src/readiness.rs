//! [`Readiness`]: where a service stands, as a load balancer should see it.

use std::fmt;

/// Where a service stands, as a load balancer should see it.
///
/// The state only moves forward: `Starting → Ready → Draining → Stopping`.
/// A [`Shutdown`](crate::Shutdown) begins `Ready`, or `Starting` when built
/// with [`Builder::with_starting`](crate::Builder::with_starting); shutdown
/// may begin from either.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Readiness {
    /// Start-up is not finished (the port may already be bound, so that
    /// liveness probes answer): `/readyz` answers 503 until
    /// [`Shutdown::mark_ready`](crate::Shutdown::mark_ready).
    Starting,
    /// Serving; `/readyz` answers 200.
    Ready,
    /// Shutdown has started: `/readyz` answers 503 while the service keeps
    /// accepting for the propagation delay, so load balancers can notice.
    Draining,
    /// The delay is over: no new connections; in-flight work is finishing and
    /// teardown hooks run after it.
    Stopping,
}

impl Readiness {
    /// `"starting"`, `"ready"`, `"draining"` or `"stopping"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Ready => "ready",
            Self::Draining => "draining",
            Self::Stopping => "stopping",
        }
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
