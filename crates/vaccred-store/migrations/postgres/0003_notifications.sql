-- The notification outbox. migrations/sqlite/0003_notifications.sql creates the same
-- tables, columns, constraints and indexes. Times are integer milliseconds since the Unix
-- epoch (UTC).

-- One row per message to one recipient over one channel. Rows are inserted in the
-- transaction that issues, updates or revokes the certificate they are about, and stay
-- after delivery as the record of what was sent.
CREATE TABLE notifications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event TEXT NOT NULL CHECK (event IN ('certificate_issued', 'certificate_updated',
        'certificate_revoked', 'otp')),
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient TEXT NOT NULL CHECK (recipient <> ''),
    certificate_id TEXT,
    language TEXT NOT NULL CHECK (language <> ''),
    -- Template variables as a JSON object. Emptied once a one-time code is settled.
    variables_json TEXT NOT NULL,
    -- Higher values are delivered first.
    priority BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'expired')),
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts BIGINT NOT NULL CHECK (max_attempts > 0),
    available_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_error TEXT,
    gateway_reference TEXT,
    lease_owner TEXT,
    lease_token TEXT,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT,
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    CHECK ((lease_token IS NULL) = (lease_owner IS NULL)),
    CHECK ((lease_token IS NULL) = (lease_expires_at IS NULL)),
    CHECK (status = 'pending' OR lease_token IS NULL)
);

CREATE INDEX notifications_pending ON notifications (priority DESC, id)
    WHERE status = 'pending';
-- Lets each claim find expired one-time codes without reading every pending row.
CREATE INDEX notifications_expiring ON notifications (expires_at)
    WHERE status = 'pending' AND expires_at IS NOT NULL;
CREATE INDEX notifications_status_updated ON notifications (status, updated_at);
CREATE INDEX notifications_certificate ON notifications (certificate_id);

-- One row per delivery attempt: what the gateway or SMTP server returned.
CREATE TABLE notification_attempts (
    notification_id BIGINT NOT NULL REFERENCES notifications (id),
    attempt BIGINT NOT NULL CHECK (attempt > 0),
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
    gateway_status TEXT,
    error TEXT,
    PRIMARY KEY (notification_id, attempt)
);
