-- Version 7: where registered phones are. The registrar keeps its bindings in memory and writes
-- them here behind itself, in batches (at most a second late), so a restart or a kill -9 does
-- not leave every phone unreachable until its next refresh. Runtime state: no change-log
-- trigger, so writing it never makes phone configs render again.
CREATE TABLE sip_bindings (
    device_id     BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    -- The Contact URI exactly as registered (its parameters and escapes kept).
    contact       TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    -- 'udp' or 'tcp', the source address it came from (after NAT), our address it reached.
    transport     TEXT NOT NULL,
    source        TEXT NOT NULL,
    local         TEXT NOT NULL,
    user_agent    TEXT,
    call_id       TEXT NOT NULL,
    cseq          BIGINT NOT NULL,
    q             TEXT,
    registered_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, contact)
);
