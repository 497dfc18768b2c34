-- Many announces, one round trip: octotracker_announce_batch applies each announce in turn (in
-- one transaction), in (info hash, address, port) order so that concurrent batches take the peer
-- row locks in one order, and returns one row per announce with its position in the input.
--
-- enable_seqscan = off (for this call and the octotracker_announce calls inside): the plans of
-- plpgsql statements are cached per connection, and a plan made while the tables were nearly
-- empty would scan them whole long after they have grown. Every statement here has an index.

CREATE FUNCTION octotracker_announce_batch(
    p_hashes bytea[], p_ips inet[], p_ports integer[], p_peer_ids bytea[], p_seeders boolean[],
    p_stopped boolean[], p_completed boolean[], p_nows bigint[], p_wants integer[]
) RETURNS TABLE (
    ord integer, peer_ips inet[], peer_ports integer[], peer_ids bytea[],
    complete bigint, incomplete bigint, downloaded bigint
) LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    i integer;
BEGIN
    FOR i IN SELECT s.i FROM generate_subscripts(p_hashes, 1) AS s(i)
             ORDER BY p_hashes[s.i], p_ips[s.i], p_ports[s.i], s.i
    LOOP
        ord := i;
        SELECT a.peer_ips, a.peer_ports, a.peer_ids, a.complete, a.incomplete, a.downloaded
            INTO peer_ips, peer_ports, peer_ids, complete, incomplete, downloaded
            FROM octotracker_announce(p_hashes[i], p_ips[i], p_ports[i], p_peer_ids[i], p_seeders[i],
                                      p_stopped[i], p_completed[i], p_nows[i], p_wants[i]) a;
        RETURN NEXT;
    END LOOP;
END;
$$;

-- Scrape: the counts and download count of each hash, in the order given (see enable_seqscan above).
CREATE FUNCTION octotracker_scrape(p_hashes bytea[])
RETURNS TABLE (complete bigint, incomplete bigint, downloaded bigint)
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
    SELECT coalesce(c.complete, 0), coalesce(c.incomplete, 0), coalesce(t.downloaded, 0)
    FROM unnest(p_hashes) WITH ORDINALITY AS h(info_hash, ord)
    LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE p.seeder) AS complete,
                              count(*) FILTER (WHERE NOT p.seeder) AS incomplete
                       FROM peers p WHERE p.info_hash = h.info_hash) c ON true
    LEFT JOIN torrents t ON t.info_hash = h.info_hash
    ORDER BY h.ord
$$;
