//! A fake SMS gateway and an SMTP sink on 127.0.0.1 for the notification tests.
//!
//! The gateway is an axum server that records every request and answers as told: with a
//! status, after a delay, or not before the client gives up. The sink speaks enough SMTP
//! (RFC 5321 greeting, EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for lettre to
//! deliver a message, and records each message.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the fake gateway answers the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayMode {
    /// 200 with `{"id": "gw-N"}`.
    Accept,
    /// This status and an error body.
    Fail(u16),
    /// Waits this long, then accepts.
    Slow(Duration),
    /// Waits longer than any client timeout in these tests.
    Hang,
}

/// One request the gateway received.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    pub received: Instant,
    pub headers: HeaderMap,
    pub body: Value,
    /// The status the gateway answered, or `None` when it never answered.
    pub answered: Option<u16>,
}

#[derive(Default)]
struct GatewayState {
    requests: Vec<GatewayRequest>,
    /// Modes for the next requests, used up front to back; `mode` after that.
    script: Vec<GatewayMode>,
    mode: Option<GatewayMode>,
}

/// A fake SMS gateway answering `POST /send`.
#[derive(Clone)]
pub struct FakeGateway {
    pub url: String,
    state: Arc<Mutex<GatewayState>>,
}

impl FakeGateway {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(GatewayState::default()));
        let app = axum::Router::new()
            .route("/send", axum::routing::post(answer))
            .with_state(Arc::clone(&state));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{address}/send"),
            state,
        }
    }

    /// Sets the answer of every request after the scripted ones.
    pub fn set_mode(&self, mode: GatewayMode) {
        self.lock().mode = Some(mode);
    }

    /// Sets the answers of the next requests, in order.
    pub fn script(&self, modes: &[GatewayMode]) {
        self.lock().script = modes.iter().rev().copied().collect();
    }

    pub fn requests(&self) -> Vec<GatewayRequest> {
        self.lock().requests.clone()
    }

    /// Waits until at least `count` requests have arrived, for at most `limit`.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<GatewayRequest> {
        let start = Instant::now();
        loop {
            let requests = self.requests();
            if requests.len() >= count {
                return requests;
            }
            assert!(
                start.elapsed() < limit,
                "the gateway received {} of {count} requests in {limit:?}",
                requests.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GatewayState> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

async fn answer(
    State(state): State<Arc<Mutex<GatewayState>>>,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let (index, mode) = {
        let mut state = state.lock().unwrap_or_else(|poison| poison.into_inner());
        let mode = state
            .script
            .pop()
            .or(state.mode)
            .unwrap_or(GatewayMode::Accept);
        state.requests.push(GatewayRequest {
            received: Instant::now(),
            headers,
            body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
            answered: None,
        });
        (state.requests.len() - 1, mode)
    };
    let status = match mode {
        GatewayMode::Accept => 200,
        GatewayMode::Fail(status) => status,
        GatewayMode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            200
        }
        GatewayMode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            200
        }
    };
    state
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .requests[index]
        .answered = Some(status);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if status.is_success() {
        json!({ "id": format!("gw-{index}") })
    } else {
        json!({ "error": "failure requested by the test" })
    };
    (status, axum::Json(body))
}

/// One message the SMTP sink accepted.
#[derive(Debug, Clone)]
pub struct SmtpMessage {
    pub from: String,
    pub recipients: Vec<String>,
    /// The DATA section, with dot-stuffing undone.
    pub data: String,
    /// The decoded `AUTH PLAIN` user name, when the client authenticated.
    pub auth_user: Option<String>,
}

/// An SMTP server on 127.0.0.1 that accepts every message.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<SmtpMessage>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&messages);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = Arc::clone(&sink);
                tokio::spawn(async move {
                    let _ = session(stream, sink).await;
                });
            }
        });
        Self { port, messages }
    }

    pub fn messages(&self) -> Vec<SmtpMessage> {
        self.messages
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    /// Waits until at least `count` messages have arrived, for at most `limit`.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<SmtpMessage> {
        let start = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                start.elapsed() < limit,
                "the SMTP sink received {} of {count} messages in {limit:?}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Serves one SMTP connection.
async fn session(stream: TcpStream, sink: Arc<Mutex<Vec<SmtpMessage>>>) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut from = String::new();
    let mut recipients = Vec::new();
    let mut auth_user = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("AUTH PLAIN") {
            auth_user = command
                .split_whitespace()
                .nth(2)
                .and_then(decode_plain_user);
            b"235 2.7.0 accepted\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = command["MAIL FROM:".len()..].trim().to_owned();
            recipients.clear();
            b"250 2.1.0 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            recipients.push(command["RCPT TO:".len()..].trim().to_owned());
            b"250 2.1.5 ok\r\n"
        } else if upper == "DATA" {
            writer.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let data = read_data(&mut reader).await?;
            sink.lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .push(SmtpMessage {
                    from: from.clone(),
                    recipients: recipients.clone(),
                    data,
                    auth_user: auth_user.clone(),
                });
            b"250 2.0.0 queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 2.0.0 ok\r\n"
        } else if upper == "QUIT" {
            writer.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 command not implemented\r\n"
        };
        writer.write_all(reply).await?;
    }
}

async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(data);
        }
        if line == ".\r\n" {
            return Ok(data);
        }
        let unstuffed = line.strip_prefix('.').unwrap_or(&line);
        data.push_str(unstuffed);
    }
}

/// Returns the user name of an `AUTH PLAIN` initial response (`\0user\0password`).
fn decode_plain_user(encoded: &str) -> Option<String> {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split('\0').nth(1).map(str::to_owned)
}
