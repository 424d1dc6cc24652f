//! Connecting to NATS with the credentials taken out of the URL, so that
//! neither the client library nor an error or a log line ever holds them.

use crate::error::Error;

/// The credentials a NATS URL carried in its user info.
#[derive(PartialEq, Eq)]
pub(crate) enum Auth {
    /// None.
    None,
    /// `nats://TOKEN@host`.
    Token(String),
    /// `nats://user:pass@host`.
    User(String, String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Token(_) => f.write_str("Token(***)"),
            Self::User(user, _) => write!(f, "User({user:?}, ***)"),
        }
    }
}

/// `url` (a comma-separated list of servers) split into the servers without
/// user info and the credentials of the first server that had some.
pub(crate) fn split(url: &str) -> Result<(String, Auth), Error> {
    let mut servers = Vec::new();
    let mut auth = Auth::None;
    for server in url.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (scheme, rest) = match server.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, server),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let host = match authority.rsplit_once('@') {
            Some((info, host)) => {
                if auth == Auth::None {
                    auth = match info.split_once(':') {
                        Some((user, pass)) => Auth::User(decode(user), decode(pass)),
                        None => Auth::Token(decode(info)),
                    };
                }
                host
            }
            None => authority,
        };
        if host.is_empty() {
            return Err(Error::invalid(format!(
                "NATS_URL {}: a server has no host",
                dozen_redact::redact_urls(url)
            )));
        }
        servers.push(match scheme {
            Some(scheme) => format!("{scheme}://{host}{tail}"),
            None => format!("{host}{tail}"),
        });
    }
    if servers.is_empty() {
        return Err(Error::invalid("NATS_URL is empty"));
    }
    Ok((servers.join(","), auth))
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Connects to `url`. The credentials are registered with dozen-redact (so
/// that a log line that somehow holds them is masked) and handed to the
/// client apart from the servers.
pub(crate) async fn connect(url: &str) -> Result<async_nats::Client, Error> {
    let (servers, auth) = split(url)?;
    let options = async_nats::ConnectOptions::new();
    let options = match auth {
        Auth::None => options,
        Auth::Token(token) => {
            dozen_redact::register(&token);
            options.token(token)
        }
        Auth::User(user, pass) => {
            dozen_redact::register(&pass);
            options.user_and_password(user, pass)
        }
    };
    let shown = dozen_redact::redact_urls(url).into_owned();
    let addrs: Vec<async_nats::ServerAddr> = servers
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| Error::backend(format!("NATS_URL {shown}: not a NATS server list"), e))?;
    options
        .connect(addrs)
        .await
        .map_err(|e| Error::backend(format!("connect to NATS at {shown}"), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_taken_out_of_the_url() {
        let check = |url: &str, expected: Result<(&str, Auth), &str>| {
            let got = split(url).map_err(|e| e.to_string());
            let expected = expected
                .map(|(s, a)| (s.to_owned(), a))
                .map_err(str::to_owned);
            assert_eq!(got, expected, "{url}");
        };
        let user = |u: &str, p: &str| Auth::User(u.to_owned(), p.to_owned());
        check("nats://h:4222", Ok(("nats://h:4222", Auth::None)));
        check("h:4222", Ok(("h:4222", Auth::None)));
        check(
            "nats://app:p%40ss@h:4222",
            Ok(("nats://h:4222", user("app", "p@ss"))),
        );
        check(
            "nats://s3cr3t@a:1, nats://b:2",
            Ok(("nats://a:1,nats://b:2", Auth::Token("s3cr3t".to_owned()))),
        );
        check("", Err("NATS_URL is empty"));
        check(
            "nats://app:hunter2@",
            Err("NATS_URL nats://app:***@: a server has no host"),
        );
    }
}
