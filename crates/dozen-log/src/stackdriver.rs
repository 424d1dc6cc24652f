//! tracing-stackdriver's field conventions, read as dozen-log's own keys, and the value rules of
//! `httpRequest` members: `http_request.<snake_case>` is `httpRequest.<camelCase>`, `insert_id`
//! is `logging.googleapis.com/insertId`, `operation.{id,producer,first,last}` are the members of
//! `logging.googleapis.com/operation`; a `latency` becomes a Cloud Logging `Duration` string and
//! a `requestUrl` or `referer` loses its secrets. A leaf: JSON text in, JSON text out.

use std::borrow::Cow;
use std::time::Duration;

use crate::cloud::push_duration;

/// The key of a line's insert id.
pub(crate) const INSERT_ID: &str = "logging.googleapis.com/insertId";

/// The key of a line's operation.
pub(crate) const OPERATION: &str = "logging.googleapis.com/operation";

/// The `httpRequest.<camelCase>` key of an `http_request.<snake_case>` field (a member of Cloud
/// Logging's `HttpRequest`, in snake or camel case as tracing-stackdriver takes it); `None` for
/// any other name, which stays an ordinary field.
pub(crate) fn http_request_key(key: &str) -> Option<&'static str> {
    let sub = key.strip_prefix("http_request.")?;
    Some(match sub {
        "request_method" | "requestMethod" => "httpRequest.requestMethod",
        "request_url" | "requestUrl" => "httpRequest.requestUrl",
        "request_size" | "requestSize" => "httpRequest.requestSize",
        "status" => "httpRequest.status",
        "response_size" | "responseSize" => "httpRequest.responseSize",
        "user_agent" | "userAgent" => "httpRequest.userAgent",
        "remote_ip" | "remoteIp" => "httpRequest.remoteIp",
        "server_ip" | "serverIp" => "httpRequest.serverIp",
        "referer" => "httpRequest.referer",
        "latency" => "httpRequest.latency",
        "cache_lookup" | "cacheLookup" => "httpRequest.cacheLookup",
        "cache_hit" | "cacheHit" => "httpRequest.cacheHit",
        "cache_validated_with_origin_server" | "cacheValidatedWithOriginServer" => {
            "httpRequest.cacheValidatedWithOriginServer"
        }
        "cache_fill_bytes" | "cacheFillBytes" => "httpRequest.cacheFillBytes",
        "protocol" => "httpRequest.protocol",
        _ => return None,
    })
}

/// A member of `logging.googleapis.com/operation`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum OperationMember {
    Id,
    Producer,
    First,
    Last,
}

/// The operation member an `operation.<name>` field sets.
pub(crate) fn operation_member(key: &str) -> Option<OperationMember> {
    match key.strip_prefix("operation.")? {
        "id" => Some(OperationMember::Id),
        "producer" => Some(OperationMember::Producer),
        "first" => Some(OperationMember::First),
        "last" => Some(OperationMember::Last),
        _ => None,
    }
}

const LATENCY: &str = "httpRequest.latency";
const REQUEST_URL: &str = "httpRequest.requestUrl";
const REFERER: &str = "httpRequest.referer";

/// Whether [`http_value`] may rewrite the value of `key`: the others are not looked at.
pub(crate) fn is_rewritten(key: &str) -> bool {
    matches!(key, LATENCY | REQUEST_URL | REFERER)
}

/// The new JSON value of an `httpRequest` member whose value `json` must be rewritten, `None`
/// to keep it as written.
pub(crate) fn http_value(key: &str, json: &str) -> Option<String> {
    match key {
        LATENCY => latency(json),
        REQUEST_URL | REFERER => {
            let inner = json.strip_prefix('"')?.strip_suffix('"')?;
            match redact_url(inner) {
                Cow::Borrowed(_) => None,
                Cow::Owned(s) => Some(format!("\"{s}\"")),
            }
        }
        _ => None,
    }
}

/// A latency as a Cloud Logging `Duration` string (`"0.230s"`): a number is seconds, a Rust
/// `Duration`'s `Debug` (`230ms`, `1.5s`, `12.5µs`, `7ns`) is converted; `None` for a Duration
/// string already, or for anything else (kept as written).
fn latency(json: &str) -> Option<String> {
    let d = match json.strip_prefix('"').and_then(|j| j.strip_suffix('"')) {
        Some(text) => debug_duration(text)?,
        None => Duration::try_from_secs_f64(json.parse().ok()?).ok()?,
    };
    let mut out = String::with_capacity(16);
    out.push('"');
    push_duration(&mut out, d);
    out.push('"');
    Some(out)
}

/// Parses a `Duration`'s `Debug` form; `None` for a Cloud Logging Duration (seconds with at
/// most 9 fractional digits), which needs no rewriting, for a value no `Duration` holds (the
/// arithmetic is checked: an application's text is any text), or for anything else.
fn debug_duration(text: &str) -> Option<Duration> {
    let digits = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 18 {
        return None;
    }
    let unit_nanos: u128 = match unit {
        "s" if fraction.len() <= 9 => return None,
        "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "µs" | "us" => 1_000,
        "ns" => 1,
        _ => return None,
    };
    let whole: u128 = whole.parse().ok()?;
    let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    let nanos = whole
        .checked_mul(unit_nanos)?
        .checked_add(fraction.checked_mul(unit_nanos)? / scale)?;
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    let sub = u32::try_from(nanos % 1_000_000_000).ok()?;
    Some(Duration::new(secs, sub))
}

/// A URL, or a path with a query, with its secrets hidden as the request layer hides them:
/// user info, the values of secret query parameters, and the fragment. A path is read as a
/// path even when a URL appears inside it (`/login?password=x&next=https://app/`), and the
/// user info of any URL inside it is hidden too.
pub(crate) fn redact_url(url: &str) -> Cow<'_, str> {
    if dozen_redact::starts_with_url(url) {
        return dozen_redact::redact_client_urls(url);
    }
    // A URL inside the path or query goes first, whole: its password may hold a `#`, which
    // `redact_client_urls` hides with the rest (cut at the `#` first, it would show half).
    let inner = if has_inner_url(url) {
        dozen_redact::redact_client_urls(url)
    } else {
        Cow::Borrowed(url)
    };
    // A relative reference: its fragment is whatever follows the first `#`.
    let without_fragment = inner.split_once('#').map_or(inner.as_ref(), |(u, _)| u);
    let out = match without_fragment.split_once('?') {
        Some((path, query)) => {
            let mut out = String::with_capacity(url.len());
            out.push_str(path);
            out.push('?');
            dozen_redact::redact_query(query, &mut out);
            out
        }
        None => without_fragment.to_owned(),
    };
    if out == url {
        Cow::Borrowed(url)
    } else {
        Cow::Owned(out)
    }
}

/// Whether a URL (`://`) appears in `text`; a `:` is looked for first, since a path seldom
/// has one.
pub(crate) fn has_inner_url(text: &str) -> bool {
    text.contains(':') && text.contains("://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_rewritten_members_are_named_as_such() {
        for key in [LATENCY, REQUEST_URL, REFERER] {
            assert!(is_rewritten(key), "{key}");
        }
        // Every other member is left as written, which `is_rewritten` lets the recorder skip.
        for key in [
            "httpRequest.requestMethod",
            "httpRequest.status",
            "httpRequest.userAgent",
            "httpRequest.remoteIp",
            "httpRequest.protocol",
        ] {
            assert!(!is_rewritten(key), "{key}");
            assert_eq!(
                http_value(key, "\"https://u:pw@h/?token=x#f\""),
                None,
                "{key}"
            );
            assert_eq!(http_value(key, "\"230ms\""), None, "{key}");
        }
    }

    #[test]
    fn latencies_become_duration_strings() {
        fn check(json: &str, expected: Option<&str>) {
            assert_eq!(latency(json).as_deref(), expected, "{json}");
        }
        check("\"0.23s\"", None);
        check("\"230ms\"", Some("\"0.230s\""));
        check("\"1.5s\"", None);
        check("\"1.0000000015s\"", Some("\"1.000000001s\""));
        check("\"12.5µs\"", Some("\"0.000012500s\""));
        check("\"7ns\"", Some("\"0.000000007s\""));
        check("\"2m\"", None);
        check("\"fast\"", None);
        check("0.25", Some("\"0.250s\""));
        check("3", Some("\"3.000s\""));
        check("-1", None);
    }

    #[test]
    fn a_latency_too_large_for_any_duration_is_kept_as_written() {
        fn check(text: &str) {
            assert_eq!(debug_duration(text), None, "{text}");
            assert_eq!(http_value(LATENCY, &format!("\"{text}\"")), None, "{text}");
        }
        // u128::MAX is 340282366920938463463374607431768211455.
        check("340282366920938463463374607431768211.9us");
        check("340282366920938463463374607431768211455.5ns");
        check("340282366920938463463374607431768211455ms");
        check("340282366920938463463374607431768211456ns");
        check("340282366920938463463374607431768211.999999999999999999us");
        check("99999999999999999999999999999999999999999s");
        // The largest Duration is still one.
        assert_eq!(
            debug_duration("18446744073709551615.9999999999s"),
            Some(Duration::new(u64::MAX, 999_999_999))
        );
        // One second more is not.
        check("18446744073709551616.0000000000s");
    }

    #[test]
    fn urls_lose_their_secrets() {
        assert_eq!(
            redact_url("https://u:pw@x.test/a?access_token=t&page=2#f"),
            "https://***@x.test/a?access_token=***&page=2#***"
        );
        // A lone user name is hidden too: in a client's URL it is often a token.
        assert_eq!(
            redact_url("https://ghp_T0ken12345@github.com/o/r"),
            "https://***@github.com/o/r"
        );
        assert!(matches!(
            redact_url("https://x.test/no/secret"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            redact_url("/login?password=hunter2#x"),
            "/login?password=***"
        );
        assert!(matches!(redact_url("/plain?page=2"), Cow::Borrowed(_)));
    }
}
