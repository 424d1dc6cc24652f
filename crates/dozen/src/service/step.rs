//! [`StepResult`]: what the web function and a process type's function may
//! return.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;

use super::context::Context;

pub use super::box_error::BoxError;

/// What the web function (`T` = [`axum::Router`]) and a process type's
/// function (`T` = `()`) may return: the value itself, or a `Result` whose
/// error ends the process (exit 1 from the web function's start-up, 70 from
/// a process type's function).
pub trait StepResult<T>: Send + 'static {
    /// The value, or the error that ends the process.
    ///
    /// # Errors
    ///
    /// The step's own error.
    fn into_result(self) -> Result<T, BoxError>;
}

impl StepResult<axum::Router> for axum::Router {
    fn into_result(self) -> Result<axum::Router, BoxError> {
        Ok(self)
    }
}

impl StepResult<()> for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<T, E> StepResult<T> for Result<T, E>
where
    T: Send + 'static,
    E: Into<BoxError> + Send + 'static,
{
    fn into_result(self) -> Result<T, BoxError> {
        self.map_err(Into::into)
    }
}

/// A step's future, boxed.
pub(crate) type StepFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// A step, boxed: given the context, its future.
pub(crate) type StepFn<S, T> = Box<dyn FnOnce(Context<S>) -> StepFuture<T>>;

/// The web function: builds the app's router.
pub(crate) type WebFn<S> = StepFn<S, axum::Router>;

/// A process type's function: runs until done or told to stop.
pub(crate) type ProcessFn<S> = StepFn<S, ()>;

/// Boxes `f`, whose output is a [`StepResult<T>`].
pub(crate) fn boxed<S, T, F, Fut>(f: F) -> StepFn<S, T>
where
    S: 'static,
    T: 'static,
    F: FnOnce(Context<S>) -> Fut + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: StepResult<T>,
{
    Box::new(move |ctx| match called(|| f(ctx)) {
        Ok(future) => Box::pin(async move { future.await.into_result() }),
        Err(error) => Box::pin(async move { Err(error) }),
    })
}

/// `f()`, or the error of its panic: a step's function that panics before
/// it returns its future fails like one whose future does (exit 1 from the
/// web function, 70 from a process type's), with the teardown run, instead
/// of unwinding out of the entry point.
pub(crate) fn called<R>(f: impl FnOnce() -> R) -> Result<R, BoxError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panicked(&*payload).into())
}

/// The failure of something that panicked, with the panic's message when it
/// has one (`panic!` with a literal or with format arguments).
pub(crate) fn panicked(payload: &(dyn Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    match message {
        Some(message) => format!("panicked: {message}"),
        None => "panicked".to_owned(),
    }
}
