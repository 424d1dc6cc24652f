//! The two binaries' services, built here so that a test can check the
//! settings of each process type (`Service::check_settings`) against the
//! deployment's manifests, with the very checks their start-up runs.

use dozen::backing::Any;
use dozen::jobs::{JobContext, Worker};
use dozen::service::{BoxError, Context, Service};

use crate::config::App;
use crate::config::Worker as Settings;
use crate::db::{self, Db};
use crate::jobs::{Reminder, remind};
use crate::routes;

/// The `todo-api` binary: the web process type and `todo-api migrate`.
pub fn web() -> Service<App> {
    Service::<App>::new("todo-api", env!("CARGO_PKG_VERSION"))
        .with_database(|app: &App| &app.database_url)
        .with_migrations(db::migrator)
        .web(|ctx| async move {
            let pool = ctx.database::<Any>().await?;
            let db = Db::from_pool(pool, &ctx.settings().database_url)?;
            Ok::<_, BoxError>(routes::router(db))
        })
}

/// The `worker` binary (the `example-worker` package): the process type
/// `worker` and `worker jobs status|dead|retry`.
pub fn worker() -> Service<Settings> {
    Service::<Settings>::new("todo-worker", env!("CARGO_PKG_VERSION"))
        .with_database(|(database, ..): &Settings| &database.database_url)
        .with_migrations(db::migrator)
        .worker(|ctx| async move {
            let db = open(&ctx).await?;
            let work_time = ctx.settings().1.job_work_time;
            Ok::<_, BoxError>(Worker::new(db.jobs.clone()).handle(
                move |job: JobContext, reminder: Reminder| {
                    let db = db.clone();
                    async move { remind(&db, &job, reminder, work_time).await }
                },
            ))
        })
}

/// The database, connected and migrated (or waited for) by the entry point.
async fn open(ctx: &Context<Settings>) -> Result<Db, BoxError> {
    let pool = ctx.database::<Any>().await?;
    Ok(Db::from_pool(pool, &ctx.settings().0.database_url)?)
}
