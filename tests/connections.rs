//! The accept loop's bounds, seen from raw sockets: idle and slow connections are closed, and no
//! more than `MAX_CONNECTIONS` are served at once.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READY: &[u8] = b"GET /readyz HTTP/1.1\r\nhost: switchboard\r\n\r\n";

/// Reads until the peer closes or `wait` passes; `None` means it was still open.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.ok().map(|()| got)
}

/// Reads one response's status line and headers (the readiness answer is short).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn idle_and_silent_connections_are_closed() {
    let app = spawn_app(&[("IDLE_TIMEOUT_SECS", "1")]).await;

    // Never sends a byte: closed once the header wait runs out.
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let bytes = read_until_closed(&mut silent, Duration::from_secs(10)).await;
    assert!(bytes.is_some(), "a silent connection was kept open");

    // Sends half a request line and stalls: closed too.
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /rea").await.unwrap();
    assert!(
        read_until_closed(&mut slow, Duration::from_secs(10))
            .await
            .is_some()
    );

    // Served, then left idle on keep-alive: closed after the idle time.
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(READY).await.unwrap();
    assert!(read_response(&mut idle).await.starts_with("HTTP/1.1 200"));
    assert!(
        read_until_closed(&mut idle, Duration::from_secs(10))
            .await
            .is_some()
    );

    // A connection in use is not cut: three requests a little apart, each under the idle time.
    let mut busy = TcpStream::connect(app.addr).await.unwrap();
    for _ in 0..3 {
        busy.write_all(READY).await.unwrap();
        assert!(read_response(&mut busy).await.starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_slot() {
    let app = spawn_app(&[("MAX_CONNECTIONS", "1")]).await;

    let mut first = TcpStream::connect(app.addr).await.unwrap();
    first.write_all(READY).await.unwrap();
    assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));

    // The kernel completes the handshake, but the server does not take the connection up.
    let mut second = TcpStream::connect(app.addr).await.unwrap();
    second.write_all(READY).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), second.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a second connection was served past MAX_CONNECTIONS=1"
    );

    // The first still works, and once it closes the second is answered.
    first.write_all(READY).await.unwrap();
    assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));
    drop(first);
    assert!(read_response(&mut second).await.starts_with("HTTP/1.1 200"));
}
