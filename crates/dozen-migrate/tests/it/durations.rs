//! No duration given to a migrator can panic it: the largest lock timeout,
//! wait timeout and poll interval work like any other (the arithmetic on
//! them saturates), on a database that is free and on one being waited for.

use std::time::Duration;

use crate::support::{Kind, connect};

#[tokio::test]
async fn the_largest_durations_neither_panic_nor_overflow() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_durations").await else {
        return;
    };
    let db = connect(&fresh.url).await;
    let migrator = Kind::Sqlite
        .migrator()
        .with_lock_timeout(Duration::MAX)
        .with_poll_interval(Duration::MAX);
    // Nothing applied yet: a wait with no time left returns at once.
    let waited = migrator
        .clone()
        .with_wait_timeout(Duration::ZERO)
        .wait(&db)
        .await;
    assert!(waited.is_err(), "the schema is not there yet");
    let report = migrator
        .apply(&db)
        .await
        .expect("apply with the largest lock timeout");
    assert_eq!(report.applied.len(), 20);
    let status = tokio::time::timeout(
        Duration::from_secs(30),
        migrator.clone().with_wait_timeout(Duration::MAX).wait(&db),
    )
    .await
    .expect("an up-to-date schema ends the wait at once")
    .expect("wait");
    assert!(status.is_up_to_date());
}
