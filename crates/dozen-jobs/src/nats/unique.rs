//! Unique keys on NATS: a key-value bucket holding the key of each live
//! job. `create` takes a key only when it is free, and the key is deleted
//! when its job is done or dead, so "no duplicate while one is pending or
//! running" holds as on SQL (NATS's own `Nats-Msg-Id` deduplication only
//! covers a time window, which is not the same).

use std::time::Duration;

use async_nats::jetstream::kv;

use crate::error::Error;
use crate::job::JobId;
use crate::nats::headers::{hex, now_ms};

/// How long a key may stay taken by an enqueue that has not stored its job:
/// past this, the enqueuing process is taken to have died in between.
pub(crate) const STALE_TAKE: Duration = Duration::from_secs(60);

/// The bucket of live unique keys.
#[derive(Clone)]
pub(crate) struct UniqueKeys {
    store: kv::Store,
}

impl UniqueKeys {
    /// Binds the bucket `bucket`, creating it when missing.
    ///
    /// The bucket's stream is created here, with the configuration
    /// async-nats gives a bucket, because its own `create_key_value` first
    /// reads the account's info, which it cannot parse from a 2.9 server.
    pub(crate) async fn open(
        js: &async_nats::jetstream::Context,
        bucket: &str,
    ) -> Result<Self, Error> {
        use async_nats::jetstream::stream;
        let failed = |e: &dyn std::fmt::Display| {
            Error::backend(
                format!("bind the unique-key bucket {bucket}"),
                e.to_string(),
            )
        };
        js.get_or_create_stream(stream::Config {
            name: format!("KV_{bucket}"),
            description: Some("dozen-jobs: unique keys of pending and running jobs".to_owned()),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: 1,
            storage: stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            num_replicas: 1,
            ..stream::Config::default()
        })
        .await
        .map_err(|e| failed(&e))?;
        let store = js.get_key_value(bucket).await.map_err(|e| failed(&e))?;
        Ok(Self { store })
    }

    /// Takes `key` for a new job; `false` when a live job holds it.
    pub(crate) async fn take(&self, key: &str) -> Result<bool, Error> {
        let failed = |e: &dyn std::fmt::Display| {
            Error::backend(format!("take unique key {key:?}"), e.to_string())
        };
        let name = hex(key);
        let taking = bytes::Bytes::from(format!("taking {}", now_ms()));
        match self.store.create(&name, taking.clone()).await {
            Ok(_) => return Ok(true),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => return Err(failed(&e)),
        }
        let Some(entry) = self
            .store
            .entry(name.clone())
            .await
            .map_err(|e| failed(&e))?
        else {
            return Ok(false);
        };
        let since = std::str::from_utf8(&entry.value)
            .ok()
            .and_then(|v| v.strip_prefix("taking "))
            .and_then(|ms| ms.parse::<u64>().ok());
        let stale = since.is_some_and(|ms| {
            now_ms().saturating_sub(ms) > u64::try_from(STALE_TAKE.as_millis()).unwrap_or(0)
        });
        if !stale {
            return Ok(false);
        }
        tracing::warn!(
            key,
            "unique key left taken by an enqueue that died; taking it over"
        );
        match self.store.update(&name, taking, entry.revision).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(false),
            Err(e) => Err(failed(&e)),
        }
    }

    /// Records that job `id` now holds `key` (taken for it). A failure is
    /// logged: the key then looks stale after [`STALE_TAKE`].
    pub(crate) async fn held_by(&self, key: &str, id: JobId) {
        let value = bytes::Bytes::from(format!("job {id}"));
        if let Err(error) = self.store.put(hex(key), value).await {
            tracing::warn!(%error, job_id = id.0, "cannot record the holder of a unique key");
        }
    }

    /// Frees `key`: its job is done or dead (or was never stored).
    pub(crate) async fn free(&self, key: &str) -> Result<(), Error> {
        self.store
            .delete(hex(key))
            .await
            .map_err(|e| Error::backend(format!("free unique key {key:?}"), e))
    }

    /// Frees `key` after its job settled, logging a failure: the job is
    /// settled either way, and an operator can delete the key by hand.
    pub(crate) async fn free_after_settling(&self, key: Option<&str>) {
        if let Some(key) = key
            && let Err(error) = self.free(key).await
        {
            tracing::warn!(%error, "job settled, but its unique key is still held");
        }
    }
}
