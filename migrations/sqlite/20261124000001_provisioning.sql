-- Provisioning, version 2: per-device provisioning credentials, what each phone last fetched,
-- and which firmware file the admin chose per vendor and model.

-- Installed on the phone by its first full config; its later fetches must carry them.
ALTER TABLE devices ADD COLUMN prov_username TEXT;
ALTER TABLE devices ADD COLUMN prov_password TEXT;
UPDATE devices SET prov_username = lower(hex(randomblob(6))),
                   prov_password = lower(hex(randomblob(16)));

-- Written in batches by the provisioning server; kept apart from devices so recording a fetch
-- does not count as a change of any phone's config.
CREATE TABLE device_fetches (
    device_id  BIGINT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    ip         TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    file       TEXT NOT NULL,
    user_agent TEXT,
    model      TEXT,
    firmware   TEXT
);

CREATE TABLE firmware_models (
    vendor TEXT NOT NULL,
    model  TEXT NOT NULL,
    file   TEXT NOT NULL,
    PRIMARY KEY (vendor, model)
);
