//! RDF datasets: terms, quads, N-Quads reading and writing, and URDNA2015 canonicalization.

mod canon;
mod nquads;

use std::cmp::Ordering;
use std::fmt::Write as _;

pub use canon::{CanonError, CanonOptions, Canonicalized, HashAlgorithm, canonicalize};
pub use nquads::{NQuadsError, parse_nquads};

/// The IRI of `rdf:type`.
pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
/// The IRI of `xsd:string`, the datatype of plain literals.
pub const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
/// The IRI of `rdf:langString`, the datatype of language-tagged literals.
pub const RDF_LANG_STRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";

/// An RDF term in a quad.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Term {
    /// An IRI, without angle brackets.
    Iri(String),
    /// A blank node, by its label without the `_:` prefix.
    Blank(String),
    /// A literal.
    Literal(Literal),
}

/// An RDF literal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Literal {
    /// The lexical form.
    pub value: String,
    /// The datatype IRI; [`XSD_STRING`] for plain strings.
    pub datatype: String,
    /// The language tag, for `rdf:langString` literals.
    pub language: Option<String>,
}

impl Literal {
    /// Creates a plain `xsd:string` literal.
    pub fn string(value: impl Into<String>) -> Self {
        Self::typed(value, XSD_STRING)
    }

    /// Creates a literal with the given datatype IRI.
    pub fn typed(value: impl Into<String>, datatype: impl Into<String>) -> Self {
        Literal {
            value: value.into(),
            datatype: datatype.into(),
            language: None,
        }
    }
}

/// An RDF quad; `graph` is `None` for the default graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Quad {
    /// The subject: an IRI or a blank node.
    pub subject: Term,
    /// The predicate: an IRI.
    pub predicate: Term,
    /// The object: any term.
    pub object: Term,
    /// The graph name, or `None` for the default graph.
    pub graph: Option<Term>,
}

/// Escaping and ordering rules of a canonical N-Quads serialization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Serialization {
    /// rdf-canonize 1.x (used by jsonld.js 2.0.2 and so by DIVOC's signer): only `"`, `\`,
    /// line feed and carriage return are escaped, and lines sort by UTF-16 code units.
    #[default]
    Urdna2015Legacy,
    /// W3C RDFC-1.0: control characters are escaped too (`\b \t \n \f \r` as ECHAR, the
    /// others and U+007F as `\uXXXX`), and lines sort by code point.
    Rdfc10,
}

impl Serialization {
    /// Compares two serialized lines in this serialization's sort order.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Serialization::Urdna2015Legacy => a.encode_utf16().cmp(b.encode_utf16()),
            Serialization::Rdfc10 => a.cmp(b),
        }
    }
}

/// Appends `term` in N-Quads syntax; `blank` appends the output label of a blank node.
pub(crate) fn write_term(
    out: &mut String,
    term: &Term,
    serialization: Serialization,
    blank: &dyn Fn(&mut String, &str),
) {
    match term {
        Term::Iri(iri) => {
            out.push('<');
            out.push_str(iri);
            out.push('>');
        }
        Term::Blank(label) => {
            out.push_str("_:");
            blank(out, label);
        }
        Term::Literal(literal) => {
            out.push('"');
            escape_literal(out, &literal.value, serialization);
            out.push('"');
            if let Some(language) = &literal.language {
                out.push('@');
                out.push_str(language);
            } else if literal.datatype != XSD_STRING {
                out.push_str("^^<");
                out.push_str(&literal.datatype);
                out.push('>');
            }
        }
    }
}

/// Appends one quad as an N-Quads line ending in `" .\n"`.
pub(crate) fn write_quad(
    out: &mut String,
    quad: &Quad,
    serialization: Serialization,
    blank: &dyn Fn(&mut String, &str),
) {
    write_term(out, &quad.subject, serialization, blank);
    out.push(' ');
    write_term(out, &quad.predicate, serialization, blank);
    out.push(' ');
    write_term(out, &quad.object, serialization, blank);
    if let Some(graph) = &quad.graph {
        out.push(' ');
        write_term(out, graph, serialization, blank);
    }
    out.push_str(" .\n");
}

fn escape_literal(out: &mut String, value: &str, serialization: Serialization) {
    for c in value.chars() {
        match (c, serialization) {
            ('"', _) => out.push_str("\\\""),
            ('\\', _) => out.push_str("\\\\"),
            ('\n', _) => out.push_str("\\n"),
            ('\r', _) => out.push_str("\\r"),
            (_, Serialization::Urdna2015Legacy) => out.push(c),
            ('\t', Serialization::Rdfc10) => out.push_str("\\t"),
            ('\u{8}', Serialization::Rdfc10) => out.push_str("\\b"),
            ('\u{c}', Serialization::Rdfc10) => out.push_str("\\f"),
            (c, Serialization::Rdfc10) if c < ' ' || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            (c, Serialization::Rdfc10) => out.push(c),
        }
    }
}

/// Serializes quads as N-Quads lines in the given order, keeping blank node labels.
pub fn to_nquads(quads: &[Quad], serialization: Serialization) -> String {
    let mut out = String::new();
    for quad in quads {
        write_quad(&mut out, quad, serialization, &|out, label| {
            out.push_str(label)
        });
    }
    out
}
