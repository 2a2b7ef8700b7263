-- Webhook deliveries seen, shared by every process on this database, so at-least-once
-- redeliveries are dropped whichever instance receives them. `delivery_key` is the SHA-256 of
-- `platform NUL event id` (event ids are never stored as given); `seen_at` is in microseconds.
CREATE TABLE sc_webhook_deliveries (
    delivery_key BLOB PRIMARY KEY,
    seen_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX sc_webhook_deliveries_seen ON sc_webhook_deliveries (seen_at);
