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
    // Lower-cased on the stack: every query parameter of every URL parsed or logged is asked.
    let mut buf = [0u8; 64];
    let owned;
    let lower: &[u8] = match buf.get_mut(..name.len()) {
        Some(short) => {
            short.copy_from_slice(name.as_bytes());
            short.make_ascii_lowercase();
            short
        }
        None => {
            owned = name.to_ascii_lowercase();
            owned.as_bytes()
        }
    };
    CONTAINS.iter().any(|c| contains(lower, c.as_bytes()))
        || EXACT.iter().any(|e| lower == e.as_bytes())
}

/// Whether `needle` occurs in `hay`: names are short, so a plain scan beats a searcher's
/// set-up.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
