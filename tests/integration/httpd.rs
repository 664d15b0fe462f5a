//! A small HTTP/1.1 server on 127.0.0.1 for the feed and delivery tests: serves files from
//! memory, with faults to order (a status, a stall, a slow body, a redirect), honours
//! `Range: bytes=-N` when asked to, tunnels CONNECT (so it can stand in for a proxy),
//! records every request line, and takes POSTs (kept whole, with their headers; answered
//! 200 unless a fault says otherwise). Each connection is answered once and closed.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server does for one path instead of serving it.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and no body.
    Status(u16),
    /// Answer with this status once, then serve normally.
    StatusOnce(u16),
    /// Read the request and never answer (until the server stops).
    Stall,
    /// Serve the body in 1 KiB pieces with this pause between them.
    Slow(Duration),
    /// Redirect (302) to this location.
    Redirect(String),
}

/// Files, faults and the request log.
#[derive(Default)]
pub struct Site {
    pub files: HashMap<String, Vec<u8>>,
    pub faults: HashMap<String, Fault>,
    /// Answer `Range: bytes=-N` with 206 and the last N bytes.
    pub ranges: bool,
    /// Every request line, in order (`GET /path HTTP/1.1`, with ` [Range: ...]` appended).
    pub requests: Vec<String>,
    /// The User-Agent of every request.
    pub user_agents: Vec<String>,
    /// Every POST, in order of arrival.
    pub posts: Vec<Post>,
}

/// One POST request.
#[derive(Clone, Debug)]
pub struct Post {
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// The status it was answered with.
    pub answered: u16,
    /// When it came.
    pub received: std::time::SystemTime,
}

pub struct Server {
    pub addr: SocketAddr,
    pub site: Arc<Mutex<Site>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let site: Arc<Mutex<Site>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (site.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (s, st) = (s.clone(), st.clone());
                std::thread::spawn(move || serve(conn, &s, &st));
            }
        });
        Server { addr, site, stop }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.site
            .lock()
            .unwrap()
            .files
            .insert(path.to_string(), body.into());
    }

    pub fn fault(&self, path: &str, fault: Option<Fault>) {
        let mut site = self.site.lock().unwrap();
        match fault {
            Some(f) => site.faults.insert(path.to_string(), f),
            None => site.faults.remove(path),
        };
    }

    pub fn requests(&self) -> Vec<String> {
        self.site.lock().unwrap().requests.clone()
    }

    pub fn posts(&self) -> Vec<Post> {
        self.site.lock().unwrap().posts.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
    }
}

/// The request head: request line and headers, lower-cased names.
fn read_head(conn: &mut TcpStream) -> Option<(String, HashMap<String, String>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request = lines.next()?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((request, headers))
}

fn serve(mut conn: TcpStream, site: &Mutex<Site>, stop: &AtomicBool) {
    let Some((mut request, mut headers)) = read_head(&mut conn) else {
        return;
    };
    if request.starts_with("CONNECT ") {
        site.lock().unwrap().requests.push(request);
        let _ = conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let Some(inner) = read_head(&mut conn) else {
            return;
        };
        (request, headers) = inner;
    }
    let target = request.split(' ').nth(1).unwrap_or("/").to_string();
    // a proxy request names the whole address: keep the path
    let path = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/".into(), |i| rest[i..].to_string()),
        None => target,
    };
    if request.starts_with("POST ") {
        return take_post(conn, site, stop, path, headers);
    }
    let range = headers.get("range").cloned();
    let (fault, body, ranges) = {
        let mut s = site.lock().unwrap();
        let logged = match &range {
            Some(r) => format!("{request} [Range: {r}]"),
            None => request.clone(),
        };
        s.requests.push(logged);
        let agent = headers.get("user-agent").cloned().unwrap_or_default();
        s.user_agents.push(agent);
        let fault = s.faults.get(&path).cloned();
        if let Some(Fault::StatusOnce(_)) = fault {
            s.faults.remove(&path);
        }
        (fault, s.files.get(&path).cloned(), s.ranges)
    };
    let mut pause = None;
    match fault {
        Some(Fault::Status(code)) | Some(Fault::StatusOnce(code)) => {
            return respond(&mut conn, code, &[], &[], None);
        }
        Some(Fault::Stall) => {
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        Some(Fault::Redirect(to)) => {
            return respond(&mut conn, 302, &[("Location", &to)], &[], None);
        }
        Some(Fault::Slow(p)) => pause = Some(p),
        None => {}
    }
    let Some(body) = body else {
        return respond(&mut conn, 404, &[], b"not found", None);
    };
    let tail = range.filter(|_| ranges).and_then(|r| {
        r.strip_prefix("bytes=-")
            .and_then(|n| n.parse::<usize>().ok())
    });
    match tail {
        Some(n) => {
            let from = body.len().saturating_sub(n);
            let content_range = format!("bytes {from}-{}/{}", body.len().max(1) - 1, body.len());
            respond(
                &mut conn,
                206,
                &[("Content-Range", &content_range)],
                &body[from..],
                pause,
            );
        }
        None => respond(&mut conn, 200, &[], &body, pause),
    }
}

/// Reads a POST's body (Content-Length), keeps it, and answers: 200, or the path's fault.
fn take_post(
    mut conn: TcpStream,
    site: &Mutex<Site>,
    stop: &AtomicBool,
    path: String,
    headers: HashMap<String, String>,
) {
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(64 << 20)];
    if conn.read_exact(&mut body).is_err() {
        return;
    }
    let fault = site.lock().unwrap().faults.get(&path).cloned();
    let answered = match fault {
        Some(Fault::Status(code)) => code,
        Some(Fault::StatusOnce(code)) => {
            site.lock().unwrap().faults.remove(&path);
            code
        }
        Some(Fault::Stall) => {
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        _ => 200,
    };
    site.lock().unwrap().posts.push(Post {
        path,
        headers,
        body,
        answered,
        received: std::time::SystemTime::now(),
    });
    respond(&mut conn, answered, &[], b"{}", None);
}

fn respond(
    conn: &mut TcpStream,
    code: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    pause: Option<Duration>,
) {
    let mut head = format!(
        "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    match pause {
        None => {
            let _ = conn.write_all(body);
        }
        Some(p) => {
            for chunk in body.chunks(1024) {
                if conn.write_all(chunk).is_err() {
                    return;
                }
                std::thread::sleep(p);
            }
        }
    }
    let _ = conn.flush();
}
