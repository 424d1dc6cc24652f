//! Tracked tasks: the registry of what is running, by name, and the futures
//! and closures that keep an entry in it while they run and report a failure
//! to their owner.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinHandle};

use crate::lock::lock;

/// The output of a tracked task: `()` or a `Result` whose error starts shutdown.
///
/// A task that returns `Err` (or panics) starts shutdown with
/// [`Outcome::TaskFailed`](crate::Outcome::TaskFailed); the error's
/// `Display` is logged, so keep secrets out of it. A task that is asked to
/// stop should return `Ok`.
pub trait TaskOutput: Send + 'static {
    /// The failure to report, if this output is one.
    fn failure(&self) -> Option<&dyn fmt::Display>;
}

impl TaskOutput for () {
    fn failure(&self) -> Option<&dyn fmt::Display> {
        None
    }
}

impl<T, E> TaskOutput for Result<T, E>
where
    T: Send + 'static,
    E: fmt::Display + Send + 'static,
{
    fn failure(&self) -> Option<&dyn fmt::Display> {
        self.as_ref().err().map(|e| e as &dyn fmt::Display)
    }
}

/// Who holds the [`Tasks`] and hears of a failed one.
pub(crate) trait Owner: Send + Sync + 'static {
    /// The registry.
    fn tasks(&self) -> &Tasks;

    /// The task named `name` returned an error or panicked.
    fn task_failed(self: &Arc<Self>, name: Cow<'static, str>);
}

/// The tracked tasks: their names and abort handles, to report and abort
/// those still running, and a notification to wait for the last to end.
pub(crate) struct Tasks {
    registry: Mutex<Registry>,
    /// Woken when the registry is closed and empty.
    idle: Notify,
}

struct TaskEntry {
    name: Cow<'static, str>,
    abort: Option<AbortHandle>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    /// No task is expected to join any more: once `running` is empty, the
    /// drain is over.
    closed: bool,
    running: HashMap<u64, TaskEntry, BuildHasherDefault<IdHasher>>,
}

impl Registry {
    fn idle(&self) -> bool {
        self.closed && self.running.is_empty()
    }
}

/// Task ids are distinct counters: hashing them is wasted work.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_u64(&mut self, id: u64) {
        // Spread the low bits into the top ones, which hashbrown uses for its
        // control bytes.
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl Tasks {
    pub(crate) fn new() -> Self {
        Self {
            registry: Mutex::new(Registry::default()),
            idle: Notify::new(),
        }
    }

    /// How many tracked tasks are running.
    pub(crate) fn in_flight(&self) -> usize {
        lock(&self.registry).running.len()
    }

    /// The names of the tracked tasks still running, sorted.
    pub(crate) fn running(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.registry)
            .running
            .values()
            .map(|entry| entry.name.to_string())
            .collect();
        names.sort_unstable();
        names
    }

    /// No task may join the drain any more: [`wait`](Self::wait) resolves
    /// once those running have ended.
    pub(crate) fn close(&self) {
        let mut registry = lock(&self.registry);
        registry.closed = true;
        let idle = registry.idle();
        drop(registry);
        if idle {
            self.idle.notify_waiters();
        }
    }

    /// Resolves when the tasks are closed and none is running.
    pub(crate) async fn wait(&self) {
        loop {
            // Made before the registry is read: `notify_waiters` wakes a
            // `Notified` from the moment it exists.
            let notified = self.idle.notified();
            if lock(&self.registry).idle() {
                return;
            }
            notified.await;
        }
    }

    /// Takes task `id` out of the registry.
    fn remove(&self, id: u64) {
        let mut registry = lock(&self.registry);
        registry.running.remove(&id);
        let idle = registry.idle();
        drop(registry);
        if idle {
            self.idle.notify_waiters();
        }
    }

    /// Aborts every task that can be aborted (not the blocking ones).
    pub(crate) fn abort_all(&self) {
        for entry in lock(&self.registry).running.values() {
            if let Some(abort) = &entry.abort {
                abort.abort();
            }
        }
    }

    fn set_abort(&self, id: u64, abort: AbortHandle) {
        if let Some(entry) = lock(&self.registry).running.get_mut(&id) {
            entry.abort = Some(abort);
        }
    }

    fn name(&self, id: u64) -> Cow<'static, str> {
        lock(&self.registry)
            .running
            .get(&id)
            .map_or(Cow::Borrowed("?"), |entry| entry.name.clone())
    }
}

/// Enters a task named `name` in `owner`'s registry until the guard drops.
pub(crate) fn register<O: Owner>(owner: &Arc<O>, name: Cow<'static, str>) -> TaskGuard<O> {
    let tasks = owner.tasks();
    let mut registry = lock(&tasks.registry);
    let id = registry.next_id;
    registry.next_id += 1;
    registry.running.insert(id, TaskEntry { name, abort: None });
    drop(registry);
    TaskGuard {
        owner: Arc::clone(owner),
        id,
    }
}

/// Spawns `future` on the current runtime as a tracked task.
pub(crate) fn spawn<O, F>(
    owner: &Arc<O>,
    name: Cow<'static, str>,
    future: F,
) -> JoinHandle<F::Output>
where
    O: Owner,
    F: Future + Send + 'static,
    F::Output: TaskOutput,
{
    let guard = register(owner, name);
    let id = guard.id;
    let handle = tokio::spawn(Tracked { future, guard });
    owner.tasks().set_abort(id, handle.abort_handle());
    handle
}

/// Runs `f` on tokio's blocking pool as a tracked task (which cannot be
/// aborted).
pub(crate) fn spawn_blocking<O, F, R>(
    owner: &Arc<O>,
    name: Cow<'static, str>,
    f: F,
) -> JoinHandle<R>
where
    O: Owner,
    F: FnOnce() -> R + Send + 'static,
    R: TaskOutput,
{
    let guard = register(owner, name);
    tokio::task::spawn_blocking(move || match catch_unwind(AssertUnwindSafe(f)) {
        Ok(output) => {
            if let Some(failure) = output.failure() {
                guard.fail(failure);
            }
            drop(guard);
            output
        }
        Err(payload) => {
            guard.fail(&"panicked");
            drop(guard);
            resume_unwind(payload)
        }
    })
}

/// Keeps a task in the registry while it lives.
pub(crate) struct TaskGuard<O: Owner> {
    owner: Arc<O>,
    id: u64,
}

impl<O: Owner> TaskGuard<O> {
    fn fail(&self, reason: &dyn fmt::Display) {
        let name = self.owner.tasks().name(self.id);
        tracing::error!(task = %name, reason = %reason, "tracked task failed; starting shutdown");
        self.owner.task_failed(name);
    }
}

impl<O: Owner> Drop for TaskGuard<O> {
    fn drop(&mut self) {
        self.owner.tasks().remove(self.id);
    }
}

pin_project! {
    struct Tracked<F, O: Owner> {
        #[pin]
        future: F,
        guard: TaskGuard<O>,
    }
}

impl<F, O> Future for Tracked<F, O>
where
    F: Future,
    F::Output: TaskOutput,
    O: Owner,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => {
                if let Some(failure) = output.failure() {
                    this.guard.fail(failure);
                }
                Poll::Ready(output)
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                this.guard.fail(&"panicked");
                resume_unwind(payload)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    struct Test(Tasks);

    impl Owner for Test {
        fn tasks(&self) -> &Tasks {
            &self.0
        }

        fn task_failed(self: &Arc<Self>, _: Cow<'static, str>) {}
    }

    async fn idle_within(tasks: &Tasks, time: Duration) -> bool {
        tokio::time::timeout(time, tasks.wait()).await.is_ok()
    }

    #[tokio::test]
    async fn wait_resolves_once_closed_and_the_last_task_has_ended() {
        let owner = Arc::new(Test(Tasks::new()));
        let tasks = &owner.0;
        // Open: not idle even with nothing running.
        assert!(!idle_within(tasks, Duration::from_millis(20)).await);
        let first = register(&owner, "first".into());
        tasks.close();
        assert!(!idle_within(tasks, Duration::from_millis(20)).await);
        // A task registered after `close` is waited for too.
        let late = register(&owner, "late".into());
        drop(first);
        assert_eq!(tasks.running(), ["late"]);
        assert!(!idle_within(tasks, Duration::from_millis(20)).await);
        // The last one ending wakes a wait already parked.
        let waiting = {
            let owner = Arc::clone(&owner);
            tokio::spawn(async move { owner.0.wait().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(late);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .unwrap();
        assert!(idle_within(tasks, Duration::from_millis(20)).await);
    }

    #[tokio::test]
    async fn closing_an_empty_registry_wakes_a_parked_wait() {
        let owner = Arc::new(Test(Tasks::new()));
        let waiting = {
            let owner = Arc::clone(&owner);
            tokio::spawn(async move { owner.0.wait().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        owner.0.close();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .unwrap();
    }
}
