//! A fake SMS gateway and an SMTP sink on 127.0.0.1 for the notification tests.
//!
//! The gateway is an axum server that records every request and responds as the test
//! configures it: with a status, after a delay, or not before the client gives up. The sink speaks enough SMTP
//! (RFC 5321 greeting, EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for lettre to
//! deliver a message, and records each message. It can also serve STARTTLS (RFC 3207) or
//! implicit TLS with a certificate from a test CA it generates.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// Response mode of the fake gateway for the next requests.
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
    /// This status and this body, as a real gateway would respond.
    Reply(u16, &'static str),
}

/// One request the gateway received.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    pub received: Instant,
    pub headers: HeaderMap,
    pub body: Value,
    /// Status code of the response, or `None` when the gateway never responded.
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
        GatewayMode::Reply(status, _) => status,
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
    let body = match mode {
        GatewayMode::Reply(_, body) => serde_json::from_str(body).expect("a JSON reply"),
        _ if status.is_success() => json!({ "id": format!("gw-{index}") }),
        _ => json!({ "error": "failure requested by the test" }),
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
    /// Whether the message arrived over TLS (implicit or after STARTTLS).
    pub tls: bool,
}

/// How the SMTP sink secures its connections.
#[derive(Clone)]
pub enum SinkTls {
    /// Plaintext only; EHLO does not offer STARTTLS.
    None,
    /// Plaintext first; EHLO offers STARTTLS and the session continues over TLS.
    Starttls(TlsAcceptor),
    /// TLS from the first byte, as on port 465.
    Implicit(TlsAcceptor),
}

/// A test certificate authority and a server certificate it signed for `127.0.0.1` and
/// `localhost`.
pub struct SinkCertificate {
    /// The CA certificate, PEM, for the client's `ca_file`.
    pub ca_pem: String,
    pub acceptor: TlsAcceptor,
}

impl SinkCertificate {
    pub fn generate() -> Self {
        let mut ca_params = CertificateParams::new(Vec::new()).expect("CA parameters");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "vaccred test mail CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, "sink.test");
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let certificate = params.signed_by(&key, &issuer).expect("server certificate");

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![certificate.der().clone(), ca.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server TLS configuration");
        Self {
            ca_pem: ca.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }
}

/// An SMTP server on 127.0.0.1 that accepts every message.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<SmtpMessage>>>,
    commands: Arc<Mutex<Vec<String>>>,
}

/// What the sink records, shared by its connections.
#[derive(Clone)]
struct SinkLog {
    messages: Arc<Mutex<Vec<SmtpMessage>>>,
    commands: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    /// Starts a plaintext sink.
    pub async fn start() -> Self {
        Self::start_with(SinkTls::None).await
    }

    pub async fn start_with(tls: SinkTls) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let log = SinkLog {
            messages: Arc::new(Mutex::new(Vec::new())),
            commands: Arc::new(Mutex::new(Vec::new())),
        };
        let sink = Self {
            port,
            messages: Arc::clone(&log.messages),
            commands: Arc::clone(&log.commands),
        };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = log.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let _ = connection(stream, tls, log).await;
                });
            }
        });
        sink
    }

    pub fn messages(&self) -> Vec<SmtpMessage> {
        lock(&self.messages).clone()
    }

    /// Returns every command line received, in order, over all connections (only the verb
    /// of AUTH).
    pub fn commands(&self) -> Vec<String> {
        lock(&self.commands).clone()
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Serves one TCP connection in the sink's TLS mode.
async fn connection(stream: TcpStream, tls: SinkTls, log: SinkLog) -> std::io::Result<()> {
    let plain = SessionMode {
        greet: true,
        offer_starttls: false,
        tls: false,
    };
    match tls {
        SinkTls::None => {
            session(stream, plain, &log).await?;
        }
        SinkTls::Implicit(acceptor) => {
            let stream = acceptor.accept(stream).await?;
            let mode = SessionMode { tls: true, ..plain };
            session(stream, mode, &log).await?;
        }
        SinkTls::Starttls(acceptor) => {
            let mode = SessionMode {
                offer_starttls: true,
                ..plain
            };
            if let SessionEnd::StartTls(stream) = session(stream, mode, &log).await? {
                let stream = acceptor.accept(stream).await?;
                // RFC 3207: the client starts again with EHLO and gets no new greeting.
                let mode = SessionMode {
                    greet: false,
                    offer_starttls: false,
                    tls: true,
                };
                session(stream, mode, &log).await?;
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct SessionMode {
    greet: bool,
    offer_starttls: bool,
    tls: bool,
}

enum SessionEnd<S> {
    Closed,
    /// The client sent STARTTLS and got 220: the raw stream, to wrap in TLS.
    StartTls(S),
}

/// Serves SMTP commands on one stream until QUIT, EOF or STARTTLS.
async fn session<S>(stream: S, mode: SessionMode, log: &SinkLog) -> std::io::Result<SessionEnd<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    if mode.greet {
        stream.write_all(b"220 sink.test ESMTP\r\n").await?;
    }
    let mut from = String::new();
    let mut recipients = Vec::new();
    let mut auth_user = None;
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(SessionEnd::Closed);
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let logged = if upper.starts_with("AUTH") {
            "AUTH".to_owned()
        } else {
            command.clone()
        };
        lock(&log.commands).push(logged);
        let reply: &[u8] = if upper.starts_with("EHLO") {
            if mode.offer_starttls {
                b"250-sink.test\r\n250-STARTTLS\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
            } else {
                b"250-sink.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
            }
        } else if upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper == "STARTTLS" && mode.offer_starttls {
            stream
                .write_all(b"220 2.0.0 ready to start TLS\r\n")
                .await?;
            stream.flush().await?;
            return Ok(SessionEnd::StartTls(stream.into_inner()));
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
            stream.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let data = read_data(&mut stream).await?;
            lock(&log.messages).push(SmtpMessage {
                from: from.clone(),
                recipients: recipients.clone(),
                data,
                auth_user: auth_user.clone(),
                tls: mode.tls,
            });
            b"250 2.0.0 queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 2.0.0 ok\r\n"
        } else if upper == "QUIT" {
            stream.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(SessionEnd::Closed);
        } else {
            b"502 5.5.2 command not implemented\r\n"
        };
        stream.write_all(reply).await?;
    }
}

async fn read_data(reader: &mut (impl AsyncBufRead + Unpin)) -> std::io::Result<String> {
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
