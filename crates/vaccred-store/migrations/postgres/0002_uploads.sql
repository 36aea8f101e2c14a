-- Bulk certification uploads (DIVOC's /v1/bulkCertify CSV files).
-- migrations/sqlite/0002_uploads.sql creates the same tables, columns, constraints and
-- indexes. Times are integer milliseconds since the Unix epoch (UTC).

-- One row per uploaded file. The rows that passed validation were accepted as one
-- certify request body, whose acknowledgement is acknowledgement_id.
CREATE TABLE uploads (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    columns_json TEXT NOT NULL,
    acknowledgement_id TEXT NOT NULL UNIQUE REFERENCES acknowledgements (id),
    total_records BIGINT NOT NULL CHECK (total_records >= 0),
    created_at BIGINT NOT NULL
);

CREATE INDEX uploads_client_created ON uploads (client_id, created_at);

-- One row per data row of an uploaded file: either the work item it became, or the
-- problems that kept it from becoming one. cells_json is the row's cells as a JSON array
-- in the order of uploads.columns_json.
CREATE TABLE upload_rows (
    upload_id BIGINT NOT NULL REFERENCES uploads (id),
    line_number BIGINT NOT NULL CHECK (line_number > 0),
    cells_json TEXT NOT NULL,
    item_id BIGINT UNIQUE REFERENCES work_items (id),
    errors TEXT CHECK (errors <> ''),
    PRIMARY KEY (upload_id, line_number),
    CHECK ((item_id IS NULL) = (errors IS NOT NULL))
);
