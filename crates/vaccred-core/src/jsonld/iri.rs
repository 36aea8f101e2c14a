//! Relative IRI resolution against a base, as jsonld.js 2.0.2 `prependBase` does it
//! (RFC 3986 section 5.2.2 with its own dot-segment removal).

use super::context::is_absolute_iri;

struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn parse(iri: &str) -> Parts<'_> {
    let (rest, fragment) = match iri.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (iri, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (scheme, rest) = match rest.find([':', '/']) {
        Some(colon) if rest.as_bytes()[colon] == b':' && colon > 0 => {
            (Some(&rest[..colon]), &rest[colon + 1..])
        }
        _ => (None, rest),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            (Some(&after[..end]), &after[end..])
        }
        None => (None, rest),
    };
    Parts {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

/// Resolves `reference` against `base`; absolute references are returned unchanged.
pub(crate) fn resolve(base: &str, reference: &str) -> String {
    if is_absolute_iri(reference) {
        return reference.to_owned();
    }
    let base = parse(base);
    let relative = parse(reference);
    let (authority, mut path, query) = if relative.authority.is_some() {
        (relative.authority, relative.path.to_owned(), relative.query)
    } else if relative.path.is_empty() {
        (
            base.authority,
            base.path.to_owned(),
            relative.query.or(base.query),
        )
    } else if relative.path.starts_with('/') {
        (base.authority, relative.path.to_owned(), relative.query)
    } else {
        let directory = &base.path[..base.path.rfind('/').map_or(0, |i| i + 1)];
        let mut path = directory.to_owned();
        if (!path.is_empty() || base.authority.is_some()) && !path.ends_with('/') {
            path.push('/');
        }
        path.push_str(relative.path);
        (base.authority, path, relative.query)
    };
    if !relative.path.is_empty() {
        path = remove_dot_segments(&path);
    }
    let mut out = String::new();
    if let Some(scheme) = base.scheme {
        out.push_str(scheme);
        out.push(':');
    }
    if let Some(authority) = authority {
        out.push_str("//");
        out.push_str(authority);
    }
    out.push_str(&path);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    if let Some(fragment) = relative.fragment {
        out.push('#');
        out.push_str(fragment);
    }
    if out.is_empty() { "./".to_owned() } else { out }
}

fn remove_dot_segments(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let segments: Vec<&str> = path.split('/').collect();
    let mut output: Vec<&str> = Vec::new();
    let last = segments.len() - 1;
    for (index, segment) in segments.iter().enumerate() {
        let done = index == last;
        match *segment {
            "." => {}
            ".." => {
                output.pop();
            }
            other => {
                output.push(other);
                continue;
            }
        }
        if done {
            output.push("");
        }
    }
    if path.starts_with('/') && output.first().is_some_and(|first| !first.is_empty()) {
        output.insert(0, "");
    }
    if output == [""] {
        return "/".to_owned();
    }
    output.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_rfc_3986() {
        let base = "https://example.org/a/b/";
        let cases = [
            (
                "../vaccine/./123456789?x=1#frag",
                "https://example.org/a/vaccine/123456789?x=1#frag",
            ),
            ("c", "https://example.org/a/b/c"),
            ("/c", "https://example.org/c"),
            ("//other.org/x", "https://other.org/x"),
            ("?q", "https://example.org/a/b/?q"),
            ("#f", "https://example.org/a/b/#f"),
            ("did:x", "did:x"),
        ];
        for (reference, expected) in cases {
            assert_eq!(resolve(base, reference), expected, "{reference}");
        }
    }
}
