//! A one-shot event: set once, from any thread (the signal thread too), and
//! awaited by any number of tasks. Draining and stopping are flags.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// A one-shot event; clones share it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Flag {
    inner: Arc<State>,
}

#[derive(Debug, Default)]
struct State {
    set: AtomicBool,
    notify: Notify,
}

impl Flag {
    /// Sets the flag and wakes every task waiting for it.
    pub(crate) fn set(&self) {
        self.inner.set.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Resolves once the flag is set (at once if it is).
    pub(crate) async fn wait(&self) {
        loop {
            // Made before the flag is read: `notify_waiters` wakes a
            // `Notified` from the moment it exists, so a `set` between the
            // read and the await is not missed.
            let notified = self.inner.notify.notified();
            if self.inner.set.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// [`wait`](Self::wait), owning a handle on the flag.
    pub(crate) fn wait_owned(&self) -> impl Future<Output = ()> + Send + 'static {
        let flag = self.clone();
        async move { flag.wait().await }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn waits_resolve_once_set_and_at_once_after() {
        let flag = Flag::default();
        let waiting = tokio::spawn(flag.wait_owned());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        let setter = flag.clone();
        std::thread::spawn(move || setter.set()).join().unwrap();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), flag.wait())
            .await
            .expect("already set");
    }

    #[test]
    fn a_set_racing_many_waits_wakes_them_all() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        for round in 0..100 {
            let flag = Flag::default();
            let waits: Vec<_> = (0..8).map(|_| runtime.spawn(flag.wait_owned())).collect();
            // Every other round the waits are parked first, so the set goes
            // through the wake-up; the others race it.
            if round % 2 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
            flag.set();
            runtime.block_on(async {
                for wait in waits {
                    tokio::time::timeout(Duration::from_secs(5), wait)
                        .await
                        .expect("woken")
                        .unwrap();
                }
            });
        }
    }
}
