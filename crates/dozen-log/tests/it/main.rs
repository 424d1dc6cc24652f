//! Integration tests of dozen-log, one module per area.

mod child;
mod exit_never_blocks;
mod golden;
#[cfg(feature = "http")]
mod http;
mod integer_precision;
mod line_cap;
mod masks_registered_secrets;
#[cfg(all(feature = "http", feature = "opentelemetry"))]
mod opentelemetry;
mod pretty;
mod pretty_request_line;
#[cfg(feature = "http")]
mod request_log_hides_secrets;
mod settings;
mod stackdriver_conventions;
mod terminal_safe;
mod trace;
mod trace_parsers_never_panic;

use std::collections::HashSet;
use std::io;
use std::sync::{Arc, Mutex};

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// A `MakeWriter` collecting everything written, for the golden tests.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub(crate) fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Parses one JSON line, failing on a duplicate key at any depth.
pub(crate) fn parse_strict(line: &str) -> Result<serde_json::Value, String> {
    let mut de = serde_json::Deserializer::from_str(line);
    de.deserialize_any(NoDuplicates)
        .map_err(|e| format!("{e}: {line}"))?;
    serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))
}

struct NoDuplicates;

impl<'de> Visitor<'de> for NoDuplicates {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Seed)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !keys.insert(key.clone()) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            map.next_value_seed(Seed)?;
        }
        Ok(())
    }
}

struct Seed;

impl<'de> de::DeserializeSeed<'de> for Seed {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(NoDuplicates)
    }
}
