-- The passkeys of a private tracker, shared by every octotracker process on this database
-- (`octotracker keys add|revoke|list`, `--passkeys backend`). A revoked key keeps its row (and,
-- later, its transfer totals) with the time it was revoked; issuing it again makes it valid.
CREATE TABLE passkeys (
    passkey text   PRIMARY KEY CHECK (passkey ~ '^[A-Za-z0-9_-]{1,64}$'),
    created bigint NOT NULL, -- unix seconds
    revoked bigint           -- unix seconds; NULL while the key is valid
);
