-- Version 9: teams [Team] (issue 12). A call to a team rings its members' devices with their
-- team FollowMe [Warten/Läuten Agent]; a device's own team ring time overrides the team's.
-- The team's extension is claimed in `numbers` (owner_kind 'team'), so it can never shadow a
-- user's extension, a fax extension or a speed dial.
CREATE TABLE teams (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    extension      TEXT NOT NULL,
    -- Seconds a member's device rings when its own team timeout does not say otherwise.
    ring_time_secs BIGINT NOT NULL,
    -- 1: all members at once; 0: one after another in `position` order.
    ring_all       BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL
);

-- Members in hunt order. Deleting a user removes them from every team (and logs the change).
CREATE TABLE team_members (
    team_id  BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id),
    UNIQUE (team_id, position)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TRIGGER teams_insert_logs AFTER INSERT ON teams
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('team', NEW.id); END;
CREATE TRIGGER teams_update_logs AFTER UPDATE ON teams
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('team', NEW.id); END;
CREATE TRIGGER teams_delete_logs AFTER DELETE ON teams
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('team', OLD.id); END;
CREATE TRIGGER team_members_insert_logs AFTER INSERT ON team_members
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('team', NEW.team_id); END;
CREATE TRIGGER team_members_update_logs AFTER UPDATE ON team_members
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('team', NEW.team_id); END;
CREATE TRIGGER team_members_delete_logs AFTER DELETE ON team_members
BEGIN INSERT INTO change_log (entity, entity_id) VALUES ('team', OLD.team_id); END;
