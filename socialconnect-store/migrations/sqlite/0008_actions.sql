-- SocialConnect store, schema 8 (SQLite): scheduled actions.
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
    action_id   BLOB NOT NULL PRIMARY KEY,
    subject_ref BLOB NOT NULL,
    platform    TEXT NOT NULL,
    conn_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    due_at      INTEGER,
    claim_owner TEXT,
    claim_until INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    dek_id      TEXT NOT NULL,
    sealed      BLOB NOT NULL
) STRICT;
-- The due query: pending actions in due order, the claim's "not held" test read from the
-- index.
CREATE INDEX sc_actions_due ON sc_actions (due_at, action_id, claim_until)
    WHERE due_at IS NOT NULL;
-- A subject's actions in id order (paging, erasure).
CREATE INDEX sc_actions_subject ON sc_actions (subject_ref, action_id);
