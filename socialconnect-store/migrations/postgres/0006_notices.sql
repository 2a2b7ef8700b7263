-- Privacy notice versions, shared by every process on this database so that all of them
-- enforce the same versions. Not personal data. `effective_at` is in microseconds; the first
-- stored content of a version stands.
CREATE TABLE sc_notices (
    version      TEXT PRIMARY KEY,
    hash         TEXT NOT NULL,
    significant  BIGINT NOT NULL,
    effective_at BIGINT NOT NULL
);
