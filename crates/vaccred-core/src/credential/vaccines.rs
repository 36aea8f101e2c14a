//! Vaccine name → ICD-11 code → prophylaxis text, used for the `certifyV3` evidence fields
//! `icd11Code` and `prophylaxis`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::iri::is_js_whitespace;

/// One row of the vaccine-name table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct VaccineMapping {
    /// Text searched for in the vaccine name. Whitespace and letter case are ignored.
    pub vaccine_name: String,
    /// ICD-11 code, for example `XM9QW8`.
    pub icd11_code: String,
}

/// Vaccine-name and ICD-11 tables, configurable per deployment.
///
/// The default is DIVOC's: the vaccine list of the `VACCINE_ICD` setting on DIVOC's `main`
/// branch (2023) and the ICD-11 terms of DIVOC 1.24.0, in which `XM0GQ8` is
/// "COVID-19 vaccine, mRNA based vaccine".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct VaccineTable {
    /// Vaccine-name rows, tried in order. The first row whose `vaccine_name` occurs in the
    /// vaccine name wins.
    pub vaccines: Vec<VaccineMapping>,
    /// ICD-11 code → term emitted as `prophylaxis`.
    pub icd11_terms: BTreeMap<String, String>,
}

/// Result of a successful vaccine lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaccineCode<'a> {
    /// ICD-11 code of the first matching row.
    pub icd11_code: &'a str,
    /// Term for that code, or `None` when `icd11_terms` has no entry for it.
    pub prophylaxis: Option<&'a str>,
}

const DEFAULT_VACCINES: &[(&str, &str)] = &[
    ("zycov-d", "XM6AT1"),
    ("covaxin", "XM1NL1"),
    ("covishield", "XM9QW8"),
    ("sputnik v", "XM9QW8"),
    ("pfizer", "XM0GQ8"),
    ("comirnaty", "XM0GQ8"),
    ("janssen", "XM0CX4"),
    ("moderna", "XM0GQ8"),
    ("modema", "XM0GQ8"),
    ("spikevax", "XM0GQ8"),
    ("astrazeneca", "XM9QW8"),
    ("vaxzevria", "XM9QW8"),
    ("sinovac", "XM1NL1"),
    ("coronavac", "XM1NL1"),
    ("sinopharm", "XM1NL1"),
    ("bbibp- corv", "XM1NL1"),
    ("cansino", "XM9QW8"),
    ("convidecia", "XM9QW8"),
    ("corbevax", "XM5JC5"),
    ("novavax", "XM5JC5"),
    ("covovax", "XM5JC5"),
];

const DEFAULT_ICD11_TERMS: &[(&str, &str)] = &[
    ("XM1NL1", "COVID-19 vaccine, inactivated virus"),
    ("XM5DF6", "COVID-19 vaccine, live attenuated virus"),
    ("XM0CX4", "COVID-19 vaccine, replicating viral vector"),
    ("XM0GQ8", "COVID-19 vaccine, mRNA based vaccine"),
    ("XM9QW8", "COVID-19 vaccine, non-replicating viral vector"),
    ("XM6AT1", "COVID-19 vaccine, DNA based"),
    ("XM5JC5", "COVID-19 vaccine, virus protein subunit"),
    ("XM1J92", "COVID-19 vaccine, virus like particle (VLP)"),
];

impl Default for VaccineTable {
    fn default() -> Self {
        let vaccines = DEFAULT_VACCINES
            .iter()
            .map(|(name, code)| VaccineMapping {
                vaccine_name: (*name).to_owned(),
                icd11_code: (*code).to_owned(),
            })
            .collect();
        let icd11_terms = DEFAULT_ICD11_TERMS
            .iter()
            .map(|(code, term)| ((*code).to_owned(), (*term).to_owned()))
            .collect();
        Self {
            vaccines,
            icd11_terms,
        }
    }
}

impl VaccineTable {
    /// Looks up a vaccine name (the request's `vaccination.name`).
    ///
    /// Both names are compared with whitespace removed and letters lower-cased, and a row
    /// matches when its name occurs anywhere in the vaccine name. Rows whose name is empty
    /// after removing whitespace never match. Returns `None` when no row matches, in
    /// which case credentials get `""` for `icd11Code` and `prophylaxis`, as DIVOC emits.
    pub fn lookup(&self, vaccine_name: &str) -> Option<VaccineCode<'_>> {
        let haystack = normalize(vaccine_name);
        let mapping = self.vaccines.iter().find(|mapping| {
            let needle = normalize(&mapping.vaccine_name);
            !needle.is_empty() && haystack.contains(&needle)
        })?;
        Some(VaccineCode {
            icd11_code: &mapping.icd11_code,
            prophylaxis: self
                .icd11_terms
                .get(&mapping.icd11_code)
                .map(String::as_str),
        })
    }
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !is_js_whitespace(*c))
        .flat_map(char::to_lowercase)
        .collect()
}
