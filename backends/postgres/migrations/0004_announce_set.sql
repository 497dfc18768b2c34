-- Set-based batches and stored counts.
--
-- 1. swarm_counts: seeders and leechers of each swarm, kept by triggers on peers in the same
--    transaction as every change of a peer row (whoever makes it: announces, expiry, an older
--    octotracker during a rolling upgrade, an operator's SQL). Counts are read in O(1) instead
--    of counting the swarm; they cannot drift from the rows. UNLOGGED like peers: a crash of
--    PostgreSQL empties both together.
-- 2. cheap refreshes: a re-announce changes only columns no index covers (peer_id, seeder,
--    last_seen, prev_seeder), so PostgreSQL writes the new row version on the same page without
--    index entries (a HOT update) instead of adding an entry to every index. The indexes on
--    (info_hash, seeder) and (last_seen) go (counts come from swarm_counts; expiry scans the
--    table, O(peers) per sweep), slot is drawn once when the peer is stored, and pages keep room
--    for the new row versions (fillfactor).
-- 3. octotracker_announce_set applies the announces of one lane call with a few statements over
--    the whole batch (unnest of the arrays) instead of a loop of per-announce statements
--    (octotracker_announce_batch, migration 0003, stays for older processes and as the fallback
--    below).

LOCK TABLE peers IN SHARE ROW EXCLUSIVE MODE;

CREATE UNLOGGED TABLE swarm_counts (
    info_hash bytea  PRIMARY KEY,
    seeders   bigint NOT NULL,
    leechers  bigint NOT NULL
);

INSERT INTO swarm_counts (info_hash, seeders, leechers)
SELECT p.info_hash, count(*) FILTER (WHERE p.seeder), count(*) FILTER (WHERE NOT p.seeder)
FROM peers p GROUP BY p.info_hash;

-- One row changed: add it to its swarm's counts, take its previous version away.
CREATE FUNCTION octotracker_count_peer() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.info_hash = NEW.info_hash THEN
        UPDATE swarm_counts c
            SET seeders = c.seeders + NEW.seeder::integer - OLD.seeder::integer,
                leechers = c.leechers + (NOT NEW.seeder)::integer - (NOT OLD.seeder)::integer
            WHERE c.info_hash = NEW.info_hash;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO swarm_counts AS c (info_hash, seeders, leechers)
            VALUES (NEW.info_hash, NEW.seeder::integer, (NOT NEW.seeder)::integer)
            ON CONFLICT (info_hash) DO UPDATE
            SET seeders = c.seeders + EXCLUDED.seeders, leechers = c.leechers + EXCLUDED.leechers;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE swarm_counts c
            SET seeders = c.seeders - OLD.seeder::integer, leechers = c.leechers - (NOT OLD.seeder)::integer
            WHERE c.info_hash = OLD.info_hash;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION octotracker_count_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM swarm_counts;
    RETURN NULL;
END;
$$;

CREATE TRIGGER peers_count_insert AFTER INSERT ON peers
    FOR EACH ROW EXECUTE FUNCTION octotracker_count_peer();
CREATE TRIGGER peers_count_delete AFTER DELETE ON peers
    FOR EACH ROW EXECUTE FUNCTION octotracker_count_peer();
CREATE TRIGGER peers_count_update AFTER UPDATE OF info_hash, seeder ON peers
    FOR EACH ROW WHEN (OLD.info_hash IS DISTINCT FROM NEW.info_hash OR OLD.seeder IS DISTINCT FROM NEW.seeder)
    EXECUTE FUNCTION octotracker_count_peer();
CREATE TRIGGER peers_count_truncate AFTER TRUNCATE ON peers
    FOR EACH STATEMENT EXECUTE FUNCTION octotracker_count_truncate();

-- The role a refresh replaced (set by octotracker_announce_set, null until then).
ALTER TABLE peers ADD COLUMN prev_seeder boolean;

DROP INDEX peers_swarm_seeder;
DROP INDEX peers_last_seen;
ALTER TABLE peers SET (fillfactor = 80);

-- Scrape from the stored counts (same signature as migration 0003).
CREATE OR REPLACE FUNCTION octotracker_scrape(p_hashes bytea[])
RETURNS TABLE (complete bigint, incomplete bigint, downloaded bigint)
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
    SELECT coalesce(c.seeders, 0), coalesce(c.leechers, 0), coalesce(t.downloaded, 0)
    FROM unnest(p_hashes) WITH ORDINALITY AS h(info_hash, ord)
    LEFT JOIN swarm_counts c ON c.info_hash = h.info_hash
    LEFT JOIN torrents t ON t.info_hash = h.info_hash
    ORDER BY h.ord
$$;

-- Precondition (the caller ensures it, the function checks it): a peer, (info hash, address,
-- port), appears at most once in a batch. A batch that breaks it is handed to
-- octotracker_announce_batch, which applies its announces one by one.
--
-- Each announce of the batch is applied as if alone, in the order of the arrays:
--   1. one statement refreshes the stored peers (rows locked in (hash, ip, port) order; each
--      refresh returns the role it replaced, from prev_seeder, read in the locked row: a
--      concurrent batch of another process waits, then reads this one's result, so a completed
--      counts once), deletes the stopped peers, inserts the new ones (a row inserted meanwhile by
--      another process is refreshed: an unknown peer, it counts no download), creates the rows
--      of new swarms and adds the downloads counted (a completed from a peer stored as a
--      leecher); the triggers keep swarm_counts;
--   2. the reply of each announce: the swarm's counts after the batch minus the changes of the
--      announces after it in the same swarm (so each reply holds the counts just after its own
--      announce, as a loop would), the download count likewise, and up to want peers: the whole
--      swarm in one index range when it is no larger than want, else a window of slots from a
--      random start, wrapping around. The peers come packed in one bytea, each as
--      inet_send(ip) (4 header bytes, then 4 or 16 address bytes), int4send(port), peer_id
--      (20 bytes): one value to build and decode instead of three arrays.
--
-- Only nested loops over the arrays and index lookups: the plans are cached per connection,
-- and a plan made while the tables were small must not scan them whole once they have grown.
CREATE FUNCTION octotracker_announce_set(
    p_hashes bytea[], p_ips inet[], p_ports integer[], p_peer_ids bytea[], p_seeders boolean[],
    p_stopped boolean[], p_completed boolean[], p_nows bigint[], p_wants integer[]
) RETURNS TABLE (
    ord integer, peers bytea, complete bigint, incomplete bigint, downloaded bigint
) LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off AS $$
DECLARE
    -- The role of each announce's peer before the batch (by position): null when not stored.
    was boolean[];
BEGIN
    IF (SELECT count(DISTINCT (k.h, k.ip, k.port)) <> count(*)
        FROM unnest(p_hashes, p_ips, p_ports) AS k(h, ip, port)) THEN
        RETURN QUERY
        SELECT b.ord,
               coalesce((SELECT string_agg(inet_send(u.ip) || int4send(u.port) || u.id, ''::bytea)
                         FROM unnest(b.peer_ips, b.peer_ports, b.peer_ids) AS u(ip, port, id)), ''::bytea),
               b.complete, b.incomplete, b.downloaded
        FROM octotracker_announce_batch(p_hashes, p_ips, p_ports, p_peer_ids,
            p_seeders, p_stopped, p_completed, p_nows, p_wants) b;
        RETURN;
    END IF;

    -- 1. Apply the batch: refresh the stored peers (in key order, so that concurrent batches
    -- lock rows in one order), delete the stopped ones, insert the new ones, create the rows of
    -- new swarms and count the downloads. prev_seeder keeps the role a refresh replaced: the
    -- refresh returns the role before it, read from the row it locked.
    WITH a AS MATERIALIZED (
        SELECT a.*
        FROM unnest(p_hashes, p_ips, p_ports, p_peer_ids, p_seeders, p_stopped, p_completed, p_nows)
             WITH ORDINALITY AS a(h, ip, port, peer_id, seeder, stopped, completed, now, ord)
        ORDER BY a.h, a.ip, a.port
    ), kept AS (
        UPDATE peers p
        SET peer_id = a.peer_id, seeder = a.seeder, last_seen = a.now, prev_seeder = p.seeder
        FROM a
        WHERE NOT a.stopped AND p.info_hash = a.h AND p.ip = a.ip AND p.port = a.port
        RETURNING a.ord, p.prev_seeder AS was_seeder, (a.completed AND NOT p.prev_seeder) AS counted
    ), gone AS (
        DELETE FROM peers p USING a
        WHERE a.stopped AND p.info_hash = a.h AND p.ip = a.ip AND p.port = a.port
        RETURNING a.ord, p.seeder AS was_seeder
    ), added AS (
        -- A row inserted meanwhile by another process is refreshed: an unknown peer to this
        -- batch, it counts no download.
        INSERT INTO peers AS p (info_hash, ip, port, peer_id, seeder, last_seen, slot)
        SELECT a.h, a.ip, a.port, a.peer_id, a.seeder, a.now, floor(random() * 2147483647)::integer
        FROM a WHERE NOT a.stopped AND NOT EXISTS (SELECT 1 FROM kept k WHERE k.ord = a.ord)
        ON CONFLICT (info_hash, ip, port) DO UPDATE
        SET peer_id = EXCLUDED.peer_id, seeder = EXCLUDED.seeder, last_seen = EXCLUDED.last_seen,
            prev_seeder = p.seeder
    ), downloads AS (
        INSERT INTO torrents AS t (info_hash, downloaded, first_seen, last_seen)
        SELECT s.h, s.counted, s.now, s.now
        FROM (SELECT a.h, count(*) FILTER (WHERE k.counted) AS counted, max(a.now) AS now
              FROM a LEFT JOIN kept k ON k.ord = a.ord
              WHERE NOT a.stopped GROUP BY a.h) s
        LEFT JOIN torrents e ON e.info_hash = s.h
        WHERE s.counted > 0 OR e.info_hash IS NULL
        ORDER BY s.h
        ON CONFLICT (info_hash) DO UPDATE
        SET downloaded = t.downloaded + EXCLUDED.downloaded,
            last_seen = greatest(t.last_seen, EXCLUDED.last_seen)
    )
    SELECT array_agg(o.was_seeder ORDER BY a.ord) INTO was
    FROM a LEFT JOIN (SELECT k.ord, k.was_seeder FROM kept k
                      UNION ALL SELECT g.ord, g.was_seeder FROM gone g) o ON o.ord = a.ord;

    -- 2. The replies.
    RETURN QUERY
    WITH a AS (
        SELECT a.*, floor(random() * 2147483647)::integer AS start,
               (NOT a.stopped AND a.seeder)::integer - (was[a.ord] IS TRUE)::integer AS d_seeders,
               (NOT a.stopped AND NOT a.seeder)::integer - (was[a.ord] IS FALSE)::integer AS d_leechers,
               (a.completed AND NOT a.stopped AND was[a.ord] IS FALSE)::integer AS d_downloaded
        FROM unnest(p_hashes, p_ips, p_ports, p_seeders, p_stopped, p_completed, p_wants)
             WITH ORDINALITY AS a(h, ip, port, seeder, stopped, completed, want, ord)
    ), l AS (
        -- What the announces after each one, in the same swarm, changed.
        SELECT a.*,
               coalesce(sum(a.d_seeders) OVER w, 0) AS l_seeders,
               coalesce(sum(a.d_leechers) OVER w, 0) AS l_leechers,
               coalesce(sum(a.d_downloaded) OVER w, 0) AS l_downloaded
        FROM a
        WINDOW w AS (PARTITION BY a.h ORDER BY a.ord ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
    )
    SELECT l.ord::integer, coalesce(sel.packed, ''::bytea),
           greatest(coalesce(c.seeders, 0) - l.l_seeders, 0)::bigint,
           greatest(coalesce(c.leechers, 0) - l.l_leechers, 0)::bigint,
           greatest(coalesce(t.downloaded, 0) - l.l_downloaded, 0)::bigint
    FROM l
    LEFT JOIN swarm_counts c ON c.info_hash = l.h
    LEFT JOIN torrents t ON t.info_hash = l.h
    LEFT JOIN LATERAL (
        SELECT string_agg(inet_send(x.ip) || int4send(x.port) || x.peer_id, ''::bytea) AS packed
        FROM (
            -- A swarm no larger than want: every eligible peer, one index range.
            (SELECT p.ip, p.port, p.peer_id FROM peers p
                WHERE l.want > 0 AND coalesce(c.seeders + c.leechers, 0) <= l.want
                  AND p.info_hash = l.h AND family(p.ip) = family(l.ip)
                  AND NOT (p.seeder AND l.seeder) AND NOT (p.ip = l.ip AND p.port = l.port)
                LIMIT l.want)
            UNION ALL
            -- Larger: the slots from a random start, wrapping around.
            (SELECT p.ip, p.port, p.peer_id FROM peers p
                WHERE l.want > 0 AND c.seeders + c.leechers > l.want
                  AND p.info_hash = l.h AND p.slot >= l.start AND family(p.ip) = family(l.ip)
                  AND NOT (p.seeder AND l.seeder) AND NOT (p.ip = l.ip AND p.port = l.port)
                ORDER BY p.slot LIMIT l.want)
            UNION ALL
            (SELECT p.ip, p.port, p.peer_id FROM peers p
                WHERE l.want > 0 AND c.seeders + c.leechers > l.want
                  AND p.info_hash = l.h AND p.slot < l.start AND family(p.ip) = family(l.ip)
                  AND NOT (p.seeder AND l.seeder) AND NOT (p.ip = l.ip AND p.port = l.port)
                ORDER BY p.slot LIMIT l.want)
            LIMIT l.want
        ) x
    ) sel ON true
    ORDER BY l.ord;
END;
$$;
