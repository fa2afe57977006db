-- 00002_replicas adds what several okrd processes sharing one database need
-- (docs/ha.md): the leadership term that fences the writes of a process
-- that no longer leads, and a per-source change sequence over
-- source_records, so that the replicas that do not poll follow the records
-- the leader writes incrementally instead of reading them all again.
-- They are tables of their own rather than columns on source_records
-- (docs/storage.md, rule 5).

-- +goose Up
-- leadership has exactly one row. Every write of the leader takes it FOR
-- SHARE and checks its term first (store.Tx.HoldTerm); a new leader's
-- UPDATE therefore waits for the transactions of the old term to end, and
-- any later one of the old term sees the new term and fails.
CREATE TABLE leadership (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    term       BIGINT NOT NULL,
    holder     TEXT   NOT NULL,
    started_at BIGINT
);
INSERT INTO leadership (id, term, holder) VALUES (1, 0, '');

-- record_seqs holds the newest change number of each source. A writer
-- raises it at the start of its write and holds the row lock until it
-- commits, so that the writers of one source take turns and their change
-- numbers become visible in commit order: a reader that remembers the last
-- number it saw skips nothing.
CREATE TABLE record_seqs (
    source TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    seq    BIGINT           NOT NULL
);

-- record_changes has one row per record key written since this migration:
-- the change number of its last write and whether that write deleted it.
CREATE TABLE record_changes (
    source  TEXT COLLATE "C" NOT NULL,
    kind    TEXT COLLATE "C" NOT NULL,
    id      TEXT COLLATE "C" NOT NULL,
    seq     BIGINT           NOT NULL,
    deleted BOOLEAN          NOT NULL DEFAULT FALSE,
    PRIMARY KEY (source, kind, id)
);
CREATE INDEX record_changes_seq ON record_changes (source, seq);

-- +goose Down
DROP TABLE record_changes;
DROP TABLE record_seqs;
DROP TABLE leadership;
