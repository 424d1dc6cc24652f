//! [`AppSlot`]: the application's routes, served from the moment the port is
//! bound, answering 503 until start-up has built them.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_service::Service;

/// The app's router once it is built; until then a request is answered
/// `503 {"status":"starting"}` with `retry-after: 1`. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct AppSlot(Arc<OnceLock<Router>>);

impl AppSlot {
    /// Serves `app` from now on; a second call changes nothing.
    pub(crate) fn set(&self, app: Router) {
        let _ = self.0.set(app);
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl Service<Request> for AppSlot {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> BoxFuture {
        match self.0.get() {
            // A router is always ready; `call` needs no `poll_ready` first.
            Some(app) => Box::pin(app.clone().call(request)),
            None => Box::pin(std::future::ready(Ok(starting()))),
        }
    }
}

fn starting() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        super::body::json("starting", &[]),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
