-- The allow and deny lists of torrents, shared by every octotracker process on this database
-- (`--allow-list backend`, `--deny-list backend`; changed through the admin API, read by every
-- process on its reload interval).
CREATE TABLE hash_lists (
    list      text  NOT NULL CHECK (list IN ('allow', 'deny')),
    info_hash bytea NOT NULL CHECK (length(info_hash) = 20),
    PRIMARY KEY (list, info_hash)
);
