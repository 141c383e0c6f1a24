//! `switchboard healthcheck`: probes `/healthz` and exits 0 only on a 200, so the container
//! image's HEALTHCHECK works without curl or any other tool in the runtime image.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The whole probe, connect to last byte, must fit in this: a hung server is an unhealthy one.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Enough for any status line; the body is never needed.
const MAX_RESPONSE: u64 = 64 * 1024;

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// URL to probe [default: http://127.0.0.1:$PORT/healthz, PORT default 3000]
    #[arg(long)]
    url: Option<String>,
}

pub fn run(args: &HealthcheckArgs) -> Result<(), String> {
    let url = match &args.url {
        Some(url) => url.clone(),
        None => default_url(std::env::var("PORT").ok().as_deref()),
    };
    probe(&url, TIMEOUT)
}

/// The server listens on `PORT` (maybe on 0.0.0.0), and loopback always reaches it from inside
/// the container.
fn default_url(port: Option<&str>) -> String {
    let port = port
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or("3000");
    format!("http://127.0.0.1:{port}/healthz")
}

fn probe(url: &str, timeout: Duration) -> Result<(), String> {
    let target = Target::parse(url)?;
    let status = get(&target, timeout).map_err(|e| format!("cannot reach {url}: {e}"))?;
    if status == 200 {
        Ok(())
    } else {
        Err(format!("healthz answered {status}"))
    }
}

/// The parts of a plain-http URL a hand-written GET needs.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
    path: String,
}

impl Target {
    /// Only http: the probe runs next to the server, which never terminates TLS itself.
    fn parse(url: &str) -> Result<Target, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("--url '{url}' must start with http://"))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_owned()),
        };
        // Fragments are never sent on the wire.
        let path = match path.split_once('#') {
            Some((p, _)) => p.to_owned(),
            None => path,
        };
        let (host, port) = split_host_port(authority)
            .ok_or_else(|| format!("--url '{url}' has no valid host[:port]"))?;
        Ok(Target { host, port, path })
    }

    /// The Host header must carry brackets around IPv6 literals and the port when not 80.
    fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn split_host_port(authority: &str) -> Option<(String, u16)> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 80,
    };
    Some((host.to_owned(), port))
}

/// Sends one `GET` and returns the status code of the answer.
fn get(target: &Target, timeout: Duration) -> Result<u16, String> {
    let deadline = Instant::now() + timeout;
    let addrs: Vec<SocketAddr> = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .collect();
    let mut last_error = format!("{} resolves to no address", target.host);
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    let mut stream = stream.ok_or(last_error)?;

    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: switchboard-healthcheck\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        target.path,
        target.host_header()
    );
    stream
        .set_write_timeout(Some(remaining(deadline)?))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;

    // Read until the status line is complete; one read may not hold all of it.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let mut limited = (&mut stream).take(MAX_RESPONSE);
    while !head.windows(2).any(|w| w == b"\r\n") {
        limited
            .get_mut()
            .set_read_timeout(Some(remaining(deadline)?))
            .map_err(|e| e.to_string())?;
        let n = limited.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    parse_status(&head)
}

fn remaining(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err("timed out".to_owned())
    } else {
        Ok(left)
    }
}

/// `HTTP/1.x NNN reason` → `NNN`.
fn parse_status(head: &[u8]) -> Result<u16, String> {
    let line_end = head
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(head.len());
    let line = String::from_utf8_lossy(&head[..line_end]);
    if line.is_empty() {
        return Err("connection closed without an answer".to_owned());
    }
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") && code.len() == 3 => code
            .parse()
            .map_err(|_| format!("not an HTTP answer: {line:?}")),
        _ => Err(format!("not an HTTP answer: {line:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::thread::JoinHandle;

    /// Serves one canned answer and hands back the request line it was sent.
    fn serve_once(answer: &'static str) -> (String, JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = std::io::BufReader::new(stream);
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut line = String::new();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            reader.get_mut().write_all(answer.as_bytes()).unwrap();
            request_line
        });
        (format!("http://127.0.0.1:{port}/healthz"), handle)
    }

    #[test]
    fn ok_on_200() {
        let (url, server) =
            serve_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        assert_eq!(probe(&url, TIMEOUT), Ok(()));
        assert_eq!(server.join().unwrap(), "GET /healthz HTTP/1.1\r\n");
    }

    #[test]
    fn err_on_503() {
        let (url, server) = serve_once(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(probe(&url, TIMEOUT), Err("healthz answered 503".to_owned()));
        server.join().unwrap();
    }

    #[test]
    fn err_on_closed_port() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/healthz");
        let err = probe(&url, TIMEOUT).unwrap_err();
        assert!(err.starts_with(&format!("cannot reach {url}: ")), "{err}");
    }

    #[test]
    fn times_out_on_a_silent_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/healthz", listener.local_addr().unwrap());
        let started = Instant::now();
        let err = probe(&url, Duration::from_millis(300)).unwrap_err();
        assert!(err.starts_with("cannot reach "), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(listener);
    }

    #[test]
    fn default_url_follows_port() {
        assert_eq!(default_url(None), "http://127.0.0.1:3000/healthz");
        assert_eq!(default_url(Some("")), "http://127.0.0.1:3000/healthz");
        assert_eq!(default_url(Some("8080")), "http://127.0.0.1:8080/healthz");
    }

    #[test]
    fn parses_urls() {
        let t = Target::parse("http://127.0.0.1:3000/healthz").unwrap();
        assert_eq!(
            t,
            Target {
                host: "127.0.0.1".into(),
                port: 3000,
                path: "/healthz".into()
            }
        );
        assert_eq!(t.host_header(), "127.0.0.1:3000");
        let t = Target::parse("http://localhost").unwrap();
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        assert_eq!(t.host_header(), "localhost");
        let t = Target::parse("http://[::1]:4000/readyz?x=1#frag").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.path, "/readyz?x=1");
        assert_eq!(t.host_header(), "[::1]:4000");
        assert_eq!(Target::parse("http://h?q").unwrap().path, "/?q");
        assert!(Target::parse("https://x/healthz").is_err());
        assert!(Target::parse("http://:3000/").is_err());
        assert!(Target::parse("http://h:notaport/").is_err());
    }

    #[test]
    fn rejects_non_http_answers() {
        assert_eq!(parse_status(b"HTTP/1.0 200 OK\r\n"), Ok(200));
        assert_eq!(parse_status(b"HTTP/1.1 204\r\n"), Ok(204));
        assert!(parse_status(b"").is_err());
        assert!(parse_status(b"SSH-2.0-OpenSSH\r\n").is_err());
    }
}
