-- One announce, atomically (records.lua, prepended, has the layout; see also `keys.rs`).
-- KEYS: 1 the swarm hash, 2 the expiry sorted set, 3..8 the record strings of the six sets
--       (every family's: the counts cover them all, peers are picked from the announcer's)
-- ARGV: 1 address (compact IP + port), 2 peer id (20 bytes), 3 the numbers, packed big-endian
--       (as one argument: each argument costs Lua a string): event (1 byte: 0 none, 1 started,
--       2 completed, 3 stopped), seeder (1 byte, 1 or 0), now and the prune cutoff (8 bytes
--       each), want, key TTL in seconds, seconds between lazy prune passes of one swarm, and
--       two random numbers (where the chosen seeders and leechers start) (4 bytes each)
local addr, pid = ARGV[1], ARGV[2]
local event, seeder, now, cutoff, want, ttl, every, r1, r2 = struct.unpack('>BBI8I8I4I4I4I4I4', ARGV[3])
local is_seeder = seeder == 1
local first = family_set(addr) -- the announcer's family's seeders; its leechers are first + 1
me = addr
local meta = redis.call('HMGET', ids, addr, 'm')
me_entry = meta[1]
read_m(meta[2])

-- 1. Lazy prune and TTL refresh, at most once per interval per swarm: the oldest peers last seen
--    before the cutoff go (one bounded batch over the whole swarm; expire() removes any rest),
--    and every key of the swarm lives for the TTL (the peer timeout plus that interval) from now.
--    A swarm without "m" has no peers: keys left over from an earlier life of the swarm (a key
--    evicted on its own, or clocks) are harmless: a record string's bytes past its count are
--    dead, a sorted-set member without a hash entry is dropped by the next pass.
local pass = not meta[2] or now - pt >= every
if pass then pt, dirty = now, true end
if not meta[2] then
  me_entry = nil
elseif pass then
  local old = redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. cutoff, 'LIMIT', 0, 256)
  if #old > 0 then prune_batch(old) end
end

-- 2. Upsert or remove the announcer (identity: its address and port).
local was, pos -- the announcer's set and record position before this announce
if me_entry then
  local code
  code, pos = entry(me_entry)
  was = first
  if code ~= 115 then was = first + 1 end -- 's'
end
local stored = event ~= 3
local into = first + 1
if is_seeder then into = first end
local fresh = false -- whether the announcer takes a new record at the end of `into`
local forget = false -- whether its hash entry goes (after the HSET: `fields` may hold it, moved)
if not stored then
  if was then
    drop(was, {pos})
    redis.call('ZREM', seen, addr)
    forget, pos = true, nil
  end
else
  if was then
    if event == 2 and was == first + 1 then dl, dirty = dl + 1, true end
    if was ~= into then
      drop(was, {pos})
      pos = nil
    end
  end
  redis.call('ZADD', seen, now, addr)
  if not pos then
    fresh, pos = true, n[into]
    n[into], dirty = pos + 1, true
  end
end

-- 3. Counts after the announce; a swarm left without peers is dropped with its downloads.
local ns, nl = n[1] + n[3] + n[5], n[2] + n[4] + n[6]
if ns + nl == 0 then
  redis.call('DEL', ids, seen, KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
  return {0, 0, 0}
end

-- 4. Writes: the announcer's record, then one HSET (moved entries, the announcer's entry, "m"),
--    then expiry times when this is a pass or the announce created a record string.
-- (Not fresh: same set, same position; only the peer id may have changed.)
if stored and (fresh or string.sub(me_entry, 1, 20) ~= pid) then
  redis.call('SETRANGE', KEYS[into + 2], pos * (#addr + 20), addr .. pid)
  fields[#fields + 1] = addr
  fields[#fields + 1] = entry_value(pid, letter(into), pos)
end
flush()
if forget then redis.call('HDEL', ids, addr) end
if pass then
  expire_all(ttl)
elseif fresh and pos == 0 then
  redis.call('PEXPIRE', KEYS[into + 2], ttl * 1000)
end

-- 5. Up to `want` other peers of the announcer's family, from random positions: a seeder gets
--    leechers only, a leecher gets seeders and leechers in proportion.
local self_s = stored and is_seeder
local self_l = stored and not is_seeder
local cs, cl = n[first], n[first + 1]
if self_s then cs = cs - 1 end
if self_l then cl = cl - 1 end
if is_seeder then cs = 0 end
local k = math.min(want, cs + cl)
local ks, kl = cs, cl
if k < cs + cl then
  ks = math.floor(k * cs / (cs + cl))
  kl = k - ks
  if kl > cl then ks, kl = ks + kl - cl, cl end
end

-- A window of consecutive records of set `i` from a random position, wrapping around, without
-- the announcer (at record `me` when it is in the set): one GETRANGE per stretch of records,
-- each appended to the reply as it comes (no string is cut or joined in Lua).
local rec = #addr + 20
local out = {ns, nl, dl}
local function range(recs, card, from, count)
  if count <= 0 then return end
  from = from % card
  local to = from + count
  if to <= card then
    out[#out + 1] = redis.call('GETRANGE', recs, from * rec, to * rec - 1)
  else
    out[#out + 1] = redis.call('GETRANGE', recs, from * rec, card * rec - 1)
    out[#out + 1] = redis.call('GETRANGE', recs, 0, (to - card) * rec - 1)
  end
end
local function pick(i, m, at_me, random)
  if m <= 0 then return end
  local recs, card = KEYS[i + 2], n[i]
  if not at_me then
    if m >= card then m = card end
    range(recs, card, random, m)
  elseif m >= card - 1 then
    range(recs, card, 0, at_me)
    range(recs, card, at_me + 1, card - at_me - 1)
  else
    local start = random % card
    local at = (at_me - start) % card
    if at < m then
      range(recs, card, start, at)
      range(recs, card, at_me + 1, m - at)
    else
      range(recs, card, start, m)
    end
  end
end
pick(first, ks, self_s and pos, r1)
pick(first + 1, kl, self_l and pos, r2)

-- 6. Reply: counts, then the chosen records (address + peer id), in one or more strings.
return out
