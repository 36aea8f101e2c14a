//! Expansion of a compacted JSON-LD document straight into RDF quads.
//!
//! This follows the JSON-LD 1.1 Expansion and Deserialize JSON-LD to RDF algorithms as
//! jsonld.js 2.0.2 implements them, for node objects, value objects and lists in the default
//! graph.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::context::{
    ActiveContext, Apply, Container, TermDefinition, TypeMapping, is_absolute_iri,
};
use super::jcs::canonical_json;
use super::number::{
    XSD_BOOLEAN, XSD_DOUBLE, double_lexical, js_number_to_string, js_parse_float, number_literal,
};
use super::{JsonLdError, Processor};
use crate::rdf::{Literal, Quad, RDF_LANG_STRING, RDF_TYPE, Term, XSD_STRING};

const MAX_DEPTH: usize = 32;
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
const RDF_JSON: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON";

pub(super) fn document_to_rdf(
    processor: &Processor,
    document: &Value,
) -> Result<Vec<Quad>, JsonLdError> {
    let Value::Object(root) = document else {
        return Err(JsonLdError::Unsupported(
            "a document that is not a JSON object".into(),
        ));
    };
    object_to_rdf(processor, root, None)
}

/// Converts a document given as a JSON object, leaving out its top-level member `skip`.
pub(super) fn object_to_rdf(
    processor: &Processor,
    root: &Map<String, Value>,
    skip: Option<&str>,
) -> Result<Vec<Quad>, JsonLdError> {
    let context = match root.get("@context") {
        Some(local) => processor.root_context(local)?,
        None => Arc::new(ActiveContext::default()),
    };
    let mut builder = Builder::new(processor, skip);
    builder.node(&context, None, root, true, 0)?;
    Ok(builder.quads)
}

/// Returns the JSON pointers of the scalars of `root` whose statements are in its dataset,
/// linked to the root node by statements that are in it too, and the pointers of members
/// keyed by an IRI instead of a term.
pub(super) fn covered_pointers(
    processor: &Processor,
    root: &Map<String, Value>,
    skip: Option<&str>,
) -> Result<(HashSet<String>, Vec<String>), JsonLdError> {
    let mut builder = Builder::new(processor, skip);
    builder.trace = Some(Trace::default());
    let context = match root.get("@context") {
        Some(local) => processor.root_context(local)?,
        None => Arc::new(ActiveContext::default()),
    };
    builder.node(&context, None, root, true, 0)?;
    let trace = builder.trace.unwrap_or_default();
    Ok((trace.covered, trace.iri_keys))
}

struct Builder<'p> {
    processor: &'p Processor,
    quads: Vec<Quad>,
    /// The JSON value behind each quad's object, when it differs from the term.
    origins: Vec<Option<String>>,
    /// Indexes of the quads emitted for each subject. jsonld.js merges equal JSON values of
    /// a node's property in its node map, but not values that only map to equal RDF terms.
    by_subject: HashMap<Term, Vec<usize>>,
    /// The named graph being filled, inside an `@graph` container.
    graph: Option<Term>,
    /// A top-level member to leave out (a credential's `proof`).
    skip: Option<&'p str>,
    /// Blank node labels written in the document, mapped to generated labels.
    blank_labels: HashMap<String, String>,
    next_blank: usize,
    /// Records which JSON values reach the dataset, when requested.
    trace: Option<Trace>,
}

/// A record of the JSON scalars that end up in the dataset through an unbroken chain of
/// emitted links from the root node. Values under a dropped node (a relative `@id`) are not
/// signed even though they are in the JSON.
#[derive(Default)]
struct Trace {
    /// JSON pointer tokens of the value being converted.
    path: Vec<String>,
    /// For each node object being converted: whether it is linked into the dataset.
    anchored: Vec<bool>,
    /// JSON pointers (RFC 6901) of the scalars that are in the dataset.
    covered: HashSet<String>,
    /// JSON pointers of members whose key is an IRI rather than a term of the context.
    iri_keys: Vec<String>,
}

impl Trace {
    fn pointer(&self) -> String {
        let mut pointer = String::new();
        for token in &self.path {
            pointer.push('/');
            pointer.push_str(&token.replace('~', "~0").replace('/', "~1"));
        }
        pointer
    }
}

/// A node reference: an IRI or blank node, or `None` when the identifier is relative (such
/// nodes and every triple that mentions them are left out, as jsonld.js does).
type NodeRef = Option<Term>;

/// An RDF object with the JSON value it came from, when that differs from the term (numbers,
/// and strings reformatted as `xsd:double`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Object {
    term: Term,
    origin: Option<String>,
    /// The JSON pointer of the scalar this object came from, when tracing.
    leaf: Option<String>,
}

impl Object {
    fn node(term: Term) -> Self {
        Object {
            term,
            origin: None,
            leaf: None,
        }
    }
}

impl<'p> Builder<'p> {
    fn new(processor: &'p Processor, skip: Option<&'p str>) -> Self {
        Builder {
            processor,
            quads: Vec::new(),
            origins: Vec::new(),
            by_subject: HashMap::default(),
            graph: None,
            skip,
            blank_labels: HashMap::default(),
            next_blank: 0,
            trace: None,
        }
    }

    fn fresh_blank(&mut self) -> Term {
        let label = format!("b{}", self.next_blank);
        self.next_blank += 1;
        Term::Blank(label)
    }

    fn named_blank(&mut self, label: &str) -> Term {
        if let Some(existing) = self.blank_labels.get(label) {
            return Term::Blank(existing.clone());
        }
        let Term::Blank(fresh) = self.fresh_blank() else {
            unreachable!("fresh_blank returns a blank node")
        };
        self.blank_labels.insert(label.to_owned(), fresh.clone());
        Term::Blank(fresh)
    }

    fn reference(&mut self, iri: &str) -> NodeRef {
        if let Some(label) = iri.strip_prefix("_:") {
            Some(self.named_blank(label))
        } else if is_absolute_iri(iri) {
            Some(Term::Iri(iri.to_owned()))
        } else {
            None
        }
    }

    /// Adds a quad unless a part is dropped; returns whether the statement is in the dataset.
    fn emit(&mut self, subject: &NodeRef, predicate: &str, object: Object) -> bool {
        let Some(subject) = subject else { return false };
        if predicate.starts_with("_:") {
            return false;
        }
        let quads = &self.quads;
        let origins = &self.origins;
        let graph = &self.graph;
        let emitted = self.by_subject.entry(subject.clone()).or_default();
        let duplicate = emitted.iter().any(|&index| {
            let quad = &quads[index];
            matches!(&quad.predicate, Term::Iri(iri) if iri == predicate)
                && quad.object == object.term
                && quad.graph == *graph
                && origins[index] == object.origin
        });
        if duplicate {
            return true;
        }
        emitted.push(quads.len());
        self.origins.push(object.origin);
        self.quads.push(Quad {
            subject: subject.clone(),
            predicate: Term::Iri(predicate.to_owned()),
            object: object.term,
            graph: self.graph.clone(),
        });
        true
    }

    /// Converts a node object; returns its reference.
    fn node(
        &mut self,
        active: &Arc<ActiveContext>,
        property: Option<(&ActiveContext, &TermDefinition)>,
        map: &Map<String, Value>,
        root: bool,
        depth: usize,
    ) -> Result<NodeRef, JsonLdError> {
        if depth > MAX_DEPTH {
            return Err(JsonLdError::TooDeep(MAX_DEPTH));
        }
        let context = self.node_context(active, property, map, root)?;
        let (context, type_context) = self.apply_type_scopes(&context, map)?;
        let subject = self.subject(&context, map)?;
        let anchored = if let Some(trace) = &mut self.trace {
            let parent = trace.anchored.last().copied().unwrap_or(true);
            trace.anchored.push(parent && subject.is_some());
            parent && subject.is_some()
        } else {
            false
        };
        let result = self.properties(
            &context,
            &type_context,
            &subject,
            anchored,
            map,
            root,
            depth,
        );
        if let Some(trace) = &mut self.trace {
            trace.anchored.pop();
        }
        result.map(|()| subject)
    }

    #[expect(clippy::too_many_arguments, reason = "the state of one node object")]
    fn properties(
        &mut self,
        context: &Arc<ActiveContext>,
        type_context: &ActiveContext,
        subject: &NodeRef,
        anchored: bool,
        map: &Map<String, Value>,
        root: bool,
        depth: usize,
    ) -> Result<(), JsonLdError> {
        for (key, value) in map {
            // jsonld-signatures' strict mode lets the empty key through, and jsonld.js drops it.
            if key == "@context" || key.is_empty() || (root && Some(key.as_str()) == self.skip) {
                continue;
            }
            let expanded = context
                .expand_iri(key, true, false)
                .filter(|iri| super::context::is_keyword(iri) || is_absolute_iri(iri))
                .ok_or_else(|| JsonLdError::UndefinedTerm(key.clone()))?;
            match &*expanded {
                "@id" => {}
                "@type" => self.types(type_context, subject, key, value)?,
                keyword if keyword.starts_with('@') => {
                    return Err(JsonLdError::Unsupported(format!(
                        "{keyword} in a node object"
                    )));
                }
                _ => {
                    let definition = context.terms.get(key).cloned();
                    if let Some(trace) = &mut self.trace {
                        trace.path.push(key.clone());
                        if definition.is_none() {
                            let pointer = trace.pointer();
                            trace.iri_keys.push(pointer);
                        }
                    }
                    let objects = self.values(context, key, definition.as_deref(), value, depth);
                    if let Some(trace) = &mut self.trace {
                        trace.path.pop();
                    }
                    for object in objects? {
                        let leaf = object.leaf.clone();
                        let in_dataset = self.emit(subject, &expanded, object);
                        if let (Some(trace), Some(leaf), true) =
                            (&mut self.trace, leaf, in_dataset && anchored)
                        {
                            trace.covered.insert(leaf);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Steps 7–9 of the expansion algorithm: revert a type-scoped context, then apply the
    /// property-scoped context and an embedded `@context`.
    fn node_context(
        &mut self,
        active: &Arc<ActiveContext>,
        property: Option<(&ActiveContext, &TermDefinition)>,
        map: &Map<String, Value>,
        root: bool,
    ) -> Result<Arc<ActiveContext>, JsonLdError> {
        let mut context = active.clone();
        let only_id = map.len() == 1
            && map
                .keys()
                .all(|k| active.expand_iri(k, true, false).as_deref() == Some("@id"));
        if let (Some(previous), false) = (&active.previous, only_id) {
            context = previous.clone();
        }
        if let Some((source, definition)) = property
            && let Some(scoped) = &definition.context
        {
            let apply = Apply {
                override_protected: true,
                propagate: true,
            };
            context = self
                .processor
                .apply_scoped(&context, source, scoped, apply)?;
        }
        if let (Some(local), false) = (map.get("@context"), root) {
            let apply = Apply {
                override_protected: false,
                propagate: true,
            };
            let mut embedded = self.processor.process_context(&context, local, apply, 0)?;
            embedded.cacheable = false;
            context = Arc::new(embedded);
        }
        Ok(context)
    }

    /// Applies type-scoped contexts in lexicographic order of the node's types. Returns the
    /// new context and the one in force before, under which the type values expand.
    fn apply_type_scopes(
        &mut self,
        context: &Arc<ActiveContext>,
        map: &Map<String, Value>,
    ) -> Result<(Arc<ActiveContext>, Arc<ActiveContext>), JsonLdError> {
        let type_context = context.clone();
        let mut type_keys: Vec<&String> = map
            .keys()
            .filter(|k| type_context.expand_iri(k, true, false).as_deref() == Some("@type"))
            .collect();
        type_keys.sort();
        let mut result = context.clone();
        for key in type_keys {
            let mut names: Vec<&str> = match &map[key] {
                Value::String(name) => vec![name],
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            names.sort_unstable();
            for name in names {
                let Some(definition) = type_context.terms.get(name) else {
                    continue;
                };
                if let Some(scoped) = &definition.context {
                    let apply = Apply {
                        override_protected: false,
                        propagate: false,
                    };
                    result = self
                        .processor
                        .apply_scoped(&result, &type_context, scoped, apply)?;
                }
            }
        }
        Ok((result, type_context))
    }

    fn subject(
        &mut self,
        context: &ActiveContext,
        map: &Map<String, Value>,
    ) -> Result<NodeRef, JsonLdError> {
        for (key, value) in map {
            if context.expand_iri(key, true, false).as_deref() != Some("@id") {
                continue;
            }
            let Value::String(id) = value else {
                return Err(invalid(key, "an @id must be a string"));
            };
            let iri = context.expand_iri(id, false, true).unwrap_or_default();
            return Ok(self.reference(&iri));
        }
        Ok(Some(self.fresh_blank()))
    }

    fn types(
        &mut self,
        type_context: &ActiveContext,
        subject: &NodeRef,
        key: &str,
        value: &Value,
    ) -> Result<(), JsonLdError> {
        let names: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        for name in names {
            let Value::String(name) = name else {
                return Err(invalid(key, "@type values must be strings"));
            };
            let iri = type_context
                .expand_iri(name, true, true)
                .unwrap_or_default();
            if let Some(object) = self.reference(&iri) {
                self.emit(subject, RDF_TYPE, Object::node(object));
            }
        }
        Ok(())
    }

    /// Converts the value of one property to RDF objects.
    fn values(
        &mut self,
        context: &Arc<ActiveContext>,
        key: &str,
        definition: Option<&TermDefinition>,
        value: &Value,
        depth: usize,
    ) -> Result<Vec<Object>, JsonLdError> {
        let container = definition.map_or(Container::None, |d| d.container);
        if container == Container::Graph {
            return self.graph_container(context, key, definition, value, depth);
        }
        if container == Container::List {
            if value.is_null() {
                return Ok(Vec::new());
            }
            let items = items_of(value);
            let list = self.list(context, key, definition, items, depth)?;
            return Ok(vec![Object::node(list)]);
        }
        let mut objects = Vec::new();
        self.collect(context, key, definition, value, depth, &mut objects)?;
        Ok(objects)
    }

    fn collect(
        &mut self,
        context: &Arc<ActiveContext>,
        key: &str,
        definition: Option<&TermDefinition>,
        value: &Value,
        depth: usize,
        out: &mut Vec<Object>,
    ) -> Result<(), JsonLdError> {
        match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    if let Some(trace) = &mut self.trace {
                        trace.path.push(index.to_string());
                    }
                    let result = self.collect(context, key, definition, item, depth + 1, out);
                    if let Some(trace) = &mut self.trace {
                        trace.path.pop();
                    }
                    result?;
                }
            }
            Value::Object(map) => self.object_value(context, key, definition, map, depth, out)?,
            scalar => {
                if let Some(mut object) = self.scalar(context, key, definition, scalar)? {
                    object.leaf = self.trace.as_ref().map(Trace::pointer);
                    out.push(object);
                }
            }
        }
        Ok(())
    }

    fn object_value(
        &mut self,
        context: &Arc<ActiveContext>,
        key: &str,
        definition: Option<&TermDefinition>,
        map: &Map<String, Value>,
        depth: usize,
        out: &mut Vec<Object>,
    ) -> Result<(), JsonLdError> {
        // Only a keyword or a term aliasing one can expand to a keyword.
        let is = |k: &str, keyword: &str| {
            let aliased = k.starts_with('@') || context.terms.contains_key(k);
            aliased && context.expand_iri(k, true, false).as_deref() == Some(keyword)
        };
        if map.keys().any(|k| is(k, "@value")) {
            out.extend(value_object(context, key, map)?);
            return Ok(());
        }
        if let Some((_, items)) = map.iter().find(|(k, _)| is(k, "@list")) {
            let items = items_of(items);
            out.push(Object::node(
                self.list(context, key, definition, items, depth)?,
            ));
            return Ok(());
        }
        if let Some((_, items)) = map.iter().find(|(k, _)| is(k, "@set")) {
            return self.collect(context, key, definition, items, depth + 1, out);
        }
        let property = definition.map(|d| (context.as_ref(), d));
        if let Some(node) = self.node(context, property, map, false, depth + 1)? {
            out.push(Object::node(node));
        }
        Ok(())
    }

    /// Puts the node objects of an `@graph` container into a new named graph, whose blank
    /// node is the property's value.
    fn graph_container(
        &mut self,
        context: &Arc<ActiveContext>,
        key: &str,
        definition: Option<&TermDefinition>,
        value: &Value,
        depth: usize,
    ) -> Result<Vec<Object>, JsonLdError> {
        let items = items_of(value);
        let mut graphs = Vec::new();
        for item in items {
            let Value::Object(map) = item else {
                return Err(invalid(
                    key,
                    "values in an @graph container must be objects",
                ));
            };
            let name = self.fresh_blank();
            let outer = self.graph.replace(name.clone());
            let property = definition.map(|d| (context.as_ref(), d));
            let result = self.node(context, property, map, false, depth + 1);
            self.graph = outer;
            result?;
            graphs.push(Object::node(name));
        }
        Ok(graphs)
    }

    fn scalar(
        &mut self,
        context: &ActiveContext,
        key: &str,
        definition: Option<&TermDefinition>,
        value: &Value,
    ) -> Result<Option<Object>, JsonLdError> {
        let mapping = definition.and_then(|d| d.type_mapping.as_ref());
        match (value, mapping) {
            (Value::Null, _) => Ok(None),
            (Value::String(text), Some(TypeMapping::Id)) => {
                let iri = context.expand_iri(text, false, true).unwrap_or_default();
                Ok(self.reference(&iri).map(Object::node))
            }
            (Value::String(text), Some(TypeMapping::Vocab)) => {
                let iri = context.expand_iri(text, true, true).unwrap_or_default();
                Ok(self.reference(&iri).map(Object::node))
            }
            (scalar, Some(TypeMapping::Datatype(datatype))) => {
                literal(key, scalar, Some(datatype), None).map(Some)
            }
            (scalar, _) => literal(key, scalar, None, None).map(Some),
        }
    }

    fn list(
        &mut self,
        context: &Arc<ActiveContext>,
        key: &str,
        definition: Option<&TermDefinition>,
        items: &[Value],
        depth: usize,
    ) -> Result<Term, JsonLdError> {
        let mut objects = Vec::new();
        for item in items {
            if item.is_array() {
                return Err(JsonLdError::Unsupported(format!(
                    "a list of lists in {key:?}"
                )));
            }
            self.collect(context, key, definition, item, depth + 1, &mut objects)?;
        }
        let mut tail = Term::Iri(RDF_NIL.to_owned());
        for object in objects.into_iter().rev() {
            let node = self.fresh_blank();
            let subject = Some(node.clone());
            self.emit(&subject, RDF_FIRST, object);
            self.emit(&subject, RDF_REST, Object::node(tail));
            tail = node;
        }
        Ok(tail)
    }
}

/// The values of a JSON-LD value position: an array's items, nothing for `null`, else the
/// value itself.
fn items_of(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        Value::Null => &[],
        single => std::slice::from_ref(single),
    }
}

fn invalid(key: &str, message: &str) -> JsonLdError {
    JsonLdError::InvalidValue {
        property: key.to_owned(),
        message: message.to_owned(),
    }
}

fn value_object(
    context: &ActiveContext,
    key: &str,
    map: &Map<String, Value>,
) -> Result<Option<Object>, JsonLdError> {
    let mut value = None;
    let mut datatype = None;
    let mut language = None;
    for (entry, entry_value) in map {
        match context.expand_iri(entry, true, false).as_deref() {
            Some("@value") => value = Some(entry_value),
            Some("@type") => {
                let Value::String(name) = entry_value else {
                    return Err(invalid(key, "the @type of a value object must be a string"));
                };
                datatype = context
                    .expand_iri(name, true, true)
                    .map(|iri| iri.into_owned());
            }
            Some("@language") => {
                let Value::String(tag) = entry_value else {
                    return Err(invalid(key, "@language must be a string"));
                };
                language = Some(tag.to_lowercase());
            }
            _ => {
                let message = format!("{entry} in a value object");
                return Err(JsonLdError::Unsupported(message));
            }
        }
    }
    if datatype.is_some() && language.is_some() {
        return Err(invalid(
            key,
            "a value object cannot have both @type and @language",
        ));
    }
    match (value, datatype.as_deref()) {
        (None | Some(Value::Null), _) => Ok(None),
        (Some(json), Some("@json")) => {
            let lexical = canonical_json(json);
            Ok(Some(Object::node(Term::Literal(Literal::typed(
                lexical, RDF_JSON,
            )))))
        }
        (Some(Value::Array(_) | Value::Object(_)), _) => {
            Err(invalid(key, "@value must be a string, number or boolean"))
        }
        (Some(_), Some(datatype)) if !is_absolute_iri(datatype) => Err(invalid(
            key,
            "the @type of a value object must be an absolute IRI",
        )),
        (Some(scalar), datatype) => literal(key, scalar, datatype, language).map(Some),
    }
}

/// Converts a JSON scalar to an RDF literal as jsonld.js 2.0.2 `_objectToRDF` does.
fn literal(
    key: &str,
    value: &Value,
    datatype: Option<&str>,
    language: Option<String>,
) -> Result<Object, JsonLdError> {
    let (literal, origin) = match value {
        Value::Bool(flag) => (
            Literal::typed(flag.to_string(), datatype.unwrap_or(XSD_BOOLEAN)),
            None,
        ),
        Value::Number(number) => {
            let float = number
                .as_f64()
                .ok_or_else(|| invalid(key, "number out of range"))?;
            let (lexical, default) = number_literal(float, datatype);
            let origin = js_number_to_string(float);
            (
                Literal::typed(lexical, datatype.unwrap_or(default)),
                Some(origin),
            )
        }
        Value::String(text) if datatype == Some(XSD_DOUBLE) => {
            let lexical = double_lexical(js_parse_float(text));
            (Literal::typed(lexical, XSD_DOUBLE), Some(text.clone()))
        }
        Value::String(text) => match language {
            Some(language) => {
                let literal = Literal {
                    value: text.clone(),
                    datatype: RDF_LANG_STRING.to_owned(),
                    language: Some(language),
                };
                (literal, None)
            }
            None => (
                Literal::typed(text.clone(), datatype.unwrap_or(XSD_STRING)),
                None,
            ),
        },
        _ => return Err(invalid(key, "expected a scalar value")),
    };
    Ok(Object {
        term: Term::Literal(literal),
        origin,
        leaf: None,
    })
}
