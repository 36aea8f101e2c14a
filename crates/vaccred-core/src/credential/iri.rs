//! The absolute-IRI test that decides whether JSON-LD keeps an `@id`, and the escaping that
//! keeps `<DID>:<identity>` subject ids absolute.

/// Tests whether `c` is matched by `\s` in a JavaScript regular expression (ECMAScript
/// WhiteSpace and LineTerminator). Unlike `char::is_whitespace`, this set contains U+FEFF
/// and not U+0085.
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// Tests `value` the way jsonld.js 2.0.2 decides that an `@id` is absolute, with the
/// JavaScript pattern `^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$`.
///
/// In that pattern `+-.` is the character range U+002B..=U+002E, so a scheme may also
/// contain `,`. jsonld.js drops an `@id` that fails this test from the RDF dataset, and
/// with it every statement about that node, so those values are not covered by the
/// signature.
pub(crate) fn is_absolute_iri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    is_scheme(scheme) && !rest.chars().any(is_js_whitespace)
}

fn is_scheme(scheme: &str) -> bool {
    if scheme == "_" {
        return true;
    }
    let mut chars = scheme.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || ('+'..='.').contains(&c))
}

/// Tests whether `c` is percent-encoded in the local part of a `<DID>:<local>` subject id.
///
/// The set is JavaScript whitespace (which would make the id relative for jsonld.js),
/// ASCII and C1 control characters, the characters RFC 3987 excludes from IRIs
/// (`"<>\^`{|}`), and `%` itself, so that encoded and unencoded inputs cannot produce the
/// same id.
fn needs_percent_encoding(c: char) -> bool {
    is_js_whitespace(c)
        || c.is_control()
        || matches!(
            c,
            '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' | '%'
        )
}

/// Percent-encodes the UTF-8 bytes of every character of `local` selected by
/// `needs_percent_encoding`, with upper-case hex digits as RFC 3986 recommends.
/// Every other character, including non-ASCII letters, is kept as it is.
pub(crate) fn percent_encode_local_part(local: &str) -> String {
    let mut encoded = String::with_capacity(local.len());
    for c in local.chars() {
        if needs_percent_encoding(c) {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        } else {
            encoded.push(c);
        }
    }
    encoded
}
