//! The simulator's side of HTTP: resolving TwiML URLs as Twilio does, mapping the server's public
//! URLs to where requests are really sent, and signing each request exactly as Twilio signs it.

use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use super::{Method, Problem, Target};
use crate::signature::{Algorithm, compute};

/// Twilio gives up on a webhook after 15 seconds.
const TIMEOUT: Duration = Duration::from_secs(15);
const EXCERPT_CHARS: usize = 200;

/// One request, described by its public URL (the one signed and resolved against).
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a Url,
    pub params: &'a [(String, String)],
}

pub struct Wire {
    client: reqwest::Client,
    base: Url,
    public: Url,
    token: SecretString,
}

impl Wire {
    pub fn new(target: &Target) -> Result<Wire, Problem> {
        let base = parse_http("base URL", &target.base_url)?;
        let public = match &target.public_url {
            Some(p) => parse_http("public URL", p)?,
            None => base.clone(),
        };
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // Twilio does not follow redirects on webhooks, and a proxy could send us off-host.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent("TwilioProxy/1.1")
            .build()
            .map_err(|e| Problem::Transport {
                method: Method::Post,
                url: target.base_url.clone(),
                error: e.to_string(),
            })?;
        Ok(Wire {
            client,
            base,
            public,
            token: target.token.clone(),
        })
    }

    /// The public URL of one of the server's entry points, e.g. `/voice/incoming`.
    pub fn entry(&self, path: &str) -> Url {
        let mut url = self.public.clone();
        url.set_path(&format!("{}{path}", prefix(&self.public)));
        url.set_query(None);
        url.set_fragment(None);
        url
    }

    /// A URL from TwiML, resolved against the current document's URL (Twilio's rule), which
    /// must stay on the server.
    pub fn resolve(&self, document: &Url, reference: &str, what: &str) -> Result<Url, Problem> {
        let mut url = document.join(reference).map_err(|e| Problem::BadUrl {
            what: what.to_owned(),
            url: reference.to_owned(),
            reason: e.to_string(),
        })?;
        url.set_fragment(None);
        if self.sent_url(&url).is_none() {
            return Err(Problem::LeavesServer {
                what: what.to_owned(),
                url: url.into(),
            });
        }
        Ok(url)
    }

    /// Where a public URL is really sent: the same path below `base_url` as below the public
    /// URL, or `None` for a URL that is not the server's.
    fn sent_url(&self, public: &Url) -> Option<Url> {
        let same_origin = public.scheme() == self.public.scheme()
            && public.host_str() == self.public.host_str()
            && public.port_or_known_default() == self.public.port_or_known_default();
        let rest = public.path().strip_prefix(prefix(&self.public))?;
        if !same_origin || !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let mut sent = self.base.clone();
        sent.set_path(&format!("{}{rest}", prefix(&self.base)));
        sent.set_query(public.query());
        Some(sent)
    }

    /// The path and query a request reaches the server with, for the transcript.
    pub fn path_of(&self, public: &Url) -> String {
        let url = self.sent_url(public).unwrap_or_else(|| public.clone());
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Sends one signed request and returns the body of its 2xx answer. With GET, Twilio's
    /// parameters join the URL's query and the signature covers the URL alone; with POST they
    /// are the form body.
    pub async fn send(&self, req: &Request<'_>) -> Result<String, Problem> {
        let mut public = req.url.clone();
        let mut pairs: Vec<(&str, &str)> = req
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if req.method == Method::Get {
            public.query_pairs_mut().extend_pairs(&pairs);
            pairs.clear();
        }
        let sent = self
            .sent_url(&public)
            .ok_or_else(|| Problem::LeavesServer {
                what: "request".to_owned(),
                url: public.to_string(),
            })?;
        let mut sorted = pairs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let key = self.token.expose_secret().as_bytes();
        let signature = compute(Algorithm::HmacSha1, key, public.as_str(), &sorted);
        let builder = match req.method {
            Method::Get => self.client.get(sent.clone()),
            Method::Post => self
                .client
                .post(sent.clone())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(encode(&pairs)),
        };
        let transport = |e: reqwest::Error| Problem::Transport {
            method: req.method,
            url: sent.to_string(),
            error: e.to_string(),
        };
        let response = builder
            .header("X-Twilio-Signature", signature)
            .header("I-Twilio-Idempotency-Token", super::sid(""))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.text().await.map_err(transport)?;
        if !status.is_success() {
            return Err(Problem::Status {
                method: req.method,
                url: sent.to_string(),
                status,
                excerpt: excerpt(&body),
            });
        }
        Ok(body)
    }

    /// The URL a request for `public` is sent to, for naming it in a problem.
    pub fn sent_string(&self, public: &Url) -> String {
        self.sent_url(public)
            .map_or_else(|| public.to_string(), String::from)
    }
}

fn parse_http(what: &str, value: &str) -> Result<Url, Problem> {
    let bad = |reason: String| Problem::BadUrl {
        what: what.to_owned(),
        url: value.to_owned(),
        reason,
    };
    let url = Url::parse(value.trim()).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("it must be http:// or https:// with a host".to_owned()));
    }
    Ok(url)
}

/// A URL's path as a prefix to put other paths under: `""` for the root, else no trailing `/`.
fn prefix(url: &Url) -> &str {
    url.path().trim_end_matches('/')
}

fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The start of a body on one line, for an error message.
pub fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut chars = flat.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}...")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(base: &str, public: Option<&str>) -> Wire {
        let mut target = Target::new(base, SecretString::from("token"));
        target.public_url = public.map(str::to_owned);
        Wire::new(&target).unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn relative_urls_resolve_against_the_current_document() {
        let w = wire("http://127.0.0.1:3000", None);
        let doc = url("http://127.0.0.1:3000/voice/menu?menu=main");
        let cases = [
            ("/voice/next?a=1", "http://127.0.0.1:3000/voice/next?a=1"),
            ("next", "http://127.0.0.1:3000/voice/next"),
            ("?attempt=2", "http://127.0.0.1:3000/voice/menu?attempt=2"),
            ("../sms", "http://127.0.0.1:3000/sms"),
            ("", "http://127.0.0.1:3000/voice/menu?menu=main"),
        ];
        for (reference, expected) in cases {
            let resolved = w.resolve(&doc, reference, "Redirect").unwrap();
            assert_eq!(resolved.as_str(), expected, "{reference}");
        }
    }

    #[test]
    fn public_urls_are_sent_to_the_base_url_under_the_same_path() {
        let w = wire("http://127.0.0.1:3000", Some("https://abc.example/hooks/"));
        let entry = w.entry("/voice/incoming");
        assert_eq!(entry.as_str(), "https://abc.example/hooks/voice/incoming");
        assert_eq!(w.path_of(&entry), "/voice/incoming");
        let next = w
            .resolve(&entry, "/hooks/voice/menu?x=1", "Gather action")
            .unwrap();
        assert_eq!(w.sent_string(&next), "http://127.0.0.1:3000/voice/menu?x=1");
        let absolute = w
            .resolve(&entry, "https://abc.example:443/hooks/sms", "Redirect")
            .unwrap();
        assert_eq!(w.path_of(&absolute), "/sms");
    }

    #[test]
    fn urls_off_the_server_are_refused() {
        let w = wire("http://127.0.0.1:3000", Some("https://abc.example/hooks"));
        let entry = w.entry("/voice/incoming");
        for reference in [
            "https://other.example/hooks/x",
            "http://abc.example/hooks/x",
            "/elsewhere",
            "/hooksx/voice",
        ] {
            let err = w.resolve(&entry, reference, "redirect").unwrap_err();
            assert!(
                err.to_string().ends_with("leaves the server; stopped"),
                "{reference}: {err}"
            );
        }
        let err = w
            .resolve(&entry, "https://other/x", "redirect")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "redirect to https://other/x leaves the server; stopped"
        );
    }

    #[test]
    fn targets_must_be_http() {
        let target = Target::new("ftp://h", SecretString::from("t"));
        assert!(Wire::new(&target).is_err());
        assert!(Wire::new(&Target::new("127.0.0.1:3000", SecretString::from("t"))).is_err());
    }

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(excerpt("  a\n  b "), "a b");
        assert_eq!(excerpt(""), "(empty body)");
        assert!(excerpt(&"x".repeat(500)).ends_with("..."));
    }
}
