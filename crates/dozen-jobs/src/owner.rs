//! Lease owner ids, unique to a process.

/// The longest host name part of an owner id (owner ids are stored in 128
/// bytes).
const MAX_HOST: usize = 64;

/// A lease owner id unique to this process: `hostname` (the pod's
/// `HOSTNAME`, or `worker`), the process id, and 64 bits from a hasher keyed
/// by the operating system's random source (std's `RandomState`), mixed with
/// the time. The host and pid alone collide when `HOSTNAME` is unset and
/// every container's worker is pid 1.
#[must_use]
pub fn owner_id(hostname: Option<&str>) -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let host: String = hostname
        .filter(|h| !h.is_empty())
        .unwrap_or("worker")
        .chars()
        .filter(char::is_ascii_graphic)
        .take(MAX_HOST)
        .collect();
    let mut random = std::collections::hash_map::RandomState::new().build_hasher();
    random.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    random.write_u32(std::process::id());
    format!("{host}-{}-{:016x}", std::process::id(), random.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_ids_differ_and_are_bounded() {
        let a = owner_id(None);
        let b = owner_id(None);
        assert_ne!(a, b);
        assert!(a.starts_with("worker-"), "{a}");
        let long = owner_id(Some(&"h\u{e9}\n".repeat(100)));
        assert!(long.len() <= 128, "{long}");
        assert!(long.chars().all(|c| c.is_ascii_graphic()), "{long}");
    }
}
