-- Import, version 4: what the seed's extended import [Erweiterter Import] sets up beyond users,
-- phones and workplaces: action templates [Aktionsvorlagen] and speed dials [Kurzwahlen].

-- A named, ordered list of actions that any number of users share: changing the template
-- changes what happens to all of their calls.
CREATE TABLE action_templates (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE action_template_steps (
    template_id BIGINT NOT NULL REFERENCES action_templates (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    scope       TEXT NOT NULL,
    timing      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    target      TEXT,
    PRIMARY KEY (template_id, position)
);

-- The template a user follows for every (scope, timing) they have no own action for.
ALTER TABLE users ADD COLUMN action_template_id BIGINT REFERENCES action_templates (id) ON DELETE SET NULL;

-- A short number anyone can dial for a long one. Its code is claimed in `numbers`, so it can
-- never shadow an extension (owner_kind 'speed-dial').
CREATE TABLE speed_dials (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    code   TEXT NOT NULL UNIQUE,
    name   TEXT NOT NULL,
    number TEXT NOT NULL
);
