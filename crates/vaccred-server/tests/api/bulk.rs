//! Bulk certification: CSV uploads, the uploads listing and upload error rows.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::Value;
use vaccred_server::auth::Role;

use crate::support::{Backend, TestApp, backend_tests, unique_suffix};

backend_tests!(
    divoc_template_imports,
    bad_rows_reported_by_line,
    missing_headers_is_invalid_template,
    bulk_role_boundaries,
    body_without_file_is_400,
    oversized_upload_is_413,
);

/// DIVOC's template: the header row of its 28 columns.
const TEMPLATE: &str = include_str!("../fixtures/divoc/certificates.csv");

const BULK_PATH: &str = "/divoc/api/v1/bulkCertify";
const UPLOADS_PATH: &str = "/divoc/api/v1/certify/uploads";

fn header() -> Vec<&'static str> {
    TEMPLATE.trim_end().split(',').collect()
}

/// Returns the cells of a valid row by column name, with a fresh pre-enrollment code.
fn valid_cells() -> HashMap<&'static str, String> {
    let cells = [
        ("preEnrollmentCode", format!("PEC-{}", unique_suffix())),
        ("recipientName", "Test Recipient".to_owned()),
        ("recipientMobileNumber", "8765550100".to_owned()),
        ("recipientDOB", "02-Apr-1990".to_owned()),
        ("recipientAge", String::new()),
        ("recipientGender", "Female".to_owned()),
        ("recipientNationality", "Jamaican".to_owned()),
        ("recipientIdentity", "did:jm:moh:identity:123456".to_owned()),
        ("recipientAddressLine1", "1 King Street".to_owned()),
        ("recipientAddressLine2", String::new()),
        ("recipientDistrict", "Kingston".to_owned()),
        ("recipientState", "Kingston".to_owned()),
        ("recipientPincode", "JMAKN01".to_owned()),
        ("vaccinationBatch", "MB3428BX".to_owned()),
        ("vaccinationDate", "2021-05-01T10:00:00.000Z".to_owned()),
        ("vaccinationDose", "1".to_owned()),
        ("vaccinationTotalDoses", "2".to_owned()),
        ("vaccinationEffectiveStart", "2021-05-01".to_owned()),
        ("vaccinationEffectiveEnd", "2022-05-01".to_owned()),
        ("vaccinationManufacturer", "Serum Institute".to_owned()),
        ("vaccinationName", "Covishield".to_owned()),
        ("vaccinatorName", "Test Vaccinator".to_owned()),
        ("facilityName", "Test Health Centre".to_owned()),
        (
            "facilityAddressLine1",
            "2 Queen Street, Block \"B\"".to_owned(),
        ),
        ("facilityAddressLine2", String::new()),
        ("facilityDistrict", "Kingston".to_owned()),
        ("facilityState", "Kingston".to_owned()),
        ("facilityPincode", "JMAKN02".to_owned()),
    ];
    cells.into_iter().collect()
}

/// Writes one CSV line with the cells in `columns` order, quoting every cell.
fn csv_line(columns: &[&str], cells: &HashMap<&str, String>) -> String {
    let quoted: Vec<String> = columns
        .iter()
        .map(|column| {
            let cell = cells.get(column).map_or("", String::as_str);
            format!("\"{}\"", cell.replace('"', "\"\""))
        })
        .collect();
    quoted.join(",")
}

impl TestApp {
    /// Uploads `csv` as field `file` and returns the status and JSON body.
    async fn bulk_certify(&self, token: &str, csv: &str) -> (u16, Value) {
        let part = Part::bytes(csv.as_bytes().to_vec())
            .file_name("vaccinations.csv")
            .mime_str("text/csv")
            .expect("MIME type");
        let response = self
            .http
            .post(self.url(BULK_PATH))
            .bearer_auth(token)
            .multipart(Form::new().part("file", part))
            .send()
            .await
            .expect("bulkCertify request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get_json(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls the uploads listing until the upload has left `Processing`.
    async fn wait_upload_done(&self, token: &str, upload_id: i64) -> Value {
        for _ in 0..400 {
            let (status, uploads) = self.get_json(token, UPLOADS_PATH).await;
            assert_eq!(status, 200, "uploads status");
            let upload = uploads
                .as_array()
                .expect("uploads array")
                .iter()
                .find(|upload| upload["ID"] == upload_id)
                .expect("upload listed")
                .clone();
            if upload["Status"] != "Processing" {
                return upload;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("upload {upload_id} still processing after 20 s");
    }
}

async fn divoc_template_imports(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.token(&[Role::FacilityAdmin]).await;

    let (status, body) = app.bulk_certify(&token, TEMPLATE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totalRows"], 0);
    assert_eq!(body["accepted"], 0);
    assert_eq!(body["errors"], serde_json::json!([]));

    let columns = header();
    let first = valid_cells();
    let mut second = valid_cells();
    second.insert("recipientDOB", String::new());
    second.insert("recipientAge", "31".to_owned());
    second.insert("vaccinationDose", "2".to_owned());
    let csv = format!(
        "\u{feff}{}\r\n{}\r\n{}\r\n\r\n",
        columns.join(","),
        csv_line(&columns, &first),
        csv_line(&columns, &second)
    );
    let (status, body) = app.bulk_certify(&token, &csv).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totalRows"], 2);
    assert_eq!(body["accepted"], 2);
    assert_eq!(body["errors"], serde_json::json!([]));
    let upload_id = body["uploadId"].as_i64().expect("uploadId");
    let acknowledgement_id = body["acknowledgementId"]
        .as_str()
        .expect("acknowledgementId");

    let settled = app.wait_settled(&token, acknowledgement_id).await;
    let items = settled["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(item["status"], "issued", "{item}");
    }
    let upload = app.wait_upload_done(&token, upload_id).await;
    assert_eq!(upload["Status"], "Success");
    assert_eq!(upload["Filename"], "vaccinations.csv");
    assert_eq!(upload["TotalRecords"], 2);
    assert_eq!(upload["TotalErrorRows"], 0);
    app.stop().await.unwrap();
}

async fn bad_rows_reported_by_line(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.token(&[Role::FacilityAdmin]).await;

    // Columns in another order than the template, with the optional programId column.
    let mut columns = header();
    columns.reverse();
    columns.push("programId");
    let mut good = valid_cells();
    good.insert("programId", "C19".to_owned());
    let mut bad = valid_cells();
    bad.insert("recipientName", String::new());
    bad.insert("vaccinationDate", "01/05/2021".to_owned());
    let bad_code = bad["preEnrollmentCode"].clone();
    let mut last = valid_cells();
    last.insert("vaccinationTotalDoses", "two".to_owned());
    let csv = format!(
        "{}\n{}\n{}\n{}\n",
        columns.join(","),
        csv_line(&columns, &good),
        csv_line(&columns, &bad),
        csv_line(&columns, &last)
    );

    let (status, body) = app.bulk_certify(&token, &csv).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totalRows"], 3);
    assert_eq!(body["accepted"], 1);
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["line"], 3);
    assert_eq!(
        errors[0]["errors"],
        serde_json::json!([
            "recipientName is required",
            "vaccinationDate is not an RFC 3339 date-time such as 2021-05-01T10:00:00.000Z"
        ])
    );
    assert_eq!(errors[1]["line"], 4);
    assert_eq!(
        errors[1]["errors"],
        serde_json::json!(["vaccinationTotalDoses is not a number"])
    );

    let acknowledgement_id = body["acknowledgementId"]
        .as_str()
        .expect("acknowledgementId");
    let settled = app.wait_settled(&token, acknowledgement_id).await;
    assert_eq!(settled["items"][0]["status"], "issued");

    let upload_id = body["uploadId"].as_i64().expect("uploadId");
    let upload = app.wait_upload_done(&token, upload_id).await;
    assert_eq!(upload["Status"], "Failed");
    assert_eq!(upload["TotalRecords"], 3);
    assert_eq!(upload["TotalErrorRows"], 2);
    assert_eq!(upload["DeletedAt"], Value::Null);

    let path = format!("{UPLOADS_PATH}/{upload_id}/errors");
    let (status, body) = app.get_json(&token, &path).await;
    assert_eq!(status, 200, "{body}");
    let listed_columns = body["columns"].as_array().expect("columns");
    assert_eq!(listed_columns.len(), columns.len() + 1);
    assert_eq!(listed_columns[0], "facilityPincode");
    assert_eq!(listed_columns[columns.len()], "errors");
    let rows = body["errorRows"].as_array().expect("errorRows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["line"], 3);
    assert_eq!(rows[0]["preEnrollmentCode"], bad_code.as_str());
    assert_eq!(rows[0]["recipientName"], "");
    assert_eq!(rows[0]["status"], "Failed");
    assert_eq!(
        rows[0]["errors"],
        "recipientName is required; vaccinationDate is not an RFC 3339 date-time such as \
         2021-05-01T10:00:00.000Z"
    );
    assert_eq!(rows[1]["line"], 4);
    app.stop().await.unwrap();
}

async fn missing_headers_is_invalid_template(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.token(&[Role::FacilityAdmin]).await;
    let columns: Vec<&str> = header()
        .into_iter()
        .filter(|column| *column != "recipientName" && *column != "facilityState")
        .collect();
    let csv = format!("{}\n", columns.join(","));

    let (status, body) = app.bulk_certify(&token, &csv).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "INVALID_TEMPLATE");
    assert_eq!(
        body["message"],
        "Missing Headers : recipientName,facilityState"
    );

    let (status, body) = app.bulk_certify(&token, "").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "INVALID_TEMPLATE");

    let (status, uploads) = app.get_json(&token, UPLOADS_PATH).await;
    assert_eq!(status, 200);
    assert_eq!(uploads, serde_json::json!([]));
    app.stop().await.unwrap();
}

async fn bulk_role_boundaries(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.token(&[Role::FacilityAdmin]).await;
    let other_admin = app.token(&[Role::FacilityAdmin]).await;
    let staff = app.token(&[Role::FacilityStaff, Role::Api]).await;

    let (status, body) = app.bulk_certify(&staff, TEMPLATE).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = app.get_json(&staff, UPLOADS_PATH).await;
    assert_eq!(status, 403);
    let response = app.http.get(app.url(UPLOADS_PATH)).send().await.unwrap();
    assert_eq!(response.status(), 401);

    let (status, body) = app.bulk_certify(&admin, TEMPLATE).await;
    assert_eq!(status, 200, "{body}");
    let upload_id = body["uploadId"].as_i64().expect("uploadId");
    let path = format!("{UPLOADS_PATH}/{upload_id}/errors");

    let (status, body) = app.get_json(&admin, &path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errorRows"], serde_json::json!([]));
    let (status, body) = app.get_json(&other_admin, &path).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = app.get_json(&staff, &path).await;
    assert_eq!(status, 403);

    let (status, uploads) = app.get_json(&other_admin, UPLOADS_PATH).await;
    assert_eq!(status, 200);
    assert_eq!(uploads, serde_json::json!([]));
    let (_, uploads) = app.get_json(&admin, UPLOADS_PATH).await;
    assert_eq!(uploads.as_array().map(Vec::len), Some(1));

    let unknown = format!("{UPLOADS_PATH}/{}/errors", upload_id + 1000);
    let (status, body) = app.get_json(&admin, &unknown).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = app
        .get_json(&admin, "/divoc/api/v1/certify/uploads/abc/errors")
        .await;
    assert_eq!(status, 404);
    app.stop().await.unwrap();
}

async fn body_without_file_is_400(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.token(&[Role::FacilityAdmin]).await;
    let form = Form::new().text("other", "value");
    let response = app
        .http
        .post(app.url(BULK_PATH))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_BODY");

    let response = app
        .http
        .post(app.url(BULK_PATH))
        .bearer_auth(&token)
        .body(TEMPLATE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    app.stop().await.unwrap();
}

async fn oversized_upload_is_413(backend: Backend) {
    let app = TestApp::start_with(backend, |config| config.max_request_bytes = 4096).await;
    let token = app.token(&[Role::FacilityAdmin]).await;
    let columns = header();
    let line = csv_line(&columns, &valid_cells());
    let csv = format!("{}\n{}", columns.join(","), format!("{line}\n").repeat(20));

    let (status, body) = app.bulk_certify(&token, &csv).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
    let (_, uploads) = app.get_json(&token, UPLOADS_PATH).await;
    assert_eq!(uploads, serde_json::json!([]));
    app.stop().await.unwrap();
}
