//! Promise: `describe` lists every variable a type reads, derived from the
//! type alone (no environment): its full name, a type hint, whether it is
//! required, optional or defaulted, and whether it is a secret, as a Markdown
//! table and as a `.env.example`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use dozen_config::{Requirement, Secret, prefixed};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the description matters")]
struct Config {
    database_url: Secret<url::Url>,
    #[serde(default = "port")]
    port: u16,
    debug: bool,
    #[serde(with = "humantime_serde")]
    timeout: Duration,
    hosts: Vec<String>,
    ports: Option<Vec<u16>>,
    labels: BTreeMap<String, u8>,
    listen: SocketAddr,
    data: PathBuf,
    mode: Mode,
    ratio: f32,
    db: Db,
    cache: Option<Cache>,
}

fn port() -> u16 {
    8080
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Web,
    Worker,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the description matters")]
struct Db {
    host: String,
    #[serde(default)]
    pool: u8,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the description matters")]
struct Cache {
    url: String,
}

#[test]
fn describes_every_variable() {
    let description = prefixed("APP_").describe::<Config>();
    let rows: Vec<(&str, &str, Requirement, bool)> = description
        .vars()
        .map(|v| (v.name(), v.hint(), v.requirement(), v.is_secret()))
        .collect();
    use Requirement::{Default, Optional, Required};
    assert_eq!(
        rows,
        [
            ("APP_DATABASE_URL", "url", Required, true),
            ("APP_PORT", "integer", Default, false),
            ("APP_DEBUG", "bool", Required, false),
            ("APP_TIMEOUT", "duration", Required, false),
            ("APP_HOSTS", "list of string", Required, false),
            ("APP_PORTS", "list of integer", Optional, false),
            ("APP_LABELS", "map of key=integer", Required, false),
            ("APP_LISTEN", "socket address", Required, false),
            ("APP_DATA", "path", Required, false),
            ("APP_MODE", "one of web, worker", Required, false),
            ("APP_RATIO", "number", Required, false),
            ("APP_DB__HOST", "string", Required, false),
            ("APP_DB__POOL", "integer", Default, false),
            ("APP_CACHE__URL", "string", Optional, false),
        ]
    );
    let markdown = description.markdown();
    assert!(markdown.starts_with("| Variable | Type | Required | Secret |\n|---|---|---|---|\n| `APP_DATABASE_URL` | url | required | yes |\n"), "{markdown}");
    assert!(markdown.contains("| `APP_PORT` | integer | has a default | no |\n"));
    let example = description.env_example();
    assert!(example.starts_with("# url, required, secret (or APP_DATABASE_URL_FILE=/path/to/file)\nAPP_DATABASE_URL=\n# integer, has a default\n# APP_PORT=\n"), "{example}");
    assert_eq!(
        dozen_config::describe::<Db>()
            .vars()
            .map(|v| v.name())
            .collect::<Vec<_>>(),
        ["HOST", "POOL"]
    );
}
