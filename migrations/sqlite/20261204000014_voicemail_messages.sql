-- Version 11 (issue 14): the messages in each user's voicemail box. The audio is a WAV under
-- `<data_dir>/voicemail/<user id>/` named by `file`; the row and the file come and go
-- together (see src/voicemail/mailbox.rs). Every transaction that adds, changes or removes a
-- row also sets `mailbox_counts` from the rows, so MWI never disagrees with the box.
CREATE TABLE voicemail_messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The file name inside the user's box directory; also the mail's reference.
    file          TEXT NOT NULL UNIQUE,
    caller_number TEXT NOT NULL,
    caller_name   TEXT NOT NULL,
    -- busy | unavailable
    reason        TEXT NOT NULL CHECK (reason IN ('busy', 'unavailable')),
    received_at   BIGINT NOT NULL,
    duration_ms   BIGINT NOT NULL CHECK (duration_ms >= 0),
    heard         BOOLEAN NOT NULL DEFAULT FALSE,
    -- none (no address) | queued | delivered | failed
    mail          TEXT NOT NULL DEFAULT 'none'
);
CREATE INDEX voicemail_messages_user ON voicemail_messages (user_id, received_at);
