use serde_json::Value;
use time::macros::{date, datetime};

use crate::jsonld::Processor;

use super::{ISSUANCE_DATE, divoc_config, fixture_request, test_certificate_id};
use crate::credential::{
    BuildError, CertificationRequest, IdentityRejectionPattern, IssuerConfig, Shape, VaccineTable,
    build_credential,
};

/// Unsigned certifyV2 credential of the canonicalization vectors, produced with DIVOC
/// 1.24's libraries (jsonld-signatures 6.0.0) for certificate id 123456789.
const EXPECTED_V2: &str = r#"{"@context":["https://www.w3.org/2018/credentials/v1","https://cowin.gov.in/credentials/vaccination/v1"],"type":["VerifiableCredential","ProofOfVaccinationCredential"],"credentialSubject":{"type":"Person","id":"did:in.gov.uidai.aadhaar:2342343334","refId":"12346","name":"Bhaya Mitra","gender":"Male","age":"27","nationality":"Indian","address":{"streetAddress":"444, 2nd Street","streetAddress2":"","district":"Bengaluru","city":"","addressRegion":"Karnataka","addressCountry":"IND","postalCode":"560034"}},"issuer":"https://cowin.gov.in/","issuanceDate":"2021-05-01T10:05:00.000Z","evidence":[{"id":"https://cowin.gov.in/vaccine/123456789","infoUrl":"https://cowin.gov.in/?123456789","certificateId":"123456789","type":["Vaccination"],"batch":"MB3428BX","vaccine":"Covishield","manufacturer":"Serum Institute","date":"2021-05-01T10:00:00.000Z","effectiveStart":"2021-05-01","effectiveUntil":"2022-05-01","dose":1,"totalDoses":2,"verifier":{"name":"Sooraj Singh"},"facility":{"name":"ABC Medical Center","address":{"streetAddress":"123, Koramangala","streetAddress2":"","district":"Bengaluru South","city":"","addressRegion":"Karnataka","addressCountry":"IND","postalCode":"560034"}},"feedbackUrl":"https://cowin.gov.in/?123456789"}],"nonTransferable":"true"}"#;

/// The certifyV3 variant: vaccination v2 context, and `dob`, `icd11Code` and
/// `prophylaxis` appended to their objects.
const EXPECTED_V3: &str = r#"{"@context":["https://www.w3.org/2018/credentials/v1","https://cowin.gov.in/credentials/vaccination/v2"],"type":["VerifiableCredential","ProofOfVaccinationCredential"],"credentialSubject":{"type":"Person","id":"did:in.gov.uidai.aadhaar:2342343334","refId":"12346","name":"Bhaya Mitra","gender":"Male","age":"27","nationality":"Indian","address":{"streetAddress":"444, 2nd Street","streetAddress2":"","district":"Bengaluru","city":"","addressRegion":"Karnataka","addressCountry":"IND","postalCode":"560034"},"dob":"1994-11-30"},"issuer":"https://cowin.gov.in/","issuanceDate":"2021-05-01T10:05:00.000Z","evidence":[{"id":"https://cowin.gov.in/vaccine/123456789","infoUrl":"https://cowin.gov.in/?123456789","certificateId":"123456789","type":["Vaccination"],"batch":"MB3428BX","vaccine":"Covishield","manufacturer":"Serum Institute","date":"2021-05-01T10:00:00.000Z","effectiveStart":"2021-05-01","effectiveUntil":"2022-05-01","dose":1,"totalDoses":2,"verifier":{"name":"Sooraj Singh"},"facility":{"name":"ABC Medical Center","address":{"streetAddress":"123, Koramangala","streetAddress2":"","district":"Bengaluru South","city":"","addressRegion":"Karnataka","addressCountry":"IND","postalCode":"560034"}},"feedbackUrl":"https://cowin.gov.in/?123456789","icd11Code":"XM9QW8","prophylaxis":"COVID-19 vaccine, non-replicating viral vector"}],"nonTransferable":"true"}"#;

fn build(request: &CertificationRequest, config: &IssuerConfig, shape: Shape) -> Value {
    build_credential(
        request,
        config,
        &VaccineTable::default(),
        shape,
        &test_certificate_id(),
        ISSUANCE_DATE,
    )
    .expect("credential builds")
}

fn v2_request() -> CertificationRequest {
    fixture_request("reference-certify-v2.json")
}

fn subject_id(request: &CertificationRequest) -> String {
    let credential = build(request, &divoc_config(), Shape::V2);
    credential["credentialSubject"]["id"]
        .as_str()
        .expect("id is a string")
        .to_owned()
}

#[test]
fn v2_matches_divoc_bytes() {
    let credential = build(&v2_request(), &divoc_config(), Shape::V2);
    let text = serde_json::to_string(&credential).expect("serialises");
    assert_eq!(text, EXPECTED_V2);
}

#[test]
fn v3_matches_divoc_bytes() {
    let request = fixture_request("reference-certify-v3.json");
    let credential = build(&request, &divoc_config(), Shape::V3);
    let text = serde_json::to_string(&credential).expect("serialises");
    assert_eq!(text, EXPECTED_V3);
}

#[test]
fn v3_recipient_without_identity_gets_compact_subject() {
    let mut request = fixture_request("reference-certify-v3.json");
    request.recipient.identity = String::new();
    request.recipient.nationality = String::new();
    request.recipient.contact.clear();
    let credential = build(&request, &IssuerConfig::default(), Shape::V3);
    let subject = serde_json::to_string(&credential["credentialSubject"]).expect("serialises");
    assert_eq!(
        subject,
        r#"{"type":"Person","id":"did:jm:moh:12346","refId":"12346","name":"Bhaya Mitra","gender":"Male","dob":"1994-11-30"}"#
    );
    // The full subject stays for certifyV2, which requires the identity anyway.
    let credential = build(&request, &IssuerConfig::default(), Shape::V2);
    assert_eq!(credential["credentialSubject"]["id"], "did:jm:moh:12346");
    assert_eq!(credential["credentialSubject"]["nationality"], "");
}

#[test]
fn jamaica_defaults_applied() {
    let credential = build(&v2_request(), &IssuerConfig::default(), Shape::V3);
    let evidence = &credential["evidence"][0];
    assert_eq!(
        credential["@context"][1],
        "https://cowin.gov.in/credentials/vaccination/v2"
    );
    assert_eq!(credential["issuer"], "https://www.moh.gov.jm");
    assert_eq!(evidence["id"], "https://www.moh.gov.jm/vaccine/123456789");
    assert_eq!(evidence["infoUrl"], "https://www.moh.gov.jm/?123456789");
    assert_eq!(evidence["feedbackUrl"], "https://www.moh.gov.jm/?123456789");
    assert_eq!(
        credential["credentialSubject"]["address"]["addressCountry"],
        "JAM"
    );
    assert_eq!(evidence["facility"]["address"]["addressCountry"], "JAM");
}

#[test]
fn v2_context_uses_configured_url() {
    let config = IssuerConfig {
        vaccination_context_v1: "https://example.org/vaccination/v1".to_owned(),
        ..divoc_config()
    };
    let credential = build(&v2_request(), &config, Shape::V2);
    assert_eq!(
        credential["@context"][1],
        "https://example.org/vaccination/v1"
    );

    // The issuer's loader serves DIVOC's v1 document under the configured URL, so the
    // credential canonicalizes exactly as with DIVOC's URL.
    let custom = Processor::new(config.context_loader())
        .canonize(&credential)
        .expect("configured context URL is served");
    let divoc = Processor::default()
        .canonize(&build(&v2_request(), &divoc_config(), Shape::V2))
        .expect("DIVOC's context URL is bundled");
    assert_eq!(custom, divoc);
    assert!(Processor::default().canonize(&credential).is_err());
}

#[test]
fn url_fields_can_be_left_out() {
    let config = IssuerConfig {
        include_info_url: false,
        include_feedback_url: false,
        ..divoc_config()
    };
    let credential = build(&v2_request(), &config, Shape::V2);
    let evidence = credential["evidence"][0].as_object().expect("object");
    assert!(!evidence.contains_key("infoUrl"));
    assert!(!evidence.contains_key("feedbackUrl"));
    let keys: Vec<&str> = evidence.keys().map(String::as_str).collect();
    assert_eq!(&keys[..3], ["id", "certificateId", "type"]);
}

#[test]
fn request_country_overrides_default() {
    let mut request = v2_request();
    if let Some(address) = request.recipient.address.as_mut() {
        address.country = Some("GUY".to_owned());
        address.city = Some("Kingston".to_owned());
    }
    let credential = build(&request, &IssuerConfig::default(), Shape::V2);
    let address = &credential["credentialSubject"]["address"];
    assert_eq!(address["addressCountry"], "GUY");
    assert_eq!(address["city"], "Kingston");
    assert_eq!(credential["evidence"][0]["facility"]["address"]["city"], "");
}

#[test]
fn identity_rewrite_cases() {
    let cases = [
        (
            "did:in.gov.uidai.aadhaar:2342343334",
            "did:in.gov.uidai.aadhaar:2342343334",
        ),
        ("urn:uvci:01:JM:42", "urn:uvci:01:JM:42"),
        ("872550100V", "did:india:872550100V"),
        ("AB 1234", "did:india:AB%201234"),
        ("tab\there", "did:india:tab%09here"),
        ("50%<off>", "did:india:50%25%3Coff%3E"),
        ("no\u{A0}break", "did:india:no%C2%A0break"),
        ("1234:5678", "did:india:1234:5678"),
        ("passport: X1", "did:india:passport:%20X1"),
        ("Jérôme", "did:india:Jérôme"),
        ("NA", "did:india:12346"),
        ("X", "did:india:12346"),
        ("NAB", "did:india:NAB"),
    ];
    for (identity, expected) in cases {
        let mut request = v2_request();
        request.recipient.identity = identity.to_owned();
        assert_eq!(subject_id(&request), expected, "identity {identity:?}");
    }
}

#[test]
fn rejected_identity_encodes_code() {
    let mut request = v2_request();
    request.recipient.identity = "NA".to_owned();
    request.pre_enrollment_code = "PE 12".to_owned();
    assert_eq!(subject_id(&request), "did:india:PE%2012");
}

#[test]
fn custom_rejection_pattern() {
    let config = IssuerConfig {
        identity_rejection_pattern: IdentityRejectionPattern::new("^(NA|NONE|0+)$")
            .expect("pattern compiles"),
        ..divoc_config()
    };
    let mut request = v2_request();
    request.recipient.identity = "0000".to_owned();
    let credential = build(&request, &config, Shape::V2);
    assert_eq!(credential["credentialSubject"]["id"], "did:india:12346");
    request.recipient.identity = "X".to_owned();
    let credential = build(&request, &config, Shape::V2);
    assert_eq!(credential["credentialSubject"]["id"], "did:india:X");
}

#[test]
fn invalid_did_rejected() {
    let config = IssuerConfig {
        did: "did jm".to_owned(),
        ..divoc_config()
    };
    let mut request = v2_request();
    request.recipient.identity = "872550100V".to_owned();
    let error = build_credential(
        &request,
        &config,
        &VaccineTable::default(),
        Shape::V2,
        &test_certificate_id(),
        ISSUANCE_DATE,
    )
    .expect_err("relative subject id");
    assert_eq!(
        error,
        BuildError::NotAbsoluteIri {
            field: "credentialSubject.id",
            value: "did jm:872550100V".to_owned(),
        }
    );
}

#[test]
fn relative_issuer_and_base_rejected() {
    let issuer = IssuerConfig {
        issuer: "www.moh.gov.jm".to_owned(),
        ..divoc_config()
    };
    let base = IssuerConfig {
        certificate_base_url: String::new(),
        ..divoc_config()
    };
    for (config, field) in [(issuer, "issuer"), (base, "evidence[0].id")] {
        let result = build_credential(
            &v2_request(),
            &config,
            &VaccineTable::default(),
            Shape::V2,
            &test_certificate_id(),
            ISSUANCE_DATE,
        );
        match result {
            Err(BuildError::NotAbsoluteIri { field: found, .. }) => assert_eq!(found, field),
            other => panic!("expected NotAbsoluteIri for {field}, got {other:?}"),
        }
    }
}

#[test]
fn age_from_dob_at_issuance() {
    let mut request = v2_request();
    request.recipient.age = None;
    request.recipient.dob = Some(date!(1994 - 11 - 30));
    let credential = build(&request, &divoc_config(), Shape::V3);
    assert_eq!(credential["credentialSubject"]["age"], "26");
    assert_eq!(credential["credentialSubject"]["dob"], "1994-11-30");
    request.recipient.dob = Some(date!(1994 - 05 - 01));
    let credential = build(&request, &divoc_config(), Shape::V2);
    assert_eq!(credential["credentialSubject"]["age"], "27");
}

#[test]
fn dob_after_issuance_rejected() {
    let mut request = v2_request();
    request.recipient.age = None;
    request.recipient.dob = Some(date!(2021 - 05 - 02));
    let error = build_credential(
        &request,
        &divoc_config(),
        &VaccineTable::default(),
        Shape::V2,
        &test_certificate_id(),
        ISSUANCE_DATE,
    )
    .expect_err("negative age");
    assert_eq!(
        error,
        BuildError::DobAfterIssuance {
            dob: date!(2021 - 05 - 02),
            issued: date!(2021 - 05 - 01),
        }
    );
}

#[test]
fn v3_dob_derived_from_age() {
    let cases = [
        (None, Some("27"), "1994-01-01"),
        (Some(date!(1900 - 06 - 01)), Some("27"), "1994-01-01"),
        (Some(date!(1901 - 06 - 01)), Some("27"), "1901-06-01"),
        (None, Some("0"), ""),
        (None, Some("+27"), "1994-01-01"),
        (None, Some("2022"), ""),
        (None, None, ""),
    ];
    for (dob, age, expected) in cases {
        let mut request = v2_request();
        request.recipient.dob = dob;
        request.recipient.age = age.map(str::to_owned);
        let credential = build(&request, &divoc_config(), Shape::V3);
        assert_eq!(
            credential["credentialSubject"]["dob"], expected,
            "dob {dob:?}, age {age:?}"
        );
    }
}

#[test]
fn missing_age_and_dob_gives_empty() {
    let mut request = v2_request();
    request.recipient.age = None;
    let credential = build(&request, &divoc_config(), Shape::V2);
    assert_eq!(credential["credentialSubject"]["age"], "");
}

#[test]
fn unknown_vaccine_gives_empty_codes() {
    let mut request = v2_request();
    request.vaccination.name = "CoVax".to_owned();
    let credential = build(&request, &divoc_config(), Shape::V3);
    assert_eq!(credential["evidence"][0]["icd11Code"], "");
    assert_eq!(credential["evidence"][0]["prophylaxis"], "");
    assert!(VaccineTable::default().lookup("CoVax").is_none());
}

#[test]
fn v3_mrna_vaccine_codes() {
    let mut request = v2_request();
    request.vaccination.name = "Pfizer-BioNTech COMIRNATY".to_owned();
    let credential = build(&request, &divoc_config(), Shape::V3);
    assert_eq!(credential["evidence"][0]["icd11Code"], "XM0GQ8");
    assert_eq!(
        credential["evidence"][0]["prophylaxis"],
        "COVID-19 vaccine, mRNA based vaccine"
    );
}

#[test]
fn optional_parts_default_to_empty() {
    let mut request = v2_request();
    request.recipient.gender = None;
    request.recipient.address = None;
    request.vaccinator = None;
    request.facility.address = None;
    request.vaccination.batch = None;
    let credential = build(&request, &IssuerConfig::default(), Shape::V2);
    let subject = &credential["credentialSubject"];
    assert_eq!(subject["gender"], "");
    assert_eq!(
        subject["address"].to_string(),
        r#"{"streetAddress":"","streetAddress2":"","district":"","city":"","addressRegion":"","addressCountry":"JAM","postalCode":""}"#
    );
    let evidence = &credential["evidence"][0];
    assert_eq!(evidence["verifier"].to_string(), r#"{"name":""}"#);
    assert_eq!(evidence["batch"], "");
    assert_eq!(evidence["facility"]["address"]["addressCountry"], "JAM");
}

#[test]
fn fractional_dose_and_offset_date() {
    let body = String::from_utf8(super::fixture("reference-certify-v2.json"))
        .expect("UTF-8")
        .replace("\"totalDoses\": 2", "\"totalDoses\": 2.5")
        .replace("2021-05-01T10:00:00Z", "2021-05-01T05:00:00.123456-05:00");
    let request = crate::credential::parse_requests(body.as_bytes())
        .expect("valid")
        .remove(0);
    let credential = build(&request, &divoc_config(), Shape::V2);
    let evidence = &credential["evidence"][0];
    assert_eq!(evidence["totalDoses"].to_string(), "2.5");
    assert_eq!(evidence["dose"].to_string(), "1");
    assert_eq!(evidence["date"], "2021-05-01T05:00:00.123-05:00");
}

#[test]
fn issuance_date_converted_to_utc() {
    let credential = build_credential(
        &v2_request(),
        &divoc_config(),
        &VaccineTable::default(),
        Shape::V2,
        &test_certificate_id(),
        datetime!(2021-05-01 15:35:00.999_999 +05:30),
    )
    .expect("builds");
    assert_eq!(credential["issuanceDate"], "2021-05-01T10:05:00.999Z");
}

#[test]
fn issuance_year_out_of_range() {
    let result = build_credential(
        &v2_request(),
        &divoc_config(),
        &VaccineTable::default(),
        Shape::V2,
        &test_certificate_id(),
        datetime!(-0001-01-01 00:00 UTC),
    );
    assert_eq!(result, Err(BuildError::IssuanceYearOutOfRange { year: -1 }));
}
