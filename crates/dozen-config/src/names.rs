//! Names and hints: how a field becomes a variable name, and how a visitor's
//! `expecting` text becomes what an error or the documentation says.
//!
//! A leaf: the loader and the tracer both use it, and it uses neither.

/// The newtype name through which [`crate::Secret`] tells the deserializers
/// that a value is a secret.
pub(crate) const SECRET: &str = "dozen_config::Secret";

/// `prefix` + `FIELD`, upper-cased.
pub(crate) fn join(prefix: &str, field: &str) -> String {
    let mut var = String::with_capacity(prefix.len() + field.len());
    join_into(&mut var, prefix, field);
    var
}

/// [`join`] into `var`, which is cleared first: a buffer kept across fields.
pub(crate) fn join_into(var: &mut String, prefix: &str, field: &str) {
    var.clear();
    var.push_str(prefix);
    if field.is_ascii() {
        var.push_str(field);
        var[prefix.len()..].make_ascii_uppercase();
    } else {
        var.push_str(&field.to_uppercase());
    }
}

/// What an error says a variable should hold, from a visitor's `expecting`
/// text: `an integer from 0 to 65535` for `u16`.
pub(crate) fn hint(expected: &str) -> String {
    match expected {
        "a duration" => "a duration such as 30s or 1m 30s".into(),
        "a string representing an URL" => "a URL such as https://example.com/".into(),
        "IP address" => "an IP address such as 127.0.0.1".into(),
        "IPv4 address" => "an IPv4 address such as 127.0.0.1".into(),
        "IPv6 address" => "an IPv6 address such as ::1".into(),
        "socket address" => "a socket address such as 0.0.0.0:8080".into(),
        "path string" => "a path".into(),
        "a boolean" => "true or false (also 1/0, yes/no, on/off)".into(),
        "f32" | "f64" => "a number".into(),
        "a character" | "a char" => "a single character".into(),
        other => int_range(other).unwrap_or_else(|| other.to_owned()),
    }
}

/// What the documentation calls a variable's type, from a visitor's
/// `expecting` text: `integer` for `u16`.
pub(crate) fn type_hint(expected: &str) -> String {
    match expected {
        "a string" => "string".into(),
        "a duration" => "duration".into(),
        "a string representing an URL" => "url".into(),
        "path string" => "path".into(),
        "IP address" | "IPv4 address" | "IPv6 address" => "ip address".into(),
        "socket address" | "IPv4 socket address" | "IPv6 socket address" => "socket address".into(),
        "a character" | "a char" => "char".into(),
        "a boolean" => "bool".into(),
        "f32" | "f64" => "number".into(),
        "a sequence" => "list".into(),
        other if is_integer(other) => "integer".into(),
        other => other.to_owned(),
    }
}

/// Whether a visitor's `expecting` text names an integer type.
pub(crate) fn is_integer(expected: &str) -> bool {
    int_range(expected).is_some()
}

fn int_range(ty: &str) -> Option<String> {
    macro_rules! range {
        ($($t:ident)*) => {
            match ty {
                $(stringify!($t) => Some(format!("an integer from {} to {}", $t::MIN, $t::MAX)),)*
                _ => None,
            }
        };
    }
    range!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize)
}
