//! Slow clients, through the facade: the `HTTP_*` settings reach the server
//! on `PORT` and the one on `MANAGEMENT_PORT`. A header-read timeout of
//! 700 ms closes a connection that sends half a header, one that sends
//! nothing and an idle keep-alive one, long before the 30 s default would;
//! with `HTTP_MAX_CONNECTIONS=2`, a third connection is closed unserved
//! while the two keep being served.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::support::{probe_until, serve};

/// `HTTP_HEADER_READ_TIMEOUT` here.
const TIMEOUT: Duration = Duration::from_millis(700);

/// How long a stalled connection may stay open: wide for a loaded machine,
/// far below the 30 s default.
const CLOSED_WITHIN: Duration = Duration::from_secs(5);

/// What a slow client does before it stalls.
#[derive(Clone, Copy, Debug)]
enum Stall {
    /// Sends half a request header.
    HalfHeader,
    /// Sends nothing at all.
    Silent,
    /// Sends a whole request, reads the response, then sends nothing more.
    IdleKeepAlive,
}

#[test]
fn http_header_read_timeout_closes_stalled_connections_on_both_ports() {
    let hello = serve(&[
        ("MANAGEMENT_PORT", "0"),
        ("HTTP_HEADER_READ_TIMEOUT", "700ms"),
    ]);
    let (addr, management) = (hello.addr(), hello.management_addr());
    probe_until(management, "/readyz", 200);
    let stalls = [Stall::HalfHeader, Stall::Silent, Stall::IdleKeepAlive];
    // All at once, so that the test waits about one timeout, not six.
    let clients: Vec<_> = [(addr, "/"), (management, "/livez")]
        .into_iter()
        .flat_map(|(addr, path)| stalls.map(|stall| (addr, path, stall)))
        .map(|(addr, path, stall)| {
            std::thread::spawn(move || (addr, stall, open_for(addr, path, stall)))
        })
        .collect();
    let mut wrong = Vec::new();
    for client in clients {
        let (addr, stall, open) = client.join().expect("a client");
        match open {
            None => wrong.push(format!("{stall:?} to {addr}: open after {CLOSED_WITHIN:?}")),
            // Closed at once, for some other reason than the timeout.
            Some(open) if open < TIMEOUT / 2 => {
                wrong.push(format!("{stall:?} to {addr}: closed after {open:?}"));
            }
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn http_max_connections_closes_one_more_on_both_ports() {
    let hello = serve(&[("MANAGEMENT_PORT", "0"), ("HTTP_MAX_CONNECTIONS", "2")]);
    let (addr, management) = (hello.addr(), hello.management_addr());
    probe_until(management, "/readyz", 200);
    for (addr, path) in [(addr, "/"), (management, "/livez")] {
        let mut first = served(addr, path);
        let mut second = served(addr, path);
        assert_eq!(
            exchange(&mut connect(addr), path),
            None,
            "a third connection to {addr} is served"
        );
        assert_eq!(exchange(&mut first, path), Some(200), "{addr}");
        assert_eq!(exchange(&mut second, path), Some(200), "{addr}");
        drop(first);
        // The slot frees once the server has seen the connection end.
        drop(served(addr, path));
    }
}

/// A connection to `addr`, waiting at most [`CLOSED_WITHIN`] for each read.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(CLOSED_WITHIN))
        .expect("a timeout");
    stream
}

/// A connection to `addr` on which `GET path` was answered 200, trying new
/// ones while the server closes them.
fn served(addr: SocketAddr, path: &str) -> TcpStream {
    let since = Instant::now();
    loop {
        let mut stream = connect(addr);
        match exchange(&mut stream, path) {
            Some(200) => return stream,
            Some(status) => panic!("GET {path} on {addr} answers {status}"),
            None => {
                assert!(since.elapsed() < CLOSED_WITHIN, "{addr} serves no one");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// How long a connection to `addr` that does `stall` stays open; `None`:
/// more than [`CLOSED_WITHIN`].
fn open_for(addr: SocketAddr, path: &str, stall: Stall) -> Option<Duration> {
    let mut stream = connect(addr);
    match stall {
        Stall::HalfHeader => stream
            .write_all(format!("GET {path} HTTP/1.1\r\nhost: hel").as_bytes())
            .expect("sends"),
        Stall::Silent => {}
        Stall::IdleKeepAlive => assert_eq!(exchange(&mut stream, path), Some(200), "{addr}"),
    }
    let since = Instant::now();
    let mut buf = [0; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(since.elapsed()),
            // hyper may answer 408 before it closes.
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Some(since.elapsed()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None;
            }
            Err(e) => panic!("reading from {addr}: {e}"),
        }
    }
}

/// `GET path` on `stream`, kept alive: the response's status, or `None` if
/// the server closed the connection without one.
fn exchange(stream: &mut TcpStream, path: &str) -> Option<u16> {
    let request = format!("GET {path} HTTP/1.1\r\nhost: hello\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    let mut buf = [0; 1024];
    loop {
        if let Some((status, length)) = head(&response)
            && response.len() >= length
        {
            return Some(status);
        }
        match stream.read(&mut buf) {
            Ok(0) if response.is_empty() => return None,
            Ok(0) => panic!("cut response: {}", String::from_utf8_lossy(&response)),
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset && response.is_empty() => {
                return None;
            }
            Err(e) => panic!("GET {path}: {e}"),
        }
    }
}

/// A complete head in `response`: the status and the length of the whole
/// response, head and `content-length` body.
fn head(response: &[u8]) -> Option<(u16, usize)> {
    let text = String::from_utf8_lossy(response);
    let (head, _) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    match (status, length) {
        (Some(status), Some(length)) => Some((status, head.len() + 4 + length)),
        _ => panic!("no status or content-length in {head:?}"),
    }
}
