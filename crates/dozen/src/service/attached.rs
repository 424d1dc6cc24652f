//! A readiness check on a resource that is not there yet: failing, and
//! not reported, until the resource is attached; then run at once.

use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

use super::health::{Check, Health, NOT_YET};

/// The resource a readiness check runs on, set once it is attached.
pub(crate) struct Attached<T> {
    slot: Arc<OnceLock<T>>,
    wake: Arc<Notify>,
}

impl<T> Attached<T> {
    /// The resource is attached: its check runs at once.
    pub(crate) fn attach(&self, resource: T) {
        let _ = self.slot.set(resource);
        self.wake.notify_one();
    }
}

/// Registers readiness check `name`, which fails ("not attached yet") until
/// the resource is [attached](Attached::attach), and then runs `check` on a
/// clone of it.
pub(crate) fn attached_check<T, F, Fut, E>(
    health: &Health,
    name: &'static str,
    check: F,
) -> Attached<T>
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + 'static,
{
    let slot: Arc<OnceLock<T>> = Arc::default();
    let wake = Arc::new(Notify::new());
    let resource = Arc::clone(&slot);
    let run = Arc::new(check);
    health.add(
        Check::new(name, move || {
            let (resource, run) = (resource.get().cloned(), Arc::clone(&run));
            async move {
                match resource {
                    Some(resource) => run(resource).await.map_err(|e| e.to_string()),
                    None => Err(NOT_YET.to_owned()),
                }
            }
        })
        .with_wake(Arc::clone(&wake)),
    );
    Attached { slot, wake }
}
