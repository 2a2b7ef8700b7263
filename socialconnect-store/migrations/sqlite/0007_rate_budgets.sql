-- Shared rate budgets, counted for every process on this database (not personal data: a key
-- names a platform, an app or connection id, and a limit). A window of N calls is N slot rows;
-- `used_at` (microseconds) is when the slot's last call ended, or until when it is held while
-- that call is in flight. A daily budget is one counter row for its UTC day. A pause is until
-- when a platform asked every caller to wait.
CREATE TABLE sc_rate_slots (
    key     TEXT NOT NULL,
    slot    INTEGER NOT NULL,
    used_at INTEGER NOT NULL,
    PRIMARY KEY (key, slot)
) STRICT;

CREATE TABLE sc_rate_days (
    key   TEXT PRIMARY KEY,
    day   INTEGER NOT NULL,
    calls INTEGER NOT NULL
) STRICT;

CREATE TABLE sc_rate_pauses (
    key      TEXT PRIMARY KEY,
    until_at INTEGER NOT NULL
) STRICT;
