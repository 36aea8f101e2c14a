use serde_json::{Value, json};
use time::macros::{date, datetime};

use super::fixture;
use crate::credential::{
    CertificationRequest, Expected, FieldError, ParseOptions, Problem, RequestError, Shape,
    parse_requests, parse_requests_with,
};

/// Returns a valid request as a JSON value, for tests that break one part of it.
fn valid_request() -> Value {
    let mut body: Value =
        serde_json::from_slice(&fixture("divoc-e2e-certify.json")).expect("fixture is JSON");
    body[0].take()
}

fn errors_of(body: &Value, options: &ParseOptions) -> Vec<FieldError> {
    let text = serde_json::to_vec(body).expect("serialises");
    match parse_requests_with(&text, options) {
        Err(RequestError::Invalid(errors)) => errors,
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn strict_errors(body: &Value) -> Vec<FieldError> {
    errors_of(body, &ParseOptions::default())
}

fn error(path: &str, problem: Problem) -> FieldError {
    FieldError {
        path: path.to_owned(),
        problem,
    }
}

#[test]
fn divoc_e2e_fixture_parses() {
    let requests = parse_requests(&fixture("divoc-e2e-certify.json")).expect("valid");
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.pre_enrollment_code, "1112");
    assert_eq!(request.program_id.as_deref(), Some("1234"));
    assert_eq!(request.recipient.dob, Some(date!(1994 - 11 - 30)));
    assert_eq!(request.recipient.age, None);
    assert_eq!(request.recipient.contact, ["tel:9880414889"]);
    assert_eq!(
        request.vaccination.date,
        datetime!(2020-12-02 19:21:18.646 UTC)
    );
    assert_eq!(request.vaccination.dose.get(), 1.0);
    assert_eq!(request.vaccination.total_doses.get(), 2.0);
    assert!(request.comorbidities.is_empty());
    let facility_address = request.facility.address.as_ref().expect("address");
    assert_eq!(facility_address.pincode, "560034");
    assert_eq!(facility_address.country, None);
}

#[test]
fn single_object_accepted() {
    let body = serde_json::to_vec(&valid_request()).expect("serialises");
    let requests = parse_requests(&body).expect("valid");
    assert_eq!(requests.len(), 1);
}

#[test]
fn empty_array_accepted() {
    assert_eq!(parse_requests(b"[]").expect("valid"), Vec::new());
}

#[test]
fn invalid_json_is_syntax_error() {
    let result = parse_requests(b"[{\"preEnrollmentCode\": }]");
    assert!(matches!(result, Err(RequestError::Syntax(_))), "{result:?}");
}

#[test]
fn scalar_body_rejected() {
    let errors = strict_errors(&json!("text"));
    let expected = Problem::WrongType {
        expected: Expected::ObjectOrArray,
        found: "a string",
    };
    assert_eq!(errors, [error("", expected)]);
    assert!(
        errors[0]
            .to_string()
            .starts_with("request body: expected an array")
    );
}

#[test]
fn all_errors_collected_with_paths() {
    let mut first = valid_request();
    first["recipient"]["name"] = json!("");
    first["recipient"]
        .as_object_mut()
        .expect("object")
        .remove("gender");
    first["vaccination"]["dose"] = json!(0);
    first["vaccination"]["totalDoses"] = json!("2");
    first["facility"]["address"]["pincode"] = json!("");
    first["recipient"]["contact"] = json!(["tel:1", ""]);
    first["recipient"]["address"]["country"] = json!("J");

    let mut second = valid_request();
    second.as_object_mut().expect("object").remove("vaccinator");
    second["meta"] = json!([1]);

    let errors = strict_errors(&json!([first, valid_request(), second]));

    let expected = [
        error("[0].recipient.name", Problem::TooShort { min_length: 1 }),
        error(
            "[0].recipient.gender",
            Problem::Missing {
                expected: Expected::NonEmptyString,
            },
        ),
        error(
            "[0].recipient.contact[1]",
            Problem::TooShort { min_length: 1 },
        ),
        error(
            "[0].recipient.address.country",
            Problem::TooShort { min_length: 2 },
        ),
        error("[0].vaccination.dose", Problem::BelowMinimum { minimum: 1 }),
        error(
            "[0].vaccination.totalDoses",
            Problem::WrongType {
                expected: Expected::Number,
                found: "a string",
            },
        ),
        error(
            "[0].facility.address.pincode",
            Problem::TooShort { min_length: 1 },
        ),
        error(
            "[2].vaccinator",
            Problem::Missing {
                expected: Expected::Object,
            },
        ),
        error(
            "[2].meta",
            Problem::WrongType {
                expected: Expected::Object,
                found: "an array",
            },
        ),
    ];
    assert_eq!(errors, expected);
}

#[test]
fn error_display_has_path_and_hint() {
    let mut body = valid_request();
    body["recipient"]["name"] = Value::Null;
    let errors = strict_errors(&json!([body]));
    assert_eq!(
        errors[0].to_string(),
        "[0].recipient.name: required field is missing. Send a non-empty string."
    );
}

#[test]
fn missing_age_and_dob_message() {
    let mut body = valid_request();
    body["recipient"]["dob"] = Value::Null;
    body["recipient"]["age"] = json!("");
    let errors = strict_errors(&body);
    assert_eq!(errors, [error("recipient", Problem::MissingAgeAndDob)]);
    assert_eq!(
        errors[0].problem.message(),
        "Age and DOB both are missing. Atleast one should be present"
    );
    assert_eq!(errors[0].problem.divoc_status(), 400);
}

#[test]
fn invalid_age_message() {
    for age in ["-1", "27.5", "twenty", "1 2"] {
        let mut body = valid_request();
        body["recipient"]["age"] = json!(age);
        let errors = strict_errors(&body);
        let problem = Problem::InvalidAgeOrDob {
            value: age.to_owned(),
        };
        assert_eq!(errors, [error("recipient.age", problem)], "age {age:?}");
        assert_eq!(
            errors[0].problem.message(),
            "Invalid Age or DOB. Should be less than current date"
        );
    }
}

#[test]
fn age_computed_from_dob_today() {
    let options = ParseOptions {
        today: Some(date!(2021 - 11 - 30)),
        ..ParseOptions::default()
    };
    let body = fixture("divoc-e2e-certify.json");
    let requests = parse_requests_with(&body, &options).expect("valid");
    assert_eq!(requests[0].recipient.age.as_deref(), Some("27"));
    let options = ParseOptions {
        today: Some(date!(2021 - 11 - 29)),
        ..options
    };
    let requests = parse_requests_with(&body, &options).expect("valid");
    assert_eq!(requests[0].recipient.age.as_deref(), Some("26"));
}

#[test]
fn given_age_kept_with_today() {
    let mut body = valid_request();
    body["recipient"]["age"] = json!("40");
    let options = ParseOptions {
        today: Some(date!(2021 - 11 - 30)),
        ..ParseOptions::default()
    };
    let text = serde_json::to_vec(&body).expect("serialises");
    let requests = parse_requests_with(&text, &options).expect("valid");
    assert_eq!(requests[0].recipient.age.as_deref(), Some("40"));
}

#[test]
fn future_dob_rejected_with_today() {
    let options = ParseOptions {
        today: Some(date!(1994 - 11 - 29)),
        ..ParseOptions::default()
    };
    let errors = errors_of(&json!([valid_request()]), &options);
    let problem = Problem::InvalidAgeOrDob {
        value: "1994-11-30".to_owned(),
    };
    assert_eq!(errors, [error("[0].recipient.dob", problem)]);
}

#[test]
fn invalid_dates_rejected() {
    let mut body = valid_request();
    body["recipient"]["dob"] = json!("1994-02-30");
    body["vaccination"]["effectiveStart"] = json!("2020-12-2");
    body["vaccination"]["effectiveUntil"] = json!("");
    body["vaccination"]["date"] = json!("2020-12-02 19:21:18Z");
    let errors = strict_errors(&body);
    let expected = [
        error(
            "recipient.dob",
            Problem::InvalidDate {
                value: "1994-02-30".to_owned(),
            },
        ),
        error(
            "vaccination.date",
            Problem::InvalidDateTime {
                value: "2020-12-02 19:21:18Z".to_owned(),
            },
        ),
        error(
            "vaccination.effectiveStart",
            Problem::InvalidDate {
                value: "2020-12-2".to_owned(),
            },
        ),
        error(
            "vaccination.effectiveUntil",
            Problem::InvalidDate {
                value: String::new(),
            },
        ),
    ];
    assert_eq!(errors, expected);
}

#[test]
fn missing_top_level_objects() {
    let errors = strict_errors(&json!({}));
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "preEnrollmentCode",
            "recipient",
            "vaccination",
            "vaccinator",
            "facility"
        ]
    );
}

#[test]
fn empty_pre_enrollment_code_rejected() {
    let mut body = valid_request();
    body["preEnrollmentCode"] = json!("");
    let errors = strict_errors(&body);
    assert_eq!(
        errors,
        [error(
            "preEnrollmentCode",
            Problem::TooShort { min_length: 1 }
        )]
    );
}

#[test]
fn v3_rules_relax_optional_parts() {
    let mut body = valid_request();
    let object = body.as_object_mut().expect("object");
    object.remove("vaccinator");
    object["recipient"]
        .as_object_mut()
        .expect("object")
        .remove("gender");
    object["recipient"]
        .as_object_mut()
        .expect("object")
        .remove("address");
    object["facility"]
        .as_object_mut()
        .expect("object")
        .remove("address");
    let text = serde_json::to_vec(&body).expect("serialises");
    let options = ParseOptions {
        shape: Shape::V3,
        ..ParseOptions::default()
    };
    let requests = parse_requests_with(&text, &options).expect("valid under certifyV3 rules");
    assert_eq!(requests[0].vaccinator, None);
    assert_eq!(requests[0].recipient.gender, None);
    assert_eq!(requests[0].recipient.address, None);
    assert_eq!(strict_errors(&body).len(), 4);
}

#[test]
fn v3_rules_accept_recipient_without_identity() {
    let mut body = valid_request();
    let recipient = body["recipient"].as_object_mut().expect("object");
    for key in ["nationality", "identity", "contact", "address"] {
        recipient.remove(key);
    }
    let text = serde_json::to_vec(&body).expect("serialises");
    let options = ParseOptions {
        shape: Shape::V3,
        ..ParseOptions::default()
    };
    let requests = parse_requests_with(&text, &options).expect("valid under certifyV3 rules");
    let recipient = &requests[0].recipient;
    assert_eq!(recipient.nationality, "");
    assert_eq!(recipient.identity, "");
    assert!(recipient.contact.is_empty());

    // The stored form reads back unchanged.
    let stored = serde_json::to_string(&requests[0]).expect("serialises");
    let read: CertificationRequest = serde_json::from_str(&stored).expect("reads back");
    assert_eq!(read, requests[0]);

    let paths: Vec<String> = strict_errors(&body).into_iter().map(|e| e.path).collect();
    assert_eq!(
        paths,
        [
            "recipient.nationality",
            "recipient.identity",
            "recipient.contact",
            "recipient.address"
        ]
    );
}

#[test]
fn v3_rules_check_contact_entries() {
    let mut body = valid_request();
    body["recipient"]["contact"] = json!(["tel:8765550100", ""]);
    let options = ParseOptions {
        shape: Shape::V3,
        ..ParseOptions::default()
    };
    let paths: Vec<String> = errors_of(&body, &options)
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(paths, ["recipient.contact[1]"]);
}

#[test]
fn v3_rules_still_check_present_parts() {
    let mut body = valid_request();
    body["vaccinator"] = json!({ "name": "" });
    body["facility"]["address"] = json!("Kingston");
    let options = ParseOptions {
        shape: Shape::V3,
        ..ParseOptions::default()
    };
    let paths: Vec<String> = errors_of(&body, &options)
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(paths, ["vaccinator.name", "facility.address"]);
}

#[test]
fn unknown_fields_ignored() {
    let mut body = valid_request();
    body["recipient"]["address"]["landmark"] = json!("near the clock tower");
    body["extra"] = json!({ "nested": true });
    let text = serde_json::to_vec(&body).expect("serialises");
    assert!(parse_requests(&text).is_ok());
}

#[test]
fn empty_optional_strings_absent() {
    let mut body = valid_request();
    body["programId"] = json!("");
    body["enrollmentType"] = json!("");
    body["vaccination"]["batch"] = json!("");
    body["recipient"]["address"]["country"] = json!("");
    let text = serde_json::to_vec(&body).expect("serialises");
    let request = parse_requests(&text).expect("valid").remove(0);
    assert_eq!(request.program_id, None);
    assert_eq!(request.enrollment_type, None);
    assert_eq!(request.vaccination.batch, None);
    assert_eq!(request.recipient.address.and_then(|a| a.country), None);
}

#[test]
fn serialises_in_go_normal_form() {
    let mut body = valid_request();
    body["vaccination"]["date"] = json!("2020-12-02T19:21");
    body["vaccination"]["dose"] = json!(1.0);
    body["vaccination"]["totalDoses"] = json!(2.5);
    body["programId"] = json!("");
    body["meta"] = json!({ "batchNote": 1 });
    let text = serde_json::to_vec(&body).expect("serialises");
    let request = parse_requests(&text).expect("valid").remove(0);
    let normal = serde_json::to_value(&request).expect("serialises");
    assert_eq!(normal["vaccination"]["date"], "2020-12-02T19:21:00.000Z");
    assert_eq!(normal["vaccination"]["dose"].to_string(), "1");
    assert_eq!(normal["vaccination"]["totalDoses"].to_string(), "2.5");
    assert_eq!(normal["recipient"]["dob"], "1994-11-30");
    assert!(normal.get("programId").is_none());
    assert!(normal.get("comorbidities").is_none());
    assert_eq!(normal["meta"], json!({ "batchNote": 1 }));
}

#[test]
fn deserialize_round_trip() {
    let requests = parse_requests(&fixture("divoc-e2e-certify.json")).expect("valid");
    let text = serde_json::to_string(&requests[0]).expect("serialises");
    let read: CertificationRequest = serde_json::from_str(&text).expect("reads back");
    assert_eq!(read, requests[0]);
}

#[test]
fn deserialize_reports_paths() {
    let mut body = valid_request();
    body["recipient"]["name"] = json!(7);
    let error = serde_json::from_value::<CertificationRequest>(body).expect_err("invalid");
    assert!(
        error
            .to_string()
            .contains("recipient.name: expected a non-empty string, found a number"),
        "{error}"
    );
}

#[test]
fn schema_errors_are_422() {
    assert_eq!(Problem::TooShort { min_length: 1 }.divoc_status(), 422);
    let missing = Problem::Missing {
        expected: Expected::String,
    };
    assert_eq!(missing.divoc_status(), 422);
    let invalid = Problem::InvalidDate {
        value: String::new(),
    };
    assert_eq!(invalid.divoc_status(), 400);
}

#[test]
fn control_characters_rejected() {
    for (name, code_point) in [("Bhaya\u{0}Mitra", 0), ("Bhaya \u{202E}artiM", 0x202E)] {
        let mut body = valid_request();
        body["recipient"]["name"] = Value::String(name.to_owned());
        let errors = strict_errors(&body);
        let expected = error("recipient.name", Problem::ControlCharacter { code_point });
        assert_eq!(errors, vec![expected]);
    }
}
