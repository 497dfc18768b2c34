-- One announce: octotracker_announce applies it atomically and returns the chosen peers and the
-- swarm's counts after it (contract rules 1 to 4). octotracker calls it through
-- octotracker_announce_batch (migration 0003): one round trip for the announces queued together.

CREATE FUNCTION octotracker_announce(
    p_hash bytea, p_ip inet, p_port integer, p_peer_id bytea, p_seeder boolean,
    p_stopped boolean, p_completed boolean, p_now bigint, p_want integer,
    OUT peer_ips inet[], OUT peer_ports integer[], OUT peer_ids bytea[],
    OUT complete bigint, OUT incomplete bigint, OUT downloaded bigint
) LANGUAGE plpgsql AS $$
DECLARE
    was_seeder boolean;
    counted integer := 0;
    start_slot integer := floor(random() * 2147483647)::integer;
BEGIN
    IF p_stopped THEN
        DELETE FROM peers p WHERE p.info_hash = p_hash AND p.ip = p_ip AND p.port = p_port;
        SELECT t.downloaded INTO downloaded FROM torrents t WHERE t.info_hash = p_hash;
    ELSE
        -- Update the stored peer, reading its role before this announce from the same row,
        -- locked: a concurrent announce of the same peer waits here and then sees this one's
        -- result, so a completed counts at most once.
        UPDATE peers p
            SET peer_id = p_peer_id, seeder = p_seeder, last_seen = p_now, slot = start_slot
            FROM (SELECT o.seeder FROM peers o
                  WHERE o.info_hash = p_hash AND o.ip = p_ip AND o.port = p_port FOR UPDATE) old
            WHERE p.info_hash = p_hash AND p.ip = p_ip AND p.port = p_port
            RETURNING old.seeder INTO was_seeder;
        IF NOT FOUND THEN
            -- A new peer (or one inserted by a concurrent announce: then updated).
            INSERT INTO peers AS p (info_hash, ip, port, peer_id, seeder, last_seen, slot)
                VALUES (p_hash, p_ip, p_port, p_peer_id, p_seeder, p_now, start_slot)
                ON CONFLICT (info_hash, ip, port) DO UPDATE
                SET peer_id = EXCLUDED.peer_id, seeder = EXCLUDED.seeder, last_seen = EXCLUDED.last_seen,
                    slot = EXCLUDED.slot;
        ELSIF p_completed AND NOT was_seeder THEN
            counted := 1;
        END IF;
        IF counted = 1 THEN
            INSERT INTO torrents AS t (info_hash, downloaded, first_seen, last_seen)
                VALUES (p_hash, 1, p_now, p_now)
                ON CONFLICT (info_hash) DO UPDATE
                SET downloaded = t.downloaded + 1, last_seen = greatest(t.last_seen, EXCLUDED.last_seen)
                RETURNING t.downloaded INTO downloaded;
        ELSE
            -- The swarm's row, created once: most announces only read it (no write, no lock).
            SELECT t.downloaded INTO downloaded FROM torrents t WHERE t.info_hash = p_hash;
            IF NOT FOUND THEN
                INSERT INTO torrents (info_hash, downloaded, first_seen, last_seen)
                    VALUES (p_hash, 0, p_now, p_now) ON CONFLICT (info_hash) DO NOTHING;
            END IF;
        END IF;
    END IF;
    downloaded := coalesce(downloaded, 0);
    SELECT count(*) FILTER (WHERE p.seeder), count(*) FILTER (WHERE NOT p.seeder)
        INTO complete, incomplete FROM peers p WHERE p.info_hash = p_hash;

    peer_ips := '{}'; peer_ports := '{}'; peer_ids := '{}';
    IF p_want > 0 AND complete + incomplete <= p_want THEN
        -- A swarm no larger than p_want: every other peer of the announcer's family (leechers
        -- only for a seeder), one index range (most swarms are this small).
        SELECT coalesce(array_agg(p.ip), '{}'), coalesce(array_agg(p.port), '{}'), coalesce(array_agg(p.peer_id), '{}')
            INTO peer_ips, peer_ports, peer_ids
            FROM (SELECT p.ip, p.port, p.peer_id FROM peers p
                  WHERE p.info_hash = p_hash AND family(p.ip) = family(p_ip) AND NOT (p.seeder AND p_seeder)
                    AND NOT (p.ip = p_ip AND p.port = p_port)
                  LIMIT p_want) p;
    ELSIF p_want > 0 THEN
        -- Up to p_want other peers of the announcer's family (a seeder gets leechers only): the
        -- slots from a random start, wrapping around to the lowest slots.
        SELECT coalesce(array_agg(c.ip), '{}'), coalesce(array_agg(c.port), '{}'), coalesce(array_agg(c.peer_id), '{}')
            INTO peer_ips, peer_ports, peer_ids
            FROM (
                (SELECT p.ip, p.port, p.peer_id FROM peers p
                    WHERE p.info_hash = p_hash AND p.slot >= start_slot
                      AND family(p.ip) = family(p_ip) AND NOT (p.seeder AND p_seeder)
                      AND NOT (p.ip = p_ip AND p.port = p_port)
                    ORDER BY p.slot LIMIT p_want)
                UNION ALL
                (SELECT p.ip, p.port, p.peer_id FROM peers p
                    WHERE p.info_hash = p_hash AND p.slot < start_slot
                      AND family(p.ip) = family(p_ip) AND NOT (p.seeder AND p_seeder)
                      AND NOT (p.ip = p_ip AND p.port = p_port)
                    ORDER BY p.slot LIMIT p_want)
                LIMIT p_want
            ) c;
    END IF;
END;
$$;
