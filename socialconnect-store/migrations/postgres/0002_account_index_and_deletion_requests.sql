-- SocialConnect store, schema 2 (PostgreSQL): finding connections by platform account, and
-- deletion requests received from platforms.

-- Keyed pseudonym of (platform, platform account id): HMAC-SHA256 under the store's pseudonym
-- key, so a platform callback naming only its own user id finds the connection without the
-- account id being stored in clear. NULL when the token set names no account (and for rows
-- written before this schema, until they are next written).
ALTER TABLE sc_tokens ADD COLUMN account_ref BYTEA;
CREATE INDEX sc_tokens_account_ref ON sc_tokens (account_ref);

-- Deletion requests (Meta's data-deletion callback), looked up by their confirmation code.
-- `sealed` holds the subject id under the subject's data key; completing the request or
-- erasing the subject nulls `subject_ref`, `dek_id` and `sealed`, so what outlives the person is
-- only the code, the platform, the status and the times. `received_at` and `status_at` are in
-- microseconds (the review queue is ordered by arrival).
CREATE TABLE sc_deletion_requests (
    code        TEXT NOT NULL PRIMARY KEY,
    platform    TEXT NOT NULL,
    subject_ref BYTEA,
    dek_id      TEXT,
    sealed      BYTEA,
    received_at BIGINT NOT NULL,
    status      TEXT NOT NULL,
    status_at   BIGINT,
    reason      TEXT
);
CREATE INDEX sc_deletion_requests_status ON sc_deletion_requests (status, received_at);
CREATE INDEX sc_deletion_requests_subject_ref ON sc_deletion_requests (subject_ref);
