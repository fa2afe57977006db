-- 00001_init creates okrd's base schema: the history of key result values,
-- manual check-ins, per-source sync cursors, the raw records fetched from
-- sources, and alert state. Times are INTEGER unix milliseconds in UTC (NULL
-- where a time is optional), the same representation the PostgreSQL schema
-- uses, so both stores share one code path and round-trip times exactly.
-- Keep this file unchanged once released: later changes are new files.

-- +goose Up
-- kr_values is append-only; AUTOINCREMENT guarantees an id is never reused,
-- even after the newest rows are deleted, so ValuesAfter tailing is safe.
CREATE TABLE kr_values (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    objective_id  TEXT    NOT NULL,
    key_result_id TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    value         REAL    NOT NULL,
    origin        TEXT    NOT NULL DEFAULT ''
);
-- SQLite appends the rowid (id) to every index, so this one also serves
-- History's ORDER BY at, id without a sort.
CREATE INDEX kr_values_kr_at ON kr_values (objective_id, key_result_id, at);

CREATE TABLE checkins (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    objective_id  TEXT    NOT NULL,
    key_result_id TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    value         REAL    NOT NULL,
    author        TEXT    NOT NULL DEFAULT '',
    note          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX checkins_kr_at ON checkins (objective_id, key_result_id, at);

CREATE TABLE sync_cursors (
    source     TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, scope)
);

-- source_records holds each record as the source sent it; the primary key
-- also orders Records' iteration by (kind, id) within a source.
CREATE TABLE source_records (
    source     TEXT    NOT NULL,
    scope      TEXT    NOT NULL DEFAULT '',
    kind       TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    updated_at INTEGER,
    data       BLOB    NOT NULL DEFAULT X'',
    PRIMARY KEY (source, kind, id)
);

CREATE TABLE alert_states (
    key        TEXT    NOT NULL PRIMARY KEY,
    state      TEXT    NOT NULL,
    since      INTEGER,
    last_sent  INTEGER,
    updated_at INTEGER NOT NULL,
    data       BLOB    NOT NULL DEFAULT X''
);

-- +goose Down
DROP TABLE alert_states;
DROP TABLE source_records;
DROP TABLE sync_cursors;
DROP TABLE checkins;
DROP TABLE kr_values;
