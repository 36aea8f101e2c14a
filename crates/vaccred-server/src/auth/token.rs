//! Access tokens issued by this server: RS256 JWTs in Keycloak's claim layout.
//!
//! The algorithm is RS256 rather than EdDSA, because DIVOC 1.24's own services verify
//! Keycloak tokens with RS256 only, against the realm's `public_key`. With an RSA key,
//! DIVOC components that a ministry keeps running can verify this server's tokens
//! unchanged.

use std::path::Path;

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde_json::{Value, json};
use vaccred_core::keys::{PublicKey, encode_pem};
use zeroize::Zeroizing;

use super::{AccessClaims, Principal, TokenError, TokenSource, classify};
use crate::config::TokenConfig;
use crate::keyfile::{KeyFileError, read_key_file, write_new_private_file};

/// Signs and verifies this server's access tokens.
pub struct TokenIssuer {
    issuer: String,
    lifetime_seconds: u64,
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public: PublicKey,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A freshly issued access token.
#[derive(Debug)]
pub struct IssuedToken {
    /// The signed JWT.
    pub access_token: Zeroizing<String>,
    /// Seconds until it expires.
    pub expires_in: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
struct IssuedClaims<'a> {
    exp: u64,
    iat: u64,
    jti: String,
    iss: &'a str,
    sub: &'a str,
    typ: &'static str,
    azp: &'a str,
    preferred_username: String,
    resource_access: Value,
    scope: &'static str,
}

impl TokenIssuer {
    /// Loads the RSA key at `path`, or generates one there when the file does not exist.
    ///
    /// # Errors
    /// Returns [`KeyFileError`] when the file cannot be read, written or parsed.
    pub fn load_or_generate(path: &Path, config: &TokenConfig) -> Result<Self, KeyFileError> {
        let pem = match read_key_file(path)? {
            Some(pem) => pem,
            None => {
                let pem = generate_rsa_pem(path)?;
                write_new_private_file(path, pem.as_bytes())?;
                tracing::info!(key.path = %path.display(), "generated a token signing key");
                pem
            }
        };
        Self::from_pem(&pem, config).map_err(|message| KeyFileError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Reads an RSA private key from PEM (PKCS#8 or PKCS#1).
    ///
    /// # Errors
    /// Returns a message when the text is not an RSA private key of at least 2048 bits.
    pub fn from_pem(pem: &str, config: &TokenConfig) -> Result<Self, String> {
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|error| format!("not an RSA private key: {error}"))?;
        let pair = RsaKeyPair::from_der(encoding.as_bytes())
            .map_err(|error| format!("the RSA key was rejected: {error}"))?;
        let public = PublicKey::rsa_from_der(pair.public_key().as_ref())
            .map_err(|error| error.to_string())?;
        let jwk = public.to_jwk(None);
        let component = |name: &str| jwk.get(name).and_then(Value::as_str).unwrap_or_default();
        let decoding = DecodingKey::from_rsa_components(component("n"), component("e"))
            .map_err(|error| format!("the RSA public key is unusable: {error}"))?;
        Ok(Self {
            issuer: config.issuer.clone(),
            lifetime_seconds: config.lifetime_seconds,
            kid: format!("vaccred-{}", public.fingerprint()),
            encoding,
            decoding,
            public,
        })
    }

    /// Tests whether a token header's `kid` names this issuer's key.
    pub fn is_own_key(&self, kid: Option<&str>) -> bool {
        kid == Some(self.kid.as_str())
    }

    /// Issues a token to an API client with its roles.
    ///
    /// # Errors
    /// Returns the library's error when signing fails.
    pub fn issue(
        &self,
        client_id: &str,
        roles: &[String],
    ) -> Result<IssuedToken, jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = IssuedClaims {
            exp: now + self.lifetime_seconds,
            iat: now,
            jti: random_token_id(),
            iss: &self.issuer,
            sub: client_id,
            typ: "Bearer",
            azp: client_id,
            preferred_username: format!("service-account-{client_id}"),
            resource_access: json!({ client_id: { "roles": roles } }),
            scope: "",
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)?;
        Ok(IssuedToken {
            access_token: Zeroizing::new(token),
            expires_in: self.lifetime_seconds,
        })
    }

    /// Verifies a token this issuer signed.
    ///
    /// # Errors
    /// Returns [`TokenError`] for a bad signature, a wrong issuer or an expired token.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|error| classify(&error))?;
        Ok(data.claims.into_principal(TokenSource::Local))
    }

    /// Returns the JSON Web Key Set with the public key, as Keycloak's `certs` endpoint.
    pub fn jwks(&self) -> Value {
        let mut jwk = self.public.to_jwk(None);
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".to_owned(), Value::String(self.kid.clone()));
            map.insert("alg".to_owned(), Value::String("RS256".to_owned()));
            map.insert("use".to_owned(), Value::String("sig".to_owned()));
        }
        json!({ "keys": [jwk] })
    }

    /// Returns the public key as base64 SubjectPublicKeyInfo DER, the form of Keycloak's
    /// realm `public_key` that DIVOC services read.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.public.spki_der())
    }

    /// Returns the `iss` claim of issued tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

fn generate_rsa_pem(path: &Path) -> Result<Zeroizing<String>, KeyFileError> {
    let failed = |message: &str| KeyFileError::Invalid {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let pair =
        RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| failed("RSA key generation failed"))?;
    let der: Pkcs8V1Der<'static> = pair
        .as_der()
        .map_err(|_| failed("the RSA key cannot be encoded as PKCS#8"))?;
    Ok(Zeroizing::new(encode_pem(
        "PRIVATE KEY",
        der.as_ref(),
        None,
    )))
}

fn random_token_id() -> String {
    use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
    let mut bytes = [0u8; 16];
    // A failing system generator leaves zeros: `jti` only identifies tokens in logs, and
    // the signature, not the id, makes a token unforgeable.
    let _ = SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
