-- Version 12 (issue 15): the faxes received on users' virtual fax devices. The document (PDF or
-- TIFF, the device's format) is a file under `<data_dir>/fax/<user id>/` named by `file`; a
-- reception that ended before one page arrived has none. The row and the file come and go
-- together (see src/fax/inbox.rs); `name` is unique and is the mail's reference.
CREATE TABLE fax_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL UNIQUE,
    -- The document's file name in the user's inbox directory; NULL when no page arrived.
    file            TEXT UNIQUE,
    -- pdf | tiff
    format          TEXT NOT NULL CHECK (format IN ('pdf', 'tiff')),
    caller_number   TEXT NOT NULL,
    -- The sender's station id (its TSI).
    remote_id       TEXT NOT NULL,
    pages           BIGINT NOT NULL CHECK (pages >= 0),
    bit_rate        BIGINT NOT NULL CHECK (bit_rate >= 0),
    ecm             BOOLEAN NOT NULL,
    duration_ms     BIGINT NOT NULL CHECK (duration_ms >= 0),
    -- T.30 completion code (0: complete) and its text.
    completion_code BIGINT NOT NULL,
    result          TEXT NOT NULL,
    received_at     BIGINT NOT NULL,
    -- none (no address) | queued | delivered | failed
    mail            TEXT NOT NULL DEFAULT 'none'
);
CREATE INDEX fax_messages_user ON fax_messages (user_id, received_at);

-- Whether received faxes stay in the inbox once SMTP accepted their mail (the seed has no such
-- switch for the fax device; kept unless the admin says otherwise, as a voicemail box without
-- settings keeps its messages).
ALTER TABLE user_fax ADD COLUMN keep_faxes BOOLEAN NOT NULL DEFAULT TRUE;
