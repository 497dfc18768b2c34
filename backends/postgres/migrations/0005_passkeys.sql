-- The passkeys of a private tracker, shared by every octotracker process on this database
-- (`octotracker keys add|revoke|list`, `--passkeys backend`). A revoked key keeps its row (and,
-- later, its transfer totals) with the time it was revoked; issuing it again makes it valid.
CREATE TABLE passkeys (
    passkey text   PRIMARY KEY CHECK (passkey ~ '^[A-Za-z0-9_-]{1,64}$'),
    created bigint NOT NULL, -- unix seconds
    revoked bigint           -- unix seconds; NULL while the key is valid
);

-- Ratio tracking: what each key's peers reported in total (BEP 3 `uploaded`, `downloaded`),
-- accumulated from the deltas between one announce and the next of the same peer.
ALTER TABLE passkeys
    ADD COLUMN uploaded   bigint NOT NULL DEFAULT 0,
    ADD COLUMN downloaded bigint NOT NULL DEFAULT 0;

-- The counters each peer of each key reported last (deltas are taken against them); a row goes
-- with expiry, like the peer. Logged: totals must not double after a crash.
CREATE TABLE passkey_peers (
    passkey    text    NOT NULL REFERENCES passkeys ON DELETE CASCADE,
    info_hash  bytea   NOT NULL,
    ip         inet    NOT NULL,
    port       integer NOT NULL,
    uploaded   bigint  NOT NULL,
    downloaded bigint  NOT NULL,
    last_seen  bigint  NOT NULL, -- unix seconds
    PRIMARY KEY (passkey, info_hash, ip, port)
);
CREATE INDEX passkey_peers_last_seen ON passkey_peers (last_seen);
