use crate::credential::id::sample_divoc_number;
use crate::credential::iri::{is_absolute_iri, percent_encode_local_part};
use crate::credential::{
    CertificateId, CertificateIdError, IdentityRejectionPattern, IssuerConfig, Shape, VaccineCode,
    VaccineTable,
};

#[test]
fn absolute_iri_test_matches_jsonld() {
    let absolute = [
        "did:india",
        "did:in.gov.uidai.aadhaar:2342343334",
        "https://www.moh.gov.jm/vaccine/1",
        "_:b0",
        "a+b-c.d,e:x",
        "x:",
        "urn:uvci:01:JM:é",
    ];
    for value in absolute {
        assert!(is_absolute_iri(value), "{value:?} is absolute");
    }
    let relative = [
        "",
        "NA",
        "872550100V",
        ":x",
        "1a:x",
        "a_b:x",
        "a/b:x",
        "__:x",
        "did:a b",
        "did:a\u{FEFF}b",
        "did:a\u{2028}",
        "did:a\n",
    ];
    for value in relative {
        assert!(!is_absolute_iri(value), "{value:?} is relative");
    }
    // U+0085 is not whitespace for JavaScript's `\s`.
    assert!(is_absolute_iri("did:a\u{85}b"));
}

#[test]
fn percent_encoding_set() {
    assert_eq!(percent_encode_local_part("AB 12"), "AB%2012");
    assert_eq!(percent_encode_local_part("a%20b"), "a%2520b");
    assert_eq!(percent_encode_local_part("x\u{3000}y"), "x%E3%80%80y");
    assert_eq!(percent_encode_local_part("a\u{85}b"), "a%C2%85b");
    assert_eq!(percent_encode_local_part("{a|b}"), "%7Ba%7Cb%7D");
    assert_eq!(percent_encode_local_part("Ñ-1:/?#"), "Ñ-1:/?#");
}

#[test]
fn default_rejection_pattern() {
    let pattern = IdentityRejectionPattern::default();
    assert_eq!(pattern.as_str(), "^NA$|^.?$");
    for rejected in ["", "NA", "X", "é"] {
        assert!(pattern.is_match(rejected), "{rejected:?} is rejected");
    }
    for accepted in ["na", "NAN", "XY", "\n", "\u{1F600}"] {
        assert!(!pattern.is_match(accepted), "{accepted:?} is kept");
    }
    assert_eq!(IdentityRejectionPattern::new("^NA$|^.?$"), Ok(pattern));
}

#[test]
fn invalid_rejection_pattern() {
    let error = IdentityRejectionPattern::new("^(NA$").expect_err("unbalanced group");
    assert_eq!(error.pattern, "^(NA$");
}

#[test]
fn vaccine_lookup_rules() {
    let table = VaccineTable::default();
    let cases = [
        ("COVISHIELD", "XM9QW8"),
        ("Sputnik V", "XM9QW8"),
        ("SputnikV (Gamaleya)", "XM9QW8"),
        ("BBIBP-CorV", "XM1NL1"),
        ("Moderna Spikevax", "XM0GQ8"),
        ("Janssen", "XM0CX4"),
        ("ZyCoV-D", "XM6AT1"),
        ("Covovax", "XM5JC5"),
    ];
    for (name, code) in cases {
        let found = table.lookup(name).map(|found| found.icd11_code);
        assert_eq!(found, Some(code), "vaccine {name:?}");
    }
    assert_eq!(table.lookup("Sputnik Light"), None);
    assert_eq!(table.lookup("   "), None);
}

#[test]
fn vaccine_first_match_wins() {
    let table = VaccineTable::default();
    let found = table.lookup("Covaxin or Covishield");
    let expected = VaccineCode {
        icd11_code: "XM1NL1",
        prophylaxis: Some("COVID-19 vaccine, inactivated virus"),
    };
    assert_eq!(found, Some(expected));
}

#[test]
fn vaccine_table_from_json() {
    let table: VaccineTable = serde_json::from_str(
        r#"{"vaccines":[{"vaccine_name":"Novel Vax","icd11_code":"XX0000"}],"icd11_terms":{}}"#,
    )
    .expect("valid table");
    let found = table.lookup("novelvax 2");
    let expected = VaccineCode {
        icd11_code: "XX0000",
        prophylaxis: None,
    };
    assert_eq!(found, Some(expected));
}

#[test]
fn certificate_id_parse_rules() {
    assert_eq!(
        CertificateId::parse("123456789").map(|id| id.is_divoc_format()),
        Ok(true)
    );
    assert_eq!(
        CertificateId::parse("JM-2021-0001").map(|id| id.is_divoc_format()),
        Ok(false)
    );
    assert_eq!(
        CertificateId::parse("012345678").map(|id| id.is_divoc_format()),
        Ok(false)
    );
    assert_eq!(CertificateId::parse(""), Err(CertificateIdError::Empty));
    assert_eq!(
        CertificateId::parse("12 34"),
        Err(CertificateIdError::InvalidCharacter {
            value: "12 34".to_owned(),
            character: ' ',
        })
    );
    let read: Result<CertificateId, _> = serde_json::from_str("\"a/b\"");
    assert!(read.is_err());
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn random_ids_in_divoc_range() {
    for _ in 0..200 {
        let id = CertificateId::random().expect("system random number generator works");
        assert!(id.is_divoc_format(), "{id}");
    }
}

#[test]
fn sampling_rejects_biased_tail() {
    let limit = 3_600_000_000u32;
    let mut draws = vec![u32::MAX, limit, limit - 1].into_iter();
    let sampled = sample_divoc_number(|| Ok::<_, ()>(draws.next().expect("draw")));
    assert_eq!(sampled, Ok(100_000_000 + (limit - 1) % 900_000_000));
    assert_eq!(draws.next(), None);
    let low = sample_divoc_number(|| Ok::<_, ()>(0));
    assert_eq!(low, Ok(100_000_000));
    let high = sample_divoc_number(|| Ok::<_, ()>(899_999_999));
    assert_eq!(high, Ok(999_999_999));
}

#[test]
fn issuer_config_from_json() {
    let config: IssuerConfig = serde_json::from_str(
        r#"{"did":"did:web:moh.gov.jm","default_shape":"certifyV2","identity_rejection_pattern":"^$"}"#,
    )
    .expect("valid config");
    assert_eq!(config.did, "did:web:moh.gov.jm");
    assert_eq!(config.default_shape, Shape::V2);
    assert_eq!(config.issuer, "https://www.moh.gov.jm");
    assert!(config.identity_rejection_pattern.is_match(""));
    assert!(!config.identity_rejection_pattern.is_match("X"));
    let unknown = serde_json::from_str::<IssuerConfig>(r#"{"issuerUrl":"x"}"#);
    assert!(unknown.is_err());
    let bad_pattern = serde_json::from_str::<IssuerConfig>(r#"{"identityRejectionPattern":"("}"#);
    assert!(bad_pattern.is_err());
}

#[test]
fn jamaica_config_defaults() {
    let config = IssuerConfig::default();
    assert_eq!(config.issuer, "https://www.moh.gov.jm");
    assert_eq!(config.did, "did:jm:moh");
    assert_eq!(
        config.certificate_base_url,
        "https://www.moh.gov.jm/vaccine/"
    );
    assert_eq!(config.info_base_url, "https://www.moh.gov.jm/?");
    assert_eq!(config.feedback_base_url, "https://www.moh.gov.jm/?");
    assert!(config.include_info_url);
    assert!(config.include_feedback_url);
    assert_eq!(config.default_shape, Shape::V3);
    assert_eq!(config.default_recipient_country, "JAM");
    assert_eq!(config.default_facility_country, "JAM");
    assert_eq!(
        Shape::V3.context_url(&config),
        "https://cowin.gov.in/credentials/vaccination/v2"
    );
    assert_eq!(
        Shape::V2.context_url(&config),
        "https://cowin.gov.in/credentials/vaccination/v1"
    );
    assert_eq!(Shape::V3.certificate_type(), "certifyV3");
    let round_trip: IssuerConfig =
        serde_json::from_value(serde_json::to_value(&config).expect("serialises")).expect("reads");
    assert_eq!(round_trip, config);
}
