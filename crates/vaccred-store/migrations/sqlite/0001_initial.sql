-- Initial schema. migrations/postgres/0001_initial.sql creates the same tables, columns,
-- constraints and indexes. Times are integer milliseconds since the Unix epoch (UTC).
-- Tables are STRICT, so SQLite rejects values of the wrong type as PostgreSQL does.

-- One row per accepted certify or update request body.
CREATE TABLE acknowledgements (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('certify', 'update')),
    received_at INTEGER NOT NULL,
    item_count INTEGER NOT NULL CHECK (item_count >= 0)
) STRICT;

CREATE INDEX acknowledgements_client_received ON acknowledgements (client_id, received_at);

-- One row per item of a request body: the work queue of the signer.
CREATE TABLE work_items (
    id INTEGER PRIMARY KEY,
    acknowledgement_id TEXT NOT NULL REFERENCES acknowledgements (id),
    item_index INTEGER NOT NULL CHECK (item_index >= 0),
    kind TEXT NOT NULL CHECK (kind IN ('certify', 'update')),
    shape TEXT NOT NULL CHECK (shape IN ('certifyV2', 'certifyV3')),
    request_json TEXT NOT NULL CHECK (request_json <> ''),
    pre_enrollment_code TEXT NOT NULL CHECK (pre_enrollment_code <> ''),
    program_id TEXT NOT NULL,
    dose REAL NOT NULL CHECK (dose >= 1),
    replaces_certificate_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'issued', 'rejected', 'duplicate')),
    duplicate_of INTEGER REFERENCES work_items (id),
    certificate_id TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    available_at INTEGER NOT NULL,
    last_error TEXT,
    lease_owner TEXT,
    lease_token TEXT,
    lease_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (acknowledgement_id, item_index),
    CHECK ((kind = 'update') = (replaces_certificate_id IS NOT NULL)),
    CHECK ((status = 'duplicate') = (duplicate_of IS NOT NULL)),
    CHECK ((status = 'issued') = (certificate_id IS NOT NULL)),
    CHECK ((status = 'rejected') = (reason IS NOT NULL)),
    CHECK ((lease_token IS NULL) = (lease_owner IS NULL)),
    CHECK ((lease_token IS NULL) = (lease_expires_at IS NULL)),
    CHECK (status = 'queued' OR lease_token IS NULL)
) STRICT;

-- The idempotency key: at most one live certify item per (pre-enrollment code, program,
-- dose). Rejected items leave the index, so a corrected request can be sent again.
CREATE UNIQUE INDEX work_items_certify_key ON work_items (pre_enrollment_code, program_id, dose)
    WHERE kind = 'certify' AND status IN ('queued', 'issued');

CREATE INDEX work_items_queued ON work_items (id) WHERE status = 'queued';
CREATE INDEX work_items_acknowledgement ON work_items (acknowledgement_id, item_index);

-- Signed credentials, byte for byte as issued.
CREATE TABLE certificates (
    id INTEGER PRIMARY KEY,
    certificate_id TEXT NOT NULL UNIQUE CHECK (certificate_id <> ''),
    item_id INTEGER UNIQUE REFERENCES work_items (id),
    pre_enrollment_code TEXT NOT NULL,
    program_id TEXT NOT NULL,
    dose REAL NOT NULL CHECK (dose >= 1),
    shape TEXT NOT NULL CHECK (shape IN ('certifyV2', 'certifyV3')),
    credential_json TEXT NOT NULL,
    key_id TEXT NOT NULL,
    name TEXT NOT NULL,
    date_of_birth TEXT,
    meta_json TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
    superseded_by TEXT REFERENCES certificates (certificate_id),
    CHECK (status <> 'superseded' OR superseded_by IS NOT NULL)
) STRICT;

CREATE INDEX certificates_code_dose ON certificates (pre_enrollment_code, dose);

-- Mobile numbers (from tel: contacts) and e-mail addresses (from mailto: contacts).
CREATE TABLE certificate_contacts (
    certificate_id TEXT NOT NULL REFERENCES certificates (certificate_id),
    ordinal INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('mobile', 'email')),
    value TEXT NOT NULL,
    PRIMARY KEY (certificate_id, ordinal)
) STRICT;

CREATE INDEX certificate_contacts_value ON certificate_contacts (kind, value);

-- Revocation list. Serials come from counters.revocation_serial, which one transaction at
-- a time increments, so serials are committed in increasing order.
CREATE TABLE revocations (
    serial INTEGER PRIMARY KEY CHECK (serial > 0),
    certificate_id TEXT NOT NULL UNIQUE REFERENCES certificates (certificate_id),
    pre_enrollment_code TEXT NOT NULL,
    dose REAL NOT NULL,
    reason TEXT NOT NULL CHECK (reason <> ''),
    replaced_by TEXT REFERENCES certificates (certificate_id),
    revoked_at INTEGER NOT NULL
) STRICT;

CREATE INDEX revocations_code_dose ON revocations (pre_enrollment_code, dose);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

INSERT INTO counters (name, value) VALUES ('revocation_serial', 0);

-- Callers of the certify and update API. secret_hash is a PHC string such as $argon2id$…
CREATE TABLE api_clients (
    client_id TEXT PRIMARY KEY CHECK (client_id <> ''),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL CHECK (secret_hash LIKE '$%'),
    roles_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
) STRICT;

-- Public halves of the signing keys. Private keys stay in files.
CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL CHECK (algorithm IN ('Ed25519Signature2018', 'RsaSignature2018')),
    public_key_pem TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    CHECK ((status = 'retired') = (retired_at IS NOT NULL))
) STRICT;
