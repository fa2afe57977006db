-- 00002_replicas adds the leadership term and the per-source change
-- sequence over source_records (docs/ha.md). SQLite has one okrd process
-- per file (a file lock refuses a second daemon), so the term only ever
-- changes when okrd restarts and nobody follows the changes; the tables
-- exist so that both stores run the same code and pass the same suite.

-- +goose Up
CREATE TABLE leadership (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    term       INTEGER NOT NULL,
    holder     TEXT    NOT NULL,
    started_at INTEGER
);
INSERT INTO leadership (id, term, holder) VALUES (1, 0, '');

CREATE TABLE record_seqs (
    source TEXT    NOT NULL PRIMARY KEY,
    seq    INTEGER NOT NULL
);

CREATE TABLE record_changes (
    source  TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    id      TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, kind, id)
);
CREATE INDEX record_changes_seq ON record_changes (source, seq);

-- +goose Down
DROP TABLE record_changes;
DROP TABLE record_seqs;
DROP TABLE leadership;
