//! Helpers for unit tests that look at this process's own sockets, so a test can assert how a
//! connection was set up (`TCP_NODELAY`) rather than time it.

use std::mem::ManuallyDrop;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::FromRawFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A connected TCP socket of this process.
#[derive(Debug)]
pub struct OpenSocket {
    pub local: SocketAddr,
    pub peer: SocketAddr,
    pub nodelay: bool,
}

/// Every connected TCP socket this process holds, read through /proc/self/fd.
pub fn connected_tcp_sockets() -> Vec<OpenSocket> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return found;
    };
    for entry in dir.flatten() {
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        let fd = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok());
        let (true, Some(fd)) = (is_socket, fd) else {
            continue;
        };
        // SAFETY: the descriptor is only borrowed for three getsockopt-style calls;
        // ManuallyDrop keeps it open for its real owner. Non-TCP sockets fail those calls.
        let socket = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        if let (Ok(local), Ok(peer), Ok(nodelay)) =
            (socket.local_addr(), socket.peer_addr(), socket.nodelay())
        {
            found.push(OpenSocket {
                local,
                peer,
                nodelay,
            });
        }
    }
    found
}

/// The sockets this process holds towards `port` on loopback (client side of a connection).
pub fn sockets_to(port: u16) -> Vec<OpenSocket> {
    connected_tcp_sockets()
        .into_iter()
        .filter(|s| s.peer.port() == port && s.peer.ip().is_loopback())
        .collect()
}

/// Asserts this process holds at least one connection to `port` and that each has Nagle's
/// algorithm off.
pub fn assert_nodelay_to(port: u16) {
    let sockets = sockets_to(port);
    assert!(!sockets.is_empty(), "no open connection to port {port}");
    assert!(sockets.iter().all(|s| s.nodelay), "{sockets:?}");
}

/// A loopback HTTP/1.1 server that answers every request with 200 and `body`, keeping each
/// connection open so the client's pooled socket can be inspected afterwards. Returns its port.
pub async fn keep_alive_http_server(content_type: &'static str, body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Some(head_end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&pending[..head_end]).to_ascii_lowercase();
                    let body_len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    while pending.len() < head_end + 4 + body_len {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    }
                    pending.drain(..head_end + 4 + body_len);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if conn.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// A loopback server that accepts connections, reads what is sent and never answers: a backend
/// that hangs. Returns its port.
pub async fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    port
}

/// Runs `work`, calls `cancel` (the engine's Cancel) after `after`, and returns the result with
/// how long the work went on after the Cancel.
pub async fn cancel_after<T>(
    cancel: impl FnOnce(),
    after: std::time::Duration,
    work: impl std::future::Future<Output = T>,
) -> (T, std::time::Duration) {
    let cancelled_at = std::sync::Mutex::new(None);
    let cancel = async {
        tokio::time::sleep(after).await;
        if let Ok(mut at) = cancelled_at.lock() {
            *at = Some(tokio::time::Instant::now());
        }
        cancel();
        std::future::pending::<()>().await;
    };
    let result = tokio::select! {
        r = work => r,
        () = cancel => unreachable!("the cancel task never finishes"),
    };
    let at = cancelled_at
        .lock()
        .ok()
        .and_then(|a| *a)
        .expect("the work ended before the Cancel was sent");
    (result, at.elapsed())
}
