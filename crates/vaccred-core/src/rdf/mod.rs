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
            Serialization::Urdna2015Legacy => compare_utf16(a, b),
            Serialization::Rdfc10 => a.cmp(b),
        }
    }
}

/// Compares strings by UTF-16 code units, as JavaScript's default sort does. This equals
/// code point order except that characters above U+FFFF (surrogate pairs, 0xD800–0xDBFF
/// first) sort before U+E000–U+FFFF.
fn compare_utf16(a: &str, b: &str) -> Ordering {
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let start = (0..=common)
        .rev()
        .find(|&i| a.is_char_boundary(i))
        .unwrap_or(0);
    match (a[start..].chars().next(), b[start..].chars().next()) {
        (Some(x), Some(y)) => {
            let unit = |c: char| {
                let code = u32::from(c);
                if code > 0xFFFF {
                    0xD800 + ((code - 0x10000) >> 10)
                } else {
                    code
                }
            };
            unit(x)
                .cmp(&unit(y))
                .then_with(|| x.cmp(&y))
                .then_with(|| a.len().cmp(&b.len()))
        }
        _ => a.len().cmp(&b.len()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_order_matches_javascript() {
        let cases = [
            ("a", "b"),
            ("ab", "abc"),
            ("\u{1F600}", "\u{E000}"),
            ("x\u{1F600}y", "x\u{FF21}"),
            ("\u{10000}", "\u{10001}"),
            ("é", "ê"),
        ];
        for (smaller, larger) in cases {
            let expected = smaller.encode_utf16().cmp(larger.encode_utf16());
            assert_eq!(
                compare_utf16(smaller, larger),
                expected,
                "{smaller} {larger}"
            );
            assert_eq!(
                compare_utf16(larger, smaller),
                expected.reverse(),
                "{larger} {smaller}"
            );
            assert_eq!(compare_utf16(smaller, smaller), Ordering::Equal);
        }
    }
}
