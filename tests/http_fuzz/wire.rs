//! A raw HTTP/1.1 client: writes exactly the bytes it is given (odd methods, bad targets,
//! duplicate or non-ASCII headers, wrong framing), and reads back only the status.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longer than any webhook may take: past `WEBHOOK_DEADLINE_MS` the server answers anyway.
const TIMEOUT: Duration = Duration::from_secs(20);

/// How the body is framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A correct `Content-Length`.
    Length,
    /// `Transfer-Encoding: chunked`, correctly chunked.
    Chunked,
    /// Both headers at once, which a server must not trust.
    Both,
    /// A `Content-Length` shorter than the body: the rest looks like a second request.
    Short,
}

#[derive(Clone)]
pub struct RawRequest {
    pub method: Vec<u8>,
    pub target: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub framing: Framing,
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 512);
        out.extend_from_slice(&self.method);
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        // One request per connection, so the server's answer ends with the connection.
        out.extend_from_slice(b"connection: close\r\n");
        let len = self.body.len();
        match self.framing {
            Framing::Length => push_header(&mut out, "content-length", &len.to_string()),
            Framing::Short => push_header(&mut out, "content-length", &(len / 2).to_string()),
            Framing::Chunked => push_header(&mut out, "transfer-encoding", "chunked"),
            Framing::Both => {
                push_header(&mut out, "content-length", &len.to_string());
                push_header(&mut out, "transfer-encoding", "chunked");
            }
        }
        out.extend_from_slice(b"\r\n");
        match self.framing {
            Framing::Length | Framing::Short => out.extend_from_slice(&self.body),
            Framing::Chunked | Framing::Both => {
                for chunk in self.body.chunks(4000) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
        }
        out
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
}

/// Shows the request as a person reads it, cutting long parts short: a shrunk failing case is
/// printed with this.
impl fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} {} ({:?})",
            short(&self.method),
            short(&self.target),
            self.framing
        )?;
        for (name, value) in &self.headers {
            writeln!(f, "  {name}: {}", short(value))?;
        }
        write!(f, "  body: {}", short(&self.body))
    }
}

fn short(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let shown: String = text.chars().take(300).collect();
    if shown.len() < text.len() {
        format!("{shown:?}... ({} bytes)", bytes.len())
    } else {
        format!("{shown:?}")
    }
}

/// What came back: a status with the start of the body, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Status(u16, String),
    NoAnswer(String),
}

/// Enough of an answer to say why it was given.
const KEEP: usize = 2048;

/// Sends one request on a fresh connection and reads until the server closes it.
pub async fn send(addr: SocketAddr, req: &RawRequest) -> Answer {
    let stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return Answer::NoAnswer(format!("connect: {e}")),
    };
    let (mut rd, mut wr) = stream.into_split();
    let bytes = req.to_bytes();
    // Written beside the read: the server may answer (413) before taking the whole body. The
    // write half is handed back, not dropped, since dropping it would half-close the socket.
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&bytes).await;
        wr
    });
    let mut head = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let read = tokio::time::timeout(TIMEOUT, async {
        loop {
            match rd.read(&mut chunk).await {
                Ok(0) => return Ok(()),
                Ok(n) if head.len() < KEEP => head.extend_from_slice(&chunk[..n]),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
    let _ = writer.await;
    let status = std::str::from_utf8(head.get(..12).unwrap_or(&[]))
        .ok()
        .and_then(|s| s.strip_prefix("HTTP/1.1 "))
        .and_then(|s| s.trim().parse::<u16>().ok());
    let body = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| String::from_utf8_lossy(&head[at + 4..]).into_owned())
        .unwrap_or_default();
    match (status, read) {
        (Some(s), _) => Answer::Status(s, body),
        (None, Err(_)) => Answer::NoAnswer(format!("no answer within {TIMEOUT:?}")),
        (None, Ok(Err(e))) => Answer::NoAnswer(format!("read: {e}")),
        (None, Ok(Ok(()))) => {
            Answer::NoAnswer(format!("closed after {:?}", String::from_utf8_lossy(&head)))
        }
    }
}
