//! Prometheus metrics, kept in a registry owned by the application state rather than a
//! process-wide recorder, so several servers can run in one process (as the tests do).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;
type ChannelHistogramFamily = Family<ChannelLabels, Histogram, fn() -> Histogram>;

/// Notification metrics.
#[derive(Debug, Default)]
struct NotificationMetrics {
    sent: Family<ChannelLabels, Counter>,
    failed: Family<ChannelLabels, Counter>,
    retried: Family<ChannelLabels, Counter>,
    deferred: Family<ChannelLabels, Counter>,
    pending: Gauge,
    queue_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    delay: Option<ChannelHistogramFamily>,
}

fn delivery_histogram() -> Histogram {
    // 0.1 s to about 3.6 hours in 16 steps of 2.
    Histogram::new(exponential_buckets(0.1, 2.0, 18))
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: HistogramFamily,
    queue_depth: Gauge,
    certificates_issued: Counter,
    signing_failures: Counter,
    certify_items_accepted: Counter,
    notifications: NotificationMetrics,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s in 15 doublings.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates the registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vaccred");
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            http_requests.clone(),
        );
        let http_duration = HistogramFamily::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from receiving a request to sending its response headers, in seconds",
            http_duration.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "Certification requests accepted and not yet signed, read at scrape time",
            queue_depth.clone(),
        );
        let certificates_issued = Counter::default();
        registry.register(
            "certificates_issued",
            "Certificates signed and stored by this process",
            certificates_issued.clone(),
        );
        let signing_failures = Counter::default();
        registry.register(
            "signing_failures",
            "Work items that could not be built or signed",
            signing_failures.clone(),
        );
        let certify_items_accepted = Counter::default();
        registry.register(
            "certify_items_accepted",
            "Certification requests accepted by the certify endpoints",
            certify_items_accepted.clone(),
        );
        let notifications = register_notifications(&mut registry);
        Self {
            notifications,
            registry,
            http_requests,
            http_duration,
            queue_depth,
            certificates_issued,
            signing_failures,
            certify_items_accepted,
        }
    }

    /// Records one HTTP request and its response.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = RequestLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        let labels = RouteLabels {
            method: labels.method,
            route: labels.route,
        };
        self.http_duration.get_or_create(&labels).observe(seconds);
    }

    /// Sets the number of queued work items.
    pub fn set_queue_depth(&self, depth: u64) {
        self.queue_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// Counts one issued certificate.
    pub fn certificate_issued(&self) {
        self.certificates_issued.inc();
    }

    /// Counts one item that failed to build or sign.
    pub fn signing_failed(&self) {
        self.signing_failures.inc();
    }

    /// Counts accepted certification requests.
    pub fn certify_items_accepted(&self, count: u64) {
        self.certify_items_accepted.inc_by(count);
    }

    /// Counts one delivered notification.
    pub fn notification_sent(&self, channel: &str) {
        self.notifications
            .sent
            .get_or_create(&labels(channel))
            .inc();
    }

    /// Counts one notification that failed for good.
    pub fn notification_failed(&self, channel: &str) {
        self.notifications
            .failed
            .get_or_create(&labels(channel))
            .inc();
    }

    /// Counts one failed attempt that will be retried.
    pub fn notification_retried(&self, channel: &str) {
        self.notifications
            .retried
            .get_or_create(&labels(channel))
            .inc();
    }

    /// Counts one notification put back by a rate limit.
    pub fn notification_deferred(&self, channel: &str) {
        self.notifications
            .deferred
            .get_or_create(&labels(channel))
            .inc();
    }

    /// Records the time from enqueueing to delivery of one notification.
    pub fn observe_notification_delay(&self, channel: &str, seconds: f64) {
        if let Some(delay) = &self.notifications.delay {
            delay.get_or_create(&labels(channel)).observe(seconds);
        }
    }

    /// Sets the pending notification count and the age of the oldest, in seconds.
    pub fn set_notification_queue(&self, pending: u64, oldest_age_seconds: f64) {
        self.notifications
            .pending
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
        self.notifications.queue_age.set(oldest_age_seconds);
    }

    /// Encodes every metric in the text exposition format.
    ///
    /// # Errors
    /// Returns an error when formatting fails, which writing to a `String` does not.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

fn labels(channel: &str) -> ChannelLabels {
    ChannelLabels {
        channel: channel.to_owned(),
    }
}

fn register_notifications(registry: &mut Registry) -> NotificationMetrics {
    let metrics = NotificationMetrics {
        delay: Some(ChannelHistogramFamily::new_with_constructor(
            delivery_histogram,
        )),
        ..NotificationMetrics::default()
    };
    registry.register(
        "notifications_sent",
        "Notifications the gateway or SMTP server accepted, by channel",
        metrics.sent.clone(),
    );
    registry.register(
        "notifications_failed",
        "Notifications that failed for good, by channel",
        metrics.failed.clone(),
    );
    registry.register(
        "notifications_retried",
        "Failed notification attempts that will be retried, by channel",
        metrics.retried.clone(),
    );
    registry.register(
        "notifications_deferred",
        "Notifications put back because a recipient reached its rate limit, by channel",
        metrics.deferred.clone(),
    );
    registry.register(
        "notifications_pending",
        "Notifications waiting for delivery, read at scrape time",
        metrics.pending.clone(),
    );
    registry.register(
        "notifications_queue_age_seconds",
        "Age of the oldest pending notification in seconds, read at scrape time",
        metrics.queue_age.clone(),
    );
    if let Some(delay) = &metrics.delay {
        registry.register(
            "notification_delivery_delay_seconds",
            "Time from enqueueing a notification to its delivery, in seconds",
            delay.clone(),
        );
    }
    metrics
}
