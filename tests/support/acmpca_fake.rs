//! A scripted fake of ACM Private CA's JSON API, for the behaviour moto does not have: moto
//! answers at once (never RequestInProgressException, never throttling), ignores key and signing
//! algorithms and validity, and has no permission API at all.
//!
//! Wire format (awsJson1_1, as the SDK speaks it): every request is `POST /` with
//! `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: ACMPrivateCA.<Operation>` and a
//! JSON body; answers are JSON with the same content type, and errors are an HTTP 4xx/5xx whose
//! body names the error in `__type` (`{"__type":"RequestInProgressException","message":"..."}`).
//!
//! The fake holds a script: for each operation a queue of replies, consumed in order, and
//! optionally a reply repeated once the queue is empty. Every request is recorded (operation and
//! parsed body) so tests can assert what the provider sent and in which order. An operation with
//! nothing scripted gets a refusal (`FakeNotScripted`), so a test that forgets a call fails
//! loudly instead of hanging; a request that breaks the wire format gets `FakeProtocolViolation`.
//!
//! HTTP/1.1 is spoken by hand on a loopback TCP listener (keep-alive, `Content-Length` bodies:
//! all the SDK sends), so no HTTP server crate is needed.

use serde_json::{Value as Json, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
pub const TARGET_PREFIX: &str = "ACMPrivateCA.";

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Json,
    /// How long to wait before answering (an answer still in flight).
    pub delay: Duration,
}

impl Reply {
    /// A success with this JSON body.
    pub fn ok(body: Json) -> Self {
        Reply {
            status: 200,
            body,
            delay: Duration::ZERO,
        }
    }

    /// An AWS error as ACM PCA sends it: HTTP 400, the code in `__type`.
    pub fn error(code: &str, message: &str) -> Self {
        Reply {
            status: 400,
            body: json!({"__type": code, "message": message}),
            delay: Duration::ZERO,
        }
    }

    /// The same answer, sent only after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request the fake received.
#[derive(Clone, Debug)]
pub struct Call {
    pub operation: String,
    pub body: Json,
}

#[derive(Default)]
struct Script {
    queued: HashMap<String, VecDeque<Reply>>,
    repeated: HashMap<String, Reply>,
    calls: Vec<Call>,
    violations: Vec<String>,
}

/// The running fake. Clones share the script.
#[derive(Clone)]
pub struct FakeAcmPca {
    url: String,
    script: Arc<Mutex<Script>>,
}

impl FakeAcmPca {
    /// Listen on a free loopback port; the server lives as long as the test's runtime.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fake");
        let url = format!("http://{}", listener.local_addr().expect("fake address"));
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = Arc::clone(&script);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_connection(stream, Arc::clone(&shared)));
            }
        });
        FakeAcmPca { url, script }
    }

    /// The endpoint URL to configure the provider with.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue `reply` as the next answer to `operation`.
    pub fn then(&self, operation: &str, reply: Reply) -> &Self {
        self.lock()
            .queued
            .entry(operation.to_string())
            .or_default()
            .push_back(reply);
        self
    }

    /// Queue `reply` `times` times.
    pub fn times(&self, operation: &str, times: usize, reply: Reply) -> &Self {
        for _ in 0..times {
            self.then(operation, reply.clone());
        }
        self
    }

    /// Answer `operation` with `reply` whenever its queue is empty.
    pub fn always(&self, operation: &str, reply: Reply) -> &Self {
        self.lock().repeated.insert(operation.to_string(), reply);
        self
    }

    /// The operations called so far, in order.
    pub fn operations(&self) -> Vec<String> {
        self.lock()
            .calls
            .iter()
            .map(|c| c.operation.clone())
            .collect()
    }

    /// The bodies sent to `operation`, in order.
    pub fn bodies(&self, operation: &str) -> Vec<Json> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.operation == operation)
            .map(|c| c.body.clone())
            .collect()
    }

    pub fn count(&self, operation: &str) -> usize {
        self.bodies(operation).len()
    }

    /// Forget the calls recorded so far (the script stays).
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Requests that broke the awsJson1_1 wire format.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// Wait until `operation` was called at least `n` times; false if `within` passed first.
    pub async fn wait_for(&self, operation: &str, n: usize, within: Duration) -> bool {
        let until = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < until {
            if self.count(operation) >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.count(operation) >= n
    }

    /// Check one request against the wire format, record it, and pick its answer.
    fn answer(&self, head: &Head, body: &[u8]) -> Reply {
        let mut script = self.lock();
        let mut problems = Vec::new();
        if head.method != "POST" || head.path != "/" {
            problems.push(format!("{} {} instead of POST /", head.method, head.path));
        }
        if head.header("content-type") != Some(CONTENT_TYPE) {
            problems.push(format!(
                "content-type {:?} instead of {CONTENT_TYPE}",
                head.header("content-type")
            ));
        }
        if !head
            .header("authorization")
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 "))
        {
            problems.push("request not signed with SigV4".to_string());
        }
        let operation = match head
            .header("x-amz-target")
            .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        {
            Some(op) if !op.is_empty() => op.to_string(),
            _ => {
                problems.push(format!(
                    "X-Amz-Target {:?} does not start with {TARGET_PREFIX}",
                    head.header("x-amz-target")
                ));
                String::new()
            }
        };
        let parsed = match serde_json::from_slice::<Json>(body) {
            Ok(v @ Json::Object(_)) => v,
            _ => {
                problems.push(format!(
                    "{operation}: body is not a JSON object: {}",
                    String::from_utf8_lossy(body)
                ));
                Json::Null
            }
        };
        script.calls.push(Call {
            operation: operation.clone(),
            body: parsed,
        });
        if !problems.is_empty() {
            let text = problems.join("; ");
            script.violations.push(text.clone());
            return Reply::error("FakeProtocolViolation", &text);
        }
        if let Some(reply) = script
            .queued
            .get_mut(&operation)
            .and_then(VecDeque::pop_front)
        {
            return reply;
        }
        match script.repeated.get(&operation) {
            Some(reply) => reply.clone(),
            None => Reply::error(
                "FakeNotScripted",
                &format!("the test scripted no answer for {operation}"),
            ),
        }
    }
}

/// A parsed request head.
struct Head {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn parse(text: &str) -> Option<Head> {
        let mut lines = text.split("\r\n");
        let mut request_line = lines.next()?.split(' ');
        let method = request_line.next()?.to_string();
        let path = request_line.next()?.to_string();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(Head {
            method,
            path,
            headers,
        })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Read more bytes into `buf`; false at end of stream.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn serve_connection(mut stream: TcpStream, script: Arc<Mutex<Script>>) {
    let fake = FakeAcmPca {
        url: String::new(),
        script,
    };
    let mut buf = Vec::new();
    let mut served = 0u64;
    loop {
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            if !fill(&mut stream, &mut buf).await {
                return;
            }
        };
        let Some(head) = Head::parse(&String::from_utf8_lossy(&buf[..head_end])) else {
            return;
        };
        if head.header("transfer-encoding").is_some() {
            // The SDK sends JSON bodies with a length; anything else is a surprise worth failing.
            fake.lock()
                .violations
                .push("chunked request body".to_string());
            return;
        }
        let length: usize = head
            .header("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            if !fill(&mut stream, &mut buf).await {
                return;
            }
        }
        let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
        let reply = fake.answer(&head, &body);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        served += 1;
        let payload = reply.body.to_string();
        let response = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {CONTENT_TYPE}\r\ncontent-length: {}\r\nx-amzn-requestid: fake-{served}\r\n\r\n{payload}",
            reply.status,
            reason(reply.status),
            payload.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}
