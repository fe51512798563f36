-- Version 6: one change feed. Every change to a table that phone configs, the menu, call
-- routing or the registrar depend on appends (entity, id) to change_log, by trigger, so changes
-- made by any process (the daemon, the CLI beside it, an admin's sqlite3) arrive the same way.
-- The daemon reads the log right after its own commits and every second for other processes';
-- its `seq` is the store generation. Runtime state (fetch records, resync marks, registrations)
-- is not logged. Replaces version 5's change counter.

DROP TRIGGER users_insert_counts;
DROP TRIGGER users_update_counts;
DROP TRIGGER users_delete_counts;
DROP TRIGGER devices_insert_counts;
DROP TRIGGER devices_update_counts;
DROP TRIGGER devices_delete_counts;
DROP TRIGGER workplaces_insert_counts;
DROP TRIGGER workplaces_update_counts;
DROP TRIGGER workplaces_delete_counts;
DROP TRIGGER phonebook_insert_counts;
DROP TRIGGER phonebook_update_counts;
DROP TRIGGER phonebook_delete_counts;
DROP TRIGGER user_phonebook_insert_counts;
DROP TRIGGER user_phonebook_update_counts;
DROP TRIGGER user_phonebook_delete_counts;
DROP TRIGGER firmware_models_insert_counts;
DROP TRIGGER firmware_models_update_counts;
DROP TRIGGER firmware_models_delete_counts;
DROP TABLE store_version;

CREATE TABLE change_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    entity    TEXT NOT NULL,
    entity_id BIGINT NOT NULL
);
-- Generations continue above the resync marks stored by the old counter, so those marks clear
-- on the phones' next fetch.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'change_log', COALESCE(MAX(generation), 0) + 1 FROM device_resync;

CREATE TRIGGER users_insert_logs AFTER INSERT ON users
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('user', NEW.id); END;
CREATE TRIGGER users_update_logs AFTER UPDATE ON users
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('user', NEW.id); END;
CREATE TRIGGER users_delete_logs AFTER DELETE ON users
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('user', OLD.id); END;
CREATE TRIGGER devices_insert_logs AFTER INSERT ON devices
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('device', NEW.id); END;
CREATE TRIGGER devices_update_logs AFTER UPDATE ON devices
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('device', NEW.id); END;
CREATE TRIGGER devices_delete_logs AFTER DELETE ON devices
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('device', OLD.id); END;
CREATE TRIGGER workplaces_insert_logs AFTER INSERT ON workplaces
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('workplace', NEW.id); END;
CREATE TRIGGER workplaces_update_logs AFTER UPDATE ON workplaces
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('workplace', NEW.id); END;
CREATE TRIGGER workplaces_delete_logs AFTER DELETE ON workplaces
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('workplace', OLD.id); END;
CREATE TRIGGER workplace_allowed_users_insert_logs AFTER INSERT ON workplace_allowed_users
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('workplace', NEW.workplace_id); END;
CREATE TRIGGER workplace_allowed_users_update_logs AFTER UPDATE ON workplace_allowed_users
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('workplace', NEW.workplace_id); END;
CREATE TRIGGER workplace_allowed_users_delete_logs AFTER DELETE ON workplace_allowed_users
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('workplace', OLD.workplace_id); END;
CREATE TRIGGER workplace_allowed_roles_insert_logs AFTER INSERT ON workplace_allowed_roles
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('workplace', NEW.workplace_id); END;
CREATE TRIGGER workplace_allowed_roles_update_logs AFTER UPDATE ON workplace_allowed_roles
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('workplace', NEW.workplace_id); END;
CREATE TRIGGER workplace_allowed_roles_delete_logs AFTER DELETE ON workplace_allowed_roles
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('workplace', OLD.workplace_id); END;
CREATE TRIGGER followme_insert_logs AFTER INSERT ON followme
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('followme', NEW.device_id); END;
CREATE TRIGGER followme_update_logs AFTER UPDATE ON followme
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('followme', NEW.device_id); END;
CREATE TRIGGER followme_delete_logs AFTER DELETE ON followme
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('followme', OLD.device_id); END;
CREATE TRIGGER user_fax_insert_logs AFTER INSERT ON user_fax
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('fax', NEW.user_id); END;
CREATE TRIGGER user_fax_update_logs AFTER UPDATE ON user_fax
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('fax', NEW.user_id); END;
CREATE TRIGGER user_fax_delete_logs AFTER DELETE ON user_fax
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('fax', OLD.user_id); END;
CREATE TRIGGER voicemail_boxes_insert_logs AFTER INSERT ON voicemail_boxes
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('voicemail', NEW.user_id); END;
CREATE TRIGGER voicemail_boxes_update_logs AFTER UPDATE ON voicemail_boxes
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('voicemail', NEW.user_id); END;
CREATE TRIGGER voicemail_boxes_delete_logs AFTER DELETE ON voicemail_boxes
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('voicemail', OLD.user_id); END;
CREATE TRIGGER forwardings_insert_logs AFTER INSERT ON forwardings
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('forwarding', NEW.user_id); END;
CREATE TRIGGER forwardings_update_logs AFTER UPDATE ON forwardings
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('forwarding', NEW.user_id); END;
CREATE TRIGGER forwardings_delete_logs AFTER DELETE ON forwardings
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('forwarding', OLD.user_id); END;
CREATE TRIGGER actions_insert_logs AFTER INSERT ON actions
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('action', NEW.user_id); END;
CREATE TRIGGER actions_update_logs AFTER UPDATE ON actions
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('action', NEW.user_id); END;
CREATE TRIGGER actions_delete_logs AFTER DELETE ON actions
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('action', OLD.user_id); END;
CREATE TRIGGER phonebook_insert_logs AFTER INSERT ON phonebook
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('phonebook', NEW.id); END;
CREATE TRIGGER phonebook_update_logs AFTER UPDATE ON phonebook
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('phonebook', NEW.id); END;
CREATE TRIGGER phonebook_delete_logs AFTER DELETE ON phonebook
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('phonebook', OLD.id); END;
CREATE TRIGGER user_phonebook_insert_logs AFTER INSERT ON user_phonebook
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('user', NEW.user_id); END;
CREATE TRIGGER user_phonebook_update_logs AFTER UPDATE ON user_phonebook
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('user', NEW.user_id); END;
CREATE TRIGGER user_phonebook_delete_logs AFTER DELETE ON user_phonebook
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('user', OLD.user_id); END;
CREATE TRIGGER firmware_models_insert_logs AFTER INSERT ON firmware_models
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('firmware', NEW.rowid); END;
CREATE TRIGGER firmware_models_update_logs AFTER UPDATE ON firmware_models
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('firmware', NEW.rowid); END;
CREATE TRIGGER firmware_models_delete_logs AFTER DELETE ON firmware_models
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('firmware', OLD.rowid); END;
CREATE TRIGGER action_templates_insert_logs AFTER INSERT ON action_templates
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('action_template', NEW.id); END;
CREATE TRIGGER action_templates_update_logs AFTER UPDATE ON action_templates
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('action_template', NEW.id); END;
CREATE TRIGGER action_templates_delete_logs AFTER DELETE ON action_templates
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('action_template', OLD.id); END;
CREATE TRIGGER action_template_steps_insert_logs AFTER INSERT ON action_template_steps
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('action_template', NEW.template_id); END;
CREATE TRIGGER action_template_steps_update_logs AFTER UPDATE ON action_template_steps
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('action_template', NEW.template_id); END;
CREATE TRIGGER action_template_steps_delete_logs AFTER DELETE ON action_template_steps
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('action_template', OLD.template_id); END;
CREATE TRIGGER speed_dials_insert_logs AFTER INSERT ON speed_dials
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('speed_dial', NEW.id); END;
CREATE TRIGGER speed_dials_update_logs AFTER UPDATE ON speed_dials
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('speed_dial', NEW.id); END;
CREATE TRIGGER speed_dials_delete_logs AFTER DELETE ON speed_dials
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('speed_dial', OLD.id); END;
