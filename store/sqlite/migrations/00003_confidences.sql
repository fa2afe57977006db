-- 00003_confidences adds the owners' confidence that a key result will
-- land (1 to 10), with its time, author and note; every one is kept, so
-- that its history and its changes can be shown. A confidence is not a key
-- result value: it never enters kr_values. checkin_id names the check-in
-- it was recorded with (NULL when recorded on its own).

-- +goose Up
CREATE TABLE confidences (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    objective_id  TEXT    NOT NULL,
    key_result_id TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    value         INTEGER NOT NULL CHECK (value BETWEEN 1 AND 10),
    author        TEXT    NOT NULL DEFAULT '',
    note          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    checkin_id    INTEGER
);
CREATE INDEX confidences_kr_at ON confidences (objective_id, key_result_id, at);

-- +goose Down
DROP TABLE confidences;
