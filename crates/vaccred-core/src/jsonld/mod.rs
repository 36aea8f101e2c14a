//! JSON-LD to RDF for credentials, with bundled contexts and no network access.
//!
//! [`Processor::to_rdf`] turns a compacted JSON-LD document into RDF quads the way jsonld.js
//! 2.0.2 does under jsonld-signatures 6 (the stack DIVOC signs with): a property that is not
//! defined in the active context is an error, `vac:` terms stay literal IRIs, and node
//! identifiers that are not absolute IRIs are dropped together with every triple that
//! mentions them. Processed contexts are cached, so converting a credential costs a walk over
//! its JSON and a few hash look-ups per property.

mod context;
mod expand;
mod iri;
mod jcs;
mod number;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::rdf::{self, CanonError, CanonOptions, Quad};
use context::{ActiveContext, Apply};

pub use context::is_absolute_iri;

/// The W3C Verifiable Credentials 1.0 context URL.
pub const CREDENTIALS_V1: &str = "https://www.w3.org/2018/credentials/v1";
/// The security vocabulary v1 context URL.
pub const SECURITY_V1: &str = "https://w3id.org/security/v1";
/// The security vocabulary v2 context URL, under which DIVOC canonicalizes proof options.
pub const SECURITY_V2: &str = "https://w3id.org/security/v2";
/// DIVOC's vaccination context, version 1 (credential shape `certifyV2`).
pub const VACCINATION_V1: &str = "https://cowin.gov.in/credentials/vaccination/v1";
/// DIVOC's vaccination context, version 2 (credential shape `certifyV3`, WHO DDCC-aligned).
pub const VACCINATION_V2: &str = "https://cowin.gov.in/credentials/vaccination/v2";
/// DIVOC's test certificate context.
pub const TEST_CERTIFICATE_V1: &str = "https://cowin.gov.in/credentials/testCertificate/v1";

const BUNDLED: [(&str, &str); 6] = [
    (
        CREDENTIALS_V1,
        include_str!("../../contexts/credentials-v1.jsonld"),
    ),
    (
        SECURITY_V1,
        include_str!("../../contexts/security-v1.jsonld"),
    ),
    (
        SECURITY_V2,
        include_str!("../../contexts/security-v2.jsonld"),
    ),
    (
        VACCINATION_V1,
        include_str!("../../contexts/vaccination-v1.jsonld"),
    ),
    (
        VACCINATION_V2,
        include_str!("../../contexts/vaccination-v2.jsonld"),
    ),
    (
        TEST_CERTIFICATE_V1,
        include_str!("../../contexts/test-certificate-v1.jsonld"),
    ),
];

/// Other URLs under which deployed DIVOC verifiers load the same documents: DIVOC's default
/// namespace, the credentials vocabulary IRI, and the namespaces of other DIVOC deployments
/// as mapped by WHO's DDCC validator.
const ALIASES: [(&str, &str); 6] = [
    (
        "https://divoc.dev/credentials/vaccination/v1",
        VACCINATION_V1,
    ),
    ("https://www.w3.org/2018/credentials#", CREDENTIALS_V1),
    (
        "https://divoc.prod/vaccine/credentials/vaccination/v1",
        VACCINATION_V2,
    ),
    (
        "https://divoc.lgcc.gov.lk/credentials/vaccination/v1",
        VACCINATION_V2,
    ),
    (
        "https://www.pedulilindungi.id/credentials/vaccination/v2",
        VACCINATION_V2,
    ),
    (
        "https://divoc.dev/credentials/vaccination/v2",
        VACCINATION_V2,
    ),
];

/// Errors of JSON-LD processing.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonLdError {
    /// A property is not defined in the active context (jsonld-signatures' strict mode).
    #[error("the property {0:?} is not defined in the credential's JSON-LD context")]
    UndefinedTerm(String),
    /// A context URL that is not bundled and not configured.
    #[error("unknown JSON-LD context {0:?}; only bundled or configured contexts are loaded")]
    UnknownContext(String),
    /// A context document is malformed.
    #[error("invalid JSON-LD context: {0}")]
    InvalidContext(String),
    /// A protected term is redefined differently.
    #[error("the protected term {0:?} is redefined")]
    ProtectedTermRedefinition(String),
    /// A value has the wrong shape for its property.
    #[error("invalid value of {property:?}: {message}")]
    InvalidValue {
        /// The JSON key.
        property: String,
        /// Description of the problem.
        message: String,
    },
    /// A JSON-LD feature this processor does not implement.
    #[error("unsupported JSON-LD feature: {0}")]
    Unsupported(String),
    /// The document nests objects deeper than the processor allows.
    #[error("the document nests objects more than {0} levels deep")]
    TooDeep(usize),
    /// The RDF dataset could not be canonicalized.
    #[error(transparent)]
    Canon(#[from] CanonError),
}

/// The JSON values of a document that are in its RDF dataset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// JSON pointers (RFC 6901, such as `/credentialSubject/name`) of the scalar values that
    /// are in the dataset through an unbroken chain of statements from the root node. A value
    /// is left out when a node on its path has a relative `@id` (the node and its statements
    /// drop out) or when it maps to nothing.
    pub signed: std::collections::HashSet<String>,
    /// JSON pointers of members keyed by an absolute or compact IRI instead of a term of the
    /// context. DIVOC credentials have none; such a member can carry signed data while a
    /// same-named term shows unsigned data.
    pub iri_keys: Vec<String>,
}

/// Context documents by URL.
#[derive(Clone, Debug)]
pub struct ContextLoader {
    documents: HashMap<String, Arc<Value>>,
}

impl Default for ContextLoader {
    /// The bundled contexts under their URLs and the known aliases.
    fn default() -> Self {
        let mut documents = HashMap::new();
        for (url, text) in BUNDLED {
            documents.insert(url.to_owned(), Arc::new(context_value(text)));
        }
        for (alias, url) in ALIASES {
            let document = documents[url].clone();
            documents.insert(alias.to_owned(), document);
        }
        ContextLoader { documents }
    }
}

fn context_value(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut map)) => map.remove("@context").unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

impl ContextLoader {
    /// Serves the document known under `target` also under `alias`.
    ///
    /// # Errors
    ///
    /// [`JsonLdError::UnknownContext`] when `target` is not loaded.
    pub fn with_alias(mut self, alias: &str, target: &str) -> Result<Self, JsonLdError> {
        let document = self.get(target)?;
        self.documents.insert(alias.to_owned(), document);
        Ok(self)
    }

    /// Adds a context document (JSON text with an `@context` entry) under `url`.
    ///
    /// # Errors
    ///
    /// [`JsonLdError::InvalidContext`] when the text is not a JSON object with `@context`.
    pub fn with_document(mut self, url: &str, text: &str) -> Result<Self, JsonLdError> {
        let value = context_value(text);
        if value.is_null() {
            let message = format!("the document for {url} is not a JSON object with @context");
            return Err(JsonLdError::InvalidContext(message));
        }
        self.documents.insert(url.to_owned(), Arc::new(value));
        Ok(self)
    }

    /// Returns whether this loader serves `url`.
    pub fn contains(&self, url: &str) -> bool {
        self.documents.contains_key(url)
    }

    /// Lists the URLs this loader serves.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        self.documents.keys().map(String::as_str)
    }

    fn get(&self, url: &str) -> Result<Arc<Value>, JsonLdError> {
        self.documents
            .get(url)
            .cloned()
            .ok_or_else(|| JsonLdError::UnknownContext(url.to_owned()))
    }
}

type ScopedKey = (usize, usize, bool, bool);

/// Maximum number of cached context combinations; more are processed without caching.
const CACHE_LIMIT: usize = 1024;

/// A JSON-LD processor with a context cache. Create one and share it: the cache makes the
/// second and later documents with the same contexts cheap.
#[derive(Debug)]
pub struct Processor {
    loader: ContextLoader,
    roots: Mutex<HashMap<Vec<String>, Arc<ActiveContext>>>,
    scoped: Mutex<HashMap<ScopedKey, Arc<ActiveContext>>>,
    /// The last SHA-256 of canonical N-Quads computed through [`Processor::sha256_memo`].
    memo: Mutex<Option<(String, [u8; 32])>>,
}

impl Default for Processor {
    fn default() -> Self {
        Processor::new(ContextLoader::default())
    }
}

impl Processor {
    /// Creates a processor that loads contexts from `loader`.
    pub fn new(loader: ContextLoader) -> Self {
        Processor {
            loader,
            roots: Mutex::new(HashMap::new()),
            scoped: Mutex::new(HashMap::new()),
            memo: Mutex::new(None),
        }
    }

    /// Converts a JSON-LD document to RDF quads (default graph only), without duplicates.
    ///
    /// # Errors
    ///
    /// [`JsonLdError`] when the document uses an undefined property, an unknown context or an
    /// unsupported feature.
    pub fn to_rdf(&self, document: &Value) -> Result<Vec<Quad>, JsonLdError> {
        expand::document_to_rdf(self, document)
    }

    /// Returns the URDNA2015 canonical N-Quads of a document, byte-identical to what
    /// jsonld.js 2.0.2 with rdf-canonize 1.x produces.
    ///
    /// # Errors
    ///
    /// As [`Processor::to_rdf`], and [`JsonLdError::Canon`] for datasets too complex to
    /// canonicalize.
    pub fn canonize(&self, document: &Value) -> Result<String, JsonLdError> {
        let quads = self.to_rdf(document)?;
        Ok(rdf::canonicalize(&quads, &CanonOptions::default())?.nquads)
    }

    /// The active context of a document's top-level `@context` value.
    fn root_context(&self, local: &Value) -> Result<Arc<ActiveContext>, JsonLdError> {
        let urls: Option<Vec<String>> = match local {
            Value::String(url) => Some(vec![url.clone()]),
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        let empty = Arc::new(ActiveContext::default());
        let apply = Apply {
            override_protected: false,
            propagate: true,
        };
        let Some(urls) = urls else {
            return Ok(Arc::new(self.process_context(&empty, local, apply, 0)?));
        };
        if let Some(found) = lock(&self.roots).get(&urls) {
            return Ok(found.clone());
        }
        let mut context = self.process_context(&empty, local, apply, 0)?;
        let mut roots = lock(&self.roots);
        // Only contexts kept alive by the cache may be cacheable: their addresses key it.
        context.cacheable = roots.len() < CACHE_LIMIT;
        let context = Arc::new(context);
        if context.cacheable {
            roots.insert(urls, context.clone());
        }
        Ok(context)
    }

    /// Applies a scoped context taken from a term definition of the context `source`.
    fn apply_scoped(
        &self,
        active: &Arc<ActiveContext>,
        source: &ActiveContext,
        local: &Arc<Value>,
        apply: Apply,
    ) -> Result<Arc<ActiveContext>, JsonLdError> {
        if !active.cacheable || !source.cacheable {
            return Ok(Arc::new(self.process_context(active, local, apply, 0)?));
        }
        let key = (
            Arc::as_ptr(active) as usize,
            Arc::as_ptr(local) as usize,
            apply.override_protected,
            apply.propagate,
        );
        if let Some(found) = lock(&self.scoped).get(&key) {
            return Ok(found.clone());
        }
        let mut context = self.process_context(active, local, apply, 0)?;
        let mut scoped = lock(&self.scoped);
        context.cacheable = scoped.len() < CACHE_LIMIT;
        let context = Arc::new(context);
        if context.cacheable {
            scoped.insert(key, context.clone());
        }
        Ok(context)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Processor {
    /// Returns SHA-256 of the canonical N-Quads of `document`, reusing the previous result
    /// when `key` is the same. Proof options repeat for every credential signed in the same
    /// second, so this saves a canonicalization per signature.
    pub(crate) fn sha256_memo(&self, key: &str, document: &Value) -> Result<[u8; 32], JsonLdError> {
        use sha2::{Digest, Sha256};
        if let Some((cached, digest)) = lock(&self.memo).as_ref()
            && cached == key
        {
            return Ok(*digest);
        }
        let digest: [u8; 32] = Sha256::digest(self.canonize(document)?.as_bytes()).into();
        *lock(&self.memo) = Some((key.to_owned(), digest));
        Ok(digest)
    }

    /// Describes which parts of `document` a signature over its RDF dataset covers.
    ///
    /// # Errors
    ///
    /// As [`Processor::to_rdf`].
    pub fn coverage(
        &self,
        document: &serde_json::Map<String, Value>,
        skip: Option<&str>,
    ) -> Result<Coverage, JsonLdError> {
        let (signed, iri_keys) = expand::covered_pointers(self, document, skip)?;
        Ok(Coverage {
            signed: signed.into_iter().collect(),
            iri_keys,
        })
    }

    /// As [`Processor::canonize`], for a document given as a JSON object, leaving out its
    /// top-level member `skip` if given (a credential's `proof`).
    ///
    /// # Errors
    ///
    /// As [`Processor::canonize`].
    pub fn canonize_object(
        &self,
        document: &serde_json::Map<String, Value>,
        skip: Option<&str>,
    ) -> Result<String, JsonLdError> {
        let quads = expand::object_to_rdf(self, document, skip)?;
        Ok(rdf::canonicalize(&quads, &CanonOptions::default())?.nquads)
    }
}
