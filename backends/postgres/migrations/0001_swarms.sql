-- octotracker's storage: torrents (durable) and peers (ephemeral).

-- One row per swarm: its download count survives restarts and crashes (a logged table).
-- A row is created by the first announce that stores a peer and removed by expiry once the
-- swarm holds no peer (the storage contract: an empty swarm's count goes with it).
CREATE TABLE torrents (
    info_hash  bytea  PRIMARY KEY CHECK (length(info_hash) = 20),
    downloaded bigint NOT NULL DEFAULT 0,
    first_seen bigint NOT NULL, -- unix seconds
    last_seen  bigint NOT NULL  -- unix seconds, refreshed by the announces that change downloaded
);

-- The peers of every swarm, keyed by address and port within the swarm. UNLOGGED: no WAL per
-- announce. It survives a clean PostgreSQL restart; after a crash of PostgreSQL itself it is
-- emptied, and the peers come back with their next announce (one interval).
CREATE UNLOGGED TABLE peers (
    info_hash bytea    NOT NULL,
    ip        inet     NOT NULL,
    port      integer  NOT NULL,
    peer_id   bytea    NOT NULL,
    seeder    boolean  NOT NULL,
    last_seen bigint   NOT NULL, -- unix seconds
    slot      integer  NOT NULL, -- random, drawn at each announce: where selection windows start
    PRIMARY KEY (info_hash, ip, port)
);

-- Counts per swarm (index-only where the visibility map allows).
CREATE INDEX peers_swarm_seeder ON peers (info_hash, seeder);
-- Selection: a window of consecutive slots from a random start, O(want).
CREATE INDEX peers_swarm_slot ON peers (info_hash, slot);
-- Expiry: the peers last seen before a cutoff.
CREATE INDEX peers_last_seen ON peers (last_seen);
