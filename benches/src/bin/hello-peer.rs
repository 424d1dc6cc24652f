//! The peer of `examples/hello` in the load run (`benches/load.sh`): the same one-route service
//! (`GET /` answers `hello`) on plain axum, with tower-http's `TraceLayer` writing one INFO line
//! per request (`dozen_benches::trace_layer`) through tracing-subscriber's `fmt().json()` to
//! stdout, on every IPv4 address at `PORT` (default 8080).

use std::process::ExitCode;

fn main() -> ExitCode {
    let port = match std::env::var("PORT").map(|p| p.parse::<u16>()) {
        Ok(Ok(port)) => port,
        Err(std::env::VarError::NotPresent) => 8080,
        _ => {
            #[allow(clippy::print_stderr, reason = "the service has no logger yet")]
            {
                eprintln!("PORT: not a port number");
            }
            return ExitCode::from(78);
        }
    };
    tracing_subscriber::fmt().json().init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the runtime");
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
        tracing::info!(port, "listening");
        let app = dozen_benches::hello_router().layer(dozen_benches::trace_layer());
        axum::serve(listener, app).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "serve failed");
            ExitCode::FAILURE
        }
    }
}
