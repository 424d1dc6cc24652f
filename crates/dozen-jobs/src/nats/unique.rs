//! Unique keys on NATS: a key-value bucket holding the key of each live
//! job. `create` takes a key only when it is free, and the key is deleted
//! when its job is done or dead, so "no duplicate while one is pending or
//! running" holds as on SQL (NATS's own `Nats-Msg-Id` deduplication only
//! covers a time window, which is not the same).

use async_nats::jetstream::kv;

use crate::error::Error;
use crate::nats::headers::hex;

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
        match self.store.create(hex(key), bytes::Bytes::new()).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(Error::backend(format!("take unique key {key:?}"), e)),
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
