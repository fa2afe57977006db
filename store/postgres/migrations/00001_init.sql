-- 00001_init creates okrd's base schema: the history of key result values,
-- manual check-ins, per-source sync cursors, the raw records fetched from
-- sources, and alert state. Times are BIGINT unix milliseconds in UTC (NULL
-- where a time is optional), the same representation the SQLite schema uses,
-- so both stores share one code path and round-trip times exactly. Text keys
-- that okrd sorts by use COLLATE "C" so the order is byte order, as in
-- SQLite, whatever the database's default collation is.
-- Keep this file unchanged once released: later changes are new files.

-- +goose Up
-- kr_values is append-only. Identity values are handed out at insert time,
-- so writers take a table lock first (see sqlstore.Dialect.LockValues) to
-- make id order equal commit order for ValuesAfter tailing.
CREATE TABLE kr_values (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    objective_id  TEXT             NOT NULL,
    key_result_id TEXT             NOT NULL,
    at            BIGINT           NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    origin        TEXT             NOT NULL DEFAULT ''
);
-- id is part of the index so History's ORDER BY at, id needs no sort.
CREATE INDEX kr_values_kr_at ON kr_values (objective_id, key_result_id, at, id);

CREATE TABLE checkins (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    objective_id  TEXT             NOT NULL,
    key_result_id TEXT             NOT NULL,
    at            BIGINT           NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    author        TEXT             NOT NULL DEFAULT '',
    note          TEXT             NOT NULL DEFAULT '',
    created_at    BIGINT           NOT NULL
);
CREATE INDEX checkins_kr_at ON checkins (objective_id, key_result_id, at, id);

CREATE TABLE sync_cursors (
    source     TEXT COLLATE "C" NOT NULL,
    scope      TEXT COLLATE "C" NOT NULL,
    value      TEXT             NOT NULL,
    updated_at BIGINT           NOT NULL,
    PRIMARY KEY (source, scope)
);

-- source_records holds each record as the source sent it (BYTEA, not JSONB,
-- so the bytes come back exactly); the primary key also orders Records'
-- iteration by (kind, id) within a source.
CREATE TABLE source_records (
    source     TEXT COLLATE "C" NOT NULL,
    scope      TEXT             NOT NULL DEFAULT '',
    kind       TEXT COLLATE "C" NOT NULL,
    id         TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT,
    data       BYTEA            NOT NULL DEFAULT '',
    PRIMARY KEY (source, kind, id)
);

CREATE TABLE alert_states (
    key        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    state      TEXT             NOT NULL,
    since      BIGINT,
    last_sent  BIGINT,
    updated_at BIGINT           NOT NULL,
    data       BYTEA            NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE alert_states;
DROP TABLE source_records;
DROP TABLE sync_cursors;
DROP TABLE checkins;
DROP TABLE kr_values;
