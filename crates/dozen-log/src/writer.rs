//! Where lines go: standard output under its lock, a custom writer, or a bounded queue drained by
//! a writer thread.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::Duration;

use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

/// The destination the [`Builder`](crate::Builder) sets up.
#[derive(Clone)]
pub(crate) enum Sink {
    /// Standard output: each line is one `write_all` under the stdout lock, so lines from
    /// different threads never interleave.
    Stdout,
    /// A writer given to [`Builder::writer`](crate::Builder::writer).
    Custom(Arc<BoxMakeWriter>),
    /// A bounded queue in front of `Stdout` or `Custom`.
    Queue(Arc<Queue>),
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stdout => "Stdout",
            Self::Custom(_) => "Custom",
            Self::Queue(_) => "Queue",
        })
    }
}

impl Sink {
    /// Writes one line in place (never through the queue).
    fn write_direct(&self, line: &[u8]) {
        match self {
            Self::Stdout => {
                let _ = io::stdout().lock().write_all(line);
            }
            Self::Custom(w) => {
                let _ = w.make_writer().write_all(line);
            }
            Self::Queue(q) => q.target.write_direct(line),
        }
    }

    /// Writes one line, waiting for room in a queue even when the queue is lossy (for the panic
    /// line, which must not be dropped).
    pub(crate) fn write_line_blocking(&self, line: &[u8]) {
        match self {
            Self::Queue(q) => q.send_blocking(line.to_vec()),
            other => other.write_direct(line),
        }
    }

    /// Waits until every line handed over so far has been written and flushed.
    pub(crate) fn flush(&self) {
        match self {
            Self::Stdout => {
                let _ = io::stdout().flush();
            }
            Self::Custom(w) => {
                let _ = w.make_writer().flush();
            }
            Self::Queue(q) => q.flush(),
        }
    }

    pub(crate) fn dropped_lines(&self) -> u64 {
        match self {
            Self::Queue(q) => q.dropped.load(Ordering::Relaxed),
            _ => 0,
        }
    }

    /// Puts a bounded queue and a writer thread in front of this sink.
    pub(crate) fn into_queue(self, capacity: usize, lossy: bool) -> io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let target = self;
        let worker_target = target.clone();
        std::thread::Builder::new()
            .name("dozen-log-writer".to_owned())
            .spawn(move || drain(&worker_target, &rx))?;
        Ok(Self::Queue(Arc::new(Queue {
            tx,
            lossy,
            dropped: AtomicU64::new(0),
            target,
        })))
    }
}

enum Msg {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

/// The sending half of the non-blocking mode.
pub(crate) struct Queue {
    tx: SyncSender<Msg>,
    lossy: bool,
    dropped: AtomicU64,
    target: Sink,
}

impl Queue {
    fn send(&self, line: Vec<u8>) {
        if self.lossy {
            match self.tx.try_send(Msg::Line(line)) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(TrySendError::Disconnected(Msg::Line(line))) => self.target.write_direct(&line),
                Err(TrySendError::Disconnected(Msg::Flush(_))) => {}
            }
        } else {
            self.send_blocking(line);
        }
    }

    fn send_blocking(&self, line: Vec<u8>) {
        if let Err(mpsc::SendError(Msg::Line(line))) = self.tx.send(Msg::Line(line)) {
            // The writer thread is gone: write in place rather than lose the line.
            self.target.write_direct(&line);
        }
    }

    fn flush(&self) {
        let (ack_tx, ack_rx) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Flush(ack_tx)).is_ok() {
            // A writer stuck on a full pipe must not hang the shutdown forever.
            let _ = ack_rx.recv_timeout(Duration::from_secs(10));
        }
        self.target.flush();
    }
}

fn drain(target: &Sink, rx: &Receiver<Msg>) {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Line(line) => target.write_direct(&line),
            Msg::Flush(ack) => {
                target.flush();
                let _ = ack.send(());
            }
        }
    }
}

/// The writer for one line; `write_all` is one write of the whole line.
pub(crate) enum SinkWriter<'a> {
    Stdout(io::Stdout),
    Custom(Box<dyn Write + 'a>),
    Queue(&'a Queue),
}

impl Write for SinkWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.lock().write_all(buf),
            Self::Custom(w) => w.write_all(buf),
            Self::Queue(q) => {
                q.send(buf.to_vec());
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::Custom(w) => w.flush(),
            Self::Queue(_) => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = SinkWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        match self {
            Self::Stdout => SinkWriter::Stdout(io::stdout()),
            Self::Custom(w) => SinkWriter::Custom(w.make_writer()),
            Self::Queue(q) => SinkWriter::Queue(q),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        match self {
            Self::Custom(w) => SinkWriter::Custom(w.make_writer_for(meta)),
            other => other.make_writer(),
        }
    }
}

/// Flushes the log output; handed out by [`Guard::flusher`](crate::Guard::flusher) for a
/// shutdown sequence to call after the guard has moved elsewhere.
#[derive(Clone, Debug)]
pub struct Flusher {
    pub(crate) sink: Sink,
}

impl Flusher {
    /// Waits until every line logged so far has been written to its destination and flushed
    /// (at most 10 seconds for a queue whose writer is stuck).
    pub fn flush(&self) {
        self.sink.flush();
    }

    /// Lines dropped because the queue was full (only in the lossy non-blocking mode).
    #[must_use]
    pub fn dropped_lines(&self) -> u64 {
        self.sink.dropped_lines()
    }
}
