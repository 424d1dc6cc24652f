//! Integration tests of dozen-config, one module per area.

mod bounded_durations;
mod compose;
mod describe;
#[cfg(feature = "dotenv")]
mod dotenv;
mod empty_environment;
mod envy_adoption;
mod envy_diff;
mod errors;
mod files;
mod flatten;
mod hostile_environment;
mod names;
mod no_secret_printed;
mod process;
mod props;
mod report;
mod secrets_registered;
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

/// A temporary file holding `content`, for `X_FILE` variables.
pub(crate) fn file(content: &[u8]) -> tempfile::NamedTempFile {
    use std::io::Write as _;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(content).unwrap();
    file
}
