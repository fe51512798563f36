-- Menu key, version 3: phones whose config a workplace login or logout changed. The SIP work
-- reads this to send each a NOTIFY (the vendor manifest's notify_event); the row goes away when
-- the phone fetches a config rendered after the change (store generation above `generation`).
-- Kept apart from devices so marking and clearing do not count as a change of any config.
CREATE TABLE device_resync (
    device_id  BIGINT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    since      BIGINT NOT NULL,
    generation BIGINT NOT NULL
);
