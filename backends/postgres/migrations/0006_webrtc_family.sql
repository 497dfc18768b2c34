-- WebRTC peers (WebSocket trackers) share the swarms: they are counted with every other peer,
-- but handed only to each other. They are stored under synthetic addresses in 100::/64 (IPv6's
-- discard prefix, see octotracker_core::AddressFamily), so "the announcer's family" becomes
-- octotracker_family(ip): 4, 6, or 0 for a WebRTC peer. The announce functions of migrations
-- 0002 and 0004 are redefined with that predicate in place of family(); nothing else changes.

CREATE FUNCTION octotracker_family(ip inet) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ip << inet '100::/64' THEN 0 ELSE family(ip) END
$$;

DO $$
DECLARE
    f regprocedure;
    old text;
    new text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'octotracker_announce(bytea, inet, integer, bytea, boolean, boolean, boolean, bigint, integer)'::regprocedure,
        'octotracker_announce_set(bytea[], inet[], integer[], bytea[], boolean[], boolean[], boolean[], bigint[], integer[])'::regprocedure
    ] LOOP
        old := pg_get_functiondef(f);
        new := regexp_replace(old, 'family\((p\.ip)\) = family\(([a-z_]+\.?[a-z_]*)\)',
                              'octotracker_family(\1) = octotracker_family(\2)', 'g');
        IF new = old THEN
            RAISE EXCEPTION 'migration 0006: no family predicate found in %', f;
        END IF;
        EXECUTE new;
    END LOOP;
END;
$$;
