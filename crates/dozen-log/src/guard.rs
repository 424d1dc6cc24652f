//! [`Guard`]: flushes the log output at the end of `main`.

use crate::Format;
use crate::writer::Flusher;

/// Flushes the log output when dropped; keep it alive until the end of `main`.
///
/// For a shutdown sequence that runs elsewhere, [`Guard::flusher`] hands out a cheap clone of
/// the flushing handle.
#[must_use = "the guard flushes the log output when dropped: keep it alive until the end of main"]
#[derive(Debug)]
pub struct Guard {
    flusher: Flusher,
    format: Format,
}

impl Guard {
    pub(crate) fn new(flusher: Flusher, format: Format) -> Self {
        Self { flusher, format }
    }

    /// The format in effect: [`Format::Json`] or [`Format::Pretty`], never
    /// [`Format::Auto`] (resolved by whether standard output is a terminal). An app can
    /// write for people on a terminal and for machines otherwise, as `dozen::service` does
    /// with its start-up report.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// Waits until every line logged so far has been written and flushed, for at most
    /// [`FLUSH_TIMEOUT`](crate::FLUSH_TIMEOUT) (see [`Flusher::flush`]).
    pub fn flush(&self) {
        self.flusher.flush();
    }

    /// A handle that flushes, for a shutdown hook: `move || flusher.flush()`.
    pub fn flusher(&self) -> Flusher {
        self.flusher.clone()
    }

    /// Lines dropped because the queue was full (only in the lossy non-blocking mode).
    #[must_use]
    pub fn dropped_lines(&self) -> u64 {
        self.flusher.dropped_lines()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.flusher.flush();
    }
}
