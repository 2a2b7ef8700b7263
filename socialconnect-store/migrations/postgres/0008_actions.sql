-- SocialConnect store, schema 8 (PostgreSQL): scheduled actions.
--
-- One row per action. The whole action (its subject, purpose, payload, progress and results)
-- is `sealed` under the subject's data key, its associated data bound to the action id and
-- the subject pseudonym, so a sealed action copied into another row does not open. Beside it,
-- in plain, only what finding, claiming and listing need: the connection (`platform`,
-- `conn_id`), the `kind`, the state's name, and times in microseconds since the Unix epoch.
--
-- `due_at`: when the action can next be claimed; NULL unless its state is pending
-- (scheduled, maybe_sent). `claim_owner` / `claim_until`: a claim by one runner until
-- `claim_until`; 0 and NULL when nobody holds it.
CREATE TABLE sc_actions (
    action_id   BYTEA NOT NULL PRIMARY KEY,
    subject_ref BYTEA NOT NULL,
    platform    TEXT NOT NULL,
    conn_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    due_at      BIGINT,
    claim_owner TEXT,
    claim_until BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    dek_id      TEXT NOT NULL,
    sealed      BYTEA NOT NULL
);
-- The due query: pending actions in due order (ties by id), with the hold carried so the
-- claim's "not held" test is read from the index: finding due actions is an index-only scan.
CREATE INDEX sc_actions_due ON sc_actions (due_at, action_id) INCLUDE (claim_until)
    WHERE due_at IS NOT NULL;
-- A subject's actions in id order (paging, erasure).
CREATE INDEX sc_actions_subject ON sc_actions (subject_ref, action_id);
