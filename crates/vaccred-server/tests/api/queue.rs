//! The queue depth gauge in `/metrics` follows the store's count of queued items.

use std::sync::Arc;

use secrecy::ExposeSecret as _;
use time::{Duration, OffsetDateTime};
use vaccred_core::credential::{DoseNumber, Shape};
use vaccred_store::{ManualClock, NewItem, Personal, RequestKind, Store, StoreOptions};

use crate::support::{Backend, TestApp, backend_tests, unique_suffix};

backend_tests!(metrics_report_queue_depth);

async fn queue_depth_line(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    text.lines()
        .find(|line| line.starts_with("vaccred_queue_depth "))
        .unwrap_or_else(|| panic!("no queue depth sample in:\n{text}"))
        .to_owned()
}

async fn metrics_report_queue_depth(backend: Backend) {
    let app = TestApp::start(backend).await;
    assert_eq!(queue_depth_line(&app).await, "vaccred_queue_depth 0");

    // Items stored through a store whose clock is a day ahead become claimable only
    // then, so the server's workers leave them queued.
    let clock = ManualClock::new(OffsetDateTime::now_utc() + Duration::days(1));
    let options = StoreOptions {
        clock: Arc::new(clock),
        ..StoreOptions::default()
    };
    let url = app.state.config().database_url();
    let ahead = Store::open_with(url.expose_secret(), options)
        .await
        .unwrap();
    let items: Vec<NewItem> = (1..=2)
        .map(|dose| NewItem {
            shape: Shape::V3,
            request_json: Personal::new("{}".to_owned()),
            pre_enrollment_code: format!("PEC-{}", unique_suffix()),
            program_id: "C19".to_owned(),
            dose: DoseNumber::new(f64::from(dose)).unwrap(),
            replaces: None,
        })
        .collect();
    ahead
        .accept("client-queue", RequestKind::Certify, &items)
        .await
        .unwrap();
    ahead.close().await;

    assert_eq!(queue_depth_line(&app).await, "vaccred_queue_depth 2");
    app.stop().await.unwrap();
}
