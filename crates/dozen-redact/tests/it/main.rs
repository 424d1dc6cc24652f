//! dozen-redact's promises: a secret in any position of a URL, a list of URLs or a query
//! string is hidden, and a registered value is masked in every form it takes in a line.

mod registry;
mod urls;
