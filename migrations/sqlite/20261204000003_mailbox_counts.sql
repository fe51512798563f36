-- Version 8: the message counts of each user's voicemail box, which phones show through MWI
-- (RFC 3842). The voicemail service keeps them current in the transaction that stores or
-- changes a message; every change is logged as ('mailbox', user id), so the SIP service
-- notifies the phones at once, whichever process wrote it. Provisioning ignores them.
CREATE TABLE mailbox_counts (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    new_messages INTEGER NOT NULL DEFAULT 0 CHECK (new_messages >= 0),
    old_messages INTEGER NOT NULL DEFAULT 0 CHECK (old_messages >= 0)
);

CREATE TRIGGER mailbox_counts_insert_logs AFTER INSERT ON mailbox_counts
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('mailbox', NEW.user_id); END;
CREATE TRIGGER mailbox_counts_update_logs AFTER UPDATE ON mailbox_counts
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('mailbox', NEW.user_id); END;
