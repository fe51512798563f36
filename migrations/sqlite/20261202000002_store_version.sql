-- Version 5: changes other processes commit (the CLI beside a running daemon, an admin's
-- sqlite3) never reach the daemon's update hook, so its rendered phone configs would go stale.
-- Triggers count every change to the tables configs and phonebooks are rendered from; the
-- daemon polls the count and renders again when it moved.
CREATE TABLE store_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    changes BIGINT NOT NULL
);
INSERT INTO store_version (id, changes) VALUES (1, 0);

CREATE TRIGGER users_insert_counts AFTER INSERT ON users
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER users_update_counts AFTER UPDATE ON users
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER users_delete_counts AFTER DELETE ON users
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER devices_insert_counts AFTER INSERT ON devices
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER devices_update_counts AFTER UPDATE ON devices
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER devices_delete_counts AFTER DELETE ON devices
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER workplaces_insert_counts AFTER INSERT ON workplaces
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER workplaces_update_counts AFTER UPDATE ON workplaces
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER workplaces_delete_counts AFTER DELETE ON workplaces
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER phonebook_insert_counts AFTER INSERT ON phonebook
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER phonebook_update_counts AFTER UPDATE ON phonebook
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER phonebook_delete_counts AFTER DELETE ON phonebook
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER user_phonebook_insert_counts AFTER INSERT ON user_phonebook
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER user_phonebook_update_counts AFTER UPDATE ON user_phonebook
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER user_phonebook_delete_counts AFTER DELETE ON user_phonebook
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER firmware_models_insert_counts AFTER INSERT ON firmware_models
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER firmware_models_update_counts AFTER UPDATE ON firmware_models
BEGIN UPDATE store_version SET changes = changes + 1; END;
CREATE TRIGGER firmware_models_delete_counts AFTER DELETE ON firmware_models
BEGIN UPDATE store_version SET changes = changes + 1; END;
