-- zentrale schema, version 1. Portable SQL: the same statements are meant for PostgreSQL
-- (BIGINT ids, 0/1 booleans read as bool, unix-second timestamps), only the id column
-- syntax differs per engine.

-- Admin accounts that are not phone users (bootstrapped with `zentrale admin create`).
CREATE TABLE admins (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- API bearer tokens; only their SHA-256 is stored.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    principal  TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A user's voicemail mode, softphone, mobile number and fax extension are not columns: they are
-- read from the actions and devices they created, so they cannot disagree with them.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    extension     TEXT,
    auth          TEXT NOT NULL,
    password_hash TEXT,
    pin_hash      TEXT,
    email         TEXT,
    language      TEXT NOT NULL,
    role          TEXT,
    cid_number    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Every dialable number in one table, so an extension is unique across users, fax devices,
-- devices and teams by the primary key alone.
CREATE TABLE numbers (
    number     TEXT PRIMARY KEY,
    owner_kind TEXT NOT NULL,
    owner_id   BIGINT NOT NULL
);
CREATE INDEX numbers_owner ON numbers (owner_kind, owner_id);

CREATE TABLE voicemail_boxes (
    user_id           BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    keep_messages     BOOLEAN NOT NULL,
    email             TEXT,
    monitored_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE user_phonebook (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL,
    extra   TEXT NOT NULL
);

CREATE TABLE workplaces (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    current_user_id BIGINT UNIQUE REFERENCES users (id) ON DELETE SET NULL,
    logged_in_at    BIGINT,
    created_at      BIGINT NOT NULL
);

CREATE TABLE workplace_allowed_users (
    workplace_id BIGINT NOT NULL REFERENCES workplaces (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (workplace_id, user_id)
);

CREATE TABLE workplace_allowed_roles (
    workplace_id BIGINT NOT NULL REFERENCES workplaces (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    PRIMARY KEY (workplace_id, role)
);

-- A device belongs to one user, one workplace, or nobody.
CREATE TABLE devices (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    kind               TEXT NOT NULL,
    mac                TEXT UNIQUE,
    vendor             TEXT,
    model              TEXT,
    label              TEXT NOT NULL,
    number             TEXT,
    sip_username       TEXT NOT NULL UNIQUE,
    sip_password       TEXT NOT NULL,
    token              TEXT NOT NULL UNIQUE,
    owner_user_id      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    owner_workplace_id BIGINT REFERENCES workplaces (id) ON DELETE SET NULL,
    prov_state         TEXT NOT NULL,
    enroll_until       BIGINT,
    firmware           TEXT,
    last_ip            TEXT,
    last_seen          BIGINT,
    created_at         BIGINT NOT NULL,
    CHECK (owner_user_id IS NULL OR owner_workplace_id IS NULL)
);
CREATE INDEX devices_owner_user ON devices (owner_user_id);
CREATE INDEX devices_owner_workplace ON devices (owner_workplace_id);

-- FollowMe of an assigned device, for its owner (user or workplace).
CREATE TABLE followme (
    device_id         BIGINT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    user_configurable BOOLEAN NOT NULL,
    internal_enabled  BOOLEAN NOT NULL,
    internal_wait     BIGINT NOT NULL,
    internal_timeout  BIGINT NOT NULL,
    external_enabled  BOOLEAN NOT NULL,
    external_wait     BIGINT NOT NULL,
    external_timeout  BIGINT NOT NULL,
    team_enabled      BOOLEAN NOT NULL,
    team_wait         BIGINT NOT NULL,
    team_timeout      BIGINT NOT NULL
);

CREATE TABLE user_fax (
    user_id   BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    device_id BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    extension TEXT NOT NULL,
    email     TEXT,
    header_id TEXT,
    format    TEXT NOT NULL
);

CREATE TABLE forwardings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    condition  TEXT NOT NULL,
    target     TEXT NOT NULL,
    active     BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX forwardings_user ON forwardings (user_id);

CREATE TABLE actions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope    TEXT NOT NULL,
    timing   TEXT NOT NULL,
    kind     TEXT NOT NULL,
    target   TEXT,
    position BIGINT NOT NULL
);
CREATE INDEX actions_user ON actions (user_id);

CREATE TABLE phonebook (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    name    TEXT NOT NULL,
    number  TEXT NOT NULL,
    company TEXT,
    extra   TEXT NOT NULL
);
