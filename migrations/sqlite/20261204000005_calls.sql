-- Version 10: call records (issue 12), one row per finished call, written by the SIP service
-- when the call ends. Runtime data: not in the change log. Rows older than
-- `[calls] retention_days` are pruned daily. Names and numbers are kept as they were at the
-- time of the call (no foreign keys: a record outlives the user or device it names).
CREATE TABLE calls (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at    BIGINT NOT NULL,
    answered_at   BIGINT,
    ended_at      BIGINT NOT NULL,
    caller_number TEXT NOT NULL,
    caller_name   TEXT,
    callee        TEXT NOT NULL,
    -- internal | external | team
    class         TEXT NOT NULL,
    -- The device that answered, by id.
    answered_by   BIGINT,
    -- answered | busy | no-answer | unavailable | cancelled | rejected | failed
    outcome       TEXT NOT NULL,
    -- The after-action that took the call (voicemail, forward-user, ...), if one did.
    after_action  TEXT
);
CREATE INDEX calls_started ON calls (started_at);
