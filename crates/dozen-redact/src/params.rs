//! The one list of query parameter names whose values are secrets.

/// Names that mark a secret wherever they appear in the parameter's name.
/// A signed URL's signature (`X-Amz-Signature`, `X-Goog-Signature`) and a prefixed API key
/// (`X-Api-Key`, `google_api_key`) are caught this way.
const CONTAINS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "credential",
    "signature",
    "apikey",
    "api_key",
    "api-key",
    "private_key",
];

/// Names that mark a secret only as the whole name (`key` is secret, `keyspace` is not).
const EXACT: &[&str] = &["auth", "authorization", "key", "access_key", "sig", "code"];

/// Whether a query parameter's name says its value is a secret.
///
/// The comparison ignores ASCII case. See the crate documentation for the list.
///
/// ```
/// use dozen_redact::is_secret_param;
///
/// assert!(is_secret_param("sslpassword"));
/// assert!(is_secret_param("Access_Token"));
/// assert!(is_secret_param("sig"));
/// assert!(!is_secret_param("sslmode"));
/// assert!(!is_secret_param("authSource"));
/// ```
pub fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    CONTAINS.iter().any(|c| lower.contains(c)) || EXACT.contains(&lower.as_str())
}
