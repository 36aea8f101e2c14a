//! E-mail delivery over SMTP with lettre: STARTTLS or implicit TLS on rustls, optional
//! authentication, multipart text and HTML bodies.

use std::path::Path;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use secrecy::ExposeSecret as _;

use super::SendOutcome;
use super::templates::EmailContent;
use crate::config::{EmailConfig, SmtpTls};

/// A pooled SMTP client for one server and sender.
pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the client. No connection is made until the first message.
    ///
    /// # Errors
    /// A message naming the setting when the sender or the TLS settings are invalid.
    pub(crate) fn new(config: &EmailConfig, timeout: Duration) -> Result<Self, String> {
        let from: Mailbox = config.from.parse().map_err(|error| {
            format!("notifications.email.from is not an e-mail address: {error}")
        })?;
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls_parameters(config)?),
            SmtpTls::Implicit => Tls::Wrapper(tls_parameters(config)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.effective_port())
            .tls(tls)
            .timeout(Some(timeout));
        if let (Some(username), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one e-mail. `message_id` becomes the `Message-ID` header's local part, so a
    /// message sent twice carries the same id and receivers can drop the repeat.
    pub(crate) async fn send(
        &self,
        to: &str,
        content: &EmailContent,
        message_id: &str,
    ) -> SendOutcome {
        let recipient: Mailbox = match to.parse() {
            Ok(mailbox) => mailbox,
            Err(_) => {
                return SendOutcome::Permanent {
                    status: None,
                    error: "the recipient is not a valid e-mail address".to_owned(),
                };
            }
        };
        let domain = self.from.email.domain().to_owned();
        let message = Message::builder()
            .from(self.from.clone())
            .to(recipient)
            .subject(content.subject.clone())
            .message_id(Some(format!("<{message_id}@{domain}>")))
            .multipart(MultiPart::alternative_plain_html(
                content.text.clone(),
                content.html.clone(),
            ));
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                return SendOutcome::Permanent {
                    status: None,
                    error: format!("cannot build the e-mail: {error}"),
                };
            }
        };
        match self.transport.send(message).await {
            Ok(response) => SendOutcome::Delivered {
                reference: None,
                status: Some(response.code().to_string()),
            },
            Err(error) => {
                let status = error.status().map(|code| code.to_string());
                // A server's reply text may quote the recipient's address, so only the
                // reply code is kept when there is one.
                let error_text = match &status {
                    Some(code) => format!("the SMTP server replied {code}"),
                    None if error.is_timeout() => "the SMTP transaction timed out".to_owned(),
                    None => format!("SMTP failed: {error}"),
                };
                if error.is_permanent() {
                    SendOutcome::Permanent {
                        status,
                        error: error_text,
                    }
                } else {
                    SendOutcome::Transient {
                        status,
                        error: error_text,
                    }
                }
            }
        }
    }
}

/// Builds the TLS settings: the certificate must match `host` and chain to a system root
/// or to a certificate of `ca_file`.
fn tls_parameters(config: &EmailConfig) -> Result<TlsParameters, String> {
    let host = &config.host;
    let mut builder = TlsParameters::builder(host.clone());
    if let Some(path) = &config.ca_file {
        builder = builder.add_root_certificate(read_ca_file(path)?);
    }
    builder.build().map_err(|error| match &config.ca_file {
        Some(path) => format!(
            "notifications.email: cannot set up TLS for {host} with ca_file {}: {error}",
            path.display()
        ),
        None => format!("notifications.email: cannot set up TLS for {host}: {error}"),
    })
}

const PEM_CERTIFICATE_BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// Reads the CA certificates of `notifications.email.ca_file`.
fn read_ca_file(path: &Path) -> Result<Certificate, String> {
    let pem = std::fs::read(path).map_err(|error| {
        format!(
            "notifications.email.ca_file {}: cannot read the file: {error}",
            path.display()
        )
    })?;
    // lettre's rustls backend skips everything outside certificate blocks, so a file
    // without one would add no root and raise no error.
    let has_certificate = pem
        .windows(PEM_CERTIFICATE_BEGIN.len())
        .any(|window| window == PEM_CERTIFICATE_BEGIN);
    if !has_certificate {
        return Err(format!(
            "notifications.email.ca_file {} contains no PEM certificate: expected a \
             \"-----BEGIN CERTIFICATE-----\" block",
            path.display()
        ));
    }
    Certificate::from_pem(&pem).map_err(|error| {
        format!(
            "notifications.email.ca_file {} is not a valid PEM certificate: {error}",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn email_config(ca_file: &Path) -> EmailConfig {
        EmailConfig {
            host: "127.0.0.1".to_owned(),
            tls: SmtpTls::Starttls,
            from: "noreply@moh.example".to_owned(),
            ca_file: Some(ca_file.to_owned()),
            ..EmailConfig::default()
        }
    }

    fn mailer_error(text: &str) -> String {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        Mailer::new(&email_config(file.path()), Duration::from_secs(1)).unwrap_err()
    }

    #[test]
    fn email_ca_file_missing_is_named() {
        let config = email_config(Path::new("/nonexistent/relay-ca.pem"));
        let error = Mailer::new(&config, Duration::from_secs(1)).unwrap_err();
        assert!(error.contains("notifications.email.ca_file"), "{error}");
        assert!(error.contains("/nonexistent/relay-ca.pem"), "{error}");
        assert!(error.contains("cannot read the file"), "{error}");
    }

    #[test]
    fn email_ca_file_without_certificate_rejected() {
        let error = mailer_error("this is not a certificate\n");
        assert!(error.contains("notifications.email.ca_file"), "{error}");
        assert!(error.contains("contains no PEM certificate"), "{error}");
    }

    #[test]
    fn email_ca_file_invalid_base64_rejected() {
        let error = mailer_error("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
        assert!(error.contains("notifications.email.ca_file"), "{error}");
    }

    #[test]
    fn email_ca_file_invalid_der_rejected() {
        let error = mailer_error("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assert!(error.contains("ca_file"), "{error}");
    }
}
