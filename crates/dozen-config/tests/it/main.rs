//! Integration tests of dozen-config, one module per area.

mod compose;
mod describe;
#[cfg(feature = "dotenv")]
mod dotenv;
mod envy_diff;
mod errors;
mod files;
mod flatten;
mod names;
mod process;
mod props;
mod report;
mod strict;
mod values;

/// Pairs for `from_iter`.
pub(crate) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The error text of a load that must fail.
pub(crate) fn error_text<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    loader: &dozen_config::Loader,
    pairs: &[(&str, &str)],
) -> String {
    loader
        .from_iter::<_, T>(env(pairs))
        .unwrap_err()
        .to_string()
}
