//! [`Readiness`]: where a service stands, as a load balancer should see it.

use std::fmt;

/// Where a service stands, as a load balancer should see it.
///
/// The state only moves forward: `Ready → Draining → Stopping`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Readiness {
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
    /// `"ready"`, `"draining"` or `"stopping"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
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
