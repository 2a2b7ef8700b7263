-- Privacy notice versions, shared by every process on this database so that all of them
-- enforce the same versions. Not personal data. `effective_at` is in microseconds; the first
-- stored content of a version stands.
CREATE TABLE sc_notices (
    version      TEXT PRIMARY KEY,
    hash         TEXT NOT NULL,
    significant  BIGINT NOT NULL,
    effective_at BIGINT NOT NULL
);

-- The register of purposes processed under contract or legitimate interest, followed by every
-- process on this database. A retracted purpose keeps its row with `basis` NULL. Not personal
-- data; `declared_at` is in microseconds.
CREATE TABLE sc_declarations (
    purpose       TEXT PRIMARY KEY,
    basis         TEXT,
    justification TEXT,
    declared_at   BIGINT NOT NULL
);
