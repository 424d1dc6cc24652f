//! Teardown hooks: registered with a budget each, run after the drain in
//! reverse order of registration, each within its budget and the deadline.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Error;
use crate::duration::{self, millis};
use crate::lock::lock;
use crate::settings;

type HookFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Hook {
    name: Cow<'static, str>,
    budget: Duration,
    run: Box<dyn FnOnce() -> HookFuture + Send>,
}

/// The hooks registered so far (`None` once the teardown has taken them),
/// and the sum of their budgets, which outlives the taking.
pub(crate) struct Hooks(Mutex<Option<Vec<Hook>>>, Mutex<Duration>);

impl Hooks {
    pub(crate) fn new() -> Self {
        Self(Mutex::new(Some(Vec::new())), Mutex::new(Duration::ZERO))
    }

    /// The sum of the budgets of every hook registered, taken or not.
    pub(crate) fn reserve(&self) -> Duration {
        *lock(&self.1)
    }

    /// Registers `hook` unless its budget, with those before it, would leave
    /// less than [`MIN_DRAIN_BUDGET`](crate::MIN_DRAIN_BUDGET) to drain
    /// within `timeout` after `delay`. Once the teardown has begun, it only
    /// warns that the hook will not run.
    pub(crate) fn register<F, Fut>(
        &self,
        name: Cow<'static, str>,
        budget: Duration,
        hook: F,
        (delay, timeout): (Duration, Duration),
    ) -> Result<(), Error>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut hooks = lock(&self.0);
        let Some(hooks) = hooks.as_mut() else {
            tracing::warn!(
                hook = %name,
                "the service has stopped accepting; teardown hook not registered"
            );
            return Ok(());
        };
        let budgets: Vec<(&str, Duration)> = hooks
            .iter()
            .map(|hook| (&*hook.name, hook.budget))
            .chain([(&*name, budget)])
            .collect();
        settings::check(delay, timeout, &budgets)?;
        *lock(&self.1) = duration::sum(budgets.iter().map(|(_, budget)| *budget));
        hooks.push(Hook {
            name,
            budget,
            run: Box::new(move || Box::pin(hook())),
        });
        Ok(())
    }

    /// Takes the hooks for the teardown; none can be registered afterwards.
    pub(crate) fn take(&self) -> Teardown {
        Teardown(lock(&self.0).take().unwrap_or_default())
    }
}

/// The hooks to run, taken from [`Hooks`] once the service stops accepting.
pub(crate) struct Teardown(Vec<Hook>);

/// How the teardown went.
pub(crate) struct Ran {
    /// A hook was abandoned at its budget or the deadline.
    pub(crate) overran: bool,
    /// A hook panicked.
    pub(crate) panicked: bool,
}

impl Teardown {
    /// How many hooks there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The sum of their budgets, kept back from the drain.
    pub(crate) fn reserve(&self) -> Duration {
        duration::sum(self.0.iter().map(|hook| hook.budget))
    }

    /// Runs the hooks in reverse order of registration, each on its own task
    /// for at most its budget and never past `deadline`.
    pub(crate) async fn run(self, deadline: Instant) -> Ran {
        let mut ran = Ran {
            overran: false,
            panicked: false,
        };
        for hook in self.0.into_iter().rev() {
            let budget = hook
                .budget
                .min(deadline.saturating_duration_since(Instant::now()));
            let begun = Instant::now();
            // The closure is called on the hook's own task, not here: a
            // closure that panics before returning its future is then a
            // hook that panicked, not the end of the teardown.
            let run = hook.run;
            let mut handle = tokio::spawn(async move { run().await });
            match tokio::time::timeout(budget, &mut handle).await {
                Ok(Ok(())) => tracing::debug!(
                    phase = "teardown",
                    hook = %hook.name,
                    took_ms = millis(begun.elapsed()),
                    "teardown hook finished"
                ),
                Ok(Err(_)) => {
                    ran.panicked = true;
                    tracing::error!(phase = "teardown", hook = %hook.name, "teardown hook panicked");
                }
                Err(_) => {
                    handle.abort();
                    ran.overran = true;
                    tracing::warn!(
                        phase = "teardown",
                        hook = %hook.name,
                        budget_ms = millis(budget),
                        "teardown hook overran its budget; abandoned"
                    );
                }
            }
        }
        ran
    }
}
