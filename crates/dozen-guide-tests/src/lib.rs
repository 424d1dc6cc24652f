//! The guide in `docs/` is part of the product, so it is checked like the
//! code (nothing here is published):
//!
//! - every ` ```rust ` block of a guide page is a doctest of this crate: it
//!   compiles, and runs where it has a `main` (or is a plain block of
//!   statements); lines starting with `# ` are hidden from the reader but
//!   compiled;
//! - a block that quotes the example apps (` ```rust,ignore ` whose first line
//!   is `// examples/<file>`) is an excerpt: `tests/it/excerpts.rs` checks that
//!   its lines stand, in order, in that file, which the workspace compiles;
//! - a block of another library, or one that needs files a doctest cannot
//!   have, is ` ```rust,ignore ` with a first line `// not compiled: <why>`;
//! - any other ` ```rust,ignore ` block fails that test, so no snippet escapes
//!   without saying why.
//!
//! `cargo test -p dozen-guide-tests` runs both.

/// Pages whose Rust blocks are doctests. The list is checked against the
/// folder by `tests/it/excerpts.rs`, so a new page cannot be forgotten.
#[cfg(doctest)]
pub mod pages {
    macro_rules! page {
        ($name:ident, $path:literal) => {
            #[doc = include_str!(concat!("../../../", $path))]
            pub struct $name;
        };
    }
    page!(Readme, "README.md");
    page!(GettingStarted, "docs/getting-started.md");
    page!(Guide, "docs/README.md");
    page!(Architecture, "docs/ARCHITECTURE.md");
    page!(Security, "docs/SECURITY.md");
    page!(Benchmarks, "docs/benchmarks.md");
    page!(Migrating, "docs/migrating.md");
    page!(ExpandContract, "docs/expand-contract.md");
    page!(Codebase, "docs/factors/01-codebase.md");
    page!(Dependencies, "docs/factors/02-dependencies.md");
    page!(Config, "docs/factors/03-config.md");
    page!(BackingServices, "docs/factors/04-backing-services.md");
    page!(BuildReleaseRun, "docs/factors/05-build-release-run.md");
    page!(Processes, "docs/factors/06-processes.md");
    page!(PortBinding, "docs/factors/07-port-binding.md");
    page!(Concurrency, "docs/factors/08-concurrency.md");
    page!(Disposability, "docs/factors/09-disposability.md");
    page!(DevProdParity, "docs/factors/10-dev-prod-parity.md");
    page!(Logs, "docs/factors/11-logs.md");
    page!(AdminProcesses, "docs/factors/12-admin-processes.md");
}
