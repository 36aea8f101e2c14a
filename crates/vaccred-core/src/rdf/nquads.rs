//! A reader for N-Quads documents (W3C RDF 1.1 N-Quads).

use super::{Literal, Quad, RDF_LANG_STRING, Term, XSD_STRING};

/// A syntax error in an N-Quads document.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid N-Quads on line {line}: {message}")]
pub struct NQuadsError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses an N-Quads document into quads, in document order.
///
/// # Errors
///
/// [`NQuadsError`] names the first line that is not a valid statement.
pub fn parse_nquads(text: &str) -> Result<Vec<Quad>, NQuadsError> {
    let mut quads = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut cursor = Cursor { rest: line };
        cursor.skip_space();
        if cursor.rest.is_empty() || cursor.rest.starts_with('#') {
            continue;
        }
        let quad = cursor.statement().map_err(|message| NQuadsError {
            line: index + 1,
            message,
        })?;
        quads.push(quad);
    }
    Ok(quads)
}

struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    fn statement(&mut self) -> Result<Quad, String> {
        let subject = self.term()?;
        let predicate = self.term()?;
        let object = self.term()?;
        let graph = if self.rest.starts_with('.') {
            None
        } else {
            Some(self.term()?)
        };
        let Some(rest) = self.rest.strip_prefix('.') else {
            return Err("expected '.' at the end of the statement".to_owned());
        };
        self.rest = rest;
        self.skip_space();
        if !self.rest.is_empty() && !self.rest.starts_with('#') {
            return Err(format!(
                "unexpected text after the statement: {:?}",
                self.rest
            ));
        }
        if matches!(subject, Term::Literal(_)) || !matches!(predicate, Term::Iri(_)) {
            return Err("the subject must be an IRI or blank node, the predicate an IRI".into());
        }
        Ok(Quad {
            subject,
            predicate,
            object,
            graph,
        })
    }

    fn term(&mut self) -> Result<Term, String> {
        let term = if let Some(rest) = self.rest.strip_prefix('<') {
            let end = rest.find('>').ok_or("unterminated IRI")?;
            let iri = unescape(&rest[..end])?;
            self.rest = &rest[end + 1..];
            Term::Iri(iri)
        } else if let Some(rest) = self.rest.strip_prefix("_:") {
            let end = rest.find([' ', '\t', '.']).unwrap_or(rest.len());
            let end = if rest[..end].ends_with('.') {
                end - 1
            } else {
                end
            };
            self.rest = &rest[end..];
            Term::Blank(rest[..end].to_owned())
        } else if self.rest.starts_with('"') {
            self.literal()?
        } else {
            return Err(format!("expected a term at {:?}", self.rest));
        };
        self.skip_space();
        Ok(term)
    }

    fn literal(&mut self) -> Result<Term, String> {
        let body = &self.rest[1..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match (c, escaped) {
                ('\\', false) => escaped = true,
                ('"', false) => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let end = end.ok_or("unterminated string literal")?;
        let value = unescape(&body[..end])?;
        self.rest = &body[end + 1..];
        if let Some(rest) = self.rest.strip_prefix("^^<") {
            let close = rest.find('>').ok_or("unterminated datatype IRI")?;
            let datatype = unescape(&rest[..close])?;
            self.rest = &rest[close + 1..];
            return Ok(Term::Literal(Literal::typed(value, datatype)));
        }
        if let Some(rest) = self.rest.strip_prefix('@') {
            let close = rest.find([' ', '\t']).unwrap_or(rest.len());
            self.rest = &rest[close..];
            return Ok(Term::Literal(Literal {
                value,
                datatype: RDF_LANG_STRING.to_owned(),
                language: Some(rest[..close].to_owned()),
            }));
        }
        Ok(Term::Literal(Literal::typed(value, XSD_STRING)))
    }
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match chars.next() {
            Some('t') => '\t',
            Some('b') => '\u{8}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('f') => '\u{c}',
            Some('"') => '"',
            Some('\'') => '\'',
            Some('\\') => '\\',
            Some(kind @ ('u' | 'U')) => {
                let width = if kind == 'u' { 4 } else { 8 };
                let digits: String = chars.by_ref().take(width).collect();
                u32::from_str_radix(&digits, 16)
                    .ok()
                    .filter(|_| digits.len() == width)
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("invalid escape \\{kind}{digits}"))?
            }
            other => return Err(format!("invalid escape \\{}", other.unwrap_or(' '))),
        };
        out.push(escaped);
    }
    Ok(out)
}
