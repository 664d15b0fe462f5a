//! The HTTP client of the feed and of alert delivery: `ureq` with explicit timeouts (its
//! default is none), proxies from the environment, redirects followed only within the
//! scheme asked for, every body read with a bound. A GET takes any status but 2xx as an
//! error; a POST hands the status back (the receiver's answer decides).

use std::io::Read;
use std::time::Duration;

/// How many redirects one request follows.
const MAX_REDIRECTS: usize = 5;

/// The most of a POST's answer that is read (the rest is left unread).
pub const MAX_ANSWER: u64 = 64 * 1024;

/// What a POST was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The start of the body (at most [`MAX_ANSWER`] bytes).
    pub body: Vec<u8>,
}

/// Why a request gave no body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// 404 or 410: the server says there is no such file.
    #[error("{0}: 404 not found")]
    NotFound(String),
    /// Any other status but 2xx.
    #[error("{1}: HTTP status {0}")]
    Status(u16, String),
    /// No answer: connection, timeout, protocol, or a redirect that was not followed.
    #[error("{0}")]
    Transport(String),
}

/// A successful answer whose body is read as a stream.
pub struct Response {
    /// 200, or 206 for a range request the server honoured.
    pub status: u16,
    /// The address finally answered (after redirects).
    pub url: String,
    body: ureq::BodyReader<'static>,
}

impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.body.read(buf)
    }
}

/// One agent for a run: connections are reused between requests to one host.
pub struct Client {
    agent: ureq::Agent,
}

impl Client {
    /// A client whose connect, response-header and per-read waits are each at most
    /// `timeout`: a server that stalls fails the request after `timeout` without a byte.
    pub fn new(timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .user_agent(concat!("pledgewatch/", env!("CARGO_PKG_VERSION")))
            .proxy(ureq::Proxy::try_from_env())
            .timeout_connect(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_per_read(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        Client {
            agent: config.new_agent(),
        }
    }

    /// A client for short requests (alert delivery): besides the waits of
    /// [`Client::new`], a whole request, body and answer included, takes at most `timeout`.
    pub fn with_deadline(timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .user_agent(concat!("pledgewatch/", env!("CARGO_PKG_VERSION")))
            .proxy(ureq::Proxy::try_from_env())
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        Client {
            agent: config.new_agent(),
        }
    }

    /// POSTs `body` to `url` with `headers`. A 307 or 308 redirect that keeps the scheme is
    /// followed with the same body; any other status is the answer. At most
    /// [`MAX_ANSWER`] bytes of the answer's body are read.
    pub fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, HttpError> {
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self.agent.post(&current);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request
                .send(body)
                .map_err(|e| HttpError::Transport(format!("{current}: {e}")))?;
            let status = response.status().as_u16();
            if matches!(status, 307 | 308)
                && let Some(location) = response
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
            {
                current = follow(&current, location)?;
                continue;
            }
            let mut answer = Vec::new();
            let mut reader = response.into_body().into_reader();
            let _ = (&mut reader).take(MAX_ANSWER).read_to_end(&mut answer);
            return Ok(Answer {
                status,
                body: answer,
            });
        }
        Err(HttpError::Transport(format!(
            "{url}: more than {MAX_REDIRECTS} redirects"
        )))
    }

    /// GETs `url`, following redirects that keep its scheme. With `tail = Some(n)` it asks
    /// for the last `n` bytes only (status 206 when the server honours it, else 200).
    pub fn get(&self, url: &str, tail: Option<u64>) -> Result<Response, HttpError> {
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self.agent.get(&current);
            if let Some(n) = tail {
                request = request.header("Range", format!("bytes=-{n}"));
            }
            let response = request
                .call()
                .map_err(|e| HttpError::Transport(format!("{current}: {e}")))?;
            let status = response.status().as_u16();
            match status {
                200..=299 => {
                    return Ok(Response {
                        status,
                        url: current,
                        body: response.into_body().into_reader(),
                    });
                }
                301 | 302 | 303 | 307 | 308 => {
                    let location = response
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .ok_or_else(|| {
                            HttpError::Transport(format!("{current}: redirect without a Location"))
                        })?;
                    current = follow(&current, location)?;
                }
                404 | 410 => return Err(HttpError::NotFound(current)),
                _ => return Err(HttpError::Status(status, current)),
            }
        }
        Err(HttpError::Transport(format!(
            "{url}: more than {MAX_REDIRECTS} redirects"
        )))
    }
}

/// The address a redirect from `from` to `location` leads to, when it keeps the scheme.
pub fn follow(from: &str, location: &str) -> Result<String, HttpError> {
    let scheme_of = |u: &str| {
        u.split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase())
            .filter(|s| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+'))
    };
    let Some(scheme) = scheme_of(from) else {
        return Err(HttpError::Transport(format!(
            "{from}: not an absolute address"
        )));
    };
    let rest = &from[scheme.len() + 3..];
    let origin_len = scheme.len() + 3 + rest.find('/').unwrap_or(rest.len());
    let target = if let Some(target_scheme) = scheme_of(location) {
        if target_scheme != scheme {
            return Err(HttpError::Transport(format!(
                "{from}: redirect to {location} changes the scheme; not followed"
            )));
        }
        location.to_string()
    } else if let Some(net) = location.strip_prefix("//") {
        format!("{scheme}://{net}")
    } else if location.starts_with('/') {
        format!("{}{location}", &from[..origin_len])
    } else {
        let path_end = from[origin_len..]
            .find(['?', '#'])
            .map_or(from.len(), |i| origin_len + i);
        let dir_end = from[origin_len..path_end]
            .rfind('/')
            .map_or(path_end, |i| origin_len + i + 1);
        let base = &from[..dir_end];
        if base.len() == origin_len {
            format!("{base}/{location}")
        } else {
            format!("{base}{location}")
        }
    };
    Ok(target)
}

/// Reads all of `reader` into `sink`, failing once more than `limit` bytes came: no body
/// is read without a bound. Returns the number of bytes read.
pub fn read_bounded(
    reader: &mut dyn Read,
    limit: u64,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<u64, BoundedError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BoundedError::Io(e.to_string())),
        };
        total += n as u64;
        if total > limit {
            return Err(BoundedError::TooLarge(limit));
        }
        sink(&buf[..n]);
    }
}

/// Why a bounded read stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundedError {
    /// More than this many bytes came.
    #[error("more than {0} bytes")]
    TooLarge(u64),
    /// The connection failed while reading.
    #[error("{0}")]
    Io(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_the_scheme() {
        let from = "http://h:8/gdeltv2/a.zip?x=1";
        assert_eq!(follow(from, "http://o/b").unwrap(), "http://o/b");
        assert_eq!(follow(from, "HTTP://o/b").unwrap(), "HTTP://o/b");
        assert_eq!(follow(from, "//o/b").unwrap(), "http://o/b");
        assert_eq!(follow(from, "/c/d").unwrap(), "http://h:8/c/d");
        assert_eq!(follow(from, "e.zip").unwrap(), "http://h:8/gdeltv2/e.zip");
        assert_eq!(follow("http://h", "e").unwrap(), "http://h/e");
        assert!(matches!(
            follow(from, "https://o/b"),
            Err(HttpError::Transport(_))
        ));
        assert!(matches!(
            follow("https://h/a", "http://h/a"),
            Err(HttpError::Transport(_))
        ));
    }

    #[test]
    fn bounded_reads() {
        let mut seen = Vec::new();
        let mut data: &[u8] = b"0123456789";
        assert_eq!(
            read_bounded(&mut data, 10, &mut |b| seen.extend_from_slice(b)),
            Ok(10)
        );
        assert_eq!(seen, b"0123456789");
        let mut data: &[u8] = b"0123456789";
        assert_eq!(
            read_bounded(&mut data, 9, &mut |_| ()),
            Err(BoundedError::TooLarge(9))
        );
    }
}
