//! Waking idle workers on PostgreSQL: the table's insert trigger notifies
//! the channel `dozen_jobs`, and a listener task of the queue turns each
//! notification into a permit for the idle worker loop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::Notify;

/// The channel the insert trigger notifies.
const CHANNEL: &str = "dozen_jobs";

/// How to open the listener's connection.
#[derive(Clone)]
pub(crate) enum Source {
    /// From a PostgreSQL pool's options.
    Pool(sqlx::PgPool),
    /// From the URL an `AnyPool` was opened with (it holds the password, so
    /// it is never logged).
    #[cfg(feature = "any")]
    Url(String),
}

/// The wake-up of a queue: started by the first idle worker, stopped when
/// the last clone of the queue is dropped.
pub(crate) struct Wake {
    source: Source,
    notify: Arc<Notify>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Wake {
    pub(crate) fn new(source: Source) -> Self {
        Self {
            source,
            notify: Arc::new(Notify::new()),
            task: Mutex::new(None),
        }
    }

    /// Resolves after `idle`, or at the first notification since the last
    /// call (one received meanwhile is kept as a permit, so none is lost
    /// between a claim and the wait).
    pub(crate) async fn idle(&self, idle: Duration) {
        self.start();
        tokio::select! {
            () = self.notify.notified() => {}
            () = tokio::time::sleep(idle) => {}
        }
    }

    fn start(&self) {
        let Ok(mut task) = self.task.lock() else {
            return;
        };
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let (source, notify) = (self.source.clone(), Arc::clone(&self.notify));
        *task = Some(tokio::spawn(listen(source, notify)));
    }
}

impl Drop for Wake {
    fn drop(&mut self) {
        if let Ok(mut task) = self.task.lock()
            && let Some(task) = task.take()
        {
            task.abort();
        }
    }
}

/// Listens until aborted, reconnecting after failures; the worker's poll
/// interval covers the gaps.
async fn listen(source: Source, notify: Arc<Notify>) {
    loop {
        let listener = match &source {
            Source::Pool(pool) => PgListener::connect_with(pool).await,
            #[cfg(feature = "any")]
            Source::Url(url) => PgListener::connect(url).await,
        };
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%error, "cannot listen for enqueued jobs; polling meanwhile");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::debug!(%error, "cannot listen for enqueued jobs; polling meanwhile");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        // Jobs enqueued before the listener was up are found by a claim.
        notify.notify_one();
        loop {
            match listener.recv().await {
                Ok(_) => notify.notify_one(),
                Err(error) => {
                    tracing::debug!(%error, "listening for enqueued jobs failed; reconnecting");
                    break;
                }
            }
        }
    }
}
