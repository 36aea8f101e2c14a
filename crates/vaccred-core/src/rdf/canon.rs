//! URDNA2015 (W3C RDFC-1.0) canonicalization of RDF datasets.
//!
//! The algorithm issues deterministic labels (`c14n0`, `c14n1`, …) to blank nodes by hashing
//! their surroundings, so that isomorphic datasets serialize to the same N-Quads document.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use sha2::{Digest, Sha256, Sha384};

use super::{Quad, Serialization, Term, write_quad};

/// The hash function used to tell blank nodes apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256, the URDNA2015 and RDFC-1.0 default.
    #[default]
    Sha256,
    /// SHA-384, an RDFC-1.0 option.
    Sha384,
}

/// Settings of one canonicalization.
#[derive(Clone, Copy, Debug)]
pub struct CanonOptions {
    /// Escaping and line order of the output.
    pub serialization: Serialization,
    /// The hash function.
    pub hash: HashAlgorithm,
    /// Maximum number of N-degree hash steps (calls plus permutations) before giving up.
    /// Datasets with many indistinguishable blank nodes need exponential work, so untrusted
    /// input must be bounded.
    pub max_steps: u32,
}

impl Default for CanonOptions {
    fn default() -> Self {
        CanonOptions {
            serialization: Serialization::Urdna2015Legacy,
            hash: HashAlgorithm::Sha256,
            max_steps: 4096,
        }
    }
}

/// Errors of [`canonicalize`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CanonError {
    /// The dataset needs more N-degree hash steps than allowed.
    #[error(
        "canonicalization needs more than {0} blank node comparison steps; the dataset has too \
         many similar blank nodes to be a credential"
    )]
    TooComplex(u32),
}

/// The canonical form of a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canonicalized {
    /// The canonical N-Quads document: sorted lines, each ending in a line feed.
    pub nquads: String,
    /// Input blank node labels and the canonical labels issued to them, in issue order.
    pub issued: Vec<(String, String)>,
}

/// Canonicalizes `quads` with URDNA2015.
///
/// With [`Serialization::Rdfc10`] duplicate quads count once, as an RDF dataset is a set.
/// With [`Serialization::Urdna2015Legacy`] they are kept, as rdf-canonize 1.x keeps them
/// (jsonld.js can emit the same quad twice, for example for the numbers `0` and `1e-7`).
///
/// # Errors
///
/// [`CanonError::TooComplex`] when the work bound in `options` is reached.
pub fn canonicalize(quads: &[Quad], options: &CanonOptions) -> Result<Canonicalized, CanonError> {
    if options.serialization == Serialization::Rdfc10 {
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<Quad> = quads.iter().filter(|q| seen.insert(*q)).cloned().collect();
        if unique.len() < quads.len() {
            return canonicalize_unique(&unique, options);
        }
    }
    canonicalize_unique(quads, options)
}

fn canonicalize_unique(
    quads: &[Quad],
    options: &CanonOptions,
) -> Result<Canonicalized, CanonError> {
    let mut state = State::new(quads, options);
    state.issue_labels()?;
    Ok(state.finish())
}

#[derive(Clone, Debug)]
struct Issuer {
    prefix: &'static str,
    issued: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Issuer {
    fn new(prefix: &'static str) -> Self {
        Issuer {
            prefix,
            issued: Vec::new(),
            index: HashMap::default(),
        }
    }

    fn get(&self, label: &str) -> Option<&str> {
        self.index.get(label).map(|&i| self.issued[i].1.as_str())
    }

    fn issue(&mut self, label: &str) -> &str {
        let position = match self.index.get(label) {
            Some(&position) => position,
            None => {
                let id = format!("{}{}", self.prefix, self.issued.len());
                self.issued.push((label.to_owned(), id));
                self.index.insert(label.to_owned(), self.issued.len() - 1);
                self.issued.len() - 1
            }
        };
        &self.issued[position].1
    }
}

struct State<'a> {
    quads: &'a [Quad],
    options: &'a CanonOptions,
    quads_of: HashMap<&'a str, Vec<usize>>,
    first_degree: HashMap<&'a str, String>,
    canonical: Issuer,
    steps: u32,
}

fn blank_label(term: &Term) -> Option<&str> {
    match term {
        Term::Blank(label) => Some(label),
        _ => None,
    }
}

fn components(quad: &Quad) -> [(Option<&str>, char); 3] {
    [
        (blank_label(&quad.subject), 's'),
        (blank_label(&quad.object), 'o'),
        (quad.graph.as_ref().and_then(blank_label), 'g'),
    ]
}

impl<'a> State<'a> {
    fn new(quads: &'a [Quad], options: &'a CanonOptions) -> Self {
        let mut quads_of: HashMap<&'a str, Vec<usize>> = HashMap::default();
        for (index, quad) in quads.iter().enumerate() {
            for (label, _) in components(quad) {
                if let Some(label) = label {
                    let list = quads_of.entry(label).or_default();
                    if list.last() != Some(&index) {
                        list.push(index);
                    }
                }
            }
        }
        State {
            quads,
            options,
            quads_of,
            first_degree: HashMap::default(),
            canonical: Issuer::new("_:c14n"),
            steps: 0,
        }
    }

    fn digest_hex(&self, data: &str) -> String {
        let bytes = match self.options.hash {
            HashAlgorithm::Sha256 => Sha256::digest(data.as_bytes()).to_vec(),
            HashAlgorithm::Sha384 => Sha384::digest(data.as_bytes()).to_vec(),
        };
        hex(&bytes)
    }

    fn hash_first_degree(&self, reference: &str) -> String {
        let relabel = |out: &mut String, label: &str| {
            out.push_str(if label == reference { "a" } else { "z" });
        };
        let indexes = &self.quads_of[reference];
        let lines = sorted_lines(
            indexes.iter().map(|&i| &self.quads[i]),
            self.options,
            &relabel,
        );
        self.digest_hex(&lines)
    }

    fn issue_labels(&mut self) -> Result<(), CanonError> {
        let labels: Vec<&'a str> = self.quads_of.keys().copied().collect();
        let mut by_hash: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
        for label in labels {
            let hash = self.hash_first_degree(label);
            by_hash.entry(hash.clone()).or_default().push(label);
            self.first_degree.insert(label, hash);
        }
        let mut shared = Vec::new();
        for (_, group) in by_hash {
            if let [only] = group[..] {
                self.canonical.issue(only);
            } else {
                shared.push(group);
            }
        }
        for group in shared {
            self.issue_shared_group(&group)?;
        }
        Ok(())
    }

    fn issue_shared_group(&mut self, group: &[&'a str]) -> Result<(), CanonError> {
        let mut results: Vec<(String, Issuer)> = Vec::new();
        for &label in group {
            if self.canonical.get(label).is_some() {
                continue;
            }
            let mut temporary = Issuer::new("_:b");
            temporary.issue(label);
            results.push(self.hash_n_degree(label, &temporary)?);
        }
        results.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, issuer) in results {
            for (label, _) in &issuer.issued {
                self.canonical.issue(label);
            }
        }
        Ok(())
    }

    fn count_step(&mut self) -> Result<(), CanonError> {
        self.steps += 1;
        if self.steps > self.options.max_steps {
            return Err(CanonError::TooComplex(self.options.max_steps));
        }
        Ok(())
    }

    fn hash_related(&self, related: &str, quad: &Quad, issuer: &Issuer, position: char) -> String {
        let mut input = String::new();
        input.push(position);
        if position != 'g'
            && let Term::Iri(predicate) = &quad.predicate
        {
            input.push('<');
            input.push_str(predicate);
            input.push('>');
        }
        if let Some(id) = self.canonical.get(related).or_else(|| issuer.get(related)) {
            input.push_str(id);
        } else {
            input.push_str(&self.first_degree[related]);
        }
        self.digest_hex(&input)
    }

    fn related_groups(&self, reference: &str, issuer: &Issuer) -> BTreeMap<String, Vec<&'a str>> {
        let mut groups: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
        for &index in &self.quads_of[reference] {
            let quad: &'a Quad = &self.quads[index];
            for (label, position) in components(quad) {
                if let Some(related) = label.filter(|&label| label != reference) {
                    let hash = self.hash_related(related, quad, issuer, position);
                    groups.entry(hash).or_default().push(related);
                }
            }
        }
        groups
    }

    fn hash_n_degree(
        &mut self,
        reference: &str,
        issuer: &Issuer,
    ) -> Result<(String, Issuer), CanonError> {
        self.count_step()?;
        let mut issuer = issuer.clone();
        let mut data = String::new();
        for (hash, related) in self.related_groups(reference, &issuer) {
            data.push_str(&hash);
            let (path, chosen) = self.choose_path(&related, &issuer)?;
            data.push_str(&path);
            issuer = chosen;
        }
        Ok((self.digest_hex(&data), issuer))
    }

    /// Finds the permutation of `related` that gives the smallest path string.
    fn choose_path(
        &mut self,
        related: &[&'a str],
        issuer: &Issuer,
    ) -> Result<(String, Issuer), CanonError> {
        let remaining = self.options.max_steps.saturating_sub(self.steps);
        let count = (1..=related.len()).try_fold(1u32, |acc, n| acc.checked_mul(n as u32));
        if count.is_none_or(|count| count > remaining) {
            return Err(CanonError::TooComplex(self.options.max_steps));
        }
        let mut chosen: Option<(String, Issuer)> = None;
        for permutation in permutations(related) {
            self.count_step()?;
            let bound = chosen.as_ref().map(|(path, _)| path.as_str());
            if let Some(candidate) = self.permutation_path(&permutation, issuer, bound)? {
                chosen = Some(candidate);
            }
        }
        Ok(chosen.unwrap_or_else(|| (String::new(), issuer.clone())))
    }

    fn permutation_path(
        &mut self,
        permutation: &[&'a str],
        issuer: &Issuer,
        bound: Option<&str>,
    ) -> Result<Option<(String, Issuer)>, CanonError> {
        let exceeds = |path: &str| bound.is_some_and(|b| path.len() >= b.len() && path > b);
        let mut issuer = issuer.clone();
        let mut path = String::new();
        let mut recursion = Vec::new();
        for &related in permutation {
            if let Some(id) = self.canonical.get(related) {
                path.push_str(id);
            } else {
                if issuer.get(related).is_none() {
                    recursion.push(related);
                }
                path.push_str(issuer.issue(related));
            }
            if exceeds(&path) {
                return Ok(None);
            }
        }
        for related in recursion {
            let (hash, result) = self.hash_n_degree(related, &issuer)?;
            path.push_str(issuer.issue(related));
            path.push('<');
            path.push_str(&hash);
            path.push('>');
            issuer = result;
            if exceeds(&path) {
                return Ok(None);
            }
        }
        if bound.is_some_and(|b| path.as_str() >= b) {
            return Ok(None);
        }
        Ok(Some((path, issuer)))
    }

    fn finish(self) -> Canonicalized {
        let canonical = &self.canonical;
        let relabel = |out: &mut String, label: &str| {
            let id = canonical.get(label).and_then(|id| id.strip_prefix("_:"));
            out.push_str(id.unwrap_or(label));
        };
        let nquads = sorted_lines(self.quads.iter(), self.options, &relabel);
        let issued = self
            .canonical
            .issued
            .iter()
            .map(|(label, id)| (label.clone(), id.trim_start_matches("_:").to_owned()))
            .collect();
        Canonicalized { nquads, issued }
    }
}

/// Serializes quads as N-Quads lines and returns them sorted and concatenated. The lines are
/// written into one buffer and sorted as ranges of it, which saves an allocation per line.
fn sorted_lines<'q>(
    quads: impl Iterator<Item = &'q Quad>,
    options: &CanonOptions,
    relabel: &dyn Fn(&mut String, &str),
) -> String {
    let mut buffer = String::new();
    let mut ranges = Vec::new();
    for quad in quads {
        let start = buffer.len();
        write_quad(&mut buffer, quad, options.serialization, relabel);
        ranges.push(start..buffer.len());
    }
    // Byte order equals UTF-16 order unless a line has a character from U+E000 up, whose
    // UTF-8 lead byte is at least 0xEE.
    let bytewise =
        options.serialization == Serialization::Rdfc10 || !buffer.bytes().any(|byte| byte >= 0xEE);
    if bytewise {
        ranges.sort_by(|a, b| buffer.as_bytes()[a.clone()].cmp(&buffer.as_bytes()[b.clone()]));
    } else {
        let serialization = options.serialization;
        ranges.sort_by(|a, b| serialization.compare(&buffer[a.clone()], &buffer[b.clone()]));
    }
    let mut out = String::with_capacity(buffer.len());
    for range in ranges {
        out.push_str(&buffer[range]);
    }
    out
}

/// All orderings of `items` (Heap's algorithm, iteratively).
fn permutations<'a>(items: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut current = items.to_vec();
    let mut result = vec![current.clone()];
    let mut counters = vec![0usize; current.len()];
    let mut i = 1;
    while i < current.len() {
        if counters[i] < i {
            let swap_with = if i % 2 == 0 { 0 } else { counters[i] };
            current.swap(swap_with, i);
            result.push(current.clone());
            counters[i] += 1;
            i = 1;
        } else {
            counters[i] = 0;
            i += 1;
        }
    }
    result
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn permutations_cover_all_orders() {
        let all = permutations(&["a", "b", "c"]);
        let distinct: HashSet<_> = all.iter().cloned().collect();
        assert_eq!(all.len(), 6);
        assert_eq!(distinct.len(), 6);
    }
}
