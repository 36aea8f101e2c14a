//! JSON-LD 1.1 context processing for the features credential contexts use.
//!
//! Supported: term definitions with `@id`, `@type` (`@id`, `@vocab` or a datatype IRI),
//! `@container` (`@set`, `@list`; `@graph` is recorded and rejected on use), scoped contexts
//! (`@context`), `@prefix`, `@protected`, `@version`, `@vocab`, `@propagate` and remote
//! contexts from the bundled loader. Anything else is rejected with
//! [`JsonLdError::Unsupported`], so a document is never signed or verified under a
//! half-understood context.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{JsonLdError, Processor};

/// Type coercion of a term's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TypeMapping {
    Id,
    Vocab,
    Datatype(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Container {
    None,
    Set,
    List,
    Graph,
}

/// One processed term definition.
#[derive(Clone, Debug)]
pub(crate) struct TermDefinition {
    /// The IRI or keyword the term expands to; `None` for a term mapped to `null`.
    pub(crate) iri: Option<String>,
    pub(crate) type_mapping: Option<TypeMapping>,
    pub(crate) container: Container,
    /// The scoped context, applied to values of this property or to nodes of this type.
    pub(crate) context: Option<Arc<Value>>,
    pub(crate) prefix: bool,
    pub(crate) protected: bool,
}

impl TermDefinition {
    fn same_as(&self, other: &TermDefinition) -> bool {
        self.iri == other.iri
            && self.type_mapping == other.type_mapping
            && self.container == other.container
            && self.context == other.context
            && self.prefix == other.prefix
    }
}

/// An active context: the term definitions in force at one point of a document.
#[derive(Clone, Debug, Default)]
pub(crate) struct ActiveContext {
    pub(crate) terms: HashMap<String, Arc<TermDefinition>>,
    pub(crate) vocab: Option<String>,
    /// The base IRI set by `@base`; without one, relative IRIs stay relative and are dropped.
    pub(crate) base: Option<String>,
    /// The context to return to in nested node objects, set by type-scoped contexts.
    pub(crate) previous: Option<Arc<ActiveContext>>,
    /// Whether this context was built only from bundled documents and may key the cache.
    pub(crate) cacheable: bool,
}

const GEN_DELIMS: [char; 7] = [':', '/', '?', '#', '[', ']', '@'];
const MAX_REMOTE_DEPTH: usize = 8;

/// Whether `value` is an absolute IRI or blank node label by jsonld.js 2.0.2's test
/// `/^([A-Za-z][A-Za-z0-9+-.]*|_):/`: a scheme and a colon, whatever follows. The character
/// class `+-.` there is a range, so `,` is allowed in the scheme too.
pub fn is_absolute_iri(value: &str) -> bool {
    let Some((scheme, _)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    scheme == "_"
        || chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || ('+'..='.').contains(&c))
}

/// Whether `value` is a JSON-LD keyword.
pub(crate) fn is_keyword(value: &str) -> bool {
    matches!(
        value,
        "@base"
            | "@container"
            | "@context"
            | "@default"
            | "@direction"
            | "@embed"
            | "@explicit"
            | "@graph"
            | "@id"
            | "@import"
            | "@included"
            | "@index"
            | "@json"
            | "@language"
            | "@list"
            | "@nest"
            | "@none"
            | "@omitDefault"
            | "@prefix"
            | "@preserve"
            | "@propagate"
            | "@protected"
            | "@requireAll"
            | "@reverse"
            | "@set"
            | "@type"
            | "@value"
            | "@version"
            | "@vocab"
    )
}

impl ActiveContext {
    /// Expands `value` as jsonld.js `_expandIri` does without a local context: `vocab` allows
    /// terms and `@vocab`, `base` resolves relative IRIs against `@base`. Returns `None` for a
    /// term explicitly mapped to `null`.
    pub(crate) fn expand_iri<'a>(
        &'a self,
        value: &'a str,
        vocab: bool,
        base: bool,
    ) -> Option<Cow<'a, str>> {
        if vocab && let Some(term) = self.terms.get(value) {
            return term.iri.as_deref().map(Cow::Borrowed);
        }
        if value.starts_with('@') && is_keyword(value) {
            return Some(Cow::Borrowed(value));
        }
        if let Some((prefix, suffix)) = value.split_once(':') {
            if prefix == "_" || suffix.starts_with("//") {
                return Some(Cow::Borrowed(value));
            }
            if let Some(term) = self.terms.get(prefix)
                && let (Some(iri), true) = (&term.iri, term.prefix)
            {
                return Some(Cow::Owned(format!("{iri}{suffix}")));
            }
            if is_absolute_iri(value) {
                return Some(Cow::Borrowed(value));
            }
        }
        if vocab && let Some(vocab) = &self.vocab {
            return Some(Cow::Owned(format!("{vocab}{value}")));
        }
        if let (true, Some(base_iri)) = (base, &self.base) {
            return Some(Cow::Owned(super::iri::resolve(base_iri, value)));
        }
        Some(Cow::Borrowed(value))
    }

    fn has_protected_terms(&self) -> bool {
        self.terms.values().any(|term| term.protected)
    }
}

/// Options of one application of a local context.
#[derive(Clone, Copy)]
pub(crate) struct Apply {
    pub(crate) override_protected: bool,
    pub(crate) propagate: bool,
}

impl Processor {
    /// Applies `local` to `active`, as the JSON-LD 1.1 Context Processing algorithm does.
    pub(crate) fn process_context(
        &self,
        active: &Arc<ActiveContext>,
        local: &Value,
        apply: Apply,
        depth: usize,
    ) -> Result<ActiveContext, JsonLdError> {
        let mut result = (**active).clone();
        let mut propagate = apply.propagate;
        if let Value::Object(map) = local
            && let Some(flag) = map.get("@propagate")
        {
            propagate = flag
                .as_bool()
                .ok_or_else(|| invalid("@propagate must be a boolean"))?;
        }
        if !propagate && result.previous.is_none() {
            result.previous = Some(active.clone());
        }
        let items = match local {
            Value::Array(items) => items.as_slice(),
            single => std::slice::from_ref(single),
        };
        for item in items {
            match item {
                Value::Null => {
                    if !apply.override_protected && result.has_protected_terms() {
                        return Err(invalid(
                            "a context with protected terms cannot be nullified",
                        ));
                    }
                    result = ActiveContext {
                        cacheable: result.cacheable,
                        ..ActiveContext::default()
                    };
                }
                Value::String(url) => {
                    if depth >= MAX_REMOTE_DEPTH {
                        return Err(invalid("remote contexts are nested too deeply"));
                    }
                    let document = self.loader.get(url)?;
                    let base = Arc::new(result);
                    let remote = Apply {
                        override_protected: apply.override_protected,
                        propagate: true,
                    };
                    result = self.process_context(&base, &document, remote, depth + 1)?;
                }
                Value::Object(map) => define_terms(&mut result, map, apply.override_protected)?,
                _ => return Err(invalid("a context must be an object, a URL string or null")),
            }
        }
        Ok(result)
    }
}

fn invalid(message: &str) -> JsonLdError {
    JsonLdError::InvalidContext(message.to_owned())
}

fn define_terms(
    result: &mut ActiveContext,
    map: &Map<String, Value>,
    override_protected: bool,
) -> Result<(), JsonLdError> {
    if let Some(version) = map.get("@version")
        && version.as_f64() != Some(1.1)
    {
        return Err(invalid("@version must be 1.1"));
    }
    if let Some(base) = map.get("@base") {
        result.base = match base {
            Value::Null => None,
            Value::String(iri) if is_absolute_iri(iri) => Some(iri.clone()),
            Value::String(iri) => match &result.base {
                Some(current) => Some(super::iri::resolve(current, iri)),
                None => return Err(invalid("@base must be an absolute IRI")),
            },
            _ => return Err(invalid("@base must be a string or null")),
        };
    }
    for keyword in ["@language", "@direction", "@import"] {
        if map.contains_key(keyword) {
            return Err(JsonLdError::Unsupported(format!("{keyword} in a context")));
        }
    }
    if let Some(vocab) = map.get("@vocab") {
        result.vocab = match vocab {
            Value::Null => None,
            Value::String(iri) if is_absolute_iri(iri) => Some(iri.clone()),
            _ => return Err(invalid("@vocab must be an absolute IRI or null")),
        };
    }
    let protected = match map.get("@protected") {
        None => false,
        Some(flag) => flag
            .as_bool()
            .ok_or_else(|| invalid("@protected must be a boolean"))?,
    };
    let mut builder = TermBuilder {
        local: map,
        defined: HashMap::default(),
        protected,
        override_protected,
    };
    for term in map.keys() {
        if !matches!(
            term.as_str(),
            "@version" | "@vocab" | "@protected" | "@propagate" | "@base"
        ) {
            builder.define(result, term)?;
        }
    }
    Ok(())
}

struct TermBuilder<'a> {
    local: &'a Map<String, Value>,
    /// Terms of this local context: `false` while being defined, `true` once done.
    defined: HashMap<&'a str, bool>,
    protected: bool,
    override_protected: bool,
}

impl<'a> TermBuilder<'a> {
    fn define(&mut self, active: &mut ActiveContext, term: &'a str) -> Result<(), JsonLdError> {
        match self.defined.get(term) {
            Some(true) => return Ok(()),
            Some(false) => return Err(invalid(&format!("cyclic IRI mapping for term {term:?}"))),
            None => {}
        }
        self.defined.insert(term, false);
        if is_keyword(term) {
            return Err(invalid(&format!("keyword {term} cannot be redefined")));
        }
        let previous = active.terms.remove(term);
        let value = &self.local[term];
        let definition = self.build(active, term, value)?;
        let definition = match previous {
            Some(previous) if previous.protected && !self.override_protected => {
                if !previous.same_as(&definition) {
                    return Err(JsonLdError::ProtectedTermRedefinition(term.to_owned()));
                }
                previous
            }
            _ => Arc::new(definition),
        };
        active.terms.insert(term.to_owned(), definition);
        self.defined.insert(term, true);
        Ok(())
    }

    fn build(
        &mut self,
        active: &mut ActiveContext,
        term: &'a str,
        value: &'a Value,
    ) -> Result<TermDefinition, JsonLdError> {
        let mut definition = TermDefinition {
            iri: None,
            type_mapping: None,
            container: Container::None,
            context: None,
            prefix: false,
            protected: self.protected,
        };
        let (map, simple) = match value {
            Value::Null => return Ok(definition),
            Value::String(_) => (None, true),
            Value::Object(map) => (Some(map), false),
            _ => {
                return Err(invalid(&format!(
                    "term {term:?} must be a string, object or null"
                )));
            }
        };
        let id = match map {
            Some(map) => map.get("@id"),
            None => Some(value),
        };
        if let Some(map) = map {
            self.read_options(active, term, map, &mut definition)?;
        }
        match id {
            Some(Value::Null) => return Ok(definition),
            Some(Value::String(id)) if id != term => {
                let iri = self.expand(active, id)?;
                if !(is_keyword(&iri) || is_absolute_iri(&iri)) {
                    return Err(invalid(&format!(
                        "term {term:?} maps to a relative IRI {iri:?}"
                    )));
                }
                let prefix_like = !term.contains([':', '/']) && simple;
                definition.prefix |= prefix_like && iri.ends_with(GEN_DELIMS);
                definition.iri = Some(iri);
            }
            Some(Value::String(_)) | None => definition.iri = Some(self.term_iri(active, term)?),
            Some(_) => return Err(invalid(&format!("@id of term {term:?} must be a string"))),
        }
        Ok(definition)
    }

    /// The IRI of a term defined without `@id`: a compact or absolute IRI, or `@vocab` + term.
    fn term_iri(
        &mut self,
        active: &mut ActiveContext,
        term: &'a str,
    ) -> Result<String, JsonLdError> {
        if term.contains(':') {
            return self.expand(active, term);
        }
        match &active.vocab {
            Some(vocab) => Ok(format!("{vocab}{term}")),
            None => Err(invalid(&format!(
                "term {term:?} has no IRI and no @vocab applies"
            ))),
        }
    }

    fn read_options(
        &mut self,
        active: &mut ActiveContext,
        term: &'a str,
        map: &'a Map<String, Value>,
        definition: &mut TermDefinition,
    ) -> Result<(), JsonLdError> {
        for key in map.keys() {
            if !matches!(
                key.as_str(),
                "@id" | "@type" | "@container" | "@context" | "@protected" | "@prefix"
            ) {
                return Err(JsonLdError::Unsupported(format!(
                    "{key} in the definition of {term:?}"
                )));
            }
        }
        if let Some(flag) = map.get("@protected") {
            definition.protected = flag
                .as_bool()
                .ok_or_else(|| invalid("@protected must be a boolean"))?;
        }
        if let Some(flag) = map.get("@prefix") {
            definition.prefix = flag
                .as_bool()
                .ok_or_else(|| invalid("@prefix must be a boolean"))?;
        }
        if let Some(kind) = map.get("@type") {
            let kind = kind
                .as_str()
                .ok_or_else(|| invalid("@type of a term must be a string"))?;
            definition.type_mapping = Some(match kind {
                "@id" => TypeMapping::Id,
                "@vocab" => TypeMapping::Vocab,
                other => {
                    let iri = self.expand(active, other)?;
                    if !is_absolute_iri(&iri) {
                        return Err(invalid(&format!("@type of term {term:?} is not an IRI")));
                    }
                    TypeMapping::Datatype(iri)
                }
            });
        }
        if let Some(container) = map.get("@container") {
            definition.container = container_of(term, container)?;
        }
        if let Some(context) = map.get("@context") {
            definition.context = Some(Arc::new(context.clone()));
        }
        Ok(())
    }

    /// Expands an IRI while defining terms, creating the terms it depends on first.
    fn expand(
        &mut self,
        active: &mut ActiveContext,
        value: &'a str,
    ) -> Result<String, JsonLdError> {
        if self.local.contains_key(value) && !is_keyword(value) {
            let key = self.local.get_key_value(value).map(|(k, _)| k.as_str());
            if let Some(key) = key {
                self.define(active, key)?;
            }
        }
        if let Some((prefix, _)) = value.split_once(':')
            && let Some((key, _)) = self.local.get_key_value(prefix)
        {
            self.define(active, key.as_str())?;
        }
        active
            .expand_iri(value, true, false)
            .map(Cow::into_owned)
            .ok_or_else(|| invalid(&format!("{value:?} expands to null")))
    }
}

fn container_of(term: &str, value: &Value) -> Result<Container, JsonLdError> {
    let names: Vec<&str> = match value {
        Value::String(name) => vec![name.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => {
            return Err(invalid(&format!(
                "@container of {term:?} must be a string or array"
            )));
        }
    };
    let mut container = Container::None;
    for name in names {
        container = match (name, container) {
            ("@set", Container::None) => Container::Set,
            ("@set", other) => other,
            ("@list", _) => Container::List,
            ("@graph", _) => Container::Graph,
            (other, _) => {
                return Err(JsonLdError::Unsupported(format!(
                    "@container {other} of {term:?}"
                )));
            }
        };
    }
    Ok(container)
}
