//! Shared application state, handed to every handler and worker.

use std::sync::Arc;

use tokio::sync::{Notify, Semaphore};

use vaccred_core::credential::VaccineTable;
use vaccred_core::sign::SigningKey;
use vaccred_pdf::Renderer;
use vaccred_store::Store;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::notify::Notifier;

/// Cheaply clonable handle to the server's shared state.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    store: Store,
    metrics: Metrics,
    authenticator: Authenticator,
    signing_key: Arc<SigningKey>,
    vaccines: VaccineTable,
    openapi_json: String,
    work_notify: Notify,
    notifier: Option<Arc<Notifier>>,
    renderer: Arc<Renderer>,
    render_pool: Arc<rayon::ThreadPool>,
    render_slots: Arc<Semaphore>,
}

/// The parts of [`AppState`], for [`AppState::new`].
#[derive(Debug)]
pub struct StateParts {
    /// The loaded configuration.
    pub config: Config,
    /// The opened database.
    pub store: Store,
    /// Bearer token checks.
    pub authenticator: Authenticator,
    /// The credential signing key.
    pub signing_key: SigningKey,
    /// The served OpenAPI document, serialised.
    pub openapi_json: String,
    /// Notification delivery, when SMS or e-mail is configured.
    pub notifier: Option<Arc<Notifier>>,
    /// The certificate PDF renderer.
    pub renderer: Renderer,
    /// The threads that render PDFs, from [`render_pool`].
    pub render_pool: rayon::ThreadPool,
}

/// Builds the PDF render threads, one per CPU. More would only take turns on the CPUs,
/// each holding its own layout memory. The PDF writer hands image and font work to the
/// rayon pool it runs in, so that work stays on these threads as well.
///
/// # Errors
///
/// Returns rayon's error when the operating system refuses to start the threads.
pub fn render_pool() -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|index| format!("vaccred-render-{index}"))
        // A render that panics fails its request, because its result channel closes,
        // instead of aborting the process as rayon does by default.
        .panic_handler(|_| tracing::error!("a PDF render panicked"))
        .build()
}

impl AppState {
    /// Assembles the state with fresh metrics and the default vaccine table.
    pub fn new(parts: StateParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                config: parts.config,
                store: parts.store,
                metrics: Metrics::new(),
                authenticator: parts.authenticator,
                signing_key: Arc::new(parts.signing_key),
                vaccines: VaccineTable::default(),
                openapi_json: parts.openapi_json,
                work_notify: Notify::new(),
                notifier: parts.notifier,
                renderer: Arc::new(parts.renderer),
                render_slots: Arc::new(Semaphore::new(parts.render_pool.current_num_threads())),
                render_pool: Arc::new(parts.render_pool),
            }),
        }
    }

    /// Returns the configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Returns the database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Returns the metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Returns the bearer token checks.
    pub fn authenticator(&self) -> &Authenticator {
        &self.inner.authenticator
    }

    /// Returns the credential signing key.
    pub fn signing_key(&self) -> &Arc<SigningKey> {
        &self.inner.signing_key
    }

    /// Returns the vaccine name to ICD-11 table.
    pub fn vaccines(&self) -> &VaccineTable {
        &self.inner.vaccines
    }

    /// Returns the signal that wakes idle signing workers when work is queued.
    pub fn work_notify(&self) -> &Notify {
        &self.inner.work_notify
    }

    /// Returns the certificate PDF renderer.
    pub fn renderer(&self) -> &Arc<Renderer> {
        &self.inner.renderer
    }

    /// Returns the threads that render PDFs, one per CPU.
    pub fn render_pool(&self) -> &rayon::ThreadPool {
        &self.inner.render_pool
    }

    /// Returns the permits for renders on the render threads, one per thread. A render
    /// that waits on the PDF writer's work runs other pending pool jobs meanwhile, so
    /// without the permits queued renders would nest on one thread's stack.
    pub fn render_slots(&self) -> &Arc<Semaphore> {
        &self.inner.render_slots
    }

    /// Returns the OpenAPI document as JSON text.
    pub fn openapi_json(&self) -> &str {
        &self.inner.openapi_json
    }

    /// Returns the notification service, when SMS or e-mail is configured.
    pub fn notifier(&self) -> Option<&Arc<Notifier>> {
        self.inner.notifier.as_ref()
    }
}
