//! Where lines go: standard output under its lock, a custom writer, or a bounded queue drained by
//! a writer thread.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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
        while_writing(|| match self {
            Self::Stdout => {
                let _ = io::stdout().lock().write_all(line);
            }
            Self::Custom(w) => {
                let _ = w.make_writer().write_all(line);
            }
            Self::Queue(q) => q.target.write_direct(line),
        });
    }

    /// Writes `line` (if any) and flushes, giving up after `timeout`: a queue gets the line and
    /// the flush request with `try_send` until the deadline (even a lossy one: the panic line
    /// must not be dropped while there is time), standard output and a custom writer are
    /// written and flushed on a helper thread that is abandoned at the deadline, since a pipe
    /// nobody reads blocks its writer and whoever waits for its lock. Returns whether
    /// everything was done in time.
    pub(crate) fn write_and_flush_within(&self, line: Option<Vec<u8>>, timeout: Duration) -> bool {
        let now = Instant::now();
        // Far enough for any caller; `Instant + Duration` would panic on overflow.
        let deadline = now
            .checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
        match self {
            Self::Queue(q) => {
                if q.stalled.load(Ordering::Relaxed) {
                    return false;
                }
                if let Some(line) = line {
                    match q.send_until(Msg::Line(line), deadline) {
                        Ok(()) => {}
                        // The writer thread is gone (its writer panicked): write in place,
                        // as an ordinary line is, rather than lose the line.
                        Err(Unsent::Gone(Msg::Line(line))) => {
                            return q.target.write_and_flush_within(Some(line), left(deadline));
                        }
                        Err(_) => {
                            q.stalled.store(true, Ordering::Relaxed);
                            return false;
                        }
                    }
                }
                q.flush_until(deadline)
            }
            direct => {
                let sink = direct.clone();
                within(timeout, move || {
                    if let Some(line) = line {
                        sink.write_direct(&line);
                    }
                    sink.flush_direct();
                })
            }
        }
    }

    /// Flushes standard output or a custom writer in place (a queue's target is flushed by its
    /// writer thread).
    fn flush_direct(&self) {
        match self {
            Self::Stdout => {
                let _ = io::stdout().flush();
            }
            Self::Custom(w) => {
                let _ = w.make_writer().flush();
            }
            Self::Queue(_) => {}
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
        let stalled = Arc::new(AtomicBool::new(false));
        let worker_stalled = Arc::clone(&stalled);
        std::thread::Builder::new()
            .name("dozen-log-writer".to_owned())
            .spawn(move || drain(&worker_target, &rx, &worker_stalled))?;
        Ok(Self::Queue(Arc::new(Queue {
            tx,
            lossy,
            dropped: AtomicU64::new(0),
            target,
            stalled,
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
    /// A flush timed out and the writer thread has written nothing since: the next bounded
    /// call gives up at once instead of waiting its whole timeout again.
    stalled: Arc<AtomicBool>,
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

    /// Hands `msg` to the writer thread, retrying while the queue is full until `deadline`;
    /// never blocks past it.
    fn send_until(&self, msg: Msg, deadline: Instant) -> Result<(), Unsent> {
        let mut msg = msg;
        let mut pause = Duration::from_micros(50);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(back)) => return Err(Unsent::Gone(back)),
                Err(TrySendError::Full(back)) => msg = back,
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Unsent::Late);
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// Waits until the writer thread has written and flushed every line queued before, or
    /// until `deadline`. Returns whether it did in time.
    fn flush_until(&self, deadline: Instant) -> bool {
        if self.stalled.load(Ordering::Relaxed) {
            return false;
        }
        let (ack_tx, ack_rx) = mpsc::sync_channel(1);
        let done = match self.send_until(Msg::Flush(ack_tx), deadline) {
            Ok(()) => ack_rx.recv_timeout(left(deadline)).is_ok(),
            // The writer thread is gone: flush its target in place.
            Err(Unsent::Gone(_)) => {
                return self.target.write_and_flush_within(None, left(deadline));
            }
            Err(Unsent::Late) => false,
        };
        if !done {
            self.stalled.store(true, Ordering::Relaxed);
        }
        done
    }
}

/// Why [`Queue::send_until`] did not queue a message.
enum Unsent {
    /// The writer thread is gone; the message is given back.
    Gone(Msg),
    /// The queue stayed full until the deadline.
    Late,
}

/// What is left of the time until `deadline`.
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

fn drain(target: &Sink, rx: &Receiver<Msg>, stalled: &AtomicBool) {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Line(line) => target.write_direct(&line),
            Msg::Flush(ack) => {
                target.flush_direct();
                let _ = ack.send(());
            }
        }
        if stalled.load(Ordering::Relaxed) {
            stalled.store(false, Ordering::Relaxed);
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

/// The longest [`Flusher::flush`] (and [`Guard`](crate::Guard)'s drop, and the panic hook) waits
/// for the output: a writer stuck on a pipe that nobody reads never holds up an exit longer.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Flushes the log output; handed out by [`Guard::flusher`](crate::Guard::flusher) for a
/// shutdown sequence to call after the guard has moved elsewhere.
#[derive(Clone, Debug)]
pub struct Flusher {
    pub(crate) sink: Sink,
}

impl Flusher {
    /// Waits until every line logged so far has been written to its destination and flushed,
    /// for at most [`FLUSH_TIMEOUT`] (5 seconds), whatever the state of the output.
    ///
    /// The bound holds when the queue of the non-blocking mode is full and when the writer is
    /// stuck (standard output a pipe that nobody reads, another thread blocked in a write under
    /// the standard output lock): the request to flush is queued with `try_send` until the
    /// deadline, and standard output or a custom writer is flushed on a helper thread that is
    /// abandoned at the deadline. Once a flush has timed out, later ones return at once for as
    /// long as the writer stays stuck, so a shutdown that flushes twice (a hook, then the
    /// guard's drop) still waits at most one `FLUSH_TIMEOUT` in all. After a timeout the lines
    /// not yet written may be lost; nothing else is affected.
    pub fn flush(&self) {
        self.sink.write_and_flush_within(None, FLUSH_TIMEOUT);
    }

    /// [`flush`](Self::flush), waiting at most `timeout` instead of [`FLUSH_TIMEOUT`]; returns
    /// whether every line logged so far was written and flushed in time. For a teardown hook
    /// with a budget of its own: call it off the async runtime (`spawn_blocking`), since it
    /// blocks.
    #[must_use = "false when the output did not take the lines in time"]
    pub fn flush_within(&self, timeout: Duration) -> bool {
        self.sink.write_and_flush_within(None, timeout)
    }

    /// Lines dropped because the queue was full (only in the lossy non-blocking mode).
    #[must_use]
    pub fn dropped_lines(&self) -> u64 {
        self.sink.dropped_lines()
    }
}

/// Helper threads abandoned at their deadline that have not finished yet: while there is one,
/// the output is known to be stuck and a bounded call gives up at once instead of waiting its
/// whole timeout again.
static STUCK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread is a helper of [`within`]: its own panics are not logged again.
    static IS_HELPER: Cell<bool> = const { Cell::new(false) };
    /// This thread is inside a writer's `write_all`: if it panics, the writer is the culprit.
    static WRITING: Cell<bool> = const { Cell::new(false) };
}

/// A helper's progress, shared with the thread that waits for it.
#[derive(Default)]
struct HelperState {
    finished: bool,
    abandoned: bool,
}

/// Runs `f` on a helper thread and waits for it at most `timeout`; returns whether it finished
/// in time. Gives up at once while an earlier helper is still stuck, or when no thread can be
/// started.
fn within(timeout: Duration, f: impl FnOnce() + Send + 'static) -> bool {
    if STUCK.load(Ordering::Acquire) > 0 {
        return false;
    }
    let state = Arc::new(Mutex::new(HelperState::default()));
    let helper_state = Arc::clone(&state);
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("dozen-log-flush".to_owned())
        .spawn(move || {
            IS_HELPER.with(|h| h.set(true));
            f();
            let mut st = helper_state.lock().unwrap_or_else(PoisonError::into_inner);
            st.finished = true;
            if st.abandoned {
                STUCK.fetch_sub(1, Ordering::AcqRel);
            }
            drop(st);
            let _ = tx.send(());
        });
    if spawned.is_err() {
        return false;
    }
    if rx.recv_timeout(timeout).is_ok() {
        return true;
    }
    let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
    if !st.finished {
        st.abandoned = true;
        STUCK.fetch_add(1, Ordering::AcqRel);
    }
    false
}

/// Whether this thread is one of the helpers of a bounded flush.
pub(crate) fn is_helper() -> bool {
    IS_HELPER.try_with(Cell::get).unwrap_or(false)
}

/// Whether this thread is inside a writer's `write_all` (see [`while_writing`]).
pub(crate) fn is_writing() -> bool {
    WRITING.try_with(Cell::get).unwrap_or(false)
}

/// Runs `f`, a call into a writer, marked so that a panic inside it is known to come from the
/// writer (the panic hook then does not hand the writer its line).
pub(crate) fn while_writing<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = WRITING.try_with(|w| w.set(self.0));
        }
    }
    let _reset = Reset(WRITING.try_with(|w| w.replace(true)).unwrap_or(false));
    f()
}
