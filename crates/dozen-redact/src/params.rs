//! The one list of query parameter names whose values are secrets.

/// Names that mark a secret wherever they appear in the parameter's name.
const CONTAINS: &[&str] = &["pass", "pwd", "secret", "token", "credential"];

/// Names that mark a secret only as the whole name (`key` is secret, `keyspace` is not).
const EXACT: &[&str] = &[
    "auth",
    "authorization",
    "key",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "private_key",
    "sig",
    "signature",
    "code",
];

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
