-- SocialConnect store, schema 3 (PostgreSQL): the privacy engine (issue 5).

-- The consent state carries the legal basis and notice version of its latest event, so the
-- permission check and the "ask again after a policy change" query never open sealed records.
-- Neither is personal. Rows materialised before this schema have NULL here until the next
-- event for their (subject, purpose, platform); readers then take both from the sealed event.
ALTER TABLE sc_consent_state ADD COLUMN basis TEXT;
ALTER TABLE sc_consent_state ADD COLUMN notice_version TEXT;

-- Reading a subject's usage log page by page (export) in `id` order.
CREATE INDEX sc_usage_log_subject_id ON sc_usage_log (subject_ref, id);

-- Finding connections that stayed unusable for too long (retention purge).
CREATE INDEX sc_tokens_status_since ON sc_tokens (status, status_since);

-- The host-supplied account information (email, username), sealed under the subject's data
-- key. `updated_at` is in Unix seconds.
CREATE TABLE sc_profiles (
    subject_ref BYTEA NOT NULL PRIMARY KEY,
    dek_id      TEXT NOT NULL,
    sealed      BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Erasure receipts: what outlives an erased subject. `pseudonym` is a keyed HMAC of the
-- subject id in its own domain (never equal to a `subject_ref`); `body` is JSON holding only
-- counts and per-platform revocation outcomes. `erased_at` is in microseconds. Receipts are
-- not touched by an erasure.
CREATE TABLE sc_erasure_receipts (
    id        BIGSERIAL PRIMARY KEY,
    pseudonym TEXT NOT NULL,
    erased_at BIGINT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX sc_erasure_receipts_pseudonym ON sc_erasure_receipts (pseudonym, id);

-- sc_api_keys (schema 1) is first written by this schema's code: its times (`created_at`,
-- `expires_at`, `last_used_at`, `revoked_at`, `grace_until`) are in microseconds, `scopes` is
-- space-separated, `key_id` and `replaced_by` are UUIDs in their 32-hex-digit simple form.
CREATE INDEX sc_api_keys_created ON sc_api_keys (created_at, key_id);
