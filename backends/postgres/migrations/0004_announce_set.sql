-- Set-based batches: octotracker_announce_set applies the announces of one lane call with a
-- handful of statements over the whole batch (unnest of the arrays) instead of a loop of
-- per-announce statements (octotracker_announce_batch, migration 0003, which stays for older
-- processes during a rolling upgrade and as the fallback below).
--
-- Precondition (the caller ensures it, the function checks it): a peer, (info hash, address,
-- port), appears at most once in a batch. A batch that breaks it is handed to
-- octotracker_announce_batch, which applies its announces one by one.
--
-- Each announce of the batch is applied as if alone, in the order of the arrays:
--   1. the stored rows of the batch's peers are locked FOR UPDATE in (hash, ip, port) order and
--      their roles before the batch read (a concurrent batch of another process waits, then
--      reads this one's result: a completed counts once);
--   2. one statement deletes the stopped peers (stored or not at step 1), updates the stored ones, inserts the new ones
--      (a row inserted meanwhile by another process is updated: an unknown peer, it counts no
--      download), creates the rows of new swarms and adds the downloads counted (a completed
--      from a peer stored as a leecher before the batch);
--   3. the reply of each announce: the swarm's counts after the batch minus the changes of the
--      announces after it in the same swarm (so each reply holds the counts just after its own
--      announce, as a loop would), the download count likewise, and up to want peers chosen as
--      before (a window of slots from a random start; the whole swarm in one range when it is
--      no larger than want).

CREATE FUNCTION octotracker_announce_set(
    p_hashes bytea[], p_ips inet[], p_ports integer[], p_peer_ids bytea[], p_seeders boolean[],
    p_stopped boolean[], p_completed boolean[], p_nows bigint[], p_wants integer[]
) RETURNS TABLE (
    ord integer, peer_ips inet[], peer_ports integer[], peer_ids bytea[],
    complete bigint, incomplete bigint, downloaded bigint
) LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    old_ords bigint[];
    old_seeders boolean[];
BEGIN
    IF (SELECT count(DISTINCT (k.h, k.ip, k.port)) <> count(*)
        FROM unnest(p_hashes, p_ips, p_ports) AS k(h, ip, port)) THEN
        RETURN QUERY SELECT * FROM octotracker_announce_batch(p_hashes, p_ips, p_ports, p_peer_ids,
            p_seeders, p_stopped, p_completed, p_nows, p_wants);
        RETURN;
    END IF;

    -- 1. Lock the stored peers of the batch, in key order, and read their roles.
    SELECT coalesce(array_agg(l.ord), '{}'), coalesce(array_agg(l.seeder), '{}')
        INTO old_ords, old_seeders
        FROM (SELECT a.ord, o.seeder
              FROM unnest(p_hashes, p_ips, p_ports) WITH ORDINALITY AS a(h, ip, port, ord)
              JOIN peers o ON o.info_hash = a.h AND o.ip = a.ip AND o.port = a.port
              ORDER BY a.h, a.ip, a.port
              FOR UPDATE OF o) l;

    -- 2. Apply the batch.
    WITH a AS (
        SELECT a.*, o.seeder AS was_seeder,
               (a.completed AND NOT a.stopped AND o.seeder IS FALSE) AS counted
        FROM unnest(p_hashes, p_ips, p_ports, p_peer_ids, p_seeders, p_stopped, p_completed, p_nows)
             WITH ORDINALITY AS a(h, ip, port, peer_id, seeder, stopped, completed, now, ord)
        LEFT JOIN unnest(old_ords, old_seeders) AS o(ord, seeder) ON o.ord = a.ord
    ), gone AS (
        DELETE FROM peers p USING a
        WHERE a.stopped AND p.info_hash = a.h AND p.ip = a.ip AND p.port = a.port
    ), kept AS (
        UPDATE peers p
        SET peer_id = a.peer_id, seeder = a.seeder, last_seen = a.now,
            slot = floor(random() * 2147483647)::integer
        FROM a
        WHERE NOT a.stopped AND a.was_seeder IS NOT NULL
          AND p.info_hash = a.h AND p.ip = a.ip AND p.port = a.port
    ), added AS (
        INSERT INTO peers AS p (info_hash, ip, port, peer_id, seeder, last_seen, slot)
        SELECT a.h, a.ip, a.port, a.peer_id, a.seeder, a.now, floor(random() * 2147483647)::integer
        FROM a WHERE NOT a.stopped AND a.was_seeder IS NULL
        ON CONFLICT (info_hash, ip, port) DO UPDATE
        SET peer_id = EXCLUDED.peer_id, seeder = EXCLUDED.seeder, last_seen = EXCLUDED.last_seen,
            slot = EXCLUDED.slot
    )
    INSERT INTO torrents AS t (info_hash, downloaded, first_seen, last_seen)
    SELECT s.h, s.counted, s.now, s.now
    FROM (SELECT a.h, count(*) FILTER (WHERE a.counted) AS counted, max(a.now) AS now
          FROM a WHERE NOT a.stopped GROUP BY a.h) s
    WHERE s.counted > 0 OR NOT EXISTS (SELECT 1 FROM torrents e WHERE e.info_hash = s.h)
    ON CONFLICT (info_hash) DO UPDATE
    SET downloaded = t.downloaded + EXCLUDED.downloaded,
        last_seen = greatest(t.last_seen, EXCLUDED.last_seen);

    -- 3. The replies.
    RETURN QUERY
    WITH a AS (
        SELECT a.*, floor(random() * 2147483647)::integer AS start,
               (CASE WHEN NOT a.stopped AND a.seeder THEN 1 ELSE 0 END)
                 - (CASE WHEN o.seeder IS TRUE THEN 1 ELSE 0 END) AS d_seeders,
               (CASE WHEN NOT a.stopped AND NOT a.seeder THEN 1 ELSE 0 END)
                 - (CASE WHEN o.seeder IS FALSE THEN 1 ELSE 0 END) AS d_leechers,
               (a.completed AND NOT a.stopped AND o.seeder IS FALSE)::integer AS d_downloaded
        FROM unnest(p_hashes, p_ips, p_ports, p_seeders, p_stopped, p_completed, p_wants)
             WITH ORDINALITY AS a(h, ip, port, seeder, stopped, completed, want, ord)
        LEFT JOIN unnest(old_ords, old_seeders) AS o(ord, seeder) ON o.ord = a.ord
    ), later AS (
        -- What the announces after each one, in the same swarm, changed.
        SELECT a.*,
               coalesce(sum(a.d_seeders) OVER w, 0) AS l_seeders,
               coalesce(sum(a.d_leechers) OVER w, 0) AS l_leechers,
               coalesce(sum(a.d_downloaded) OVER w, 0) AS l_downloaded
        FROM a
        WINDOW w AS (PARTITION BY a.h ORDER BY a.ord ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
    ), swarm AS (
        SELECT s.h, c.seeders, c.leechers, coalesce(t.downloaded, 0) AS downloaded
        FROM (SELECT DISTINCT a.h FROM a) s
        CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE p.seeder) AS seeders,
                                   count(*) FILTER (WHERE NOT p.seeder) AS leechers
                            FROM peers p WHERE p.info_hash = s.h) c
        LEFT JOIN torrents t ON t.info_hash = s.h
    )
    SELECT l.ord::integer,
           coalesce(sel.ips, '{}'), coalesce(sel.ports, '{}'), coalesce(sel.ids, '{}'),
           s.seeders - l.l_seeders, s.leechers - l.l_leechers, s.downloaded - l.l_downloaded
    FROM later l
    JOIN swarm s ON s.h = l.h
    LEFT JOIN LATERAL (
        SELECT array_agg(c.ip) AS ips, array_agg(c.port) AS ports, array_agg(c.peer_id) AS ids
        FROM (
            -- A swarm no larger than want: every eligible peer, one index range.
            (SELECT p.ip, p.port, p.peer_id FROM peers p
                WHERE l.want > 0 AND s.seeders + s.leechers <= l.want
                  AND p.info_hash = l.h AND family(p.ip) = family(l.ip)
                  AND NOT (p.seeder AND l.seeder) AND NOT (p.ip = l.ip AND p.port = l.port)
                LIMIT l.want)
            UNION ALL
            -- Larger: the slots from a random start, wrapping around.
            (SELECT p.ip, p.port, p.peer_id FROM peers p
                WHERE l.want > 0 AND s.seeders + s.leechers > l.want
                  AND p.info_hash = l.h AND p.slot >= l.start AND family(p.ip) = family(l.ip)
                  AND NOT (p.seeder AND l.seeder) AND NOT (p.ip = l.ip AND p.port = l.port)
                ORDER BY p.slot LIMIT l.want)
            UNION ALL
            (SELECT p.ip, p.port, p.peer_id FROM peers p
                WHERE l.want > 0 AND s.seeders + s.leechers > l.want
                  AND p.info_hash = l.h AND p.slot < l.start AND family(p.ip) = family(l.ip)
                  AND NOT (p.seeder AND l.seeder) AND NOT (p.ip = l.ip AND p.port = l.port)
                ORDER BY p.slot LIMIT l.want)
            LIMIT l.want
        ) c
    ) sel ON true
    ORDER BY l.ord;
END;
$$;
