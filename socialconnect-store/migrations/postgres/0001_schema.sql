-- SocialConnect store, schema 1 (PostgreSQL).
--
-- Personal data lives only inside `sealed` blobs (AES-256-GCM under the subject's data key);
-- subjects appear only as keyed pseudonyms (`subject_ref`, 32 bytes). Times are Unix seconds,
-- except `sc_usage_log.at` (microseconds).

-- Wrapped store-wide secrets (the pseudonym key).
CREATE TABLE sc_meta (
    name    TEXT NOT NULL PRIMARY KEY,
    kek_id  TEXT NOT NULL,
    wrapped BYTEA NOT NULL
);

-- Each subject's data key, wrapped by a key-encryption key. Deleting the row crypto-shreds
-- everything sealed under it.
CREATE TABLE sc_subject_keys (
    subject_ref BYTEA NOT NULL PRIMARY KEY,
    dek_id      TEXT NOT NULL,
    kek_id      TEXT NOT NULL,
    wrapped     BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX sc_subject_keys_kek_id ON sc_subject_keys (kek_id);

-- One connection's sealed token set, versioned for compare-and-swap writes.
CREATE TABLE sc_tokens (
    conn_id      TEXT NOT NULL PRIMARY KEY,
    subject_ref  BYTEA NOT NULL,
    platform     TEXT NOT NULL,
    version      BIGINT NOT NULL,
    status       TEXT NOT NULL,
    status_since BIGINT,
    updated_at   BIGINT NOT NULL,
    dek_id       TEXT NOT NULL,
    sealed       BYTEA NOT NULL
);
CREATE INDEX sc_tokens_subject_ref ON sc_tokens (subject_ref);

-- Refresh leases across processes: one holder per connection until `expires_at`.
CREATE TABLE sc_leases (
    conn_id    TEXT NOT NULL PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Pending OAuth states, keyed by the hash of the `state` value (never the value itself).
CREATE TABLE sc_pending (
    state_hash  BYTEA NOT NULL PRIMARY KEY,
    subject_ref BYTEA NOT NULL,
    expires_at  BIGINT NOT NULL,
    dek_id      TEXT NOT NULL,
    sealed      BYTEA NOT NULL
);
CREATE INDEX sc_pending_expires_at ON sc_pending (expires_at);
CREATE INDEX sc_pending_subject_ref ON sc_pending (subject_ref);

-- The consent ledger: append-only and hash-chained. An erasure nulls the personal columns
-- (a tombstone) and keeps `row_digest`, `prev_hash` and `hash`, so the chain still verifies.
CREATE TABLE sc_consent (
    seq         BIGINT NOT NULL PRIMARY KEY,
    subject_ref BYTEA,
    purpose     TEXT,
    platform    TEXT,
    action      TEXT,
    recorded_at BIGINT,
    expires_at  BIGINT,
    dek_id      TEXT,
    sealed      BYTEA,
    row_digest  BYTEA NOT NULL,
    prev_hash   BYTEA NOT NULL,
    hash        BYTEA NOT NULL
);
CREATE INDEX sc_consent_subject_ref ON sc_consent (subject_ref);

-- The chain's head: the last appended `seq` and `hash`. Every append updates this single row
-- first, which serializes appenders (a row lock on PostgreSQL, the write lock on SQLite), so
-- two of them can never link to the same predecessor.
CREATE TABLE sc_consent_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO sc_consent_head (id, seq, hash)
VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::BYTEA);

-- The latest consent event per (subject, purpose, platform); `platform` is '' for all platforms.
CREATE TABLE sc_consent_state (
    subject_ref BYTEA NOT NULL,
    purpose     TEXT NOT NULL,
    platform    TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    action      TEXT NOT NULL,
    expires_at  BIGINT,
    PRIMARY KEY (subject_ref, purpose, platform)
);

-- The usage log (kept 90 days). `at` is in microseconds; `sealed` holds the connection id, IP
-- and user agent.
CREATE TABLE sc_usage_log (
    id          BIGSERIAL PRIMARY KEY,
    subject_ref BYTEA NOT NULL,
    at          BIGINT NOT NULL,
    platform    TEXT NOT NULL,
    operation   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    http_status BIGINT,
    latency_us  BIGINT NOT NULL,
    dek_id      TEXT NOT NULL,
    sealed      BYTEA NOT NULL
);
CREATE INDEX sc_usage_log_subject_at ON sc_usage_log (subject_ref, at);
CREATE INDEX sc_usage_log_at ON sc_usage_log (at);

-- API keys of the host's own clients: only a hash is stored; `replaced_by` and `grace_until`
-- support rotation with an overlap.
CREATE TABLE sc_api_keys (
    key_id       TEXT NOT NULL PRIMARY KEY,
    prefix       TEXT NOT NULL,
    hash         BYTEA NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    replaced_by  TEXT,
    grace_until  BIGINT
);
