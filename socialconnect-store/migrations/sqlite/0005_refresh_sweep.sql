-- SocialConnect store, schema 5 (SQLite): claiming due refreshes.
--
-- `refresh_due_at`: the access token's expiry (Unix seconds) for an active connection whose
-- token expires at a known instant, NULL otherwise (nothing to refresh ahead of time). A plain
-- time, not personal data; `put` keeps it, and the sweep adds its own window when it asks for
-- due work. Rows written before this schema get 0 ("due now"): the first claim opens them,
-- writes their real due time and lets them go.
--
-- `claim_owner` / `claim_until`: a claim on the row by one sweeper until `claim_until` (Unix
-- seconds), or, with no owner, a back-off: nobody claims the row before `claim_until`. They
-- live on the token row itself, not in sc_leases, so one UPDATE over one index finds and
-- claims due rows (under SQLite's write lock); and the claim is a different lock from the
-- single-flight refresh lease, which the claimant then takes as any session would.
ALTER TABLE sc_tokens ADD COLUMN refresh_due_at INTEGER;
ALTER TABLE sc_tokens ADD COLUMN claim_owner TEXT;
ALTER TABLE sc_tokens ADD COLUMN claim_until INTEGER NOT NULL DEFAULT 0;
UPDATE sc_tokens SET refresh_due_at = 0 WHERE status = 'active';
CREATE INDEX sc_tokens_refresh_due ON sc_tokens (refresh_due_at, claim_until)
    WHERE refresh_due_at IS NOT NULL;
