//! Starting the service, running it and shutting it down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use secrecy::ExposeSecret as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use vaccred_store::{NewSigningKey, Store};

use crate::auth::Authenticator;
use crate::auth::oidc::{JwksError, OidcVerifier};
use crate::auth::token::TokenIssuer;
use crate::config::Config;
use crate::keyfile::{KeyFileError, SigningKeyOrigin, load_signing_key};
use crate::notify::{Notifier, NotifierPool, NotifyConfigError};
use crate::routes::{api_routes, into_app};
use crate::state::{AppState, StateParts, render_pool};
use crate::worker::WorkerPool;

/// Error returned when the service cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The notification settings or templates are invalid.
    #[error(transparent)]
    Notifications(#[from] NotifyConfigError),
    /// A database operation at start failed, such as registering the signing key.
    #[error("database operation failed at start")]
    Store(#[from] vaccred_store::StoreError),
    /// The database cannot be opened or migrated.
    #[error("cannot open the database {target}")]
    OpenDatabase {
        /// The SQLite file, or `(PostgreSQL)`: a URL may carry a password.
        target: String,
        /// The store's error.
        source: vaccred_store::StoreError,
    },
    /// A key file cannot be read, written or used.
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// The external provider's key set cannot be loaded.
    #[error(transparent)]
    Jwks(#[from] JwksError),
    /// The PDF templates, fonts, logo or language are unusable.
    #[error("cannot load the PDF renderer")]
    Pdf(#[from] vaccred_pdf::RenderError),
    /// The PDF render threads cannot be started.
    #[error("cannot start the PDF render threads: {0}")]
    RenderThreads(#[from] rayon::ThreadPoolBuildError),
    /// The OpenAPI document cannot be serialised.
    #[error("cannot serialise the OpenAPI document: {0}")]
    OpenApi(String),
    /// The listen address cannot be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// A started service: database open, keys loaded and the listener bound.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    app: Router,
    state: AppState,
}

/// Names the database for an error message: the SQLite file, or `(PostgreSQL)` without
/// the URL, which may carry a password.
fn database_target(config: &Config) -> String {
    match &config.database_url {
        Some(url) if url.expose_secret().starts_with("postgres") => "(PostgreSQL)".to_owned(),
        Some(url) => url.expose_secret().to_owned(),
        None => config
            .data_dir
            .join(crate::config::SQLITE_FILE_NAME)
            .display()
            .to_string(),
    }
}

impl Server {
    /// Opens the database, loads or generates the keys and binds the listen address.
    ///
    /// # Errors
    /// Returns [`StartError`] naming the step that failed.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let notifier = Notifier::from_config(&config.notifications)?.map(Arc::new);
        let mut store = Store::open(config.database_url().expose_secret())
            .await
            .map_err(|source| StartError::OpenDatabase {
                target: database_target(&config),
                source,
            })?;
        if let Some(notifier) = &notifier {
            store = store.with_notifications(notifier.policy());
        }
        crate::notify::log_start(notifier.as_deref(), &store).await;
        let (signing_key, origin) = load_signing_key(&config)?;
        if origin == SigningKeyOrigin::Development {
            tracing::warn!(
                key.id = %signing_key.id(),
                "signing with a generated development key: set signing_key to the \
                 ministry's key before issuing real certificates"
            );
        }
        register_signing_key(&store, &signing_key).await?;

        let issuer = TokenIssuer::load_or_generate(&config.token_key_path(), &config.tokens)?;
        let external = OidcVerifier::from_config(&config.oidc).await?;

        let renderer = vaccred_pdf::Renderer::new(&config.pdf.renderer_config())?;
        let language = &config.pdf.language;
        vaccred_pdf::validate_language(language)?;
        for kind in [
            vaccred_pdf::CertificateKind::Vaccination,
            vaccred_pdf::CertificateKind::Test,
        ] {
            let template = renderer.template_for(kind, language)?;
            let primary = language.split('-').next().unwrap_or(language);
            if !template.ends_with(&format!(".{language}.typ"))
                && !template.ends_with(&format!(".{primary}.typ"))
            {
                tracing::warn!(
                    pdf.language = %language,
                    template = %template,
                    "no certificate template in pdf.language: PDFs use this one; add \
                     {}.{language}.typ to pdf.templates_dir",
                    kind.as_str()
                );
            }
        }
        // A trial render takes a moment, so it runs only when templates, fonts or logos are
        // configured: the bundled set alone is rendered by the tests.
        let pdf = &config.pdf;
        if pdf.templates_dir.is_some()
            || pdf.fonts_dir.is_some()
            || pdf.logo.is_some()
            || pdf.second_logo.is_some()
        {
            renderer.check(&config.pdf.language)?;
        }

        let (router, openapi) = api_routes();
        let openapi_json = serde_json::to_string(&openapi)
            .map_err(|error| StartError::OpenApi(error.to_string()))?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    address: config.listen,
                    source,
                })?;
        let state = AppState::new(StateParts {
            config,
            store,
            authenticator: Authenticator::new(issuer, external),
            signing_key,
            openapi_json,
            notifier,
            renderer,
            render_pool: render_pool()?,
        });
        let app = into_app(router, state.clone());
        Ok(Self {
            listener,
            app,
            state,
        })
    }

    /// Returns the bound address, which includes the port the system chose when the
    /// configuration has port 0.
    ///
    /// # Errors
    /// Returns the operating system's error when the socket has no address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Returns the shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves requests and runs the signing workers until `shutdown` completes, then
    /// stops accepting connections and gives in-flight requests and signing work
    /// `shutdown_timeout_seconds` to finish. Work items still leased after that are
    /// claimed again once their lease runs out.
    ///
    /// # Errors
    /// Returns the operating system's error when the listener fails.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Server {
            listener,
            app,
            state,
        } = self;
        let address = listener.local_addr()?;
        let timeout = Duration::from_secs(state.config().shutdown_timeout_seconds);
        let stop = CancellationToken::new();
        let workers = WorkerPool::spawn(state.clone(), stop.child_token());
        let notifiers = state.notifier().map(|notifier| {
            let instance = crate::worker::instance_id();
            NotifierPool::spawn(Arc::clone(notifier), &state, &instance, stop.child_token())
        });

        let stop_serving = stop.clone();
        let mut serving = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop_serving.cancelled().await })
                .await
        });
        tracing::info!(listen = %address, "vaccred server started");

        let early_exit = tokio::select! {
            () = shutdown => None,
            result = &mut serving => Some(result),
        };
        stop.cancel();
        let deadline = tokio::time::Instant::now() + timeout;
        let served = match early_exit {
            Some(result) => flatten(result),
            None => {
                tracing::info!(timeout_seconds = timeout.as_secs(), "shutting down");
                match tokio::time::timeout_at(deadline, &mut serving).await {
                    Ok(result) => flatten(result),
                    Err(_) => {
                        tracing::warn!(
                            "requests still running at the shutdown deadline were cut off"
                        );
                        serving.abort();
                        Ok(())
                    }
                }
            }
        };
        workers.stop(deadline).await;
        if let Some(notifiers) = notifiers {
            notifiers.stop(deadline).await;
        }
        state.store().close().await;
        tracing::info!("vaccred server stopped");
        served
    }
}

fn flatten(result: Result<std::io::Result<()>, tokio::task::JoinError>) -> std::io::Result<()> {
    result.unwrap_or_else(|error| Err(std::io::Error::other(error)))
}

/// Lists the signing key's public half in the store, so verifiers and operators can see
/// which keys have signed.
async fn register_signing_key(
    store: &Store,
    key: &vaccred_core::sign::SigningKey,
) -> Result<(), StartError> {
    let record = NewSigningKey {
        key_id: key.id().clone(),
        algorithm: key.proof_type(),
        public_key_pem: key.public_key().to_pem(Some(key.id())),
    };
    match store.add_signing_key(&record).await {
        Ok(_) | Err(vaccred_store::StoreError::SigningKeyExists(_)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Completes when the process receives SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!(signal = "SIGINT", "shutdown signal received"),
        () = terminate => tracing::info!(signal = "SIGTERM", "shutdown signal received"),
    }
}
